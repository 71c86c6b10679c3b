"""Rows behind the web dashboard's login: one-time codes and browser sessions."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from missiond.storage.tables import UiSessionRow

# Rows stay a day past expiry so an audit can still find them, then are purged.
_KEEP_AFTER_EXPIRY_US = 24 * 3600 * 1_000_000


@dataclass(frozen=True, slots=True)
class UiSessionRecord:
    id: str
    kind: str
    subject: str
    principal_kind: str
    capabilities: tuple[str, ...]
    code_id: str | None
    created_at_us: int
    expires_at_us: int
    ended_at_us: int | None


def _record(row: UiSessionRow) -> UiSessionRecord:
    return UiSessionRecord(
        id=row.id,
        kind=row.kind,
        subject=row.subject,
        principal_kind=row.principal_kind,
        capabilities=tuple(row.capabilities),
        code_id=row.code_id,
        created_at_us=row.created_at_us,
        expires_at_us=row.expires_at_us,
        ended_at_us=row.ended_at_us,
    )


class UiSessionRows:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, row: UiSessionRow) -> UiSessionRecord:
        self._session.add(row)
        self._session.flush()
        return _record(row)

    def by_hash(self, secret_hash: str) -> UiSessionRecord | None:
        stmt = select(UiSessionRow).where(col(UiSessionRow.secret_hash) == secret_hash)
        row = self._session.exec(stmt).first()
        return _record(row) if row else None

    def end(self, row_id: str, now_us: int) -> bool:
        """Mark a live row ended; False when it already was (so a code is used exactly once,
        even by two requests racing on two replicas)."""
        result = self._session.execute(
            sa.update(UiSessionRow)
            .where(col(UiSessionRow.id) == row_id, col(UiSessionRow.ended_at_us).is_(None))
            .values(ended_at_us=now_us)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def purge(self, now_us: int) -> int:
        result = self._session.execute(
            sa.delete(UiSessionRow).where(col(UiSessionRow.expires_at_us) < now_us - _KEEP_AFTER_EXPIRY_US)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
