"""The mission spec: what a person asks for, parsed strictly into frozen values.

`parse_spec` takes the wire dictionary and returns a `MissionSpec`, or raises
`SpecInvalid` listing every problem with the field it concerns (dotted path
from the body, for example `body.roles.executor.adapter`). Nothing here
touches the file system: whether the workspace exists is the service's check.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from missiond.core.graph import cycle_if_added

ROLES = ("planner", "executor", "reviewer", "tester")
ADAPTERS = ("pull", "exec", "scripted")
ITEM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PLAN_ITEM = "_plan"  # the planner's own pseudo item in dispatches
MAX_ITEMS = 200
SCRIPT_OPTIONS = ("fail_run", "fail_review", "fail_test", "plan")


class SpecInvalid(ValueError):
    """Raised with every (field, message) problem found."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class RoleSpec:
    adapter: str = "pull"
    agents: tuple[str, ...] = ()  # agent ids or names; empty: any agent with the role
    command: tuple[str, ...] = ()  # exec adapter: argv
    timeout_s: float = 1800.0
    script: Mapping[str, Any] = field(default_factory=dict)  # scripted adapter options


@dataclass(frozen=True, slots=True)
class ReviewGate:
    required: bool = True
    by: str = "agent"  # agent | human


@dataclass(frozen=True, slots=True)
class TestGate:
    command: str
    timeout_s: float = 600.0
    cwd: str = "."
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Budgets:
    max_rework: int = 2
    max_parallel: int = 4
    max_duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class MemoryOptions:
    """Project memory for a mission: searched for each executor dispatch (the hits go into
    the instructions) and, when an item is done, a solution capsule offered for promotion."""

    org: str
    workspace: str
    project: str
    search: bool = True
    limit: int = 5
    offer_solutions: bool = True


@dataclass(frozen=True, slots=True)
class ItemSpec:
    id: str
    title: str
    description: str = ""
    role: str = "executor"
    depends_on: tuple[str, ...] = ()
    review: str | None = None  # agent | human | none: this item's own review gate (default: the mission's)


@dataclass(frozen=True, slots=True)
class MissionSpec:
    title: str
    goal: str
    workspace: str
    roles: Mapping[str, RoleSpec]
    success_criteria: tuple[str, ...] = ()
    review: ReviewGate = ReviewGate()
    test: TestGate | None = None
    budgets: Budgets = Budgets()
    work_items: tuple[ItemSpec, ...] | None = None
    memory: MemoryOptions | None = None


