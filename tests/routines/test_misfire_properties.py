"""Misfire planning against a model, tick after tick: each plan runs what its policy says, records the
rest as missed, and no occurrence ever runs twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from missiond.core.routines.misfire import DuePlan, Lookback, Misfire, MisfirePolicy, plan_due
from missiond.core.routines.schedule import CronSchedule, IntervalSchedule, Schedule

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
CRONS = [
    "*/5 * * * *",
    "30 * * * *",
    "0 */2 * * *",
    "30 2 * * *",
    "*/15 1-3 * * *",
    "0 9 * * 1-5",
    "45 1 * * *",
]
CHANGES = [  # 2026 offset changes in Berlin, New York and Lord Howe, in UTC
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 4, 4, 15, tzinfo=UTC),
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
]
US = 10**6

starts = st.one_of(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)),
    st.builds(
        lambda change, before_us: change - timedelta(microseconds=before_us),
        st.sampled_from(CHANGES),
        st.integers(0, 12 * 3600 * US),
    ),
)
schedules = st.one_of(
    st.builds(IntervalSchedule.parse, st.integers(15, 3600).map(float), starts),
    st.builds(CronSchedule.parse, st.sampled_from(CRONS), st.sampled_from(ZONES)),
)
misfires = st.one_of(
    st.builds(Misfire, st.just(MisfirePolicy.SKIP), grace_s=st.sampled_from([0.0, 30.0, 60.0, 600.0])),
    st.just(Misfire(MisfirePolicy.RUN_ONCE)),
    st.builds(Misfire, st.just(MisfirePolicy.CATCH_UP), max_runs=st.integers(1, 5)),
)
# Mostly short ticks (a slow tick, a skip inside its grace), sometimes hours down.
tick_gaps = st.lists(
    st.one_of(st.integers(0, 120 * US), st.integers(0, 3 * 3600 * US)).map(
        lambda us: timedelta(microseconds=us)
    ),
    min_size=1,
    max_size=8,
)


def occurrences(schedule: Schedule, first: datetime, now: datetime) -> list[datetime]:
    """Every occurrence in [first, now], one next_after at a time."""
    out: list[datetime] = []
    probe = schedule.next_after(first - timedelta(microseconds=1))
    while probe <= now:
        out.append(probe)
        probe = schedule.next_after(probe)
    return out


def expected_runs(due: list[datetime], misfire: Misfire, now: datetime) -> tuple[datetime, ...]:
    if not due:
        return ()
    if misfire.policy is MisfirePolicy.SKIP:
        slow_tick = len(due) == 1 and (now - due[0]).total_seconds() <= misfire.grace_s
        return (due[0],) if slow_tick else ()
    if misfire.policy is MisfirePolicy.RUN_ONCE:
        return (due[-1],)
    return tuple(due[-misfire.max_runs :])


def assert_plan_follows_the_model(
    plan: DuePlan, schedule: Schedule, next_fire_at: datetime, now: datetime, misfire: Misfire
) -> None:
    due = occurrences(schedule, next_fire_at, now)
    assert plan.run == expected_runs(due, misfire, now)
    assert plan.next_fire_at == (schedule.next_after(now) if due else next_fire_at)
    missed = [d for d in due if d not in plan.run]
    if not missed:
        assert (plan.first_missed, plan.last_missed, plan.missed_count) == (None, None, 0)
        return
    assert (plan.first_missed, plan.last_missed) == (missed[0], missed[-1])
    if isinstance(schedule, IntervalSchedule) or len(due) <= 2:
        assert plan.missed_count == len(missed)  # arithmetic, or few enough to count
    else:
        assert plan.missed_count in (len(missed), None)  # cron: unknown when many


@settings(max_examples=200, deadline=None)
@given(schedule=schedules, misfire=misfires, start=starts, gaps=tick_gaps)
def test_every_tick_runs_what_the_policy_says_and_nothing_runs_twice(
    schedule: Schedule, misfire: Misfire, start: datetime, gaps: list[timedelta]
) -> None:
    next_fire_at = schedule.next_after(start)
    now = start
    fired: list[datetime] = []
    for gap in gaps:
        now += gap
        plan = plan_due(schedule, next_fire_at, now, misfire)
        assert_plan_follows_the_model(plan, schedule, next_fire_at, now, misfire)
        assert all(run <= now for run in plan.run)
        assert plan.next_fire_at > now
        fired.extend(plan.run)
        next_fire_at = plan.next_fire_at
    assert all(a < b for a, b in pairwise(fired))


# A few schedules, so that plans sharing a lookback often share a walk, asking it for more
# or fewer occurrences in any order; next fire times on the schedule or anywhere.
shared_schedules = st.one_of(
    st.builds(CronSchedule.parse, st.sampled_from(CRONS[:3]), st.sampled_from(ZONES[:2])),
    st.builds(
        IntervalSchedule.parse, st.sampled_from([60.0, 900.0]), st.just(datetime(2026, 1, 1, tzinfo=UTC))
    ),
)
behind = st.integers(0, 6 * 3600 * US).map(lambda us: timedelta(microseconds=us))


@settings(max_examples=150, deadline=None)
@given(
    now=starts,
    plans=st.lists(st.tuples(shared_schedules, misfires, behind, st.booleans()), min_size=1, max_size=8),
)
def test_plans_sharing_one_lookback_equal_plans_made_alone(
    now: datetime, plans: list[tuple[Schedule, Misfire, timedelta, bool]]
) -> None:
    lookback = Lookback(now)
    for schedule, misfire, gap, on_schedule in plans:
        next_fire_at = schedule.next_after(now - gap) if on_schedule else now - gap
        alone = plan_due(schedule, next_fire_at, now, misfire)
        assert plan_due(schedule, next_fire_at, now, misfire, lookback=lookback) == alone


def test_a_lookback_serves_only_plans_of_its_own_now() -> None:
    schedule = CronSchedule.parse("*/5 * * * *", "UTC")
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    with pytest.raises(ValueError, match="its own `now`"):
        plan_due(schedule, now, now + timedelta(minutes=5), Misfire(), lookback=Lookback(now))
