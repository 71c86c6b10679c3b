"""Background loops the server runs beside the API: reactors and sweepers.

Each loop does its work in a worker thread (storage is synchronous), wakes on
matching commits through the hub, and also runs on a timer so writes from
other processes are picked up. A failing pass is logged and retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import anyio.to_thread

from missiond.api.mission_driver import MissionDriver
from missiond.api.scheduler import SchedulerDriver
from missiond.bootstrap import System
from missiond.core.events import EventFilter
from missiond.core.status import RUN_TYPES

log = logging.getLogger("missiond.reactors")


async def _loop(name: str, work: Callable[[], object], wake: asyncio.Event | None, every_s: float) -> None:
    while True:
        try:
            await anyio.to_thread.run_sync(work)
        except Exception:
            log.exception("%s pass failed; retrying", name)
        if wake is None:
            await asyncio.sleep(every_s)
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=every_s)
        wake.clear()


def _drain(step: Callable[[], int]) -> None:
    """Call `step` until it reports nothing left (each call handles one bounded batch)."""
    while step() > 0:
        continue


def start_reactors(system: System) -> list[asyncio.Task[None]]:
    settings = system.settings
    indexer_wake = system.hub.waker(EventFilter(types=RUN_TYPES))
    return [
        asyncio.create_task(
            _loop("status indexer", system.status_indexer.drain, indexer_wake, settings.hub_poll_s * 4),
            name="missiond-status-indexer",
        ),
        asyncio.create_task(
            _loop("ttl sweeper", lambda: _drain(system.resources.sweep), None, 1.0),
            name="missiond-ttl-sweeper",
        ),
        asyncio.create_task(SchedulerDriver(system).run(), name="missiond-scheduler"),
        asyncio.create_task(MissionDriver(system).run(), name="missiond-missions"),
        asyncio.create_task(
            _loop("memory sweeper", lambda: _drain(system.memory.sweep), None, 5.0),
            name="missiond-memory-sweeper",
        ),
        asyncio.create_task(
            _loop("approval sweeper", lambda: _drain(system.approvals.sweep), None, 5.0),
            name="missiond-approval-sweeper",
        ),
        asyncio.create_task(
            _loop("lease sweeper", lambda: _drain(system.leases.sweep), None, settings.lease_sweep_s),
            name="missiond-lease-sweeper",
        ),
    ]
