"""Resource rows: read, lock, write. Preconditions and events live in the service."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

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


_TABLE: sa.Table = ResourceRow.__table__  # type: ignore[attr-defined]
_COLUMNS = (
    "key",
    "value",
    "create_rev",
    "mod_rev",
    "version",
    "updated_by",
    "updated_at_us",
    "expires_at_us",
)
_SELECT = sa.select(*(_TABLE.c[name] for name in _COLUMNS))
_GET = _SELECT.where(_TABLE.c.key == sa.bindparam("key"))


def _upsert(insert: Any) -> sa.Executable:
    stmt = insert(_TABLE).values({name: sa.bindparam(name) for name in _COLUMNS})
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[_TABLE.c.key], set_={name: stmt.excluded[name] for name in _COLUMNS[1:]}
    )


_UPSERT = {"sqlite": _upsert(sqlite_insert), "postgresql": _upsert(postgresql_insert)}


def _record(row: sa.Row[Any]) -> ResourceRecord:
    return ResourceRecord(*row)


_DRIVER_GET = f"SELECT {', '.join(_COLUMNS)} FROM resources WHERE key = ?"


def fetch_record(fetch_one: Callable[[str, tuple[Any, ...]], Any], key: str) -> ResourceRecord | None:
    """One record by key through `Store.fetch_one` (SQLite's driver, no session)."""
    row = fetch_one(_DRIVER_GET, (key,))
    if row is None:
        return None
    raw_value = row[1]
    # The column's JSON type has numeric affinity in SQLite: a number comes back as a number.
    value = json.loads(raw_value) if isinstance(raw_value, str | bytes) else raw_value
    return ResourceRecord(row[0], value, *row[2:])


class Resources:
    """Core statements on the connection rather than ORM objects: a CAS write is on the hot
    path of every agent, and the ORM's identity map and flush cost more than the SQL."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._dialect = session.get_bind().dialect.name

    def _execute(self, stmt: sa.Executable, params: dict[str, Any] | None = None) -> sa.CursorResult[Any]:
        return self._session.connection().execute(stmt, params)

    def get(self, key: str) -> ResourceRecord | None:
        row = self._execute(_GET, {"key": key}).first()
        return _record(row) if row else None

    def list(self, prefix: str, *, after_key: str | None, limit: int) -> list[ResourceRecord]:
        stmt = _SELECT
        if prefix:
            stmt = stmt.where(starts_with(_TABLE.c.key, prefix, self._dialect))
        if after_key is not None:
            stmt = stmt.where(_TABLE.c.key > after_key)
        stmt = stmt.order_by(_TABLE.c.key).limit(limit)
        return [_record(r) for r in self._execute(stmt)]

    def expired(self, now_us: int, *, limit: int, prefix: str = "") -> list[ResourceRecord]:
        stmt = _SELECT.where(_TABLE.c.expires_at_us.is_not(None), _TABLE.c.expires_at_us <= now_us)
        if prefix:
            stmt = stmt.where(starts_with(_TABLE.c.key, prefix, self._dialect))
        stmt = stmt.order_by(_TABLE.c.key).limit(limit)
        return [_record(r) for r in self._execute(stmt)]

    def save(self, record: ResourceRecord) -> None:
        """Insert or replace the row: one statement, built once per backend."""
        self._execute(_UPSERT[self._dialect], {name: getattr(record, name) for name in _COLUMNS})

    def delete(self, key: str) -> None:
        self._execute(sa.delete(_TABLE).where(_TABLE.c.key == key))


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
