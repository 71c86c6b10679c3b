"""The mission spec: bad specs are refused with every field named, good specs parse, and the
normalized wire form parses back to the same spec."""

from __future__ import annotations

import copy
import graphlib
import json
import math
from itertools import pairwise
from operator import attrgetter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from missiond.core.missions.spec import (
    ITEM_ID,
    ItemSpec,
    MissionSpec,
    SpecInvalid,
    find_cycle,
    parse_spec,
    spec_to_dict,
)

from .mission_harness import item_dict, spec_dict

DROP = object()


def body(*changes: tuple[str, Any], items: tuple[str, ...] = ("a", "b:a")) -> dict[str, Any]:
    """A valid spec body with changes at dotted paths (`roles.executor.adapter`); DROP removes a key."""
    out = spec_dict(items)
    for path, value in changes:
        *parents, leaf = path.split(".")
        node: Any = out
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        if value is DROP:
            del node[leaf]
        elif isinstance(node, list):
            node[int(leaf)] = copy.deepcopy(value)
        else:
            node[leaf] = copy.deepcopy(value)
    return out


def problem_fields(data: Any) -> list[str]:
    with pytest.raises(SpecInvalid) as caught:
        parse_spec(data)
    assert str(caught.value), "the error message lists the problems"
    return sorted(field for field, _ in caught.value.problems)


INDEPENDENT = ("a", "b")
ITEM_ROLES = ["body.work_items.0.role", "body.work_items.1.role"]  # no executor: no item has its role

