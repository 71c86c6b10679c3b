"""The mission reducer: pure functions from (state, event) to (state, commands).

    state, commands = init(spec, mission_id, at)
    state, commands = on_event(state, event)

Events are past-tense facts. Input facts (`mission.started`,
`work.submitted`, `review.approved`, `test.failed`, ...) move the mission;
recorded facts (`work.done`, `mission.halted`, ...) are decisions this
reducer made and asked the runtime to record, so folding them back in
changes nothing. An event that does not apply to the current state changes
nothing and answers a warning `Notice` (never an exception): the state
returned is then the very same object, which `applied()` tells.

All dispatch happens in `_advance`, only while the mission is `running`, so
pausing stops new work in one place and resuming restarts it in one place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from missiond.core.missions.spec import PLAN_ITEM, MissionSpec, _Reader, parse_items
from missiond.core.missions.state import (
    IN_FLIGHT,
    ITEM_TERMINAL,
    MISSION_TERMINAL,
    Attempt,
    Command,
    Dispatch,
    Finish,
    Item,
    Layout,
    MissionState,
    Notice,
    OfferSolution,
    PersistArtifact,
    Planner,
    RecordFact,
    ReleaseWork,
    RequestApproval,
    RunTest,
    ScheduleTimeout,
    artifact_path,
    layout,
)

MAX_PLAN_REJECTIONS = 2
SUBMISSION = "submission.txt"
STARTABLE = frozenset({"ready", "rework"})
_GATED = frozenset({"review", "test"})
_STATUS = attrgetter("status")

INPUT_TYPES = (
    "mission.started",
    "mission.plan_submitted",
    "mission.paused",
    "mission.resumed",
    "mission.cancelled",
    "mission.deadline_passed",
    "work.dispatched",
    "work.submitted",
    "review.requested",
    "review.approved",
    "review.changes_requested",
    "test.passed",
    "test.failed",
)
RECORDED_TYPES = (
    "mission.created",
    "mission.plan_accepted",
    "mission.plan_rejected",
    "mission.succeeded",
    "mission.failed",
    "mission.halted",
    "work.rework_requested",
    "work.done",
    "work.failed",
    "work.released",
)
MISSION_EVENT_TYPES = INPUT_TYPES + RECORDED_TYPES
_RECORDED = frozenset(RECORDED_TYPES)
_IN_PROGRESS = frozenset({"in_progress"})
_IN_REVIEW = frozenset({"review"})
_IN_TEST = frozenset({"test"})


@dataclass(frozen=True, slots=True)
class MissionEvent:
    type: str
    data: Mapping[str, Any] = field(default_factory=dict)
    at: str = ""  # RFC 3339, from the envelope


Result = tuple[MissionState, list[Command]]


def init(spec: MissionSpec, mission_id: str, at: str) -> Result:
    items = tuple(
        Item(
            id=i.id,
            title=i.title,
            description=i.description,
            role=i.role,
            depends_on=i.depends_on,
            review=i.review,
        )
        for i in spec.work_items or ()
    )
    state = MissionState(id=mission_id, spec=spec, items=items, layout=layout(items), created_at=at)
    return state, [RecordFact("mission.created", {"title": spec.title, "items": [i.id for i in items]})]


def applied(before: MissionState, after: MissionState) -> bool:
    return before is not after


def on_event(state: MissionState, event: MissionEvent) -> Result:
    if event.type in _RECORDED:
        return state, []
    handler = _HANDLERS.get(event.type)
    if handler is None:
        return _ignore(state, f"{event.type!r} is not a mission event")
    if state.status in MISSION_TERMINAL:
        return _ignore(state, f"mission is {state.status}; {event.type} changes nothing")
    if type(event.data) is not dict and not isinstance(event.data, Mapping):
        return _ignore(state, f"{event.type}: data must be an object")
    try:
        return handler(state, event)
    except _Skip as skip:
        return _ignore(state, str(skip))


class _Skip(Exception):
    """Raised inside handlers to answer 'does not apply' without a change."""


def _ignore(state: MissionState, why: str) -> Result:
    return state, [Notice("warning", why)]


# -- helpers ------------------------------------------------------------------------------
def _text(data: Mapping[str, Any], key: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise _Skip(f"data.{key} must be a non-empty string")
    return value


def _item_at(state: MissionState, data: Mapping[str, Any], statuses: frozenset[str]) -> tuple[Item, Attempt]:
    item_id = _text(data, "item_id")
    assert item_id is not None
    item = state.item(item_id)
    if item is None:
        raise _Skip(f"no work item {item_id!r} in this mission")
    attempt = data.get("attempt")
    current = item.attempt
    if isinstance(attempt, bool) or not isinstance(attempt, int) or current is None or attempt != current.n:
        now = current.n if current else 0
        raise _Skip(f"item {item_id} is on attempt {now}; the event names attempt {attempt!r}")
    if item.status not in statuses:
        raise _Skip(f"item {item_id} is {item.status}, not {' or '.join(sorted(statuses))}")
    return item, current


def _put(state: MissionState, item: Item) -> MissionState:
    index = state.layout.positions[item.id]
    items = state.items
    return _with_items(state, (*items[:index], item, *items[index + 1 :]))


def _with_items(state: MissionState, items: tuple[Item, ...]) -> MissionState:
    fields = list(state)
    fields[_STATE_ITEMS] = items
    return MissionState._make(fields)


_ATTEMPT_FIELDS = {name: index for index, name in enumerate(Attempt._fields)}
_ITEM_ATTEMPTS = Item._fields.index("attempts")
_STATE_ITEMS = MissionState._fields.index("items")


def _with_attempt(item: Item, **changes: Any) -> Item:
    """The item with its current attempt changed. Hot (most events change an attempt), so it
    sets the fields by position: what `_replace` does, at a third of its cost."""
    attempts = item.attempts
    values = list(attempts[-1])
    for name, value in changes.items():
        values[_ATTEMPT_FIELDS[name]] = value
    fields = list(item)
    fields[_ITEM_ATTEMPTS] = (*attempts[:-1], Attempt._make(values))
    return Item._make(fields)


def instructions(spec: MissionSpec, item: Item, role: str, feedback: tuple[str, ...]) -> str:
    lines = [f"Mission: {spec.title}", f"Goal: {spec.goal}"]
    if spec.success_criteria:
        lines.append("Success criteria:")
        lines.extend(f"- {c}" for c in spec.success_criteria)
    lines.append(f"Your role: {role}")
    lines.append(f"Work item {item.id}: {item.title}")
    if item.description:
        lines.append(item.description)
    if role == "reviewer":
        lines.append("Review the submitted work; approve it or request changes with feedback.")
    if feedback:
        lines.append("Feedback from earlier attempts (address all of it):")
        lines.extend(f"- {f}" for f in feedback)
    return "\n".join(lines)


def _plan_instructions(spec: MissionSpec, planner: Planner) -> str:
    lines = [
        f"Mission: {spec.title}",
        f"Goal: {spec.goal}",
        "Your role: planner",
        "Submit a plan: work items {id, title, description, role, depends_on}.",
    ]
    lines.extend(f"- success: {c}" for c in spec.success_criteria)
    if planner.feedback:
        lines.append("Your previous plan was rejected:")
        lines.extend(f"- {f}" for f in planner.feedback)
    return "\n".join(lines)


# -- scheduling -----------------------------------------------------------------------------
def _advance(
    state: MissionState, at: str, commands: list[Command], changed: Item | None = None
) -> MissionState:
    """Unblock, dispatch what may start, open gates, and finish when nothing is left.

    It runs on every event, so it looks at as little as the event can have changed. `changed`
    is the one item the event moved, when the caller has one, not yet put into `state` (this
    puts it). An item that moved within the flight (submitted -> review, approved -> test)
    frees no slot and unblocks nothing: at most its own gate opens, since every advance of a
    running mission leaves no other gate waiting. An item that left the flight (done, failed,
    rework) frees a slot, and if terminal may unblock or doom its dependents. Without
    `changed` (start, resume, a new plan) every item is looked at. The item tuple is rebuilt
    once, from a working list, however many items change."""
    if state.status != "running":
        return state if changed is None else _put(state, changed)
    spec = state.spec
    if not state.items:
        if state.planner.status == "idle":
            planner = state.planner._replace(status="planning", attempts=state.planner.attempts + 1)
            state = state._replace(planner=planner)
            commands.append(
                Dispatch(
                    PLAN_ITEM,
                    "planner",
                    planner.attempts,
                    _plan_instructions(spec, planner),
                    planner.feedback,
                )
            )
        return state
    if changed is not None and changed.status in IN_FLIGHT:
        return _put(state, _open_gate(state, changed, commands) if _waits(changed) else changed)
    items = list(state.items)
    places = state.layout
    if changed is None:
        moved = _settle(items, places, commands, range(len(items)))
    else:
        items[places.positions[changed.id]] = changed
        if changed.status in ITEM_TERMINAL:
            _settle(items, places, commands, places.dependents[changed.id])
        moved = True
    tally = Counter(map(_STATUS, items))
    in_flight = tally["in_progress"] + tally["review"] + tally["test"]
    finished = tally["done"] + tally["failed"] + tally["cancelled"] == len(items)
    if finished:
        waiting: list[int] = []
    elif changed is None:
        waiting = [i for i, item in enumerate(items) if _waits(item)]
    elif in_flight < spec.budgets.max_parallel and (tally["ready"] or tally["rework"]):
        waiting = [i for i, item in enumerate(items) if item.status in STARTABLE]
    else:
        waiting = []
    for index in waiting:
        item = items[index]
        if item.status in _GATED:
            items[index] = _open_gate(state, item, commands)
        elif in_flight < spec.budgets.max_parallel:
            n = len(item.attempts) + 1
            item = item._replace(
                status="in_progress", attempts=(*item.attempts, Attempt(n=n, role=item.role))
            )
            commands.append(
                Dispatch(
                    item.id, item.role, n, instructions(spec, item, item.role, item.feedback), item.feedback
                )
            )
            items[index] = item
            in_flight += 1
        else:
            continue
        moved = True
    if moved:
        state = _with_items(state, tuple(items))
    if finished:
        failed = [i.id for i in state.items if i.status != "done"]
        if failed:
            state = _finish(state, "failed", f"work items not done: {', '.join(failed)}", at, commands)
        else:
            state = _finish(state, "succeeded", None, at, commands)
    return state


def _open_gate(state: MissionState, item: Item, commands: list[Command]) -> Item:
    """Ask for the review or run the test of an item that has just reached the gate."""
    if item.status == "review":
        return _open_review(state, item, commands)
    commands.append(RunTest(item.id, item.attempts[-1].n))
    return _with_attempt(item, test_started=True)


def _waits(item: Item) -> bool:
    """Whether the item has something to start: a dispatch, a review to open, a test to run."""
    status = item.status
    if status == "review":
        return not item.attempts[-1].review_requested
    if status == "test":
        return not item.attempts[-1].test_started
    return status in STARTABLE


def _settle(items: list[Item], places: Layout, commands: list[Command], among: Iterable[int]) -> bool:
    """Move the todo/blocked items `among` (in place) to ready, blocked or, behind a failed or
    cancelled dependency, failed; a failure cascades to its dependents. True if anything moved."""
    moved = False
    candidates = sorted(set(among))
    while candidates:
        doomed: list[int] = []
        for index in candidates:
            item = items[index]
            current = item.status
            if current != "todo" and current != "blocked":
                continue
            target = "ready"
            for dep in item.depends_on:
                dep_status = items[places.positions[dep]].status
                if dep_status == "failed" or dep_status == "cancelled":
                    reason = f"dependency {dep} {dep_status}"
                    items[index] = item._replace(status="failed", reason=reason)
                    commands.append(RecordFact("work.failed", {"item_id": item.id, "reason": reason}))
                    doomed.append(index)
                    target = "failed"
                    break
                if dep_status != "done":
                    target = "blocked"
            if target != current and target != "failed":
                items[index] = item._replace(status=target)
            moved = moved or target != current
        candidates = sorted({d for index in doomed for d in places.dependents[items[index].id]})
    return moved


def _review_by(state: MissionState, item: Item) -> str | None:
    """Who reviews this item: its own gate if it has one, else the mission's; None: nobody."""
    if item.review is not None:
        return None if item.review == "none" else item.review
    return state.spec.review.by if state.spec.review.required else None


