"""Signals: a live count and list of what needs a person now; `enter` goes where it is
handled (the approval, the mission's page, the routine, the task board)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from missiond.sdk import Event
from missiond.tui.messages import GoTo, SignalsCounted
from missiond.tui.screens.base import LiveScreen
from missiond.tui.signals import collect, relevant

KIND_STYLE = {
    "approval": "bold yellow",
    "mission": "bold red",
    "routine": "bold magenta",
    "lease": "bold cyan",
}


class SignalsScreen(LiveScreen):
    MODE = "signals"
    BINDINGS: ClassVar = [Binding("o", "open", "Go to it")]
    DEFAULT_CSS = """
    SignalsScreen #summary { height: 1; padding: 0 1; color: $text-muted; }
    SignalsScreen #signals { height: 1fr; }
    """

    def compose_body(self) -> ComposeResult:
        yield Static("", id="summary", markup=False)
        table: DataTable[Any] = DataTable(id="signals", cursor_type="row", zebra_stripes=True)
        table.add_columns("kind", "what", "detail", "since", "id")
        yield table

    def relevant(self, event: Event) -> bool:
        return relevant(event)

    async def load(self) -> None:
        signals = await collect(self.tui.client, datetime.now(UTC))
        self.post_message(SignalsCounted(signals))
        fmt = self.tui.formatter
        rows = [
            (
                f"{s.kind}:{s.id}",
                (
                    Text(s.kind, style=KIND_STYLE.get(s.kind, "")),
                    fmt.text(s.title),
                    fmt.text(s.detail),
                    fmt.time(s.since),
                    fmt.id(s.id),
                ),
            )
            for s in signals
        ]
        self.fill(self.query_one("#signals", DataTable), rows)
        counts: dict[str, int] = {}
        for s in signals:
            counts[s.kind] = counts.get(s.kind, 0) + 1
        parts = [f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in counts.items()]
        self.query_one("#summary", Static).update(
            f"{len(signals)} need a person now" + (f": {', '.join(parts)}" if parts else " — all clear"),
            layout=False,
        )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self._open(None if event.row_key.value is None else str(event.row_key.value))

    def action_open(self) -> None:
        self._open(self.require(self.selected_key(self.query_one("#signals", DataTable)), "a signal"))

    def _open(self, key: str | None) -> None:
        if not key:
            return
        kind, _, ident = key.partition(":")
        if kind == "mission":
            from missiond.tui.screens.missions import MissionDetailScreen

            self.app.switch_mode("missions")
            self.app.push_screen(MissionDetailScreen(ident))
            return
        target = {"approval": "approvals", "routine": "routines", "lease": "tasks"}[kind]
        self.post_message(GoTo(target, ident))
