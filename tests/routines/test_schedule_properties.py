"""Schedule properties (Hypothesis) against a minute-by-minute reference, and what parse refuses."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from missiond.core.routines.schedule import CronSchedule, IntervalSchedule, ScheduleError

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]

# Small field vocabularies. Every combination fires at least once a year (no day 29-31, so no
# expression that never fires).
MINUTES = ["*", "0", "30", "45", "*/15", "*/7", "5,35", "10-20", "0-59/20"]
HOURS = ["*", "0", "1", "2", "3", "*/2", "*/5", "1-3", "2,14", "1-23/3"]
DAYS = ["*", "1", "15", "28", "1-7", "5,20"]
MONTHS = ["*", "1", "3", "4", "10", "11", "3,10,11", "*/3"]
WEEKDAYS = ["*", "0", "1-5", "6", "SUN", "MON,FRI", "7"]

# 2026 offset changes, in UTC, per zone (Lord Howe shifts by half an hour).
TRANSITIONS = {
    "UTC": [],
    "Asia/Kolkata": [],
    "Europe/Berlin": [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)],
    "America/New_York": [datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC)],
    "Australia/Lord_Howe": [datetime(2026, 4, 4, 15, tzinfo=UTC), datetime(2026, 10, 3, 15, 30, tzinfo=UTC)],
}
BERLIN_SPRING, BERLIN_AUTUMN = TRANSITIONS["Europe/Berlin"]
WINDOW = timedelta(hours=26)  # how far the reference looks ahead: a transition day and then some


def _often_star(choices: list[str]) -> st.SearchStrategy[str]:
    # "*" half the time, so that transition days (Sundays in March, April, October, November) stay in play
    return st.one_of(st.just("*"), st.sampled_from(choices))


expressions = st.tuples(
    st.sampled_from(MINUTES),
    st.one_of(st.sampled_from(["1", "2", "1-3"]), st.sampled_from(HOURS)),  # the changes happen at 1-3 h
    _often_star(DAYS),
    _often_star(MONTHS),
    _often_star(WEEKDAYS),
).map(" ".join)

anywhere_in_2026 = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31, 23, 59, 59), timezones=st.just(UTC)
)


@st.composite
def cron_cases(draw: st.DrawFn, only_near_a_change: bool = False) -> tuple[CronSchedule, datetime]:
    """A schedule and a moment, often (or always) within WINDOW before a change of its zone."""
    zones = [z for z in ZONES if TRANSITIONS[z]] if only_near_a_change else ZONES
    zone = draw(st.sampled_from(zones))
    schedule = CronSchedule.parse(draw(expressions), zone)
    if TRANSITIONS[zone] and (only_near_a_change or draw(st.booleans())):
        before = timedelta(microseconds=draw(st.integers(1, int(WINDOW.total_seconds()) * 10**6)))
        moment = draw(st.sampled_from(TRANSITIONS[zone])) - before
        if draw(st.booleans()):
            moment = moment.replace(second=0, microsecond=0)
    else:
        moment = draw(anywhere_in_2026)
    return schedule, moment


instants = st.one_of(
    anywhere_in_2026,
    st.builds(
        lambda base, offset_us: base + timedelta(microseconds=offset_us),
        st.sampled_from([t for ts in TRANSITIONS.values() for t in ts]),
        st.integers(-36 * 3600 * 10**6, 12 * 3600 * 10**6),
    ),
)

PROPERTY = settings(max_examples=150, deadline=None)

PROPERTY = settings(max_examples=150, deadline=None)


# -- a reference implementation: walk every real minute ------------------------------------------

_WEEKDAY_NAMES = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}


def _values(field: str, low: int, high: int) -> frozenset[int]:
    out: set[int] = set()
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            start, stop = low, high
        elif "-" in base:
            first, last = base.split("-")
            start, stop = int(first), int(last)
        else:
            start = stop = int(_WEEKDAY_NAMES.get(base, base) if base.isalpha() else base)
        out.update(range(start, stop + 1, int(step or 1)))
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Reference:
    """Vixie rules from first principles: real minutes that match, plus one firing after a gap."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    day_or: bool  # both day fields restricted: either may match (cron's classic rule)
    fixed_hour: bool
    zone: ZoneInfo

    @classmethod
    def of(cls, expression: str, zone: str) -> Reference:
        minute, hour, day, month, weekday = expression.split(" ")
        return cls(
            minutes=_values(minute, 0, 59),
            hours=_values(hour, 0, 23),
            days=_values(day, 1, 31),
            months=_values(month, 1, 12),
            weekdays=frozenset(d % 7 for d in _values(weekday, 0, 7)),
            day_or=day != "*" and weekday != "*",
            fixed_hour="*" not in hour and "/" not in hour,
            zone=ZoneInfo(zone),
        )

    def matches(self, wall: datetime) -> bool:
        if wall.minute not in self.minutes or wall.hour not in self.hours or wall.month not in self.months:
            return False
        dom = wall.day in self.days
        dow = (wall.weekday() + 1) % 7 in self.weekdays
        return (dom or dow) if self.day_or else (dom and dow)

    def firings(self, start: datetime, end: datetime) -> list[datetime]:
        """Every firing instant in (start, end]."""
        minute = timedelta(minutes=1)
        instant = start.replace(second=0, microsecond=0) + minute
        previous_wall = (instant - minute).astimezone(self.zone).replace(tzinfo=None)
        out: set[datetime] = set()
        while instant <= end:
            local = instant.astimezone(self.zone)
            wall = local.replace(tzinfo=None)
            skipped = previous_wall + minute
            while self.fixed_hour and skipped < wall:  # walls a spring-forward gap jumped over
                if self.matches(skipped):
                    out.add(instant)
                    break
                skipped += minute
            if self.matches(wall) and not (self.fixed_hour and local.fold == 1):
                out.add(instant)
            previous_wall, instant = wall, instant + minute
        return sorted(out)


