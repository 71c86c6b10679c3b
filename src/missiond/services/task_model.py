"""Shared pieces of the task board services: errors, wire shapes, guards."""

from __future__ import annotations

from typing import Any

from missiond.core.events import format_us
from missiond.core.tasks import TaskStatus, allowed_transitions
from missiond.errors import Conflict, NotFound, PreconditionFailed
from missiond.services.context import Principal
from missiond.storage.tables import TaskNoteRow, TaskRow, TaskStepRow


class TaskNotFound(NotFound):
    code = "TASK_NOT_FOUND"
    title = "Task not found"


class LeaseNotFound(NotFound):
    code = "LEASE_NOT_FOUND"
    title = "Lease not found"


class InvalidTransition(Conflict):
    code = "INVALID_TRANSITION"
    title = "Invalid transition"


class CycleDetected(Conflict):
    code = "CYCLE_DETECTED"
    title = "Cycle detected"


class LeaseHeld(Conflict):
    code = "LEASE_HELD"
    title = "Lease held"


class LeaseExpired(Conflict):
    code = "LEASE_EXPIRED"
    title = "Lease expired"


class RevisionConflict(Conflict):
    code = "REVISION_CONFLICT"
    title = "Revision conflict"


def ts(micros: int | None) -> str | None:
    return format_us(micros) if micros is not None else None


def lease_live(task: TaskRow, now_us: int) -> bool:
    return task.lease_id is not None and (task.lease_expires_at_us or 0) > now_us


def task_to_wire(task: TaskRow, now_us: int) -> dict[str, Any]:
    live = lease_live(task, now_us)
    return {
        "id": task.id,
        "title": task.title,
        "type": task.type,
        "status": task.status,
        "intent": task.intent,
        "description": task.description,
        "plan": task.plan,
        "priority": task.priority,
        "labels": list(task.labels),
        "role": task.role,
        "parent_id": task.parent_id,
        "mission_id": task.mission_id,
        "outcome": task.outcome,
        "rev": task.rev,
        "open_blockers": task.open_blockers,
        "unblocks": task.unblocks,
        "ready": task.status == "open" and task.open_blockers == 0 and not live,
        "lease": (
            {
                "id": task.lease_id,
                "holder": task.lease_agent,
                "fencing_token": task.fence,
                "expires_at": ts(task.lease_expires_at_us),
            }
            if live
            else None
        ),
        "created_by": task.created_by,
        "created_at": ts(task.created_at_us),
        "updated_at": ts(task.updated_at_us),
        "completed_at": ts(task.completed_at_us),
    }


def note_to_wire(note: TaskNoteRow) -> dict[str, Any]:
    return {
        "id": note.id,
        "task_id": note.task_id,
        "kind": note.kind,
        "body": note.body,
        "author": note.author,
        "created_at": ts(note.created_at_us),
        "supersedes_id": note.supersedes_id,
        "superseded_by_id": note.superseded_by_id,
    }


def step_to_wire(step: TaskStepRow) -> dict[str, Any]:
    return {
        "id": step.id,
        "task_id": step.task_id,
        "position": step.position,
        "title": step.title,
        "status": step.status,
        "updated_at": ts(step.updated_at_us),
    }


def check_transition(task: TaskRow, target: str) -> None:
    current = TaskStatus(task.status)
    if TaskStatus(target) not in allowed_transitions(current):
        allowed = [s.value for s in allowed_transitions(current)]
        raise InvalidTransition(
            f"{task.id} cannot go from {current.value} to {target}; allowed: {', '.join(allowed)}",
            task_id=task.id,
            current=current.value,
            requested=target,
            allowed=allowed,
        )


def check_rev(task: TaskRow, if_match: int | None, expected_rev: int | None) -> None:
    if if_match is not None and task.rev != if_match:
        raise PreconditionFailed(
            f"If-Match {if_match} does not match {task.id} revision {task.rev}",
            task_id=task.id,
            expected_rev=if_match,
            current_rev=task.rev,
        )
    if expected_rev is not None and task.rev != expected_rev:
        raise RevisionConflict(
            f"{task.id} is at revision {task.rev}, not {expected_rev}",
            task_id=task.id,
            expected_rev=expected_rev,
            current_rev=task.rev,
        )


def guard_lease(task: TaskRow, principal: Principal, token: int | None, now_us: int) -> None:
    """Writes to a leased task: the holder must show the current fencing token;
    anybody else is refused while the lease lives; a stale token is always refused."""
    live = lease_live(task, now_us)
    if token is not None:
        if not live or token != task.fence:
            raise LeaseExpired(
                f"fencing token {token} for {task.id} is stale"
                + (f"; the current lease belongs to {task.lease_agent}" if live else "; the lease is gone"),
                task_id=task.id,
                fencing_token=token,
                current_fencing_token=task.fence if live else None,
            )
        if task.lease_agent != principal.subject:
            raise LeaseHeld(
                f"{task.id} is leased by {task.lease_agent}", task_id=task.id, holder=task.lease_agent
            )
        return
    if live:
        holder = task.lease_agent
        hint = " (the holder must send X-Fencing-Token)" if holder == principal.subject else ""
        raise LeaseHeld(
            f"{task.id} is leased by {holder} until {ts(task.lease_expires_at_us)}{hint}",
            task_id=task.id,
            holder=holder,
            expires_at=ts(task.lease_expires_at_us),
        )
