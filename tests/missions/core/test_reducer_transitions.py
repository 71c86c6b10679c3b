"""Every transition of a mission and of its work items, one table row each, and the commands that
go with them: dispatches with feedback, gates, budgets, pause and resume, halts and the finish."""

from __future__ import annotations

from typing import Any

import pytest

from missiond.core.missions.spec import PLAN_ITEM
from missiond.core.missions.state import (
    Dispatch,
    Finish,
    Notice,
    RecordFact,
    ReleaseWork,
    RequestApproval,
    RunTest,
    ScheduleTimeout,
)

from .mission_harness import Mission

# -- mission status -------------------------------------------------------------------------
PLANNED: dict[str, Any] = {"planner": True}
DEADLINE: dict[str, Any] = {"max_duration_s": 60}
NO_REWORK: dict[str, Any] = {"max_rework": 0}
ONE, TWO = ("a",), ("a", "b")

MISSION_TRANSITIONS = [
    pytest.param(ONE, {}, [], "draft", id="created-as-draft"),
    pytest.param(ONE, {}, ["start"], "running", id="draft-starts-running"),
    pytest.param(ONE, {}, ["start", "pause"], "paused", id="running-pauses"),
    pytest.param(ONE, {}, ["start", "pause", "resume"], "running", id="paused-resumes-running"),
    pytest.param(ONE, DEADLINE, ["start", "deadline"], "halted", id="deadline-halts-running"),
    pytest.param(ONE, DEADLINE, ["start", "pause", "deadline"], "halted", id="deadline-halts-paused"),
    pytest.param(ONE, PLANNED, ["start", "plan-bad"], "running", id="first-bad-plan-keeps-running"),
    pytest.param(ONE, PLANNED, ["start", "plan-bad", "plan-bad"], "halted", id="second-bad-plan-halts"),
    pytest.param(ONE, DEADLINE, ["start", "deadline", "resume"], "running", id="halted-by-deadline-resumes"),
    pytest.param(
        ONE, PLANNED, ["start", "plan-bad", "plan-bad", "resume"], "running", id="halted-by-plans-resumes"
    ),
    pytest.param(ONE, {}, ["cancel"], "cancelled", id="draft-cancels"),
    pytest.param(ONE, {}, ["start", "cancel"], "cancelled", id="running-cancels"),
    pytest.param(ONE, {}, ["start", "pause", "cancel"], "cancelled", id="paused-cancels"),
    pytest.param(ONE, DEADLINE, ["start", "deadline", "cancel"], "cancelled", id="halted-cancels"),
    pytest.param(ONE, {}, ["start", "complete a"], "succeeded", id="last-item-done-succeeds"),
    pytest.param(ONE, NO_REWORK, ["start", "fail-run a"], "failed", id="last-item-failed-fails"),
    pytest.param(TWO, NO_REWORK, ["start", "fail-run a"], "running", id="failed-item-waits-for-the-others"),
    pytest.param(
        TWO, NO_REWORK, ["start", "fail-run a", "complete b"], "failed", id="fails-once-others-finish"
    ),
    pytest.param(ONE, {}, ["start", "pause", "complete a"], "paused", id="paused-mission-does-not-finish"),
    pytest.param(ONE, {}, ["start", "pause", "complete a", "resume"], "succeeded", id="resume-finishes-it"),
]


@pytest.mark.parametrize(("items", "options", "steps", "status"), MISSION_TRANSITIONS)
def test_mission_status_moves(
    items: tuple[str, ...], options: dict[str, Any], steps: list[str], status: str
) -> None:
    assert Mission.of(*items, **options).do(*steps).state.status == status


def test_creating_a_mission_records_it() -> None:
    m = Mission.of("a", "b:a")
    assert m.commands == [RecordFact("mission.created", {"title": m.spec.title, "items": ["a", "b"]})]
    assert m.state.created_at == "2026-03-01T09:00:00Z"


def test_starting_schedules_the_deadline_when_a_duration_budget_is_set() -> None:
    m = Mission.of(max_duration_s=90).do("start")
    assert m.last(ScheduleTimeout) == [ScheduleTimeout(90, "mission.deadline_passed")]
    assert m.state.started_at == m.events[-1].at


def test_starting_without_a_duration_budget_schedules_nothing() -> None:
    assert Mission.of().do("start").last(ScheduleTimeout) == []


