"""The JSON shape of every routine event, and of the routine, run and approval wire objects,
pinned by committed snapshots under snapshots/.

A shape keeps keys, value types and the values the contract fixes (event types, statuses,
triggers, policy decisions and reasons); timestamps and ids become placeholders, other
strings and numbers their type. One scenario on a clock the test moves produces every
document; both backends must produce the same snapshots. `UPDATE_SNAPSHOTS=1` rewrites the
files; otherwise a missing or different snapshot fails.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from missiond.bootstrap import System, build
from missiond.errors import MissiondError
from missiond.settings import Settings

from .routine_harness import ADMIN, ManualClock, events_after, fresh_database, history, routine_body

SNAPSHOTS = Path(__file__).parent / "snapshots"
LITERAL_STRINGS = {
    "type",
    "subject",
    "actor",
    "status",
    "trigger",
    "policy",
    "action_class",
    "kind",
    "overlap",
    "decision",
    "reason",
    "requester",
    "error",
    "changes",
    "schedule_text",
    "connector",
}
LITERAL_NUMBERS = {"v", "count", "max_runs", "exit_code"}
IDS = re.compile(r"\b(rtn|run|apr|evt|cor|agt|tsk)_[0-9A-HJKMNP-TV-Z]{26}\b")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
EVENT_TYPES = [
    "created",
    "updated",
    "activated",
    "paused",
    "resumed",
    "deleted",
    "fired",
    "missed",
    "skipped",
    "approval_required",
    "blocked",
    "run_finished",
]


def shape(value: Any, name: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: shape(v, k) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(item, name) for item in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value if name in LITERAL_NUMBERS else f"<{type(value).__name__}>"
    if TIMESTAMP.match(value):
        return "<timestamp>"
    if IDS.fullmatch(value):
        return f"<{value[:3]} id>"
    return IDS.sub(lambda m: f"<{m.group(1)} id>", value) if name in LITERAL_STRINGS else "<str>"


def assert_matches_snapshot(name: str, document: Any) -> None:
    path = SNAPSHOTS / f"{name}.json"
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text)
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path}; run with UPDATE_SNAPSHOTS=1 to write it, then review and commit it")
    assert text == path.read_text(), f"{path.name} differs; if the change is intended, UPDATE_SNAPSHOTS=1"


# -- the scenario --------------------------------------------------------------------------------
def scenario(system: System, clock: ManualClock) -> dict[str, Any]:
    """Every routine event type and wire object, made by driving the services."""
    routines, runner = system.routines, system.runner
    audit = routines.create(ADMIN, routine_body(name="audit"))[0]
    routines.update(ADMIN, audit["id"], {"name": "nightly audit"}, None)
    draft = routines.create(ADMIN, routine_body(name="digest", status="draft"))[0]
    routines.lifecycle(ADMIN, draft["id"], "activate")

    clock.set(60)
    routines.tick()  # both fire
    claimed = {rid: (run_id, action) for run_id, rid, action in runner.claim()}
    clock.set(120)
    routines.tick()  # both skipped: their runs are still running
    run_id, action = claimed[audit["id"]]
    runner.execute(run_id, audit["id"], action)
    runner.recover()  # the digest's run was running when "the server stopped"

    clock.set(130)
    routines.lifecycle(ADMIN, audit["id"], "pause")
    clock.set(400)
    routines.lifecycle(ADMIN, audit["id"], "resume")  # 180..360 recorded as missed

    gated = routines.create(ADMIN, routine_body(name="deploy", requires_approval=True))[0]
    approved = routines.run_now(ADMIN, gated["id"])[0]
    system.approvals.decide(ADMIN, approved["approval_id"], True, "fine")
    denied = routines.run_now(ADMIN, gated["id"])[0]
    pending = system.approvals.get(ADMIN, denied["approval_id"])
    system.approvals.decide(ADMIN, denied["approval_id"], False, "not today")

    external = {"kind": "command", "argv": ["true"], "external": True}
    blocked = routines.create(ADMIN, routine_body(name="upload", action=external))[0]
    with pytest.raises(MissiondError):
        routines.run_now(ADMIN, blocked["id"])

    documents: dict[str, Any] = {
        "routine": routines.get(ADMIN, audit["id"]),
        "approval-pending": pending,
        "approval-denied": system.approvals.get(ADMIN, denied["approval_id"]),
    }
    for routine_id in (audit["id"], draft["id"], gated["id"], blocked["id"]):
        for run in reversed(history(system, routine_id)):
            documents.setdefault(f"run-{run['status']}", run)
    routines.delete(ADMIN, audit["id"])

    for event in events_after(system, 0, "routine."):
        kind = event.type.removeprefix("routine.")
        variant = {
            ("fired", "queued"): "-approved",
            ("run_finished", "denied"): "-denied",
        }.get((kind, event.data.get("status")), "-interrupted" if event.data.get("interrupted") else "")
        documents.setdefault(f"event-{event.type}{variant}", event.to_wire())
    return documents


DOCUMENTS = [
    *(f"event-routine.{kind}" for kind in EVENT_TYPES),
    "event-routine.fired-approved",
    "event-routine.run_finished-denied",
    "event-routine.run_finished-interrupted",
    "routine",
    "run-succeeded",
    "run-failed",
    "run-skipped_overlap",
    "run-missed",
    "run-queued",
    "run-denied",
    "run-blocked_policy",
    "approval-pending",
    "approval-denied",
]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def documents(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("snapshots")
    clock = ManualClock()
    with fresh_database(request.param, home) as url:
        system = build(Settings.from_env(home=home / "home", database_url=url), clock=clock)
        try:
            return scenario(system, clock)
        finally:
            system.close()


def test_the_scenario_produces_every_routine_event_type(documents: dict[str, Any]) -> None:
    produced = {name.removeprefix("event-routine.") for name in documents if name.startswith("event-")}
    assert set(EVENT_TYPES) <= produced
    assert set(DOCUMENTS) == set(documents), "a new document needs a snapshot (add it to DOCUMENTS)"


@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_json_shape_matches_its_snapshot(documents: dict[str, Any], name: str) -> None:
    assert_matches_snapshot(name, shape(documents[name]))
