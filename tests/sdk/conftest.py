"""Fixtures for SDK tests: no real server, no real sleeping, no stray env."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sdk_fakes import Recorder

from missiond.sdk import Client, retry


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("MISSIOND_URL", "MISSIOND_TOKEN", "MISSIOND_HOME", "MISSIOND_HOST", "MISSIOND_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every pause the SDK takes between attempts, recorded instead of slept."""
    recorded: list[float] = []

    async def apause(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(retry, "pause", recorded.append)
    monkeypatch.setattr(retry, "apause", apause)
    return recorded


@pytest.fixture
def connect() -> Iterator[Callable[..., Client]]:
    """Make a `Client` for a fake server (a `Recorder`); closed after the test."""
    clients: list[Client] = []

    def make(server: Recorder, token: str | None = None, **kwargs: Any) -> Client:
        client = Client("http://test", token, transport=server.transport, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
