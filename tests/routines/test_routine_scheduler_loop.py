"""The in-process scheduler loop stops when it is cancelled (server or app shutdown).

A wake-up (a routine or approval event, the armed timer) that lands in the same moment as
the cancellation must not swallow it: otherwise the loop runs on and the app's lifespan
waits for it forever.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from missiond.api.scheduler import SchedulerDriver
from missiond.bootstrap import System, build
from missiond.settings import Settings


async def stops_when_cancelled(system: System, steps_between: int) -> bool:
    """Wake the parked loop, let `steps_between` loop iterations pass, cancel: did it stop?"""
    await system.hub.start(system.events.bounds()[0])
    driver = SchedulerDriver(system)
    task = asyncio.create_task(driver.run())
    try:
        while not driver._wake._waiters:  # parked in its wait
            await asyncio.sleep(0.01)
        driver._wake.set()
        for _ in range(steps_between):
            await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=1.0)
        return task in done
    finally:
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
        await system.hub.stop()


def test_the_scheduler_loop_stops_on_a_cancellation_that_races_a_wake_up(tmp_path: Path) -> None:
    system = build(Settings.from_env(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'missiond.db'}"))
    try:
        stopped = {steps: asyncio.run(stops_when_cancelled(system, steps)) for steps in range(8)}
    finally:
        system.close()
    assert stopped == dict.fromkeys(range(8), True)
