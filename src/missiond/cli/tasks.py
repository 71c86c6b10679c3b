"""`missiond task ...`: the task board from the shell.

Writes to a task that is leased must carry the lease's fencing token
(`--fence N`, sent as `X-Fencing-Token`). Inside `missiond task work`,
`--fence` defaults to `MISSIOND_FENCING_TOKEN` for the task being worked
(`MISSIOND_TASK_ID`) and its lease (`MISSIOND_LEASE_ID`), so the command can
write notes and steps without passing it around.

`task claim` when nothing is ready exits 0: with `--json` it prints `null`,
otherwise it says so on stderr and prints nothing. `task work` exits 0 without
running the command.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from missiond.cli.app import App, CliGroup, pass_app
from missiond.cli.work import binary_writer, run_claimed
from missiond.sdk import Claim, Task
from missiond.sdk import tasks as _tasks

STEP_ACTIONS = {"done": "done", "skip": "skipped", "reopen": "pending"}
WORK_ARGV = "missiond.task_work.argv"


_FENCE_HELP = "The fencing token of the lease on {} (X-Fencing-Token); needed while it is leased."
_fence_option = click.option(
    "--fence", type=click.IntRange(min=1), metavar="N", help=_FENCE_HELP.format("the task")
)
_lease_fence_option = click.option(
    "--fence", type=click.IntRange(min=1), metavar="N", help=_FENCE_HELP.format("the leased task")
)

_label_option = click.option(
    "--label", "labels", multiple=True, metavar="LABEL", help="Only tasks with this label (repeatable, AND)."
)
_role_option = click.option("--role", metavar="ROLE", help="Only tasks for this role.")


def _fence_for_task(task_id: str, fence: int | None) -> int | None:
    """`--fence`, or inside `task work` the worked task's own token."""
    if fence is not None:
        return fence
    if os.environ.get("MISSIOND_TASK_ID") == task_id:
        return _env_token()
    return None


def _fence_for_lease(lease_id: str, fence: int | None) -> int | None:
    if fence is not None:
        return fence
    if os.environ.get("MISSIOND_LEASE_ID") == lease_id:
        return _env_token()
    return None