def _open_review(state: MissionState, item: Item, commands: list[Command]) -> Item:
    attempt = item.attempt
    assert attempt is not None
    if _review_by(state, item) == "human":
        summary = f"Review {item.id} ({item.title}), attempt {attempt.n}: {attempt.summary or 'no summary'}"
        commands.append(RequestApproval(item.id, attempt.n, summary[:2000]))
    else:
        feedback = item.feedback
        commands.append(
            Dispatch(
                item.id, "reviewer", attempt.n, instructions(state.spec, item, "reviewer", feedback), feedback
            )
        )
    return _with_attempt(item, review_requested=True)


def _finish(
    state: MissionState, status: str, reason: str | None, at: str, commands: list[Command]
) -> MissionState:
    for item in state.items:
        if item.status in IN_FLIGHT and item.attempt:
            commands.append(ReleaseWork(item.id, item.attempt.n, f"mission {status}"))
    items = tuple(
        i if i.status in ITEM_TERMINAL else i._replace(status="cancelled", reason=f"mission {status}")
        for i in state.items
    )
    if status != "cancelled":  # a cancel is itself the input event `mission.cancelled`
        commands.append(RecordFact(f"mission.{status}", {"reason": reason} if reason else {}))
    commands.append(Finish(status, reason))
    return state._replace(status=status, items=items, finished_at=at, reason=reason)


