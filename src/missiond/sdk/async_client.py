"""The asynchronous client: `Client`'s twin for asyncio (or trio) code."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from os import PathLike
from types import TracebackType
from typing import Any

import httpx

from missiond.sdk import resources as _res
from missiond.sdk import retry as _retry
from missiond.sdk import routines as _rtn
from missiond.sdk import tasks as _tasks
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
from missiond.sdk.errors import ProtocolError, error_from_response
from missiond.sdk.memory import AsyncMemoryMethods
from missiond.sdk.missions import AsyncMissionMethods
from missiond.sdk.models import (
    Agent,
    AgentSession,
    Approval,
    Claim,
    DeletedResource,
    Event,
    EventPage,
    Health,
    Identity,
    Lease,
    Resource,
    ResourceEvent,
    ResourcePage,
    Routine,
    RoutinePage,
    RoutineRun,
    RoutineRunPage,
    Task,
    TaskPage,
    TxnResult,
    parse_approvals,
    parse_tasks,
)
from missiond.sdk.streams import StreamCursor, aiter_resource_stream, aiter_stream


class AsyncClient(AsyncMissionMethods, AsyncMemoryMethods, ClientBase):
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

    # -- the task board (TASK_BOARD.md) ------------------------------------------------------

    async def create_task(self, title: str, *, idempotency_key: str | None = None, **fields: Any) -> Task:
        """Create a task: `title` plus any of type, intent, description, plan, priority (0 most
        urgent .. 4), labels, role, parent_id, mission_id, status (open or blocked)."""
        answer = await self._json(
            "POST",
            _tasks.TASKS_PATH,
            json=_tasks.task_body(title, fields),
            headers=idempotency_headers(idempotency_key),
        )
        return Task.from_json(answer)

    async def get_task(self, id: str) -> Task:
        """One task with its relationships, notes and steps; `TaskNotFound` when there is none."""
        return Task.from_json(await self._json("GET", _tasks.task_path(id)))

    async def update_task(
        self,
        id: str,
        *,
        fencing_token: int | None = None,
        if_rev: int | None = None,
        idempotency_key: str | None = None,
        **changes: Any,
    ) -> Task:
        """Edit fields (title, type, intent, description, plan, priority, labels, role, parent_id,
        mission_id). `if_rev` sends `If-Match` (`PreconditionFailed` when the task moved on)."""
        headers = {
            **_tasks.fencing_headers(fencing_token),
            **_tasks.if_match_headers(if_rev),
            **idempotency_headers(idempotency_key),
        }
        answer = await self._json(
            "PATCH", _tasks.task_path(id), json=_tasks.changes_body(changes), headers=headers
        )
        return Task.from_json(answer)

    async def list_tasks(
        self,
        *,
        status: _tasks.Labels | None = None,
        role: str | None = None,
        label: _tasks.Labels | None = None,
        parent: str | None = None,
        mission: str | None = None,
        assignee: str | None = None,
        q: str | None = None,
        blocked: bool | None = None,
        after_id: str | None = None,
        limit: int | None = None,
    ) -> TaskPage:
        """One page of tasks in id order; `status` and `label` may be lists (every label must match)."""
        params = _tasks.list_params(
            status=status,
            role=role,
            label=label,
            parent=parent,
            mission=mission,
            assignee=assignee,
            q=q,
            blocked=blocked,
            after_id=after_id,
            limit=limit,
        )
        return TaskPage.from_json(await self._json("GET", _tasks.TASKS_PATH, params=params))

    async def ready_tasks(
        self, role: str | None = None, labels: _tasks.Labels = (), limit: int | None = None
    ) -> list[Task]:
        """The ready queue, best first: open, no open blocker, no live lease."""
        params = _tasks.ready_params(role, labels, limit)
        return parse_tasks(await self._json("GET", _tasks.READY_PATH, params=params))

    async def claim_task(
        self,
        role: str | None = None,
        labels: _tasks.Labels = (),
        ttl_s: float = 300.0,
        session_id: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Claim | None:
        """Claim the best ready task; None when nothing is ready (the server answered 204)."""
        answer = await self._json(
            "POST",
            _tasks.CLAIM_PATH,
            json=_tasks.claim_body(role=role, labels=labels, ttl_s=ttl_s, session_id=session_id),
            headers=idempotency_headers(idempotency_key),
        )
        return _tasks.parse_claim(answer)

    async def claim_task_id(
        self,
        id: str,
        ttl_s: float = 300.0,
        session_id: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Claim:
        """Claim one named task: `TaskNotReady`, `LeaseHeld` or `InvalidTransition` when it can't be."""
        answer = await self._json(
            "POST",
            _tasks.task_path(id, "claim"),
            json=_tasks.claim_body(ttl_s=ttl_s, session_id=session_id),
            headers=idempotency_headers(idempotency_key),
        )
        claim = _tasks.parse_claim(answer)
        if claim is None:
            raise ProtocolError(f"the server answered a claim of {id} without a task")
        return claim

    async def renew_lease(
        self,
        lease_id: str,
        ttl_s: float | None = None,
        fencing_token: int | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Lease:
        """Extend a live lease by `ttl_s` (default: its own ttl); `LeaseExpired` once it is gone."""
        answer = await self._json(
            "POST",
            _tasks.lease_path(lease_id, "renew"),
            json=_tasks.renew_body(ttl_s),
            headers={**_tasks.fencing_headers(fencing_token), **idempotency_headers(idempotency_key)},
        )
        return Lease.from_json(answer)

    async def release_lease(
        self,
        lease_id: str,
        fencing_token: int | None = None,
        outcome: str | None = None,
        complete: bool = False,
        *,
        idempotency_key: str | None = None,
    ) -> Claim:
        """Hand the task back (a non-empty `outcome` becomes an `attempt` note), or with
        `complete=True` complete it with `outcome`. Returns the task and the ended lease."""
        answer = await self._json(
            "POST",
            _tasks.lease_path(lease_id, "release"),
            json=_tasks.release_body(outcome, complete),
            headers={**_tasks.fencing_headers(fencing_token), **idempotency_headers(idempotency_key)},
        )
        return Claim.from_json(answer)

    async def complete_task(
        self,
        id: str,
        outcome: str,
        fencing_token: int | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Task:
        """Complete a task with its outcome (ends the lease; tasks it blocked may become ready)."""
        answer = await self._json(
            "POST",
            _tasks.task_path(id, "complete"),
            json={"outcome": outcome},
            headers={**_tasks.fencing_headers(fencing_token), **idempotency_headers(idempotency_key)},
        )
        return Task.from_json(answer)

    async def transition_task(
        self,
        id: str,
        status: str,
        outcome: str | None = None,
        reason: str | None = None,
        fencing_token: int | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Task:
        """Move a task to `status` (open, blocked, completed, cancelled); `InvalidTransition`
        names the allowed ones. Starting work is a claim, not a transition."""
        answer = await self._json(
            "POST",
            _tasks.task_path(id, "transition"),
            json=_tasks.transition_body(status, outcome, reason),
            headers={**_tasks.fencing_headers(fencing_token), **idempotency_headers(idempotency_key)},
        )
        return Task.from_json(answer)

    async def add_note(
        self,
        id: str,
        kind: str,
        body: str,
        supersedes: str | None = None,
        fencing_token: int | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Add an immutable note (decision, rationale, attempt, outcome, blocker, note, reference);
        returns the stored note."""
        answer = await self._json(
            "POST",
            _tasks.task_path(id, "notes"),
            json=_tasks.note_body(kind, body, supersedes),
            headers={**_tasks.fencing_headers(fencing_token), **idempotency_headers(idempotency_key)},
        )
        return _tasks.as_dict(answer)

    async def add_step(
        self,
        id: str,
        title: str,
        fencing_token: int | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Add a pending step; returns the stored step (its `id` is what `set_step` takes)."""
        answer = await self._json(
            "POST",
            _tasks.task_path(id, "steps"),
            json={"title": title},
            headers={**_tasks.fencing_headers(fencing_token), **idempotency_headers(idempotency_key)},
        )
        return _tasks.as_dict(answer)

    async def set_step(
        self,
        id: str,
        step_id: str,
        status: str,
        fencing_token: int | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Mark a step done, skipped, or pending again; returns the stored step."""
        answer = await self._json(
            "PATCH",
            _tasks.step_path(id, step_id),
            json={"status": status},
            headers={**_tasks.fencing_headers(fencing_token), **idempotency_headers(idempotency_key)},
        )
        return _tasks.as_dict(answer)

    async def link_tasks(
        self,
        id: str,
        kind: str,
        other_id: str,
        fencing_token: int | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Relate two tasks: `link_tasks(a, "blocks", b)` (b waits for a), blocked_by, relates_to,
        duplicates, duplicated_by, parent_of, child_of. `CycleDetected` names the cycle."""
        answer = await self._json(
            "POST",
            _tasks.task_path(id, "links"),
            json={"kind": kind, "other_id": other_id},
            headers={**_tasks.fencing_headers(fencing_token), **idempotency_headers(idempotency_key)},
        )
        return _tasks.as_dict(answer)

    async def unlink_tasks(
        self,
        id: str,
        kind: str,
        other_id: str,
        fencing_token: int | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Remove a relationship (`NotFound` with LINK_NOT_FOUND when there is none)."""
        answer = await self._json(
            "DELETE",
            _tasks.task_path(id, "links"),
            params=_tasks.unlink_params(kind, other_id),
            headers={**_tasks.fencing_headers(fencing_token), **idempotency_headers(idempotency_key)},
        )
        return _tasks.as_dict(answer)

    async def task_tree(self, id: str, which: str) -> list[Task]:
        """The task's `children`, `descendants` (each with `raw["depth"]`) or `ancestors`."""
        return parse_tasks(await self._json("GET", _tasks.task_path(id, _tasks.tree_which(which))))

    async def task_history(self, id: str) -> list[Event]:
        """The events about this task, oldest first."""
        return _tasks.parse_history(await self._json("GET", _tasks.task_path(id, "history")))

    async def batch(
        self, ops: Iterable[Mapping[str, Any]], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Apply task ops all or nothing; returns `{refs, results}` (ref name -> task id)."""
        answer = await self._json(
            "POST",
            _tasks.BATCH_PATH,
            json=_tasks.batch_body(ops),
            headers=idempotency_headers(idempotency_key),
        )
        return _tasks.as_dict(answer)

    # -- agents and sessions ---------------------------------------------------------------

    async def create_agent(
        self,
        name: str,
        roles: _tasks.Labels = (),
        capabilities: Iterable[str] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> tuple[Agent, str | None]:
        """Register an agent (admin); returns it and its token, which is shown only this once
        (None when the server replayed an earlier answer to the same idempotency key)."""
        answer = await self._json(
            "POST",
            _tasks.AGENTS_PATH,
            json=_tasks.agent_body(name, roles, capabilities),
            headers=idempotency_headers(idempotency_key),
        )
        return _tasks.parse_agent(answer)

    async def list_agents(self) -> list[Agent]:
        return _tasks.parse_agents(await self._json("GET", _tasks.AGENTS_PATH))

    async def start_session(self, ttl_s: float = 60.0, *, idempotency_key: str | None = None) -> AgentSession:
        """Start a session; claims made with its id live as long as it is heartbeated."""
        answer = await self._json(
            "POST",
            _tasks.SESSIONS_PATH,
            json={"ttl_s": ttl_s},
            headers=idempotency_headers(idempotency_key),
        )
        return AgentSession.from_json(answer)

    async def heartbeat(self, session_id: str) -> AgentSession:
        """Extend the session and the leases claimed under it (`leases_renewed` says how many)."""
        answer = await self._json(
            "POST", _tasks.session_path(session_id, "heartbeat"), json={}, idempotent=True
        )
        return AgentSession.from_json(answer)

    async def end_session(self, session_id: str, *, idempotency_key: str | None = None) -> AgentSession:
        """End the session; the leases claimed under it go back to the ready queue."""
        answer = await self._json(
            "POST",
            _tasks.session_path(session_id, "end"),
            json={},
            headers=idempotency_headers(idempotency_key),
        )
        return AgentSession.from_json(answer)

    # -- routines and approvals (ROUTINES_CRON.md) -------------------------------------------

    async def create_routine(
        self,
        name: str,
        *,
        cron: str | None = None,
        timezone: str | None = None,
        interval_s: float | None = None,
        action: Mapping[str, Any],
        misfire: _rtn.Misfire | None = None,
        overlap: str | None = None,
        requires_approval: bool = False,
        external_allowed: bool = False,
        status: str | None = None,
        idempotency_key: str | None = None,
    ) -> Routine:
        """Create a routine on a `cron` schedule (in `timezone`, UTC by default) or every
        `interval_s` seconds. `action` is `{kind: command|connector|task, ...}`; `misfire` a
        policy name (skip, run_once, catch_up) or `{policy, max_runs, grace_s}`; `overlap`
        skip, queue_one or allow. Agents' routines start as drafts. `InvalidSchedule` and
        `UnknownConnector` name what the server refused (nothing is stored)."""
        body = _rtn.routine_body(
            name,
            cron=cron,
            timezone=timezone,
            interval_s=interval_s,
            action=action,
            misfire=misfire,
            overlap=overlap,
            requires_approval=requires_approval,
            external_allowed=external_allowed,
            status=status,
        )
        answer = await self._json(
            "POST", _rtn.ROUTINES_PATH, json=body, headers=idempotency_headers(idempotency_key)
        )
        return Routine.from_json(answer)

    async def get_routine(self, id: str) -> Routine:
        """One routine with its `last_run`; `RoutineNotFound` when there is none."""
        return Routine.from_json(await self._json("GET", _rtn.routine_path(id)))

    async def list_routines(
        self, status: str | None = None, *, after_id: str | None = None, limit: int | None = None
    ) -> RoutinePage:
        """One page of routines in id order (each with its `last_run`); `status` is active,
        paused or draft."""
        params = _rtn.list_params(status, after_id, limit)
        return RoutinePage.from_json(await self._json("GET", _rtn.ROUTINES_PATH, params=params))

    async def iter_routines(
        self, status: str | None = None, *, after_id: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[Routine]:
        """Every routine, page after page (following `next_after_id`)."""
        while True:
            page = await self.list_routines(status, after_id=after_id, limit=page_size)
            for item in page.items:
                yield item
            if not page.next_after_id or not page.items or page.next_after_id == after_id:
                return
            after_id = page.next_after_id

    async def update_routine(
        self,
        id: str,
        *,
        expected_rev: int | None = None,
        idempotency_key: str | None = None,
        **changes: Any,
    ) -> Routine:
        """Edit a routine: name, schedule (or cron/timezone/interval_s), misfire, overlap,
        action, requires_approval, external_allowed. The schedule, misfire and action objects
        are replaced whole; a new schedule is anchored now. `expected_rev` makes the edit
        conditional (`RevisionConflict`). An agent's edit sends the routine back to draft."""
        answer = await self._json(
            "PATCH",
            _rtn.routine_path(id),
            json=_rtn.changes_body(changes, expected_rev),
            headers=idempotency_headers(idempotency_key),
        )
        return Routine.from_json(answer)

    async def delete_routine(self, id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """Delete a routine (its history stays); returns `{id, deleted}`."""
        answer = await self._json(
            "DELETE", _rtn.routine_path(id), headers=idempotency_headers(idempotency_key)
        )
        return _tasks.as_dict(answer)

    async def activate_routine(self, id: str, *, idempotency_key: str | None = None) -> Routine:
        """Activate a draft (people only: agents get `Forbidden`)."""
        answer = await self._json(
            "POST", _rtn.routine_path(id, "activate"), headers=idempotency_headers(idempotency_key)
        )
        return Routine.from_json(answer)

    async def pause_routine(self, id: str, *, idempotency_key: str | None = None) -> Routine:
        """Pause an active routine; where it stopped is kept for `resume_routine`."""
        answer = await self._json(
            "POST", _rtn.routine_path(id, "pause"), headers=idempotency_headers(idempotency_key)
        )
        return Routine.from_json(answer)

    async def resume_routine(
        self, id: str, apply_misfire: bool = False, *, idempotency_key: str | None = None
    ) -> Routine:
        """Resume from now, recording the paused occurrences as one missed range; with
        `apply_misfire=True` the misfire policy decides what of them runs instead."""
        answer = await self._json(
            "POST",
            _rtn.routine_path(id, "resume"),
            json=_rtn.resume_body(apply_misfire),
            headers=idempotency_headers(idempotency_key),
        )
        return Routine.from_json(answer)

    async def run_routine_now(self, id: str, *, idempotency_key: str | None = None) -> RoutineRun:
        """A manual run now (even while paused); returns the run: queued, or pending_approval
        with its `approval_id`. `PolicyBlocked` when the gate refuses (the blocked run is still
        recorded, see `PolicyBlocked.run`); a draft cannot run (`Conflict`, ROUTINE_DRAFT)."""
        answer = await self._json(
            "POST", _rtn.routine_path(id, "run-now"), headers=idempotency_headers(idempotency_key)
        )
        return RoutineRun.from_json(answer)

    async def routine_history(
        self, id: str, limit: int | None = None, before_id: str | None = None
    ) -> RoutineRunPage:
        """The routine's runs, newest first; pass `next_before_id` as `before_id` for more."""
        params = _rtn.history_params(limit, before_id)
        return RoutineRunPage.from_json(
            await self._json("GET", _rtn.routine_path(id, "history"), params=params)
        )

    def watch_routines(
        self,
        after: int | None = None,
        reconnect: bool = True,
        max_retries: int | None = None,
        idle_timeout: float | None = 60.0,
    ) -> AsyncIterator[Event]:
        """Follow the `routine.*` events (created, fired, missed, blocked, run_finished, ...),
        reconnecting (exactly once) across drops. `after` is a spine seq; by default from now."""
        cursor = StreamCursor(
            path=_rtn.STREAM_PATH, after=after, reconnect=reconnect, max_retries=max_retries
        )
        return aiter_stream(self, cursor, idle_timeout=idle_timeout)

    async def list_approvals(
        self, status: str | None = "pending", *, limit: int | None = None
    ) -> list[Approval]:
        """The approval queue: pending by default (approved, denied, expired on request)."""
        params = _rtn.approval_params(status, limit)
        return parse_approvals(await self._json("GET", _rtn.APPROVALS_PATH, params=params))

    async def get_approval(self, id: str) -> Approval:
        """One approval; `ApprovalNotFound` when there is none."""
        return Approval.from_json(await self._json("GET", _rtn.approval_path(id)))

    async def approve(
        self, id: str, reason: str | None = None, *, idempotency_key: str | None = None
    ) -> Approval:
        """Approve (people only); an approved routine run is queued."""
        answer = await self._json(
            "POST",
            _rtn.approval_path(id, "approve"),
            json=_rtn.approve_body(reason),
            headers=idempotency_headers(idempotency_key),
        )
        return Approval.from_json(answer)

    async def deny(self, id: str, reason: str, *, idempotency_key: str | None = None) -> Approval:
        """Deny with a reason (people only); a denied routine run is recorded as `denied`."""
        answer = await self._json(
            "POST",
            _rtn.approval_path(id, "deny"),
            json=_rtn.deny_body(reason),
            headers=idempotency_headers(idempotency_key),
        )
        return Approval.from_json(answer)
