"""When to try a request again, and how long to wait first.

Only idempotent calls are retried: GET, HEAD, OPTIONS, PUT and DELETE, and
POST or PATCH when they carry an `Idempotency-Key` (the server then answers a
repeat with the first answer). They are retried on transport errors and on
429, 502, 503 and 504, never on another 4xx.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import anyio

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# A Retry-After longer than this is not waited out: the error is raised instead.
MAX_RETRY_AFTER_S = 30.0


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter: attempt n waits about base * 2**n, at most cap."""

    base: float = 0.1
    cap: float = 2.0

    def delay(self, attempt: int) -> float:
        # The exponent is bounded so that hours of failed reconnects cannot overflow a float.
        ceiling = min(self.cap, self.base * 2.0 ** min(attempt, 32))
        # "Equal jitter": never less than half the ceiling, so waits still grow.
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def is_idempotent(method: str, headers: Mapping[str, str]) -> bool:
    method = method.upper()
    if method in IDEMPOTENT_METHODS:
        return True
    return any(name.lower() == "idempotency-key" for name in headers)


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse a `Retry-After` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def pause(seconds: float) -> None:
    """Sleep between attempts (a seam the tests replace)."""
    if seconds > 0:
        time.sleep(seconds)


async def apause(seconds: float) -> None:
    """Sleep between attempts, without blocking the event loop."""
    if seconds > 0:
        await anyio.sleep(seconds)
