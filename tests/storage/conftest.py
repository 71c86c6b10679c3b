"""Storage fixtures: a migrated Store on each backend, with a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from missiond.storage import migrate
from missiond.storage.engine import make_engine
from missiond.storage.uow import Store

START = datetime(2026, 11, 21, 18, 26, 0, 123456, tzinfo=UTC)


class ManualClock:
    """Time that stands still until the test moves it."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(database_url: str, clock: ManualClock) -> Iterator[Store]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield Store(engine, clock=clock)
    engine.dispose()
