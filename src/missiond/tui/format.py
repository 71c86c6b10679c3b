"""How values are shown to a person: ids, times, seqs, the server address.

The app gets one `Formatter` (attributes down). Every screen renders ids and
times through it, so a different zone, or a test's formatter that renders
volatile values stably for SVG snapshots, changes every screen at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Formatter:
    """Renders values for people: short ids, local times, relative times."""

    def __init__(self, zone: tzinfo | None = None, clock: Clock = _utc_now) -> None:
        self.zone = zone
        self.clock = clock

    def id(self, value: str | None) -> str:
        """The whole id: people copy ids into the CLI, so nothing is cut."""
        return value or "-"

    def text(self, value: str) -> str:
        """Free text from the server that may carry ids (subjects, summaries, reasons)."""
        return value

    def seq(self, value: int | None) -> str:
        return "-" if value is None else str(value)

    def url(self, value: str) -> str:
        return value

    def time(self, value: datetime | None) -> str:
        """A local wall-clock time (date too when it is not today)."""
        if value is None:
            return "-"
        local = value.astimezone(self.zone)
        today = self.clock().astimezone(self.zone).date()
        return local.strftime("%H:%M:%S" if local.date() == today else "%Y-%m-%d %H:%M")

    def relative(self, value: datetime | None) -> str:
        """`in 4m`, `12s ago`: how far a time is from now."""
        if value is None:
            return "-"
        delta = (value - self.clock()).total_seconds()
        text = _span(abs(delta))
        return f"in {text}" if delta >= 0 else f"{text} ago"

    def when(self, value: datetime | None) -> str:
        """A time with its distance from now: `14:02:00 (in 4m)`."""
        if value is None:
            return "-"
        return f"{self.time(value)} ({self.relative(value)})"

    def json(self, value: Any, width: int = 60) -> str:
        """A JSON value on one line, cut at `width` characters."""
        import json

        text = self.text(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str))
        return text if len(text) <= width else text[: width - 1] + "…"


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"
    return f"{int(seconds // 86400)}d{int(seconds % 86400 // 3600)}h"
