"""Routines: recurring actions on a schedule, with misfire and overlap policies,
a policy gate for side effects, and a persistent history of every occurrence.

The database is the truth: `tick` creates the runs of every due occurrence
and advances `next_fire_at` in one transaction, and each run row is unique
by (routine, scheduled_for), so two schedulers can never fire an occurrence
twice and a crash between planning and committing loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from missiond.core.events import NewEvent, format_us, from_us, to_us
from missiond.core.missions.spec import SpecInvalid, parse_spec
from missiond.core.policies.gate import ActionClass, Decision, GateResult, classify, decide
from missiond.core.routines.misfire import Lookback, Misfire, MisfirePolicy, plan_due
from missiond.core.routines.schedule import CronSchedule, IntervalSchedule, Schedule, ScheduleError
from missiond.errors import Conflict, Forbidden, MissiondError, NotFound, ValidationFailed
from missiond.identifiers import new_id
from missiond.services.approvals import ApprovalService
from missiond.services.connectors import EXTERNAL_CONNECTORS, REGISTRY
from missiond.services.context import RequestContext
from missiond.services.mutations import Mutation
from missiond.services.task_model import ts
from missiond.storage.routines import DueRoutine
from missiond.storage.tables import ApprovalRow, RoutineRow, RoutineRunRow
from missiond.storage.uow import Store, UnitOfWork

OVERLAP = ("skip", "queue_one", "allow")
TICK_BATCH = 1000  # routines per transaction: fewer commits, a short hold of the write lock


class RoutineNotFound(NotFound):
    code = "ROUTINE_NOT_FOUND"
    title = "Routine not found"


class InvalidSchedule(ValidationFailed):
    code = "INVALID_SCHEDULE"
    title = "Invalid schedule"


class UnknownConnector(ValidationFailed):
    code = "UNKNOWN_CONNECTOR"
    title = "Unknown connector"


class PolicyBlocked(MissiondError):
    status = 403
    code = "POLICY_BLOCKED"
    title = "Blocked by policy"


# -- validation ----------------------------------------------------------------------------
def parse_schedule(raw: dict[str, Any], anchor: datetime) -> Schedule:
    try:
        if "cron" in raw:
            return CronSchedule.parse(str(raw["cron"]), str(raw.get("timezone") or "UTC"))
        return IntervalSchedule.parse(float(raw["interval_s"]), anchor)
    except ScheduleError as exc:
        raise InvalidSchedule(
            f"body.schedule.{exc.field}: {exc.message}",
            errors=[{"field": f"body.schedule.{exc.field}", "message": exc.message}],
        ) from exc


def _under_spec(field: str) -> str:
    """A mission spec problem's field (`body.goal`) as a routine's (`body.action.spec.goal`)."""
    return "body.action.spec" + field.removeprefix("body")


def validate_action(action: dict[str, Any]) -> dict[str, Any]:
    kind = action.get("kind")
    if kind == "command":
        argv, shell = action.get("argv"), action.get("shell")
        if (argv is None) == (shell is None):
            raise ValidationFailed.field("body.action", "a command action needs exactly one of argv or shell")
        if argv is not None and (
            not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv)
        ):
            raise ValidationFailed.field("body.action.argv", "a non-empty list of strings")
        return {
            "kind": "command",
            "argv": argv or ["sh", "-c", str(shell)],
            "cwd": action.get("cwd"),
            "env": dict(action.get("env") or {}),
            "timeout_s": float(action.get("timeout_s") or 600),
            "external": bool(action.get("external", False)),
        }
    if kind == "connector":
        name = action.get("connector")
        connector = REGISTRY.get(str(name))
        if connector is None:
            raise UnknownConnector(
                f"body.action.connector: no connector {name!r}; known: {', '.join(REGISTRY)}",
                errors=[{"field": "body.action.connector", "message": "unknown connector"}],
            )
        params = connector.validate(dict(action.get("params") or {}), "body.action.params")
        return {
            "kind": "connector",
            "connector": connector.name,
            "params": params,
            "timeout_s": float(action.get("timeout_s") or 60),
        }
    if kind == "task":
        task = action.get("task")
        if not isinstance(task, dict) or not str(task.get("title") or "").strip():
            raise ValidationFailed.field("body.action.task.title", "a task action needs a task with a title")
        return {"kind": "task", "task": task}
    if kind == "mission":
        spec = action.get("spec")
        try:
            parse_spec(spec)
        except SpecInvalid as exc:
            errors = [{"field": _under_spec(f), "message": m} for f, m in exc.problems]
            raise ValidationFailed(f"{errors[0]['field']}: {errors[0]['message']}", errors=errors) from None
        return {"kind": "mission", "spec": spec, "start": bool(action.get("start", True))}
    raise ValidationFailed.field("body.action.kind", "must be command, connector, task or mission")


def validate_misfire(raw: dict[str, Any] | None) -> dict[str, Any]:
    raw = dict(raw or {})
    try:
        policy = MisfirePolicy(raw.get("policy", "run_once"))
    except ValueError as exc:
        raise ValidationFailed.field("body.misfire.policy", "must be skip, run_once or catch_up") from exc
    max_runs = int(raw.get("max_runs", 3 if policy is MisfirePolicy.CATCH_UP else 1))
    if not 1 <= max_runs <= 100:
        raise ValidationFailed.field("body.misfire.max_runs", "must be between 1 and 100")
    grace_s = float(raw.get("grace_s", 60))
    if not 0 <= grace_s <= 86_400:
        raise ValidationFailed.field("body.misfire.grace_s", "must be between 0 and 86400")
    return {"policy": policy.value, "max_runs": max_runs, "grace_s": grace_s}


@lru_cache(maxsize=1024)
def _cron(expression: str, timezone: str) -> CronSchedule:
    return CronSchedule(expression, timezone)


def _due_schedule(raw: dict[str, Any], anchor_us: int) -> Schedule:
    """A due routine's stored schedule (validated when saved, so not again). Cron schedules
    are shared by (expression, zone), which is also what a tick's lookback shares walks by;
    intervals are cheaper to make than to keep (a per-routine cache kept 10,000 objects
    alive after a recovery, for the garbage collector to walk)."""
    if "cron" in raw:
        return _cron(str(raw["cron"]), str(raw.get("timezone") or "UTC"))
    return IntervalSchedule(float(raw["interval_s"]), from_us(anchor_us))


@lru_cache(maxsize=256)
def _misfire(policy: str, max_runs: int, grace_s: float) -> Misfire:
    """A stored misfire policy (few distinct ones: made once, not once per due routine)."""
    return Misfire(MisfirePolicy(policy), int(max_runs), float(grace_s))


@cache
def _gate(action_class: ActionClass, *, external_allowed: bool, requires_approval: bool) -> GateResult:
    return decide(action_class, external_allowed=external_allowed, requires_approval=requires_approval)


def stored_schedule(raw: dict[str, Any], anchor: datetime) -> Schedule:
    """A schedule read back from the database: validated when it was saved, so not again."""
    if "cron" in raw:
        return CronSchedule(str(raw["cron"]), str(raw.get("timezone") or "UTC"))
    return IntervalSchedule(float(raw["interval_s"]), anchor)


def routine_schedule(row: RoutineRow) -> Schedule:
    return parse_schedule(row.schedule, from_us(row.anchor_us))


def describe_schedule(schedule: dict[str, Any]) -> str:
    if "interval_s" in schedule:
        return f"every {schedule['interval_s']:g} s"
    return f"cron '{schedule['cron']}' in {schedule.get('timezone') or 'UTC'}"


def routine_to_wire(row: RoutineRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "schedule": row.schedule,
        "schedule_text": describe_schedule(row.schedule),
        "misfire": row.misfire,
        "overlap": row.overlap,
        "action": row.action,
        "action_class": classify(row.action, EXTERNAL_CONNECTORS).value,
        "requires_approval": row.requires_approval,
        "external_allowed": row.external_allowed,
        "created_by": {"type": row.created_by_type, "id": row.created_by_id},
        "status": row.status,
        "next_fire_at": ts(row.next_fire_at_us) if row.status == "active" else None,
        # While paused: the first occurrence the pause held back (where resume looks from).
        "paused_from": ts(row.next_fire_at_us) if row.status == "paused" else None,
        "last_fired_at": ts(row.last_fired_at_us),
        "rev": row.rev,
        "created_at": ts(row.created_at_us),
        "updated_at": ts(row.updated_at_us),
    }


def run_to_wire(run: RoutineRunRow | PlannedRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "routine_id": run.routine_id,
        "scheduled_for": ts(run.scheduled_for_us),
        "trigger": run.trigger,
        "status": run.status,
        "approval_id": run.approval_id,
        "mission_id": run.mission_id,
        "started_at": ts(run.started_at_us),
        "finished_at": ts(run.finished_at_us),
        "detail": run.detail,
        "created_at": ts(run.created_at_us),
    }


@dataclass(slots=True)
class PlannedRun:
    """A run decided in memory; the same fields as its row. Cheap to make in bulk."""

    id: str
    routine_id: str
    scheduled_for_us: int
    occurrence_key: str
    trigger: str
    status: str
    detail: dict[str, Any]
    created_at_us: int
    approval_id: str | None = None
    mission_id: str | None = None
    started_at_us: int | None = None
    finished_at_us: int | None = None


class _Batch:
    """Runs and events decided in one tick, written together: one bulk insert and one
    append instead of a flush per row."""

    def __init__(self) -> None:
        self.runs: list[PlannedRun] = []
        self.events: list[NewEvent] = []

    def add(self, run: PlannedRun, event: NewEvent) -> None:
        self.runs.append(run)
        self.events.append(event)

    def active_of(self, routine_id: str) -> list[Any]:
        return [r for r in self.runs if r.routine_id == routine_id and r.status in ("queued", "running")]

    def flush(self, uow: UnitOfWork) -> None:
        if self.runs:
            uow.routines.add_runs(self.runs)
        if self.events:
            uow.emit_many(self.events)
        self.runs, self.events = [], []


def _event(kind: str, row: RoutineRow | DueRoutine, data: dict[str, Any] | None = None) -> NewEvent:
    return NewEvent(
        f"routine.{kind}", f"routine/{row.id}", {"routine_id": row.id, "rev": row.rev, **(data or {})}
    )


class RoutineService:
    def __init__(self, store: Store, approvals: ApprovalService) -> None:
        self._store = store
        self._mutation = Mutation(store)
        self._approvals = approvals
        approvals.on_decision("routine_run", self._approval_decided)

    # -- CRUD -------------------------------------------------------------------------
    def _load(self, uow: UnitOfWork, routine_id: str) -> RoutineRow:
        row = uow.routines.get(routine_id)
        if row is None:
            raise RoutineNotFound(f"no routine {routine_id!r}", routine_id=routine_id)
        return row

    def create(self, ctx: RequestContext, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        ctx.principal.require("routines:write")
        is_agent = ctx.principal.kind == "agent"

        def change(uow: UnitOfWork) -> dict[str, Any]:
            schedule = parse_schedule(body["schedule"], uow.now)
            status = "draft" if is_agent else body.get("status") or "active"
            row = RoutineRow(
                id=new_id("rtn"),
                name=body["name"],
                schedule=body["schedule"],
                misfire=validate_misfire(body.get("misfire")),
                overlap=body.get("overlap") or "skip",
                action=validate_action(body["action"]),
                requires_approval=bool(body.get("requires_approval")),
                external_allowed=bool(body.get("external_allowed")),
                created_by_type="agent" if is_agent else "user",
                created_by_id=ctx.actor,
                status=status,
                next_fire_at_us=to_us(schedule.next_after(uow.now)) if status == "active" else None,
                anchor_us=uow.now_us,
                rev=1,
                created_at_us=uow.now_us,
                updated_at_us=uow.now_us,
            )
            uow.routines.save(row)
            uow.emit(_event("created", row, {"routine": routine_to_wire(row)}))
            return routine_to_wire(row)

        return self._mutation.run(ctx, change)

    def update(
        self, ctx: RequestContext, routine_id: str, changes: dict[str, Any], expected_rev: int | None
    ) -> tuple[dict[str, Any], bool]:
        ctx.principal.require("routines:write")

        def change(uow: UnitOfWork) -> dict[str, Any]:
            row = self._load(uow, routine_id)
            self._check_owner(ctx, row)
            if expected_rev is not None and row.rev != expected_rev:
                raise Conflict(
                    f"{row.id} is at revision {row.rev}",
                    code="REVISION_CONFLICT",
                    expected_rev=expected_rev,
                    current_rev=row.rev,
                )
            if "schedule" in changes:
                new = dict(changes["schedule"])
                if "cron" in new and "timezone" not in new and "cron" in row.schedule:
                    new["timezone"] = row.schedule.get("timezone") or "UTC"  # a new expression keeps its zone
                parse_schedule(new, uow.now)
                row.schedule = (
                    {"interval_s": new["interval_s"]}
                    if "interval_s" in new
                    else {"cron": new["cron"], "timezone": new.get("timezone") or "UTC"}
                )
                row.anchor_us = uow.now_us
            if "misfire" in changes:
                row.misfire = validate_misfire({**row.misfire, **changes["misfire"]})  # a partial edit merges
            if "action" in changes:
                row.action = validate_action(changes["action"])
            for key in ("name", "overlap", "requires_approval", "external_allowed"):
                if key in changes:
                    setattr(row, key, changes[key])
            schedule = routine_schedule(row)
            if row.status in ("active", "paused") and "schedule" in changes:
                # A new schedule moves the next occurrence (for a paused routine, the
                # point resume counts missed occurrences from) onto the new schedule.
                row.next_fire_at_us = to_us(schedule.next_after(uow.now))
            if ctx.principal.kind == "agent" and row.status != "draft":
                row.status = "draft"  # an agent's edit needs a person to look again
            self._touch(uow, row)
            uow.emit(_event("updated", row, {"changes": sorted(changes), "routine": routine_to_wire(row)}))
            return routine_to_wire(row)

        return self._mutation.run(ctx, change)

    def _check_owner(self, ctx: RequestContext, row: RoutineRow) -> None:
        if ctx.principal.kind == "agent" and row.created_by_id != ctx.actor:
            raise Forbidden(f"agents may only change their own routines; {row.id} is not {ctx.actor}'s")

    def _touch(self, uow: UnitOfWork, row: RoutineRow) -> None:
        row.rev += 1
        row.updated_at_us = uow.now_us
        uow.routines.save(row)

    def lifecycle(
        self, ctx: RequestContext, routine_id: str, action: str, apply_misfire: bool = False
    ) -> tuple[dict[str, Any], bool]:
        ctx.principal.require("routines:write")

        def change(uow: UnitOfWork) -> dict[str, Any]:
            row = self._load(uow, routine_id)
            self._check_owner(ctx, row)
            schedule = routine_schedule(row)
            if action == "activate":
                if ctx.principal.kind == "agent":
                    raise Forbidden("a person must activate a routine; agents create drafts")
                if row.status != "draft":
                    raise Conflict(
                        f"{row.id} is {row.status}, not draft",
                        code="INVALID_TRANSITION",
                        allowed=["pause"] if row.status == "active" else ["resume"],
                    )
                row.status = "active"
                row.next_fire_at_us = to_us(schedule.next_after(uow.now))
                self._touch(uow, row)
                uow.emit(_event("activated", row, {"next_fire_at": ts(row.next_fire_at_us)}))
            elif action == "pause":
                if row.status != "active":
                    raise Conflict(f"{row.id} is {row.status}, not active", code="INVALID_TRANSITION")
                row.status = "paused"  # next_fire_at is kept: it is where the pause began
                self._touch(uow, row)
                uow.emit(_event("paused", row))
            elif action == "resume":
                if row.status != "paused":
                    raise Conflict(f"{row.id} is {row.status}, not paused", code="INVALID_TRANSITION")
                if ctx.principal.kind == "agent":
                    raise Forbidden("a person must resume a routine")
                row.status = "active"
                paused_from = from_us(row.next_fire_at_us) if row.next_fire_at_us else uow.now
                if not apply_misfire:
                    self._record_missed_range(uow, row, schedule, paused_from, uow.now, reason="paused")
                    row.next_fire_at_us = to_us(schedule.next_after(uow.now))
                else:
                    row.next_fire_at_us = to_us(paused_from)
                self._touch(uow, row)
                uow.emit(
                    _event(
                        "resumed",
                        row,
                        {"apply_misfire": apply_misfire, "next_fire_at": ts(row.next_fire_at_us)},
                    )
                )
            else:
                raise ValidationFailed.field("path.action", "must be activate, pause or resume")
            return routine_to_wire(row)

        return self._mutation.run(ctx, change)

    def delete(self, ctx: RequestContext, routine_id: str) -> tuple[dict[str, Any], bool]:
        ctx.principal.require("routines:write")

        def change(uow: UnitOfWork) -> dict[str, Any]:
            row = self._load(uow, routine_id)
            self._check_owner(ctx, row)
            uow.routines.delete(row.id)
            uow.emit(_event("deleted", row))
            return {"id": row.id, "deleted": True}

        return self._mutation.run(ctx, change)

    def get(self, ctx: RequestContext, routine_id: str) -> dict[str, Any]:
        ctx.principal.require("routines:read")
        with self._store.read() as uow:
            row = self._load(uow, routine_id)
            last = uow.routines.last_run(row.id)
            return {**routine_to_wire(row), "last_run": run_to_wire(last) if last else None}

    def list(
        self, ctx: RequestContext, status: str | None, after_id: str | None, limit: int
    ) -> dict[str, Any]:
        ctx.principal.require("routines:read")
        with self._store.read() as uow:
            rows = uow.routines.list(status=status, after_id=after_id, limit=limit)
            items = []
            for row in rows:
                last = uow.routines.last_run(row.id)
                items.append({**routine_to_wire(row), "last_run": run_to_wire(last) if last else None})
        return {"items": items, "next_after_id": items[-1]["id"] if len(items) == limit else None}

    def history(
        self, ctx: RequestContext, routine_id: str, limit: int, before_id: str | None
    ) -> dict[str, Any]:
        ctx.principal.require("routines:read")
        with self._store.read() as uow:
            runs = uow.routines.runs(routine_id, limit=limit, before_id=before_id)
            if not runs:
                self._load(uow, routine_id)
            return {
                "items": [run_to_wire(r) for r in runs],
                "next_before_id": runs[-1].id if len(runs) == limit else None,
            }

    # -- firing -----------------------------------------------------------------------
    def run_now(self, ctx: RequestContext, routine_id: str) -> tuple[dict[str, Any], bool]:
        """A manual run, even while paused; it does not move next_fire_at."""
        ctx.principal.require("routines:run")

        def change(uow: UnitOfWork) -> dict[str, Any]:
            row = self._load(uow, routine_id)
            if row.status == "draft":
                raise Conflict(f"{row.id} is a draft; a person must activate it first", code="ROUTINE_DRAFT")
            run = self._new_run(uow, row, uow.now_us, "manual", occurrence_key=f"m:{new_id('run')}")
            return run_to_wire(run)

        answer, replayed = self._mutation.run(ctx, change)
        if answer.get("status") == "blocked_policy":  # a replay of a blocked run is blocked too
            raise PolicyBlocked(f"routine {routine_id}: {answer['detail'].get('reason')}", run=answer)
        return answer, replayed

    def _new_run(
        self,
        uow: UnitOfWork,
        row: RoutineRow | DueRoutine,
        scheduled_for_us: int,
        trigger: str,
        occurrence_key: str = "s",
        active: list[RoutineRunRow] | None = None,
        batch: _Batch | None = None,
    ) -> PlannedRun:
        """Decide one run: policy gate, overlap, approval. Written now, or into `batch`."""
        gate = _gate(
            classify(row.action, EXTERNAL_CONNECTORS),
            external_allowed=row.external_allowed,
            requires_approval=row.requires_approval,
        )
        run = PlannedRun(
            id=new_id("run"),
            routine_id=row.id,
            scheduled_for_us=scheduled_for_us,
            occurrence_key=occurrence_key,
            trigger=trigger,
            status="queued",
            detail={
                "policy": gate.decision.value,
                "action_class": gate.action_class.value,
                "reason": gate.reason,
            },
            created_at_us=uow.now_us,
        )
        base = {"run_id": run.id, "scheduled_for": format_us(scheduled_for_us), "trigger": trigger}
        sink = batch or _Batch()
        current: list[Any] = []
        # Only runs from earlier ticks count: the catch-up runs of one plan are meant to
        # run one after another (the runner starts a queued run when the previous ends).
        if trigger != "manual" and row.overlap != "allow":
            current = list(active if active is not None else uow.routines.active_runs(row.id))
        overlapping = bool(current) and (row.overlap == "skip" or any(r.status == "queued" for r in current))
        if gate.decision is Decision.BLOCKED_POLICY:
            run.status = "blocked_policy"
            sink.add(run, _event("blocked", row, {**base, "reason": gate.reason}))
        elif overlapping:
            previous = current[0]
            run.status = "skipped_overlap"
            run.detail["reason"] = f"previous run {previous.id} is still {previous.status}"
            sink.add(
                run, _event("skipped", row, {**base, "reason": "overlap", "previous_run_id": previous.id})
            )
        elif gate.decision is Decision.PENDING_APPROVAL:
            approval = ApprovalService.request(
                uow,
                kind="routine_run",
                subject=f"routine/{row.id}/run/{run.id}",
                summary=f"run routine '{row.name}' ({describe_schedule(row.schedule)}): "
                f"{gate.action_class.value} action {row.action.get('kind')}",
                requester=f"routine:{row.id}",
                payload={"routine_id": row.id, "run_id": run.id, "action": row.action},
            )
            run.status = "pending_approval"
            run.approval_id = approval.id
            sink.add(run, _event("approval_required", row, {**base, "approval_id": approval.id}))
        else:
            sink.add(run, _event("fired", row, base))
        if batch is None:
            sink.flush(uow)
        return run

    def _record_missed_range(
        self,
        uow: UnitOfWork,
        row: RoutineRow | DueRoutine,
        schedule: Schedule,
        first: datetime,
        now: datetime,
        *,
        reason: str,
        last: datetime | None = None,
        count: int | None = None,
        batch: _Batch | None = None,
    ) -> None:
        if last is None:
            if first > now:
                return
            plan = plan_due(schedule, first, now, Misfire(MisfirePolicy.SKIP, 1, 0))
            if not plan.missed_any and not plan.run:
                return
            last = plan.last_missed or (plan.run[-1] if plan.run else first)
            count = None if plan.missed_count is None else plan.missed_count + len(plan.run)
        last_us = to_us(last)
        last_text = format_us(last_us)
        run = PlannedRun(
            id=new_id("run"),
            routine_id=row.id,
            scheduled_for_us=to_us(first),
            occurrence_key=f"missed:{last_us}",
            trigger="scheduled",
            status="missed",
            detail={"reason": reason, "last_missed": last_text, "count": count},
            created_at_us=uow.now_us,
        )
        sink = batch or _Batch()
        sink.add(
            run,
            _event(
                "missed",
                row,
                {
                    "run_id": run.id,
                    "first": format_us(run.scheduled_for_us),
                    "last": last_text,
                    "count": count,
                    "reason": reason,
                },
            ),
        )
        if batch is None:
            sink.flush(uow)

    def tick(self, now: datetime | None = None) -> int:
        """Fire every due occurrence of up to TICK_BATCH routines in one transaction (their
        runs, missed ranges, events and next fire times commit together); returns how many
        routines were due."""
        with self._store.write(actor="system.scheduler") as uow:
            at = now or uow.now
            due = uow.routines.due_rows(to_us(at), TICK_BATCH)
            overlapping = [r.id for r in due if r.overlap != "allow"]
            active = uow.routines.active_runs_of(overlapping) if overlapping else {}
            batch = _Batch()
            lookback = Lookback(at)  # routines sharing a cron schedule share its walk back from `at`
            updates = [self._fire_due(uow, row, lookback, batch, active.get(row.id, [])) for row in due]
            batch.flush(uow)
            uow.routines.advance(updates)
            return len(due)

    def _fire_due(
        self, uow: UnitOfWork, row: DueRoutine, lookback: Lookback, batch: _Batch, active: list[RoutineRunRow]
    ) -> tuple[str, int, int | None]:
        """Plan one due routine into `batch`; returns its (id, next fire time, last fire time)."""
        now = lookback.now
        schedule = _due_schedule(row.schedule, row.anchor_us)
        misfire = _misfire(row.misfire["policy"], row.misfire["max_runs"], row.misfire["grace_s"])
        plan = plan_due(schedule, from_us(row.next_fire_at_us), now, misfire, lookback=lookback)
        if plan.first_missed is not None:
            self._record_missed_range(
                uow,
                row,
                schedule,
                plan.first_missed,
                now,
                reason="misfire",
                last=plan.last_missed,
                count=plan.missed_count,
                batch=batch,
            )
        last_us = row.last_fired_at_us
        final = len(plan.run) - 1
        for i, occurrence in enumerate(plan.run):
            last_us = to_us(occurrence)
            trigger = "catch_up" if i < final else "scheduled"
            self._new_run(uow, row, last_us, trigger, active=active, batch=batch)
        next_fire_at = plan.next_fire_at
        if next_fire_at <= now:
            # Never leave a routine due after a tick: an off-schedule next_fire_at
            # snaps to the schedule's next occurrence.
            next_fire_at = schedule.next_after(now)
        return row.id, to_us(next_fire_at), last_us

    def next_due_at(self) -> datetime | None:
        with self._store.read() as uow:
            earliest = uow.routines.earliest_due()
        return from_us(earliest) if earliest is not None else None

    # -- approvals --------------------------------------------------------------------
    def _approval_decided(self, uow: UnitOfWork, approval: ApprovalRow) -> None:
        run = uow.routines.get_run(str(approval.payload.get("run_id")))
        if run is None or run.status != "pending_approval":
            return
        row = uow.routines.get(run.routine_id)
        if approval.status == "approved":
            run.status = "queued"
            run.detail = {**run.detail, "approved_by": approval.decider}
        else:
            run.status = "denied"
            run.finished_at_us = uow.now_us
            run.detail = {**run.detail, "decision": approval.status, "reason": approval.reason}
        uow.routines.save(run)
        if row is not None:
            uow.emit(
                _event(
                    "fired" if approval.status == "approved" else "run_finished",
                    row,
                    {
                        "run_id": run.id,
                        "status": run.status,
                        "approval_id": approval.id,
                    },
                )
            )
