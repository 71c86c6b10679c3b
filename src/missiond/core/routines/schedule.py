"""Schedules: cron expressions in an IANA zone (Vixie cron DST rules) or fixed intervals.

Daylight saving, as Vixie cron does it:
- a job with a fixed hour whose wall time falls in the spring-forward gap
  fires once, right after the gap;
- a fixed-hour job whose wall time falls in the autumn overlap fires once
  (the first pass);
- a job with `*` or a step in the hour field fires at every real instant
  that matches: nothing in the gap, both passes of the overlap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterBadCronError, CroniterBadDateError

MIN_INTERVAL_S = 1.0
_FIELD = re.compile(r"^[0-9*,/\-A-Za-z?LW#]+$")


class ScheduleError(ValueError):
    """A schedule that cannot be accepted; `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError("timezone", f"unknown IANA time zone {name!r}") from exc


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes never reach schedule arithmetic")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class CronSchedule:
    expression: str
    timezone: str = "UTC"

    @staticmethod
    def parse(expression: str, timezone: str = "UTC") -> CronSchedule:
        expr = " ".join(expression.split())
        if "=" in expr or expr.upper().startswith(("TZ", "CRON_TZ")):
            raise ScheduleError("cron", "a time zone inside the expression is not allowed; use `timezone`")
        fields = expr.split(" ")
        if len(fields) != 5:
            raise ScheduleError(
                "cron", f"expected 5 fields (minute hour day month weekday), got {len(fields)}"
            )
        if not all(_FIELD.match(f) for f in fields) or not croniter.is_valid(expr):
            raise ScheduleError("cron", f"{expression!r} is not a valid cron expression")
        _zone(timezone)
        try:  # "0 0 30 2 *" parses but never fires
            croniter(expr, datetime(2000, 1, 1)).get_next(datetime)
        except (CroniterBadDateError, CroniterBadCronError) as exc:
            raise ScheduleError("cron", f"{expression!r} never fires") from exc
        return CronSchedule(expr, timezone)

    @property
    def fixed_hour(self) -> bool:
        hour = self.expression.split(" ")[1]
        return "*" not in hour and "/" not in hour

    def next_after(self, moment: datetime) -> datetime:
        """The first firing instant strictly after `moment` (aware, returned in UTC)."""
        after = _utc(moment)
        zone = _zone(self.timezone)
        local_after = after.astimezone(zone)
        candidate: datetime = _iterator(self.expression, local_after.replace(tzinfo=None)).get_next(datetime)
        simple = self._simple_instant(candidate, zone, local_after)
        if simple is not None and simple > after:
            return simple
        return self._careful_next(after, zone)

    def prev_at_or_before(self, moment: datetime) -> datetime | None:
        """The latest firing instant at or before `moment`."""
        at = _utc(moment)
        zone = _zone(self.timezone)
        local_at = at.astimezone(zone)
        it = _iterator(self.expression, local_at.replace(tzinfo=None) + timedelta(seconds=1))
        for _ in range(3):  # croniter works in whole seconds: step back past `at` if needed
            candidate: datetime = it.get_prev(datetime)
            simple = self._simple_instant(candidate, zone, local_at)
            if simple is None:
                break
            if simple <= at:
                return simple
        return self._careful_prev(at, zone)

    def _careful_prev(self, at: datetime, zone: ZoneInfo) -> datetime | None:
        """Walk back in wall time from a little after `at` (an overlap puts earlier
        instants at later walls), keeping the latest real instant at or before `at`."""
        wall = at.astimezone(zone).replace(tzinfo=None) + timedelta(hours=3)
        it = croniter(self.expression, wall)
        best: datetime | None = None
        for _ in range(100_000):
            try:
                candidate: datetime = it.get_prev(datetime)
            except CroniterBadDateError:
                return best
            for instant in self._instants(candidate, zone):
                if instant <= at and (best is None or instant > best):
                    best = instant
            latest = candidate.replace(tzinfo=zone, fold=1).astimezone(UTC)
            if best is not None and latest < best - timedelta(hours=3):
                return best
        return best

    def _simple_instant(self, wall: datetime, zone: ZoneInfo, reference: datetime) -> datetime | None:
        """The instant of `wall` when no daylight-saving change can be involved, else None."""
        first = wall.replace(tzinfo=zone, fold=0)
        second = wall.replace(tzinfo=zone, fold=1)
        if first.utcoffset() != second.utcoffset():
            return None
        instant = first.astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) != wall:
            return None
        if instant.astimezone(zone).utcoffset() != reference.utcoffset():
            return None  # an offset change lies between: take the careful path
        return instant

    def _careful_next(self, after: datetime, zone: ZoneInfo) -> datetime:
        # Start a little early in wall time: an overlap puts later instants at earlier walls.
        wall = after.astimezone(zone).replace(tzinfo=None) - timedelta(hours=3)
        it = croniter(self.expression, wall)  # its own iterator: next_after below reuses the cache
        best: datetime | None = None
        for _ in range(100_000):
            candidate: datetime = it.get_next(datetime)
            for instant in self._instants(candidate, zone):
                if instant > after and (best is None or instant < best):
                    best = instant
            earliest = candidate.replace(tzinfo=zone, fold=0).astimezone(UTC)
            if best is not None and earliest > best + timedelta(hours=3):
                return best
        if best is None:
            raise ScheduleError("cron", f"{self.expression!r} never fires")
        return best

    def _instants(self, wall: datetime, zone: ZoneInfo) -> list[datetime]:
        first = wall.replace(tzinfo=zone, fold=0)
        second = wall.replace(tzinfo=zone, fold=1)
        exists = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall
        if not exists:  # in a spring-forward gap
            return [_gap_end(wall, zone)] if self.fixed_hour else []
        ambiguous = first.utcoffset() != second.utcoffset()
        if ambiguous and not self.fixed_hour:
            return [first.astimezone(UTC), second.astimezone(UTC)]
        return [first.astimezone(UTC)]


_ITERATORS: dict[str, croniter] = {}


def _iterator(expression: str, start: datetime) -> croniter:
    """A croniter positioned at `start`; parsing an expression costs more than stepping it."""
    it = _ITERATORS.get(expression)
    if it is None:
        if len(_ITERATORS) > 4096:
            _ITERATORS.clear()
        it = _ITERATORS[expression] = croniter(expression, start)
    else:
        it.set_current(start, force=True)
    return it


def _gap_end(wall: datetime, zone: ZoneInfo) -> datetime:
    probe = wall.replace(second=0, microsecond=0)
    for _ in range(24 * 60):
        probe += timedelta(minutes=1)
        local = probe.replace(tzinfo=zone)
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == probe:
            return local.astimezone(UTC)
    raise ScheduleError("timezone", "a daylight-saving gap longer than a day")


MAX_INTERVAL_S = 366 * 86_400.0


@dataclass(frozen=True, slots=True)
class IntervalSchedule:
    interval_s: float
    anchor: datetime  # occurrences are anchor + k * interval

    @staticmethod
    def parse(interval_s: float, anchor: datetime) -> IntervalSchedule:
        if not MIN_INTERVAL_S <= interval_s <= MAX_INTERVAL_S:  # also refuses NaN and infinity
            raise ScheduleError(
                "interval_s", f"must be between {MIN_INTERVAL_S:g} s and {MAX_INTERVAL_S:g} s"
            )
        return IntervalSchedule(float(interval_s), _utc(anchor))

    # Integer microseconds: float steps would round 3.3 / 1.1 down to 2.
    @property
    def _step_us(self) -> int:
        return round(self.interval_s * 1_000_000)

    def _at(self, k: int) -> datetime:
        return self.anchor + timedelta(microseconds=k * self._step_us)

    def _k(self, moment: datetime) -> int:
        """Occurrences at or before `moment`, counted from the anchor (index of the last)."""
        delta = _utc(moment) - self.anchor
        delta_us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return delta_us // self._step_us

    def next_after(self, moment: datetime) -> datetime:
        if _utc(moment) < self.anchor:
            return self.anchor
        return self._at(self._k(moment) + 1)

    def count_between(self, first: datetime, last: datetime) -> int:
        """How many occurrences lie in [first, last], `first` being one."""
        if last < first:
            return 0
        return self._k(last) - self._k(first) + 1

    def latest_at_or_before(self, moment: datetime) -> datetime | None:
        if _utc(moment) < self.anchor:
            return None
        return self._at(self._k(moment))

    def due_between(self, first: datetime, now: datetime, keep: int) -> tuple[list[datetime], int]:
        """The last `keep` occurrences in [first, now] (ascending) and how many there are
        (`first` being one): index arithmetic, whatever the span."""
        if _utc(now) < self.anchor:
            return [], 0
        last = self._k(now)
        latest = self._at(last)
        if latest < first:
            return [], 0
        total = last - self._k(first) + 1
        return [self._at(k) for k in range(last - min(keep, total) + 1, last + 1)], total


Schedule = CronSchedule | IntervalSchedule
