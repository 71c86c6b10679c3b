"""Task board persistence: rows in, rows out. The service decides; this reads and writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlmodel import Session, col, select

from missiond.storage.prefixes import starts_with
from missiond.storage.tables import (
    AgentRow,
    AgentSessionRow,
    LeaseRow,
    TaskLabelRow,
    TaskLinkRow,
    TaskNoteRow,
    TaskRow,
    TaskStepRow,
)


class TaskStore:
    def __init__(self, session: Session) -> None:
        self._s = session
        self._dialect = session.get_bind().dialect.name

    # -- tasks --------------------------------------------------------------------------
    def get(self, task_id: str) -> TaskRow | None:
        return self._s.get(TaskRow, task_id)

    def get_many(self, ids: Iterable[str]) -> dict[str, TaskRow]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = self._s.exec(select(TaskRow).where(col(TaskRow.id).in_(wanted))).all()
        return {r.id: r for r in rows}

    def add(self, row: TaskRow) -> None:
        self._s.add(row)
        self._s.flush()

    def save(self, row: TaskRow) -> None:
        self._s.add(row)
        self._s.flush()

    def set_labels(self, task_id: str, labels: Sequence[str]) -> None:
        self._s.execute(sa.delete(TaskLabelRow).where(col(TaskLabelRow.task_id) == task_id))
        for label in dict.fromkeys(labels):
            self._s.add(TaskLabelRow(task_id=task_id, label=label))
        self._s.flush()

    def _ready_stmt(self, now_us: int, role: str | None, labels: Sequence[str]):  # type: ignore[no-untyped-def]
        stmt = select(TaskRow).where(
            col(TaskRow.status) == "open",
            col(TaskRow.open_blockers) == 0,
            sa.or_(col(TaskRow.lease_id).is_(None), col(TaskRow.lease_expires_at_us) <= now_us),
        )
        if role:
            stmt = stmt.where(col(TaskRow.role) == role)
        for label in labels:
            stmt = stmt.where(
                sa.exists().where(col(TaskLabelRow.task_id) == TaskRow.id, col(TaskLabelRow.label) == label)
            )
        return stmt.order_by(
            col(TaskRow.priority), col(TaskRow.created_at_us), col(TaskRow.unblocks).desc(), col(TaskRow.id)
        )

    def ready(self, now_us: int, *, role: str | None, labels: Sequence[str], limit: int) -> list[TaskRow]:
        return list(self._s.exec(self._ready_stmt(now_us, role, labels).limit(limit)).all())

    def list(
        self,
        *,
        statuses: Sequence[str] = (),
        role: str | None = None,
        labels: Sequence[str] = (),
        parent_id: str | None = None,
        mission_id: str | None = None,
        assignee: str | None = None,
        text: str | None = None,
        blocked: bool | None = None,
        after_id: str | None = None,
        limit: int = 100,
    ) -> list[TaskRow]:
        stmt = select(TaskRow)
        if statuses:
            stmt = stmt.where(col(TaskRow.status).in_(list(statuses)))
        if role:
            stmt = stmt.where(col(TaskRow.role) == role)
        for label in labels:
            stmt = stmt.where(
                sa.exists().where(col(TaskLabelRow.task_id) == TaskRow.id, col(TaskLabelRow.label) == label)
            )
        if parent_id:
            stmt = stmt.where(col(TaskRow.parent_id) == parent_id)
        if mission_id:
            stmt = stmt.where(col(TaskRow.mission_id) == mission_id)
        if assignee:
            stmt = stmt.where(col(TaskRow.lease_agent) == assignee)
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            stmt = stmt.where(
                sa.or_(
                    col(TaskRow.title).ilike(pattern, escape="\\"),
                    col(TaskRow.description).ilike(pattern, escape="\\"),
                )
            )
        if blocked is True:
            stmt = stmt.where(sa.or_(col(TaskRow.open_blockers) > 0, col(TaskRow.status) == "blocked"))
        elif blocked is False:
            stmt = stmt.where(col(TaskRow.open_blockers) == 0, col(TaskRow.status) != "blocked")
        if after_id:
            stmt = stmt.where(col(TaskRow.id) > after_id)
        return list(self._s.exec(stmt.order_by(col(TaskRow.id)).limit(limit)).all())

    def children(self, parent_id: str) -> list[TaskRow]:
        return list(
            self._s.exec(select(TaskRow).where(col(TaskRow.parent_id) == parent_id).order_by(col(TaskRow.id)))
        )

    def child_ids(self, parent_ids: Sequence[str]) -> list[tuple[str, str]]:
        rows = self._s.execute(
            sa.select(col(TaskRow.id), col(TaskRow.parent_id)).where(
                col(TaskRow.parent_id).in_(list(parent_ids))
            )
        ).all()
        return [(r[0], r[1]) for r in rows]

    def expired_leases(self, now_us: int, limit: int) -> list[TaskRow]:
        stmt = (
            select(TaskRow)
            .where(col(TaskRow.lease_expires_at_us).is_not(None), col(TaskRow.lease_expires_at_us) <= now_us)
            .order_by(col(TaskRow.lease_expires_at_us))
            .limit(limit)
        )
        return list(self._s.exec(stmt).all())

    def stale(self, before_us: int, limit: int) -> list[TaskRow]:
        stmt = (
            select(TaskRow)
            .where(col(TaskRow.status) == "in_progress", col(TaskRow.updated_at_us) < before_us)
            .order_by(col(TaskRow.updated_at_us))
            .limit(limit)
        )
        return list(self._s.exec(stmt).all())

    # -- links --------------------------------------------------------------------------
    def link_exists(self, src: str, kind: str, dst: str) -> bool:
        return self._s.get(TaskLinkRow, (src, kind, dst)) is not None

    def add_link(self, src: str, kind: str, dst: str, at_us: int) -> None:
        self._s.add(TaskLinkRow(src_id=src, kind=kind, dst_id=dst, created_at_us=at_us))
        self._s.flush()

    def remove_link(self, src: str, kind: str, dst: str) -> bool:
        result = self._s.execute(
            sa.delete(TaskLinkRow).where(
                col(TaskLinkRow.src_id) == src, col(TaskLinkRow.kind) == kind, col(TaskLinkRow.dst_id) == dst
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def links_of(self, task_id: str) -> list[TaskLinkRow]:
        stmt = select(TaskLinkRow).where(
            sa.or_(col(TaskLinkRow.src_id) == task_id, col(TaskLinkRow.dst_id) == task_id)
        )
        return list(self._s.exec(stmt).all())

    def successors(self, task_ids: Sequence[str], kind: str = "blocks") -> list[tuple[str, str]]:
        rows = self._s.execute(
            sa.select(col(TaskLinkRow.src_id), col(TaskLinkRow.dst_id)).where(
                col(TaskLinkRow.kind) == kind, col(TaskLinkRow.src_id).in_(list(task_ids))
            )
        ).all()
        return [(r[0], r[1]) for r in rows]

    def blockers_of(self, task_id: str) -> list[str]:
        rows = self._s.execute(
            sa.select(col(TaskLinkRow.src_id)).where(
                col(TaskLinkRow.kind) == "blocks", col(TaskLinkRow.dst_id) == task_id
            )
        ).all()
        return [r[0] for r in rows]

    def blocked_by_me(self, task_id: str) -> list[str]:
        return [dst for _src, dst in self.successors([task_id])]

    # -- notes and steps ----------------------------------------------------------------
    def add_note(self, row: TaskNoteRow) -> None:
        self._s.add(row)
        self._s.flush()

    def get_note(self, note_id: str) -> TaskNoteRow | None:
        return self._s.get(TaskNoteRow, note_id)

    def notes(self, task_id: str) -> list[TaskNoteRow]:
        stmt = (
            select(TaskNoteRow)
            .where(col(TaskNoteRow.task_id) == task_id)
            .order_by(col(TaskNoteRow.created_at_us), col(TaskNoteRow.id))
        )
        return list(self._s.exec(stmt).all())

    def steps(self, task_id: str) -> list[TaskStepRow]:
        stmt = (
            select(TaskStepRow).where(col(TaskStepRow.task_id) == task_id).order_by(col(TaskStepRow.position))
        )
        return list(self._s.exec(stmt).all())

    def get_step(self, step_id: str) -> TaskStepRow | None:
        return self._s.get(TaskStepRow, step_id)

    def add_step(self, row: TaskStepRow) -> None:
        self._s.add(row)
        self._s.flush()

    def save_any(self, row: object) -> None:
        self._s.add(row)
        self._s.flush()

    # -- leases -------------------------------------------------------------------------
    def add_lease(self, row: LeaseRow) -> None:
        self._s.add(row)
        self._s.flush()

    def get_lease(self, lease_id: str) -> LeaseRow | None:
        return self._s.get(LeaseRow, lease_id)

    def live_leases_of_session(self, session_id: str) -> list[LeaseRow]:
        stmt = select(LeaseRow).where(
            col(LeaseRow.session_id) == session_id, col(LeaseRow.ended_at_us).is_(None)
        )
        return list(self._s.exec(stmt).all())


class AgentStore:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, row: AgentRow) -> None:
        self._s.add(row)
        self._s.flush()

    def get(self, agent_id: str) -> AgentRow | None:
        return self._s.get(AgentRow, agent_id)

    def by_name(self, name: str) -> AgentRow | None:
        return self._s.exec(select(AgentRow).where(col(AgentRow.name) == name)).first()

    def list(self) -> list[AgentRow]:
        return list(self._s.exec(select(AgentRow).order_by(col(AgentRow.name))).all())

    def add_session(self, row: AgentSessionRow) -> None:
        self._s.add(row)
        self._s.flush()

    def get_session(self, session_id: str) -> AgentSessionRow | None:
        return self._s.get(AgentSessionRow, session_id)

    def save(self, row: object) -> None:
        self._s.add(row)
        self._s.flush()

    def expired_sessions(self, now_us: int, limit: int) -> list[AgentSessionRow]:
        stmt = (
            select(AgentSessionRow)
            .where(col(AgentSessionRow.ended_at_us).is_(None), col(AgentSessionRow.expires_at_us) <= now_us)
            .limit(limit)
        )
        return list(self._s.exec(stmt).all())


__all__ = ["AgentStore", "TaskStore", "starts_with"]
