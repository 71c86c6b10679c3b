"""What the mission API tests share: an in-process app on a real database whose mission
runtime the test drives by hand, spec bodies, and readers of a mission's board and spine.

The app's own mission driver (and the routine scheduler) are replaced by loops that do
nothing, so a test decides when the runtime consumes the spine, runs the outbox and runs
test gates: `world.run()` does all three until nothing is left to do.
"""

from __future__ import annotations

import asyncio
import os
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import pytest
from litestar import Litestar
from litestar.exceptions.base_exceptions import LitestarDeprecationWarning
from litestar.testing import TestClient

from missiond.api import reactors
from missiond.bootstrap import System, build
from missiond.services.context import Principal, RequestContext
from missiond.settings import Settings

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
ADMIN = RequestContext(principal=Principal(subject="user:admin", kind="admin", capabilities=frozenset({"*"})))
PG_BASE = os.environ.get("MISSIOND_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# The test gate of these tests: an item passes when the executor left `<item>.ok` behind.
GATE = 'test -f "$MISSIOND_ITEM_ID.ok"'


@contextmanager
def litestar_deprecations_ignored() -> Iterator[None]:
    """The API declares `Parameter(query=..)`, which litestar 2.25 deprecates (a known src issue,
    see tests/routines/routine_harness.py); only those deprecations are ignored, only here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=LitestarDeprecationWarning)
        warnings.filterwarnings("ignore", message="Deprecated '.*' parameter", category=DeprecationWarning)
        yield


with litestar_deprecations_ignored():
    from missiond.api.app import create_app


def make_app(system: System) -> Litestar:
    with litestar_deprecations_ignored():
        return create_app(system)


class Idle:
    """Stands in for a background driver: parks until the app shuts down."""

    def __init__(self, system: System) -> None:
        self.system = system

    async def run(self) -> None:
        await asyncio.Event().wait()


@contextmanager
def fresh_database(kind: str, directory: Path) -> Iterator[str]:
    """An SQLite file, or a PostgreSQL schema that is dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'missiond.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = PG_BASE.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')  # type: ignore[arg-type]
    sep = "&" if "?" in PG_BASE else "?"
    try:
        yield f"{PG_BASE}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')  # type: ignore[arg-type]


