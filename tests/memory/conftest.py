"""Fixtures of the memory suite, each on SQLite and on PostgreSQL.

`mem` is a fresh in-process app per test on a clock the test moves; `shared` is one app
per module and backend for tables of requests that each prove their own point.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from litestar.testing import TestClient

from missiond.api.app import create_app
from missiond.bootstrap import build
from missiond.settings import Settings

from .harness import ManualClock, Mem

PG_BASE = os.environ.get("MISSIOND_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_admin(sql: str) -> None:
    with psycopg.connect(PG_BASE.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _app(database_url: str, home: Path, clock: ManualClock) -> Iterator[Mem]:
    built = build(Settings.from_env(home=home, database_url=database_url), clock=clock)
    try:
        with TestClient(create_app(built)) as client:
            yield Mem(client, built, clock)
    finally:
        built.close()


@pytest.fixture
def mem(database_url: str, tmp_path: Path) -> Iterator[Mem]:
    yield from _app(database_url, tmp_path / "home", ManualClock())


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('memory') / 'missiond.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_BASE else "?"
    yield f"{PG_BASE}{sep}options={quote(f'-csearch_path={schema}')}"
    _pg_admin(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="module")
def shared(shared_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mem]:
    yield from _app(shared_database_url, tmp_path_factory.mktemp("home"), ManualClock())
