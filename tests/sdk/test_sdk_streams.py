"""The event stream survives dropped connections: nothing lost, nothing repeated."""

from __future__ import annotations

import asyncio
import itertools
import json
from contextlib import aclosing, closing

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sdk_fakes import (
    PING_FRAME,
    RETRY_FRAME,
    Connect,
    Recorder,
    async_sse_response,
    envelope,
    frame,
    problem,
    sse_response,
)

from missiond import sdk
from missiond.sdk import AsyncClient, Event


def take(stream: object, n: int) -> list[Event]:
    with closing(stream):  # type: ignore[type-var]
        return list(itertools.islice(stream, n))  # type: ignore[call-overload]


def seqs(events: list[Event]) -> list[int]:
    return [e.seq for e in events]


def slow_consumer_frame(last_seq: int) -> str:
    data = json.dumps({"code": "SLOW_CONSUMER", "detail": "too far behind", "last_seq": last_seq})
    return f"event: error\ndata: {data}\n\n"


def test_the_stream_yields_events_and_skips_pings_and_retry_frames(connect: Connect) -> None:
    server = Recorder(
        sse_response(RETRY_FRAME, frame(envelope(1)), PING_FRAME, frame(envelope(2))),
    )
    events = take(connect(server).stream_events(after=0), 2)
    assert seqs(events) == [1, 2]
    assert events[0].type == "session.run.started"


def test_the_stream_sends_its_filters_and_the_first_after(connect: Connect) -> None:
    server = Recorder(sse_response(frame(envelope(6))))
    take(connect(server).stream_events(type=["session.", "tool."], subject="session/a", after=5), 1)
    request = server.requests[0]
    assert request.url.path == "/v1/streams/events"
    assert request.url.params.get_list("type") == ["session.", "tool."]
    assert request.url.params["subject"] == "session/a"
    assert request.url.params["after"] == "5"
    assert request.headers["Accept"] == "text/event-stream"
    assert "Last-Event-ID" not in request.headers


def test_a_dropped_connection_resumes_from_the_last_event_id(connect: Connect, delays: list[float]) -> None:
    server = Recorder(
        sse_response(RETRY_FRAME, frame(envelope(1)), frame(envelope(2)), httpx.ReadError("reset")),
        sse_response(RETRY_FRAME, frame(envelope(3))),
    )
    events = take(connect(server).stream_events(after=0), 3)
    assert seqs(events) == [1, 2, 3]
    resumed = server.requests[1]
    assert resumed.headers["Last-Event-ID"] == "2"
    assert "after" not in resumed.url.params
    assert len(delays) == 1


def test_an_event_seen_before_a_drop_is_never_yielded_twice(connect: Connect, delays: list[float]) -> None:
    server = Recorder(
        sse_response(frame(envelope(1)), frame(envelope(2)), httpx.ReadError("reset")),
        sse_response(frame(envelope(2)), frame(envelope(1)), frame(envelope(3))),
    )
    assert seqs(take(connect(server).stream_events(after=0), 3)) == [1, 2, 3]


def test_a_stream_the_server_ends_is_reopened(connect: Connect, delays: list[float]) -> None:
    server = Recorder(
        sse_response(frame(envelope(1))),
        sse_response(frame(envelope(2))),
    )
    assert seqs(take(connect(server).stream_events(after=0), 2)) == [1, 2]
    assert server.requests[1].headers["Last-Event-ID"] == "1"


def test_a_slow_consumer_error_frame_reconnects_from_the_last_event_id(
    connect: Connect, delays: list[float]
) -> None:
    server = Recorder(
        sse_response(frame(envelope(1)), slow_consumer_frame(1), frame(envelope(99))),
        sse_response(frame(envelope(2))),
    )
    assert seqs(take(connect(server).stream_events(after=0), 2)) == [1, 2]
    assert server.requests[1].headers["Last-Event-ID"] == "1"


def test_a_transport_error_before_any_event_keeps_the_first_after(
    connect: Connect, delays: list[float]
) -> None:
    server = Recorder(httpx.ConnectError("refused"), sse_response(frame(envelope(8))))
    assert seqs(take(connect(server).stream_events(after=7), 1)) == [8]
    assert server.requests[1].url.params["after"] == "7"


def test_an_expired_cursor_raises_cursor_expired_without_reconnecting(
    connect: Connect, delays: list[float]
) -> None:
    server = Recorder(problem(410, "CURSOR_EXPIRED", "cursor 3 is below the floor 10", floor=10))
    with pytest.raises(sdk.CursorExpired) as caught:
        take(connect(server).stream_events(after=3), 1)
    assert caught.value.floor == 10
    assert len(server.requests) == 1
    assert delays == []


def test_an_unavailable_server_is_retried(connect: Connect, delays: list[float]) -> None:
    server = Recorder(problem(503, "UNAVAILABLE"), sse_response(frame(envelope(1))))
    assert seqs(take(connect(server).stream_events(after=0), 1)) == [1]


def test_other_error_answers_are_raised(connect: Connect, delays: list[float]) -> None:
    server = Recorder(problem(403, "FORBIDDEN", "needs events:read"))
    with pytest.raises(sdk.Forbidden):
        take(connect(server).stream_events(after=0), 1)
    assert len(server.requests) == 1


