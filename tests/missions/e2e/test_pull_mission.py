"""A mission worked end to end by real agent processes over the CLI pull protocol, against a
real server, on a real git workspace with a real test gate; and the same mission with the
server killed (SIGKILL) mid-mission and restarted on the same home.

Three items: item1 passes first time; item2 fails the gate, is reworked with the failure
output attached to its next task, then passes; item3 always fails and spends its rework
budget (1). The mission ends `failed` with item1 and item2 done.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .pull_agents import Agents, git_log, git_workspace, mission_spec, run_cli

pytestmark = pytest.mark.slow
FINISHED = ("succeeded", "failed", "cancelled", "halted")


def wait_for(check: Any, timeout: float, what: str, logs: Any = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except httpx.HTTPError:
            found = None
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{logs() if logs else ''}")


@dataclasses.dataclass
class Run:
    server: Any
    admin: str
    workspace: Path
    agents: Agents
    mission_id: str = ""

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, headers=self.server.headers(), timeout=10.0)

    def mission(self) -> dict[str, Any]:
        with self.client() as client:
            return dict(client.get(f"/v1/missions/{self.mission_id}").json())

    def events(self) -> list[dict[str, Any]]:
        with self.client() as client:
            answer = client.get(f"/v1/missions/{self.mission_id}/events", params={"limit": 5000})
            return list(answer.json()["items"])

    def diagnose(self) -> str:
        """What a timed-out wait prints: the mission, its last events and the agents' journal."""
        try:
            mission = json.dumps(self.mission(), indent=1)[-4000:]
            events = "\n".join(
                f"{e['seq']} {e['type']} {json.dumps(e['data'])[:200]}" for e in self.events()[-40:]
            )
        except httpx.HTTPError as exc:
            mission, events = f"server unreachable: {exc}", ""
        journal = "\n".join(json.dumps(e)[:300] for e in self.agents.entries() if e["event"] != "server-gone")
        return f"{mission}\n--- events\n{events}\n--- journal\n{journal}\n--- logs\n{self.agents.logs()}"

    def finished(self) -> dict[str, Any] | None:
        mission = self.mission()
        return mission if mission.get("status") in FINISHED else None


def begin(server: Any, tmp_path: Path) -> Run:
    admin = server.token
    tokens = {
        role: run_cli(server.url, admin, "agent", "add", f"{role}-1", "--role", role)["token"]
        for role in ("executor", "reviewer")
    }
    workspace = git_workspace(tmp_path / "repo")
    agents_dir = tmp_path / "agents"
    agents_dir.mkdir()
    run = Run(server, admin, workspace, Agents(agents_dir, workspace, server.url, tokens))
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(mission_spec(workspace)))
    created = run_cli(server.url, admin, "mission", "create", str(spec_file), "--start")
    assert created["status"] == "running"
    run.mission_id = created["id"]
    return run


def check_outcome(run: Run) -> None:
    mission = run.mission()
    items = {i["id"]: i for i in mission["items"]}
    assert mission["status"] == "failed", mission
    assert {k: v["status"] for k, v in items.items()} == {"item1": "done", "item2": "done", "item3": "failed"}
    assert [a["n"] for a in items["item1"]["attempts"]] == [1]
    assert [(a["n"], a["test"]) for a in items["item2"]["attempts"]] == [(1, "failed"), (2, "passed")]
    assert [(a["n"], a["test"]) for a in items["item3"]["attempts"]] == [(1, "failed"), (2, "failed")]
    assert "BROKEN: item2.txt" in items["item2"]["attempts"][0]["test_tail"]
    assert mission["reason"] == "work items not done: item3"

    # the failure output reached the next attempt's task, and the agent read it there
    claims = run.agents.entries("claimed")
    [second] = [c for c in claims if (c["item"], c["attempt"], c["role"]) == ("item2", 2, "executor")]
    assert any("BROKEN: item2.txt" in note for note in second["notes"]), second
    assert "BROKEN: item2.txt" in second["description"]
    [first] = [c for c in claims if (c["item"], c["attempt"], c["role"]) == ("item2", 1, "executor")]
    assert "BROKEN" not in first["description"]

    # every dispatch happened once, and each was answered by the role it was meant for
    events = run.events()
    dispatched = collections.Counter(
        (e["data"]["item_id"], e["data"]["attempt"], e["data"]["role"])
        for e in events
        if e["type"] == "work.dispatched"
    )
    assert dispatched == {
        (item, n, role): 1
        for item, attempts in (("item1", 1), ("item2", 2), ("item3", 2))
        for n in range(1, attempts + 1)
        for role in ("executor", "reviewer")
    }
    submitted = [e for e in events if e["type"] == "work.submitted"]
    assert all(e["actor"].startswith("agent:agt_") for e in submitted)
    assert [e["type"] for e in events].count("mission.failed") == 1

    # the workspace holds every attempt's commit, and the board no open task of the mission
    baseline, *commits = git_log(run.workspace)
    assert baseline == "baseline: the test gate"
    assert sorted(c.split(":")[0] for c in commits) == [
        "item1 attempt 1",
        "item2 attempt 1",
        "item2 attempt 2",
        "item3 attempt 1",
        "item3 attempt 2",
    ]
    assert (run.workspace / "item2.txt").read_text() == "ok\n"
    with run.client() as client:
        tasks = client.get("/v1/tasks", params={"mission": run.mission_id, "limit": 1000}).json()["items"]
    assert len(tasks) == 10
    assert {t["status"] for t in tasks} == {"completed"}


def test_agents_work_a_mission_over_the_cli_to_its_outcome(server_factory: Any, tmp_path: Path) -> None:
    server = server_factory().start()
    run = begin(server, tmp_path)
    run.agents.start()
    try:
        wait_for(run.finished, 90, "the mission to finish", run.diagnose)
    finally:
        run.agents.stop()
    check_outcome(run)


def test_a_server_killed_mid_mission_finishes_with_the_same_outcome_and_no_duplicate_dispatch(
    server_factory: Any, tmp_path: Path
) -> None:
    server = server_factory().start()
    run = begin(server, tmp_path)
    run.agents.start()
    restarted = None
    try:
        wait_for(
            lambda: any(e["type"] == "work.dispatched" for e in run.events()),
            30,
            "the first dispatch",
            run.agents.logs,
        )
        server.kill()
        assert run.agents.procs[0].poll() is None  # the agents keep going
        time.sleep(1.0)  # they find the server gone
        restarted = dataclasses.replace(server, proc=None).start()
        run.server = restarted
        wait_for(run.finished, 90, "the mission to finish after the restart", run.diagnose)
        run.agents.stop()
        check_outcome(run)
        assert run.agents.entries("server-gone"), (
            "the agents never saw the server gone: the kill came too late"
        )
    finally:
        run.agents.stop()
        if restarted is not None:
            restarted.stop()
