"""Leases on a clock the test moves: claim, renew, reclaim by the sweeper, fencing tokens
that keep a holder who lost its lease from ever writing again, and release."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from .board import START, Agent, Board, ManualClock, problem, stamp

NOTE = {"kind": "attempt", "body": "tried the obvious fix"}


def lease_of(board: Board, agent: Agent, ttl_s: float = 30.0) -> tuple[str, dict[str, Any]]:
    """A fresh task claimed by `agent`: (task id, lease)."""
    task = board.task("lease me")
    claimed = board.claim(agent, task["id"], ttl_s=ttl_s)
    return task["id"], claimed["lease"]


def test_a_claim_grants_a_lease_with_fencing_token_one(board: Board) -> None:
    agent = board.agent("alice")
    task_id, lease = lease_of(board, agent, ttl_s=30)
    assert lease["fencing_token"] == 1
    assert lease["holder"] == agent.subject
    assert lease["expires_at"] == stamp(START + timedelta(seconds=30))
    shown = board.show(task_id)
    assert shown["status"] == "in_progress"
    assert shown["ready"] is False
    assert shown["lease"] == {
        "id": lease["id"],
        "holder": agent.subject,
        "fencing_token": 1,
        "expires_at": lease["expires_at"],
    }
    [claimed] = board.events("task.claimed")
    assert claimed.data["fencing_token"] == 1
    assert claimed.actor == agent.subject


def test_renewing_extends_the_expiry_from_now(board: Board, clock: ManualClock) -> None:
    agent = board.agent("alice")
    task_id, lease = lease_of(board, agent, ttl_s=30)
    clock.advance(20)
    renewed = board.post(f"/v1/leases/{lease['id']}/renew", {"ttl_s": 60}, headers=agent.fenced(1))
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["expires_at"] == stamp(START + timedelta(seconds=80))
    clock.advance(50)  # past the first expiry, before the renewed one
    assert board.system.leases.sweep() == 0
    assert board.show(task_id)["lease"]["expires_at"] == stamp(START + timedelta(seconds=80))


def test_the_sweeper_reclaims_an_expired_lease_and_says_who_held_it(board: Board, clock: ManualClock) -> None:
    agent = board.agent("alice")
    task_id, lease = lease_of(board, agent, ttl_s=30)
    clock.advance(29)
    assert board.system.leases.sweep() == 0, "a live lease is not reclaimed"
    clock.advance(2)
    assert board.system.leases.sweep() == 1
    shown = board.show(task_id)
    assert (shown["status"], shown["ready"], shown["lease"]) == ("open", True, None)
    assert [t["id"] for t in board.get("/v1/tasks/ready").json()["items"]] == [task_id]
    [expired] = board.events("task.lease_expired")
    assert expired.data["holder"] == agent.subject
    assert expired.data["held_for_s"] == pytest.approx(31.0)
    assert expired.data["reason"] == "expired"
    assert expired.actor == "system.leases"
    [note] = shown["notes"]
    assert agent.subject in note["body"]
    assert "31.0s" in note["body"]
    assert lease["id"] in note["body"]


@dataclass(frozen=True)
class Scene:
    """One board per module and backend: `stale` was claimed by alice and reclaimed by the
    sweeper (her token 1 is dead); `leased` is held by alice right now (token 1 is live)."""

    board: Board
    alice: Agent
    bob: Agent
    stale: str
    stale_lease: str
    leased: str
    leased_lease: str
    other: str


@pytest.fixture(scope="module")
def scene(module_board: Board, module_clock: ManualClock) -> Scene:
    board = module_board
    alice, bob = board.agent("alice"), board.agent("bob")
    stale, stale_lease = lease_of(board, alice, ttl_s=10)
    module_clock.advance(11)
    assert board.system.leases.sweep() == 1
    leased, leased_lease = lease_of(board, alice, ttl_s=3600)
    other = board.task("other")["id"]
    return Scene(board, alice, bob, stale, stale_lease["id"], leased, leased_lease["id"], other)


STALE_WRITES = [
    pytest.param("POST", "/v1/tasks/{task}/notes", NOTE, id="note"),
    pytest.param("POST", "/v1/tasks/{task}/complete", {"outcome": "fixed it"}, id="complete"),
    pytest.param("POST", "/v1/tasks/{task}/transition", {"status": "cancelled"}, id="transition"),
    pytest.param("POST", "/v1/tasks/{task}/steps", {"title": "write the test"}, id="step"),
    pytest.param("PATCH", "/v1/tasks/{task}", {"title": "renamed"}, id="edit"),
    pytest.param("POST", "/v1/tasks/{task}/links", {"kind": "relates_to", "other_id": "{other}"}, id="link"),
    pytest.param("POST", "/v1/leases/{lease}/renew", {}, id="renew"),
    pytest.param("POST", "/v1/leases/{lease}/release", {}, id="release"),
]


def send(
    scene: Scene, method: str, path: str, body: dict[str, Any], task: str, lease: str, headers: Any
) -> Any:
    payload = {k: (v.format(other=scene.other) if isinstance(v, str) else v) for k, v in body.items()}
    url = path.format(task=task, lease=lease)
    return scene.board.client.request(method, url, json=payload, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), STALE_WRITES)
def test_a_write_with_a_stale_fencing_token_after_reclaim_is_refused_and_changes_nothing(
    scene: Scene, method: str, path: str, body: dict[str, Any]
) -> None:
    board = scene.board
    before, head = board.show(scene.stale), board.head()
    answer = send(scene, method, path, body, scene.stale, scene.stale_lease, scene.alice.fenced(1))
    problem(answer, 409, "LEASE_EXPIRED")
    assert board.show(scene.stale) == before
    assert board.head() == head


HELD_WRITES = [
    *STALE_WRITES[:6],
    pytest.param("POST", "/v1/tasks/{task}/claim", {}, id="claim"),
]


@pytest.mark.parametrize(("method", "path", "body"), HELD_WRITES)
@pytest.mark.parametrize("who", ["another-agent", "admin", "holder-without-token"])
def test_a_write_to_a_leased_task_by_anyone_but_the_fenced_holder_is_lease_held(
    scene: Scene, who: str, method: str, path: str, body: dict[str, Any]
) -> None:
    board = scene.board
    headers = {"another-agent": scene.bob.auth, "admin": {}, "holder-without-token": scene.alice.auth}[who]
    before, head = board.show(scene.leased), board.head()
    answer = send(scene, method, path, body, scene.leased, scene.leased_lease, headers)
    assert problem(answer, 409, "LEASE_HELD")["holder"] == scene.alice.subject
    assert board.show(scene.leased) == before
    assert board.head() == head


@pytest.mark.parametrize(
    ("named_from", "kind"),
    [
        ("leased", "child_of"),
        ("other", "parent_of"),
        ("leased", "blocked_by"),
        ("other", "blocks"),
        ("leased", "blocks"),
        ("other", "blocked_by"),
    ],
    ids=[
        "leased-child-of-other",
        "other-parent-of-leased",
        "leased-blocked-by-other",
        "other-blocks-leased",
        "leased-blocks-other",
        "other-blocked-by-leased",
    ],
)
def test_a_link_that_changes_a_leased_task_is_lease_held_whichever_side_names_it(
    board: Board, named_from: str, kind: str
) -> None:
    alice, bob = board.agent("alice"), board.agent("bob")
    leased, _ = lease_of(board, alice)
    other = board.task("other")["id"]
    src, dst = (leased, other) if named_from == "leased" else (other, leased)
    before, head = board.show(leased), board.head()
    answer = board.post(f"/v1/tasks/{src}/links", {"kind": kind, "other_id": dst}, headers=bob.auth)
    assert problem(answer, 409, "LEASE_HELD")["holder"] == alice.subject
    assert board.show(leased) == before
    assert board.head() == head


def test_the_holder_with_its_fencing_token_may_write(board: Board) -> None:
    alice = board.agent("alice")
    task_id, _ = lease_of(board, alice)
    noted = board.post(f"/v1/tasks/{task_id}/notes", NOTE, headers=alice.fenced(1))
    assert noted.status_code == 201, noted.text
    in_body = board.post(f"/v1/tasks/{task_id}/steps", {"title": "s", "fencing_token": 1}, headers=alice.auth)
    assert in_body.status_code == 201, in_body.text
    done = board.complete(task_id, "fixed", headers=alice.fenced(1))
    assert (done["status"], done["lease"]) == ("completed", None)


def test_renewing_or_releasing_another_agents_lease_is_lease_held(board: Board) -> None:
    alice, bob = board.agent("alice"), board.agent("bob")
    task_id, lease = lease_of(board, alice)
    head = board.head()
    for action in ("renew", "release"):
        answer = board.post(f"/v1/leases/{lease['id']}/{action}", headers=bob.auth)
        assert problem(answer, 409, "LEASE_HELD")["holder"] == alice.subject
    problem(board.post("/v1/leases/lse_nope/renew", headers=alice.auth), 404, "LEASE_NOT_FOUND")
    assert board.head() == head
    assert board.show(task_id)["lease"]["holder"] == alice.subject


def test_an_admin_may_renew_and_release_an_agents_lease(board: Board) -> None:
    alice = board.agent("alice")
    task_id, lease = lease_of(board, alice)
    renewed = board.post(f"/v1/leases/{lease['id']}/renew")
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["holder"] == alice.subject
    released = board.post(f"/v1/leases/{lease['id']}/release")
    assert released.status_code == 200, released.text
    assert released.json()["lease"]["end_reason"] == "released"
    shown = board.show(task_id)
    assert (shown["status"], shown["lease"]) == ("open", None)


def test_releasing_returns_the_task_to_the_ready_queue(board: Board) -> None:
    alice = board.agent("alice")
    task_id, lease = lease_of(board, alice)
    released = board.post(
        f"/v1/leases/{lease['id']}/release", {"outcome": "ran out of ideas"}, headers=alice.fenced(1)
    )
    assert released.status_code == 200, released.text
    assert released.json()["lease"]["end_reason"] == "released"
    shown = board.show(task_id)
    assert (shown["status"], shown["ready"], shown["lease"]) == ("open", True, None)
    assert [n["kind"] for n in shown["notes"]] == ["attempt"]
    [event] = board.events("task.released")
    assert event.data["holder"] == alice.subject
    again = board.post(f"/v1/leases/{lease['id']}/renew", headers=alice.auth)
    problem(again, 409, "LEASE_EXPIRED")


@pytest.mark.parametrize("outcome", [None, "", "   "], ids=["missing", "empty", "blank"])
def test_releasing_as_complete_requires_an_outcome(board: Board, outcome: str | None) -> None:
    alice = board.agent("alice")
    task_id, lease = lease_of(board, alice)
    body: dict[str, Any] = {"complete": True}
    if outcome is not None:
        body["outcome"] = outcome
    before, head = board.show(task_id), board.head()
    answer = board.post(f"/v1/leases/{lease['id']}/release", body, headers=alice.fenced(1))
    assert problem(answer, 400, "VALIDATION_FAILED")["errors"][0]["field"] == "body.outcome"
    assert board.show(task_id) == before
    assert board.head() == head


def test_releasing_as_complete_with_an_outcome_completes_the_task(board: Board) -> None:
    alice = board.agent("alice")
    task_id, lease = lease_of(board, alice)
    answer = board.post(
        f"/v1/leases/{lease['id']}/release", {"complete": True, "outcome": "shipped"}, headers=alice.fenced(1)
    )
    assert answer.status_code == 200, answer.text
    shown = board.show(task_id)
    assert (shown["status"], shown["outcome"], shown["lease"]) == ("completed", "shipped", None)


@pytest.mark.parametrize("route", ["best", "named"])
def test_an_expired_lease_not_yet_swept_is_claimable(board: Board, clock: ManualClock, route: str) -> None:
    alice, bob = board.agent("alice"), board.agent("bob")
    task_id, _ = lease_of(board, alice, ttl_s=10)
    clock.advance(10)  # expiry is exclusive: at expires_at the lease is already gone
    path = "/v1/tasks/claim" if route == "best" else f"/v1/tasks/{task_id}/claim"
    answer = board.post(path, {"ttl_s": 60}, headers=bob.auth)
    assert answer.status_code == 200, answer.text
    assert answer.json()["task"]["id"] == task_id
    assert answer.json()["lease"]["fencing_token"] == 2
    assert answer.json()["lease"]["holder"] == bob.subject
    kinds = [e.type for e in board.events("task.lease_expired", "task.claimed")]
    assert kinds == ["task.claimed", "task.lease_expired", "task.claimed"]
    [expired] = board.events("task.lease_expired")
    assert (expired.data["holder"], expired.data["reason"]) == (alice.subject, "expired")
    assert board.system.leases.sweep() == 0, "nothing left to sweep"


@pytest.mark.parametrize(
    "path",
    [
        "sweep",
        "claim",
    ],
    ids=["by-the-sweeper", "on-the-claim-path"],
)
def test_the_reclaim_note_is_written_by_the_system(board: Board, clock: ManualClock, path: str) -> None:
    alice, bob = board.agent("alice"), board.agent("bob")
    task_id, _ = lease_of(board, alice, ttl_s=10)
    clock.advance(11)
    if path == "sweep":
        board.system.leases.sweep()
    else:
        board.claim(bob, task_id)
    [note] = board.show(task_id)["notes"]
    assert note["author"] == "system.leases"
    [added] = board.events("task.note_added")
    assert added.actor == "system.leases"


def test_renewing_an_expired_lease_before_the_sweep_is_refused(board: Board, clock: ManualClock) -> None:
    alice = board.agent("alice")
    task_id, lease = lease_of(board, alice, ttl_s=10)
    clock.advance(11)
    head = board.head()
    problem(board.post(f"/v1/leases/{lease['id']}/renew", headers=alice.fenced(1)), 409, "LEASE_EXPIRED")
    assert board.head() == head
    assert board.system.leases.sweep() == 1
    assert board.show(task_id)["status"] == "open"


def test_claiming_when_nothing_is_ready_answers_no_content(board: Board) -> None:
    alice = board.agent("alice")
    head = board.head()
    answer = board.post("/v1/tasks/claim", headers=alice.auth)
    assert answer.status_code == 204
    assert board.head() == head