@dataclass
class World:
    """One system (one "server") on a database, with an HTTP client on its app."""

    system: System
    client: TestClient[Any]
    root: Path  # workspaces live under it
    url: str
    home: Path

    @contextmanager
    def rebuilt(self) -> Iterator[World]:
        """Another system on the same database and home: what a restarted server is."""
        with world_on(self.url, self.home, self.root) as world:
            yield world

    # -- driving the runtime ----------------------------------------------------------------
    def run(self, rounds: int = 50) -> None:
        """Consume the spine, execute due commands, run slow ones; until nothing is left."""
        runtime = self.system.mission_runtime
        for _ in range(rounds):
            runtime.drain_spine()
            ran, slow = runtime.step()
            for command in slow:
                runtime.run_slow(command)
            if ran == 0 and not slow:
                return
        raise AssertionError(f"the mission runtime did not settle in {rounds} rounds")

    # -- requests -----------------------------------------------------------------------------
    def workspace(self, name: str | None = None) -> Path:
        path = self.root / (name or f"ws-{uuid.uuid4().hex[:8]}")
        path.mkdir(parents=True, exist_ok=True)
        return path

    def create(self, body: dict[str, Any], *, start: bool = False) -> dict[str, Any]:
        answer = self.client.post("/v1/missions", json=body, params={"start": "true"} if start else None)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def ok(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        answer = self.client.request(method, path, **kwargs)
        assert answer.status_code in (200, 201), answer.text
        return dict(answer.json())

    def mission(self, mission_id: str) -> dict[str, Any]:
        return self.ok("GET", f"/v1/missions/{mission_id}")

    def item(self, mission_id: str, item_id: str) -> dict[str, Any]:
        return next(i for i in self.mission(mission_id)["items"] if i["id"] == item_id)

    def action(self, mission_id: str, name: str, **body: Any) -> dict[str, Any]:
        return self.ok("POST", f"/v1/missions/{mission_id}/{name}", json=body or None)

    def submit(self, mission_id: str, item_id: str, **body: Any) -> dict[str, Any]:
        return self.ok("POST", f"/v1/missions/{mission_id}/work/{item_id}/submit", json=body)

    def review(self, mission_id: str, item_id: str, verdict: str = "approve", **body: Any) -> dict[str, Any]:
        path = f"/v1/missions/{mission_id}/work/{item_id}/review"
        return self.ok("POST", path, json={"verdict": verdict, **body})

    # -- reading ------------------------------------------------------------------------------
    def events(self, mission_id: str) -> list[dict[str, Any]]:
        return list(self.ok("GET", f"/v1/missions/{mission_id}/events", params={"limit": 5000})["items"])

    def types(self, mission_id: str) -> list[str]:
        return [e["type"] for e in self.events(mission_id)]

    def tasks(self, mission_id: str) -> list[dict[str, Any]]:
        return list(self.ok("GET", "/v1/tasks", params={"mission": mission_id, "limit": 1000})["items"])

    def task(self, task_id: str) -> dict[str, Any]:
        return self.ok("GET", f"/v1/tasks/{task_id}")

    def head(self) -> int:
        return int(self.ok("GET", "/v1/health")["head_seq"])

    def approvals(self, status: str = "pending") -> list[dict[str, Any]]:
        return list(self.ok("GET", "/v1/approvals", params={"status": status, "limit": 1000})["items"])


@contextmanager
def world_on(url: str, home: Path, root: Path) -> Iterator[World]:
    """A system built on `url` (a fresh one, or the database of an earlier "server")."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reactors, "SchedulerDriver", Idle)
        patch.setattr(reactors, "MissionDriver", Idle)
        system = build(Settings.from_env(home=home, database_url=url))
        try:
            with TestClient(make_app(system), raise_server_exceptions=False) as client:
                client.headers["Authorization"] = f"Bearer {system.admin_token}"
                yield World(system, client, root, url, home)
        finally:
            system.close()


@contextmanager
def world_for(kind: str, directory: Path) -> Iterator[World]:
    with fresh_database(kind, directory) as url, world_on(url, directory / "home", directory) as world:
        yield world


def spec(
    workspace: Path | str,
    items: tuple[str, ...] = ("a",),
    *,
    review: str = "agent",  # agent | human | none
    test: str | None = GATE,
    max_rework: int = 2,
    max_parallel: int = 4,
    **extra: Any,
) -> dict[str, Any]:
    """A valid spec body; items are written `id` or `id:dep1,dep2`."""
    roles: dict[str, Any] = {"executor": {"adapter": "pull"}}
    if review == "agent":
        roles["reviewer"] = {"adapter": "pull"}
    gates: dict[str, Any] = {
        "review": {"required": review != "none", "by": "human" if review == "human" else "agent"}
    }
    if test is not None:
        gates["test"] = {"command": test, "timeout_s": 30}
    work_items = []
    for text in items:
        item_id, _, deps = text.partition(":")
        work_items.append(
            {"id": item_id, "title": f"Item {item_id}", "depends_on": [d for d in deps.split(",") if d]}
        )
    return {
        "title": "Ship the config parser",
        "goal": "Parse every config file we ship",
        "success_criteria": ["the gate passes"],
        "workspace": str(workspace),
        "roles": roles,
        "gates": gates,
        "budgets": {"max_rework": max_rework, "max_parallel": max_parallel},
        "work_items": work_items,
        **extra,
    }


def problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.headers
    body = dict(answer.json())
    assert body["code"] == code, body
    assert "Traceback" not in answer.text
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return [str(e["field"]) for e in body.get("errors", [])]
