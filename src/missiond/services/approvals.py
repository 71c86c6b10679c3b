"""The durable approval queue: requests that wait for a person, and their decisions.

Approvals survive restarts (they are rows), are visible to every client, and
every request and decision is an event. Whatever asked for the approval
(a routine run today, mission gates later) registers a handler that is called
inside the deciding transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from missiond.core.events import NewEvent
from missiond.errors import Conflict, Forbidden, NotFound, ValidationFailed
from missiond.identifiers import new_id
from missiond.services.context import RequestContext
from missiond.services.mutations import Mutation
from missiond.services.task_model import ts
from missiond.storage.tables import ApprovalRow
from missiond.storage.uow import Store, UnitOfWork

DEFAULT_EXPIRY_S = 24 * 3600
Handler = Callable[[UnitOfWork, ApprovalRow], None]


class ApprovalNotFound(NotFound):
    code = "APPROVAL_NOT_FOUND"
    title = "Approval not found"


def approval_to_wire(row: ApprovalRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "subject": row.subject,
        "summary": row.summary,
        "requester": row.requester,
        "status": row.status,
        "decider": row.decider,
        "reason": row.reason,
        "payload": row.payload,
        "created_at": ts(row.created_at_us),
        "expires_at": ts(row.expires_at_us),
        "decided_at": ts(row.decided_at_us),
        "rev": row.rev,
    }


class ApprovalService:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._mutation = Mutation(store)
        self._handlers: dict[str, Handler] = {}

    def on_decision(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    @staticmethod
    def request(
        uow: UnitOfWork,
        *,
        kind: str,
        subject: str,
        summary: str,
        requester: str,
        payload: dict[str, Any],
        expires_in_s: float = DEFAULT_EXPIRY_S,
    ) -> ApprovalRow:
        row = ApprovalRow(
            id=new_id("apr"),
            kind=kind,
            subject=subject,
            summary=summary,
            requester=requester,
            status="pending",
            payload=payload,
            created_at_us=uow.now_us,
            expires_at_us=uow.now_us + int(expires_in_s * 1_000_000),
        )
        uow.approvals.save(row)
        uow.emit(NewEvent("approval.requested", f"approval/{row.id}", {"approval": approval_to_wire(row)}))
        return row

    def list(self, ctx: RequestContext, status: str | None, limit: int) -> dict[str, Any]:
        ctx.principal.require("approvals:read")
        with self._store.read() as uow:
            return {"items": [approval_to_wire(r) for r in uow.approvals.list(status=status, limit=limit)]}

    def get(self, ctx: RequestContext, approval_id: str) -> dict[str, Any]:
        ctx.principal.require("approvals:read")
        with self._store.read() as uow:
            row = uow.approvals.get(approval_id)
            if row is None:
                raise ApprovalNotFound(f"no approval {approval_id!r}", approval_id=approval_id)
            return approval_to_wire(row)

    def decide(
        self, ctx: RequestContext, approval_id: str, approve: bool, reason: str | None
    ) -> tuple[dict[str, Any], bool]:
        ctx.principal.require("approvals:decide")
        if ctx.principal.kind == "agent":
            raise Forbidden("approvals are decided by people, not agents", approval_id=approval_id)
        if not approve and not (reason or "").strip():
            raise ValidationFailed.field("body.reason", "a denial needs a reason")

        def change(uow: UnitOfWork) -> dict[str, Any]:
            row = uow.approvals.get(approval_id)
            if row is None:
                raise ApprovalNotFound(f"no approval {approval_id!r}", approval_id=approval_id)
            if row.status != "pending":
                raise Conflict(
                    f"approval {approval_id} is already {row.status}",
                    code="APPROVAL_DECIDED",
                    approval_status=row.status,
                )
            if row.expires_at_us is not None and row.expires_at_us <= uow.now_us:
                self._close(uow, row, "expired", "system.approvals", "expired before a decision")
                return approval_to_wire(row)
            self._close(uow, row, "approved" if approve else "denied", ctx.actor, reason)
            return approval_to_wire(row)

        return self._mutation.run(ctx, change)

    def withdraw(self, uow: UnitOfWork, approval_id: str, reason: str) -> bool:
        """Close a pending approval nobody needs any more (what asked for it moved on)."""
        row = uow.approvals.get(approval_id)
        if row is None or row.status != "pending":
            return False
        self._close(uow, row, "expired", "system.approvals", reason)
        return True

    def _close(
        self, uow: UnitOfWork, row: ApprovalRow, status: str, decider: str, reason: str | None
    ) -> None:
        row.status, row.decider, row.reason, row.decided_at_us = status, decider, reason, uow.now_us
        row.rev += 1
        uow.approvals.save(row)
        uow.emit(NewEvent(f"approval.{status}", f"approval/{row.id}", {"approval": approval_to_wire(row)}))
        handler = self._handlers.get(row.kind)
        if handler is not None:
            handler(uow, row)

    def sweep(self) -> int:
        with self._store.write(actor="system.approvals") as uow:
            rows = uow.approvals.expired(uow.now_us, 200)
            for row in rows:
                self._close(uow, row, "expired", "system.approvals", "expired before a decision")
            return len(rows)
