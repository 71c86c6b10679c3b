"""Search answers exactly what ranking every match would, however few matches it scores.

On SQLite the search scores only part of the matches (a terms-only top-k checked against the
partition afterwards, per-term bounds that skip records unable to reach the k-th score, the
partition's scope tokens named when it holds a small share). Here it is held to a reference that
ranks every live match of the partition's tiers, over a generated corpus where words follow a
Zipf law, projects of different sizes share the table, another project holds better matches, and
some records have expired. On both engines: a crowded-out partition still gets its own records,
all of them, and nothing else.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Connection

from missiond.bootstrap import build
from missiond.core.memory import Partition, search_terms
from missiond.identifiers import new_id
from missiond.settings import Settings
from missiond.storage.memory import MemoryStore

from .harness import A, B, Mem

TIERS = ("session", "project", "team", "curated")
ALPHA, BETA = Partition(**A), Partition(**B)
GAMMA = Partition("acme", "core", "gamma")
NOW_US = 2_000_000_000_000_000
SYLLABLES = ["ka", "lo", "mi", "ru", "sen", "tav", "po", "zu", "de", "fi", "gor", "han"]
# 288 words; word k is drawn with weight 1/k, so a few are in most records and most are rare.
VOCAB = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in ("", "x")]
WEIGHTS = [1 / (k + 1) for k in range(len(VOCAB))]


def _record(rng: random.Random, partition: Partition, tier: str, n: int, **extra: Any) -> dict[str, Any]:
    words = rng.choices(VOCAB, weights=WEIGHTS, k=rng.randint(3, 30))
    tags = sorted(set(rng.choices(VOCAB[:20], k=rng.randint(0, 2))))
    return {
        "id": new_id("mem"), **partition.as_dict(), "tier": tier, "scope": partition.scope(tier),
        "kind": "note", "content": " ".join(words), "tags": tags, "tags_text": " ".join(tags),
        "artifact_refs": [], "classification": "internal", "created_by": "test", "created_at_us": n,
        "expires_at_us": None, "v": 1, **extra,
    }  # fmt: skip


def _corpus(rng: random.Random) -> list[dict[str, Any]]:
    """3,603 records. Alpha: 55%, one in ten expired. Beta: 40%, the common words also in its
    tags (better matches). Gamma: 5%."""
    rows = []
    for n in range(3600):
        if n % 20 in (3, 8, 13, 18, 19, 4, 9, 14):
            row = _record(rng, BETA, TIERS[n % 4], n)
            row["tags_text"] = " ".join([*row["tags"], *rng.choices(VOCAB[:8], k=3)])
            rows.append(row)
        elif n % 20 == 5:
            rows.append(_record(rng, GAMMA, TIERS[n % 4], n))
        else:
            expired = {"expires_at_us": NOW_US - 1} if n % 10 == 0 else {}
            rows.append(_record(rng, ALPHA, TIERS[n % 4], n, **expired))
    rare = ["zyzzyva kalo", "zyzzyva zyzzyva", "a zyzzyva among many other words kalo mimi"]
    return rows + [_record(rng, ALPHA, "team", 3600 + n, content=text) for n, text in enumerate(rare)]


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _rank_everything(
    conn: Connection, tiers: tuple[str, ...], terms: tuple[str, ...], limit: int, partition: Partition = ALPHA
) -> list[tuple[int, float]]:
    """The contract, plainly: every live match of the partition's tiers ranked, all-term records
    first."""
    scope = "scope : (" + " OR ".join(_quote(partition.scope(t)) for t in tiers) + ")"
    sql = (
        "SELECT f.rowid, f.rank FROM (SELECT rowid, bm25(memory_fts, 0.0, 2.5, 1.0) AS rank FROM memory_fts"
        " WHERE memory_fts MATCH ?) f JOIN memory_records m ON m.num = f.rowid"
        " WHERE m.expires_at_us IS NULL OR m.expires_at_us > ? ORDER BY f.rank, f.rowid DESC"
    )

    def ranked(joiner: str) -> list[tuple[int, float]]:
        match = f"{scope} AND {{tags_text content}} : (" + joiner.join(map(_quote, terms)) + ")"
        return [(num, -rank) for num, rank in conn.exec_driver_sql(sql, (match, NOW_US)).all()]

    every = ranked(" AND ")[:limit] if len(terms) > 1 else []
    seen = {num for num, _ in every}
    return (every + [hit for hit in ranked(" OR ") if hit[0] not in seen])[:limit]


def _queries(seed: int, count: int) -> list[tuple[str, tuple[str, ...], int]]:
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        size = rng.choice((1, 2, 2, 3, 3, 4, 6))
        words = rng.choices([*VOCAB, "absentword"], weights=[*WEIGHTS, 0.05], k=size)
        tiers = tuple(t for t in TIERS if rng.random() < 0.7) or ("project",)
        queries.append((" ".join(words), tiers, rng.choice((1, 5, 10, 10, 40))))
    return queries


@pytest.fixture(scope="module")
def ranked_corpus(tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = tmp_path_factory.mktemp("ranking")
    system = build(Settings.from_env(home=home, database_url=f"sqlite:///{home / 'missiond.db'}"))
    with system.store.write(actor="test") as uow:
        MemoryStore(uow.session).add_many(_corpus(random.Random(7)))
    yield system
    system.close()


@pytest.mark.parametrize(
    ("partition", "seed"),
    [(ALPHA, 1), (ALPHA, 2), (ALPHA, 3), (GAMMA, 4), (GAMMA, 5)],
    ids=["large-share-1", "large-share-2", "large-share-3", "small-share-1", "small-share-2"],
)
def test_sqlite_search_answers_what_ranking_every_match_answers(
    ranked_corpus: Any, partition: Partition, seed: int
) -> None:
    with ranked_corpus.store.read() as uow:
        store, conn = MemoryStore(uow.session), uow.session.connection()
        for q, tiers, limit in _queries(seed, 60):
            terms = search_terms(q)
            found = store.search(
                org=partition.org, workspace=partition.workspace, project=partition.project,
                scopes={t: partition.scope(t) for t in tiers}, terms=terms, now_us=NOW_US, limit=limit,
            )  # fmt: skip
            expected = _rank_everything(conn, tiers, terms, limit, partition)

            assert [row.num for row, _ in found] == [num for num, _ in expected], (q, tiers, limit)
            assert [score for _, score in found] == pytest.approx([score for _, score in expected], rel=1e-9)
            assert all(row.project == partition.project and row.tier in tiers for row, _ in found)


def test_a_query_word_that_is_a_scope_token_is_looked_for_in_the_text_only(ranked_corpus: Any) -> None:
    terms = search_terms(f"kalo {ALPHA.scope('project')} mimi")
    with ranked_corpus.store.read() as uow:
        found = MemoryStore(uow.session).search(
            org=ALPHA.org, workspace=ALPHA.workspace, project=ALPHA.project,
            scopes={t: ALPHA.scope(t) for t in TIERS}, terms=terms, now_us=NOW_US, limit=30,
        )  # fmt: skip
        expected = _rank_everything(uow.session.connection(), TIERS, terms, 30)

    assert len(expected) == 30
    assert [row.num for row, _ in found] == [num for num, _ in expected]


def test_a_word_only_a_few_records_hold_finds_those_best_first(ranked_corpus: Any) -> None:
    with ranked_corpus.store.read() as uow:
        found = MemoryStore(uow.session).search(
            org=ALPHA.org, workspace=ALPHA.workspace, project=ALPHA.project,
            scopes={t: ALPHA.scope(t) for t in TIERS}, terms=("zyzzyva",), now_us=NOW_US, limit=10,
        )  # fmt: skip

    assert [row.content for row, _ in found] == [
        "zyzzyva zyzzyva",
        "zyzzyva kalo",
        "a zyzzyva among many other words kalo mimi",
    ]


def test_a_partition_that_matches_first_but_ranks_last_still_gets_its_best(tmp_path: Path) -> None:
    system = build(Settings.from_env(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'missiond.db'}"))
    rng = random.Random(3)
    weak = [
        _record(rng, ALPHA, "project", n, content=f"quokka {' '.join(rng.choices(VOCAB, k=40))}")
        for n in range(200)
    ]
    strong = [
        _record(rng, BETA, "project", 200 + n, content="quokka quokka", tags=["quokka"]) for n in range(150)
    ]
    for row in strong:
        row["tags_text"] = "quokka"
    try:
        with system.store.write(actor="test") as uow:
            MemoryStore(uow.session).add_many(weak + strong)  # alpha's are the first matches
        with system.store.read() as uow:
            found = MemoryStore(uow.session).search(
                org=ALPHA.org, workspace=ALPHA.workspace, project=ALPHA.project,
                scopes={"project": ALPHA.scope("project")}, terms=("quokka",), now_us=NOW_US, limit=10,
            )  # fmt: skip
            expected = _rank_everything(uow.session.connection(), ("project",), ("quokka",), 10)
    finally:
        system.close()

    assert len(found) == 10
    assert [row.num for row, _ in found] == [num for num, _ in expected]


def _bulk(m: Mem, rows: list[dict[str, Any]]) -> list[str]:
    with m.system.store.write(actor="test") as uow:
        MemoryStore(uow.session).add_many(rows)
    return [row["id"] for row in rows]


def test_a_partition_crowded_out_by_another_still_gets_all_its_own_matches(mem: Mem) -> None:
    now = int(mem.clock.now.timestamp() * 1_000_000)
    beta = [
        _record(random.Random(n), BETA, "project", n, content="quokka quokka quokka fence", tags=["quokka"])
        for n in range(400)
    ]
    for row in beta:
        row["tags_text"] = "quokka"
    _bulk(mem, beta)
    alpha = [
        _record(random.Random(n), ALPHA, tier, 1000 + n, content=f"a quokka near fence {n}")
        for n, tier in enumerate(["project", "team", "session"])
    ]
    alpha_ids = _bulk(mem, alpha)
    expired = [
        _record(random.Random(n), ALPHA, "project", 2000 + n, content="quokka quokka", expires_at_us=now - 1)
        for n in range(80)
    ]  # better matches than alpha's live ones, and not swept yet
    _bulk(mem, expired)

    everything = mem.search("quokka", limit=10).json()
    two = mem.search("quokka", limit=2).json()
    project_only = mem.search("quokka fence", tiers="project").json()

    assert sorted(h["memory"]["id"] for h in everything["items"]) == sorted(alpha_ids)
    assert [h["memory"]["id"] for h in two["items"]] == [h["memory"]["id"] for h in everything["items"]][:2]
    assert [h["memory"]["id"] for h in project_only["items"]] == [alpha_ids[0]]
