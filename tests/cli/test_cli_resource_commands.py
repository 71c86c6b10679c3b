"""`missiond resource get|put|patch|delete|list|watch`."""

from __future__ import annotations

import json

import httpx
import pytest
from cli_fakes import FakeServer, Invoke, problem, record, resource_envelope, sse
from cli_fakes import frame as sse_frame

KEY_PATH = "/v1/resources/project/x"


def ok(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def listing(*keys: str, revision: int = 57, next_after_key: str | None = None) -> dict[str, object]:
    return {"items": [record(k) for k in keys], "revision": revision, "next_after_key": next_after_key}


# -- get --------------------------------------------------------------------------------


def test_get_prints_the_servers_record_verbatim(invoke: Invoke) -> None:
    server = FakeServer().on(f"GET {KEY_PATH}", ok(record()))
    result = invoke(server, "resource", "get", "project/x")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == record()


def test_get_shows_the_record_for_people(invoke: Invoke) -> None:
    server = FakeServer().on(f"GET {KEY_PATH}", ok(record(value={"owner": "a1"})))
    result = invoke(server, "--no-json", "resource", "get", "project/x")
    assert result.exit_code == 0, result.output
    for expected in ("project/x", '"owner": "a1"', "40", "user:admin", "2026-11-21T18:26:00.123Z", "never"):
        assert expected in result.stdout


def test_get_of_a_missing_key_exits_1_with_resource_not_found(invoke: Invoke) -> None:
    server = FakeServer().on(
        f"GET {KEY_PATH}", problem(404, "RESOURCE_NOT_FOUND", "no resource at 'project/x'")
    )
    result = invoke(server, "resource", "get", "project/x")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "error: RESOURCE_NOT_FOUND: no resource at 'project/x'"
    assert result.stdout == ""


def test_a_dot_segment_reaches_the_server_to_be_refused(invoke: Invoke) -> None:
    refusal = problem(400, "INVALID_RESOURCE_KEY", "key: must not contain '.' or '..' segments")
    server = FakeServer().on("GET /v1/resources/project/a/../b", refusal)  # the decoded path
    result = invoke(server, "resource", "get", "project/a/../b")
    assert result.exit_code == 1
    assert "error: INVALID_RESOURCE_KEY" in result.stderr
    assert server.requests[-1].url.raw_path == b"/v1/resources/project/a/%2E%2E/b"


# -- put --------------------------------------------------------------------------------


def test_put_sends_the_value_argument_and_prints_the_stored_record(invoke: Invoke) -> None:
    stored = record(version=1, mod_rev=41)
    server = FakeServer().on(f"PUT {KEY_PATH}", ok(stored, 201))
    result = invoke(server, "resource", "put", "project/x", '{"owner": "a1"}')
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == stored
    request = server.sent(f"PUT {KEY_PATH}")[0]
    assert json.loads(request.content) == {"value": {"owner": "a1"}}
    assert request.headers["Idempotency-Key"]
    assert "If-Match" not in request.headers and "If-None-Match" not in request.headers


@pytest.mark.parametrize("args", [["-"], []], ids=["dash", "omitted"])
def test_put_reads_the_value_from_stdin(invoke: Invoke, args: list[str]) -> None:
    server = FakeServer().on(f"PUT {KEY_PATH}", ok(record()))
    result = invoke(server, "resource", "put", "project/x", *args, input="[1, 2, 3]\n")
    assert result.exit_code == 0, result.output
    assert json.loads(server.sent(f"PUT {KEY_PATH}")[0].content) == {"value": [1, 2, 3]}


def test_put_accepts_any_json_value(invoke: Invoke) -> None:
    server = FakeServer().on(f"PUT {KEY_PATH}", ok(record()))
    for text, value in (('"ready"', "ready"), ("42", 42), ("null", None), ("true", True)):
        assert invoke(server, "resource", "put", "project/x", "--", text).exit_code == 0
        assert json.loads(server.sent(f"PUT {KEY_PATH}")[-1].content) == {"value": value}


def test_put_sends_its_preconditions_and_ttl(invoke: Invoke) -> None:
    server = FakeServer().on(f"PUT {KEY_PATH}", ok(record()))
    invoke(server, "resource", "put", "project/x", "1", "--if-rev", "40", "--ttl", "30")
    invoke(server, "resource", "put", "project/x", "1", "--create-only")
    checked, created = server.sent(f"PUT {KEY_PATH}")
    assert checked.headers["If-Match"] == '"40"'
    assert json.loads(checked.content) == {"value": 1, "ttl_s": 30.0}
    assert created.headers["If-None-Match"] == "*"
    assert "If-Match" not in created.headers


@pytest.mark.parametrize(
    "args",
    [
        ["not json"],
        ["1", "--if-rev", "3", "--create-only"],
        ["1", "--if-rev", "-1"],
        ["1", "--ttl", "0"],
    ],
    ids=["not-json", "if-rev-and-create-only", "negative-rev", "zero-ttl"],
)
def test_put_usage_errors_exit_2_without_a_request(invoke: Invoke, args: list[str]) -> None:
    server = FakeServer()
    result = invoke(server, "resource", "put", "project/x", *args)
    assert result.exit_code == 2, result.output
    assert server.sent(f"PUT {KEY_PATH}") == []


def test_a_stale_if_rev_exits_1_with_precondition_failed(invoke: Invoke) -> None:
    refusal = problem(412, "PRECONDITION_FAILED", "If-Match 3 does not match the current revision 40")
    server = FakeServer().on(f"PUT {KEY_PATH}", refusal)
    result = invoke(server, "resource", "put", "project/x", "1", "--if-rev", "3")
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first == "error: PRECONDITION_FAILED: If-Match 3 does not match the current revision 40"
    assert json.loads(result.stderr.splitlines()[1])["code"] == "PRECONDITION_FAILED"
    assert result.stdout == ""
    assert len(server.sent(f"PUT {KEY_PATH}")) == 1


def test_put_says_what_happened_for_people(invoke: Invoke) -> None:
    server = FakeServer().on(f"PUT {KEY_PATH}", ok(record(version=1, mod_rev=41), 201), ok(record()))
    created = invoke(server, "--no-json", "resource", "put", "project/x", "1")
    replaced = invoke(server, "--no-json", "resource", "put", "project/x", "2")
    assert created.stdout.strip() == "project/x: created at rev 41 (version 1)"
    assert replaced.stdout.strip() == "project/x: replaced at rev 40 (version 3)"


# -- patch and delete -------------------------------------------------------------------


def test_patch_sends_a_merge_patch_with_its_precondition(invoke: Invoke) -> None:
    patched = record(value={"owner": "a1", "step": 2}, mod_rev=44, version=4)
    server = FakeServer().on(f"PATCH {KEY_PATH}", ok(patched))
    result = invoke(server, "resource", "patch", "project/x", '{"step": 2, "old": null}', "--if-rev", "40")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == patched
    request = server.sent(f"PATCH {KEY_PATH}")[0]
    assert request.headers["Content-Type"] == "application/merge-patch+json"
    assert request.headers["If-Match"] == '"40"'
    assert json.loads(request.content) == {"step": 2, "old": None}


def test_patch_reads_stdin_and_says_what_happened_for_people(invoke: Invoke) -> None:
    server = FakeServer().on(f"PATCH {KEY_PATH}", ok(record(mod_rev=44, version=4)))
    result = invoke(server, "--no-json", "resource", "patch", "project/x", "-", input='{"a": 1}')
    assert result.stdout.strip() == "project/x: patched at rev 44 (version 4)"
    assert json.loads(server.sent(f"PATCH {KEY_PATH}")[0].content) == {"a": 1}


def test_patch_of_a_missing_key_exits_1(invoke: Invoke) -> None:
    server = FakeServer().on(f"PATCH {KEY_PATH}", problem(404, "RESOURCE_NOT_FOUND", "no resource"))
    result = invoke(server, "resource", "patch", "project/x", "{}")
    assert result.exit_code == 1
    assert "error: RESOURCE_NOT_FOUND: no resource" in result.stderr


def test_delete_sends_its_precondition_and_prints_the_answer(invoke: Invoke) -> None:
    answer = {"key": "project/x", "rev": 42, "deleted": True}
    server = FakeServer().on(f"DELETE {KEY_PATH}", ok(answer))
    result = invoke(server, "resource", "delete", "project/x", "--if-rev", "40")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == answer
    assert server.sent(f"DELETE {KEY_PATH}")[0].headers["If-Match"] == '"40"'
    people = invoke(server, "--no-json", "resource", "delete", "project/x")
    assert people.stdout.strip() == "project/x: deleted at rev 42"
    assert "If-Match" not in server.sent(f"DELETE {KEY_PATH}")[1].headers


# -- list -------------------------------------------------------------------------------


def test_list_prints_the_servers_document_and_passes_its_options(invoke: Invoke) -> None:
    body = listing("project/a", "project/b", next_after_key="project/b")
    server = FakeServer().on("GET /v1/resources", ok(body))
    result = invoke(server, "resource", "list", "project/", "--limit", "2", "--after-key", "project/0")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body
    params = server.sent("GET /v1/resources")[0].url.params
    assert dict(params) == {"prefix": "project/", "limit": "2", "after_key": "project/0"}


def test_list_without_a_prefix_lists_everything(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/resources", ok(listing()))
    assert invoke(server, "resource", "list").exit_code == 0
    assert dict(server.sent("GET /v1/resources")[0].url.params) == {}


def test_list_all_follows_next_after_key_into_one_document(invoke: Invoke) -> None:
    server = FakeServer().on(
        "GET /v1/resources",
        ok(listing("project/a", revision=57, next_after_key="project/a")),
        ok(listing("project/b", revision=60)),
    )
    result = invoke(server, "resource", "list", "project/", "--all", "--limit", "1")
    document = json.loads(result.stdout)
    assert [item["key"] for item in document["items"]] == ["project/a", "project/b"]
    # The oldest snapshot: a watch from it misses no change made while paging.
    assert (document["revision"], document["next_after_key"]) == (57, None)
    assert [r.url.params.get("after_key") for r in server.sent("GET /v1/resources")] == [None, "project/a"]


def test_list_shows_a_table_for_people(invoke: Invoke) -> None:
    body = listing("project/alpha", next_after_key="project/alpha")
    server = FakeServer().on("GET /v1/resources", ok(body))
    result = invoke(server, "--no-json", "resource", "list", "project/")
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()[:2]
    assert header.split() == ["key", "rev", "version", "updated_by", "value"]
    assert row.split()[:4] == ["project/alpha", "40", "3", "user:admin"]
    assert '{"owner"' in row
    assert "1 resource · revision 57 · more: --after-key project/alpha" in result.stdout


def test_list_refuses_a_limit_outside_the_servers_range(invoke: Invoke) -> None:
    server = FakeServer()
    assert invoke(server, "resource", "list", "--limit", "1001").exit_code == 2
    assert server.sent("GET /v1/resources") == []


# -- watch ------------------------------------------------------------------------------

WATCH = "GET /v1/streams/resources"


def test_watch_prints_json_lines_and_ctrl_c_exits_0(invoke: Invoke) -> None:
    first, second = resource_envelope(58), resource_envelope(59, "project/y", "resource.deleted")
    stream = sse("retry: 2000\n\n", sse_frame(first), ": ping\n\n", sse_frame(second), KeyboardInterrupt())
    server = FakeServer().on(WATCH, stream)
    result = invoke(server, "resource", "watch", "project/", "--after", "57")
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.stdout.splitlines()] == [first, second]
    params = server.sent(WATCH)[0].url.params
    assert dict(params) == {"prefix": "project/", "after": "57"}


def test_watch_resumes_after_a_dropped_connection_without_gaps_or_repeats(invoke: Invoke) -> None:
    server = FakeServer().on(
        WATCH,
        sse(sse_frame(resource_envelope(1)), sse_frame(resource_envelope(2)), httpx.ReadError("reset")),
        sse(sse_frame(resource_envelope(2)), sse_frame(resource_envelope(3)), KeyboardInterrupt()),
    )
    result = invoke(server, "resource", "watch", "--after", "0")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()] == [1, 2, 3]
    assert server.sent(WATCH)[1].headers["Last-Event-ID"] == "2"


