"""The SDK speaks the routines and approvals contract of ROUTINES_CRON.md (request shapes,
answers, errors, the routine stream)."""

from __future__ import annotations

import itertools
import json
from contextlib import closing
from datetime import UTC, datetime

import httpx
import pytest
from sdk_fakes import (
    Connect,
    Recorder,
    approval,
    envelope,
    frame,
    problem,
    routine,
    routine_run,
    sse_response,
)

from missiond import sdk
from missiond.sdk import Approval, Routine, RoutineRun

COMMAND = {"kind": "command", "argv": ["make", "audit"]}


def ok(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def body_of(request: httpx.Request) -> object:
    return json.loads(request.content) if request.content else None


# -- create -----------------------------------------------------------------------------


def test_create_routine_posts_a_cron_schedule_in_its_zone_with_an_idempotency_key(connect: Connect) -> None:
    server = Recorder(ok(routine(), 201))
    created = connect(server, "tok").create_routine(
        "nightly audit", cron="0 9 * * *", timezone="Europe/Berlin", action=COMMAND
    )
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/routines")
    assert body_of(request) == {
        "name": "nightly audit",
        "schedule": {"cron": "0 9 * * *", "timezone": "Europe/Berlin"},
        "action": COMMAND,
        "requires_approval": False,
        "external_allowed": False,
    }
    assert request.headers["Idempotency-Key"]
    assert request.headers["Authorization"] == "Bearer tok"
    assert isinstance(created, Routine)
    assert (created.id, created.status, created.rev, created.cron, created.timezone) == (
        "rtn_1",
        "active",
        1,
        "0 9 * * *",
        "Europe/Berlin",
    )
    assert created.next_fire_at == datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    assert created.last_run is None and created.last_fired_at is None
    assert not created.external
    assert created.raw == routine()


def test_create_routine_maps_every_option_to_the_body(connect: Connect) -> None:
    server = Recorder(ok(routine(), 201))
    action = {"kind": "connector", "connector": "http.post", "params": {"url": "https://x.example/h"}}
    connect(server).create_routine(
        "hook",
        interval_s=3600,
        action=action,
        misfire="catch_up",
        overlap="queue_one",
        requires_approval=True,
        external_allowed=True,
        status="draft",
        idempotency_key="k1",
    )
    request = server.requests[0]
    assert body_of(request) == {
        "name": "hook",
        "schedule": {"interval_s": 3600},
        "action": action,
        "misfire": {"policy": "catch_up"},
        "overlap": "queue_one",
        "requires_approval": True,
        "external_allowed": True,
        "status": "draft",
    }
    assert request.headers["Idempotency-Key"] == "k1"


def test_a_misfire_object_travels_without_its_empty_members(connect: Connect) -> None:
    server = Recorder(ok(routine(), 201))
    misfire = {"policy": "catch_up", "max_runs": 5, "grace_s": None}
    connect(server).create_routine("x", cron="* * * * *", action=COMMAND, misfire=misfire)
    assert body_of(server.requests[0])["misfire"] == {"policy": "catch_up", "max_runs": 5}  # type: ignore[index]


@pytest.mark.parametrize(
    "schedule",
    [{}, {"cron": "* * * * *", "interval_s": 5}, {"interval_s": 5, "timezone": "Europe/Berlin"}],
    ids=["none", "both", "zone-for-an-interval"],
)
def test_create_routine_needs_exactly_one_schedule_and_sends_nothing_otherwise(
    connect: Connect, schedule: dict[str, object]
) -> None:
    server = Recorder()
    with pytest.raises(ValueError):
        connect(server).create_routine("x", action=COMMAND, **schedule)  # type: ignore[arg-type]
    assert server.requests == []


def test_a_bad_schedule_raises_invalid_schedule_naming_the_field(connect: Connect) -> None:
    refused = problem(
        400,
        "INVALID_SCHEDULE",
        "body.schedule.timezone: unknown IANA time zone 'Mars/Base'",
        errors=[{"field": "body.schedule.timezone", "message": "unknown IANA time zone 'Mars/Base'"}],
    )
    server = Recorder(refused)
    with pytest.raises(sdk.InvalidSchedule) as caught:
        connect(server).create_routine("x", cron="0 9 * * *", timezone="Mars/Base", action=COMMAND)
    assert isinstance(caught.value, sdk.ValidationFailed)
    assert caught.value.field == "body.schedule.timezone"
    assert caught.value.status == 400


def test_an_unknown_connector_raises_unknown_connector(connect: Connect) -> None:
    refused = problem(
        400,
        "UNKNOWN_CONNECTOR",
        "body.action.connector: no connector 'ftp.put'; known: http.post, shell.run",
        errors=[{"field": "body.action.connector", "message": "unknown connector"}],
    )
    server = Recorder(refused)
    with pytest.raises(sdk.UnknownConnector) as caught:
        connect(server).create_routine(
            "x", interval_s=60, action={"kind": "connector", "connector": "ftp.put"}
        )
    assert isinstance(caught.value, sdk.ValidationFailed)
    assert caught.value.field == "body.action.connector"


# -- read -------------------------------------------------------------------------------


def test_get_routine_reads_its_last_run(connect: Connect) -> None:
    server = Recorder(ok(routine(last_run=routine_run(detail={"task_id": "tsk_9"}))))
    shown = connect(server).get_routine("rtn_1")
    assert (server.requests[0].method, server.requests[0].url.path) == ("GET", "/v1/routines/rtn_1")
    assert shown.last_run is not None
    assert isinstance(shown.last_run, RoutineRun)
    assert (shown.last_run.id, shown.last_run.status, shown.last_run.task_id) == (
        "run_1",
        "succeeded",
        "tsk_9",
    )
    assert shown.last_run.finished_at == datetime(2026, 11, 22, 8, 0, 1, tzinfo=UTC)


def test_a_routine_id_is_one_percent_encoded_path_segment(connect: Connect) -> None:
    server = Recorder(ok(routine()))
    connect(server).get_routine("rtn/1")
    assert server.requests[0].url.raw_path == b"/v1/routines/rtn%2F1"
    with pytest.raises(ValueError):
        connect(server).get_routine("..")


def test_a_missing_routine_raises_routine_not_found(connect: Connect) -> None:
    server = Recorder(problem(404, "ROUTINE_NOT_FOUND", "no routine 'rtn_9'", routine_id="rtn_9"))
    with pytest.raises(sdk.RoutineNotFound) as caught:
        connect(server).get_routine("rtn_9")
    assert isinstance(caught.value, sdk.NotFound)
    assert caught.value.routine_id == "rtn_9"


def test_the_typed_view_of_schedules_and_action_class() -> None:
    interval = Routine.from_json(routine(schedule={"interval_s": 2.5}, schedule_text="every 2.5 s"))
    assert (interval.interval_s, interval.cron, interval.timezone) == (2.5, None, None)
    utc = Routine.from_json(routine(schedule={"cron": "0 9 * * *"}))
    assert utc.timezone == "UTC"
    external = Routine.from_json(routine(action_class="external", next_fire_at=None, status="paused"))
    assert external.external and external.next_fire_at is None


def test_a_routine_without_an_id_is_a_protocol_error() -> None:
    broken = routine()
    del broken["id"]
    with pytest.raises(sdk.ProtocolError):
        Routine.from_json(broken)


def test_list_routines_sends_its_filters_and_reads_the_page(connect: Connect) -> None:
    body = {"items": [routine("rtn_1", last_run=None), routine("rtn_2")], "next_after_id": "rtn_2"}
    server = Recorder(ok(body))
    page = connect(server).list_routines("paused", after_id="rtn_0", limit=2)
    request = server.requests[0]
    assert (request.method, request.url.path) == ("GET", "/v1/routines")
    assert dict(request.url.params) == {"status": "paused", "after_id": "rtn_0", "limit": "2"}
    assert [r.id for r in page.items] == ["rtn_1", "rtn_2"]
    assert page.next_after_id == "rtn_2"
    assert page.raw == body


def test_list_routines_without_filters_sends_no_parameters(connect: Connect) -> None:
    server = Recorder(ok({"items": [], "next_after_id": None}))
    assert connect(server).list_routines().items == ()
    assert dict(server.requests[0].url.params) == {}


def test_iter_routines_follows_next_after_id(connect: Connect) -> None:
    server = Recorder(
        ok({"items": [routine("rtn_1"), routine("rtn_2")], "next_after_id": "rtn_2"}),
        ok({"items": [routine("rtn_3")], "next_after_id": None}),
    )
    ids = [r.id for r in connect(server).iter_routines("active", page_size=2)]
    assert ids == ["rtn_1", "rtn_2", "rtn_3"]
    assert [dict(r.url.params) for r in server.requests] == [
        {"status": "active", "limit": "2"},
        {"status": "active", "after_id": "rtn_2", "limit": "2"},
    ]


# -- edit and lifecycle ---------------------------------------------------------------------


def test_update_routine_patches_only_the_changes_with_the_expected_revision(connect: Connect) -> None:
    server = Recorder(ok(routine(rev=4)))
    updated = connect(server).update_routine(
        "rtn_1", expected_rev=3, cron="0 10 * * *", timezone="Europe/Paris", misfire="skip", name="n"
    )
    request = server.requests[0]
    assert (request.method, request.url.path) == ("PATCH", "/v1/routines/rtn_1")
    assert body_of(request) == {
        "name": "n",
        "schedule": {"cron": "0 10 * * *", "timezone": "Europe/Paris"},
        "misfire": {"policy": "skip"},
        "expected_rev": 3,
    }
    assert request.headers["Idempotency-Key"]
    assert updated.rev == 4


def test_update_routine_passes_whole_objects_through(connect: Connect) -> None:
    server = Recorder(ok(routine()))
    connect(server).update_routine(
        "rtn_1", schedule={"interval_s": 60}, action=COMMAND, external_allowed=True, overlap="allow"
    )
    assert body_of(server.requests[0]) == {
        "schedule": {"interval_s": 60},
        "action": COMMAND,
        "external_allowed": True,
        "overlap": "allow",
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"timezone": "Europe/Berlin"},
        {"schedule": {"interval_s": 5}, "cron": "* * * * *"},
        {"name": "x", "expected_rev": 0},
    ],
    ids=["zone-without-cron", "schedule-and-cron", "revision-0"],
)
def test_update_routine_refuses_what_cannot_be_sent(connect: Connect, changes: dict[str, object]) -> None:
    server = Recorder()
    with pytest.raises(ValueError):
        connect(server).update_routine("rtn_1", **changes)  # type: ignore[arg-type]
    assert server.requests == []


