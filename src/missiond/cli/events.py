"""`missiond events ...`: query, follow, append to and compact the spine."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from missiond.cli.app import App, CliGroup, pass_app
from missiond.sdk import EventPage

_type_option = click.option(
    "--type", "types", multiple=True, metavar="PREFIX", help="Type prefix (repeatable, OR)."
)
_subject_option = click.option(
    "--subject", "subjects", multiple=True, metavar="PREFIX", help="Subject prefix (repeatable)."
)


@click.group(cls=CliGroup)
def events() -> None:
    """Query, follow and append events on the spine."""


@events.command()
@_type_option
@_subject_option
@click.option("--after", type=click.IntRange(min=0), help="Only events with seq > AFTER.")
@click.option("--cursor", help="Continue from a previous page's next_cursor.")
@click.option("--since", metavar="TIME", help="RFC 3339 time, inclusive.")
@click.option("--until", metavar="TIME", help="RFC 3339 time, exclusive.")
@click.option("--limit", type=click.IntRange(1, 1000), help="Page size (server default 100).")
@click.option("--all", "follow", is_flag=True, help="Follow next_cursor to the last page.")
@pass_app
def query(
    app: App,
    types: tuple[str, ...],
    subjects: tuple[str, ...],
    after: int | None,
    cursor: str | None,
    since: str | None,
    until: str | None,
    limit: int | None,
    follow: bool,
) -> None:
    """List events, oldest first."""
    client = app.client()
    filters: dict[str, Any] = {
        "type": list(types) or None,
        "subject": list(subjects) or None,
        "after": after,
        "cursor": cursor,
        "since": since,
        "until": until,
    }
    if follow:
        pages = list(client.iter_event_pages(**filters, page_size=limit))
    else:
        pages = [client.query_events(**filters, limit=limit)]
    last = pages[-1]
    if app.out.json:
        if len(pages) == 1:
            app.out.document(last.raw)
        else:
            merged = [event.raw for page in pages for event in page.events]
            app.out.document({**last.raw, "events": merged})
        return
    app.out.events((e for page in pages for e in page.events), footer=_footer(last))


def _footer(page: EventPage) -> str:
    parts = [f"head {page.head}", f"floor {page.floor}"]
    if page.next_cursor:
        parts.append(f"more: --cursor {page.next_cursor}")
    return " · ".join(parts)


@events.command()
@_type_option
@_subject_option
@click.option(
    "--after",
    type=click.IntRange(min=0),
    help="Start after this seq (0 replays everything retained); default: new events only.",
)
@pass_app
def tail(app: App, types: tuple[str, ...], subjects: tuple[str, ...], after: int | None) -> None:
    """Follow the live stream of events (Ctrl-C to stop)."""
    client = app.client()
    if not app.out.json:
        app.out.note(f"following events at {client.base_url} (Ctrl-C to stop)")
    stream = client.stream_events(type=list(types) or None, subject=list(subjects) or None, after=after)
    try:
        for event in stream:
            if app.out.json:
                app.out.json_line(event.raw)
            else:
                app.out.event_line(event)
    except KeyboardInterrupt:
        pass


def _data_object(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return {}
    text = sys.stdin.read() if value == "-" else value
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise click.BadParameter("must be a JSON object")
    return data


@events.command()
@click.argument("type")
@click.argument("subject")
@click.option(
    "--data",
    callback=_data_object,
    metavar="JSON",
    help="Payload: a JSON object, or - to read it from stdin.",
)
@click.option(
    "--v", "version", type=click.IntRange(min=1), default=1, show_default=True, help="Payload schema version."
)
@click.option("--causation-id", help="Id of the event that caused this one.")
@click.option("--idempotency-key", help="Make a retry of this exact call safe.")
@pass_app
def emit(
    app: App,
    type: str,
    subject: str,
    data: dict[str, Any],
    version: int,
    causation_id: str | None,
    idempotency_key: str | None,
) -> None:
    """Append an external event TYPE about SUBJECT."""
    event = app.client().ingest_event(
        type, subject, data, v=version, causation_id=causation_id, idempotency_key=idempotency_key
    )
    if app.out.json:
        app.out.document(event.raw)
    else:
        app.out.event_line(event)


@events.command()
@click.option(
    "--through",
    type=click.IntRange(min=0),
    required=True,
    metavar="SEQ",
    help="Delete events with seq <= SEQ.",
)
@pass_app
def compact(app: App, through: int) -> None:
    """Drop old events from the spine (admin)."""
    answer = app.client().compact(through)
    if app.out.json:
        app.out.document(answer)
    else:
        details = ", ".join(f"{k} {v}" for k, v in answer.items())
        suffix = f" ({details})" if details else ""
        app.out.say(f"compacted events through seq {through}{suffix}")
