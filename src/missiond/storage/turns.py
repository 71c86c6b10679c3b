"""Write turns and group commit: the writers of one process take turns, and a turn commits
every change that queued up while the one before it ran.

The database takes one writer at a time anyway (SQLite's file lock, PostgreSQL's spine row
lock), so the writers of a process queue here first. A writer with a whole unit of work to
hand (`Turns.submit`) queues it as a job; whoever takes the next turn runs every queued job in
one database transaction, each job in its own savepoint, and commits once. A job still takes
its own seqs, so its own revision; a job that raises is rolled back to its savepoint alone and
its error goes back to its own caller. Nobody is answered before the commit that holds their
change, so nothing is acknowledged that a crash could lose; the transaction's begin and its
fsync are paid once per turn instead of once per write. Under load this is what keeps the
write rate up: one write at a time spent most of its turn waiting for the disk and for the
interpreter lock.

A writer that needs the transaction in its own hands (`Turns.alone`, the `Store.write` context
manager) takes a turn by itself.

A caller on the event loop must not block, so it hands its job over (`Turns.hand_over`) with a
callback for when it is done, and awaits that. Such a job is run by whichever thread takes the
next turn: a blocked writer, or the process's turn thread, started on first use, which takes a
turn whenever jobs wait and no one else has one. An API write then costs no worker thread of
its own, and the loop shares the interpreter lock with one writer instead of one per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from missiond.errors import StorageUnavailable

log = logging.getLogger("missiond.storage")
MAX_TURN = 64  # jobs per turn: bounds how long one turn keeps the database


@dataclass(eq=False)
class Job:
    """One caller's unit of work, waiting for (or done in) a turn."""

    work: Callable[[Any], Any]
    actor: str
    correlation_id: str | None
    state: Literal["queued", "taken", "done"] = "queued"
    result: Any = None
    error: BaseException | None = None
    uow: Any = None
    finished: Callable[[], None] | None = None  # called once done, in the thread that ran it
    deadline: float = 0.0  # monotonic; a job still queued past it is refused, not run


class Turns:
    def __init__(self, *, timeout_s: float, max_turn: int = MAX_TURN) -> None:
        self._gate = threading.Condition()
        self._busy = False
        self._queue: deque[Job] = deque()
        self._timeout_s = timeout_s
        self._max_turn = max_turn
        self._turn_thread: threading.Thread | None = None

    @contextmanager
    def alone(self) -> Iterator[None]:
        """A turn of one's own, for a writer that runs its transaction itself."""
        deadline = time.monotonic() + self._timeout_s
        with self._gate:
            while self._busy:
                self._wait(deadline)
            self._busy = True
        try:
            yield
        finally:
            self._release()

    def submit(self, job: Job, run_turn: Callable[[list[Job]], None]) -> None:
        """Queue `job` and return once it is done: in a turn this thread takes, or in one
        another writer took. `run_turn` runs a list of jobs in one transaction and records each
        job's result or error."""
        job.deadline = deadline = time.monotonic() + self._timeout_s
        with self._gate:
            self._queue.append(job)
            try:
                while self._busy and job.state == "queued":
                    self._wait(deadline)
            except StorageUnavailable:
                self._queue.remove(job)
                raise
            while job.state == "taken":  # in another writer's turn: it is being committed
                self._gate.wait()
            if job.state == "done":
                return
            self._busy = True
        try:
            while job.state != "done":
                self._take_turn(run_turn)
        finally:
            self._release()

    def hand_over(self, job: Job, run_turn: Callable[[list[Job]], None]) -> None:
        """Queue `job` without waiting; `job.finished` is called once it is done."""
        job.deadline = time.monotonic() + self._timeout_s
        with self._gate:
            self._queue.append(job)
            if self._turn_thread is None or not self._turn_thread.is_alive():
                self._turn_thread = threading.Thread(
                    target=self._serve, args=(run_turn,), name="missiond-write-turns", daemon=True
                )
                self._turn_thread.start()
            self._gate.notify_all()

    def _serve(self, run_turn: Callable[[list[Job]], None]) -> None:
        """The turn thread: takes a turn whenever jobs wait and nobody holds one."""
        while True:
            with self._gate:
                while self._busy or not self._queue:
                    self._gate.wait()
                self._busy = True
            try:
                self._take_turn(run_turn)
            finally:
                self._release()

    def _take_turn(self, run_turn: Callable[[list[Job]], None]) -> None:
        """Run the queued jobs (up to a turn's worth) in one transaction. Holds the turn."""
        now = time.monotonic()
        with self._gate:
            turn: list[Job] = []
            late: list[Job] = []
            while self._queue and len(turn) < self._max_turn:
                queued = self._queue.popleft()
                # A blocked writer refuses its own job on time; a handed-over one is refused here.
                expired = queued.finished is not None and queued.deadline < now
                (late if expired else turn).append(queued)
            for taken in turn:
                taken.state = "taken"
        for job in late:
            job.error = StorageUnavailable("database unavailable: timed out waiting for the write lock")
        try:
            if turn:
                run_turn(turn)
        finally:
            with self._gate:
                for taken in turn + late:
                    taken.state = "done"
                self._gate.notify_all()
            for done in turn + late:
                if done.finished is not None:
                    try:
                        done.finished()
                    except Exception:  # a caller that went away must not stop the turns
                        log.exception("telling a writer its job is done failed")

    def _wait(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or (not self._gate.wait(remaining) and time.monotonic() >= deadline):
            raise StorageUnavailable("database unavailable: timed out waiting for the write lock")

    def _release(self) -> None:
        with self._gate:
            self._busy = False
            self._gate.notify_all()