def test_a_stale_expected_rev_raises_revision_conflict(connect: Connect) -> None:
    server = Recorder(problem(409, "REVISION_CONFLICT", "rtn_1 is at revision 5", current_rev=5))
    with pytest.raises(sdk.RevisionConflict) as caught:
        connect(server).update_routine("rtn_1", expected_rev=3, name="x")
    assert caught.value.current_rev == 5


def test_delete_routine_answers_the_deletion(connect: Connect) -> None:
    server = Recorder(ok({"id": "rtn_1", "deleted": True}))
    assert connect(server).delete_routine("rtn_1") == {"id": "rtn_1", "deleted": True}
    request = server.requests[0]
    assert (request.method, request.url.path) == ("DELETE", "/v1/routines/rtn_1")
    assert request.headers["Idempotency-Key"]


def test_lifecycle_calls_post_to_their_action(connect: Connect) -> None:
    server = Recorder(
        ok(routine(status="active")),
        ok(routine(status="paused", next_fire_at=None)),
        ok(routine(status="active")),
        ok(routine(status="active")),
    )
    client = connect(server)
    assert client.activate_routine("rtn_1").status == "active"
    assert client.pause_routine("rtn_1").next_fire_at is None
    client.resume_routine("rtn_1")
    client.resume_routine("rtn_1", apply_misfire=True)
    assert [(r.method, r.url.path) for r in server.requests] == [
        ("POST", "/v1/routines/rtn_1/activate"),
        ("POST", "/v1/routines/rtn_1/pause"),
        ("POST", "/v1/routines/rtn_1/resume"),
        ("POST", "/v1/routines/rtn_1/resume"),
    ]
    assert [body_of(r) for r in server.requests[2:]] == [{"apply_misfire": False}, {"apply_misfire": True}]
    assert all(r.headers["Idempotency-Key"] for r in server.requests)


