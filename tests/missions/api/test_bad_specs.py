"""Refused mission specs: 400 INVALID_MISSION_SPEC naming the field, and nothing stored
(the mission list and the spine head are unchanged)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .mission_world import World, fields, problem, spec

DROP = object()
WS = "<workspace>"


def changed(*changes: tuple[str, Any]) -> list[tuple[str, Any]]:
    return list(changes)


def build(world: World, changes: list[tuple[str, Any]]) -> dict[str, Any]:
    """A valid spec on a real workspace, with changes at dotted paths; DROP removes a key."""
    body = copy.deepcopy(spec(world.workspace("bad-specs"), ("a", "b:a")))
    for path, value in changes:
        *parents, leaf = path.split(".")
        node: Any = body
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        if value is DROP:
            node.pop(leaf, None)
        elif isinstance(node, list):
            node[int(leaf)] = value
        else:
            node[leaf] = value
    return body


ROWS = [
    ("title-missing", changed(("title", DROP)), "body.title"),
    ("title-blank", changed(("title", "   ")), "body.title"),
    ("title-too-long", changed(("title", "x" * 301)), "body.title"),
    ("goal-missing", changed(("goal", DROP)), "body.goal"),
    ("goal-not-a-string", changed(("goal", 42)), "body.goal"),
    ("workspace-missing", changed(("workspace", DROP)), "body.workspace"),
    ("workspace-relative", changed(("workspace", "repo/checkout")), "body.workspace"),
    ("workspace-does-not-exist", changed(("workspace", "/nonexistent/missiond/ws")), "body.workspace"),
    ("workspace-is-a-file", changed(("workspace", "/etc/hostname")), "body.workspace"),
    ("unknown-top-level-field", changed(("deadline", "tomorrow")), "body.deadline"),
    ("roles-not-an-object", changed(("roles", ["executor"])), "body.roles"),
    ("executor-missing", changed(("roles.executor", DROP)), "body.roles.executor"),
    ("unknown-role", changed(("roles.manager", {"adapter": "pull"})), "body.roles.manager"),
    ("unknown-adapter", changed(("roles.executor.adapter", "carrier-pigeon")), "body.roles.executor.adapter"),
    ("exec-without-command", changed(("roles.executor.adapter", "exec")), "body.roles.executor.command"),
    ("command-not-a-list", changed(("roles.executor.command", "make")), "body.roles.executor.command"),
    ("role-timeout-zero", changed(("roles.executor.timeout_s", 0)), "body.roles.executor.timeout_s"),
    ("unknown-role-field", changed(("roles.executor.model", "big")), "body.roles.executor.model"),
    ("unknown-script-option", changed(("roles.executor.script", {"explode": 1})),
     "body.roles.executor.script.explode"),
    ("review-by-robot", changed(("gates.review.by", "robot")), "body.gates.review.by"),
    ("review-required-not-bool", changed(("gates.review.required", "yes")), "body.gates.review.required"),
    ("agent-review-without-reviewer", changed(("roles.reviewer", DROP)), "body.roles.reviewer"),
    ("unknown-gate", changed(("gates.lint", {"command": "ruff"})), "body.gates.lint"),
    ("test-gate-without-command", changed(("gates.test.command", DROP)), "body.gates.test.command"),
    ("test-gate-timeout-zero", changed(("gates.test.timeout_s", 0)), "body.gates.test.timeout_s"),
    ("test-gate-cwd-absolute", changed(("gates.test.cwd", "/etc")), "body.gates.test.cwd"),
    ("test-gate-cwd-escapes", changed(("gates.test.cwd", "sub/../../up")), "body.gates.test.cwd"),
    ("test-gate-env-not-strings", changed(("gates.test.env", {"N": 1})), "body.gates.test.env"),
    ("max-rework-negative", changed(("budgets.max_rework", -1)), "body.budgets.max_rework"),
    ("max-rework-a-bool", changed(("budgets.max_rework", True)), "body.budgets.max_rework"),
    ("max-rework-fractional", changed(("budgets.max_rework", 1.5)), "body.budgets.max_rework"),
    ("max-parallel-zero", changed(("budgets.max_parallel", 0)), "body.budgets.max_parallel"),
    ("max-duration-zero", changed(("budgets.max_duration_s", 0)), "body.budgets.max_duration_s"),
    ("unknown-budget", changed(("budgets.max_cost", 10)), "body.budgets.max_cost"),
    ("no-items-and-no-planner", changed(("work_items", DROP)), "body.work_items"),
    ("items-empty", changed(("work_items", [])), "body.work_items"),
    ("item-id-with-space", changed(("work_items.0.id", "a b")), "body.work_items.0.id"),
    ("item-id-duplicate", changed(("work_items.1.id", "a"), ("work_items.1.depends_on", [])),
     "body.work_items.1.id"),
    ("item-title-missing", changed(("work_items.0.title", DROP)), "body.work_items.0.title"),
    ("item-unknown-field", changed(("work_items.0.owner", "me")), "body.work_items.0.owner"),
    ("item-role-reviewer", changed(("work_items.0.role", "reviewer")), "body.work_items.0.role"),
    ("item-unknown-dependency", changed(("work_items.1.depends_on", ["z"])), "body.work_items.1.depends_on"),
    ("item-depends-on-itself", changed(("work_items.0.depends_on", ["a"])), "body.work_items.0.depends_on"),
    ("items-in-a-cycle", changed(("work_items.0.depends_on", ["b"])), "body.work_items"),
]  # fmt: skip


def snapshot(world: World) -> tuple[int, list[dict[str, Any]]]:
    return world.head(), world.ok("GET", "/v1/missions", params={"limit": 1000})["items"]


@pytest.mark.parametrize(("changes", "field"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_a_bad_spec_is_refused_with_the_field_named_and_nothing_stored(
    world: World, changes: list[tuple[str, Any]], field: str
) -> None:
    before = snapshot(world)
    answer = world.client.post("/v1/missions", json=build(world, changes), params={"start": "true"})
    body = problem(answer, 400, "INVALID_MISSION_SPEC")
    assert field in fields(body), body
    assert field in body["detail"] or len(body["errors"]) > 1
    assert snapshot(world) == before


def test_every_problem_of_a_spec_is_named_at_once(world: World) -> None:
    before = snapshot(world)
    changes = changed(("title", DROP), ("roles.executor.adapter", "fax"), ("budgets.max_rework", -3))
    body = problem(world.client.post("/v1/missions", json=build(world, changes)), 400, "INVALID_MISSION_SPEC")
    assert {"body.title", "body.roles.executor.adapter", "body.budgets.max_rework"} <= set(fields(body))
    assert snapshot(world) == before


@pytest.mark.parametrize(
    ("payload", "code"),
    [([1, 2], "VALIDATION_FAILED"), ("a mission", "VALIDATION_FAILED")],
    ids=["a-list", "a-string"],
)
def test_a_body_that_is_no_object_is_refused(world: World, payload: Any, code: str) -> None:
    before = snapshot(world)
    problem(world.client.post("/v1/missions", json=payload), 400, code)
    assert snapshot(world) == before


def test_a_good_spec_is_stored_as_a_draft_and_listed(world: World) -> None:
    head, listed = snapshot(world)
    created = world.create(build(world, []))
    assert created["status"] == "draft"
    assert [i["status"] for i in created["items"]] == ["todo", "todo"]
    _, after = snapshot(world)
    assert [m["id"] for m in after] == [created["id"], *(m["id"] for m in listed)]
    assert world.types(created["id"]) == ["mission.created"]
    assert world.head() > head
