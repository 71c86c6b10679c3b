"""Typed views of the server's answers.

Each value keeps the JSON it was built from in `raw`, so fields the server
adds later are not lost (and the CLI can print exactly what the server said).
Unknown fields are ignored by the typed view, never rejected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from missiond.sdk.errors import ProtocolError


def parse_time(value: Any) -> datetime:
    """RFC 3339 to an aware datetime (UTC assumed when the offset is missing)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ProtocolError(f"not an RFC 3339 time: {value!r}") from exc
    else:
        raise ProtocolError(f"not an RFC 3339 time: {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(value: datetime | str) -> str:
    """A datetime as the wire wants it: RFC 3339 UTC with `Z`; strings pass through."""
    if isinstance(value, str):
        return value
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _require(obj: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = obj.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise ProtocolError(f"expected {name!r} in the server's answer, got {value!r}")
    return value


def _mapping(obj: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping):
        raise ProtocolError(f"expected a JSON object for {what}, got {type(obj).__name__}")
    return obj


def _optional_str(obj: Mapping[str, Any], name: str) -> str | None:
    value = obj.get(name)
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the event spine (envelope v1)."""

    seq: int
    id: str
    type: str
    subject: str
    ts: datetime
    actor: str | None
    correlation_id: str | None
    causation_id: str | None
    data: Mapping[str, Any]
    v: int
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> Event:
        obj = _mapping(obj, "an event")
        data = obj.get("data")
        v = obj.get("v", 1)
        return cls(
            seq=_require(obj, "seq", int),
            id=_require(obj, "id", str),
            type=_require(obj, "type", str),
            subject=_require(obj, "subject", str),
            ts=parse_time(obj.get("ts")),
            actor=_optional_str(obj, "actor"),
            correlation_id=_optional_str(obj, "correlation_id"),
            causation_id=_optional_str(obj, "causation_id"),
            data=data if isinstance(data, Mapping) else {},
            v=v if isinstance(v, int) else 1,
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of `GET /v1/events`."""

    events: tuple[Event, ...]
    next_cursor: str | None
    head: int | None
    floor: int | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> EventPage:
        obj = _mapping(obj, "an event page")
        events = obj.get("events")
        if not isinstance(events, list):
            raise ProtocolError("expected 'events' to be a list in the server's answer")
        head, floor = obj.get("head"), obj.get("floor")
        return cls(
            events=tuple(Event.from_json(e) for e in events),
            next_cursor=_optional_str(obj, "next_cursor") or None,
            head=head if isinstance(head, int) else None,
            floor=floor if isinstance(floor, int) else None,
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class Health:
    """`GET /v1/health`."""

    status: str
    version: str | None
    database: str | None
    schema_version: str | int | None
    head_seq: int | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> Health:
        obj = _mapping(obj, "health")
        schema_version = obj.get("schema_version")
        head_seq = obj.get("head_seq")
        return cls(
            status=str(obj.get("status", "unknown")),
            version=_optional_str(obj, "version"),
            database=_optional_str(obj, "database"),
            schema_version=schema_version if isinstance(schema_version, str | int) else None,
            head_seq=head_seq if isinstance(head_seq, int) else None,
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class Identity:
    """`GET /v1/whoami`: who the token speaks for and what it may do."""

    subject: str
    kind: str | None
    capabilities: tuple[str, ...]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> Identity:
        obj = _mapping(obj, "whoami")
        caps = obj.get("capabilities")
        return cls(
            subject=_require(obj, "subject", str),
            kind=_optional_str(obj, "kind"),
            capabilities=tuple(str(c) for c in caps) if isinstance(caps, list) else (),
            raw=dict(obj),
        )
