from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import Parameter, QueryParameter
from pydantic import Field

from missiond.api.openapi import problems
from missiond.api.wire import WireModel
from missiond.bootstrap import System
from missiond.errors import ValidationFailed
from missiond.services.context import RequestContext
from missiond.services.tasks import TaskDraft, WriteGuard

TaskType = Literal["feature", "bug", "chore", "investigation", "epic"]
Status = Literal["open", "in_progress", "blocked", "completed", "cancelled"]
NoteKind = Literal["decision", "rationale", "attempt", "outcome", "blocker", "note", "reference"]
Label = Annotated[str, Field(min_length=1, max_length=100)]
Id = Annotated[str, Field(min_length=1, max_length=40)]


class TaskIn(WireModel):
    title: str = Field(min_length=1, max_length=500)
    type: TaskType = "feature"
    intent: str = Field(default="", max_length=20_000)
    description: str = Field(default="", max_length=100_000)
    plan: str = Field(default="", max_length=100_000)
    priority: int = Field(default=2, ge=0, le=4, description="0 is the most urgent")
    labels: list[Label] = Field(default_factory=list, max_length=50)
    role: str | None = Field(default=None, max_length=100)
    parent_id: str | None = Field(default=None, max_length=40)
    mission_id: str | None = Field(default=None, max_length=40)
    status: Literal["open", "blocked"] = "open"

    def draft(self) -> TaskDraft:
        data = self.model_dump()
        data["labels"] = tuple(data["labels"])
        return TaskDraft(**data)


class TaskPatchIn(WireModel):
    title: str | None = Field(default=None, min_length=1, max_length=500)
    type: TaskType | None = None
    intent: str | None = Field(default=None, max_length=20_000)
    description: str | None = Field(default=None, max_length=100_000)
    plan: str | None = Field(default=None, max_length=100_000)
    priority: int | None = Field(default=None, ge=0, le=4)
    labels: list[Label] | None = Field(default=None, max_length=50)
    role: str | None = Field(default=None, max_length=100)
    parent_id: str | None = Field(default=None, max_length=40)
    mission_id: str | None = Field(default=None, max_length=40)
    expected_rev: int | None = Field(default=None, ge=1)
    fencing_token: int | None = Field(default=None, ge=1)


class TransitionIn(WireModel):
    status: Status
    outcome: str | None = Field(default=None, max_length=20_000)
    reason: str | None = Field(default=None, max_length=2000)
    expected_rev: int | None = Field(default=None, ge=1)
    fencing_token: int | None = Field(default=None, ge=1)


class CompleteIn(WireModel):
    outcome: str = Field(min_length=1, max_length=20_000)
    expected_rev: int | None = Field(default=None, ge=1)
    fencing_token: int | None = Field(default=None, ge=1)


class LinkIn(WireModel):
    kind: Literal[
        "blocks", "blocked_by", "relates_to", "duplicates", "duplicated_by", "parent_of", "child_of"
    ]
    other_id: Id
    fencing_token: int | None = Field(default=None, ge=1)


class NoteIn(WireModel):
    kind: NoteKind
    body: str = Field(min_length=1, max_length=20_000)
    supersedes: str | None = Field(default=None, max_length=40)
    fencing_token: int | None = Field(default=None, ge=1)


class StepIn(WireModel):
    title: str = Field(min_length=1, max_length=500)
    fencing_token: int | None = Field(default=None, ge=1)


class StepUpdateIn(WireModel):
    status: Literal["pending", "done", "skipped"]
    fencing_token: int | None = Field(default=None, ge=1)


class ClaimIn(WireModel):
    role: str | None = Field(default=None, max_length=100)
    labels: list[Label] = Field(default_factory=list, max_length=20)
    ttl_s: float = Field(default=300.0, gt=0)
    session_id: str | None = Field(default=None, max_length=40)


class ClaimOneIn(WireModel):
    ttl_s: float = Field(default=300.0, gt=0)
    session_id: str | None = Field(default=None, max_length=40)


def fencing(request: Request[Any, Any, Any], body_token: int | None) -> int | None:
    raw = request.headers.get("x-fencing-token")
    if raw is None:
        return body_token
    if not (raw.strip().isascii() and raw.strip().isdigit()) or int(raw.strip()) < 1:
        raise ValidationFailed.field("header.X-Fencing-Token", "must be a positive integer")
    header = int(raw.strip())
    if body_token is not None and body_token != header:
        raise ValidationFailed.field("body.fencing_token", "differs from the X-Fencing-Token header")
    return header


