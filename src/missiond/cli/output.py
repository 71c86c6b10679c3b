"""How the CLI speaks: JSON for machines, tables and colour for people.

In JSON mode stdout carries exactly the server's JSON shapes: one document
per command (JSON lines for streams). Errors always go to stderr as
`error: CODE: detail`; in JSON mode the problem document follows on the
next line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from datetime import UTC, datetime, tzinfo
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from missiond.sdk import (
    Agent,
    Approval,
    Claim,
    Event,
    ProblemError,
    ProtocolError,
    Resource,
    ResourceEvent,
    Routine,
    RoutineRun,
    Task,
)
from missiond.sdk.models import parse_time

DATA_PREVIEW_CHARS = 80
VALUE_PREVIEW_CHARS = 48
KEY_COLUMN_MAX = 48


def _dumps(doc: Any, *, indent: int | None = None) -> str:
    separators = None if indent else (",", ":")
    return json.dumps(doc, indent=indent, ensure_ascii=False, separators=separators)


def type_style(event_type: str) -> str:
    last = event_type.rsplit(".", 1)[-1]
    if last in {"failed", "blocked", "rejected", "expired", "errored", "halted"}:
        return "bold red"
    if last in {"succeeded", "passed", "completed", "approved", "done"}:
        return "green"
    return "cyan"


def data_preview(data: Mapping[str, Any], limit: int = DATA_PREVIEW_CHARS) -> str:
    if not data:
        return ""
    return value_preview(data, limit)


def value_preview(value: Any, limit: int = VALUE_PREVIEW_CHARS) -> str:
    """Compact JSON cut to `limit` characters."""
    text = _dumps(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


STATUS_STYLES = {
    "open": "cyan",
    "in_progress": "yellow",
    "blocked": "bold red",
    "completed": "green",
    "cancelled": "dim",
}
TITLE_COLUMN_MAX = 60
STEP_MARKS = {"done": "[x]", "skipped": "[-]", "pending": "[ ]"}

RESOURCE_STYLES = {"resource.updated": "green", "resource.deleted": "yellow", "resource.expired": "bold red"}


ROUTINE_STATUS_STYLES = {"active": "green", "paused": "yellow", "draft": "magenta"}
RUN_STATUS_STYLES = {
    "queued": "cyan",
    "pending_approval": "yellow",
    "running": "cyan",
    "succeeded": "green",
    "failed": "bold red",
    "blocked_policy": "bold red",
    "denied": "red",
    "missed": "dim",
    "skipped_overlap": "dim",
}
APPROVAL_STYLES = {"pending": "yellow", "approved": "green", "denied": "red", "expired": "dim"}
EXTERNAL_BADGE = ("EXTERNAL", "bold white on red")
APPROVAL_BADGE = ("APPROVAL", "bold yellow")
ROUTINE_KEY_WIDTH = 13


class Output:
    def __init__(self, json_mode: bool, local_zone: tzinfo | None = None) -> None:
        self.json = json_mode
        self.local_zone = local_zone  # None: the machine's own (TZ)

    @cached_property
    def console(self) -> Console:
        return Console(highlight=False)

    # -- JSON ----------------------------------------------------------------

    def document(self, doc: Any) -> None:
        click.echo(_dumps(doc, indent=2))

    def json_line(self, doc: Any) -> None:
        click.echo(_dumps(doc))  # click.echo flushes: a pipe sees each line at once

    # -- stderr --------------------------------------------------------------

    def note(self, message: str) -> None:
        click.echo(message, err=True)

    def problem(self, error: ProblemError) -> None:
        click.echo(f"error: {error.code}: {error.detail or error.title or error.code}", err=True)
        if self.json:
            click.echo(_dumps(error.problem or {"status": error.status, "code": error.code}), err=True)

    def failure(self, code: str, detail: str, **extra: Any) -> None:
        click.echo(f"error: {code}: {detail}", err=True)
        if self.json:
            click.echo(_dumps({"code": code, "detail": detail, **extra}), err=True)

    # -- people --------------------------------------------------------------

    def say(self, message: str) -> None:
        self.console.print(Text(message), soft_wrap=True)  # ids and paths stay whole

    def key_values(self, title: str, rows: Sequence[tuple[str, Any]]) -> None:
        table = Table(title=title, show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column()
        for key, value in rows:
            table.add_row(key, "" if value is None else str(value))
        self.console.print(table)

    def events(self, events: Iterable[Event], footer: str = "") -> None:
        """One coloured line per event (lines, not a table: they survive narrow terminals)."""
        for event in events:
            self.event_line(event, with_date=True)
        if footer:
            self.console.print(Text(footer, style="dim"))

    def event_line(self, event: Event, *, with_date: bool = False) -> None:
        time_format = "%Y-%m-%d %H:%M:%S.%f" if with_date else "%H:%M:%S.%f"
        line = Text.assemble(
            (f"{event.seq:>6} ", "dim"),
            (event.ts.strftime(time_format)[:-3] + " ", "dim"),
            (event.type, type_style(event.type)),
            " ",
            (event.subject, "bold"),
        )
        if event.actor:
            line.append(f" {event.actor}", style="magenta")
        if preview := data_preview(event.data):
            line.append(f" {preview}")
        self.console.print(line, soft_wrap=True)

    # -- resources -------------------------------------------------------------

    def resource(self, record: Resource) -> None:
        self.key_values(
            record.key,
            [
                ("value", _dumps(record.value, indent=2)),
                ("rev", record.mod_rev),
                ("version", record.version),
                ("created rev", record.create_rev),
                ("updated by", record.updated_by),
                ("updated at", format_utc(record.updated_at)),
                ("expires at", format_utc(record.expires_at) if record.expires_at else "never"),
            ],
        )

    def resources(self, records: Iterable[Resource], footer: str = "") -> None:
        """A table for people: key, rev, version, updated_by and a short value preview."""
        rows = [
            (r.key, str(r.mod_rev), str(r.version), r.updated_by, value_preview(r.value)) for r in records
        ]
        table = Table(box=None, pad_edge=False, header_style="bold")
        # Every column but the preview keeps its width (a very long key folds); the preview
        # gets what is left of the line.
        for index, (name, style) in enumerate(
            (("key", "bold"), ("rev", ""), ("version", ""), ("updated_by", "magenta"))
        ):
            widest = max((len(row[index]) for row in rows), default=0)
            table.add_column(
                name,
                style=style,
                justify="right" if name in ("rev", "version") else "left",
                min_width=min(max(widest, len(name)), KEY_COLUMN_MAX),
                overflow="fold",
            )
        table.add_column("value", no_wrap=True, overflow="ellipsis")
        for row in rows:
            table.add_row(*row)
        self.console.print(table)
        if footer:
            self.console.print(Text(footer, style="dim"))

    def resource_change(self, change: ResourceEvent) -> None:
        """One coloured line per change: rev, time, type, key, who, and the new value."""
        line = Text.assemble((f"{change.rev:>6} ", "dim"))
        with suppress(ProtocolError):  # a frame without a time still gets its line
            line.append(parse_time(change.raw.get("ts")).strftime("%H:%M:%S.%f")[:-3] + " ", style="dim")
        line.append(change.type, style=RESOURCE_STYLES.get(change.type, "cyan"))
        line.append(" ")
        line.append(change.key, style="bold")
        data = change.raw.get("data")
        updated_by = data.get("updated_by") if isinstance(data, Mapping) else None
        if isinstance(updated_by, str):
            line.append(f" {updated_by}", style="magenta")
        if change.type == "resource.updated":
            line.append(f" {value_preview(change.value, DATA_PREVIEW_CHARS)}")
        self.console.print(line, soft_wrap=True)

    # -- the task board ------------------------------------------------------------

    def tasks(self, tasks: Iterable[Task], footer: str = "") -> None:
        """A table: id, priority, status, role, blockers, holder, title."""
        table = Table(box=None, pad_edge=False, header_style="bold")
        table.add_column("id", style="bold", no_wrap=True)
        table.add_column("P", justify="right")
        table.add_column("status", no_wrap=True)
        table.add_column("role", style="magenta")
        table.add_column("blockers", justify="right")
        table.add_column("holder", style="magenta")
        table.add_column("title", max_width=TITLE_COLUMN_MAX, overflow="ellipsis", no_wrap=True)
        for task in tasks:
            table.add_row(
                task.id,
                str(task.priority),
                Text(task.status, style=STATUS_STYLES.get(task.status, "")),
                task.role or "",
                str(task.open_blockers) if task.open_blockers else "",
                task.lease.holder if task.lease else "",
                task.title,
            )
        self.console.print(table)
        if footer:
            self.console.print(Text(footer, style="dim"))

    def task(self, task: Task) -> None:
        rows: list[tuple[str, Any]] = [
            ("title", task.title),
            ("status", task.status),
            ("type", task.type),
            ("priority", task.priority),
            ("labels", ", ".join(task.labels)),
            ("role", task.role),
            ("ready", "yes" if task.ready else "no"),
            ("open blockers", task.open_blockers),
            ("unblocks", task.unblocks),
        ]
        if task.lease is not None:
            lease = task.lease
            rows.append(
                (
                    "lease",
                    f"{lease.id} held by {lease.holder} (fencing token {lease.fencing_token}) "
                    f"until {format_utc(lease.expires_at)}",
                )
            )
        for name, value in (
            ("parent", task.parent_id),
            ("mission", task.mission_id),
            ("intent", task.intent),
            ("description", task.description),
            ("plan", task.plan),
            ("outcome", task.outcome),
        ):
            if value:
                rows.append((name, value))
        for kind, others in task.relationships.items():
            if others:
                rows.append((kind.replace("_", " "), ", ".join(others)))
        rows += [
            ("rev", task.rev),
            ("created", f"{_when(task.created_at)} by {task.created_by or '?'}"),
            ("updated", _when(task.updated_at)),
        ]
        if task.completed_at is not None:
            rows.append(("completed", _when(task.completed_at)))
        self.key_values(task.id, rows)
        if task.steps:
            self.console.print(Text("steps", style="bold"))
            for step in task.steps:
                mark = STEP_MARKS.get(str(step.get("status")), "[?]")
                line = Text(f"  {mark} {step.get('title', '')}  ")
                line.append(str(step.get("id", "")), style="dim")
                self.console.print(line, soft_wrap=True)
        if task.notes:
            self.console.print(Text("notes", style="bold"))
            for note in task.notes:
                self.note_line(note)

    def note_line(self, note: Mapping[str, Any]) -> None:
        line = Text.assemble(
            ("  ", ""),
            (str(note.get("kind", "")), "cyan"),
            " ",
            (str(note.get("author", "")), "magenta"),
            " ",
            (str(note.get("created_at", "")), "dim"),
        )
        if note.get("superseded_by_id"):
            line.append(f" (superseded by {note['superseded_by_id']})", style="dim")
        line.append(f": {_flat(str(note.get('body', '')), 200)}")
        self.console.print(line, soft_wrap=True)

    def claim(self, claim: Claim) -> None:
        lease = claim.lease
        self.say(
            f"claimed {claim.task.id} {claim.task.title!r}: lease {lease.id}, fencing token "
            f"{lease.fencing_token}, until {format_utc(lease.expires_at)}"
        )

    def agents(self, agents: Iterable[Agent]) -> None:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for name, style in (
            ("id", "bold"),
            ("name", ""),
            ("roles", "magenta"),
            ("capabilities", ""),
            ("created", "dim"),
        ):
            table.add_column(name, style=style)
        for agent in agents:
            table.add_row(
                agent.id,
                agent.name,
                ", ".join(agent.roles),
                " ".join(agent.capabilities),
                _when(agent.created_at),
            )
        self.console.print(table)

    # -- routines and approvals ----------------------------------------------------

    def when(self, moment: datetime | None, zone: str | None = None) -> str:
        """`2026-11-22 09:00 Europe/Berlin (08:00 local)`: in `zone` (UTC by default) and here."""
        return "" if moment is None else zoned_time(moment, zone, self.local_zone)

    def routines(self, routines: Iterable[Routine], footer: str = "") -> None:
        """A few lines per routine: who it is, its schedule in words, the next fire, the last result."""
        for routine in routines:
            header = Text.assemble((routine.id, "bold"), "  ", routine.name, "  ")
            header.append(routine.status, style=ROUTINE_STATUS_STYLES.get(routine.status, ""))
            for badge in routine_badges(routine):
                header.append("  ")
                header.append(*badge)
            self.console.print(header, soft_wrap=True)
            self._routine_line("schedule", Text(routine.schedule_text))
            self._routine_line("next", Text(self.next_fire(routine)))
            self._routine_line("last", self.last_result(routine.last_run, routine.timezone))
        if footer:
            self.console.print(Text(footer, style="dim"))

    def _routine_line(self, key: str, value: Text, indent: str = "  ") -> None:
        line = Text(f"{indent}{key:<{ROUTINE_KEY_WIDTH}}", style="bold")
        line.append_text(value)
        self.console.print(line, soft_wrap=True)

    def routine(self, routine: Routine) -> None:
        header = Text.assemble((routine.id, "bold"), "  ", routine.name)
        for badge in routine_badges(routine):
            header.append("  ")
            header.append(*badge)
        self.console.print(header, soft_wrap=True)
        status = Text(routine.status, style=ROUTINE_STATUS_STYLES.get(routine.status, ""))
        if routine.status == "draft":
            status.append(f" (a person must activate it: missiond routine activate {routine.id})")
        rows: list[tuple[str, Text]] = [
            ("status", status),
            ("schedule", Text(routine.schedule_text)),
            ("next fire", Text(self.next_fire(routine))),
            ("last fired", Text(self.when(routine.last_fired_at, routine.timezone) or "never")),
            ("last result", self.last_result(routine.last_run, routine.timezone)),
            ("action", Text(action_text(routine.action))),
            ("class", action_class_text(routine)),
            ("approval", Text("required for every run" if routine.requires_approval else "not required")),
            ("misfire", Text(misfire_text(routine.misfire))),
            ("overlap", Text(routine.overlap)),
        ]
        creator = routine.created_by
        if creator:
            rows.append(("created by", Text(f"{creator.get('type', '?')} {creator.get('id', '?')}")))
        rows.append(("rev", Text(str(routine.rev))))
        if routine.created_at is not None:
            rows.append(("created", Text(self.when(routine.created_at))))
        if routine.updated_at is not None:
            rows.append(("updated", Text(self.when(routine.updated_at))))
        for key, value in rows:
            self._routine_line(key, value)

    def next_fire(self, routine: Routine) -> str:
        if routine.status == "paused":
            return "none while paused (resume starts from now)"
        if routine.status == "draft":
            return "none until activated"
        return self.when(routine.next_fire_at, routine.timezone) or "none"

    def last_result(self, run: RoutineRun | None, zone: str | None = None) -> Text:
        if run is None:
            return Text("no runs yet", style="dim")
        text = Text(run.status, style=RUN_STATUS_STYLES.get(run.status, ""))
        text.append(f" ({run.trigger}) ")
        text.append(self.when(run.finished_at or run.started_at or run.scheduled_for, zone))
        if summary := run_summary(run):
            text.append(f" · {summary}")
        return text

    def run_line(self, run: RoutineRun, zone: str | None = None) -> None:
        line = Text.assemble((run.id, "bold"), "  ")
        line.append(f"{run.status:<16}", style=RUN_STATUS_STYLES.get(run.status, ""))
        line.append(f"{run.trigger:<10}")
        line.append(self.when(run.scheduled_for, zone), style="dim")
        if summary := run_summary(run):
            line.append(f"  {summary}")
        self.console.print(line, soft_wrap=True)

    def runs(self, runs: Iterable[RoutineRun], footer: str = "") -> None:
        """One line per run, newest first: id, status, trigger, when it was due, what came of it."""
        for run in runs:
            self.run_line(run)
        if footer:
            self.console.print(Text(footer, style="dim"))

    def approvals(self, approvals: Iterable[Approval], footer: str = "") -> None:
        for approval in approvals:
            self.approval_line(approval)
        if footer:
            self.console.print(Text(footer, style="dim"))

    def approval_line(self, approval: Approval) -> None:
        line = Text.assemble((approval.id, "bold"), "  ")
        line.append(approval.status, style=APPROVAL_STYLES.get(approval.status, ""))
        line.append(f"  {approval.subject}")
        if approval.requester:
            line.append(f"  {approval.requester}", style="magenta")
        if approval.status == "pending" and approval.expires_at is not None:
            line.append(f"  expires {self.when(approval.expires_at)}", style="dim")
        elif approval.decider:
            line.append(f"  by {approval.decider}", style="magenta")
            if approval.reason:
                line.append(f": {_flat(approval.reason, 120)}")
        self.console.print(line, soft_wrap=True)
        if approval.summary:
            self.console.print(Text(f"    {approval.summary}"), soft_wrap=True)


def _zone(name: str | None) -> tzinfo:
    if not name or name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def zoned_time(moment: datetime, zone: str | None, local: tzinfo | None = None) -> str:
    """`2026-11-22 09:00 Europe/Berlin (08:00 local)`: the moment in the routine's own zone
    (UTC when it has none) and in the local zone (`local`, else the machine's). The local
    part repeats the date only when it differs; seconds show only when there are some."""
    own = moment.astimezone(_zone(zone))
    mine = moment.astimezone(local) if local is not None else moment.astimezone()
    clock = "%H:%M:%S" if own.second or own.microsecond else "%H:%M"
    name = zone if zone and _zone(zone) is not UTC else "UTC"
    local_text = mine.strftime(clock if mine.date() == own.date() else f"%Y-%m-%d {clock}")
    return f"{own.strftime(f'%Y-%m-%d {clock}')} {name} ({local_text} local)"


def routine_badges(routine: Routine) -> list[tuple[str, str]]:
    badges = []
    if routine.external:
        badges.append(EXTERNAL_BADGE)
    if routine.requires_approval:
        badges.append(APPROVAL_BADGE)
    return badges


def action_class_text(routine: Routine) -> Text:
    if not routine.external:
        return Text("internal")
    text = Text(*EXTERNAL_BADGE)
    if routine.external_allowed:
        text.append(" external effects allowed")
    else:
        text.append(" runs are blocked: external effects not allowed (--allow-external)", style="bold red")
    return text


def action_text(action: Mapping[str, Any]) -> str:
    kind = action.get("kind")
    if kind == "command":
        argv = action.get("argv")
        words = [str(a) for a in argv] if isinstance(argv, list) else []
        shown = words[2] if len(words) == 3 and words[:2] == ["sh", "-c"] else " ".join(words)
        text = f"command: {shown}"
        if action.get("cwd"):
            text += f" (in {action['cwd']})"
        return text
    if kind == "connector":
        params = action.get("params")
        target = params.get("url") or params.get("argv") if isinstance(params, Mapping) else None
        return f"connector {action.get('connector')}" + (f": {target}" if target else "")
    if kind == "task":
        task = action.get("task")
        title = task.get("title") if isinstance(task, Mapping) else None
        return f"file a task: {title!r}" if title else "file a task"
    return value_preview(dict(action), DATA_PREVIEW_CHARS)


def misfire_text(misfire: Mapping[str, Any]) -> str:
    policy = misfire.get("policy", "run_once")
    parts = [str(policy)]
    if policy == "catch_up" and misfire.get("max_runs") is not None:
        parts.append(f"at most {misfire['max_runs']} runs")
    if misfire.get("grace_s") is not None:
        parts.append(f"grace {misfire['grace_s']:g} s")
    return parts[0] + (f" ({', '.join(parts[1:])})" if len(parts) > 1 else "")


def run_summary(run: RoutineRun) -> str:
    """What came of a run, in a few words."""
    detail = run.detail
    parts: list[str] = []
    if run.approval_id and run.status in ("pending_approval", "denied"):
        parts.append(f"approval {run.approval_id}")
    if run.task_id:
        parts.append(f"task {run.task_id}")
    if isinstance(detail.get("exit_code"), int):
        parts.append(f"exit {detail['exit_code']}")
    if isinstance(detail.get("status_code"), int):
        parts.append(f"HTTP {detail['status_code']}")
    if run.status == "missed":
        count = detail.get("count")
        parts.append(f"{count if count is not None else 'many'} missed ({detail.get('reason', '?')})")
    elif run.status in ("blocked_policy", "denied", "skipped_overlap") and detail.get("reason"):
        parts.append(str(detail["reason"]))
    if detail.get("error"):
        message = detail.get("message")
        parts.append(f"error {detail['error']}" + (f": {message}" if message else ""))
    tail = detail.get("output_tail")
    if isinstance(tail, str) and tail.strip():
        parts.append(_flat(tail.strip().splitlines()[-1], 60))
    return " · ".join(parts)


def format_utc(moment: datetime) -> str:
    """An aware datetime as RFC 3339 UTC with `Z`, to the millisecond."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _when(moment: datetime | None) -> str:
    return format_utc(moment) if moment is not None else ""


def _flat(text: str, limit: int = VALUE_PREVIEW_CHARS) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
