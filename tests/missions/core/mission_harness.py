"""Drives the pure mission reducer in tests: builds specs, plays readable steps, reads the commands.

    m = Mission.of("a", "b:a", review="human", test=False).do("start", "submit a")

Items are written `id` or `id:dep1,dep2`. Work steps name the item and use its current attempt,
so a table row reads like the story it tells.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from missiond.core.missions.reducer import MissionEvent, applied, init, on_event
from missiond.core.missions.spec import MissionSpec, parse_spec
from missiond.core.missions.state import Command, Dispatch, Item, Notice

C = TypeVar("C")

GOOD_PLAN: list[dict[str, Any]] = [
    {"id": "schema", "title": "Write the schema"},
    {"id": "parser", "title": "Write the parser", "depends_on": ["schema"]},
]
BAD_PLAN: list[dict[str, Any]] = [
    {"id": "x", "title": "X", "depends_on": ["y"]},
    {"id": "y", "title": "Y", "depends_on": ["x"]},
]


def at(n: int) -> str:
    return f"2026-03-01T09:{n // 60:02d}:{n % 60:02d}Z"


def item_dict(text: str) -> dict[str, Any]:
    item_id, _, deps = text.partition(":")
    return {"id": item_id, "title": f"Item {item_id}", "depends_on": [d for d in deps.split(",") if d]}


def spec_dict(
    items: Iterable[str] = ("a",),
    *,
    review: str = "agent",  # agent | human | none
    test: bool = True,
    max_rework: int = 2,
    max_parallel: int = 4,
    max_duration_s: float | None = None,
    planner: bool = False,
) -> dict[str, Any]:
    roles: dict[str, Any] = {"executor": {"adapter": "pull"}}
    if review == "agent":
        roles["reviewer"] = {"adapter": "pull"}
    if planner:
        roles["planner"] = {"adapter": "pull"}
    gates: dict[str, Any] = {
        "review": {"required": review != "none", "by": "human" if review == "human" else "agent"}
    }
    if test:
        gates["test"] = {"command": "pytest -q", "timeout_s": 120}
    body: dict[str, Any] = {
        "title": "Ship the config parser",
        "goal": "Parse every config file we ship",
        "success_criteria": ["the test suite passes"],
        "workspace": "/srv/repo",
        "roles": roles,
        "gates": gates,
        "budgets": {
            "max_rework": max_rework,
            "max_parallel": max_parallel,
            "max_duration_s": max_duration_s,
        },
    }
    if not planner:
        body["work_items"] = [item_dict(text) for text in items]
    return body


def make_spec(*items: str, **options: Any) -> MissionSpec:
    return parse_spec(spec_dict(items or ("a",), **options))


class Mission:
    """One mission, the events fed to it so far, and what the reducer answered."""

    def __init__(self, spec: MissionSpec, mission_id: str = "m-1") -> None:
        self.state, self.commands = init(spec, mission_id, at(0))
        self.initial = self.state
        self.before = self.state
        self.events: list[MissionEvent] = []
        self.history: list[Command] = list(self.commands)

    @classmethod
    def of(cls, *items: str, **options: Any) -> Mission:
        return cls(make_spec(*items, **options))

    # -- feeding events -------------------------------------------------------------------
    def send(self, event_type: str, data: Mapping[str, Any] | None = None) -> list[Command]:
        event = MissionEvent(event_type, dict(data or {}), at(len(self.events) + 1))
        self.before = self.state
        self.state, self.commands = on_event(self.state, event)
        self.events.append(event)
        self.history.extend(self.commands)
        return self.commands

    def work(self, event_type: str, item_id: str, **data: Any) -> list[Command]:
        return self.send(event_type, {"item_id": item_id, "attempt": self.attempt(item_id) or 1, **data})

    def do(self, *steps: str) -> Mission:
        for step in steps:
            verb, _, item_id = step.partition(" ")
            STEPS[verb](self, item_id)
        return self

    def complete(self, item_id: str) -> None:
        """Submit, approve and pass the test, as far as the gates of this mission ask."""
        self.do(f"submit {item_id}")
        if self.spec.review.required:
            self.do(f"approve {item_id}")
        if self.spec.test is not None:
            self.do(f"pass-test {item_id}")

    # -- reading --------------------------------------------------------------------------
    @property
    def spec(self) -> MissionSpec:
        return self.state.spec

    @property
    def applied(self) -> bool:
        return applied(self.before, self.state)

    def item(self, item_id: str) -> Item:
        item = self.state.item(item_id)
        assert item is not None, f"no item {item_id}"
        return item

    def status(self, item_id: str) -> str:
        return self.item(item_id).status

    def attempt(self, item_id: str) -> int:
        item = self.state.item(item_id)
        return item.attempt.n if item is not None and item.attempt is not None else 0

    def statuses(self) -> dict[str, str]:
        return {i.id: i.status for i in self.state.items}

    def last(self, kind: type[C]) -> list[C]:
        return [c for c in self.commands if isinstance(c, kind)]

    def ever(self, kind: type[C]) -> list[C]:
        return [c for c in self.history if isinstance(c, kind)]

    def dispatches(self, role: str | None = None) -> list[Dispatch]:
        return [d for d in self.last(Dispatch) if role is None or d.role == role]

    def warnings(self) -> list[str]:
        return [n.message for n in self.last(Notice) if n.level == "warning"]


def _plan(items: list[dict[str, Any]]) -> Callable[[Mission, str], object]:
    return lambda m, _: m.send("mission.plan_submitted", {"items": items})


STEPS: dict[str, Callable[[Mission, str], object]] = {
    "start": lambda m, _: m.send("mission.started"),
    "pause": lambda m, _: m.send("mission.paused"),
    "resume": lambda m, _: m.send("mission.resumed"),
    "cancel": lambda m, _: m.send("mission.cancelled", {"reason": "not needed any more"}),
    "deadline": lambda m, _: m.send("mission.deadline_passed"),
    "plan-good": _plan(GOOD_PLAN),
    "plan-bad": _plan(BAD_PLAN),
    "submit": lambda m, i: m.work("work.submitted", i, ok=True, summary=f"implemented {i}"),
    "fail-run": lambda m, i: m.work("work.submitted", i, ok=False, summary="the agent crashed"),
    "approve": lambda m, i: m.work("review.approved", i, reviewer="rita"),
    "request-changes": lambda m, i: m.work(
        "review.changes_requested", i, reviewer="rita", feedback="handle empty files"
    ),
    "pass-test": lambda m, i: m.work("test.passed", i, exit_code=0, tail="12 passed"),
    "fail-test": lambda m, i: m.work(
        "test.failed", i, exit_code=1, tail="FAILED test_parse_empty", artifact="art-1"
    ),
    "complete": Mission.complete,
}
