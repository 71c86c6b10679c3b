"""`missiond memory ...`: governed memory (MEMORY_TIERS.md).

    missiond memory put 'pin postgres to 16 in CI' --kind solution --tag ci --project acme/core/billing
    missiond memory search 'postgres ci' --tiers session,project --project acme/core/billing
    missiond memory promote MEM_ID --to project        # promoted, pending_review (approval id) or blocked
    missiond memory audit --action promote --project acme/core/billing
    missiond memory token --project acme/core/billing --run-id run-42 --promote project

With the admin token (the CLI's default) every command but show/promote/rm names the
partition with `--project ORG/WORKSPACE/PROJECT`; with a minted token (MISSIOND_TOKEN)
the token's own partition is used. `--json` prints the server's document unchanged.
"""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from missiond.cli.app import App, CliGroup, pass_app
from missiond.sdk.memory import KINDS, TIERS, MemoryRecord


def _partition(value: str | None) -> dict[str, str] | None:
    if value is None:
        return None
    parts = value.split("/")
    if len(parts) != 3 or not all(parts):
        raise click.BadParameter("ORG/WORKSPACE/PROJECT", param_hint="--project")
    return {"org": parts[0], "workspace": parts[1], "project": parts[2]}


def _tiers(value: str | None) -> list[str] | None:
    return [t.strip() for t in value.split(",") if t.strip()] if value else None


_PROJECT = click.option(
    "--project", "partition", metavar="ORG/WS/PROJECT", help="The partition (admin token)."
)


@click.group(cls=CliGroup)
def memory() -> None:
    """Governed memory: put, show, promote, search, audit, rm, token."""


@memory.command()
@click.argument("content")
@click.option("--kind", type=click.Choice(KINDS), default="note", show_default=True)
@click.option("--tier", type=click.Choice(TIERS), default="session", show_default=True)
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--ref", "refs", multiple=True, help="An artifact reference (repeatable).")
@click.option("--restricted", is_flag=True, help="Classify as restricted (default internal).")
@click.option("--ttl", "ttl_s", type=click.FloatRange(min=1), help="Seconds until it expires.")
@_PROJECT
@pass_app
def put(app: App, /, content: str, kind: str, tier: str, tags: tuple[str, ...], refs: tuple[str, ...],
        restricted: bool, ttl_s: float | None, partition: str | None) -> None:  # fmt: skip
    """Store CONTENT ('-' reads stdin) as a memory record."""
    text = click.get_text_stream("stdin").read() if content == "-" else content
    record = app.client().put_memory(
        text, kind=kind, tier=tier, tags=tags, artifact_refs=refs,
        classification="restricted" if restricted else "internal", ttl_s=ttl_s,
        partition=_partition(partition),
    )  # fmt: skip
    if app.out.json:
        app.out.document(record.raw)
        return
    app.out.say(
        f"stored {record.id} in {record.tier}"
        + (f" (expires {record.expires_at})" if record.expires_at else "")
    )


@memory.command()
@click.argument("memory_id", metavar="ID")
@pass_app
def show(app: App, memory_id: str) -> None:
    """Show one record."""
    record = app.client().get_memory(memory_id)
    if app.out.json:
        app.out.document(record.raw)
        return
    app.out.key_values(record.id, _rows(record))
    app.out.say(record.content or "")


def _rows(record: MemoryRecord) -> list[tuple[str, Any]]:
    p = record.partition
    return [
        ("partition", f"{p['org']}/{p['workspace']}/{p['project']}"),
        ("tier", record.tier),
        ("kind", record.kind),
        ("classification", record.classification),
        ("tags", ", ".join(record.tags) or "-"),
        ("source", record.source_memory_id or "-"),
        ("reviewed by", record.reviewed_by or "-"),
        ("created", f"{record.created_at} by {record.created_by}"),
        ("expires", record.expires_at or "never"),
    ]


@memory.command()
@click.argument("memory_id", metavar="ID")
@click.option("--to", "to", type=click.Choice(TIERS[1:]), required=True, help="The target tier.")
@click.option("--note", help="A note for the reviewer.")
@pass_app
def promote(app: App, memory_id: str, to: str, note: str | None) -> None:
    """Copy a record up to another tier through the scrubber (and a review unless waived)."""
    result = app.client().promote_memory(memory_id, to, note=note)
    if app.out.json:
        app.out.document(
            {"status": result.status, "scrub": dict(result.scrub), "promotion_id": result.promotion_id,
             "approval_id": result.approval_id, "memory": dict(result.memory.raw) if result.memory else None}
        )  # fmt: skip
        return
    counts = ", ".join(f"{n} {t}" for t, n in sorted(result.scrub.get("counts", {}).items())) or "no findings"
    line = f"{result.status}: scrub {result.scrub.get('outcome')} ({counts})"
    if result.memory:
        line += f"; new record {result.memory.id} in {result.memory.tier}"
    if result.approval_id:
        line += f"; a person approves with: missiond approval approve {result.approval_id}"
    app.out.say(line)


