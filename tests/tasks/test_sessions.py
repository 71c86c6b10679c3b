"""Agent sessions: heartbeats keep a session and the leases taken under it alive; when an
agent crashes and its heartbeats stop, the sweeper closes the session and hands its tasks
back. In-process on a clock the test moves, and on a real server whose own sweeper acts."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from .board import Agent, Board, ManualClock, problem


def start_session(board: Board, agent: Agent, ttl_s: float) -> str:
    answer = board.post("/v1/sessions", {"ttl_s": ttl_s}, headers=agent.auth)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def claim_in(board: Board, agent: Agent, session: str | None, ttl_s: float) -> str:
    task = board.task("work")
    body: dict[str, Any] = {"ttl_s": ttl_s, **({"session_id": session} if session else {})}
    assert board.claim(agent, task["id"], **body)["lease"]["session_id"] == session
    return str(task["id"])


def test_heartbeats_keep_a_session_and_its_lease_alive_past_their_ttls(
    board: Board, clock: ManualClock
) -> None:
    agent = board.agent("alice")
    session = start_session(board, agent, ttl_s=10)
    task_id = claim_in(board, agent, session, ttl_s=15)
    lease_id = board.show(task_id)["lease"]["id"]
    for _ in range(12):  # a minute: four lease ttls, six session ttls
        clock.advance(5)
        beat = board.post(f"/v1/sessions/{session}/heartbeat", headers=agent.auth)
        assert beat.status_code == 200, beat.text
        assert beat.json()["leases_renewed"] == 1
        assert board.system.leases.sweep() == 0
    shown = board.show(task_id)
    assert (shown["status"], shown["lease"]["id"], shown["lease"]["fencing_token"]) == (
        "in_progress",
        lease_id,
        1,
    )
    assert (
        board.post(
            f"/v1/tasks/{task_id}/notes", {"kind": "note", "body": "still here"}, headers=agent.fenced(1)
        ).status_code
        == 201
    )
    assert board.events("agent.session_expired", "task.lease_expired") == []


def test_when_heartbeats_stop_the_sweeper_closes_the_session_and_reclaims_its_leases(
    board: Board, clock: ManualClock
) -> None:
    agent = board.agent("alice")
    session = start_session(board, agent, ttl_s=10)
    in_session = [claim_in(board, agent, session, ttl_s=60) for _ in range(2)]
    outside = claim_in(board, agent, None, ttl_s=60)
    clock.advance(9.9)
    assert board.system.leases.sweep() == 0
    clock.advance(0.2)
    assert board.system.leases.sweep() >= 1

    [closed] = board.events("agent.session_expired")
    assert (closed.actor, closed.data["session"]["id"], closed.data["session"]["end_reason"]) == (
        "system.leases",
        session,
        "expired",
    )
    reclaimed = board.events("task.lease_expired")
    assert sorted(e.data["task_id"] for e in reclaimed) == sorted(in_session)
    assert {(e.data["reason"], e.data["holder"]) for e in reclaimed} == {("session_expired", agent.subject)}
    assert all(e.data["held_for_s"] == pytest.approx(10.1) for e in reclaimed)
    for task_id in in_session:
        shown = board.show(task_id)
        assert (shown["status"], shown["ready"], shown["lease"]) == ("open", True, None)
    assert board.show(outside)["lease"]["holder"] == agent.subject, "a lease outside the session lives on"

    head = board.head()
    problem(board.post(f"/v1/sessions/{session}/heartbeat", headers=agent.auth), 409, "SESSION_EXPIRED")
    problem(
        board.post("/v1/tasks/claim", {"session_id": session}, headers=agent.auth), 409, "SESSION_EXPIRED"
    )
    stale = board.post(
        f"/v1/tasks/{in_session[0]}/notes", {"kind": "note", "body": "x"}, headers=agent.fenced(1)
    )
    problem(stale, 409, "LEASE_EXPIRED")
    assert board.head() == head


def test_a_heartbeat_after_the_session_expired_is_refused_even_before_the_sweep(
    board: Board, clock: ManualClock
) -> None:
    agent = board.agent("alice")
    session = start_session(board, agent, ttl_s=10)
    task_id = claim_in(board, agent, session, ttl_s=60)
    clock.advance(10)
    head = board.head()
    problem(board.post(f"/v1/sessions/{session}/heartbeat", headers=agent.auth), 409, "SESSION_EXPIRED")
    assert board.head() == head
    assert board.system.leases.sweep() >= 1, "the refused heartbeat did not revive the session"
    assert board.show(task_id)["status"] == "open"


def test_ending_a_session_hands_its_tasks_back(board: Board) -> None:
    agent = board.agent("alice")
    session = start_session(board, agent, ttl_s=60)
    task_id = claim_in(board, agent, session, ttl_s=60)
    ended = board.post(f"/v1/sessions/{session}/end", headers=agent.auth)
    assert ended.status_code == 200, ended.text
    assert ended.json()["end_reason"] == "ended"
    assert board.show(task_id)["ready"] is True
    [reclaimed] = board.events("task.lease_expired")
    assert reclaimed.data["reason"] == "session_ended"
    assert [e.data["session"]["id"] for e in board.events("agent.session_ended")] == [session]


def test_an_agent_cannot_claim_under_another_agents_session(board: Board) -> None:
    alice, bob = board.agent("alice"), board.agent("bob")
    session = start_session(board, alice, ttl_s=60)
    board.task("work")
    head = board.head()
    answer = board.post("/v1/tasks/claim", {"session_id": session}, headers=bob.auth)
    assert problem(answer, 400, "VALIDATION_FAILED")["errors"][0]["field"] == "body.session_id"
    assert board.head() == head


@pytest.mark.parametrize("action", ["heartbeat", "end"])
def test_an_agent_cannot_heartbeat_or_end_another_agents_session(board: Board, action: str) -> None:
    alice, bob = board.agent("alice"), board.agent("bob")
    session = start_session(board, alice, ttl_s=60)
    head = board.head()
    answer = board.post(f"/v1/sessions/{session}/{action}", headers=bob.auth)
    assert problem(answer, 404, "SESSION_NOT_FOUND")["session_id"] == session
    assert board.head() == head
    assert board.post(f"/v1/sessions/{session}/heartbeat", headers=alice.auth).status_code == 200


# -- a real server and its own sweeper ------------------------------------------------


def events_of(client: httpx.Client, kind: str) -> list[dict[str, Any]]:
    answer = client.get("/v1/events", params={"type": kind, "limit": 1000})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["events"])


@pytest.mark.slow
def test_a_real_servers_sweeper_reclaims_the_tasks_of_an_agent_that_stopped_heartbeating(
    server_factory: Any, database_url: str
) -> None:
    server = server_factory(database_url, env={"MISSIOND_LEASE_SWEEP_S": "0.2"}).start()
    with server.client() as admin:
        agents = {}
        for name in ("crashed", "alive"):
            made = admin.post("/v1/agents", json={"name": name}).json()
            agents[name] = {"Authorization": f"Bearer {made['token']}"}
        tasks, sessions = {}, {}
        for name, auth in agents.items():
            tasks[name] = admin.post("/v1/tasks", json={"title": f"{name}'s task"}).json()["id"]
            sessions[name] = admin.post("/v1/sessions", json={"ttl_s": 2}, headers=auth).json()["id"]
            claimed = admin.post(
                f"/v1/tasks/{tasks[name]}/claim",
                json={"ttl_s": 60, "session_id": sessions[name]},
                headers=auth,
            )
            assert claimed.status_code == 200, claimed.text
        started = time.monotonic()
        deadline = started + 20
        while admin.get(f"/v1/tasks/{tasks['crashed']}").json()["status"] != "open":
            assert time.monotonic() < deadline, "the server's sweeper never reclaimed the task"
            beat = admin.post(f"/v1/sessions/{sessions['alive']}/heartbeat", headers=agents["alive"])
            assert beat.status_code == 200, beat.text
            time.sleep(0.25)
        assert time.monotonic() - started >= 1.5, "reclaimed only after the session's ttl"

        assert admin.get(f"/v1/tasks/{tasks['crashed']}").json()["ready"] is True
        alive = admin.get(f"/v1/tasks/{tasks['alive']}").json()
        assert (alive["status"], alive["lease"]["fencing_token"]) == ("in_progress", 1)
        [closed] = events_of(admin, "agent.session_expired")
        assert (closed["actor"], closed["data"]["session"]["id"]) == ("system.leases", sessions["crashed"])
        [reclaimed] = events_of(admin, "task.lease_expired")
        assert (reclaimed["data"]["task_id"], reclaimed["data"]["reason"]) == (
            tasks["crashed"],
            "session_expired",
        )
        refused = admin.post(f"/v1/sessions/{sessions['crashed']}/heartbeat", headers=agents["crashed"])
        assert (refused.status_code, refused.json()["code"]) == (409, "SESSION_EXPIRED")
