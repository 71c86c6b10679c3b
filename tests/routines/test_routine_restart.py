"""A real server is SIGKILLed and restarted ~3 s later: the misfire policy is applied to the
occurrences it slept through, and a run it was carrying out is failed as interrupted rather
than run twice.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .routine_harness import http_history, micros, unaccounted

DOWN_S = 3.0


def poll(what: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = what()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.fixture
def sleeper_pid_file(tmp_path: Path) -> Iterator[Path]:
    """Where the long command writes its pid; the orphan it leaves at the kill is ended here."""
    path = tmp_path / "sleeper.pid"
    yield path
    if path.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(path.read_text().strip()), signal.SIGKILL)


@pytest.mark.slow
def test_after_a_kill_and_restart_the_misfire_policy_is_applied_and_the_running_run_is_interrupted(
    server_factory: Any, database_url: str, sleeper_pid_file: Path
) -> None:
    server = server_factory(database_url).start()
    with server.client() as client:
        beat = client.post(
            "/v1/routines",
            json={
                "name": "heartbeat",
                "schedule": {"interval_s": 1},
                "misfire": {"policy": "run_once"},
                "overlap": "allow",
                "action": {"kind": "command", "argv": ["true"]},
            },
        ).json()
        slow = client.post(
            "/v1/routines",
            json={
                "name": "long job",
                "schedule": {"interval_s": 3600},
                "status": "paused",
                "action": {"kind": "command", "shell": f"echo $$ > {sleeper_pid_file}; exec sleep 30"},
            },
        ).json()
        long_run = client.post(f"/v1/routines/{slow['id']}/run-now").json()
        assert poll(lambda: sleeper_pid_file.exists() and sleeper_pid_file.read_text().strip())
        assert http_history(client, slow["id"])[0]["status"] == "running"
        assert poll(lambda: sum(r["status"] == "succeeded" for r in http_history(client, beat["id"])) >= 2)

    killed_at = time.time()
    server.kill()
    time.sleep(DOWN_S)
    server.start()

    with server.client() as client:

        def downtime_range() -> list[dict[str, Any]]:
            return [
                r
                for r in http_history(client, beat["id"])
                if r["status"] == "missed"
                and micros(r["scheduled_for"])
                <= (killed_at + 1.5) * 1e6
                <= micros(r["detail"]["last_missed"])
            ]

        [missed] = poll(downtime_range)
        after = micros(missed["detail"]["last_missed"]) + 1_000_000
        assert poll(
            lambda: any(
                micros(r["scheduled_for"]) > after and r["status"] == "succeeded"
                for r in http_history(client, beat["id"])
            )
        ), "the routine goes on firing after the restart"
        rows = http_history(client, beat["id"])
        interrupted = [r for r in http_history(client, slow["id"]) if r["id"] == long_run["id"]]

    assert missed["detail"]["reason"] == "misfire"
    assert missed["detail"]["count"] >= DOWN_S, "the whole downtime is one missed range"
    [restart_run] = [r for r in rows if r["status"] != "missed" and micros(r["scheduled_for"]) == after]
    assert restart_run["trigger"] == "scheduled", "run_once: one run for the downtime, the latest"
    assert [r for r in rows if r["status"] == "missed"] == [missed], "nothing else was missed"
    assert unaccounted(rows, 1.0) == {"twice": [], "never": [], "off_grid": [], "miscounted": []}

    [run] = interrupted
    assert run["status"] == "failed"
    assert "interrupted" in run["detail"]["error"]
    assert run["finished_at"] is not None
