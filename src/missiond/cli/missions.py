"""`missiond mission ...`, `missiond work submit` and `missiond review ...`: missions and the pull protocol.

    missiond mission create spec.json --start       # a spec file (JSON), or - for stdin
    missiond mission list --status running
    missiond mission show MSN                         # items by status, attempts, gates, feedback
    missiond mission watch MSN                        # live events until the mission ends
    missiond mission pause|resume|cancel MSN

An agent working a board task of a mission (claimed with `missiond task
claim --role executor`) answers it with:

    missiond work submit MSN ITEM --summary 'added retries'  [--failed]
    missiond review approve MSN ITEM
    missiond review request-changes MSN ITEM --feedback 'add a test for the timeout'

With `--json` every command prints the server's document unchanged.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from missiond.cli.app import App, CliGroup, pass_app
from missiond.sdk.missions import ITEM_STATUSES, MISSION_STATUSES, Mission

STATUS_STYLE = {
    "draft": "dim",
    "running": "cyan",
    "paused": "yellow",
    "halted": "bold yellow",
    "succeeded": "green",
    "failed": "bold red",
    "cancelled": "dim",
    "done": "green",
    "rework": "yellow",
    "review": "magenta",
    "test": "blue",
    "in_progress": "cyan",
    "blocked": "dim",
    "ready": "white",
}
BOARD_COLUMNS = ("ready", "in_progress", "review", "test", "rework", "done", "failed")
TERMINAL = ("succeeded", "failed", "cancelled")


def _styled(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def _print(app: App, mission: Mission, message: str | None = None) -> None:
    if app.out.json:
        app.out.document(mission.raw)
        return
    if message:
        app.out.say(message)
    _show(app, mission)


def _show(app: App, mission: Mission) -> None:
    console = app.out.console
    progress = mission.progress
    head = Text.assemble((mission.id, "bold"), "  ", mission.title, "  ", _styled(mission.status))
    head.append(f"  {progress.get('done', 0)}/{progress.get('total', 0)} done")
    console.print(head)
    if mission.reason:
        console.print(Text(f"reason: {mission.reason}", style="yellow"))
    if not mission.items:
        return
    board = Table(show_lines=False, title_justify="left")
    for column in BOARD_COLUMNS:
        board.add_column(column, style=STATUS_STYLE.get(column, ""))
    columns: dict[str, list[str]] = {c: [] for c in BOARD_COLUMNS}
    for item in mission.items:
        status = item.get("status", "")
        key = status if status in columns else ("ready" if status in ("todo", "blocked") else "failed")
        columns[key].append(f"{item['id']} (a{len(item.get('attempts', []))})")
    for row in range(max(len(v) for v in columns.values())):
        board.add_row(*[(columns[c][row] if row < len(columns[c]) else "") for c in BOARD_COLUMNS])
    console.print(board)
    detail = Table(title="work items", title_justify="left")
    for column in ("item", "status", "attempt", "review", "test", "feedback"):
        detail.add_column(column, overflow="fold")
    for item in mission.items:
        attempt = (item.get("attempts") or [{}])[-1]
        review = attempt.get("review") or ""
        test = attempt.get("test") or ""
        if attempt.get("exit_code") is not None:
            test += f" (exit {attempt['exit_code']})"
        feedback = (item.get("feedback") or [""])[-1].splitlines()
        detail.add_row(
            f"{item['id']}: {item.get('title', '')}",
            _styled(item.get("status", "")),
            str(attempt.get("n", "")),
            review,
            test,
            feedback[0][:80] if feedback else "",
        )
    console.print(detail)


@click.group(cls=CliGroup)
def mission() -> None:
    """Missions: a goal worked by planner, executor, reviewer and tester roles."""


@mission.command()
@click.argument("spec_file", type=click.File("r"), metavar="SPEC.json")
@click.option("--start", is_flag=True, help="Start it at once.")
@click.option("--idempotency-key", help="Make a retry of this exact call safe.")
@pass_app
def create(app: App, spec_file: Any, start: bool, idempotency_key: str | None) -> None:
    """Create a mission from a JSON spec file (- reads stdin)."""
    try:
        spec = json.load(spec_file)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="SPEC.json") from None
    created = app.client().create_mission(spec, start=start, idempotency_key=idempotency_key)
    _print(app, created, f"created {created.id}")


@mission.command("list")
@click.option("--status", type=click.Choice(MISSION_STATUSES), help="Only missions in this status.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--after", metavar="ID", help="Continue after this id (a page's next_cursor).")
@pass_app
def list_(app: App, status: str | None, limit: int, after: str | None) -> None:
    """Missions, newest first, with progress."""
    page = app.client().list_missions(status, after=after, limit=limit)
    if app.out.json:
        app.out.document({"items": [m.raw for m in page.items], "next_cursor": page.next_cursor,
                          "counts": dict(page.counts)})  # fmt: skip
        return
    table = Table(title_justify="left")
    for column in ("id", "title", "status", "progress", "reason"):
        table.add_column(column, overflow="fold")
    for m in page.items:
        done, total = m.progress.get("done", 0), m.progress.get("total", 0)
        table.add_row(m.id, m.title, _styled(m.status), f"{done}/{total}", m.reason or "")
    app.out.console.print(table)
    counts = " · ".join(f"{k} {v}" for k, v in sorted(page.counts.items()))
    app.out.note(counts + (f" · more: --after {page.next_cursor}" if page.next_cursor else ""))


@mission.command()
@click.argument("mission_id", metavar="ID")
@pass_app
def show(app: App, mission_id: str) -> None:
    """A mission with its work items by status, attempts, gate results and feedback."""
    _print(app, app.client().get_mission(mission_id))


def _action(name: str, help_text: str) -> None:
    @mission.command(name, help=help_text)
    @click.argument("mission_id", metavar="ID")
    @click.option("--reason", help="Why (kept with a cancel).") if name == "cancel" else (lambda f: f)
    @pass_app
    def command(app: App, mission_id: str, reason: str | None = None) -> None:
        changed = app.client().mission_action(mission_id, name, reason)
        _print(app, changed, f"{name}: {changed.id} is {changed.status}")


_action("start", "Start a draft mission.")
_action("pause", "Pause: no new work is dispatched; work in flight may still finish.")
_action("resume", "Resume a paused or halted mission; ready work is dispatched at once.")
_action("cancel", "Cancel: open work is released.")


@mission.command()
@click.argument("mission_id", metavar="ID")
@click.option("--after", type=int, default=0, show_default=True, help="Only events after this seq.")
@pass_app
def events(app: App, mission_id: str, after: int) -> None:
    """The mission's events (its history)."""
    items = app.client().mission_events(mission_id, after=after)
    if app.out.json:
        app.out.document({"items": items})
        return
    for event in items:
        data = {k: v for k, v in event["data"].items() if k != "mission_id"}
        app.out.console.print(Text.assemble((f"{event['seq']:>8} ", "dim"), (event["type"], "bold"), " ",
                                            json.dumps(data)[:160]))  # fmt: skip


