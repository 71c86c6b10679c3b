"""`missiond routine ...` and `missiond approval ...` as real subprocesses against one real server (SQLite).

The server's own scheduler fires the routines and runs their actions; the
tests only watch the history through the CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.slow

MISSIOND = Path(sys.executable).with_name("missiond")
COMMAND = [str(MISSIOND)] if MISSIOND.exists() else [sys.executable, "-m", "missiond"]
TIMEOUT_S = 60.0
POLL_S = 10.0


def _root_conftest(config: pytest.Config) -> ModuleType:
    """tests/conftest.py (ServerProcess, free_port), found among the loaded conftest plugins."""
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, ModuleType) and all(hasattr(plugin, n) for n in ("ServerProcess", "free_port")):
            return plugin
    raise RuntimeError("tests/conftest.py is not loaded")


@pytest.fixture(scope="module")
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real server for the module (what `server_factory` starts, kept for every test here)."""
    root = _root_conftest(request.config)
    home: Path = tmp_path_factory.mktemp("routines-home")
    env = {**os.environ, "MISSIOND_SSE_PING_S": "15", "MISSIOND_HUB_POLL_S": "0.2"}
    env.pop("MISSIOND_URL", None)
    env.pop("MISSIOND_TOKEN", None)
    server = root.ServerProcess(
        home=home, port=root.free_port(), database_url=f"sqlite:///{home / 'missiond.db'}", env=env
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


class Cli:
    """Runs `missiond` with MISSIOND_URL and MISSIOND_TOKEN pointing at the server."""

    def __init__(self, server: Any, cwd: Path) -> None:
        self.env = {
            **os.environ,
            "MISSIOND_URL": server.url,
            "MISSIOND_TOKEN": server.token,
            "MISSIOND_HOME": str(cwd / "client-home"),
            "TZ": "America/New_York",
        }
        self.cwd = cwd

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*COMMAND, *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.cwd,
            timeout=TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )

    def ok(self, *args: str) -> Any:
        """Run a command that must succeed; its stdout as JSON."""
        result = self.run("--json", *args)
        assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stderr}"
        return json.loads(result.stdout)

    def history(self, routine_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.ok("routine", "history", routine_id)["items"]
        return items

    def wait_for_run(self, routine_id: str, found: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Poll the history (at most POLL_S) until a run matches."""
        deadline = time.monotonic() + POLL_S
        while True:
            runs = self.history(routine_id)
            match = next((run for run in runs if found(run)), None)
            if match is not None:
                return match
            assert time.monotonic() < deadline, f"no matching run of {routine_id} in {runs}"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def cli(live: Any, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return Cli(live, tmp_path_factory.mktemp("admin"))


def test_an_interval_command_runs_pauses_resumes_and_runs_now(cli: Cli) -> None:
    routine = cli.ok("routine", "add", "tick", "--every", "1", "--command", "echo hi")
    rid = routine["id"]
    assert (routine["status"], routine["schedule"], routine["action_class"]) == (
        "active",
        {"interval_s": 1.0},
        "internal",
    )
    assert routine["action"]["argv"] == ["sh", "-c", "echo hi"]
    try:
        ran = cli.wait_for_run(rid, lambda run: run["status"] == "succeeded")
        assert ran["trigger"] in ("scheduled", "catch_up")
        assert (ran["detail"]["exit_code"], ran["detail"]["output_tail"]) == (0, "hi\n")

        paused = cli.ok("routine", "pause", rid)
        assert (paused["status"], paused["next_fire_at"]) == ("paused", None)
        # Paused, the last result stops moving once a run already started finishes; the
        # people's view must then show it (while active, a newer run may be queued by then).
        deadline = time.monotonic() + POLL_S
        while (last := cli.ok("routine", "show", rid)["last_run"]["status"]) in ("queued", "running"):
            assert time.monotonic() < deadline, "the last run never finished"
            time.sleep(0.2)
        assert last in ("succeeded", "skipped_overlap")
        people = cli.run("--no-json", "routine", "show", rid)
        assert people.returncode == 0, people.stderr
        assert "every 1 s" in people.stdout and "local)" in people.stdout
        assert last in people.stdout
        assert "EXTERNAL" not in people.stdout
        time.sleep(1.5)  # occurrences pass while paused
        resumed = cli.ok("routine", "resume", rid)
        assert resumed["status"] == "active" and resumed["next_fire_at"]
        missed = cli.wait_for_run(rid, lambda run: run["status"] == "missed")
        assert missed["detail"]["reason"] == "paused"

        manual = cli.ok("routine", "run-now", rid)
        assert (manual["routine_id"], manual["trigger"], manual["status"]) == (rid, "manual", "queued")
        done = cli.wait_for_run(rid, lambda run: run["id"] == manual["id"] and run["status"] == "succeeded")
        assert done["detail"]["output_tail"] == "hi\n"
    finally:
        assert cli.ok("routine", "rm", rid) == {"id": rid, "deleted": True}
    gone = cli.run("routine", "show", rid)
    assert gone.returncode == 1
    assert gone.stderr.startswith("error: ROUTINE_NOT_FOUND: ")


def test_an_external_action_without_permission_is_blocked_by_policy(cli: Cli) -> None:
    routine = cli.ok("routine", "add", "hook", "--every", "3600", "--http-post", "http://127.0.0.1:9/hook")
    rid = routine["id"]
    assert (routine["action_class"], routine["external_allowed"]) == ("external", False)

    blocked = cli.run("routine", "run-now", rid)
    assert blocked.returncode == 1
    assert blocked.stdout == ""
    assert blocked.stderr.splitlines()[0].startswith(f"error: POLICY_BLOCKED: routine {rid}: ")

    [run] = cli.history(rid)
    assert (run["status"], run["trigger"]) == ("blocked_policy", "manual")
    assert (run["detail"]["policy"], run["detail"]["action_class"]) == ("blocked_policy", "external")

    shown = cli.run("--no-json", "routine", "show", rid)
    assert "EXTERNAL" in shown.stdout and "runs are blocked" in shown.stdout
    listed = cli.run("--no-json", "routine", "list")
    assert any("EXTERNAL" in line for line in listed.stdout.splitlines() if rid in line)
    cli.ok("routine", "rm", rid)


def test_a_routine_that_needs_approval_runs_once_approved_and_not_once_denied(cli: Cli) -> None:
    routine = cli.ok(
        "routine", "add", "triage", "--every", "3600", "--approval", "--task-title", "Weekly triage"
    )
    rid = routine["id"]
    assert routine["requires_approval"] is True

    waiting = cli.ok("routine", "run-now", rid)
    assert waiting["status"] == "pending_approval" and waiting["approval_id"]
    pending = cli.ok("approval", "list")["items"]
    [asked] = [a for a in pending if a["id"] == waiting["approval_id"]]
    assert asked["status"] == "pending"
    assert (asked["payload"]["routine_id"], asked["payload"]["run_id"]) == (rid, waiting["id"])

    approved = cli.ok("approval", "approve", asked["id"], "--reason", "go")
    assert (approved["status"], approved["reason"]) == ("approved", "go")
    done = cli.wait_for_run(rid, lambda run: run["id"] == waiting["id"] and run["status"] == "succeeded")
    task_id = done["detail"]["task_id"]
    assert cli.ok("task", "show", task_id)["title"] == "Weekly triage"

    second = cli.ok("routine", "run-now", rid)
    denied = cli.ok("approval", "deny", second["approval_id"], "--reason", "not this week")
    assert denied["status"] == "denied"
    [run] = [run for run in cli.history(rid) if run["id"] == second["id"]]
    assert run["status"] == "denied" and run["detail"]["reason"] == "not this week"
    assert second["approval_id"] not in [a["id"] for a in cli.ok("approval", "list")["items"]]
    assert second["approval_id"] in [
        a["id"] for a in cli.ok("approval", "list", "--status", "denied")["items"]
    ]
    cli.ok("routine", "rm", rid)
