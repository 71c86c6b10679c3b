"""Task board: tasks, relationships, notes, steps, queries. Leases live in leases.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from missiond.core.events import EventFilter, NewEvent
from missiond.core.graph import cycle_if_added
from missiond.core.tasks import (
    INVERSE,
    LINK_KINDS,
    MAX_PARENT_DEPTH,
    NOTE_KINDS,
    STEP_STATES,
    TaskStatus,
    canonical_link,
    depth_problem,
)
from missiond.errors import Conflict, NotFound, ValidationFailed
from missiond.identifiers import new_id
from missiond.services.context import RequestContext
from missiond.services.mutations import Mutation
from missiond.services.task_model import (
    CycleDetected,
    LeaseHeld,
    TaskNotFound,
    check_rev,
    check_transition,
    guard_lease,
    lease_live,
    note_to_wire,
    step_to_wire,
    task_to_wire,
)
from missiond.storage.tables import TaskNoteRow, TaskRow, TaskStepRow
from missiond.storage.uow import Store, UnitOfWork

EDITABLE = ("title", "type", "intent", "description", "plan", "priority", "labels", "role", "mission_id")


@dataclass(frozen=True, slots=True)
class TaskDraft:
    title: str
    type: str = "feature"
    intent: str = ""
    description: str = ""
    plan: str = ""
    priority: int = 2
    labels: tuple[str, ...] = ()
    role: str | None = None
    parent_id: str | None = None
    mission_id: str | None = None
    status: str = "open"


@dataclass(frozen=True, slots=True)
class WriteGuard:
    """Preconditions a write may carry."""

    fencing_token: int | None = None
    if_match: int | None = None
    expected_rev: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _task_event(kind: str, task: TaskRow, data: dict[str, Any] | None = None) -> NewEvent:
    return NewEvent(f"task.{kind}", f"task/{task.id}", {"task_id": task.id, "rev": task.rev, **(data or {})})


class TaskBoard:
    """Operations that run inside a caller's unit of work; the services wrap them."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    def load(self, task_id: str) -> TaskRow:
        task = self.uow.tasks.get(task_id)
        if task is None:
            raise TaskNotFound(f"no task {task_id!r}", task_id=task_id)
        return task

    def touch(self, task: TaskRow) -> None:
        task.rev += 1
        task.updated_at_us = self.uow.now_us
        self.uow.tasks.save(task)

    # -- create and edit ----------------------------------------------------------------
    def create(self, draft: TaskDraft) -> TaskRow:
        now = self.uow.now_us
        if draft.status not in ("open", "blocked"):
            raise ValidationFailed.field("body.status", "a new task starts open or blocked")
        if draft.parent_id:
            self.load(draft.parent_id)
            problem = depth_problem(len(self.ancestors(draft.parent_id)), 0)
            if problem:
                raise ValidationFailed.field("body.parent_id", problem, max_depth=MAX_PARENT_DEPTH)
        task = TaskRow(
            id=new_id("tsk"),
            title=draft.title,
            type=draft.type,
            status=draft.status,
            intent=draft.intent,
            description=draft.description,
            plan=draft.plan,
            priority=draft.priority,
            labels=list(dict.fromkeys(draft.labels)),
            role=draft.role,
            parent_id=draft.parent_id,
            mission_id=draft.mission_id,
            rev=1,
            open_blockers=0,
            unblocks=0,
            fence=0,
            created_by=self.uow.actor,
            created_at_us=now,
            updated_at_us=now,
        )
        self.uow.tasks.add(task)
        self.uow.tasks.set_labels(task.id, task.labels)
        self.uow.emit(_task_event("created", task, {"task": task_to_wire(task, now)}))
        return task

    def update(self, task: TaskRow, changes: dict[str, Any], guard: WriteGuard, principal: Any) -> TaskRow:
        check_rev(task, guard.if_match, guard.expected_rev)
        guard_lease(task, principal, guard.fencing_token, self.uow.now_us)
        changed = {k: v for k, v in changes.items() if k in EDITABLE and getattr(task, k) != v}
        if "parent_id" in changes and changes["parent_id"] != task.parent_id:
            self.set_parent(task, changes["parent_id"])
            changed["parent_id"] = changes["parent_id"]
        for key, value in changed.items():
            if key != "parent_id":
                setattr(task, key, list(dict.fromkeys(value)) if key == "labels" else value)
        if not changed:
            return task
        if "labels" in changed:
            self.uow.tasks.set_labels(task.id, task.labels)
        self.touch(task)
        self.uow.emit(_task_event("updated", task, {"changes": sorted(changed)}))
        return task

    def set_parent(self, task: TaskRow, parent_id: str | None) -> None:
        if parent_id is not None:
            self.load(parent_id)
            if parent_id == task.id or task.id in self.ancestors(parent_id):
                raise CycleDetected(
                    f"{parent_id} is {task.id} or one of its descendants", path=[task.id, parent_id]
                )
            problem = depth_problem(len(self.ancestors(parent_id)), self.subtree_height(task.id))
            if problem:
                raise ValidationFailed.field("body.parent_id", problem, max_depth=MAX_PARENT_DEPTH)
        task.parent_id = parent_id

    def ancestors(self, task_id: str) -> list[str]:
        chain: list[str] = []
        current = self.uow.tasks.get(task_id)
        while current is not None and current.parent_id and len(chain) <= MAX_PARENT_DEPTH + 1:
            chain.append(current.parent_id)
            current = self.uow.tasks.get(current.parent_id)
        return chain

    def descendants(self, task_id: str) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = []
        frontier, depth = [task_id], 0
        while frontier and depth <= MAX_PARENT_DEPTH + 1:
            depth += 1
            children = [child for child, _parent in self.uow.tasks.child_ids(frontier)]
            found.extend((c, depth) for c in children)
            frontier = children
        return found

    def subtree_height(self, task_id: str) -> int:
        return max((d for _id, d in self.descendants(task_id)), default=0)

    # -- status -------------------------------------------------------------------------
    def transition(self, task: TaskRow, target: str, *, outcome: str | None, reason: str | None) -> TaskRow:
        check_transition(task, target)
        if target == TaskStatus.COMPLETED and not (outcome or "").strip():
            raise ValidationFailed.field("body.outcome", "completing a task requires an outcome")
        previous = task.status
        was_completed = previous == TaskStatus.COMPLETED
        task.status = target
        if target == TaskStatus.COMPLETED:
            task.outcome = outcome
            task.completed_at_us = self.uow.now_us
        elif outcome is not None:
            task.outcome = outcome
        if target in (TaskStatus.OPEN, TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.BLOCKED):
            self.end_lease(task, reason=f"status_{target}")
        if target == TaskStatus.OPEN:
            task.completed_at_us = None
        self.touch(task)
        self.uow.emit(
            _task_event(
                "status_changed",
                task,
                {"from": previous, "to": target, "outcome": task.outcome, "reason": reason},
            )
        )
        if target == TaskStatus.COMPLETED:
            self._blocker_finished(task)
        elif was_completed:
            self._blocker_reopened(task)
        elif previous == TaskStatus.BLOCKED and target == TaskStatus.OPEN and task.open_blockers == 0:
            self.uow.emit(_task_event("unblocked", task, {"reason": "status"}))
        return task

    def end_lease(self, task: TaskRow, *, reason: str) -> None:
        if task.lease_id is None:
            return
        lease = self.uow.tasks.get_lease(task.lease_id)
        if lease is not None and lease.ended_at_us is None:
            lease.ended_at_us = self.uow.now_us
            lease.end_reason = reason
            self.uow.tasks.save_any(lease)
        task.lease_id = None
        task.lease_agent = None
        task.lease_expires_at_us = None

    def _blocker_finished(self, blocker: TaskRow) -> None:
        for dst_id in self.uow.tasks.blocked_by_me(blocker.id):
            dst = self.load(dst_id)
            dst.open_blockers = max(0, dst.open_blockers - 1)
            self.touch(dst)
            if dst.open_blockers == 0 and dst.status == TaskStatus.OPEN:
                self.uow.emit(_task_event("unblocked", dst, {"last_blocker": blocker.id}))

    def _blocker_reopened(self, blocker: TaskRow) -> None:
        for dst_id in self.uow.tasks.blocked_by_me(blocker.id):
            dst = self.load(dst_id)
            dst.open_blockers += 1
            self.touch(dst)

    # -- relationships ------------------------------------------------------------------
    def link(self, task: TaskRow, kind: str, other_id: str) -> dict[str, Any]:
        if kind == "parent_of":
            child = self.load(other_id)
            self.set_parent(child, task.id)
            self.touch(child)
            self.uow.emit(_task_event("linked", child, {"kind": "child_of", "other_id": task.id}))
            return {"task_id": task.id, "kind": kind, "other_id": other_id}
        if kind == "child_of":
            self.load(other_id)
            self.set_parent(task, other_id)
            self.touch(task)
            self.uow.emit(_task_event("linked", task, {"kind": kind, "other_id": other_id}))
            return {"task_id": task.id, "kind": kind, "other_id": other_id}
        if kind not in LINK_KINDS:
            raise ValidationFailed.field(
                "body.kind", f"must be one of {', '.join([*LINK_KINDS, 'parent_of', 'child_of'])}"
            )
        other = self.load(other_id)
        if other.id == task.id:
            if kind in ("blocks", "blocked_by"):
                raise CycleDetected(f"{task.id} cannot block itself", path=[task.id, task.id])
            raise ValidationFailed.field("body.other_id", "a task cannot relate to itself")
        src_id, stored, dst_id = canonical_link(task.id, kind, other.id)
        if self.uow.tasks.link_exists(src_id, stored, dst_id):
            return {"task_id": task.id, "kind": kind, "other_id": other.id, "existed": True}
        if stored == "blocks":
            path = cycle_if_added(src_id, dst_id, self._blocks_successors())
            if path is not None:
                raise CycleDetected(
                    f"{src_id} blocks {dst_id} would close the cycle {' -> '.join(path)}", path=path
                )
        self.uow.tasks.add_link(src_id, stored, dst_id, self.uow.now_us)
        src = task if src_id == task.id else other
        dst = other if src_id == task.id else task
        if stored == "blocks":
            src.unblocks += 1
            self.touch(src)
            if src.status != TaskStatus.COMPLETED:
                dst.open_blockers += 1
            self.touch(dst)
        self.uow.emit(
            NewEvent(
                "task.linked",
                f"task/{src_id}",
                {
                    "task_id": src_id,
                    "kind": stored,
                    "other_id": dst_id,
                },
            )
        )
        return {"task_id": task.id, "kind": kind, "other_id": other.id, "existed": False}

    def unlink(self, task: TaskRow, kind: str, other_id: str) -> dict[str, Any]:
        if kind not in LINK_KINDS:
            raise ValidationFailed.field("body.kind", f"must be one of {', '.join(LINK_KINDS)}")
        other = self.load(other_id)
        src_id, stored, dst_id = canonical_link(task.id, kind, other.id)
        if not self.uow.tasks.remove_link(src_id, stored, dst_id):
            raise NotFound(f"{task.id} has no {kind} relationship with {other.id}", code="LINK_NOT_FOUND")
        src = task if src_id == task.id else other
        dst = other if src_id == task.id else task
        if stored == "blocks":
            src.unblocks = max(0, src.unblocks - 1)
            self.touch(src)
            if src.status != TaskStatus.COMPLETED:
                dst.open_blockers = max(0, dst.open_blockers - 1)
                self.touch(dst)
                if dst.open_blockers == 0 and dst.status == TaskStatus.OPEN:
                    self.uow.emit(_task_event("unblocked", dst, {"reason": "unlinked"}))
        self.uow.emit(
            NewEvent(
                "task.unlinked",
                f"task/{src_id}",
                {
                    "task_id": src_id,
                    "kind": stored,
                    "other_id": dst_id,
                },
            )
        )
        return {"task_id": task.id, "kind": kind, "other_id": other.id}

    def _blocks_successors(self) -> Any:
        cache: dict[str, list[str]] = {}

        def successors(node: str) -> list[str]:
            if node not in cache:
                cache[node] = [dst for _src, dst in self.uow.tasks.successors([node])]
            return cache[node]

        return successors

    def relationships(self, task: TaskRow) -> dict[str, list[str]]:
        view: dict[str, list[str]] = {k: [] for k in (*LINK_KINDS, "parent_of", "child_of")}
        for link in self.uow.tasks.links_of(task.id):
            if link.src_id == task.id:
                view[link.kind].append(link.dst_id)
            if link.dst_id == task.id:
                view[INVERSE[link.kind]].append(link.src_id)
        view["relates_to"] = sorted(set(view["relates_to"]))
        view["parent_of"] = [c.id for c in self.uow.tasks.children(task.id)]
        view["child_of"] = [task.parent_id] if task.parent_id else []
        return view

    # -- notes and steps ----------------------------------------------------------------
    def add_note(
        self, task: TaskRow, kind: str, body: str, supersedes: str | None, author: str | None = None
    ) -> TaskNoteRow:
        if kind not in NOTE_KINDS:
            raise ValidationFailed.field("body.kind", f"must be one of {', '.join(NOTE_KINDS)}")
        note = TaskNoteRow(
            id=new_id("nte"),
            task_id=task.id,
            kind=kind,
            body=body,
            author=author or self.uow.actor,
            created_at_us=self.uow.now_us,
            supersedes_id=supersedes,
        )
        if supersedes:
            old = self.uow.tasks.get_note(supersedes)
            if old is None or old.task_id != task.id:
                raise NotFound(f"no note {supersedes!r} on {task.id}", code="NOTE_NOT_FOUND")
            if old.superseded_by_id:
                raise Conflict(
                    f"note {supersedes} was already superseded by {old.superseded_by_id}",
                    code="NOTE_SUPERSEDED",
                    superseded_by_id=old.superseded_by_id,
                )
            old.superseded_by_id = note.id
            self.uow.tasks.save_any(old)
        self.uow.tasks.add_note(note)
        self.uow.emit(_task_event("note_added", task, {"note": note_to_wire(note)}), actor=note.author)
        return note

    def add_step(self, task: TaskRow, title: str) -> TaskStepRow:
        position = len(self.uow.tasks.steps(task.id))
        step = TaskStepRow(
            id=new_id("stp"),
            task_id=task.id,
            position=position,
            title=title,
            status="pending",
            updated_at_us=self.uow.now_us,
        )
        self.uow.tasks.add_step(step)
        self.uow.emit(_task_event("step_added", task, {"step": step_to_wire(step)}))
        return step

    def set_step(self, task: TaskRow, step_id: str, status: str) -> TaskStepRow:
        if status not in STEP_STATES:
            raise ValidationFailed.field("body.status", f"must be one of {', '.join(STEP_STATES)}")
        step = self.uow.tasks.get_step(step_id)
        if step is None or step.task_id != task.id:
            raise NotFound(f"no step {step_id!r} on {task.id}", code="STEP_NOT_FOUND")
        step.status = status
        step.updated_at_us = self.uow.now_us
        self.uow.tasks.save_any(step)
        self.uow.emit(_task_event("step_updated", task, {"step": step_to_wire(step)}))
        return step

    def view(self, task: TaskRow) -> dict[str, Any]:
        steps = self.uow.tasks.steps(task.id)
        done = sum(1 for s in steps if s.status == "done")
        skipped = sum(1 for s in steps if s.status == "skipped")
        return {
            **task_to_wire(task, self.uow.now_us),
            "relationships": self.relationships(task),
            "notes": [note_to_wire(n) for n in self.uow.tasks.notes(task.id)],
            "steps": {
                "items": [step_to_wire(s) for s in steps],
                "done": done,
                "skipped": skipped,
                "total": len(steps),
            },
        }