def test_an_agent_activating_gets_forbidden(connect: Connect) -> None:
    server = Recorder(problem(403, "FORBIDDEN", "a person must activate a routine; agents create drafts"))
    with pytest.raises(sdk.Forbidden):
        connect(server).activate_routine("rtn_1")


# -- runs -------------------------------------------------------------------------------


def test_run_routine_now_returns_the_manual_run(connect: Connect) -> None:
    run = routine_run(trigger="manual", status="pending_approval", approval_id="apr_1", finished_at=None)
    server = Recorder(ok(run, 202))
    got = connect(server).run_routine_now("rtn_1")
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/routines/rtn_1/run-now")
    assert request.headers["Idempotency-Key"]
    assert (got.status, got.trigger, got.approval_id, got.finished_at) == (
        "pending_approval",
        "manual",
        "apr_1",
        None,
    )


def test_run_now_of_a_blocked_routine_raises_policy_blocked_with_the_recorded_run(connect: Connect) -> None:
    blocked = routine_run(status="blocked_policy", trigger="manual", finished_at=None, started_at=None)
    server = Recorder(
        problem(403, "POLICY_BLOCKED", "routine rtn_1: the action has external side effects", run=blocked)
    )
    with pytest.raises(sdk.PolicyBlocked) as caught:
        connect(server).run_routine_now("rtn_1")
    assert not isinstance(caught.value, sdk.Forbidden)
    assert caught.value.status == 403
    assert caught.value.run is not None and caught.value.run["status"] == "blocked_policy"
    assert str(caught.value).startswith("POLICY_BLOCKED: routine rtn_1")
    assert len(server.requests) == 1  # a refusal is not retried


