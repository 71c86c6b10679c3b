"""Events that do not apply change nothing and say so: the very same state comes back with one
warning notice, `applied()` is False, and nothing raises. Recorded facts fold back silently."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from missiond.core.missions.reducer import RECORDED_TYPES, MissionEvent, applied, on_event
from missiond.core.missions.state import Notice, RecordFact

from .mission_harness import Mission

Data = Callable[[Mission], dict[str, Any]]


def work(attempt: Any = "current", item_id: str = "a", **extra: Any) -> Data:
    """Event data naming an item and an attempt (its current one unless told)."""

    def build(m: Mission) -> dict[str, Any]:
        data: dict[str, Any] = {"item_id": item_id, **extra}
        if attempt is not None:
            data["attempt"] = m.attempt("a") if attempt == "current" else attempt
        return data

    return build


def nothing(m: Mission) -> dict[str, Any]:
    return {}


PLANNED: dict[str, Any] = {"planner": True}
DEADLINE: dict[str, Any] = {"max_duration_s": 60}
STARTED = ["start"]
IN_REVIEW = ["start", "submit a"]

IGNORED = [
    pytest.param({}, STARTED, "work.submitted", work(attempt=2), "on attempt 1", id="later-attempt"),
    pytest.param(
        {}, ["start", "fail-run a"], "work.submitted", work(attempt=1), "on attempt 2", id="earlier-attempt"
    ),
    pytest.param({}, STARTED, "work.submitted", work(attempt=True), "attempt True", id="attempt-true"),
    pytest.param({}, STARTED, "work.submitted", work(attempt="1"), "attempt '1'", id="attempt-as-text"),
    pytest.param({}, STARTED, "work.submitted", work(attempt=None), "attempt None", id="attempt-missing"),
    pytest.param({}, [], "work.submitted", work(attempt=1), "on attempt 0", id="before-any-dispatch"),
    pytest.param({}, STARTED, "work.submitted", work(item_id="zz"), "no work item 'zz'", id="unknown-item"),
    pytest.param({}, STARTED, "work.submitted", lambda m: {"attempt": 1}, "data.item_id", id="item-missing"),
    pytest.param({}, STARTED, "work.submitted", work(ok="yes"), "data.ok", id="ok-not-a-boolean"),
    pytest.param({}, STARTED, "work.submitted", work(summary=5), "data.summary", id="summary-not-text"),
    pytest.param(
        {}, STARTED, "review.approved", work(), "is in_progress, not review", id="approve-in-progress"
    ),
    pytest.param(
        {}, IN_REVIEW, "work.submitted", work(), "is review, not in_progress", id="duplicate-submit"
    ),
    pytest.param({}, IN_REVIEW, "test.passed", work(), "is review, not test", id="test-result-during-review"),
    pytest.param(
        {}, IN_REVIEW, "review.changes_requested", work(), "data.feedback", id="changes-without-feedback"
    ),
    pytest.param(
        {}, STARTED, "work.dispatched", work(role="reviewer"), "not review", id="reviewer-dispatch-too-early"
    ),
    pytest.param(
        {}, IN_REVIEW, "work.dispatched", work(), "not in_progress", id="executor-dispatch-in-review"
    ),
    pytest.param(
        {"test": False}, IN_REVIEW, "test.failed", work(), "not test", id="test-result-without-gate"
    ),
    pytest.param({}, STARTED, "work.exploded", work(), "is not a mission event", id="unknown-type"),
    pytest.param({}, STARTED, "", nothing, "is not a mission event", id="empty-type"),
    pytest.param(
        {}, ["start", "complete a"], "work.submitted", work(), "mission is succeeded", id="after-success"
    ),
    pytest.param(
        {"max_rework": 0},
        ["start", "fail-run a"],
        "mission.resumed",
        nothing,
        "mission is failed",
        id="after-fail",
    ),
    pytest.param({}, ["cancel"], "mission.cancelled", nothing, "mission is cancelled", id="cancel-twice"),
    pytest.param({}, ["cancel"], "mission.started", nothing, "mission is cancelled", id="start-after-cancel"),
    pytest.param({}, STARTED, "mission.started", nothing, "only a draft starts", id="start-twice"),
    pytest.param({}, [], "mission.paused", nothing, "only a running mission pauses", id="pause-a-draft"),
    pytest.param({}, ["start", "pause"], "mission.paused", nothing, "only a running", id="pause-twice"),
    pytest.param(
        DEADLINE, ["start", "deadline"], "mission.paused", nothing, "only a running", id="pause-halted"
    ),
    pytest.param({}, STARTED, "mission.resumed", nothing, "only a paused or halted", id="resume-running"),
    pytest.param({}, [], "mission.resumed", nothing, "only a paused or halted", id="resume-draft"),
    pytest.param(
        DEADLINE, [], "mission.deadline_passed", nothing, "mission is draft", id="deadline-in-draft"
    ),
    pytest.param(
        DEADLINE, ["start", "deadline"], "mission.deadline_passed", nothing, "is halted", id="deadline-twice"
    ),
    pytest.param(
        {},
        STARTED,
        "mission.plan_submitted",
        nothing,
        "no plan is being waited for",
        id="plan-without-planner",
    ),
    pytest.param(
        PLANNED,
        ["start", "plan-good"],
        "mission.plan_submitted",
        nothing,
        "no plan is being waited for",
        id="plan-after-plan-accepted",
    ),
    pytest.param(
        PLANNED, [], "mission.plan_submitted", nothing, "no plan is being waited for", id="plan-in-draft"
    ),
]


@pytest.mark.parametrize(("options", "steps", "event_type", "data", "says"), IGNORED)
def test_an_event_that_does_not_apply_changes_nothing_and_says_why(
    options: dict[str, Any], steps: list[str], event_type: str, data: Data, says: str
) -> None:
    m = Mission.of("a", **options).do(*steps)
    before = m.state
    m.send(event_type, data(m))
    assert m.state is before
    assert not applied(before, m.state)
    [notice] = m.commands
    assert isinstance(notice, Notice) and notice.level == "warning"
    assert says in notice.message


@pytest.mark.parametrize("fact", RECORDED_TYPES)
def test_a_recorded_fact_folds_back_without_a_change_or_a_word(fact: str) -> None:
    m = Mission.of("a").do("start")
    before = m.state
    assert m.send(fact, {"item_id": "a", "attempt": 1}) == []
    assert m.state is before


RECORDING_STORIES = [
    pytest.param({}, ["start", "complete a", "complete b"], id="success"),
    pytest.param({"max_rework": 1}, ["start", "fail-run a", "fail-run a", "complete b"], id="budget-spent"),
    pytest.param({"planner": True}, ["start", "plan-bad", "plan-good"], id="plan-rejected-then-accepted"),
    pytest.param({"max_duration_s": 5}, ["start", "deadline"], id="halted"),
    pytest.param(
        {},
        ["start", "cancel"],
        id="cancelled",
    ),
]


@pytest.mark.parametrize(("options", "steps"), RECORDING_STORIES)
def test_every_fact_the_reducer_records_folds_back_silently(
    options: dict[str, Any], steps: list[str]
) -> None:
    items = () if options.get("planner") else ("a", "b")
    m = Mission.of(*items, **options).do(*steps)
    facts = [c for c in m.history if isinstance(c, RecordFact)]
    assert facts
    for fact in facts:
        state, commands = on_event(m.state, MissionEvent(fact.type, fact.data, "2026-03-01T10:00:00Z"))
        assert (state, commands) == (m.state, []), fact
        assert state is m.state


def test_a_deadline_for_a_mission_without_a_duration_budget_is_ignored() -> None:
    m = Mission.of("a").do("start")
    before = m.state
    m.send("mission.deadline_passed")
    assert m.state is before
    assert len(m.warnings()) == 1


@pytest.mark.parametrize("data", [None, ["a", 1]], ids=["data-none", "data-a-list"])
def test_event_data_that_is_not_an_object_is_ignored(data: Any) -> None:
    m = Mission.of("a").do("start")
    state, commands = on_event(m.state, MissionEvent("work.submitted", data, "2026-03-01T10:00:00Z"))
    assert state is m.state
    assert [c.level for c in commands if isinstance(c, Notice)] == ["warning"]
