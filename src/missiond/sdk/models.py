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


def _optional_time(obj: Mapping[str, Any], name: str) -> datetime | None:
    value = obj.get(name)
    return None if value is None else parse_time(value)


def _int_or(obj: Mapping[str, Any], name: str, default: int) -> int:
    value = obj.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


@dataclass(frozen=True, slots=True)
class Resource:
    """One record of the blackboard (`GET /v1/resources/{key}`).

    `mod_rev` is the revision to hand back as `if_rev` / `expected_rev` for a
    checked write; `version` counts the writes since the key was created.
    """

    key: str
    value: Any
    create_rev: int
    mod_rev: int
    version: int
    updated_by: str
    updated_at: datetime
    expires_at: datetime | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> Resource:
        obj = _mapping(obj, "a resource")
        if "value" not in obj:
            raise ProtocolError("expected 'value' in the server's answer")
        return cls(
            key=_require(obj, "key", str),
            value=obj["value"],
            create_rev=_require(obj, "create_rev", int),
            mod_rev=_require(obj, "mod_rev", int),
            version=_require(obj, "version", int),
            updated_by=_require(obj, "updated_by", str),
            updated_at=parse_time(obj.get("updated_at")),
            expires_at=_optional_time(obj, "expires_at"),
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class ResourcePage:
    """One page of `GET /v1/resources`: records sorted by key, as of `revision`.

    Watching with `after=revision` delivers exactly the changes after this
    snapshot. `next_after_key` is set when there may be more.
    """

    items: tuple[Resource, ...]
    revision: int
    next_after_key: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> ResourcePage:
        obj = _mapping(obj, "a resource page")
        items = obj.get("items")
        if not isinstance(items, list):
            raise ProtocolError("expected 'items' to be a list in the server's answer")
        return cls(
            items=tuple(Resource.from_json(item) for item in items),
            revision=_require(obj, "revision", int),
            next_after_key=_optional_str(obj, "next_after_key") or None,
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class DeletedResource:
    """The answer to `DELETE /v1/resources/{key}`: the key and the revision that removed it."""

    key: str
    rev: int
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> DeletedResource:
        obj = _mapping(obj, "a deletion")
        return cls(key=_require(obj, "key", str), rev=_require(obj, "rev", int), raw=dict(obj))


@dataclass(frozen=True, slots=True)
class TxnResult:
    """The answer to `POST /v1/resources:txn`: one revision for the whole transaction.

    `results` holds one `{key, deleted, mod_rev}` per key the ops touched.
    """

    revision: int
    succeeded: bool
    results: tuple[Mapping[str, Any], ...]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> TxnResult:
        obj = _mapping(obj, "a transaction result")
        results = obj.get("results")
        return cls(
            revision=_require(obj, "revision", int),
            succeeded=bool(obj.get("succeeded", True)),
            results=tuple(dict(r) for r in results if isinstance(r, Mapping))
            if isinstance(results, list)
            else (),
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class ResourceEvent:
    """One change seen by a resource watch (`GET /v1/streams/resources`).

    `type` is `resource.updated`, `resource.deleted` or `resource.expired`;
    `value` is None unless the key was updated. `rev` is the revision of the
    write transaction (shared by every event of one transaction); `seq` is
    the event's own position on the spine (the stream's resume cursor).
    `raw` is the event envelope exactly as streamed.
    """

    type: str
    key: str
    rev: int
    prev_rev: int
    value: Any | None
    seq: int
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def deleted(self) -> bool:
        """True when the key is gone after this change (deleted or expired)."""
        return self.type != "resource.updated"

    @classmethod
    def from_event(cls, event: Event) -> ResourceEvent:
        data = event.data
        key = data.get("key")
        if not isinstance(key, str):
            key = event.subject.removeprefix("resource/")
        return cls(
            type=event.type,
            key=key,
            rev=_int_or(data, "rev", event.seq),
            prev_rev=_int_or(data, "prev_rev", 0),
            value=data.get("value") if event.type == "resource.updated" else None,
            seq=event.seq,
            raw=event.raw,
        )

    @classmethod
    def from_json(cls, obj: Any) -> ResourceEvent:
        return cls.from_event(Event.from_json(obj))
