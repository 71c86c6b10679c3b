"""A fake missiond for CLI tests: canned answers by route, every request kept."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx

Answer = httpx.Response | BaseException | Callable[[httpx.Request], httpx.Response]


def envelope(seq: int, type: str = "session.run.started", subject: str = "session/abc") -> dict[str, Any]:
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
    }


def page(*seqs: int, next_cursor: str | None = None) -> dict[str, Any]:
    return {"events": [envelope(s) for s in seqs], "next_cursor": next_cursor, "head": 9, "floor": 0}


def problem(status: int, code: str, detail: str = "") -> httpx.Response:
    body = {"type": "about:blank", "title": code.title(), "status": status, "code": code, "detail": detail}
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


def sse(*chunks: str | BaseException) -> httpx.Response:
    def body() -> Iterator[bytes]:
        for chunk in chunks:
            if isinstance(chunk, BaseException):
                raise chunk
            yield chunk.encode()

    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())


def frame(event: dict[str, Any]) -> str:
    return f"id: {event['seq']}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n"


HEALTH = {"status": "ok", "version": "0.1.0", "database": "sqlite", "schema_version": "2", "head_seq": 9}
WHOAMI = {"subject": "user:admin", "kind": "user", "capabilities": ["*"]}


class FakeServer:
    """Answers by `"METHOD /path"`, in order; the last answer of a route repeats."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Answer]] = {
            "GET /v1/health": [httpx.Response(200, json=HEALTH)],
            "GET /v1/whoami": [httpx.Response(200, json=WHOAMI)],
        }
        self.requests: list[httpx.Request] = []

    def on(self, route: str, *answers: Answer) -> FakeServer:
        self.routes[route] = list(answers)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = f"{request.method} {request.url.path}"
        answers = self.routes.get(route)
        if not answers:
            return problem(404, "NOT_FOUND", f"no route {route}")
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    def sent(self, route: str) -> list[httpx.Request]:
        method, path = route.split(" ", 1)
        return [r for r in self.requests if r.method == method and r.url.path == path]


Invoke = Callable[..., Any]
"""The `invoke` fixture: `invoke(handler, *argv, input=None, start_server=None, url="http://test")`."""


def record(key: str = "project/x", value: Any = None, mod_rev: int = 40, version: int = 3) -> dict[str, Any]:
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
    }


def resource_envelope(
    seq: int, key: str = "project/x", type: str = "resource.updated", value: Any = None
) -> dict[str, Any]:
    """A change as the resource watch streams it: a spine envelope whose data is the change."""
    data: dict[str, Any] = {"key": key, "rev": seq, "prev_rev": 0, "updated_by": "user:admin"}
    if type == "resource.updated":
        data |= {"value": {"n": seq} if value is None else value, "version": 1, "create_rev": seq}
        data["expires_at"] = None
    event = envelope(seq, type, f"resource/{key}")
    event["data"] = data
    return event


TS = "2026-11-21T18:26:00.123456Z"


def task(id: str = "tsk_1", title: str = "Write the parser", **extra: Any) -> dict[str, Any]:
    """A task as the server lists it."""
    return {
        "id": id,
        "title": title,
        "type": "feature",
        "status": "open",
        "intent": "",
        "description": "",
        "plan": "",
        "priority": 2,
        "labels": [],
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
    """The single-task view: relationships, notes and steps too."""
    kinds = ("blocks", "blocked_by", "relates_to", "duplicates", "duplicated_by", "parent_of", "child_of")
    parts: dict[str, Any] = {
        "relationships": {k: [] for k in kinds},
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


def released(task_id: str = "tsk_1", lease_id: str = "lse_1") -> dict[str, Any]:
    return {
        "lease": lease(lease_id, task_id, ended_at="2026-11-21T18:26:30Z", end_reason="released"),
        "task": task(task_id),
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
        "detail": {"policy": "allowed", "action_class": "internal", "exit_code": 0, "output_tail": "hi\n"},
        "created_at": "2026-11-22T08:00:00.000000Z",
        **extra,
    }


COMMAND_ACTION = {
    "kind": "command",
    "argv": ["sh", "-c", "make audit"],
    "cwd": None,
    "env": {},
    "timeout_s": 600.0,
    "external": False,
}


def routine(id: str = "rtn_1", name: str = "nightly audit", **extra: Any) -> dict[str, Any]:
    """A routine as `GET /v1/routines/{id}` answers it: next fire 09:00 Berlin = 08:00 UTC."""
    return {
        "id": id,
        "name": name,
        "schedule": {"cron": "0 9 * * *", "timezone": "Europe/Berlin"},
        "schedule_text": "cron '0 9 * * *' in Europe/Berlin",
        "misfire": {"policy": "run_once", "max_runs": 1, "grace_s": 60.0},
        "overlap": "skip",
        "action": dict(COMMAND_ACTION),
        "action_class": "internal",
        "requires_approval": False,
        "external_allowed": False,
        "created_by": {"type": "user", "id": "user:admin"},
        "status": "active",
        "next_fire_at": "2026-11-22T08:00:00.000000Z",
        "last_fired_at": "2026-11-21T08:00:00.000000Z",
        "rev": 3,
        "created_at": TS,
        "updated_at": TS,
        "last_run": routine_run(),
        **extra,
    }


def http_routine(id: str = "rtn_2", **extra: Any) -> dict[str, Any]:
    """An external routine (the http.post connector) without external_allowed."""
    action = {
        "kind": "connector",
        "connector": "http.post",
        "params": {"url": "https://hooks.example/x", "json": None, "headers": {}},
        "timeout_s": 60.0,
    }
    return routine(id, "hook", action=action, action_class="external", **extra)


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
