from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import HeaderParameter, Parameter, QueryParameter
from litestar.response import Stream

from missiond.api.openapi import problems
from missiond.api.sse import event_stream
from missiond.api.wire import EventBatchIn, EventIn, EventPageOut, IngestOut
from missiond.bootstrap import System
from missiond.core.events import EventFilter, NewEvent, to_us
from missiond.errors import InvalidCursor, ValidationFailed
from missiond.services.context import RequestContext
from missiond.services.events import check_cursor

TypeParam = Annotated[list[str] | None, QueryParameter(name="type", description="type prefix (repeatable)")]
SubjectParam = Annotated[
    list[str] | None, QueryParameter(name="subject", description="subject prefix (repeatable)")
]


def _filter(
    types: list[str] | None,
    subjects: list[str] | None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> EventFilter:
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise ValidationFailed.field(f"query.{name}", "must carry a time zone (use Z for UTC)")
    return EventFilter(
        types=tuple(types or ()),
        subjects=tuple(subjects or ()),
        since_us=to_us(since) if since else None,
        until_us=to_us(until) if until else None,
    )


def _ingest(system: System, ctx: RequestContext, items: list[EventIn]) -> Response[IngestOut]:
    new = [NewEvent(i.type, i.subject, dict(i.data), i.v, i.causation_id) for i in items]
    stored, replayed = system.events.ingest(ctx, new)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return Response(IngestOut.model_validate({"events": stored}), status_code=201, headers=headers)


def stream_response(system: System, flt: EventFilter, after: str | None, last_event_id: str | None) -> Stream:
    """Validate the cursor (410/400 before any byte is streamed), then stream from it."""
    raw = last_event_id if last_event_id not in (None, "") else after
    head, floor = system.events.bounds()
    if raw is None:
        start = head
    else:
        if not raw.strip().isdigit():
            raise InvalidCursor(f"cursor {raw!r} is not a seq", cursor=raw)
        start = int(raw.strip())
        check_cursor(start, head, floor)
        start = max(start, floor)
    settings = system.settings
    return Stream(
        event_stream(
            hub=system.hub,
            events=system.events,
            flt=flt,
            after=start,
            retry_ms=settings.sse_retry_ms,
            ping_s=settings.sse_ping_s,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


class EventsController(Controller):
    path = "/v1"
    security = [{"bearer": []}]
    tags = ["events"]

    @get(
        "/events",
        responses=problems(400, 401, 403, 410),
        sync_to_thread=True,
        summary="Query the event spine",
    )
    def query(
        self,
        system: System,
        ctx: RequestContext,
        types: TypeParam = None,
        subjects: SubjectParam = None,
        after: Annotated[int | None, Parameter(ge=0)] = None,
        cursor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    ) -> EventPageOut:
        page = system.events.query(
            ctx, _filter(types, subjects, since, until), after=after, cursor=cursor, limit=limit
        )
        return EventPageOut.model_validate(page.to_wire())

    @post(
        "/events",
        responses=problems(400, 401, 403, 413, 422),
        sync_to_thread=True,
        status_code=201,
        summary="Ingest one external event",
    )
    def ingest(self, system: System, ctx: RequestContext, data: EventIn) -> Response[IngestOut]:
        return _ingest(system, ctx, [data])

    @post(
        "/events/batch",
        responses=problems(400, 401, 403, 413, 422),
        sync_to_thread=True,
        status_code=201,
        summary="Ingest up to 500 external events atomically",
    )
    def ingest_batch(self, system: System, ctx: RequestContext, data: EventBatchIn) -> Response[IngestOut]:
        return _ingest(system, ctx, list(data.events))

    @get(
        "/streams/events",
        responses=problems(400, 401, 403, 410),
        media_type="text/event-stream",
        summary="Server-Sent Events stream of the spine",
    )
    async def stream(
        self,
        system: System,
        ctx: RequestContext,
        types: TypeParam = None,
        subjects: SubjectParam = None,
        after: str | None = None,
        last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID")] = None,
    ) -> Stream:
        ctx.principal.require("events:read")
        return stream_response(system, _filter(types, subjects), after, last_event_id)