def test_the_reconnect_delay_starts_at_the_servers_retry(connect: Connect, delays: list[float]) -> None:
    server = Recorder(
        sse_response("retry: 4000\n\n", frame(envelope(1)), httpx.ReadError("reset")),
        sse_response(frame(envelope(2))),
    )
    take(connect(server).stream_events(after=0), 2)
    assert 2.0 <= delays[0] <= 4.0


def test_reconnects_without_progress_back_off(connect: Connect, delays: list[float]) -> None:
    drops = [httpx.ConnectError("refused") for _ in range(4)]
    server = Recorder(*drops, sse_response(frame(envelope(1))))
    take(connect(server).stream_events(after=0), 1)
    assert len(delays) == 4
    assert delays[3] > delays[0]


def test_max_retries_bounds_the_reconnects_without_progress(connect: Connect, delays: list[float]) -> None:
    server = Recorder(*[httpx.ConnectError("refused") for _ in range(3)])
    with pytest.raises(sdk.ConnectionFailed):
        take(connect(server).stream_events(after=0, max_retries=2), 1)
    assert len(server.requests) == 3


def test_without_reconnect_a_drop_is_raised(connect: Connect, delays: list[float]) -> None:
    server = Recorder(sse_response(frame(envelope(1)), httpx.ReadError("reset")))
    stream = connect(server).stream_events(after=0, reconnect=False)
    with closing(stream), pytest.raises(sdk.TransportError):
        assert next(stream).seq == 1
        next(stream)


def test_without_after_the_stream_starts_at_the_head_read_from_health(
    connect: Connect, delays: list[float]
) -> None:
    server = Recorder(httpx.ReadError("reset"), sse_response(frame(envelope(43))), head_seq=42)
    assert seqs(take(connect(server).stream_events(), 1)) == [43]
    # Both connections ask for events after the head seen at the start, so a drop
    # before the first event loses nothing committed in between.
    assert [r.url.params["after"] for r in server.requests] == ["42", "42"]
    assert server.health_calls == 1


def test_a_frame_that_is_not_json_is_a_protocol_error(connect: Connect) -> None:
    server = Recorder(sse_response("id: 1\ndata: {not json\n\n"))
    with pytest.raises(sdk.ProtocolError):
        take(connect(server).stream_events(after=0), 1)


def test_an_answer_that_is_not_an_event_stream_is_a_protocol_error(connect: Connect) -> None:
    server = Recorder(httpx.Response(200, json={"events": []}))
    with pytest.raises(sdk.ProtocolError):
        take(connect(server).stream_events(after=0), 1)


@settings(max_examples=60, deadline=None)
@given(
    total=st.integers(min_value=1, max_value=25),
    connections=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=3),  # events replayed from before the cursor
            st.integers(min_value=1, max_value=6),  # new events sent before the drop
            st.sampled_from(["reset", "closed", "slow"]),  # how the connection ends
        ),
        max_size=10,
    ),
)
def test_any_pattern_of_drops_and_replays_yields_every_event_exactly_once_in_order(
    total: int, connections: list[tuple[int, int, str]]
) -> None:
    script = iter(connections)

    def serve(request: httpx.Request) -> httpx.Response:
        cursor = int(request.headers.get("Last-Event-ID") or request.url.params["after"])
        replay, fresh, ending = next(script, (0, total, "closed"))
        first = max(1, cursor + 1 - replay)
        chunks: list[str | BaseException] = ["retry: 0\n\n"]
        chunks += [frame(envelope(s)) for s in range(first, min(total, cursor + fresh) + 1)]
        if ending == "reset":
            chunks.append(httpx.ReadError("reset"))
        elif ending == "slow":
            chunks.append(slow_consumer_frame(cursor))
        return sse_response(*chunks)

    with sdk.Client("http://test", transport=httpx.MockTransport(serve)) as client:
        events = take(client.stream_events(after=0), total)
    assert seqs(events) == list(range(1, total + 1))


def test_the_async_stream_resumes_from_the_last_event_id_without_duplicates(
    delays: list[float],
) -> None:
    server = Recorder(
        async_sse_response(RETRY_FRAME, frame(envelope(1)), httpx.ReadError("reset")),
        async_sse_response(frame(envelope(1)), frame(envelope(2))),
    )

    async def follow() -> list[Event]:
        client = AsyncClient("http://test", transport=server.transport)
        async with client, aclosing(client.stream_events(after=0)) as stream:
            return [event async for event in _first(stream, 2)]

    assert seqs(asyncio.run(follow())) == [1, 2]
    assert server.requests[1].headers["Last-Event-ID"] == "1"


def test_the_async_stream_raises_cursor_expired(delays: list[float]) -> None:
    server = Recorder(problem(410, "CURSOR_EXPIRED", floor=10))

    async def follow() -> None:
        client = AsyncClient("http://test", transport=server.transport)
        async with client, aclosing(client.stream_events(after=1)) as stream:
            async for _ in stream:
                pass

    with pytest.raises(sdk.CursorExpired):
        asyncio.run(follow())


async def _first(stream, n):  # type: ignore[no-untyped-def]
    count = 0
    async for item in stream:
        yield item
        count += 1
        if count == n:
            return