def test_halting_records_why_and_resuming_clears_it() -> None:
    m = Mission.of(max_duration_s=60).do("start", "deadline")
    assert m.last(RecordFact) == [RecordFact("mission.halted", {"reason": "max_duration_s (60) spent"})]
    assert m.warnings() == ["mission halted: max_duration_s (60) spent"]
    assert m.state.reason == "max_duration_s (60) spent"
    m.do("resume")
    assert (m.state.status, m.state.reason) == ("running", None)


def test_halted_mission_dispatches_nothing_until_resumed() -> None:
    m = Mission.of("a", max_duration_s=60).do("start", "deadline", "fail-run a")
    assert (m.status("a"), m.dispatches()) == ("rework", [])
    m.do("resume")
    assert [(d.item_id, d.attempt) for d in m.dispatches()] == [("a", 2)]


@pytest.mark.parametrize(
    ("steps", "released"),
    [
        pytest.param(["start"], [("a", 1)], id="in-progress"),
        pytest.param(["start", "submit a"], [("a", 1)], id="in-review"),
        pytest.param(["start", "submit a", "approve a"], [("a", 1)], id="in-test"),
        pytest.param(["start", "fail-run a", "submit a"], [("a", 2)], id="second-attempt"),
        pytest.param(["start", "pause", "fail-run a"], [], id="waiting-for-rework"),
        pytest.param([], [], id="never-started"),
    ],
)
def test_cancelling_releases_open_work_and_cancels_open_items(
    steps: list[str], released: list[tuple[str, int]]
) -> None:
    m = Mission.of("a", "b:a").do(*steps, "cancel")
    assert [(r.item_id, r.attempt) for r in m.last(ReleaseWork)] == released
    assert m.statuses() == {"a": "cancelled", "b": "cancelled"}
    assert m.last(RecordFact) == [], "the cancel is itself the event `mission.cancelled`: no second fact"
    assert m.last(Finish) == [Finish("cancelled", "not needed any more")]
    assert m.state.finished_at == m.events[-1].at


def test_succeeding_records_and_finishes() -> None:
    m = Mission.of("a", "b:a").do("start", "complete a", "complete b")
    assert m.last(RecordFact)[-1] == RecordFact("mission.succeeded", {})
    assert m.last(Finish) == [Finish("succeeded", None)]
    assert m.state.finished_at == m.events[-1].at


def test_failing_names_the_items_not_done() -> None:
    m = Mission.of("a", "b:a", "c", max_rework=0).do("start", "complete c", "fail-run a")
    assert m.last(Finish) == [Finish("failed", "work items not done: a, b")]
    assert RecordFact("work.failed", {"item_id": "b", "reason": "dependency a failed"}) in m.commands


# -- work item status -----------------------------------------------------------------------
ITEM_TRANSITIONS = [
    pytest.param(("a", "b:a"), {}, [], {"a": ("todo", 0), "b": ("todo", 0)}, id="todo-until-started"),
    pytest.param(
        ("a", "b"),
        {"max_parallel": 1},
        ["start"],
        {"a": ("in_progress", 1), "b": ("ready", 0)},
        id="todo-to-ready",
    ),
    pytest.param(
        ("a", "b:a"), {}, ["start"], {"a": ("in_progress", 1), "b": ("blocked", 0)}, id="todo-to-blocked"
    ),
    pytest.param(("a",), {}, ["start"], {"a": ("in_progress", 1)}, id="ready-to-in-progress"),
    pytest.param(
        ("a", "b:a"),
        {},
        ["start", "complete a"],
        {"a": ("done", 1), "b": ("in_progress", 1)},
        id="blocked-goes-once-dependency-done",
    ),
    pytest.param(
        ("a", "b"),
        {"max_parallel": 1},
        ["start", "complete a"],
        {"a": ("done", 1), "b": ("in_progress", 1)},
        id="ready-goes-once-a-slot-frees",
    ),
    pytest.param(("a",), {}, ["start", "submit a"], {"a": ("review", 1)}, id="in-progress-to-review"),
    pytest.param(("a",), {}, ["start", "submit a", "approve a"], {"a": ("test", 1)}, id="review-to-test"),
    pytest.param(
        ("a",), {}, ["start", "submit a", "approve a", "pass-test a"], {"a": ("done", 1)}, id="test-to-done"
    ),
    pytest.param(("a",), {"review": "none"}, ["start", "submit a"], {"a": ("test", 1)}, id="review-skipped"),
    pytest.param(
        ("a",), {"test": False}, ["start", "submit a", "approve a"], {"a": ("done", 1)}, id="test-skipped"
    ),
    pytest.param(
        ("a",),
        {"review": "none", "test": False},
        ["start", "submit a"],
        {"a": ("done", 1)},
        id="both-skipped",
    ),
    pytest.param(
        ("a",), {}, ["start", "pause", "fail-run a"], {"a": ("rework", 1)}, id="failed-run-to-rework"
    ),
    pytest.param(
        ("a",),
        {},
        ["start", "submit a", "pause", "request-changes a"],
        {"a": ("rework", 1)},
        id="changes-requested-to-rework",
    ),
    pytest.param(
        ("a",),
        {},
        ["start", "submit a", "approve a", "pause", "fail-test a"],
        {"a": ("rework", 1)},
        id="failed-test-to-rework",
    ),
    pytest.param(("a",), {}, ["start", "fail-run a"], {"a": ("in_progress", 2)}, id="rework-to-next-attempt"),
    pytest.param(
        ("a",),
        {"max_rework": 2},
        ["start", *["fail-run a"] * 2],
        {"a": ("in_progress", 3)},
        id="last-rework-allowed",
    ),
    pytest.param(
        ("a",),
        {"max_rework": 2},
        ["start", *["fail-run a"] * 3],
        {"a": ("failed", 3)},
        id="budget-spent-fails",
    ),
    pytest.param(
        ("a",),
        {"max_rework": 0},
        ["start", "submit a", "request-changes a"],
        {"a": ("failed", 1)},
        id="no-budget-fails-at-first-rework",
    ),
    pytest.param(
        ("a", "b:a", "c:b", "d"),
        {"max_rework": 0},
        ["start", "fail-run a"],
        {"a": ("failed", 1), "b": ("failed", 0), "c": ("failed", 0), "d": ("in_progress", 1)},
        id="dependents-of-failed-item-fail",
    ),
    pytest.param(
        ("a", "b:a"),
        {},
        ["start", "complete a", "cancel"],
        {"a": ("done", 1), "b": ("cancelled", 1)},
        id="cancel-keeps-done-items-done",
    ),
]


