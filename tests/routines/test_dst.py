"""Daylight saving as Vixie cron does it, checked against firing instants worked out by hand.

2026 transitions used below (UTC instant of the change, local clocks either side):
- Europe/Berlin        spring 03-29 01:00Z (02:00 CET -> 03:00 CEST)
                       autumn 10-25 01:00Z (03:00 CEST -> 02:00 CET)
- America/New_York     spring 03-08 07:00Z (02:00 EST -> 03:00 EDT)
                       autumn 11-01 06:00Z (02:00 EDT -> 01:00 EST)
- Australia/Lord_Howe  autumn 04-04 15:00Z (02:00 +11 -> 01:30 +10:30), a half-hour shift
                       spring 10-03 15:30Z (02:00 +10:30 -> 02:30 +11)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from missiond.core.routines.schedule import CronSchedule

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
LORD_HOWE = "Australia/Lord_Howe"


def utc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def firings(expression: str, zone: str, after: datetime, count: int) -> list[datetime]:
    schedule = CronSchedule.parse(expression, zone)
    out: list[datetime] = []
    moment = after
    for _ in range(count):
        moment = schedule.next_after(moment)
        out.append(moment)
    return out


# (expression, zone, start — exclusive, expected UTC firings in order)
FIXED_HOUR = [
    pytest.param(
        "30 2 * * *",
        BERLIN,
        utc(3, 27, 12),
        [
            utc(3, 28, 1, 30),  # 03-28 02:30 CET (+1)
            utc(3, 29, 1, 0),  # 03-29 02:30 does not exist: once, right after the gap, 03:00 CEST
            utc(3, 30, 0, 30),  # 03-30 02:30 CEST (+2)
        ],
        id="berlin-spring-0230-in-the-gap-fires-once-at-0300-cest",
    ),
    pytest.param(
        "30 2 * * *",
        NEW_YORK,
        utc(3, 7),
        [
            utc(3, 7, 7, 30),  # 03-07 02:30 EST (-5)
            utc(3, 8, 7, 0),  # 03-08 02:30 does not exist: 03:00 EDT
            utc(3, 9, 6, 30),  # 03-09 02:30 EDT (-4)
        ],
        id="new-york-spring-0230-in-the-gap-fires-once-at-0300-edt",
    ),
    pytest.param(
        "30 2 * * *",
        BERLIN,
        utc(10, 24),
        [
            utc(10, 24, 0, 30),  # 10-24 02:30 CEST
            utc(10, 25, 0, 30),  # 10-25 02:30 CEST, first pass; 01:30Z (02:30 CET) must not fire
            utc(10, 26, 1, 30),  # 10-26 02:30 CET
        ],
        id="berlin-autumn-0230-in-the-overlap-fires-once-on-the-first-pass",
    ),
    pytest.param(
        "30 1 * * *",
        NEW_YORK,
        utc(10, 31),
        [
            utc(10, 31, 5, 30),  # 10-31 01:30 EDT
            utc(11, 1, 5, 30),  # 11-01 01:30 EDT, first pass; 06:30Z (01:30 EST) must not fire
            utc(11, 2, 6, 30),  # 11-02 01:30 EST
        ],
        id="new-york-autumn-0130-in-the-overlap-fires-once-on-the-first-pass",
    ),
    pytest.param(
        "30 1 * * *",
        BERLIN,
        utc(3, 27, 12),
        [
            utc(3, 28, 0, 30),  # 01:30 CET
            utc(3, 29, 0, 30),  # 01:30 CET, half an hour before the change
            utc(3, 29, 23, 30),  # 03-30 01:30 CEST
        ],
        id="berlin-spring-0130-before-the-gap-is-untouched",
    ),
    pytest.param(
        "30 2 * * *",
        NEW_YORK,
        utc(10, 31),
        [
            utc(10, 31, 6, 30),  # 02:30 EDT
            utc(11, 1, 7, 30),  # 02:30 EST: after the overlap, once
            utc(11, 2, 7, 30),  # 02:30 EST
        ],
        id="new-york-autumn-0230-after-the-overlap-is-untouched",
    ),
    pytest.param(
        "15 2 * * *",
        LORD_HOWE,
        utc(10, 2),
        [
            utc(10, 2, 15, 45),  # 10-03 02:15 +10:30
            utc(10, 3, 15, 30),  # 10-04 02:15 does not exist (02:00-02:30 gap): 02:30 +11
            utc(10, 4, 15, 15),  # 10-05 02:15 +11
        ],
        id="lord-howe-spring-half-hour-gap-fires-once-at-0230",
    ),
    pytest.param(
        "45 1 * * *",
        LORD_HOWE,
        utc(4, 3),
        [
            utc(4, 3, 14, 45),  # 04-04 01:45 +11
            utc(4, 4, 14, 45),  # 04-05 01:45 +11, first pass; 15:15Z (01:45 +10:30) must not fire
            utc(4, 5, 15, 15),  # 04-06 01:45 +10:30
        ],
        id="lord-howe-autumn-half-hour-overlap-fires-once-on-the-first-pass",
    ),
]

WILDCARD_HOUR = [
    # Berlin spring: 02:00-02:59 wall time does not exist on 03-29
    pytest.param(
        "30 * * * *",
        BERLIN,
        utc(3, 28, 23, 15),
        [utc(3, 28, 23, 30), utc(3, 29, 0, 30), utc(3, 29, 1, 30), utc(3, 29, 2, 30)],
        # 00:30 CET, 01:30 CET, (02:30 missing), 03:30 CEST, 04:30 CEST
        id="berlin-spring-every-hour-at-30-skips-the-missing-0230",
    ),
    pytest.param(
        "0 */1 * * *",
        BERLIN,
        utc(3, 28, 23, 15),
        [utc(3, 29, 0, 0), utc(3, 29, 1, 0), utc(3, 29, 2, 0)],
        # 01:00 CET, (02:00 missing), 03:00 CEST, 04:00 CEST
        id="berlin-spring-hour-step-skips-the-missing-0200",
    ),
    pytest.param(
        "*/30 * * * *",
        BERLIN,
        utc(3, 29, 0, 15),
        [utc(3, 29, 0, 30), utc(3, 29, 1, 0), utc(3, 29, 1, 30)],
        # 01:30 CET, (02:00, 02:30 missing), 03:00 CEST, 03:30 CEST
        id="berlin-spring-every-half-hour-has-nothing-in-the-gap",
    ),
    # Berlin autumn: 02:00-02:59 wall time happens twice on 10-25
    pytest.param(
        "30 * * * *",
        BERLIN,
        utc(10, 24, 23, 15),
        [utc(10, 24, 23, 30), utc(10, 25, 0, 30), utc(10, 25, 1, 30), utc(10, 25, 2, 30)],
        # 01:30 CEST, 02:30 CEST, 02:30 CET (second pass), 03:30 CET
        id="berlin-autumn-every-hour-at-30-fires-on-both-passes",
    ),
    pytest.param(
        "0 */1 * * *",
        BERLIN,
        utc(10, 24, 23, 15),
        [utc(10, 25, 0, 0), utc(10, 25, 1, 0), utc(10, 25, 2, 0)],
        # 02:00 CEST, 02:00 CET, 03:00 CET
        id="berlin-autumn-hour-step-fires-0200-twice",
    ),
    pytest.param(
        "*/30 * * * *",
        BERLIN,
        utc(10, 25, 0, 15),
        [utc(10, 25, 0, 30), utc(10, 25, 1, 0), utc(10, 25, 1, 30), utc(10, 25, 2, 0)],
        # 02:30 CEST, 02:00 CET, 02:30 CET, 03:00 CET
        id="berlin-autumn-every-half-hour-fires-on-both-passes",
    ),
    # New York spring: 02:00-02:59 wall time does not exist on 03-08
    pytest.param(
        "30 * * * *",
        NEW_YORK,
        utc(3, 8, 5, 15),
        [utc(3, 8, 5, 30), utc(3, 8, 6, 30), utc(3, 8, 7, 30), utc(3, 8, 8, 30)],
        # 00:30 EST, 01:30 EST, (02:30 missing), 03:30 EDT, 04:30 EDT
        id="new-york-spring-every-hour-at-30-skips-the-missing-0230",
    ),
    pytest.param(
        "0 */1 * * *",
        NEW_YORK,
        utc(3, 8, 5, 15),
        [utc(3, 8, 6, 0), utc(3, 8, 7, 0), utc(3, 8, 8, 0)],
        # 01:00 EST, (02:00 missing), 03:00 EDT, 04:00 EDT
        id="new-york-spring-hour-step-skips-the-missing-0200",
    ),
    pytest.param(
        "*/30 * * * *",
        NEW_YORK,
        utc(3, 8, 6, 15),
        [utc(3, 8, 6, 30), utc(3, 8, 7, 0), utc(3, 8, 7, 30)],
        # 01:30 EST, (02:00, 02:30 missing), 03:00 EDT, 03:30 EDT
        id="new-york-spring-every-half-hour-has-nothing-in-the-gap",
    ),
    pytest.param(
        "0 */2 * * *",
        NEW_YORK,
        utc(3, 8, 4, 15),
        [utc(3, 8, 5, 0), utc(3, 8, 8, 0), utc(3, 8, 10, 0)],
        # 00:00 EST, (02:00 missing), 04:00 EDT, 06:00 EDT: three real hours between the first two
        id="new-york-spring-every-second-hour-loses-the-missing-0200",
    ),
    # New York autumn: 01:00-01:59 wall time happens twice on 11-01
    pytest.param(
        "30 * * * *",
        NEW_YORK,
        utc(11, 1, 4, 15),
        [utc(11, 1, 4, 30), utc(11, 1, 5, 30), utc(11, 1, 6, 30), utc(11, 1, 7, 30)],
        # 00:30 EDT, 01:30 EDT, 01:30 EST (second pass), 02:30 EST
        id="new-york-autumn-every-hour-at-30-fires-on-both-passes",
    ),
    pytest.param(
        "0 */1 * * *",
        NEW_YORK,
        utc(11, 1, 4, 15),
        [utc(11, 1, 5, 0), utc(11, 1, 6, 0), utc(11, 1, 7, 0)],
        # 01:00 EDT, 01:00 EST, 02:00 EST
        id="new-york-autumn-hour-step-fires-0100-twice",
    ),
    pytest.param(
        "*/30 * * * *",
        NEW_YORK,
        utc(11, 1, 4, 45),
        [utc(11, 1, 5, 0), utc(11, 1, 5, 30), utc(11, 1, 6, 0), utc(11, 1, 6, 30), utc(11, 1, 7, 0)],
        # 01:00 EDT, 01:30 EDT, 01:00 EST, 01:30 EST, 02:00 EST
        id="new-york-autumn-every-half-hour-fires-on-both-passes",
    ),
    # Lord Howe autumn: 01:30-01:59 wall time happens twice on 04-05
    pytest.param(
        "*/30 * * * *",
        LORD_HOWE,
        utc(4, 4, 14, 15),
        [utc(4, 4, 14, 30), utc(4, 4, 15, 0), utc(4, 4, 15, 30), utc(4, 4, 16, 0)],
        # 01:30 +11, 01:30 +10:30 (second pass), 02:00 +10:30, 02:30 +10:30
        id="lord-howe-autumn-every-half-hour-fires-0130-twice",
    ),
]

ALL_ROWS = FIXED_HOUR + WILDCARD_HOUR


@pytest.mark.parametrize(("expression", "zone", "start", "expected"), FIXED_HOUR)
def test_fixed_hour_job_fires_once_across_the_transition(
    expression: str, zone: str, start: datetime, expected: list[datetime]
) -> None:
    assert firings(expression, zone, start, len(expected)) == expected


@pytest.mark.parametrize(("expression", "zone", "start", "expected"), WILDCARD_HOUR)
def test_wildcard_or_stepped_hour_job_fires_at_every_real_matching_instant(
    expression: str, zone: str, start: datetime, expected: list[datetime]
) -> None:
    assert firings(expression, zone, start, len(expected)) == expected


@pytest.mark.parametrize(("expression", "zone", "start", "expected"), ALL_ROWS)
def test_firing_instants_come_back_in_utc(
    expression: str, zone: str, start: datetime, expected: list[datetime]
) -> None:
    assert all(f.tzinfo is UTC for f in firings(expression, zone, start, len(expected)))


@pytest.mark.parametrize(("expression", "zone", "start", "expected"), ALL_ROWS)
def test_prev_at_or_before_walks_the_same_instants_backwards(
    expression: str, zone: str, start: datetime, expected: list[datetime]
) -> None:
    schedule = CronSchedule.parse(expression, zone)
    for earlier, later in pairwise(expected):
        assert schedule.prev_at_or_before(later) == later
        assert schedule.prev_at_or_before(later - timedelta(microseconds=1)) == earlier
        assert schedule.prev_at_or_before(later - timedelta(seconds=1)) == earlier


@pytest.mark.parametrize(("expression", "zone", "start", "expected"), ALL_ROWS)
def test_the_same_instant_in_another_offset_gives_the_same_firing(
    expression: str, zone: str, start: datetime, expected: list[datetime]
) -> None:
    schedule = CronSchedule.parse(expression, zone)
    elsewhere = start.astimezone(timezone(timedelta(hours=-9, minutes=-30)))
    assert schedule.next_after(elsewhere) == expected[0]


def test_fixed_hour_job_asked_during_the_second_pass_waits_for_the_next_day() -> None:
    schedule = CronSchedule.parse("30 1 * * *", NEW_YORK)
    # 06:00Z is 01:00 EST, the second pass through 01:xx; 01:30 already fired at 05:30Z
    assert schedule.next_after(utc(11, 1, 6, 0)) == utc(11, 2, 6, 30)
    assert schedule.next_after(utc(11, 1, 6, 30)) == utc(11, 2, 6, 30)


def test_wildcard_hour_job_asked_during_the_second_pass_fires_on_it() -> None:
    schedule = CronSchedule.parse("30 * * * *", NEW_YORK)
    assert schedule.next_after(utc(11, 1, 6, 0)) == utc(11, 1, 6, 30)  # 01:30 EST


# Each transition: (zone, an instant a day before it).
TRANSITIONS = [
    pytest.param(BERLIN, utc(3, 28), id="berlin-spring"),
    pytest.param(BERLIN, utc(10, 24), id="berlin-autumn"),
    pytest.param(NEW_YORK, utc(3, 7), id="new-york-spring"),
    pytest.param(NEW_YORK, utc(10, 31), id="new-york-autumn"),
    pytest.param(LORD_HOWE, utc(4, 3), id="lord-howe-autumn"),
    pytest.param(LORD_HOWE, utc(10, 2), id="lord-howe-spring"),
]

EXPRESSIONS = [
    pytest.param("30 2 * * *", id="0230-daily"),
    pytest.param("30 1 * * *", id="0130-daily"),
    pytest.param("0,30 1-3 * * *", id="half-hours-01-to-03"),
    pytest.param("*/15 2 * * *", id="quarter-hours-in-hour-2"),
    pytest.param("30 * * * *", id="hourly-at-30"),
    pytest.param("0 */1 * * *", id="hour-step"),
    pytest.param("*/30 * * * *", id="every-half-hour"),
    pytest.param("*/7 */3 * * *", id="odd-steps"),
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
@pytest.mark.parametrize(("zone", "day_before"), TRANSITIONS)
def test_consecutive_next_after_calls_never_repeat_or_go_backwards(
    zone: str, day_before: datetime, expression: str
) -> None:
    schedule = CronSchedule.parse(expression, zone)
    end = day_before + timedelta(days=3)
    seen = [schedule.next_after(day_before)]
    while seen[-1] < end:
        seen.append(schedule.next_after(seen[-1]))
    assert all(a < b for a, b in pairwise(seen))
    # and from any moment in between, the answer is the next one in that list
    for earlier, later in pairwise(seen):
        middle = earlier + (later - earlier) / 2
        assert schedule.next_after(middle) == later


@pytest.mark.parametrize(
    ("expression", "zone", "day", "runs"),
    [
        pytest.param("30 2 * * *", BERLIN, utc(3, 28, 23), 1, id="berlin-gap-fixed-once"),
        pytest.param("30 2 * * *", BERLIN, utc(10, 24, 22), 1, id="berlin-overlap-fixed-once"),
        pytest.param("*/15 2 * * *", BERLIN, utc(3, 28, 23), 1, id="berlin-gap-all-quarters-collapse-to-one"),
        pytest.param("*/15 2 * * *", BERLIN, utc(10, 24, 22), 4, id="berlin-overlap-fixed-hour-first-pass"),
        pytest.param("30 * * * *", BERLIN, utc(3, 28, 23), 23, id="berlin-spring-day-has-23-hourly-runs"),
        pytest.param("30 * * * *", BERLIN, utc(10, 24, 22), 25, id="berlin-autumn-day-has-25-hourly-runs"),
        pytest.param("30 1 * * *", NEW_YORK, utc(11, 1, 4), 1, id="new-york-overlap-fixed-once"),
        pytest.param("0 * * * *", NEW_YORK, utc(3, 8, 5), 23, id="new-york-spring-day-has-23-hourly-runs"),
        pytest.param("0 * * * *", NEW_YORK, utc(11, 1, 4), 25, id="new-york-autumn-day-has-25-hourly-runs"),
    ],
)
def test_runs_on_the_transition_day_are_counted_as_vixie_cron_would(
    expression: str, zone: str, day: datetime, runs: int
) -> None:
    # `day` is local midnight of the transition day, in UTC; the local day ends 23 or 25 hours later
    schedule = CronSchedule.parse(expression, zone)
    local_end = (day + timedelta(hours=36)).astimezone(ZoneInfo(zone)).replace(hour=0, minute=0)
    end = local_end.astimezone(UTC)
    count, moment = 0, day - timedelta(microseconds=1)
    while (moment := schedule.next_after(moment)) < end:
        count += 1
    assert count == runs
