"""Routine, run and approval rows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from missiond.storage.tables import ApprovalRow, RoutineRow, RoutineRunRow

ACTIVE_RUN = ("queued", "running")


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

    def due_rows(self, now_us: int, limit: int) -> list[Any]:
        """Due routines as plain rows (no ORM state): the scheduler reads thousands a tick."""
        table = RoutineRow.__table__  # type: ignore[attr-defined]
        stmt = (
            sa.select(table)
            .where(table.c.status == "active", table.c.next_fire_at_us <= now_us)
            .order_by(table.c.next_fire_at_us)
            .limit(limit)
        )
        return list(self._s.execute(stmt).all())

    def advance(self, updates: list[dict[str, Any]]) -> None:
        """Set next/last fire times of many routines in one statement."""
        if not updates:
            return
        table = RoutineRow.__table__  # type: ignore[attr-defined]
        stmt = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("rid"))
            .values(next_fire_at_us=sa.bindparam("next_us"), last_fired_at_us=sa.bindparam("last_us"))
        )
        self._s.connection().execute(stmt, updates)

    def earliest_due(self) -> int | None:
        value = self._s.execute(
            sa.select(sa.func.min(col(RoutineRow.next_fire_at_us))).where(col(RoutineRow.status) == "active")
        ).scalar()
        return int(value) if value is not None else None

    def stage(self, row: object) -> None:
        """Add without flushing: written with the transaction's commit."""
        self._s.add(row)

    # -- runs ---------------------------------------------------------------------------
    def add_runs(self, runs: list[Any]) -> None:
        """Bulk insert (Core): building ORM state per row costs more than the write."""
        table = RoutineRunRow.__table__  # type: ignore[attr-defined]
        columns = [c.name for c in table.columns]
        self._s.flush()
        self._s.execute(sa.insert(table), [{c: getattr(r, c) for c in columns} for r in runs])

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
