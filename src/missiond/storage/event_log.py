"""Append to and read from the spine inside a unit of work's session."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from missiond.core.events import Event, EventFilter, NewEvent, from_us, to_us
from missiond.storage.prefixes import starts_with
from missiond.storage.tables import EventRow

_ALLOCATE = sa.text("UPDATE spine_state SET head = head + :n WHERE id = 1 RETURNING head")
_RAISE_FLOOR = sa.text("UPDATE spine_state SET floor = :floor WHERE id = 1 AND floor < :floor")
_SQLITE_INSERT = (
    "INSERT INTO events (seq, id, type, subject, ts_us, actor, correlation_id, causation_id, data, v) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_BOUNDS = sa.text("SELECT head, floor FROM spine_state WHERE id = 1")
_TABLE: sa.Table = EventRow.__table__  # type: ignore[attr-defined]
_INSERT = sa.insert(_TABLE)
_SELECT = sa.select(
    *(
        _TABLE.c[name]
        for name in (
            "seq",
            "id",
            "type",
            "subject",
            "ts_us",
            "actor",
            "correlation_id",
            "causation_id",
            "data",
            "v",
        )
    )
)


def _sqlite_params(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["seq"],
        row["id"],
        row["type"],
        row["subject"],
        row["ts_us"],
        row["actor"],
        row["correlation_id"],
        row["causation_id"],
        json.dumps(row["data"], separators=(",", ":")),
        row["v"],
    )


class EventLog:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._dialect = session.get_bind().dialect.name

    # -- writing -----------------------------------------------------------------
    def allocate(self, count: int) -> int:
        """Reserve `count` consecutive seqs; returns the first.

        The UPDATE takes the counter row's lock (PostgreSQL) inside a
        transaction that already holds SQLite's write lock (BEGIN IMMEDIATE),
        so seqs are handed out in commit order.
        """
        if self._dialect == "sqlite":
            raw = self._raw()
            head = raw.execute(
                "UPDATE spine_state SET head = head + ? WHERE id = 1 RETURNING head", (count,)
            ).fetchone()[0]
        else:
            head = self._session.connection().execute(_ALLOCATE, {"n": count}).scalar_one()
        return int(head) - count + 1

    def _raw(self) -> Any:
        """The driver connection under this session's transaction. The append path is
        the hottest in the server; on SQLite, SQLAlchemy's statement machinery costs
        more than the write itself, so it talks to the driver directly."""
        return self._session.connection().connection.dbapi_connection

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
        events = [
            Event(
                seq=first + i,
                id=new_id(),
                type=e.type,
                subject=e.subject,
                ts=from_us(ts_us),
                actor=actor,
                correlation_id=correlation_id,
                causation_id=e.causation_id,
                data=e.data,
                v=e.v,
            )
            for i, e in enumerate(events)
        ]
        rows = [
            {
                "seq": e.seq,
                "id": e.id,
                "type": e.type,
                "subject": e.subject,
                "ts_us": ts_us,
                "actor": e.actor,
                "correlation_id": e.correlation_id,
                "causation_id": e.causation_id,
                "data": e.data,
                "v": e.v,
            }
            for e in events
        ]
        # Core statements (or the driver) on the session's connection: the ORM unit of
        # work would add a millisecond per event for nothing (events are never updated).
        if self._dialect == "sqlite":
            self._raw().executemany(_SQLITE_INSERT, [_sqlite_params(r) for r in rows])
        else:
            self._session.connection().execute(_INSERT, rows)
        return events

    # -- reading -----------------------------------------------------------------
    def bounds(self) -> tuple[int, int]:
        """(head, floor) as committed."""
        row = self._session.connection().execute(_BOUNDS).first()
        if row is None:
            return 0, 0
        return int(row[0]), int(row[1])

    def query(self, flt: EventFilter, *, after: int, limit: int, until_seq: int | None = None) -> list[Event]:
        """Core select on the session's connection: every commit wakes the hub, which reads
        here, so ORM objects per event would be paid on every write."""
        table = _TABLE
        stmt = _SELECT.where(table.c.seq > after)
        if until_seq is not None:
            stmt = stmt.where(table.c.seq <= until_seq)
        dialect = self._dialect
        if flt.types:
            stmt = stmt.where(sa.or_(*[starts_with(table.c.type, p, dialect) for p in flt.types]))
        if flt.subjects:
            stmt = stmt.where(sa.or_(*[starts_with(table.c.subject, p, dialect) for p in flt.subjects]))
        if flt.since_us is not None:
            stmt = stmt.where(table.c.ts_us >= flt.since_us)
        if flt.until_us is not None:
            stmt = stmt.where(table.c.ts_us < flt.until_us)
        stmt = stmt.order_by(table.c.seq).limit(limit)
        return [
            Event(seq, id_, type_, subject, from_us(ts_us), actor, correlation_id, causation_id, data, v)
            for seq, id_, type_, subject, ts_us, actor, correlation_id, causation_id, data, v in (
                self._session.connection().execute(stmt)
            )
        ]

    def compact(self, through_seq: int) -> int:
        """Delete events with seq <= through_seq; returns how many went."""
        conn = self._session.connection()
        result = conn.execute(sa.delete(EventRow).where(col(EventRow.seq) <= through_seq))
        conn.execute(_RAISE_FLOOR, {"floor": through_seq})
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
