"""The async client's task board mirrors the sync one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from sdk_fakes import Recorder, agent, claim, lease, problem, session, task, task_view

from missiond import sdk
from missiond.sdk import AsyncClient

T = TypeVar("T")


def run(server: Recorder, call: Callable[[AsyncClient], Awaitable[T]], **kwargs: Any) -> T:
    async def main() -> T:
        async with AsyncClient("http://test", "tok", transport=server.transport, **kwargs) as client:
            return await call(client)

    return asyncio.run(main())


def ok(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def test_async_claim_returns_none_on_204_and_a_claim_otherwise() -> None:
    server = Recorder(httpx.Response(204), ok(claim(fencing_token=5)))

    async def both(client: AsyncClient) -> tuple[Any, Any]:
        return await client.claim_task(role="dev"), await client.claim_task_id("tsk_1", ttl_s=20)

    nothing, named = run(server, both)
    assert nothing is None
    assert (named.task.id, named.fencing_token) == ("tsk_1", 5)
    assert [r.url.path for r in server.requests] == ["/v1/tasks/claim", "/v1/tasks/tsk_1/claim"]
    assert json.loads(server.requests[0].content) == {"ttl_s": 300.0, "role": "dev"}


def test_async_writes_carry_the_fencing_token_header() -> None:
    server = Recorder(
        ok(lease()),
        ok({"id": "nte_1", "kind": "attempt", "body": "x"}, 201),
        ok(task_view(status="completed", outcome="done")),
        ok({"lease": lease(ended_at="2026-11-21T18:27:00Z"), "task": task()}),
    )

    async def work(client: AsyncClient) -> sdk.Task:
        await client.renew_lease("lse_1", ttl_s=60, fencing_token=3)
        await client.add_note("tsk_1", "attempt", "x", fencing_token=3)
        done = await client.complete_task("tsk_1", "done", fencing_token=3)
        await client.release_lease("lse_1", fencing_token=3, outcome="again")
        return done

    done = run(server, work)
    assert done.status == "completed"
    assert [r.headers["X-Fencing-Token"] for r in server.requests] == ["3", "3", "3", "3"]


def test_async_create_list_ready_and_update() -> None:
    server = Recorder(
        ok(task_view(), 201),
        ok({"items": [task()], "next_after_id": None}),
        ok({"items": [task()]}),
        ok(task_view(rev=2)),
    )

    async def calls(client: AsyncClient) -> sdk.Task:
        await client.create_task("Write the parser", labels=["a"])
        await client.list_tasks(status="open", blocked=True)
        await client.ready_tasks(limit=1)
        return await client.update_task("tsk_1", if_rev=1, priority=1)

    updated = run(server, calls)
    create, listing, ready, patch = server.requests
    assert json.loads(create.content) == {"title": "Write the parser", "labels": ["a"]}
    assert dict(listing.url.params) == {"status": "open", "blocked": "true"}
    assert dict(ready.url.params) == {"limit": "1"}
    assert (patch.method, patch.headers["If-Match"], json.loads(patch.content)) == (
        "PATCH",
        '"1"',
        {"priority": 1},
    )
    assert updated.rev == 2


def test_async_agents_and_sessions() -> None:
    server = Recorder(
        ok({"agent": agent(), "token": "mdt_x"}, 201),
        ok({"items": [agent()]}),
        ok(session(), 201),
        ok({**session(), "leases_renewed": 1}),
        ok(session(end_reason="ended")),
    )

    async def calls(client: AsyncClient) -> list[Any]:
        return [
            await client.create_agent("builder", roles=["dev"]),
            await client.list_agents(),
            await client.start_session(30),
            await client.heartbeat("ses_1"),
            await client.end_session("ses_1"),
        ]

    (created, token), agents, _started, beat, ended = run(server, calls)
    assert (created.name, token, len(agents)) == ("builder", "mdt_x", 1)
    assert (beat.leases_renewed, ended.end_reason) == (1, "ended")


def test_async_errors_map_to_the_task_board_classes() -> None:
    server = Recorder(problem(409, "LEASE_EXPIRED", "stale"), problem(404, "TASK_NOT_FOUND", "no task"))
    with pytest.raises(sdk.LeaseExpired):
        run(server, lambda c: c.renew_lease("lse_1", fencing_token=2))
    with pytest.raises(sdk.TaskNotFound):
        run(server, lambda c: c.get_task("tsk_9"))


def test_async_tree_history_links_steps_and_batch() -> None:
    server = Recorder(
        ok({"items": [task("tsk_0")]}),
        ok({"items": []}),
        ok({"task_id": "tsk_1", "kind": "blocks", "other_id": "tsk_2", "existed": False}),
        ok({"task_id": "tsk_1", "kind": "blocks", "other_id": "tsk_2"}),
        ok({"id": "stp_1", "status": "pending"}, 201),
        ok({"id": "stp_1", "status": "skipped"}),
        ok(task_view(status="cancelled")),
        ok({"refs": {}, "results": []}),
    )

    async def calls(client: AsyncClient) -> None:
        assert [t.id for t in await client.task_tree("tsk_1", "ancestors")] == ["tsk_0"]
        assert await client.task_history("tsk_1") == []
        await client.link_tasks("tsk_1", "blocks", "tsk_2")
        await client.unlink_tasks("tsk_1", "blocks", "tsk_2")
        await client.add_step("tsk_1", "one")
        await client.set_step("tsk_1", "stp_1", "skipped")
        await client.transition_task("tsk_1", "cancelled", reason="dup")
        await client.batch([{"op": "note", "task": "tsk_1", "kind": "note", "body": "b"}])

    run(server, calls)
    assert [(r.method, r.url.path) for r in server.requests] == [
        ("GET", "/v1/tasks/tsk_1/ancestors"),
        ("GET", "/v1/tasks/tsk_1/history"),
        ("POST", "/v1/tasks/tsk_1/links"),
        ("DELETE", "/v1/tasks/tsk_1/links"),
        ("POST", "/v1/tasks/tsk_1/steps"),
        ("PATCH", "/v1/tasks/tsk_1/steps/stp_1"),
        ("POST", "/v1/tasks/tsk_1/transition"),
        ("POST", "/v1/batch"),
    ]
