"""Fixtures for the integration tests: a module-wide real server per backend (helpers live in wirekit.py)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import pytest

# ---------------------------------------------------------------- module-wide servers


def root_conftest(config: pytest.Config) -> ModuleType:
    """tests/conftest.py (ServerProcess, free_port, PG helpers), found among the loaded conftest plugins."""
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, ModuleType) and all(hasattr(plugin, n) for n in ("ServerProcess", "free_port")):
            return plugin
    raise RuntimeError("tests/conftest.py is not loaded")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def module_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real server shared by a module's cheap request/answer tests, on each backend."""
    root = root_conftest(request.config)
    home: Path = tmp_path_factory.mktemp("module-home")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{home / 'missiond.db'}"
    else:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with root._pg_admin_conn() as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in root.PG_BASE else "?"
        url = f"{root.PG_BASE}{sep}options={quote(f'-csearch_path={schema}')}"
    env = {**os.environ, "MISSIOND_SSE_PING_S": "15", "MISSIOND_HUB_POLL_S": "0.2"}
    env.pop("MISSIOND_URL", None)
    env.pop("MISSIOND_TOKEN", None)
    srv = root.ServerProcess(home=home, port=root.free_port(), database_url=url, env=env)
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
        if schema is not None:
            with root._pg_admin_conn() as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
