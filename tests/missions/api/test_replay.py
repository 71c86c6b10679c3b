"""A mission's state is the fold of its events: folding `GET /v1/missions/{id}/events`
through the reducer's `init` and `on_event` gives the state `GET /v1/missions/{id}` shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from missiond.core.missions.reducer import MissionEvent, init, on_event
from missiond.core.missions.spec import parse_spec
from missiond.core.missions.state import state_to_dict

from .mission_world import World, spec


def fold(view: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    created = events[0]
    assert created["type"] == "mission.created"
    state, _ = init(parse_spec(view["spec"]), view["id"], created["ts"])
    for event in events[1:]:
        state, _ = on_event(state, MissionEvent(event["type"], event["data"], event["ts"]))
    folded = state_to_dict(state)
    folded.pop("v")
    return folded


def play(world: World, ws: Path) -> str:
    """a passes at once; b fails the gate once, then passes; c is sent back until its budget is spent."""
    mission_id = world.create(spec(ws, ("a", "b", "c"), max_rework=1), start=True)["id"]
    world.run()
    (ws / "a.ok").write_text("ok\n")
    for item in ("a", "b", "c"):
        world.submit(mission_id, item, summary=f"wrote {item}")
    world.run()
    world.review(mission_id, "a")
    world.review(mission_id, "b")
    world.review(mission_id, "c", "request_changes", feedback="too clever")
    world.run()  # a done; b failed its gate, back in progress; c back in progress
    (ws / "b.ok").write_text("ok\n")
    world.submit(mission_id, "b", summary="fixed b")
    world.submit(mission_id, "c", summary="simpler c")
    world.run()
    world.review(mission_id, "b")
    world.review(mission_id, "c", "request_changes", feedback="still too clever")
    world.run()
    return str(mission_id)


@pytest.fixture(scope="module")
def finished(world: World) -> str:
    mission_id = play(world, world.workspace("replay"))
    view = world.mission(mission_id)
    assert view["status"] == "failed"
    assert {i["id"]: i["status"] for i in view["items"]} == {"a": "done", "b": "done", "c": "failed"}
    return mission_id


def test_folding_a_finished_missions_events_gives_its_state(world: World, finished: str) -> None:
    view = world.mission(finished)
    folded = fold(view, world.events(finished))
    assert folded == {key: view[key] for key in folded}


def test_folding_any_prefix_gives_a_state_the_mission_passed_through(world: World, finished: str) -> None:
    """Every prefix folds without error, and the statuses only move forward to the end."""
    view = world.mission(finished)
    events = world.events(finished)
    seen = [fold(view, events[:n])["status"] for n in range(1, len(events) + 1)]
    assert seen[0] == "draft"
    assert seen[-1] == "failed"
    assert [s for i, s in enumerate(seen) if i == 0 or s != seen[i - 1]] == ["draft", "running", "failed"]


def test_a_missions_events_are_its_own_in_seq_order(world: World, finished: str) -> None:
    events = world.events(finished)
    assert [e["seq"] for e in events] == sorted({e["seq"] for e in events})
    assert {e["subject"] for e in events} == {f"mission/{finished}"}
    assert all(e["data"]["mission_id"] == finished for e in events)
    assert world.mission(finished)["applied_seq"] <= events[-1]["seq"]


def test_folding_the_events_again_after_a_restart_gives_the_same_state(world: World, finished: str) -> None:
    with world.rebuilt() as restarted:
        view = restarted.mission(finished)
        assert view == world.mission(finished)
        folded = fold(view, restarted.events(finished))
        assert folded == {k: view[k] for k in folded}
