from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import HeaderParameter, Parameter
from litestar.response import Stream
from pydantic import Field

from missiond.api.controllers.events import stream_response
from missiond.api.controllers.tasks import answer
from missiond.api.openapi import problems
from missiond.api.wire import WireModel
from missiond.bootstrap import System
from missiond.core.events import EventFilter
from missiond.services.context import RequestContext
from missiond.services.mission_engine import subject_of


class MissionEventIn(WireModel):
    type: str = Field(max_length=100, examples=["work.submitted"])
    mission_id: str | None = Field(default=None, max_length=40)
    data: dict[str, Any] = Field(default_factory=dict)


class SubmitIn(WireModel):
    summary: str | None = Field(default=None, max_length=20_000)
    # What the agent hands in beside its summary (a diff, a log): kept as the attempt's artifact.
    output: str | None = Field(default=None, max_length=65_536)
    ok: bool = True
    attempt: int | None = Field(default=None, ge=1)


class ReviewIn(WireModel):
    verdict: Literal["approve", "request_changes"]
    feedback: str | None = Field(default=None, max_length=20_000)
    attempt: int | None = Field(default=None, ge=1)


class ReasonIn(WireModel):
    reason: str | None = Field(default=None, max_length=2000)


P = problems(400, 401, 403, 404, 409, 422)
MISSION_STREAM_TYPES = ("mission.", "work.", "review.", "test.", "artifact.")


class MissionsController(Controller):
    path = "/v1"
    tags = ["missions"]
    security = [{"bearer": []}]

    @post(
        "/missions", responses=P, sync_to_thread=True, status_code=201, summary="Create a mission from a spec"
    )
    def create(
        self, system: System, ctx: RequestContext, data: dict[str, Any], start: bool = False
    ) -> Response[dict[str, Any]]:
        # The spec is parsed by the core, which names every bad field (body.roles.executor, ...).
        created, replayed = system.missions.create(ctx, data, start=start)
        return answer(created, replayed, 201)

    @get(
        "/missions",
        responses=problems(400, 401, 403),
        sync_to_thread=True,
        summary="List missions, newest first",
    )
    def list_missions(
        self,
        system: System,
        ctx: RequestContext,
        status: str | None = None,
        after: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        return system.missions.list(ctx, status=status, after=after, limit=limit)

    @get("/missions/{mission_id:str}", responses=P, sync_to_thread=True, summary="A mission with its items")
    def show(self, system: System, ctx: RequestContext, mission_id: str) -> dict[str, Any]:
        return system.missions.get(ctx, mission_id)

    @post(
        "/missions/{mission_id:str}/start", responses=P, sync_to_thread=True, status_code=200, summary="Start"
    )
    def start(self, system: System, ctx: RequestContext, mission_id: str) -> Response[dict[str, Any]]:
        return answer(*system.missions.lifecycle(ctx, mission_id, "start"))

    @post(
        "/missions/{mission_id:str}/pause", responses=P, sync_to_thread=True, status_code=200, summary="Pause"
    )
    def pause(self, system: System, ctx: RequestContext, mission_id: str) -> Response[dict[str, Any]]:
        return answer(*system.missions.lifecycle(ctx, mission_id, "pause"))

    @post(
        "/missions/{mission_id:str}/resume",
        responses=P,
        sync_to_thread=True,
        status_code=200,
        summary="Resume a paused or halted mission; ready work is dispatched at once",
    )
    def resume(self, system: System, ctx: RequestContext, mission_id: str) -> Response[dict[str, Any]]:
        return answer(*system.missions.lifecycle(ctx, mission_id, "resume"))

    @post(
        "/missions/{mission_id:str}/cancel",
        responses=P,
        sync_to_thread=True,
        status_code=200,
        summary="Cancel; open work is released",
    )
    def cancel(
        self, system: System, ctx: RequestContext, mission_id: str, data: ReasonIn | None = None
    ) -> Response[dict[str, Any]]:
        return answer(*system.missions.lifecycle(ctx, mission_id, "cancel", data.reason if data else None))

    @post(
        "/missions/{mission_id:str}/events",
        responses=P,
        sync_to_thread=True,
        status_code=200,
        summary="Apply an event (409 MISSION_EVENT_NOT_APPLICABLE when it does not apply)",
    )
    def post_event(
        self, system: System, ctx: RequestContext, mission_id: str, data: MissionEventIn
    ) -> Response[dict[str, Any]]:
        return answer(*system.missions.post_event(ctx, mission_id, data.model_dump()))

    @get(
        "/missions/{mission_id:str}/events", responses=P, sync_to_thread=True, summary="The mission's events"
    )
    def events(
        self,
        system: System,
        ctx: RequestContext,
        mission_id: str,
        after: Annotated[int, Parameter(ge=0)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=5000)] = 1000,
    ) -> dict[str, Any]:
        return system.missions.events(ctx, mission_id, after, limit)

    @post(
        "/missions/{mission_id:str}/work/{item_id:str}/submit",
        responses=P,
        sync_to_thread=True,
        status_code=200,
        summary="Submit work for an item (pull adapter)",
    )
    def submit(
        self, system: System, ctx: RequestContext, mission_id: str, item_id: str, data: SubmitIn
    ) -> Response[dict[str, Any]]:
        return answer(*system.missions.submit(ctx, mission_id, item_id, data.model_dump()))

    @post(
        "/missions/{mission_id:str}/work/{item_id:str}/review",
        responses=P,
        sync_to_thread=True,
        status_code=200,
        summary="Approve or request changes (the reviewer role)",
    )
    def review(
        self, system: System, ctx: RequestContext, mission_id: str, item_id: str, data: ReviewIn
    ) -> Response[dict[str, Any]]:
        return answer(*system.missions.review(ctx, mission_id, item_id, data.model_dump()))

    @get(
        "/streams/missions",
        responses=problems(400, 401, 403, 410),
        media_type="text/event-stream",
        summary="Mission, work, review, test and artifact events (SSE); filter with mission_id",
    )
    async def stream(
        self,
        system: System,
        ctx: RequestContext,
        request: Request[Any, Any, Any],
        mission_id: str | None = None,
        after: str | None = None,
        last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID")] = None,
    ) -> Stream:
        ctx.principal.require("missions:read")
        subjects = (subject_of(mission_id),) if mission_id else ("mission/",)
        return stream_response(
            system, EventFilter(types=MISSION_STREAM_TYPES, subjects=subjects), after, last_event_id
        )
