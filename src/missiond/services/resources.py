"""The revisioned blackboard: compare-and-set writes, merge patches, transactions, TTL.

Every write transaction appends one event per changed key, with contiguous
seqs; its revision is the seq of its last event, and every record it touches
gets that `mod_rev`. So a watcher resuming from a revision it saw never sees
part of a transaction again, and the store revision is always the spine head.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from missiond.core.events import NewEvent, format_ts, from_us, to_us
from missiond.core.resources import has_nul, key_problem, merge_patch, normalize_key, prefix_problem
from missiond.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ValidationFailed,
)
from missiond.services.context import RequestContext
from missiond.services.mutations import Mutation
from missiond.storage.resources import ResourceRecord, fetch_record
from missiond.storage.uow import Store, UnitOfWork

MAX_VALUE_BYTES = 256 * 1024
MAX_TTL_S = 10 * 365 * 86_400
MAX_TXN_OPS = 128
MAX_LIST = 1000


class InvalidResourceKey(ValidationFailed):
    code = "INVALID_RESOURCE_KEY"
    title = "Invalid resource key"


class ResourceNotFound(NotFound):
    code = "RESOURCE_NOT_FOUND"
    title = "Resource not found"


class RevisionConflict(Conflict):
    code = "REVISION_CONFLICT"
    title = "Revision conflict"


class TxnCompareFailed(Conflict):
    code = "TXN_COMPARE_FAILED"
    title = "Transaction compare failed"


class ValueTooLarge(PayloadTooLarge):
    code = "VALUE_TOO_LARGE"
    title = "Value too large"


# -- operations -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Precondition:
    """HTTP preconditions (412) and the body/query `expected_rev` (409). 0 = must not exist."""

    if_match: int | None = None
    if_match_any: bool = False
    if_none_match: bool = False
    expected_rev: int | None = None


@dataclass(frozen=True, slots=True)
class Put:
    key: str
    value: Any
    ttl_s: float | None = None


@dataclass(frozen=True, slots=True)
class Patch:
    key: str
    patch: Any


@dataclass(frozen=True, slots=True)
class Delete:
    key: str


@dataclass(frozen=True, slots=True)
class Compare:
    key: str
    mod_rev: int  # 0 = the key must be absent


Op = Put | Patch | Delete


def check_key(raw: str, field: str = "key") -> str:
    key = normalize_key(raw)
    problem = key_problem(key)
    if problem:
        raise InvalidResourceKey(
            f"{field}: {problem}", errors=[{"field": field, "message": problem}], key=raw
        )
    return key


def check_prefix(raw: str) -> str:
    prefix = normalize_key(raw)
    problem = prefix_problem(prefix)
    if problem:
        raise InvalidResourceKey(
            f"prefix: {problem}", errors=[{"field": "query.prefix", "message": problem}], prefix=raw
        )
    return prefix


def _check_value(value: Any, where: str) -> None:
    encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if has_nul(value):
        # PostgreSQL's jsonb cannot hold U+0000; refuse it on every backend alike.
        raise ValidationFailed.field(where, "must not contain the NUL character (U+0000)")
    size = len(encoded.encode())
    if size > MAX_VALUE_BYTES:
        raise ValueTooLarge(
            f"{where}: value is {size} bytes; the limit is {MAX_VALUE_BYTES}",
            size=size,
            limit=MAX_VALUE_BYTES,
        )


def _check_ttl(ttl_s: float | None, where: str) -> None:
    if ttl_s is not None and not 0 < ttl_s <= MAX_TTL_S:
        raise ValidationFailed.field(where, f"must be > 0 and <= {MAX_TTL_S} seconds")


def record_to_wire(record: ResourceRecord) -> dict[str, Any]:
    return {
        "key": record.key,
        "value": record.value,
        "create_rev": record.create_rev,
        "mod_rev": record.mod_rev,
        "version": record.version,
        "updated_by": record.updated_by,
        "updated_at": format_ts(from_us(record.updated_at_us)),
        "expires_at": format_ts(from_us(record.expires_at_us)) if record.expires_at_us else None,
    }


def _live(record: ResourceRecord | None, now_us: int) -> bool:
    return record is not None and (record.expires_at_us is None or record.expires_at_us > now_us)


# -- the transaction engine ---------------------------------------------------------------
class _Txn:
    """Applies ops to a working view of the touched keys, then writes rows and events."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.now_us = uow.now_us
        self.view: dict[str, ResourceRecord | None] = {}
        self.original: dict[str, ResourceRecord | None] = {}
        self.expired: list[ResourceRecord] = []
        self.changes: list[tuple[str, str]] = []  # (key, "updated" | "deleted"), in op order

    def current(self, key: str) -> ResourceRecord | None:
        if key not in self.view:
            record = self.uow.resources.get(key)
            if record is not None and not _live(record, self.now_us):
                self.expired.append(record)
                record = None
            self.view[key] = record
            self.original[key] = record
        return self.view[key]

    def rev_of(self, key: str) -> int:
        record = self.current(key)
        return record.mod_rev if record else 0

    def apply(self, op: Op, index: int | None = None) -> None:
        existing = self.current(op.key)
        where = f" (op {index})" if index is not None else ""
        if isinstance(op, Delete):
            if existing is None:
                raise ResourceNotFound(f"no resource at {op.key!r}{where}", key=op.key, op_index=index)
            self.view[op.key] = None
            self.changes.append((op.key, "deleted"))
            return
        if isinstance(op, Patch):
            if existing is None:
                raise ResourceNotFound(f"no resource at {op.key!r}{where}", key=op.key, op_index=index)
            value = merge_patch(existing.value, op.patch)
            expires = existing.expires_at_us
        else:
            value = op.value
            expires = self.now_us + int(op.ttl_s * 1_000_000) if op.ttl_s else None
        _check_value(value, f"value of {op.key!r}")
        before = self.original[op.key]
        self.view[op.key] = ResourceRecord(
            key=op.key,
            value=value,
            create_rev=existing.create_rev if existing else -1,  # -1: set at commit
            mod_rev=-1,
            # One write per key per transaction: the version counts on from the record
            # before it, unless the key was deleted in this transaction (a new life, version 1).
            version=(before.version if existing is not None and before is not None else 0) + 1,
            updated_by=self.uow.actor,
            updated_at_us=self.now_us,
            expires_at_us=expires,
        )
        self.changes.append((op.key, "updated"))

    def commit(self) -> int:
        """Write rows and events; returns the transaction's revision (0 when nothing changed)."""
        final_keys = list(dict.fromkeys(key for key, _ in self.changes))
        count = len(self.expired) + len(final_keys)
        if count == 0:
            return 0
        first = self.uow.reserve(count)
        rev = first + count - 1
        events = [self._expired_event(r, rev) for r in self.expired]
        for key in final_keys:
            after = self.view[key]
            before = self.original[key]
            prev_rev = before.mod_rev if before else 0
            if after is None:
                self.uow.resources.delete(key)
                events.append(
                    NewEvent(
                        "resource.deleted",
                        f"resource/{key}",
                        {
                            "key": key,
                            "rev": rev,
                            "prev_rev": prev_rev,
                            "updated_by": self.uow.actor,
                        },
                    )
                )
                continue
            # create_rev is -1 for a record created in this transaction (even one deleted
            # and put again within it): it becomes this revision.
            stored = replace(after, mod_rev=rev, create_rev=after.create_rev if after.create_rev > 0 else rev)
            self.uow.resources.save(stored)
            events.append(
                NewEvent(
                    "resource.updated",
                    f"resource/{key}",
                    {
                        "key": key,
                        "rev": rev,
                        "prev_rev": prev_rev,
                        "value": stored.value,
                        "version": stored.version,
                        "create_rev": stored.create_rev,
                        "updated_by": stored.updated_by,
                        "expires_at": format_ts(from_us(stored.expires_at_us))
                        if stored.expires_at_us
                        else None,
                    },
                )
            )
        for record in self.expired:
            if record.key not in final_keys:
                self.uow.resources.delete(record.key)
        self.uow.emit_many(events, first=first)
        return rev

    def _expired_event(self, record: ResourceRecord, rev: int) -> NewEvent:
        return NewEvent(
            "resource.expired",
            f"resource/{record.key}",
            {
                "key": record.key,
                "rev": rev,
                "prev_rev": record.mod_rev,
                "updated_by": "system.ttl",
            },
        )


