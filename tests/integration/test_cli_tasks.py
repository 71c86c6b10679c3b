"""`missiond task ...` and `missiond agent ...` as real subprocesses against one real server (SQLite).

Each test works under its own role, so the shared server's ready queue holds
only that test's tasks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.slow

MISSIOND = Path(sys.executable).with_name("missiond")
COMMAND = [str(MISSIOND)] if MISSIOND.exists() else [sys.executable, "-m", "missiond"]
TIMEOUT_S = 60.0


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
    home: Path = tmp_path_factory.mktemp("tasks-home")
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

    def __init__(self, server: Any, cwd: Path, token: str) -> None:
        self.env = {
            **os.environ,
            "MISSIOND_URL": server.url,
            "MISSIOND_TOKEN": token,
            "MISSIOND_HOME": str(cwd / "client-home"),
        }
        for name in ("MISSIOND_TASK_ID", "MISSIOND_LEASE_ID", "MISSIOND_FENCING_TOKEN"):
            self.env.pop(name, None)
        self.cwd = cwd
        self.subject: str | None = None

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


@pytest.fixture(scope="module")
def admin(live: Any, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return Cli(live, tmp_path_factory.mktemp("admin"), live.token)


@pytest.fixture(scope="module")
def worker(live: Any, admin: Cli, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """An agent registered through `agent add`, speaking with its own token."""
    created = admin.ok("agent", "add", "worker", "--role", "dev")
    assert created["agent"]["name"] == "worker"
    assert created["token"]
    assert created["agent"]["subject"] in [a["subject"] for a in admin.ok("agent", "list")["items"]]
    cli = Cli(live, tmp_path_factory.mktemp("worker"), created["token"])
    cli.subject = created["agent"]["subject"]
    return cli


@pytest.fixture
def role() -> str:
    return f"r-{uuid.uuid4().hex[:10]}"


def ready_ids(cli: Cli, role: str) -> list[str]:
    return [t["id"] for t in cli.ok("task", "ready", "--role", role)["items"]]


def test_block_claim_done_unblocks_the_next_task(admin: Cli, worker: Cli, role: str) -> None:
    first = admin.ok("task", "create", "Design the schema", "--role", role, "--priority", "1")
    second = admin.ok("task", "create", "Write the migration", "--role", role)
    linked = admin.ok("task", "block", second["id"], "--by", first["id"])
    assert (linked["kind"], linked["other_id"]) == ("blocked_by", first["id"])

    assert ready_ids(admin, role) == [first["id"]]

    claimed = worker.ok("task", "claim", "--role", role, "--ttl", "60")
    assert claimed["task"]["id"] == first["id"]
    assert claimed["task"]["status"] == "in_progress"
    assert claimed["lease"]["holder"] == worker.subject
    fence = str(claimed["lease"]["fencing_token"])

    # Without the fencing token even the holder is refused, and nothing changes.
    refused = worker.run("task", "done", first["id"], "--outcome", "schema v1")
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: LEASE_HELD")

    done = worker.ok("task", "done", first["id"], "--outcome", "schema v1", "--fence", fence)
    assert (done["status"], done["outcome"]) == ("completed", "schema v1")
    assert ready_ids(admin, role) == [second["id"]]

    nothing = worker.run("--json", "task", "claim", "--role", f"{role}-none")
    assert (nothing.returncode, nothing.stdout.strip()) == (0, "null")


def test_work_completes_the_task_with_the_commands_output(admin: Cli, worker: Cli, role: str) -> None:
    created = admin.ok("task", "create", "Say ok", "--role", role)
    # A lease of 3 s outlives a 4 s command only if it is renewed (the sweeper runs every second).
    script = "import time; time.sleep(4); print('ok')"
    result = worker.run("task", "work", "--role", role, "--ttl", "3", "--", sys.executable, "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert f"missiond: claimed {created['id']}" in result.stderr
    shown = admin.ok("task", "show", created["id"])
    assert shown["status"] == "completed"
    assert "ok" in shown["outcome"]
    assert shown["lease"] is None


def test_work_that_fails_hands_the_task_back_with_an_attempt_note(admin: Cli, worker: Cli, role: str) -> None:
    created = admin.ok("task", "create", "Fail", "--role", role)
    script = "import sys; print('tried'); sys.exit(3)"
    result = worker.run("task", "work", created["id"], "--", sys.executable, "-c", script)
    assert result.returncode == 3, result.stderr
    shown = admin.ok("task", "show", created["id"])
    assert (shown["status"], shown["ready"], shown["lease"]) == ("open", True, None)
    attempts = [n for n in shown["notes"] if n["kind"] == "attempt"]
    assert len(attempts) == 1
    assert "exited 3" in attempts[0]["body"] and attempts[0]["body"].endswith("tried")
    assert ready_ids(admin, role) == [created["id"]]