@pytest.mark.parametrize(("items", "options", "steps", "expected"), ITEM_TRANSITIONS)
def test_item_status_moves(
    items: tuple[str, ...], options: dict[str, Any], steps: list[str], expected: dict[str, tuple[str, int]]
) -> None:
    m = Mission.of(*items, **options).do(*steps)
    assert {i.id: (i.status, len(i.attempts)) for i in m.state.items} == expected


def test_a_dispatch_names_the_item_role_and_attempt() -> None:
    [dispatch] = Mission.of("a").do("start").dispatches()
    assert (dispatch.item_id, dispatch.role, dispatch.attempt, dispatch.feedback) == ("a", "executor", 1, ())
    assert "Work item a: Item a" in dispatch.instructions
    assert "- the test suite passes" in dispatch.instructions


def test_submitted_work_is_sent_to_the_reviewer() -> None:
    m = Mission.of("a").do("start", "submit a")
    [review] = m.dispatches()
    assert (review.item_id, review.role, review.attempt) == ("a", "reviewer", 1)
    assert "Review the submitted work" in review.instructions
    assert m.item("a").attempt is not None and m.item("a").attempt.summary == "implemented a"


def test_approved_work_is_tested_and_a_passed_test_is_done() -> None:
    m = Mission.of("a", "b").do("start", "submit a", "approve a")
    assert m.last(RunTest) == [RunTest("a", 1)]
    m.do("pass-test a")
    assert m.last(RecordFact) == [RecordFact("work.done", {"item_id": "a", "attempt": 1})]
    attempt = m.item("a").attempt
    assert attempt is not None
    assert (attempt.review, attempt.reviewer, attempt.test, attempt.exit_code) == (
        "approved",
        "rita",
        "passed",
        0,
    )


# -- rework and feedback --------------------------------------------------------------------
REWORK_CAUSES = [
    pytest.param(["fail-run a"], "the run failed: the agent crashed", id="failed-run"),
    pytest.param(["submit a", "request-changes a"], "review: handle empty files", id="changes-requested"),
    pytest.param(
        ["submit a", "approve a", "fail-test a"],
        "test gate failed (exit 1):\nFAILED test_parse_empty",
        id="failed-test",
    ),
]


@pytest.mark.parametrize(("steps", "feedback"), REWORK_CAUSES)
def test_rework_carries_the_feedback_into_the_next_dispatch(steps: list[str], feedback: str) -> None:
    m = Mission.of("a").do("start", *steps)
    [dispatch] = m.dispatches()
    assert (dispatch.item_id, dispatch.role, dispatch.attempt) == ("a", "executor", 2)
    assert dispatch.feedback == (feedback,)
    assert feedback in dispatch.instructions
    assert "Feedback from earlier attempts" in dispatch.instructions
    recorded = m.last(RecordFact)[0]
    assert recorded == RecordFact(
        "work.rework_requested", {"item_id": "a", "attempt": 1, "reworks": 1, "feedback": feedback}
    )
    assert m.item("a").reworks == 1


