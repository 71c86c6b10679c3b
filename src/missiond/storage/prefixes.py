"""Case-sensitive prefix matching on both backends.

SQLite's LIKE ignores ASCII case, PostgreSQL's does not; SQLite's GLOB is
case-sensitive. So: GLOB on SQLite, LIKE on PostgreSQL, each with its own
escaping, and the answers agree with the in-memory `str.startswith`.
"""

from __future__ import annotations

import sqlalchemy as sa


def _glob_escape(prefix: str) -> str:
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in prefix)


def _like_escape(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def starts_with(column: sa.ColumnElement[str], prefix: str, dialect: str) -> sa.ColumnElement[bool]:
    if dialect == "sqlite":
        return column.op("GLOB")(_glob_escape(prefix) + "*")
    return column.like(_like_escape(prefix) + "%", escape="\\")