def _env_token() -> int | None:
    raw = os.environ.get("MISSIOND_FENCING_TOKEN", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def _text_or_stdin(value: str, what: str) -> str:
    if value != "-":
        return value
    text = sys.stdin.read()
    if not text.strip():
        raise click.BadParameter("stdin was empty", param_hint=what)
    return text


def _show_task(app: App, task: Task, message: str) -> None:
    if app.out.json:
        app.out.document(task.raw)
    else:
        app.out.say(message)


@click.group(cls=CliGroup)
def task() -> None:
    """Create, find, claim and finish tasks on the board."""


# -- create, show, list, ready ---------------------------------------------------------


@task.command()
@click.argument("title")
@click.option("--type", "type_", type=click.Choice(_tasks.TASK_TYPES), help="Kind of work (default feature).")
@click.option("--priority", type=click.IntRange(0, 4), help="0 is the most urgent .. 4 (default 2).")
@click.option("--label", "labels", multiple=True, metavar="LABEL", help="A label (repeatable).")
@click.option("--role", metavar="ROLE", help="The role that should pick it up.")
@click.option("--parent", metavar="ID", help="The parent task.")
@click.option("--mission", metavar="ID", help="The mission it belongs to.")
@click.option("--intent", help="Why it matters.")
@click.option("--description", help="What it is.")
@click.option("--plan", help="How to go about it.")
@click.option("--blocked", is_flag=True, help="Start it blocked rather than open.")
@click.option("--idempotency-key", help="Make a retry of this exact call safe.")
@pass_app
def create(
    app: App,
    title: str,
    type_: str | None,
    priority: int | None,
    labels: tuple[str, ...],
    role: str | None,
    parent: str | None,
    mission: str | None,
    intent: str | None,
    description: str | None,
    plan: str | None,
    blocked: bool,
    idempotency_key: str | None,
) -> None:
    """Create a task titled TITLE."""
    fields: dict[str, Any] = {
        "type": type_,
        "priority": priority,
        "labels": list(labels) or None,
        "role": role,
        "parent_id": parent,
        "mission_id": mission,
        "intent": intent,
        "description": description,
        "plan": plan,
        "status": "blocked" if blocked else None,
    }
    created = app.client().create_task(title, idempotency_key=idempotency_key, **fields)
    _show_task(app, created, f"created {created.id}: {created.title} (P{created.priority}, {created.status})")


@task.command()
@click.argument("task_id", metavar="ID")
@pass_app
def show(app: App, task_id: str) -> None:
    """Show task ID with its relationships, steps and notes."""
    shown = app.client().get_task(task_id)
    if app.out.json:
        app.out.document(shown.raw)
    else:
        app.out.task(shown)


@task.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(_tasks.STATUSES),
    help="Only tasks in this status (repeatable, OR).",
)
@_role_option
@_label_option
@click.option("--parent", metavar="ID", help="Only children of this task.")
@click.option("--mission", metavar="ID", help="Only tasks of this mission.")
@click.option("--assignee", metavar="SUBJECT", help="Only tasks leased by this subject (agent:agt_...).")
@click.option("--q", metavar="TEXT", help="Only tasks whose title or description contains TEXT.")
@click.option(
    "--blocked/--unblocked",
    default=None,
    help="Only tasks that are (or are not) blocked: status blocked or an open blocker.",
)
@click.option("--limit", type=click.IntRange(1, 1000), help="Page size (server default 100).")
@click.option("--after-id", metavar="ID", help="Continue after this id (a page's next_after_id).")
@pass_app
def list_(
    app: App,
    statuses: tuple[str, ...],
    role: str | None,
    labels: tuple[str, ...],
    parent: str | None,
    mission: str | None,
    assignee: str | None,
    q: str | None,
    blocked: bool | None,
    limit: int | None,
    after_id: str | None,
) -> None:
    """List tasks in id order."""
    page = app.client().list_tasks(
        status=list(statuses) or None,
        role=role,
        label=list(labels) or None,
        parent=parent,
        mission=mission,
        assignee=assignee,
        q=q,
        blocked=blocked,
        after_id=after_id,
        limit=limit,
    )
    if app.out.json:
        app.out.document(page.raw)
        return
    count = len(page.items)
    parts = [f"{count} task{'' if count == 1 else 's'}"]
    if page.next_after_id:
        parts.append(f"more: --after-id {page.next_after_id}")
    app.out.tasks(page.items, footer=" · ".join(parts))


@task.command()
@_role_option
@_label_option
@click.option("--limit", type=click.IntRange(1, 500), help="At most this many (server default 50).")
@pass_app
def ready(app: App, role: str | None, labels: tuple[str, ...], limit: int | None) -> None:
    """The ready queue, best first: open, nothing blocking, not leased."""
    tasks = app.client().ready_tasks(role, labels, limit)
    if app.out.json:
        app.out.document({"items": [t.raw for t in tasks]})
        return
    app.out.tasks(tasks, footer=f"{len(tasks)} ready")


# -- claims and leases -----------------------------------------------------------------

_ttl_option = click.option(
    "--ttl",
    type=click.FloatRange(1, 86400),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="Lease time; renew before it runs out.",
)


def _claim(
    app: App, task_id: str | None, role: str | None, labels: tuple[str, ...], ttl: float, session: str | None
) -> Claim | None:
    if task_id is not None and (role or labels):
        raise click.UsageError("--role and --label choose among ready tasks; not with a task ID")
    client = app.client()
    if task_id is not None:
        return client.claim_task_id(task_id, ttl_s=ttl, session_id=session)
    return client.claim_task(role, labels, ttl_s=ttl, session_id=session)


def _nothing_ready(role: str | None, labels: tuple[str, ...]) -> str:
    filters = [f"role {role}"] if role else []
    filters += [f"label {label}" for label in labels]
    return "nothing ready" + (f" ({', '.join(filters)})" if filters else "")


@task.command()
@click.argument("task_id", metavar="[ID]", required=False)
@_role_option
@_label_option
@_ttl_option
@click.option("--session", metavar="SESSION_ID", help="Claim under this session (heartbeats keep it).")
@pass_app
def claim(
    app: App, task_id: str | None, role: str | None, labels: tuple[str, ...], ttl: float, session: str | None
) -> None:
    """Claim task ID, or the best ready one; prints {task, lease}.

    Nothing ready exits 0: `null` with --json, a message on stderr otherwise.
    """
    got = _claim(app, task_id, role, labels, ttl, session)
    if got is None:
        if app.out.json:
            app.out.document(None)
        else:
            app.out.note(_nothing_ready(role, labels))
        return
    if app.out.json:
        app.out.document(got.raw)
    else:
        app.out.claim(got)


