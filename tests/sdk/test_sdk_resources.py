"""The SDK speaks the shared-resources contract of SHARED_RESOURCES.md (request shapes, headers, answers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from sdk_fakes import Connect, Recorder, problem, record

from missiond import sdk
from missiond.sdk import Resource, delete_op, patch_op, put_op


def ok(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def listing(*keys: str, revision: int = 57, next_after_key: str | None = None) -> httpx.Response:
    items = [record(k) for k in keys]
    return ok({"items": items, "revision": revision, "next_after_key": next_after_key})


# -- get --------------------------------------------------------------------------------


def test_get_resource_reads_the_record_with_aware_times(connect: Connect) -> None:
    server = Recorder(ok(record("project/x", expires_at="2026-11-21T19:00:00Z")))
    resource = connect(server, "tok").get_resource("project/x")
    request = server.requests[0]
    assert (request.method, request.url.raw_path) == ("GET", b"/v1/resources/project/x")
    assert request.headers["Authorization"] == "Bearer tok"
    assert (resource.key, resource.value, resource.create_rev, resource.mod_rev, resource.version) == (
        "project/x",
        {"owner": "a1"},
        12,
        40,
        3,
    )
    assert resource.updated_by == "user:admin"
    assert resource.updated_at == datetime(2026, 11, 21, 18, 26, 0, 123456, tzinfo=UTC)
    assert resource.expires_at == datetime(2026, 11, 21, 19, 0, tzinfo=UTC)
    assert resource.raw["mod_rev"] == 40


def test_a_record_without_expiry_has_expires_at_none_and_keeps_null_values() -> None:
    resource = Resource.from_json(record(value=[], expires_at=None) | {"value": None})
    assert resource.expires_at is None
    assert resource.value is None


def test_a_record_without_a_value_is_a_protocol_error() -> None:
    broken = record()
    del broken["value"]
    with pytest.raises(sdk.ProtocolError):
        Resource.from_json(broken)


def test_a_missing_resource_raises_resource_not_found(connect: Connect) -> None:
    server = Recorder(problem(404, "RESOURCE_NOT_FOUND", "no resource at 'project/x'", key="project/x"))
    with pytest.raises(sdk.ResourceNotFound) as caught:
        connect(server).get_resource("project/x")
    assert isinstance(caught.value, sdk.NotFound)
    assert caught.value.key == "project/x"


@pytest.mark.parametrize(
    ("key", "raw_path"),
    [
        ("project/a b?c#d", b"/v1/resources/project/a%20b%3Fc%23d"),
        ("project/100%", b"/v1/resources/project/100%25"),
        ("project/ü", b"/v1/resources/project/%C3%BC"),
        ("project/a/../b", b"/v1/resources/project/a/%2E%2E/b"),
        ("project/./b", b"/v1/resources/project/%2E/b"),
        ("project//b", b"/v1/resources/project//b"),
        ("/project/x", b"/v1/resources//project/x"),
    ],
    ids=["reserved", "percent", "unicode", "dotdot", "dot", "empty-segment", "leading-slash"],
)
def test_keys_travel_exactly_as_given_so_the_server_can_judge_them(
    connect: Connect, key: str, raw_path: bytes
) -> None:
    # A URL library would quietly resolve '..' and so write to another key.
    server = Recorder(ok(record()))
    connect(server).get_resource(key)
    assert server.requests[0].url.raw_path == raw_path


def test_an_invalid_key_raises_invalid_resource_key(connect: Connect) -> None:
    server = Recorder(problem(400, "INVALID_RESOURCE_KEY", "key: must not contain '..'", key="project/.."))
    with pytest.raises(sdk.InvalidResourceKey) as caught:
        connect(server).get_resource("project/..")
    assert isinstance(caught.value, sdk.ValidationFailed)
    assert caught.value.key == "project/.."


# -- put --------------------------------------------------------------------------------


def test_put_resource_sends_the_value_and_an_idempotency_key(connect: Connect) -> None:
    server = Recorder(ok(record(version=1, mod_rev=41), 201))
    resource = connect(server).put_resource("project/x", {"owner": "a1"})
    request = server.requests[0]
    assert (request.method, request.url.path) == ("PUT", "/v1/resources/project/x")
    assert json.loads(request.content) == {"value": {"owner": "a1"}}
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"]
    assert "If-Match" not in request.headers and "If-None-Match" not in request.headers
    assert (resource.mod_rev, resource.version) == (41, 1)


def test_put_resource_if_rev_sends_a_quoted_if_match(connect: Connect) -> None:
    server = Recorder(ok(record()))
    connect(server).put_resource("project/x", 1, if_rev=40, idempotency_key="k1")
    request = server.requests[0]
    assert request.headers["If-Match"] == '"40"'
    assert request.headers["Idempotency-Key"] == "k1"
    assert "If-None-Match" not in request.headers


def test_put_resource_create_only_sends_if_none_match_star(connect: Connect) -> None:
    server = Recorder(ok(record(), 201))
    connect(server).put_resource("project/x", 1, create_only=True)
    assert server.requests[0].headers["If-None-Match"] == "*"
    assert "If-Match" not in server.requests[0].headers


def test_put_resource_sends_expected_rev_and_ttl_in_the_body(connect: Connect) -> None:
    server = Recorder(ok(record()))
    connect(server).put_resource("project/x", [1, 2], expected_rev=0, ttl_s=30)
    assert json.loads(server.requests[0].content) == {"value": [1, 2], "expected_rev": 0, "ttl_s": 30}


def test_put_resource_refuses_if_rev_with_create_only_before_sending(connect: Connect) -> None:
    server = Recorder()
    with pytest.raises(ValueError):
        connect(server).put_resource("project/x", 1, if_rev=3, create_only=True)
    assert server.requests == []


def test_a_failed_if_match_raises_precondition_failed_with_the_current_rev(connect: Connect) -> None:
    refusal = problem(412, "PRECONDITION_FAILED", "If-Match 3 does not match 40", current_rev=40)
    server = Recorder(refusal)
    with pytest.raises(sdk.PreconditionFailed) as caught:
        connect(server).put_resource("project/x", 1, if_rev=3)
    assert caught.value.current_rev == 40
    assert len(server.requests) == 1


def test_a_failed_expected_rev_raises_revision_conflict(connect: Connect) -> None:
    server = Recorder(problem(409, "REVISION_CONFLICT", "at 40, not 3", expected_rev=3, current_rev=40))
    with pytest.raises(sdk.RevisionConflict) as caught:
        connect(server).put_resource("project/x", 1, expected_rev=3)
    assert (caught.value.expected_rev, caught.value.current_rev) == (3, 40)


def test_a_value_over_the_limit_raises_value_too_large(connect: Connect) -> None:
    server = Recorder(problem(413, "VALUE_TOO_LARGE", "value is 300000 bytes", size=300000))
    with pytest.raises(sdk.ValueTooLarge):
        connect(server).put_resource("project/x", "x" * 10)


def test_a_retried_put_repeats_its_idempotency_key(connect: Connect, delays: list[float]) -> None:
    # A checked write retried after a lost answer must be replayed, not refused with 412.
    server = Recorder(httpx.ReadError("reset"), ok(record()))
    connect(server).put_resource("project/x", 1, if_rev=39)
    first, second = server.requests
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert second.headers["If-Match"] == '"39"'


# -- patch ------------------------------------------------------------------------------


def test_patch_resource_sends_a_merge_patch(connect: Connect) -> None:
    server = Recorder(ok(record(value={"owner": "a1", "step": 2})))
    resource = connect(server).patch_resource("project/x", {"step": 2, "old": None})
    request = server.requests[0]
    assert (request.method, request.url.path) == ("PATCH", "/v1/resources/project/x")
    assert request.headers["Content-Type"] == "application/merge-patch+json"
    assert json.loads(request.content) == {"step": 2, "old": None}
    assert request.headers["Idempotency-Key"]
    assert resource.value == {"owner": "a1", "step": 2}


def test_patch_resource_sends_if_match_and_expected_rev_in_the_query(connect: Connect) -> None:
    server = Recorder(ok(record()))
    connect(server).patch_resource("project/x", {"a": 1}, if_rev=40, expected_rev=40)
    request = server.requests[0]
    assert request.headers["If-Match"] == '"40"'
    assert request.url.params["expected_rev"] == "40"


def test_a_patch_is_retried_with_the_same_idempotency_key(connect: Connect, delays: list[float]) -> None:
    server = Recorder(problem(503, "UNAVAILABLE"), ok(record()))
    connect(server).patch_resource("project/x", {"a": 1})
    first, second = server.requests
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert second.content == first.content


# -- delete -----------------------------------------------------------------------------


def test_delete_resource_sends_its_preconditions_and_returns_the_revision(connect: Connect) -> None:
    server = Recorder(ok({"key": "project/x", "rev": 42, "deleted": True}))
    deleted = connect(server).delete_resource("project/x", if_rev=40, expected_rev=40)
    request = server.requests[0]
    assert (request.method, request.url.path) == ("DELETE", "/v1/resources/project/x")
    assert request.headers["If-Match"] == '"40"'
    assert request.url.params["expected_rev"] == "40"
    assert (deleted.key, deleted.rev, deleted.raw["deleted"]) == ("project/x", 42, True)


def test_delete_without_preconditions_sends_none(connect: Connect) -> None:
    server = Recorder(ok({"key": "project/x", "rev": 42, "deleted": True}))
    connect(server).delete_resource("project/x")
    request = server.requests[0]
    assert "If-Match" not in request.headers
    assert "expected_rev" not in request.url.params


def test_negative_revisions_are_refused_before_sending(connect: Connect) -> None:
    server = Recorder()
    client = connect(server)
    with pytest.raises(ValueError):
        client.delete_resource("project/x", if_rev=-1)
    with pytest.raises(ValueError):
        client.patch_resource("project/x", {}, expected_rev=-2)
    assert server.requests == []


# -- list -------------------------------------------------------------------------------


def test_list_resources_sends_prefix_after_key_and_limit(connect: Connect) -> None:
    server = Recorder(listing("project/a", "project/b", next_after_key="project/b"))
    page = connect(server).list_resources("project/", after_key="project/0", limit=2)
    request = server.requests[0]
    assert request.url.path == "/v1/resources"
    assert dict(request.url.params) == {"prefix": "project/", "after_key": "project/0", "limit": "2"}
    assert [r.key for r in page.items] == ["project/a", "project/b"]
    assert (page.revision, page.next_after_key) == (57, "project/b")


def test_list_resources_without_a_prefix_sends_no_parameters(connect: Connect) -> None:
    server = Recorder(listing())
    page = connect(server).list_resources()
    assert dict(server.requests[0].url.params) == {}
    assert (page.items, page.next_after_key) == ((), None)


def test_iter_resources_follows_next_after_key_across_an_empty_page(connect: Connect) -> None:
    # A full page of expired records comes back empty but still says where to go on.
    server = Recorder(
        listing("project/a", next_after_key="project/a"),
        listing(next_after_key="project/m"),
        listing("project/z"),
    )
    keys = [r.key for r in connect(server).iter_resources("project/", page_size=1)]
    assert keys == ["project/a", "project/z"]
    assert [r.url.params.get("after_key") for r in server.requests] == [None, "project/a", "project/m"]
    assert all(r.url.params["limit"] == "1" and r.url.params["prefix"] == "project/" for r in server.requests)


def test_iter_resources_stops_when_the_cursor_does_not_move(connect: Connect) -> None:
    server = Recorder(listing("project/a", next_after_key="project/a"), listing(next_after_key="project/a"))
    assert [r.key for r in connect(server).iter_resources()] == ["project/a"]
    assert len(server.requests) == 2


# -- transactions ---------------------------------------------------------------------------


def test_txn_posts_compares_and_ops_and_parses_the_result(connect: Connect) -> None:
    answer = {
        "revision": 61,
        "succeeded": True,
        "results": [
            {"key": "project/a", "deleted": False, "mod_rev": 61},
            {"key": "project/c", "deleted": True, "mod_rev": None},
        ],
    }
    server = Recorder(ok(answer))
    result = connect(server).txn(
        compares=[("project/a", 40), {"key": "project/lock", "mod_rev": 0}],
        ops=[
            put_op("project/a", 1, ttl_s=60),
            patch_op("project/b", {"n": 2}),
            delete_op("project/c"),
            {"op": "put", "key": "project/d", "value": None},
        ],
    )
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/resources:txn")
    assert request.headers["Idempotency-Key"]
    assert json.loads(request.content) == {
        "compares": [{"key": "project/a", "mod_rev": 40}, {"key": "project/lock", "mod_rev": 0}],
        "ops": [
            {"op": "put", "key": "project/a", "value": 1, "ttl_s": 60},
            {"op": "patch", "key": "project/b", "patch": {"n": 2}},
            {"op": "delete", "key": "project/c"},
            {"op": "put", "key": "project/d", "value": None},
        ],
    }
    assert (result.revision, result.succeeded) == (61, True)
    assert [r["key"] for r in result.results] == ["project/a", "project/c"]


def test_a_failed_compare_raises_txn_compare_failed_listing_each_failure(connect: Connect) -> None:
    failed = [{"index": 0, "key": "project/a", "expected_rev": 40, "current_rev": 44}]
    server = Recorder(problem(409, "TXN_COMPARE_FAILED", "1 compare(s) failed", failed=failed))
    with pytest.raises(sdk.TxnCompareFailed) as caught:
        connect(server).txn([("project/a", 40)], [delete_op("project/a")])
    assert isinstance(caught.value, sdk.Conflict)
    assert caught.value.failed == failed


def test_a_txn_op_on_an_absent_key_names_the_op(connect: Connect) -> None:
    server = Recorder(problem(404, "RESOURCE_NOT_FOUND", "no resource (op 1)", key="project/b", op_index=1))
    with pytest.raises(sdk.ResourceNotFound) as caught:
        connect(server).txn(ops=[put_op("project/a", 1), patch_op("project/b", {})])
    assert caught.value.op_index == 1


def test_txn_refuses_malformed_ops_and_compares_before_sending(connect: Connect) -> None:
    server = Recorder()
    client = connect(server)
    with pytest.raises(ValueError):
        client.txn(ops=[{"op": "upsert", "key": "project/a"}])
    with pytest.raises(ValueError):
        client.txn(compares=[("project/a", -1)])
    assert server.requests == []
