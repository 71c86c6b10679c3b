"""The event log's contract, run on SQLite and on PostgreSQL alike (STYLE.md habit 9)."""

from __future__ import annotations

from typing import Any

import pytest

from missiond.core.events import Event, EventFilter, NewEvent, to_us
from missiond.errors import IdempotencyKeyReused
from missiond.services.context import Principal, RequestContext
from missiond.services.mutations import Mutation
from missiond.storage.uow import Store, UnitOfWork

from .conftest import ManualClock


class Boom(Exception):
    """Raised inside a unit of work to make it roll back."""


def append(
    store: Store, *events: NewEvent, actor: str = "user:admin", correlation_id: str | None = None
) -> list[Event]:
    with store.write(actor=actor, correlation_id=correlation_id) as uow:
        return uow.emit(*events)


def read(store: Store, flt: EventFilter | None = None, *, after: int = 0, limit: int = 1000) -> list[Event]:
    with store.read() as uow:
        return uow.events.query(flt or EventFilter(), after=after, limit=limit)


def bounds(store: Store) -> tuple[int, int]:
    with store.read() as uow:
        return uow.events.bounds()


def seqs(events: list[Event]) -> list[int]:
    return [e.seq for e in events]


def ev(type_: str = "session.run.started", subject: str = "session/abc", **data: Any) -> NewEvent:
    return NewEvent(type_, subject, data)


# -- seq allocation -------------------------------------------------------------------------


def test_a_fresh_log_is_empty_with_head_and_floor_at_zero(store: Store) -> None:
    assert bounds(store) == (0, 0)
    assert read(store) == []


def test_appends_get_consecutive_seqs_starting_at_one(store: Store) -> None:
    got = [append(store, ev(n=i))[0].seq for i in range(5)]

    assert got == [1, 2, 3, 4, 5]
    assert seqs(read(store)) == [1, 2, 3, 4, 5]
    assert bounds(store) == (5, 0)


def test_a_batch_in_one_unit_of_work_gets_contiguous_seqs_and_one_correlation_id(
    store: Store,
) -> None:
    append(store, ev(), correlation_id="cor_before")
    with store.write(actor="user:admin", correlation_id="cor_batch") as uow:
        first = uow.emit(ev(n=0), ev(n=1))
        second = uow.emit_many([ev(n=2), ev(n=3), ev(n=4)])
    append(store, ev(), correlation_id="cor_after")

    batch = [e for e in read(store) if e.correlation_id == "cor_batch"]
    assert seqs(first + second) == seqs(batch) == [2, 3, 4, 5, 6]
    assert [e.data["n"] for e in batch] == [0, 1, 2, 3, 4]
    assert len({e.ts for e in batch}) == 1
    assert len({e.id for e in batch}) == 5
    assert bounds(store) == (7, 0)


def test_a_rolled_back_unit_of_work_gives_its_seqs_back_and_leaves_no_rows(store: Store) -> None:
    append(store, ev(n=1))

    with pytest.raises(Boom), store.write(actor="user:admin") as uow:
        doomed = uow.emit(ev(n=2), ev(n=3))
        assert seqs(doomed) == [2, 3]
        raise Boom

    assert seqs(read(store)) == [1]
    assert bounds(store) == (1, 0)
    (after,) = append(store, ev(n=4))
    assert after.seq == 2
    assert [(e.seq, e.data["n"]) for e in read(store)] == [(1, 1), (2, 4)]


def test_a_unit_of_work_that_emits_nothing_takes_no_seq(store: Store) -> None:
    with store.write(actor="user:admin") as uow:
        assert uow.emit() == []
    assert bounds(store) == (0, 0)
    assert append(store, ev())[0].seq == 1


# -- queries --------------------------------------------------------------------------------


@pytest.fixture
def mixed_log(store: Store, clock: ManualClock) -> Store:
    """Seven events over seven seconds with assorted types and subjects."""
    rows = [
        ("resource.updated", "resource/project/x"),
        ("resource.deleted", "resource/project/y"),
        ("session.run.started", "session/a_b"),
        ("session.run.finished", "session/aXb"),
        ("session.runner.crashed", "session/a%c"),
        ("tool.call.finished", "session/abc"),
        ("tool.call.started", "task/tsk_1\\x"),
    ]
    for type_, subject in rows:
        append(store, NewEvent(type_, subject))
        clock.advance(seconds=1)
    return store


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        (("resource.",), [1, 2]),
        (("resource.updated",), [1]),
        (("session.run.",), [3, 4]),
        (("session.run",), [3, 4, 5]),
        (("resource.deleted", "tool."), [2, 6, 7]),
        (("nothing.",), []),
        (("resource_",), []),
    ],
    ids=["namespace", "exact", "dotted-prefix", "bare-prefix", "several-or", "none", "underscore-literal"],
)
def test_a_query_filters_by_type_prefix(
    mixed_log: Store, types: tuple[str, ...], expected: list[int]
) -> None:
    assert seqs(read(mixed_log, EventFilter(types=types))) == expected


