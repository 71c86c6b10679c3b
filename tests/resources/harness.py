"""What the shared-resources tests share: the admin context, a movable clock, and probes
that read the spine head and every resource so a test can prove that nothing changed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import httpx
from litestar.testing import TestClient

from missiond.bootstrap import System
from missiond.core.events import Event, EventFilter
from missiond.services.context import Principal, RequestContext

ADMIN = RequestContext(principal=Principal(subject="user:admin", kind="admin", capabilities=frozenset({"*"})))
MERGE_PATCH = "application/merge-patch+json"
START = datetime(2026, 11, 21, 18, 26, 0, 123456, tzinfo=UTC)


class ManualClock:
    """Time that stands still until the test moves it."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def spine_head(system: System) -> int:
    return system.events.bounds()[0]


def events_after(system: System, after: int, flt: EventFilter | None = None) -> list[Event]:
    with system.store.read() as uow:
        return uow.events.query(flt or EventFilter(), after=after, limit=1000)


def resource_events(system: System, after: int = 0) -> list[Event]:
    return events_after(system, after, EventFilter(types=("resource.",)))


def everything(system: System) -> tuple[int, list[dict[str, Any]]]:
    """The spine head and every stored resource: equal before and after = nothing changed."""
    listed = system.resources.list(ADMIN, "", after_key=None, limit=1000)
    return spine_head(system), listed["items"]


def everything_over_http(client: httpx.Client) -> tuple[int, list[dict[str, Any]]]:
    head = client.get("/v1/health").json()["head_seq"]
    return head, client.get("/v1/resources", params={"limit": 1000}).json()["items"]


@dataclass
class RawAnswer:
    status_code: int
    body: dict[str, Any]


class Api:
    """The HTTP app in-process, authenticated as admin.

    `raw()` sends a path exactly as given: httpx removes '.' and '..' segments from
    URLs, and the contract is about what a client sends on the wire.
    """

    def __init__(self, client: TestClient[Any], system: System) -> None:
        self.client = client
        self.system = system
        client.headers["Authorization"] = f"Bearer {system.admin_token}"

    def put(self, key: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return self.client.put(f"/v1/resources/{key}", json=body, **kwargs)

    def patch(self, key: str, patch: Any, *, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.client.patch(
            f"/v1/resources/{key}",
            content=json.dumps(patch).encode(),
            headers={"Content-Type": MERGE_PATCH, **(headers or {})},
        )

    def raw(self, method: str, raw_path: bytes, body: bytes = b"") -> RawAnswer:
        async def call() -> RawAnswer:
            sent: list[dict[str, Any]] = []
            delivered = False

            async def receive() -> dict[str, Any]:
                nonlocal delivered
                if delivered:
                    return {"type": "http.disconnect"}
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                sent.append(message)

            scope = {
                "type": "http",
                "asgi": {"version": "3.0", "spec_version": "2.3"},
                "http_version": "1.1",
                "method": method,
                "scheme": "http",
                "path": unquote(raw_path.decode("latin-1")),
                "raw_path": raw_path,
                "query_string": b"",
                "root_path": "",
                "headers": [
                    (b"authorization", f"Bearer {self.system.admin_token}".encode()),
                    (b"content-type", b"application/json"),
                ],
                "server": ("testserver", 80),
                "client": ("127.0.0.1", 50000),
            }
            await self.client.app(scope, receive, send)  # type: ignore[arg-type]
            payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
            return RawAnswer(sent[0]["status"], json.loads(payload))

        return self.client.blocking_portal.call(call)

    def everything(self) -> tuple[int, list[dict[str, Any]]]:
        return everything(self.system)
