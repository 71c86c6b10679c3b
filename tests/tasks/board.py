"""What the task-board tests share: a clock the test moves, the in-process app, agents
with their tokens, and probes of the spine so a test can prove that nothing changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from litestar.testing import TestClient

from missiond.bootstrap import System
from missiond.core.events import Event, EventFilter

START = datetime(2026, 11, 21, 18, 0, 0, tzinfo=UTC)


class ManualClock:
    """Time that stands still until the test moves it."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Agent:
    id: str
    token: str

    @property
    def subject(self) -> str:
        return f"agent:{self.id}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def fenced(self, token: int) -> dict[str, str]:
        return {**self.auth, "X-Fencing-Token": str(token)}


class Board:
    """The HTTP app in-process; requests go as admin unless headers say otherwise."""

    def __init__(self, client: TestClient[Any], system: System) -> None:
        self.client = client
        self.system = system
        client.headers["Authorization"] = f"Bearer {system.admin_token}"

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, json={} if body is None else body, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def agent(self, name: str, capabilities: list[str] | None = None) -> Agent:
        body: dict[str, Any] = {"name": name}
        if capabilities is not None:
            body["capabilities"] = capabilities
        answer = self.post("/v1/agents", body)
        assert answer.status_code == 201, answer.text
        return Agent(answer.json()["agent"]["id"], answer.json()["token"])

    def task(self, title: str = "task", **fields: Any) -> dict[str, Any]:
        answer = self.post("/v1/tasks", {"title": title, **fields})
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def show(self, task_id: str) -> dict[str, Any]:
        answer = self.get(f"/v1/tasks/{task_id}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def claim(self, agent: Agent, task_id: str, **body: Any) -> dict[str, Any]:
        answer = self.post(f"/v1/tasks/{task_id}/claim", body, headers=agent.auth)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def complete(self, task_id: str, outcome: str = "done", **kwargs: Any) -> dict[str, Any]:
        answer = self.post(f"/v1/tasks/{task_id}/complete", {"outcome": outcome}, **kwargs)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def link(self, task_id: str, kind: str, other_id: str) -> httpx.Response:
        return self.post(f"/v1/tasks/{task_id}/links", {"kind": kind, "other_id": other_id})

    def head(self) -> int:
        return spine_head(self.system)

    def events(self, *types: str, after: int = 0) -> list[Event]:
        return events_after(self.system, after, *types)


def spine_head(system: System) -> int:
    return system.events.bounds()[0]


def events_after(system: System, after: int, *types: str) -> list[Event]:
    with system.store.read() as uow:
        return uow.events.query(EventFilter(types=types), after=after, limit=1000)


def problem(answer: httpx.Response, status: int, code: str | None) -> dict[str, Any]:
    """The problem body, after checking it is the expected one (`code=None`: any code)."""
    assert answer.status_code == status, answer.text
    body = dict(answer.json())
    assert code is None or body["code"] == code, body
    assert answer.headers["content-type"].startswith("application/problem+json")
    return body