@pytest.mark.parametrize(
    ("subjects", "expected"),
    [
        (("resource/",), [1, 2]),
        (("session/a",), [3, 4, 5, 6]),
        (("session/a_",), [3]),
        (("session/a%",), [5]),
        (("session/a_b", "task/"), [3, 7]),
        (("task/tsk_1\\",), [7]),
        (("%",), []),
        (("_",), []),
    ],
    ids=[
        "namespace",
        "shared-prefix",
        "underscore-is-literal",
        "percent-is-literal",
        "several-or",
        "backslash-is-literal",
        "lone-percent",
        "lone-underscore",
    ],
)
def test_a_query_filters_by_subject_prefix_with_like_wildcards_taken_literally(
    mixed_log: Store, subjects: tuple[str, ...], expected: list[int]
) -> None:
    assert seqs(read(mixed_log, EventFilter(subjects=subjects))) == expected


def test_type_and_subject_filters_must_both_match(mixed_log: Store) -> None:
    flt = EventFilter(types=("session.", "tool."), subjects=("session/a%", "task/"))
    assert seqs(read(mixed_log, flt)) == [5, 7]


def test_a_subject_prefix_is_case_sensitive(store: Store) -> None:
    append(store, NewEvent("resource.updated", "resource/Project/x"))
    append(store, NewEvent("Resource.updated", "resource/project/x"))

    assert seqs(read(store, EventFilter(subjects=("resource/project",)))) == [2]
    assert seqs(read(store, EventFilter(types=("resource.",)))) == [1]


def test_a_query_returns_events_after_a_seq(mixed_log: Store) -> None:
    assert seqs(read(mixed_log, after=4)) == [5, 6, 7]
    assert seqs(read(mixed_log, after=7)) == []
    assert seqs(read(mixed_log, EventFilter(types=("session.",)), after=3)) == [4, 5]


def test_a_query_selects_a_time_window_since_inclusive_until_exclusive(mixed_log: Store) -> None:
    first = read(mixed_log)[0].ts
    window = EventFilter(since_us=to_us(first) + 2_000_000, until_us=to_us(first) + 5_000_000)

    assert seqs(read(mixed_log, window)) == [3, 4, 5]
    assert seqs(read(mixed_log, EventFilter(since_us=to_us(first) + 6_000_000))) == [7]
    assert seqs(read(mixed_log, EventFilter(until_us=to_us(first) + 1))) == [1]


def test_a_query_returns_at_most_limit_events_in_seq_order(mixed_log: Store) -> None:
    assert seqs(read(mixed_log, limit=3)) == [1, 2, 3]
    assert seqs(read(mixed_log, after=3, limit=3)) == [4, 5, 6]
    assert seqs(read(mixed_log, EventFilter(types=("session.", "tool.")), after=4, limit=2)) == [5, 6]


def test_paging_by_the_last_seq_reads_every_event_once(mixed_log: Store) -> None:
    pages, last = [], 0
    while page := read(mixed_log, after=last, limit=2):
        pages.append(seqs(page))
        last = page[-1].seq
    assert pages == [[1, 2], [3, 4], [5, 6], [7]]


# -- after-commit listeners -----------------------------------------------------------------


def test_the_commit_listener_runs_only_after_commit(store: Store) -> None:
    heard: list[tuple[list[int], list[int]]] = []

    def listener(events: list[Event]) -> None:
        # What another connection can see at the time of the call: it must be committed.
        heard.append((seqs(events), seqs(read(store))))

    store.on_commit(listener)
    with store.write(actor="user:admin") as uow:
        uow.emit(ev(), ev())
        assert heard == []

    assert heard == [([1, 2], [1, 2])]


def test_the_commit_listener_never_runs_after_a_rollback(store: Store) -> None:
    heard: list[list[Event]] = []
    store.on_commit(heard.append)

    with pytest.raises(Boom), store.write(actor="user:admin") as uow:
        uow.emit(ev())
        raise Boom
    with store.write(actor="user:admin"):
        pass  # nothing appended: nothing to announce

    assert heard == []
    append(store, ev())
    assert [seqs(events) for events in heard] == [[1]]


# -- compaction -----------------------------------------------------------------------------


def test_compaction_deletes_through_a_seq_and_raises_the_floor(store: Store) -> None:
    for i in range(5):
        append(store, ev(n=i))

    with store.write(actor="user:admin") as uow:
        assert uow.events.compact(3) == 3

    assert bounds(store) == (5, 3)
    assert seqs(read(store)) == [4, 5]
    assert seqs(read(store, after=3)) == [4, 5]
    assert append(store, ev())[0].seq == 6


def test_compacting_below_the_floor_never_lowers_it(store: Store) -> None:
    for i in range(4):
        append(store, ev(n=i))
    with store.write(actor="user:admin") as uow:
        uow.events.compact(3)
    with store.write(actor="user:admin") as uow:
        assert uow.events.compact(1) == 0

    assert bounds(store) == (4, 3)
    assert seqs(read(store)) == [4]


def test_a_rolled_back_compaction_keeps_everything(store: Store) -> None:
    for i in range(3):
        append(store, ev(n=i))
    with pytest.raises(Boom), store.write(actor="user:admin") as uow:
        uow.events.compact(3)
        raise Boom

    assert bounds(store) == (3, 0)
    assert seqs(read(store)) == [1, 2, 3]


