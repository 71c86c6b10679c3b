"""Tasks: the ready queue (best first), work in progress with its lease holder and expiry,
and blocked work with its blockers."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Label

from missiond.sdk import Task
from missiond.tui.screens.base import LiveScreen

LIMIT = 100
BLOCKER_LOOKUPS = 25  # blocked tasks whose blockers are fetched one by one


class TasksScreen(LiveScreen):
    MODE = "tasks"
    TOPICS = ("task.", "agent.session")
    BINDINGS: ClassVar = [
        Binding("tab", "app.focus_next", "Next table", show=False),
        Binding("g", "reload", "Refresh"),
    ]
    DEFAULT_CSS = """
    TasksScreen .section { height: 1fr; }
    TasksScreen .section Label { padding: 0 1; text-style: bold; background: $boost; width: 1fr; }
    TasksScreen DataTable { height: 1fr; }
    """

    def compose_body(self) -> ComposeResult:
        sections = (
            ("ready", "Ready", ("id", "title", "priority", "role", "labels")),
            ("in-progress", "In progress", ("id", "title", "lease holder", "expires", "fencing")),
            ("blocked", "Blocked", ("id", "title", "status", "open blockers", "blocked by")),
        )
        for name, title, columns in sections:
            with Vertical(classes="section"):
                yield Label(title, id=f"{name}-title", markup=False)
                table: DataTable[Any] = DataTable(id=name, cursor_type="row", zebra_stripes=True)
                table.add_columns(*columns)
                yield table

    async def load(self) -> None:
        client = self.tui.client
        ready, in_progress, blocked, waiting = await asyncio.gather(
            client.ready_tasks(limit=LIMIT),
            client.list_tasks(status="in_progress", limit=LIMIT),
            client.list_tasks(status="blocked", limit=LIMIT),
            client.list_tasks(status="open", blocked=True, limit=LIMIT),
        )
        stuck = sorted({t.id: t for t in (*blocked.items, *waiting.items)}.values(), key=lambda t: t.id)
        known = {t.id: t for t in (*ready, *in_progress.items, *stuck)}
        blockers = await self._blockers(stuck[:BLOCKER_LOOKUPS], known)
        fmt = self.tui.formatter
        self.fill(
            self.query_one("#ready", DataTable),
            [
                (t.id, (fmt.id(t.id), t.title, str(t.priority), t.role or "-", ",".join(t.labels)))
                for t in ready
            ],
        )
        self.fill(
            self.query_one("#in-progress", DataTable), [(t.id, self._lease_row(t)) for t in in_progress.items]
        )
        self.fill(
            self.query_one("#blocked", DataTable),
            [
                (
                    t.id,
                    (
                        fmt.id(t.id),
                        t.title,
                        t.status,
                        str(t.open_blockers),
                        ", ".join(blockers.get(t.id, ())),
                    ),
                )
                for t in stuck
            ],
        )
        self.query_one("#ready-title", Label).update(f"Ready ({len(ready)})")
        self.query_one("#in-progress-title", Label).update(f"In progress ({len(in_progress.items)})")
        self.query_one("#blocked-title", Label).update(f"Blocked ({len(stuck)})")

    def _lease_row(self, task: Task) -> tuple[Any, ...]:
        fmt = self.tui.formatter
        lease = task.lease
        if lease is None:
            return (fmt.id(task.id), task.title, Text("no lease", style="dim"), "-", "-")
        return (
            fmt.id(task.id),
            task.title,
            fmt.text(lease.holder),
            fmt.when(lease.expires_at),
            str(lease.fencing_token),
        )

    async def _blockers(self, tasks: list[Task], known: dict[str, Task]) -> dict[str, tuple[str, ...]]:
        """Each blocked task's blockers as `title (status)`, fetching those not on screen."""
        client = self.tui.client
        full = await asyncio.gather(*(client.get_task(t.id) for t in tasks))
        ids = {b for t in full for b in t.relationships.get("blocked_by", ())}
        missing = sorted(ids - known.keys())[:BLOCKER_LOOKUPS]
        for task in await asyncio.gather(*(client.get_task(i) for i in missing), return_exceptions=True):
            if isinstance(task, Task):
                known[task.id] = task
        fmt = self.tui.formatter

        def name(blocker_id: str) -> str:
            task = known.get(blocker_id)
            return f"{task.title} ({task.status})" if task else fmt.id(blocker_id)

        return {t.id: tuple(name(b) for b in t.relationships.get("blocked_by", ())) for t in full}

    def action_reload(self) -> None:
        self.request_reload()
