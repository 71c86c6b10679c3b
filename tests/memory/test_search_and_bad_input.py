# ruff: noqa: E501  (tables of requests read better one per line)
"""Ranked search (the most relevant record first, on both engines) and refused input."""

from __future__ import annotations

from typing import Any

import pytest

from .harness import A, Mem, problem

DOCS = {
    "pg-pool": ("solution", ["postgres", "pool"], "Raise the postgres connection pool to 20 when the test suite "
                "runs in parallel; the default pool starves and tests time out."),
    "sqlite-lock": ("pitfall", ["sqlite"], "SQLite reports database is locked when two writers start a "
                    "deferred transaction; use BEGIN IMMEDIATE."),
    "docker-cache": ("fact", ["docker", "ci"], "The CI docker layer cache is keyed on the lockfile hash, so "
                     "changing the lockfile rebuilds every image."),
    "flaky-timeout": ("note", ["flaky"], "A flaky timeout in the websocket test came from the event loop "
                      "being blocked by a synchronous DNS lookup."),
    "deploy-rollback": ("solution", ["deploy"], "Roll back a bad deploy with make rollback; it restores the "
                        "previous release and replays the migrations down."),
}  # fmt: skip

QUERIES = [
    ("postgres pool", "pg-pool"),
    ("database is locked", "sqlite-lock"),
    ("docker cache lockfile", "docker-cache"),
    ("flaky websocket timeout", "flaky-timeout"),
    ("rollback deploy", "deploy-rollback"),
    ("BEGIN IMMEDIATE", "sqlite-lock"),
    ("the deploys were rolled back", "deploy-rollback"),  # stemming: deploys, rolled
]


@pytest.fixture(scope="module")
def corpus(shared: Mem) -> dict[str, str]:
    ids = {}
    for name, (kind, tags, content) in DOCS.items():
        ids[name] = shared.put_id(content, kind=kind, tags=tags, tier="project", partition=A)
    return ids


@pytest.mark.parametrize(("query", "best"), QUERIES, ids=[q for q, _ in QUERIES])
def test_the_most_relevant_record_comes_first(
    shared: Mem, corpus: dict[str, str], query: str, best: str
) -> None:
    found = shared.search(query, tiers="project").json()

    assert found["items"][0]["memory"]["id"] == corpus[best]
    scores = [h["score"] for h in found["items"]]
    assert scores == sorted(scores, reverse=True)


def test_a_tag_match_outranks_a_single_mention_in_the_text(shared: Mem, corpus: dict[str, str]) -> None:
    found = shared.search("docker", tiers="project").json()
    assert found["items"][0]["memory"]["id"] == corpus["docker-cache"]


def test_search_reports_used_and_blocked_tiers_and_audits_without_the_query_secret(
    shared: Mem, corpus: Any
) -> None:
    token = shared.mint(A, run_id="ranker", read_tiers=["project"], read_audit=True)
    secret = "ghp_" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8"

    found = shared.search(f"postgres pool {secret}", token, tiers="session,project,curated").json()

    assert (found["tiers_used"], found["tiers_blocked"]) == (["project"], ["session", "curated"])
    [entry] = [a for a in shared.audit(action="search") if a["actor"] == "run:ranker"]
    assert secret not in str(entry) and "[REDACTED:github_token]" in entry["detail"]["query"]
    assert entry["detail"]["result_ids"] == [h["memory"]["id"] for h in found["items"]]