def test_the_reference_knows_vixie_rules() -> None:
    # a check of the checker: Berlin spring, 02:30 fixed fires at 03:00 CEST; autumn, first pass only
    fixed = Reference.of("30 2 * * *", "Europe/Berlin")
    assert fixed.firings(BERLIN_SPRING - timedelta(hours=3), BERLIN_SPRING + timedelta(hours=3)) == [
        BERLIN_SPRING
    ]
    assert fixed.firings(BERLIN_AUTUMN - timedelta(hours=3), BERLIN_AUTUMN + timedelta(hours=3)) == [
        BERLIN_AUTUMN - timedelta(minutes=30)
    ]
    wildcard = Reference.of("30 * * * *", "Europe/Berlin")
    assert len(wildcard.firings(BERLIN_AUTUMN - timedelta(hours=3), BERLIN_AUTUMN + timedelta(hours=3))) == 6


# -- cron properties -----------------------------------------------------------------------------

Case = tuple[CronSchedule, datetime]


@PROPERTY
@given(case=cron_cases())
def test_next_after_is_strictly_later(case: Case) -> None:
    schedule, moment = case
    assert schedule.next_after(moment) > moment


@PROPERTY
@given(case=cron_cases(), later_by_us=st.integers(0, 3 * 24 * 3600 * 10**6))
def test_next_after_is_monotonic(case: Case, later_by_us: int) -> None:
    schedule, moment = case
    assert schedule.next_after(moment) <= schedule.next_after(moment + timedelta(microseconds=later_by_us))


@PROPERTY
@given(case=cron_cases())
def test_a_firing_is_its_own_prev_at_or_before(case: Case) -> None:
    schedule, moment = case
    firing = schedule.next_after(moment)
    assert schedule.prev_at_or_before(firing) == firing


@PROPERTY
@given(case=cron_cases())
def test_iterating_never_produces_an_occurrence_twice(case: Case) -> None:
    schedule, moment = case
    seen = [schedule.next_after(moment)]
    for _ in range(24):
        seen.append(schedule.next_after(seen[-1]))
    assert all(a < b for a, b in pairwise(seen))


def assert_agrees_with_the_reference(schedule: CronSchedule, moment: datetime) -> None:
    end = moment + WINDOW
    expected = Reference.of(schedule.expression, schedule.timezone).firings(moment, end)
    produced: list[datetime] = []
    probe = schedule.next_after(moment)
    while probe <= end:
        produced.append(probe)
        probe = schedule.next_after(probe)
    assert produced == expected


