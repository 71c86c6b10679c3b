"""The hub fans out the events writers hand over at commit, and reads the table only to fill
what they do not cover (another process's writes, a gap), always in seq order, never twice."""

from __future__ import annotations

import asyncio
from typing import Any

from missiond.core.events import Event, EventFilter, NewEvent
from missiond.services.hub import EventHub
from missiond.storage.uow import Store


def _hub(store: Store, reads: list[tuple[int, int]]) -> EventHub:
    def read_after(after: int, limit: int) -> list[Event]:
        reads.append((after, limit))
        with store.read() as uow:
            return uow.events.query(EventFilter(), after=after, limit=limit)

    return EventHub(read_after, poll_s=30.0, queue_size=1000)


def _write(store: Store, tag: str, n: int = 1, data: dict[str, Any] | None = None) -> list[Event]:
    with store.write(actor="agent:t") as uow:
        return uow.emit_many([NewEvent("test.unit.done", f"unit/{tag}", data or {"i": i}) for i in range(n)])


async def _received(sub: Any, count: int) -> list[Event]:
    got: list[Event] = []
    while len(got) < count:
        got.append(await asyncio.wait_for(sub.queue.get(), timeout=10))
    return got


def test_handed_over_events_reach_subscribers_without_a_read_of_the_table(store: Store) -> None:
    async def main() -> None:
        reads: list[tuple[int, int]] = []
        hub = _hub(store, reads)
        await hub.start(0)
        store.on_commit(hub.notify)
        sub = hub.subscribe(EventFilter())
        await asyncio.sleep(0)
        reads.clear()
        written = [e.seq for tag in ("a", "b", "c") for e in await asyncio.to_thread(_write, store, tag, 2)]
        got = await _received(sub, 6)
        await hub.stop()
        assert [e.seq for e in got] == written
        assert reads == [], "every event came with its commit"
        assert hub.position == written[-1]

    asyncio.run(main())


def test_a_gap_left_by_another_writer_is_read_from_the_table_in_order_and_nothing_repeats(
    store: Store,
) -> None:
    async def main() -> None:
        reads: list[tuple[int, int]] = []
        hub = _hub(store, reads)
        await hub.start(0)
        sub = hub.subscribe(EventFilter())
        # "Another process" commits seqs 1-3 without telling this hub; this process then
        # commits 4-5 and hands them over. The hub must fill 1-3 from the table first.
        await asyncio.to_thread(_write, store, "other", 3)
        mine = await asyncio.to_thread(_write, store, "mine", 2)
        hub.notify(mine)
        got = await _received(sub, 5)
        # and a late hand-over of events already delivered is ignored
        hub.notify(mine)
        await asyncio.sleep(0.05)
        await hub.stop()
        assert [e.seq for e in got] == [1, 2, 3, 4, 5]
        assert [e.subject for e in got] == ["unit/other"] * 3 + ["unit/mine"] * 2
        assert sub.queue.empty(), "nothing delivered twice"
        assert reads and reads[0][0] == 0

    asyncio.run(main())


def test_subscribers_get_json_values_not_the_writers_objects(store: Store) -> None:
    async def main() -> None:
        hub = _hub(store, [])
        await hub.start(0)
        store.on_commit(hub.notify)
        sub = hub.subscribe(EventFilter())
        value: dict[str, Any] = {"tags": ("x", "y"), "n": 1}
        await asyncio.to_thread(_write, store, "v", 1, value)
        value["n"] = 2  # the writer changes its object after the commit
        (got,) = await _received(sub, 1)
        await hub.stop()
        with store.read() as uow:
            (stored,) = uow.events.query(EventFilter(), after=0, limit=1)
        assert got.data == stored.data == {"tags": ["x", "y"], "n": 1}

    asyncio.run(main())
