"""How much the service layer costs over raw sqlite3 when appending to the event spine.

    .venv/bin/python bench/event_append.py [--n 2000] [--batch 100] [--repeats 3] [--dir PATH]

Four measurements, each on a fresh SQLite file (WAL, synchronous=FULL, busy timeout):

  raw-single       sqlite3, one transaction per event: bump the counter row, insert the event
  raw-batched      sqlite3, `--batch` events per transaction
  service-single   EventService.ingest(ctx, [event]) with an admin context, one event per call
  service-batched  EventService.ingest(ctx, events) with `--batch` events per call

Each is warmed up, then run `--repeats` times (round-robin); the median counts. Prints a table
(rich when stdout is a terminal) and, last, one JSON line for machines.
The target is service-single / raw-single >= 0.5.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ulid import ULID

from missiond.bootstrap import build
from missiond.core.events import NewEvent
from missiond.services.context import Principal, RequestContext
from missiond.settings import Settings

TARGET_RATIO = 0.5
EVENT_TYPE = "session.tool.finished"
SUBJECT = "session/bench"

# The shape of storage/tables.py's `spine_state` and `events`, with the same indexes.
RAW_SCHEMA = """
CREATE TABLE spine_state (id INTEGER PRIMARY KEY, head BIGINT NOT NULL, floor BIGINT NOT NULL);
INSERT INTO spine_state (id, head, floor) VALUES (1, 0, 0);
CREATE TABLE events (
    seq BIGINT PRIMARY KEY, id VARCHAR(40) NOT NULL UNIQUE, type VARCHAR(128) NOT NULL,
    subject VARCHAR(512) NOT NULL, ts_us BIGINT NOT NULL, actor VARCHAR(200) NOT NULL,
    correlation_id VARCHAR(128), causation_id VARCHAR(64), data JSON NOT NULL, v INTEGER NOT NULL
);
CREATE INDEX ix_events_type_seq ON events (type, seq);
CREATE INDEX ix_events_subject_seq ON events (subject, seq);
CREATE INDEX ix_events_ts ON events (ts_us);
"""
INSERT = (
    "INSERT INTO events (seq, id, type, subject, ts_us, actor, correlation_id, causation_id, data, v) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
BUMP = "UPDATE spine_state SET head = head + ? WHERE id = 1 RETURNING head"


def payload(i: int) -> dict[str, Any]:
    return {"tool": "bash", "step": i, "ok": True, "exit_code": 0, "note": "ran the unit tests"}


# -- raw sqlite3 ----------------------------------------------------------------------------


def raw_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.executescript(RAW_SCHEMA)
    return conn


def raw_append(conn: sqlite3.Connection, start: int, count: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    head = conn.execute(BUMP, (count,)).fetchone()[0]
    first = head - count + 1
    ts_us = time.time_ns() // 1000
    conn.executemany(
        INSERT,
        [
            (
                first + i,
                f"evt_{ULID()}",
                EVENT_TYPE,
                SUBJECT,
                ts_us,
                "user:admin",
                "cor_bench",
                None,
                json.dumps(payload(start + i)),
                1,
            )
            for i in range(count)
        ],
    )
    conn.execute("COMMIT")


def run_raw(directory: Path, n: int, per_txn: int, warmup: int) -> float:
    conn = raw_connect(directory / "raw.db")
    try:
        for i in range(0, warmup, per_txn):
            raw_append(conn, i, min(per_txn, warmup - i))
        return timed(n, per_txn, lambda i, count: raw_append(conn, i, count))
    finally:
        conn.close()


# -- the service layer ----------------------------------------------------------------------

ADMIN = RequestContext(
    principal=Principal(subject="user:admin", kind="admin", capabilities=frozenset({"*"})),
    correlation_id="cor_bench",
)


def run_service(directory: Path, n: int, per_call: int, warmup: int) -> float:
    system = build(Settings.from_env({}, home=directory / "home"))
    try:

        def ingest(start: int, count: int) -> None:
            batch = [NewEvent(EVENT_TYPE, SUBJECT, payload(start + i)) for i in range(count)]
            system.events.ingest(ADMIN, batch)

        for i in range(0, warmup, per_call):
            ingest(i, min(per_call, warmup - i))
        return timed(n, per_call, ingest)
    finally:
        system.close()


# -- measuring ------------------------------------------------------------------------------


def timed(n: int, per_unit: int, append: Callable[[int, int], None]) -> float:
    """Events per second for appending n events, per_unit at a time."""
    started = time.perf_counter()
    for i in range(0, n, per_unit):
        append(i, min(per_unit, n - i))
    return n / (time.perf_counter() - started)


@dataclass
class Measurement:
    name: str
    runs: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def measure(
    scenarios: list[tuple[str, Callable[[Path], float]]], repeats: int, base: Path | None
) -> list[Measurement]:
    """Round-robin over the scenarios, so that drifting machine load touches each alike."""
    results = [Measurement(name, []) for name, _ in scenarios]
    for _ in range(repeats):
        for (name, runner), result in zip(scenarios, results, strict=True):
            with tempfile.TemporaryDirectory(prefix=f"bench-{name}-", dir=base) as tmp:
                result.runs.append(runner(Path(tmp)))
    return results


# -- reporting ------------------------------------------------------------------------------


def report(results: list[Measurement], ratios: dict[str, float], context: dict[str, Any]) -> None:
    header = ("scenario", "events/s (median)", "µs/event", "runs (events/s)")
    rows = [
        (m.name, f"{m.median:,.0f}", f"{1e6 / m.median:,.1f}", "  ".join(f"{r:,.0f}" for r in m.runs))
        for m in results
    ]
    notes = [
        f"service/raw single-transaction ratio: {ratios['single']:.2f} (target >= {TARGET_RATIO})",
        f"service/raw batched ratio:            {ratios['batched']:.2f}",
        f"n={context['n']} batch={context['batch']} repeats={context['repeats']} "
        f"sqlite {context['sqlite_version']} python {context['python']} dir {context['dir']}",
    ]
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title="event append throughput (SQLite, WAL, synchronous=FULL)")
        for i, column in enumerate(header):
            table.add_column(column, justify="left" if i == 0 else "right")
        for row in rows:
            table.add_row(*row)
        console = Console()
        console.print(table)
        for note in notes:
            console.print(note, highlight=False)
    else:
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            pairs = enumerate(zip(row, widths, strict=True))
            cells = [cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in pairs]
            print("  ".join(cells))
        for note in notes:
            print(note)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="events per measurement (default 2000)")
    parser.add_argument("--batch", type=int, default=100, help="events per batched transaction (default 100)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per scenario; the median counts")
    parser.add_argument("--warmup", type=int, default=200, help="events appended before timing")
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary databases go")
    args = parser.parse_args(argv)
    if args.n < 1 or args.batch < 1 or args.repeats < 1 or args.warmup < 0:
        parser.error("--n, --batch and --repeats must be positive; --warmup must not be negative")

    n, batch, warmup = args.n, args.batch, args.warmup
    scenarios: list[tuple[str, Callable[[Path], float]]] = [
        ("raw-single", lambda d: run_raw(d, n, 1, warmup)),
        ("raw-batched", lambda d: run_raw(d, n, batch, warmup)),
        ("service-single", lambda d: run_service(d, n, 1, warmup)),
        ("service-batched", lambda d: run_service(d, n, batch, warmup)),
    ]
    results = measure(scenarios, args.repeats, args.dir)
    eps = {m.name: m.median for m in results}
    ratios = {
        "single": eps["service-single"] / eps["raw-single"],
        "batched": eps["service-batched"] / eps["raw-batched"],
    }
    context = {
        "n": n,
        "batch": batch,
        "repeats": args.repeats,
        "warmup": warmup,
        "sqlite_version": sqlite3.sqlite_version,
        "python": platform.python_version(),
        "dir": str(args.dir or tempfile.gettempdir()),
        "cpus": os.cpu_count(),
    }
    report(results, ratios, context)
    print(
        json.dumps(
            {
                "bench": "event_append",
                **context,
                "events_per_s": {name: round(value, 1) for name, value in eps.items()},
                "runs": {m.name: [round(r, 1) for r in m.runs] for m in results},
                "ratio_single": round(ratios["single"], 3),
                "ratio_batched": round(ratios["batched"], 3),
                "target_ratio_single": TARGET_RATIO,
                "meets_target": ratios["single"] >= TARGET_RATIO,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