@settings(max_examples=250, deadline=None)
@given(case=cron_cases(only_near_a_change=True))
def test_next_after_agrees_with_a_minute_by_minute_reference_across_a_change(case: Case) -> None:
    assert_agrees_with_the_reference(*case)


@settings(max_examples=60, deadline=None)
@given(case=cron_cases())
def test_next_after_agrees_with_a_minute_by_minute_reference_anywhere(case: Case) -> None:
    assert_agrees_with_the_reference(*case)


@settings(max_examples=80, deadline=None)
@given(case=cron_cases())
def test_prev_at_or_before_is_the_latest_firing_not_after_the_moment(case: Case) -> None:
    schedule, moment = case
    latest = schedule.prev_at_or_before(moment)
    assert latest is not None  # every expression here fires at least yearly
    assert latest <= moment
    assert schedule.next_after(latest) > moment


# -- interval properties -------------------------------------------------------------------------

whole_seconds = st.integers(1, 7 * 24 * 3600).map(float)
tenths = st.integers(10, 100_000).map(lambda n: n / 10)


@PROPERTY
@given(interval=st.one_of(whole_seconds, tenths), anchor=instants, moment=instants)
def test_interval_occurrences_are_the_anchor_plus_whole_intervals(
    interval: float, anchor: datetime, moment: datetime
) -> None:
    schedule = IntervalSchedule.parse(interval, anchor)
    first = schedule.next_after(moment)
    k = round((first - anchor).total_seconds() / interval)
    assert first == anchor + timedelta(seconds=k * interval)
    assert first > moment
    assert k == 0 or anchor + timedelta(seconds=(k - 1) * interval) <= moment  # none skipped
    probe = first
    for step in range(1, 20):
        probe = schedule.next_after(probe)
        assert probe == anchor + timedelta(seconds=(k + step) * interval)


@PROPERTY
@given(interval=whole_seconds, anchor=instants, moment=instants)
def test_interval_latest_at_or_before_agrees_with_next_after(
    interval: float, anchor: datetime, moment: datetime
) -> None:
    schedule = IntervalSchedule.parse(interval, anchor)
    firing = schedule.next_after(moment)
    assert schedule.latest_at_or_before(firing) == firing
    latest = schedule.latest_at_or_before(moment)
    if moment < anchor:
        assert latest is None
    else:
        assert latest is not None and latest <= moment < schedule.next_after(latest)


def test_an_interval_before_its_anchor_first_fires_at_the_anchor() -> None:
    anchor = datetime(2026, 6, 1, tzinfo=UTC)
    schedule = IntervalSchedule.parse(60, anchor)
    assert schedule.next_after(anchor - timedelta(days=3)) == anchor
    assert schedule.latest_at_or_before(anchor - timedelta(microseconds=1)) is None


# -- validation ----------------------------------------------------------------------------------

