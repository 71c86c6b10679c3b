"""The blackboard against a dictionary model (Hypothesis stateful test), on SQLite and PostgreSQL.

Rules put, patch, delete and run transactions with right and wrong preconditions; after
every step the store, its list, its revision and the spine agree with the model.

The model reads "one event per changed key" as one event per key an op touched, with the
key's final state, so a txn that puts and then deletes an absent key appends a
`resource.deleted` with prev_rev 0 (the contract does not say otherwise), and a key written
twice in one txn gains one version.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from missiond.bootstrap import System
from missiond.core.events import Event
from missiond.errors import MissiondError
from missiond.services.resources import Compare, Delete, Patch, Precondition, Put

from .harness import ADMIN, events_after, spine_head

TTL_S = 3600.0
SUFFIXES = ("a", "a/x", "b", "B", "é")  # bytewise: "B" < "a" < "a/x" < "b" < "é"
_namespaces = itertools.count()


def reference_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 section 2, as literally as Python allows: the model's own implementation."""
    if not isinstance(patch, dict):
        return patch
    result = {**target} if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = reference_merge_patch(result.get(name), value)
    return result


@dataclass(frozen=True)
class Modeled:
    value: Any
    create_rev: int
    mod_rev: int
    version: int
    expires_at: str | None  # learned from the store when a put sets a TTL


@dataclass(frozen=True)
class Failure:
    code: str
    extra: dict[str, Any]


# -- strategies ---------------------------------------------------------------------------------
names = st.sampled_from(["n", "m", "tag"])
scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text("xyz", max_size=3)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=8,
)
patches = st.dictionaries(names, values, max_size=3) | values
suffixes = st.sampled_from(SUFFIXES)
# A target is a suffix, or (three times in four) one of the keys the model holds, picked by index.
targets = st.tuples(suffixes, st.sampled_from([True, True, True, False]), st.integers(0, 9))
# Mostly unconditional or right, so the store fills up; every wrong form still comes up often.
headers = st.sampled_from([None, None, None, None, "match-current", "match-other", "match-any", "none-match"])
expectations = st.sampled_from([None, None, None, None, "current", "current", "other", "zero"])
skews = st.integers(1, 3)
ops = st.one_of(
    st.tuples(st.just("put"), targets, values, st.booleans()),
    st.tuples(st.just("patch"), targets, patches, st.just(False)),
    st.tuples(st.just("delete"), targets, st.none(), st.just(False)),
)
compares = st.lists(st.tuples(targets, st.sampled_from([True, True, True, False]), skews), max_size=3)


def precondition_failure(current: int, pre: Precondition) -> Failure | None:
    """HTTP preconditions (412) are checked before `expected_rev` (409)."""
    if (
        (pre.if_match is not None and current != pre.if_match)
        or (pre.if_match_any and current == 0)
        or (pre.if_none_match and current != 0)
    ):
        return Failure("PRECONDITION_FAILED", {"current_rev": current})
    if pre.expected_rev is not None and current != pre.expected_rev:
        return Failure("REVISION_CONFLICT", {"expected_rev": pre.expected_rev, "current_rev": current})
    return None


