"""Memory rows: records, pending promotions, the audit trail, and ranked full-text search.

Search is one contract on two engines:

    SQLite       FTS5 external-content table `memory_fts` (kept in step by triggers in
                 the writing transaction), ranked by bm25 with the tags column weighted
                 2.5 and the content column 1; storage/memory_fts.py finds the exact top-k
                 without scoring every match.
    PostgreSQL   generated `search_vector` (tags weight A, content weight B) with a GIN
                 index, ranked by ts_rank with length normalisation.

Both take the same terms (core.memory.search_terms). Records holding every term come first;
only when they are fewer than the limit are records holding any term ranked to fill the rest.
Within each group rarer terms and matches in tags rank higher; ties go to the newer record.
Scores are only comparable within one answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from missiond.storage.engine import is_sqlite
from missiond.storage.memory_fts import FullTextSearch
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


_COLUMNS = tuple(column.name for column in MemoryRow.__table__.columns)  # type: ignore[attr-defined]
_JSON_COLUMNS = frozenset(
    column.name
    for column in MemoryRow.__table__.columns  # type: ignore[attr-defined]
    if isinstance(column.type, sa.JSON)
)
_INSERT_AUDIT = sa.insert(MemoryAuditRow.__table__)  # type: ignore[attr-defined]


def is_fulltext_object(name: str | None, type_: str, _parent: Any = None) -> bool:
    return (type_, name or "") in FULLTEXT_OBJECTS


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
        best first."""
        if not terms or not scopes:
            return []
        if is_sqlite(self._s.get_bind()):  # type: ignore[arg-type]
            search = FullTextSearch(
                self._s, org=org, workspace=workspace, project=project, scopes=scopes, now_us=now_us
            )
            found = search.top(terms, limit)
            by_num = self._by_nums([hit.num for hit in found])
            return [(by_num[hit.num], hit.score) for hit in found if hit.num in by_num]
        hits = self._search_pg(org, workspace, project, list(scopes), terms, now_us, limit)
        rows = self._by_ids(memory_id for memory_id, _ in hits)
        return [(rows[memory_id], score) for memory_id, score in hits if memory_id in rows]

    def _search_pg(
        self,
        org: str,
        workspace: str,
        project: str,
        tiers: list[str],
        terms: tuple[str, ...],
        now_us: int,
        limit: int,
    ) -> list[tuple[str, float]]:
        """Records holding every term are looked up first (a selective query, and the best
        answers); only when they are fewer than `limit` are records holding any term ranked."""
        if len(terms) > 1:
            every = self._rank_pg(org, workspace, project, tiers, " & ".join(terms), now_us, limit)
            if len(every) >= limit:
                return every
            seen = {memory_id for memory_id, _ in every}
            rest = self._rank_pg(
                org, workspace, project, tiers, " | ".join(terms), now_us, limit + len(every)
            )
            return (every + [hit for hit in rest if hit[0] not in seen])[:limit]
        return self._rank_pg(org, workspace, project, tiers, terms[0], now_us, limit)

    def _rank_pg(
        self, org: str, workspace: str, project: str, tiers: list[str], tsq: str, now_us: int, limit: int
    ) -> list[tuple[str, float]]:
        stmt = sa.text(
            "SELECT m.id, ts_rank(m.search_vector, q, 1) AS score, m.created_at_us"
            " FROM memory_records m, to_tsquery('english', :tsq) q"
            " WHERE m.search_vector @@ q AND m.org = :org AND m.workspace = :ws"
            " AND m.project = :project AND m.tier IN :tiers"
            " AND (m.expires_at_us IS NULL OR m.expires_at_us > :now)"
            " ORDER BY score DESC, m.created_at_us DESC, m.id LIMIT :limit"
        ).bindparams(sa.bindparam("tiers", tiers, expanding=True))
        params = {"org": org, "ws": workspace, "project": project, "now": now_us, "limit": limit, "tsq": tsq}
        return [(str(r[0]), float(r[1])) for r in self._s.execute(stmt, params).all()]

    def _by_ids(self, ids: Iterable[str]) -> dict[str, MemoryRow]:
        wanted = list(ids)
        if not wanted:
            return {}
        return {r.id: r for r in self._s.exec(select(MemoryRow).where(col(MemoryRow.id).in_(wanted))).all()}

    def _by_nums(self, nums: list[int]) -> dict[int, MemoryRow]:
        """The search hits, read through the driver (the ORM takes about a millisecond for ten
        records, a fifth of a typical search). The values come from our own table, so they are
        not validated again; the records are for reading, not attached to the session."""
        if not nums:
            return {}
        db: Any = self._s.connection().connection.dbapi_connection
        sql = f"SELECT {', '.join(_COLUMNS)} FROM memory_records WHERE num IN ({', '.join('?' * len(nums))})"
        rows = [
            MemoryRow.model_construct(
                **{
                    name: json.loads(value) if name in _JSON_COLUMNS and value is not None else value
                    for name, value in zip(_COLUMNS, raw, strict=True)
                }
            )
            for raw in db.execute(sql, nums).fetchall()
        ]
        return {row.num: row for row in rows if row.num is not None}

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
        """One INSERT rather than a unit-of-work flush: every memory call writes a row, nothing
        reads it back in the same transaction, and the flush machinery costs more than the write."""
        self._s.execute(_INSERT_AUDIT, row.model_dump())

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
