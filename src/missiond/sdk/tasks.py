"""Requests for the task board (TASK_BOARD.md), shared by `Client` and `AsyncClient`.

No IO happens here: paths, bodies, query parameters and headers.

While a lease lives, every write to its task must carry the lease's fencing
token; the SDK sends it as the `X-Fencing-Token` header::

    claim = client.claim_task(role="backend", ttl_s=120)
    if claim is not None:
        token = claim.fencing_token
        client.add_note(claim.task.id, "decision", "use the queue", fencing_token=token)
        client.complete_task(claim.task.id, "merged in #42", fencing_token=token)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from missiond.sdk.base import id_segment
from missiond.sdk.errors import ProtocolError
from missiond.sdk.models import Agent, Claim, Event

TASKS_PATH = "/v1/tasks"
READY_PATH = "/v1/tasks/ready"
CLAIM_PATH = "/v1/tasks/claim"
AGENTS_PATH = "/v1/agents"
SESSIONS_PATH = "/v1/sessions"
LEASES_PATH = "/v1/leases"
BATCH_PATH = "/v1/batch"

FENCING_HEADER = "X-Fencing-Token"
TREES = ("children", "descendants", "ancestors")
NOTE_KINDS = ("decision", "rationale", "attempt", "outcome", "blocker", "note", "reference")
LINK_KINDS = ("blocks", "blocked_by", "relates_to", "duplicates", "duplicated_by", "parent_of", "child_of")
STEP_STATES = ("pending", "done", "skipped")
STATUSES = ("open", "in_progress", "blocked", "completed", "cancelled")
TASK_TYPES = ("feature", "bug", "chore", "investigation", "epic")

Labels = str | Iterable[str]


def task_path(task_id: str, *rest: str) -> str:
    """`/v1/tasks/{id}[/rest...]` with the id percent-encoded."""
    return "/".join((TASKS_PATH, id_segment(task_id), *rest))


def lease_path(lease_id: str, action: str) -> str:
    return f"{LEASES_PATH}/{id_segment(lease_id)}/{action}"


def session_path(session_id: str, action: str) -> str:
    return f"{SESSIONS_PATH}/{id_segment(session_id)}/{action}"


def step_path(task_id: str, step_id: str) -> str:
    return task_path(task_id, "steps", id_segment(step_id))


def _positive(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return value


def fencing_headers(fencing_token: int | None) -> dict[str, str]:
    """`X-Fencing-Token: <n>`, or nothing when there is no token to show."""
    if fencing_token is None:
        return {}
    return {FENCING_HEADER: str(_positive(fencing_token, "fencing_token"))}


def if_match_headers(if_rev: int | None) -> dict[str, str]:
    """`If-Match: "<rev>"`: the write applies only to the task at that revision (else 412)."""
    if if_rev is None:
        return {}
    return {"If-Match": f'"{_positive(if_rev, "if_rev")}"'}


def _labels(labels: Labels | None) -> list[str]:
    if labels is None:
        return []
    if isinstance(labels, str):
        return [labels]
    return [str(label) for label in labels]


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def task_body(title: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A new task: `title` plus any of type, intent, description, plan, priority, labels,
    role, parent_id, mission_id, status (open or blocked)."""
    body: dict[str, Any] = {"title": title}
    for name, value in fields.items():
        if value is None:
            continue
        body[name] = _jsonable(value)
    return body


def changes_body(changes: Mapping[str, Any]) -> dict[str, Any]:
    """An edit: exactly the fields given (None clears one that may be empty, like role)."""
    return {name: _jsonable(value) for name, value in changes.items()}


