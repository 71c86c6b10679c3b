"""The SDK speaks the task-board contract of TASK_BOARD.md (request shapes, fencing, answers, errors)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from sdk_fakes import Connect, Recorder, agent, claim, envelope, lease, problem, session, task, task_view

from missiond import sdk
from missiond.sdk import Claim, Task


def ok(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def body_of(request: httpx.Request) -> object:
    return json.loads(request.content)


# -- tasks ------------------------------------------------------------------------------


def test_create_task_posts_the_title_and_fields_with_an_idempotency_key(connect: Connect) -> None:
    server = Recorder(ok(task_view(priority=0), 201))
    created = connect(server, "tok").create_task(
        "Write the parser", priority=0, labels=("backend", "p0"), role="dev", parent_id=None
    )
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/tasks")
    assert body_of(request) == {
        "title": "Write the parser",
        "priority": 0,
        "labels": ["backend", "p0"],
        "role": "dev",
    }
    assert request.headers["Idempotency-Key"]
    assert request.headers["Authorization"] == "Bearer tok"
    assert (created.id, created.priority, created.status, created.ready) == ("tsk_1", 0, "open", True)
    assert created.created_at == datetime(2026, 11, 21, 18, 26, 0, 123456, tzinfo=UTC)
    assert created.raw["priority"] == 0


def test_create_task_uses_the_given_idempotency_key(connect: Connect) -> None:
    server = Recorder(ok(task_view(), 201))
    connect(server).create_task("x", idempotency_key="k1")
    assert server.requests[0].headers["Idempotency-Key"] == "k1"


def test_get_task_reads_the_single_task_view_with_its_lease(connect: Connect) -> None:
    view = task_view(
        status="in_progress",
        lease={
            "id": "lse_1",
            "holder": "agent:agt_1",
            "fencing_token": 4,
            "expires_at": "2026-11-21T18:27:00Z",
        },
        notes=[{"id": "nte_1", "kind": "decision", "body": "use a queue"}],
        steps={
            "items": [{"id": "stp_1", "title": "a", "status": "done"}],
            "done": 1,
            "skipped": 0,
            "total": 1,
        },
    )
    view["relationships"]["blocked_by"] = ["tsk_0"]
    server = Recorder(ok(view))
    shown = connect(server).get_task("tsk_1")
    assert server.requests[0].url.path == "/v1/tasks/tsk_1"
    assert shown.lease is not None
    assert (shown.lease.id, shown.lease.task_id, shown.lease.fencing_token) == ("lse_1", "tsk_1", 4)
    assert shown.lease.ttl_s is None and shown.lease.acquired_at is None
    assert shown.relationships["blocked_by"] == ("tsk_0",)
    assert shown.notes[0]["kind"] == "decision"
    assert shown.steps[0]["id"] == "stp_1"


def test_a_listed_task_has_no_view_parts() -> None:
    listed = Task.from_json(task())
    assert (listed.relationships, listed.notes, listed.steps, listed.lease) == ({}, (), (), None)


def test_a_task_without_an_id_is_a_protocol_error() -> None:
    broken = task()
    del broken["id"]
    with pytest.raises(sdk.ProtocolError):
        Task.from_json(broken)


def test_a_missing_task_raises_task_not_found(connect: Connect) -> None:
    server = Recorder(problem(404, "TASK_NOT_FOUND", "no task 'tsk_9'", task_id="tsk_9"))
    with pytest.raises(sdk.TaskNotFound) as caught:
        connect(server).get_task("tsk_9")
    assert isinstance(caught.value, sdk.NotFound)
    assert caught.value.task_id == "tsk_9"


def test_update_task_sends_only_the_changes_with_fencing_and_if_match(connect: Connect) -> None:
    server = Recorder(ok(task_view(rev=5)))
    updated = connect(server).update_task("tsk_1", fencing_token=3, if_rev=4, title="New", role=None)
    request = server.requests[0]
    assert (request.method, request.url.path) == ("PATCH", "/v1/tasks/tsk_1")
    assert body_of(request) == {"title": "New", "role": None}
    assert request.headers["X-Fencing-Token"] == "3"
    assert request.headers["If-Match"] == '"4"'
    assert request.headers["Content-Type"] == "application/json"
    assert updated.rev == 5


def test_a_write_without_a_fencing_token_sends_no_header(connect: Connect) -> None:
    server = Recorder(ok(task_view()))
    connect(server).update_task("tsk_1", title="New")
    assert "X-Fencing-Token" not in server.requests[0].headers
    assert "If-Match" not in server.requests[0].headers


@pytest.mark.parametrize("bad", [0, -1, True, "3"])
def test_a_fencing_token_that_is_not_a_positive_int_is_refused_before_sending(
    connect: Connect, bad: object
) -> None:
    server = Recorder()
    with pytest.raises(ValueError, match="fencing_token"):
        connect(server).complete_task("tsk_1", "done", fencing_token=bad)  # type: ignore[arg-type]
    assert server.requests == []


def test_list_tasks_passes_every_filter_and_reads_the_page(connect: Connect) -> None:
    page = {"items": [task("tsk_1"), task("tsk_2")], "next_after_id": "tsk_2"}
    server = Recorder(ok(page))
    result = connect(server).list_tasks(
        status=["open", "blocked"],
        role="dev",
        label=["backend", "p0"],
        parent="tsk_0",
        mission="msn_1",
        assignee="agent:agt_1",
        q="parser",
        blocked=False,
        after_id="tsk_0",
        limit=2,
    )
    params = server.requests[0].url.params
    assert params.get_list("status") == ["open", "blocked"]
    assert params.get_list("label") == ["backend", "p0"]
    assert {
        k: params[k] for k in ("role", "parent", "mission", "assignee", "q", "blocked", "after_id", "limit")
    } == {
        "role": "dev",
        "parent": "tsk_0",
        "mission": "msn_1",
        "assignee": "agent:agt_1",
        "q": "parser",
        "blocked": "false",
        "after_id": "tsk_0",
        "limit": "2",
    }
    assert [t.id for t in result.items] == ["tsk_1", "tsk_2"]
    assert result.next_after_id == "tsk_2"


def test_list_tasks_without_filters_sends_no_parameters(connect: Connect) -> None:
    server = Recorder(ok({"items": [], "next_after_id": None}))
    page = connect(server).list_tasks()
    assert dict(server.requests[0].url.params) == {}
    assert (page.items, page.next_after_id) == ((), None)


def test_ready_tasks_asks_the_ready_queue(connect: Connect) -> None:
    server = Recorder(ok({"items": [task("tsk_2"), task("tsk_1")]}))
    ready = connect(server).ready_tasks(role="dev", labels=["backend"], limit=5)
    request = server.requests[0]
    assert request.url.path == "/v1/tasks/ready"
    assert dict(request.url.params) == {"role": "dev", "label": "backend", "limit": "5"}
    assert [t.id for t in ready] == ["tsk_2", "tsk_1"]


# -- claims and leases ------------------------------------------------------------------


def test_claim_task_posts_the_filters_and_returns_the_task_and_its_lease(connect: Connect) -> None:
    server = Recorder(ok(claim(fencing_token=7)))
    got = connect(server).claim_task(role="dev", labels=("backend",), ttl_s=60, session_id="ses_1")
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/tasks/claim")
    assert body_of(request) == {"ttl_s": 60, "role": "dev", "labels": ["backend"], "session_id": "ses_1"}
    assert request.headers["Idempotency-Key"]
    assert isinstance(got, Claim)
    assert (got.task.id, got.task.status, got.lease.id, got.fencing_token) == (
        "tsk_1",
        "in_progress",
        "lse_1",
        7,
    )
    assert got.lease.ttl_s == 60.0 and got.lease.live
    assert got.raw["lease"]["id"] == "lse_1"


def test_claim_task_returns_none_when_nothing_is_ready(connect: Connect) -> None:
    server = Recorder(httpx.Response(204))
    assert connect(server).claim_task() is None
    assert body_of(server.requests[0]) == {"ttl_s": 300.0}


def test_a_claim_is_retried_with_the_same_idempotency_key(connect: Connect, delays: list[float]) -> None:
    server = Recorder(problem(503, "UNAVAILABLE"), ok(claim()))
    assert connect(server).claim_task() is not None
    first, second = server.requests
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert len(delays) == 1


def test_claim_task_id_claims_the_named_task(connect: Connect) -> None:
    server = Recorder(ok(claim("tsk_5")))
    got = connect(server).claim_task_id("tsk_5", ttl_s=30)
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/tasks/tsk_5/claim")
    assert body_of(request) == {"ttl_s": 30}
    assert got.task.id == "tsk_5"


@pytest.mark.parametrize(
    ("code", "extra", "expected"),
    [
        ("TASK_NOT_READY", {"open_blockers": 2}, sdk.TaskNotReady),
        ("LEASE_HELD", {"holder": "agent:agt_2"}, sdk.LeaseHeld),
        ("INVALID_TRANSITION", {"allowed": ["open"]}, sdk.InvalidTransition),
    ],
)
def test_a_named_claim_that_cannot_be_granted_raises_a_typed_conflict(
    connect: Connect, code: str, extra: dict[str, object], expected: type[sdk.Conflict]
) -> None:
    server = Recorder(problem(409, code, "no", **extra))
    with pytest.raises(expected) as caught:
        connect(server).claim_task_id("tsk_5")
    error = caught.value
    if isinstance(error, sdk.TaskNotReady):
        assert error.open_blockers == 2
    elif isinstance(error, sdk.LeaseHeld):
        assert error.holder == "agent:agt_2"
    elif isinstance(error, sdk.InvalidTransition):
        assert error.allowed == ["open"]


def test_renew_lease_sends_the_fencing_token_header_and_the_ttl(connect: Connect) -> None:
    server = Recorder(ok(lease(expires_at="2026-11-21T18:30:00Z")))
    renewed = connect(server).renew_lease("lse_1", ttl_s=90, fencing_token=3)
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/leases/lse_1/renew")
    assert body_of(request) == {"ttl_s": 90}
    assert request.headers["X-Fencing-Token"] == "3"
    assert renewed.expires_at == datetime(2026, 11, 21, 18, 30, tzinfo=UTC)


def test_renew_lease_without_a_ttl_sends_an_empty_body(connect: Connect) -> None:
    server = Recorder(ok(lease()))
    connect(server).renew_lease("lse_1")
    assert body_of(server.requests[0]) == {}


def test_a_lost_lease_raises_lease_expired(connect: Connect) -> None:
    server = Recorder(problem(409, "LEASE_EXPIRED", "lease lse_1 is no longer live (expired)"))
    with pytest.raises(sdk.LeaseExpired):
        connect(server).renew_lease("lse_1", fencing_token=3)


def test_an_unknown_lease_raises_lease_not_found(connect: Connect) -> None:
    server = Recorder(problem(404, "LEASE_NOT_FOUND", "no lease 'lse_9'", lease_id="lse_9"))
    with pytest.raises(sdk.LeaseNotFound) as caught:
        connect(server).release_lease("lse_9")
    assert caught.value.lease_id == "lse_9"


def test_release_lease_hands_back_with_an_attempt_outcome(connect: Connect) -> None:
    answer = {"lease": lease(ended_at="2026-11-21T18:26:30Z", end_reason="released"), "task": task()}
    server = Recorder(ok(answer))
    released = connect(server).release_lease("lse_1", fencing_token=3, outcome="tests failed")
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/leases/lse_1/release")
    assert body_of(request) == {"outcome": "tests failed"}
    assert request.headers["X-Fencing-Token"] == "3"
    assert (released.task.status, released.lease.end_reason, released.lease.live) == (
        "open",
        "released",
        False,
    )


def test_release_lease_can_complete(connect: Connect) -> None:
    answer = {"lease": lease(ended_at="2026-11-21T18:26:30Z"), "task": task(status="completed")}
    server = Recorder(ok(answer))
    connect(server).release_lease("lse_1", outcome="merged", complete=True)
    assert body_of(server.requests[0]) == {"outcome": "merged", "complete": True}


def test_completing_through_release_needs_an_outcome(connect: Connect) -> None:
    server = Recorder()
    with pytest.raises(ValueError, match="outcome"):
        connect(server).release_lease("lse_1", complete=True)
    assert server.requests == []


# -- transitions, notes, steps, links ---------------------------------------------------


def test_complete_task_posts_the_outcome_with_the_fencing_token(connect: Connect) -> None:
    server = Recorder(ok(task_view(status="completed", outcome="merged")))
    done = connect(server).complete_task("tsk_1", "merged", fencing_token=3)
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/tasks/tsk_1/complete")
    assert body_of(request) == {"outcome": "merged"}
    assert request.headers["X-Fencing-Token"] == "3"
    assert (done.status, done.outcome) == ("completed", "merged")


def test_transition_task_posts_the_status_and_optional_parts(connect: Connect) -> None:
    server = Recorder(ok(task_view(status="cancelled")), ok(task_view(status="blocked")))
    client = connect(server)
    client.transition_task("tsk_1", "cancelled", reason="duplicate", fencing_token=2)
    client.transition_task("tsk_1", "blocked")
    first, second = server.requests
    assert first.url.path == "/v1/tasks/tsk_1/transition"
    assert body_of(first) == {"status": "cancelled", "reason": "duplicate"}
    assert first.headers["X-Fencing-Token"] == "2"
    assert body_of(second) == {"status": "blocked"}


def test_an_invalid_transition_names_the_allowed_statuses(connect: Connect) -> None:
    refusal = problem(409, "INVALID_TRANSITION", "cannot", allowed=["open"], current="completed")
    server = Recorder(refusal)
    with pytest.raises(sdk.InvalidTransition) as caught:
        connect(server).transition_task("tsk_1", "blocked")
    assert caught.value.allowed == ["open"]


def test_add_note_posts_the_note(connect: Connect) -> None:
    note = {"id": "nte_2", "task_id": "tsk_1", "kind": "decision", "body": "b", "supersedes_id": "nte_1"}
    server = Recorder(ok(note, 201))
    stored = connect(server).add_note("tsk_1", "decision", "b", supersedes="nte_1", fencing_token=3)
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/tasks/tsk_1/notes")
    assert body_of(request) == {"kind": "decision", "body": "b", "supersedes": "nte_1"}
    assert request.headers["X-Fencing-Token"] == "3"
    assert stored == note


def test_add_step_and_set_step(connect: Connect) -> None:
    step = {"id": "stp_1", "task_id": "tsk_1", "position": 0, "title": "parse", "status": "pending"}
    server = Recorder(ok(step, 201), ok({**step, "status": "done"}))
    client = connect(server)
    assert client.add_step("tsk_1", "parse", fencing_token=3)["id"] == "stp_1"
    assert client.set_step("tsk_1", "stp_1", "done", fencing_token=3)["status"] == "done"
    added, updated = server.requests
    assert (added.method, added.url.path, body_of(added)) == (
        "POST",
        "/v1/tasks/tsk_1/steps",
        {"title": "parse"},
    )
    assert (updated.method, updated.url.path) == ("PATCH", "/v1/tasks/tsk_1/steps/stp_1")
    assert body_of(updated) == {"status": "done"}
    assert added.headers["X-Fencing-Token"] == updated.headers["X-Fencing-Token"] == "3"


def test_link_and_unlink_tasks(connect: Connect) -> None:
    linked = {"task_id": "tsk_2", "kind": "blocked_by", "other_id": "tsk_1", "existed": False}
    server = Recorder(ok(linked), ok({"task_id": "tsk_2", "kind": "blocked_by", "other_id": "tsk_1"}))
    client = connect(server)
    assert client.link_tasks("tsk_2", "blocked_by", "tsk_1") == linked
    client.unlink_tasks("tsk_2", "blocked_by", "tsk_1", fencing_token=4)
    link, unlink = server.requests
    assert (link.method, link.url.path) == ("POST", "/v1/tasks/tsk_2/links")
    assert body_of(link) == {"kind": "blocked_by", "other_id": "tsk_1"}
    assert (unlink.method, unlink.url.path) == ("DELETE", "/v1/tasks/tsk_2/links")
    assert dict(unlink.url.params) == {"kind": "blocked_by", "other_id": "tsk_1"}
    assert unlink.headers["X-Fencing-Token"] == "4"


def test_a_cycle_names_its_path(connect: Connect) -> None:
    server = Recorder(problem(409, "CYCLE_DETECTED", "would close a cycle", path=["tsk_1", "tsk_2", "tsk_1"]))
    with pytest.raises(sdk.CycleDetected) as caught:
        connect(server).link_tasks("tsk_1", "blocks", "tsk_2")
    assert caught.value.path == ["tsk_1", "tsk_2", "tsk_1"]


def test_task_tree_and_history(connect: Connect) -> None:
    server = Recorder(
        ok({"items": [{**task("tsk_2"), "depth": 1}]}),
        ok({"items": [envelope(4, "task.created", "task/tsk_1")]}),
    )
    client = connect(server)
    descendants = client.task_tree("tsk_1", "descendants")
    history = client.task_history("tsk_1")
    assert [r.url.path for r in server.requests] == ["/v1/tasks/tsk_1/descendants", "/v1/tasks/tsk_1/history"]
    assert descendants[0].raw["depth"] == 1
    assert (history[0].seq, history[0].type) == (4, "task.created")


def test_task_tree_refuses_an_unknown_view(connect: Connect) -> None:
    server = Recorder()
    with pytest.raises(ValueError, match="children"):
        connect(server).task_tree("tsk_1", "history")
    assert server.requests == []


def test_ids_travel_percent_encoded(connect: Connect) -> None:
    server = Recorder(ok(task_view()))
    connect(server).get_task("tsk 1/..")
    assert server.requests[0].url.raw_path == b"/v1/tasks/tsk%201%2F.."


def test_batch_posts_the_ops_atomically(connect: Connect) -> None:
    answer = {"refs": {"a": "tsk_1"}, "results": [{"op": "create_task", "ref": "a", "id": "tsk_1"}]}
    server = Recorder(ok(answer))
    ops = [
        {"op": "create_task", "ref": "a", "task": {"title": "A"}},
        {"op": "step", "task": "$a", "title": "first"},
    ]
    assert connect(server).batch(ops) == answer
    request = server.requests[0]
    assert request.url.path == "/v1/batch"
    assert body_of(request) == {"ops": ops, "atomic": True}
    assert request.headers["Idempotency-Key"]


def test_batch_refuses_an_unknown_op_before_sending(connect: Connect) -> None:
    server = Recorder()
    with pytest.raises(ValueError, match=r"ops\[0\]"):
        connect(server).batch([{"op": "delete_task", "task": "tsk_1"}])
    assert server.requests == []


# -- agents and sessions ----------------------------------------------------------------


def test_create_agent_returns_the_agent_and_its_one_time_token(connect: Connect) -> None:
    server = Recorder(ok({"agent": agent(), "token": "mdt_secret"}, 201))
    created, token = connect(server).create_agent("builder", roles=["dev"], capabilities=["tasks:*"])
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/agents")
    assert body_of(request) == {"name": "builder", "roles": ["dev"], "capabilities": ["tasks:*"]}
    assert (created.id, created.subject, created.roles, token) == (
        "agt_1",
        "agent:agt_1",
        ("dev",),
        "mdt_secret",
    )


def test_create_agent_without_capabilities_leaves_the_defaults_to_the_server(connect: Connect) -> None:
    server = Recorder(ok({"agent": agent(), "token": None}, 201))
    _agent, token = connect(server).create_agent("builder")
    assert body_of(server.requests[0]) == {"name": "builder", "roles": []}
    assert token is None  # an idempotent replay never shows the token again


def test_list_agents(connect: Connect) -> None:
    server = Recorder(ok({"items": [agent("agt_1"), agent("agt_2", "reviewer")]}))
    assert [a.name for a in connect(server).list_agents()] == ["builder", "reviewer"]


def test_sessions_start_heartbeat_and_end(connect: Connect, delays: list[float]) -> None:
    server = Recorder(
        ok(session(), 201),
        problem(503, "UNAVAILABLE"),
        ok({**session(), "leases_renewed": 2}),
        ok(session(ended_at="2026-11-21T18:26:10Z", end_reason="ended")),
    )
    client = connect(server)
    started = client.start_session(30)
    beat = client.heartbeat("ses_1")
    ended = client.end_session("ses_1")
    paths = [(r.method, r.url.path) for r in server.requests]
    assert paths == [
        ("POST", "/v1/sessions"),
        ("POST", "/v1/sessions/ses_1/heartbeat"),
        ("POST", "/v1/sessions/ses_1/heartbeat"),  # a heartbeat is safe to repeat
        ("POST", "/v1/sessions/ses_1/end"),
    ]
    assert body_of(server.requests[0]) == {"ttl_s": 30}
    assert (started.id, started.ttl_s, started.leases_renewed) == ("ses_1", 30.0, None)
    assert beat.leases_renewed == 2
    assert ended.end_reason == "ended"
