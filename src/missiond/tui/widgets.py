"""Small widgets every screen shares: the connection bar and the modal prompts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from missiond.tui.live import Link, LinkState

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
