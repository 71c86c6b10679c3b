"""Missions, the application layer: create, list, show, steer, and accept agents' results.

Every change goes through `MissionEngine.apply` in one transaction: the
event, the state and the queued commands commit together. An event that does
not apply to the mission's state is refused with 409 and changes nothing.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from missiond.core.events import EventFilter, format_ts
from missiond.core.missions.reducer import INPUT_TYPES, init
from missiond.core.missions.spec import SpecInvalid, parse_spec
from missiond.core.missions.state import MissionState, state_to_dict
from missiond.errors import Conflict, ValidationFailed
from missiond.identifiers import new_id
from missiond.services.context import RequestContext
from missiond.services.mission_engine import Applied, MissionEngine, subject_of
from missiond.services.mutations import Mutation
from missiond.services.task_model import ts
from missiond.services.tasks import TaskBoard
from missiond.storage.missions import MissionRow
from missiond.storage.uow import Store, UnitOfWork

MISSION_STATUSES = ("draft", "running", "paused", "halted", "succeeded", "failed", "cancelled")
# Events a client may post directly; the rest are the runtime's or the reducer's own.
CLIENT_TYPES = tuple(t for t in INPUT_TYPES if t not in ("work.dispatched", "review.requested"))
LIFECYCLE = {
    "start": "mission.started",
    "pause": "mission.paused",
    "resume": "mission.resumed",
    "cancel": "mission.cancelled",
}


class EventNotApplicable(Conflict):
    code = "MISSION_EVENT_NOT_APPLICABLE"
    title = "Event does not apply"


class MissionEventMismatch(ValidationFailed):
    code = "MISSION_EVENT_MISMATCH"
    title = "Event is for another mission"


class UnknownMissionEvent(ValidationFailed):
    code = "MISSION_EVENT_UNKNOWN"
    title = "Unknown mission event type"


class InvalidMissionSpec(ValidationFailed):
    code = "INVALID_MISSION_SPEC"
    title = "Invalid mission spec"


def progress(statuses: list[str]) -> dict[str, Any]:
    """`{total, done, by_status}` of a mission's work item statuses."""
    counts = dict(Counter(statuses))
    return {"total": len(statuses), "done": counts.get("done", 0), "by_status": counts}


def mission_summary(row: MissionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "status": row.status,
        "reason": row.state.get("reason"),
        "progress": progress([item["status"] for item in row.state.get("items", [])]),
        "rev": row.rev,
        "created_by": row.created_by,
        "created_at": ts(row.created_at_us),
        "updated_at": ts(row.updated_at_us),
    }


def mission_view(row: MissionRow, state: MissionState) -> dict[str, Any]:
    body = state_to_dict(state)
    body.pop("v", None)
    return {
        **mission_summary(row),
        **body,
        "progress": progress([item.status for item in state.items]),
        "applied_seq": row.applied_seq,
    }


