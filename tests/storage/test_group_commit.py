"""Group commit (`Store.run`): writes that queue up together commit together, and each still
behaves as its own transaction — its own seqs, its own failure, its answer only once durable."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import pytest

from missiond.core.events import EventFilter, NewEvent
from missiond.errors import StorageUnavailable, ValidationFailed
from missiond.storage.turns import Job, Turns
from missiond.storage.uow import Store, UnitOfWork

TIMEOUT_S = 30.0


def _emit(n: int, tag: str) -> Any:
    def work(uow: UnitOfWork) -> list[int]:
        return [
            e.seq
            for e in uow.emit_many([NewEvent("test.unit.done", f"unit/{tag}", {"i": i}) for i in range(n)])
        ]

    return work


def _fail_after_emitting(tag: str) -> Any:
    def work(uow: UnitOfWork) -> None:
        uow.emit(NewEvent("test.unit.done", f"unit/{tag}", {}))
        raise ValidationFailed.field("body", f"{tag} is refused")

    return work


def _count_turns(store: Store) -> list[int]:
    """Record the size of every turn the store runs from now on."""
    turns: list[int] = []
    run_turn = store._run_turn

    def counting(jobs: list[Job]) -> None:
        turns.append(len(jobs))
        run_turn(jobs)

    store._run_turn = counting  # type: ignore[method-assign]
    return turns


def _all_events(store: Store) -> list[Any]:
    with store.read() as uow:
        return uow.events.query(EventFilter(), after=0, limit=10_000)


def test_writers_queued_behind_a_turn_commit_together_each_with_its_own_contiguous_seqs(store: Store) -> None:
    # Hold the write turn so the next writers must queue; when it ends, one of them takes a
    # turn that carries every queued job.
    holding, release = threading.Event(), threading.Event()
    turns = _count_turns(store)

    def hold() -> None:
        with store.write(actor="agent:holder") as uow:
            uow.emit(NewEvent("test.unit.done", "unit/holder", {}))
            holding.set()
            release.wait(TIMEOUT_S)

    results: dict[str, list[int]] = {}
    errors: dict[str, BaseException] = {}

    def writer(tag: str, n: int) -> None:
        try:
            results[tag] = store.run(_emit(n, tag), actor=f"agent:{tag}")
        except BaseException as exc:
            errors[tag] = exc

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(TIMEOUT_S)
    sizes = {f"w{i}": 1 + i % 3 for i in range(6)}
    threads = [threading.Thread(target=writer, args=(tag, n)) for tag, n in sizes.items()]
    for t in threads:
        t.start()
    # wait until every writer has queued behind the holder
    for _ in range(1000):
        if len(store._turns._queue) == len(threads):
            break
        threading.Event().wait(0.005)
    assert len(store._turns._queue) == len(threads)
    release.set()
    holder.join(TIMEOUT_S)
    for t in threads:
        t.join(TIMEOUT_S)

    assert not errors
    assert max(turns) > 1, f"queued writers should have shared a turn: {turns}"
    for tag, seqs in results.items():
        assert len(seqs) == sizes[tag]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a job's seqs are contiguous"
    stored = _all_events(store)
    assert [e.seq for e in stored] == list(range(1, len(stored) + 1)), "no gaps"
    by_subject: dict[str, list[int]] = {}
    for e in stored:
        by_subject.setdefault(e.subject, []).append(e.seq)
    for tag, seqs in results.items():
        assert by_subject[f"unit/{tag}"] == seqs
        # each job's events carry its own actor
        assert {e.actor for e in stored if e.subject == f"unit/{tag}"} == {f"agent:{tag}"}


def test_a_failing_job_is_rolled_back_alone_and_its_error_reaches_its_own_caller(store: Store) -> None:
    outcomes: dict[str, Any] = {}
    run_turn = store._run_turn

    def one_turn_for_all(jobs: list[Job]) -> None:
        run_turn(jobs)

    # Build the turn by hand: three jobs in one transaction, the middle one failing.
    jobs = [
        Job(_emit(2, "before"), "agent:a", None),
        Job(_fail_after_emitting("bad"), "agent:b", None),
        Job(_emit(1, "after"), "agent:c", None),
    ]
    one_turn_for_all(jobs)
    for job in jobs:
        outcomes[job.actor] = job.error or job.result

    assert isinstance(outcomes["agent:b"], ValidationFailed)
    stored = _all_events(store)
    assert [e.subject for e in stored] == ["unit/before", "unit/before", "unit/after"]
    assert outcomes["agent:a"] == [1, 2]
    assert outcomes["agent:c"] == [3], "the failed job's seq was rolled back with it: no gap"


def test_a_turn_whose_commit_fails_answers_every_job_with_the_error_and_keeps_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.orm import Session

    original = Session.commit
    failures = {"left": 1}

    def commit_once_failing(self: Session) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise StorageUnavailable("database unavailable: disk I/O error")
        original(self)

    monkeypatch.setattr(Session, "commit", commit_once_failing)
    jobs = [Job(_emit(1, "x"), "agent:x", None), Job(_emit(1, "y"), "agent:y", None)]
    store._run_turn(jobs)
    assert all(isinstance(job.error, StorageUnavailable) for job in jobs)
    assert _all_events(store) == []
    # the next turn works and starts from the first seq again
    assert store.run(_emit(1, "z"), actor="agent:z") == [1]


def test_the_caller_hears_of_its_commit_only_after_it_is_durable_and_listeners_run_in_its_thread(
    store: Store,
) -> None:
    seen: list[tuple[list[int], int, bool]] = []

    def listener(events: list[Any]) -> None:
        # by the time listeners run, the events are committed: a fresh read finds them
        present = {e.seq for e in _all_events(store)}
        seen.append(([e.seq for e in events], threading.get_ident(), all(e.seq in present for e in events)))

    store.on_commit(listener)
    seqs = store.run(_emit(3, "a"), actor="agent:a")
    assert seen == [(seqs, threading.get_ident(), True)]


def test_a_queued_writer_past_the_timeout_gets_storage_unavailable_and_never_runs() -> None:
    turns = Turns(timeout_s=0.1)
    ran: list[str] = []
    with turns.alone():
        job = Job(lambda uow: ran.append("late"), "agent:late", None)
        with pytest.raises(StorageUnavailable, match="write lock"):
            turns.submit(job, lambda jobs: [j.work(None) for j in jobs])
    assert ran == []
    assert not turns._queue, "the abandoned job left the queue"
    done = Job(lambda uow: ran.append("next"), "agent:next", None)
    turns.submit(done, lambda jobs: [j.work(None) for j in jobs])
    assert ran == ["next"]


# -- the event loop's way in: Store.run_async hands the job to the next turn ----------------
def test_writes_awaited_on_the_event_loop_share_turns_and_each_gets_its_own_answer_or_error(
    store: Store,
) -> None:
    turns = _count_turns(store)
    loop_thread: list[int] = []
    store.on_commit(lambda events: loop_thread.append(threading.get_ident()))

    async def main() -> list[Any]:
        loop_thread.clear()
        works = [_fail_after_emitting(f"w{i}") if i % 4 == 3 else _emit(2, f"w{i}") for i in range(24)]
        return await asyncio.gather(
            *[store.run_async(w, actor=f"agent:w{i}") for i, w in enumerate(works)], return_exceptions=True
        )

    me = threading.get_ident()
    answers = asyncio.run(main())
    refused = [i for i, a in enumerate(answers) if isinstance(a, ValidationFailed)]
    assert refused == [i for i in range(24) if i % 4 == 3]
    seqs = [s for a in answers if isinstance(a, list) for s in a]
    assert sorted(seqs) == list(range(1, 37)), "18 writes of 2 events: gapless, none lost"
    assert [e.seq for e in _all_events(store)] == list(range(1, 37))
    assert max(turns) > 1, f"writes handed over together share a turn: {turns}"
    assert set(loop_thread) == {me}, "listeners run on the awaiting side, after the commit"


def test_a_cancelled_awaiter_does_not_undo_or_stall_its_write(store: Store) -> None:
    started, release = threading.Event(), threading.Event()
    heard: list[list[str]] = []
    store.on_commit(lambda events: heard.append([e.subject for e in events]))

    def slow(uow: UnitOfWork) -> list[int]:
        started.set()
        release.wait(TIMEOUT_S)
        return [e.seq for e in uow.emit(NewEvent("test.unit.done", "unit/slow", {}))]

    async def main() -> list[int]:
        task = asyncio.create_task(store.run_async(slow, actor="agent:slow"))
        await asyncio.to_thread(started.wait, TIMEOUT_S)
        task.cancel()
        release.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        # the turn thread goes on serving
        return await store.run_async(_emit(1, "next"), actor="agent:next")

    assert asyncio.run(main()) == [2]
    assert [e.subject for e in _all_events(store)] == ["unit/slow", "unit/next"]
    assert ["unit/slow"] in heard, "the hub still hears of a commit whose awaiter went away"


def test_a_handed_over_job_still_queued_past_the_timeout_is_refused_and_never_runs() -> None:
    turns = Turns(timeout_s=0.1)
    ran: list[str] = []
    done = threading.Event()
    with turns.alone():
        job = Job(lambda uow: ran.append("late"), "agent:late", None, finished=done.set)
        turns.hand_over(job, lambda jobs: [j.work(None) for j in jobs])
        threading.Event().wait(0.2)
    assert done.wait(TIMEOUT_S)
    assert isinstance(job.error, StorageUnavailable)
    assert ran == []
    again = threading.Event()
    turns.hand_over(
        Job(lambda uow: ran.append("next"), "agent:next", None, finished=again.set),
        lambda jobs: [j.work(None) for j in jobs],
    )
    assert again.wait(TIMEOUT_S)
    assert ran == ["next"]
