"""The live link to the server: one SSE stream of the spine, followed by seq.

`follow_spine` runs inside the app's worker. It reads the head from
`/v1/health`, opens `client.stream_events(after=<last seq>)` (the SDK's
stream helper, which drops repeats by seq), and when the connection breaks it
reports `reconnecting`, waits for the server to answer again and reopens from
the last seq it handed out: nothing lost, nothing repeated. A cursor the
server no longer retains (410 CURSOR_EXPIRED) is reported so the screens
relist, and the stream starts again at the head.

The SDK's own reconnect loop is not used (`reconnect=False`) because it
cannot say when the link is down; the TUI must show that at all times.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import aclosing
from dataclasses import dataclass
from enum import Enum

from missiond.sdk import (
    AsyncClient,
    CursorExpired,
    Event,
    Forbidden,
    MissiondError,
    ProblemError,
    Unauthorized,
)

MIN_RETRY_S = 0.25
MAX_RETRY_S = 5.0
IDLE_TIMEOUT_S = 45.0  # the server pings at least every 15 s


class LinkState(Enum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    REFUSED = "refused"  # the token is not accepted: retrying slowly


@dataclass(frozen=True, slots=True)
class Link:
    """What the connection bar shows."""

    state: LinkState
    url: str
    seq: int | None = None
    detail: str = ""
    attempts: int = 0


OnLink = Callable[[Link], None]
OnRelist = Callable[[], None]


async def follow_spine(
    client: AsyncClient,
    on_link: OnLink,
    on_event: Callable[[Event], None],
    on_relist: OnRelist,
    *,
    after: int | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Follow the spine forever (until cancelled); see the module docstring."""
    url = client.base_url
    failures = 0
    while True:
        try:
            head = (await client.health()).head_seq
            await client.whoami()  # health needs no token: check ours before saying "live"
            if after is None:
                after = head or 0
            async with aclosing(
                client.stream_events(after=after, reconnect=False, idle_timeout=IDLE_TIMEOUT_S)
            ) as stream:
                on_link(Link(LinkState.LIVE, url, after))
                if failures:
                    on_relist()  # catch up on state the events alone don't rebuild (lists, counts)
                failures = 0
                async for event in stream:
                    after = event.seq
                    on_event(event)
            detail = "the server closed the stream"
        except CursorExpired as error:
            after = None
            on_relist()
            detail = error.detail or "cursor expired"
        except (Unauthorized, Forbidden) as error:
            failures += 1
            on_link(Link(LinkState.REFUSED, url, after, error.detail or error.code, failures))
            await sleep(MAX_RETRY_S)
            continue
        except ProblemError as error:
            detail = f"{error.code}: {error.detail or error.title}"
        except MissiondError as error:
            detail = str(error)
        failures += 1
        on_link(Link(LinkState.RECONNECTING, url, after, detail, failures))
        await sleep(min(MAX_RETRY_S, MIN_RETRY_S * 2 ** min(failures - 1, 5)))


class EventLog:
    """The events this client has seen, newest last, at most `capacity` of them."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._events: deque[Event] = deque(maxlen=capacity)

    def extend(self, events: Iterable[Event]) -> None:
        last = self._events[-1].seq if self._events else 0
        self._events.extend(e for e in events if e.seq > last)

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    @property
    def last_seq(self) -> int | None:
        return self._events[-1].seq if self._events else None

    def matching(self, type_prefix: str = "", subject_prefix: str = "", limit: int = 500) -> list[Event]:
        """The newest `limit` events whose type and subject start with the prefixes, oldest first."""
        out: list[Event] = []
        for event in reversed(self._events):
            if event.type.startswith(type_prefix) and event.subject.startswith(subject_prefix):
                out.append(event)
                if len(out) >= limit:
                    break
        out.reverse()
        return out
