"""Append to and read from the spine inside a unit of work's session."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from missiond.core.events import Event, EventFilter, NewEvent, from_us, to_us
from missiond.storage.tables import EventRow, SpineState


def _like_prefix(column: sa.ColumnElement[str], prefix: str) -> sa.ColumnElement[bool]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(escaped + "%", escape="\\")


def row_to_event(row: EventRow) -> Event:
    return Event(
        seq=row.seq,
        id=row.id,
        type=row.type,
        subject=row.subject,
        ts=from_us(row.ts_us),
        actor=row.actor,
        correlation_id=row.correlation_id,
        causation_id=row.causation_id,
        data=row.data,
        v=row.v,
    )


class EventLog:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- writing -----------------------------------------------------------------
    def allocate(self, count: int) -> int:
        """Reserve `count` consecutive seqs; returns the first.

        The UPDATE takes the counter row's lock (PostgreSQL) inside a
        transaction that already holds SQLite's write lock (BEGIN IMMEDIATE),
        so seqs are handed out in commit order.
        """
        stmt = (
            sa.update(SpineState)
            .where(col(SpineState.id) == 1)
            .values(head=col(SpineState.head) + count)
            .returning(col(SpineState.head))
        )
        head = self._session.execute(stmt).scalar_one()
        return int(head) - count + 1

    def append(
        self,
        events: Sequence[NewEvent],
        *,
        actor: str,
        correlation_id: str | None,
        at: datetime,
        new_id: Callable[[], str],
        first: int | None = None,
    ) -> list[Event]:
        if not events:
            return []
        if first is None:
            first = self.allocate(len(events))
        ts_us = to_us(at)
        rows = [
            EventRow(
                seq=first + i,
                id=new_id(),
                type=e.type,
                subject=e.subject,
                ts_us=ts_us,
                actor=actor,
                correlation_id=correlation_id,
                causation_id=e.causation_id,
                data=e.data,
                v=e.v,
            )
            for i, e in enumerate(events)
        ]
        self._session.add_all(rows)
        self._session.flush()
        return [row_to_event(r) for r in rows]

    # -- reading -----------------------------------------------------------------
    def bounds(self) -> tuple[int, int]:
        """(head, floor) as committed."""
        state = self._session.get(SpineState, 1)
        if state is None:
            return 0, 0
        return int(state.head), int(state.floor)

    def query(self, flt: EventFilter, *, after: int, limit: int, until_seq: int | None = None) -> list[Event]:
        stmt = select(EventRow).where(col(EventRow.seq) > after)
        if until_seq is not None:
            stmt = stmt.where(col(EventRow.seq) <= until_seq)
        if flt.types:
            stmt = stmt.where(sa.or_(*[_like_prefix(col(EventRow.type), p) for p in flt.types]))
        if flt.subjects:
            stmt = stmt.where(sa.or_(*[_like_prefix(col(EventRow.subject), p) for p in flt.subjects]))
        if flt.since_us is not None:
            stmt = stmt.where(col(EventRow.ts_us) >= flt.since_us)
        if flt.until_us is not None:
            stmt = stmt.where(col(EventRow.ts_us) < flt.until_us)
        stmt = stmt.order_by(col(EventRow.seq)).limit(limit)
        return [row_to_event(r) for r in self._session.exec(stmt).all()]

    def compact(self, through_seq: int) -> int:
        """Delete events with seq <= through_seq; returns how many went."""
        state = self._session.get(SpineState, 1)
        assert state is not None
        result = self._session.execute(sa.delete(EventRow).where(col(EventRow.seq) <= through_seq))
        if through_seq > state.floor:
            self._session.execute(
                sa.update(SpineState).where(col(SpineState.id) == 1).values(floor=through_seq)
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
