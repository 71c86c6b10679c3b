"""Mission events that reach the spine from another writer (another replica, a tool writing
to the database) are applied by the runtime's spine consumer exactly once, from its stored
cursor, even after a restart or with the cursor lost.

Clients cannot post them through the generic `POST /v1/events`: `mission.*` is a namespace
missiond owns (EVENT_SPINE.md), so that route refuses them and changes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from missiond.core.events import NewEvent
from missiond.services.mission_runtime import CURSOR

from .mission_world import World, problem, spec


def append(world: World, mission_id: str, type_: str, **data: Any) -> int:
    """What another writer does: append the event to the spine, nothing else."""
    with world.system.store.write(actor="agent:replica-2") as uow:
        [stored] = uow.emit(NewEvent(type_, f"mission/{mission_id}", data))
        return stored.seq


def running(world: World) -> str:
    body = spec(world.workspace(), ("a", "b:a"), review="none", test=None)
    mission_id = world.create(body, start=True)["id"]
    world.run()
    return str(mission_id)


def count(world: World, mission_id: str, type_: str) -> int:
    return world.types(mission_id).count(type_)


@pytest.mark.parametrize("type_", ["mission.paused", "work.submitted"], ids=["paused", "submitted"])
def test_the_generic_events_route_refuses_mission_events_and_changes_nothing(
    world: World, type_: str
) -> None:
    mission_id = running(world)
    head, rev = world.head(), world.mission(mission_id)["rev"]
    body = {"type": type_, "subject": f"mission/{mission_id}", "data": {"item_id": "a", "attempt": 1}}
    problem(world.client.post("/v1/events", json=body), 400, "RESERVED_EVENT_TYPE")
    world.run()
    assert (world.head(), world.mission(mission_id)["rev"]) == (head, rev)


def test_an_event_from_another_writer_is_applied_once_by_the_spine_consumer(world: World) -> None:
    mission_id = running(world)
    rev = world.mission(mission_id)["rev"]
    seq = append(world, mission_id, "mission.paused")
    assert world.mission(mission_id)["status"] == "running"  # not yet consumed

    world.run()
    after = world.mission(mission_id)
    assert (after["status"], after["rev"], after["applied_seq"] >= seq) == ("paused", rev + 1, True)
    world.run()
    assert world.mission(mission_id)["rev"] == rev + 1
    assert count(world, mission_id, "mission.paused") == 1  # the consumer does not append it again


def test_a_work_result_from_another_writer_moves_the_item_once(world: World) -> None:
    mission_id = running(world)
    append(world, mission_id, "work.submitted", item_id="a", attempt=1, summary="from replica 2")
    world.run()
    items = {i["id"]: i for i in world.mission(mission_id)["items"]}
    assert (items["a"]["status"], items["b"]["status"]) == ("done", "in_progress")
    assert items["a"]["attempts"][0]["summary"] == "from replica 2"
    assert count(world, mission_id, "work.done") == 1
    assert len([t for t in world.tasks(mission_id) if t["role"] == "executor"]) == 2


def test_a_restarted_consumer_resumes_from_its_cursor_and_applies_nothing_twice(world: World) -> None:
    mission_id = running(world)
    append(world, mission_id, "mission.paused")
    world.run()
    rev = world.mission(mission_id)["rev"]
    with world.rebuilt() as restarted:
        restarted.run()
        assert restarted.mission(mission_id)["rev"] == rev
        append(restarted, mission_id, "mission.resumed")  # written while "the server" was down
    with world.rebuilt() as restarted:
        restarted.run()
        assert restarted.mission(mission_id)["status"] == "running"
        assert restarted.mission(mission_id)["rev"] == rev + 1
    assert (count(world, mission_id, "mission.paused"), count(world, mission_id, "mission.resumed")) == (1, 1)


def test_a_lost_cursor_replays_the_spine_without_applying_anything_twice(world: World) -> None:
    mission_id = running(world)
    append(world, mission_id, "work.submitted", item_id="a", attempt=1)
    world.run()
    before = world.mission(mission_id)
    with world.system.store.write(actor="test") as uow:
        uow.cursors.set(CURSOR, 0, uow.now_us)
    world.run()
    assert world.mission(mission_id) == before
    assert count(world, mission_id, "work.done") == 1


def test_an_event_from_another_writer_is_not_lost_when_the_api_applies_a_later_one_first(
    world: World,
) -> None:
    mission_id = running(world)
    append(world, mission_id, "work.submitted", item_id="a", attempt=1, summary="from replica 2")
    world.action(mission_id, "pause")  # applied at once by this server, at a later seq
    world.run()
    assert world.item(mission_id, "a")["status"] == "done"