# -- bad specs ------------------------------------------------------------------------------
BAD_SPECS = [
    pytest.param([], ["body"], id="not-an-object"),
    pytest.param(body(("title", DROP)), ["body.title"], id="missing-title"),
    pytest.param(body(("title", "   ")), ["body.title"], id="blank-title"),
    pytest.param(body(("title", "x" * 301)), ["body.title"], id="title-over-300-characters"),
    pytest.param(body(("goal", 5)), ["body.goal"], id="goal-not-a-string"),
    pytest.param(body(("workspace", DROP)), ["body.workspace"], id="missing-workspace"),
    pytest.param(body(("owner", "me")), ["body.owner"], id="unknown-top-level-field"),
    pytest.param(
        body(("roles", [])),
        ["body.roles", "body.roles.executor", "body.roles.reviewer", *ITEM_ROLES],
        id="roles-not-an-object",
    ),
    pytest.param(body(("roles.executor", DROP)), ["body.roles.executor", *ITEM_ROLES], id="no-executor-role"),
    pytest.param(body(("roles.designer", {})), ["body.roles.designer"], id="unknown-role"),
    pytest.param(body(("roles.executor", "pull")), ["body.roles.executor"], id="role-not-an-object"),
    pytest.param(
        body(("roles.executor.model", "big")), ["body.roles.executor.model"], id="unknown-role-field"
    ),
    pytest.param(
        body(("roles.executor.adapter", "ssh")), ["body.roles.executor.adapter"], id="unknown-adapter"
    ),
    pytest.param(
        body(("roles.executor.adapter", "exec")),
        ["body.roles.executor.command"],
        id="exec-adapter-no-command",
    ),
    pytest.param(
        body(("roles.executor.adapter", "exec"), ("roles.executor.command", [])),
        ["body.roles.executor.command"],
        id="exec-adapter-empty-command",
    ),
    pytest.param(
        body(("roles.executor.command", "run.sh")),
        ["body.roles.executor.command"],
        id="command-not-a-list",
    ),
    pytest.param(
        body(("roles.executor.agents", [1])), ["body.roles.executor.agents"], id="agents-not-strings"
    ),
    pytest.param(
        body(("roles.executor.timeout_s", 0)), ["body.roles.executor.timeout_s"], id="role-timeout-zero"
    ),
    pytest.param(
        body(("roles.executor.timeout_s", True)), ["body.roles.executor.timeout_s"], id="role-timeout-bool"
    ),
    pytest.param(
        body(("roles.executor.script", {"explode": True})),
        ["body.roles.executor.script.explode"],
        id="unknown-script-option",
    ),
    pytest.param(body(("roles.reviewer", DROP)), ["body.roles.reviewer"], id="agent-review-gate-no-reviewer"),
    pytest.param(body(("gates", "strict")), ["body.gates"], id="gates-not-an-object"),
    pytest.param(body(("gates.lint", {})), ["body.gates.lint"], id="unknown-gate"),
    pytest.param(body(("gates.review.by", "robot")), ["body.gates.review.by"], id="review-by-robot"),
    pytest.param(
        body(("gates.review.required", "yes")), ["body.gates.review.required"], id="review-required-yes"
    ),
    pytest.param(body(("gates.review.quorum", 2)), ["body.gates.review.quorum"], id="unknown-review-field"),
    pytest.param(body(("gates.test.command", DROP)), ["body.gates.test.command"], id="test-gate-no-command"),
    pytest.param(body(("gates.test.command", "")), ["body.gates.test.command"], id="test-gate-blank-command"),
    pytest.param(body(("gates.test.cwd", "/etc")), ["body.gates.test.cwd"], id="test-cwd-absolute"),
    pytest.param(
        body(("gates.test.cwd", "../other")), ["body.gates.test.cwd"], id="test-cwd-leaves-workspace"
    ),
    pytest.param(
        body(("gates.test.cwd", "src/../../x")), ["body.gates.test.cwd"], id="test-cwd-leaves-in-the-middle"
    ),
    pytest.param(
        body(("gates.test.cwd", "..\\x")), ["body.gates.test.cwd"], id="test-cwd-leaves-by-backslash"
    ),
    pytest.param(body(("gates.test.env", {"N": 1})), ["body.gates.test.env"], id="test-env-value-not-string"),
    pytest.param(body(("gates.test.env", ["N=1"])), ["body.gates.test.env"], id="test-env-not-an-object"),
    pytest.param(
        body(("gates.test.timeout_s", -1)), ["body.gates.test.timeout_s"], id="test-timeout-negative"
    ),
    pytest.param(body(("gates.test.shell", "zsh")), ["body.gates.test.shell"], id="unknown-test-gate-field"),
    pytest.param(body(("budgets.max_rework", True)), ["body.budgets.max_rework"], id="max-rework-bool"),
    pytest.param(
        body(("budgets.max_parallel", False)), ["body.budgets.max_parallel"], id="max-parallel-bool"
    ),
    pytest.param(body(("budgets.max_rework", -1)), ["body.budgets.max_rework"], id="max-rework-negative"),
    pytest.param(body(("budgets.max_rework", 1.5)), ["body.budgets.max_rework"], id="max-rework-fraction"),
    pytest.param(body(("budgets.max_parallel", 0)), ["body.budgets.max_parallel"], id="max-parallel-zero"),
    pytest.param(
        body(("budgets.max_duration_s", True)), ["body.budgets.max_duration_s"], id="max-duration-bool"
    ),
    pytest.param(
        body(("budgets.max_duration_s", 0.5)), ["body.budgets.max_duration_s"], id="max-duration-under-1s"
    ),
    pytest.param(
        body(("budgets.max_duration_s", "1h")), ["body.budgets.max_duration_s"], id="max-duration-text"
    ),
    pytest.param(body(("budgets.max_cost", 3)), ["body.budgets.max_cost"], id="unknown-budget"),
    pytest.param(body(("work_items", DROP)), ["body.work_items"], id="no-work-items-and-no-planner"),
    pytest.param(body(("work_items", [])), ["body.work_items"], id="empty-work-items"),
    pytest.param(body(("work_items", {})), ["body.work_items"], id="work-items-not-a-list"),
    pytest.param(
        body(("work_items", [item_dict(f"i{n}") for n in range(201)])),
        ["body.work_items"],
        id="more-than-200-work-items",
    ),
    pytest.param(
        body(("work_items.0", "a"), items=INDEPENDENT), ["body.work_items.0"], id="work-item-not-an-object"
    ),
    pytest.param(
        body(("work_items.0.id", "has space"), items=INDEPENDENT),
        ["body.work_items.0.id"],
        id="item-id-with-space",
    ),
    pytest.param(
        body(("work_items.0.id", ".a"), items=INDEPENDENT), ["body.work_items.0.id"], id="item-id-leading-dot"
    ),
    pytest.param(
        body(("work_items.0.id", "a" * 65), items=INDEPENDENT), ["body.work_items.0.id"], id="item-id-over-64"
    ),
    pytest.param(
        body(("work_items.0.id", 7), items=INDEPENDENT), ["body.work_items.0.id"], id="item-id-a-number"
    ),
    pytest.param(body(("work_items.0.title", DROP)), ["body.work_items.0.title"], id="item-without-title"),
    pytest.param(body(("work_items.1.id", "a")), ["body.work_items.1.id"], id="duplicate-item-id"),
    pytest.param(body(("work_items.0.priority", 1)), ["body.work_items.0.priority"], id="unknown-item-field"),
    pytest.param(body(("work_items.0.role", "reviewer")), ["body.work_items.0.role"], id="item-for-reviewer"),
    pytest.param(
        body(("work_items.0.role", "tester")), ["body.work_items.0.role"], id="item-for-undefined-tester"
    ),
    pytest.param(
        body(("work_items.1.depends_on", ["zz"])), ["body.work_items.1.depends_on"], id="unknown-dependency"
    ),
    pytest.param(
        body(("work_items.0.depends_on", ["a"])), ["body.work_items.0.depends_on"], id="self-dependency"
    ),
    pytest.param(
        body(("work_items.1.depends_on", "a")), ["body.work_items.1.depends_on"], id="depends-on-not-a-list"
    ),
    pytest.param(body(items=("a:b", "b:a")), ["body.work_items"], id="two-item-cycle"),
    pytest.param(body(items=("a:c", "b:a", "c:b", "d")), ["body.work_items"], id="three-item-cycle"),
    pytest.param(
        body(("title", DROP), ("budgets.max_parallel", 0), ("roles.executor.adapter", "exec")),
        ["body.budgets.max_parallel", "body.roles.executor.command", "body.title"],
        id="every-problem-at-once",
    ),
    # Rows that once showed bugs (kept as regressions).
    pytest.param(
        body(
            ("work_items", [{"id": "bad id", "title": "X"}, {"id": "b", "title": "B", "depends_on": ["zz"]}])
        ),
        ["body.work_items.0.id", "body.work_items.1.depends_on"],
        id="dependency-problem-after-a-skipped-item",
    ),
    pytest.param(
        body(("success_criteria", ["ok", 1])),
        ["body.success_criteria"],
        id="success-criteria-not-strings",
    ),
    pytest.param(
        body(("gates.test", {})),
        ["body.gates.test.command"],
        id="empty-test-gate",
    ),
    pytest.param(
        body(("budgets.max_duration_s", math.nan)),
        ["body.budgets.max_duration_s"],
        id="max-duration-nan",
    ),
    pytest.param(
        body(("gates.test.timeout_s", math.inf)),
        ["body.gates.test.timeout_s"],
        id="test-timeout-infinite",
    ),
    pytest.param(
        body(("roles.executor.timeout_s", 10**400)),
        ["body.roles.executor.timeout_s"],
        id="role-timeout-huge-integer",
    ),
]


