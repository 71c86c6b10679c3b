"""`Store.fetch_one`: SQLite point reads on a read-only driver connection of their own, which
see exactly what is committed. PostgreSQL offers none; its reads go through sessions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from missiond.core.events import NewEvent
from missiond.errors import StorageUnavailable
from missiond.storage import migrate
from missiond.storage.engine import make_engine
from missiond.storage.uow import Store

from .conftest import ManualClock

HEAD = "SELECT head FROM spine_state WHERE id = ?"


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    engine = make_engine(f"sqlite:///{tmp_path / 'point.db'}")
    migrate.upgrade(engine)
    store = Store(engine, clock=ManualClock())
    yield store
    store.close()


def test_a_point_read_sees_each_commit_and_nothing_uncommitted(sqlite_store: Store) -> None:
    store = sqlite_store
    assert store.fetches_inline
    assert store.fetch_one(HEAD, (1,)) == (0,)
    inside, leave = threading.Event(), threading.Event()

    def write_and_wait() -> None:
        with store.write(actor="agent:w") as uow:
            uow.emit(NewEvent("test.unit.done", "unit/a", {}))
            inside.set()
            leave.wait(30)

    writer = threading.Thread(target=write_and_wait)
    writer.start()
    assert inside.wait(30)
    assert store.fetch_one(HEAD, (1,)) == (0,), "an open transaction's change is not seen"
    leave.set()
    writer.join(30)
    assert store.fetch_one(HEAD, (1,)) == (1,), "the commit is seen by the next read"
    assert store.fetch_one(HEAD, (2,)) is None


def test_the_point_read_connection_cannot_write(sqlite_store: Store) -> None:
    with pytest.raises(StorageUnavailable, match="readonly"):
        sqlite_store.fetch_one("UPDATE spine_state SET head = 99 WHERE id = ?", (1,))
    assert sqlite_store.fetch_one(HEAD, (1,)) == (0,)


def test_postgresql_has_no_point_read_connection(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        assert not Store(engine, clock=ManualClock()).fetches_inline
    finally:
        engine.dispose()