def test_run_now_of_a_draft_is_a_conflict(connect: Connect) -> None:
    server = Recorder(problem(409, "ROUTINE_DRAFT", "rtn_1 is a draft; a person must activate it first"))
    with pytest.raises(sdk.Conflict) as caught:
        connect(server).run_routine_now("rtn_1")
    assert caught.value.code == "ROUTINE_DRAFT"


def test_routine_history_pages_back_with_before_id(connect: Connect) -> None:
    body = {
        "items": [
            routine_run("run_2", trigger="manual"),
            routine_run("run_1", status="missed", detail={"reason": "paused", "count": 3}),
        ],
        "next_before_id": "run_1",
    }
    server = Recorder(ok(body))
    page = connect(server).routine_history("rtn_1", limit=2, before_id="run_3")
    request = server.requests[0]
    assert (request.method, request.url.path) == ("GET", "/v1/routines/rtn_1/history")
    assert dict(request.url.params) == {"limit": "2", "before_id": "run_3"}
    assert [(r.id, r.status) for r in page.items] == [("run_2", "succeeded"), ("run_1", "missed")]
    assert page.items[1].detail["count"] == 3
    assert page.next_before_id == "run_1"
    assert page.raw == body


def test_watch_routines_follows_the_routine_stream_and_resumes_after_a_drop(connect: Connect) -> None:
    fired = envelope(7, "routine.fired", "routine/rtn_1")
    finished = envelope(8, "routine.run_finished", "routine/rtn_1")
    server = Recorder(
        sse_response(frame(fired), httpx.ReadError("dropped")),
        sse_response(frame(fired), frame(finished)),
    )
    with closing(connect(server).watch_routines(after=6)) as stream:
        events = list(itertools.islice(stream, 2))
    assert [(e.seq, e.type) for e in events] == [(7, "routine.fired"), (8, "routine.run_finished")]
    first, second = server.requests
    assert first.url.path == second.url.path == "/v1/streams/routines"
    assert dict(first.url.params) == {"after": "6"}
    assert second.headers["Last-Event-ID"] == "7"


