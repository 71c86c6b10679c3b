"""What the routine service/API tests share: a clock the test moves, the admin context,
routine bodies, readers of a routine's history, and the in-process app.

Everything here is a function or an immutable value; each test module builds its own
systems, so nothing mutable is shared between modules.
"""

from __future__ import annotations

import asyncio
import os
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
from litestar import Litestar
from litestar.exceptions.base_exceptions import LitestarDeprecationWarning

from missiond.bootstrap import System
from missiond.core.events import Event, EventFilter
from missiond.services.context import Principal, RequestContext


@contextmanager
def litestar_deprecations_ignored() -> Iterator[None]:
    """Known src issue (reported with the resources suite): the API declares
    `Parameter(query=..)`, which litestar 2.25 deprecates, so importing the app under
    `filterwarnings = error` fails. Only those deprecations are ignored, only here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=LitestarDeprecationWarning)
        warnings.filterwarnings("ignore", message="Deprecated '.*' parameter", category=DeprecationWarning)
        yield


with litestar_deprecations_ignored():
    from missiond.api.app import create_app


def make_app(system: System) -> Litestar:
    with litestar_deprecations_ignored():
        return create_app(system)


ADMIN = RequestContext(principal=Principal(subject="user:admin", kind="admin", capabilities=frozenset({"*"})))
# In the future of the real clock, so a background scheduler never arms its timer for a moment
# that is already past in real time (it would wake every few milliseconds).
START = datetime(2031, 3, 3, 9, 0, 0, tzinfo=UTC)
TRUE = {"kind": "command", "argv": ["true"]}


class ManualClock:
    """Time that stands still until the test moves it; `at(s)` is START + s seconds."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, seconds: float) -> datetime:
        self.now = at(seconds)
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def offset(wire_ts: str | None) -> float | None:
    """A wire timestamp as seconds after START (readable in tables)."""
    if wire_ts is None:
        return None
    moment = datetime.strptime(wire_ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return (moment - START).total_seconds()


def routine_body(
    *,
    interval_s: float = 60.0,
    policy: str = "run_once",
    max_runs: int | None = None,
    grace_s: float = 60.0,
    overlap: str = "skip",
    action: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A routine as the controller hands it to the service."""
    misfire: dict[str, Any] = {"policy": policy, "grace_s": grace_s}
    if max_runs is not None:
        misfire["max_runs"] = max_runs
    return {
        "name": extra.pop("name", "nightly audit"),
        "schedule": {"interval_s": interval_s},
        "misfire": misfire,
        "overlap": overlap,
        "action": action or TRUE,
        **extra,
    }


def history(system: System, routine_id: str) -> list[dict[str, Any]]:
    """Every history row of a routine, through the paged service call."""
    rows: list[dict[str, Any]] = []
    before: str | None = None
    while True:
        page = system.routines.history(ADMIN, routine_id, 100, before)
        rows.extend(page["items"])
        before = page["next_before_id"]
        if before is None:
            return rows


@dataclass(frozen=True, order=True)
class Missed:
    first: float
    last: float
    count: int | None
    reason: str


def runs(system: System, routine_id: str) -> list[dict[str, Any]]:
    """The runs (not the missed rows), oldest occurrence first."""
    found = [r for r in history(system, routine_id) if r["status"] != "missed"]
    return sorted(found, key=lambda r: (r["scheduled_for"], r["created_at"], r["id"]))


def missed(system: System, routine_id: str) -> list[Missed]:
    rows = [r for r in history(system, routine_id) if r["status"] == "missed"]
    return sorted(
        Missed(
            offset(r["scheduled_for"]) or 0.0,
            offset(r["detail"]["last_missed"]) or 0.0,
            r["detail"]["count"],
            r["detail"]["reason"],
        )
        for r in rows
    )


@dataclass(frozen=True)
class Stored:
    status: str
    next_fire_at_us: int | None
    last_fired_at_us: int | None


def row(system: System, routine_id: str) -> Stored:
    """The stored routine's timing (its `next_fire_at` is kept while paused; the wire shows null)."""
    with system.store.read() as uow:
        found = uow.routines.get(routine_id)
        assert found is not None
        return Stored(found.status, found.next_fire_at_us, found.last_fired_at_us)


def drain(system: System) -> list[dict[str, Any]]:
    """Claim every queued run the overlap rules allow and carry it out, as the scheduler does."""
    done = []
    for run_id, routine_id, action in system.runner.claim():
        done.append(system.runner.execute(run_id, routine_id, action))
    return done


def spine_head(system: System) -> int:
    return system.events.bounds()[0]


def events_after(system: System, after: int, *types: str) -> list[Event]:
    with system.store.read() as uow:
        return uow.events.query(EventFilter(types=types), after=after, limit=1000)


def problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The problem body, after checking it is the expected one."""
    assert answer.status_code == status, answer.text
    body = dict(answer.json())
    assert body["code"] == code, body
    assert answer.headers["content-type"].startswith("application/problem+json")
    return body


PG_BASE = os.environ.get("MISSIOND_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def fresh_database(kind: str, directory: Path) -> Iterator[str]:
    """A database URL for one module's shared app: an SQLite file, or a PostgreSQL schema
    that is dropped afterwards (tests/conftest.py's `database_url` is per test)."""
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


class QuietScheduler:
    """Stands in for the app's SchedulerDriver (install with monkeypatch on
    `missiond.api.reactors.SchedulerDriver`): the test ticks and drains by hand, and the
    app's shutdown cannot hang on the scheduler's swallowed cancellation
    (test_routine_scheduler_loop.py)."""

    def __init__(self, system: System) -> None:
        self.system = system

    async def run(self) -> None:
        await asyncio.Event().wait()


# -- real servers -------------------------------------------------------------------------------
def http_history(client: httpx.Client, routine_id: str) -> list[dict[str, Any]]:
    """Every history row of a routine over HTTP, page by page."""
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 200}
    while True:
        answer = client.get(f"/v1/routines/{routine_id}/history", params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        rows.extend(page["items"])
        if page["next_before_id"] is None:
            return rows
        params["before_id"] = page["next_before_id"]


def micros(wire_ts: str) -> int:
    moment = datetime.strptime(wire_ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def unaccounted(rows: list[dict[str, Any]], interval_s: float) -> dict[str, Any]:
    """How the occurrences between the first and the last one in a history are accounted for.

    Every occurrence must be exactly one run or lie in exactly one missed range; the answer
    names what is not so (all empty when the history is whole)."""
    step = round(interval_s * 1_000_000)
    runs_at = [micros(r["scheduled_for"]) for r in rows if r["status"] != "missed"]
    ranges = [
        (micros(r["scheduled_for"]), micros(r["detail"]["last_missed"]), r["detail"]["count"])
        for r in rows
        if r["status"] == "missed"
    ]
    first = min([*runs_at, *(a for a, _, _ in ranges)])
    last = max([*runs_at, *(b for _, b, _ in ranges)])
    seen: dict[int, int] = {}
    for moment in runs_at:
        seen[moment] = seen.get(moment, 0) + 1
    for start, end, _ in ranges:
        for moment in range(start, end + 1, step):
            seen[moment] = seen.get(moment, 0) + 1
    expected = set(range(first, last + 1, step))
    return {
        "twice": sorted(m for m, n in seen.items() if n > 1),
        "never": sorted(expected - set(seen)),
        "off_grid": sorted(set(seen) - expected),
        "miscounted": [(a, b, n) for a, b, n in ranges if n != (b - a) // step + 1],
    }
