from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import HeaderParameter, Parameter
from litestar.response import Stream
from pydantic import Field, model_validator

from missiond.api.controllers.events import stream_response
from missiond.api.controllers.tasks import answer
from missiond.api.openapi import problems
from missiond.api.wire import WireModel
from missiond.bootstrap import System
from missiond.core.events import EventFilter
from missiond.services.context import RequestContext


class ScheduleIn(WireModel):
    cron: str | None = Field(default=None, max_length=200, examples=["0 9 * * 1-5"])
    timezone: str | None = Field(default=None, max_length=64, examples=["Europe/Berlin"])
    interval_s: float | None = None

    @model_validator(mode="after")
    def one_kind(self) -> ScheduleIn:
        if (self.cron is None) == (self.interval_s is None):
            raise ValueError("give exactly one of cron (with an optional timezone) or interval_s")
        if self.interval_s is not None and self.timezone is not None:
            raise ValueError("timezone applies to cron schedules only")
        return self

    def as_dict(self) -> dict[str, Any]:
        if self.interval_s is not None:
            return {"interval_s": self.interval_s}
        return {"cron": self.cron, "timezone": self.timezone or "UTC"}


class MisfireIn(WireModel):
    policy: Literal["skip", "run_once", "catch_up"] = "run_once"
    max_runs: int | None = Field(default=None, ge=1, le=100)
    grace_s: float = Field(default=60, ge=0, le=86_400)


class RoutineIn(WireModel):
    name: str = Field(min_length=1, max_length=200)
    schedule: ScheduleIn
    misfire: MisfireIn = Field(default_factory=MisfireIn)
    overlap: Literal["skip", "queue_one", "allow"] = "skip"
    action: dict[str, Any] = Field(description="{kind: command|connector|task, ...}")
    requires_approval: bool = False
    external_allowed: bool = False
    status: Literal["active", "paused", "draft"] | None = None


