"""Reactor: folds run and tool events into `run/{session_id}/status` resources.

It reads the spine from a stored cursor and writes the resources and the new
cursor in one transaction, so after a crash or restart it resumes where it
stopped and applies no event twice.
"""

from __future__ import annotations

from typing import Any

from missiond.core.events import EventFilter, format_ts
from missiond.core.status import RUN_TYPES, next_status, session_of
from missiond.services.resources import Put, _Txn
from missiond.storage.uow import Store

NAME = "status_indexer"
ACTOR = "system.status_indexer"


class StatusIndexer:
    def __init__(self, store: Store, *, batch: int = 500) -> None:
        self._store = store
        self._batch = batch
        self._filter = EventFilter(types=RUN_TYPES)

    def position(self) -> int:
        with self._store.read() as uow:
            return uow.cursors.get(NAME)

    def step(self) -> int:
        """Process one batch; returns how many events it consumed (0 when caught up)."""
        with self._store.write(actor=ACTOR) as uow:
            position = uow.cursors.get(NAME)
            head, floor = uow.events.bounds()
            if head <= position:
                return 0
            position = max(position, floor)
            events = uow.events.query(self._filter, after=position, limit=self._batch, until_seq=head)
            through = events[-1].seq if len(events) == self._batch else head
            statuses: dict[str, Any] = {}
            txn = _Txn(uow)
            for event in events:
                session = session_of(event.subject, event.data)
                if session is None:
                    continue
                key = f"run/{session}/status"
                if key not in statuses:
                    record = txn.current(key)
                    statuses[key] = record.value if record else None
                value = next_status(
                    statuses[key], event.type, event.data, seq=event.seq, ts=format_ts(event.ts)
                )
                if value is not None:
                    statuses[key] = value
                    txn.apply(Put(key, value))
            txn.commit()
            uow.cursors.set(NAME, through, uow.now_us)
            return len(events) or (through - position)

    def drain(self) -> int:
        total = 0
        while (n := self.step()) > 0:
            total += n
        return total
