"""The dependency graph: core/graph.py checked against brute force on random graphs, and
the board's rules over HTTP: no `blocks` cycles, a parent chain at most four deep, no
parent cycles, and every relationship shown from both sides."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from missiond.core.graph import cycle_if_added, find_path
from missiond.core.tasks import MAX_PARENT_DEPTH

from .board import Board, problem

Edges = set[tuple[str, str]]
NODES = [f"t{i}" for i in range(8)]


def successors_of(edges: Edges) -> Callable[[str], Iterable[str]]:
    return lambda node: sorted(dst for src, dst in edges if src == node)


def distances(nodes: list[str], edges: Edges) -> dict[tuple[str, str], int]:
    """Floyd-Warshall: the length of the shortest walk between every reachable pair
    (a node reaches itself in 0 steps)."""
    far = len(nodes) + 1
    dist = {(a, b): 0 if a == b else (1 if (a, b) in edges else far) for a in nodes for b in nodes}
    for k, a, b in itertools.product(nodes, nodes, nodes):
        dist[a, b] = min(dist[a, b], dist[a, k] + dist[k, b])
    return {pair: d for pair, d in dist.items() if d < far}


def acyclic(nodes: list[str], edges: Edges) -> bool:
    dist = distances(nodes, edges)
    return not any((b, a) in dist for a, b in edges)


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[str], Edges]:
    """A random DAG: edges only go forward in a random order of the nodes."""
    nodes = NODES[: draw(st.integers(min_value=1, max_value=len(NODES)))]
    order = draw(st.permutations(nodes))
    forward = [(a, b) for i, a in enumerate(order) for b in order[i + 1 :]]
    return list(nodes), set(draw(st.lists(st.sampled_from(forward), max_size=20))) if forward else set()


def check_reported_cycle(path: list[str], src: str, dst: str, edges: Edges, shortest: int) -> None:
    assert path[0] == path[-1] == src
    assert path[1] == dst, "the new edge closes the loop"
    assert all((a, b) in edges for a, b in itertools.pairwise(path[1:])), "the rest are existing edges"
    assert len(set(path[:-1])) == len(path) - 1, "a simple cycle"
    assert len(path) - 1 == 1 + shortest, "the shortest loop"


@settings(max_examples=300, deadline=None)
@given(graph=dags(), src=st.sampled_from(NODES), dst=st.sampled_from(NODES))
def test_adding_an_edge_to_a_dag_is_refused_iff_it_closes_a_cycle(
    graph: tuple[list[str], Edges], src: str, dst: str
) -> None:
    nodes, edges = graph
    nodes = sorted({*nodes, src, dst})
    dist = distances(nodes, edges)
    path = cycle_if_added(src, dst, successors_of(edges))
    assert (path is not None) == ((dst, src) in dist)
    if path is not None:
        check_reported_cycle(path, src, dst, edges, dist[dst, src])
    else:
        assert acyclic(nodes, edges | {(src, dst)})


@settings(max_examples=200, deadline=None)
@given(attempts=st.lists(st.tuples(st.sampled_from(NODES[:6]), st.sampled_from(NODES[:6])), max_size=40))
def test_a_graph_grown_by_accepted_edges_stays_acyclic(attempts: list[tuple[str, str]]) -> None:
    nodes, edges = NODES[:6], set()
    for src, dst in attempts:
        dist = distances(nodes, edges)
        path = cycle_if_added(src, dst, successors_of(edges))
        assert (path is not None) == ((dst, src) in dist)
        if path is None:
            edges.add((src, dst))
        else:
            check_reported_cycle(path, src, dst, edges, dist[dst, src])
    assert acyclic(nodes, edges)


@settings(max_examples=200, deadline=None)
@given(graph=dags(), start=st.sampled_from(NODES), goal=st.sampled_from(NODES))
def test_find_path_returns_a_shortest_path_of_real_edges_or_none(
    graph: tuple[list[str], Edges], start: str, goal: str
) -> None:
    nodes, edges = graph
    dist = distances(sorted({*nodes, start, goal}), edges)
    path = find_path(start, goal, successors_of(edges))
    if (start, goal) not in dist:
        assert path is None
        return
    assert path is not None
    assert (path[0], path[-1]) == (start, goal)
    assert all(pair in edges for pair in itertools.pairwise(path))
    assert len(path) - 1 == dist[start, goal]


# -- over HTTP ------------------------------------------------------------------------


def everything(board: Board, ids: list[str]) -> tuple[int, list[dict[str, Any]]]:
    return board.head(), [board.show(i) for i in ids]


@pytest.mark.parametrize(
    ("existing", "closing", "expected_path"),
    [
        ([("a", "blocks", "b")], ("b", "blocks", "a"), ["b", "a", "b"]),
        ([("a", "blocks", "b")], ("a", "blocked_by", "b"), ["b", "a", "b"]),
        ([("a", "blocks", "b"), ("b", "blocks", "c")], ("c", "blocks", "a"), ["c", "a", "b", "c"]),
        ([("a", "blocks", "b"), ("c", "blocked_by", "b")], ("a", "blocked_by", "c"), ["c", "a", "b", "c"]),
        ([], ("a", "blocks", "a"), ["a", "a"]),
        ([], ("a", "blocked_by", "a"), ["a", "a"]),
    ],
    ids=[
        "two-cycle",
        "two-cycle-named-from-the-blocked-side",
        "three-cycle",
        "three-cycle-mixed-names",
        "self-link",
        "self-link-named-blocked-by",
    ],
)
def test_a_blocks_link_that_closes_a_cycle_is_refused_with_the_path(
    module_board: Board,
    existing: list[tuple[str, str, str]],
    closing: tuple[str, str, str],
    expected_path: list[str],
) -> None:
    board = module_board
    ids = {name: board.task(name)["id"] for name in "abc"}
    for src, kind, dst in existing:
        assert board.link(ids[src], kind, ids[dst]).status_code == 200
    before = everything(board, list(ids.values()))
    src, kind, dst = closing
    body = problem(board.link(ids[src], kind, ids[dst]), 409, "CYCLE_DETECTED")
    assert body["path"] == [ids[name] for name in expected_path]
    assert everything(board, list(ids.values())) == before


@pytest.mark.parametrize("kind", ["relates_to", "duplicates"])
def test_a_task_cannot_relate_to_itself(module_board: Board, kind: str) -> None:
    board = module_board
    task = board.task("alone")
    head = board.head()
    body = problem(board.link(task["id"], kind, task["id"]), 400, "VALIDATION_FAILED")
    assert body["errors"][0]["field"] == "body.other_id"
    assert board.head() == head
    assert board.show(task["id"]) == task


def chain(board: Board, depth: int) -> list[str]:
    """Ids of a parent chain from the root (depth 0) down to `depth`."""
    ids = [board.task("root")["id"]]
    for level in range(1, depth + 1):
        ids.append(board.task(f"level {level}", parent_id=ids[-1])["id"])
    return ids


def test_a_parent_chain_may_be_four_deep_but_not_five(module_board: Board) -> None:
    board = module_board
    ids = chain(board, MAX_PARENT_DEPTH)
    assert [t["id"] for t in board.get(f"/v1/tasks/{ids[-1]}/ancestors").json()["items"]] == ids[-2::-1]
    descendants = board.get(f"/v1/tasks/{ids[0]}/descendants").json()["items"]
    assert [(t["id"], t["depth"]) for t in descendants] == [(i, d) for d, i in enumerate(ids) if d > 0]
    head = board.head()
    body = problem(
        board.post("/v1/tasks", {"title": "too deep", "parent_id": ids[-1]}), 400, "VALIDATION_FAILED"
    )
    assert body["errors"][0]["field"] == "body.parent_id"
    assert body["max_depth"] == MAX_PARENT_DEPTH
    assert board.head() == head
    assert board.get(f"/v1/tasks/{ids[-1]}/children").json()["items"] == []


def reparent(board: Board, how: str, child: str, parent: str) -> Any:
    if how == "edit":
        return board.client.patch(f"/v1/tasks/{child}", json={"parent_id": parent})
    if how == "child_of":
        return board.link(child, "child_of", parent)
    return board.link(parent, "parent_of", child)


REPARENTING = ["edit", "child_of", "parent_of"]


@pytest.mark.parametrize("how", REPARENTING)
def test_moving_a_subtree_is_refused_when_its_deepest_task_would_be_too_deep(
    module_board: Board, how: str
) -> None:
    board = module_board
    trunk = chain(board, 2)
    subtree = chain(board, 2)  # height 2: under depth 2 its leaf would be at depth 5
    before = everything(board, trunk + subtree)
    body = problem(reparent(board, how, subtree[0], trunk[2]), 400, "VALIDATION_FAILED")
    assert body["errors"][0]["field"] == "body.parent_id"
    assert everything(board, trunk + subtree) == before
    moved = reparent(board, how, subtree[0], trunk[1])  # the leaf lands at depth 4
    assert moved.status_code == 200, moved.text
    assert [t["id"] for t in board.get(f"/v1/tasks/{subtree[-1]}/ancestors").json()["items"]] == [
        subtree[1],
        subtree[0],
        trunk[1],
        trunk[0],
    ]


@pytest.mark.parametrize("how", REPARENTING)
@pytest.mark.parametrize("target", ["itself", "its-child", "its-grandchild"])
def test_a_task_cannot_become_its_own_ancestor(module_board: Board, how: str, target: str) -> None:
    board = module_board
    ids = chain(board, 2)
    parent = {"itself": ids[0], "its-child": ids[1], "its-grandchild": ids[2]}[target]
    before = everything(board, ids)
    body = problem(reparent(board, how, ids[0], parent), 409, "CYCLE_DETECTED")
    assert (body["path"][0], body["path"][-1]) == (ids[0], parent)
    assert everything(board, ids) == before


@pytest.mark.parametrize(
    ("kind", "forward", "backward"),
    [
        ("blocks", "blocks", "blocked_by"),
        ("blocked_by", "blocked_by", "blocks"),
        ("duplicates", "duplicates", "duplicated_by"),
        ("duplicated_by", "duplicated_by", "duplicates"),
        ("relates_to", "relates_to", "relates_to"),
        ("parent_of", "parent_of", "child_of"),
        ("child_of", "child_of", "parent_of"),
    ],
    ids=["blocks", "blocked-by", "duplicates", "duplicated-by", "relates-to", "parent-of", "child-of"],
)
def test_a_relationship_is_shown_from_both_sides(
    module_board: Board, kind: str, forward: str, backward: str
) -> None:
    board = module_board
    x, y = board.task("x")["id"], board.task("y")["id"]
    assert board.link(x, kind, y).status_code == 200
    x_view, y_view = board.show(x)["relationships"], board.show(y)["relationships"]
    assert {k: v for k, v in x_view.items() if v} == {forward: [y]}
    assert {k: v for k, v in y_view.items() if v} == {backward: [x]}
    if kind not in ("parent_of", "child_of"):
        head = board.head()
        again = board.link(y, backward, x)
        assert again.status_code == 200, again.text
        assert again.json()["existed"] is True, "stored once, whichever side names it"
        assert board.head() == head
        assert board.show(x)["relationships"] == x_view
