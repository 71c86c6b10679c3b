"""Correlation ids: read or make one per request, echo it on the response."""

from __future__ import annotations

import json
from typing import Any

from missiond.core.events import CORRELATION_RE
from missiond.identifiers import new_id

Scope = dict[str, Any]


class CorrelationMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = None
        for name, value in scope.get("headers", []):
            if name == b"x-correlation-id":
                raw = value.decode("latin-1").strip()
                break
        if raw is not None and not CORRELATION_RE.fullmatch(raw):
            await _reject(send, raw)
            return
        correlation = raw or new_id("cor")
        scope.setdefault("state", {})["correlation_id"] = correlation
        header = (b"x-correlation-id", correlation.encode())

        async def send_with_header(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        await self.app(scope, receive, send_with_header)


async def _reject(send: Any, raw: str) -> None:
    body = json.dumps(
        {
            "type": "https://missiond.dev/problems/validation-failed",
            "title": "Validation failed",
            "status": 400,
            "code": "VALIDATION_FAILED",
            "detail": "header.X-Correlation-ID: 1-128 characters of [A-Za-z0-9._:-]",
            "errors": [
                {"field": "header.X-Correlation-ID", "message": "1-128 characters of [A-Za-z0-9._:-]"}
            ],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
