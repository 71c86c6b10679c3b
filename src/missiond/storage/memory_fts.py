"""Ranked memory search on SQLite: FTS5's exact bm25 top-k, without scoring every match.

FTS5 scores every row a MATCH returns before it can sort them (positions, the row's size;
about a microsecond a row), so a query costs what it matches: a common word in 100,000 notes
is tens of milliseconds. Two things keep the scored rows few; neither changes an answer.

The partition. The scope tokens (partition + tier) are an indexed column of weight 0: naming
them in the MATCH changes no score, but bm25 then reads all of the partition's entries for them,
in every query. So when the partition's readable tiers hold a good share of the table (a third
or more), the terms alone are matched, the front runners are checked against their rows, and the
bounds below cut the scored rows. When they hold less, or too few front runners turn out to be
the partition's, the scope tokens are named and each group is ranked in one query, as before.
No other partition's record is ever returned.

Bounds (MaxScore). However often a term occurs it adds less than idf * (k1 + 1) to a score. The
records holding any term are split by which terms they hold, rarest first, into nodes (`with`:
every one of these, `without`: none of these, `rest`: any of these); a node whose terms together
cannot beat the k-th score found so far is never queried. Every query names each term once
(an absent term adds exactly 0), so a score is the one a single query over all the terms gives.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

K1 = 1.2  # FTS5's bm25 constant
BM25 = "bm25(memory_fts, 0.0, 2.5, 1.0)"  # columns scope (a filter only), tags_text, content
TEXT = "{tags_text content}"
SPLIT_BELOW = 2000  # a node estimated to hold fewer records is ranked whole, not split further
MAX_SPLIT_TERMS = 4  # with more terms, ranking the any-term group in one query is cheaper
SHARE_TTL_S = 30.0  # how long a pooled connection trusts a partition's counted share of the table

_RANK = (
    f"SELECT rowid, {BM25} AS rank FROM memory_fts WHERE memory_fts MATCH ? ORDER BY rank, rowid DESC LIMIT ?"
)
# Reading a record costs more than ranking it, so only the front runners are checked.
# The test sits in the select list so that the rows are found by rowid, never by scanning the
# partition's index.
_LIVE = (
    "SELECT num, id, org = ? AND workspace = ? AND project = ? AND tier IN ({tiers})"
    " AND (expires_at_us IS NULL OR expires_at_us > ?) FROM memory_records WHERE num IN ({nums})"
)


@dataclass(frozen=True, slots=True)
class Hit:
    num: int
    memory_id: str
    score: float


def _order(hit: Hit) -> tuple[float, int]:
    """Best first; ties go to the newer record."""
    return (-hit.score, -hit.num)


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _every(terms: tuple[str, ...]) -> str:
    return "(" + " AND ".join(map(_quote, terms)) + ")"


def _some(terms: tuple[str, ...]) -> str:
    return "(" + " OR ".join(map(_quote, terms)) + ")"


def _node(with_: tuple[str, ...], without: tuple[str, ...], some: tuple[str, ...] = ()) -> str:
    """Records holding every term of `with_`, at least one of `some` (if any), none of `without`."""
    expr = _every(with_) + (f" AND {_some(some)}" if some else "")
    return f"({expr}) NOT {_some(without)}" if without else expr


def _ceiling(rows: int, matching: int) -> float:
    """More than one term's bm25 share can be: FTS5's idf (floored at 1e-6) times k1 + 1.
    `rows` may be an upper bound of the row count and `matching` a lower bound of the term's."""
    idf = math.log((max(rows, matching) - matching + 0.5) / (matching + 0.5))
    return max(idf, 1e-6) * (K1 + 1) * (1 + 1e-9) + 1e-12


