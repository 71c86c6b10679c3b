"""Migrations on start: fresh databases reach the head, data survives, newer schemas are refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from missiond.bootstrap import build
from missiond.core.events import EventFilter, NewEvent
from missiond.errors import SchemaTooNew
from missiond.settings import Settings
from missiond.storage import migrate, tables
from missiond.storage.engine import make_engine
from missiond.storage.memory import is_fulltext_object
from missiond.storage.uow import Store

assert tables  # the import registers the tables on SQLModel.metadata


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _store(engine: Engine) -> Store:
    return Store(engine, clock=lambda: datetime(2026, 11, 21, 18, 26, tzinfo=UTC))


def _stamp(engine: Engine, revision: str) -> None:
    with engine.connect() as conn, conn.begin():
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :rev"), {"rev": revision})


def test_a_fresh_database_comes_up_at_the_code_head(engine: Engine) -> None:
    assert migrate.current_revision(engine) is None

    assert migrate.upgrade(engine) == migrate.code_head()

    assert migrate.current_revision(engine) == migrate.code_head()
    with _store(engine).read() as uow:
        assert uow.events.bounds() == (0, 0)


def test_upgrading_an_existing_database_again_keeps_its_data(engine: Engine) -> None:
    migrate.upgrade(engine)
    store = _store(engine)
    with store.write(actor="user:admin", correlation_id="cor_1") as uow:
        written = uow.emit(NewEvent("session.run.started", "session/a", {"k": "ü"}), NewEvent("x.y", "s"))
        uow.tokens.add(
            id="tok_1",
            token_hash="h" * 64,
            subject="user:admin",
            kind="admin",
            capabilities=["*"],
            created_at_us=uow.now_us,
        )
        uow.idempotency.put("user:admin", "key-1", "fp", {"answer": [1, 2]}, uow.now_us)

    assert migrate.upgrade(engine) == migrate.code_head()
    assert migrate.upgrade(engine) == migrate.code_head()

    with store.read() as uow:
        assert uow.events.query(EventFilter(), after=0, limit=10) == written
        assert uow.events.bounds() == (2, 0)
        token = uow.tokens.by_hash("h" * 64)
        assert token is not None and token.capabilities == ("*",)
        assert uow.idempotency.get("user:admin", "key-1") == ("fp", {"answer": [1, 2]})


def test_a_database_stamped_with_an_unknown_newer_revision_is_refused(engine: Engine) -> None:
    migrate.upgrade(engine)
    _stamp(engine, "9999")

    with pytest.raises(SchemaTooNew, match="newer") as caught:
        migrate.upgrade(engine)

    assert "9999" in str(caught.value)
    assert migrate.code_head() in str(caught.value)
    assert migrate.current_revision(engine) == "9999"  # refused, not touched


def test_bootstrap_refuses_to_start_on_a_newer_schema(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    migrate.upgrade(engine)
    _stamp(engine, "9999")

    with pytest.raises(SchemaTooNew, match="schema is at revision '9999', newer than"):
        build(Settings.from_env({}, home=tmp_path / "home", database_url=database_url))


def test_bootstrap_migrates_a_fresh_database_to_the_head(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    system = build(Settings.from_env({}, home=tmp_path / "home", database_url=database_url))
    try:
        assert system.schema_version == migrate.code_head()
        assert migrate.current_revision(engine) == migrate.code_head()
        assert system.store.kind == ("sqlite" if database_url.startswith("sqlite") else "postgresql")
    finally:
        system.close()


def test_replicas_migrating_at_once_all_reach_the_head(database_url: str) -> None:
    engines = [make_engine(database_url) for _ in range(3)]
    barrier = threading.Barrier(len(engines), timeout=30)
    outcomes: list[str] = []

    def migrate_one(engine: Engine) -> None:
        barrier.wait()
        try:
            outcomes.append(migrate.upgrade(engine))
        except Exception as exc:  # reported below, with the others' outcomes
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=migrate_one, args=(e,)) for e in engines]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert outcomes == [migrate.code_head()] * len(engines)
        with _store(engines[0]).read() as uow:
            assert uow.events.bounds() == (0, 0)  # the counter row was seeded exactly once
            rows = uow.session.execute(sa.text("SELECT count(*) FROM spine_state")).scalar_one()
        assert rows == 1
    finally:
        for engine in engines:
            engine.dispose()


def _described_by_metadata(name: str | None, type_: str, parent: object) -> bool:
    return not is_fulltext_object(name, type_, parent)


def test_the_migrated_schema_matches_the_table_metadata(engine: Engine) -> None:
    migrate.upgrade(engine)
    with engine.connect() as conn:
        # The memory full-text index (FTS5 table / tsvector column) has no metadata form.
        context = MigrationContext.configure(conn, opts={"include_name": _described_by_metadata})
        drift = compare_metadata(context, SQLModel.metadata)
    assert drift == [], "the migrations and storage/tables.py disagree:\n" + "\n".join(map(repr, drift))


# -- SQLite durability settings -------------------------------------------------------------


def _pragmas(conn: sa.Connection) -> tuple[object, ...]:
    """(journal_mode, synchronous, busy_timeout, foreign_keys) as the connection reports them."""
    names = ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
    return tuple(conn.exec_driver_sql(f"PRAGMA {name}").scalar_one() for name in names)


def test_the_sqlite_engine_runs_wal_with_full_sync_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        # Two connections at once: the settings belong to every pooled connection.
        with engine.connect() as first, engine.connect() as second:
            assert _pragmas(first) == ("wal", 2, 30_000, 1)
            assert _pragmas(second) == ("wal", 2, 30_000, 1)
        migrate.upgrade(engine)
        with _store(engine).write(actor="user:admin") as uow:
            uow.emit(NewEvent("x.y", "s"))
            assert _pragmas(uow.session.connection()) == ("wal", 2, 30_000, 1)
        assert (tmp_path / "pragmas.db-wal").exists()
    finally:
        engine.dispose()


def test_the_sqlite_busy_timeout_follows_the_setting(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}", busy_timeout_ms=1234)
    try:
        with engine.connect() as conn:
            assert _pragmas(conn) == ("wal", 2, 1234, 1)
    finally:
        engine.dispose()