@task.command()
@click.argument("lease_id", metavar="LEASE_ID")
@click.option(
    "--ttl", type=click.FloatRange(1, 86400), metavar="SECONDS", help="New lease time (default: its own)."
)
@_lease_fence_option
@pass_app
def renew(app: App, lease_id: str, ttl: float | None, fence: int | None) -> None:
    """Extend a live lease (exit 1 with LEASE_EXPIRED once it is gone)."""
    lease = app.client().renew_lease(lease_id, ttl_s=ttl, fencing_token=_fence_for_lease(lease_id, fence))
    if app.out.json:
        app.out.document(lease.raw)
    else:
        app.out.say(f"lease {lease.id} on {lease.task_id} renewed until {lease.expires_at.isoformat()}")


@task.command()
@click.argument("lease_id", metavar="LEASE_ID")
@_lease_fence_option
@click.option("--outcome", help="What was tried (kept as an attempt note); with --complete, the outcome.")
@click.option("--complete", is_flag=True, help="Complete the task instead of handing it back.")
@pass_app
def release(app: App, lease_id: str, fence: int | None, outcome: str | None, complete: bool) -> None:
    """Hand a leased task back to the ready queue (or complete it)."""
    if complete and not (outcome or "").strip():
        raise click.UsageError("--complete needs --outcome")
    released = app.client().release_lease(
        lease_id, fencing_token=_fence_for_lease(lease_id, fence), outcome=outcome, complete=complete
    )
    if app.out.json:
        app.out.document(released.raw)
    else:
        app.out.say(f"released {released.task.id} ({released.task.status}); lease {released.lease.id} ended")


@task.command()
@click.argument("task_id", metavar="ID")
@click.option("--outcome", required=True, metavar="TEXT", help="What came of it.")
@_fence_option
@pass_app
def done(app: App, task_id: str, outcome: str, fence: int | None) -> None:
    """Complete task ID with its outcome."""
    if not outcome.strip():
        raise click.BadParameter("must not be empty", param_hint="--outcome")
    completed = app.client().complete_task(task_id, outcome, fencing_token=_fence_for_task(task_id, fence))
    _show_task(app, completed, f"{completed.id} completed")


@task.command()
@click.argument("task_id", metavar="ID")
@click.argument("status", type=click.Choice([s for s in _tasks.STATUSES if s != "in_progress"]))
@click.option("--outcome", help="The outcome (needed to complete).")
@click.option("--reason", help="Why.")
@_fence_option
@pass_app
def transition(
    app: App, task_id: str, status: str, outcome: str | None, reason: str | None, fence: int | None
) -> None:
    """Move task ID to STATUS (to start work, claim it)."""
    moved = app.client().transition_task(
        task_id, status, outcome=outcome, reason=reason, fencing_token=_fence_for_task(task_id, fence)
    )
    _show_task(app, moved, f"{moved.id} is {moved.status}")


# -- notes, steps, relationships -------------------------------------------------------


@task.command()
@click.argument("task_id", metavar="ID")
@click.argument("kind", type=click.Choice(_tasks.NOTE_KINDS))
@click.argument("body", metavar="BODY|-")
@click.option("--supersedes", metavar="NOTE_ID", help="The note this one replaces.")
@_fence_option
@pass_app
def note(app: App, task_id: str, kind: str, body: str, supersedes: str | None, fence: int | None) -> None:
    """Add a note of KIND to task ID (BODY - reads it from stdin)."""
    stored = app.client().add_note(
        task_id,
        kind,
        _text_or_stdin(body, "BODY"),
        supersedes=supersedes,
        fencing_token=_fence_for_task(task_id, fence),
    )
    if app.out.json:
        app.out.document(stored)
    else:
        app.out.say(f"{kind} note {stored.get('id')} added to {task_id}")


@task.command()
@click.argument("task_id", metavar="ID")
@click.argument("action", type=click.Choice(["add", *STEP_ACTIONS]))
@click.argument("target", metavar="TITLE|STEP_ID")
@_fence_option
@pass_app
def step(app: App, task_id: str, action: str, target: str, fence: int | None) -> None:
    """Steps of task ID: `add TITLE`, or `done|skip|reopen STEP_ID`."""
    client = app.client()
    token = _fence_for_task(task_id, fence)
    if action == "add":
        stored = client.add_step(task_id, target, fencing_token=token)
    else:
        stored = client.set_step(task_id, target, STEP_ACTIONS[action], fencing_token=token)
    if app.out.json:
        app.out.document(stored)
    else:
        app.out.say(f"step {stored.get('id')} of {task_id}: {stored.get('title')} [{stored.get('status')}]")