class BlackboardModel(RuleBasedStateMachine):
    system: ClassVar[System]

    def __init__(self) -> None:
        super().__init__()
        self.prefix = f"project/model{next(_namespaces)}/"
        self.model: dict[str, Modeled] = {}
        self.head = spine_head(self.system)

    # -- helpers --------------------------------------------------------------------------------
    def key(self, suffix: str) -> str:
        return self.prefix + suffix

    def target(self, where: tuple[str, bool, int]) -> str:
        suffix, prefer_existing, pick = where
        existing = sorted(self.model)
        return existing[pick % len(existing)] if prefer_existing and existing else self.key(suffix)

    def rev(self, key: str) -> int:
        return self.model[key].mod_rev if key in self.model else 0

    def precondition(self, key: str, header: str | None, expected: str | None, skew: int) -> Precondition:
        current, other = self.rev(key), self.rev(key) + skew
        return Precondition(
            if_match={"match-current": current, "match-other": other}.get(header or ""),
            if_match_any=header == "match-any",
            if_none_match=header == "none-match",
            expected_rev={"current": current, "other": other, "zero": 0}.get(expected or ""),
        )

    def attempt(self, call: Any) -> tuple[dict[str, Any] | None, MissiondError | None]:
        try:
            answer, replayed = call()
        except MissiondError as exc:
            return None, exc
        assert not replayed
        return answer, None

    def check_refused(self, error: MissiondError | None, expected: Failure) -> None:
        assert error is not None, f"expected {expected.code}, the write succeeded"
        assert error.code == expected.code, (error.code, error.detail)
        for name, value in expected.extra.items():
            assert error.extra.get(name) == value, (name, error.extra)
        assert spine_head(self.system) == self.head, "a refused write moved the spine"

    def commit(self, view: dict[str, Modeled | None], touched: list[str], puts_with_ttl: set[str]) -> int:
        """Check the events a successful write appended against the model, then advance it."""
        before_head, rev = self.head, self.head + len(touched)
        events = events_after(self.system, before_head)
        assert [e.seq for e in events] == list(range(before_head + 1, rev + 1))
        assert spine_head(self.system) == rev
        assert all(e.data["rev"] == rev and e.actor == "user:admin" for e in events)
        for key, event in zip(touched, events, strict=True):
            self.check_event(event, key, self.model.get(key), view[key], rev, key in puts_with_ttl)
        self.head = rev
        return rev

    def check_event(
        self, event: Event, key: str, before: Modeled | None, after: Modeled | None, rev: int, ttl: bool
    ) -> None:
        assert event.subject == f"resource/{key}"
        prev_rev = before.mod_rev if before else 0
        if after is None:
            assert event.type == "resource.deleted"
            assert event.data == {"key": key, "rev": rev, "prev_rev": prev_rev, "updated_by": "user:admin"}
            self.model.pop(key, None)
            return
        expires_at = event.data["expires_at"]
        if ttl:
            assert isinstance(expires_at, str) and expires_at.endswith("Z")
        else:
            assert expires_at == after.expires_at
        stored = Modeled(
            value=after.value,
            create_rev=before.create_rev if before else rev,
            mod_rev=rev,
            version=before.version + 1 if before else 1,
            expires_at=expires_at,
        )
        assert event.type == "resource.updated"
        assert event.data == {
            "key": key,
            "rev": rev,
            "prev_rev": prev_rev,
            "value": stored.value,
            "version": stored.version,
            "create_rev": stored.create_rev,
            "updated_by": "user:admin",
            "expires_at": stored.expires_at,
        }
        self.model[key] = stored

    def check_record(self, answer: dict[str, Any] | None, key: str) -> None:
        modeled = self.model[key]
        assert answer is not None
        assert {k: answer[k] for k in ("key", "value", "create_rev", "mod_rev", "version")} == {
            "key": key,
            "value": modeled.value,
            "create_rev": modeled.create_rev,
            "mod_rev": modeled.mod_rev,
            "version": modeled.version,
        }
        assert answer["updated_by"] == "user:admin"
        assert answer["expires_at"] == modeled.expires_at

    # -- writes ------------------------------------------------------------------------------------
    @initialize(seeds=st.lists(st.tuples(suffixes, values), min_size=1, max_size=3))
    def seed(self, seeds: list[tuple[str, Any]]) -> None:
        for suffix, value in seeds:
            self.put((suffix, False, 0), value, False, None, None, 1)

    @rule(where=targets, value=values, ttl=st.booleans(), header=headers, expected=expectations, skew=skews)
    def put(
        self,
        where: tuple[str, bool, int],
        value: Any,
        ttl: bool,
        header: str | None,
        expected: str | None,
        skew: int,
    ) -> None:
        key = self.target(where)
        pre = self.precondition(key, header, expected, skew)
        answer, error = self.attempt(
            lambda: self.system.resources.put(ADMIN, key, value, ttl_s=TTL_S if ttl else None, pre=pre)
        )
        failure = precondition_failure(self.rev(key), pre)
        if failure:
            self.check_refused(error, failure)
            return
        assert error is None, error.detail
        self.commit({key: Modeled(value, 0, 0, 0, None)}, [key], {key} if ttl else set())
        self.check_record(answer, key)

    @rule(where=targets, patch=patches, header=headers, expected=expectations, skew=skews)
    def patch(
        self, where: tuple[str, bool, int], patch: Any, header: str | None, expected: str | None, skew: int
    ) -> None:
        key = self.target(where)
        pre = self.precondition(key, header, expected, skew)
        answer, error = self.attempt(lambda: self.system.resources.patch(ADMIN, key, patch, pre=pre))
        failure = precondition_failure(self.rev(key), pre)
        if failure is None and key not in self.model:
            failure = Failure("RESOURCE_NOT_FOUND", {"key": key})
        if failure:
            self.check_refused(error, failure)
            return
        assert error is None, error.detail
        current = self.model[key]
        self.commit({key: replace(current, value=reference_merge_patch(current.value, patch))}, [key], set())
        self.check_record(answer, key)

    @rule(where=targets, header=headers, expected=expectations, skew=skews)
    def delete(
        self, where: tuple[str, bool, int], header: str | None, expected: str | None, skew: int
    ) -> None:
        key = self.target(where)
        pre = self.precondition(key, header, expected, skew)
        answer, error = self.attempt(lambda: self.system.resources.delete(ADMIN, key, pre=pre))
        failure = precondition_failure(self.rev(key), pre)
        if failure is None and key not in self.model:
            failure = Failure("RESOURCE_NOT_FOUND", {"key": key})
        if failure:
            self.check_refused(error, failure)
            return
        assert error is None, error.detail
        rev = self.commit({key: None}, [key], set())
        assert answer == {"key": key, "rev": rev, "deleted": True}

    @rule(checks=compares, steps=st.lists(ops, min_size=1, max_size=4))
    def txn(self, checks: list[tuple[Any, bool, int]], steps: list[tuple[str, Any, Any, bool]]) -> None:
        wanted = [
            Compare(key, self.rev(key) + (0 if right else skew))
            for key, right, skew in ((self.target(t), right, skew) for t, right, skew in checks)
        ]
        plan = self.without_recreations([self.op(kind, self.target(t), p, ttl) for kind, t, p, ttl in steps])
        answer, error = self.attempt(lambda: self.system.resources.txn(ADMIN, wanted, plan))

        failed = [
            {"index": i, "key": c.key, "expected_rev": c.mod_rev, "current_rev": self.rev(c.key)}
            for i, c in enumerate(wanted)
            if self.rev(c.key) != c.mod_rev
        ]
        if failed:
            self.check_refused(error, Failure("TXN_COMPARE_FAILED", {"failed": failed}))
            return
        view: dict[str, Modeled | None] = dict(self.model)
        touched: list[str] = []
        with_ttl: set[str] = set()
        for index, op in enumerate(plan):
            current = view.get(op.key)
            if not isinstance(op, Put) and current is None:
                self.check_refused(error, Failure("RESOURCE_NOT_FOUND", {"key": op.key, "op_index": index}))
                return
            if isinstance(op, Delete):
                view[op.key] = None
            elif isinstance(op, Patch):
                assert current is not None
                view[op.key] = replace(current, value=reference_merge_patch(current.value, op.patch))
            else:
                view[op.key] = Modeled(op.value, 0, 0, 0, None)
                if op.ttl_s:
                    with_ttl.add(op.key)
                else:
                    with_ttl.discard(op.key)
            if op.key not in touched:
                touched.append(op.key)
        assert error is None, error.detail
        rev = self.commit(view, touched, with_ttl)
        assert answer == {
            "revision": rev,
            "succeeded": True,
            "results": [
                {"key": k, "deleted": k not in self.model, "mod_rev": rev if k in self.model else None}
                for k in touched
            ],
        }

    def op(self, kind: str, key: str, payload: Any, ttl: bool) -> Put | Patch | Delete:
        if kind == "put":
            return Put(key, payload, TTL_S if ttl else None)
        return Patch(key, payload) if kind == "patch" else Delete(key)

    def without_recreations(self, plan: list[Put | Patch | Delete]) -> list[Put | Patch | Delete]:
        """Drops a put of a key that existed and that an earlier op of the same txn deleted.

        That sequence stores a record created anew (create_rev = the txn's revision) whose
        version still counts on from the deleted one, a src bug pinned below by
        test_a_txn_that_deletes_and_recreates_a_key_stores_a_real_create_rev; remove this
        filter when that test passes. The first op is always kept, so the plan is never empty."""
        deleted: set[str] = set()
        kept: list[Put | Patch | Delete] = []
        for op in plan:
            if isinstance(op, Put) and op.key in deleted:
                continue
            if isinstance(op, Delete) and op.key in self.model:
                deleted.add(op.key)
            kept.append(op)
        return kept

    # -- invariants ------------------------------------------------------------------------------
    @invariant()
    def every_key_reads_as_the_model_says(self) -> None:
        for suffix in SUFFIXES:
            key = self.key(suffix)
            answer, error = self.attempt(lambda key=key: (self.system.resources.get(ADMIN, key), False))
            if key in self.model:
                assert error is None, error.detail
                self.check_record(answer, key)
            else:
                assert error is not None and error.code == "RESOURCE_NOT_FOUND"

    @invariant()
    def the_list_is_the_model_in_byte_order_at_the_spine_head(self) -> None:
        listed = self.system.resources.list(ADMIN, self.prefix, after_key=None, limit=1000)
        assert [i["key"] for i in listed["items"]] == sorted(self.model, key=lambda k: k.encode())
        assert listed["revision"] == spine_head(self.system) == self.head
        assert listed["next_after_key"] is None
        paged: list[str] = []
        after: str | None = None
        while True:
            page = self.system.resources.list(ADMIN, self.prefix, after_key=after, limit=2)
            paged += [i["key"] for i in page["items"]]
            if page["next_after_key"] is None:
                break
            after = page["next_after_key"]
        assert paged == [i["key"] for i in listed["items"]]