def _check_precondition(txn: _Txn, key: str, pre: Precondition) -> None:
    current = txn.rev_of(key)
    if pre.if_match is not None and current != pre.if_match:
        raise PreconditionFailed(
            f"If-Match {pre.if_match} does not match the current revision {current} of {key!r}",
            key=key,
            expected_rev=pre.if_match,
            current_rev=current,
        )
    if pre.if_match_any and current == 0:
        raise PreconditionFailed(f"If-Match: * but {key!r} does not exist", key=key, current_rev=0)
    if pre.if_none_match and current != 0:
        raise PreconditionFailed(
            f"If-None-Match: * but {key!r} exists at revision {current}", key=key, current_rev=current
        )
    if pre.expected_rev is not None and current != pre.expected_rev:
        raise RevisionConflict(
            f"{key!r} is at revision {current}, not {pre.expected_rev}",
            key=key,
            expected_rev=pre.expected_rev,
            current_rev=current,
        )


Change = Callable[[UnitOfWork], dict[str, Any]]


def _single(ctx: RequestContext, key: str, pre: Precondition, op: Op) -> Change:
    """The change of a one-key write: check the precondition, apply, commit."""
    ctx.principal.require("resources:write")

    def change(uow: UnitOfWork) -> dict[str, Any]:
        txn = _Txn(uow)
        _check_precondition(txn, key, pre)
        txn.apply(op)
        rev = txn.commit()
        after = txn.view[key]
        if after is None:
            return {"key": key, "rev": rev, "deleted": True}
        return record_to_wire(
            replace(after, mod_rev=rev, create_rev=after.create_rev if after.create_rev > 0 else rev)
        )

    return change


