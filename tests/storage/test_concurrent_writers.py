"""Writers in several threads and several processes against one log, with a reader tailing it.

The spine's promise (specs/EVENT_SPINE.md): seqs follow commit order, so a reader
polling `after=last` sees every event exactly once, and never sees seq n+1 before n.
"""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from missiond.core.events import Event, EventFilter, NewEvent
from missiond.storage.engine import make_engine
from missiond.storage.uow import Store

THREADS = 3
PROCESSES = 3
PER_WRITER = 40
BATCH_SIZES = (1, 4, 1, 7)  # cycled: single appends and batches, interleaved
READER_PAGE = 9
TIMEOUT_S = 60.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _write(store: Store, writer: str) -> list[list[int]]:
    """Append PER_WRITER events in units of work of assorted sizes; the seqs of each unit."""
    units: list[list[int]] = []
    written = 0
    while written < PER_WRITER:
        size = min(BATCH_SIZES[len(units) % len(BATCH_SIZES)], PER_WRITER - written)
        batch = [
            NewEvent("bench.event.appended", f"writer/{writer}", {"writer": writer, "n": written + i})
            for i in range(size)
        ]
        with store.write(actor=f"agent:{writer}", correlation_id=f"cor_{writer}_{len(units)}") as uow:
            units.append([e.seq for e in uow.emit_many(batch)])
        written += size
    return units


def _process_writer(url: str, writer: str, ready: Any, go: Any, results: Any) -> None:
    """Child process body (spawned): its own engine and Store, then the same writes as a thread."""
    try:
        engine = make_engine(url)
        try:
            store = Store(engine, clock=_utc_now)
            with store.read() as uow:
                uow.events.bounds()  # connect before the start line, not after it
            ready.put(writer)
            if not go.wait(TIMEOUT_S):
                raise TimeoutError("never told to go")
            results.put((writer, _write(store, writer), None))
        finally:
            engine.dispose()
    except BaseException:
        results.put((writer, [], traceback.format_exc()))


class Tail:
    """Polls `query(after=last)` until stopped; records every page it reads."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.stop = threading.Event()
        self.seen: list[int] = []
        self.gaps: list[str] = []
        self.pages_while_writing = 0
        self.error: str | None = None
        self.thread = threading.Thread(target=self._run, name="tail", daemon=True)

    def _run(self) -> None:
        try:
            last = 0
            while True:
                stopping = self.stop.is_set()
                with self.store.read() as uow:
                    page = uow.events.query(EventFilter(), after=last, limit=READER_PAGE)
                if not page:
                    if stopping:
                        return
                    continue
                got = [e.seq for e in page]
                if got != list(range(last + 1, last + 1 + len(got))):
                    self.gaps.append(f"after {last} the page was {got}")
                self.seen.extend(got)
                self.pages_while_writing += not stopping
                last = got[-1]
        except BaseException:
            self.error = traceback.format_exc()


def test_concurrent_writers_in_threads_and_processes_get_distinct_gapless_seqs_in_commit_order(
    database_url: str, store: Store
) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(target=_process_writer, args=(database_url, f"p{i}", ready, go, results), daemon=True)
        for i in range(PROCESSES)
    ]
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            ready.get(timeout=TIMEOUT_S)

        thread_units: dict[str, list[list[int]]] = {}
        thread_errors: list[str] = []

        def thread_writer(writer: str) -> None:
            try:
                go.wait(TIMEOUT_S)
                thread_units[writer] = _write(store, writer)
            except BaseException:
                thread_errors.append(traceback.format_exc())

        threads = [threading.Thread(target=thread_writer, args=(f"t{i}",)) for i in range(THREADS)]
        tail = Tail(store)
        tail.thread.start()
        for thread in threads:
            thread.start()
        go.set()

        for thread in threads:
            thread.join(TIMEOUT_S)
        proc_units: dict[str, list[list[int]]] = {}
        for _ in procs:
            writer, units, error = results.get(timeout=TIMEOUT_S)
            assert error is None, f"writer {writer} failed:\n{error}"
            proc_units[writer] = units
        for proc in procs:
            proc.join(TIMEOUT_S)
            assert proc.exitcode == 0
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
                proc.join()
    tail.stop.set()
    tail.thread.join(TIMEOUT_S)

    assert thread_errors == []
    assert tail.error is None, tail.error
    total = (THREADS + PROCESSES) * PER_WRITER
    units = {**thread_units, **proc_units}
    assert sorted(units) == sorted([f"t{i}" for i in range(THREADS)] + [f"p{i}" for i in range(PROCESSES)])

    # Every event got a distinct seq, and the writers' units of work took contiguous runs.
    handed_out = [seq for writer_units in units.values() for unit in writer_units for seq in unit]
    assert len(handed_out) == total
    assert sorted(handed_out) == list(range(1, total + 1))
    for writer_units in units.values():
        for unit in writer_units:
            assert unit == list(range(unit[0], unit[0] + len(unit)))

    # The tailing reader saw 1..N in order, each page starting right after the last.
    assert tail.gaps == []
    assert tail.seen == list(range(1, total + 1))
    assert tail.pages_while_writing >= 2

    # The log holds exactly 1..N, with each unit of work's events sharing one correlation id.
    with store.read() as uow:
        log: list[Event] = uow.events.query(EventFilter(), after=0, limit=10 * total)
        assert uow.events.bounds() == (total, 0)
    assert [e.seq for e in log] == list(range(1, total + 1))
    by_correlation: dict[str | None, list[int]] = defaultdict(list)
    per_writer: dict[str, list[int]] = defaultdict(list)
    for event in log:
        by_correlation[event.correlation_id].append(event.seq)
        per_writer[event.data["writer"]].append(event.data["n"])
        assert event.actor == f"agent:{event.data['writer']}"
    assert sorted(by_correlation.values()) == sorted(unit for us in units.values() for unit in us)
    assert all(ns == list(range(PER_WRITER)) for ns in per_writer.values())


def test_a_writer_waiting_past_the_busy_timeout_gets_storage_unavailable_and_changes_nothing(
    tmp_path: Any,
) -> None:
    # SQLite writers of one process queue on an in-process lock (ahead of the file lock); a
    # waiter that outlasts the busy timeout must fail the way a busy database does, not hang.
    from missiond.errors import StorageUnavailable
    from missiond.storage import migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    migrate.upgrade(engine)
    store = Store(engine, clock=_utc_now, busy_timeout_s=0.2)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store.write(actor="agent:first") as uow:
            uow.emit(NewEvent("bench.event.appended", "writer/first", {}))
            holding.set()
            release.wait(TIMEOUT_S)

    first = threading.Thread(target=hold)
    first.start()
    try:
        assert holding.wait(TIMEOUT_S)
        try:
            with store.write(actor="agent:second") as uow:
                uow.emit(NewEvent("bench.event.appended", "writer/second", {}))
        except StorageUnavailable as exc:
            assert "write lock" in str(exc)
        else:
            raise AssertionError("the second writer should have timed out")
    finally:
        release.set()
        first.join(TIMEOUT_S)
    with store.read() as uow:
        subjects = [e.subject for e in uow.events.query(EventFilter(), after=0, limit=10)]
    assert subjects == ["writer/first"]
    with store.write(actor="agent:third") as uow:  # the lock was handed back
        uow.emit(NewEvent("bench.event.appended", "writer/third", {}))
    engine.dispose()