def _halt(state: MissionState, reason: str, commands: list[Command]) -> MissionState:
    commands.append(RecordFact("mission.halted", {"reason": reason}))
    commands.append(Notice("warning", f"mission halted: {reason}"))
    return state._replace(status="halted", reason=reason)


def _send_back(state: MissionState, item: Item, feedback: str, at: str, commands: list[Command]) -> Result:
    attempt = item.attempt.n if item.attempt else 0
    if item.reworks >= state.spec.budgets.max_rework:
        reason = f"rework budget spent ({state.spec.budgets.max_rework}); last feedback: {feedback}"
        item = item._replace(status="failed", feedback=(*item.feedback, feedback), reason=reason[:4000])
        commands.append(
            RecordFact(
                "work.failed", {"item_id": item.id, "attempt": attempt, "reason": "rework budget spent"}
            )
        )
    else:
        item = item._replace(status="rework", reworks=item.reworks + 1, feedback=(*item.feedback, feedback))
        commands.append(
            RecordFact(
                "work.rework_requested",
                {
                    "item_id": item.id,
                    "attempt": attempt,
                    "reworks": item.reworks,
                    "feedback": feedback[:4000],
                },
            )
        )
    return _advance(state, at, commands, item), commands


# -- handlers ---------------------------------------------------------------------------------
def _started(state: MissionState, event: MissionEvent) -> Result:
    if state.status != "draft":
        raise _Skip(f"mission is {state.status}; only a draft starts")
    commands: list[Command] = []
    state = state._replace(status="running", started_at=event.at)
    if state.spec.budgets.max_duration_s:
        commands.append(ScheduleTimeout(state.spec.budgets.max_duration_s, "mission.deadline_passed"))
    return _advance(state, event.at, commands), commands


