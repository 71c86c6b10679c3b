"""Resource rows: read, lock, write. Preconditions and events live in the service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from missiond.storage.prefixes import starts_with
from missiond.storage.tables import ReactorCursor, ResourceRow


@dataclass(frozen=True, slots=True)
class ResourceRecord:
    key: str
    value: Any
    create_rev: int
    mod_rev: int
    version: int
    updated_by: str
    updated_at_us: int
    expires_at_us: int | None


def _record(row: ResourceRow) -> ResourceRecord:
    return ResourceRecord(
        key=row.key,
        value=row.value,
        create_rev=row.create_rev,
        mod_rev=row.mod_rev,
        version=row.version,
        updated_by=row.updated_by,
        updated_at_us=row.updated_at_us,
        expires_at_us=row.expires_at_us,
    )


class Resources:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._dialect = session.get_bind().dialect.name

    def get(self, key: str) -> ResourceRecord | None:
        row = self._session.get(ResourceRow, key)
        return _record(row) if row else None

    def list(self, prefix: str, *, after_key: str | None, limit: int) -> list[ResourceRecord]:
        stmt = select(ResourceRow)
        if prefix:
            stmt = stmt.where(starts_with(col(ResourceRow.key), prefix, self._dialect))
        if after_key is not None:
            stmt = stmt.where(col(ResourceRow.key) > after_key)
        stmt = stmt.order_by(col(ResourceRow.key)).limit(limit)
        return [_record(r) for r in self._session.exec(stmt).all()]

    def expired(self, now_us: int, *, limit: int, prefix: str = "") -> list[ResourceRecord]:
        stmt = select(ResourceRow).where(
            col(ResourceRow.expires_at_us).is_not(None), col(ResourceRow.expires_at_us) <= now_us
        )
        if prefix:
            stmt = stmt.where(starts_with(col(ResourceRow.key), prefix, self._dialect))
        stmt = stmt.order_by(col(ResourceRow.key)).limit(limit)
        return [_record(r) for r in self._session.exec(stmt).all()]

    def save(self, record: ResourceRecord) -> None:
        row = self._session.get(ResourceRow, record.key)
        if row is None:
            row = ResourceRow(
                key=record.key,
                create_rev=record.create_rev,
                mod_rev=record.mod_rev,
                version=record.version,
                updated_by=record.updated_by,
                updated_at_us=record.updated_at_us,
            )
        row.value = record.value
        row.create_rev = record.create_rev
        row.mod_rev = record.mod_rev
        row.version = record.version
        row.updated_by = record.updated_by
        row.updated_at_us = record.updated_at_us
        row.expires_at_us = record.expires_at_us
        self._session.add(row)
        self._session.flush()

    def delete(self, key: str) -> None:
        self._session.execute(sa.delete(ResourceRow).where(col(ResourceRow.key) == key))


class ReactorCursors:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, name: str) -> int:
        row = self._session.get(ReactorCursor, name)
        return int(row.position) if row else 0

    def set(self, name: str, position: int, at_us: int) -> None:
        row = self._session.get(ReactorCursor, name)
        if row is None:
            row = ReactorCursor(name=name, position=position, updated_at_us=at_us)
        row.position = position
        row.updated_at_us = at_us
        self._session.add(row)
        self._session.flush()
