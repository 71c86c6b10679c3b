"""Benchmark: the ready queue and claims on a large board (SQLite).

    .venv/bin/python bench/ready_queue.py [--tasks 100000] [--deps 200000] [--samples 300]

Seeds a board of `tasks` tasks and `deps` `blocks` dependencies (a random DAG;
half the tasks completed, so a realistic share is ready), written in bulk
straight to the tables. Then, through the service layer with real
durability settings, measures:
  - `ready` (top 50, with and without a role filter): p50 / p99
  - `claim` (best ready task, one transaction each): p50 / p99
  - claims/s with 8 concurrent claimer threads, and a check that no task
    was claimed twice.
Targets: ready p99 < 20 ms, claim p99 < 30 ms. Prints a table and a JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from missiond.bootstrap import build
from missiond.identifiers import new_id
from missiond.services.context import Principal, RequestContext
from missiond.settings import Settings
from missiond.storage.tables import TaskLabelRow, TaskLinkRow, TaskRow

ROLES = ("executor", "reviewer", "tester", "planner")


def seed(system, n_tasks: int, n_deps: int, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    ids = [new_id("tsk") for _ in range(n_tasks)]
    completed = [i < n_tasks // 2 for i in range(n_tasks)]
    rng.shuffle(completed)
    edges: set[tuple[int, int]] = set()
    while len(edges) < n_deps:
        a, b = rng.randrange(n_tasks), rng.randrange(n_tasks)
        if a != b:
            edges.add((min(a, b), max(a, b)))  # lower index blocks higher: acyclic
    open_blockers = Counter(b for a, b in edges if not completed[a])
    unblocks = Counter(a for a, _b in edges)
    base = 1_700_000_000_000_000
    rows = [
        {
            "id": ids[i],
            "title": f"task {i}",
            "type": "feature",
            "status": "completed" if completed[i] else "open",
            "intent": "",
            "description": "",
            "plan": "",
            "priority": rng.randrange(5),
            "labels": [],
            "role": ROLES[i % len(ROLES)],
            "parent_id": None,
            "mission_id": None,
            "outcome": None,
            "rev": 1,
            "open_blockers": open_blockers[i],
            "unblocks": unblocks[i],
            "fence": 0,
            "lease_id": None,
            "lease_agent": None,
            "lease_expires_at_us": None,
            "created_by": "bench",
            "created_at_us": base + i,
            "updated_at_us": base + i,
            "completed_at_us": None,
        }
        for i in range(n_tasks)
    ]
    links = [{"src_id": ids[a], "kind": "blocks", "dst_id": ids[b], "created_at_us": base} for a, b in edges]
    labels = [{"task_id": ids[i], "label": f"area-{i % 20}"} for i in range(n_tasks)]
    with system.store.engine.begin() as conn:
        for table, data in ((TaskRow, rows), (TaskLinkRow, links), (TaskLabelRow, labels)):
            for start in range(0, len(data), 5000):
                conn.execute(sa.insert(table.__table__), data[start : start + 5000])
        conn.exec_driver_sql("ANALYZE")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def timed(fn, samples: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--deps", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--claimers", type=int, default=8)
    parser.add_argument("--claim-seconds", type=float, default=5.0)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="missiond-bench-") as tmp:
        system = build(Settings.from_env(home=Path(tmp), database_url=f"sqlite:///{tmp}/bench.db"))
        t0 = time.perf_counter()
        print(f"seeding {args.tasks} tasks and {args.deps} dependencies...", file=sys.stderr)
        seed(system, args.tasks, args.deps, rng)
        seed_s = time.perf_counter() - t0
        admin = RequestContext(principal=Principal("user:admin", "admin", frozenset({"*"})))
        leases = system.leases
        ready_ms = timed(lambda: leases.ready(admin, role=None, labels=[], limit=50), args.samples)
        ready_role_ms = timed(lambda: leases.ready(admin, role="executor", labels=[], limit=50), args.samples)
        ready_label_ms = timed(
            lambda: leases.ready(admin, role=None, labels=["area-3"], limit=50), args.samples
        )
        claim_ms = timed(
            lambda: leases.claim(admin, task_id=None, role=None, labels=[], ttl_s=600, session_id=None),
            args.samples,
        )
        claimed: list[str] = []
        lock = threading.Lock()
        deadline = time.perf_counter() + args.claim_seconds

        def claimer(n: int) -> None:
            ctx = RequestContext(principal=Principal(f"agent:bench{n}", "agent", frozenset({"*"})))
            while time.perf_counter() < deadline:
                body, _ = leases.claim(ctx, task_id=None, role=None, labels=[], ttl_s=600, session_id=None)
                if body is None:
                    return
                with lock:
                    claimed.append(body["task"]["id"])

        threads = [threading.Thread(target=claimer, args=(n,)) for n in range(args.claimers)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        concurrent_s = time.perf_counter() - start
        system.close()
    figures = {
        "tasks": args.tasks,
        "deps": args.deps,
        "seed_s": round(seed_s, 1),
        "ready_p50_ms": statistics.median(ready_ms),
        "ready_p99_ms": pct(ready_ms, 0.99),
        "ready_role_p99_ms": pct(ready_role_ms, 0.99),
        "ready_label_p99_ms": pct(ready_label_ms, 0.99),
        "claim_p50_ms": statistics.median(claim_ms),
        "claim_p99_ms": pct(claim_ms, 0.99),
        "claimers": args.claimers,
        "claims_per_s": len(claimed) / concurrent_s,
        "double_claims": len(claimed) - len(set(claimed)),
    }
    rows = [
        (
            "ready p50 / p99",
            f"{figures['ready_p50_ms']:.2f} / {figures['ready_p99_ms']:.2f} ms",
            "p99 < 20 ms",
        ),
        ("ready role p99", f"{figures['ready_role_p99_ms']:.2f} ms", ""),
        ("ready label p99", f"{figures['ready_label_p99_ms']:.2f} ms", ""),
        (
            "claim p50 / p99",
            f"{figures['claim_p50_ms']:.2f} / {figures['claim_p99_ms']:.2f} ms",
            "p99 < 30 ms",
        ),
        (f"claims/s ({args.claimers} threads)", f"{figures['claims_per_s']:.0f}", ""),
        ("double claims", str(figures["double_claims"]), "must be 0"),
    ]
    for name, value, note in rows:
        print(f"{name:<24} {value:>22}  {note}")
    figures["ready_target_met"] = figures["ready_p99_ms"] < 20
    figures["claim_target_met"] = figures["claim_p99_ms"] < 30
    print(
        json.dumps(
            {
                "bench": "ready_queue",
                **{k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
