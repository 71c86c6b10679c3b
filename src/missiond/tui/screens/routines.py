"""Routines: schedule in words, next fire, last result and an unmistakable EXTERNAL badge;
create and edit (a validated form), activate, pause, resume, run now, delete, history."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from missiond.sdk import PolicyBlocked, Routine, RoutineRun
from missiond.tui.screens.base import LiveScreen
from missiond.tui.screens.routine_form import RoutineForm
from missiond.tui.widgets import ConfirmModal

LIMIT = 500
HISTORY_LIMIT = 100
RUN_STYLE = {
    "succeeded": "green",
    "failed": "bold red",
    "blocked_policy": "bold red",
    "denied": "red",
    "pending_approval": "yellow",
    "running": "bold",
    "queued": "cyan",
    "missed": "dim",
    "skipped_overlap": "dim",
}


def run_text(run: RoutineRun | None) -> Text:
    if run is None:
        return Text("never ran", style="dim")
    text = Text(run.status, style=RUN_STYLE.get(run.status, ""))
    exit_code = run.detail.get("exit_code")
    if exit_code is not None:
        text.append(f" (exit {exit_code})")
    return text


def badge(routine: Routine) -> Text:
    return (
        Text(" EXTERNAL ", style="bold white on red") if routine.external else Text("internal", style="dim")
    )


class RoutinesScreen(LiveScreen):
    MODE = "routines"
    TOPICS = ("routine.", "approval.")
    BINDINGS: ClassVar = [
        Binding("n", "new", "New"),
        Binding("e", "edit", "Edit"),
        Binding("a", "activate", "Activate"),
        Binding("p", "pause", "Pause"),
        Binding("r", "resume", "Resume"),
        Binding("x", "run_now", "Run now"),
        Binding("delete", "delete", "Delete"),
        Binding("h", "history", "History"),
    ]
    DEFAULT_CSS = """
    RoutinesScreen #summary { height: 1; padding: 0 1; color: $text-muted; }
    RoutinesScreen #routines { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.routines: dict[str, Routine] = {}

    def compose_body(self) -> ComposeResult:
        yield Static("", id="summary", markup=False)
        table: DataTable[Any] = DataTable(id="routines", cursor_type="row", zebra_stripes=True)
        table.add_columns("name", "status", "schedule", "next fire", "last result", "side effects", "id")
        yield table

    async def load(self) -> None:
        page = await self.tui.client.list_routines(limit=LIMIT)
        self.routines = {r.id: r for r in page.items}
        fmt = self.tui.formatter
        rows = [
            (
                r.id,
                (
                    r.name,
                    r.status,
                    r.schedule_text,
                    fmt.when(r.next_fire_at) if r.next_fire_at else Text("-", style="dim"),
                    run_text(r.last_run),
                    badge(r),
                    fmt.id(r.id),
                ),
            )
            for r in page.items
        ]
        self.fill(self.query_one("#routines", DataTable), rows)
        external = sum(1 for r in page.items if r.external)
        self.query_one("#summary", Static).update(
            f"{len(rows)} routines  │  {external} with external side effects"
            + ("  │  more not shown" if page.next_after_id else ""),
            layout=False,
        )

    # -- actions -----------------------------------------------------------------------

    @property
    def selected(self) -> str | None:
        return self.selected_key(self.query_one("#routines", DataTable))

    def _selected_routine(self) -> Routine | None:
        routine_id = self.require(self.selected, "a routine")
        return self.routines.get(routine_id) if routine_id else None

    def action_new(self) -> None:
        client = self.tui.client

        async def create(body: dict[str, Any]) -> Routine:
            schedule = body.pop("schedule")
            return await client.create_routine(body.pop("name"), **schedule, **body)

        self.app.push_screen(RoutineForm(create), self._saved)

    def action_edit(self) -> None:
        routine = self._selected_routine()
        if routine is None:
            return
        client = self.tui.client

        async def update(body: dict[str, Any]) -> Routine:
            return await client.update_routine(routine.id, expected_rev=routine.rev, **body)

        self.app.push_screen(RoutineForm(update, routine), self._saved)

    def _saved(self, routine: Routine | None) -> None:
        if routine is not None:
            self.notify(f"Saved routine {routine.name} ({routine.status})", title="done")
            self.request_reload()

    def _lifecycle(self, verb: str, past: str) -> None:
        routine = self._selected_routine()
        if routine is None:
            return
        client = self.tui.client
        method = getattr(client, f"{verb}_routine")
        self.call(f"{past} {routine.name}", lambda: method(routine.id))

    def action_activate(self) -> None:
        self._lifecycle("activate", "Activated")

    def action_pause(self) -> None:
        self._lifecycle("pause", "Paused")

    def action_resume(self) -> None:
        self._lifecycle("resume", "Resumed")

    def action_run_now(self) -> None:
        routine = self._selected_routine()
        if routine is None:
            return
        self._run_now(routine)

    def _run_now(self, routine: Routine) -> None:
        client = self.tui.client

        async def run() -> RoutineRun | None:
            try:
                return await client.run_routine_now(routine.id)
            except PolicyBlocked as error:  # the blocked run is recorded: show it, then the problem
                self.request_reload()
                raise error

        def ran(result: RoutineRun | None) -> None:
            if result is not None and result.status == "pending_approval":
                self.notify(f"{routine.name}: waiting for approval {result.approval_id}", title="run")

        self.call(f"Run of {routine.name} started", run, ran)

    def action_delete(self) -> None:
        routine = self._selected_routine()
        if routine is None:
            return
        client = self.tui.client

        def answer(yes: bool | None) -> None:
            if yes:
                self.call(f"Deleted {routine.name}", lambda: client.delete_routine(routine.id))

        self.app.push_screen(ConfirmModal(f"Delete routine {routine.name}? Its history stays."), answer)

    def action_history(self) -> None:
        routine = self._selected_routine()
        if routine is not None:
            self.app.push_screen(RoutineHistoryScreen(routine.id, routine.name))


