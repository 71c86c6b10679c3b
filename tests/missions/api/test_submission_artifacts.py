"""What an agent hands in beside its summary (`output`) is kept as the attempt's artifact."""

from __future__ import annotations

from .mission_world import World, spec


def test_a_submissions_output_is_kept_as_an_artifact_of_its_attempt(world: World) -> None:
    mission_id = world.create(spec(world.workspace(), ("a",)), start=True)["id"]
    world.run()
    diff = "--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
    world.submit(mission_id, "a", summary="changed x", output=diff)
    world.run()
    [attempt] = world.item(mission_id, "a")["attempts"]
    [artifact] = [a for a in attempt["artifacts"] if a.endswith("submission.txt")]
    assert (world.home / artifact).read_text() == diff
    added = [e["data"] for e in world.events(mission_id) if e["type"] == "artifact.added"]
    assert [(d["item_id"], d["attempt"], d["path"]) for d in added] == [("a", 1, artifact)]


def test_a_submission_without_output_keeps_no_artifact(world: World) -> None:
    mission_id = world.create(spec(world.workspace(), ("a",)), start=True)["id"]
    world.run()
    world.submit(mission_id, "a", summary="changed x")
    world.run()
    [attempt] = world.item(mission_id, "a")["attempts"]
    assert attempt["artifacts"] == []
    assert "artifact.added" not in world.types(mission_id)


def test_an_output_over_64_kib_is_refused_and_changes_nothing(world: World) -> None:
    mission_id = world.create(spec(world.workspace(), ("a",)), start=True)["id"]
    world.run()
    head, rev = world.head(), world.mission(mission_id)["rev"]
    answer = world.client.post(
        f"/v1/missions/{mission_id}/work/a/submit", json={"summary": "big", "output": "x" * 65_537}
    )
    assert answer.status_code == 400, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["body.output"]
    assert (world.head(), world.mission(mission_id)["rev"]) == (head, rev)
    assert world.item(mission_id, "a")["status"] == "in_progress"