@pytest.mark.parametrize(("data", "fields"), BAD_SPECS)
def test_bad_spec_is_refused_naming_the_field(data: Any, fields: list[str]) -> None:
    assert problem_fields(data) == fields


def test_a_cycle_is_named_item_by_item() -> None:
    with pytest.raises(SpecInvalid) as caught:
        parse_spec(body(items=("a", "b:a,c", "c:b")))
    [(field, message)] = caught.value.problems
    assert field == "body.work_items"
    assert "b -> c -> b" in message


def test_every_problem_carries_a_message() -> None:
    with pytest.raises(SpecInvalid) as caught:
        parse_spec(body(("roles.executor.adapter", "exec"), ("budgets.max_rework", "two")))
    assert all(message for _, message in caught.value.problems)
    assert "body.roles.executor.command" in str(caught.value)


# -- good specs -----------------------------------------------------------------------------
GOOD_SPECS = [
    pytest.param(body(), "budgets.max_rework", 2, id="max-rework-defaults-to-2"),
    pytest.param(body(("budgets", DROP)), "budgets.max_parallel", 4, id="max-parallel-defaults-to-4"),
    pytest.param(body(("gates", DROP)), "review.required", True, id="review-required-by-default"),
    pytest.param(body(("gates", DROP)), "test", None, id="no-test-gate-unless-given"),
    pytest.param(body(), "test.cwd", ".", id="test-cwd-defaults-to-workspace"),
    pytest.param(body(("gates.test.cwd", "")), "test.cwd", ".", id="blank-test-cwd-is-workspace"),
    pytest.param(body(), "roles.executor.adapter", "pull", id="pull-adapter-by-default"),
    pytest.param(
        body(("work_items", DROP), ("roles.planner", {})), "work_items", None, id="planner-and-no-work-items"
    ),
    pytest.param(
        body(("roles.reviewer", DROP), ("gates.review.by", "human")),
        "review.by",
        "human",
        id="human-review-needs-no-reviewer-role",
    ),
    pytest.param(
        body(("roles.reviewer", DROP), ("gates.review.required", False)),
        "review.required",
        False,
        id="no-review-needs-no-reviewer-role",
    ),
    pytest.param(
        body(("roles.executor", {"adapter": "exec", "command": ["claude", "-p"]})),
        "roles.executor.command",
        ("claude", "-p"),
        id="exec-adapter-with-command",
    ),
    pytest.param(
        body(("roles.executor", {"adapter": "scripted", "script": {"fail_test": 1}})),
        "roles.executor.script",
        {"fail_test": 1},
        id="scripted-adapter-with-options",
    ),
    pytest.param(
        body(("roles.tester", {}), ("work_items.1.role", "tester")),
        "work_items",
        (ItemSpec("a", "Item a"), ItemSpec("b", "Item b", role="tester", depends_on=("a",))),
        id="tester-items-when-tester-role-defined",
    ),
    pytest.param(
        body(("gates.test.env", {"CI": "1"}), ("gates.test.cwd", "pkg/core")),
        "test.env",
        {"CI": "1"},
        id="test-gate-with-env-and-cwd",
    ),
    pytest.param(
        body(items=("a", "b:a", "c:a", "d:b,c")), "work_items.3.depends_on", ("b", "c"), id="diamond"
    ),
    pytest.param(body(("budgets.max_rework", 0)), "budgets.max_rework", 0, id="no-rework-allowed"),
    pytest.param(body(("budgets.max_duration_s", 1)), "budgets.max_duration_s", 1, id="one-second-deadline"),
    pytest.param(
        body(("work_items", [item_dict(f"i{n}") for n in range(200)])),
        "work_items.199.id",
        "i199",
        id="exactly-200-work-items",
    ),
]


