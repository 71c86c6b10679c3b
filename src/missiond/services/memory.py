"""Governed memory: put, get, promote (scrub, then review), search, audit, delete, expiry.

Every call resolves the caller's memory grant first (core.memory.Grant):

    admin token          full access to the partition the request names
    run / agent token    the grant stored on the token (POST /v1/memory/tokens mints one);
                         bound to one partition, with an expiry
    any other token      403 MEMORY_NO_GRANT

Denials: a grant past its expiry -> 401 MEMORY_TOKEN_EXPIRED; another partition -> 403
MEMORY_PARTITION_FORBIDDEN; a tier outside the grant -> 403 MEMORY_TIER_FORBIDDEN naming
the tier. A denied call is itself audited (in the caller's own partition) and changes
nothing else.

Every put, read, promote (blocked and pending ones too), search, delete and expiry
writes an audit row in the same transaction as its effect. Events carry ids, tiers and
outcomes; never content, never a query, never a secret.
"""

from __future__ import annotations

from typing import Any

from ulid import ULID

from missiond.core import memory as core
from missiond.core.events import NewEvent
from missiond.core.scrub import scrub
from missiond.errors import Forbidden, MissiondError, NotFound, Unauthorized, ValidationFailed
from missiond.identifiers import new_id
from missiond.services.approvals import ApprovalService
from missiond.services.auth import hash_token, make_token
from missiond.services.context import RequestContext
from missiond.services.mutations import Mutation
from missiond.services.task_model import ts
from missiond.storage.memory import MemoryStore
from missiond.storage.tables import MemoryAuditRow, MemoryPromotionRow, MemoryRow
from missiond.storage.uow import Store, UnitOfWork

REVIEW_KIND = "memory.promotion"
MAX_TOKEN_TTL_S = 30 * 24 * 3600
DEFAULT_TOKEN_TTL_S = 24 * 3600
SWEEP_BATCH = 500


class MemoryNotFound(NotFound):
    code = "MEMORY_NOT_FOUND"
    title = "Memory record not found"


class MemoryContentBlocked(MissiondError):
    status = 422
    code = "MEMORY_CONTENT_BLOCKED"
    title = "Content refused by the secret scrubber"


def _audit_id() -> str:
    return f"aud_{ULID()}"


def _promotion_id() -> str:
    return f"mpr_{ULID()}"


def record_to_wire(row: MemoryRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "partition": {"org": row.org, "workspace": row.workspace, "project": row.project, "tier": row.tier},
        "kind": row.kind,
        "content": row.content,
        "tags": list(row.tags),
        "artifact_refs": list(row.artifact_refs),
        "classification": row.classification,
        "source_memory_id": row.source_memory_id,
        "promotion_id": row.promotion_id,
        "reviewed_by": row.reviewed_by,
        "scrub": row.scrub,
        "created_by": row.created_by,
        "created_at": ts(row.created_at_us),
        "expires_at": ts(row.expires_at_us),
        "v": row.v,
    }


def audit_to_wire(row: MemoryAuditRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "action": row.action,
        "actor": row.actor,
        "partition": {"org": row.org, "workspace": row.workspace, "project": row.project, "tier": row.tier},
        "memory_id": row.memory_id,
        "outcome": row.outcome,
        "detail": row.detail,
        "at": ts(row.at_us),
    }


def _partition_of(row: MemoryRow | MemoryPromotionRow) -> core.Partition:
    return core.Partition(row.org, row.workspace, row.project)


