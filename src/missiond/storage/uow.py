"""Unit of work: one database transaction that changes state rows and appends events.

    with store.write(actor="user:admin", correlation_id="cor_1") as uow:
        uow.emit(NewEvent("session.run.started", "session/abc"))
    # committed here; the hub is woken after commit, never before

Nothing is published that was not committed: after-commit listeners run only
when the commit succeeded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from missiond.core.events import Event, NewEvent, to_us
from missiond.errors import MissiondError, StorageUnavailable
from missiond.identifiers import new_id
from missiond.storage.engine import IMMEDIATE, is_sqlite
from missiond.storage.event_log import EventLog
from missiond.storage.missions import MissionStore
from missiond.storage.records import Idempotency, Tokens
from missiond.storage.resources import ReactorCursors, Resources
from missiond.storage.routines import ApprovalStore, RoutineStore
from missiond.storage.tasks import AgentStore, TaskStore

Clock = Callable[[], datetime]
CommitListener = Callable[[list[Event]], None]


class UnitOfWork:
    def __init__(self, session: Session, *, actor: str, correlation_id: str | None, now: datetime) -> None:
        self.session = session
        self.actor = actor
        self.correlation_id = correlation_id
        self.now = now
        self.now_us = to_us(now)
        self.events = EventLog(session)
        self.tokens = Tokens(session)
        self.idempotency = Idempotency(session)
        self.resources = Resources(session)
        self.cursors = ReactorCursors(session)
        self.tasks = TaskStore(session)
        self.agents = AgentStore(session)
        self.routines = RoutineStore(session)
        self.approvals = ApprovalStore(session)
        self.missions = MissionStore(session)
        self.appended: list[Event] = []
        # Per-transaction memo for services (for example parsed state by revision), and
        # callbacks run only once the transaction has committed.
        self.scratch: dict[object, object] = {}
        self.committed: list[Callable[[], None]] = []

    def reserve(self, count: int) -> int:
        """Reserve `count` seqs for events whose payload needs its own revision; returns the first."""
        return self.events.allocate(count)

    def emit(self, *events: NewEvent, actor: str | None = None) -> list[Event]:
        return self.emit_many(events, actor=actor)

    def emit_many(
        self, events: Sequence[NewEvent], *, actor: str | None = None, first: int | None = None
    ) -> list[Event]:
        """Append events; `first` is a seq already reserved with `reserve()`."""
        stored = self.events.append(
            events,
            actor=actor or self.actor,
            correlation_id=self.correlation_id,
            at=self.now,
            new_id=lambda: new_id("evt"),
            first=first,
        )
        self.appended.extend(stored)
        return stored


class Store:
    """Owns the engine; hands out read and write units of work."""

    def __init__(self, engine: Engine, *, clock: Clock, busy_timeout_s: float = 30.0) -> None:
        self.engine = engine
        self.clock = clock
        self._listeners: list[CommitListener] = []
        self._write_lock = threading.Lock() if is_sqlite(engine) else None
        self._busy_timeout_s = busy_timeout_s

    @property
    def kind(self) -> str:
        return "sqlite" if is_sqlite(self.engine) else "postgresql"

    def on_commit(self, listener: CommitListener) -> None:
        self._listeners.append(listener)

    @contextmanager
    def write(self, *, actor: str, correlation_id: str | None = None) -> Iterator[UnitOfWork]:
        with self._writer(), self._session(immediate=True) as session:
            if not is_sqlite(self.engine):
                # Writers queue here, as SQLite's BEGIN IMMEDIATE makes them: the state they
                # read is then the state they change, and seqs follow commit order.
                session.execute(sa.text("SELECT head FROM spine_state WHERE id = 1 FOR UPDATE"))
            uow = UnitOfWork(session, actor=actor, correlation_id=correlation_id, now=self.clock())
            try:
                yield uow
                session.commit()
            except BaseException:
                session.rollback()
                raise
        for callback in uow.committed:
            callback()
        if uow.appended:
            for listener in self._listeners:
                listener(uow.appended)

    @contextmanager
    def read(self, *, snapshot: bool = False) -> Iterator[UnitOfWork]:
        """A read-only unit of work; `snapshot` makes every statement see one moment
        (PostgreSQL REPEATABLE READ; an SQLite read transaction already does)."""
        with self._session(immediate=False) as session:
            if snapshot and not is_sqlite(self.engine):
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            uow = UnitOfWork(session, actor="reader", correlation_id=None, now=self.clock())
            try:
                yield uow
            finally:
                session.rollback()

    @contextmanager
    def _writer(self) -> Iterator[None]:
        """SQLite: this process's writers queue on a lock before BEGIN IMMEDIATE. The file lock
        alone makes a waiting writer poll with growing sleeps (SQLite's busy handler), so under
        contention the lock often sits free while every waiter sleeps; a lock handed over in
        process wakes the next writer at once. Other processes still meet the file lock."""
        if self._write_lock is None:
            yield
            return
        if not self._write_lock.acquire(timeout=self._busy_timeout_s):
            raise StorageUnavailable("database unavailable: timed out waiting for the write lock")
        try:
            yield
        finally:
            self._write_lock.release()

    @contextmanager
    def _session(self, *, immediate: bool) -> Iterator[Session]:
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                if immediate and is_sqlite(self.engine):
                    session.connection(execution_options={IMMEDIATE: True})
                yield session
        except MissiondError:
            raise
        except sa.exc.OperationalError as exc:
            raise StorageUnavailable(f"database unavailable: {exc.orig}") from exc
        except sa.exc.InterfaceError as exc:
            raise StorageUnavailable(f"database unavailable: {exc.orig}") from exc