class FullTextSearch:
    """One search: a partition, the tiers it may read (tier -> scope token), a moment."""

    def __init__(
        self,
        session: Session,
        *,
        org: str,
        workspace: str,
        project: str,
        scopes: dict[str, str],
        now_us: int,
    ) -> None:
        # The driver connection under the session's transaction: a search is several short
        # statements, and SQLAlchemy's statement machinery would cost as much as some of them.
        connection = session.connection()
        self._db: Any = connection.connection.dbapi_connection
        self._shares: dict[tuple[Any, ...], tuple[bool, float]] = connection.info.setdefault(
            "memory_fts_shares", {}
        )
        self._tiers = ", ".join("?" * len(scopes))
        self._where = (org, workspace, project, *scopes, now_us)
        self._scopes = _some(tuple(scopes.values()))
        self._scoped = False  # name the scope tokens in every MATCH (see the module docstring)
        self._rows: int | None = None

    def top(self, terms: tuple[str, ...], limit: int) -> list[Hit]:
        """Records holding every term first (a selective query, and the best answers), then
        the best of those holding any term, bm25 order within each group."""
        self._scoped = not self._holds_a_good_share()
        every: list[Hit] = []
        if len(terms) > 1:
            every, _ = self._rank(_every(terms), limit, frozenset())
            if len(every) >= limit:
                return every
        # Fewer than `limit`: `every` holds all of this partition's all-term records.
        seen = frozenset(hit.num for hit in every)
        need = limit - len(every)
        if len(terms) > MAX_SPLIT_TERMS or self._scoped:
            return every + self._rank(_some(terms), need, seen)[0]
        return every + self._some_bounded(terms, need, seen)

    def _some_bounded(self, terms: tuple[str, ...], need: int, seen: frozenset[int]) -> list[Hit]:
        rows, matching = self._counts(terms)
        ceiling = {term: _ceiling(rows, n) for term, n in matching.items()}
        best: list[Hit] = []

        def kth() -> float:
            return best[need - 1].score if len(best) >= need else -math.inf

        def take(hits: list[Hit]) -> None:
            best.extend(hits)
            best.sort(key=_order)
            del best[need:]

        rarest_first = tuple(sorted(terms, key=lambda t: (matching[t], t)))
        stack: list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [((), (), rarest_first)]
        while stack:
            if self._scoped:  # named from now on: the one query beats many that each read them
                return self._rank(_some(terms), need, seen)[0]
            with_, without, rest = stack.pop()
            if not (with_ or rest) or sum(ceiling[t] for t in with_ + rest) <= kth():
                continue  # holds no term, or cannot reach the k-th score
            size = rows * math.prod(matching[t] / max(rows, 1) for t in with_) if with_ else math.inf
            if with_ and (not rest or size < SPLIT_BELOW):
                holding_rest: frozenset[int] | None = frozenset()
                if rest:
                    hits, holding_rest = self._rank(_node(with_, without, rest), need, seen)
                    take(hits)
                all_terms = len(with_) == len(terms) > 1  # the every group, already answered
                if not all_terms and sum(ceiling[t] for t in with_) > kth():
                    if holding_rest is None:
                        hits, _ = self._rank(_node(with_, without + rest), need, seen)
                    else:
                        # Those holding any of `rest` are all known, so leave them out rather
                        # than name `rest` (absent terms add 0; naming them costs a full
                        # read of each one's index entries).
                        hits, _ = self._rank(_node(with_, without), need, seen | holding_rest)
                    take(hits)
                continue
            term, others = rest[0], rest[1:]
            stack.append((with_, (*without, term), others))
            stack.append(((*with_, term), without, others))  # popped first: the rarer records
        return best

    def _rank(self, expr: str, need: int, seen: frozenset[int]) -> tuple[list[Hit], frozenset[int] | None]:
        """The best `need` records of this partition matching `expr`, leaving out `seen`; and,
        when they were few enough to see them all, every record matching `expr` (of any
        partition, or of this one once the scope tokens are named)."""
        match = f"{TEXT} : ({expr})"  # the parentheses carry the column filter over a NOT
        if not self._scoped:
            hits, matched, exhausted = self._fetch(match, need * 4 + 50 + len(seen), seen, need)
            if exhausted or len(hits) >= need:
                return hits[:need], matched if exhausted else None
            self._scoped = True  # too few front runners are this partition's: stay inside it
        match, fetch = f"scope : {self._scopes} AND {match}", need + len(seen) + 50
        while True:
            hits, matched, exhausted = self._fetch(match, fetch, seen, need)
            if exhausted or len(hits) >= need:
                return hits[:need], matched if exhausted else None
            fetch *= 4  # only expired records, not swept yet, are left out here

    def _holds_a_good_share(self) -> bool:
        """Whether the partition's readable tiers hold a third or more of the table. Counting
        reads the partition's index, so a pooled connection keeps the answer for a while: a
        stale one costs time, never a wrong answer."""
        key, now = self._where[:-1], time.monotonic()  # the partition and tiers, not the moment
        known = self._shares.get(key)
        if known is None or known[1] < now:
            sql = (
                "SELECT count(*) FROM memory_records WHERE org = ? AND workspace = ? AND project = ?"
                f" AND tier IN ({self._tiers})"
            )
            held = int(self._db.execute(sql, key).fetchone()[0])
            known = (held * 3 >= self._row_bound(), now + SHARE_TTL_S)
            self._shares[key] = known
        return known[0]

    def _fetch(
        self, match: str, fetch: int, seen: frozenset[int], need: int
    ) -> tuple[list[Hit], frozenset[int], bool]:
        """The best `need` live records of this partition among the first `fetch` matches, all
        of those matches, and whether they were all there is."""
        rows = self._db.execute(_RANK, (match, fetch)).fetchall()
        candidates = [(num, -rank) for num, rank in rows if num not in seen]
        hits: list[Hit] = []
        checked, batch = 0, need
        while len(hits) < need and checked < len(candidates):
            chunk = candidates[checked : checked + batch]
            checked += len(chunk)
            live = self._live([num for num, _ in chunk])
            hits += [Hit(num, live[num], score) for num, score in chunk if num in live]
            batch = (need - len(hits)) * 4 + 16
        return hits[:need], frozenset(num for num, _ in rows), len(rows) < fetch

    def _live(self, nums: list[int]) -> dict[int, str]:
        sql = _LIVE.format(nums=", ".join("?" * len(nums)), tiers=self._tiers)
        rows = self._db.execute(sql, (*self._where, *nums)).fetchall()
        return {num: memory_id for num, memory_id, live in rows if live}

    def _counts(self, terms: tuple[str, ...]) -> tuple[int, dict[str, int]]:
        """At least the number of indexed rows, and how many rows hold each term."""
        count = "(SELECT count(*) FROM memory_fts WHERE memory_fts MATCH ?)"
        sql = f"SELECT {', '.join([count] * len(terms))}"
        matching = self._db.execute(sql, [f"{TEXT} : {_quote(t)}" for t in terms]).fetchone()
        return self._row_bound(), {term: int(n) for term, n in zip(terms, matching, strict=True)}

    def _row_bound(self) -> int:
        """At least the number of indexed rows: `num` is the rowid, so no two rows share one."""
        if self._rows is None:
            sql = "SELECT coalesce(max(num), 0) FROM memory_records"
            self._rows = int(self._db.execute(sql).fetchone()[0])
        return self._rows
