"""The mission reducer under random event sequences, sensible and not: it never raises, replay is
deterministic, terminal states absorb later events, gates and budgets hold, nothing is dispatched twice
and recorded facts fold back without a change."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from missiond.core.missions.reducer import (
    INPUT_TYPES,
    MISSION_EVENT_TYPES,
    RECORDED_TYPES,
    MissionEvent,
    applied,
    on_event,
    replay,
)
from missiond.core.missions.spec import PLAN_ITEM
from missiond.core.missions.state import (
    IN_FLIGHT,
    ITEM_STATUSES,
    ITEM_TERMINAL,
    MISSION_TERMINAL,
    Command,
    Dispatch,
    Finish,
    Item,
    MissionState,
    Notice,
    RecordFact,
    RequestApproval,
    RunTest,
)

from .mission_harness import BAD_PLAN, GOOD_PLAN, Mission, at, make_spec

GRAPHS = [("a",), ("a", "b:a"), ("a", "b", "c:a,b"), ("a", "b:a", "c:b", "d")]
MISSION_STATUSES = {"draft", "running", "paused", "halted", *MISSION_TERMINAL}
WORK_KINDS = [
    ("work.submitted", {"ok": True, "summary": "did it"}),
    ("work.submitted", {"ok": False, "summary": "crashed"}),
    ("review.approved", {"reviewer": "rita"}),
    ("review.changes_requested", {"feedback": "rename things"}),
    ("test.passed", {"exit_code": 0, "tail": "ok"}),
    ("test.failed", {"exit_code": 2, "tail": "boom", "artifact": "log-1"}),
    ("work.dispatched", {"role": "executor", "task_id": "t-1"}),
    ("work.dispatched", {"role": "reviewer", "task_id": "t-2"}),
    ("review.requested", {"approval_id": "apr-1"}),
]
CONTROLS = ["mission.started", "mission.paused", "mission.resumed", "mission.resumed"]
DATA_KEYS = [
    "item_id",
    "attempt",
    "ok",
    "feedback",
    "summary",
    "role",
    "items",
    "reason",
    "exit_code",
    "tail",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.text(max_size=6)
    | st.sampled_from(["a", "b", "_plan"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(DATA_KEYS), inner, max_size=3)
    ),
    max_leaves=6,
)
plans = st.lists(
    st.fixed_dictionaries(
        {"id": st.sampled_from(["p1", "p2", "p3"]), "title": st.sampled_from(["P", "", None])},
        optional={"depends_on": st.lists(st.sampled_from(["p1", "p2", "p3", "zz"]), max_size=2)},
    ),
    max_size=3,
)


class MissionMachine(RuleBasedStateMachine):
    """Feeds events to one mission and checks every answer against the rules of the game."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[MissionEvent] = []
        self.answers: list[tuple[MissionState, list[Command]]] = []
        self.sent: set[tuple[str, str, int]] = set()  # (kind or role, item, attempt) already issued
        self.finishes = 0

    @initialize(
        graph=st.sampled_from(GRAPHS),
        review=st.sampled_from(["agent", "human", "none"]),
        test=st.booleans(),
        max_rework=st.integers(0, 2),
        max_parallel=st.integers(1, 3),
        deadline=st.booleans(),
        planner=st.booleans(),
        start=st.integers(0, 4),
    )
    def create(self, graph: tuple[str, ...], start: int, deadline: bool, **options: Any) -> None:
        spec = make_spec(*graph, max_duration_s=60 if deadline else None, **options)
        self.initial = Mission(spec).state
        self.state = self.initial
        if start:  # mostly start at once, so the runs reach the interesting states
            self.feed("mission.started", {})

    # -- feeding --------------------------------------------------------------------------
    def feed(self, event_type: str, data: Any) -> list[Command]:
        event = MissionEvent(event_type, data, at(len(self.events) + 1))
        before = self.state
        after, commands = on_event(before, event)
        self.events.append(event)
        self.answers.append((after, commands))
        self.state = after
        self.check_answer(before, after, commands)
        return commands

    def item_at(self, index: int) -> str:
        return self.state.items[index % len(self.state.items)].id if self.state.items else "a"

    def attempt_of(self, item_id: str) -> int:
        item = self.state.item(item_id)
        return item.attempt.n if item and item.attempt else 1

    @rule(kind=st.sampled_from(CONTROLS))
    def control(self, kind: str) -> None:
        self.feed(kind, {})

    @rule(roll=st.integers(0, 19))
    def now_and_then_cancel_or_miss_the_deadline(self, roll: int) -> None:
        if roll == 0:
            self.feed("mission.cancelled", {"reason": "enough"})
        elif roll == 1:
            self.feed("mission.deadline_passed", {})

    def progress(self, index: int, roll: int) -> None:
        """The answer a working team would give next for an item in flight (mostly a good one)."""
        flying = [i for i in self.state.items if i.status in IN_FLIGHT and i.attempt]
        if not flying:
            return
        item = flying[index % len(flying)]
        assert item.attempt is not None
        base = {"item_id": item.id, "attempt": item.attempt.n}
        good = roll < 7
        if item.status == "in_progress":
            self.feed("work.submitted", {**base, "ok": good, "summary": "did it"})
        elif item.status == "review" and roll == 9:
            self.feed("review.requested", {**base, "approval_id": "apr-1"})
        elif item.status == "review":
            event = "review.approved" if good else "review.changes_requested"
            self.feed(event, {**base, "reviewer": "rita", "feedback": f"fix {item.id} #{roll}"})
        else:
            self.feed("test.passed" if good else "test.failed", {**base, "exit_code": 0 if good else 1})

    @rule(index=st.integers(0, 5), roll=st.integers(0, 9))
    def progress_one_item(self, index: int, roll: int) -> None:
        self.progress(index, roll)

    @rule(index=st.integers(0, 5), roll=st.integers(0, 9))
    def progress_another_item(self, index: int, roll: int) -> None:
        self.progress(index, roll)

    @rule(index=st.integers(0, 5), roll=st.integers(0, 9))
    def progress_yet_another_item(self, index: int, roll: int) -> None:
        self.progress(index, roll)

    @rule(index=st.integers(0, 5), kind=st.sampled_from(WORK_KINDS))
    def work(self, index: int, kind: tuple[str, dict[str, Any]]) -> None:
        item_id = self.item_at(index)
        self.feed(kind[0], {"item_id": item_id, "attempt": self.attempt_of(item_id), **kind[1]})

    @rule(
        index=st.integers(0, 5),
        kind=st.sampled_from(WORK_KINDS),
        attempt=st.sampled_from([-1, 0, 1, 2, 3, True, "1", None, 1.0]),
        item_id=st.sampled_from([None, "zz", "", PLAN_ITEM]),
    )
    def work_naming_the_wrong_thing(
        self, index: int, kind: tuple[str, dict[str, Any]], attempt: Any, item_id: str | None
    ) -> None:
        target = self.item_at(index) if item_id is None else item_id
        self.feed(kind[0], {"item_id": target, "attempt": attempt, **kind[1]})

    @rule(
        event_type=st.sampled_from(INPUT_TYPES) | st.sampled_from(RECORDED_TYPES) | st.text(max_size=12),
        data=st.dictionaries(st.sampled_from(DATA_KEYS), json_values, max_size=4),
    )
    def nonsense(self, event_type: str, data: dict[str, Any]) -> None:
        self.feed(event_type, data)

    @rule()
    def duplicate_the_last_event(self) -> None:
        if self.events:
            self.feed(self.events[-1].type, self.events[-1].data)

    @rule(plan=st.sampled_from([GOOD_PLAN, GOOD_PLAN, BAD_PLAN]) | plans)
    def submit_a_plan(self, plan: list[dict[str, Any]]) -> None:
        self.feed("mission.plan_submitted", {"items": plan})

    @rule()
    def fold_back_the_recorded_facts(self) -> None:
        facts = [c for c in self.answers[-1][1] if isinstance(c, RecordFact)] if self.answers else []
        for fact in facts:
            before = self.state
            self.feed(fact.type, dict(fact.data))
            assert self.state is before, f"folding back {fact.type} changed the state"

    # -- checks ---------------------------------------------------------------------------
    def check_answer(self, before: MissionState, after: MissionState, commands: list[Command]) -> None:
        if before.status in MISSION_TERMINAL:
            assert after is before, "a terminal mission changed"
        if not applied(before, after):
            assert commands == [] or (len(commands) == 1 and _is_warning(commands[0])), commands
        for command in commands:
            self.check_command(before, after, command)

    def check_command(self, before: MissionState, after: MissionState, command: Command) -> None:
        if isinstance(command, Dispatch | RunTest | RequestApproval):
            assert after.status == "running", f"{command} issued while {after.status}"
        if isinstance(command, Dispatch) and command.item_id == PLAN_ITEM:
            self.once("planner", PLAN_ITEM, command.attempt)
            assert (after.planner.status, after.planner.attempts) == ("planning", command.attempt)
        elif isinstance(command, Dispatch) and command.role == "reviewer":
            self.once("reviewer", command.item_id, command.attempt)
            item = _item(after, command.item_id)
            assert item.status == "review" and item.attempt and item.attempt.n == command.attempt
            assert after.spec.review.by == "agent"
        elif isinstance(command, Dispatch):
            self.check_executor_dispatch(before, after, command)
        elif isinstance(command, RunTest):
            self.once("test", command.item_id, command.attempt)
            assert _item(after, command.item_id).status == "test" and after.spec.test is not None
        elif isinstance(command, RequestApproval):
            self.once("approval", command.item_id, command.attempt)
            assert _item(after, command.item_id).status == "review" and after.spec.review.by == "human"
        elif isinstance(command, RecordFact):
            assert command.type in MISSION_EVENT_TYPES, command
        elif isinstance(command, Finish):
            self.finishes += 1
            assert self.finishes == 1 and after.status == command.status

    def check_executor_dispatch(self, before: MissionState, after: MissionState, dispatch: Dispatch) -> None:
        """A new attempt, never a second dispatch on top of one in flight."""
        self.once("executor", dispatch.item_id, dispatch.attempt)
        item, old = _item(after, dispatch.item_id), before.item(dispatch.item_id)
        assert item.status == "in_progress" and len(item.attempts) == dispatch.attempt
        assert dispatch.role == item.role and dispatch.feedback == item.feedback
        assert len(old.attempts if old else ()) == dispatch.attempt - 1
        if dispatch.attempt > 1:
            last = item.attempts[-2]
            assert last.run_ok is False or last.review == "changes_requested" or last.test == "failed", last
            assert all(f in dispatch.instructions for f in item.feedback)

    def once(self, kind: str, item_id: str, attempt: int) -> None:
        key = (kind, item_id, attempt)
        assert key not in self.sent, f"{kind} sent twice for {item_id} attempt {attempt}"
        self.sent.add(key)

    @invariant()
    def statuses_are_known(self) -> None:
        assert self.state.status in MISSION_STATUSES
        assert all(i.status in ITEM_STATUSES for i in self.state.items)

    @invariant()
    def in_flight_items_never_exceed_max_parallel(self) -> None:
        in_flight = sum(1 for i in self.state.items if i.status in IN_FLIGHT)
        assert in_flight <= self.state.spec.budgets.max_parallel

    @invariant()
    def reworks_stay_within_the_budget(self) -> None:
        budget = self.state.spec.budgets.max_rework
        for item in self.state.items:
            assert item.reworks <= budget and len(item.attempts) <= budget + 1, item

    @invariant()
    def done_means_reviewed_and_tested(self) -> None:
        spec = self.state.spec
        for item in self.state.items:
            if item.status != "done":
                continue
            attempt = item.attempt
            assert attempt is not None and attempt.run_ok is True
            if spec.review.required:
                assert attempt.review == "approved", item
            if spec.test is not None:
                assert attempt.test == "passed", item

    @invariant()
    def work_starts_only_after_its_dependencies_are_done(self) -> None:
        status = {i.id: i.status for i in self.state.items}
        for item in self.state.items:
            if item.status in (*IN_FLIGHT, "done", "ready", "rework"):
                assert all(status[d] == "done" for d in item.depends_on), item

    @invariant()
    def a_running_mission_leaves_nothing_waiting(self) -> None:
        # the reducer re-derives only what an event can have changed; this checks the outcome is
        # what a look at every item would give
        if self.state.status != "running":
            return
        status = {i.id: i.status for i in self.state.items}
        in_flight = sum(1 for s in status.values() if s in IN_FLIGHT)
        for item in self.state.items:
            deps = [status[d] for d in item.depends_on]
            assert item.status != "todo", item
            if item.status == "blocked":
                assert not all(d == "done" for d in deps), item
                assert not any(d in ("failed", "cancelled") for d in deps), item
            if item.status == "review":
                assert item.attempt is not None and item.attempt.review_requested, item
            if item.status == "test":
                assert item.attempt is not None and item.attempt.test_started, item
            if item.status in ("ready", "rework"):
                assert in_flight >= self.state.spec.budgets.max_parallel, item

    @invariant()
    def a_finished_mission_has_finished_items(self) -> None:
        items = self.state.items
        if self.state.status in MISSION_TERMINAL:
            assert all(i.status in ITEM_TERMINAL for i in items)
        if self.state.status == "succeeded":
            assert all(i.status == "done" for i in items)
        if self.state.status == "failed":
            assert any(i.status != "done" for i in items)

    @invariant()
    def replay_gives_the_same_state(self) -> None:
        if hasattr(self, "initial"):
            assert replay(self.initial, self.events) == self.state

    def teardown(self) -> None:
        if not hasattr(self, "initial"):
            return
        state = self.initial
        for event, (after, commands) in zip(self.events, self.answers, strict=True):
            state, again = on_event(state, event)
            assert (state, again) == (after, commands), "a second fold answered differently"


def _item(state: MissionState, item_id: str) -> Item:
    item = state.item(item_id)
    assert item is not None, f"command names unknown item {item_id}"
    return item


def _is_warning(command: Command) -> bool:
    return isinstance(command, Notice) and command.level == "warning"


MissionMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestMissionReducer = MissionMachine.TestCase
