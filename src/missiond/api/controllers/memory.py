"""Governed memory over HTTP: records, promotion, search, audit, and capability tokens."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Response, delete, get, post
from litestar.params import Parameter
from pydantic import Field

from missiond.api.controllers.tasks import answer
from missiond.api.openapi import problems
from missiond.api.wire import WireModel
from missiond.bootstrap import System
from missiond.core.memory import MAX_CONTENT_CHARS, MAX_REFS, MAX_TAGS
from missiond.services.context import RequestContext

TierName = Literal["session", "project", "team", "curated"]


class PartitionIn(WireModel):
    org: str = Field(max_length=64, examples=["acme"])
    workspace: str = Field(max_length=64, examples=["platform"])
    project: str = Field(max_length=64, examples=["billing-api"])


class MemoryIn(WireModel):
    kind: Literal["note", "fact", "solution", "pitfall"]
    content: str = Field(max_length=MAX_CONTENT_CHARS)
    tier: TierName = "session"
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    artifact_refs: list[str] = Field(default_factory=list, max_length=MAX_REFS)
    classification: Literal["internal", "restricted"] = "internal"
    ttl_s: float | None = Field(default=None, gt=0, description="session records default to 72 h")
    partition: PartitionIn | None = Field(default=None, description="required with the admin token")


class PromoteIn(WireModel):
    to: TierName
    note: str | None = Field(default=None, max_length=500, description="shown to the reviewer")


class TokenIn(WireModel):
    kind: Literal["run", "agent"] = "run"
    run_id: str | None = Field(default=None, max_length=64, description="kind=run: the run it is for")
    agent: str | None = Field(default=None, max_length=100, description="kind=agent: agent id or name")
    partition: PartitionIn
    read_tiers: list[TierName] | None = Field(default=None, description="default: session, project")
    write_tiers: list[TierName] | None = Field(default=None, description="default: session")
    promote_targets: list[TierName] | None = Field(default=None, description="default: none")
    require_review_for_promote: bool = True
    read_audit: bool = False
    ttl_s: float | None = Field(default=None, gt=0, description="default 24 h, at most 30 days")


def _named(org: str | None, workspace: str | None, project: str | None) -> dict[str, Any] | None:
    if org is None and workspace is None and project is None:
        return None
    return {"org": org, "workspace": workspace, "project": project}


P = problems(400, 401, 403, 404, 409, 422)
P_READ = problems(400, 401, 403, 404)


class MemoryController(Controller):
    path = "/v1/memory"
    tags = ["memory"]
    security = [{"bearer": []}]

    @post("", responses=P, sync_to_thread=True, status_code=201, summary="Put a memory record")
    def put(self, system: System, ctx: RequestContext, data: MemoryIn) -> Response[dict[str, Any]]:
        return answer(*system.memory.put(ctx, data.model_dump()), 201)

    @get("/search", responses=P_READ, sync_to_thread=True, summary="Ranked full-text search")
    def search(
        self,
        system: System,
        ctx: RequestContext,
        q: Annotated[str, Parameter(max_length=1000)],
        tiers: Annotated[str | None, Parameter(max_length=200, description="comma separated")] = None,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 10,
        org: str | None = None,
        workspace: str | None = None,
        project: str | None = None,
    ) -> dict[str, Any]:
        wanted = [t.strip() for t in tiers.split(",") if t.strip()] if tiers else None
        return system.memory.search(ctx, q, wanted, limit, _named(org, workspace, project))

    @get("/audit", responses=P_READ, sync_to_thread=True, summary="The memory audit trail, newest first")
    def audit(
        self,
        system: System,
        ctx: RequestContext,
        action: Literal["put", "read", "promote", "search", "delete", "expire", "grant"] | None = None,
        actor: Annotated[str | None, Parameter(max_length=200)] = None,
        memory_id: Annotated[str | None, Parameter(max_length=40)] = None,
        outcome: Annotated[str | None, Parameter(max_length=20)] = None,
        before_id: Annotated[str | None, Parameter(max_length=40)] = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
        org: str | None = None,
        workspace: str | None = None,
        project: str | None = None,
    ) -> dict[str, Any]:
        filters = {"action": action, "actor": actor, "memory_id": memory_id, "outcome": outcome}
        filters["before_id"] = before_id
        return system.memory.audit(ctx, filters, limit, _named(org, workspace, project))

    @post(
        "/tokens",
        responses=P,
        sync_to_thread=True,
        status_code=201,
        summary="Mint a run- or agent-scoped token with a memory capability (admin)",
    )
    def mint(self, system: System, ctx: RequestContext, data: TokenIn) -> Response[dict[str, Any]]:
        return answer(*system.memory.mint_token(ctx, data.model_dump()), 201)

    @get("/{memory_id:str}", responses=P_READ, sync_to_thread=True, summary="One memory record")
    def show(self, system: System, ctx: RequestContext, memory_id: str) -> dict[str, Any]:
        return system.memory.get(ctx, memory_id)

    @post(
        "/{memory_id:str}/promote",
        responses=P,
        sync_to_thread=True,
        status_code=200,
        summary="Promote a copy upward through the scrubber (and a review unless waived)",
    )
    def promote(
        self, system: System, ctx: RequestContext, memory_id: str, data: PromoteIn
    ) -> Response[dict[str, Any]]:
        body, replayed = system.memory.promote(ctx, memory_id, data.to, data.note)
        status = {"promoted": 201, "pending_review": 202}.get(body["status"], 200)
        return answer(body, replayed, status)

    @delete(
        "/{memory_id:str}",
        responses=P,
        sync_to_thread=True,
        status_code=200,
        summary="Delete a record (its audit trail stays)",
    )
    def remove(self, system: System, ctx: RequestContext, memory_id: str) -> Response[dict[str, Any]]:
        return answer(*system.memory.delete(ctx, memory_id))
