"""Mission state and the commands the reducer asks the runtime to carry out.

All values are frozen; the reducer makes new ones. The state's parts and the
commands are NamedTuples rather than frozen dataclasses: making one, and
`_replace`, cost a fraction of a frozen dataclass's `__init__` and
`dataclasses.replace`, and replay speed is a target (bench/missions.py). `state_to_dict` and
`state_from_dict` give the persisted (versioned) shape and round-trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from missiond.core.missions.spec import PLAN_ITEM, MissionSpec, parse_spec, spec_to_dict

STATE_VERSION = 1

MISSION_TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
ITEM_TERMINAL = frozenset({"done", "failed", "cancelled"})
IN_FLIGHT = frozenset({"in_progress", "review", "test"})
ITEM_STATUSES = ("todo", "blocked", "ready", "in_progress", "review", "test", "rework", "done", "failed",
                 "cancelled")  # fmt: skip


class Attempt(NamedTuple):
    n: int
    role: str = "executor"
    task_id: str | None = None
    review_task_id: str | None = None
    review_requested: bool = False
    test_started: bool = False
    summary: str | None = None
    run_ok: bool | None = None
    review: str | None = None  # approved | changes_requested
    reviewer: str | None = None
    review_feedback: str | None = None
    approval_id: str | None = None
    test: str | None = None  # passed | failed
    exit_code: int | None = None
    test_tail: str | None = None
    artifacts: tuple[str, ...] = ()


class Item(NamedTuple):
    id: str
    title: str
    description: str
    role: str
    depends_on: tuple[str, ...]
    status: str = "todo"
    reworks: int = 0
    feedback: tuple[str, ...] = ()  # every reason the item went back, oldest first
    attempts: tuple[Attempt, ...] = ()
    reason: str | None = None
    review: str | None = None  # the item's own review gate (agent | human | none), if it has one

    @property
    def attempt(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None


class Planner(NamedTuple):
    status: str = "idle"  # idle | planning | done
    attempts: int = 0
    rejections: int = 0
    feedback: tuple[str, ...] = ()
    task_id: str | None = None


class Layout(NamedTuple):
    """Lookups over a mission's items that the reducer would otherwise rebuild on every event."""

    positions: Mapping[str, int]  # item id -> index in `items`
    dependents: Mapping[str, tuple[int, ...]]  # item id -> indexes of the items that depend on it


def layout(items: tuple[Item, ...]) -> Layout:
    dependents: dict[str, list[int]] = {item.id: [] for item in items}
    for index, item in enumerate(items):
        for dep in item.depends_on:
            dependents[dep].append(index)
    return Layout(
        {item.id: index for index, item in enumerate(items)},
        {item_id: tuple(indexes) for item_id, indexes in dependents.items()},
    )


class MissionState(NamedTuple):
    id: str
    spec: MissionSpec
    status: str = "draft"
    items: tuple[Item, ...] = ()
    planner: Planner = Planner()
    created_at: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    reason: str | None = None
    version: int = STATE_VERSION
    # Derived from `items`, not persisted; set with `items` wherever the set of items changes
    # (creation, an accepted plan, loading). Items never move or change dependencies afterwards.
    layout: Layout = Layout({}, {})

    def item(self, item_id: str) -> Item | None:
        index = self.layout.positions.get(item_id)
        return None if index is None else self.items[index]


# -- commands (imperatives for the runtime) --------------------------------------------
class Dispatch(NamedTuple):
    item_id: str
    role: str
    attempt: int
    instructions: str
    feedback: tuple[str, ...] = ()
    kind: str = "dispatch"


class RunTest(NamedTuple):
    item_id: str
    attempt: int
    kind: str = "run_test"


class RequestApproval(NamedTuple):
    item_id: str
    attempt: int
    summary: str
    kind: str = "request_approval"


def artifact_path(mission_id: str, item_id: str, attempt: int, name: str) -> str:
    """Where an attempt's artifact lives, relative to the data directory (one layout for the
    reducer, which records it, and the runtime, which writes it)."""
    item = "plan" if item_id == PLAN_ITEM else item_id
    return f"artifacts/missions/{mission_id}/{item}-a{attempt}-{name.rsplit('/', 1)[-1]}"


