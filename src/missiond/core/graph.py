"""Dependency-graph checks: pure functions over adjacency the caller loaded."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable


def find_path(start: str, goal: str, successors: Callable[[str], Iterable[str]]) -> list[str] | None:
    """The shortest path start -> ... -> goal following `successors`, or None.

    Breadth-first, so a cycle report names the shortest loop.
    """
    if start == goal:
        return [start]
    came_from: dict[str, str] = {start: start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in successors(node):
            if nxt in came_from:
                continue
            came_from[nxt] = node
            if nxt == goal:
                path = [goal]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return path[::-1]
            queue.append(nxt)
    return None


def cycle_if_added(src: str, dst: str, successors: Callable[[str], Iterable[str]]) -> list[str] | None:
    """Adding the edge src -> dst closes a cycle iff dst already reaches src.

    Returns the cycle as a path that starts and ends at src, or None.
    """
    back = find_path(dst, src, successors)
    if back is None:
        return None
    return [src, *back]
