"""Firing on a clock the test moves, on SQLite and PostgreSQL: one run per occurrence, the
misfire policies after downtime, crash safety of a tick, no duplicates from two schedulers,
pause/resume, run-now and overlap.

The services are driven directly (`tick`, `claim`, `execute`): no background loop runs, so
every tick happens exactly when the test says. Times in tables are seconds after START.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from missiond.bootstrap import System, build
from missiond.core.events import to_us
from missiond.services import routines as routines_module
from missiond.settings import Settings

from .routine_harness import (
    ADMIN,
    ManualClock,
    Missed,
    at,
    drain,
    events_after,
    history,
    missed,
    offset,
    routine_body,
    row,
    runs,
    spine_head,
    stamp,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_system(database_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[Callable[[], System]]:
    """Systems on the one database (each a separate scheduler), all on the test's clock."""
    built: list[System] = []

    def make() -> System:
        home = tmp_path / f"home{len(built)}"
        built.append(build(Settings.from_env(home=home, database_url=database_url), clock=clock))
        return built[-1]

    yield make
    for system in built:
        system.close()


@pytest.fixture
def system(make_system: Callable[[], System]) -> System:
    return make_system()


def create(system: System, **body: Any) -> dict[str, Any]:
    created, _ = system.routines.create(ADMIN, routine_body(**body))
    return created


def fired(system: System, routine_id: str) -> list[tuple[float | None, str, str]]:
    return [(offset(r["scheduled_for"]), r["trigger"], r["status"]) for r in runs(system, routine_id)]


# -- one run per occurrence ---------------------------------------------------------------------
def test_an_interval_routine_fires_once_per_occurrence_however_often_it_ticks(
    system: System, clock: ManualClock
) -> None:
    routine = create(system, interval_s=60)
    for minute in (1, 2, 3):
        clock.set(60 * minute - 30)
        assert system.routines.tick() == 0, "nothing is due between occurrences"
        clock.set(60 * minute)
        assert system.routines.tick() == 1
        assert system.routines.tick() == 0, "a second tick at the same instant finds nothing due"
        clock.advance(0.4)
        assert system.routines.tick() == 0, "nor does a later tick before the next occurrence"
        assert [r["status"] for r in drain(system)] == ["succeeded"]
    assert fired(system, routine["id"]) == [
        (60.0, "scheduled", "succeeded"),
        (120.0, "scheduled", "succeeded"),
        (180.0, "scheduled", "succeeded"),
    ]
    assert missed(system, routine["id"]) == []
    stored = row(system, routine["id"])
    assert (stored.next_fire_at_us, stored.last_fired_at_us) == (to_us(at(240)), to_us(at(180)))


# -- misfire policies after downtime --------------------------------------------------------------
# Created at 4 s with interval 1 s: occurrences at 5, 6, 7, ...; the scheduler was down
# until `now`. `runs` are (scheduled_for, trigger); `missed` the ranges recorded.
MISFIRE_TABLE = [
    # policy, max_runs, grace_s, now, runs, missed, next
    ("skip", None, 60, 10.5, [], [Missed(5, 10, 6, "misfire")], 11),
    ("run_once", None, 60, 10.5, [(10, "scheduled")], [Missed(5, 9, 5, "misfire")], 11),
    (
        "catch_up",
        3,
        60,
        25,
        [(23, "catch_up"), (24, "catch_up"), (25, "scheduled")],
        [Missed(5, 22, 18, "misfire")],
        26,
    ),
    (
        "catch_up",
        100,
        60,
        7.5,
        [(5, "catch_up"), (6, "catch_up"), (7, "scheduled")],
        [],
        8,
    ),
    ("skip", None, 60, 5.5, [(5, "scheduled")], [], 6),
    ("skip", None, 0.2, 5.5, [], [Missed(5, 5, 1, "misfire")], 6),
    ("run_once", None, 60, 5.5, [(5, "scheduled")], [], 6),
]
MISFIRE_IDS = [
    "skip-after-a-burst-runs-nothing",
    "run-once-runs-the-latest",
    "catch-up-3-runs-the-last-three-oldest-first",
    "catch-up-with-room-for-all-runs-all-and-misses-nothing",
    "skip-still-runs-a-single-slow-tick-within-grace",
    "skip-drops-a-single-occurrence-later-than-grace",
    "run-once-on-time-misses-nothing",
]


