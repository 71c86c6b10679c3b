"""Refused mission events: the right status and code, and nothing changed (the mission's rev
and the spine head stay where they were).

Three missions serve the whole table: a draft, a running one whose item `a` is on attempt 1
(in progress, its board task open) and a cancelled one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from .mission_world import World, problem, spec

MISMATCH = "MISSION_EVENT_MISMATCH"
UNKNOWN = "MISSION_EVENT_UNKNOWN"
NOT_APPLICABLE = "MISSION_EVENT_NOT_APPLICABLE"
NOT_FOUND = "MISSION_NOT_FOUND"
VALIDATION = "VALIDATION_FAILED"
GHOST = "msn_01M80000000000000000000000"


@dataclass(frozen=True)
class Missions:
    draft: str
    running: str
    cancelled: str

    def id_of(self, name: str) -> str:
        return GHOST if name == "ghost" else str(getattr(self, name))


@pytest.fixture(scope="module")
def missions(world: World) -> Missions:
    ws = world.workspace("bad-events")
    draft = world.create(spec(ws, ("a", "b:a")))["id"]
    running = world.create(spec(ws, ("a", "b:a")), start=True)["id"]
    cancelled = world.create(spec(ws, ("a",)), start=True)["id"]
    world.action(cancelled, "cancel", reason="changed my mind")
    world.run()
    assert world.item(running, "a")["status"] == "in_progress"
    assert world.mission(cancelled)["status"] == "cancelled"
    return Missions(draft, running, cancelled)


def event(type_: str, mission: str | None = None, **data: Any) -> tuple[str, str, dict[str, Any]]:
    body: dict[str, Any] = {"type": type_, "data": data}
    if mission is not None:
        body["mission_id"] = mission
    return ("POST", "events", body)


def submit(item: str = "a", **body: Any) -> tuple[str, str, dict[str, Any]]:
    return ("POST", f"work/{item}/submit", body)


def review(item: str = "a", **body: Any) -> tuple[str, str, dict[str, Any]]:
    return ("POST", f"work/{item}/review", {"verdict": "approve", **body})


def action(name: str) -> tuple[str, str, dict[str, Any] | None]:
    return ("POST", name, None)


A1 = {"item_id": "a", "attempt": 1}
ROWS = [
    # id, mission, call, status, code
    ("event-names-another-mission", "running", event("mission.paused", GHOST), 400, MISMATCH),
    ("event-names-another-existing-mission", "running", event("mission.paused", "<draft>"), 400, MISMATCH),
    ("unknown-type", "running", event("mission.exploded"), 400, UNKNOWN),
    ("not-a-mission-namespace", "running", event("build.finished"), 400, UNKNOWN),
    ("runtime-only-dispatch", "running", event("work.dispatched", **A1, role="executor"), 400, UNKNOWN),
    ("runtime-only-review-request", "running", event("review.requested", **A1), 400, UNKNOWN),
    ("recorded-fact-work-done", "running", event("work.done", **A1), 400, UNKNOWN),
    ("recorded-fact-mission-succeeded", "running", event("mission.succeeded"), 400, UNKNOWN),
    ("event-without-type", "running", ("POST", "events", {"data": {}}), 400, VALIDATION),
    ("submit-wrong-attempt", "running", event("work.submitted", item_id="a", attempt=2), 409, NOT_APPLICABLE),
    ("submit-attempt-not-a-number", "running", event("work.submitted", item_id="a", attempt="1"), 409,
     NOT_APPLICABLE),
    ("submit-unknown-item", "running", event("work.submitted", item_id="zz", attempt=1), 409, NOT_APPLICABLE),
    ("submit-without-item", "running", event("work.submitted", attempt=1), 409, NOT_APPLICABLE),
    ("submit-ok-not-a-bool", "running", event("work.submitted", **A1, ok="yes"), 409, NOT_APPLICABLE),
    ("submit-blocked-item", "running", event("work.submitted", item_id="b", attempt=1), 409, NOT_APPLICABLE),
    ("approve-before-submit", "running", event("review.approved", **A1), 409, NOT_APPLICABLE),
    ("changes-without-feedback", "running", event("review.changes_requested", **A1), 409, NOT_APPLICABLE),
    ("test-passed-before-review", "running", event("test.passed", **A1), 409, NOT_APPLICABLE),
    ("test-failed-before-review", "running", event("test.failed", **A1, exit_code=1), 409, NOT_APPLICABLE),
    ("plan-without-a-planner", "running", event("mission.plan_submitted", items=[]), 409, NOT_APPLICABLE),
    ("start-a-running-mission", "running", event("mission.started"), 409, NOT_APPLICABLE),
    ("resume-a-running-mission", "running", event("mission.resumed"), 409, NOT_APPLICABLE),
    ("route-start-a-running-mission", "running", action("start"), 409, NOT_APPLICABLE),
    ("route-resume-a-running-mission", "running", action("resume"), 409, NOT_APPLICABLE),
    ("route-submit-unknown-item", "running", submit("zz"), 409, NOT_APPLICABLE),
    ("route-submit-wrong-attempt", "running", submit(attempt=3), 409, NOT_APPLICABLE),
    ("route-review-before-submit", "running", review(), 409, NOT_APPLICABLE),
    ("route-changes-without-feedback", "running", review(verdict="request_changes"), 400, VALIDATION),
    ("route-review-unknown-verdict", "running", review(verdict="maybe"), 400, VALIDATION),
    ("route-submit-unknown-field", "running", submit(score=10), 400, VALIDATION),
    ("pause-a-draft", "draft", event("mission.paused"), 409, NOT_APPLICABLE),
    ("route-pause-a-draft", "draft", action("pause"), 409, NOT_APPLICABLE),
    ("route-resume-a-draft", "draft", action("resume"), 409, NOT_APPLICABLE),
    ("submit-on-a-draft", "draft", event("work.submitted", **A1), 409, NOT_APPLICABLE),
    ("route-submit-on-a-draft", "draft", submit(), 409, NOT_APPLICABLE),
    ("anything-on-a-cancelled-mission", "cancelled", event("mission.resumed"), 409, NOT_APPLICABLE),
    ("submit-on-a-cancelled-mission", "cancelled", event("work.submitted", **A1), 409, NOT_APPLICABLE),
    ("cancel-a-cancelled-mission", "cancelled", event("mission.cancelled"), 409, NOT_APPLICABLE),
    ("route-start-a-cancelled-mission", "cancelled", action("start"), 409, NOT_APPLICABLE),
    ("route-cancel-a-cancelled-mission", "cancelled", action("cancel"), 409, NOT_APPLICABLE),
    ("route-pause-a-cancelled-mission", "cancelled", action("pause"), 409, NOT_APPLICABLE),
    ("route-submit-on-a-cancelled-mission", "cancelled", submit(), 409, NOT_APPLICABLE),
    ("route-review-on-a-cancelled-mission", "cancelled", review(), 409, NOT_APPLICABLE),
    ("event-for-an-unknown-mission", "ghost", event("mission.paused"), 404, NOT_FOUND),
    ("start-an-unknown-mission", "ghost", action("start"), 404, NOT_FOUND),
    ("cancel-an-unknown-mission", "ghost", action("cancel"), 404, NOT_FOUND),
    ("submit-to-an-unknown-mission", "ghost", submit(), 404, NOT_FOUND),
    ("review-on-an-unknown-mission", "ghost", review(), 404, NOT_FOUND),
    ("events-of-an-unknown-mission", "ghost", ("GET", "events", None), 404, NOT_FOUND),
    ("show-an-unknown-mission", "ghost", ("GET", "", None), 404, NOT_FOUND),
]  # fmt: skip


def state_of(world: World, missions: Missions) -> tuple[int, dict[str, int]]:
    revs = {name: world.mission(missions.id_of(name))["rev"] for name in ("draft", "running", "cancelled")}
    return world.head(), revs


def resolve(value: Any, missions: Missions) -> Any:
    if isinstance(value, dict):
        return {k: resolve(v, missions) for k, v in value.items()}
    return missions.draft if value == "<draft>" else value


@pytest.mark.parametrize(
    ("mission", "call", "status", "code"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_a_refused_event_answers_its_code_and_changes_nothing(
    world: World, missions: Missions, mission: str, call: tuple[str, str, Any], status: int, code: str
) -> None:
    method, path, body = call
    mission_id = missions.id_of(mission)
    before = state_of(world, missions)
    url = f"/v1/missions/{mission_id}" + (f"/{path}" if path else "")
    answer = world.client.request(method, url, json=resolve(body, missions))
    found = problem(answer, status, code)
    if code == NOT_FOUND:
        assert found["mission_id"] == mission_id
    if code == NOT_APPLICABLE:
        assert found["detail"]  # the reducer's reason: why it does not apply
    assert state_of(world, missions) == before
    world.run()  # whatever the runtime does next, the refused event left nothing for it
    assert state_of(world, missions) == before


def test_a_mismatch_names_both_missions(world: World, missions: Missions) -> None:
    body = {"type": "mission.paused", "mission_id": missions.draft}
    found = problem(world.client.post(f"/v1/missions/{missions.running}/events", json=body), 400, MISMATCH)
    assert (found["mission_id"], found["event_mission_id"]) == (missions.running, missions.draft)


def test_an_event_that_names_its_own_mission_applies(world: World) -> None:
    mission_id = world.create(spec(world.workspace(), ("a",)))["id"]
    body = {"type": "mission.started", "mission_id": mission_id, "data": {}}
    started = world.ok("POST", f"/v1/missions/{mission_id}/events", json=body)
    assert started["status"] == "running"
    assert started["event_seq"] == next(
        e["seq"] for e in world.events(mission_id) if e["type"] == "mission.started"
    )
