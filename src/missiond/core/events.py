"""Event spine values: the envelope, a pending event, and the rules they obey."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

# Always used with fullmatch: `$` would also accept a trailing newline.
EVENT_TYPE_RE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,7}")
CORRELATION_RE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
MAX_SUBJECT_LEN = 512

# Namespaces owned by the server's own capabilities. Clients may not ingest them.
RESERVED_NAMESPACES = frozenset(
    {
        "resource",
        "task",
        "mission",
        "work",
        "review",
        "test",
        "gate",
        "routine",
        "approval",
        "memory",
        "lock",
        "agent",
        "artifact",
        "spine",
        "system",
        "consensus",
        "plan",
        "policy",
        "reconcile",
        "ui",
    }
)


def event_type_problem(event_type: str) -> str | None:
    """Why `event_type` is not a valid type, or None when it is."""
    if not EVENT_TYPE_RE.fullmatch(event_type):
        return "must be dotted lower case with 2-8 segments, e.g. 'session.run.started'"
    return None


def is_reserved_type(event_type: str) -> bool:
    return event_type.split(".", 1)[0] in RESERVED_NAMESPACES


def subject_problem(subject: str) -> str | None:
    if not subject:
        return "must not be empty"
    if len(subject) > MAX_SUBJECT_LEN:
        return f"must be at most {MAX_SUBJECT_LEN} characters"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in subject):
        return "must not contain control characters"
    return None


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event a unit of work will append; seq, id and ts are assigned at append."""

    type: str
    subject: str
    data: dict[str, Any] = field(default_factory=dict)
    v: int = 1
    causation_id: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    id: str
    type: str
    subject: str
    ts: datetime
    actor: str
    correlation_id: str | None
    causation_id: str | None
    data: dict[str, Any]
    v: int

    def to_wire(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "id": self.id,
            "type": self.type,
            "subject": self.subject,
            "ts": format_ts(self.ts),
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "data": self.data,
            "v": self.v,
        }


@dataclass(frozen=True, slots=True)
class EventFilter:
    types: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    since_us: int | None = None
    until_us: int | None = None

    def matches(self, event: Event) -> bool:
        if self.types and not any(event.type.startswith(p) for p in self.types):
            return False
        if self.subjects and not any(event.subject.startswith(p) for p in self.subjects):
            return False
        if self.since_us is None and self.until_us is None:
            return True
        ts = to_us(event.ts)
        if self.since_us is not None and ts < self.since_us:
            return False
        return not (self.until_us is not None and ts >= self.until_us)


def to_us(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not allowed")
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(micros: int) -> datetime:
    seconds, rest = divmod(micros, 1_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=rest)


_EPOCH = date(1970, 1, 1)


@lru_cache(maxsize=1024)
def _day(days: int) -> str:
    return (_EPOCH + timedelta(days=days)).strftime("%Y-%m-%d")


def format_us(micros: int) -> str:
    """`format_ts(from_us(micros))` from integer arithmetic: the wire's timestamps are written
    by the tens of thousands (a scheduler tick after downtime), and a datetime each shows."""
    days, rest = divmod(micros, 86_400_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{_day(days)}T{hours:02d}:{minutes:02d}:{seconds:02d}.{fraction:06d}Z"


def format_ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s1:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The seq inside a cursor, or None when it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    prefix, _, number = raw.partition(":")
    if prefix != "s1" or not (number.isascii() and number.isdigit()):
        return None
    return int(number)
