"""What the memory tests share: partitions, a movable clock, and `Mem`, the HTTP app
in-process with helpers to act as the admin or as a minted token."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from litestar.testing import TestClient

from missiond.bootstrap import System
from missiond.core.events import Event, EventFilter

A = {"org": "acme", "workspace": "core", "project": "alpha"}
B = {"org": "acme", "workspace": "core", "project": "beta"}
START = datetime(2031, 5, 4, 12, 0, 0, tzinfo=UTC)


class ManualClock:
    """Time that stands still until the test moves it."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Mem:
    def __init__(self, client: TestClient[Any], system: System, clock: ManualClock) -> None:
        self.client = client
        self.system = system
        self.clock = clock

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.system.admin_token}", **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def mint(self, partition: dict[str, str] = A, **grant: Any) -> str:
        body = {"kind": "run", "run_id": grant.pop("run_id", "run-1"), "partition": partition, **grant}
        answer = self.call("POST", "/v1/memory/tokens", json=body)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["token"])

    def put(self, content: str, token: str | None = None, **body: Any) -> httpx.Response:
        if token is None:
            body.setdefault("partition", A)
        return self.call("POST", "/v1/memory", token, json={"kind": "note", "content": content, **body})

    def put_id(self, content: str, token: str | None = None, **body: Any) -> str:
        answer = self.put(content, token, **body)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["memory"]["id"])

    def search(self, q: str, token: str | None = None, **params: Any) -> httpx.Response:
        if token is None:
            params = {**A, **params}
        return self.call("GET", "/v1/memory/search", token, params={"q": q, **params})

    def audit(self, partition: dict[str, str] = A, **params: Any) -> list[dict[str, Any]]:
        answer = self.call("GET", "/v1/memory/audit", params={**partition, "limit": 1000, **params})
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    def head(self) -> int:
        return self.system.events.bounds()[0]

    def events(self, after: int = 0, prefix: str = "memory.") -> list[Event]:
        with self.system.store.read() as uow:
            return uow.events.query(EventFilter(types=(prefix,)), after=after, limit=10_000)

    def state(self) -> tuple[int, int, int]:
        """(spine head, audit rows, records) across every partition: equal = nothing changed."""
        with self.system.store.read() as uow:
            audit = uow.session.connection().exec_driver_sql("SELECT count(*) FROM memory_audit").scalar_one()
            records = (
                uow.session.connection().exec_driver_sql("SELECT count(*) FROM memory_records").scalar_one()
            )
        return self.head(), int(audit), int(records)


def problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body = dict(answer.json())
    assert body["code"] == code, body
    assert answer.headers["content-type"].startswith("application/problem+json")
    return body


def dumped(events: list[Event]) -> str:
    return json.dumps([{"type": e.type, "subject": e.subject, "data": e.data} for e in events])
