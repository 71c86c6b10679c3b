"""A human review gate: the approval is in the queue, approving sends the item to the test
gate, denying sends it to rework with the reason as feedback, and a pending approval
survives a restart (a rebuilt system on the same database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .mission_world import World, spec


def submitted_for_review(world: World, ws: Path, *items: str) -> str:
    mission_id = world.create(spec(ws, items or ("a",), review="human"), start=True)["id"]
    world.run()
    for item in items or ("a",):
        (ws / f"{item}.ok").write_text("ok\n")
        world.submit(mission_id, item, summary=f"wrote {item}")
    world.run()
    return str(mission_id)


def approval_for(world: World, mission_id: str, item: str, status: str = "pending") -> dict[str, Any]:
    [found] = [
        a
        for a in world.approvals(status)
        if a["payload"]["mission_id"] == mission_id and a["payload"]["item_id"] == item
    ]
    return found


def test_a_human_review_opens_an_approval_in_the_queue(world: World) -> None:
    mission_id = submitted_for_review(world, world.workspace(), "a")
    approval = approval_for(world, mission_id, "a")
    assert approval["kind"] == "mission.review"
    assert approval["subject"] == f"mission/{mission_id}/work/a"
    assert approval["status"] == "pending"
    assert approval["requester"] == "system.missions"
    assert approval["payload"] == {"mission_id": mission_id, "item_id": "a", "attempt": 1}
    assert "wrote a" in approval["summary"]
    item = world.item(mission_id, "a")
    assert item["status"] == "review"
    assert item["attempts"][-1]["approval_id"] == approval["id"]
    assert [t["role"] for t in world.tasks(mission_id)] == ["executor"]  # no reviewer task: a person reviews
    assert "review.requested" in world.types(mission_id)


def test_approving_moves_the_item_to_the_test_gate(world: World) -> None:
    mission_id = submitted_for_review(world, world.workspace(), "a")
    approval = approval_for(world, mission_id, "a")
    decided = world.ok("POST", f"/v1/approvals/{approval['id']}/approve", json={"reason": "looks right"})
    assert decided["status"] == "approved"
    item = world.item(mission_id, "a")
    assert item["status"] == "test"
    assert item["attempts"][-1]["review"] == "approved"
    assert item["attempts"][-1]["reviewer"] == "user:admin"
    world.run()
    assert world.item(mission_id, "a")["status"] == "done"
    assert world.mission(mission_id)["status"] == "succeeded"
    types = world.types(mission_id)
    assert types.index("review.approved") < types.index("test.passed") < types.index("work.done")


def test_denying_sends_the_item_to_rework_with_the_reason_as_feedback(world: World) -> None:
    mission_id = submitted_for_review(world, world.workspace(), "a")
    approval = approval_for(world, mission_id, "a")
    world.ok("POST", f"/v1/approvals/{approval['id']}/deny", json={"reason": "handle empty files"})
    item = world.item(mission_id, "a")
    assert item["status"] == "in_progress"  # rework, and dispatched again at once
    assert item["reworks"] == 1
    assert item["feedback"] == ["review: handle empty files"]
    assert item["attempts"][0]["review"] == "changes_requested"
    assert item["attempts"][0]["review_feedback"] == "handle empty files"
    assert [a["n"] for a in item["attempts"]] == [1, 2]
    world.run()
    second = world.task(world.item(mission_id, "a")["attempts"][1]["task_id"])
    assert "handle empty files" in second["description"]
    assert any("handle empty files" in n["body"] for n in second["notes"]), second["notes"]
    rework = next(e for e in world.events(mission_id) if e["type"] == "work.rework_requested")
    assert rework["data"]["feedback"] == "review: handle empty files"


def test_a_pending_approval_survives_a_restart_and_its_decision_still_applies(world: World) -> None:
    mission_id = submitted_for_review(world, world.workspace(), "a", "b")
    with world.rebuilt() as restarted:
        assert approval_for(restarted, mission_id, "a")["status"] == "pending"
        b = approval_for(restarted, mission_id, "b")
        restarted.run()  # the restarted runtime does not ask again
        assert len([a for a in restarted.approvals() if a["payload"]["mission_id"] == mission_id]) == 2
        restarted.ok("POST", f"/v1/approvals/{approval_for(restarted, mission_id, 'a')['id']}/approve")
        restarted.ok("POST", f"/v1/approvals/{b['id']}/deny", json={"reason": "no tests"})
        restarted.run()
        items = {i["id"]: i for i in restarted.mission(mission_id)["items"]}
        assert items["a"]["status"] == "done"
        assert (items["b"]["status"], items["b"]["feedback"]) == ("in_progress", ["review: no tests"])
    assert world.item(mission_id, "a")["status"] == "done"  # the first system reads the same rows


def test_a_decided_approval_cannot_be_decided_again(world: World) -> None:
    mission_id = submitted_for_review(world, world.workspace(), "a")
    approval = approval_for(world, mission_id, "a")
    world.ok("POST", f"/v1/approvals/{approval['id']}/approve")
    head, rev = world.head(), world.mission(mission_id)["rev"]
    again = world.client.post(f"/v1/approvals/{approval['id']}/deny", json={"reason": "second thoughts"})
    assert again.status_code == 409
    assert (world.head(), world.mission(mission_id)["rev"]) == (head, rev)
