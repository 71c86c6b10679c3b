"""Drives the mission runtime beside the API: applies spine events, runs the outbox.

Quick commands run in a worker thread pass by pass; slow ones (test gates,
exec agents) each get their own worker thread, bounded. The loop wakes on
mission commits through the hub, when a delayed command comes due, and on a
safety poll, so commands queued by another process are picked up too.
"""

from __future__ import annotations

import asyncio
import logging
import time

import anyio.to_thread

from missiond.bootstrap import System
from missiond.core.events import EventFilter
from missiond.services.mission_runtime import MISSION_TYPES, SlowCommand

log = logging.getLogger("missiond.missions")
SAFETY_POLL_S = 2.0
MAX_SLOW = 4


class MissionDriver:
    def __init__(self, system: System) -> None:
        self._system = system
        self._slots = asyncio.Semaphore(MAX_SLOW)
        self._running: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        runtime = self._system.mission_runtime
        wake = self._system.hub.waker(EventFilter(types=(*MISSION_TYPES, "approval.")))
        await anyio.to_thread.run_sync(runtime.recover)
        try:
            while True:
                try:
                    await anyio.to_thread.run_sync(self._pass)
                except Exception:
                    log.exception("mission runtime pass failed; retrying")
                timeout = SAFETY_POLL_S
                due = await anyio.to_thread.run_sync(runtime.next_due_us)
                if due is not None:
                    timeout = min(timeout, max(0.0, due / 1e6 - time.time()))
                if timeout > 0:
                    # asyncio.wait, not wait_for: a cancellation racing the wake-up is never lost.
                    waiter = asyncio.ensure_future(wake.wait())
                    await asyncio.wait([waiter], timeout=timeout)
                    waiter.cancel()
                wake.clear()
        finally:
            for task in list(self._running):
                task.cancel()
            runtime.kill_all()

    def _pass(self) -> None:
        runtime = self._system.mission_runtime
        runtime.drain_spine()
        while True:
            ran, slow = runtime.step()
            for command in slow:
                anyio.from_thread.run_sync(self._start_slow, command)
            if ran == 0:
                return

    def _start_slow(self, command: SlowCommand) -> None:
        task = asyncio.get_running_loop().create_task(self._slow(command))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _slow(self, command: SlowCommand) -> None:
        async with self._slots:
            await anyio.to_thread.run_sync(self._system.mission_runtime.run_slow, command)