@memory.command()
@click.argument("query")
@click.option("--tiers", metavar="T1,T2", help="Tiers to search (default: every tier the token reads).")
@click.option("--limit", type=click.IntRange(1, 100), help="At most this many hits (default 10).")
@_PROJECT
@pass_app
def search(app: App, query: str, tiers: str | None, limit: int | None, partition: str | None) -> None:
    """Ranked full-text search."""
    found = app.client().search_memory(
        query, tiers=_tiers(tiers), limit=limit, partition=_partition(partition)
    )
    if app.out.json:
        app.out.document(
            {"items": [{"memory": dict(h.memory.raw), "score": h.score} for h in found.items],
             "tiers_used": list(found.tiers_used), "tiers_blocked": list(found.tiers_blocked),
             "terms": list(found.terms)}
        )  # fmt: skip
        return
    table = Table(title=f"{len(found.items)} hit(s) for {', '.join(found.terms)}", title_justify="left")
    for column in ("id", "tier", "kind", "score", "content"):
        table.add_column(column, overflow="fold" if column == "content" else "ellipsis")
    for hit in found.items:
        preview = (hit.memory.content or "").replace("\n", " ")[:120]
        table.add_row(hit.memory.id, hit.memory.tier, hit.memory.kind, f"{hit.score:.3g}", preview)
    app.out.console.print(table)
    if found.tiers_blocked:
        app.out.note(f"not searched (outside this token's capability): {', '.join(found.tiers_blocked)}")


@memory.command()
@click.option(
    "--action", type=click.Choice(["put", "read", "promote", "search", "delete", "expire", "grant"])
)
@click.option("--actor")
@click.option("--memory-id", metavar="ID")
@click.option("--outcome")
@click.option("--before-id", metavar="ID", help="Older than this entry (a page's next_before_id).")
@click.option("--limit", type=click.IntRange(1, 1000))
@_PROJECT
@pass_app
def audit(app: App, /, partition: str | None, **filters: Any) -> None:
    """The audit trail of a partition, newest first."""
    page = app.client().memory_audit(partition=_partition(partition), **filters)
    if app.out.json:
        app.out.document(
            {"items": [{"id": e.id, "action": e.action, "actor": e.actor, "partition": dict(e.partition),
                        "memory_id": e.memory_id, "outcome": e.outcome, "detail": dict(e.detail), "at": e.at}
                       for e in page.items],
             "next_before_id": page.next_before_id}
        )  # fmt: skip
        return
    table = Table(title=f"{len(page.items)} audit entries", title_justify="left")
    for column in ("at", "action", "actor", "tier", "memory", "outcome"):
        table.add_column(column)
    for e in page.items:
        table.add_row(
            e.at, e.action, e.actor, str(e.partition.get("tier") or "-"), e.memory_id or "-", e.outcome
        )
    app.out.console.print(table)
    if page.next_before_id:
        app.out.note(f"more: --before-id {page.next_before_id}")


@memory.command()
@click.argument("memory_id", metavar="ID")
@pass_app
def rm(app: App, memory_id: str) -> None:
    """Delete a record (its audit trail stays)."""
    deleted = app.client().delete_memory(memory_id)
    if app.out.json:
        app.out.document({"deleted": deleted})
        return
    app.out.say(f"deleted {deleted}")


@memory.command()
@click.option("--run-id", help="Mint a run token for this run id.")
@click.option("--agent", help="Mint an agent token (agent id or name) instead.")
@click.option("--read", "read_tiers", metavar="T1,T2", help="Readable tiers (default session,project).")
@click.option("--write", "write_tiers", metavar="T1,T2", help="Writable tiers (default session).")
@click.option("--promote", "promote_targets", metavar="T1,T2", help="Promotion targets (default none).")
@click.option("--no-review", is_flag=True, help="Promotions skip review (never into curated).")
@click.option("--read-audit", is_flag=True, help="The token may read the audit trail.")
@click.option("--ttl", "ttl_s", type=click.FloatRange(min=1), help="Seconds the token lives (default 24 h).")
@_PROJECT
@pass_app
def token(app: App, /, run_id: str | None, agent: str | None, read_tiers: str | None, write_tiers: str | None,
          promote_targets: str | None, no_review: bool, read_audit: bool, ttl_s: float | None,
          partition: str | None) -> None:  # fmt: skip
    """Mint a run- or agent-scoped token with a memory capability (admin; shown once)."""
    scope = _partition(partition)
    if scope is None:
        raise click.UsageError("give --project ORG/WORKSPACE/PROJECT")
    if (run_id is None) == (agent is None):
        raise click.UsageError("give exactly one of --run-id or --agent")
    minted = app.client().mint_memory_token(
        scope, run_id=run_id, agent=agent, read_tiers=_tiers(read_tiers), write_tiers=_tiers(write_tiers),
        promote_targets=_tiers(promote_targets), require_review_for_promote=not no_review,
        read_audit=read_audit or None, ttl_s=ttl_s,
    )  # fmt: skip
    if app.out.json:
        app.out.document(
            {"token": minted.token, "token_id": minted.token_id, "subject": minted.subject,
             "kind": minted.kind, "grant": dict(minted.grant), "expires_at": minted.expires_at}
        )  # fmt: skip
        return
    app.out.say(f"{minted.subject}: {minted.token} (expires {minted.expires_at}; shown once)")
