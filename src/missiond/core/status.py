"""Run status derived from run and tool events: a pure fold, one event at a time."""

from __future__ import annotations

from typing import Any

RUN_TYPES = ("session.run.", "message.part.")
_FAILED_STATES = {"failed", "error", "errored", "cancelled", "aborted"}


def session_of(subject: str, data: dict[str, Any]) -> str | None:
    """The session an event belongs to: `data.session_id`, else the subject's last segment."""
    raw = data.get("session_id") or data.get("sessionID")
    if isinstance(raw, str) and raw:
        return raw
    if subject.startswith("session/"):
        rest = subject[len("session/") :].split("/", 1)[0]
        return rest or None
    return None


def _tool_part(data: dict[str, Any]) -> dict[str, Any] | None:
    part = data.get("part")
    if isinstance(part, dict) and part.get("type") == "tool":
        return part
    return None


def next_status(
    prev: dict[str, Any] | None, event_type: str, data: dict[str, Any], *, seq: int, ts: str
) -> dict[str, Any] | None:
    """The new `run/{session}/status` value after one event, or None when it changes nothing."""
    status: dict[str, Any] = (
        dict(prev)
        if isinstance(prev, dict)
        else {
            "state": "running",
            "phase": "run",
            "active_tool": None,
            "started_at": ts,
            "finished_at": None,
            "result": None,
        }
    )
    if event_type == "session.run.started":
        status.update(
            state="running", phase="run", active_tool=None, started_at=ts, finished_at=None, result=None
        )
    elif event_type in ("session.run.finished", "session.run.failed"):
        outcome = str(data.get("status") or data.get("state") or "").lower()
        failed = event_type.endswith("failed") or outcome in _FAILED_STATES or bool(data.get("error"))
        status.update(
            state="failed" if failed else "finished",
            phase="run",
            active_tool=None,
            finished_at=ts,
            result=data.get("result", data.get("error")),
        )
    elif event_type == "message.part.updated":
        part = _tool_part(data)
        if part is None:
            return None
        state = part.get("state")
        tool_state = str(state.get("status") if isinstance(state, dict) else state or "").lower()
        tool = part.get("tool") or part.get("name")
        if tool_state in ("pending", "running", ""):
            status.update(phase="tool", active_tool=tool)
        else:
            status.update(phase="run", active_tool=None, last_tool=tool, last_tool_state=tool_state)
    else:
        return None
    status["last_event_type"] = event_type
    status["last_event_seq"] = seq
    status["updated_at"] = ts
    return status
