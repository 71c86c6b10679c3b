"""The async client mirrors the sync one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from sdk_fakes import Recorder, envelope, problem, record

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


# -- shared resources -----------------------------------------------------------------


def test_async_resource_writes_send_the_same_headers_as_the_sync_client() -> None:
    server = Recorder(
        httpx.Response(201, json=record(version=1)),
        httpx.Response(200, json=record()),
        httpx.Response(200, json={"key": "project/x", "rev": 42, "deleted": True}),
    )

    async def writes(client: AsyncClient) -> tuple[Any, ...]:
        put = await client.put_resource("project/x", {"a": 1}, create_only=True, ttl_s=5)
        patched = await client.patch_resource("project/x", {"b": 2}, if_rev=40)
        deleted = await client.delete_resource("project/x", expected_rev=40)
        return put, patched, deleted

    put, patched, deleted = run(server, writes)
    put_req, patch_req, delete_req = server.requests
    assert put_req.method == "PUT" and put_req.headers["If-None-Match"] == "*"
    assert json.loads(put_req.content) == {"value": {"a": 1}, "ttl_s": 5}
    assert patch_req.method == "PATCH" and patch_req.headers["If-Match"] == '"40"'
    assert patch_req.headers["Content-Type"] == "application/merge-patch+json"
    assert json.loads(patch_req.content) == {"b": 2}
    assert delete_req.method == "DELETE" and delete_req.url.params["expected_rev"] == "40"
    assert all(r.headers["Idempotency-Key"] for r in server.requests)
    assert (put.version, patched.mod_rev, deleted.rev) == (1, 40, 42)


def test_async_get_and_list_resources() -> None:
    page = {"items": [record("project/a")], "revision": 9, "next_after_key": None}
    server = Recorder(httpx.Response(200, json=record()), httpx.Response(200, json=page))

    async def reads(client: AsyncClient) -> tuple[Any, ...]:
        return await client.get_resource("project/x"), await client.list_resources("project/", limit=5)

    resource, listed = run(server, reads)
    assert resource.key == "project/x" and listed.revision == 9
    assert dict(server.requests[1].url.params) == {"prefix": "project/", "limit": "5"}


def test_async_iter_resources_follows_next_after_key() -> None:
    first = {"items": [record("project/a")], "revision": 9, "next_after_key": "project/a"}
    last = {"items": [record("project/b")], "revision": 9, "next_after_key": None}
    server = Recorder(httpx.Response(200, json=first), httpx.Response(200, json=last))

    async def collect(client: AsyncClient) -> list[str]:
        return [r.key async for r in client.iter_resources("project/")]

    assert run(server, collect) == ["project/a", "project/b"]
    assert server.requests[1].url.params["after_key"] == "project/a"


def test_async_txn_and_its_errors() -> None:
    failed = [{"index": 0, "key": "project/a", "expected_rev": 0, "current_rev": 3}]
    server = Recorder(
        httpx.Response(200, json={"revision": 5, "succeeded": True, "results": []}),
        problem(409, "TXN_COMPARE_FAILED", "1 compare(s) failed", failed=failed),
    )

    async def both(client: AsyncClient) -> Any:
        result = await client.txn([("project/a", 0)], [sdk.put_op("project/a", 1)])
        with pytest.raises(sdk.TxnCompareFailed) as caught:
            await client.txn([("project/a", 0)], [sdk.put_op("project/a", 1)])
        return result, caught.value

    result, error = run(server, both)
    assert result.revision == 5
    assert error.failed == failed
    assert json.loads(server.requests[0].content)["ops"] == [{"op": "put", "key": "project/a", "value": 1}]
