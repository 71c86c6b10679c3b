"""`missiond routine ...` and `missiond approval ...`: recurring actions and the approval queue.

    missiond routine add audit --cron '0 2 * * *' --tz Europe/Berlin --command 'make audit'
    missiond routine add digest --every 3600 --http-post https://hooks.example/d --allow-external
    missiond routine add triage --cron '0 9 * * 1' --task-title 'Weekly triage' --approval

A schedule is `--cron EXPR` (in `--tz ZONE`, UTC by default) or `--every
SECONDS`; the action is one of `--command` (shell text), `--argv-json`,
`--http-post` (a connector: external) or `--task-title` (files a task on the
board). An external action runs only with `--allow-external`; otherwise its
runs are blocked by policy, and `run-now` exits 1 with POLICY_BLOCKED (the
blocked run is still in the history). `--approval` makes every run wait for
`missiond approval approve ID`.

`routine edit` reads the routine first and changes only what is given (a new
`--cron` keeps the zone, `--grace` keeps the policy, a new `--command` stays
external if the old one was); the edit is conditional on the revision it read.

For people, times show in the routine's own zone and in the local one; with
`--json` every command prints the server's document unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

from missiond.cli.app import App, CliGroup, pass_app
from missiond.sdk import Routine, RoutineRun
from missiond.sdk import routines as _rtn

F = TypeVar("F", bound=Callable[..., Any])

ACTION_OPTIONS = ("shell", "argv_json", "http_post", "task_title")
ACTION_FLAGS = "--command, --argv-json, --http-post or --task-title"

_COMMON_OPTIONS = [
    click.option("--cron", metavar="EXPR", help="A 5-field cron expression, e.g. '0 9 * * 1-5'."),
    click.option("--tz", "timezone", metavar="ZONE", help="The IANA zone of --cron (default UTC)."),
    click.option(
        "--every",
        "interval_s",
        type=click.FloatRange(min=1),
        metavar="SECONDS",
        help="Run every SECONDS instead of on a cron schedule.",
    ),
    click.option("--command", "shell", metavar="'SHELL TEXT'", help="Action: run this shell text (sh -c)."),
    click.option("--argv-json", metavar="'[...]'", help='Action: run this argv, e.g. \'["make", "audit"]\'.'),
    click.option("--http-post", metavar="URL", help="Action: POST to URL (http.post connector, external)."),
    click.option("--task-title", metavar="TITLE", help="Action: file a task titled TITLE on the board."),
    click.option("--cwd", metavar="DIR", help="Where a command runs."),
    click.option(
        "--timeout",
        "timeout_s",
        type=click.FloatRange(min=0, min_open=True),
        metavar="SECONDS",
        help="How long a command (default 600 s) or connector (60 s) may take.",
    ),
    click.option(
        "--external/--internal",
        default=None,
        help="Mark a command as having effects outside this machine (policy-gated).",
    ),
    click.option(
        "--allow-external/--no-allow-external",
        "external_allowed",
        default=None,
        help="Allow external effects (without it an external action's runs are blocked).",
    ),
    click.option(
        "--approval/--no-approval",
        "requires_approval",
        default=None,
        help="Every run waits for a person to approve it.",
    ),
    click.option(
        "--misfire",
        "misfire_policy",
        type=click.Choice(_rtn.MISFIRE_POLICIES),
        help="What runs after downtime (default run_once).",
    ),
    click.option(
        "--max-runs", type=click.IntRange(1, 100), metavar="N", help="catch_up: run at most the last N."
    ),
    click.option(
        "--grace",
        "grace_s",
        type=click.FloatRange(0, 86_400),
        metavar="SECONDS",
        help="skip: a single occurrence this late still runs (default 60).",
    ),
    click.option(
        "--overlap",
        type=click.Choice(_rtn.OVERLAP_POLICIES),
        help="When the previous run is still going (default skip).",
    ),
]


def _routine_options(command: F) -> F:
    for option in reversed(_COMMON_OPTIONS):
        command = option(command)
    return command


def _argv(text: str) -> list[str]:
    try:
        argv = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--argv-json") from exc
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise click.BadParameter("must be a non-empty JSON list of strings", param_hint="--argv-json")
    return argv


def _new_action(options: Mapping[str, Any]) -> dict[str, Any] | None:
    given = [name for name in ACTION_OPTIONS if options.get(name) is not None]
    if len(given) > 1:
        raise click.UsageError(f"give one action: {ACTION_FLAGS}")
    if not given:
        return None
    if options.get("shell") is not None:
        return {"kind": "command", "shell": options["shell"]}
    if options.get("argv_json") is not None:
        return {"kind": "command", "argv": _argv(options["argv_json"])}
    if options.get("http_post") is not None:
        return {"kind": "connector", "connector": "http.post", "params": {"url": options["http_post"]}}
    return {"kind": "task", "task": {"title": options["task_title"]}}


def _carried(new: dict[str, Any], current: Mapping[str, Any] | None) -> dict[str, Any]:
    """A new action of the same kind keeps the old one's settings (a command its `external`
    mark, cwd, env and timeout; a connector its other parameters and timeout)."""
    if current is None or current.get("kind") != new.get("kind"):
        return new
    if new["kind"] == "command":
        kept = {k: current[k] for k in ("cwd", "env", "timeout_s", "external") if current.get(k) is not None}
        return {**kept, **new}
    if new["kind"] == "connector" and current.get("connector") == new.get("connector"):
        old_params = current.get("params")
        params = {**(old_params if isinstance(old_params, Mapping) else {}), **new["params"]}
        kept = {"timeout_s": current["timeout_s"]} if current.get("timeout_s") is not None else {}
        return {**kept, **new, "params": params}
    return new


def _action(options: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The action the options describe: a new one, or (editing) the current one modified."""
    action = _new_action(options)
    modifiers = {
        name: options[name] for name in ("external", "cwd", "timeout_s") if options.get(name) is not None
    }
    if action is not None:
        action = _carried(action, current)
    elif modifiers and current is not None:
        action = dict(current)
    elif modifiers:
        raise click.UsageError(f"--external, --cwd and --timeout modify an action: give {ACTION_FLAGS}")
    if action is None:
        return None
    kind = action.get("kind")
    if "external" in modifiers or "cwd" in modifiers:
        if kind != "command":
            raise click.UsageError(
                "--external/--internal and --cwd apply to commands (--command, --argv-json); "
                "connectors are always external"
            )
        if "external" in modifiers:
            action["external"] = modifiers["external"]
        if "cwd" in modifiers:
            action["cwd"] = modifiers["cwd"]
    if "timeout_s" in modifiers:
        if kind not in ("command", "connector"):
            raise click.UsageError("--timeout applies to commands and connectors")
        action["timeout_s"] = modifiers["timeout_s"]
    return action


