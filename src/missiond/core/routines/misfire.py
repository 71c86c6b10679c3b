"""What to do with occurrences that came due while nobody was looking.

`plan_due` looks at every occurrence from `next_fire_at` up to `now` (bounded
enumeration) and decides which run and which are recorded as missed:

- skip: none, except when exactly one occurrence is due and it is late by no
  more than the grace (a slow tick still runs; a burst after downtime never does);
- run_once (default): only the latest;
- catch_up(n): the last n (n <= 100), oldest first.

Occurrences not run are recorded as missed, as one range per decision:
`[first_missed, last_missed]` with its count — exact for intervals
(arithmetic), and for cron exact when few, else unknown (None): counting a
day of per-minute occurrences would cost more than the whole recovery of
thousands of routines. So a per-second routine after 30 days down is planned
in microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from missiond.core.routines.schedule import CronSchedule, IntervalSchedule, Schedule

MAX_CATCH_UP = 100


class MisfirePolicy(StrEnum):
    SKIP = "skip"
    RUN_ONCE = "run_once"
    CATCH_UP = "catch_up"


@dataclass(frozen=True, slots=True)
class Misfire:
    policy: MisfirePolicy = MisfirePolicy.RUN_ONCE
    max_runs: int = 1
    grace_s: float = 60.0


@dataclass(frozen=True, slots=True)
class DuePlan:
    run: tuple[datetime, ...]
    next_fire_at: datetime
    first_missed: datetime | None = None
    last_missed: datetime | None = None
    missed_count: int | None = 0  # None: many, not counted

    @property
    def missed_any(self) -> bool:
        return self.first_missed is not None


def _due_interval(
    schedule: IntervalSchedule, first: datetime, now: datetime, keep: int
) -> tuple[list[datetime], int]:
    """The last `keep` due occurrences (ascending) and how many are due in all."""
    latest = schedule.latest_at_or_before(now)
    if latest is None or latest < first:
        return [], 0
    total = schedule.count_between(first, latest)
    step = timedelta(microseconds=round(schedule.interval_s * 1_000_000))
    tail = [latest - i * step for i in range(min(keep, total))]
    return sorted(tail), total


def _due_cron(
    schedule: CronSchedule, first: datetime, now: datetime, keep: int
) -> tuple[list[datetime], int | None]:
    """The last `keep` due occurrences, walking back from now; the total when it is known."""
    due: list[datetime] = []
    probe = schedule.prev_at_or_before(now)
    while probe is not None and probe >= first and len(due) < keep:
        due.append(probe)
        probe = schedule.prev_at_or_before(probe - timedelta(microseconds=1))
    due.reverse()
    more = probe is not None and probe >= first
    return due, (None if more else len(due))


def plan_due(schedule: Schedule, next_fire_at: datetime, now: datetime, misfire: Misfire) -> DuePlan:
    if next_fire_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("naive datetimes never reach schedule arithmetic")
    wanted = min(max(1, misfire.max_runs), MAX_CATCH_UP) if misfire.policy is MisfirePolicy.CATCH_UP else 1
    keep = wanted + 1  # one more than may run: the last missed one
    if isinstance(schedule, IntervalSchedule):
        due, total = _due_interval(schedule, next_fire_at, now, keep)
        known: int | None = total
    else:
        due, known = _due_cron(schedule, next_fire_at, now, keep)
    if not due:
        return DuePlan((), next_fire_at)
    latest = due[-1]
    following = schedule.next_after(max(latest, now))
    if misfire.policy is MisfirePolicy.SKIP:
        slow_tick = known == 1 and (now - latest).total_seconds() <= misfire.grace_s
        run = [latest] if slow_tick else []
    elif misfire.policy is MisfirePolicy.RUN_ONCE:
        run = [latest]
    else:
        run = due[-wanted:]
    not_run = [d for d in due if d not in set(run)]
    if not not_run and (known is not None and known == len(run)):
        return DuePlan(tuple(run), following)
    first_missed = next_fire_at if known is None or known > len(due) else not_run[0]
    last_missed = not_run[-1] if not_run else None
    count = None if known is None else known - len(run)
    return DuePlan(tuple(run), following, first_missed, last_missed, count)
