"""Fixtures for CLI tests: a fake server behind httpx.MockTransport, no real sleeping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from missiond.cli.app import CliDeps
from missiond.cli.main import cli
from missiond.sdk import retry


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MISSIOND_URL", "MISSIOND_TOKEN", "MISSIOND_HOME", "MISSIOND_HOST", "MISSIOND_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(retry, "pause", lambda seconds: None)


def _no_autostart(home: Path, probe: Any) -> Any:
    raise AssertionError(f"the CLI tried to start a server for {home}")


@pytest.fixture
def invoke() -> Iterator[Callable[..., Result]]:
    """Run the CLI against a handler: `invoke(handler, *args, input=None, start_server=None)`.

    The URL defaults to http://test (named, so nothing is autostarted) unless
    `url=None` is passed. `spawn` and `clock` replace how `task work` runs its
    command and paces renewals; `local_zone` is the zone people's times show in.
    """

    def run(
        handler: Callable[[httpx.Request], httpx.Response] | None,
        *args: str,
        input: str | None = None,
        start_server: Callable[..., Any] | None = None,
        url: str | None = "http://test",
        spawn: Any = None,
        clock: Any = None,
        local_zone: Any = None,
    ) -> Result:
        seams: dict[str, Any] = {"spawn": spawn, "clock": clock, "local_zone": local_zone}
        deps = CliDeps(
            transport=httpx.MockTransport(handler) if handler else None,
            start_server=start_server or _no_autostart,
            **{name: seam for name, seam in seams.items() if seam is not None},
        )
        argv = (["--url", url] if url else []) + list(args)
        return CliRunner().invoke(cli, argv, obj=deps, input=input)

    yield run
