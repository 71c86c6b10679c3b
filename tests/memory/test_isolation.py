"""A token bound to project A never sees, writes, promotes, searches, audits or deletes
project B, on every endpoint; each refusal is a 403 problem and changes nothing in B."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from .harness import A, B, Mem, problem

Call = Callable[[Mem, str, str], httpx.Response]

ENDPOINTS: dict[str, Call] = {
    "put": lambda m, tok, _id: m.call(
        "POST", "/v1/memory", tok, json={"kind": "note", "content": "x", "partition": B}
    ),
    "get": lambda m, tok, b_id: m.call("GET", f"/v1/memory/{b_id}", tok),
    "promote": lambda m, tok, b_id: m.call("POST", f"/v1/memory/{b_id}/promote", tok, json={"to": "project"}),
    "search": lambda m, tok, _id: m.call("GET", "/v1/memory/search", tok, params={"q": "rollback", **B}),
    "audit": lambda m, tok, _id: m.call("GET", "/v1/memory/audit", tok, params=B),
    "delete": lambda m, tok, b_id: m.call("DELETE", f"/v1/memory/{b_id}", tok),
}


def _b_state(m: Mem) -> tuple[Any, ...]:
    records = m.search("rollback", tiers="session,project").json()  # admin, partition A by default
    b_records = m.call("GET", "/v1/memory/search", params={"q": "rollback", **B}).json()
    return (
        [h["memory"]["id"] for h in records["items"]],
        [h["memory"]["id"] for h in b_records["items"]],
        [(a["action"], a["outcome"]) for a in m.audit(B) if a["action"] != "search"],
    )


@pytest.mark.parametrize("endpoint", list(ENDPOINTS), ids=list(ENDPOINTS))
def test_a_token_for_project_a_is_refused_project_b(shared: Mem, endpoint: str) -> None:
    token = shared.mint(A, run_id=f"iso-{endpoint}", read_tiers=["session", "project", "team", "curated"],
                        write_tiers=["session", "project"], promote_targets=["project", "team"],
                        require_review_for_promote=False, read_audit=True)  # fmt: skip
    b_id = shared.put_id("rollback the blue deploy with make rollback", partition=B, kind="solution")
    before = _b_state(shared)

    body = problem(ENDPOINTS[endpoint](shared, token, b_id), 403, "MEMORY_PARTITION_FORBIDDEN")

    assert "beta" not in body["detail"] or endpoint in (
        "put",
        "search",
        "audit",
    )  # a record's own partition stays hidden
    assert "rollback the blue" not in str(body)
    assert _b_state(shared) == before
    denied = [a for a in shared.audit(A) if a["actor"] == f"run:iso-{endpoint}" and a["outcome"] == "denied"]
    assert [a["detail"]["code"] for a in denied] == ["MEMORY_PARTITION_FORBIDDEN"]


def test_search_without_naming_a_partition_stays_inside_the_tokens_own(shared: Mem) -> None:
    token = shared.mint(A, run_id="iso-search")
    shared.put_id("zebra crossing fixture for project beta only", partition=B)
    mine = shared.put_id("zebra crossing fixture for project alpha", token)

    found = shared.search("zebra crossing", token).json()

    assert [h["memory"]["id"] for h in found["items"]] == [mine]
    assert found["partition"] == A


def test_the_same_words_in_two_projects_never_mix_for_the_admin_either(shared: Mem) -> None:
    a_id = shared.put_id("quokka migration lock order", partition=A)
    b_id = shared.put_id("quokka migration lock order", partition=B)

    in_a = shared.search("quokka").json()
    in_b = shared.call("GET", "/v1/memory/search", params={"q": "quokka", **B}).json()

    assert [h["memory"]["id"] for h in in_a["items"]] == [a_id]
    assert [h["memory"]["id"] for h in in_b["items"]] == [b_id]