def lookup(spec: MissionSpec, path: str) -> Any:
    value: Any = spec
    for part in path.split("."):
        if isinstance(value, tuple):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value[part]
        else:
            value = attrgetter(part)(value)
    return value


@pytest.mark.parametrize(("data", "path", "expected"), GOOD_SPECS)
def test_good_spec_parses(data: dict[str, Any], path: str, expected: Any) -> None:
    assert lookup(parse_spec(data), path) == expected


# -- round trip -----------------------------------------------------------------------------
texts = st.text(min_size=1, max_size=20).filter(lambda s: s.strip() != "")
words = st.text(alphabet="abcdefghij-_./", min_size=1, max_size=8)
timeouts = st.one_of(st.integers(1, 10**6), st.floats(1, 1e6))
role_bodies = st.one_of(
    st.fixed_dictionaries(
        {"adapter": st.just("exec"), "command": st.lists(words, min_size=1, max_size=3)},
        optional={"agents": st.lists(words, max_size=2), "timeout_s": timeouts},
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "adapter": st.sampled_from(["pull", "scripted"]),
            "agents": st.lists(words, max_size=2),
            "timeout_s": timeouts,
            "script": st.dictionaries(
                st.sampled_from(["fail_run", "fail_review", "fail_test"]), st.integers(0, 3), max_size=2
            ),
        },
    ),
)
test_gates = st.fixed_dictionaries(
    {"command": texts},
    optional={
        "timeout_s": timeouts,
        "cwd": st.sampled_from([".", "src", "pkg/tests", "./a", "a.b/c"]),
        "env": st.dictionaries(words, st.text(max_size=10), max_size=3),
    },
)
budgets = st.fixed_dictionaries(
    {},
    optional={
        "max_rework": st.integers(0, 5),
        "max_parallel": st.integers(1, 8),
        "max_duration_s": st.none() | timeouts,
    },
)


