"""Fixtures of the task-board suite, each on SQLite and on PostgreSQL.

`system` is built in-process on a clock the test moves; `board` is its HTTP app
in-process without the background loops, so the lease sweeper runs only when a test calls
`system.leases.sweep()`. `module_board` is one such board per module and backend, shared
by the rows of a table.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from litestar.testing import TestClient

import missiond.api.app
from missiond.api.app import create_app
from missiond.bootstrap import System, build
from missiond.settings import Settings

from .board import Board, ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def system(database_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[System]:
    built = build(Settings.from_env(home=tmp_path / "home", database_url=database_url), clock=clock)
    yield built
    built.close()


@contextmanager
def without_background_loops() -> Iterator[None]:
    """The app's reactors (the lease sweeper among them) would reclaim leases on their own
    timer, racing the test's clock; here the test alone decides when the sweeper runs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(missiond.api.app, "start_reactors", lambda system: [])
        yield


@pytest.fixture
def board(system: System) -> Iterator[Board]:
    with without_background_loops(), TestClient(create_app(system)) as client:
        yield Board(client, system)


PG_BASE = os.environ.get("MISSIOND_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_admin(sql: str) -> None:
    with psycopg.connect(PG_BASE.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database per module and backend, for tables of refused requests: each row
    proves on its own that it changed nothing, so the rows can share one board."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('shared') / 'missiond.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_BASE else "?"
    yield f"{PG_BASE}{sep}options={quote(f'-csearch_path={schema}')}"
    _pg_admin(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="module")
def module_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def module_board(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory, module_clock: ManualClock
) -> Iterator[Board]:
    home = tmp_path_factory.mktemp("home")
    built = build(Settings.from_env(home=home, database_url=module_database_url), clock=module_clock)
    with without_background_loops(), TestClient(create_app(built)) as client:
        yield Board(client, built)
    built.close()
