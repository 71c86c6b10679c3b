"""Start, pause, resume and cancel through the API, with the runtime driven by hand:
pause stops new dispatch, resume dispatches at once, cancel releases open board tasks."""

from __future__ import annotations

from .mission_world import World, spec


def statuses(world: World, mission_id: str) -> dict[str, str]:
    return {i["id"]: i["status"] for i in world.mission(mission_id)["items"]}


def open_tasks(world: World, mission_id: str) -> list[tuple[str, str]]:
    return sorted(
        (t["role"], t["title"].rsplit("/", 1)[-1].strip())
        for t in world.tasks(mission_id)
        if t["status"] in ("open", "in_progress", "blocked")
    )


def test_a_started_mission_dispatches_ready_items_as_board_tasks(world: World) -> None:
    mission_id = world.create(spec(world.workspace(), ("a", "b", "c:a")))["id"]
    assert world.tasks(mission_id) == []
    started = world.action(mission_id, "start")
    assert started["status"] == "running"
    assert started["started_at"] is not None
    assert statuses(world, mission_id) == {"a": "in_progress", "b": "in_progress", "c": "blocked"}
    world.run()
    assert open_tasks(world, mission_id) == [("executor", "a (attempt 1)"), ("executor", "b (attempt 1)")]
    for task in world.tasks(mission_id):
        assert task["mission_id"] == mission_id
        assert "mission" in task["labels"]
        assert task["created_by"] == "system.missions"
    item = world.item(mission_id, "a")
    assert item["attempts"][0]["task_id"] in {t["id"] for t in world.tasks(mission_id)}


def test_pause_stops_new_dispatch_and_resume_dispatches_at_once(world: World) -> None:
    ws = world.workspace()
    mission_id = world.create(spec(ws, ("a", "b:a"), review="none"), start=True)["id"]
    world.run()
    assert open_tasks(world, mission_id) == [("executor", "a (attempt 1)")]

    paused = world.action(mission_id, "pause")
    assert paused["status"] == "paused"
    (ws / "a.ok").write_text("done\n")
    world.submit(mission_id, "a", summary="wrote a")  # work in flight may still finish
    world.run()
    assert statuses(world, mission_id) == {"a": "test", "b": "blocked"}  # no gate run while paused
    assert open_tasks(world, mission_id) == []
    assert "test.passed" not in world.types(mission_id)

    resumed = world.action(mission_id, "resume")
    assert resumed["status"] == "running"
    world.run()
    assert statuses(world, mission_id) == {"a": "done", "b": "in_progress"}
    assert open_tasks(world, mission_id) == [("executor", "b (attempt 1)")]


def test_resume_answers_with_the_ready_work_already_dispatched(world: World) -> None:
    ws = world.workspace()
    mission_id = world.create(spec(ws, ("a", "b:a"), review="none", test=None), start=True)["id"]
    world.run()
    world.action(mission_id, "pause")
    world.submit(mission_id, "a", summary="wrote a")  # done at once: no gates
    world.run()
    assert statuses(world, mission_id) == {"a": "done", "b": "blocked"}  # unblocked on resume
    assert open_tasks(world, mission_id) == []

    resumed = world.action(mission_id, "resume")
    assert {i["id"]: i["status"] for i in resumed["items"]} == {"a": "done", "b": "in_progress"}
    world.run()
    assert open_tasks(world, mission_id) == [("executor", "b (attempt 1)")]


def test_cancel_releases_open_board_tasks(world: World) -> None:
    ws = world.workspace()
    mission_id = world.create(spec(ws, ("a", "b", "c:a")), start=True)["id"]
    world.run()
    world.submit(mission_id, "a", summary="wrote a")
    world.run()  # a: a reviewer task; b: its executor task
    assert open_tasks(world, mission_id) == [("executor", "b (attempt 1)"), ("reviewer", "a (attempt 1)")]

    cancelled = world.action(mission_id, "cancel", reason="priorities changed")
    assert cancelled["status"] == "cancelled"
    assert cancelled["reason"] == "priorities changed"
    assert statuses(world, mission_id) == {"a": "cancelled", "b": "cancelled", "c": "cancelled"}
    world.run()
    tasks = {
        t["title"].rsplit("/", 1)[-1].strip() + " " + t["role"]: t["status"] for t in world.tasks(mission_id)
    }
    assert tasks == {
        "a (attempt 1) executor": "completed",  # answered by the submission
        "a (attempt 1) reviewer": "cancelled",
        "b (attempt 1) executor": "cancelled",
    }
    types = world.types(mission_id)
    assert types.count("work.released") == 2
    assert types[-1] != "mission.commands_queued" or "mission.cancelled" in types
    assert "mission.cancelled" in types



def test_a_dispatch_still_queued_when_the_mission_is_cancelled_leaves_no_open_task(world: World) -> None:
    mission_id = world.create(spec(world.workspace(), ("a",)), start=True)["id"]
    world.action(mission_id, "cancel")  # before the runtime carried out the queued dispatch
    world.run()
    answer = world.client.post(f"/v1/missions/{mission_id}/work/a/submit", json={"summary": "late"})
    assert answer.status_code == 409
    assert open_tasks(world, mission_id) == []


def test_an_approval_still_queued_when_the_mission_is_cancelled_is_not_left_pending(world: World) -> None:
    mission_id = world.create(spec(world.workspace(), ("a",), review="human"), start=True)["id"]
    world.run()
    world.submit(mission_id, "a", summary="wrote a")  # queues the approval request
    world.action(mission_id, "cancel")
    world.run()
    assert [a for a in world.approvals() if a["payload"]["mission_id"] == mission_id] == []


def test_a_draft_can_be_cancelled(world: World) -> None:
    mission_id = world.create(spec(world.workspace(), ("a",)))["id"]
    cancelled = world.action(mission_id, "cancel")
    assert cancelled["status"] == "cancelled"
    world.run()
    assert world.tasks(mission_id) == []


def test_the_list_filters_by_status_and_counts(world: World) -> None:
    ws = world.workspace()
    draft = world.create(spec(ws, ("a",)))["id"]
    running = world.create(spec(ws, ("a",)), start=True)["id"]
    listed = world.ok("GET", "/v1/missions", params={"status": "draft", "limit": 1000})
    ids = [m["id"] for m in listed["items"]]
    assert draft in ids and running not in ids
    assert all(m["status"] == "draft" for m in listed["items"])
    assert listed["counts"]["running"] >= 1
