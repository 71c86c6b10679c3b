"""`missiond resource ...`: read, write, list and watch the shared resources (the blackboard).

Values are JSON: `missiond resource put project/x '{"owner": "a1"}'`, or `-`
(or nothing) to read them from stdin. `--if-rev N` makes a write conditional
on the revision you read (`If-Match`); a stale one exits 1 with
PRECONDITION_FAILED and changes nothing.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from missiond.cli.app import App, CliGroup, pass_app
from missiond.sdk import ResourcePage

_if_rev_option = click.option(
    "--if-rev",
    type=click.IntRange(min=0),
    metavar="REV",
    help="Only if the key is at revision REV (its mod_rev; 0 = absent), else exit 1.",
)


@click.group(cls=CliGroup)
def resource() -> None:
    """Read, write, list and watch shared resources (JSON values under keys)."""


def _json_document(what: str, value: str | None) -> Any:
    """The JSON `value`; from stdin when it is `-` or missing."""
    if value is None or value == "-":
        if value is None and sys.stdin.isatty():
            raise click.UsageError(f"give {what} as an argument, or pipe JSON on stdin (or pass -)")
        text = sys.stdin.read()
    else:
        text = value
    try:
        return json.loads(text)
    except ValueError as exc:
        hint = " (a JSON string needs quotes: '\"text\"')" if value not in (None, "-") else ""
        raise click.BadParameter(f"not JSON: {exc}{hint}", param_hint=what) from exc


@resource.command()
@click.argument("key")
@pass_app
def get(app: App, key: str) -> None:
    """Show the resource KEY (exit 1 with RESOURCE_NOT_FOUND when absent)."""
    record = app.client().get_resource(key)
    if app.out.json:
        app.out.document(record.raw)
    else:
        app.out.resource(record)


@resource.command()
@click.argument("key")
@click.argument("value", required=False, metavar="[VALUE|-]")
@_if_rev_option
@click.option("--create-only", is_flag=True, help="Only if KEY does not exist yet (If-None-Match: *).")
@click.option(
    "--ttl",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Expire the record after SECONDS (without it, an earlier TTL is cleared).",
)
@click.option("--idempotency-key", help="Make a retry of this exact call safe.")
@pass_app
def put(
    app: App,
    key: str,
    value: str | None,
    if_rev: int | None,
    create_only: bool,
    ttl: float | None,
    idempotency_key: str | None,
) -> None:
    """Create or replace KEY with the JSON VALUE (from stdin when - or omitted)."""
    if if_rev is not None and create_only:
        raise click.UsageError("--if-rev and --create-only exclude each other")
    document = _json_document("VALUE", value)
    record = app.client().put_resource(
        key,
        document,
        if_rev=if_rev,
        create_only=create_only,
        ttl_s=ttl,
        idempotency_key=idempotency_key,
    )
    if app.out.json:
        app.out.document(record.raw)
    else:
        verb = "created" if record.version == 1 else "replaced"
        app.out.say(f"{record.key}: {verb} at rev {record.mod_rev} (version {record.version})")


@resource.command()
@click.argument("key")
@click.argument("patch", required=False, metavar="[PATCH|-]")
@_if_rev_option
@click.option("--idempotency-key", help="Make a retry of this exact call safe.")
@pass_app
def patch(app: App, key: str, patch: str | None, if_rev: int | None, idempotency_key: str | None) -> None:
    """Merge PATCH (RFC 7386: null removes a member) into the existing KEY."""
    document = _json_document("PATCH", patch)
    record = app.client().patch_resource(key, document, if_rev=if_rev, idempotency_key=idempotency_key)
    if app.out.json:
        app.out.document(record.raw)
    else:
        app.out.say(f"{record.key}: patched at rev {record.mod_rev} (version {record.version})")


@resource.command()
@click.argument("key")
@_if_rev_option
@click.option("--idempotency-key", help="Make a retry of this exact call safe.")
@pass_app
def delete(app: App, key: str, if_rev: int | None, idempotency_key: str | None) -> None:
    """Delete the existing KEY."""
    deleted = app.client().delete_resource(key, if_rev=if_rev, idempotency_key=idempotency_key)
    if app.out.json:
        app.out.document(deleted.raw)
    else:
        app.out.say(f"{deleted.key}: deleted at rev {deleted.rev}")


@resource.command("list")
@click.argument("prefix", default="")
@click.option("--limit", type=click.IntRange(1, 1000), help="Page size (server default 100).")
@click.option("--after-key", metavar="KEY", help="Continue after this key (a page's next_after_key).")
@click.option(
    "--all",
    "follow",
    is_flag=True,
    help="Follow next_after_key to the last page (revision: the first page's, safe for watch --after).",
)
@pass_app
def list_(app: App, prefix: str, limit: int | None, after_key: str | None, follow: bool) -> None:
    """List the resources under PREFIX (e.g. project/), sorted by key."""
    client = app.client()
    if follow:
        pages = list(client.iter_resource_pages(prefix, after_key=after_key, page_size=limit))
    else:
        pages = [client.list_resources(prefix, after_key=after_key, limit=limit)]
    if app.out.json:
        app.out.document(_merged(pages))
        return
    last = pages[-1]
    items = [item for page in pages for item in page.items]
    parts = [f"{len(items)} resource{'' if len(items) == 1 else 's'}", f"revision {pages[0].revision}"]
    if last.next_after_key and not follow:
        parts.append(f"more: --after-key {last.next_after_key}")
    app.out.resources(items, footer=" · ".join(parts))


def _merged(pages: list[ResourcePage]) -> dict[str, Any]:
    """One list document: the server's own for one page; for several, every item under the
    first page's revision (no page is older, so a watch from it misses nothing)."""
    if len(pages) == 1:
        return dict(pages[0].raw)
    items = [item.raw for page in pages for item in page.items]
    return {**pages[0].raw, "items": items, "next_after_key": pages[-1].next_after_key}


@resource.command()
@click.argument("prefix", default="")
@click.option(
    "--after",
    type=click.IntRange(min=0),
    metavar="REV",
    help="Changes after revision REV (e.g. a list's revision); default: from now on.",
)
@pass_app
def watch(app: App, prefix: str, after: int | None) -> None:
    """Follow the changes under PREFIX as they happen (Ctrl-C to stop).

    Resumes after a dropped connection without losing or repeating a change.
    Piped, each change is one JSON line (the spine event as streamed).
    """
    try:
        client = app.client()
        if not app.out.json:
            where = f"under {prefix!r} " if prefix else ""
            app.out.note(f"watching resources {where}at {client.base_url} (Ctrl-C to stop)")
        for change in client.watch_resources(prefix, after=after):
            if app.out.json:
                app.out.json_line(change.raw)
            else:
                app.out.resource_change(change)
    except KeyboardInterrupt:
        pass
