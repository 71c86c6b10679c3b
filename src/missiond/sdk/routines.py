"""Requests for routines and approvals (ROUTINES_CRON.md), shared by `Client` and `AsyncClient`.

No IO happens here: paths, bodies and query parameters::

    routine = client.create_routine(
        "nightly audit",
        cron="0 2 * * *",
        timezone="Europe/Berlin",
        action={"kind": "command", "argv": ["make", "audit"]},
        misfire="skip",
    )
    run = client.run_routine_now(routine.id)         # PolicyBlocked when the gate refuses
    for approval in client.list_approvals():
        client.approve(approval.id, reason="looks fine")

A schedule is either `cron` (with an optional IANA `timezone`, UTC by
default) or `interval_s`; the server answers `InvalidSchedule` naming the
field it refuses. An edit replaces the `schedule`, `misfire` and `action`
objects whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from missiond.sdk.base import id_segment

ROUTINES_PATH = "/v1/routines"
APPROVALS_PATH = "/v1/approvals"
STREAM_PATH = "/v1/streams/routines"

ROUTINE_STATUSES = ("active", "paused", "draft")
MISFIRE_POLICIES = ("skip", "run_once", "catch_up")
OVERLAP_POLICIES = ("skip", "queue_one", "allow")
APPROVAL_STATUSES = ("pending", "approved", "denied", "expired")
LIFECYCLE_ACTIONS = ("activate", "pause", "resume", "run-now")

Misfire = str | Mapping[str, Any]

_SCHEDULE_KEYS = ("cron", "timezone", "interval_s")


def routine_path(routine_id: str, *rest: str) -> str:
    """`/v1/routines/{id}[/rest...]` with the id percent-encoded."""
    return "/".join((ROUTINES_PATH, id_segment(routine_id), *rest))


def approval_path(approval_id: str, *rest: str) -> str:
    """`/v1/approvals/{id}[/rest...]` with the id percent-encoded."""
    return "/".join((APPROVALS_PATH, id_segment(approval_id), *rest))


def schedule_body(
    cron: str | None = None, timezone: str | None = None, interval_s: float | None = None
) -> dict[str, Any]:
    """`{cron, timezone?}` or `{interval_s}`: exactly one kind of schedule."""
    if (cron is None) == (interval_s is None):
        raise ValueError("give exactly one of cron (with an optional timezone) or interval_s")
    if interval_s is not None:
        if timezone is not None:
            raise ValueError("timezone applies to cron schedules only")
        return {"interval_s": interval_s}
    schedule: dict[str, Any] = {"cron": cron}
    if timezone is not None:
        schedule["timezone"] = timezone
    return schedule


def misfire_body(misfire: Misfire) -> dict[str, Any]:
    """A misfire policy name (`"skip"`) or the whole object `{policy, max_runs, grace_s}`."""
    if isinstance(misfire, str):
        return {"policy": misfire}
    return {name: value for name, value in misfire.items() if value is not None}


def routine_body(
    name: str,
    *,
    cron: str | None = None,
    timezone: str | None = None,
    interval_s: float | None = None,
    action: Mapping[str, Any],
    misfire: Misfire | None = None,
    overlap: str | None = None,
    requires_approval: bool = False,
    external_allowed: bool = False,
    status: str | None = None,
) -> dict[str, Any]:
    """A new routine; the server fills in the misfire (run_once) and overlap (skip) defaults."""
    body: dict[str, Any] = {
        "name": name,
        "schedule": schedule_body(cron, timezone, interval_s),
        "action": dict(action),
        "requires_approval": requires_approval,
        "external_allowed": external_allowed,
    }
    if misfire is not None:
        body["misfire"] = misfire_body(misfire)
    if overlap is not None:
        body["overlap"] = overlap
    if status is not None:
        body["status"] = status
    return body


def changes_body(changes: Mapping[str, Any], expected_rev: int | None = None) -> dict[str, Any]:
    """An edit: name, schedule (or cron/timezone/interval_s), misfire, overlap, action,
    requires_approval, external_allowed; `expected_rev` makes it conditional (REVISION_CONFLICT)."""
    body = {name: value for name, value in changes.items() if name not in _SCHEDULE_KEYS}
    given = {name: changes[name] for name in _SCHEDULE_KEYS if changes.get(name) is not None}
    if given:
        if "schedule" in body:
            raise ValueError("give schedule or cron/timezone/interval_s, not both")
        body["schedule"] = schedule_body(**given)
    elif isinstance(body.get("schedule"), Mapping):
        body["schedule"] = dict(body["schedule"])
    if isinstance(body.get("misfire"), str | Mapping):
        body["misfire"] = misfire_body(body["misfire"])
    if isinstance(body.get("action"), Mapping):
        body["action"] = dict(body["action"])
    if expected_rev is not None:
        if not isinstance(expected_rev, int) or isinstance(expected_rev, bool) or expected_rev < 1:
            raise ValueError(f"expected_rev must be an int >= 1, got {expected_rev!r}")
        body["expected_rev"] = expected_rev
    return body


def list_params(
    status: str | None = None, after_id: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, value in (("status", status), ("after_id", after_id), ("limit", limit)):
        if value is not None:
            params[name] = value
    return params


def history_params(limit: int | None = None, before_id: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if limit is not None:
        params["limit"] = limit
    if before_id is not None:
        params["before_id"] = before_id
    return params


def resume_body(apply_misfire: bool = False) -> dict[str, Any]:
    """`{"apply_misfire": true}` runs the misfire policy over the paused occurrences instead
    of recording them as one missed range."""
    return {"apply_misfire": bool(apply_misfire)}


def approval_params(status: str | None = "pending", limit: int | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if status is not None:
        params["status"] = status
    if limit is not None:
        params["limit"] = limit
    return params


def approve_body(reason: str | None = None) -> dict[str, Any]:
    return {} if reason is None else {"reason": reason}


def deny_body(reason: str) -> dict[str, Any]:
    """A denial needs a reason."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("denying an approval needs a reason")
    return {"reason": reason}