def test_watch_routines_without_after_starts_at_the_head(connect: Connect) -> None:
    server = Recorder(sse_response(frame(envelope(42, "routine.created", "routine/rtn_1"))), head_seq=41)
    with closing(connect(server).watch_routines()) as stream:
        assert next(stream).seq == 42
    assert dict(server.requests[0].url.params) == {"after": "41"}


# -- approvals --------------------------------------------------------------------------


def test_list_approvals_asks_for_pending_ones_by_default(connect: Connect) -> None:
    server = Recorder(ok({"items": [approval()]}), ok({"items": []}), ok({"items": []}))
    client = connect(server)
    approvals = client.list_approvals()
    client.list_approvals("denied", limit=5)
    client.list_approvals(None)
    assert [(r.url.path, dict(r.url.params)) for r in server.requests] == [
        ("/v1/approvals", {"status": "pending"}),
        ("/v1/approvals", {"status": "denied", "limit": "5"}),
        ("/v1/approvals", {}),
    ]
    assert isinstance(approvals[0], Approval)
    assert (approvals[0].id, approvals[0].status, approvals[0].payload["run_id"]) == (
        "apr_1",
        "pending",
        "run_1",
    )
    assert approvals[0].expires_at == datetime(2026, 11, 22, 18, 26, 0, 123456, tzinfo=UTC)


def test_get_approval_and_its_not_found(connect: Connect) -> None:
    server = Recorder(
        ok(approval()), problem(404, "APPROVAL_NOT_FOUND", "no approval 'apr_9'", approval_id="apr_9")
    )
    client = connect(server)
    assert client.get_approval("apr_1").subject == "routine/rtn_1/run/run_1"
    with pytest.raises(sdk.ApprovalNotFound) as caught:
        client.get_approval("apr_9")
    assert isinstance(caught.value, sdk.NotFound)
    assert caught.value.approval_id == "apr_9"
    assert server.requests[0].url.path == "/v1/approvals/apr_1"


def test_approve_and_deny_post_their_reasons(connect: Connect) -> None:
    server = Recorder(
        ok(approval(status="approved", decider="user:admin")),
        ok(approval(status="approved", decider="user:admin", reason="fine")),
        ok(approval(status="denied", decider="user:admin", reason="not today")),
    )
    client = connect(server)
    assert client.approve("apr_1").status == "approved"
    assert client.approve("apr_1", reason="fine").reason == "fine"
    denied = client.deny("apr_1", "not today")
    assert (denied.status, denied.decider, denied.reason) == ("denied", "user:admin", "not today")
    assert [(r.method, r.url.path, body_of(r)) for r in server.requests] == [
        ("POST", "/v1/approvals/apr_1/approve", {}),
        ("POST", "/v1/approvals/apr_1/approve", {"reason": "fine"}),
        ("POST", "/v1/approvals/apr_1/deny", {"reason": "not today"}),
    ]
    assert all(r.headers["Idempotency-Key"] for r in server.requests)


def test_deny_without_a_reason_sends_nothing(connect: Connect) -> None:
    server = Recorder()
    with pytest.raises(ValueError):
        connect(server).deny("apr_1", "  ")
    assert server.requests == []


def test_deciding_twice_is_a_conflict(connect: Connect) -> None:
    server = Recorder(problem(409, "APPROVAL_DECIDED", "approval apr_1 is already approved"))
    with pytest.raises(sdk.Conflict) as caught:
        connect(server).approve("apr_1")
    assert caught.value.code == "APPROVAL_DECIDED"
