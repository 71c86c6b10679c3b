"""Fixtures for the TUI tests: a real `missiond serve` process per module (SQLite, temp home),
an SDK client to make data with, and a factory for the app (helpers live in harness.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from missiond.sdk import Client
from missiond.tui import MissiondTUI
from missiond.tui.format import Formatter

from .harness import start_server


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real server for a module's tests; each test makes its own data."""
    srv = start_server(request.config, tmp_path_factory.mktemp("tui-home"))
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def sdk(server: Any) -> Iterator[Client]:
    with Client(server.url, server.token) as client:
        yield client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path


@pytest.fixture
def make_app(server: Any) -> Callable[..., MissiondTUI]:
    def make(**kwargs: Any) -> MissiondTUI:
        kwargs.setdefault("formatter", Formatter())
        return MissiondTUI(server.url, server.token, **kwargs)

    return make
