"""Server-Sent Events framing and the per-subscriber stream loop.

The subscriber registers with the hub before it reads the table, so every
event committed after registration reaches its queue, and every event
committed before is found by the catch-up read: together they cover the log
with no gap; duplicates are dropped by seq.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import AsyncIterator

import anyio.to_thread

from missiond.core.events import Event, EventFilter
from missiond.services.events import EventService
from missiond.services.hub import EventHub

_PAGE = 500


_FRAMES: OrderedDict[str, bytes] = OrderedDict()
_FRAME_CACHE = 8192


def frame(event: Event) -> bytes:
    """Encode once per event, not once per subscriber: 200 watchers share one encoding."""
    cached = _FRAMES.get(event.id)
    if cached is not None:
        return cached
    data = json.dumps(event.to_wire(), separators=(",", ":"), ensure_ascii=False)
    encoded = f"id: {event.seq}\nevent: {event.type}\ndata: {data}\n\n".encode()
    _FRAMES[event.id] = encoded
    if len(_FRAMES) > _FRAME_CACHE:
        _FRAMES.popitem(last=False)
    return encoded


def error_frame(code: str, detail: str, last_seq: int) -> bytes:
    data = json.dumps({"code": code, "detail": detail, "last_seq": last_seq})
    return f"event: error\ndata: {data}\n\n".encode()


async def event_stream(
    *,
    hub: EventHub,
    events: EventService,
    flt: EventFilter,
    after: int,
    retry_ms: int,
    ping_s: float,
) -> AsyncIterator[bytes]:
    sub = hub.subscribe(flt)
    try:
        yield f"retry: {retry_ms}\n: connected after={after}\n\n".encode()
        head, _floor = await anyio.to_thread.run_sync(events.bounds)
        scanned = after
        while scanned < head:
            batch = await anyio.to_thread.run_sync(events.read_after, flt, scanned, _PAGE, head)
            for event in batch:
                yield frame(event)
            if len(batch) < _PAGE:
                break
            scanned = batch[-1].seq
        scanned = max(scanned, head)
        while True:
            if sub.overflowed:
                yield error_frame(
                    "SLOW_CONSUMER", "the client fell too far behind; reconnect with Last-Event-ID", scanned
                )
                return
            try:
                async with asyncio.timeout(ping_s):  # no task per wait, unlike wait_for
                    event = await sub.queue.get()
            except TimeoutError:
                yield b": ping\n\n"
                continue
            # Send what is already queued in one write: a transaction's events travel together.
            chunk: list[bytes] = []
            while True:
                if event.seq > scanned:
                    scanned = event.seq
                    chunk.append(frame(event))
                if sub.queue.empty() or len(chunk) >= _PAGE:
                    break
                event = sub.queue.get_nowait()
            if chunk:
                yield b"".join(chunk)
    finally:
        hub.unsubscribe(sub)
