"""Alembic migrations applied on start; a schema newer than the code is refused."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from missiond.errors import SchemaTooNew
from missiond.storage.engine import IMMEDIATE, is_sqlite

MIGRATIONS = Path(__file__).with_name("migrations")
_PG_MIGRATION_LOCK = 0x6D697373  # "miss": serializes replicas migrating at once


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def code_head() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the database to the code's head; returns the schema revision."""
    cfg = _config()
    options = {IMMEDIATE: True} if is_sqlite(engine) else {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        if not is_sqlite(engine):
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        current = MigrationContext.configure(conn).get_current_revision()
        if current is not None and current not in known_revisions():
            raise SchemaTooNew(
                f"the database schema is at revision {current!r}, newer than this missiond "
                f"(which knows up to {code_head()!r}); upgrade missiond or point it at another database"
            )
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return code_head()
