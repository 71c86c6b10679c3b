"""Unit of work: one database transaction that changes state rows and appends events.

    with store.write(actor="user:admin", correlation_id="cor_1") as uow:
        uow.emit(NewEvent("session.run.started", "session/abc"))
    # committed here; the hub is woken after commit, never before

Nothing is published that was not committed: after-commit listeners run only
when the commit succeeded.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from missiond.core.events import Event, NewEvent, to_us
from missiond.errors import StorageUnavailable
from missiond.identifiers import new_id
from missiond.storage.engine import IMMEDIATE, is_sqlite
from missiond.storage.event_log import EventLog
from missiond.storage.missions import MissionStore
from missiond.storage.records import Idempotency, Tokens
from missiond.storage.resources import ReactorCursors, Resources
from missiond.storage.routines import ApprovalStore, RoutineStore
from missiond.storage.tasks import AgentStore, TaskStore
from missiond.storage.turns import Job, Turns

Clock = Callable[[], datetime]
CommitListener = Callable[[list[Event]], None]
T = TypeVar("T")


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
        self._turns = Turns(timeout_s=busy_timeout_s)
        self._busy_timeout_s = busy_timeout_s
        self._fetcher: sqlite3.Connection | None = None
        self._fetch_lock = threading.Lock()

    @property
    def kind(self) -> str:
        return "sqlite" if is_sqlite(self.engine) else "postgresql"

    def on_commit(self, listener: CommitListener) -> None:
        self._listeners.append(listener)

    @contextmanager
    def write(self, *, actor: str, correlation_id: str | None = None) -> Iterator[UnitOfWork]:
        """A transaction in the caller's hands, in a write turn of its own."""
        with self._turns.alone(), self._session(immediate=True) as session:
            self._queue_writers(session)
            uow = UnitOfWork(session, actor=actor, correlation_id=correlation_id, now=self.clock())
            try:
                yield uow
                session.commit()
            except BaseException:
                session.rollback()
                raise
        self._after_commit(uow)

    def run(self, work: Callable[[UnitOfWork], T], *, actor: str, correlation_id: str | None = None) -> T:
        """Run `work` in a write transaction and return its result once committed. Writes
        that queue up together commit together (group commit, see `storage.turns`); `work`
        may run in another writer's thread, and its exceptions come back here."""
        job = Job(work, actor, correlation_id)
        self._turns.submit(job, self._run_turn)
        if job.error is not None:
            raise job.error
        self._after_commit(job.uow)
        return job.result  # type: ignore[no-any-return]

    async def run_async(
        self, work: Callable[[UnitOfWork], T], *, actor: str, correlation_id: str | None = None
    ) -> T:
        """`run` for a caller on the event loop: the job is handed to the next write turn and
        the loop waits for it without blocking and without a worker thread of its own."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def settle() -> None:
            if not done.done():
                done.set_result(None)

        def finished() -> None:
            loop.call_soon_threadsafe(settle)

        job = Job(work, actor, correlation_id, finished=finished)
        self._turns.hand_over(job, self._run_turn)
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            # The job commits or not whatever happens to the request that awaited it; what
            # follows a commit must still happen.
            done.add_done_callback(lambda _: self._after_commit_later(job))
            raise
        if job.error is not None:
            raise job.error
        if job.uow.committed:
            await anyio.to_thread.run_sync(self._after_commit, job.uow)
        else:
            self._after_commit(job.uow)  # the listeners (the hub's hand-over) are loop-safe
        return job.result  # type: ignore[no-any-return]

    def _after_commit_later(self, job: Job) -> None:
        if job.error is None:
            asyncio.get_running_loop().run_in_executor(None, self._after_commit, job.uow)

    def _run_turn(self, jobs: list[Job]) -> None:
        try:
            with self._session(immediate=True) as session:
                self._queue_writers(session)
                alone = len(jobs) == 1
                for job in jobs:
                    job.uow = UnitOfWork(
                        session, actor=job.actor, correlation_id=job.correlation_id, now=self.clock()
                    )
                    # A turn of one needs no savepoint: its failure rolls back the transaction.
                    savepoint = None if alone else session.begin_nested()
                    try:
                        job.result = job.work(job.uow)
                    except Exception as exc:
                        job.error = translate(exc)
                        if savepoint is None:
                            session.rollback()
                            return
                        savepoint.rollback()
                    else:
                        if savepoint is not None:
                            savepoint.commit()
                session.commit()
        except BaseException as exc:
            # The turn failed as a whole (the commit, a savepoint, or an interrupt): nothing in
            # it was committed, so no job in it succeeded.
            for job in jobs:
                if job.error is None:
                    job.error = exc
            if not isinstance(exc, Exception):
                raise

    def _queue_writers(self, session: Session) -> None:
        if not is_sqlite(self.engine):
            # Writers of every process queue here, as SQLite's BEGIN IMMEDIATE makes them: the
            # state they read is then the state they change, and seqs follow commit order.
            session.execute(sa.text("SELECT head FROM spine_state WHERE id = 1 FOR UPDATE"))

    def _after_commit(self, uow: UnitOfWork) -> None:
        for callback in uow.committed:
            callback()
        if uow.appended:
            for listener in self._listeners:
                listener(uow.appended)

    @property
    def fetches_inline(self) -> bool:
        """Whether `fetch_one` is available: a point read cheap enough for the event loop."""
        return is_sqlite(self.engine) and bool(self.engine.url.database)

    def fetch_one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """SQLite: one row by one statement on a read-only driver connection kept for such
        reads. A statement outside BEGIN reads one committed snapshot of its own; the pool and
        the session, which cost many times such a read, are skipped."""
        with self._fetch_lock:
            try:
                if self._fetcher is None:
                    self._fetcher = sqlite3.connect(
                        self.engine.url.database or "",
                        timeout=self._busy_timeout_s,
                        isolation_level=None,
                        check_same_thread=False,
                    )
                    self._fetcher.execute("PRAGMA query_only=1")
                row: tuple[Any, ...] | None = self._fetcher.execute(sql, params).fetchone()
                return row
            except sqlite3.OperationalError as exc:
                raise translate(exc) from exc

    def close(self) -> None:
        with self._fetch_lock:
            if self._fetcher is not None:
                self._fetcher.close()
                self._fetcher = None
        self.engine.dispose()

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
    def _session(self, *, immediate: bool) -> Iterator[Session]:
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                if immediate and is_sqlite(self.engine):
                    session.connection(execution_options={IMMEDIATE: True})
                yield session
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            raise translate(exc) from exc


def translate(exc: Exception) -> Exception:
    """The drivers' 'cannot reach or lock the database' errors (through SQLAlchemy, or from the
    point-read connection) are ours to name."""
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError | sqlite3.OperationalError):
        cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
        unavailable = StorageUnavailable(f"database unavailable: {cause}")
        unavailable.__cause__ = exc
        return unavailable
    return exc
