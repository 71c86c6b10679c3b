"""The in-process event hub: a wake-up, never the truth.

Writers call `notify()` after commit (from any thread), handing over the events
they committed. The hub fans events out in seq order: the handed-over ones as
they are when they continue where it stands, and otherwise it reads the table by
seq — which covers writes from other processes, found by a periodic poll, and
any gap a handed-over run leaves. Reading the table on every commit would cost
more than the write it follows. A
subscriber whose bounded queue is full is marked overflowed and closed by its
stream; it loses nothing because it resumes from its last id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

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
        self._handed: dict[int, Event] = {}  # committed events handed over by writers, by seq
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

    def notify(self, events: Sequence[Event] = ()) -> None:
        """Thread-safe wake-up after a commit, with the events it committed."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        # Subscribers get what a read of the table would give them: JSON values, not the
        # writer's objects (which the writer may still hold and change).
        handed = [replace(e, data=json.loads(json.dumps(e.data))) for e in events]
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._hand_over(handed)
        else:
            loop.call_soon_threadsafe(self._hand_over, handed)

    def _hand_over(self, events: list[Event]) -> None:
        assert self._wake is not None
        for event in events:
            if event.seq > self.position:
                self._handed[event.seq] = event
        self._wake.set()

    def _take_handed(self) -> list[Event]:
        """The handed-over events that continue from the hub's position, in seq order."""
        run: list[Event] = []
        seq = self.position + 1
        while (event := self._handed.pop(seq, None)) is not None:
            run.append(event)
            seq += 1
        return run

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
            batch = self._take_handed() or await anyio.to_thread.run_sync(
                self._read_after, self.position, _BATCH
            )
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
            for seq in [seq for seq in self._handed if seq <= self.position]:
                del self._handed[seq]
            for flt, wake in self._wakers:
                if any(flt.matches(e) for e in batch):
                    wake.set()
            for sub in list(self._subs):
                sub.wake.set()
            if len(batch) < _BATCH and not self._handed:
                return
