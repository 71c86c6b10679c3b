"""Mission rows, the mission command outbox, and their repository.

A mission row holds the reducer's state (versioned JSON) and `applied_seq`,
the spine seq of the last mission event folded into it: an event at or below
it is never applied twice. The outbox holds the commands the reducer asked
for, written in the same transaction as the state that asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from missiond.storage.tables import JsonType


class MissionRow(SQLModel, table=True):
    __tablename__ = "missions"
    __table_args__ = (sa.Index("ix_missions_status", "status", "id"),)
    id: str = Field(primary_key=True, max_length=40)
    title: str = Field(max_length=300, nullable=False)
    status: str = Field(max_length=20, nullable=False)
    state: dict[str, Any] = Field(sa_type=JsonType, nullable=False)
    applied_seq: int = Field(default=0, sa_type=sa.BigInteger, nullable=False)
    rev: int = Field(default=1, nullable=False)
    created_by: str = Field(max_length=200, nullable=False)
    created_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    updated_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)


class MissionCommandRow(SQLModel, table=True):
    __tablename__ = "mission_commands"
    __table_args__ = (
        sa.Index("ix_mission_commands_due", "status", "not_before_us"),
        sa.Index("ix_mission_commands_mission", "mission_id", "status"),
    )
    id: str = Field(primary_key=True, max_length=40)
    mission_id: str = Field(max_length=40, nullable=False)
    kind: str = Field(max_length=40, nullable=False)
    payload: dict[str, Any] = Field(sa_type=JsonType, nullable=False)
    status: str = Field(max_length=20, nullable=False)  # pending | running | done | cancelled
    tries: int = Field(default=0, nullable=False)
    not_before_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    created_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    updated_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    result: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType, nullable=False)


class MissionStore:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, mission_id: str) -> MissionRow | None:
        return self._s.get(MissionRow, mission_id)

    def save(self, row: object) -> None:
        self._s.add(row)  # flushed with the transaction (or by autoflush before a query)

    def list(self, *, status: str | None, after_id: str | None, limit: int) -> list[MissionRow]:
        stmt = select(MissionRow)
        if status:
            stmt = stmt.where(col(MissionRow.status) == status)
        if after_id:
            stmt = stmt.where(col(MissionRow.id) < after_id)
        return list(self._s.exec(stmt.order_by(col(MissionRow.id).desc()).limit(limit)).all())

    def counts(self) -> dict[str, int]:
        stmt = sa.select(MissionRow.status, sa.func.count()).group_by(MissionRow.status)  # type: ignore[call-overload]
        return {status: n for status, n in self._s.execute(stmt).all()}

    def add_commands(self, rows: Sequence[MissionCommandRow]) -> None:
        self._s.add_all(rows)

    def get_command(self, command_id: str) -> MissionCommandRow | None:
        return self._s.get(MissionCommandRow, command_id)

    def due_commands(self, now_us: int, limit: int) -> list[MissionCommandRow]:
        stmt = (
            select(MissionCommandRow)
            .where(col(MissionCommandRow.status) == "pending", col(MissionCommandRow.not_before_us) <= now_us)
            .order_by(col(MissionCommandRow.not_before_us), col(MissionCommandRow.id))
            .limit(limit)
        )
        return list(self._s.exec(stmt).all())

    def commands_of(self, mission_id: str, statuses: Sequence[str]) -> list[MissionCommandRow]:
        stmt = select(MissionCommandRow).where(
            col(MissionCommandRow.mission_id) == mission_id, col(MissionCommandRow.status).in_(statuses)
        )
        return list(self._s.exec(stmt.order_by(col(MissionCommandRow.id))).all())

    def running_commands(self) -> list[MissionCommandRow]:
        stmt = select(MissionCommandRow).where(col(MissionCommandRow.status) == "running")
        return list(self._s.exec(stmt).all())

    def next_due_at(self) -> int | None:
        stmt = sa.select(sa.func.min(MissionCommandRow.not_before_us)).where(  # type: ignore[arg-type]
            col(MissionCommandRow.status) == "pending"
        )
        value = self._s.execute(stmt).scalar()
        return int(value) if value is not None else None