def _plan_submitted(state: MissionState, event: MissionEvent) -> Result:
    if state.planner.status != "planning":
        raise _Skip("no plan is being waited for")
    commands: list[Command] = []
    reader = _Reader()
    specs = parse_items(reader, event.data.get("items"), "data.items", state.spec.roles)
    if reader.problems:
        reasons = tuple(f"{f}: {m}" for f, m in reader.problems)
        planner = state.planner._replace(
            status="idle", rejections=state.planner.rejections + 1, feedback=reasons
        )
        state = state._replace(planner=planner)
        commands.append(RecordFact("mission.plan_rejected", {"reasons": list(reasons)}))
        if planner.rejections >= MAX_PLAN_REJECTIONS:
            return _halt(state, f"plan rejected {planner.rejections} times", commands), commands
        return _advance(state, event.at, commands), commands
    items = tuple(
        Item(
            id=i.id,
            title=i.title,
            description=i.description,
            role=i.role,
            depends_on=i.depends_on,
            review=i.review,
        )
        for i in specs
    )
    state = state._replace(
        items=items, layout=layout(items), planner=state.planner._replace(status="done", feedback=())
    )
    commands.append(RecordFact("mission.plan_accepted", {"items": [i.id for i in items]}))
    return _advance(state, event.at, commands), commands


