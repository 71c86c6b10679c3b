"""The async client's routines and approvals mirror the sync ones."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import Any, TypeVar

import httpx
import pytest
from sdk_fakes import Recorder, approval, async_sse_response, envelope, frame, problem, routine, routine_run

from missiond import sdk
from missiond.sdk import AsyncClient, Event

T = TypeVar("T")
COMMAND = {"kind": "command", "shell": "echo hi"}


def run(server: Recorder, call: Callable[[AsyncClient], Awaitable[T]], **kwargs: Any) -> T:
    async def main() -> T:
        async with AsyncClient("http://test", "tok", transport=server.transport, **kwargs) as client:
            return await call(client)

    return asyncio.run(main())


def ok(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def body_of(request: httpx.Request) -> object:
    return json.loads(request.content) if request.content else None


def test_async_create_get_update_and_delete() -> None:
    server = Recorder(
        ok(routine(), 201),
        ok(routine(last_run=routine_run())),
        ok(routine(rev=2)),
        ok({"id": "rtn_1", "deleted": True}),
    )

    async def calls(client: AsyncClient) -> list[Any]:
        return [
            await client.create_routine("tick", interval_s=1, action=COMMAND, overlap="allow"),
            await client.get_routine("rtn_1"),
            await client.update_routine("rtn_1", expected_rev=1, interval_s=5),
            await client.delete_routine("rtn_1"),
        ]

    created, shown, updated, deleted = run(server, calls)
    assert created.id == "rtn_1"
    assert shown.last_run is not None and shown.last_run.status == "succeeded"
    assert updated.rev == 2
    assert deleted == {"id": "rtn_1", "deleted": True}
    create, get, patch, delete = server.requests
    assert body_of(create) == {
        "name": "tick",
        "schedule": {"interval_s": 1},
        "action": COMMAND,
        "overlap": "allow",
        "requires_approval": False,
        "external_allowed": False,
    }
    assert (get.method, get.url.path) == ("GET", "/v1/routines/rtn_1")
    assert (patch.method, body_of(patch)) == ("PATCH", {"schedule": {"interval_s": 5}, "expected_rev": 1})
    assert (delete.method, delete.url.path) == ("DELETE", "/v1/routines/rtn_1")


def test_async_list_and_iter_routines() -> None:
    server = Recorder(
        ok({"items": [routine("rtn_1")], "next_after_id": None}),
        ok({"items": [routine("rtn_1")], "next_after_id": "rtn_1"}),
        ok({"items": [routine("rtn_2")], "next_after_id": None}),
    )

    async def calls(client: AsyncClient) -> tuple[Any, list[str]]:
        page = await client.list_routines("draft")
        return page, [r.id async for r in client.iter_routines(page_size=1)]

    page, ids = run(server, calls)
    assert [r.id for r in page.items] == ["rtn_1"]
    assert ids == ["rtn_1", "rtn_2"]
    assert [dict(r.url.params) for r in server.requests] == [
        {"status": "draft"},
        {"limit": "1"},
        {"after_id": "rtn_1", "limit": "1"},
    ]


def test_async_lifecycle_run_now_and_history() -> None:
    server = Recorder(
        ok(routine()),
        ok(routine(status="paused", next_fire_at=None)),
        ok(routine()),
        ok(routine_run(trigger="manual", status="queued"), 202),
        ok({"items": [routine_run()], "next_before_id": None}),
    )

    async def calls(client: AsyncClient) -> list[Any]:
        return [
            await client.activate_routine("rtn_1"),
            await client.pause_routine("rtn_1"),
            await client.resume_routine("rtn_1", apply_misfire=True),
            await client.run_routine_now("rtn_1"),
            await client.routine_history("rtn_1", limit=10),
        ]

    _, paused, _, manual, history = run(server, calls)
    assert paused.status == "paused"
    assert (manual.status, manual.trigger) == ("queued", "manual")
    assert history.items[0].id == "run_1"
    assert [r.url.path for r in server.requests] == [
        "/v1/routines/rtn_1/activate",
        "/v1/routines/rtn_1/pause",
        "/v1/routines/rtn_1/resume",
        "/v1/routines/rtn_1/run-now",
        "/v1/routines/rtn_1/history",
    ]
    assert body_of(server.requests[2]) == {"apply_misfire": True}
    assert dict(server.requests[4].url.params) == {"limit": "10"}


def test_async_run_now_of_a_blocked_routine_raises_policy_blocked() -> None:
    blocked = routine_run(status="blocked_policy", trigger="manual")
    server = Recorder(problem(403, "POLICY_BLOCKED", "routine rtn_1: external", run=blocked))
    with pytest.raises(sdk.PolicyBlocked) as caught:
        run(server, lambda client: client.run_routine_now("rtn_1"))
    assert caught.value.run is not None and caught.value.run["id"] == "run_1"


def test_async_errors_map_like_the_sync_ones() -> None:
    server = Recorder(
        problem(404, "ROUTINE_NOT_FOUND", "no routine 'rtn_9'", routine_id="rtn_9"),
        problem(400, "INVALID_SCHEDULE", "body.schedule.cron: bad", errors=[{"field": "body.schedule.cron"}]),
    )
    with pytest.raises(sdk.RoutineNotFound):
        run(server, lambda client: client.get_routine("rtn_9"))
    with pytest.raises(sdk.InvalidSchedule) as caught:
        run(server, lambda client: client.create_routine("x", cron="bad", action=COMMAND))
    assert caught.value.field == "body.schedule.cron"


def test_async_approvals() -> None:
    server = Recorder(
        ok({"items": [approval()]}),
        ok(approval()),
        ok(approval(status="approved")),
        ok(approval(status="denied", reason="no")),
    )

    async def calls(client: AsyncClient) -> list[Any]:
        return [
            await client.list_approvals(),
            await client.get_approval("apr_1"),
            await client.approve("apr_1", reason="ok"),
            await client.deny("apr_1", "no"),
        ]

    listed, shown, approved, denied = run(server, calls)
    assert [a.id for a in listed] == ["apr_1"]
    assert (shown.status, approved.status, denied.status) == ("pending", "approved", "denied")
    assert dict(server.requests[0].url.params) == {"status": "pending"}
    assert [body_of(r) for r in server.requests[2:]] == [{"reason": "ok"}, {"reason": "no"}]


def test_async_watch_routines_streams_events() -> None:
    server = Recorder(async_sse_response(frame(envelope(5, "routine.fired", "routine/rtn_1"))))

    async def first(client: AsyncClient) -> Event:
        async with aclosing(client.watch_routines(after=4)) as stream:
            async for event in stream:
                return event
        raise AssertionError("no event")

    event = run(server, first)
    assert (event.seq, event.type) == (5, "routine.fired")
    assert server.requests[0].url.path == "/v1/streams/routines"
    assert dict(server.requests[0].url.params) == {"after": "4"}
