from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from pydantic import Field

from missiond.api.controllers.tasks import answer, fencing
from missiond.api.openapi import problems
from missiond.api.wire import WireModel
from missiond.bootstrap import System
from missiond.services.context import RequestContext

Word = Annotated[str, Field(min_length=1, max_length=100)]
Ref = Annotated[str, Field(min_length=1, max_length=64)]


class AgentIn(WireModel):
    name: str = Field(min_length=1, max_length=100)
    roles: list[Word] = Field(default_factory=list, max_length=20)
    capabilities: list[Word] | None = Field(default=None, max_length=50)


class SessionIn(WireModel):
    ttl_s: float = Field(default=60.0, gt=0)


class RenewIn(WireModel):
    ttl_s: float | None = Field(default=None, gt=0)
    fencing_token: int | None = Field(default=None, ge=1)


class ReleaseIn(WireModel):
    fencing_token: int | None = Field(default=None, ge=1)
    outcome: str | None = Field(default=None, max_length=20_000)
    complete: bool = False


class BatchTask(WireModel):
    title: str = Field(min_length=1, max_length=500)
    type: Literal["feature", "bug", "chore", "investigation", "epic"] = "feature"
    intent: str = ""
    description: str = ""
    plan: str = ""
    priority: int = Field(default=2, ge=0, le=4)
    labels: list[Word] = Field(default_factory=list, max_length=50)
    role: str | None = None
    parent_id: str | None = None
    mission_id: str | None = None
    status: Literal["open", "blocked"] = "open"


class CreateOp(WireModel):
    op: Literal["create_task"]
    ref: Ref | None = None
    task: BatchTask


class LinkOp(WireModel):
    op: Literal["link"]
    task: Ref
    kind: Literal[
        "blocks", "blocked_by", "relates_to", "duplicates", "duplicated_by", "parent_of", "child_of"
    ]
    other: Ref


class NoteOp(WireModel):
    op: Literal["note"]
    task: Ref
    kind: Literal["decision", "rationale", "attempt", "outcome", "blocker", "note", "reference"]
    body: str = Field(min_length=1, max_length=20_000)
    supersedes: str | None = None


class StepOp(WireModel):
    op: Literal["step"]
    task: Ref
    title: str = Field(min_length=1, max_length=500)


class BatchIn(WireModel):
    ops: list[Annotated[CreateOp | LinkOp | NoteOp | StepOp, Field(discriminator="op")]] = Field(
        min_length=1, max_length=1000
    )
    atomic: Literal[True] = True


class AgentsController(Controller):
    path = "/v1"
    tags = ["agents"]
    security = [{"bearer": []}]

    @post(
        "/agents",
        responses=problems(400, 401, 403, 409, 422),
        sync_to_thread=True,
        status_code=201,
        summary="Register an agent; its token is shown once",
    )
    def create_agent(self, system: System, ctx: RequestContext, data: AgentIn) -> Response[dict[str, Any]]:
        body, replayed = system.agents.create(ctx, data.name, list(data.roles), data.capabilities)
        return answer(body, replayed, 201)

    @get("/agents", responses=problems(401, 403), sync_to_thread=True, summary="List agents")
    def list_agents(self, system: System, ctx: RequestContext) -> dict[str, Any]:
        return system.agents.list(ctx)

    @post(
        "/sessions",
        responses=problems(400, 401),
        sync_to_thread=True,
        status_code=201,
        summary="Start a session (heartbeat it or lose its leases)",
    )
    def start_session(self, system: System, ctx: RequestContext, data: SessionIn) -> Response[dict[str, Any]]:
        body, replayed = system.leases.start_session(ctx, data.ttl_s)
        return answer(body, replayed, 201)

    @post(
        "/sessions/{session_id:str}/heartbeat",
        responses=problems(400, 401, 409),
        sync_to_thread=True,
        status_code=200,
        summary="Keep a session and its leases alive",
    )
    def heartbeat(self, system: System, ctx: RequestContext, session_id: str) -> dict[str, Any]:
        return system.leases.heartbeat(ctx, session_id)

    @post(
        "/sessions/{session_id:str}/end",
        responses=problems(400, 401, 409),
        sync_to_thread=True,
        status_code=200,
        summary="End a session; its leases are released",
    )
    def end_session(self, system: System, ctx: RequestContext, session_id: str) -> Response[dict[str, Any]]:
        return answer(*system.leases.end_session(ctx, session_id))

    @post(
        "/leases/{lease_id:str}/renew",
        responses=problems(400, 401, 403, 404, 409),
        sync_to_thread=True,
        status_code=200,
        summary="Extend a live lease",
    )
    def renew(
        self,
        system: System,
        ctx: RequestContext,
        request: Request[Any, Any, Any],
        lease_id: str,
        data: RenewIn,
    ) -> Response[dict[str, Any]]:
        return answer(
            *system.leases.renew(ctx, lease_id, ttl_s=data.ttl_s, token=fencing(request, data.fencing_token))
        )

    @post(
        "/leases/{lease_id:str}/release",
        responses=problems(400, 401, 403, 404, 409),
        sync_to_thread=True,
        status_code=200,
        summary="Hand a task back (or complete it) and end the lease",
    )
    def release(
        self,
        system: System,
        ctx: RequestContext,
        request: Request[Any, Any, Any],
        lease_id: str,
        data: ReleaseIn,
    ) -> Response[dict[str, Any]]:
        return answer(
            *system.leases.release(
                ctx,
                lease_id,
                token=fencing(request, data.fencing_token),
                outcome=data.outcome,
                complete=data.complete,
            )
        )

    @post(
        "/batch",
        responses=problems(400, 401, 403, 404, 409, 422),
        sync_to_thread=True,
        status_code=200,
        summary="Atomic batch: create a plan in one go, all or nothing",
    )
    def batch(self, system: System, ctx: RequestContext, data: BatchIn) -> Response[dict[str, Any]]:
        ops = [op.model_dump() for op in data.ops]
        return answer(*system.batch.run(ctx, ops))