def if_match(request: Request[Any, Any, Any]) -> int | None:
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise ValidationFailed.field("header.If-Match", 'must be "<rev>"')
    return int(value)


def answer(body: dict[str, Any], replayed: bool, status: int = 200) -> Response[dict[str, Any]]:
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    if "rev" in body and "id" in body:
        headers["ETag"] = f'"{body["rev"]}"'
    return Response(body, status_code=status, headers=headers)


P_READ = problems(400, 401, 403, 404)
P_WRITE = problems(400, 401, 403, 404, 409, 412, 422)


class TasksController(Controller):
    path = "/v1/tasks"
    tags = ["tasks"]
    security = [{"bearer": []}]

    @post("/", responses=P_WRITE, sync_to_thread=True, status_code=201, summary="Create a task")
    def create(self, system: System, ctx: RequestContext, data: TaskIn) -> Response[dict[str, Any]]:
        body, replayed = system.tasks.create(ctx, data.draft())
        return answer(body, replayed, 201)

    @get("/", responses=P_READ, sync_to_thread=True, summary="List tasks with filters")
    def list_tasks(
        self,
        system: System,
        ctx: RequestContext,
        status: Annotated[list[Status] | None, QueryParameter(name="status")] = None,
        role: str | None = None,
        label: Annotated[list[str] | None, QueryParameter(name="label")] = None,
        parent: str | None = None,
        mission: str | None = None,
        assignee: str | None = None,
        q: str | None = None,
        blocked: bool | None = None,
        after_id: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        return system.tasks.list(
            ctx,
            statuses=status or (),
            role=role,
            labels=label or (),
            parent_id=parent,
            mission_id=mission,
            assignee=assignee,
            text=q,
            blocked=blocked,
            after_id=after_id,
            limit=limit,
        )

    @get("/ready", responses=P_READ, sync_to_thread=True, summary="The ready queue, best first")
    def ready(
        self,
        system: System,
        ctx: RequestContext,
        role: str | None = None,
        label: Annotated[list[str] | None, QueryParameter(name="label")] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
    ) -> dict[str, Any]:
        return system.leases.ready(ctx, role=role, labels=label or [], limit=limit)

    @get("/stale", responses=P_READ, sync_to_thread=True, summary="In-progress tasks untouched for a while")
    def stale(
        self,
        system: System,
        ctx: RequestContext,
        older_than_s: Annotated[float, Parameter(gt=0)] = 3600.0,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        return system.tasks.stale(ctx, older_than_s, limit)

    @post(
        "/claim",
        responses=P_WRITE,
        sync_to_thread=True,
        status_code=200,
        summary="Claim the best ready task (204 when none)",
    )
    def claim_best(self, system: System, ctx: RequestContext, data: ClaimIn) -> Response[Any]:
        body, replayed = system.leases.claim(
            ctx,
            task_id=None,
            role=data.role,
            labels=list(data.labels),
            ttl_s=data.ttl_s,
            session_id=data.session_id,
        )
        if body is None:
            return Response(None, status_code=204)
        return answer(body, replayed)

    @get(
        "/{task_id:str}",
        responses=P_READ,
        sync_to_thread=True,
        summary="One task with relationships, notes, steps",
    )
    def show(self, system: System, ctx: RequestContext, task_id: str) -> Response[dict[str, Any]]:
        return answer(system.tasks.show(ctx, task_id), False)

    @patch("/{task_id:str}", responses=P_WRITE, sync_to_thread=True, summary="Edit a task's fields")
    def update(
        self,
        system: System,
        ctx: RequestContext,
        request: Request[Any, Any, Any],
        task_id: str,
        data: TaskPatchIn,
    ) -> Response[dict[str, Any]]:
        changes = data.model_dump(exclude_unset=True, exclude={"expected_rev", "fencing_token"})
        guard = WriteGuard(fencing(request, data.fencing_token), if_match(request), data.expected_rev)
        return answer(*system.tasks.update(ctx, task_id, changes, guard))

    @post(
        "/{task_id:str}/transition",
        responses=P_WRITE,
        sync_to_thread=True,
        status_code=200,
        summary="Change a task's status",
    )
    def transition(
        self,
        system: System,
        ctx: RequestContext,
        request: Request[Any, Any, Any],
        task_id: str,
        data: TransitionIn,
    ) -> Response[dict[str, Any]]:
        guard = WriteGuard(fencing(request, data.fencing_token), if_match(request), data.expected_rev)
        return answer(
            *system.tasks.transition(
                ctx, task_id, data.status, outcome=data.outcome, reason=data.reason, guard=guard
            )
        )

    @post(
        "/{task_id:str}/complete",
        responses=P_WRITE,
        sync_to_thread=True,
        status_code=200,
        summary="Complete a task with its outcome",
    )
    def complete(
        self,
        system: System,
        ctx: RequestContext,
        request: Request[Any, Any, Any],
        task_id: str,
        data: CompleteIn,
    ) -> Response[dict[str, Any]]:
        guard = WriteGuard(fencing(request, data.fencing_token), if_match(request), data.expected_rev)
        return answer(
            *system.tasks.transition(
                ctx, task_id, "completed", outcome=data.outcome, reason="completed", guard=guard
            )
        )

    @post(
        "/{task_id:str}/claim",
        responses=P_WRITE,
        sync_to_thread=True,
        status_code=200,
        summary="Claim one named task",
    )
    def claim_one(self, system: System, ctx: RequestContext, task_id: str, data: ClaimOneIn) -> Response[Any]:
        body, replayed = system.leases.claim(
            ctx, task_id=task_id, role=None, labels=[], ttl_s=data.ttl_s, session_id=data.session_id
        )
        return answer(body or {}, replayed)

    @post(
        "/{task_id:str}/links",
        responses=P_WRITE,
        sync_to_thread=True,
        status_code=200,
        summary="Relate two tasks (stored once, shown from both sides)",
    )
    def link(
        self, system: System, ctx: RequestContext, request: Request[Any, Any, Any], task_id: str, data: LinkIn
    ) -> Response[dict[str, Any]]:
        guard = WriteGuard(fencing(request, data.fencing_token))
        return answer(*system.tasks.link(ctx, task_id, data.kind, data.other_id, guard=guard))

    @delete(
        "/{task_id:str}/links",
        responses=P_WRITE,
        sync_to_thread=True,
        status_code=200,
        summary="Remove a relationship",
    )
    def unlink(
        self,
        system: System,
        ctx: RequestContext,
        request: Request[Any, Any, Any],
        task_id: str,
        kind: str,
        other_id: str,
    ) -> Response[dict[str, Any]]:
        guard = WriteGuard(fencing(request, None))
        return answer(*system.tasks.link(ctx, task_id, kind, other_id, remove=True, guard=guard))

    @post(
        "/{task_id:str}/notes",
        responses=P_WRITE,
        sync_to_thread=True,
        status_code=201,
        summary="Add a context note (immutable; may supersede one)",
    )
    def note(
        self, system: System, ctx: RequestContext, request: Request[Any, Any, Any], task_id: str, data: NoteIn
    ) -> Response[dict[str, Any]]:
        guard = WriteGuard(fencing(request, data.fencing_token))
        body, replayed = system.tasks.note(ctx, task_id, data.kind, data.body, data.supersedes, guard)
        return answer(body, replayed, 201)

    @post(
        "/{task_id:str}/steps",
        responses=P_WRITE,
        sync_to_thread=True,
        status_code=201,
        summary="Add a progress step",
    )
    def add_step(
        self, system: System, ctx: RequestContext, request: Request[Any, Any, Any], task_id: str, data: StepIn
    ) -> Response[dict[str, Any]]:
        guard = WriteGuard(fencing(request, data.fencing_token))
        body, replayed = system.tasks.add_step(ctx, task_id, data.title, guard)
        return answer(body, replayed, 201)

    @patch(
        "/{task_id:str}/steps/{step_id:str}",
        responses=P_WRITE,
        sync_to_thread=True,
        summary="Complete, skip or reopen a step",
    )
    def set_step(
        self,
        system: System,
        ctx: RequestContext,
        request: Request[Any, Any, Any],
        task_id: str,
        step_id: str,
        data: StepUpdateIn,
    ) -> Response[dict[str, Any]]:
        guard = WriteGuard(fencing(request, data.fencing_token))
        return answer(*system.tasks.set_step(ctx, task_id, step_id, data.status, guard))

    @get(
        "/{task_id:str}/{which:str}",
        responses=P_READ,
        sync_to_thread=True,
        summary="children, descendants, ancestors or history of a task",
    )
    def related(self, system: System, ctx: RequestContext, task_id: str, which: str) -> dict[str, Any]:
        if which == "history":
            return system.tasks.history(ctx, task_id)
        if which not in ("children", "descendants", "ancestors"):
            raise ValidationFailed.field("path.which", "must be children, descendants, ancestors or history")
        return system.tasks.tree(ctx, task_id, which)