@pytest.mark.parametrize(
    ("policy", "max_runs", "grace_s", "now", "expected_runs", "expected_missed", "next_at"),
    MISFIRE_TABLE,
    ids=MISFIRE_IDS,
)
def test_after_downtime_the_misfire_policy_decides_which_occurrences_run(
    system: System,
    clock: ManualClock,
    policy: str,
    max_runs: int | None,
    grace_s: float,
    now: float,
    expected_runs: list[tuple[float, str]],
    expected_missed: list[Missed],
    next_at: float,
) -> None:
    clock.set(4)
    routine = create(system, interval_s=1, policy=policy, max_runs=max_runs, grace_s=grace_s, overlap="allow")
    assert offset(routine["next_fire_at"]) == 5
    clock.set(now)
    assert system.routines.tick() == 1
    assert system.routines.tick() == 0
    assert fired(system, routine["id"]) == [(t, trigger, "queued") for t, trigger in expected_runs]
    assert missed(system, routine["id"]) == expected_missed
    shown = system.routines.get(ADMIN, routine["id"])
    assert offset(shown["next_fire_at"]) == next_at
    assert offset(shown["last_fired_at"]) == (expected_runs[-1][0] if expected_runs else None)


def test_a_missed_range_is_one_history_row_and_one_event_per_decision(
    system: System, clock: ManualClock
) -> None:
    clock.set(4)
    routine = create(system, interval_s=1, policy="run_once")
    head = spine_head(system)
    clock.set(1000.5)
    system.routines.tick()
    [missed_row] = [r for r in history(system, routine["id"]) if r["status"] == "missed"]
    assert missed_row["detail"] == {
        "reason": "misfire",
        "last_missed": stamp(at(999)),
        "count": 995,
    }
    [event] = events_after(system, head, "routine.missed")
    assert event.subject == f"routine/{routine['id']}"
    assert {k: event.data[k] for k in ("first", "last", "count", "reason")} == {
        "first": stamp(at(5)),
        "last": stamp(at(999)),
        "count": 995,
        "reason": "misfire",
    }


@pytest.mark.parametrize("overlap", ["skip", "queue_one"], ids=["overlap-skip", "overlap-queue-one"])
def test_catch_up_runs_of_one_tick_are_all_kept_and_run_one_after_another(
    system: System, clock: ManualClock, overlap: str
) -> None:
    clock.set(4)
    routine = create(system, interval_s=1, policy="catch_up", max_runs=3, overlap=overlap)
    clock.set(25)
    system.routines.tick()
    assert fired(system, routine["id"]) == [
        (23, "catch_up", "queued"),
        (24, "catch_up", "queued"),
        (25, "scheduled", "queued"),
    ]
    started = []
    for _ in range(3):
        [(run_id, routine_id, action)] = system.runner.claim()
        started.append(run_id)
        system.runner.execute(run_id, routine_id, action)
    assert started == [r["id"] for r in runs(system, routine["id"])], "oldest first, one at a time"
    assert system.runner.claim() == []


# Per-minute cron routines in one zone, created at different times, ticked together at
# 330 s (09:05:30): a tick walks their shared schedule back once, and each still gets its
# own plan. name: (created at, policy, max_runs, runs, missed)
SHARED_CRON = {
    "run-once-five-due": (0, "run_once", None, [(300, "scheduled")], [Missed(60, 240, None, "misfire")]),
    "catch-up-3-five-due": (
        0,
        "catch_up",
        3,
        [(180, "catch_up"), (240, "catch_up"), (300, "scheduled")],
        [Missed(60, 120, None, "misfire")],
    ),
    "run-once-two-due-counts-the-missed-one": (
        180,
        "run_once",
        None,
        [(300, "scheduled")],
        [Missed(240, 240, 1, "misfire")],
    ),
    "skip-one-due-within-grace": (240, "skip", None, [(300, "scheduled")], []),
    "run-once-nothing-missed": (240, "run_once", None, [(300, "scheduled")], []),
}


def test_routines_sharing_a_cron_schedule_are_each_planned_on_their_own_in_one_tick(
    system: System, clock: ManualClock
) -> None:
    made = {}
    for name, (created_at, policy, max_runs, _, _) in sorted(SHARED_CRON.items(), key=lambda kv: kv[1][0]):
        clock.set(created_at)
        made[name] = create(
            system,
            name=name,
            schedule={"cron": "* * * * *", "timezone": "UTC"},
            policy=policy,
            max_runs=max_runs,
            overlap="allow",
        )
    clock.set(330)
    assert system.routines.tick() == len(SHARED_CRON)
    for name, (_, _, _, expected_runs, expected_missed) in SHARED_CRON.items():
        assert fired(system, made[name]["id"]) == [(t, trig, "queued") for t, trig in expected_runs], name
        assert missed(system, made[name]["id"]) == expected_missed, name
        assert offset(system.routines.get(ADMIN, made[name]["id"])["next_fire_at"]) == 360, name