class TaskService:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._mutation = Mutation(store)

    def _write(self, ctx: RequestContext, capability: str, change: Any) -> tuple[dict[str, Any], bool]:
        ctx.principal.require(capability)
        return self._mutation.run(ctx, lambda uow: change(TaskBoard(uow)))

    def create(self, ctx: RequestContext, draft: TaskDraft) -> tuple[dict[str, Any], bool]:
        return self._write(ctx, "tasks:write", lambda b: b.view(b.create(draft)))

    def update(
        self, ctx: RequestContext, task_id: str, changes: dict[str, Any], guard: WriteGuard
    ) -> tuple[dict[str, Any], bool]:
        return self._write(
            ctx, "tasks:write", lambda b: b.view(b.update(b.load(task_id), changes, guard, ctx.principal))
        )

    def transition(
        self,
        ctx: RequestContext,
        task_id: str,
        target: str,
        *,
        outcome: str | None,
        reason: str | None,
        guard: WriteGuard,
    ) -> tuple[dict[str, Any], bool]:
        def change(b: TaskBoard) -> dict[str, Any]:
            task = b.load(task_id)
            check_rev(task, guard.if_match, guard.expected_rev)
            guard_lease(task, ctx.principal, guard.fencing_token, b.uow.now_us)
            if target == TaskStatus.IN_PROGRESS:
                raise ValidationFailed.field(
                    "body.status", "claim the task to start it (POST /v1/tasks/{id}/claim)"
                )
            return b.view(b.transition(task, target, outcome=outcome, reason=reason))

        return self._write(ctx, "tasks:write", change)

    def link(
        self,
        ctx: RequestContext,
        task_id: str,
        kind: str,
        other_id: str,
        *,
        remove: bool = False,
        guard: WriteGuard,
    ) -> tuple[dict[str, Any], bool]:
        def change(b: TaskBoard) -> dict[str, Any]:
            task = b.load(task_id)
            guard_lease(task, ctx.principal, guard.fencing_token, b.uow.now_us)
            # A link changes both tasks: the other one's lease is respected too (its
            # holder may link it; the token in the request speaks for the URL's task).
            other = b.uow.tasks.get(other_id)
            if (
                other is not None
                and other.id != task.id
                and lease_live(other, b.uow.now_us)
                and other.lease_agent != ctx.actor
            ):
                raise LeaseHeld(
                    f"{other.id} is leased by {other.lease_agent}",
                    task_id=other.id,
                    holder=other.lease_agent,
                )
            return b.unlink(task, kind, other_id) if remove else b.link(task, kind, other_id)

        return self._write(ctx, "tasks:write", change)

    def note(
        self,
        ctx: RequestContext,
        task_id: str,
        kind: str,
        body: str,
        supersedes: str | None,
        guard: WriteGuard,
    ) -> tuple[dict[str, Any], bool]:
        def change(b: TaskBoard) -> dict[str, Any]:
            task = b.load(task_id)
            guard_lease(task, ctx.principal, guard.fencing_token, b.uow.now_us)
            return note_to_wire(b.add_note(task, kind, body, supersedes))

        return self._write(ctx, "tasks:write", change)

    def add_step(
        self, ctx: RequestContext, task_id: str, title: str, guard: WriteGuard
    ) -> tuple[dict[str, Any], bool]:
        def change(b: TaskBoard) -> dict[str, Any]:
            task = b.load(task_id)
            guard_lease(task, ctx.principal, guard.fencing_token, b.uow.now_us)
            return step_to_wire(b.add_step(task, title))

        return self._write(ctx, "tasks:write", change)

    def set_step(
        self, ctx: RequestContext, task_id: str, step_id: str, status: str, guard: WriteGuard
    ) -> tuple[dict[str, Any], bool]:
        def change(b: TaskBoard) -> dict[str, Any]:
            task = b.load(task_id)
            guard_lease(task, ctx.principal, guard.fencing_token, b.uow.now_us)
            return step_to_wire(b.set_step(task, step_id, status))

        return self._write(ctx, "tasks:write", change)

    # -- reads --------------------------------------------------------------------------
    def show(self, ctx: RequestContext, task_id: str) -> dict[str, Any]:
        ctx.principal.require("tasks:read")
        with self._store.read() as uow:
            board = TaskBoard(uow)
            return board.view(board.load(task_id))

    def list(self, ctx: RequestContext, **filters: Any) -> dict[str, Any]:
        ctx.principal.require("tasks:read")
        limit = int(filters.pop("limit", 100))
        with self._store.read() as uow:
            rows = uow.tasks.list(limit=limit, **filters)
            items = [task_to_wire(r, uow.now_us) for r in rows]
        return {"items": items, "next_after_id": rows[-1].id if len(rows) == limit else None}

    def tree(self, ctx: RequestContext, task_id: str, which: str) -> dict[str, Any]:
        ctx.principal.require("tasks:read")
        with self._store.read() as uow:
            board = TaskBoard(uow)
            task = board.load(task_id)
            if which == "children":
                rows = uow.tasks.children(task.id)
                return {"items": [task_to_wire(r, uow.now_us) for r in rows]}
            if which == "ancestors":
                ids = board.ancestors(task.id)
                found = uow.tasks.get_many(ids)
                return {"items": [task_to_wire(found[i], uow.now_us) for i in ids if i in found]}
            pairs = board.descendants(task.id)
            found = uow.tasks.get_many(i for i, _d in pairs)
            return {
                "items": [{**task_to_wire(found[i], uow.now_us), "depth": d} for i, d in pairs if i in found]
            }

    def history(self, ctx: RequestContext, task_id: str, limit: int = 1000) -> dict[str, Any]:
        ctx.principal.require("tasks:read")
        subject = f"task/{task_id}"
        with self._store.read() as uow:
            TaskBoard(uow).load(task_id)
            events = uow.events.query(EventFilter(subjects=(subject,)), after=0, limit=limit)
        return {"items": [e.to_wire() for e in events if e.subject == subject]}

    def stale(self, ctx: RequestContext, older_than_s: float, limit: int) -> dict[str, Any]:
        ctx.principal.require("tasks:read")
        with self._store.read() as uow:
            rows = uow.tasks.stale(uow.now_us - int(older_than_s * 1_000_000), limit)
            return {"items": [task_to_wire(r, uow.now_us) for r in rows]}
