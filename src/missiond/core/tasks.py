"""Task board rules: statuses and their transitions, relationship kinds, notes, limits.

Pure: the service loads what these functions need and persists what they decide.
"""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


TASK_TYPES = ("feature", "bug", "chore", "investigation", "epic")
NOTE_KINDS = ("decision", "rationale", "attempt", "outcome", "blocker", "note", "reference")
STEP_STATES = ("pending", "done", "skipped")
MAX_PARENT_DEPTH = 4  # a root is depth 0; a task may have at most 4 ancestors
MIN_PRIORITY, MAX_PRIORITY = 0, 4  # 0 is the most urgent

# from -> the statuses it may move to. Claiming is open -> in_progress; a release or
# reclaim is in_progress -> open; reopening a finished task is completed/cancelled -> open.
TRANSITIONS: dict[TaskStatus, tuple[TaskStatus, ...]] = {
    TaskStatus.OPEN: (TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED, TaskStatus.COMPLETED, TaskStatus.CANCELLED),
    TaskStatus.IN_PROGRESS: (TaskStatus.OPEN, TaskStatus.BLOCKED, TaskStatus.COMPLETED, TaskStatus.CANCELLED),
    TaskStatus.BLOCKED: (TaskStatus.OPEN, TaskStatus.CANCELLED),
    TaskStatus.COMPLETED: (TaskStatus.OPEN,),
    TaskStatus.CANCELLED: (TaskStatus.OPEN,),
}


def allowed_transitions(current: TaskStatus) -> tuple[TaskStatus, ...]:
    return TRANSITIONS[current]


def can_transition(current: TaskStatus, target: TaskStatus) -> bool:
    return target in TRANSITIONS[current]


# Relationship kinds as clients name them -> (stored kind, True when the caller's task is the source)
LINK_KINDS: dict[str, tuple[str, bool]] = {
    "blocks": ("blocks", True),
    "blocked_by": ("blocks", False),
    "relates_to": ("relates_to", True),
    "duplicates": ("duplicates", True),
    "duplicated_by": ("duplicates", False),
}
INVERSE = {"blocks": "blocked_by", "duplicates": "duplicated_by", "relates_to": "relates_to"}


def canonical_link(task_id: str, kind: str, other_id: str) -> tuple[str, str, str]:
    """(src, stored kind, dst) for a relationship named from `task_id`'s side."""
    stored, forward = LINK_KINDS[kind]
    if stored == "relates_to":  # symmetric: store once, smaller id first
        src, dst = sorted((task_id, other_id))
        return src, stored, dst
    return (task_id, stored, other_id) if forward else (other_id, stored, task_id)


def depth_problem(ancestors_of_parent: int, subtree_height: int) -> str | None:
    """Putting a subtree of `subtree_height` under a parent that has `ancestors_of_parent`
    ancestors puts its deepest task at depth ancestors+1+height."""
    depth = ancestors_of_parent + 1 + subtree_height
    if depth > MAX_PARENT_DEPTH:
        return f"the parent chain would be {depth} deep; the limit is {MAX_PARENT_DEPTH}"
    return None


def ready_score_doc() -> str:
    return (
        "priority ascending (0 most urgent), then created_at ascending (older first), "
        "then unblocks descending (tasks that unblock more work first), then id"
    )
