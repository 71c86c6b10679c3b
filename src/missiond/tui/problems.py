"""Turn what the SDK raises into a notification a person can read.

A server error shows the problem's own message (`detail`, or its `title`)
with its `code` as the title; validation errors list each field. Nothing
here ever shows a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

from missiond.sdk import MissiondError, ProblemError, TransportError


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification: what the app showed, kept so tests can read it back."""

    severity: str
    title: str
    message: str


def field_errors(error: ProblemError) -> dict[str, str]:
    """`{field: message}` from a problem's `errors` member (`body.schedule.cron` -> message)."""
    out: dict[str, str] = {}
    for item in error.problem.get("errors") or ():
        if isinstance(item, dict) and isinstance(item.get("field"), str):
            out[item["field"]] = str(item.get("message", ""))
    return out


def describe(error: BaseException) -> Notice:
    """The notification for an error raised by an SDK call (or by a bug: then its type name)."""
    if isinstance(error, ProblemError):
        message = error.detail or error.title or error.code
        fields = field_errors(error)
        if fields and not error.detail:
            message = "; ".join(f"{name}: {text}" for name, text in fields.items())
        return Notice("error", error.code, message)
    if isinstance(error, TransportError):
        return Notice("error", "UNREACHABLE", str(error))
    if isinstance(error, MissiondError):
        return Notice("error", "PROTOCOL_ERROR", str(error))
    if isinstance(error, ValueError):
        return Notice("error", "INVALID_INPUT", str(error))
    return Notice("error", "CLIENT_ERROR", f"{type(error).__name__}: {error}")
