"""Autostart: with no server named and none listening, the CLI starts one for its home."""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_fakes import HEALTH, WHOAMI, FakeServer, Invoke

from missiond.cli import autostart
from missiond.cli.autostart import AutostartFailed, StartedServer, start_server

DEFAULT_URL = "http://127.0.0.1:8741"
STARTED_URL = "http://127.0.0.1:9999"


def nothing_listens_at_the_default_address(server: FakeServer) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.port == 8741:
            raise httpx.ConnectError("connection refused")
        return server(request)

    return handler


class StartRecorder:
    """Stands in for `start_server`: writes what a real server writes and says where it is."""

    def __init__(self, *, spawned: bool = True) -> None:
        self.homes: list[Path] = []
        self.spawned = spawned

    def __call__(self, home: Path, probe: autostart.Probe) -> StartedServer:
        self.homes.append(home)
        home.mkdir(parents=True, exist_ok=True)
        (home / "token").write_text("tok_from_new_server\n")
        (home / "server.json").write_text(json.dumps({"pid": 4321, "url": STARTED_URL}))
        assert probe(STARTED_URL)
        return StartedServer(STARTED_URL, 4321, spawned=self.spawned)


def test_the_cli_starts_a_server_when_none_listens_and_then_uses_it(invoke: Invoke, tmp_path: Path) -> None:
    server, starter = FakeServer(), StartRecorder()
    result = invoke(nothing_listens_at_the_default_address(server), "status", url=None, start_server=starter)
    assert result.exit_code == 0, result.output
    home = (tmp_path / ".missiond").resolve()
    assert starter.homes == [home]
    assert f"missiond: started a server for {home} at {STARTED_URL} (pid 4321)" in result.stderr
    assert json.loads(result.stdout) == {"url": STARTED_URL, "health": HEALTH, "whoami": WHOAMI}
    # The token file only exists once the server has started; it is read afterwards.
    assert server.sent("GET /v1/whoami")[0].headers["Authorization"] == "Bearer tok_from_new_server"


def test_the_home_option_names_the_home_to_start(invoke: Invoke, tmp_path: Path) -> None:
    starter = StartRecorder()
    handler = nothing_listens_at_the_default_address(FakeServer())
    invoke(handler, "--home", str(tmp_path / "h"), "status", url=None, start_server=starter)
    assert starter.homes == [(tmp_path / "h").resolve()]


def test_a_server_found_after_waiting_for_the_lock_is_used_without_a_notice(invoke: Invoke) -> None:
    handler = nothing_listens_at_the_default_address(FakeServer())
    result = invoke(handler, "status", url=None, start_server=StartRecorder(spawned=False))
    assert result.exit_code == 0, result.output
    assert "started a server" not in result.stderr


def test_a_listening_server_is_used_and_nothing_is_started(invoke: Invoke) -> None:
    result = invoke(FakeServer(), "status", url=None)  # the default start_server fails the test
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["url"] == DEFAULT_URL


