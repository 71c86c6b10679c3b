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

A tick plans many routines against one `now`, and many share a cron schedule
(every per-minute routine in a zone): a `Lookback` walks each schedule back
from `now` once and lends the walk to every plan, so 3,000 such routines cost
one walk instead of 3,000.
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


_ONE_US = timedelta(microseconds=1)


class Lookback:
    """Cron occurrences walked back from one `now`, newest first, each walk made once
    and extended only as far as some plan asks; and each schedule's first occurrence
    after `now`. Both depend on (schedule, now) alone, so sharing them is exact."""

    __slots__ = ("_following", "_walks", "now")

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("naive datetimes never reach schedule arithmetic")
        self.now = now
        self._walks: dict[CronSchedule, list[datetime | None]] = {}
        self._following: dict[CronSchedule, datetime] = {}

    def nth(self, schedule: CronSchedule, index: int) -> datetime | None:
        """The `index`-th latest occurrence at or before now (0: the latest); None before the first."""
        walk = self._walks.get(schedule)
        if walk is None:
            walk = self._walks[schedule] = [schedule.prev_at_or_before(self.now)]
        while len(walk) <= index:
            last = walk[-1]
            walk.append(None if last is None else schedule.prev_at_or_before(last - _ONE_US))
        return walk[index]

    def following(self, schedule: CronSchedule) -> datetime:
        """The first occurrence strictly after now."""
        found = self._following.get(schedule)
        if found is None:
            found = self._following[schedule] = schedule.next_after(self.now)
        return found


def _due_cron(
    schedule: CronSchedule, first: datetime, lookback: Lookback, keep: int
) -> tuple[list[datetime], int | None]:
    """The last `keep` due occurrences, walking back from now; the total when it is known."""
    due: list[datetime] = []
    probe = lookback.nth(schedule, 0)
    while probe is not None and probe >= first and len(due) < keep:
        due.append(probe)
        probe = lookback.nth(schedule, len(due))
    due.reverse()
    more = probe is not None and probe >= first
    return due, (None if more else len(due))


def plan_due(
    schedule: Schedule,
    next_fire_at: datetime,
    now: datetime,
    misfire: Misfire,
    *,
    lookback: Lookback | None = None,
) -> DuePlan:
    """Plan the occurrences due in [next_fire_at, now]. Plans made against one `now` may
    share a `lookback` made for it: each cron walk is then made once for all of them."""
    if next_fire_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("naive datetimes never reach schedule arithmetic")
    if lookback is not None and lookback.now != now:
        raise ValueError("a lookback serves the plans of its own `now` only")
    wanted = min(max(1, misfire.max_runs), MAX_CATCH_UP) if misfire.policy is MisfirePolicy.CATCH_UP else 1
    keep = wanted + 1  # one more than may run: the last missed one
    # Every due occurrence is at or before now: what follows is the first after now.
    if isinstance(schedule, IntervalSchedule):
        due, total = schedule.due_between(next_fire_at, now, keep)
        known: int | None = total
        if not due:
            return DuePlan((), next_fire_at)
        following = schedule.next_after(now)
    else:
        walks = lookback or Lookback(now)
        due, known = _due_cron(schedule, next_fire_at, walks, keep)
        if not due:
            return DuePlan((), next_fire_at)
        following = walks.following(schedule)
    latest = due[-1]
    if misfire.policy is MisfirePolicy.SKIP:
        slow_tick = known == 1 and (now - latest).total_seconds() <= misfire.grace_s
        run = [latest] if slow_tick else []
    elif misfire.policy is MisfirePolicy.RUN_ONCE:
        run = [latest]
    else:
        run = due[-wanted:]
    not_run = due[: len(due) - len(run)]  # what runs is always the newest
    if not not_run and (known is not None and known == len(run)):
        return DuePlan(tuple(run), following)
    first_missed = next_fire_at if known is None or known > len(due) else not_run[0]
    last_missed = not_run[-1] if not_run else None
    count = None if known is None else known - len(run)
    return DuePlan(tuple(run), following, first_missed, last_missed, count)
