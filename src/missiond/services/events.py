"""Spine queries, ingest of external events, and retention."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from missiond.core.events import (
    Event,
    EventFilter,
    NewEvent,
    decode_cursor,
    encode_cursor,
    event_type_problem,
    is_reserved_type,
    subject_problem,
)
from missiond.core.resources import has_nul
from missiond.errors import CursorExpired, InvalidCursor, ReservedEventType, ValidationFailed
from missiond.services.context import RequestContext
from missiond.services.mutations import Mutation
from missiond.storage.uow import Store

MAX_PAGE = 1000
MAX_BATCH = 500


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[Event]
    next_cursor: str | None
    head: int
    floor: int

    def to_wire(self) -> dict[str, Any]:
        return {
            "events": [e.to_wire() for e in self.events],
            "next_cursor": self.next_cursor,
            "head": self.head,
            "floor": self.floor,
        }


def resolve_after(after: int | None, cursor: str | None) -> int | None:
    if cursor is not None:
        seq = decode_cursor(cursor)
        if seq is None:
            raise InvalidCursor("cursor: not a cursor this server issued", cursor=cursor)
        return seq
    if after is not None and after < 0:
        raise InvalidCursor("after: must be >= 0", after=after)
    return after


def check_cursor(after: int, head: int, floor: int) -> None:
    """0 means "from the start of what is retained"; any other cursor below the floor expired."""
    if 0 < after < floor:
        raise CursorExpired(
            f"events up to seq {floor} were compacted; relist and resume from the head",
            cursor=after,
            floor=floor,
            head=head,
        )
    if after > head:
        raise InvalidCursor(f"cursor {after} is ahead of the log (head {head})", cursor=after, head=head)


class EventService:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._mutation = Mutation(store)

    def bounds(self) -> tuple[int, int]:
        with self._store.read() as uow:
            return uow.events.bounds()

    def query(
        self, ctx: RequestContext, flt: EventFilter, *, after: int | None, cursor: str | None, limit: int
    ) -> EventPage:
        ctx.principal.require("events:read")
        start = resolve_after(after, cursor)
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationFailed.field("limit", f"must be between 1 and {MAX_PAGE}")
        with self._store.read() as uow:
            head, floor = uow.events.bounds()
            start = floor if start is None else start
            check_cursor(start, head, floor)
            start = max(start, floor)
            events = uow.events.query(flt, after=start, limit=limit)
        next_cursor = encode_cursor(events[-1].seq) if len(events) == limit else None
        return EventPage(events=events, next_cursor=next_cursor, head=head, floor=floor)

    def read_after(
        self, flt: EventFilter, after: int, limit: int, until_seq: int | None = None
    ) -> list[Event]:
        """Unchecked read for streams and reactors (they validated their cursor already)."""
        with self._store.read() as uow:
            return uow.events.query(flt, after=after, limit=limit, until_seq=until_seq)

    def ingest(self, ctx: RequestContext, items: list[NewEvent]) -> tuple[list[dict[str, Any]], bool]:
        ctx.principal.require("events:write")
        if not 1 <= len(items) <= MAX_BATCH:
            raise ValidationFailed.field("events", f"must hold 1 to {MAX_BATCH} events")
        prefix = "body" if len(items) == 1 else "body.events"
        for i, item in enumerate(items):
            where = prefix if len(items) == 1 else f"{prefix}.{i}"
            problem = event_type_problem(item.type)
            if problem:
                raise ValidationFailed.field(f"{where}.type", problem)
            if is_reserved_type(item.type):
                raise ReservedEventType(
                    f"{where}.type: {item.type!r} is in a namespace missiond owns",
                    errors=[{"field": f"{where}.type", "message": "reserved namespace"}],
                    type=item.type,
                )
            problem = subject_problem(item.subject)
            if problem:
                raise ValidationFailed.field(f"{where}.subject", problem)
            if has_nul(item.data):
                raise ValidationFailed.field(f"{where}.data", "must not contain the NUL character (U+0000)")

        def change(uow: Any) -> dict[str, Any]:
            return {"events": [e.to_wire() for e in uow.emit_many(items)]}

        answer, replayed = self._mutation.run(ctx, change)
        return answer["events"], replayed

    def compact(self, ctx: RequestContext, through_seq: int) -> dict[str, Any]:
        ctx.principal.require("admin")
        with self._store.write(actor=ctx.actor, correlation_id=ctx.correlation_id) as uow:
            head, floor = uow.events.bounds()
            if through_seq < 0 or through_seq > head:
                raise ValidationFailed.field("body.through_seq", f"must be between 0 and the head ({head})")
            removed = uow.events.compact(through_seq)
            floor = max(floor, through_seq)
            (event,) = uow.emit(
                NewEvent("spine.compacted", "spine", {"through_seq": through_seq, "removed": removed})
            )
            return {"removed": removed, "floor": floor, "head": event.seq}
