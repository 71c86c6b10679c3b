"""Run a mutation once per Idempotency-Key, in the same transaction as the change.

The stored answer is written in the mutation's own transaction, so a repeat
after a crash either finds the committed answer or finds nothing and
re-runs a mutation that never happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from missiond.errors import IdempotencyKeyReused
from missiond.services.context import RequestContext
from missiond.storage.uow import Store, UnitOfWork


class Mutation:
    def __init__(self, store: Store) -> None:
        self._store = store

    def run(
        self,
        ctx: RequestContext,
        change: Callable[[UnitOfWork], dict[str, Any]],
        *,
        redact: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Returns (answer, replayed). `redact` shapes what is kept for replays (secrets never are)."""
        return self._store.run(_once(ctx, change, redact), actor=ctx.actor, correlation_id=ctx.correlation_id)

    async def run_async(
        self,
        ctx: RequestContext,
        change: Callable[[UnitOfWork], dict[str, Any]],
        *,
        redact: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """`run` for a caller on the event loop (see `Store.run_async`)."""
        return await self._store.run_async(
            _once(ctx, change, redact), actor=ctx.actor, correlation_id=ctx.correlation_id
        )


def _once(
    ctx: RequestContext,
    change: Callable[[UnitOfWork], dict[str, Any]],
    redact: Callable[[dict[str, Any]], dict[str, Any]] | None,
) -> Callable[[UnitOfWork], tuple[dict[str, Any], bool]]:
    """The change, run once per Idempotency-Key: a repeat finds the stored answer instead."""

    def once(uow: UnitOfWork) -> tuple[dict[str, Any], bool]:
        key = ctx.idempotency_key
        if key:
            found = uow.idempotency.get(ctx.actor, key)
            if found is not None:
                fingerprint, answer = found
                if fingerprint != (ctx.fingerprint or ""):
                    raise IdempotencyKeyReused(
                        "this Idempotency-Key was used with a different request",
                        idempotency_key=key,
                    )
                return answer, True
        answer = change(uow)
        if key:
            kept = redact(answer) if redact else answer
            uow.idempotency.put(ctx.actor, key, ctx.fingerprint or "", kept, uow.now_us)
        return answer, False

    return once