# -- a tick is one transaction -------------------------------------------------------------------
class Crash(Exception):
    """The process died here."""


def crash_before_commit(system: System, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tick's transaction fails after everything was planned and written, before COMMIT."""
    original = system.store.write

    @contextmanager
    def write(*, actor: str, correlation_id: str | None = None) -> Iterator[Any]:
        with original(actor=actor, correlation_id=correlation_id) as uow:
            yield uow
            if actor == "system.scheduler":
                raise Crash("killed between planning and committing")

    monkeypatch.setattr(system.store, "write", write)


def crash_while_planning_the_second_routine(system: System, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tick dies half-way: the first due routine was planned, the second was not."""
    original = routines_module.plan_due
    calls: list[int] = []

    def plan_due(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise Crash("killed while planning")
        return original(*args, **kwargs)

    monkeypatch.setattr(routines_module, "plan_due", plan_due)


@pytest.mark.parametrize(
    "crash",
    [crash_before_commit, crash_while_planning_the_second_routine],
    ids=["after-planning-before-commit", "half-way-through-planning"],
)
def test_a_crash_inside_a_tick_leaves_nothing_and_the_next_tick_plans_the_same_occurrences(
    system: System,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    crash: Callable[[System, pytest.MonkeyPatch], None],
) -> None:
    clock.set(4)
    first = create(system, name="first", interval_s=1, policy="run_once")
    second = create(system, name="second", interval_s=1, policy="catch_up", max_runs=2, overlap="allow")
    head = spine_head(system)
    clock.set(10.5)
    crash(system, monkeypatch)
    with pytest.raises(Crash):
        system.routines.tick()
    assert spine_head(system) == head, "no event of the failed tick was committed"
    for routine in (first, second):
        assert history(system, routine["id"]) == []
        stored = row(system, routine["id"])
        assert (stored.next_fire_at_us, stored.last_fired_at_us) == (to_us(at(5)), None)

    monkeypatch.undo()
    assert system.routines.tick() == 2
    assert fired(system, first["id"]) == [(10, "scheduled", "queued")]
    assert missed(system, first["id"]) == [Missed(5, 9, 5, "misfire")]
    assert fired(system, second["id"]) == [(9, "catch_up", "queued"), (10, "scheduled", "queued")]
    assert missed(system, second["id"]) == [Missed(5, 8, 4, "misfire")]
    assert system.routines.tick() == 0


# -- two schedulers ------------------------------------------------------------------------------
def test_two_ticks_of_one_scheduler_at_the_same_instant_fire_each_occurrence_once(
    system: System, clock: ManualClock
) -> None:
    clock.set(4)
    routine = create(system, interval_s=1, policy="catch_up", max_runs=3, overlap="allow")
    clock.set(10.5)
    assert system.routines.tick(at(10.5)) == 1
    assert system.routines.tick(at(10.5)) == 0
    assert [t for t, _, _ in fired(system, routine["id"])] == [8, 9, 10]
    assert missed(system, routine["id"]) == [Missed(5, 7, 3, "misfire")]


def test_two_schedulers_ticking_together_fire_each_occurrence_once(
    make_system: Callable[[], System], clock: ManualClock
) -> None:
    one, two = make_system(), make_system()
    clock.set(4)
    routine = create(one, interval_s=1, policy="catch_up", max_runs=2, overlap="allow")
    # (now, routines due at it): whichever scheduler gets the lock first fires; the other finds nothing
    for now, due in ((6.5, 1), (7, 1), (7.2, 0), (9.9, 1), (12, 1)):
        clock.set(now)
        barrier = threading.Barrier(2)
        answers: list[int] = []

        def tick(system: System, barrier: threading.Barrier = barrier, answers: list[int] = answers) -> None:
            barrier.wait()
            answers.append(system.routines.tick())

        threads = [threading.Thread(target=tick, args=(s,)) for s in (one, two)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(answers) == [0, due], f"at {now} s exactly one of the two schedulers fires"
    scheduled = [t for t, _, _ in fired(one, routine["id"])]
    assert scheduled == [5, 6, 7, 8, 9, 11, 12]
    assert len(set(scheduled)) == len(scheduled)
    assert missed(one, routine["id"]) == [Missed(10, 10, 1, "misfire")]


# -- pause and resume ----------------------------------------------------------------------------
def paused_from_90_to_400(system: System, clock: ManualClock, **body: Any) -> dict[str, Any]:
    """Interval 60 s from 0: fired at 60, paused at 90, nothing fires until 400."""
    routine = create(system, interval_s=60, **body)
    clock.set(60)
    system.routines.tick()
    drain(system)
    clock.set(90)
    paused, _ = system.routines.lifecycle(ADMIN, routine["id"], "pause")
    assert (paused["status"], paused["next_fire_at"]) == ("paused", None)
    assert offset(paused["paused_from"]) == 120, "the wire shows where the pause began"
    assert row(system, routine["id"]).next_fire_at_us == to_us(at(120)), "pause keeps where it stopped"
    clock.set(400)
    assert system.routines.tick() == 0, "a paused routine does not fire"
    return routine


def test_resume_records_the_paused_occurrences_as_one_missed_range_and_starts_from_now(
    system: System, clock: ManualClock
) -> None:
    routine = paused_from_90_to_400(system, clock)
    head = spine_head(system)
    resumed, _ = system.routines.lifecycle(ADMIN, routine["id"], "resume")
    assert (resumed["status"], offset(resumed["next_fire_at"]), resumed["paused_from"]) == (
        "active",
        420,
        None,
    )
    assert missed(system, routine["id"]) == [Missed(120, 360, 5, "paused")]
    assert [e.type for e in events_after(system, head)] == ["routine.missed", "routine.resumed"]
    assert system.routines.tick() == 0, "nothing paused is run afterwards"
    clock.set(420)
    system.routines.tick()
    assert [t for t, _, _ in fired(system, routine["id"])] == [60, 420]


@pytest.mark.parametrize(
    ("body", "expected_runs", "expected_missed"),
    [
        ({"policy": "run_once"}, [(360, "scheduled")], [Missed(120, 300, 4, "misfire")]),
        ({"policy": "skip"}, [], [Missed(120, 360, 5, "misfire")]),
        (
            {"policy": "catch_up", "max_runs": 2, "overlap": "allow"},
            [(300, "catch_up"), (360, "scheduled")],
            [Missed(120, 240, 3, "misfire")],
        ),
    ],
    ids=["run-once", "skip", "catch-up-2"],
)
def test_resume_with_apply_misfire_applies_the_misfire_policy_to_the_paused_occurrences(
    system: System,
    clock: ManualClock,
    body: dict[str, Any],
    expected_runs: list[tuple[float, str]],
    expected_missed: list[Missed],
) -> None:
    routine = paused_from_90_to_400(system, clock, **body)
    resumed, _ = system.routines.lifecycle(ADMIN, routine["id"], "resume", apply_misfire=True)
    assert offset(resumed["next_fire_at"]) == 120
    assert missed(system, routine["id"]) == [], "nothing is recorded until the tick applies the policy"
    assert system.routines.tick() == 1
    later = [(t, trigger) for t, trigger, _ in fired(system, routine["id"]) if t and t > 60]
    assert later == expected_runs
    assert missed(system, routine["id"]) == expected_missed
    assert offset(system.routines.get(ADMIN, routine["id"])["next_fire_at"]) == 420


def test_resume_with_apply_misfire_after_a_schedule_edit_while_paused_leaves_nothing_due(
    system: System, clock: ManualClock
) -> None:
    routine = create(system, interval_s=60)
    clock.set(10)
    system.routines.lifecycle(ADMIN, routine["id"], "pause")
    system.routines.update(ADMIN, routine["id"], {"schedule": {"interval_s": 3600.0}}, None)
    clock.set(100)
    system.routines.lifecycle(ADMIN, routine["id"], "resume", apply_misfire=True)
    system.routines.tick()
    assert system.routines.tick() == 0, "after a tick nothing is due until the next occurrence"


# -- run-now -------------------------------------------------------------------------------------
def test_run_now_while_paused_makes_a_manual_run_and_leaves_next_fire_at_alone(
    system: System, clock: ManualClock
) -> None:
    routine = create(system, interval_s=60)
    clock.set(10)
    system.routines.lifecycle(ADMIN, routine["id"], "pause")
    clock.set(30)
    first, _ = system.routines.run_now(ADMIN, routine["id"])
    second, _ = system.routines.run_now(ADMIN, routine["id"])
    for run in (first, second):
        assert (run["trigger"], run["status"], offset(run["scheduled_for"])) == ("manual", "queued", 30)
    assert first["id"] != second["id"], "two manual runs at one instant are two runs"
    stored = row(system, routine["id"])
    assert (stored.status, stored.next_fire_at_us) == ("paused", to_us(at(60)))
    assert system.routines.get(ADMIN, routine["id"])["last_run"]["trigger"] == "manual"
    assert {r["status"] for r in drain(system)} == {"succeeded"}, "manual runs always queue and run"


def test_run_now_of_an_active_routine_does_not_move_its_schedule(system: System, clock: ManualClock) -> None:
    routine = create(system, interval_s=60)
    clock.set(59.9)
    system.routines.run_now(ADMIN, routine["id"])
    assert offset(system.routines.get(ADMIN, routine["id"])["next_fire_at"]) == 60
    clock.set(60)
    assert system.routines.tick() == 1
    assert [(t, trigger) for t, trigger, _ in fired(system, routine["id"])] == [
        (59.9, "manual"),
        (60, "scheduled"),
    ]


# -- overlap -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overlap", "statuses", "claimable_while_running", "claimable_after"),
    [
        ("skip", ["running", "skipped_overlap", "skipped_overlap"], [], []),
        ("queue_one", ["running", "queued", "skipped_overlap"], [], [120]),
        ("allow", ["running", "queued", "queued"], [120, 180], []),
    ],
    ids=["skip", "queue-one", "allow"],
)
def test_an_occurrence_due_while_the_previous_run_is_still_running_follows_the_overlap_policy(
    system: System,
    clock: ManualClock,
    overlap: str,
    statuses: list[str],
    claimable_while_running: list[float],
    claimable_after: list[float],
) -> None:
    routine = create(system, interval_s=60, overlap=overlap)
    clock.set(60)
    system.routines.tick()
    [(long_run, routine_id, action)] = system.runner.claim()  # the 60 s run is now running
    for now in (120, 180):
        clock.set(now)
        system.routines.tick()
    history_now = runs(system, routine["id"])
    assert [r["status"] for r in history_now] == statuses
    for skipped in (r for r in history_now if r["status"] == "skipped_overlap"):
        assert skipped["detail"]["reason"].startswith("previous run run_")

    def claimable() -> list[float | None]:
        claimed = system.runner.claim()
        by_id = {r["id"]: offset(r["scheduled_for"]) for r in runs(system, routine["id"])}
        for run_id, rid, act in claimed:
            system.runner.execute(run_id, rid, act)
        return sorted(by_id[run_id] for run_id, _, _ in claimed)

    assert claimable() == claimable_while_running
    assert system.runner.execute(long_run, routine_id, action)["status"] == "succeeded"
    assert claimable() == claimable_after


def test_a_manual_run_queues_and_starts_even_while_a_scheduled_run_is_running(
    system: System, clock: ManualClock
) -> None:
    routine = create(system, interval_s=60, overlap="skip")
    clock.set(60)
    system.routines.tick()
    [_running] = system.runner.claim()
    clock.set(70)
    manual, _ = system.routines.run_now(ADMIN, routine["id"])
    assert manual["status"] == "queued"
    [(claimed_id, _, _)] = system.runner.claim()
    assert claimed_id == manual["id"]


# -- what a command run sees and leaves ----------------------------------------------------------
def test_a_command_run_gets_its_ids_in_the_environment_and_records_exit_code_and_output_tail(
    system: System, clock: ManualClock
) -> None:
    shell = 'echo start; printf "x%.0s" $(seq 5000); exit 3'
    create(system, action={"kind": "command", "shell": shell})
    clock.set(60)
    system.routines.tick()
    [run] = drain(system)
    assert run["status"] == "failed"
    assert run["detail"]["exit_code"] == 3
    tail = run["detail"]["output_tail"]
    assert len(tail) == 4000 and set(tail) == {"x"}, "the last 4000 characters of output are kept"

    shell = "echo $MISSIOND_ROUTINE_ID $MISSIOND_RUN_ID"
    short = create(system, name="short", action={"kind": "command", "shell": shell})
    clock.set(120)
    system.routines.tick()
    [done] = [r for r in drain(system) if r["routine_id"] == short["id"]]
    assert done["status"] == "succeeded"
    assert done["detail"]["exit_code"] == 0
    assert done["detail"]["output_tail"] == f"{short['id']} {done['id']}\n"
