"""The JSON shape of every `mission.*`, `work.*`, `review.*`, `test.*`, `approval.*` and
`artifact.added` event the runtime emits, and of the mission wire object, pinned by committed
snapshots under snapshots/.

A shape keeps keys, value types and the values the contract fixes (event types, statuses,
roles, adapters, levels, item ids, attempts, exit codes); timestamps and ids become
placeholders, other strings and numbers their type. One scenario on a clock the test moves
produces every document; both backends must produce the same snapshots. `UPDATE_SNAPSHOTS=1`
rewrites the files; otherwise a missing or different snapshot fails.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from missiond.bootstrap import System, build
from missiond.core.events import EventFilter
from missiond.core.missions.reducer import INPUT_TYPES, RECORDED_TYPES
from missiond.settings import Settings

from .mission_world import ADMIN, BACKENDS, fresh_database, spec

SNAPSHOTS = Path(__file__).parent / "snapshots"
LITERAL_STRINGS = {
    "type",
    "subject",
    "actor",
    "status",
    "kind",
    "role",
    "adapter",
    "level",
    "item_id",
    "items",
    "commands",
    "reviewer",
    "requester",
    "decider",
    "by",
    "id",
}
LITERAL_NUMBERS = {"v", "attempt", "n", "reworks", "exit_code", "max_rework", "max_parallel"}
IDS = re.compile(r"\b(msn|tsk|apr|evt|cor|cmd|agt)_[0-9A-HJKMNP-TV-Z]{26}\b")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
STREAM_TYPES = ("mission.", "work.", "review.", "test.", "approval.", "artifact.")
# Everything the runtime emits: the reducer's input and recorded facts, and the runtime's own.
EVENT_TYPES = sorted(
    {
        *INPUT_TYPES,
        *RECORDED_TYPES,
        "mission.notice",
        "mission.commands_queued",
        "approval.requested",
        "approval.approved",
        "approval.denied",
        "approval.expired",
        "artifact.added",
    }
)
VARIANTS = [
    "event-work.dispatched-scripted",
    "event-work.dispatched-reviewer",
    "event-work.failed-dependency",
    "event-work.submitted-failed",
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


class ManualClock:
    """Time that stands still until the scenario moves it."""

    def __init__(self) -> None:
        self.now = datetime(2031, 3, 3, 9, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# -- the scenario --------------------------------------------------------------------------------
class Driver:
    def __init__(self, system: System, root: Path) -> None:
        self.system = system
        self.root = root
        self.missions = system.missions

    def run(self) -> None:
        runtime = self.system.mission_runtime
        for _ in range(50):
            runtime.drain_spine()
            ran, slow = runtime.step()
            for command in slow:
                runtime.run_slow(command)
            if ran == 0 and not slow:
                return
        raise AssertionError("the runtime did not settle")

    def create(self, name: str, body: dict[str, Any]) -> str:
        return str(self.missions.create(ADMIN, body, start=True)[0]["id"])

    def workspace(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def submit(self, mission_id: str, item: str, **body: Any) -> None:
        self.missions.submit(ADMIN, mission_id, item, {"summary": f"wrote {item}", **body})

    def review(
        self, mission_id: str, item: str, verdict: str = "approve", feedback: str | None = None
    ) -> None:
        self.missions.review(ADMIN, mission_id, item, {"verdict": verdict, "feedback": feedback})

    def approval(self, mission_id: str, item: str) -> str:
        pending = self.system.approvals.list(ADMIN, "pending", 1000)["items"]
        return str(next(a["id"] for a in pending if a["payload"] == {**a["payload"], "item_id": item}
                        and a["payload"]["mission_id"] == mission_id))  # fmt: skip


def scenario(system: System, clock: ManualClock, root: Path) -> dict[str, Any]:
    d = Driver(system, root)

    # pull agents and a real gate: a passes; b's run fails, then its gate fails, then review spends
    # the budget; c depends on b and fails with it
    ws = d.workspace("pull")
    pull = d.create("pull", spec(ws, ("a", "b", "c:b"), max_rework=2))
    d.run()
    (ws / "a.ok").write_text("ok\n")
    d.submit(pull, "a")
    d.submit(pull, "b", ok=False, summary="crashed")
    d.run()
    d.review(pull, "a")
    d.submit(pull, "b")
    d.run()
    d.review(pull, "b")
    d.run()  # b's gate fails: rework 2
    d.submit(pull, "b")
    d.run()
    d.review(pull, "b", "request_changes", "no tests")  # budget spent
    d.run()

    # a person reviews: a approved, b denied, c's approval expires; then the mission is cancelled
    ws = d.workspace("human")
    human = d.create("human", spec(ws, ("a", "b", "c"), review="human"))
    d.run()
    for item in ("a", "b", "c"):
        (ws / f"{item}.ok").write_text("ok\n")
        d.submit(human, item)
    d.run()
    system.approvals.decide(ADMIN, d.approval(human, "a"), True, "fine")
    system.approvals.decide(ADMIN, d.approval(human, "b"), False, "rename the flag")
    d.run()
    clock.advance(8 * 24 * 3600)
    system.approvals.sweep()
    d.run()
    d.missions.lifecycle(ADMIN, human, "pause")
    d.missions.lifecycle(ADMIN, human, "resume")
    d.missions.lifecycle(ADMIN, human, "cancel", "enough")
    d.run()

    # scripted agents: a planner whose plan is refused twice halts the mission; a good plan succeeds
    ws = d.workspace("scripted")
    bad_plan = [{"id": "x", "title": "X", "depends_on": ["x"]}]
    scripted = {"adapter": "scripted"}
    team = {"executor": scripted, "reviewer": scripted}
    planless = {**spec(ws, test=None), "work_items": None}
    halted = d.create(
        "halted", {**planless, "roles": {**team, "planner": {**scripted, "script": {"plan": bad_plan}}}}
    )
    d.run()
    picky = {**scripted, "script": {"fail_review": 1}}
    planned = d.create("planned", {**planless, "roles": {**team, "planner": scripted, "reviewer": picky}})
    d.run()

    # a deadline: the mission halts when max_duration_s is spent
    late = d.create("late", {**spec(d.workspace("late")), "budgets": {"max_duration_s": 60}})
    d.run()
    clock.advance(61)
    d.run()

    documents: dict[str, Any] = {}
    ended = {"failed": pull, "cancelled": human, "halted": halted, "succeeded": planned, "deadline": late}
    for name, mission_id in ended.items():
        documents[f"mission-{name}"] = system.missions.get(ADMIN, mission_id)
    with system.store.read() as uow:
        events = uow.events.query(EventFilter(types=STREAM_TYPES), after=0, limit=5000)
    for event in events:
        wire = event.to_wire()
        data = event.data
        variant = ""
        if event.type == "work.dispatched" and data.get("item_id") == "_plan":
            continue  # the planner's own dispatch: same keys as an item's, pinned by the item ones
        if event.type == "work.dispatched":
            variant = {"scripted": "-scripted"}.get(data.get("adapter"), "")
            variant = variant or ("-reviewer" if data.get("role") == "reviewer" else "")
        elif event.type == "work.failed" and "attempt" not in data:
            variant = "-dependency"
        elif event.type == "work.submitted" and data.get("ok") is False:
            variant = "-failed"
        documents.setdefault(f"event-{event.type}{variant}", wire)
    return documents


DOCUMENTS = [
    *(f"event-{t}" for t in EVENT_TYPES),
    *VARIANTS,
    "mission-failed",
    "mission-cancelled",
    "mission-halted",
    "mission-succeeded",
    "mission-deadline",
]


@pytest.fixture(scope="module", params=BACKENDS)
def documents(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("mission-snapshots")
    clock = ManualClock()
    with fresh_database(request.param, root) as url:
        system = build(Settings.from_env(home=root / "home", database_url=url), clock=clock)
        try:
            return scenario(system, clock, root)
        finally:
            system.close()


def test_the_scenario_produces_every_event_type_the_runtime_emits(documents: dict[str, Any]) -> None:
    produced = {name.removeprefix("event-") for name in documents if name.startswith("event-")}
    assert set(EVENT_TYPES) - produced == set()
    assert set(DOCUMENTS) == set(documents), "a new document needs a snapshot (add it to DOCUMENTS)"


def test_each_mission_of_the_scenario_ends_as_told(documents: dict[str, Any]) -> None:
    ended = {
        name: (doc["status"], {i["id"]: i["status"] for i in doc["items"]})
        for name, doc in documents.items()
        if name.startswith("mission-")
    }
    assert ended == {
        "mission-failed": ("failed", {"a": "done", "b": "failed", "c": "failed"}),
        "mission-cancelled": ("cancelled", {"a": "done", "b": "cancelled", "c": "cancelled"}),
        "mission-halted": ("halted", {}),
        "mission-succeeded": ("succeeded", {"work": "done"}),
        "mission-deadline": ("halted", {"a": "in_progress"}),
    }


@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_json_shape_matches_its_snapshot(documents: dict[str, Any], name: str) -> None:
    assert_matches_snapshot(name, shape(documents[name]))
