"""Messages screens send up to the app (attributes go down, messages come up)."""

from __future__ import annotations

from textual.message import Message

from missiond.tui.signals import Signal


class Problem(Message):
    """An SDK call failed; the app shows it as a notification (`quiet`: only records it)."""

    def __init__(self, error: BaseException, *, quiet: bool = False) -> None:
        super().__init__()
        self.error = error
        self.quiet = quiet


class GoTo(Message):
    """Show the screen `mode` with the cursor on the row `key`."""

    def __init__(self, mode: str, key: str) -> None:
        super().__init__()
        self.mode = mode
        self.key = key


class SignalsCounted(Message):
    """A screen recounted what needs a person; the app keeps it (and the bar shows the count)."""

    def __init__(self, signals: list[Signal]) -> None:
        super().__init__()
        self.signals = signals
