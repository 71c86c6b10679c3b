"""Fixtures of the shared-resources suite, each on SQLite and on PostgreSQL.

`system` is the server built in-process with no background loops; `api` is the HTTP
app in-process (its reactors run); `clocked_system` runs on a clock the test moves.
`shared_api` is one in-process app per module and backend, for tables of refused
requests: each row proves on its own that it changed nothing.
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
from missiond.bootstrap import System, build
from missiond.settings import Settings

from .harness import Api, ManualClock


@pytest.fixture
def system(database_url: str, tmp_path: Path) -> Iterator[System]:
    built = build(Settings.from_env(home=tmp_path / "home", database_url=database_url))
    yield built
    built.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def clocked_system(database_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[System]:
    built = build(Settings.from_env(home=tmp_path / "home", database_url=database_url), clock=clock)
    yield built
    built.close()


@pytest.fixture
def api(system: System) -> Iterator[Api]:
    with TestClient(create_app(system)) as client:
        yield Api(client, system)


PG_BASE = os.environ.get("MISSIOND_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_admin(sql: str) -> None:
    with psycopg.connect(PG_BASE.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('shared') / 'missiond.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_BASE else "?"
    yield f"{PG_BASE}{sep}options={quote(f'-csearch_path={schema}')}"
    _pg_admin(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="module")
def shared_api(shared_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = tmp_path_factory.mktemp("shared-home")
    built = build(Settings.from_env(home=home, database_url=shared_database_url))
    with TestClient(create_app(built)) as client:
        yield Api(client, built)
    built.close()
