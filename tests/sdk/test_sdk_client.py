"""The sync client speaks the HTTP contract of API_CONVENTIONS.md and EVENT_SPINE.md."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from sdk_fakes import Connect, Recorder, envelope

from missiond import sdk
from missiond.sdk import Event


def page(*seqs: int, next_cursor: str | None = None, head: int = 50) -> httpx.Response:
    body: dict[str, object] = {"events": [envelope(s) for s in seqs], "head": head, "floor": 0}
    if next_cursor:
        body["next_cursor"] = next_cursor
    return httpx.Response(200, json=body)


def test_every_request_carries_the_token_and_the_correlation_id(connect: Connect) -> None:
    server = Recorder(
        httpx.Response(200, json={"subject": "user:admin", "kind": "user", "capabilities": ["*"]})
    )
    client = connect(server, "tok_abc", correlation_id="cor_42")
    identity = client.whoami()
    request = server.requests[0]
    assert request.headers["Authorization"] == "Bearer tok_abc"
    assert request.headers["X-Correlation-ID"] == "cor_42"
    assert (identity.subject, identity.kind, identity.capabilities) == ("user:admin", "user", ("*",))


def test_a_client_without_a_token_sends_no_authorization_header(connect: Connect) -> None:
    server = Recorder(httpx.Response(200, json={"status": "ok"}))
    client = connect(server)
    client.health()
    assert "Authorization" not in server.requests[0].headers
    assert "X-Correlation-ID" not in server.requests[0].headers


def test_health_reads_the_servers_fields(connect: Connect) -> None:
    body = {"status": "ok", "version": "0.1.0", "database": "sqlite", "schema_version": 3, "head_seq": 57}
    server = Recorder(httpx.Response(200, json=body))
    client = connect(server)
    health = client.health()
    assert (health.status, health.version, health.database, health.schema_version, health.head_seq) == (
        "ok",
        "0.1.0",
        "sqlite",
        3,
        57,
    )
    assert server.requests[0].url.path == "/v1/health"


def test_query_events_sends_repeated_filters_and_parses_the_page(connect: Connect) -> None:
    server = Recorder(page(3, 4, next_cursor="c1", head=57))
    client = connect(server)
    result = client.query_events(type=["resource.", "task."], subject="session/", after=2, limit=2)
    params = server.requests[0].url.params
    assert params.get_list("type") == ["resource.", "task."]
    assert params.get_list("subject") == ["session/"]
    assert (params["after"], params["limit"]) == ("2", "2")
    assert [e.seq for e in result.events] == [3, 4]
    assert (result.next_cursor, result.head, result.floor) == ("c1", 57, 0)


def test_events_carry_aware_utc_timestamps(connect: Connect) -> None:
    server = Recorder(page(1))
    client = connect(server)
    event = client.query_events().events[0]
    assert event.ts == datetime(2026, 11, 21, 18, 26, 0, 123456, tzinfo=UTC)


def test_time_bounds_are_sent_as_rfc3339_utc_with_z(connect: Connect) -> None:
    server = Recorder(page())
    since = datetime(2026, 11, 21, 20, 0, tzinfo=timezone(timedelta(hours=2)))
    client = connect(server)
    client.query_events(since=since, until="2026-11-22T00:00:00Z")
    params = server.requests[0].url.params
    assert params["since"] == "2026-11-21T18:00:00Z"
    assert params["until"] == "2026-11-22T00:00:00Z"


def test_a_cursor_wins_over_after(connect: Connect) -> None:
    server = Recorder(page())
    client = connect(server)
    client.query_events(after=5, cursor="abc")
    params = server.requests[0].url.params
    assert params["cursor"] == "abc" and "after" not in params


def test_iter_events_follows_next_cursor_until_the_last_page_keeping_the_filters(connect: Connect) -> None:
    server = Recorder(page(1, 2, next_cursor="p2"), page(3, 4, next_cursor="p3"), page(5))
    client = connect(server)
    seqs = [e.seq for e in client.iter_events(type="session.", page_size=2)]
    assert seqs == [1, 2, 3, 4, 5]
    assert [r.url.params.get("cursor") for r in server.requests] == [None, "p2", "p3"]
    assert all(r.url.params["type"] == "session." for r in server.requests)
    assert all(r.url.params["limit"] == "2" for r in server.requests)


def test_iter_events_stops_on_an_empty_page_even_with_a_cursor(connect: Connect) -> None:
    server = Recorder(page(1, next_cursor="p2"), page(next_cursor="p3"))
    client = connect(server)
    assert [e.seq for e in client.iter_events()] == [1]
    assert len(server.requests) == 2


def test_ingest_event_posts_the_envelope_fields_and_returns_the_stored_event(connect: Connect) -> None:
    server = Recorder(httpx.Response(201, json=envelope(9, data={"ok": True})))
    client = connect(server)
    event = client.ingest_event(
        "session.run.started", "session/abc", {"ok": True}, causation_id="evt_1", idempotency_key="key-1"
    )
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/events")
    assert json.loads(request.content) == {
        "type": "session.run.started",
        "subject": "session/abc",
        "data": {"ok": True},
        "v": 1,
        "causation_id": "evt_1",
    }
    assert request.headers["Idempotency-Key"] == "key-1"
    assert (event.seq, event.data) == (9, {"ok": True})


def test_ingest_event_accepts_an_answer_wrapped_in_events(connect: Connect) -> None:
    server = Recorder(httpx.Response(201, json={"events": [envelope(9)]}))
    client = connect(server)
    assert client.ingest_event("session.run.started", "session/abc").seq == 9


def test_ingest_events_posts_one_batch_and_returns_every_stored_event(connect: Connect) -> None:
    server = Recorder(httpx.Response(201, json={"events": [envelope(10), envelope(11)]}))
    drafts = [
        {"type": "tool.call.started", "subject": "session/a"},
        {"type": "tool.call.finished", "subject": "session/a", "data": {"rc": 0}},
    ]
    client = connect(server)
    stored = client.ingest_events(drafts)
    assert json.loads(server.requests[0].content) == {
        "events": [
            {"type": "tool.call.started", "subject": "session/a", "data": {}, "v": 1},
            {"type": "tool.call.finished", "subject": "session/a", "data": {"rc": 0}, "v": 1},
        ]
    }
    assert [e.seq for e in stored] == [10, 11]


def test_compact_posts_through_seq_to_the_admin_route(connect: Connect) -> None:
    server = Recorder(httpx.Response(200, json={"floor": 40, "deleted": 40}))
    client = connect(server)
    answer = client.compact(40)
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/admin/compact")
    assert json.loads(request.content) == {"through_seq": 40}
    assert answer == {"floor": 40, "deleted": 40}


def test_an_event_tolerates_unknown_fields_and_keeps_them_in_raw() -> None:
    event = Event.from_json(envelope(1, partition="team-a"))
    assert event.seq == 1
    assert event.raw["partition"] == "team-a"


def test_an_event_without_a_seq_is_a_protocol_error() -> None:
    broken = envelope(1)
    del broken["seq"]
    with pytest.raises(sdk.ProtocolError):
        Event.from_json(broken)


def test_request_drops_parameters_that_are_none(connect: Connect) -> None:
    server = Recorder(httpx.Response(200, json={}))
    client = connect(server)
    client.request("GET", "/v1/things", params={"a": 1, "b": None})
    assert dict(server.requests[0].url.params) == {"a": "1"}