def _paused(state: MissionState, event: MissionEvent) -> Result:
    if state.status != "running":
        raise _Skip(f"mission is {state.status}; only a running mission pauses")
    return state._replace(status="paused"), []


def _resumed(state: MissionState, event: MissionEvent) -> Result:
    if state.status not in ("paused", "halted"):
        raise _Skip(f"mission is {state.status}; only a paused or halted mission resumes")
    commands: list[Command] = []
    planner = state.planner
    if state.status == "halted" and planner.status == "idle":
        planner = planner._replace(rejections=0)
    state = state._replace(status="running", reason=None, planner=planner)
    return _advance(state, event.at, commands), commands


def _cancelled(state: MissionState, event: MissionEvent) -> Result:
    commands: list[Command] = []
    reason = event.data.get("reason")
    why = reason if isinstance(reason, str) and reason else "cancelled by request"
    return _finish(state, "cancelled", why, event.at, commands), commands


def _deadline(state: MissionState, event: MissionEvent) -> Result:
    if state.status not in ("running", "paused"):
        raise _Skip(f"mission is {state.status}; the deadline changes nothing")
    commands: list[Command] = []
    budget = state.spec.budgets.max_duration_s
    if not budget:
        raise _Skip("the mission has no max_duration_s, so no deadline")
    return _halt(state, f"max_duration_s ({budget:g}) spent", commands), commands


def _dispatched(state: MissionState, event: MissionEvent) -> Result:
    task_id = _text(event.data, "task_id", required=False)
    if event.data.get("item_id") == PLAN_ITEM:
        if state.planner.status != "planning":
            raise _Skip("no plan is being waited for")
        return state._replace(planner=state.planner._replace(task_id=task_id)), []
    role = event.data.get("role")
    if role == "reviewer":
        item, _ = _item_at(state, event.data, _IN_REVIEW)
        return _put(state, _with_attempt(item, review_task_id=task_id)), []
    item, _ = _item_at(state, event.data, _IN_PROGRESS)
    return _put(state, _with_attempt(item, task_id=task_id)), []


def _submitted(state: MissionState, event: MissionEvent) -> Result:
    item, _ = _item_at(state, event.data, _IN_PROGRESS)
    ok = event.data.get("ok", True)
    if not isinstance(ok, bool):
        raise _Skip("data.ok must be true or false")
    summary = _text(event.data, "summary", required=False)
    output = _text(event.data, "output", required=False)
    commands: list[Command] = []
    attempt = item.attempt
    assert attempt is not None
    artifacts = attempt.artifacts
    if output:  # what the agent handed in (a diff, a log) is kept as the attempt's artifact
        commands.append(PersistArtifact(item.id, attempt.n, SUBMISSION, output))
        artifacts = (*artifacts, artifact_path(state.id, item.id, attempt.n, SUBMISSION))
    item = _with_attempt(item, summary=summary, run_ok=ok, artifacts=artifacts)
    if not ok:
        return _send_back(state, item, f"the run failed: {summary or 'no summary given'}", event.at, commands)
    if _review_by(state, item) is not None:
        item = item._replace(status="review")
    elif state.spec.test is not None:
        item = item._replace(status="test")
    else:
        item = _done(state, item, commands)
    return _advance(state, event.at, commands, item), commands