def test_feedback_accumulates_oldest_first() -> None:
    m = Mission.of("a").do("start", "fail-run a", "submit a", "request-changes a")
    [dispatch] = m.dispatches()
    assert dispatch.attempt == 3
    assert dispatch.feedback == ("the run failed: the agent crashed", "review: handle empty files")


def test_a_failed_test_keeps_its_output_on_the_attempt() -> None:
    m = Mission.of("a").do("start", "submit a", "approve a", "fail-test a")
    first = m.item("a").attempts[0]
    assert (first.test, first.exit_code, first.test_tail, first.artifacts) == (
        "failed",
        1,
        "FAILED test_parse_empty",
        ("art-1",),
    )


def test_spending_the_budget_records_the_failure_with_the_last_feedback() -> None:
    m = Mission.of("a", "b", max_rework=1).do("start", "fail-run a", "fail-run a")
    assert m.last(RecordFact) == [
        RecordFact("work.failed", {"item_id": "a", "attempt": 2, "reason": "rework budget spent"})
    ]
    assert m.item("a").reason == "rework budget spent (1); last feedback: the run failed: the agent crashed"
    assert m.dispatches() == []


# -- parallelism ----------------------------------------------------------------------------
@pytest.mark.parametrize("limit", [1, 2, 3, 5], ids=lambda n: f"max-parallel-{n}")
def test_no_more_than_max_parallel_items_are_dispatched(limit: int) -> None:
    m = Mission.of("a", "b", "c", "d", max_parallel=limit).do("start")
    assert len(m.dispatches()) == min(limit, 4)


def test_items_in_review_and_test_keep_their_slot() -> None:
    m = Mission.of("a", "b", max_parallel=1).do("start", "submit a")
    assert (m.status("b"), m.dispatches("executor")) == ("ready", [])
    m.do("approve a")
    assert (m.status("b"), m.dispatches("executor")) == ("ready", [])
    m.do("pass-test a")
    assert [d.item_id for d in m.dispatches("executor")] == ["b"]


# -- pause and resume -----------------------------------------------------------------------
PAUSED_WORK = [
    pytest.param(("a",), {}, ["start"], "submit a", Dispatch, "reviewer", id="reviewer-dispatch"),
    pytest.param(("a",), {}, ["start", "submit a"], "approve a", RunTest, None, id="test-gate-run"),
    pytest.param(("a",), {}, ["start"], "fail-run a", Dispatch, "executor", id="rework-dispatch"),
    pytest.param(
        ("a", "b:a"),
        {},
        ["start", "submit a", "approve a"],
        "pass-test a",
        Dispatch,
        "executor",
        id="unblocked",
    ),
    pytest.param(
        ("a",), {"review": "human"}, ["start"], "submit a", RequestApproval, None, id="approval-request"
    ),
    pytest.param(("a",), PLANNED, ["start"], "plan-bad", Dispatch, "planner", id="planner-redispatch"),
    pytest.param(("a",), PLANNED, ["start"], "plan-good", Dispatch, "executor", id="planned-items"),
]


@pytest.mark.parametrize(("items", "options", "before", "while_paused", "kind", "role"), PAUSED_WORK)
def test_pause_holds_new_work_and_resume_sends_it_at_once(
    items: tuple[str, ...],
    options: dict[str, Any],
    before: list[str],
    while_paused: str,
    kind: type,
    role: str | None,
) -> None:
    m = Mission.of(*items, **options).do(*before, "pause", while_paused)
    assert m.applied
    assert [c for c in m.commands if isinstance(c, Dispatch | RunTest | RequestApproval)] == []
    m.do("resume")
    assert m.state.status == "running"
    sent: list[Any] = m.last(kind)
    assert len(sent) == 1
    if role is not None:
        assert sent[0].role == role


def test_pausing_and_resuming_with_nothing_new_issues_nothing() -> None:
    m = Mission.of("a").do("start", "pause")
    assert m.commands == []
    m.do("resume")
    assert m.commands == []