def test_the_blackboard_behaves_like_its_model(system: System) -> None:
    machine = type("Blackboard", (BlackboardModel,), {"system": system})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# -- examples the model is not allowed to reach yet -------------------------------------------------
def test_a_txn_that_deletes_and_recreates_a_key_stores_a_real_create_rev(system: System) -> None:
    first, _ = system.resources.put(ADMIN, "project/re", {"n": 1}, ttl_s=None, pre=Precondition())

    answer, _ = system.resources.txn(ADMIN, [], [Delete("project/re"), Put("project/re", {"n": 2})])

    rev = answer["revision"]
    record = system.resources.get(ADMIN, "project/re")
    (event,) = events_after(system, first["mod_rev"])
    # Either reading is defensible (replaced, or created anew), but only with a real revision.
    assert (record["create_rev"], record["version"]) in {(first["create_rev"], 2), (rev, 1)}
    assert event.data["create_rev"] == record["create_rev"]


def test_a_txn_with_only_compares_answers_the_revision_it_compared_at(system: System) -> None:
    record, _ = system.resources.put(ADMIN, "project/c", 1, ttl_s=None, pre=Precondition())

    answer, _ = system.resources.txn(ADMIN, [Compare("project/c", record["mod_rev"])], [])

    assert answer == {"revision": spine_head(system), "succeeded": True, "results": []}
