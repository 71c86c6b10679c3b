"""`missiond demo` from the venv, as a newcomer runs it: real server, agent processes, test gate."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

MISSIOND = Path(sys.executable).with_name("missiond")
OUTCOMES = (
    "greeting passes at once",
    "calc fails the real test gate",
    "notes waits for a human approval",
    "the mission succeeds",
    "agents are separate processes",
    "a routine fires with run-now",
)


def _run_demo(
    *args: str, timeout: float = 280, before: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIOND_")}
    env |= {"CI": "true", "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [str(MISSIOND), *before, "demo", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0); it has exited all the same.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" in status.read_text()


def test_the_demo_runs_the_golden_path_and_exits_zero() -> None:
    done = _run_demo()
    out = done.stdout
    assert done.returncode == 0, out[-4000:] + done.stderr[-4000:]
    assert "every expected outcome happened" in out
    for name in OUTCOMES:
        row = next((line for line in out.splitlines() if name in line), "")
        assert "✓" in row, f"{name!r} not ticked in:\n{out[-4000:]}"
    # The person's approval was shown before it was granted.
    assert out.index("APPROVAL WAITING") < out.index("granted")
    assert "/ui/" in out
    # Nothing is left running: the server and the agent processes are gone.
    server = re.search(r"server up at \S+ \(pid (\d+)", out)
    agents = [int(p) for p in re.findall(r"runs as pid (\d+)", out)]
    assert server is not None and len(agents) == 2
    for pid in (int(server.group(1)), *agents):
        assert _gone(pid), f"process {pid} still runs"


def test_the_demo_exits_non_zero_naming_what_did_not_happen() -> None:
    done = _run_demo("--timeout", "0.2", timeout=120)
    assert done.returncode == 1
    assert "not as expected" in done.stderr
    assert "the mission succeeds" in done.stderr
    assert "every expected outcome happened" not in done.stdout


def test_the_demo_reuses_the_server_running_for_a_home_and_leaves_it_running(server_factory: Any) -> None:
    server = server_factory()
    server.start()
    done = _run_demo(before=("--home", str(server.home)))
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert f"reusing the server at {server.url}" in done.stdout
    assert httpx.get(f"{server.url}/v1/health", timeout=5).status_code == 200
    missions = server.client().get("/v1/missions").json()
    assert missions["counts"] == {"succeeded": 1}
