"""Events: the live feed of the spine with filters by type and subject prefix.

The feed shows what the app's one stream delivered (the last 200 events from before it
started, then everything live), newest at the bottom, at most `MAX_ROWS` rows. New events
are appended in batches; the oldest rows fall off. `space` freezes the feed (events keep
arriving and show when it runs again). Because the app follows the spine by seq, the feed
has no gap and no repeat across reconnects.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Static

from missiond.sdk import Event
from missiond.tui.screens.base import LiveScreen

MAX_ROWS = 500


class EventsScreen(LiveScreen):
    MODE = "events"
    BINDINGS: ClassVar = [
        Binding("t", "focus_type", "Type filter"),
        Binding("s", "focus_subject", "Subject filter"),
        Binding("space", "freeze", "Freeze/follow"),
        Binding("ctrl+l", "clear_filters", "Clear filters"),
    ]
    DEFAULT_CSS = """
    EventsScreen #filters { height: 1; margin: 0 1; }
    EventsScreen #filters Input { width: 1fr; margin: 0 1 0 0; }
    EventsScreen #summary { height: 1; padding: 0 1; color: $text-muted; }
    EventsScreen #events { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.type_prefix = ""
        self.subject_prefix = ""
        self.frozen = False
        self.shown_last_seq = 0

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="filters"):
            yield Input(placeholder="type prefix (t), e.g. mission.", id="type-filter", compact=True)
            yield Input(placeholder="subject prefix (s), e.g. routine/", id="subject-filter", compact=True)
        yield Static("", id="summary")
        table: DataTable[Any] = DataTable(id="events", cursor_type="row", zebra_stripes=True)
        table.add_columns("seq", "time", "type", "subject", "actor", "data")
        yield table

    def on_mount(self) -> None:
        self.query_one("#events", DataTable).focus()

    async def load(self) -> None:
        """Rebuild from the events the app holds (no request: the app's stream fed them)."""
        table = self.query_one("#events", DataTable)
        table.clear()
        matching = self.tui.events.matching(self.type_prefix, self.subject_prefix, MAX_ROWS)
        self._append(matching)
        self.shown_last_seq = self.tui.events.last_seq or 0
        self._summary()

    def matches(self, event: Event) -> bool:
        return event.type.startswith(self.type_prefix) and event.subject.startswith(self.subject_prefix)

    def spine_arrived(self, events: list[Event]) -> None:
        if self.frozen:
            return
        fresh = [e for e in events if e.seq > self.shown_last_seq]
        if fresh:
            self.shown_last_seq = fresh[-1].seq
        self._append([e for e in fresh if self.matches(e)])
        self._summary()

    def _append(self, events: list[Event]) -> None:
        if not events:
            return
        table = self.query_one("#events", DataTable)
        at_bottom = table.cursor_row >= table.row_count - 1
        fmt = self.tui.formatter
        for event in events[-MAX_ROWS:]:
            table.add_row(
                fmt.seq(event.seq),
                fmt.time(event.ts),
                event.type,
                fmt.text(event.subject),
                fmt.text(event.actor or "-"),
                fmt.json(dict(event.data), 60),
                key=str(event.seq),
            )
        overflow = table.row_count - MAX_ROWS
        if overflow > 0:
            for row_key in list(table.rows)[:overflow]:
                table.remove_row(row_key)
        if at_bottom:
            table.move_cursor(row=table.row_count - 1, animate=False)

    def _summary(self) -> None:
        table = self.query_one("#events", DataTable)
        state = "frozen (space to follow)" if self.frozen else "following"
        filters = f"type {self.type_prefix or '*'}  subject {self.subject_prefix or '*'}"
        self.query_one("#summary", Static).update(
            f"{state}  │  {filters}  │  {table.row_count} shown of {len(self.tui.events)} received"
        )

    # -- filters -----------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "type-filter":
            self.type_prefix = event.value.strip()
        elif event.input.id == "subject-filter":
            self.subject_prefix = event.value.strip()
        self.request_reload()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.query_one("#events", DataTable).focus()

    def action_focus_type(self) -> None:
        self.query_one("#type-filter", Input).focus()

    def action_focus_subject(self) -> None:
        self.query_one("#subject-filter", Input).focus()

    def action_clear_filters(self) -> None:
        self.query_one("#type-filter", Input).value = ""
        self.query_one("#subject-filter", Input).value = ""

    def action_freeze(self) -> None:
        self.frozen = not self.frozen
        if not self.frozen:
            self.request_reload()
        self._summary()
