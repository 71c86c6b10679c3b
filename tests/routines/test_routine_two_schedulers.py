"""Two real `missiond serve` processes on one database, both running their schedulers, fire a
per-second routine for ~18 s: every occurrence is fired exactly once and accounted for.

The action prints its parent's pid ($PPID is the server that ran it), which shows that both
schedulers were live and carrying out runs, not one of them idle.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from .routine_harness import http_history, unaccounted

WINDOW_S = 18.0


def wait_until_settled(client: Any, routine_id: str, timeout: float = 15.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        rows = http_history(client, routine_id)
        if all(r["status"] not in ("queued", "running") for r in rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


@pytest.mark.slow
def test_two_servers_on_one_database_fire_each_second_exactly_once(
    server_factory: Any, database_url: str
) -> None:
    one = server_factory(database_url).start()
    two = server_factory(database_url).start()
    with one.client() as client:
        created = client.post(
            "/v1/routines",
            json={
                "name": "heartbeat",
                "schedule": {"interval_s": 1},
                "misfire": {"policy": "run_once"},
                "overlap": "allow",
                "action": {"kind": "command", "shell": "echo $PPID"},
            },
        )
        assert created.status_code == 201, created.text
        routine_id = created.json()["id"]
        time.sleep(WINDOW_S)
        paused = client.post(f"/v1/routines/{routine_id}/pause")
        assert paused.status_code == 200, paused.text
        rows = wait_until_settled(client, routine_id)

    runs = [r for r in rows if r["status"] != "missed"]
    assert len(runs) >= WINDOW_S * 0.6, f"the routine fired about once a second: {len(runs)} runs"
    times = [r["scheduled_for"] for r in runs]
    assert len(times) == len(set(times)), "no scheduled_for twice"
    assert {r["trigger"] for r in runs} == {"scheduled"}
    assert [r for r in runs if r["status"] != "succeeded"] == []
    assert unaccounted(rows, 1.0) == {"twice": [], "never": [], "off_grid": [], "miscounted": []}
    ran_on = {int(r["detail"]["output_tail"]) for r in runs}
    assert one.proc is not None and two.proc is not None
    assert ran_on == {one.proc.pid, two.proc.pid}, "both servers' schedulers carried out runs"
