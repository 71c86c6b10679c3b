"""Capability tokens (fail-safe run defaults, tiers, expiry, agents) and promotion review."""

from __future__ import annotations

import pytest

from .harness import A, Mem, problem


def test_a_run_token_defaults_to_read_session_and_project_write_session_promote_nothing(mem: Mem) -> None:
    token = mem.mint(A)
    session_id = mem.put_id("note in session", token)
    project_id = mem.put_id("note in project", tier="project")
    team_id = mem.put_id("note in team", tier="team")

    assert problem(mem.put("x", token, tier="project"), 403, "MEMORY_TIER_FORBIDDEN")["tier"] == "project"
    assert mem.call("GET", f"/v1/memory/{project_id}", token).status_code == 200
    assert (
        problem(mem.call("GET", f"/v1/memory/{team_id}", token), 403, "MEMORY_TIER_FORBIDDEN")["tier"]
        == "team"
    )
    refused = mem.call("POST", f"/v1/memory/{session_id}/promote", token, json={"to": "project"})
    assert "'project'" in problem(refused, 403, "MEMORY_TIER_FORBIDDEN")["detail"]
    assert problem(mem.call("GET", "/v1/memory/audit", token), 403, "MEMORY_AUDIT_FORBIDDEN")
    found = mem.search("note", token).json()
    assert (found["tiers_used"], found["tiers_blocked"]) == (["session", "project"], ["team", "curated"])
    assert {h["memory"]["id"] for h in found["items"]} == {session_id, project_id}


def test_an_expired_token_gets_401(mem: Mem) -> None:
    token = mem.mint(A, ttl_s=60)
    memory_id = mem.put_id("short lived", token)
    mem.clock.advance(61)

    answer = mem.call("GET", f"/v1/memory/{memory_id}", token)

    assert answer.status_code == 401
    assert answer.json()["code"] in ("MEMORY_TOKEN_EXPIRED", "UNAUTHORIZED")


def test_an_agent_token_without_a_grant_is_refused_and_a_minted_agent_token_keeps_its_work(mem: Mem) -> None:
    created = mem.call("POST", "/v1/agents", json={"name": "builder", "roles": ["dev"]}).json()
    plain = created["token"]
    problem(mem.search("anything", plain), 403, "MEMORY_NO_GRANT")

    minted = mem.call("POST", "/v1/memory/tokens", json={"kind": "agent", "agent": "builder", "partition": A})
    assert minted.status_code == 201, minted.text
    token = minted.json()["token"]
    assert minted.json()["subject"] == f"agent:{created['agent']['id']}"
    assert mem.put("agent note", token).status_code == 201
    assert mem.call("GET", "/v1/tasks", token).status_code == 200  # the agent's board work still works


def test_only_the_admin_mints_memory_tokens(mem: Mem) -> None:
    token = mem.mint(A)
    before = mem.state()
    answer = mem.call(
        "POST", "/v1/memory/tokens", token, json={"kind": "run", "run_id": "r2", "partition": A}
    )
    assert answer.status_code == 403
    assert mem.state() == before


def _pending(mem: Mem, **grant: object) -> tuple[str, str, dict[str, object]]:
    token = mem.mint(
        A, promote_targets=["project", "curated"], read_tiers=["session", "project", "curated"], **grant
    )
    source = mem.put_id(
        "retry the webhook with exponential backoff, capped at 5 tries", token, kind="solution"
    )
    answer = mem.call(
        "POST", f"/v1/memory/{source}/promote", token, json={"to": "project", "note": "worked twice"}
    )
    assert answer.status_code == 202, answer.text
    return token, source, answer.json()


def test_a_promotion_waits_for_a_review_and_is_refused_until_a_person_approves(mem: Mem) -> None:
    token, source, pending = _pending(mem)
    assert pending["status"] == "pending_review" and pending["memory"] is None
    assert mem.search("webhook backoff", token, tiers="project").json()["items"] == []
    approval = mem.call("GET", f"/v1/approvals/{pending['approval_id']}").json()
    assert (approval["kind"], approval["status"]) == ("memory.promotion", "pending")

    decided = mem.call("POST", f"/v1/approvals/{pending['approval_id']}/approve", json={"reason": "useful"})

    assert decided.status_code == 200, decided.text
    [hit] = mem.search("webhook backoff", token, tiers="project").json()["items"]
    assert (hit["memory"]["source_memory_id"], hit["memory"]["reviewed_by"]) == (source, "user:admin")
    promoted = [a for a in mem.audit(action="promote") if a["outcome"] == "promoted"]
    assert [(a["actor"], a["detail"]["reviewer"], a["memory_id"]) for a in promoted] == [
        ("user:admin", "user:admin", source)
    ]
    assert [e.type for e in mem.events(prefix="memory.promot")] == [
        "memory.promotion_requested",
        "memory.promoted",
    ]


def test_a_denied_review_promotes_nothing_and_is_audited(mem: Mem) -> None:
    token, _source, pending = _pending(mem)

    mem.call("POST", f"/v1/approvals/{pending['approval_id']}/deny", json={"reason": "too specific"})

    assert mem.search("webhook backoff", token, tiers="project").json()["items"] == []
    assert [a["outcome"] for a in mem.audit(action="promote")] == ["rejected", "pending_review"]


def test_an_agent_cannot_approve_its_own_promotion(mem: Mem) -> None:
    _token, _source, pending = _pending(mem)
    agent = mem.call(
        "POST", "/v1/agents", json={"name": "sneaky", "capabilities": ["approvals:decide"]}
    ).json()

    answer = mem.call("POST", f"/v1/approvals/{pending['approval_id']}/approve", agent["token"], json={})

    assert answer.status_code == 403
    assert mem.call("GET", f"/v1/approvals/{pending['approval_id']}").json()["status"] == "pending"


@pytest.mark.parametrize(
    ("target", "status"), [("project", 201), ("curated", 202)], ids=["project", "curated"]
)
def test_a_waived_review_promotes_at_once_except_into_curated(mem: Mem, target: str, status: int) -> None:
    token = mem.mint(A, promote_targets=["project", "curated"], require_review_for_promote=False)
    source = mem.put_id("vacuum the sqlite file after bulk deletes", token)

    answer = mem.call("POST", f"/v1/memory/{source}/promote", token, json={"to": target})

    assert answer.status_code == status, answer.text


def test_session_records_expire_and_deleting_leaves_an_audit_trail(mem: Mem) -> None:
    token = mem.mint(A, ttl_s=30 * 24 * 3600)
    kept = mem.put_id("deleted by hand", token)
    short = mem.put_id("expires soon", token, ttl_s=60)

    assert mem.call("DELETE", f"/v1/memory/{kept}", token).status_code == 200
    mem.clock.advance(61)
    assert problem(mem.call("GET", f"/v1/memory/{short}", token), 404, "MEMORY_NOT_FOUND")
    mem.system.memory.sweep()  # the server's own sweeper (every 5 s) may have got there first
    assert mem.system.memory.sweep() == 0, "an expired record is swept exactly once"

    trail = {(a["action"], a["memory_id"], a["outcome"]) for a in mem.audit()}
    assert {("delete", kept, "deleted"), ("expire", short, "expired")} <= trail
    deleted = [e.data for e in mem.events(prefix="memory.deleted")]
    assert [(d["memory_id"], d["reason"]) for d in deleted] == [(kept, "deleted"), (short, "expired")]
    assert problem(mem.call("GET", f"/v1/memory/{kept}", token), 404, "MEMORY_NOT_FOUND")