@mission.command()
@click.argument("mission_id", metavar="ID")
@click.option("--after", type=int, help="Start after this seq (default: the beginning of the mission).")
@pass_app
def watch(app: App, mission_id: str, after: int | None) -> None:
    """Follow a mission live until it ends (Ctrl-C to stop)."""
    client = app.client()
    current = client.get_mission(mission_id)
    if current.status in TERMINAL:
        _print(app, current, f"{mission_id} already {current.status}")
        return
    for event in client.watch_missions(
        mission_id, after=after if after is not None else 0, idle_timeout=None
    ):
        if app.out.json:
            app.out.json_line(event.raw)
        else:
            data = {k: v for k, v in dict(event.data).items() if k != "mission_id"}
            app.out.console.print(Text.assemble((f"{event.seq:>8} ", "dim"), (event.type, "bold"), " ",
                                                json.dumps(data, default=str)[:160]))  # fmt: skip
        if event.type in ("mission.succeeded", "mission.failed", "mission.cancelled"):
            return


@click.group(cls=CliGroup)
def work() -> None:
    """The pull protocol: answer a mission's board task."""


@work.command()
@click.argument("mission_id", metavar="MISSION")
@click.argument("item_id", metavar="ITEM")
@click.option("--summary", help="What was done (the reviewer reads it).")
@click.option("--failed", is_flag=True, help="The run failed: the item goes to rework.")
@click.option(
    "--attempt", type=click.IntRange(min=1), help="The attempt answered (default: the current one)."
)
@click.option(
    "--output",
    "output_file",
    type=click.File("r"),
    metavar="FILE",
    help="Hand in FILE (a diff, a log; '-' reads stdin) as the attempt's artifact.",
)
@pass_app
def submit(
    app: App,
    mission_id: str,
    item_id: str,
    summary: str | None,
    failed: bool,
    attempt: int | None,
    output_file: Any,
) -> None:
    """Submit the work for ITEM of MISSION."""
    if summary == "-":
        summary = sys.stdin.read()
    output = output_file.read() if output_file is not None else None
    changed = app.client().submit_work(
        mission_id, item_id, summary, ok=not failed, attempt=attempt, output=output
    )
    _print(app, changed, f"submitted {item_id}")


@click.group(cls=CliGroup)
def review() -> None:
    """The reviewer role: approve work or request changes."""


@review.command()
@click.argument("mission_id", metavar="MISSION")
@click.argument("item_id", metavar="ITEM")
@click.option("--attempt", type=click.IntRange(min=1))
@pass_app
def approve(app: App, mission_id: str, item_id: str, attempt: int | None) -> None:
    """Approve the submitted work; it goes on to the test gate."""
    changed = app.client().review_work(mission_id, item_id, "approve", attempt=attempt)
    _print(app, changed, f"approved {item_id}")


@review.command("request-changes")
@click.argument("mission_id", metavar="MISSION")
@click.argument("item_id", metavar="ITEM")
@click.option("--feedback", required=True, help="What must change (carried into the next attempt).")
@click.option("--attempt", type=click.IntRange(min=1))
@pass_app
def request_changes(app: App, mission_id: str, item_id: str, feedback: str, attempt: int | None) -> None:
    """Send the work back to rework with feedback."""
    changed = app.client().review_work(mission_id, item_id, "request_changes", feedback, attempt=attempt)
    _print(app, changed, f"changes requested for {item_id}")


__all__ = ["ITEM_STATUSES", "mission", "review", "work"]
