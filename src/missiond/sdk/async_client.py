"""The asynchronous client: `Client`'s twin for asyncio (or trio) code."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from os import PathLike
from types import TracebackType
from typing import Any

import httpx

from missiond.sdk import resources as _res
from missiond.sdk import retry as _retry
from missiond.sdk.base import (
    ClientBase,
    Filter,
    TimeBound,
    batch_body,
    decode_json,
    event_body,
    idempotency_headers,
    json_bytes,
    parse_ingested,
    query_params,
)
from missiond.sdk.errors import error_from_response
from missiond.sdk.models import (
    DeletedResource,
    Event,
    EventPage,
    Health,
    Identity,
    Resource,
    ResourceEvent,
    ResourcePage,
    TxnResult,
)
from missiond.sdk.streams import StreamCursor, aiter_resource_stream, aiter_stream


class AsyncClient(ClientBase):
    """A non-blocking client for one missiond server.

    Use it as an async context manager, or await `aclose()` when done::

        async with AsyncClient() as client:
            async for event in client.stream_events(type="resource."):
                ...
    """

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        home: str | PathLike[str] | None = None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        retries: int = 3,
        correlation_id: str | None = None,
        backoff: _retry.Backoff | None = None,
    ) -> None:
        super().__init__(
            base_url,
            token,
            home=home,
            timeout=timeout,
            retries=retries,
            correlation_id=correlation_id,
            backoff=backoff,
        )
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=self._default_headers(),
            timeout=timeout,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- the one way out ---------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one request, retrying when that is safe; return a 2xx answer or raise.

        `idempotent` overrides the guess from the method and `Idempotency-Key`.
        """
        headers = dict(headers or {})
        params = {k: v for k, v in (params or {}).items() if v is not None}
        retryable = self._retryable(method, headers, idempotent)
        attempt = 0
        while True:
            try:
                response = await self.http.request(
                    method, path, json=json, content=content, params=params, headers=headers
                )
            except (httpx.TransportError, httpx.InvalidURL) as exc:
                error = self.translate_error(exc)
                delay = self._delay_after_error(attempt, retryable)
                if delay is None or isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
                    raise error from exc
            else:
                if response.is_success:
                    return response
                delay = self._delay_after_response(response, attempt, retryable)
                if delay is None:
                    raise error_from_response(response)
            await _retry.apause(delay)
            attempt += 1

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return decode_json(await self.request(method, path, **kwargs))

    # -- health and identity -----------------------------------------------

    async def health(self) -> Health:
        return Health.from_json(await self._json("GET", "/v1/health"))

    async def whoami(self) -> Identity:
        return Identity.from_json(await self._json("GET", "/v1/whoami"))

    # -- the event spine ---------------------------------------------------

    async def query_events(
        self,
        type: Filter = None,
        subject: Filter = None,
        after: int | None = None,
        cursor: str | None = None,
        since: TimeBound = None,
        until: TimeBound = None,
        limit: int | None = None,
    ) -> EventPage:
        """One page of events; `type` and `subject` are prefixes (a list means OR)."""
        params = query_params(
            type=type,
            subject=subject,
            after=after,
            cursor=cursor,
            since=since,
            until=until,
            limit=limit,
        )
        return EventPage.from_json(await self._json("GET", "/v1/events", params=params))

    async def iter_event_pages(
        self,
        type: Filter = None,
        subject: Filter = None,
        after: int | None = None,
        cursor: str | None = None,
        since: TimeBound = None,
        until: TimeBound = None,
        page_size: int | None = None,
    ) -> AsyncIterator[EventPage]:
        """Every page of a query, following `next_cursor` until the last one."""
        while True:
            page = await self.query_events(type, subject, after, cursor, since, until, page_size)
            yield page
            if not page.next_cursor or not page.events or page.next_cursor == cursor:
                return
            cursor = page.next_cursor

    async def iter_events(
        self,
        type: Filter = None,
        subject: Filter = None,
        after: int | None = None,
        cursor: str | None = None,
        since: TimeBound = None,
        until: TimeBound = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Event]:
        """Every matching event, page after page."""
        pages = self.iter_event_pages(type, subject, after, cursor, since, until, page_size)
        async for page in pages:
            for event in page.events:
                yield event

    async def ingest_event(
        self,
        type: str,
        subject: str,
        data: Mapping[str, Any] | None = None,
        v: int = 1,
        causation_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Event:
        """Append one external event; returns the stored envelope."""
        answer = await self._json(
            "POST",
            "/v1/events",
            json=event_body(type, subject, data, v, causation_id),
            headers=idempotency_headers(idempotency_key),
        )
        return parse_ingested(answer)[0]

    async def ingest_events(
        self, events: Iterable[Mapping[str, Any]], idempotency_key: str | None = None
    ) -> list[Event]:
        """Append up to 500 events atomically (contiguous seqs): `POST /v1/events/batch`."""
        answer = await self._json(
            "POST",
            "/v1/events/batch",
            json=batch_body(events),
            headers=idempotency_headers(idempotency_key),
        )
        return parse_ingested(answer)

    async def compact(self, through_seq: int, idempotency_key: str | None = None) -> dict[str, Any]:
        """Drop events with seq <= `through_seq` (admin); returns the server's answer."""
        answer = await self._json(
            "POST",
            "/v1/admin/compact",
            json={"through_seq": through_seq},
            headers=idempotency_headers(idempotency_key),
        )
        return dict(answer) if isinstance(answer, Mapping) else {}

    def stream_events(
        self,
        type: Filter = None,
        subject: Filter = None,
        after: int | None = None,
        reconnect: bool = True,
        max_retries: int | None = None,
        idle_timeout: float | None = 60.0,
    ) -> AsyncIterator[Event]:
        """Follow the live spine, reconnecting (exactly once) across drops.

        `after` starts after that seq (0 replays everything retained); by
        default only new events. `max_retries` bounds consecutive reconnects
        without progress (None: forever). `idle_timeout` is how long a silent
        connection (no event, no ping) is trusted before it is dropped.
        """
        cursor = StreamCursor(
            type=type, subject=subject, after=after, reconnect=reconnect, max_retries=max_retries
        )
        return aiter_stream(self, cursor, idle_timeout=idle_timeout)

    # -- shared resources (SHARED_RESOURCES.md) ---------------------------------

    async def get_resource(self, key: str) -> Resource:
        """The record under `key`; `ResourceNotFound` when there is none (or it expired)."""
        return Resource.from_json(await self._json("GET", _res.resource_path(key)))

    async def put_resource(
        self,
        key: str,
        value: Any,
        *,
        if_rev: int | None = None,
        create_only: bool = False,
        expected_rev: int | None = None,
        ttl_s: float | None = None,
        idempotency_key: str | None = None,
    ) -> Resource:
        """Create or replace `key` with `value` (any JSON); see `Client.put_resource`."""
        headers = {
            **_res.precondition_headers(if_rev, create_only),
            **idempotency_headers(idempotency_key),
        }
        answer = await self._json(
            "PUT",
            _res.resource_path(key),
            json=_res.put_body(value, expected_rev, ttl_s),
            headers=headers,
        )
        return Resource.from_json(answer)

    async def patch_resource(
        self,
        key: str,
        patch: Any,
        *,
        if_rev: int | None = None,
        expected_rev: int | None = None,
        idempotency_key: str | None = None,
    ) -> Resource:
        """JSON Merge Patch (RFC 7386) an existing `key`: `null` removes a member. Keeps the TTL."""
        headers = {
            "Content-Type": _res.MERGE_PATCH,
            **_res.precondition_headers(if_rev),
            **idempotency_headers(idempotency_key),
        }
        response = await self.request(
            "PATCH",
            _res.resource_path(key),
            content=json_bytes(patch),
            params=_res.expected_rev_params(expected_rev),
            headers=headers,
        )
        return Resource.from_json(decode_json(response))

    async def delete_resource(
        self,
        key: str,
        *,
        if_rev: int | None = None,
        expected_rev: int | None = None,
        idempotency_key: str | None = None,
    ) -> DeletedResource:
        """Delete an existing `key`; returns the revision of the deletion."""
        answer = await self._json(
            "DELETE",
            _res.resource_path(key),
            params=_res.expected_rev_params(expected_rev),
            headers={**_res.precondition_headers(if_rev), **idempotency_headers(idempotency_key)},
        )
        return DeletedResource.from_json(answer)

    async def list_resources(
        self, prefix: str = "", *, after_key: str | None = None, limit: int | None = None
    ) -> ResourcePage:
        """One page of records under `prefix`, sorted by key, with the revision it is consistent with."""
        params = _res.list_params(prefix, after_key, limit)
        return ResourcePage.from_json(await self._json("GET", _res.RESOURCES_PATH, params=params))

    async def iter_resource_pages(
        self, prefix: str = "", *, after_key: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[ResourcePage]:
        """Every page under `prefix`, following `next_after_key` (see `Client.iter_resource_pages`)."""
        while True:
            page = await self.list_resources(prefix, after_key=after_key, limit=page_size)
            yield page
            if not page.next_after_key or page.next_after_key == after_key:
                return
            after_key = page.next_after_key

    async def iter_resources(
        self, prefix: str = "", *, after_key: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[Resource]:
        """Every record under `prefix`, page after page."""
        async for page in self.iter_resource_pages(prefix, after_key=after_key, page_size=page_size):
            for item in page.items:
                yield item

    async def txn(
        self,
        compares: _res.Compares = (),
        ops: _res.Ops = (),
        *,
        idempotency_key: str | None = None,
    ) -> TxnResult:
        """All or nothing: compares, then ops (see `Client.txn`)."""
        answer = await self._json(
            "POST",
            _res.TXN_PATH,
            json=_res.txn_body(compares, ops),
            headers=idempotency_headers(idempotency_key),
        )
        return TxnResult.from_json(answer)

    def watch_resources(
        self,
        prefix: str = "",
        after: int | None = None,
        reconnect: bool = True,
        max_retries: int | None = None,
        idle_timeout: float | None = 60.0,
    ) -> AsyncIterator[ResourceEvent]:
        """Follow the changes under `prefix`, reconnecting (exactly once) across drops.

        `after` is a revision (e.g. a `ResourcePage.revision`); without it the
        watch starts at the head read before connecting.
        """
        cursor = StreamCursor(
            path=_res.WATCH_PATH,
            params=_res.watch_params(prefix),
            after=after,
            reconnect=reconnect,
            max_retries=max_retries,
        )
        return aiter_resource_stream(self, cursor, idle_timeout=idle_timeout)