BAD_EXPRESSIONS = [
    pytest.param("0 * * * * *", id="six-fields"),
    pytest.param("0 * * *", id="four-fields"),
    pytest.param("61 * * * *", id="minute-61"),
    pytest.param("0 24 * * *", id="hour-24"),
    pytest.param("0 0 0 * *", id="day-0"),
    pytest.param("0 0 * 13 *", id="month-13"),
    pytest.param("0 0 * * 8", id="weekday-8"),
    pytest.param("*/0 * * * *", id="step-0"),
    pytest.param("CRON_TZ=UTC 0 * * * *", id="cron-tz-prefix"),
    pytest.param("TZ=UTC 0 * * * *", id="tz-prefix"),
    pytest.param("cron_tz=Europe/Berlin 0 9 * * *", id="lower-case-cron-tz-prefix"),
    pytest.param("0 9 * * * TZ=UTC", id="tz-suffix"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param("@daily", id="nickname"),
]


@pytest.mark.parametrize("expression", BAD_EXPRESSIONS)
def test_a_bad_cron_expression_is_refused_naming_the_cron_field(expression: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        CronSchedule.parse(expression, "UTC")
    assert caught.value.field == "cron"


@pytest.mark.parametrize("expression", ["0 0 30 2 *", "0 0 31 4 *"], ids=["february-30", "april-31"])
def test_an_expression_that_never_fires_is_refused(expression: str) -> None:
    refused = True
    try:
        CronSchedule.parse(expression, "UTC")
        refused = False
    except ScheduleError as exc:
        assert exc.field == "cron"
    assert refused


@pytest.mark.parametrize(
    "zone",
    [
        pytest.param("Mars/Olympus_Mons", id="unknown-zone"),
        pytest.param("", id="empty"),
        pytest.param("Europe/Berlin ", id="trailing-space"),
        pytest.param("/etc/localtime", id="absolute-path"),
        pytest.param("../zoneinfo/UTC", id="relative-path"),
    ],
)
def test_an_unknown_zone_is_refused_naming_the_timezone_field(zone: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        CronSchedule.parse("0 9 * * *", zone)
    assert caught.value.field == "timezone"


@pytest.mark.parametrize(
    ("given_expression", "kept"),
    [
        pytest.param("  0   9 * *\t1-5 ", "0 9 * * 1-5", id="extra-whitespace-is-normalised"),
        pytest.param("*/5 9-17 * * MON-FRI", "*/5 9-17 * * MON-FRI", id="names-and-ranges"),
        pytest.param("0 0 1 1 *", "0 0 1 1 *", id="yearly"),
    ],
)
def test_a_valid_expression_is_kept_in_normal_form(given_expression: str, kept: str) -> None:
    assert CronSchedule.parse(given_expression, "Asia/Kolkata") == CronSchedule(kept, "Asia/Kolkata")


@pytest.mark.parametrize(
    "interval",
    [
        pytest.param(0, id="zero"),
        pytest.param(-1, id="negative"),
        pytest.param(0.5, id="half-a-second"),
        pytest.param(0.999, id="just-under-a-second"),
        pytest.param(math.nan, id="nan"),
    ],
)
def test_an_interval_under_a_second_is_refused_naming_the_interval_field(interval: float) -> None:
    with pytest.raises(ScheduleError) as caught:
        IntervalSchedule.parse(interval, datetime(2026, 1, 1, tzinfo=UTC))
    assert caught.value.field == "interval_s"


def test_an_infinite_interval_is_refused() -> None:
    with pytest.raises(ScheduleError):
        IntervalSchedule.parse(math.inf, datetime(2026, 1, 1, tzinfo=UTC))


NAIVE = datetime(2026, 3, 29, 2, 30)
AWARE = datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
CRON = CronSchedule.parse("30 2 * * *", "Europe/Berlin")
INTERVAL = IntervalSchedule.parse(60, AWARE)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: CRON.next_after(NAIVE), id="cron-next-after"),
        pytest.param(lambda: CRON.prev_at_or_before(NAIVE), id="cron-prev-at-or-before"),
        pytest.param(lambda: IntervalSchedule.parse(60, NAIVE), id="interval-anchor"),
        pytest.param(lambda: INTERVAL.next_after(NAIVE), id="interval-next-after"),
        pytest.param(lambda: INTERVAL.latest_at_or_before(NAIVE), id="interval-latest-at-or-before"),
    ],
)
def test_a_naive_datetime_never_reaches_the_arithmetic(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="naive"):
        call()


# -- a long gap between occurrences --------------------------------------------------------------


def test_leap_day_job_in_utc_finds_the_previous_leap_day() -> None:
    schedule = CronSchedule.parse("0 0 29 2 *", "UTC")
    assert schedule.prev_at_or_before(datetime(2027, 6, 1, tzinfo=UTC)) == datetime(2024, 2, 29, tzinfo=UTC)


def test_leap_day_job_in_berlin_finds_the_previous_leap_day_from_summer() -> None:
    schedule = CronSchedule.parse("0 0 29 2 *", "Europe/Berlin")
    # 2024-02-29 00:00 CET is 02-28 23:00Z
    assert schedule.prev_at_or_before(datetime(2027, 6, 1, tzinfo=UTC)) == datetime(
        2024, 2, 28, 23, tzinfo=UTC
    )
