"""Routine, run and approval rows.

The scheduler's three statements (read the due routines, insert their runs,
advance them) are its hot path: after a day down a tick reads and writes
thousands of rows. They are Core statements, and on SQLite they go to the
driver directly, as the event log's append does: SQLAlchemy's per-row
processing would cost more than the database's work.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from operator import attrgetter
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, select

from missiond.storage.tables import ApprovalRow, RoutineRow, RoutineRunRow

ACTIVE_RUN = ("queued", "running")
_ROUTINES = RoutineRow.__table__  # type: ignore[attr-defined]
_RUNS = RoutineRunRow.__table__  # type: ignore[attr-defined]
_RUN_COLUMNS = tuple(c.name for c in _RUNS.columns)
_DUE_COLUMNS = (
    "id",
    "name",
    "schedule",
    "misfire",
    "overlap",
    "action",
    "requires_approval",
    "external_allowed",
    "next_fire_at_us",
    "last_fired_at_us",
    "anchor_us",
    "rev",
)
_SQLITE_DUE = (
    f"SELECT {', '.join(_DUE_COLUMNS)} FROM routines "
    "WHERE status = 'active' AND next_fire_at_us <= ? ORDER BY next_fire_at_us LIMIT ?"
)
_PLAIN_RUN_COLUMNS = tuple(c for c in _RUN_COLUMNS if c != "detail")
_plain_run_fields = attrgetter(*_PLAIN_RUN_COLUMNS)
_SQLITE_ADD_RUN = (
    f"INSERT INTO routine_runs ({', '.join(_PLAIN_RUN_COLUMNS)}, detail) "
    f"VALUES ({', '.join('?' for _ in _RUN_COLUMNS)})"
)
_SQLITE_ADVANCE = "UPDATE routines SET next_fire_at_us = ?, last_fired_at_us = ? WHERE id = ?"
_to_json = json.JSONEncoder(separators=(",", ":")).encode


class DueRoutine(NamedTuple):
    """What the scheduler reads of a due routine: no ORM state, no timestamps it does not use.
    The JSON fields of one read may be shared between routines: read them, never change them."""

    id: str
    name: str
    schedule: dict[str, Any]
    misfire: dict[str, Any]
    overlap: str
    action: dict[str, Any]
    requires_approval: bool
    external_allowed: bool
    next_fire_at_us: int
    last_fired_at_us: int | None
    anchor_us: int
    rev: int


def _sqlite_due(raw: tuple[Any, ...], decoded: dict[str, Any]) -> DueRoutine:
    # Routines mostly share their schedule, misfire and action texts: decode each text once.
    rid, name, schedule, misfire, overlap, action, approval, external, next_us, last_us, anchor, rev = raw
    return DueRoutine(
        rid,
        name,
        decoded.get(schedule) or decoded.setdefault(schedule, json.loads(schedule)),
        decoded.get(misfire) or decoded.setdefault(misfire, json.loads(misfire)),
        overlap,
        decoded.get(action) or decoded.setdefault(action, json.loads(action)),
        bool(approval),
        bool(external),
        next_us,
        last_us,
        anchor,
        rev,
    )


class RoutineStore:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, routine_id: str) -> RoutineRow | None:
        return self._s.get(RoutineRow, routine_id)

    def save(self, row: object) -> None:
        self._s.add(row)
        self._s.flush()

    def delete(self, routine_id: str) -> None:
        self._s.execute(sa.delete(RoutineRow).where(col(RoutineRow.id) == routine_id))

    def list(self, *, status: str | None, after_id: str | None, limit: int) -> list[RoutineRow]:
        stmt = select(RoutineRow)
        if status:
            stmt = stmt.where(col(RoutineRow.status) == status)
        if after_id:
            stmt = stmt.where(col(RoutineRow.id) > after_id)
        return list(self._s.exec(stmt.order_by(col(RoutineRow.id)).limit(limit)).all())

    def due(self, now_us: int, limit: int) -> list[RoutineRow]:
        stmt = (
            select(RoutineRow)
            .where(col(RoutineRow.status) == "active", col(RoutineRow.next_fire_at_us) <= now_us)
            .order_by(col(RoutineRow.next_fire_at_us))
            .limit(limit)
        )
        return list(self._s.exec(stmt).all())

    def _sqlite(self) -> Any:
        """The SQLite driver connection under this session's transaction, or None."""
        conn = self._s.connection()
        return conn.connection.dbapi_connection if conn.dialect.name == "sqlite" else None

    def due_rows(self, now_us: int, limit: int) -> Sequence[DueRoutine]:
        """The earliest due active routines, at most `limit`."""
        raw = self._sqlite()
        if raw is not None:
            decoded: dict[str, Any] = {}
            return [_sqlite_due(r, decoded) for r in raw.execute(_SQLITE_DUE, (now_us, limit)).fetchall()]
        table = _ROUTINES
        stmt = (
            sa.select(*(table.c[name] for name in _DUE_COLUMNS))
            .where(table.c.status == "active", table.c.next_fire_at_us <= now_us)
            .order_by(table.c.next_fire_at_us)
            .limit(limit)
        )
        return [DueRoutine(*r) for r in self._s.execute(stmt).all()]

    def advance(self, updates: Sequence[tuple[str, int, int | None]]) -> None:
        """Set (routine id, next fire time, last fire time) of many routines in one statement."""
        if not updates:
            return
        raw = self._sqlite()
        if raw is not None:
            raw.executemany(_SQLITE_ADVANCE, [(nxt, last, rid) for rid, nxt, last in updates])
            return
        stmt = (
            sa.update(_ROUTINES)
            .where(_ROUTINES.c.id == sa.bindparam("rid"))
            .values(next_fire_at_us=sa.bindparam("next_us"), last_fired_at_us=sa.bindparam("last_us"))
        )
        self._s.connection().execute(
            stmt, [{"rid": rid, "next_us": nxt, "last_us": last} for rid, nxt, last in updates]
        )

    def earliest_due(self) -> int | None:
        value = self._s.execute(
            sa.select(sa.func.min(col(RoutineRow.next_fire_at_us))).where(col(RoutineRow.status) == "active")
        ).scalar()
        return int(value) if value is not None else None

    def stage(self, row: object) -> None:
        """Add without flushing: written with the transaction's commit."""
        self._s.add(row)

    # -- runs ---------------------------------------------------------------------------
    def add_runs(self, runs: Sequence[Any]) -> None:
        """Bulk insert of runs (objects with the row's fields): building ORM state per row
        would cost more than the write. Pending ORM rows (approvals) are flushed first."""
        self._s.flush()
        raw = self._sqlite()
        if raw is not None:
            raw.executemany(_SQLITE_ADD_RUN, [(*_plain_run_fields(r), _to_json(r.detail)) for r in runs])
            return
        self._s.execute(sa.insert(_RUNS), [{c: getattr(r, c) for c in _RUN_COLUMNS} for r in runs])

    def active_runs_of(self, routine_ids: list[str]) -> dict[str, list[RoutineRunRow]]:
        found: dict[str, list[RoutineRunRow]] = {}
        for start in range(0, len(routine_ids), 500):
            chunk = routine_ids[start : start + 500]
            stmt = select(RoutineRunRow).where(
                col(RoutineRunRow.routine_id).in_(chunk), col(RoutineRunRow.status).in_(ACTIVE_RUN)
            )
            for run in self._s.exec(stmt).all():
                found.setdefault(run.routine_id, []).append(run)
        return found

    def add_run(self, row: RoutineRunRow) -> None:
        self._s.add(row)
        self._s.flush()

    def get_run(self, run_id: str) -> RoutineRunRow | None:
        return self._s.get(RoutineRunRow, run_id)

    def runs(self, routine_id: str, *, limit: int, before_id: str | None = None) -> list[RoutineRunRow]:
        stmt = select(RoutineRunRow).where(col(RoutineRunRow.routine_id) == routine_id)
        if before_id:
            stmt = stmt.where(col(RoutineRunRow.id) < before_id)
        return list(self._s.exec(stmt.order_by(col(RoutineRunRow.id).desc()).limit(limit)).all())

    def active_runs(self, routine_id: str) -> list[RoutineRunRow]:
        stmt = select(RoutineRunRow).where(
            col(RoutineRunRow.routine_id) == routine_id, col(RoutineRunRow.status).in_(ACTIVE_RUN)
        )
        return list(self._s.exec(stmt).all())

    def runs_with_status(self, status: str, limit: int) -> list[RoutineRunRow]:
        stmt = (
            select(RoutineRunRow)
            .where(col(RoutineRunRow.status) == status)
            .order_by(col(RoutineRunRow.created_at_us), col(RoutineRunRow.id))
            .limit(limit)
        )
        return list(self._s.exec(stmt).all())

    def last_run(self, routine_id: str) -> RoutineRunRow | None:
        stmt = (
            select(RoutineRunRow)
            .where(col(RoutineRunRow.routine_id) == routine_id, col(RoutineRunRow.status) != "missed")
            .order_by(col(RoutineRunRow.id).desc())
            .limit(1)
        )
        return self._s.exec(stmt).first()


class ApprovalStore:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, approval_id: str) -> ApprovalRow | None:
        return self._s.get(ApprovalRow, approval_id)

    def save(self, row: ApprovalRow) -> None:
        self._s.add(row)
        self._s.flush()

    def list(self, *, status: str | None, limit: int) -> list[ApprovalRow]:
        stmt = select(ApprovalRow)
        if status:
            stmt = stmt.where(col(ApprovalRow.status) == status)
        return list(self._s.exec(stmt.order_by(col(ApprovalRow.created_at_us).desc()).limit(limit)).all())

    def expired(self, now_us: int, limit: int) -> list[ApprovalRow]:
        stmt = (
            select(ApprovalRow)
            .where(
                col(ApprovalRow.status) == "pending",
                col(ApprovalRow.expires_at_us).is_not(None),
                col(ApprovalRow.expires_at_us) <= now_us,
            )
            .limit(limit)
        )
        return list(self._s.exec(stmt).all())