def test_watch_without_after_starts_at_the_head(invoke: Invoke) -> None:
    server = FakeServer().on(WATCH, sse(KeyboardInterrupt()))
    assert invoke(server, "resource", "watch", "project/").exit_code == 0
    # HEALTH in cli_fakes has head_seq 9.
    assert server.sent(WATCH)[0].url.params["after"] == "9"


def test_watch_prints_readable_lines_for_people(invoke: Invoke) -> None:
    stream = sse(
        sse_frame(resource_envelope(5, "project/q", value={"state": "running"})),
        sse_frame(resource_envelope(6, "project/q", "resource.deleted")),
        KeyboardInterrupt(),
    )
    server = FakeServer().on(WATCH, stream)
    result = invoke(server, "--no-json", "resource", "watch", "project/", "--after", "4")
    assert result.exit_code == 0, result.output
    updated, deleted = result.stdout.splitlines()
    assert updated.split()[:5] == ["5", "18:26:00.123", "resource.updated", "project/q", "user:admin"]
    assert '{"state":"running"}' in updated
    assert deleted.split()[:5] == ["6", "18:26:00.123", "resource.deleted", "project/q", "user:admin"]
    assert "watching resources under 'project/' at http://test (Ctrl-C to stop)" in result.stderr


def test_watch_from_an_expired_revision_exits_1(invoke: Invoke) -> None:
    server = FakeServer().on(WATCH, problem(410, "CURSOR_EXPIRED", "below floor 5"))
    result = invoke(server, "resource", "watch", "--after", "1")
    assert result.exit_code == 1
    assert "error: CURSOR_EXPIRED: below floor 5" in result.stderr


def test_an_unreachable_server_exits_3(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/health", httpx.ConnectError("connection refused"))
    server.on(f"GET {KEY_PATH}", httpx.ConnectError("connection refused"))
    result = invoke(server, "resource", "get", "project/x")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: UNREACHABLE: cannot reach missiond at http://test")
