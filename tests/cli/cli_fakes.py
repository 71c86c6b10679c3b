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
