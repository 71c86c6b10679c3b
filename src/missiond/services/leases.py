"""The ready queue and leases: claims that two agents never share, renewals,
releases, and reclaim of leases whose holder went quiet.

Every claim runs in one write transaction (SQLite BEGIN IMMEDIATE; on
PostgreSQL the spine row lock taken first), so choosing the best ready task
and leasing it is atomic. Each claim raises the task's fencing token; every
later write by the holder must carry it, so a holder that lost its lease can
never write again.
"""

from __future__ import annotations

from typing import Any

from missiond.core.events import NewEvent
from missiond.core.tasks import TaskStatus
from missiond.errors import Conflict, NotFound, ValidationFailed
from missiond.identifiers import new_id
from missiond.services.context import RequestContext
from missiond.services.mutations import Mutation
from missiond.services.task_model import (
    LeaseExpired,
    LeaseHeld,
    LeaseNotFound,
    check_transition,
    guard_lease,
    lease_live,
    task_to_wire,
    ts,
)
from missiond.services.tasks import TaskBoard
from missiond.storage.tables import AgentSessionRow, LeaseRow, TaskRow
from missiond.storage.uow import Store, UnitOfWork

MIN_TTL_S, MAX_TTL_S = 1.0, 24 * 3600.0
RECLAIM_BATCH = 200


def _check_ttl(ttl_s: float) -> None:
    if not MIN_TTL_S <= ttl_s <= MAX_TTL_S:
        raise ValidationFailed.field("body.ttl_s", f"must be between {MIN_TTL_S} and {MAX_TTL_S} seconds")


def lease_to_wire(lease: LeaseRow) -> dict[str, Any]:
    return {
        "id": lease.id,
        "task_id": lease.task_id,
        "holder": lease.holder,
        "session_id": lease.session_id,
        "fencing_token": lease.fencing_token,
        "ttl_s": lease.ttl_s,
        "acquired_at": ts(lease.acquired_at_us),
        "expires_at": ts(lease.expires_at_us),
        "ended_at": ts(lease.ended_at_us),
        "end_reason": lease.end_reason,
    }


def session_to_wire(row: AgentSessionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "agent": row.agent_id,
        "ttl_s": row.ttl_s,
        "started_at": ts(row.started_at_us),
        "expires_at": ts(row.expires_at_us),
        "ended_at": ts(row.ended_at_us),
        "end_reason": row.end_reason,
    }


def reclaim(uow: UnitOfWork, task: TaskRow, *, reason: str) -> None:
    """Take a lease back: the task returns to the ready queue with a note saying who held it."""
    lease = uow.tasks.get_lease(task.lease_id) if task.lease_id else None
    holder = task.lease_agent
    held_s = (uow.now_us - lease.acquired_at_us) / 1_000_000 if lease else None
    board = TaskBoard(uow)
    lease_id = task.lease_id
    board.end_lease(task, reason=reason)
    if task.status == TaskStatus.IN_PROGRESS:
        task.status = TaskStatus.OPEN
    board.touch(task)
    body = (
        f"lease {lease_id} held by {holder} for {held_s:.1f}s ended ({reason}); "
        "the task went back to the ready queue"
    )
    board.add_note(task, "note", body, None, author="system.leases")
    uow.emit(
        NewEvent(
            "task.lease_expired",
            f"task/{task.id}",
            {
                "task_id": task.id,
                "rev": task.rev,
                "lease_id": lease_id,
                "holder": holder,
                "held_for_s": held_s,
                "reason": reason,
            },
        ),
        actor="system.leases",
    )