def test_a_server_that_answers_with_an_error_is_not_replaced(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/health", httpx.Response(503, json={"code": "UNAVAILABLE"}))
    result = invoke(server, "status", url=None)
    assert result.exit_code == 1
    assert "UNAVAILABLE" in result.stderr


def test_no_autostart_exits_3_with_a_clear_message(invoke: Invoke) -> None:
    handler = nothing_listens_at_the_default_address(FakeServer())
    result = invoke(handler, "--no-autostart", "status", url=None)
    assert result.exit_code == 3
    assert "no missiond server answers at http://127.0.0.1:8741" in result.stderr
    assert "--no-autostart" in result.stderr


def test_a_named_url_that_does_not_answer_is_never_autostarted(invoke: Invoke) -> None:
    handler = nothing_listens_at_the_default_address(FakeServer())
    result = invoke(handler, "status", url=DEFAULT_URL)
    assert result.exit_code == 3


def test_missiond_url_in_the_environment_is_never_autostarted(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISSIOND_URL", DEFAULT_URL)
    result = invoke(nothing_listens_at_the_default_address(FakeServer()), "status", url=None)
    assert result.exit_code == 3


def test_a_failed_autostart_exits_3(invoke: Invoke) -> None:
    def failing(home: Path, probe: autostart.Probe) -> StartedServer:
        raise AutostartFailed("the server exited with status 1; see server.log")

    result = invoke(
        nothing_listens_at_the_default_address(FakeServer()), "status", url=None, start_server=failing
    )
    assert result.exit_code == 3
    assert "error: UNREACHABLE: the server exited with status 1" in result.stderr


class FakeProcess:
    """What `subprocess.Popen` returns, for a server that writes server.json when polled."""

    launched: list[tuple[list[str], dict[str, Any]]] = []

    def __init__(self, args: list[str], *, writes_after_polls: int = 1, exits_with: int | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        FakeProcess.launched.append((args, kwargs))
        self.pid = 4321
        self.returncode: int | None = None
        self.home = Path(args[args.index("--home") + 1])
        self.polls_left = writes_after_polls
        self.exits_with = exits_with

    def poll(self) -> int | None:
        self.polls_left -= 1
        if self.exits_with is not None:
            self.returncode = self.exits_with
        elif self.polls_left <= 0:
            (self.home / "server.json").write_text(json.dumps({"pid": self.pid, "url": STARTED_URL}))
        return self.returncode


@pytest.fixture
def popen(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace Popen; tests tune the next process through the returned options."""
    FakeProcess.launched = []
    options: dict[str, Any] = {}
    monkeypatch.setattr(autostart.subprocess, "Popen", lambda args, **kw: FakeProcess(args, **kw, **options))
    monkeypatch.setattr(autostart, "POLL_INTERVAL_S", 0.001)
    return options


def answers_at(url: str) -> autostart.Probe:
    return lambda candidate: candidate == url


def test_start_server_runs_missiond_serve_detached_with_its_output_in_the_log(
    tmp_path: Path, popen: dict[str, Any]
) -> None:
    home = tmp_path / "home"
    started = start_server(home, probe=answers_at(STARTED_URL), timeout=5)
    assert started == StartedServer(STARTED_URL, 4321, spawned=True)
    [(args, kwargs)] = FakeProcess.launched
    assert args == [sys.executable, "-m", "missiond", "serve", "--home", str(home)]
    assert kwargs["start_new_session"] is True
    assert kwargs["stdin"] is autostart.subprocess.DEVNULL
    assert Path(kwargs["stdout"].name) == home / "logs" / "server.log"
    assert kwargs["stderr"] is kwargs["stdout"]
    assert "a" in kwargs["stdout"].mode


def test_start_server_ignores_a_server_json_left_by_an_earlier_server(
    tmp_path: Path, popen: dict[str, Any]
) -> None:
    home = tmp_path
    stale = home / "server.json"
    stale.write_text(json.dumps({"pid": 1, "url": "http://127.0.0.1:1111"}))
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    popen["writes_after_polls"] = 3
    probes: list[str] = []

    def probe(url: str) -> bool:
        probes.append(url)
        # Dead when checked before the launch; afterwards something else answers at that
        # address, and a leftover server.json must still not be mistaken for the new server.
        return len(probes) > 1

    assert start_server(home, probe=probe, timeout=5).url == STARTED_URL
    assert probes == ["http://127.0.0.1:1111", STARTED_URL]


def test_start_server_uses_a_server_another_command_started_while_it_waited(
    tmp_path: Path, popen: dict[str, Any]
) -> None:
    (tmp_path / "server.json").write_text(json.dumps({"pid": 77, "url": STARTED_URL}))
    started = start_server(tmp_path, probe=answers_at(STARTED_URL), timeout=5)
    assert started == StartedServer(STARTED_URL, 77, spawned=False)
    assert FakeProcess.launched == []


def test_start_server_reports_a_server_that_exits_and_points_at_the_log(
    tmp_path: Path, popen: dict[str, Any]
) -> None:
    popen["exits_with"] = 1
    with pytest.raises(AutostartFailed, match=r"exited with status 1; see .*server\.log"):
        start_server(tmp_path, probe=answers_at(STARTED_URL), timeout=5)


def test_start_server_gives_up_when_the_server_never_answers(tmp_path: Path, popen: dict[str, Any]) -> None:
    with pytest.raises(AutostartFailed, match=r"did not answer within 0\.2 s"):
        start_server(tmp_path, probe=lambda url: False, timeout=0.2)


def test_start_server_waits_for_the_lock_and_gives_up_if_it_is_never_released(
    tmp_path: Path, popen: dict[str, Any]
) -> None:
    with (tmp_path / "autostart.lock").open("a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(AutostartFailed, match="another missiond command holds"):
            start_server(tmp_path, probe=answers_at(STARTED_URL), timeout=0.2)
    assert FakeProcess.launched == []
