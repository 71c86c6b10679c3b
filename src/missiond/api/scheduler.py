"""The in-process scheduler: APScheduler keeps the timer, the database keeps the truth.

A single APScheduler date job is armed for the earliest `next_fire_at` in
the database; when it fires (or a routine changes, or the safety poll comes
round), a tick runs in a worker thread and fires whatever is due, then the
job is re-armed. After a restart the timer is rebuilt from the database, so
nothing about the schedule lives only in memory. Runs are carried out
concurrently (bounded), each in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import anyio.to_thread
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from missiond.bootstrap import System
from missiond.core.events import EventFilter

log = logging.getLogger("missiond.scheduler")
SAFETY_POLL_S = 5.0
MAX_CONCURRENT_RUNS = 8
MAX_TICK_PASSES = 1000


class SchedulerDriver:
    def __init__(self, system: System) -> None:
        self._system = system
        self._wake = asyncio.Event()
        self._aps = AsyncIOScheduler(timezone=UTC)
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_RUNS)
        self._running: set[asyncio.Task[None]] = set()

    def _arm(self, when: datetime | None) -> None:
        if when is None:
            return
        at = max(when, datetime.now(UTC) + timedelta(milliseconds=5))
        self._aps.add_job(self._wake.set, DateTrigger(run_date=at), id="next-due", replace_existing=True)

    async def run(self) -> None:
        system = self._system
        changes = system.hub.waker(EventFilter(types=("routine.", "approval.")))
        await anyio.to_thread.run_sync(system.runner.recover)
        self._aps.start()
        try:
            while True:
                try:
                    await anyio.to_thread.run_sync(self._tick_all)
                    await self._dispatch()
                    self._arm(await anyio.to_thread.run_sync(system.routines.next_due_at))
                except Exception:
                    log.exception("scheduler pass failed; retrying")
                waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(changes.wait())]
                # asyncio.wait with a timeout (not wait_for around it): a cancellation
                # that races a wake-up is never swallowed, so shutdown cannot hang.
                await asyncio.wait(waits, timeout=SAFETY_POLL_S, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waits:
                    waiter.cancel()
                self._wake.clear()
                changes.clear()
        finally:
            self._aps.shutdown(wait=False)
            for task in list(self._running):
                task.cancel()

    def _tick_all(self) -> None:
        # Each tick fires a bounded batch; stop after a generous number of passes
        # so a routine that stays due by mistake cannot pin the scheduler.
        for _ in range(MAX_TICK_PASSES):
            if self._system.routines.tick() == 0:
                return
        log.warning("routines still due after %d passes; continuing on the next wake-up", MAX_TICK_PASSES)

    async def _dispatch(self) -> None:
        free = MAX_CONCURRENT_RUNS - len(self._running)
        if free <= 0:
            return
        claimed = await anyio.to_thread.run_sync(self._system.runner.claim, free)
        for run_id, routine_id, action in claimed:
            task = asyncio.create_task(self._execute(run_id, routine_id, action))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _execute(self, run_id: str, routine_id: str, action: dict[str, object]) -> None:
        async with self._slots:
            try:
                await anyio.to_thread.run_sync(self._system.runner.execute, run_id, routine_id, action)
            except Exception:
                log.exception("recording run %s failed", run_id)
        self._wake.set()  # a finished run may let a queued one start
