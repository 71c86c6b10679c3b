"""Small widgets every screen shares: the connection bar and the modal prompts."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from missiond.tui.live import Link, LinkState
from missiond.tui.problems import describe

if TYPE_CHECKING:
    from missiond.tui.app import MissiondTUI

_STATE_STYLE = {
    LinkState.CONNECTING: ("◌ connecting", "warning"),
    LinkState.LIVE: ("● live", "success"),
    LinkState.RECONNECTING: ("◌ reconnecting", "error"),
    LinkState.REFUSED: ("✕ token refused", "error"),
}


class ConnectionBar(Static):
    """Always on top: where we are connected, whether the link is live, the last seq,
    and how many things need a person now. It watches the app's attributes."""

    DEFAULT_CSS = """
    ConnectionBar { height: 1; background: $panel; padding: 0 1; }
    ConnectionBar.-live { color: $text; }
    ConnectionBar.-down { background: $error 30%; }
    """

    def on_mount(self) -> None:
        app = self.tui
        self.watch(app, "link", self._show, init=False)
        self.watch(app, "signal_count", self._show, init=False)
        self._shown_seq: int | None = None
        self._show()
        # the seq moves with every event: show it twice a second, not on every batch
        self.set_interval(0.5, self._tick)

    def _tick(self) -> None:
        if self.tui.last_seq != self._shown_seq:
            self._show()

    @property
    def tui(self) -> MissiondTUI:
        return self.app  # type: ignore[return-value]

    def _show(self, _value: object = None) -> None:
        app = self.tui
        link: Link = app.link
        label, _style = _STATE_STYLE[link.state]
        fmt = app.formatter
        parts = [f"missiond {fmt.url(link.url)}", label]
        if link.state in (LinkState.RECONNECTING, LinkState.REFUSED) and link.attempts:
            parts.append(f"attempt {link.attempts}")
        parts.append(f"seq {fmt.seq(app.last_seq)}")
        count = app.signal_count
        parts.append(f"⚑ {count} need{'s' if count == 1 else ''} you" if count else "⚑ 0 signals")
        self.set_class(link.state is LinkState.LIVE, "-live")
        self.set_class(link.state is not LinkState.LIVE, "-down")
        self._shown_seq = app.last_seq
        self.update(Text("  │  ".join(parts)), layout=False)  # one line, fixed size: no layout pass


class ReasonModal(ModalScreen[str | None]):
    """Ask for a reason; `required` refuses an empty one. Dismisses with the text or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ReasonModal { align: center middle; }
    ReasonModal > Vertical { width: 70; height: auto; border: thick $primary; background: $surface;
                             padding: 1 2; }
    ReasonModal #error { color: $error; height: auto; }
    ReasonModal Horizontal { height: auto; align-horizontal: right; }
    """

    def __init__(self, title: str, *, required: bool, placeholder: str = "reason") -> None:
        super().__init__()
        self.title_text = title
        self.required = required
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, markup=False)
            yield Input(placeholder=self.placeholder, id="reason")
            yield Static("", id="error", markup=False)
            with Horizontal():
                yield Button("OK", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        text = self.query_one("#reason", Input).value.strip()
        if self.required and not text:
            self.query_one("#error", Static).update("A reason is required.")
            return
        self.dismiss(text)


class ConfirmModal(ModalScreen[bool]):
    """Yes or no; `y`/`enter` confirm, `n`/`escape` refuse."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]
    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Vertical { width: 60; height: auto; border: thick $warning; background: $surface;
                              padding: 1 2; }
    ConfirmModal Horizontal { height: auto; align-horizontal: right; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, markup=False)
            with Horizontal():
                yield Button("Yes (y)", variant="warning", id="yes")
                yield Button("No (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class EnvelopeModal(ModalScreen[None]):
    """One event's whole envelope, pretty-printed; type another seq to see that one.
    `fetch(seq)` (given by the screen) returns the envelope or None; it runs in a worker."""

    BINDINGS = [Binding("escape", "close", "Close")]
    DEFAULT_CSS = """
    EnvelopeModal { align: center middle; }
    EnvelopeModal > Vertical { width: 100; height: 30; border: thick $primary; background: $surface;
                               padding: 0 1; }
    EnvelopeModal #seq { width: 24; }
    EnvelopeModal VerticalScroll { height: 1fr; }
    """

    def __init__(self, seq: int | None, fetch: Callable[[int], Awaitable[dict[str, Any] | None]]) -> None:
        super().__init__()
        self.seq = seq
        self.fetch = fetch

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Event envelope — seq (enter to show, esc to close):", markup=False)
            yield Input("" if self.seq is None else str(self.seq), id="seq", compact=True)
            with VerticalScroll():
                yield Static("", id="envelope", markup=False)

    def on_mount(self) -> None:
        if self.seq is not None:
            self._show(self.seq)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            self._show(int(event.value.strip()))
        except ValueError:
            self.query_one("#envelope", Static).update("a seq is a whole number")

    @work(exclusive=True)
    async def _show(self, seq: int) -> None:
        try:
            envelope = await self.fetch(seq)
        except Exception as error:  # shown where the envelope would be, never a traceback
            notice = describe(error)
            self.query_one("#envelope", Static).update(f"{notice.title}: {notice.message}")
            return
        text = json.dumps(envelope, indent=2, ensure_ascii=False) if envelope else f"no event with seq {seq}"
        self.query_one("#envelope", Static).update(text)

    def action_close(self) -> None:
        self.dismiss(None)