class MissionService:
    def __init__(self, store: Store, engine: MissionEngine) -> None:
        self._store = store
        self._engine = engine
        self._mutation = Mutation(store)

    # -- create and read -----------------------------------------------------------------
    def create(self, ctx: RequestContext, body: Any, *, start: bool = False) -> tuple[dict[str, Any], bool]:
        ctx.principal.require("missions:write")
        try:
            spec = parse_spec(body)
        except SpecInvalid as exc:
            raise InvalidMissionSpec(
                f"the mission spec is invalid: {exc.problems[0][0]}: {exc.problems[0][1]}",
                errors=[{"field": f, "message": m} for f, m in exc.problems],
            ) from None
        if not os.path.isabs(spec.workspace) or not os.path.isdir(spec.workspace):
            raise InvalidMissionSpec.field("body.workspace", "an absolute path to an existing directory")

        def change(uow: UnitOfWork) -> dict[str, Any]:
            mission_id = new_id("msn")
            state, commands = init(spec, mission_id, format_ts(uow.now))
            row = self._engine.create(uow, state, commands, ctx.actor)
            if start:
                state = self._apply(uow, mission_id, "mission.started", {}).state
            return mission_view(row, state)

        return self._mutation.run(ctx, change)

    def list(
        self, ctx: RequestContext, *, status: str | None, after: str | None, limit: int
    ) -> dict[str, Any]:
        ctx.principal.require("missions:read")
        if status is not None and status not in MISSION_STATUSES:
            raise ValidationFailed.field("query.status", f"one of {', '.join(MISSION_STATUSES)}")
        with self._store.read() as uow:
            rows = uow.missions.list(status=status, after_id=after, limit=limit + 1)
            counts = uow.missions.counts()
            more = len(rows) > limit
            rows = rows[:limit]
            return {
                "items": [mission_summary(r) for r in rows],
                "next_cursor": rows[-1].id if more and rows else None,
                "counts": counts,
            }

    def get(self, ctx: RequestContext, mission_id: str) -> dict[str, Any]:
        ctx.principal.require("missions:read")
        with self._store.read() as uow:
            row, state = self._engine.load(uow, mission_id)
            return mission_view(row, state)

    def events(self, ctx: RequestContext, mission_id: str, after: int, limit: int) -> dict[str, Any]:
        ctx.principal.require("missions:read")
        with self._store.read() as uow:
            self._engine.load(uow, mission_id)
            found = uow.events.query(
                EventFilter(subjects=(subject_of(mission_id),)), after=after, limit=limit
            )
        items = [e.to_wire() for e in found if e.subject == subject_of(mission_id)]
        return {"items": items, "next_after": found[-1].seq if len(found) == limit else None}

    # -- steering and results --------------------------------------------------------------
    def lifecycle(
        self, ctx: RequestContext, mission_id: str, action: str, reason: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        ctx.principal.require("missions:write")
        data = {"reason": reason} if reason else {}
        return self._change(ctx, mission_id, LIFECYCLE[action], data)

    def post_event(
        self, ctx: RequestContext, mission_id: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        ctx.principal.require("missions:write")
        named = body.get("mission_id")
        if named is not None and named != mission_id:
            raise MissionEventMismatch(
                f"the event names mission {named!r}, not {mission_id!r}",
                mission_id=mission_id,
                event_mission_id=named,
            )
        event_type = body["type"]
        if event_type not in CLIENT_TYPES:
            raise UnknownMissionEvent.field("body.type", f"one of {', '.join(CLIENT_TYPES)}")
        return self._change(ctx, mission_id, event_type, dict(body.get("data") or {}))

    def submit(
        self, ctx: RequestContext, mission_id: str, item_id: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        ctx.principal.require("missions:submit")
        data = {k: v for k, v in body.items() if v is not None}
        return self._change(ctx, mission_id, "work.submitted", {"item_id": item_id, **data}, item_id=item_id)

    def review(
        self, ctx: RequestContext, mission_id: str, item_id: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        ctx.principal.require("missions:review")
        verdict = body["verdict"]
        feedback = (body.get("feedback") or "").strip()
        if verdict == "request_changes" and not feedback:
            raise ValidationFailed.field("body.feedback", "requesting changes needs feedback")
        event_type = "review.approved" if verdict == "approve" else "review.changes_requested"
        data: dict[str, Any] = {"item_id": item_id, "reviewer": ctx.actor}
        if body.get("attempt") is not None:
            data["attempt"] = body["attempt"]
        if feedback:
            data["feedback"] = feedback
        return self._change(ctx, mission_id, event_type, data, item_id=item_id)

    def _change(
        self,
        ctx: RequestContext,
        mission_id: str,
        event_type: str,
        data: dict[str, Any],
        item_id: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        def change(uow: UnitOfWork) -> dict[str, Any]:
            if item_id is not None and "attempt" not in data:
                _, state = self._engine.load(uow, mission_id)
                item = state.item(item_id)
                if item is not None and item.attempt is not None:
                    data["attempt"] = item.attempt.n
            result = self._apply(uow, mission_id, event_type, data, actor=ctx.actor)
            if item_id is not None:
                self._close_task(uow, result, item_id, event_type, data)
            row, state = self._engine.load(uow, mission_id)
            return {**mission_view(row, state), "event_seq": result.seq}

        return self._mutation.run(ctx, change)

    def _apply(
        self,
        uow: UnitOfWork,
        mission_id: str,
        event_type: str,
        data: dict[str, Any],
        actor: str | None = None,
    ) -> Applied:
        result = self._engine.apply(uow, mission_id, event_type, data, actor=actor)
        if not result.applied:
            raise EventNotApplicable(
                result.notice or "the event does not apply", mission_id=mission_id, event_type=event_type
            )
        return result

    @staticmethod
    def _close_task(
        uow: UnitOfWork, result: Applied, item_id: str, event_type: str, data: dict[str, Any]
    ) -> None:
        """The pull adapter's board task is finished by the submission that answers it."""
        item = result.state.item(item_id)
        attempts = [a for a in (item.attempts if item else ()) if a.n == data.get("attempt")]
        if not attempts:
            return
        attempt = attempts[0]
        task_id = attempt.task_id if event_type == "work.submitted" else attempt.review_task_id
        if not task_id:
            return
        board = TaskBoard(uow)
        task = uow.tasks.get(task_id)
        if task is None or task.status in ("completed", "cancelled"):
            return
        outcome = {
            "work.submitted": f"submitted: {data.get('summary') or 'no summary'}",
            "review.approved": "review: approved",
            "review.changes_requested": f"review: changes requested: {data.get('feedback', '')}",
        }[event_type]
        board.transition(task, "completed", outcome=outcome[:4000], reason="mission")