BAD = [
    ("empty-content", "POST", "/v1/memory", {"json": {"kind": "note", "content": "  ", "partition": A}}, 400, "VALIDATION_FAILED"),
    ("unknown-kind", "POST", "/v1/memory", {"json": {"kind": "gossip", "content": "x", "partition": A}}, 400, "VALIDATION_FAILED"),
    ("unknown-tier", "POST", "/v1/memory", {"json": {"kind": "note", "content": "x", "tier": "global", "partition": A}}, 400, "VALIDATION_FAILED"),
    ("bad-tag", "POST", "/v1/memory", {"json": {"kind": "note", "content": "x", "tags": ["Has Space"], "partition": A}}, 400, "VALIDATION_FAILED"),
    ("bad-slug", "POST", "/v1/memory", {"json": {"kind": "note", "content": "x", "partition": {**A, "org": "../etc"}}}, 400, "VALIDATION_FAILED"),
    ("admin-without-partition", "POST", "/v1/memory", {"json": {"kind": "note", "content": "x"}}, 400, "VALIDATION_FAILED"),
    ("extra-field", "POST", "/v1/memory", {"json": {"kind": "note", "content": "x", "partition": A, "owner": "me"}}, 400, "VALIDATION_FAILED"),
    ("wrong-type", "POST", "/v1/memory", {"json": {"kind": "note", "content": 5, "partition": A}}, 400, "VALIDATION_FAILED"),
    ("too-long", "POST", "/v1/memory", {"json": {"kind": "note", "content": "x" * 70_000, "partition": A}}, 400, "VALIDATION_FAILED"),
    ("stopwords-only", "GET", "/v1/memory/search", {"params": {"q": "the and of", **A}}, 400, "VALIDATION_FAILED"),
    ("unknown-search-tier", "GET", "/v1/memory/search", {"params": {"q": "x", "tiers": "galaxy", **A}}, 400, "VALIDATION_FAILED"),
    ("limit-too-big", "GET", "/v1/memory/search", {"params": {"q": "x", "limit": 1000, **A}}, 400, "VALIDATION_FAILED"),
    ("unknown-record", "GET", "/v1/memory/mem_nope", {}, 404, "MEMORY_NOT_FOUND"),
    ("promote-unknown-record", "POST", "/v1/memory/mem_nope/promote", {"json": {"to": "project"}}, 404, "MEMORY_NOT_FOUND"),
    ("promote-to-unknown-tier", "POST", "/v1/memory/mem_nope/promote", {"json": {"to": "cloud"}}, 400, "VALIDATION_FAILED"),
    ("delete-unknown-record", "DELETE", "/v1/memory/mem_nope", {}, 404, "MEMORY_NOT_FOUND"),
    ("token-promote-to-session", "POST", "/v1/memory/tokens", {"json": {"run_id": "r", "partition": A, "promote_targets": ["session"]}}, 400, "VALIDATION_FAILED"),
    ("token-without-run", "POST", "/v1/memory/tokens", {"json": {"partition": A}}, 400, "VALIDATION_FAILED"),
    ("token-unknown-agent", "POST", "/v1/memory/tokens", {"json": {"kind": "agent", "agent": "ghost", "partition": A}}, 404, "AGENT_NOT_FOUND"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "method", "path", "kwargs", "status", "code"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_problem_with_a_code_and_changes_nothing(
    shared: Mem, name: str, method: str, path: str, kwargs: dict[str, Any], status: int, code: str
) -> None:
    before = shared.state()
    problem(shared.call(method, path, **kwargs), status, code)
    assert shared.state() == before


def test_promoting_downward_is_refused_and_changes_nothing(shared: Mem) -> None:
    memory_id = shared.put_id("a project fact", tier="project")
    before = shared.state()
    problem(
        shared.call("POST", f"/v1/memory/{memory_id}/promote", json={"to": "session"}),
        400,
        "MEMORY_PROMOTION_NOT_UPWARD",
    )
    assert shared.state() == before


def test_a_blocked_direct_write_above_session_stores_nothing(shared: Mem) -> None:
    key = (
        "-----BEGIN EC PRIVATE KEY-----\n"
        + "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oaHXrVpPqLl0oAoGCCqGSM49" * 3
    )
    records_before = shared.state()[2]
    body = problem(shared.put(key, tier="project"), 422, "MEMORY_CONTENT_BLOCKED")
    assert body["scrub"]["counts"] == {"private_key": 1} and "MHcCAQ" not in str(body)
    assert shared.state()[2] == records_before