# -- human review ---------------------------------------------------------------------------
def test_a_human_review_gate_requests_an_approval_instead_of_a_reviewer() -> None:
    m = Mission.of("a", review="human").do("start", "submit a")
    assert m.last(RequestApproval) == [RequestApproval("a", 1, "Review a (Item a), attempt 1: implemented a")]
    assert m.dispatches() == []
    m.work("review.requested", "a", approval_id="apr-7")
    attempt = m.item("a").attempt
    assert attempt is not None and attempt.approval_id == "apr-7"
    m.do("approve a")
    assert m.status("a") == "test"


# -- planner --------------------------------------------------------------------------------
def test_a_mission_without_items_dispatches_its_planner() -> None:
    m = Mission.of(planner=True).do("start")
    [plan] = m.dispatches()
    assert (plan.item_id, plan.role, plan.attempt, plan.feedback) == (PLAN_ITEM, "planner", 1, ())
    assert "Submit a plan" in plan.instructions
    assert m.state.planner.status == "planning"


def test_the_planners_own_dispatch_records_its_task_and_asks_for_nothing() -> None:
    m = Mission.of(planner=True).do("start")
    m.send("work.dispatched", {"item_id": PLAN_ITEM, "role": "planner", "attempt": 1, "task_id": "t-1"})
    assert (m.applied, m.commands) == (True, [])
    assert m.state.planner.task_id == "t-1"


def test_a_valid_plan_becomes_the_work_items() -> None:
    m = Mission.of(planner=True).do("start", "plan-good")
    assert m.statuses() == {"schema": "in_progress", "parser": "blocked"}
    assert m.last(RecordFact) == [RecordFact("mission.plan_accepted", {"items": ["schema", "parser"]})]
    assert [d.item_id for d in m.dispatches()] == ["schema"]
    assert m.state.planner.status == "done"


def test_a_bad_plan_goes_back_to_the_planner_with_the_reasons() -> None:
    m = Mission.of(planner=True).do("start", "plan-bad")
    [rejected] = m.last(RecordFact)
    reasons = tuple(rejected.data["reasons"])
    assert rejected.type == "mission.plan_rejected"
    assert reasons == ("data.items: dependencies form a cycle: x -> y -> x",)
    [plan] = m.dispatches()
    assert (plan.role, plan.attempt, plan.feedback) == ("planner", 2, reasons)
    assert "Your previous plan was rejected" in plan.instructions
    assert m.state.items == ()


def test_a_second_bad_plan_halts_and_resuming_asks_the_planner_again() -> None:
    m = Mission.of(planner=True).do("start", "plan-bad", "plan-bad")
    assert m.dispatches() == []
    assert RecordFact("mission.halted", {"reason": "plan rejected 2 times"}) in m.commands
    m.do("resume")
    [plan] = m.dispatches()
    assert (plan.attempt, m.state.planner.rejections) == (3, 0)


BAD_PLANS = [
    pytest.param([], "data.items: must be a non-empty list", id="empty"),
    pytest.param({"id": "a"}, "data.items: must be a non-empty list", id="not-a-list"),
    pytest.param([{"id": "a"}], "data.items.0.title: is required", id="missing-title"),
    pytest.param(
        [{"id": "a", "title": "A"}, {"id": "a", "title": "B"}],
        "data.items.1.id: duplicate",
        id="duplicate-id",
    ),
    pytest.param(
        [{"id": "a", "title": "A"}, {"id": "b", "title": "B", "depends_on": ["q"]}],
        "data.items.1.depends_on: 'q'",
        id="unknown-dependency",
    ),
    pytest.param([{"id": "a", "title": "A", "role": "reviewer"}], "data.items.0.role", id="reviewer-item"),
    pytest.param([{"id": "a", "title": "A", "owner": "x"}], "data.items.0.owner", id="unknown-field"),
]


@pytest.mark.parametrize(("items", "reason"), BAD_PLANS)
def test_a_bad_plan_is_rejected_with_the_field_named(items: Any, reason: str) -> None:
    m = Mission.of(planner=True).do("start")
    m.send("mission.plan_submitted", {"items": items})
    [rejected] = m.last(RecordFact)
    assert rejected.type == "mission.plan_rejected"
    assert any(r.startswith(reason) for r in rejected.data["reasons"]), rejected.data["reasons"]
    assert m.state.planner.rejections == 1


def test_recorded_facts_carry_only_plain_data() -> None:
    m = Mission.of("a", "b:a", max_rework=0).do("start", "fail-run a")
    for fact in m.history:
        if isinstance(fact, RecordFact):
            assert all(isinstance(v, str | int | list | dict) for v in fact.data.values()), fact
    assert all(not isinstance(c, Notice) or c.level in ("info", "warning") for c in m.history)
