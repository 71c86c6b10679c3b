"""Follow an SSE stream of the spine across dropped connections: `GET
/v1/streams/events`, and the resource watch `GET /v1/streams/resources`
(whose frames are spine events too, so the same cursor serves both).

The cursor is the seq of the last event handed to the caller. Every
reconnect sends it as `Last-Event-ID`, so the server resumes right after it;
an event at or below it is dropped if it shows up again. Together: nothing
lost, nothing repeated.

A connection counts as dropped when the transport fails, when the server
ends the stream, when it sends `event: error` with code SLOW_CONSUMER (or
UNAVAILABLE), or when it answers 429/502/503/504. The wait before a reconnect
starts at the server's `retry:` and doubles while reconnects make no progress
(at most 30 s). A 410 CURSOR_EXPIRED, or any other error answer, is raised:
reconnecting would not help.

When the caller gives no `after`, the stream would start at the live head,
and a reconnect before the first event would silently skip whatever happened
meanwhile. So the head is read from `/v1/health` first and used as an
explicit `after`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Mapping
from contextlib import aclosing, closing
from typing import TYPE_CHECKING, Any

import httpx
from httpx_sse import ServerSentEvent, SSEError, aconnect_sse, connect_sse

from missiond.sdk import retry as _retry
from missiond.sdk.base import Filter, filter_params
from missiond.sdk.errors import (
    MissiondError,
    ProtocolError,
    TransportError,
    error_from_response,
    problem_error,
)
from missiond.sdk.models import Event, ResourceEvent

if TYPE_CHECKING:
    from missiond.sdk.async_client import AsyncClient
    from missiond.sdk.client import Client

STREAM_PATH = "/v1/streams/events"
DEFAULT_RETRY_S = 1.0
MAX_RECONNECT_DELAY_S = 30.0
RECONNECT_CODES = frozenset({"SLOW_CONSUMER", "UNAVAILABLE"})


class _Dropped(Exception):
    """The connection ended; carries the error to raise if we stop reconnecting."""

    def __init__(self, error: MissiondError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class StreamCursor:
    """The state of one followed stream; the IO loops below drive it."""

    def __init__(
        self,
        *,
        type: Filter = None,
        subject: Filter = None,
        after: int | None = None,
        reconnect: bool = True,
        max_retries: int | None = None,
        path: str = STREAM_PATH,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.filters = {**filter_params(type, subject), **(params or {})}
        self.after = after
        self.reconnect = reconnect
        self.max_retries = max_retries
        self.last_seq: int | None = None
        self.retry_s = DEFAULT_RETRY_S
        self.failures = 0
        self._head_known = after is not None or not reconnect

    @property
    def needs_head(self) -> bool:
        return not self._head_known and self.last_seq is None

    def start_at(self, head_seq: int | None) -> None:
        self._head_known = True
        if head_seq is not None:
            self.after = head_seq

    def request(self) -> tuple[dict[str, Any], dict[str, str]]:
        """Query parameters and headers for the next connection."""
        params = dict(self.filters)
        headers: dict[str, str] = {}
        if self.last_seq is not None:
            headers["Last-Event-ID"] = str(self.last_seq)
        elif self.after is not None:
            params["after"] = self.after
        return params, headers

    def check_response(self, response: httpx.Response) -> None:
        """Raise for an answer that is not a stream (its body already read)."""
        if response.status_code == 200:
            return
        error = error_from_response(response)
        if response.status_code in _retry.RETRY_STATUSES:
            retry_after = _retry.retry_after_seconds(response.headers.get("Retry-After"))
            raise _Dropped(error, retry_after)
        raise error

    def accept(self, sse: ServerSentEvent) -> Event | None:
        """The event a frame carries, or None for frames that carry none (or repeats)."""
        if sse.retry is not None:
            self.retry_s = max(0.0, sse.retry / 1000)
        if sse.event == "error":
            self._raise_error_frame(sse.data)
        if not sse.data:
            return None
        try:
            event = Event.from_json(json.loads(sse.data))
        except ValueError as exc:
            raise ProtocolError(f"an SSE frame is not JSON: {sse.data[:200]!r}") from exc
        if self.last_seq is not None and event.seq <= self.last_seq:
            return None
        self.last_seq = event.seq
        self.failures = 0
        return event

    def _raise_error_frame(self, data: str) -> None:
        try:
            problem = json.loads(data) if data else {}
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        problem.setdefault("code", "STREAM_ERROR")
        status = problem.get("status")
        error = problem_error(status if isinstance(status, int) else 0, problem)
        if error.code in RECONNECT_CODES:
            raise _Dropped(error)
        raise error

    def reconnect_delay(self, drop: _Dropped) -> float:
        """Seconds to wait before reconnecting; raises the drop's error when giving up."""
        self.failures += 1
        if not self.reconnect or (self.max_retries is not None and self.failures > self.max_retries):
            raise drop.error
        backoff = _retry.Backoff(base=self.retry_s, cap=max(self.retry_s, MAX_RECONNECT_DELAY_S))
        return max(backoff.delay(self.failures - 1), drop.retry_after or 0.0)


