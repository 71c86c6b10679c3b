"""The in-process event hub: a wake-up, never the truth.

Writers call `notify()` after commit (from any thread). The hub reads new
events from the table by seq — which also covers writes from other processes,
found by a periodic poll — and fans them out to subscriber queues. A
subscriber whose bounded queue is full is marked overflowed and closed by its
stream; it loses nothing because it resumes from its last id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio.to_thread

from missiond.core.events import Event, EventFilter

log = logging.getLogger("missiond.hub")
ReadAfter = Callable[[int, int], list[Event]]
_BATCH = 1000


@dataclass(eq=False)
class Subscription:
    flt: EventFilter
    queue: asyncio.Queue[Event]
    overflowed: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, event: Event) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self.wake.set()


class EventHub:
    def __init__(self, read_after: ReadAfter, *, poll_s: float, queue_size: int) -> None:
        self._read_after = read_after
        self._poll_s = poll_s
        self._queue_size = queue_size
        self._subs: set[Subscription] = set()
        self._wakers: list[tuple[EventFilter, asyncio.Event]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.position = 0

    @property
    def subscriber_count(self) -> int:
        return len(self._subs)

    async def start(self, head: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.position = head
        self._task = asyncio.create_task(self._run(), name="missiond-hub")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for sub in list(self._subs):
            sub.overflowed = True
            sub.wake.set()

    def notify(self, _events: object = None) -> None:
        """Thread-safe wake-up after a commit."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    def subscribe(self, flt: EventFilter) -> Subscription:
        sub = Subscription(flt=flt, queue=asyncio.Queue(maxsize=self._queue_size))
        self._subs.add(sub)
        return sub

    def waker(self, flt: EventFilter) -> asyncio.Event:
        """An event set whenever a matching event is committed: a wake-up for reactors."""
        wake = asyncio.Event()
        self._wakers.append((flt, wake))
        return wake

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_s)
            self._wake.clear()
            try:
                await self._drain()
            except Exception:  # the hub must survive a storage hiccup; the next poll retries
                log.exception("hub read failed; retrying on the next wake")

    async def _drain(self) -> None:
        while True:
            batch = await anyio.to_thread.run_sync(self._read_after, self.position, _BATCH)
            if not batch:
                return
            # Watchers mostly share a few filters (200 dashboards on one prefix): match each
            # event once per distinct filter, not once per subscriber.
            groups: dict[EventFilter, list[Subscription]] = {}
            for sub in self._subs:
                groups.setdefault(sub.flt, []).append(sub)
            for event in batch:
                for flt, subs in groups.items():
                    if flt.matches(event):
                        for sub in subs:
                            sub.offer(event)
            self.position = batch[-1].seq
            for flt, wake in self._wakers:
                if any(flt.matches(e) for e in batch):
                    wake.set()
            for sub in list(self._subs):
                sub.wake.set()
            if len(batch) < _BATCH:
                return