class RoutinePatchIn(WireModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    schedule: ScheduleIn | None = None
    misfire: MisfireIn | None = None
    overlap: Literal["skip", "queue_one", "allow"] | None = None
    action: dict[str, Any] | None = None
    requires_approval: bool | None = None
    external_allowed: bool | None = None
    expected_rev: int | None = Field(default=None, ge=1)


class ResumeIn(WireModel):
    apply_misfire: bool = False


class DecisionIn(WireModel):
    reason: str | None = Field(default=None, max_length=2000)


def _misfire(m: MisfireIn) -> dict[str, Any]:
    return m.model_dump(exclude_none=True, exclude_unset=True)


P = problems(400, 401, 403, 404, 409, 422)


class RoutinesController(Controller):
    path = "/v1"
    tags = ["routines"]
    security = [{"bearer": []}]

    @post(
        "/routines",
        responses=P,
        sync_to_thread=True,
        status_code=201,
        summary="Create a routine (agents create drafts)",
    )
    def create(self, system: System, ctx: RequestContext, data: RoutineIn) -> Response[dict[str, Any]]:
        body = data.model_dump(exclude_none=True)
        body["schedule"] = data.schedule.as_dict()
        body["misfire"] = _misfire(data.misfire)
        created, replayed = system.routines.create(ctx, body)
        return answer(created, replayed, 201)

    @get("/routines", responses=problems(400, 401, 403), sync_to_thread=True, summary="List routines")
    def list_routines(
        self,
        system: System,
        ctx: RequestContext,
        status: Literal["active", "paused", "draft"] | None = None,
        after_id: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 200,
    ) -> dict[str, Any]:
        return system.routines.list(ctx, status, after_id, limit)

    @get("/routines/{routine_id:str}", responses=P, sync_to_thread=True, summary="One routine")
    def show(self, system: System, ctx: RequestContext, routine_id: str) -> dict[str, Any]:
        return system.routines.get(ctx, routine_id)

    @patch("/routines/{routine_id:str}", responses=P, sync_to_thread=True, summary="Edit a routine")
    def edit(
        self, system: System, ctx: RequestContext, routine_id: str, data: RoutinePatchIn
    ) -> Response[dict[str, Any]]:
        changes = data.model_dump(exclude_unset=True, exclude={"expected_rev"})
        if data.schedule is not None:
            changes["schedule"] = data.schedule.model_dump(exclude_none=True, exclude_unset=True)
        if data.misfire is not None:
            changes["misfire"] = _misfire(data.misfire)
        return answer(*system.routines.update(ctx, routine_id, changes, data.expected_rev))

    @delete(
        "/routines/{routine_id:str}",
        responses=P,
        sync_to_thread=True,
        status_code=200,
        summary="Delete a routine (its history stays)",
    )
    def remove(self, system: System, ctx: RequestContext, routine_id: str) -> Response[dict[str, Any]]:
        return answer(*system.routines.delete(ctx, routine_id))

    @post(
        "/routines/{routine_id:str}/activate",
        responses=P,
        sync_to_thread=True,
        status_code=200,
        summary="Activate a draft (people only)",
    )
    def activate(self, system: System, ctx: RequestContext, routine_id: str) -> Response[dict[str, Any]]:
        return answer(*system.routines.lifecycle(ctx, routine_id, "activate"))

    @post(
        "/routines/{routine_id:str}/pause",
        responses=P,
        sync_to_thread=True,
        status_code=200,
        summary="Pause a routine",
    )
    def pause(self, system: System, ctx: RequestContext, routine_id: str) -> Response[dict[str, Any]]:
        return answer(*system.routines.lifecycle(ctx, routine_id, "pause"))

    @post(
        "/routines/{routine_id:str}/resume",
        responses=P,
        sync_to_thread=True,
        status_code=200,
        summary="Resume from now (paused occurrences recorded as missed) or apply the misfire policy",
    )
    def resume(
        self, system: System, ctx: RequestContext, routine_id: str, data: ResumeIn | None = None
    ) -> Response[dict[str, Any]]:
        apply = bool(data and data.apply_misfire)
        return answer(*system.routines.lifecycle(ctx, routine_id, "resume", apply_misfire=apply))

    @post(
        "/routines/{routine_id:str}/run-now",
        responses=P,
        sync_to_thread=True,
        status_code=202,
        summary="A manual run now (even while paused); 403 POLICY_BLOCKED when the policy forbids it",
    )
    def run_now(self, system: System, ctx: RequestContext, routine_id: str) -> Response[dict[str, Any]]:
        return answer(*system.routines.run_now(ctx, routine_id), 202)

    @get("/routines/{routine_id:str}/history", responses=P, sync_to_thread=True, summary="Runs, newest first")
    def history(
        self,
        system: System,
        ctx: RequestContext,
        routine_id: str,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
        before_id: str | None = None,
    ) -> dict[str, Any]:
        return system.routines.history(ctx, routine_id, limit, before_id)

    @get(
        "/streams/routines",
        responses=problems(400, 401, 403, 410),
        media_type="text/event-stream",
        summary="Routine lifecycle and run events (SSE)",
    )
    async def stream(
        self,
        system: System,
        ctx: RequestContext,
        request: Request[Any, Any, Any],
        after: str | None = None,
        last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID")] = None,
    ) -> Stream:
        ctx.principal.require("routines:read")
        return stream_response(system, EventFilter(types=("routine.",)), after, last_event_id)

    @get("/approvals", responses=problems(400, 401, 403), sync_to_thread=True, summary="The approval queue")
    def approvals(
        self,
        system: System,
        ctx: RequestContext,
        status: Literal["pending", "approved", "denied", "expired", "any"] = "pending",
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        return system.approvals.list(ctx, None if status == "any" else status, limit)

    @get("/approvals/{approval_id:str}", responses=P, sync_to_thread=True, summary="One approval")
    def approval(self, system: System, ctx: RequestContext, approval_id: str) -> dict[str, Any]:
        return system.approvals.get(ctx, approval_id)

    @post(
        "/approvals/{approval_id:str}/approve",
        responses=P,
        sync_to_thread=True,
        status_code=200,
        summary="Approve (people only)",
    )
    def approve(
        self, system: System, ctx: RequestContext, approval_id: str, data: DecisionIn | None = None
    ) -> Response[dict[str, Any]]:
        return answer(*system.approvals.decide(ctx, approval_id, True, data.reason if data else None))

    @post(
        "/approvals/{approval_id:str}/deny",
        responses=P,
        sync_to_thread=True,
        status_code=200,
        summary="Deny with a reason (people only)",
    )
    def deny(
        self, system: System, ctx: RequestContext, approval_id: str, data: DecisionIn
    ) -> Response[dict[str, Any]]:
        return answer(*system.approvals.decide(ctx, approval_id, False, data.reason))