def _misfire(options: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    given = {
        key: options[name]
        for key, name in (("policy", "misfire_policy"), ("max_runs", "max_runs"), ("grace_s", "grace_s"))
        if options.get(name) is not None
    }
    if not given:
        return None
    return {**(current or {}), **given}


def _new_schedule(options: Mapping[str, Any]) -> dict[str, Any]:
    cron, timezone, interval_s = options.get("cron"), options.get("timezone"), options.get("interval_s")
    if (cron is None) == (interval_s is None):
        raise click.UsageError("give a schedule: --cron EXPR [--tz ZONE] or --every SECONDS")
    if timezone is not None and cron is None:
        raise click.UsageError("--tz applies to --cron schedules")
    return _rtn.schedule_body(cron, timezone, interval_s)


def _edited_schedule(options: Mapping[str, Any], current: Routine) -> dict[str, Any] | None:
    cron, timezone, interval_s = options.get("cron"), options.get("timezone"), options.get("interval_s")
    if cron is None and timezone is None and interval_s is None:
        return None
    if cron is not None and interval_s is not None:
        raise click.UsageError("give --cron or --every, not both")
    if interval_s is not None:
        if timezone is not None:
            raise click.UsageError("--tz applies to --cron schedules")
        return {"interval_s": interval_s}
    if cron is None:
        if current.cron is None:
            raise click.UsageError(f"{current.id} runs on an interval: give --cron with --tz")
        cron = current.cron
    return _rtn.schedule_body(cron, timezone or current.timezone)


def _show_routine(app: App, routine: Routine, message: str) -> None:
    if app.out.json:
        app.out.document(routine.raw)
    else:
        app.out.say(message)


def _external_warning(app: App, routine: Routine) -> None:
    if not app.out.json and routine.external and not routine.external_allowed:
        app.out.note(
            f"warning: {routine.id} has an EXTERNAL action and external effects are not allowed: "
            "its runs will be blocked by policy (edit it with --allow-external)"
        )


def _summary(app: App, routine: Routine) -> str:
    parts = [routine.schedule_text, routine.status]
    if routine.external:
        parts.append("EXTERNAL")
    if routine.requires_approval:
        parts.append("needs approval")
    if routine.status == "active":
        parts.append(f"next {app.out.next_fire(routine)}")
    return " · ".join(parts)


@click.group(cls=CliGroup)
def routine() -> None:
    """Recurring actions on a schedule: add, list, edit, pause, run now, history."""


@routine.command()
@click.argument("name")
@_routine_options
@click.option("--draft", is_flag=True, help="Create it as a draft: it fires only once activated.")
@click.option("--idempotency-key", help="Make a retry of this exact call safe.")
@pass_app
def add(app: App, /, name: str, draft: bool, idempotency_key: str | None, **options: Any) -> None:
    """Add the routine NAME: a schedule and one action."""
    schedule = _new_schedule(options)
    action = _action(options)
    if action is None:
        raise click.UsageError(f"give an action: {ACTION_FLAGS}")
    created = app.client().create_routine(
        name,
        **schedule,
        action=action,
        misfire=_misfire(options),
        overlap=options.get("overlap"),
        requires_approval=bool(options.get("requires_approval")),
        external_allowed=bool(options.get("external_allowed")),
        status="draft" if draft else None,
        idempotency_key=idempotency_key,
    )
    _show_routine(app, created, f"created {created.id} {created.name!r}: {_summary(app, created)}")
    _external_warning(app, created)
    if not app.out.json and created.status == "draft":
        app.out.note(f"a person must activate it: missiond routine activate {created.id}")


@routine.command("list")
@click.option("--status", type=click.Choice(_rtn.ROUTINE_STATUSES), help="Only routines in this status.")
@click.option("--limit", type=click.IntRange(1, 1000), help="Page size (server default 200).")
@click.option("--after-id", metavar="ID", help="Continue after this id (a page's next_after_id).")
@pass_app
def list_(app: App, status: str | None, limit: int | None, after_id: str | None) -> None:
    """List routines with their next fire time and last result."""
    page = app.client().list_routines(status, after_id=after_id, limit=limit)
    if app.out.json:
        app.out.document(page.raw)
        return
    count = len(page.items)
    parts = [f"{count} routine{'' if count == 1 else 's'}"]
    if page.next_after_id:
        parts.append(f"more: --after-id {page.next_after_id}")
    app.out.routines(page.items, footer=" · ".join(parts))


@routine.command()
@click.argument("routine_id", metavar="ID")
@pass_app
def show(app: App, routine_id: str) -> None:
    """Show routine ID: schedule, next fire, last result, action and policy."""
    shown = app.client().get_routine(routine_id)
    if app.out.json:
        app.out.document(shown.raw)
    else:
        app.out.routine(shown)


@routine.command()
@click.argument("routine_id", metavar="ID")
@click.option("--name", metavar="NAME", help="A new name.")
@_routine_options
@pass_app
def edit(app: App, /, routine_id: str, name: str | None, **options: Any) -> None:
    """Change routine ID: only the options given change."""
    client = app.client()
    current = client.get_routine(routine_id)
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if (schedule := _edited_schedule(options, current)) is not None:
        changes["schedule"] = schedule
    if (action := _action(options, current.action)) is not None:
        changes["action"] = action
    if (misfire := _misfire(options, current.misfire)) is not None:
        changes["misfire"] = misfire
    for key in ("overlap", "requires_approval", "external_allowed"):
        if options.get(key) is not None:
            changes[key] = options[key]
    if not changes:
        raise click.UsageError("nothing to change: give at least one option")
    edited = client.update_routine(routine_id, expected_rev=current.rev, **changes)
    _show_routine(app, edited, f"edited {edited.id} (rev {edited.rev}): {_summary(app, edited)}")
    _external_warning(app, edited)


@routine.command()
@click.argument("routine_id", metavar="ID")
@pass_app
def activate(app: App, routine_id: str) -> None:
    """Activate the draft ID (people only)."""
    activated = app.client().activate_routine(routine_id)
    _show_routine(app, activated, f"{activated.id} activated: {_summary(app, activated)}")


@routine.command()
@click.argument("routine_id", metavar="ID")
@pass_app
def pause(app: App, routine_id: str) -> None:
    """Pause routine ID (run-now still works)."""
    paused = app.client().pause_routine(routine_id)
    _show_routine(app, paused, f"{paused.id} paused: {_summary(app, paused)}")


@routine.command()
@click.argument("routine_id", metavar="ID")
@click.option(
    "--apply-misfire",
    is_flag=True,
    help="Let the misfire policy run paused occurrences (default: record them as missed).",
)
@pass_app
def resume(app: App, routine_id: str, apply_misfire: bool) -> None:
    """Resume routine ID from now."""
    resumed = app.client().resume_routine(routine_id, apply_misfire=apply_misfire)
    _show_routine(app, resumed, f"{resumed.id} resumed: {_summary(app, resumed)}")


@routine.command("run-now")
@click.argument("routine_id", metavar="ID")
@pass_app
def run_now(app: App, routine_id: str) -> None:
    """Run routine ID now, even while paused (exit 1 with POLICY_BLOCKED when the policy refuses)."""
    run = app.client().run_routine_now(routine_id)
    if app.out.json:
        app.out.document(run.raw)
    else:
        app.out.say(_run_message(run))


def _run_message(run: RoutineRun) -> str:
    if run.status == "pending_approval" and run.approval_id:
        return (
            f"run {run.id} of {run.routine_id} waits for approval {run.approval_id}: "
            f"missiond approval approve {run.approval_id}"
        )
    return f"run {run.id} of {run.routine_id} is {run.status} ({run.trigger})"


@routine.command("rm")
@click.argument("routine_id", metavar="ID")
@pass_app
def remove(app: App, routine_id: str) -> None:
    """Delete routine ID (its history stays)."""
    deleted = app.client().delete_routine(routine_id)
    if app.out.json:
        app.out.document(deleted)
    else:
        app.out.say(f"deleted {deleted.get('id', routine_id)}")


@routine.command()
@click.argument("routine_id", metavar="ID")
@click.option("--limit", type=click.IntRange(1, 1000), help="At most this many runs (server default 100).")
@click.option("--before-id", metavar="RUN_ID", help="Older than this run (a page's next_before_id).")
@pass_app
def history(app: App, routine_id: str, limit: int | None, before_id: str | None) -> None:
    """The runs of routine ID, newest first."""
    page = app.client().routine_history(routine_id, limit=limit, before_id=before_id)
    if app.out.json:
        app.out.document(page.raw)
        return
    count = len(page.items)
    parts = [f"{count} run{'' if count == 1 else 's'}"]
    if page.next_before_id:
        parts.append(f"more: --before-id {page.next_before_id}")
    app.out.runs(page.items, footer=" · ".join(parts))


# -- approvals ---------------------------------------------------------------------------


@click.group(cls=CliGroup)
def approval() -> None:
    """The approval queue: what waits for a person, and the decisions."""


@approval.command("list")
@click.option(
    "--status",
    type=click.Choice(_rtn.APPROVAL_STATUSES),
    default="pending",
    show_default=True,
    help="Only approvals in this status.",
)
@click.option("--limit", type=click.IntRange(1, 1000), help="At most this many (server default 100).")
@pass_app
def list_approvals(app: App, status: str, limit: int | None) -> None:
    """List approvals (pending ones by default)."""
    approvals = app.client().list_approvals(status, limit=limit)
    if app.out.json:
        app.out.document({"items": [a.raw for a in approvals]})
        return
    count = len(approvals)
    app.out.approvals(approvals, footer=f"{count} {status} approval{'' if count == 1 else 's'}")


@approval.command("show")
@click.argument("approval_id", metavar="ID")
@pass_app
def show_approval(app: App, approval_id: str) -> None:
    """Show approval ID."""
    shown = app.client().get_approval(approval_id)
    if app.out.json:
        app.out.document(shown.raw)
    else:
        app.out.approval_line(shown)


@approval.command()
@click.argument("approval_id", metavar="ID")
@click.option("--reason", help="Why (kept with the decision).")
@pass_app
def approve(app: App, approval_id: str, reason: str | None) -> None:
    """Approve ID (people only): an approved routine run is queued."""
    decided = app.client().approve(approval_id, reason)
    if app.out.json:
        app.out.document(decided.raw)
    else:
        app.out.say(f"{decided.id} {decided.status}: {decided.subject}")


@approval.command()
@click.argument("approval_id", metavar="ID")
@click.option("--reason", required=True, metavar="TEXT", help="Why (required).")
@pass_app
def deny(app: App, approval_id: str, reason: str) -> None:
    """Deny ID with a reason (people only): a denied routine run is recorded as denied."""
    if not reason.strip():
        raise click.BadParameter("must not be empty", param_hint="--reason")
    decided = app.client().deny(approval_id, reason)
    if app.out.json:
        app.out.document(decided.raw)
    else:
        app.out.say(f"{decided.id} {decided.status}: {decided.subject}")
