"""`missiond events query|tail|emit|compact`."""

from __future__ import annotations

import json

import httpx
from cli_fakes import FakeServer, Invoke, envelope, frame, page, problem, sse


def ok(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def test_query_prints_the_servers_page_verbatim(invoke: Invoke) -> None:
    body = page(1, 2, next_cursor="c2")
    result = invoke(FakeServer().on("GET /v1/events", ok(body)), "events", "query")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body


def test_query_passes_every_filter_to_the_server(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/events", ok(page()))
    invoke(
        server, "events", "query", "--type", "session.", "--type", "tool.", "--subject", "session/a",
        "--after", "4", "--since", "2026-11-21T00:00:00Z", "--until", "2026-11-22T00:00:00Z",
        "--limit", "50",
    )  # fmt: skip
    params = server.sent("GET /v1/events")[0].url.params
    assert params.get_list("type") == ["session.", "tool."]
    assert params.get_list("subject") == ["session/a"]
    assert (params["after"], params["limit"]) == ("4", "50")
    assert (params["since"], params["until"]) == ("2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z")


def test_query_all_follows_cursors_into_one_document(invoke: Invoke) -> None:
    server = FakeServer().on(
        "GET /v1/events", ok(page(1, 2, next_cursor="c2")), ok(page(3, next_cursor=None))
    )
    result = invoke(server, "events", "query", "--all", "--limit", "2")
    document = json.loads(result.stdout)
    assert [e["seq"] for e in document["events"]] == [1, 2, 3]
    assert document["next_cursor"] is None
    assert [r.url.params.get("cursor") for r in server.sent("GET /v1/events")] == [None, "c2"]


def test_query_shows_a_table_for_people(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/events", ok(page(7, next_cursor="c8")))
    result = invoke(server, "--no-json", "events", "query")
    assert result.exit_code == 0, result.output
    for expected in ("7", "session.run.started", "session/abc", "user:admin", "head 9", "c8"):
        assert expected in result.stdout


def test_query_refuses_a_limit_outside_the_servers_range(invoke: Invoke) -> None:
    server = FakeServer()
    assert invoke(server, "events", "query", "--limit", "0").exit_code == 2
    assert server.requests == []


def test_emit_posts_the_event_and_prints_the_stored_envelope(invoke: Invoke) -> None:
    stored = envelope(10, "session.run.started", "session/x")
    server = FakeServer().on("POST /v1/events", ok({"events": [stored]}, 201))
    result = invoke(server, "events", "emit", "session.run.started", "session/x", "--data", '{"a": 1}')
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == stored
    request = server.sent("POST /v1/events")[0]
    assert json.loads(request.content) == {
        "type": "session.run.started", "subject": "session/x", "data": {"a": 1}, "v": 1
    }  # fmt: skip
    assert request.headers["Idempotency-Key"]


def test_emit_reads_the_data_from_stdin_when_given_a_dash(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/events", ok({"events": [envelope(1)]}, 201))
    result = invoke(server, "events", "emit", "tool.called", "session/x", "--data", "-", input='{"b": 2}')
    assert result.exit_code == 0, result.output
    assert json.loads(server.sent("POST /v1/events")[0].content)["data"] == {"b": 2}


def test_emit_without_data_sends_an_empty_object(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/events", ok({"events": [envelope(1)]}, 201))
    invoke(server, "events", "emit", "tool.called", "session/x")
    assert json.loads(server.sent("POST /v1/events")[0].content)["data"] == {}


def test_emit_refuses_data_that_is_not_a_json_object(invoke: Invoke) -> None:
    server = FakeServer()
    for data in ("[1, 2]", "not json"):
        result = invoke(server, "events", "emit", "tool.called", "session/x", "--data", data)
        assert result.exit_code == 2
    assert server.requests == []


def test_emit_of_a_reserved_type_exits_1_with_the_servers_code(invoke: Invoke) -> None:
    refusal = problem(400, "RESERVED_EVENT_TYPE", "task. is the server's own namespace")
    server = FakeServer().on("POST /v1/events", refusal)
    result = invoke(server, "events", "emit", "task.created", "task/x")
    assert result.exit_code == 1
    assert "error: RESERVED_EVENT_TYPE: task. is the server's own namespace" in result.stderr
    assert len(server.sent("POST /v1/events")) == 1


def test_compact_posts_through_seq_and_prints_the_answer(invoke: Invoke) -> None:
    answer = {"removed": 10, "floor": 10, "head": 12}
    server = FakeServer().on("POST /v1/admin/compact", ok(answer))
    result = invoke(server, "events", "compact", "--through", "10")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == answer
    assert json.loads(server.sent("POST /v1/admin/compact")[0].content) == {"through_seq": 10}


def test_compact_needs_a_through_seq(invoke: Invoke) -> None:
    assert invoke(FakeServer(), "events", "compact").exit_code == 2


def test_tail_prints_json_lines_and_ctrl_c_exits_0(invoke: Invoke) -> None:
    stream = sse("retry: 2000\n\n", frame(envelope(1)), ": ping\n\n", frame(envelope(2)), KeyboardInterrupt())
    result = invoke(FakeServer().on("GET /v1/streams/events", stream), "events", "tail", "--after", "0")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [json.loads(line) for line in lines] == [envelope(1), envelope(2)]


def test_tail_resumes_after_a_dropped_connection_without_gaps_or_repeats(invoke: Invoke) -> None:
    server = FakeServer().on(
        "GET /v1/streams/events",
        sse(frame(envelope(1)), frame(envelope(2)), httpx.ReadError("connection reset")),
        sse(frame(envelope(2)), frame(envelope(3)), KeyboardInterrupt()),
    )
    result = invoke(server, "events", "tail", "--after", "0")
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()] == [1, 2, 3]
    assert server.sent("GET /v1/streams/events")[1].headers["Last-Event-ID"] == "2"


def test_tail_passes_its_filters(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/streams/events", sse(KeyboardInterrupt()))
    invoke(server, "events", "tail", "--type", "tool.", "--subject", "session/a", "--after", "3")
    params = server.sent("GET /v1/streams/events")[0].url.params
    assert (params["type"], params["subject"], params["after"]) == ("tool.", "session/a", "3")


def test_tail_prints_readable_lines_for_people(invoke: Invoke) -> None:
    stream = sse(frame(envelope(5, "tool.call.failed", "session/q")), KeyboardInterrupt())
    server = FakeServer().on("GET /v1/streams/events", stream)
    result = invoke(server, "--no-json", "events", "tail", "--after", "0")
    assert result.exit_code == 0, result.output
    line = result.stdout.strip()
    assert line.split()[:4] == ["5", "18:26:00.123", "tool.call.failed", "session/q"]
    assert "user:admin" in line and '{"n":5}' in line
    assert "following events at http://test" in result.stderr


def test_tail_with_an_expired_cursor_exits_1(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/streams/events", problem(410, "CURSOR_EXPIRED", "below floor 5"))
    result = invoke(server, "events", "tail", "--after", "1")
    assert result.exit_code == 1
    assert "error: CURSOR_EXPIRED: below floor 5" in result.stderr
