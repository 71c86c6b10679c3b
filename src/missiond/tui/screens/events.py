"""Events: the live feed of the spine with filters by type and subject prefix.

The feed shows what the app's one stream delivered (the last 200 events from before it
started, then everything live), newest at the bottom, at most `MAX_LINES` lines. It is a
`Log` (plain lines, only the visible ones rendered), not a table: appending a batch of ten
events costs well under a millisecond where a DataTable spent 10-15 ms adding and dropping
rows (`bench/tui.py`). `space` freezes the feed (events keep arriving and show when it
follows again). Because the app follows the spine by seq, the feed has no gap and no
repeat across reconnects.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Log, Static

from missiond.sdk import Event, InvalidCursor
from missiond.tui.screens.base import LiveScreen
from missiond.tui.widgets import EnvelopeModal

MAX_LINES = 1000
WIDTHS = (8, 9, 28, 34, 16)  # seq, time, type, subject, actor; data takes the rest


def columns(*values: str) -> str:
    cells = [
        value[: width - 1].ljust(width - 1) if i else value.rjust(width - 1)
        for i, (value, width) in enumerate(zip(values, WIDTHS, strict=False))
    ]
    return " ".join([*cells, *values[len(WIDTHS) :]])


class EventsScreen(LiveScreen):
    MODE = "events"
    BINDINGS: ClassVar = [
        Binding("t", "focus_type", "Type filter"),
        Binding("s", "focus_subject", "Subject filter"),
        Binding("space", "freeze", "Freeze/follow"),
        Binding("ctrl+l", "clear_filters", "Clear filters"),
        Binding("e", "envelope", "Envelope"),
    ]
    DEFAULT_CSS = """
    EventsScreen #filters { height: 1; margin: 0 1; }
    EventsScreen #filters Input { width: 1fr; margin: 0 1 0 0; }
    EventsScreen #summary { height: 1; padding: 0 1; color: $text-muted; }
    EventsScreen #columns { height: 1; padding: 0 1; text-style: bold; background: $boost; }
    EventsScreen #events { height: 1fr; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.type_prefix = ""
        self.subject_prefix = ""
        self.frozen = False
        self.shown_last_seq = 0
        self.shown = 0  # lines written since the last rebuild (the Log keeps MAX_LINES)

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="filters"):
            yield Input(placeholder="type prefix (t), e.g. mission.", id="type-filter", compact=True)
            yield Input(placeholder="subject prefix (s), e.g. routine/", id="subject-filter", compact=True)
        yield Static("", id="summary", markup=False)
        yield Static(columns("seq", "time", "type", "subject", "actor", "data"), id="columns", markup=False)
        yield Log(max_lines=MAX_LINES, id="events")

    def on_mount(self) -> None:
        self.query_one("#events", Log).focus()

    @property
    def lines(self) -> list[str]:
        """The feed as shown, oldest first (tests read it)."""
        return list(self.query_one("#events", Log).lines)

    async def load(self) -> None:
        """Rebuild from the events the app holds (no request: the app's stream fed them)."""
        log = self.query_one("#events", Log)
        log.clear()
        self.shown = 0
        self._append(self.tui.events.matching(self.type_prefix, self.subject_prefix, MAX_LINES))
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
        fmt = self.tui.formatter
        lines = [
            columns(
                fmt.seq(event.seq),
                fmt.time(event.ts),
                event.type,
                fmt.text(event.subject),
                fmt.text(event.actor or "-"),
                fmt.json(dict(event.data), 200),
            )
            for event in events
        ]
        self.query_one("#events", Log).write_lines(lines)
        self.shown += len(lines)

    def _summary(self) -> None:
        state = "frozen (space to follow)" if self.frozen else "following"
        filters = f"type {self.type_prefix or '*'}  subject {self.subject_prefix or '*'}"
        counts = f"{min(self.shown, MAX_LINES)} shown of {len(self.tui.events)} received"
        self.query_one("#summary", Static).update(f"{state}  │  {filters}  │  {counts}", layout=False)

    # -- filters -----------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "type-filter":
            self.type_prefix = event.value.strip()
        elif event.input.id == "subject-filter":
            self.subject_prefix = event.value.strip()
        self.request_reload()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.query_one("#events", Log).focus()

    def action_focus_type(self) -> None:
        self.query_one("#type-filter", Input).focus()

    def action_focus_subject(self) -> None:
        self.query_one("#subject-filter", Input).focus()

    def action_clear_filters(self) -> None:
        self.query_one("#type-filter", Input).value = ""
        self.query_one("#subject-filter", Input).value = ""

    def action_envelope(self) -> None:
        """The whole envelope of the newest event shown (or of any seq typed there)."""
        shown = self.tui.events.matching(self.type_prefix, self.subject_prefix, 1)
        client, events = self.tui.client, self.tui.events

        async def fetch(seq: int) -> dict[str, Any] | None:
            known = next((e for e in reversed(list(events)) if e.seq == seq), None)
            if known is None:  # older than what this client holds: ask the spine
                try:
                    page = await client.query_events(after=seq - 1, limit=1)
                except InvalidCursor:  # past the head: there is no such event (yet)
                    return None
                known = next((e for e in page.events if e.seq == seq), None)
            return dict(known.raw) if known else None

        self.app.push_screen(EnvelopeModal(shown[-1].seq if shown else None, fetch))

    def action_freeze(self) -> None:
        self.frozen = not self.frozen
        if not self.frozen:
            self.request_reload()
        self._summary()
