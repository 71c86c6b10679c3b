"""The async client's memory calls mirror the sync ones: same names, same signatures, same
requests on the wire, same parsed answers."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from sdk_fakes import Connect, Recorder, problem

from missiond import sdk
from missiond.sdk import AsyncClient
from missiond.sdk.memory import AsyncMemoryMethods, AuditPage, MemoryMethods, MemoryToken

T = TypeVar("T")
PARTITION = {"org": "acme", "workspace": "core", "project": "alpha"}
AUDIT_PAGE = {
    "items": [
        {
            "id": "aud_01",
            "action": "search",
            "actor": "run:r1",
            "partition": {**PARTITION, "tier": None},
            "memory_id": None,
            "outcome": "ok",
            "detail": {"tiers_used": ["project"]},
            "at": "2031-05-04T12:00:00.000000Z",
        }
    ],
    "next_before_id": "aud_01",
}
MINTED = {
    "token": "mdt_secret",
    "token_id": "tok_01",
    "subject": "run:r1",
    "kind": "run",
    "grant": {"v": 1, "read_tiers": ["project"]},
    "expires_at": "2031-05-05T12:00:00.000000Z",
}


def run(server: Recorder, call: Callable[[AsyncClient], Awaitable[T]]) -> T:
    async def main() -> T:
        async with AsyncClient("http://test", "tok", transport=server.transport) as client:
            return await call(client)

    return asyncio.run(main())


def _public(cls: type) -> dict[str, Any]:
    return {name: fn for name, fn in vars(cls).items() if callable(fn) and not name.startswith("_")}


def test_every_sync_memory_call_has_an_async_twin_with_the_same_signature() -> None:
    sync, asynchronous = _public(MemoryMethods), _public(AsyncMemoryMethods)

    assert sorted(asynchronous) == sorted(sync)
    for name, fn in sync.items():
        assert inspect.iscoroutinefunction(asynchronous[name]), name
        assert inspect.signature(asynchronous[name]) == inspect.signature(fn), name


def test_async_memory_audit_sends_the_filters_and_the_partition_the_sync_client_sends(
    connect: Connect,
) -> None:
    sync_server, async_server = (Recorder(httpx.Response(200, json=AUDIT_PAGE)) for _ in range(2))
    filters: dict[str, Any] = {"action": "search", "outcome": "ok", "before_id": "aud_09", "limit": 5}

    expected = connect(sync_server).memory_audit(partition=PARTITION, **filters)
    page = run(async_server, lambda c: c.memory_audit(partition=PARTITION, **filters))

    request = async_server.requests[0]
    assert (request.method, request.url.path) == ("GET", "/v1/memory/audit")
    assert dict(request.url.params) == {**{k: str(v) for k, v in filters.items()}, **PARTITION}
    assert request.url == sync_server.requests[0].url
    assert isinstance(page, AuditPage) and page == expected
    assert page.next_before_id == "aud_01" and page.items[0].detail == {"tiers_used": ["project"]}


@pytest.mark.parametrize(
    ("who", "body"),
    [
        ({"run_id": "r1"}, {"kind": "run", "run_id": "r1"}),
        ({"agent": "reviewer"}, {"kind": "agent", "agent": "reviewer"}),
    ],
    ids=["run-token", "agent-token"],
)
def test_async_mint_memory_token_posts_the_grant_the_sync_client_posts(
    connect: Connect, who: dict[str, str], body: dict[str, str]
) -> None:
    sync_server, async_server = (Recorder(httpx.Response(201, json=MINTED)) for _ in range(2))
    grant: dict[str, Any] = {"read_tiers": ("project", "team"), "read_audit": True, "ttl_s": 600}

    expected = connect(sync_server).mint_memory_token(PARTITION, idempotency_key="k-1", **who, **grant)
    token = run(async_server, lambda c: c.mint_memory_token(PARTITION, idempotency_key="k-1", **who, **grant))

    request = async_server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/memory/tokens")
    assert request.headers["Idempotency-Key"] == "k-1"
    sent = json.loads(request.content)
    assert sent == {**body, "partition": PARTITION, "read_tiers": ["project", "team"], "read_audit": True,
                    "ttl_s": 600}  # fmt: skip
    assert sent == json.loads(sync_server.requests[0].content)
    assert isinstance(token, MemoryToken) and token == expected and token.token == "mdt_secret"


def test_async_mint_memory_token_makes_up_an_idempotency_key_when_none_is_given() -> None:
    server = Recorder(httpx.Response(201, json={**MINTED, "token": None}))

    token = run(server, lambda c: c.mint_memory_token(PARTITION, run_id="r1"))

    assert server.requests[0].headers["Idempotency-Key"]
    assert token.token is None  # a replay never shows the token again


def test_async_memory_audit_refusal_is_the_same_exception_as_the_sync_one(connect: Connect) -> None:
    def refusal() -> Recorder:
        return Recorder(problem(403, "MEMORY_AUDIT_FORBIDDEN", "this token may not read the memory audit"))

    with pytest.raises(sdk.Forbidden) as sync_error:
        connect(refusal()).memory_audit()
    with pytest.raises(sdk.Forbidden) as async_error:
        run(refusal(), lambda c: c.memory_audit())

    assert async_error.value.code == sync_error.value.code == "MEMORY_AUDIT_FORBIDDEN"
