"""Misfire planning: which missed occurrences run, which are recorded as missed, and what comes next."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from missiond.core.routines.misfire import MAX_CATCH_UP, DuePlan, Misfire, MisfirePolicy, plan_due
from missiond.core.routines.schedule import CronSchedule, IntervalSchedule, Schedule

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SKIP = Misfire(MisfirePolicy.SKIP)
RUN_ONCE = Misfire(MisfirePolicy.RUN_ONCE)


def s(seconds: float) -> datetime:
    """T0 plus some seconds: the interval tables read in seconds since the anchor."""
    return T0 + timedelta(seconds=seconds)


def catch_up(n: int) -> Misfire:
    return Misfire(MisfirePolicy.CATCH_UP, max_runs=n)


def utc(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def test_run_once_is_the_default_policy() -> None:
    assert Misfire().policy is MisfirePolicy.RUN_ONCE


# -- per-second interval anchored at T0 ----------------------------------------------------------

EVERY_SECOND = IntervalSchedule.parse(1, T0)

PER_SECOND_ROWS = [
    # due: 5, 6, 7, 8, 9, 10 — six occurrences, a burst
    pytest.param(
        SKIP,
        s(5),
        s(10.5),
        DuePlan((), s(11), first_missed=s(5), last_missed=s(10), missed_count=6),
        id="skip-after-a-burst-runs-nothing",
    ),
    pytest.param(
        RUN_ONCE,
        s(5),
        s(10.5),
        DuePlan((s(10),), s(11), first_missed=s(5), last_missed=s(9), missed_count=5),
        id="run-once-after-a-burst-runs-the-latest",
    ),
    # due: 5 .. 25 — 21 occurrences
    pytest.param(
        catch_up(3),
        s(5),
        s(25),
        DuePlan((s(23), s(24), s(25)), s(26), first_missed=s(5), last_missed=s(22), missed_count=18),
        id="catch-up-3-runs-the-last-three-in-order",
    ),
    pytest.param(
        catch_up(3),
        s(5),
        s(6.2),
        DuePlan((s(5), s(6)), s(7)),
        id="catch-up-larger-than-what-is-due-runs-all-and-misses-none",
    ),
    pytest.param(
        catch_up(3),
        s(5),
        s(7),
        DuePlan((s(5), s(6), s(7)), s(8)),
        id="catch-up-equal-to-what-is-due-runs-all-and-misses-none",
    ),
    # due: 1 .. 1000
    pytest.param(
        catch_up(500),
        s(1),
        s(1000),
        DuePlan(
            tuple(s(k) for k in range(901, 1001)),
            s(1001),
            first_missed=s(1),
            last_missed=s(900),
            missed_count=900,
        ),
        id="catch-up-is-capped-at-100",
    ),
    pytest.param(
        RUN_ONCE,
        s(5),
        s(5),
        DuePlan((s(5),), s(6)),
        id="run-once-on-time-misses-nothing",
    ),
    pytest.param(
        SKIP,
        s(5),
        s(5.5),
        DuePlan((s(5),), s(6)),
        id="skip-with-exactly-one-due-on-time-runs-it",
    ),
    pytest.param(
        RUN_ONCE,
        s(5),
        s(6),
        DuePlan((s(6),), s(7), first_missed=s(5), last_missed=s(5), missed_count=1),
        id="run-once-with-two-due-misses-the-first",
    ),
]


@pytest.mark.parametrize(("misfire", "next_fire_at", "now", "expected"), PER_SECOND_ROWS)
def test_per_second_routine_plans_as_the_table_says(
    misfire: Misfire, next_fire_at: datetime, now: datetime, expected: DuePlan
) -> None:
    assert plan_due(EVERY_SECOND, next_fire_at, now, misfire) == expected


# -- the skip grace: one slow tick still runs ----------------------------------------------------

HOURLY = IntervalSchedule.parse(3600, T0)
EVERY_TEN_SECONDS = IntervalSchedule.parse(10, T0)

GRACE_ROWS = [
    pytest.param(
        HOURLY,
        Misfire(MisfirePolicy.SKIP, grace_s=60),
        s(3600 + 60),
        DuePlan((s(3600),), s(7200)),
        id="skip-late-by-exactly-the-grace-runs",
    ),
    pytest.param(
        HOURLY,
        Misfire(MisfirePolicy.SKIP, grace_s=60),
        s(3600 + 60.000001),
        DuePlan((), s(7200), first_missed=s(3600), last_missed=s(3600), missed_count=1),
        id="skip-late-by-a-microsecond-past-the-grace-does-not-run",
    ),
    pytest.param(
        HOURLY,
        Misfire(MisfirePolicy.SKIP, grace_s=0),
        s(3600),
        DuePlan((s(3600),), s(7200)),
        id="skip-with-no-grace-runs-when-exactly-on-time",
    ),
    pytest.param(
        HOURLY,
        Misfire(MisfirePolicy.SKIP, grace_s=0),
        s(3601),
        DuePlan((), s(7200), first_missed=s(3600), last_missed=s(3600), missed_count=1),
        id="skip-with-no-grace-does-not-run-a-second-late",
    ),
    pytest.param(
        EVERY_TEN_SECONDS,
        Misfire(MisfirePolicy.SKIP, grace_s=60),
        s(20.5),
        DuePlan((), s(30), first_missed=s(10), last_missed=s(20), missed_count=2),
        id="skip-with-two-due-runs-none-even-inside-the-grace",
    ),
    pytest.param(
        HOURLY,
        Misfire(MisfirePolicy.RUN_ONCE, grace_s=60),
        s(3600 + 600),
        DuePlan((s(3600),), s(7200)),
        id="run-once-ignores-the-grace",
    ),
]


@pytest.mark.parametrize(("schedule", "misfire", "now", "expected"), GRACE_ROWS)
def test_the_skip_grace_lets_one_slow_tick_run(
    schedule: IntervalSchedule, misfire: Misfire, now: datetime, expected: DuePlan
) -> None:
    first = schedule.next_after(T0)
    assert plan_due(schedule, first, now, misfire) == expected


# -- nothing due ---------------------------------------------------------------------------------

POLICIES = [
    pytest.param(SKIP, id="skip"),
    pytest.param(RUN_ONCE, id="run-once"),
    pytest.param(catch_up(5), id="catch-up-5"),
]

NOTHING_DUE = [
    pytest.param(EVERY_SECOND, s(5), s(4.999999), id="interval-just-before-next"),
    pytest.param(IntervalSchedule.parse(60, s(100)), s(100), s(50), id="interval-before-its-anchor"),
    pytest.param(
        CronSchedule.parse("0 9 * * *", "Europe/Berlin"), utc(3, 31, 7), utc(3, 30, 12), id="cron-berlin"
    ),
]


@pytest.mark.parametrize(("schedule", "next_fire_at", "now"), NOTHING_DUE)
@pytest.mark.parametrize("misfire", POLICIES)
def test_nothing_due_runs_nothing_and_leaves_next_unchanged(
    misfire: Misfire, schedule: Schedule, next_fire_at: datetime, now: datetime
) -> None:
    plan = plan_due(schedule, next_fire_at, now, misfire)
    assert plan == DuePlan((), next_fire_at)
    assert not plan.missed_any


# -- cron in a zone ------------------------------------------------------------------------------

# `0 9 * * *` in Berlin: 03-27 08:00Z (CET), 03-28 08:00Z, 03-29 07:00Z (CEST), 03-30 07:00Z, 03-31 07:00Z
NINE_BERLIN = CronSchedule.parse("0 9 * * *", "Europe/Berlin")

CRON_ROWS = [
    pytest.param(
        NINE_BERLIN,
        RUN_ONCE,
        utc(3, 27, 8),
        utc(3, 30, 12),
        DuePlan(
            (utc(3, 30, 7),),
            utc(3, 31, 7),
            first_missed=utc(3, 27, 8),
            last_missed=utc(3, 29, 7),
            missed_count=None,
        ),
        id="run-once-over-the-spring-change-counts-many-as-unknown",
    ),
    pytest.param(
        NINE_BERLIN,
        RUN_ONCE,
        utc(3, 29, 7),
        utc(3, 30, 12),
        DuePlan(
            (utc(3, 30, 7),),
            utc(3, 31, 7),
            first_missed=utc(3, 29, 7),
            last_missed=utc(3, 29, 7),
            missed_count=1,
        ),
        id="run-once-with-two-due-counts-the-one-missed",
    ),
    pytest.param(
        NINE_BERLIN,
        catch_up(10),
        utc(3, 27, 8),
        utc(3, 30, 12),
        DuePlan((utc(3, 27, 8), utc(3, 28, 8), utc(3, 29, 7), utc(3, 30, 7)), utc(3, 31, 7)),
        id="catch-up-larger-than-what-is-due-runs-all-four-across-the-change",
    ),
    pytest.param(
        NINE_BERLIN,
        catch_up(2),
        utc(3, 27, 8),
        utc(3, 30, 12),
        DuePlan(
            (utc(3, 29, 7), utc(3, 30, 7)),
            utc(3, 31, 7),
            first_missed=utc(3, 27, 8),
            last_missed=utc(3, 28, 8),
            missed_count=None,
        ),
        id="catch-up-2-runs-the-last-two",
    ),
    pytest.param(
        NINE_BERLIN,
        SKIP,
        utc(3, 27, 8),
        utc(3, 30, 12),
        DuePlan((), utc(3, 31, 7), first_missed=utc(3, 27, 8), last_missed=utc(3, 30, 7), missed_count=None),
        id="skip-after-days-down-runs-nothing",
    ),
    pytest.param(
        # 02:30 does not exist on 03-08 in New York: the occurrence is 03:00 EDT = 07:00Z
        CronSchedule.parse("30 2 * * *", "America/New_York"),
        SKIP,
        utc(3, 8, 7),
        utc(3, 8, 7, 0, 30),
        DuePlan((utc(3, 8, 7),), utc(3, 9, 6, 30)),
        id="skip-runs-the-post-gap-occurrence-inside-the-grace",
    ),
    pytest.param(
        # both passes of 02:30 on 10-25 in Berlin, then 03:30 CET
        CronSchedule.parse("30 * * * *", "Europe/Berlin"),
        catch_up(5),
        utc(10, 25, 0, 30),
        utc(10, 25, 2, 45),
        DuePlan((utc(10, 25, 0, 30), utc(10, 25, 1, 30), utc(10, 25, 2, 30)), utc(10, 25, 3, 30)),
        id="catch-up-over-the-overlap-runs-both-passes-of-a-wildcard-hour",
    ),
    pytest.param(
        CronSchedule.parse("30 2 * * *", "Europe/Berlin"),
        catch_up(5),
        utc(10, 25, 0, 30),
        utc(10, 25, 2),
        DuePlan((utc(10, 25, 0, 30),), utc(10, 26, 1, 30)),
        id="catch-up-over-the-overlap-runs-a-fixed-hour-once",
    ),
]


@pytest.mark.parametrize(("schedule", "misfire", "next_fire_at", "now", "expected"), CRON_ROWS)
def test_cron_routine_in_a_zone_plans_as_the_table_says(
    schedule: CronSchedule, misfire: Misfire, next_fire_at: datetime, now: datetime, expected: DuePlan
) -> None:
    assert plan_due(schedule, next_fire_at, now, misfire) == expected


# -- bounded enumeration -------------------------------------------------------------------------

THIRTY_DAYS_S = 30 * 24 * 3600  # 2,592,000
# Last processed at T0, so 1 s .. 2,592,000 s are due: 2,592,000 occurrences.
BACK_AT = s(THIRTY_DAYS_S)

THIRTY_DAYS_DOWN = [
    pytest.param(
        RUN_ONCE,
        DuePlan(
            (BACK_AT,),
            s(THIRTY_DAYS_S + 1),
            first_missed=s(1),
            last_missed=s(THIRTY_DAYS_S - 1),
            missed_count=THIRTY_DAYS_S - 1,
        ),
        id="run-once",
    ),
    pytest.param(
        SKIP,
        DuePlan((), s(THIRTY_DAYS_S + 1), first_missed=s(1), last_missed=BACK_AT, missed_count=THIRTY_DAYS_S),
        id="skip",
    ),
    pytest.param(
        catch_up(MAX_CATCH_UP),
        DuePlan(
            tuple(s(THIRTY_DAYS_S - 99 + k) for k in range(100)),
            s(THIRTY_DAYS_S + 1),
            first_missed=s(1),
            last_missed=s(THIRTY_DAYS_S - 100),
            missed_count=THIRTY_DAYS_S - 100,
        ),
        id="catch-up-100",
    ),
]


def timed(call: Callable[[], DuePlan]) -> tuple[DuePlan, float]:
    started = time.perf_counter()
    plan = call()
    return plan, time.perf_counter() - started


@pytest.mark.parametrize(("misfire", "expected"), THIRTY_DAYS_DOWN)
def test_per_second_routine_after_thirty_days_down_is_planned_exactly_and_quickly(
    misfire: Misfire, expected: DuePlan
) -> None:
    plan, elapsed = timed(lambda: plan_due(EVERY_SECOND, s(1), BACK_AT, misfire))
    assert plan == expected
    assert elapsed < 2.0  # generous: it is arithmetic, microseconds on any machine


DAY = utc(5, 1)
MINUTE = timedelta(minutes=1)

A_DAY_DOWN = [
    pytest.param(
        RUN_ONCE,
        DuePlan(
            (DAY + 1440 * MINUTE,),
            DAY + 1441 * MINUTE,
            first_missed=DAY + MINUTE,
            last_missed=DAY + 1439 * MINUTE,
            missed_count=None,
        ),
        id="run-once",
    ),
    pytest.param(
        catch_up(MAX_CATCH_UP),
        DuePlan(
            tuple(DAY + k * MINUTE for k in range(1341, 1441)),
            DAY + 1441 * MINUTE,
            first_missed=DAY + MINUTE,
            last_missed=DAY + 1340 * MINUTE,
            missed_count=None,
        ),
        id="catch-up-100",
    ),
]


@pytest.mark.parametrize(("misfire", "expected"), A_DAY_DOWN)
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Asia/Kolkata"])
def test_per_minute_cron_after_a_day_down_is_planned_without_counting_every_minute(
    zone: str, misfire: Misfire, expected: DuePlan
) -> None:
    schedule = CronSchedule.parse("* * * * *", zone)
    plan, elapsed = timed(lambda: plan_due(schedule, DAY + MINUTE, DAY + 1440 * MINUTE, misfire))
    assert plan == expected
    assert elapsed < 2.0


def test_per_minute_cron_after_thirty_days_down_is_planned_quickly() -> None:
    schedule = CronSchedule.parse("* * * * *", "Europe/Berlin")
    plan, elapsed = timed(lambda: plan_due(schedule, utc(3, 1), utc(3, 31), catch_up(MAX_CATCH_UP)))
    assert len(plan.run) == MAX_CATCH_UP
    assert plan.run[-1] == utc(3, 31)
    assert plan.missed_count is None
    assert elapsed < 2.0


def test_business_hours_cron_planned_on_the_monday_after_the_change_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Last run Friday 03-27 17:55 CET; back on Monday 03-30 08:00 CEST (06:00Z), before 09:00 opens.
    schedule = CronSchedule.parse("*/5 9-17 * * 1-5", "Europe/Berlin")
    calls = 0
    real_next_after = CronSchedule.next_after

    def counting(self: CronSchedule, moment: datetime) -> datetime:
        nonlocal calls
        calls += 1
        firing: datetime = real_next_after(self, moment)
        return firing

    monkeypatch.setattr(CronSchedule, "next_after", counting)
    plan = plan_due(schedule, utc(3, 27, 16, 55), utc(3, 30, 6), RUN_ONCE)
    assert plan == DuePlan((utc(3, 27, 16, 55),), utc(3, 30, 7))
    assert calls <= 100


# -- naive datetimes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schedule",
    [pytest.param(EVERY_SECOND, id="interval"), pytest.param(NINE_BERLIN, id="cron")],
)
def test_a_naive_now_is_refused(schedule: Schedule) -> None:
    with pytest.raises(ValueError, match="naive"):
        plan_due(schedule, s(5), datetime(2026, 1, 1, 0, 0, 10), RUN_ONCE)


@pytest.mark.parametrize(
    "schedule",
    [pytest.param(EVERY_SECOND, id="interval"), pytest.param(NINE_BERLIN, id="cron")],
)
def test_a_naive_next_fire_at_is_refused(schedule: Schedule) -> None:
    with pytest.raises(ValueError, match="naive"):
        plan_due(schedule, datetime(2026, 1, 1, 0, 0, 5), utc(5, 1), RUN_ONCE)


# -- fractional intervals ------------------------------------------------------------------------


def test_fractional_interval_occurrence_due_exactly_now_runs() -> None:
    schedule = IntervalSchedule.parse(1.1, T0)
    occurrence = schedule.next_after(s(2.2))
    assert occurrence == s(3.3)
    assert plan_due(schedule, occurrence, occurrence, RUN_ONCE) == DuePlan((occurrence,), s(4.4))


def test_fractional_interval_missed_count_is_exact() -> None:
    schedule = IntervalSchedule.parse(1.1, T0)
    # due: 1.1, 2.2, 3.3, 4.4 (and 5.5 not yet)
    plan = plan_due(schedule, s(1.1), s(5), SKIP)
    assert plan == DuePlan((), s(5.5), first_missed=s(1.1), last_missed=s(4.4), missed_count=4)