class ResourceService:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._mutation = Mutation(store)

    # -- reads ------------------------------------------------------------------------
    def get(self, ctx: RequestContext, raw_key: str) -> dict[str, Any]:
        ctx.principal.require("resources:read")
        key = check_key(raw_key)
        if self._store.fetches_inline:
            record = fetch_record(self._store.fetch_one, key)
        else:
            with self._store.read() as uow:
                record = uow.resources.get(key)
        if record is not None and not _live(record, self._now_us()):
            self.sweep(key_prefix=key, exact=True)
            record = None
        if record is None:
            raise ResourceNotFound(f"no resource at {key!r}", key=key)
        return record_to_wire(record)

    def list(
        self, ctx: RequestContext, raw_prefix: str, *, after_key: str | None, limit: int
    ) -> dict[str, Any]:
        ctx.principal.require("resources:read")
        prefix = check_prefix(raw_prefix)
        if not 1 <= limit <= MAX_LIST:
            raise ValidationFailed.field("query.limit", f"must be between 1 and {MAX_LIST}")
        with self._store.read(snapshot=True) as uow:
            head, _floor = uow.events.bounds()
            now_us = uow.now_us
            records = uow.resources.list(prefix, after_key=after_key, limit=limit)
        items = [record_to_wire(r) for r in records if _live(r, now_us)]
        cursor = records[-1].key if len(records) == limit else None
        return {"items": items, "revision": head, "next_after_key": cursor}

    # -- writes -----------------------------------------------------------------------
    # Each write has a blocking form (worker threads, tests) and an async form (the API, on
    # the event loop); both check the input first, then run the same change.
    def put(
        self, ctx: RequestContext, raw_key: str, value: Any, *, ttl_s: float | None, pre: Precondition
    ) -> tuple[dict[str, Any], bool]:
        return self._mutation.run(ctx, self._put(ctx, raw_key, value, ttl_s, pre))

    async def put_async(
        self, ctx: RequestContext, raw_key: str, value: Any, *, ttl_s: float | None, pre: Precondition
    ) -> tuple[dict[str, Any], bool]:
        return await self._mutation.run_async(ctx, self._put(ctx, raw_key, value, ttl_s, pre))

    def patch(
        self, ctx: RequestContext, raw_key: str, patch: Any, *, pre: Precondition
    ) -> tuple[dict[str, Any], bool]:
        return self._mutation.run(ctx, self._patch(ctx, raw_key, patch, pre))

    async def patch_async(
        self, ctx: RequestContext, raw_key: str, patch: Any, *, pre: Precondition
    ) -> tuple[dict[str, Any], bool]:
        return await self._mutation.run_async(ctx, self._patch(ctx, raw_key, patch, pre))

    def delete(self, ctx: RequestContext, raw_key: str, *, pre: Precondition) -> tuple[dict[str, Any], bool]:
        return self._mutation.run(ctx, self._delete(ctx, raw_key, pre))

    async def delete_async(
        self, ctx: RequestContext, raw_key: str, *, pre: Precondition
    ) -> tuple[dict[str, Any], bool]:
        return await self._mutation.run_async(ctx, self._delete(ctx, raw_key, pre))

    def _put(
        self, ctx: RequestContext, raw_key: str, value: Any, ttl_s: float | None, pre: Precondition
    ) -> Change:
        key = check_key(raw_key)
        _check_ttl(ttl_s, "body.ttl_s")
        return _single(ctx, key, pre, Put(key, value, ttl_s))

    def _patch(self, ctx: RequestContext, raw_key: str, patch: Any, pre: Precondition) -> Change:
        key = check_key(raw_key)
        return _single(ctx, key, pre, Patch(key, patch))

    def _delete(self, ctx: RequestContext, raw_key: str, pre: Precondition) -> Change:
        key = check_key(raw_key)
        return _single(ctx, key, pre, Delete(key))

    def txn(self, ctx: RequestContext, compares: list[Compare], ops: list[Op]) -> tuple[dict[str, Any], bool]:
        ctx.principal.require("resources:write")
        if not ops and not compares:
            raise ValidationFailed.field("body.ops", "a transaction needs at least one compare or op")
        if len(ops) > MAX_TXN_OPS or len(compares) > MAX_TXN_OPS:
            raise ValidationFailed.field("body.ops", f"at most {MAX_TXN_OPS} compares and {MAX_TXN_OPS} ops")
        for i, op in enumerate(ops):
            if isinstance(op, Put):
                _check_ttl(op.ttl_s, f"body.ops[{i}].ttl_s")

        def change(uow: UnitOfWork) -> dict[str, Any]:
            txn = _Txn(uow)
            failed = [
                {"index": i, "key": c.key, "expected_rev": c.mod_rev, "current_rev": txn.rev_of(c.key)}
                for i, c in enumerate(compares)
                if txn.rev_of(c.key) != c.mod_rev
            ]
            if failed:
                raise TxnCompareFailed(f"{len(failed)} compare(s) failed; nothing was applied", failed=failed)
            for i, op in enumerate(ops):
                txn.apply(op, i)
            rev = txn.commit() or uow.events.bounds()[0]  # compares only: the revision they held at
            results = []
            for key in dict.fromkeys(op.key for op in ops):
                record = txn.view[key]
                results.append({"key": key, "deleted": record is None, "mod_rev": rev if record else None})
            return {"revision": rev, "succeeded": True, "results": results}

        return self._mutation.run(ctx, change)

    # -- TTL --------------------------------------------------------------------------
    def sweep(self, *, key_prefix: str = "", exact: bool = False, limit: int = 500) -> int:
        """Remove expired records with `resource.expired` events; returns how many."""
        with self._store.write(actor="system.ttl") as uow:
            found = uow.resources.expired(uow.now_us, limit=limit, prefix=key_prefix)
            if exact:
                found = [r for r in found if r.key == key_prefix]
            if not found:
                return 0
            txn = _Txn(uow)
            txn.expired = found
            txn.commit()
            return len(found)

    def _now_us(self) -> int:
        return to_us(self._store.clock())
