"""Fakes for SDK tests: envelopes, SSE frames and a scripted MockTransport handler."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx


def envelope(
    seq: int, type: str = "session.run.started", subject: str = "session/abc", **extra: Any
) -> dict[str, Any]:
    return {
        "seq": seq,
        "id": f"evt_{seq:026d}",
        "type": type,
        "subject": subject,
        "ts": "2026-11-21T18:26:00.123456Z",
        "actor": "user:admin",
        "correlation_id": "cor_1",
        "causation_id": None,
        "data": {"n": seq},
        "v": 1,
        **extra,
    }


def frame(event: dict[str, Any]) -> str:
    return f"id: {event['seq']}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n"


RETRY_FRAME = "retry: 2000\n\n"
PING_FRAME = ": ping\n\n"

Chunk = str | BaseException


def sse_response(*chunks: Chunk) -> httpx.Response:
    """A stream for the sync client; an exception in `chunks` is raised mid-stream."""

    def body() -> Iterator[bytes]:
        for chunk in chunks:
            if isinstance(chunk, BaseException):
                raise chunk
            yield chunk.encode()

    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())


def async_sse_response(*chunks: Chunk) -> httpx.Response:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            if isinstance(chunk, BaseException):
                raise chunk
            yield chunk.encode()

    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())


def problem(status: int, code: str, detail: str = "", **extra: Any) -> httpx.Response:
    body = {
        "type": "about:blank",
        "title": code.replace("_", " ").title(),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


class Recorder:
    """A MockTransport handler that answers from a script and keeps every request.

    With `head_seq`, `/v1/health` is answered outside the script (and not kept).
    """

    def __init__(
        self, *answers: httpx.Response | BaseException | Callable[..., Any], head_seq: int | None = None
    ) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.head_seq = head_seq
        self.health_calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/health" and self.head_seq is not None:
            self.health_calls += 1
            return httpx.Response(200, json={"status": "ok", "head_seq": self.head_seq})
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


Connect = Callable[..., Any]
"""The `connect` fixture: `connect(server, token=None, **client_kwargs) -> Client`."""


def record(
    key: str = "project/x", value: Any = None, mod_rev: int = 40, version: int = 3, **extra: Any
) -> dict[str, Any]:
    """A resource record as the server answers it."""
    return {
        "key": key,
        "value": {"owner": "a1"} if value is None else value,
        "create_rev": 12,
        "mod_rev": mod_rev,
        "version": version,
        "updated_by": "user:admin",
        "updated_at": "2026-11-21T18:26:00.123456Z",
        "expires_at": None,
        **extra,
    }


def resource_envelope(
    seq: int,
    key: str = "project/x",
    type: str = "resource.updated",
    rev: int | None = None,
    prev_rev: int = 0,
    value: Any = None,
) -> dict[str, Any]:
    """A resource change as the watch streams it: a spine envelope whose data is the change."""
    data: dict[str, Any] = {"key": key, "rev": seq if rev is None else rev, "prev_rev": prev_rev}
    if type == "resource.updated":
        data |= {"value": {"n": seq} if value is None else value, "version": 1, "create_rev": seq}
        data |= {"updated_by": "user:admin", "expires_at": None}
    else:
        data["updated_by"] = "system.ttl" if type == "resource.expired" else "user:admin"
    return envelope(seq, type, f"resource/{key}", data=data)


TS = "2026-11-21T18:26:00.123456Z"


def task(id: str = "tsk_1", title: str = "Write the parser", **extra: Any) -> dict[str, Any]:
    """A task as the server lists it (the single-task view adds relationships, notes, steps)."""
    return {
        "id": id,
        "title": title,
        "type": "feature",
        "status": "open",
        "intent": "",
        "description": "",
        "plan": "",
        "priority": 2,
        "labels": ["backend"],
        "role": "dev",
        "parent_id": None,
        "mission_id": None,
        "outcome": None,
        "rev": 1,
        "open_blockers": 0,
        "unblocks": 0,
        "ready": True,
        "lease": None,
        "created_by": "user:admin",
        "created_at": TS,
        "updated_at": TS,
        "completed_at": None,
        **extra,
    }


def task_view(id: str = "tsk_1", **extra: Any) -> dict[str, Any]:
    """The single-task view: the task plus relationships, notes and steps."""
    relationships = {
        k: [] for k in ("blocks", "blocked_by", "relates_to", "duplicates", "duplicated_by", "parent_of")
    }
    relationships["child_of"] = []
    parts: dict[str, Any] = {
        "relationships": relationships,
        "notes": [],
        "steps": {"items": [], "done": 0, "skipped": 0, "total": 0},
    }
    return task(id, **{**parts, **extra})


def lease(id: str = "lse_1", task_id: str = "tsk_1", fencing_token: int = 3, **extra: Any) -> dict[str, Any]:
    return {
        "id": id,
        "task_id": task_id,
        "holder": "agent:agt_1",
        "session_id": None,
        "fencing_token": fencing_token,
        "ttl_s": 60.0,
        "acquired_at": TS,
        "expires_at": "2026-11-21T18:27:00.123456Z",
        "ended_at": None,
        "end_reason": None,
        **extra,
    }


def claim(task_id: str = "tsk_1", lease_id: str = "lse_1", fencing_token: int = 3) -> dict[str, Any]:
    short = {
        "id": lease_id,
        "holder": "agent:agt_1",
        "fencing_token": fencing_token,
        "expires_at": "2026-11-21T18:27:00.123456Z",
    }
    return {
        "task": task(task_id, status="in_progress", ready=False, rev=2, lease=short),
        "lease": lease(lease_id, task_id, fencing_token),
    }


def agent(id: str = "agt_1", name: str = "builder", **extra: Any) -> dict[str, Any]:
    return {
        "id": id,
        "subject": f"agent:{id}",
        "name": name,
        "roles": ["dev"],
        "capabilities": ["tasks:read", "tasks:write", "tasks:claim"],
        "created_at": TS,
        "created_by": "user:admin",
        **extra,
    }


def session(id: str = "ses_1", **extra: Any) -> dict[str, Any]:
    return {
        "id": id,
        "agent": "agent:agt_1",
        "ttl_s": 30.0,
        "started_at": TS,
        "expires_at": "2026-11-21T18:26:30.123456Z",
        "ended_at": None,
        "end_reason": None,
        **extra,
    }


def routine_run(id: str = "run_1", routine_id: str = "rtn_1", **extra: Any) -> dict[str, Any]:
    """A routine run as the server reports it."""
    return {
        "id": id,
        "routine_id": routine_id,
        "scheduled_for": "2026-11-22T08:00:00.000000Z",
        "trigger": "scheduled",
        "status": "succeeded",
        "approval_id": None,
        "mission_id": None,
        "started_at": "2026-11-22T08:00:00.100000Z",
        "finished_at": "2026-11-22T08:00:01.000000Z",
        "detail": {
            "policy": "allowed",
            "action_class": "internal",
            "reason": "internal action",
            "exit_code": 0,
        },
        "created_at": "2026-11-22T08:00:00.000000Z",
        **extra,
    }


def routine(id: str = "rtn_1", name: str = "nightly audit", **extra: Any) -> dict[str, Any]:
    """A routine as the server answers it (get and list add `last_run`)."""
    return {
        "id": id,
        "name": name,
        "schedule": {"cron": "0 9 * * *", "timezone": "Europe/Berlin"},
        "schedule_text": "cron '0 9 * * *' in Europe/Berlin",
        "misfire": {"policy": "run_once", "max_runs": 1, "grace_s": 60.0},
        "overlap": "skip",
        "action": {
            "kind": "command",
            "argv": ["sh", "-c", "make audit"],
            "cwd": None,
            "env": {},
            "timeout_s": 600.0,
            "external": False,
        },
        "action_class": "internal",
        "requires_approval": False,
        "external_allowed": False,
        "created_by": {"type": "user", "id": "user:admin"},
        "status": "active",
        "next_fire_at": "2026-11-22T08:00:00.000000Z",
        "last_fired_at": None,
        "rev": 1,
        "created_at": TS,
        "updated_at": TS,
        **extra,
    }


def approval(id: str = "apr_1", status: str = "pending", **extra: Any) -> dict[str, Any]:
    return {
        "id": id,
        "kind": "routine_run",
        "subject": "routine/rtn_1/run/run_1",
        "summary": "run routine 'nightly audit' (every 3600 s): internal action task",
        "requester": "routine:rtn_1",
        "status": status,
        "decider": None,
        "reason": None,
        "payload": {"routine_id": "rtn_1", "run_id": "run_1", "action": {"kind": "task"}},
        "created_at": TS,
        "expires_at": "2026-11-22T18:26:00.123456Z",
        "decided_at": None,
        "rev": 1,
        **extra,
    }