# -- the envelope survives storage ----------------------------------------------------------

PAYLOAD: dict[str, Any] = {
    "text": "ünïcødé — 路径 — 🚀",
    "nested": {"list": [1, -2, 2.5, None, True, False, {"deep": ["x", {"deeper": {}}]}], "empty": []},
    "big": 2**53,
    "quote": 'a "quoted" \\ value',
    "newline": "one\ntwo",
}


def test_every_envelope_field_survives_storage(store: Store, clock: ManualClock) -> None:
    with store.write(actor="user:admin", correlation_id="cor_01JROUNDTRIP") as uow:
        written = uow.emit(
            NewEvent("session.run.started", "session/ünï/a", PAYLOAD, v=3, causation_id="evt_01JCAUSE"),
            NewEvent("session.run.note", "session/ünï/a"),
            actor="system.indexer",
        )

    stored = read(store)
    assert stored == written
    first, second = stored
    assert first.type == "session.run.started"
    assert first.subject == "session/ünï/a"
    assert first.ts == clock.now
    assert first.actor == "system.indexer"
    assert first.correlation_id == "cor_01JROUNDTRIP"
    assert first.causation_id == "evt_01JCAUSE"
    assert first.data == PAYLOAD
    assert first.v == 3
    assert first.id.startswith("evt_")
    assert second.data == {}
    assert second.v == 1
    assert second.causation_id is None
    assert first.to_wire()["ts"] == "2026-11-21T18:26:00.123456Z"


def test_a_unit_of_work_without_correlation_stores_none(store: Store) -> None:
    (written,) = append(store, ev(), actor="system.reactor")
    (stored,) = read(store)
    assert stored.correlation_id is None
    assert stored.actor == "system.reactor"
    assert stored == written


# -- idempotency records --------------------------------------------------------------------

ADMIN = Principal(subject="user:admin", kind="admin", capabilities=frozenset({"*"}))
OTHER = Principal(subject="agent:bob", kind="agent", capabilities=frozenset({"*"}))


def _ctx(key: str | None, fingerprint: str | None, principal: Principal = ADMIN) -> RequestContext:
    return RequestContext(
        principal=principal, correlation_id="cor_idem", idempotency_key=key, fingerprint=fingerprint
    )


def _append_one(uow: UnitOfWork) -> dict[str, Any]:
    (event,) = uow.emit(ev(text="ünï", nested={"a": [1]}))
    return {"seq": event.seq, "event": event.to_wire()}


def test_a_repeated_idempotency_key_returns_the_first_answer_and_appends_nothing(store: Store) -> None:
    mutation = Mutation(store)
    first, replayed_first = mutation.run(_ctx("key-1", "fp-a"), _append_one)
    again, replayed_again = mutation.run(_ctx("key-1", "fp-a"), _append_one)

    assert (replayed_first, replayed_again) == (False, True)
    assert again == first
    assert first["seq"] == 1
    assert seqs(read(store)) == [1]
    assert bounds(store) == (1, 0)


def test_a_reused_idempotency_key_with_another_fingerprint_is_refused_and_appends_nothing(
    store: Store,
) -> None:
    mutation = Mutation(store)
    mutation.run(_ctx("key-1", "fp-a"), _append_one)

    with pytest.raises(IdempotencyKeyReused) as caught:
        mutation.run(_ctx("key-1", "fp-b"), _append_one)

    assert caught.value.extra["idempotency_key"] == "key-1"
    assert seqs(read(store)) == [1]
    assert bounds(store) == (1, 0)


def test_idempotency_keys_belong_to_one_principal(store: Store) -> None:
    mutation = Mutation(store)
    mutation.run(_ctx("key-1", "fp-a"), _append_one)
    answer, replayed = mutation.run(_ctx("key-1", "fp-b", principal=OTHER), _append_one)

    assert not replayed
    assert answer["seq"] == 2


def test_mutations_without_a_key_run_every_time(store: Store) -> None:
    mutation = Mutation(store)
    assert [mutation.run(_ctx(None, None), _append_one)[0]["seq"] for _ in range(3)] == [1, 2, 3]


def test_a_mutation_that_fails_records_no_idempotency_answer(store: Store) -> None:
    mutation = Mutation(store)

    def failing(uow: UnitOfWork) -> dict[str, Any]:
        uow.emit(ev())
        raise Boom

    with pytest.raises(Boom):
        mutation.run(_ctx("key-1", "fp-a"), failing)
    answer, replayed = mutation.run(_ctx("key-1", "fp-a"), _append_one)

    assert not replayed
    assert answer["seq"] == 1
    assert seqs(read(store)) == [1]


def test_a_repeat_of_a_keyed_request_without_fingerprint_is_replayed(store: Store) -> None:
    mutation = Mutation(store)
    first, _ = mutation.run(_ctx("key-1", None), _append_one)
    again, replayed = mutation.run(_ctx("key-1", None), _append_one)
    assert replayed
    assert again == first