def _scrub_record(content: str, tags: list[str]) -> tuple[str, str | None, list[str], dict[str, Any]]:
    """(outcome, content or None when blocked, kept tags, report). A tag with a finding is
    dropped (a marker is not a tag); a blocking finding anywhere blocks the whole record."""
    result = scrub(content)
    tag_results = [(tag, scrub(tag)) for tag in tags]
    dropped = sum(1 for _, r in tag_results if r.outcome != "passed")
    blocked = result.outcome == "blocked" or any(r.outcome == "blocked" for _, r in tag_results)
    outcome = "blocked" if blocked else ("redacted" if result.outcome == "redacted" or dropped else "passed")
    counts = dict(result.report["counts"])
    for _, r in tag_results:
        for kind, n in r.report["counts"].items():
            counts[kind] = counts.get(kind, 0) + n
    report = {
        "outcome": outcome,
        "findings": result.report["findings"],
        "counts": counts,
        "tags_dropped": dropped,
    }
    kept = [tag for tag, r in tag_results if r.outcome == "passed"]
    return outcome, (None if blocked else result.text), kept, report


class MemoryService:
    def __init__(self, store: Store, approvals: ApprovalService) -> None:
        self._store = store
        self._mutation = Mutation(store)
        approvals.on_decision(REVIEW_KIND, self._on_review)

    # -- grants and checks ---------------------------------------------------------------------------
    def grant(self, ctx: RequestContext) -> core.Grant:
        principal = ctx.principal
        if principal.kind in ("admin", "system"):
            return core.admin_grant(principal.subject)
        grant = core.grant_from_token(principal.subject, principal.partition)
        if grant is None:
            raise Forbidden(
                f"{principal.subject} carries no memory capability; an admin mints one with "
                "POST /v1/memory/tokens",
                code="MEMORY_NO_GRANT",
            )
        return grant

    def _deny(
        self,
        ctx: RequestContext,
        grant: core.Grant,
        denial: core.Denial,
        action: str,
        audit: bool = True,
        **detail: Any,
    ) -> None:
        """Record the refusal in the caller's own partition (its own txn, so never call this
        with `audit` while holding a write txn), then raise it."""
        if audit and grant.partition is not None:
            with self._store.write(actor=ctx.actor, correlation_id=ctx.correlation_id) as uow:
                MemoryStore(uow.session).audit(
                    self._audit_row(
                        uow,
                        ctx.actor,
                        action,
                        grant.partition,
                        detail.pop("tier", None),
                        detail.pop("memory_id", None),
                        "denied",
                        {"code": denial.code, **detail},
                    )
                )
        if denial.code == "MEMORY_TOKEN_EXPIRED":
            raise Unauthorized(denial.message, code=denial.code)
        extra = {"tier": denial.tier} if denial.tier else {}
        raise Forbidden(denial.message, code=denial.code, **extra)

    def _check(
        self,
        ctx: RequestContext,
        grant: core.Grant,
        action: str,
        *denials: core.Denial | None,
        memory_id: str | None = None,
        audit: bool = True,
    ) -> None:
        for denial in denials:
            if denial is not None:
                self._deny(ctx, grant, denial, action, audit, memory_id=memory_id, tier=denial.tier)

    def _now_us(self) -> int:
        with self._store.read() as uow:
            return uow.now_us

    def _partition(self, grant: core.Grant, named: dict[str, Any] | None, where: str) -> core.Partition:
        if named is None:
            if grant.partition is None:
                raise ValidationFailed.field(
                    where, "an admin token names the partition (org, workspace, project)"
                )
            return grant.partition
        for key in ("org", "workspace", "project"):
            value = named.get(key)
            problem = core.slug_problem(value) if isinstance(value, str) else "required"
            if problem:
                raise ValidationFailed.field(f"{where}.{key}", problem)
        return core.Partition(named["org"], named["workspace"], named["project"])

    def _record_in_reach(
        self,
        ctx: RequestContext,
        grant: core.Grant,
        uow: UnitOfWork,
        memory_id: str,
        action: str,
        tier_action: core.Action,
        audit: bool = True,
    ) -> MemoryRow:
        """The live record, if this grant reaches it. Checked once in a read txn (denials
        audited), then again inside the changing txn (`audit=False`: nothing there can change
        a record's partition or tier, so only a deletion in between can differ)."""
        row = MemoryStore(uow.session).get(memory_id)
        if row is None or (row.expires_at_us is not None and row.expires_at_us <= uow.now_us):
            raise MemoryNotFound(f"no memory record {memory_id!r}", memory_id=memory_id)
        if grant.partition is not None and grant.partition != _partition_of(row):
            # Not check_partition: its message would name the other partition.
            denial = core.Denial(
                "MEMORY_PARTITION_FORBIDDEN", f"memory {memory_id} is outside this token's partition"
            )
            self._check(ctx, grant, action, denial, memory_id=memory_id, audit=audit)
        self._check(
            ctx,
            grant,
            action,
            core.check_tier(grant, tier_action, row.tier),
            memory_id=memory_id,
            audit=audit,
        )
        return row

    @staticmethod
    def _audit_row(
        uow: UnitOfWork,
        actor: str,
        action: str,
        partition: core.Partition,
        tier: str | None,
        memory_id: str | None,
        outcome: str,
        detail: dict[str, Any],
    ) -> MemoryAuditRow:
        return MemoryAuditRow(
            id=_audit_id(),
            action=action,
            actor=actor,
            org=partition.org,
            workspace=partition.workspace,
            project=partition.project,
            tier=tier,
            memory_id=memory_id,
            outcome=outcome,
            detail=detail,
            at_us=uow.now_us,
        )

    def _audit(
        self,
        uow: UnitOfWork,
        actor: str,
        action: str,
        partition: core.Partition,
        tier: str | None,
        memory_id: str | None,
        outcome: str,
        detail: dict[str, Any],
    ) -> str:
        row = self._audit_row(uow, actor, action, partition, tier, memory_id, outcome, detail)
        MemoryStore(uow.session).audit(row)
        return row.id

    # -- put / get / delete -----------------------------------------------------------------------------
    def put(self, ctx: RequestContext, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        grant = self.grant(ctx)
        tier, kind = body.get("tier") or "session", body["kind"]
        content, tags, refs = (
            body["content"],
            list(dict.fromkeys(body.get("tags") or [])),
            body.get("artifact_refs") or [],
        )
        _validate_record(
            tier, kind, content, tags, refs, body.get("classification") or "internal", body.get("ttl_s")
        )
        partition = self._partition(grant, body.get("partition"), "body.partition")
        now_us = self._now_us()
        self._check(
            ctx,
            grant,
            "put",
            core.check_expiry(grant, now_us),
            core.check_partition(grant, partition),
            core.check_tier(grant, "write", tier),
        )
        report: dict[str, Any] | None = None
        if tier != "session":
            # Above the session tier memory is shared: direct writes are scrubbed like promotions.
            _outcome, scrubbed, tags, report = _scrub_record(content, tags)
            if scrubbed is None:
                with self._store.write(actor=ctx.actor, correlation_id=ctx.correlation_id) as uow:
                    self._audit(uow, ctx.actor, "put", partition, tier, None, "blocked", {"scrub": report})
                raise MemoryContentBlocked(
                    "the content holds a secret that cannot be redacted; nothing was stored", scrub=report
                )
            content = scrubbed

        def change(uow: UnitOfWork) -> dict[str, Any]:
            ttl_s = body.get("ttl_s") or (core.SESSION_TTL_S if tier == "session" else None)
            row = MemoryRow(
                id=new_id("mem"),
                org=partition.org,
                workspace=partition.workspace,
                project=partition.project,
                tier=tier,
                scope=partition.scope(tier),
                kind=kind,
                content=content,
                tags=tags,
                tags_text=core.tags_text(tags),
                artifact_refs=list(refs),
                classification=body.get("classification") or "internal",
                scrub=report,
                created_by=ctx.actor,
                created_at_us=uow.now_us,
                expires_at_us=uow.now_us + int(ttl_s * 1_000_000) if ttl_s else None,
            )
            MemoryStore(uow.session).add(row)
            outcome = report["outcome"] if report else "stored"
            self._audit(
                uow, ctx.actor, "put", partition, tier, row.id, outcome, {"kind": kind, "scrub": report}
            )
            uow.emit(
                NewEvent(
                    "memory.put",
                    f"memory/{row.id}",
                    {
                        "memory_id": row.id,
                        "partition": partition.as_dict(),
                        "tier": tier,
                        "kind": kind,
                        "classification": row.classification,
                        "outcome": outcome,
                    },
                )
            )
            return {"memory": record_to_wire(row)}

        return self._mutation.run(ctx, change, redact=_without_content)

    def get(self, ctx: RequestContext, memory_id: str) -> dict[str, Any]:
        grant = self.grant(ctx)
        self._check(ctx, grant, "read", core.check_expiry(grant, self._now_us()), memory_id=memory_id)
        with self._store.read() as uow:
            self._record_in_reach(ctx, grant, uow, memory_id, "read", "read")
        with self._store.write(actor=ctx.actor, correlation_id=ctx.correlation_id) as uow:
            row = self._record_in_reach(ctx, grant, uow, memory_id, "read", "read", audit=False)
            self._audit(uow, ctx.actor, "read", _partition_of(row), row.tier, row.id, "ok", {})
            return record_to_wire(row)

    def delete(self, ctx: RequestContext, memory_id: str) -> tuple[dict[str, Any], bool]:
        grant = self.grant(ctx)
        self._check(ctx, grant, "delete", core.check_expiry(grant, self._now_us()), memory_id=memory_id)
        with self._store.read() as uow:  # deny (and audit the denial) outside the deleting txn
            self._record_in_reach(ctx, grant, uow, memory_id, "delete", "write")

        def change(uow: UnitOfWork) -> dict[str, Any]:
            row = self._record_in_reach(ctx, grant, uow, memory_id, "delete", "write", audit=False)
            partition = _partition_of(row)
            MemoryStore(uow.session).delete(row)
            self._audit(uow, ctx.actor, "delete", partition, row.tier, row.id, "deleted", {"kind": row.kind})
            uow.emit(
                NewEvent(
                    "memory.deleted",
                    f"memory/{row.id}",
                    {
                        "memory_id": row.id,
                        "partition": partition.as_dict(),
                        "tier": row.tier,
                        "reason": "deleted",
                    },
                )
            )
            return {"deleted": row.id}

        return self._mutation.run(ctx, change)

    def sweep(self) -> int:
        """Delete expired records (session tier, or any record given a ttl), leaving audit rows."""
        with self._store.write(actor="system.memory") as uow:
            store = MemoryStore(uow.session)
            rows = store.expired(uow.now_us, SWEEP_BATCH)
            for row in rows:
                store.delete(row)
                self._audit(
                    uow, "system.memory", "expire", _partition_of(row), row.tier, row.id, "expired", {}
                )
                uow.emit(
                    NewEvent(
                        "memory.deleted",
                        f"memory/{row.id}",
                        {
                            "memory_id": row.id,
                            "partition": _partition_of(row).as_dict(),
                            "tier": row.tier,
                            "reason": "expired",
                        },
                    )
                )
            return len(rows)

    # -- promotion ---------------------------------------------------------------------------------------
    def promote(
        self, ctx: RequestContext, memory_id: str, to: str, note: str | None
    ) -> tuple[dict[str, Any], bool]:
        if to not in core.RANK:
            raise ValidationFailed.field("body.to", f"one of {', '.join(core.TIERS)}")
        grant = self.grant(ctx)
        self._check(ctx, grant, "promote", core.check_expiry(grant, self._now_us()), memory_id=memory_id)
        with self._store.read() as uow:
            source = self._record_in_reach(ctx, grant, uow, memory_id, "promote", "read")
            upward = core.check_promotion(source.tier, to)
            if upward is not None:
                raise ValidationFailed.field("body.to", upward.message, code=upward.code)
            self._check(ctx, grant, "promote", core.check_tier(grant, "promote", to), memory_id=memory_id)

        def change(uow: UnitOfWork) -> dict[str, Any]:
            row = self._record_in_reach(ctx, grant, uow, memory_id, "promote", "read", audit=False)
            return self._promote(uow, ctx, grant, row, to, note)

        return self._mutation.run(ctx, change, redact=_without_content)

    def _promote(
        self,
        uow: UnitOfWork,
        ctx: RequestContext,
        grant: core.Grant,
        source: MemoryRow,
        to: str,
        note: str | None,
    ) -> dict[str, Any]:
        partition = _partition_of(source)
        outcome, content, tags, report = _scrub_record(source.content, list(source.tags))
        base = {"source_memory_id": source.id, "from": source.tier, "to": to}
        if content is None:
            self._audit(
                uow, ctx.actor, "promote", partition, to, source.id, "blocked", {**base, "scrub": report}
            )
            uow.emit(
                NewEvent(
                    "memory.promotion_blocked",
                    f"memory/{source.id}",
                    {
                        **base,
                        "partition": partition.as_dict(),
                        "outcome": "blocked",
                        "finding_types": sorted(report["counts"]),
                    },
                )
            )
            return {
                "status": "blocked",
                "scrub": report,
                "memory": None,
                "promotion_id": None,
                "approval_id": None,
            }
        promotion = MemoryPromotionRow(
            id=_promotion_id(),
            source_memory_id=source.id,
            org=partition.org,
            workspace=partition.workspace,
            project=partition.project,
            source_tier=source.tier,
            target_tier=to,
            kind=source.kind,
            content=content,
            tags=tags,
            artifact_refs=list(source.artifact_refs),
            classification=source.classification,
            scrub=report,
            status="pending",
            requested_by=ctx.actor,
            created_at_us=uow.now_us,
        )
        if not core.review_required(grant, to):
            created = self._materialize(uow, promotion, reviewer=None, actor=ctx.actor)
            return {
                "status": "promoted",
                "scrub": report,
                "memory": record_to_wire(created),
                "promotion_id": promotion.id,
                "approval_id": None,
            }
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(report["counts"].items())) or "no findings"
        approval = ApprovalService.request(
            uow,
            kind=REVIEW_KIND,
            subject=f"memory/{source.id}",
            summary=(
                f"Promote {source.kind} {source.id} from {source.tier} to {to} in {partition.label()}; "
                f"scrub {outcome} ({counts})" + (f"; note: {note}" if note else "")
            ),
            requester=ctx.actor,
            payload={
                **base,
                "promotion_id": promotion.id,
                "partition": partition.as_dict(),
                "classification": source.classification,
                "scrub": report,
            },
        )
        promotion.approval_id = approval.id
        MemoryStore(uow.session).save_promotion(promotion)
        self._audit(
            uow,
            ctx.actor,
            "promote",
            partition,
            to,
            source.id,
            "pending_review",
            {**base, "promotion_id": promotion.id, "approval_id": approval.id, "scrub": report},
        )
        uow.emit(
            NewEvent(
                "memory.promotion_requested",
                f"memory/{source.id}",
                {
                    **base,
                    "promotion_id": promotion.id,
                    "approval_id": approval.id,
                    "outcome": outcome,
                },
            )
        )
        return {
            "status": "pending_review",
            "scrub": report,
            "memory": None,
            "promotion_id": promotion.id,
            "approval_id": approval.id,
        }

    def _materialize(
        self, uow: UnitOfWork, promotion: MemoryPromotionRow, *, reviewer: str | None, actor: str
    ) -> MemoryRow:
        partition = _partition_of(promotion)
        row = MemoryRow(
            id=new_id("mem"),
            org=promotion.org,
            workspace=promotion.workspace,
            project=promotion.project,
            tier=promotion.target_tier,
            scope=partition.scope(promotion.target_tier),
            kind=promotion.kind,
            content=promotion.content,
            tags=list(promotion.tags),
            tags_text=core.tags_text(list(promotion.tags)),
            artifact_refs=list(promotion.artifact_refs),
            classification=promotion.classification,
            source_memory_id=promotion.source_memory_id,
            promotion_id=promotion.id,
            scrub=promotion.scrub,
            reviewed_by=reviewer,
            created_by=promotion.requested_by,
            created_at_us=uow.now_us,
        )
        store = MemoryStore(uow.session)
        store.add(row)
        promotion.status, promotion.result_memory_id = "promoted", row.id
        promotion.decided_by, promotion.decided_at_us = reviewer, uow.now_us
        store.save_promotion(promotion)
        detail = {
            "source_memory_id": promotion.source_memory_id,
            "from": promotion.source_tier,
            "to": promotion.target_tier,
            "promotion_id": promotion.id,
            "approval_id": promotion.approval_id,
            "reviewer": reviewer,
            "promoted_memory_id": row.id,
            "scrub": promotion.scrub,
        }
        self._audit(
            uow, actor, "promote", partition, row.tier, promotion.source_memory_id, "promoted", detail
        )
        uow.emit(
            NewEvent(
                "memory.promoted",
                f"memory/{row.id}",
                {
                    "memory_id": row.id,
                    "source_memory_id": promotion.source_memory_id,
                    "promotion_id": promotion.id,
                    "partition": partition.as_dict(),
                    "from": promotion.source_tier,
                    "to": row.tier,
                    "reviewer": reviewer,
                    "outcome": promotion.scrub.get("outcome"),
                },
            )
        )
        return row

    def _on_review(self, uow: UnitOfWork, approval: Any) -> None:
        """Called inside the approval's deciding transaction."""
        store = MemoryStore(uow.session)
        promotion = store.promotion_for_approval(approval.id)
        if promotion is None or promotion.status != "pending":
            return
        decider = approval.decider or "unknown"
        if approval.status == "approved" and store.get(promotion.source_memory_id) is not None:
            self._materialize(uow, promotion, reviewer=decider, actor=decider)
            return
        status = {"approved": "cancelled", "denied": "rejected"}.get(approval.status, "expired")
        promotion.status, promotion.decided_by, promotion.decided_at_us = status, decider, uow.now_us
        store.save_promotion(promotion)
        reason = (
            "the source record was deleted before the review" if status == "cancelled" else approval.reason
        )
        self._audit(
            uow,
            decider,
            "promote",
            _partition_of(promotion),
            promotion.target_tier,
            promotion.source_memory_id,
            status,
            {"promotion_id": promotion.id, "approval_id": approval.id, "reviewer": decider, "reason": reason},
        )
        uow.emit(
            NewEvent(
                "memory.promotion_rejected",
                f"memory/{promotion.source_memory_id}",
                {
                    "source_memory_id": promotion.source_memory_id,
                    "promotion_id": promotion.id,
                    "approval_id": approval.id,
                    "outcome": status,
                },
            )
        )

    # -- search and audit ---------------------------------------------------------------------------------
    def search(
        self,
        ctx: RequestContext,
        q: str,
        tiers: list[str] | None,
        limit: int,
        partition_named: dict[str, Any] | None,
    ) -> dict[str, Any]:
        terms = core.search_terms(q)
        if not terms:
            raise ValidationFailed.field(
                "query.q", "give at least one word to search for (stopwords do not count)"
            )
        for i, tier in enumerate(tiers or []):
            if tier not in core.RANK:
                raise ValidationFailed.field(f"query.tiers.{i}", f"one of {', '.join(core.TIERS)}")
        grant = self.grant(ctx)
        partition = self._partition(grant, partition_named, "query")
        self._check(
            ctx,
            grant,
            "search",
            core.check_expiry(grant, self._now_us()),
            core.check_partition(grant, partition),
        )
        used, blocked = core.split_tiers(grant, tuple(tiers) if tiers else None)
        with self._store.read() as uow:
            hits = MemoryStore(uow.session).search(
                org=partition.org,
                workspace=partition.workspace,
                project=partition.project,
                scopes={t: partition.scope(t) for t in used},
                terms=terms,
                now_us=uow.now_us,
                limit=limit,
            )
            items = [{"memory": record_to_wire(row), "score": score} for row, score in hits]
        ids = [item["memory"]["id"] for item in items]
        cleaned = scrub(q)  # a query can hold a secret too; the audit keeps only the scrubbed form
        with self._store.write(actor=ctx.actor, correlation_id=ctx.correlation_id) as uow:
            detail = {
                "query": cleaned.text if cleaned.text is not None else "[REDACTED:private_key]",
                "tiers_used": used,
                "tiers_blocked": blocked,
                "result_ids": ids,
            }
            audit_id = self._audit(uow, ctx.actor, "search", partition, None, None, "ok", detail)
            uow.emit(
                NewEvent(
                    "memory.searched",
                    f"memory-search/{audit_id}",
                    {
                        "audit_id": audit_id,
                        "partition": partition.as_dict(),
                        "tiers_used": used,
                        "tiers_blocked": blocked,
                        "result_ids": ids,
                        "count": len(ids),
                    },
                )
            )
        return {
            "items": items,
            "tiers_used": used,
            "tiers_blocked": blocked,
            "terms": list(terms),
            "partition": partition.as_dict(),
        }

    def audit(
        self, ctx: RequestContext, filters: dict[str, Any], limit: int, partition_named: dict[str, Any] | None
    ) -> dict[str, Any]:
        grant = self.grant(ctx)
        partition = self._partition(grant, partition_named, "query")
        audit_denial = (
            None
            if grant.read_audit
            else core.Denial("MEMORY_AUDIT_FORBIDDEN", "this token may not read the memory audit")
        )
        self._check(
            ctx,
            grant,
            "audit",
            core.check_expiry(grant, self._now_us()),
            core.check_partition(grant, partition),
            audit_denial,
        )
        with self._store.read() as uow:
            rows = MemoryStore(uow.session).audit_page(
                org=partition.org,
                workspace=partition.workspace,
                project=partition.project,
                limit=limit,
                **{k: v for k, v in filters.items() if v is not None},
            )
            return {
                "items": [audit_to_wire(r) for r in rows],
                "next_before_id": rows[-1].id if len(rows) == limit else None,
            }

    # -- capability tokens -----------------------------------------------------------------------------------
    def mint_token(self, ctx: RequestContext, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """An admin mints a run- or agent-scoped token carrying a memory grant."""
        ctx.principal.require("admin")
        if ctx.principal.kind not in ("admin", "system"):
            raise Forbidden("memory tokens are minted with the admin token", code="MEMORY_NO_GRANT")
        partition = self._partition(core.admin_grant(ctx.actor), body.get("partition"), "body.partition")
        tiers: dict[str, frozenset[str] | None] = {}
        for key in ("read_tiers", "write_tiers", "promote_targets"):
            given = body.get(key)
            for i, tier in enumerate(given or []):
                if tier not in core.RANK:
                    raise ValidationFailed.field(f"body.{key}.{i}", f"one of {', '.join(core.TIERS)}")
            tiers[key] = None if given is None else frozenset(given)
        if "session" in (tiers["promote_targets"] or ()):
            raise ValidationFailed.field(
                "body.promote_targets", "session is the lowest tier; nothing is promoted to it"
            )
        ttl_s = body.get("ttl_s") or DEFAULT_TOKEN_TTL_S
        if not 1 <= ttl_s <= MAX_TOKEN_TTL_S:
            raise ValidationFailed.field("body.ttl_s", f"between 1 and {MAX_TOKEN_TTL_S} seconds")
        kind = body.get("kind") or "run"

        def change(uow: UnitOfWork) -> dict[str, Any]:
            subject, capabilities = self._token_subject(uow, kind, body)
            expires_at_us = uow.now_us + int(ttl_s * 1_000_000)
            grant = core.run_grant(
                subject,
                partition,
                read_tiers=tiers["read_tiers"],
                write_tiers=tiers["write_tiers"],
                promote_targets=tiers["promote_targets"],
                require_review_for_promote=body.get("require_review_for_promote", True),
                read_audit=bool(body.get("read_audit", False)),
                expires_at_us=expires_at_us,
            )
            raw, token_id = make_token(), new_id("tok")
            uow.tokens.add(
                id=token_id,
                token_hash=hash_token(raw),
                subject=subject,
                kind=kind,
                capabilities=capabilities,
                created_at_us=uow.now_us,
                partition=grant.to_json(),
                expires_at_us=expires_at_us,
            )
            wire = grant.as_wire()
            self._audit(
                uow,
                ctx.actor,
                "grant",
                partition,
                None,
                None,
                "minted",
                {"token_id": token_id, "subject": subject, "kind": kind, "grant": wire},
            )
            uow.emit(
                NewEvent(
                    "memory.token_minted",
                    f"token/{token_id}",
                    {
                        "token_id": token_id,
                        "subject": subject,
                        "kind": kind,
                        "grant": wire,
                    },
                )
            )
            return {
                "token": raw,
                "token_id": token_id,
                "subject": subject,
                "kind": kind,
                "grant": wire,
                "expires_at": ts(expires_at_us),
            }

        return self._mutation.run(ctx, change, redact=lambda a: {**a, "token": None})

    @staticmethod
    def _token_subject(uow: UnitOfWork, kind: str, body: dict[str, Any]) -> tuple[str, list[str]]:
        if kind == "run":
            run_id = body.get("run_id")
            if not isinstance(run_id, str) or core.slug_problem(run_id.lower()):
                raise ValidationFailed.field(
                    "body.run_id", "the run this token is for (1-64 letters, digits, . _ -)"
                )
            return f"run:{run_id}", ["memory:*"]
        if kind != "agent":
            raise ValidationFailed.field("body.kind", "run or agent")
        ref = body.get("agent") or ""
        agent = uow.agents.get(ref) or uow.agents.by_name(ref)
        if agent is None:
            raise NotFound(f"no agent {ref!r}", code="AGENT_NOT_FOUND", agent=ref)
        # The token also does the agent's other work, so it keeps the agent's capabilities.
        return f"agent:{agent.id}", sorted({*agent.capabilities, "memory:*"})


def _without_content(answer: dict[str, Any]) -> dict[str, Any]:
    """Idempotent replays keep ids and outcomes, not content (a deleted record must not linger)."""
    memory = answer.get("memory")
    if isinstance(memory, dict):
        return {**answer, "memory": {**memory, "content": None}}
    return answer


def _validate_record(
    tier: str,
    kind: str,
    content: str,
    tags: list[str],
    refs: list[str],
    classification: str,
    ttl_s: float | None,
) -> None:
    if tier not in core.RANK:
        raise ValidationFailed.field("body.tier", f"one of {', '.join(core.TIERS)}")
    if kind not in core.KINDS:
        raise ValidationFailed.field("body.kind", f"one of {', '.join(core.KINDS)}")
    if classification not in core.CLASSIFICATIONS:
        raise ValidationFailed.field("body.classification", f"one of {', '.join(core.CLASSIFICATIONS)}")
    if not content.strip():
        raise ValidationFailed.field("body.content", "must not be empty")
    if len(content) > core.MAX_CONTENT_CHARS:
        raise ValidationFailed.field("body.content", f"at most {core.MAX_CONTENT_CHARS} characters")
    if len(tags) > core.MAX_TAGS:
        raise ValidationFailed.field("body.tags", f"at most {core.MAX_TAGS} tags")
    for i, tag in enumerate(tags):
        problem = core.tag_problem(tag)
        if problem:
            raise ValidationFailed.field(f"body.tags.{i}", problem)
    if len(refs) > core.MAX_REFS:
        raise ValidationFailed.field("body.artifact_refs", f"at most {core.MAX_REFS} references")
    for i, ref in enumerate(refs):
        problem = core.ref_problem(ref)
        if problem:
            raise ValidationFailed.field(f"body.artifact_refs.{i}", problem)
    if ttl_s is not None and not 1 <= ttl_s <= core.MAX_TTL_S:
        raise ValidationFailed.field("body.ttl_s", f"between 1 and {core.MAX_TTL_S} seconds")