def list_params(
    *,
    status: Labels | None = None,
    role: str | None = None,
    label: Labels | None = None,
    parent: str | None = None,
    mission: str | None = None,
    assignee: str | None = None,
    q: str | None = None,
    blocked: bool | None = None,
    after_id: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if statuses := _labels(status):
        params["status"] = statuses
    if labels := _labels(label):
        params["label"] = labels
    for name, value in (
        ("role", role),
        ("parent", parent),
        ("mission", mission),
        ("assignee", assignee),
        ("q", q),
        ("after_id", after_id),
        ("limit", limit),
    ):
        if value is not None:
            params[name] = value
    if blocked is not None:
        params["blocked"] = "true" if blocked else "false"
    return params


def ready_params(role: str | None = None, labels: Labels = (), limit: int | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if role:
        params["role"] = role
    if wanted := _labels(labels):
        params["label"] = wanted
    if limit is not None:
        params["limit"] = limit
    return params


def claim_body(
    *, role: str | None = None, labels: Labels = (), ttl_s: float = 300.0, session_id: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"ttl_s": ttl_s}
    if role:
        body["role"] = role
    if wanted := _labels(labels):
        body["labels"] = wanted
    if session_id:
        body["session_id"] = session_id
    return body


def renew_body(ttl_s: float | None) -> dict[str, Any]:
    return {} if ttl_s is None else {"ttl_s": ttl_s}


def release_body(outcome: str | None, complete: bool) -> dict[str, Any]:
    """Hand the task back (a non-empty `outcome` becomes an `attempt` note) or complete it."""
    if complete and not (outcome or "").strip():
        raise ValueError("completing a task needs an outcome")
    body: dict[str, Any] = {}
    if outcome is not None:
        body["outcome"] = outcome
    if complete:
        body["complete"] = True
    return body


def transition_body(status: str, outcome: str | None = None, reason: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status}
    if outcome is not None:
        body["outcome"] = outcome
    if reason is not None:
        body["reason"] = reason
    return body


def note_body(kind: str, body: str, supersedes: str | None = None) -> dict[str, Any]:
    note: dict[str, Any] = {"kind": kind, "body": body}
    if supersedes is not None:
        note["supersedes"] = supersedes
    return note


def unlink_params(kind: str, other_id: str) -> dict[str, Any]:
    return {"kind": kind, "other_id": other_id}


def tree_which(which: str) -> str:
    if which not in TREES:
        raise ValueError(f"which must be one of {', '.join(TREES)} (history: task_history), got {which!r}")
    return which


def batch_body(ops: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """`{ops, atomic: true}`: ops are `create_task {ref?, task}`, `link {task, kind, other}`,
    `note {task, kind, body, supersedes?}` and `step {task, title}`; `$ref` names a task an
    earlier op created."""
    op_list = [dict(op) for op in ops]
    for index, op in enumerate(op_list):
        if op.get("op") not in ("create_task", "link", "note", "step"):
            kind = op.get("op")
            raise ValueError(f"ops[{index}]: 'op' must be create_task, link, note or step, got {kind!r}")
    return {"ops": op_list, "atomic": True}


def agent_body(name: str, roles: Labels = (), capabilities: Iterable[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "roles": _labels(roles)}
    if capabilities is not None:
        body["capabilities"] = _labels(capabilities)
    return body


# -- answers ---------------------------------------------------------------------------


def parse_claim(answer: Any) -> Claim | None:
    """A claim's answer: None for 204 (nothing ready)."""
    if answer is None or (isinstance(answer, Mapping) and answer.get("task") is None):
        return None
    return Claim.from_json(answer)


def parse_agent(answer: Any) -> tuple[Agent, str | None]:
    """`{agent, token}`: the token is shown once (None on an idempotent replay)."""
    if not isinstance(answer, Mapping):
        raise ProtocolError("expected {agent, token} in the server's answer")
    token = answer.get("token")
    return Agent.from_json(answer.get("agent")), token if isinstance(token, str) else None


def parse_items(answer: Any) -> list[Any]:
    items = answer.get("items") if isinstance(answer, Mapping) else None
    if not isinstance(items, list):
        raise ProtocolError("expected 'items' to be a list in the server's answer")
    return items


def parse_history(answer: Any) -> list[Event]:
    return [Event.from_json(item) for item in parse_items(answer)]


def parse_agents(answer: Any) -> list[Agent]:
    return [Agent.from_json(item) for item in parse_items(answer)]


def as_dict(answer: Any) -> dict[str, Any]:
    if not isinstance(answer, Mapping):
        raise ProtocolError("expected a JSON object in the server's answer")
    return dict(answer)