class RoutineHistoryScreen(LiveScreen):
    """A routine's runs, newest first, with exit codes and the last line of output."""

    MODE = "routines"
    BINDINGS: ClassVar = [Binding("escape", "back", "Back")]
    DEFAULT_CSS = """
    RoutineHistoryScreen #title { height: 1; padding: 0 1; text-style: bold; }
    RoutineHistoryScreen #runs { height: 1fr; }
    RoutineHistoryScreen #output { height: 8; padding: 0 1; border-top: solid $primary; }
    """

    def __init__(self, routine_id: str, name: str) -> None:
        super().__init__()
        self.routine_id = routine_id
        self.name_text = name
        self.runs: dict[str, RoutineRun] = {}

    def compose_body(self) -> ComposeResult:
        yield Static(f"History of {self.name_text}", id="title", markup=False)
        table: DataTable[Any] = DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        table.add_columns("scheduled for", "trigger", "status", "finished", "reason", "run")
        yield table
        yield Static("", id="output", markup=False)

    def relevant(self, event: Any) -> bool:
        return bool(event.subject == f"routine/{self.routine_id}")

    async def load(self) -> None:
        page = await self.tui.client.routine_history(self.routine_id, limit=HISTORY_LIMIT)
        self.runs = {r.id: r for r in page.items}
        fmt = self.tui.formatter
        rows = [
            (
                run.id,
                (
                    fmt.time(run.scheduled_for),
                    run.trigger,
                    run_text(run),
                    fmt.time(run.finished_at),
                    fmt.text(str(run.detail.get("reason") or "")),
                    fmt.id(run.id),
                ),
            )
            for run in page.items
        ]
        table = self.query_one("#runs", DataTable)
        self.fill(table, rows)
        self._show(self.selected_key(table))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show(None if event.row_key.value is None else str(event.row_key.value))

    def _show(self, run_id: str | None) -> None:
        run = self.runs.get(run_id or "")
        output = self.query_one("#output", Static)
        if run is None:
            output.update(Text("No runs yet.", style="dim"))
            return
        tail = str(run.detail.get("output_tail") or "").rstrip("\n").splitlines()[-6:]
        text = Text(f"output of {self.tui.formatter.id(run.id)}\n", style="bold")
        text.append("\n".join(tail) if tail else "(no output)", style="dim")
        output.update(text)

    def action_back(self) -> None:
        self.app.pop_screen()
