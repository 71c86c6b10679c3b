"""Benchmark: governed memory at 100,000 records.

    .venv/bin/python bench/memory.py [--records 100000] [--searches 500] [--promotions 300]
                                     [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

One run, in-process against a fresh database (an SQLite file by default):
  1. load `records` records into one partition (four tiers; 40-word notes over an
     8,000-word vocabulary with Zipf frequencies) through the repository's bulk insert; the
     full-text index is kept in step by the same statements;
  2. search: `searches` ranked queries of 2-3 words (same Zipf law, minus the 30 most
     common words) through the service (grant checks, the query, the audit row and the
     `memory.searched` event); p50/p99 in ms, then the parts: the bare ranked query (the
     store's search in a read transaction) and the service's write transaction (audit row,
     event, commit: on SQLite a synchronous=FULL fsync, so the disk's latency shows here);
  3. promotions/s: `promotions` session records promoted to project through the scrubber
     (review waived, so each promotion is one transaction); one in ten holds a secret;
  4. scrub MB/s: agent notes (~2 KB, one in twenty with a leak) and a dense worst case
     where every line is a leak or a look-alike.
Prints a table and one JSON line with every figure, with the 1-minute load average before
and after (the machine is often shared: compare runs made at similar load). Targets: search
p99 < 30 ms; scrub >= 2 MB/s of agent notes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from missiond.bootstrap import build
from missiond.core.memory import Partition, search_terms
from missiond.core.scrub import scrub
from missiond.identifiers import new_id
from missiond.services.context import Principal, RequestContext
from missiond.settings import Settings
from missiond.storage.memory import MemoryStore

TARGET_SEARCH_P99_MS = 30.0
TARGET_SCRUB_MBPS = 2.0
TIERS = ("session", "project", "team", "curated")
PART = Partition("acme", "platform", "billing")
ADMIN = RequestContext(Principal(subject="user:admin", kind="admin", capabilities=frozenset({"*"})))
TOPICS = [
    "postgres",
    "pool",
    "timeout",
    "migration",
    "index",
    "vacuum",
    "replica",
    "lock",
    "deadlock",
    "transaction",
    "isolation",
    "docker",
    "cache",
    "layer",
    "image",
    "registry",
    "build",
    "kubernetes",
    "pod",
    "restart",
    "probe",
    "memory",
    "limit",
    "flaky",
    "test",
    "retry",
    "fixture",
    "websocket",
    "event",
    "loop",
    "dns",
    "timeout",
    "mock",
    "clock",
    "ordering",
    "deploy",
    "rollback",
    "release",
    "canary",
    "feature",
    "flag",
    "config",
    "secret",
    "rotation",
    "webhook",
    "backoff",
    "sqlite",
    "wal",
    "checkpoint",
    "fsync",
    "busy",
    "immediate",
    "writer",
    "reader",
    "snapshot",
    "cursor",
    "pagination",
]
FILLER = [
    "the",
    "a",
    "of",
    "to",
    "and",
    "when",
    "with",
    "after",
    "before",
    "because",
    "so",
    "we",
    "it",
    "this",
    "that",
    "then",
]
LEAK = "export GITHUB_TOKEN=ghp_" + "R8mZqk2Lw9XcVb4Tn6Yp1Hs3Dj5Fg7Ka0Qe2"
_SYLLABLES = [
    "ba",
    "ko",
    "ri",
    "tu",
    "mel",
    "san",
    "dor",
    "vi",
    "pex",
    "lo",
    "qua",
    "zen",
    "fra",
    "tin",
    "gul",
]
# A vocabulary of technical words with Zipf frequencies (word k drawn with weight 1/k), as in
# real notes: a few words are everywhere, most are rare. Queries draw from the same law,
# skipping the 30 most common words (they behave like stopwords).
VOCAB = TOPICS + [a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in _SYLLABLES][:8000]
WEIGHTS = [1 / (k + 1) for k in range(len(VOCAB))]


def note(rng: random.Random, words: int = 40) -> str:
    picked = rng.choices(VOCAB, weights=WEIGHTS, k=words)
    return " ".join(w if rng.random() < 0.6 else f"{w} {rng.choice(FILLER)}" for w in picked)


def query(rng: random.Random) -> str:
    return " ".join(rng.choices(VOCAB[30:], weights=WEIGHTS[30:], k=rng.choice((2, 3))))


def load(system: object, count: int, rng: random.Random) -> float:
    started = time.perf_counter()
    batch: list[dict[str, object]] = []
    with system.store.write(actor="bench") as uow:  # type: ignore[attr-defined]
        store = MemoryStore(uow.session)
        for i in range(count):
            tier = TIERS[i % 4]
            tags = rng.sample(TOPICS, 2)
            batch.append({
                "id": new_id("mem"), "org": PART.org, "workspace": PART.workspace, "project": PART.project,
                "tier": tier, "scope": PART.scope(tier), "kind": "note", "content": note(rng), "tags": tags,
                "tags_text": " ".join(tags), "artifact_refs": [], "classification": "internal",
                "created_by": "bench", "created_at_us": uow.now_us + i, "expires_at_us": None, "v": 1,
            })  # fmt: skip
            if len(batch) == 2000:
                store.add_many(batch)
                batch = []
        if batch:
            store.add_many(batch)
    return time.perf_counter() - started


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_search(system: object, searches: int, rng: random.Random) -> dict[str, float]:
    service = system.memory  # type: ignore[attr-defined]
    full, bare, writes = [], [], []
    began: dict[int, float] = {}

    # The service's write transaction (audit row, event, commit): from the transaction's
    # begin (after BEGIN IMMEDIATE) to the end of its commit. Read transactions never commit.
    def on_begin(session: Session, _transaction: object, _connection: object) -> None:
        began[id(session)] = time.perf_counter()

    def on_commit(session: Session) -> None:
        writes.append((time.perf_counter() - began.pop(id(session))) * 1000)

    event.listen(Session, "after_begin", on_begin)
    event.listen(Session, "after_commit", on_commit)
    try:
        for _ in range(searches):
            q = query(rng)
            started = time.perf_counter()
            service.search(ADMIN, q, None, 10, PART.as_dict())
            full.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            with system.store.read() as uow:  # type: ignore[attr-defined]
                MemoryStore(uow.session).search(
                    org=PART.org, workspace=PART.workspace, project=PART.project,
                    scopes={t: PART.scope(t) for t in TIERS}, terms=search_terms(q), now_us=uow.now_us,
                    limit=10,
                )  # fmt: skip
            bare.append((time.perf_counter() - started) * 1000)
    finally:
        event.remove(Session, "after_begin", on_begin)
        event.remove(Session, "after_commit", on_commit)
    return {
        "search_p50_ms": statistics.median(full),
        "search_p99_ms": percentile(full, 0.99),
        "query_only_p50_ms": statistics.median(bare),
        "query_only_p99_ms": percentile(bare, 0.99),
        "audit_write_p50_ms": statistics.median(writes),
        "audit_write_p99_ms": percentile(writes, 0.99),
    }


def bench_promotions(system: object, count: int, rng: random.Random) -> dict[str, float]:
    service = system.memory  # type: ignore[attr-defined]
    ctx = RequestContext(Principal(subject="user:admin", kind="admin", capabilities=frozenset({"*"})))
    ids = []
    for i in range(count):
        content = "\n".join(note(rng, 30) for _ in range(8)) + ("\n" + LEAK if i % 10 == 0 else "")
        body = {"kind": "solution", "content": content, "tier": "session", "partition": PART.as_dict()}
        ids.append(service.put(ctx, body)[0]["memory"]["id"])
    outcomes: dict[str, int] = {}
    started = time.perf_counter()
    for memory_id in ids:
        answer, _ = service.promote(ctx, memory_id, "project", None)
        outcomes[answer["scrub"]["outcome"]] = outcomes.get(answer["scrub"]["outcome"], 0) + 1
    elapsed = time.perf_counter() - started
    return {"promotions_per_s": count / elapsed, "promotions_redacted": outcomes.get("redacted", 0)}


def bench_scrub(rng: random.Random) -> dict[str, float]:
    scrub("warm up")
    notes = [note(rng, 300) + (f"\n{LEAK}" if i % 20 == 0 else "") for i in range(1000)]
    started = time.perf_counter()
    for text in notes:
        scrub(text)
    per_record = sum(map(len, notes)) / (time.perf_counter() - started) / 1e6
    dense = "\n".join(
        f"{LEAK}\npassword reset flow; commit 3f786850e387550fdab836ed7e6dc881de23001b" for _ in range(8000)
    )
    started = time.perf_counter()
    scrub(dense)
    return {
        "scrub_notes_mb_s": per_record,
        "scrub_dense_mb_s": len(dense) / (time.perf_counter() - started) / 1e6,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=500)
    parser.add_argument("--promotions", type=int, default=300)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        url = args.database_url or f"sqlite:///{home / 'bench.db'}"
        system = build(Settings.from_env(home=home, database_url=url))
        try:
            figures: dict[str, object] = {"backend": system.store.kind, "records": args.records}
            figures["load_avg_1m_before"] = os.getloadavg()[0]
            figures["load_s"] = load(system, args.records, rng)
            figures.update(bench_search(system, args.searches, rng))
            figures.update(bench_promotions(system, args.promotions, rng))
            figures.update(bench_scrub(rng))
            figures["load_avg_1m_after"] = os.getloadavg()[0]
        finally:
            system.close()
    for key, value in figures.items():
        print(f"{key:>22}  {value:.2f}" if isinstance(value, float) else f"{key:>22}  {value}")
    p99, scrub_rate = float(figures["search_p99_ms"]), float(figures["scrub_notes_mb_s"])  # type: ignore[arg-type]
    ok = p99 < TARGET_SEARCH_P99_MS and scrub_rate >= TARGET_SCRUB_MBPS
    print(
        f"{'targets':>22}  {'met' if ok else 'MISSED'}"
        f" (search p99 < {TARGET_SEARCH_P99_MS} ms, scrub >= {TARGET_SCRUB_MBPS} MB/s)"
    )
    print(json.dumps(figures))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
