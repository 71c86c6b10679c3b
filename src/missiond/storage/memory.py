"""Memory rows: records, pending promotions, the audit trail, and ranked full-text search.

Search is one contract on two engines:

    SQLite       FTS5 external-content table `memory_fts` (kept in step by triggers in
                 the writing transaction), ranked by bm25 with the tags column weighted
                 2.5 and the content column 1; the partition+tier is an indexed token, so
                 another project's rows are never even visited.
    PostgreSQL   generated `search_vector` (tags weight A, content weight B) with a GIN
                 index, ranked by ts_rank with length normalisation.

Both take the same terms (core.memory.search_terms) joined with OR; more matched terms,
rarer terms and matches in tags rank higher; ties go to the newer record, then the id.
Scores are only comparable within one answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from missiond.storage.engine import is_sqlite
from missiond.storage.tables import MemoryAuditRow, MemoryPromotionRow, MemoryRow

# Backend-specific full-text objects that SQLModel metadata cannot describe (migration 0005).
FULLTEXT_OBJECTS = frozenset(
    {
        ("table", "memory_fts"),
        ("table", "memory_fts_data"),
        ("table", "memory_fts_idx"),
        ("table", "memory_fts_docsize"),
        ("table", "memory_fts_config"),
        ("column", "search_vector"),
        ("index", "ix_memory_search"),
    }
)


def is_fulltext_object(name: str | None, type_: str, _parent: Any = None) -> bool:
    return (type_, name or "") in FULLTEXT_OBJECTS


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class MemoryStore:
    def __init__(self, session: Session) -> None:
        self._s = session

    # -- records ---------------------------------------------------------------------------------
    def add(self, row: MemoryRow) -> MemoryRow:
        self._s.add(row)
        self._s.flush()
        return row

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        """Bulk insert plain dicts (the benchmark's loader); triggers keep the index in step."""
        self._s.execute(sa.insert(MemoryRow.__table__), rows)  # type: ignore[attr-defined]

    def get(self, memory_id: str) -> MemoryRow | None:
        return self._s.exec(select(MemoryRow).where(col(MemoryRow.id) == memory_id)).first()

    def delete(self, row: MemoryRow) -> None:
        self._s.delete(row)
        self._s.flush()

    def expired(self, now_us: int, limit: int) -> list[MemoryRow]:
        stmt = (
            select(MemoryRow)
            .where(col(MemoryRow.expires_at_us).is_not(None), col(MemoryRow.expires_at_us) <= now_us)
            .order_by(col(MemoryRow.expires_at_us))
            .limit(limit)
        )
        return list(self._s.exec(stmt).all())

    def search(
        self,
        *,
        org: str,
        workspace: str,
        project: str,
        scopes: dict[str, str],
        terms: tuple[str, ...],
        now_us: int,
        limit: int,
    ) -> list[tuple[MemoryRow, float]]:
        """Live records of the given tiers (`scopes`: tier -> scope token) matching any term,
        best first. Records holding every term are looked up first (a selective query, and the
        best answers); only when they are fewer than `limit` are records holding any term
        ranked to fill the rest — ranking every match of a common word is what costs."""
        if not terms or not scopes:
            return []
        if len(terms) > 1:
            every = self._search(org, workspace, project, scopes, terms, now_us, limit, every=True)
            if len(every) >= limit:
                return every
            seen = {row.id for row, _ in every}
            rest = self._search(
                org, workspace, project, scopes, terms, now_us, limit + len(every), every=False
            )
            return (every + [(row, score) for row, score in rest if row.id not in seen])[:limit]
        return self._search(org, workspace, project, scopes, terms, now_us, limit, every=False)

    def _search(
        self,
        org: str,
        workspace: str,
        project: str,
        scopes: dict[str, str],
        terms: tuple[str, ...],
        now_us: int,
        limit: int,
        *,
        every: bool,
    ) -> list[tuple[MemoryRow, float]]:
        joiner = " AND " if every else " OR "
        params: dict[str, Any] = {
            "org": org,
            "ws": workspace,
            "project": project,
            "now": now_us,
            "limit": limit,
        }
        tiers = sa.bindparam("tiers", list(scopes), expanding=True)
        if is_sqlite(self._s.get_bind()):  # type: ignore[arg-type]
            match = "scope : ({}) AND {{tags_text content}} : ({})".format(
                " OR ".join(_quote(s) for s in scopes.values()), joiner.join(_quote(t) for t in terms)
            )
            # Rank inside FTS5 alone (its top-k path never touches the records table), then
            # check the few winners against the partition and expiry. Expired rows are swept
            # within seconds, so a margin of spare candidates covers them.
            stmt = sa.text(
                "SELECT m.id, f.score FROM ("
                " SELECT rowid, -bm25(memory_fts, 0.0, 2.5, 1.0) AS score FROM memory_fts"
                " WHERE memory_fts MATCH :match ORDER BY bm25(memory_fts, 0.0, 2.5, 1.0), rowid DESC"
                " LIMIT :candidates) f JOIN memory_records m ON m.num = f.rowid"
                " WHERE m.org = :org AND m.workspace = :ws AND m.project = :project AND m.tier IN :tiers"
                " AND (m.expires_at_us IS NULL OR m.expires_at_us > :now)"
                " ORDER BY f.score DESC, m.num DESC LIMIT :limit"
            ).bindparams(tiers)
            params["match"] = match
            params["candidates"] = limit * 4 + 50
        else:
            stmt = sa.text(
                "SELECT m.id, ts_rank(m.search_vector, q, 1) AS score, m.created_at_us"
                " FROM memory_records m, to_tsquery('english', :tsq) q"
                " WHERE m.search_vector @@ q AND m.org = :org AND m.workspace = :ws"
                " AND m.project = :project AND m.tier IN :tiers"
                " AND (m.expires_at_us IS NULL OR m.expires_at_us > :now)"
                " ORDER BY score DESC, m.created_at_us DESC, m.id LIMIT :limit"
            ).bindparams(tiers)
            params["tsq"] = (" & " if every else " | ").join(terms)
        hits = [(str(r[0]), float(r[1])) for r in self._s.execute(stmt, params).all()]
        rows = self._by_ids([memory_id for memory_id, _ in hits])
        return [(rows[memory_id], score) for memory_id, score in hits if memory_id in rows]

    def _by_ids(self, ids: Iterable[str]) -> dict[str, MemoryRow]:
        wanted = list(ids)
        if not wanted:
            return {}
        return {r.id: r for r in self._s.exec(select(MemoryRow).where(col(MemoryRow.id).in_(wanted))).all()}

    # -- promotions ------------------------------------------------------------------------------
    def save_promotion(self, row: MemoryPromotionRow) -> None:
        self._s.add(row)
        self._s.flush()

    def promotion(self, promotion_id: str) -> MemoryPromotionRow | None:
        return self._s.get(MemoryPromotionRow, promotion_id)

    def promotion_for_approval(self, approval_id: str) -> MemoryPromotionRow | None:
        stmt = select(MemoryPromotionRow).where(col(MemoryPromotionRow.approval_id) == approval_id)
        return self._s.exec(stmt).first()

    # -- audit -----------------------------------------------------------------------------------
    def audit(self, row: MemoryAuditRow) -> None:
        self._s.add(row)
        self._s.flush()

    def audit_page(
        self,
        *,
        org: str,
        workspace: str,
        project: str,
        action: str | None = None,
        actor: str | None = None,
        memory_id: str | None = None,
        outcome: str | None = None,
        before_id: str | None = None,
        limit: int = 100,
    ) -> list[MemoryAuditRow]:
        """Newest first; `before_id` pages on (ids are time-ordered ULIDs)."""
        stmt = select(MemoryAuditRow).where(
            col(MemoryAuditRow.org) == org,
            col(MemoryAuditRow.workspace) == workspace,
            col(MemoryAuditRow.project) == project,
        )
        for column, value in (
            (MemoryAuditRow.action, action),
            (MemoryAuditRow.actor, actor),
            (MemoryAuditRow.memory_id, memory_id),
            (MemoryAuditRow.outcome, outcome),
        ):
            if value is not None:
                stmt = stmt.where(col(column) == value)
        if before_id is not None:
            stmt = stmt.where(col(MemoryAuditRow.id) < before_id)
        return list(self._s.exec(stmt.order_by(col(MemoryAuditRow.id).desc()).limit(limit)).all())
