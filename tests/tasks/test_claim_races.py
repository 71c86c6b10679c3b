"""Agents racing for the ready queue never share a task: spawned processes against a real
server, and threads against the service layer, each on SQLite and on PostgreSQL."""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from collections import Counter
from typing import Any

import pytest

from missiond.bootstrap import System
from missiond.core.events import Event
from missiond.errors import MissiondError
from missiond.services.context import Principal, RequestContext

from .board import events_after
from .racers import TIMEOUT_S, claim_until_empty

TASKS = 60
RACERS = 6
ADMIN = RequestContext(principal=Principal(subject="user:admin", kind="admin", capabilities=frozenset({"*"})))


def plan(count: int) -> dict[str, Any]:
    return {
        "ops": [{"op": "create_task", "ref": f"t{i}", "task": {"title": f"task {i}"}} for i in range(count)]
    }


def check_each_claimed_once(
    task_ids: list[str], claims: dict[str, list[str]], claimed_events: list[dict[str, Any]]
) -> None:
    """`claims`: subject -> task ids it was granted; `claimed_events`: the spine's task.claimed data."""
    granted = [task for tasks in claims.values() for task in tasks]
    duplicates = [task for task, n in Counter(granted).items() if n > 1]
    assert duplicates == [], "a task was granted twice"
    assert sorted(granted) == sorted(task_ids), "every task was granted"
    assert Counter(e["task_id"] for e in claimed_events) == Counter(task_ids), "one task.claimed per task"
    holder = {task: subject for subject, tasks in claims.items() for task in tasks}
    assert all(e["holder"] == holder[e["task_id"]] for e in claimed_events)
    assert sum(1 for tasks in claims.values() if tasks) >= 2, "the racers really raced"


@pytest.mark.slow
def test_processes_racing_against_a_real_server_claim_every_task_exactly_once(
    server_factory: Any, database_url: str
) -> None:
    server = server_factory(database_url).start()
    with server.client() as admin:
        made = admin.post("/v1/batch", json=plan(TASKS))
        assert made.status_code == 200, made.text
        task_ids = list(made.json()["refs"].values())
        agents = [admin.post("/v1/agents", json={"name": f"racer-{i}"}).json() for i in range(RACERS)]

        spawn = multiprocessing.get_context("spawn")
        ready, results, go = spawn.Queue(), spawn.Queue(), spawn.Event()
        racers = [
            spawn.Process(
                target=claim_until_empty,
                args=(server.url, agent["token"], agent["agent"]["subject"], ready, go, results),
                daemon=True,
            )
            for agent in agents
        ]
        for racer in racers:
            racer.start()
        try:
            for _ in racers:
                ready.get(timeout=TIMEOUT_S)
            go.set()
            outcomes = [results.get(timeout=TIMEOUT_S) for _ in racers]
        finally:
            for racer in racers:
                racer.join(10)
                if racer.is_alive():
                    racer.kill()
        assert [(name, tb) for name, _c, _e, tb in outcomes if tb] == []
        assert [(name, errs) for name, _c, errs, _tb in outcomes if errs] == []

        events = admin.get("/v1/events", params={"type": "task.claimed", "limit": 1000}).json()["events"]
        check_each_claimed_once(
            task_ids, {name: claimed for name, claimed, _e, _tb in outcomes}, [e["data"] for e in events]
        )
        assert all(e["actor"] == e["data"]["holder"] for e in events)
        leased = admin.get("/v1/tasks", params={"status": "in_progress", "limit": 1000}).json()["items"]
        assert len(leased) == TASKS
        assert all(t["lease"]["fencing_token"] == 1 for t in leased)
        assert (
            admin.post(
                "/v1/tasks/claim", json={}, headers={"Authorization": f"Bearer {agents[0]['token']}"}
            ).status_code
            == 204
        )


def test_threads_racing_through_the_service_claim_every_task_exactly_once(system: System) -> None:
    made, _ = system.batch.run(ADMIN, plan(TASKS)["ops"])
    task_ids = list(made["refs"].values())
    contexts = []
    for i in range(RACERS):
        answer, _ = system.agents.create(ADMIN, f"racer-{i}", [], None)
        contexts.append(RequestContext(principal=system.auth.authenticate(f"Bearer {answer['token']}")))
    # Lockstep rounds: every racer passes the line, then all claim at once. Left free, one
    # thread can drain the board before the scheduler runs the others on a busy machine.
    line = threading.Barrier(RACERS)
    claims: dict[str, list[str]] = {ctx.actor: [] for ctx in contexts}
    failures: list[str] = []

    def race(ctx: RequestContext) -> None:
        try:
            for _ in range(TASKS // RACERS + 1):  # the last round finds the board empty
                line.wait(TIMEOUT_S)
                answer, _ = system.leases.claim(
                    ctx, task_id=None, role=None, labels=[], ttl_s=600, session_id=None
                )
                if answer is not None:
                    claims[ctx.actor].append(answer["task"]["id"])
        except BaseException:
            failures.append(traceback.format_exc())

    threads = [threading.Thread(target=race, args=(ctx,), name=ctx.actor) for ctx in contexts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S)
    assert not any(t.is_alive() for t in threads)
    assert failures == []
    events: list[Event] = events_after(system, 0, "task.claimed")
    check_each_claimed_once(task_ids, claims, [e.data for e in events])
    assert all(e.actor == e.data["holder"] for e in events)


def test_threads_racing_for_one_named_task_leave_exactly_one_holder(system: System) -> None:
    made, _ = system.batch.run(ADMIN, plan(1)["ops"])
    [task_id] = made["refs"].values()
    contexts = []
    for i in range(RACERS):
        answer, _ = system.agents.create(ADMIN, f"racer-{i}", [], None)
        contexts.append(RequestContext(principal=system.auth.authenticate(f"Bearer {answer['token']}")))
    start = threading.Barrier(RACERS)
    outcomes: dict[str, str] = {}

    def race(ctx: RequestContext) -> None:
        start.wait(TIMEOUT_S)
        try:
            system.leases.claim(ctx, task_id=task_id, role=None, labels=[], ttl_s=600, session_id=None)
            outcomes[ctx.actor] = "granted"
        except MissiondError as exc:
            outcomes[ctx.actor] = exc.code

    threads = [threading.Thread(target=race, args=(ctx,)) for ctx in contexts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S)
    assert sorted(outcomes.values()) == ["LEASE_HELD"] * (RACERS - 1) + ["granted"]
    [winner] = [actor for actor, outcome in outcomes.items() if outcome == "granted"]
    [claimed] = events_after(system, 0, "task.claimed")
    assert (claimed.data["task_id"], claimed.data["holder"], claimed.data["fencing_token"]) == (
        task_id,
        winner,
        1,
    )