class PersistArtifact(NamedTuple):
    item_id: str
    attempt: int
    name: str
    content: str
    kind: str = "persist_artifact"


class OfferSolution(NamedTuple):
    """Keep what worked for a done item as a solution capsule in session memory, offered for
    promotion (a person or reviewer promotes it through the scrubbed, reviewed path)."""

    item_id: str
    attempt: int
    summary: str
    kind: str = "offer_solution"


class ScheduleTimeout(NamedTuple):
    after_s: float
    event_type: str
    kind: str = "schedule_timeout"


class ReleaseWork(NamedTuple):
    item_id: str
    attempt: int
    reason: str
    kind: str = "release_work"


class RecordFact(NamedTuple):
    """A decision the reducer made that the spine should show (`work.done`, `mission.halted`, ...).

    Folding a recorded fact back in changes nothing: the state already holds it."""

    type: str
    data: Mapping[str, Any] = MappingProxyType({})
    kind: str = "record_fact"


class Notice(NamedTuple):
    level: str  # info | warning
    message: str
    kind: str = "notice"


class Finish(NamedTuple):
    status: str
    reason: str | None = None
    kind: str = "finish"


Command = (
    Dispatch | RunTest | RequestApproval | PersistArtifact | ScheduleTimeout | ReleaseWork | RecordFact
    | Notice | Finish | OfferSolution
)  # fmt: skip


def command_to_dict(command: Command) -> dict[str, Any]:
    out = command._asdict()
    for key, value in out.items():
        if isinstance(value, tuple):
            out[key] = list(value)
        elif isinstance(value, Mapping):
            out[key] = dict(value)
    return out


# -- persistence -------------------------------------------------------------------------
def state_to_dict(state: MissionState) -> dict[str, Any]:
    return {
        "v": state.version,
        "id": state.id,
        "spec": spec_to_dict(state.spec),
        "status": state.status,
        "items": [_item_to_dict(i) for i in state.items],
        "planner": {
            "status": state.planner.status,
            "attempts": state.planner.attempts,
            "rejections": state.planner.rejections,
            "feedback": list(state.planner.feedback),
            "task_id": state.planner.task_id,
        },
        "created_at": state.created_at,
        "started_at": state.started_at,
        "finished_at": state.finished_at,
        "reason": state.reason,
    }


def _item_to_dict(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "role": item.role,
        "depends_on": list(item.depends_on),
        "status": item.status,
        "reworks": item.reworks,
        "feedback": list(item.feedback),
        "attempts": [{**a._asdict(), "artifacts": list(a.artifacts)} for a in item.attempts],
        "reason": item.reason,
        "review": item.review,
    }


def state_from_dict(data: Mapping[str, Any]) -> MissionState:
    version = data.get("v")
    if type(version) is not int or version != STATE_VERSION:
        raise ValueError(f"mission state version {version} is not readable by this code")
    planner = data["planner"]
    items = tuple(
        Item(
            id=i["id"],
            title=i["title"],
            description=i["description"],
            role=i["role"],
            depends_on=tuple(i["depends_on"]),
            status=i["status"],
            reworks=i["reworks"],
            feedback=tuple(i["feedback"]),
            attempts=tuple(
                Attempt(**{**a, "artifacts": tuple(a.get("artifacts", ()))}) for a in i["attempts"]
            ),
            reason=i.get("reason"),
            review=i.get("review"),
        )
        for i in data["items"]
    )
    return MissionState(
        id=data["id"],
        spec=parse_spec(data["spec"]),
        status=data["status"],
        items=items,
        layout=layout(items),
        planner=Planner(
            status=planner["status"],
            attempts=planner["attempts"],
            rejections=planner["rejections"],
            feedback=tuple(planner["feedback"]),
            task_id=planner.get("task_id"),
        ),
        created_at=data["created_at"],
        started_at=data.get("started_at"),
        finished_at=data.get("finished_at"),
        reason=data.get("reason"),
    )