def _done(state: MissionState, item: Item, commands: list[Command]) -> Item:
    attempt = item.attempt.n if item.attempt else 0
    commands.append(RecordFact("work.done", {"item_id": item.id, "attempt": attempt}))
    memory = state.spec.memory
    if memory is not None and memory.offer_solutions:
        summary = (item.attempt.summary if item.attempt else None) or "no summary"
        commands.append(OfferSolution(item.id, attempt, f"{item.title}: {summary}"[:4000]))
    return item._replace(status="done", reason=None)


def _review_requested(state: MissionState, event: MissionEvent) -> Result:
    item, _ = _item_at(state, event.data, _IN_REVIEW)
    approval_id = _text(event.data, "approval_id", required=False)
    return _put(state, _with_attempt(item, approval_id=approval_id)), []


def _approved(state: MissionState, event: MissionEvent) -> Result:
    item, _ = _item_at(state, event.data, _IN_REVIEW)
    reviewer = _text(event.data, "reviewer", required=False)
    item = _with_attempt(item, review="approved", reviewer=reviewer)
    commands: list[Command] = []
    item = item._replace(status="test") if state.spec.test is not None else _done(state, item, commands)
    return _advance(state, event.at, commands, item), commands


def _changes_requested(state: MissionState, event: MissionEvent) -> Result:
    item, _ = _item_at(state, event.data, _IN_REVIEW)
    feedback = _text(event.data, "feedback")
    reviewer = _text(event.data, "reviewer", required=False)
    item = _with_attempt(item, review="changes_requested", reviewer=reviewer, review_feedback=feedback)
    return _send_back(state, item, f"review: {feedback}", event.at, [])


def _test_result(state: MissionState, event: MissionEvent) -> Result:
    item, _ = _item_at(state, event.data, _IN_TEST)
    passed = event.type == "test.passed"
    code = event.data.get("exit_code")
    exit_code = code if isinstance(code, int) and not isinstance(code, bool) else None
    tail = event.data.get("tail") if isinstance(event.data.get("tail"), str) else None
    artifact = event.data.get("artifact")
    artifacts = item.attempt.artifacts if item.attempt else ()
    if isinstance(artifact, str) and artifact:
        artifacts = (*artifacts, artifact)
    item = _with_attempt(
        item, test="passed" if passed else "failed", exit_code=exit_code, test_tail=tail, artifacts=artifacts
    )
    commands: list[Command] = []
    if passed:
        item = _done(state, item, commands)
        return _advance(state, event.at, commands, item), commands
    feedback = f"test gate failed (exit {exit_code}):\n{tail or ''}".rstrip()
    return _send_back(state, item, feedback, event.at, commands)


_HANDLERS: dict[str, Callable[[MissionState, MissionEvent], Result]] = {
    "mission.started": _started,
    "mission.plan_submitted": _plan_submitted,
    "mission.paused": _paused,
    "mission.resumed": _resumed,
    "mission.cancelled": _cancelled,
    "mission.deadline_passed": _deadline,
    "work.dispatched": _dispatched,
    "work.submitted": _submitted,
    "review.requested": _review_requested,
    "review.approved": _approved,
    "review.changes_requested": _changes_requested,
    "test.passed": _test_result,
    "test.failed": _test_result,
}
assert set(_HANDLERS) == set(INPUT_TYPES)


def replay(state: MissionState, events: list[MissionEvent]) -> MissionState:
    for event in events:
        state, _ = on_event(state, event)
    return state