@task.command()
@click.argument("task_id", metavar="ID")
@click.option(
    "--by", "other_id", required=True, metavar="OTHER", help="The task that must be completed first."
)
@_fence_option
@pass_app
def block(app: App, task_id: str, other_id: str, fence: int | None) -> None:
    """Make OTHER block ID: ID is not ready until OTHER is completed."""
    linked = app.client().link_tasks(
        task_id, "blocked_by", other_id, fencing_token=_fence_for_task(task_id, fence)
    )
    if app.out.json:
        app.out.document(linked)
    else:
        app.out.say(f"{other_id} blocks {task_id}")


_link_kind = click.argument("kind", type=click.Choice(_tasks.LINK_KINDS))


@task.command()
@click.argument("task_id", metavar="ID")
@_link_kind
@click.argument("other_id", metavar="OTHER")
@_fence_option
@pass_app
def relate(app: App, task_id: str, kind: str, other_id: str, fence: int | None) -> None:
    """Relate ID to OTHER: `ID blocks OTHER`, `ID child_of OTHER`, ..."""
    linked = app.client().link_tasks(task_id, kind, other_id, fencing_token=_fence_for_task(task_id, fence))
    if app.out.json:
        app.out.document(linked)
    else:
        app.out.say(f"{task_id} {kind} {other_id}")


@task.command()
@click.argument("task_id", metavar="ID")
@_link_kind
@click.argument("other_id", metavar="OTHER")
@_fence_option
@pass_app
def unrelate(app: App, task_id: str, kind: str, other_id: str, fence: int | None) -> None:
    """Remove the relationship `ID KIND OTHER`."""
    removed = app.client().unlink_tasks(
        task_id, kind, other_id, fencing_token=_fence_for_task(task_id, fence)
    )
    if app.out.json:
        app.out.document(removed)
    else:
        app.out.say(f"{task_id} no longer {kind} {other_id}")


# -- work ------------------------------------------------------------------------------


class CommandAfterDashes(click.Command):
    """Everything after the first `--` is the command to run, untouched by option parsing."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta[WORK_ARGV] = args[cut + 1 :]
            args = args[:cut]
        else:
            ctx.meta[WORK_ARGV] = []
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return [*super().collect_usage_pieces(ctx), "-- COMMAND [ARGS]..."]


@task.command(cls=CommandAfterDashes)
@click.argument("task_id", metavar="[ID]", required=False)
@_role_option
@_label_option
@click.option(
    "--ttl",
    type=click.FloatRange(3, 86400),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="Lease time; renewed every ttl/3 while the command runs.",
)
@pass_app
@click.pass_context
def work(
    ctx: click.Context, app: App, task_id: str | None, role: str | None, labels: tuple[str, ...], ttl: float
) -> None:
    """Claim task ID (or the best ready one), run COMMAND, then finish the task.

    The command gets MISSIOND_TASK_ID, MISSIOND_LEASE_ID and MISSIOND_FENCING_TOKEN;
    the lease is renewed every ttl/3 while it runs. Exit 0 completes the task with
    the tail of its output as the outcome; any other exit hands the task back with
    an attempt note, and missiond exits with the command's code. A lost lease
    exits 1 (LEASE_EXPIRED) without completing. Ctrl-C is passed on to the
    command, the lease released, exit 130. Nothing ready: exit 0, nothing run.
    """
    argv: list[str] = ctx.meta.get(WORK_ARGV, [])
    if not argv:
        raise click.UsageError("give the command to run after --, e.g. missiond task work -- make test")
    got = _claim(app, task_id, role, labels, ttl, None)
    if got is None:
        app.out.note(f"missiond: {_nothing_ready(role, labels)}; not running {argv[0]}")
        return
    code = run_claimed(
        app.client(),
        got,
        argv,
        ttl_s=ttl,
        spawn=app.deps.spawn,
        clock=app.deps.clock,
        out=app.out,
        write=binary_writer(),
    )
    ctx.exit(code)