def _closed_by_server() -> _Dropped:
    return _Dropped(TransportError("the server closed the event stream"))


def _timeout(client: Client | AsyncClient, idle_timeout: float | None) -> httpx.Timeout:
    return httpx.Timeout(client.timeout, read=idle_timeout)


def iter_stream(
    client: Client, cursor: StreamCursor, *, idle_timeout: float | None
) -> Generator[Event, None, None]:
    while True:
        try:
            if cursor.needs_head:
                cursor.start_at(client.health().head_seq)
            params, headers = cursor.request()
            with connect_sse(
                client.http,
                "GET",
                cursor.path,
                params=params,
                headers=headers,
                timeout=_timeout(client, idle_timeout),
            ) as source:
                if source.response.status_code != 200:
                    source.response.read()
                    cursor.check_response(source.response)
                for sse in source.iter_sse():
                    event = cursor.accept(sse)
                    if event is not None:
                        yield event
            raise _closed_by_server()
        except _Dropped as drop:
            failure = drop
        except TransportError as exc:
            failure = _Dropped(exc)
        except SSEError as exc:  # before httpx.TransportError: it is one
            raise ProtocolError(str(exc)) from exc
        except httpx.TransportError as exc:
            error = client.translate_error(exc)
            error.__cause__ = exc
            failure = _Dropped(error)
        _retry.pause(cursor.reconnect_delay(failure))


async def aiter_stream(
    client: AsyncClient, cursor: StreamCursor, *, idle_timeout: float | None
) -> AsyncGenerator[Event, None]:
    while True:
        try:
            if cursor.needs_head:
                cursor.start_at((await client.health()).head_seq)
            params, headers = cursor.request()
            async with aconnect_sse(
                client.http,
                "GET",
                cursor.path,
                params=params,
                headers=headers,
                timeout=_timeout(client, idle_timeout),
            ) as source:
                if source.response.status_code != 200:
                    await source.response.aread()
                    cursor.check_response(source.response)
                async for sse in source.aiter_sse():
                    event = cursor.accept(sse)
                    if event is not None:
                        yield event
            raise _closed_by_server()
        except _Dropped as drop:
            failure = drop
        except TransportError as exc:
            failure = _Dropped(exc)
        except SSEError as exc:  # before httpx.TransportError: it is one
            raise ProtocolError(str(exc)) from exc
        except httpx.TransportError as exc:
            error = client.translate_error(exc)
            error.__cause__ = exc
            failure = _Dropped(error)
        await _retry.apause(cursor.reconnect_delay(failure))


def iter_resource_stream(
    client: Client, cursor: StreamCursor, *, idle_timeout: float | None
) -> Iterator[ResourceEvent]:
    """The resource watch: spine events, resumed and deduplicated by seq, as `ResourceEvent`s."""
    with closing(iter_stream(client, cursor, idle_timeout=idle_timeout)) as events:
        for event in events:
            yield ResourceEvent.from_event(event)


async def aiter_resource_stream(
    client: AsyncClient, cursor: StreamCursor, *, idle_timeout: float | None
) -> AsyncIterator[ResourceEvent]:
    async with aclosing(aiter_stream(client, cursor, idle_timeout=idle_timeout)) as events:
        async for event in events:
            yield ResourceEvent.from_event(event)