@st.composite
def work_item_lists(draw: st.DrawFn, roles: dict[str, Any]) -> list[dict[str, Any]]:
    """Acyclic by construction (each item depends only on items drawn before it), then shuffled."""
    ids = draw(st.lists(st.from_regex(ITEM_ID, fullmatch=True), min_size=1, max_size=6, unique=True))
    items = []
    for n, item_id in enumerate(ids):
        item: dict[str, Any] = {"id": item_id, "title": draw(texts)}
        if n and draw(st.booleans()):
            item["depends_on"] = draw(st.lists(st.sampled_from(ids[:n]), max_size=3))
        if "tester" in roles and draw(st.booleans()):
            item["role"] = "tester"
        if draw(st.booleans()):
            item["description"] = draw(st.text(max_size=30))
        items.append(item)
    return draw(st.permutations(items))


@st.composite
def valid_spec_bodies(draw: st.DrawFn) -> dict[str, Any]:
    roles = {"executor": draw(role_bodies)}
    for name in ("reviewer", "planner", "tester"):
        if draw(st.booleans()):
            roles[name] = draw(role_bodies)
    required, by = draw(st.booleans()), draw(st.sampled_from(["agent", "human"]))
    if required and by == "agent":
        roles.setdefault("reviewer", draw(role_bodies))
    gates: dict[str, Any] = {"review": {"required": required, "by": by}}
    if draw(st.booleans()):
        gates["test"] = draw(test_gates)
    data: dict[str, Any] = {
        "title": draw(texts),
        "goal": draw(texts),
        "workspace": draw(texts),
        "success_criteria": draw(st.lists(texts, max_size=3)),
        "gates": gates,
        "budgets": draw(budgets),
    }
    if draw(st.booleans()):
        data["work_items"] = draw(work_item_lists(roles))
    else:
        roles.setdefault("planner", draw(role_bodies))
    data["roles"] = roles
    return data


@settings(max_examples=150, deadline=None)
@given(valid_spec_bodies())
def test_a_valid_spec_parses_back_from_its_wire_form(data: dict[str, Any]) -> None:
    spec = parse_spec(data)
    assert parse_spec(spec_to_dict(spec)) == spec
    assert parse_spec(json.loads(json.dumps(spec_to_dict(spec)))) == spec


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(valid_spec_bodies(), st.data())
def test_any_one_broken_field_is_refused_as_spec_invalid_never_a_crash(
    data: dict[str, Any], draw: Any
) -> None:
    node: Any = data
    while isinstance(node, dict | list) and node and draw.draw(st.booleans()):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = draw.draw(st.sampled_from(keys))
        if not isinstance(node[key], dict | list) or not node[key]:
            node[key] = draw.draw(json_values)
            break
        node = node[key]
    try:
        parse_spec(data)
    except SpecInvalid as invalid:
        assert invalid.problems


# -- cycles ---------------------------------------------------------------------------------
def items_from(edges: dict[str, list[str]]) -> list[ItemSpec]:
    return [ItemSpec(id=node, title=node, depends_on=tuple(deps)) for node, deps in edges.items()]


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from("abcdef"), st.lists(st.sampled_from("abcdefg"), max_size=3), min_size=1, max_size=6
    )
)
def test_find_cycle_agrees_with_a_topological_sort(edges: dict[str, list[str]]) -> None:
    graph = {node: {d for d in deps if d != node and d in edges} for node, deps in edges.items()}
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
        acyclic = True
    except graphlib.CycleError:
        acyclic = False
    cycle = find_cycle(items_from(edges))
    assert (cycle is None) == acyclic
    if cycle is not None:
        assert cycle[0] == cycle[-1]
        assert all(after in graph[before] for before, after in pairwise(cycle))


def test_a_self_dependency_is_not_called_a_cycle() -> None:
    assert find_cycle(items_from({"a": ["a"]})) is None
