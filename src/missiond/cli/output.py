"""How the CLI speaks: JSON for machines, tables and colour for people.

In JSON mode stdout carries exactly the server's JSON shapes: one document
per command (JSON lines for streams). Errors always go to stderr as
`error: CODE: detail`; in JSON mode the problem document follows on the
next line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from missiond.sdk import Event, ProblemError

DATA_PREVIEW_CHARS = 80


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
    text = _dumps(data)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Output:
    def __init__(self, json_mode: bool) -> None:
        self.json = json_mode

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
        self.console.print(Text(message))

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
