"""The policy gate for actions with side effects.

An action is internal (stays in the local workspace: a command not marked
external, a board task) or external (leaves the machine: every connector, a
command marked external). The decision, in order:

1. external and the routine does not allow external effects -> blocked_policy
2. the routine requires approval -> pending_approval
3. otherwise -> allowed
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ActionClass(StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"


class Decision(StrEnum):
    ALLOWED = "allowed"
    PENDING_APPROVAL = "pending_approval"
    BLOCKED_POLICY = "blocked_policy"


@dataclass(frozen=True, slots=True)
class GateResult:
    decision: Decision
    action_class: ActionClass
    reason: str


def classify(action: dict[str, Any], external_connectors: frozenset[str]) -> ActionClass:
    kind = action.get("kind")
    if kind == "connector":
        return (
            ActionClass.EXTERNAL if action.get("connector") in external_connectors else ActionClass.INTERNAL
        )
    if kind == "command" and action.get("external"):
        return ActionClass.EXTERNAL
    return ActionClass.INTERNAL


def decide(action_class: ActionClass, *, external_allowed: bool, requires_approval: bool) -> GateResult:
    if action_class is ActionClass.EXTERNAL and not external_allowed:
        return GateResult(
            Decision.BLOCKED_POLICY,
            action_class,
            "the action has external side effects and external_allowed is false",
        )
    if requires_approval:
        return GateResult(Decision.PENDING_APPROVAL, action_class, "the routine requires approval")
    return GateResult(
        Decision.ALLOWED,
        action_class,
        "external effects are allowed" if action_class is ActionClass.EXTERNAL else "internal action",
    )
