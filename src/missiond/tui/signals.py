"""Signals: what needs a person now.

- pending approvals (someone must decide),
- halted or failed missions (someone must resume, rework or give up),
- routines whose last run was blocked by policy (allow it, or change the action),
- leases that expired in the last day on tasks nobody has picked up or finished since
  (an agent died holding work).

`collect` asks the server through the SDK; the app keeps the answer and its count, which
the connection bar shows on every screen.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from missiond.sdk import AsyncClient, Event, TaskNotFound

LEASE_WINDOW = timedelta(hours=24)
LIMIT = 100
TOPICS = (
    "approval.",
    "mission.halted",
    "mission.failed",
    "mission.resumed",
    "mission.cancelled",
    "mission.succeeded",
    "routine.",
    "task.lease_expired",
    "task.claimed",
    "task.completed",
    "task.cancelled",
)


@dataclass(frozen=True, slots=True)
class Signal:
    kind: str  # approval | mission | routine | lease
    id: str  # what to open: approval, mission, routine or task id
    title: str
    detail: str
    since: datetime | None
    target: str  # the screen that acts on it


def relevant(event: Event) -> bool:
    return event.type.startswith(TOPICS)


async def collect(client: AsyncClient, now: datetime) -> list[Signal]:
    approvals, halted, failed, routines, expired = await asyncio.gather(
        client.list_approvals("pending", limit=LIMIT),
        client.list_missions("halted", limit=LIMIT),
        client.list_missions("failed", limit=LIMIT),
        client.list_routines(limit=500),
        client.query_events(type="task.lease_expired", since=now - LEASE_WINDOW, limit=LIMIT),
    )
    out = [
        Signal("approval", a.id, a.summary, f"{a.kind} on {a.subject}", a.created_at, "approvals")
        for a in approvals
    ]
    for mission in (*halted.items, *failed.items):
        out.append(
            Signal(
                "mission",
                mission.id,
                f"{mission.title} {mission.status}",
                mission.reason or "",
                _time(mission.raw.get("updated_at")),
                "missions",
            )
        )
    for routine in routines.items:
        run = routine.last_run
        if run is not None and run.status == "blocked_policy":
            reason = str(run.detail.get("reason") or "blocked by policy")
            out.append(
                Signal("routine", routine.id, f"{routine.name} blocked", reason, run.created_at, "routines")
            )
    out.extend(await _expired_leases(client, expired.events))
    return out


async def _expired_leases(client: AsyncClient, events: tuple[Event, ...]) -> list[Signal]:
    latest: dict[str, Event] = {}
    for event in events:
        task_id = str(event.data.get("task_id") or event.subject.removeprefix("task/"))
        latest[task_id] = event
    out: list[Signal] = []
    for task_id, event in sorted(latest.items()):
        try:
            task = await client.get_task(task_id)
        except TaskNotFound:
            continue
        if task.status != "open" or task.lease is not None:
            continue  # picked up again, finished or cancelled since
        holder = event.data.get("holder", "?")
        out.append(
            Signal(
                "lease",
                task_id,
                f"lease of {holder} expired",
                f"{task.title} is open again",
                event.ts,
                "tasks",
            )
        )
    return out


def _time(value: object) -> datetime | None:
    from missiond.sdk.models import parse_time

    return parse_time(value) if isinstance(value, str) else None
