"""The persisted mission state: it carries its version, reads back equal (through JSON too) from any
point a mission can reach, a snapshot plus the tail of events equals the full replay, and a version
this code does not know is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from missiond.core.missions.reducer import replay
from missiond.core.missions.state import (
    STATE_VERSION,
    Attempt,
    Item,
    MissionState,
    Planner,
    state_from_dict,
    state_to_dict,
)

from .mission_harness import STEPS, Mission

ITEMS = ("a", "b:a", "c")
WORK_VERBS = ["submit", "fail-run", "approve", "request-changes", "pass-test", "fail-test", "complete"]
MISSION_VERBS = ["pause", "resume", "deadline", "plan-good", "plan-bad", "cancel", "start"]
assert set(WORK_VERBS + MISSION_VERBS) == set(STEPS)

ITEM_IDS = ["a", "b", "c", "schema", "parser"]  # the last two come from the harness's good plan
steps = st.lists(
    st.one_of(
        st.builds(
            lambda verb, item: f"{verb} {item}", st.sampled_from(WORK_VERBS), st.sampled_from(ITEM_IDS)
        ),
        st.sampled_from(MISSION_VERBS[:-1]),  # every mission verb but a late start: reach() starts first
        st.builds(lambda item: f"complete {item}", st.sampled_from(ITEM_IDS)),
    ),
    max_size=25,
)
options = st.fixed_dictionaries(
    {
        "review": st.sampled_from(["agent", "human", "none"]),
        "test": st.booleans(),
        "max_rework": st.integers(0, 2),
        "max_parallel": st.integers(1, 3),
        "max_duration_s": st.sampled_from([None, 60, 2.5]),
        "planner": st.booleans(),
    }
)


def reach(chosen: dict[str, Any], story: list[str]) -> Mission:
    return Mission.of(*ITEMS, **chosen).do("start", *story)


def assert_same_shape(state: MissionState) -> None:
    """Equal tuples are not enough: the parts must come back as the state's own types."""
    assert type(state) is MissionState and type(state.planner) is Planner
    assert all(type(i) is Item for i in state.items)
    assert all(type(a) is Attempt for i in state.items for a in i.attempts)


@settings(max_examples=100, deadline=None)
@given(options, steps)
def test_any_reachable_state_reads_back_equal(chosen: dict[str, Any], story: list[str]) -> None:
    state = reach(chosen, story).state
    data = state_to_dict(state)
    assert data["v"] == STATE_VERSION
    restored = state_from_dict(data)
    assert restored == state
    assert_same_shape(restored)
    through_json = state_from_dict(json.loads(json.dumps(data)))
    assert through_json == state
    assert_same_shape(through_json)


@settings(max_examples=60, deadline=None)
@given(options, steps, st.integers(0, 30))
def test_a_snapshot_plus_the_tail_equals_the_full_replay(
    chosen: dict[str, Any], story: list[str], cut: int
) -> None:
    m = reach(chosen, story)
    cut = min(cut, len(m.events))
    snapshot = json.loads(json.dumps(state_to_dict(replay(m.initial, m.events[:cut]))))
    assert replay(state_from_dict(snapshot), m.events[cut:]) == m.state


def test_a_state_deep_in_a_mission_keeps_every_detail() -> None:
    m = Mission.of("a", "b:a", review="human").do(
        "start", "submit a", "request-changes a", "submit a", "approve a", "fail-test a"
    )
    m.work("review.requested", "a", approval_id="apr-9")
    data = json.loads(json.dumps(state_to_dict(m.state)))
    restored = state_from_dict(data)
    assert restored == m.state
    assert restored.item("a") == m.item("a")
    item = restored.item("a")
    assert item is not None and item.attempts[1].artifacts == ("art-1",)


@pytest.mark.parametrize(
    "version", [0, 2, 99, "2"], ids=["version-0", "version-2", "version-99", "version-2-as-text"]
)
def test_a_state_of_an_unknown_version_is_refused(version: Any) -> None:
    data = state_to_dict(Mission.of("a").do("start").state)
    data["v"] = version
    with pytest.raises(ValueError, match="version"):
        state_from_dict(data)