class LeaseService:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._mutation = Mutation(store)

    # -- ready and claim ----------------------------------------------------------------
    def ready(
        self, ctx: RequestContext, *, role: str | None, labels: list[str], limit: int
    ) -> dict[str, Any]:
        ctx.principal.require("tasks:read")
        if not 1 <= limit <= 500:
            raise ValidationFailed.field("query.limit", "must be between 1 and 500")
        with self._store.read() as uow:
            rows = uow.tasks.ready(uow.now_us, role=role, labels=labels, limit=limit)
            return {"items": [task_to_wire(r, uow.now_us) for r in rows]}

    def claim(
        self,
        ctx: RequestContext,
        *,
        task_id: str | None,
        role: str | None,
        labels: list[str],
        ttl_s: float,
        session_id: str | None,
    ) -> tuple[dict[str, Any] | None, bool]:
        ctx.principal.require("tasks:claim")
        _check_ttl(ttl_s)

        def change(uow: UnitOfWork) -> dict[str, Any]:
            if session_id:
                self._check_session(uow, ctx, session_id, in_body=True)
            for stale in uow.tasks.expired_leases(uow.now_us, RECLAIM_BATCH):
                reclaim(uow, stale, reason="expired")
            if task_id is not None:
                task = TaskBoard(uow).load(task_id)
                guard_lease(task, ctx.principal, None, uow.now_us)
                if task.status != TaskStatus.OPEN or task.open_blockers > 0:
                    check_transition(task, TaskStatus.IN_PROGRESS)
                    raise Conflict(
                        f"{task.id} is not ready: {task.open_blockers} blocker(s) not completed",
                        code="TASK_NOT_READY",
                        task_id=task.id,
                        open_blockers=task.open_blockers,
                    )
            else:
                rows = uow.tasks.ready(uow.now_us, role=role, labels=labels, limit=1)
                if not rows:
                    return {"task": None, "lease": None}
                task = rows[0]
            return self._grant(uow, ctx, task, ttl_s, session_id)

        answer, replayed = self._mutation.run(ctx, change)
        return (None if answer["task"] is None else answer), replayed

    def _grant(
        self, uow: UnitOfWork, ctx: RequestContext, task: TaskRow, ttl_s: float, session_id: str | None
    ) -> dict[str, Any]:
        if task.lease_id is not None:  # an expired lease not yet swept
            reclaim(uow, task, reason="expired")
        task.fence += 1
        lease = LeaseRow(
            id=new_id("lse"),
            task_id=task.id,
            holder=ctx.actor,
            session_id=session_id,
            fencing_token=task.fence,
            ttl_s=ttl_s,
            acquired_at_us=uow.now_us,
            expires_at_us=uow.now_us + int(ttl_s * 1_000_000),
        )
        uow.tasks.add_lease(lease)
        task.status = TaskStatus.IN_PROGRESS
        task.lease_id, task.lease_agent, task.lease_expires_at_us = lease.id, ctx.actor, lease.expires_at_us
        TaskBoard(uow).touch(task)
        uow.emit(
            NewEvent(
                "task.claimed",
                f"task/{task.id}",
                {
                    "task_id": task.id,
                    "rev": task.rev,
                    "lease_id": lease.id,
                    "holder": ctx.actor,
                    "fencing_token": lease.fencing_token,
                    "expires_at": ts(lease.expires_at_us),
                },
            )
        )
        return {"task": task_to_wire(task, uow.now_us), "lease": lease_to_wire(lease)}

    # -- renew and release --------------------------------------------------------------
    def _own_live_lease(
        self, uow: UnitOfWork, ctx: RequestContext, lease_id: str, token: int | None
    ) -> tuple[LeaseRow, TaskRow]:
        lease = uow.tasks.get_lease(lease_id)
        if lease is None:
            raise LeaseNotFound(f"no lease {lease_id!r}", lease_id=lease_id)
        if lease.holder != ctx.actor and not ctx.principal.can("admin"):
            raise LeaseHeld(
                f"lease {lease_id} belongs to {lease.holder}", lease_id=lease_id, holder=lease.holder
            )
        task = TaskBoard(uow).load(lease.task_id)
        if lease.ended_at_us is not None or task.lease_id != lease.id or not lease_live(task, uow.now_us):
            raise LeaseExpired(
                f"lease {lease_id} is no longer live ({lease.end_reason or 'expired'})",
                lease_id=lease_id,
                task_id=task.id,
                end_reason=lease.end_reason or "expired",
            )
        if token is not None and token != lease.fencing_token:
            raise LeaseExpired(
                f"fencing token {token} is stale for lease {lease_id}",
                lease_id=lease_id,
                fencing_token=token,
                current_fencing_token=lease.fencing_token,
            )
        return lease, task

    def renew(
        self, ctx: RequestContext, lease_id: str, *, ttl_s: float | None, token: int | None
    ) -> tuple[dict[str, Any], bool]:
        ctx.principal.require("tasks:claim")
        if ttl_s is not None:
            _check_ttl(ttl_s)

        def change(uow: UnitOfWork) -> dict[str, Any]:
            lease, task = self._own_live_lease(uow, ctx, lease_id, token)
            lease.ttl_s = ttl_s or lease.ttl_s
            lease.expires_at_us = uow.now_us + int(lease.ttl_s * 1_000_000)
            uow.tasks.save_any(lease)
            task.lease_expires_at_us = lease.expires_at_us
            uow.tasks.save(task)
            uow.emit(
                NewEvent(
                    "task.lease_renewed",
                    f"task/{task.id}",
                    {
                        "task_id": task.id,
                        "lease_id": lease.id,
                        "expires_at": ts(lease.expires_at_us),
                    },
                )
            )
            return lease_to_wire(lease)

        return self._mutation.run(ctx, change)

    def release(
        self, ctx: RequestContext, lease_id: str, *, token: int | None, outcome: str | None, complete: bool
    ) -> tuple[dict[str, Any], bool]:
        ctx.principal.require("tasks:claim")

        def change(uow: UnitOfWork) -> dict[str, Any]:
            lease, task = self._own_live_lease(uow, ctx, lease_id, token)
            board = TaskBoard(uow)
            if complete:
                board.transition(task, TaskStatus.COMPLETED, outcome=outcome, reason="released_done")
            else:
                board.end_lease(task, reason="released")
                if task.status == TaskStatus.IN_PROGRESS:
                    task.status = TaskStatus.OPEN
                if outcome:
                    board.add_note(task, "attempt", outcome, None)
                board.touch(task)
                uow.emit(
                    NewEvent(
                        "task.released",
                        f"task/{task.id}",
                        {
                            "task_id": task.id,
                            "rev": task.rev,
                            "lease_id": lease.id,
                            "holder": lease.holder,
                        },
                    )
                )
            return {"lease": lease_to_wire(lease), "task": task_to_wire(task, uow.now_us)}

        return self._mutation.run(ctx, change)

    # -- sessions -----------------------------------------------------------------------
    def _check_session(
        self, uow: UnitOfWork, ctx: RequestContext, session_id: str, *, in_body: bool = False
    ) -> AgentSessionRow:
        row = uow.agents.get_session(session_id)
        if (row is None or row.agent_id != ctx.actor) and in_body:
            raise ValidationFailed.field("body.session_id", "no such session of yours")
        if row is None or row.agent_id != ctx.actor:
            raise NotFound(
                f"no session {session_id!r} of yours", code="SESSION_NOT_FOUND", session_id=session_id
            )
        if row.ended_at_us is not None or row.expires_at_us <= uow.now_us:
            raise LeaseExpired(
                f"session {session_id} has ended", code="SESSION_EXPIRED", session_id=session_id
            )
        return row

    def start_session(self, ctx: RequestContext, ttl_s: float) -> tuple[dict[str, Any], bool]:
        _check_ttl(ttl_s)

        def change(uow: UnitOfWork) -> dict[str, Any]:
            row = AgentSessionRow(
                id=new_id("ses"),
                agent_id=ctx.actor,
                ttl_s=ttl_s,
                started_at_us=uow.now_us,
                expires_at_us=uow.now_us + int(ttl_s * 1_000_000),
            )
            uow.agents.add_session(row)
            uow.emit(
                NewEvent("agent.session_started", f"agent/{ctx.actor}", {"session": session_to_wire(row)})
            )
            return session_to_wire(row)

        return self._mutation.run(ctx, change)

    def heartbeat(self, ctx: RequestContext, session_id: str) -> dict[str, Any]:
        """Keeps the session and the leases taken under it alive. Not an event: a
        liveness ping is not a fact worth keeping, and it would flood watchers."""
        with self._store.write(actor=ctx.actor, correlation_id=ctx.correlation_id) as uow:
            row = self._check_session(uow, ctx, session_id)
            row.expires_at_us = uow.now_us + int(row.ttl_s * 1_000_000)
            uow.agents.save(row)
            renewed = 0
            for lease in uow.tasks.live_leases_of_session(session_id):
                task = uow.tasks.get(lease.task_id)
                if task is None or task.lease_id != lease.id or not lease_live(task, uow.now_us):
                    continue
                lease.expires_at_us = max(lease.expires_at_us, uow.now_us + int(lease.ttl_s * 1_000_000))
                task.lease_expires_at_us = lease.expires_at_us
                uow.tasks.save_any(lease)
                uow.tasks.save(task)
                renewed += 1
            return {**session_to_wire(row), "leases_renewed": renewed}

    def end_session(self, ctx: RequestContext, session_id: str) -> tuple[dict[str, Any], bool]:
        def change(uow: UnitOfWork) -> dict[str, Any]:
            row = self._check_session(uow, ctx, session_id)
            self._close_session(uow, row, "ended")
            return session_to_wire(row)

        return self._mutation.run(ctx, change)

    def _close_session(self, uow: UnitOfWork, row: AgentSessionRow, reason: str) -> None:
        row.ended_at_us = uow.now_us
        row.end_reason = reason
        uow.agents.save(row)
        for lease in uow.tasks.live_leases_of_session(row.id):
            task = uow.tasks.get(lease.task_id)
            if task is not None and task.lease_id == lease.id:
                reclaim(uow, task, reason=f"session_{reason}")
            else:
                lease.ended_at_us, lease.end_reason = uow.now_us, f"session_{reason}"
                uow.tasks.save_any(lease)
        uow.emit(
            NewEvent(f"agent.session_{reason}", f"agent/{row.agent_id}", {"session": session_to_wire(row)}),
            actor="system.leases",
        )

    # -- the sweeper --------------------------------------------------------------------
    def sweep(self) -> int:
        """Close sessions that stopped heartbeating and reclaim expired leases; returns how many."""
        with self._store.write(actor="system.leases") as uow:
            sessions = uow.agents.expired_sessions(uow.now_us, RECLAIM_BATCH)
            for row in sessions:
                self._close_session(uow, row, "expired")
            tasks = uow.tasks.expired_leases(uow.now_us, RECLAIM_BATCH)
            for task in tasks:
                reclaim(uow, task, reason="expired")
            return len(sessions) + len(tasks)
