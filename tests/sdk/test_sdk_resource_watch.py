"""`watch_resources`: the resource watch resumes across drops with nothing lost and nothing repeated."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import aclosing, closing
from typing import Any, TypeVar

import httpx
import pytest
from sdk_fakes import (
    PING_FRAME,
    RETRY_FRAME,
    Connect,
    Recorder,
    async_sse_response,
    frame,
    problem,
    resource_envelope,
    sse_response,
)

from missiond import sdk
from missiond.sdk import AsyncClient, ResourceEvent

T = TypeVar("T")


def take(stream: Any, n: int) -> list[ResourceEvent]:
    with closing(stream):
        return list(itertools.islice(stream, n))


def seqs(events: list[ResourceEvent]) -> list[int]:
    return [e.seq for e in events]


def test_the_watch_asks_for_its_prefix_and_revision_on_the_resource_stream(connect: Connect) -> None:
    server = Recorder(sse_response(RETRY_FRAME, frame(resource_envelope(58))))
    take(connect(server).watch_resources("project/", after=57), 1)
    request = server.requests[0]
    assert request.url.path == "/v1/streams/resources"
    assert dict(request.url.params) == {"prefix": "project/", "after": "57"}
    assert request.headers["Accept"] == "text/event-stream"
    assert "Last-Event-ID" not in request.headers


def test_the_watch_without_a_prefix_sends_none(connect: Connect) -> None:
    server = Recorder(sse_response(frame(resource_envelope(1))))
    take(connect(server).watch_resources(after=0), 1)
    assert dict(server.requests[0].url.params) == {"after": "0"}


def test_the_watch_yields_typed_changes(connect: Connect) -> None:
    server = Recorder(
        sse_response(
            frame(resource_envelope(5, "project/a", value={"owner": "a1"})),
            PING_FRAME,
            frame(resource_envelope(6, "project/a", "resource.deleted", prev_rev=5)),
            frame(resource_envelope(7, "project/b", "resource.expired", prev_rev=3)),
        )
    )
    updated, deleted, expired = take(connect(server).watch_resources("project/", after=4), 3)
    assert (updated.type, updated.key, updated.rev, updated.prev_rev, updated.value, updated.seq) == (
        "resource.updated",
        "project/a",
        5,
        0,
        {"owner": "a1"},
        5,
    )
    assert not updated.deleted
    assert (deleted.type, deleted.key, deleted.rev, deleted.prev_rev, deleted.value) == (
        "resource.deleted",
        "project/a",
        6,
        5,
        None,
    )
    assert deleted.deleted and expired.deleted
    assert expired.raw["data"]["updated_by"] == "system.ttl"
    assert updated.raw["subject"] == "resource/project/a"


def test_a_dropped_watch_resumes_with_last_event_id_and_drops_repeats(
    connect: Connect, delays: list[float]
) -> None:
    server = Recorder(
        sse_response(
            RETRY_FRAME, frame(resource_envelope(1)), frame(resource_envelope(2)), httpx.ReadError("x")
        ),
        sse_response(frame(resource_envelope(2)), frame(resource_envelope(1)), frame(resource_envelope(3))),
    )
    events = take(connect(server).watch_resources("project/", after=0), 3)
    assert seqs(events) == [1, 2, 3]
    resumed = server.requests[1]
    assert resumed.url.path == "/v1/streams/resources"
    assert resumed.headers["Last-Event-ID"] == "2"
    assert dict(resumed.url.params) == {"prefix": "project/"}
    assert len(delays) == 1


def test_a_drop_inside_a_transaction_resumes_at_the_next_event_of_it(
    connect: Connect, delays: list[float]
) -> None:
    # A transaction at revision 12 wrote seqs 10..12, all with rev 12. The cursor
    # is the seq, so a resume after seq 10 delivers 11 and 12 and nothing twice.
    txn = [resource_envelope(s, f"project/{k}", rev=12) for s, k in ((10, "a"), (11, "b"), (12, "c"))]
    server = Recorder(
        sse_response(frame(txn[0]), httpx.ReadError("reset")),
        sse_response(frame(txn[0]), frame(txn[1]), frame(txn[2])),
    )
    events = take(connect(server).watch_resources(after=9), 3)
    assert [(e.key, e.rev, e.seq) for e in events] == [
        ("project/a", 12, 10),
        ("project/b", 12, 11),
        ("project/c", 12, 12),
    ]
    assert server.requests[1].headers["Last-Event-ID"] == "10"


def test_a_slow_consumer_cut_off_reconnects(connect: Connect, delays: list[float]) -> None:
    cut_off = 'event: error\ndata: {"code": "SLOW_CONSUMER", "last_seq": 1}\n\n'
    server = Recorder(
        sse_response(frame(resource_envelope(1)), cut_off),
        sse_response(frame(resource_envelope(2))),
    )
    assert seqs(take(connect(server).watch_resources(after=0), 2)) == [1, 2]
    assert server.requests[1].headers["Last-Event-ID"] == "1"


def test_without_after_the_watch_starts_at_the_head_so_an_early_drop_loses_nothing(
    connect: Connect, delays: list[float]
) -> None:
    server = Recorder(httpx.ReadError("reset"), sse_response(frame(resource_envelope(43))), head_seq=42)
    assert seqs(take(connect(server).watch_resources("project/"), 1)) == [43]
    assert [r.url.params["after"] for r in server.requests] == ["42", "42"]
    assert server.health_calls == 1


def test_an_expired_revision_raises_cursor_expired(connect: Connect, delays: list[float]) -> None:
    server = Recorder(problem(410, "CURSOR_EXPIRED", "revision 3 is below the floor 10", floor=10))
    with pytest.raises(sdk.CursorExpired) as caught:
        take(connect(server).watch_resources(after=3), 1)
    assert caught.value.floor == 10
    assert delays == []


def test_an_invalid_prefix_is_raised_not_retried(connect: Connect, delays: list[float]) -> None:
    server = Recorder(problem(400, "INVALID_RESOURCE_KEY", "prefix: must start with one of run/"))
    with pytest.raises(sdk.InvalidResourceKey):
        take(connect(server).watch_resources("nope/", after=0), 1)
    assert len(server.requests) == 1


def test_without_reconnect_a_drop_is_raised(connect: Connect, delays: list[float]) -> None:
    server = Recorder(sse_response(frame(resource_envelope(1)), httpx.ReadError("reset")))
    stream = connect(server).watch_resources(after=0, reconnect=False)
    with closing(stream), pytest.raises(sdk.TransportError):
        assert next(stream).seq == 1
        next(stream)


# -- async ------------------------------------------------------------------------------


async def _first(stream: AsyncIterator[T], n: int) -> list[T]:
    out: list[T] = []
    async for item in stream:
        out.append(item)
        if len(out) == n:
            break
    return out


def test_the_async_watch_resumes_from_the_last_event_id_without_repeats(delays: list[float]) -> None:
    server = Recorder(
        async_sse_response(RETRY_FRAME, frame(resource_envelope(1)), httpx.ReadError("reset")),
        async_sse_response(frame(resource_envelope(1)), frame(resource_envelope(2, "project/y"))),
    )

    async def follow() -> list[ResourceEvent]:
        client = AsyncClient("http://test", transport=server.transport)
        async with client, aclosing(client.watch_resources("project/", after=0)) as stream:
            return await _first(stream, 2)

    events = asyncio.run(follow())
    assert [(e.seq, e.key) for e in events] == [(1, "project/x"), (2, "project/y")]
    assert server.requests[1].url.path == "/v1/streams/resources"
    assert server.requests[1].headers["Last-Event-ID"] == "1"


def test_the_async_watch_without_after_reads_the_head_first(delays: list[float]) -> None:
    server = Recorder(async_sse_response(frame(resource_envelope(8))), head_seq=7)

    async def follow() -> list[ResourceEvent]:
        client = AsyncClient("http://test", transport=server.transport)
        async with client, aclosing(client.watch_resources()) as stream:
            return await _first(stream, 1)

    assert [e.seq for e in asyncio.run(follow())] == [8]
    assert server.requests[0].url.params["after"] == "7"