class _Reader:
    """Collects problems instead of stopping at the first one."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def bad(self, where: str, message: str) -> None:
        self.problems.append((where, message))

    def text(self, data: Mapping[str, Any], key: str, where: str, *, required: bool, limit: int) -> str:
        value = data.get(key)
        if value is None:
            if required:
                self.bad(f"{where}.{key}", "is required")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.bad(f"{where}.{key}", "must be a non-empty string" if required else "must be a string")
            return ""
        if len(value) > limit:
            self.bad(f"{where}.{key}", f"at most {limit} characters")
        return value

    def number(self, data: Mapping[str, Any], key: str, where: str, default: Any, *, lo: float) -> Any:
        value = data.get(key, default)
        if value is None:
            return default
        try:
            number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        except OverflowError:
            number = None
        if number is None or not math.isfinite(number) or number < lo:
            self.bad(f"{where}.{key}", f"must be a finite number >= {lo:g}")
            return default
        return number

    def mapping(self, data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.bad(f"{where}.{key}", "must be an object")
            return {}
        return value

    def strings(self, data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.bad(f"{where}.{key}", "must be a list of non-empty strings")
            return ()
        return tuple(value)

    def unknown(self, data: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
        for key in data:
            if key not in allowed:
                self.bad(f"{where}.{key}", "is not a known field")


def _role(r: _Reader, name: str, data: Any) -> RoleSpec:
    where = f"body.roles.{name}"
    if not isinstance(data, Mapping):
        r.bad(where, "must be an object")
        return RoleSpec()
    r.unknown(data, ("adapter", "agents", "command", "timeout_s", "script"), where)
    adapter = data.get("adapter", "pull")
    if adapter not in ADAPTERS:
        r.bad(f"{where}.adapter", f"one of {', '.join(ADAPTERS)}")
        adapter = "pull"
    command = r.strings(data, "command", where)
    if adapter == "exec" and not command:
        r.bad(f"{where}.command", "the exec adapter needs a command (a list of arguments)")
    script = r.mapping(data, "script", where)
    for key in script:
        if key not in SCRIPT_OPTIONS:
            r.bad(f"{where}.script.{key}", f"one of {', '.join(SCRIPT_OPTIONS)}")
    return RoleSpec(
        adapter=adapter,
        agents=r.strings(data, "agents", where),
        command=command,
        timeout_s=float(r.number(data, "timeout_s", where, 1800.0, lo=1)),
        script=dict(script),
    )


def parse_items(r: _Reader, raw: Any, where: str, roles: Mapping[str, Any]) -> tuple[ItemSpec, ...]:
    """Work items with dependencies: unique ids, known dependencies, known roles, no cycle."""
    if not isinstance(raw, list) or not raw:
        r.bad(where, "must be a non-empty list of work items")
        return ()
    if len(raw) > MAX_ITEMS:
        r.bad(where, f"at most {MAX_ITEMS} work items")
        return ()
    items: list[ItemSpec] = []
    positions: list[int] = []  # each parsed item's index in the raw list, for field paths
    seen: set[str] = set()
    for i, data in enumerate(raw):
        at = f"{where}.{i}"
        if not isinstance(data, Mapping):
            r.bad(at, "must be an object")
            continue
        r.unknown(data, ("id", "title", "description", "role", "depends_on", "review"), at)
        item_id = data.get("id")
        if not isinstance(item_id, str) or not ITEM_ID.fullmatch(item_id):
            r.bad(f"{at}.id", "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
            continue
        if item_id in seen:
            r.bad(f"{at}.id", f"duplicate work item id {item_id!r}")
            continue
        seen.add(item_id)
        role = data.get("role", "executor")
        if role not in ("executor", "tester") or role not in roles:
            r.bad(f"{at}.role", "must be a role the mission defines: executor or tester")
            role = "executor"
        review = data.get("review")
        if review is not None and review not in ("agent", "human", "none"):
            r.bad(f"{at}.review", "agent, human or none (default: the mission's review gate)")
            review = None
        if review == "agent" and "reviewer" not in roles:
            r.bad(f"{at}.review", "an agent review needs a reviewer role")
        positions.append(i)
        items.append(
            ItemSpec(
                id=item_id,
                title=r.text(data, "title", at, required=True, limit=300),
                description=r.text(data, "description", at, required=False, limit=20_000),
                role=role,
                depends_on=r.strings(data, "depends_on", at),
                review=review,
            )
        )
    ids = {item.id for item in items}
    for i, item in zip(positions, items, strict=True):
        for dep in item.depends_on:
            if dep == item.id or dep not in ids:
                r.bad(f"{where}.{i}.depends_on", f"{dep!r} is not another work item of this mission")
    cycle = find_cycle(items)
    if cycle:
        r.bad(where, "dependencies form a cycle: " + " -> ".join(cycle))
    return tuple(items)


def find_cycle(items: tuple[ItemSpec, ...] | list[ItemSpec]) -> list[str] | None:
    """The first dependency cycle (a path that starts and ends at one item), or None.

    Edges are added one by one through the task board's own check (`core.graph`); a
    self-dependency or an unknown item is reported elsewhere, so it is not an edge here."""
    ids = {item.id for item in items}
    edges: dict[str, list[str]] = {}
    for item in items:
        for dep in item.depends_on:
            if dep == item.id or dep not in ids:
                continue
            cycle = cycle_if_added(item.id, dep, lambda node: edges.get(node, ()))
            if cycle is not None:
                # Named from the member listed first, as a reader of the spec meets them.
                order = {it.id: n for n, it in enumerate(items)}
                loop = cycle[:-1]
                start = min(range(len(loop)), key=lambda n: order[loop[n]])
                loop = loop[start:] + loop[:start]
                return [*loop, loop[0]]
            edges.setdefault(item.id, []).append(dep)
    return None


SPEC_FIELDS = (
    "title", "goal", "success_criteria", "workspace", "roles", "gates", "budgets", "work_items", "memory",
)  # fmt: skip


def parse_spec(data: Any) -> MissionSpec:
    r = _Reader()
    if not isinstance(data, Mapping):
        raise SpecInvalid([("body", "a mission spec is a JSON object")])
    r.unknown(data, SPEC_FIELDS, "body")
    title = r.text(data, "title", "body", required=True, limit=300)
    goal = r.text(data, "goal", "body", required=True, limit=20_000)
    workspace = r.text(data, "workspace", "body", required=True, limit=4096)
    raw_roles = r.mapping(data, "roles", "body")
    roles: dict[str, RoleSpec] = {}
    for name, role_data in raw_roles.items():
        if name not in ROLES:
            r.bad(f"body.roles.{name}", f"one of {', '.join(ROLES)}")
            continue
        roles[name] = _role(r, name, role_data)
    if "executor" not in roles:
        r.bad("body.roles.executor", "is required")
    gates = r.mapping(data, "gates", "body")
    r.unknown(gates, ("review", "test"), "body.gates")
    review_data = r.mapping(gates, "review", "body.gates")
    r.unknown(review_data, ("required", "by"), "body.gates.review")
    required = review_data.get("required", True)
    if not isinstance(required, bool):
        r.bad("body.gates.review.required", "must be true or false")
        required = True
    by = review_data.get("by", "agent")
    if by not in ("agent", "human"):
        r.bad("body.gates.review.by", "agent or human")
        by = "agent"
    if required and by == "agent" and "reviewer" not in roles:
        r.bad("body.roles.reviewer", "an agent review gate needs a reviewer role")
    test = None
    test_data = r.mapping(gates, "test", "body.gates")
    if gates.get("test") is not None and isinstance(gates.get("test"), Mapping):
        r.unknown(test_data, ("command", "timeout_s", "cwd", "env"), "body.gates.test")
        env = r.mapping(test_data, "env", "body.gates.test")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            r.bad("body.gates.test.env", "must map names to string values")
        cwd = r.text(test_data, "cwd", "body.gates.test", required=False, limit=4096) or "."
        if cwd.startswith("/") or ".." in cwd.replace("\\", "/").split("/"):
            r.bad("body.gates.test.cwd", "a path inside the workspace (relative, no '..')")
        test = TestGate(
            command=r.text(test_data, "command", "body.gates.test", required=True, limit=4096),
            timeout_s=float(r.number(test_data, "timeout_s", "body.gates.test", 600.0, lo=1)),
            cwd=cwd,
            env=dict(env),
        )
    budget_data = r.mapping(data, "budgets", "body")
    r.unknown(budget_data, ("max_rework", "max_parallel", "max_duration_s"), "body.budgets")
    budgets = Budgets(
        max_rework=_integer(r, budget_data, "max_rework", 2, lo=0),
        max_parallel=_integer(r, budget_data, "max_parallel", 4, lo=1),
        max_duration_s=r.number(budget_data, "max_duration_s", "body.budgets", None, lo=1),
    )
    items = None
    if data.get("work_items") is not None:
        items = parse_items(r, data["work_items"], "body.work_items", roles)
    elif "planner" not in roles:
        r.bad("body.work_items", "give work items, or a planner role that produces them")
    criteria = r.strings(data, "success_criteria", "body")
    memory = _memory(r, data)
    if r.problems:
        raise SpecInvalid(r.problems)
    return MissionSpec(
        title=title,
        goal=goal,
        workspace=workspace,
        roles=roles,
        success_criteria=criteria,
        review=ReviewGate(required=required, by=by),
        test=test,
        budgets=budgets,
        work_items=items,
        memory=memory,
    )


def _memory(r: _Reader, data: Mapping[str, Any]) -> MemoryOptions | None:
    raw = data.get("memory")
    if raw is None:
        return None
    where = "body.memory"
    raw = r.mapping(data, "memory", "body")
    r.unknown(raw, ("partition", "search", "limit", "offer_solutions"), where)
    partition = r.mapping(raw, "partition", where)
    r.unknown(partition, ("org", "workspace", "project"), f"{where}.partition")
    org, workspace, project = (
        r.text(partition, key, f"{where}.partition", required=True, limit=100)
        for key in ("org", "workspace", "project")
    )
    flags = []
    for key in ("search", "offer_solutions"):
        value = raw.get(key, True)
        if not isinstance(value, bool):
            r.bad(f"{where}.{key}", "must be true or false")
            value = True
        flags.append(value)
    limit = raw.get("limit", 5)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 20:
        r.bad(f"{where}.limit", "an integer from 1 to 20")
        limit = 5
    return MemoryOptions(org, workspace, project, search=flags[0], limit=limit, offer_solutions=flags[1])


def _integer(r: _Reader, data: Mapping[str, Any], key: str, default: int, *, lo: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        r.bad(f"body.budgets.{key}", f"must be an integer >= {lo}")
        return default
    return value


def spec_to_dict(spec: MissionSpec) -> dict[str, Any]:
    """The normalized wire form; `parse_spec(spec_to_dict(s)) == s`."""
    gates: dict[str, Any] = {"review": {"required": spec.review.required, "by": spec.review.by}}
    if spec.test is not None:
        gates["test"] = {
            "command": spec.test.command,
            "timeout_s": spec.test.timeout_s,
            "cwd": spec.test.cwd,
            "env": dict(spec.test.env),
        }
    out: dict[str, Any] = {
        "title": spec.title,
        "goal": spec.goal,
        "success_criteria": list(spec.success_criteria),
        "workspace": spec.workspace,
        "roles": {
            name: {
                "adapter": role.adapter,
                "agents": list(role.agents),
                "command": list(role.command),
                "timeout_s": role.timeout_s,
                "script": dict(role.script),
            }
            for name, role in spec.roles.items()
        },
        "gates": gates,
        "budgets": {
            "max_rework": spec.budgets.max_rework,
            "max_parallel": spec.budgets.max_parallel,
            "max_duration_s": spec.budgets.max_duration_s,
        },
    }
    if spec.work_items is not None:
        out["work_items"] = [item_to_dict(i) for i in spec.work_items]
    if spec.memory is not None:
        m = spec.memory
        out["memory"] = {
            "partition": {"org": m.org, "workspace": m.workspace, "project": m.project},
            "search": m.search,
            "limit": m.limit,
            "offer_solutions": m.offer_solutions,
        }
    return out


def item_to_dict(item: ItemSpec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "role": item.role,
        "depends_on": list(item.depends_on),
    }
    if item.review is not None:
        out["review"] = item.review
    return out
