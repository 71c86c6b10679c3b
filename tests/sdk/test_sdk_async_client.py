"""The async client mirrors the sync one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from sdk_fakes import Recorder, envelope, problem

from missiond import sdk
from missiond.sdk import AsyncClient

T = TypeVar("T")


def run(server: Recorder, call: Callable[[AsyncClient], Awaitable[T]], **kwargs: Any) -> T:
    async def main() -> T:
        async with AsyncClient("http://test", "tok", transport=server.transport, **kwargs) as client:
            return await call(client)

    return asyncio.run(main())


def test_async_health_sends_the_token_and_parses_the_answer() -> None:
    server = Recorder(httpx.Response(200, json={"status": "ok", "head_seq": 5}))
    health = run(server, lambda c: c.health())
    assert health.head_seq == 5
    assert server.requests[0].headers["Authorization"] == "Bearer tok"


def test_async_get_is_retried_after_a_503(delays: list[float]) -> None:
    server = Recorder(problem(503, "UNAVAILABLE"), httpx.Response(200, json={"status": "ok"}))
    assert run(server, lambda c: c.health()).status == "ok"
    assert len(server.requests) == 2 and len(delays) == 1


def test_async_post_without_a_key_is_not_retried(delays: list[float]) -> None:
    server = Recorder(problem(503, "UNAVAILABLE"))
    with pytest.raises(sdk.ServerError):
        run(server, lambda c: c.request("POST", "/v1/things", json={}))
    assert len(server.requests) == 1


def test_async_ingest_event_posts_with_an_idempotency_key() -> None:
    server = Recorder(httpx.Response(201, json={"events": [envelope(3)]}))
    event = run(server, lambda c: c.ingest_event("session.run.started", "session/abc", {"a": 1}))
    request = server.requests[0]
    assert event.seq == 3
    assert json.loads(request.content)["data"] == {"a": 1}
    assert request.headers["Idempotency-Key"]


def test_async_iter_events_follows_cursors() -> None:
    first = {"events": [envelope(1)], "next_cursor": "p2", "head": 2, "floor": 0}
    last = {"events": [envelope(2)], "next_cursor": None, "head": 2, "floor": 0}
    server = Recorder(httpx.Response(200, json=first), httpx.Response(200, json=last))

    async def collect(client: AsyncClient) -> list[int]:
        return [event.seq async for event in client.iter_events(type="session.")]

    assert run(server, collect) == [1, 2]
    assert server.requests[1].url.params["cursor"] == "p2"


def test_async_problems_map_to_the_same_exceptions() -> None:
    server = Recorder(problem(404, "NOT_FOUND", "no such route"))
    with pytest.raises(sdk.NotFound):
        run(server, lambda c: c.whoami())


def test_async_transport_errors_are_translated(delays: list[float]) -> None:
    server = Recorder(httpx.ConnectError("refused"))
    with pytest.raises(sdk.ConnectionFailed):
        run(server, lambda c: c.compact(3), retries=0)
