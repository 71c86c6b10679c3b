"""`missiond task ...` (but `work`) and `missiond agent ...` against a fake server."""

from __future__ import annotations

import json

import httpx
import pytest
from cli_fakes import FakeServer, Invoke, agent, claim, lease, problem, released, task, task_view


def ok(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def sent_json(server: FakeServer, route: str, index: int = 0) -> object:
    return json.loads(server.sent(route)[index].content)


# -- create, show, list, ready ----------------------------------------------------------


def test_create_sends_every_option_and_prints_the_servers_task(invoke: Invoke) -> None:
    view = task_view(priority=0, labels=["a", "b"])
    server = FakeServer().on("POST /v1/tasks", ok(view, 201))
    result = invoke(
        server, "task", "create", "Write the parser", "--type", "bug", "--priority", "0", "--label", "a",
        "--label", "b", "--role", "dev", "--parent", "tsk_0", "--mission", "msn_1", "--intent", "why",
        "--description", "what", "--plan", "how",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == view
    request = server.sent("POST /v1/tasks")[0]
    assert json.loads(request.content) == {
        "title": "Write the parser",
        "type": "bug",
        "priority": 0,
        "labels": ["a", "b"],
        "role": "dev",
        "parent_id": "tsk_0",
        "mission_id": "msn_1",
        "intent": "why",
        "description": "what",
        "plan": "how",
    }
    assert request.headers["Idempotency-Key"]


def test_create_with_only_a_title_sends_only_the_title(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/tasks", ok(task_view(), 201))
    result = invoke(server, "--no-json", "task", "create", "Write the parser")
    assert result.exit_code == 0, result.output
    assert sent_json(server, "POST /v1/tasks") == {"title": "Write the parser"}
    assert result.stdout.strip() == "created tsk_1: Write the parser (P2, open)"


def test_create_refuses_a_priority_outside_0_to_4(invoke: Invoke) -> None:
    server = FakeServer()
    assert invoke(server, "task", "create", "x", "--priority", "5").exit_code == 2
    assert server.sent("POST /v1/tasks") == []


def test_show_prints_the_servers_view_verbatim(invoke: Invoke) -> None:
    view = task_view()
    server = FakeServer().on("GET /v1/tasks/tsk_1", ok(view))
    result = invoke(server, "task", "show", "tsk_1")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == view


def test_show_for_people_has_the_lease_steps_and_notes(invoke: Invoke) -> None:
    view = task_view(
        status="in_progress",
        lease={
            "id": "lse_1",
            "holder": "agent:agt_1",
            "fencing_token": 4,
            "expires_at": "2026-11-21T18:27:00Z",
        },
        steps={
            "items": [{"id": "stp_1", "title": "parse", "status": "done"}],
            "done": 1,
            "skipped": 0,
            "total": 1,
        },
        notes=[{"id": "nte_1", "kind": "decision", "body": "use a queue", "author": "agent:agt_1"}],
    )
    view["relationships"]["blocks"] = ["tsk_2"]
    server = FakeServer().on("GET /v1/tasks/tsk_1", ok(view))
    result = invoke(server, "--no-json", "task", "show", "tsk_1")
    assert result.exit_code == 0, result.output
    for expected in (
        "Write the parser",
        "in_progress",
        "fencing token 4",
        "tsk_2",
        "[x] parse",
        "use a queue",
    ):
        assert expected in result.stdout


def test_show_of_a_missing_task_exits_1_with_task_not_found(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/tasks/tsk_9", problem(404, "TASK_NOT_FOUND", "no task 'tsk_9'"))
    result = invoke(server, "task", "show", "tsk_9")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "error: TASK_NOT_FOUND: no task 'tsk_9'"


def test_list_passes_every_filter(invoke: Invoke) -> None:
    body = {"items": [task("tsk_1"), task("tsk_2")], "next_after_id": "tsk_2"}
    server = FakeServer().on("GET /v1/tasks", ok(body))
    result = invoke(
        server, "task", "list", "--status", "open", "--status", "blocked", "--role", "dev", "--label", "a",
        "--parent", "tsk_0", "--mission", "msn_1", "--assignee", "agent:agt_1", "--q", "parser",
        "--blocked", "--limit", "2", "--after-id", "tsk_0",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body
    params = server.sent("GET /v1/tasks")[0].url.params
    assert params.get_list("status") == ["open", "blocked"]
    assert {k: params[k] for k in params if k != "status"} == {
        "role": "dev",
        "label": "a",
        "parent": "tsk_0",
        "mission": "msn_1",
        "assignee": "agent:agt_1",
        "q": "parser",
        "blocked": "true",
        "limit": "2",
        "after_id": "tsk_0",
    }


def test_list_unblocked_and_no_filters(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/tasks", ok({"items": [], "next_after_id": None}))
    invoke(server, "task", "list", "--unblocked")
    invoke(server, "task", "list")
    first, second = server.sent("GET /v1/tasks")
    assert dict(first.url.params) == {"blocked": "false"}
    assert dict(second.url.params) == {}


def test_list_shows_a_table_for_people(invoke: Invoke) -> None:
    leased = {"id": "lse_1", "holder": "agent:agt_1", "fencing_token": 1, "expires_at": TS_LATER}
    body = {
        "items": [task("tsk_1", open_blockers=2), task("tsk_2", "Ship", status="in_progress", lease=leased)],
        "next_after_id": "tsk_2",
    }
    server = FakeServer().on("GET /v1/tasks", ok(body))
    result = invoke(server, "--no-json", "task", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "P", "status", "role", "blockers", "holder", "title"]
    assert lines[1].split() == ["tsk_1", "2", "open", "dev", "2", "Write", "the", "parser"]
    assert lines[2].split() == ["tsk_2", "2", "in_progress", "dev", "agent:agt_1", "Ship"]
    assert "2 tasks · more: --after-id tsk_2" in result.stdout


TS_LATER = "2026-11-21T18:27:00Z"


def test_ready_asks_the_queue_and_prints_the_servers_document(invoke: Invoke) -> None:
    body = {"items": [task("tsk_2"), task("tsk_1")]}
    server = FakeServer().on("GET /v1/tasks/ready", ok(body))
    result = invoke(server, "task", "ready", "--role", "dev", "--label", "a", "--label", "b", "--limit", "5")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body
    params = server.sent("GET /v1/tasks/ready")[0].url.params
    assert (params["role"], params.get_list("label"), params["limit"]) == ("dev", ["a", "b"], "5")


# -- claim, renew, release, done --------------------------------------------------------


def test_claim_prints_task_and_lease_and_sends_the_filters(invoke: Invoke) -> None:
    body = claim(fencing_token=7)
    server = FakeServer().on("POST /v1/tasks/claim", ok(body))
    result = invoke(
        server, "task", "claim", "--role", "dev", "--label", "a", "--ttl", "30", "--session", "ses_1"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body
    assert sent_json(server, "POST /v1/tasks/claim") == {
        "ttl_s": 30.0,
        "role": "dev",
        "labels": ["a"],
        "session_id": "ses_1",
    }


def test_claim_of_a_named_task(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/tasks/tsk_5/claim", ok(claim("tsk_5")))
    result = invoke(server, "--no-json", "task", "claim", "tsk_5")
    assert result.exit_code == 0, result.output
    assert sent_json(server, "POST /v1/tasks/tsk_5/claim") == {"ttl_s": 300.0}
    assert "claimed tsk_5 'Write the parser': lease lse_1, fencing token 3" in result.stdout


def test_claim_of_a_named_task_refuses_filters(invoke: Invoke) -> None:
    server = FakeServer()
    result = invoke(server, "task", "claim", "tsk_5", "--role", "dev")
    assert result.exit_code == 2
    assert server.requests == []


def test_claim_with_nothing_ready_prints_null_in_json_and_exits_0(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/tasks/claim", httpx.Response(204))
    result = invoke(server, "task", "claim", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) is None


def test_claim_with_nothing_ready_says_so_on_stderr_for_people(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/tasks/claim", httpx.Response(204))
    result = invoke(server, "--no-json", "task", "claim", "--role", "dev")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.strip() == "nothing ready (role dev)"


def test_claim_of_a_blocked_task_exits_1_with_task_not_ready(invoke: Invoke) -> None:
    refusal = problem(409, "TASK_NOT_READY", "tsk_5 is not ready: 1 blocker(s) not completed")
    server = FakeServer().on("POST /v1/tasks/tsk_5/claim", refusal)
    result = invoke(server, "task", "claim", "tsk_5")
    assert result.exit_code == 1
    assert (
        result.stderr.splitlines()[0]
        == "error: TASK_NOT_READY: tsk_5 is not ready: 1 blocker(s) not completed"
    )
    assert json.loads(result.stderr.splitlines()[1])["code"] == "TASK_NOT_READY"


def test_renew_sends_the_fence_and_ttl(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/leases/lse_1/renew", ok(lease()))
    result = invoke(server, "task", "renew", "lse_1", "--ttl", "90", "--fence", "3")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == lease()
    request = server.sent("POST /v1/leases/lse_1/renew")[0]
    assert request.headers["X-Fencing-Token"] == "3"
    assert json.loads(request.content) == {"ttl_s": 90.0}


def test_renew_of_a_lost_lease_exits_1_with_lease_expired(invoke: Invoke) -> None:
    server = FakeServer().on(
        "POST /v1/leases/lse_1/renew", problem(409, "LEASE_EXPIRED", "lease lse_1 is gone")
    )
    result = invoke(server, "task", "renew", "lse_1", "--fence", "3")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: LEASE_EXPIRED: lease lse_1 is gone")


@pytest.mark.parametrize("fence", ["0", "-2", "x"])
def test_a_fence_that_is_not_a_positive_int_is_a_usage_error(invoke: Invoke, fence: str) -> None:
    server = FakeServer()
    assert invoke(server, "task", "done", "tsk_1", "--outcome", "x", "--fence", fence).exit_code == 2
    assert server.requests == []


def test_release_hands_back_with_an_outcome(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/leases/lse_1/release", ok(released()))
    result = invoke(server, "task", "release", "lse_1", "--fence", "3", "--outcome", "tests fail")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == released()
    request = server.sent("POST /v1/leases/lse_1/release")[0]
    assert json.loads(request.content) == {"outcome": "tests fail"}
    assert request.headers["X-Fencing-Token"] == "3"
    people = invoke(server, "--no-json", "task", "release", "lse_1")
    assert people.stdout.strip() == "released tsk_1 (open); lease lse_1 ended"
    assert "X-Fencing-Token" not in server.sent("POST /v1/leases/lse_1/release")[1].headers


def test_release_complete_needs_an_outcome(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/leases/lse_1/release", ok(released()))
    assert invoke(server, "task", "release", "lse_1", "--complete").exit_code == 2
    assert invoke(server, "task", "release", "lse_1", "--complete", "--outcome", "done").exit_code == 0
    assert sent_json(server, "POST /v1/leases/lse_1/release") == {"outcome": "done", "complete": True}


def test_done_completes_with_the_outcome_and_fence(invoke: Invoke) -> None:
    view = task_view(status="completed", outcome="merged")
    server = FakeServer().on("POST /v1/tasks/tsk_1/complete", ok(view))
    result = invoke(server, "task", "done", "tsk_1", "--outcome", "merged", "--fence", "4")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == view
    request = server.sent("POST /v1/tasks/tsk_1/complete")[0]
    assert json.loads(request.content) == {"outcome": "merged"}
    assert request.headers["X-Fencing-Token"] == "4"


def test_done_needs_an_outcome(invoke: Invoke) -> None:
    server = FakeServer()
    assert invoke(server, "task", "done", "tsk_1").exit_code == 2
    assert invoke(server, "task", "done", "tsk_1", "--outcome", "  ").exit_code == 2
    assert server.requests == []


def test_done_by_someone_else_exits_1_with_lease_held(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/tasks/tsk_1/complete", problem(409, "LEASE_HELD", "leased by agent:b"))
    result = invoke(server, "task", "done", "tsk_1", "--outcome", "x")
    assert result.exit_code == 1
    assert "error: LEASE_HELD: leased by agent:b" in result.stderr


def test_transition_sends_status_reason_and_fence(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/tasks/tsk_1/transition", ok(task_view(status="cancelled")))
    result = invoke(
        server, "--no-json", "task", "transition", "tsk_1", "cancelled", "--reason", "dup", "--fence", "2"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "tsk_1 is cancelled"
    request = server.sent("POST /v1/tasks/tsk_1/transition")[0]
    assert json.loads(request.content) == {"status": "cancelled", "reason": "dup"}
    assert request.headers["X-Fencing-Token"] == "2"
    assert invoke(server, "task", "transition", "tsk_1", "in_progress").exit_code == 2


def test_an_invalid_transition_exits_1(invoke: Invoke) -> None:
    refusal = problem(409, "INVALID_TRANSITION", "tsk_1 cannot go from completed to blocked; allowed: open")
    server = FakeServer().on("POST /v1/tasks/tsk_1/transition", refusal)
    result = invoke(server, "task", "transition", "tsk_1", "blocked")
    assert result.exit_code == 1
    assert "error: INVALID_TRANSITION" in result.stderr


# -- the fencing token from `task work` -------------------------------------------------


def test_inside_task_work_the_fence_defaults_to_the_worked_tasks_token(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISSIOND_TASK_ID", "tsk_1")
    monkeypatch.setenv("MISSIOND_LEASE_ID", "lse_1")
    monkeypatch.setenv("MISSIOND_FENCING_TOKEN", "9")
    note = {"id": "nte_1", "kind": "decision", "body": "b"}
    server = (
        FakeServer()
        .on("POST /v1/tasks/tsk_1/notes", ok(note, 201))
        .on("POST /v1/tasks/tsk_2/notes", ok(note, 201))
        .on("POST /v1/leases/lse_1/renew", ok(lease()))
    )
    invoke(server, "task", "note", "tsk_1", "decision", "b")
    invoke(server, "task", "note", "tsk_2", "decision", "b")  # another task: no token
    invoke(server, "task", "note", "tsk_1", "decision", "b", "--fence", "2")  # given wins
    invoke(server, "task", "renew", "lse_1")
    own = server.sent("POST /v1/tasks/tsk_1/notes")
    assert [r.headers.get("X-Fencing-Token") for r in own] == ["9", "2"]
    assert "X-Fencing-Token" not in server.sent("POST /v1/tasks/tsk_2/notes")[0].headers
    assert server.sent("POST /v1/leases/lse_1/renew")[0].headers["X-Fencing-Token"] == "9"


# -- notes, steps, relationships --------------------------------------------------------


def test_note_sends_kind_body_supersedes_and_fence(invoke: Invoke) -> None:
    note = {"id": "nte_2", "task_id": "tsk_1", "kind": "decision", "body": "b", "supersedes_id": "nte_1"}
    server = FakeServer().on("POST /v1/tasks/tsk_1/notes", ok(note, 201))
    result = invoke(server, "task", "note", "tsk_1", "decision", "b", "--supersedes", "nte_1", "--fence", "3")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == note
    request = server.sent("POST /v1/tasks/tsk_1/notes")[0]
    assert json.loads(request.content) == {"kind": "decision", "body": "b", "supersedes": "nte_1"}
    assert request.headers["X-Fencing-Token"] == "3"


def test_note_reads_its_body_from_stdin_with_a_dash(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/tasks/tsk_1/notes", ok({"id": "nte_1"}, 201))
    result = invoke(server, "--no-json", "task", "note", "tsk_1", "attempt", "-", input="tried X\nfailed\n")
    assert result.exit_code == 0, result.output
    assert sent_json(server, "POST /v1/tasks/tsk_1/notes") == {"kind": "attempt", "body": "tried X\nfailed\n"}
    assert result.stdout.strip() == "attempt note nte_1 added to tsk_1"


def test_note_refuses_an_unknown_kind(invoke: Invoke) -> None:
    server = FakeServer()
    assert invoke(server, "task", "note", "tsk_1", "gossip", "b").exit_code == 2
    assert server.requests == []


@pytest.mark.parametrize(("action", "status"), [("done", "done"), ("skip", "skipped"), ("reopen", "pending")])
def test_step_actions_set_the_step_status(invoke: Invoke, action: str, status: str) -> None:
    step = {"id": "stp_1", "title": "parse", "status": status}
    server = FakeServer().on("PATCH /v1/tasks/tsk_1/steps/stp_1", ok(step))
    result = invoke(server, "task", "step", "tsk_1", action, "stp_1", "--fence", "3")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == step
    request = server.sent("PATCH /v1/tasks/tsk_1/steps/stp_1")[0]
    assert json.loads(request.content) == {"status": status}
    assert request.headers["X-Fencing-Token"] == "3"


def test_step_add(invoke: Invoke) -> None:
    step = {"id": "stp_1", "title": "parse", "status": "pending"}
    server = FakeServer().on("POST /v1/tasks/tsk_1/steps", ok(step, 201))
    result = invoke(server, "--no-json", "task", "step", "tsk_1", "add", "parse")
    assert result.exit_code == 0, result.output
    assert sent_json(server, "POST /v1/tasks/tsk_1/steps") == {"title": "parse"}
    assert result.stdout.strip() == "step stp_1 of tsk_1: parse [pending]"


def test_block_makes_other_block_the_task(invoke: Invoke) -> None:
    linked = {"task_id": "tsk_2", "kind": "blocked_by", "other_id": "tsk_1", "existed": False}
    server = FakeServer().on("POST /v1/tasks/tsk_2/links", ok(linked))
    result = invoke(server, "task", "block", "tsk_2", "--by", "tsk_1")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == linked
    assert sent_json(server, "POST /v1/tasks/tsk_2/links") == {"kind": "blocked_by", "other_id": "tsk_1"}
    people = invoke(server, "--no-json", "task", "block", "tsk_2", "--by", "tsk_1")
    assert people.stdout.strip() == "tsk_1 blocks tsk_2"


def test_block_without_by_is_a_usage_error(invoke: Invoke) -> None:
    server = FakeServer()
    assert invoke(server, "task", "block", "tsk_2").exit_code == 2
    assert server.requests == []


def test_a_cycle_exits_1_with_cycle_detected(invoke: Invoke) -> None:
    refusal = problem(
        409, "CYCLE_DETECTED", "tsk_1 blocks tsk_2 would close the cycle tsk_1 -> tsk_2 -> tsk_1"
    )
    server = FakeServer().on("POST /v1/tasks/tsk_1/links", refusal)
    result = invoke(server, "task", "block", "tsk_1", "--by", "tsk_2")
    assert result.exit_code == 1, result.output
    assert "error: CYCLE_DETECTED" in result.stderr
    assert result.stdout == ""


def test_relate_and_unrelate(invoke: Invoke) -> None:
    server = (
        FakeServer()
        .on("POST /v1/tasks/tsk_1/links", ok({"task_id": "tsk_1", "kind": "relates_to", "other_id": "tsk_3"}))
        .on(
            "DELETE /v1/tasks/tsk_1/links",
            ok({"task_id": "tsk_1", "kind": "relates_to", "other_id": "tsk_3"}),
        )
    )
    related = invoke(server, "--no-json", "task", "relate", "tsk_1", "relates_to", "tsk_3")
    unrelated = invoke(
        server, "--no-json", "task", "unrelate", "tsk_1", "relates_to", "tsk_3", "--fence", "5"
    )
    assert related.stdout.strip() == "tsk_1 relates_to tsk_3"
    assert unrelated.stdout.strip() == "tsk_1 no longer relates_to tsk_3"
    assert sent_json(server, "POST /v1/tasks/tsk_1/links") == {"kind": "relates_to", "other_id": "tsk_3"}
    removal = server.sent("DELETE /v1/tasks/tsk_1/links")[0]
    assert dict(removal.url.params) == {"kind": "relates_to", "other_id": "tsk_3"}
    assert removal.headers["X-Fencing-Token"] == "5"
    assert invoke(server, "task", "relate", "tsk_1", "likes", "tsk_3").exit_code == 2


# -- agents -----------------------------------------------------------------------------


def test_agent_add_prints_the_agent_and_its_token_as_json(invoke: Invoke) -> None:
    body = {"agent": agent(), "token": "mdt_secret"}
    server = FakeServer().on("POST /v1/agents", ok(body, 201))
    result = invoke(server, "agent", "add", "builder", "--role", "dev", "--role", "qa", "--cap", "tasks:*")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body
    request = server.sent("POST /v1/agents")[0]
    assert json.loads(request.content) == {
        "name": "builder",
        "roles": ["dev", "qa"],
        "capabilities": ["tasks:*"],
    }


def test_agent_add_for_people_prints_the_token_once_on_stdout(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/agents", ok({"agent": agent(), "token": "mdt_secret"}, 201))
    result = invoke(server, "--no-json", "agent", "add", "builder")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "mdt_secret"
    assert "agent:agt_1" in result.stdout
    assert "shown only this once" in result.stderr
    assert sent_json(server, "POST /v1/agents") == {"name": "builder", "roles": []}


def test_agent_add_replayed_has_no_token(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/agents", ok({"agent": agent(), "token": None}, 201))
    result = invoke(server, "--no-json", "agent", "add", "builder", "--idempotency-key", "k1")
    assert result.exit_code == 0, result.output
    assert "not shown again" in result.stderr
    assert server.sent("POST /v1/agents")[0].headers["Idempotency-Key"] == "k1"


def test_agent_add_needs_admin(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/agents", problem(403, "FORBIDDEN", "needs admin"))
    result = invoke(server, "agent", "add", "builder")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "error: FORBIDDEN: needs admin"


def test_agent_list(invoke: Invoke) -> None:
    body = {"items": [agent("agt_1"), agent("agt_2", "reviewer")]}
    server = FakeServer().on("GET /v1/agents", ok(body))
    result = invoke(server, "agent", "list")
    assert json.loads(result.stdout) == body
    people = invoke(server, "--no-json", "agent", "list")
    assert people.stdout.splitlines()[0].split() == ["id", "name", "roles", "capabilities", "created"]
    assert "reviewer" in people.stdout
