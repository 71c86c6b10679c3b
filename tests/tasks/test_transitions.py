"""Task statuses: every (from, to) pair, outcomes on completion, blockers that unblock
their dependents exactly once, and atomic batches that write all or nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from missiond.core.tasks import TRANSITIONS

from .board import Agent, Board, problem

STATUSES = ("open", "in_progress", "blocked", "completed", "cancelled")

# The documented moves (core/tasks.py docstring): claiming is open -> in_progress, a
# release or reclaim is in_progress -> open, reopening a finished task is -> open.
DOCUMENTED = {
    "open": {"in_progress", "blocked", "completed", "cancelled"},
    "in_progress": {"open", "blocked", "completed", "cancelled"},
    "blocked": {"open", "cancelled"},
    "completed": {"open"},
    "cancelled": {"open"},
}


@pytest.fixture(scope="module")
def holder(module_board: Board) -> Agent:
    return module_board.agent("holder")


def put_in(board: Board, agent: Agent, status: str) -> tuple[str, dict[str, str]]:
    """A fresh task in `status`, and the headers that may write to it."""
    task = board.task(f"from {status}", status="blocked" if status == "blocked" else "open")
    if status == "in_progress":
        board.claim(agent, task["id"])
        return task["id"], agent.fenced(1)
    if status == "completed":
        board.complete(task["id"])
    if status == "cancelled":
        moved = board.post(f"/v1/tasks/{task['id']}/transition", {"status": "cancelled"})
        assert moved.status_code == 200, moved.text
    return task["id"], {}


def move(board: Board, agent: Agent, task_id: str, target: str, headers: dict[str, str]) -> httpx.Response:
    """Starting work is a claim; every other move goes through /transition."""
    if target == "in_progress":
        return board.post(f"/v1/tasks/{task_id}/claim", headers=agent.auth)
    body = {"status": target, **({"outcome": "done"} if target == "completed" else {})}
    return board.post(f"/v1/tasks/{task_id}/transition", body, headers=headers)


PAIRS = [(a, b) for a in STATUSES for b in STATUSES]


def test_the_documented_table_is_the_one_the_core_enforces() -> None:
    assert {k.value: {s.value for s in v} for k, v in TRANSITIONS.items()} == DOCUMENTED


@pytest.mark.parametrize(
    ("source", "target"),
    [p for p in PAIRS if p[1] in DOCUMENTED[p[0]]],
    ids=[f"{a}-to-{b}" for a, b in PAIRS if b in DOCUMENTED[a]],
)
def test_an_allowed_transition_succeeds(module_board: Board, holder: Agent, source: str, target: str) -> None:
    board = module_board
    task_id, headers = put_in(board, holder, source)
    rev, head = board.show(task_id)["rev"], board.head()
    answer = move(board, holder, task_id, target, headers)
    assert answer.status_code == 200, answer.text
    shown = board.show(task_id)
    assert shown["status"] == target
    assert shown["rev"] == rev + 1
    assert (shown["lease"] is not None) == (target == "in_progress")
    [event] = board.events("task.status_changed", "task.claimed", after=head)
    if target == "in_progress":
        assert event.type == "task.claimed"
    else:
        assert (event.type, event.data["from"], event.data["to"]) == ("task.status_changed", source, target)


@pytest.mark.parametrize(
    ("source", "target"),
    [p for p in PAIRS if p[1] not in DOCUMENTED[p[0]]],
    ids=[f"{a}-to-{b}" for a, b in PAIRS if b not in DOCUMENTED[a]],
)
def test_an_illegal_transition_is_refused_with_the_allowed_moves_and_changes_nothing(
    module_board: Board, holder: Agent, source: str, target: str
) -> None:
    board = module_board
    task_id, headers = put_in(board, holder, source)
    before, head = board.show(task_id), board.head()
    answer = move(board, holder, task_id, target, headers)
    if source == target == "in_progress":
        # A task in progress has a live lease: claiming it again is refused as held.
        assert problem(answer, 409, "LEASE_HELD")["holder"] == holder.subject
    else:
        body = problem(answer, 409, "INVALID_TRANSITION")
        assert sorted(body["allowed"]) == sorted(DOCUMENTED[source])
        assert (body["current"], body["requested"]) == (source, target)
    assert board.show(task_id) == before
    assert board.head() == head


def test_the_transition_route_refuses_in_progress_and_points_at_claim(module_board: Board) -> None:
    board = module_board
    task = board.task("start me")
    head = board.head()
    answer = board.post(f"/v1/tasks/{task['id']}/transition", {"status": "in_progress"})
    body = problem(answer, 400, "VALIDATION_FAILED")
    assert body["errors"][0]["field"] == "body.status"
    assert "claim" in body["detail"]
    assert board.show(task["id"]) == task
    assert board.head() == head


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("transition", {"status": "completed"}),
        ("transition", {"status": "completed", "outcome": "   "}),
        ("complete", {}),
        ("complete", {"outcome": ""}),
    ],
    ids=[
        "transition-without-outcome",
        "transition-blank-outcome",
        "complete-without-outcome",
        "complete-empty",
    ],
)
def test_completing_requires_an_outcome(module_board: Board, route: str, body: dict[str, Any]) -> None:
    board = module_board
    task = board.task("finish me")
    head = board.head()
    answer = board.post(f"/v1/tasks/{task['id']}/{route}", body)
    assert problem(answer, 400, "VALIDATION_FAILED")["errors"][0]["field"] == "body.outcome"
    assert board.show(task["id"])["rev"] == task["rev"]
    assert board.head() == head


def ready_ids(board: Board) -> list[str]:
    return [t["id"] for t in board.get("/v1/tasks/ready", params={"limit": 500}).json()["items"]]


def test_completing_the_last_blocker_makes_the_dependent_ready_exactly_once(board: Board) -> None:
    first, second, dependent = board.task("first"), board.task("second"), board.task("dependent")
    for blocker in (first, second):
        assert board.link(blocker["id"], "blocks", dependent["id"]).status_code == 200
    assert board.show(dependent["id"])["open_blockers"] == 2
    assert dependent["id"] not in ready_ids(board)

    board.complete(first["id"])
    shown = board.show(dependent["id"])
    assert (shown["open_blockers"], shown["ready"]) == (1, False)
    assert board.events("task.unblocked") == []

    board.complete(second["id"])
    shown = board.show(dependent["id"])
    assert (shown["open_blockers"], shown["ready"]) == (0, True)
    assert dependent["id"] in ready_ids(board)
    [unblocked] = board.events("task.unblocked")
    assert unblocked.subject == f"task/{dependent['id']}"
    assert unblocked.data["last_blocker"] == second["id"]


def test_reopening_a_completed_blocker_blocks_the_dependent_again(board: Board) -> None:
    blocker, dependent = board.task("blocker"), board.task("dependent")
    board.link(blocker["id"], "blocks", dependent["id"])
    board.complete(blocker["id"])
    assert board.show(dependent["id"])["ready"] is True

    reopened = board.post(f"/v1/tasks/{blocker['id']}/transition", {"status": "open"})
    assert reopened.status_code == 200, reopened.text
    shown = board.show(dependent["id"])
    assert (shown["open_blockers"], shown["ready"]) == (1, False)
    assert dependent["id"] not in ready_ids(board)

    board.complete(blocker["id"], "done again")
    assert board.show(dependent["id"])["ready"] is True
    assert len(board.events("task.unblocked")) == 2, "one unblock per completion"


def test_removing_the_last_blocker_link_unblocks_the_dependent(board: Board) -> None:
    blocker, dependent = board.task("blocker"), board.task("dependent")
    board.link(blocker["id"], "blocks", dependent["id"])
    removed = board.client.delete(
        f"/v1/tasks/{dependent['id']}/links", params={"kind": "blocked_by", "other_id": blocker["id"]}
    )
    assert removed.status_code == 200, removed.text
    assert board.show(dependent["id"])["ready"] is True
    [unblocked] = board.events("task.unblocked")
    assert unblocked.data["reason"] == "unlinked"


def test_a_batch_creates_a_plan_with_refs_in_one_transaction(board: Board) -> None:
    ops = [
        {"op": "create_task", "ref": "epic", "task": {"title": "epic", "type": "epic"}},
        {"op": "create_task", "ref": "a", "task": {"title": "a", "parent_id": "$epic"}},
        {"op": "create_task", "ref": "b", "task": {"title": "b", "parent_id": "$epic"}},
        {"op": "link", "task": "$a", "kind": "blocks", "other": "$b"},
        {"op": "note", "task": "$a", "kind": "decision", "body": "a first"},
        {"op": "step", "task": "$b", "title": "after a"},
    ]
    answer = board.post("/v1/batch", {"ops": ops}, headers={"X-Correlation-ID": "plan-1"})
    assert answer.status_code == 200, answer.text
    refs = answer.json()["refs"]
    assert sorted(refs) == ["a", "b", "epic"]
    epic, a, b = (board.show(refs[r]) for r in ("epic", "a", "b"))
    assert sorted(epic["relationships"]["parent_of"]) == sorted([a["id"], b["id"]])
    assert b["relationships"]["blocked_by"] == [a["id"]]
    assert (b["open_blockers"], b["ready"], b["steps"]["total"]) == (1, False, 1)
    assert [n["body"] for n in a["notes"]] == ["a first"]
    assert sorted(ready_ids(board)) == sorted([epic["id"], a["id"]])
    assert {e.correlation_id for e in board.events("task.")} == {"plan-1"}


def chain(board: Board, depth: int) -> str:
    """A parent chain; returns the task at `depth` (the root is depth 0)."""
    task_id = board.task("root")["id"]
    for level in range(1, depth + 1):
        task_id = board.task(f"level {level}", parent_id=task_id)["id"]
    return task_id


def failing_third_ops(board: Board, case: str) -> list[dict[str, Any]]:
    first = {"op": "create_task", "ref": "one", "task": {"title": "one"}}
    if case == "unknown-ref":
        return [
            first,
            {"op": "create_task", "task": {"title": "two"}},
            {"op": "link", "task": "$one", "kind": "blocks", "other": "$nope"},
        ]
    if case == "unknown-task":
        return [
            first,
            {"op": "step", "task": "$one", "title": "s"},
            {"op": "note", "task": "tsk_nope", "kind": "note", "body": "x"},
        ]
    if case == "cycle":
        p, q = board.task("p")["id"], board.task("q")["id"]
        board.link(p, "blocks", q)
        return [
            first,
            {"op": "link", "task": q, "kind": "blocks", "other": "$one"},
            {"op": "link", "task": "$one", "kind": "blocks", "other": p},
        ]
    if case == "too-deep":
        deep = chain(board, 3)
        return [
            first,
            {"op": "create_task", "ref": "d4", "task": {"title": "d4", "parent_id": deep}},
            {"op": "create_task", "task": {"title": "d5", "parent_id": "$d4"}},
        ]
    assert case == "ref-twice"
    return [
        first,
        {"op": "create_task", "task": {"title": "two"}},
        {"op": "create_task", "ref": "one", "task": {"title": "three"}},
    ]


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unknown-ref", 400, "VALIDATION_FAILED"),
        ("unknown-task", 404, "TASK_NOT_FOUND"),
        ("cycle", 409, "CYCLE_DETECTED"),
        ("too-deep", 400, "VALIDATION_FAILED"),
        ("ref-twice", 400, "VALIDATION_FAILED"),
    ],
    ids=["unknown-ref", "unknown-task", "cycle", "too-deep", "ref-twice"],
)
def test_a_batch_whose_third_op_fails_writes_nothing_and_names_the_op(
    module_board: Board, case: str, status: int, code: str
) -> None:
    board = module_board
    ops = failing_third_ops(board, case)
    count = len(board.get("/v1/tasks", params={"limit": 1000}).json()["items"])
    head = board.head()
    answer = board.post("/v1/batch", {"ops": ops})
    assert problem(answer, status, code)["op_index"] == 2
    assert len(board.get("/v1/tasks", params={"limit": 1000}).json()["items"]) == count
    assert board.head() == head


def test_a_batch_op_of_the_wrong_shape_is_named_by_its_index(module_board: Board) -> None:
    board = module_board
    head = board.head()
    ops = [
        {"op": "create_task", "task": {"title": "one"}},
        {"op": "create_task", "task": {"title": "two"}},
        {"op": "note", "task": "$x", "kind": "gossip", "body": "x"},
    ]
    body = problem(board.post("/v1/batch", {"ops": ops}), 400, "VALIDATION_FAILED")
    assert all(e["field"].startswith("body.ops.2.") for e in body["errors"]), body
    assert board.head() == head
