"""`missiond routine ...` and `missiond approval ...` against a fake server."""

from __future__ import annotations

import json
import os
import time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from cli_fakes import (
    COMMAND_ACTION,
    FakeServer,
    Invoke,
    approval,
    http_routine,
    problem,
    routine,
    routine_run,
)

NEW_YORK = ZoneInfo("America/New_York")


def ok(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def sent_json(server: FakeServer, route: str, index: int = 0) -> Any:
    return json.loads(server.sent(route)[index].content)


def created(**extra: Any) -> FakeServer:
    doc = routine(**extra)
    doc.pop("last_run")
    return FakeServer().on("POST /v1/routines", ok(doc, 201))


# -- add: options to body ---------------------------------------------------------------


def test_add_a_cron_routine_sends_its_zone_and_shell_text_and_prints_the_servers_document(
    invoke: Invoke,
) -> None:
    server = created()
    result = invoke(
        server, "routine", "add", "nightly audit", "--cron", "0 9 * * *", "--tz", "Europe/Berlin",
        "--command", "make audit",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == sent_doc(server)
    request = server.sent("POST /v1/routines")[0]
    assert json.loads(request.content) == {
        "name": "nightly audit",
        "schedule": {"cron": "0 9 * * *", "timezone": "Europe/Berlin"},
        "action": {"kind": "command", "shell": "make audit"},
        "requires_approval": False,
        "external_allowed": False,
    }
    assert request.headers["Idempotency-Key"]


def sent_doc(server: FakeServer) -> Any:
    doc = routine()
    doc.pop("last_run")
    return doc


def test_add_maps_every_option_to_the_body(invoke: Invoke) -> None:
    server = created()
    result = invoke(
        server, "routine", "add", "tick", "--every", "30", "--argv-json", '["make", "audit"]', "--external",
        "--allow-external", "--approval", "--misfire", "catch_up", "--max-runs", "5", "--grace", "10",
        "--overlap", "queue_one", "--draft", "--cwd", "/srv", "--timeout", "90",
        "--idempotency-key", "k1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    request = server.sent("POST /v1/routines")[0]
    assert json.loads(request.content) == {
        "name": "tick",
        "schedule": {"interval_s": 30},
        "action": {
            "kind": "command",
            "argv": ["make", "audit"],
            "external": True,
            "cwd": "/srv",
            "timeout_s": 90,
        },
        "misfire": {"policy": "catch_up", "max_runs": 5, "grace_s": 10},
        "overlap": "queue_one",
        "requires_approval": True,
        "external_allowed": True,
        "status": "draft",
    }
    assert request.headers["Idempotency-Key"] == "k1"


def test_add_an_http_post_routine_uses_the_connector(invoke: Invoke) -> None:
    server = created()
    result = invoke(
        server, "routine", "add", "hook", "--every", "3600", "--http-post", "https://hooks.example/x",
        "--timeout", "5",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sent_json(server, "POST /v1/routines")["action"] == {
        "kind": "connector",
        "connector": "http.post",
        "params": {"url": "https://hooks.example/x"},
        "timeout_s": 5,
    }


def test_add_a_task_routine_files_a_task(invoke: Invoke) -> None:
    server = created()
    result = invoke(server, "routine", "add", "triage", "--cron", "0 9 * * 1", "--task-title", "Triage")
    assert result.exit_code == 0, result.output
    body = sent_json(server, "POST /v1/routines")
    assert body["action"] == {"kind": "task", "task": {"title": "Triage"}}
    assert body["schedule"] == {"cron": "0 9 * * 1"}


def test_only_the_misfire_options_given_are_sent(invoke: Invoke) -> None:
    server = created()
    result = invoke(server, "routine", "add", "x", "--every", "5", "--command", "true", "--grace", "0")
    assert result.exit_code == 0, result.output
    assert sent_json(server, "POST /v1/routines")["misfire"] == {"grace_s": 0}


@pytest.mark.parametrize(
    "args",
    [
        ["--command", "true"],
        ["--cron", "* * * * *", "--every", "5", "--command", "true"],
        ["--every", "5", "--tz", "Europe/Berlin", "--command", "true"],
        ["--every", "5"],
        ["--every", "5", "--command", "true", "--task-title", "T"],
        ["--every", "5", "--argv-json", "make audit"],
        ["--every", "5", "--argv-json", "[]"],
        ["--every", "5", "--argv-json", '["make", 1]'],
        ["--every", "5", "--http-post", "https://x.example", "--external"],
        ["--every", "5", "--task-title", "T", "--cwd", "/srv"],
        ["--every", "5", "--task-title", "T", "--timeout", "5"],
        ["--every", "0.5", "--command", "true"],
        ["--every", "5", "--command", "true", "--misfire", "sometimes"],
        ["--every", "5", "--command", "true", "--max-runs", "101"],
        ["--every", "5", "--command", "true", "--overlap", "never"],
    ],
    ids=[
        "no-schedule",
        "two-schedules",
        "zone-for-an-interval",
        "no-action",
        "two-actions",
        "argv-not-json",
        "argv-empty",
        "argv-not-strings",
        "external-connector",
        "cwd-for-a-task",
        "timeout-for-a-task",
        "interval-under-1s",
        "unknown-misfire",
        "too-many-runs",
        "unknown-overlap",
    ],
)
def test_add_refuses_bad_options_with_exit_2_and_sends_nothing(invoke: Invoke, args: list[str]) -> None:
    server = created()
    result = invoke(server, "routine", "add", "x", *args)
    assert result.exit_code == 2, result.output
    assert server.sent("POST /v1/routines") == []


def test_add_for_people_says_what_was_created_and_warns_about_a_blocked_external_action(
    invoke: Invoke,
) -> None:
    doc = http_routine()
    doc.pop("last_run")
    server = FakeServer().on("POST /v1/routines", ok(doc, 201))
    result = invoke(
        server, "--no-json", "routine", "add", "hook", "--cron", "0 9 * * *", "--tz", "Europe/Berlin",
        "--http-post", "https://hooks.example/x", local_zone=NEW_YORK,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "created rtn_2 'hook': cron '0 9 * * *' in Europe/Berlin · active · EXTERNAL · "
        "next 2026-11-22 09:00 Europe/Berlin (03:00 local)"
    )
    assert "EXTERNAL action and external effects are not allowed" in result.stderr
    assert "blocked by policy" in result.stderr


def test_add_of_an_invalid_schedule_exits_1_naming_the_field(invoke: Invoke) -> None:
    refused = problem(
        400, "INVALID_SCHEDULE", "body.schedule.cron: '61 * * * *' is not a valid cron expression"
    )
    server = FakeServer().on("POST /v1/routines", refused)
    result = invoke(server, "routine", "add", "x", "--cron", "61 * * * *", "--command", "true")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "error: INVALID_SCHEDULE: body.schedule.cron: '61 * * * *' is not a valid cron expression"
    )


# -- list and show: zones, badges, last result --------------------------------------------


def listing(*docs: dict[str, Any]) -> dict[str, Any]:
    return {"items": list(docs), "next_after_id": None}


def test_list_with_json_prints_the_servers_document_unchanged(invoke: Invoke) -> None:
    body = listing(routine(), http_routine())
    server = FakeServer().on("GET /v1/routines", ok(body))
    result = invoke(server, "routine", "list", "--status", "active", "--limit", "5", "--after-id", "rtn_0")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body
    assert dict(server.sent("GET /v1/routines")[0].url.params) == {
        "status": "active",
        "after_id": "rtn_0",
        "limit": "5",
    }


def test_list_for_people_shows_next_fire_in_the_routines_zone_and_the_local_one(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/routines", ok(listing(routine())))
    result = invoke(server, "--no-json", "routine", "list", local_zone=ZoneInfo("Europe/London"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["rtn_1", "nightly", "audit", "active"]
    assert "cron '0 9 * * *' in Europe/Berlin" in lines[1]
    assert lines[2].split(maxsplit=1) == ["next", "2026-11-22 09:00 Europe/Berlin (08:00 local)"]
    assert lines[3].split(maxsplit=1)[0] == "last"
    assert "succeeded (scheduled) 2026-11-22 09:00:01 Europe/Berlin (08:00:01 local)" in lines[3]
    assert "exit 0 · hi" in lines[3]
    assert lines[-1] == "1 routine"
    assert "EXTERNAL" not in result.stdout


def test_the_local_part_carries_the_date_when_it_differs(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/routines", ok(listing(routine(last_run=None))))
    result = invoke(server, "--no-json", "routine", "list", local_zone=ZoneInfo("Pacific/Honolulu"))
    assert "2026-11-22 09:00 Europe/Berlin (2026-11-21 22:00 local)" in result.stdout
    assert "no runs yet" in result.stdout


def test_the_local_zone_defaults_to_tz(invoke: Invoke) -> None:
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    try:
        server = FakeServer().on("GET /v1/routines", ok(listing(routine())))
        result = invoke(server, "--no-json", "routine", "list")
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()
    assert "2026-11-22 09:00 Europe/Berlin (17:00 local)" in result.stdout


def test_an_interval_routine_shows_utc_with_seconds(invoke: Invoke) -> None:
    doc = routine(
        schedule={"interval_s": 1.0}, schedule_text="every 1 s", next_fire_at="2026-11-22T08:00:05.250000Z"
    )
    server = FakeServer().on("GET /v1/routines", ok(listing(doc)))
    result = invoke(server, "--no-json", "routine", "list", local_zone=NEW_YORK)
    assert "every 1 s" in result.stdout
    assert "2026-11-22 08:00:05 UTC (03:00:05 local)" in result.stdout


def test_an_external_routine_wears_a_red_external_badge(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    server = FakeServer().on("GET /v1/routines", ok(listing(routine(), http_routine())))
    result = invoke(server, "--no-json", "routine", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    hook = next(line for line in lines if "rtn_2" in line)
    audit = next(line for line in lines if "rtn_1" in line)
    assert "EXTERNAL" in hook and "EXTERNAL" not in audit
    red_badge = hook[: hook.index("EXTERNAL")].rsplit("\x1b[", 1)[-1]
    assert "41" in red_badge  # on red


def test_show_for_people_has_the_schedule_zones_last_result_action_and_policy(invoke: Invoke) -> None:
    doc = http_routine(
        requires_approval=True,
        last_run=routine_run(
            "run_7",
            routine_id="rtn_2",
            status="blocked_policy",
            trigger="manual",
            started_at=None,
            finished_at=None,
            scheduled_for="2026-11-21T17:30:00Z",
            detail={"policy": "blocked_policy", "reason": "external and external_allowed is false"},
        ),
    )
    server = FakeServer().on("GET /v1/routines/rtn_2", ok(doc))
    result = invoke(server, "--no-json", "routine", "show", "rtn_2", local_zone=NEW_YORK)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.splitlines()[0].split() == ["rtn_2", "hook", "EXTERNAL", "APPROVAL"]
    for expected in (
        "cron '0 9 * * *' in Europe/Berlin",
        "next fire    2026-11-22 09:00 Europe/Berlin (03:00 local)",
        "last fired   2026-11-21 09:00 Europe/Berlin (03:00 local)",
        "blocked_policy (manual) 2026-11-21 18:30 Europe/Berlin (12:30 local)",
        "external and external_allowed is false",
        "connector http.post: https://hooks.example/x",
        "runs are blocked: external effects not allowed (--allow-external)",
        "required for every run",
        "run_once (grace 60 s)",
    ):
        assert expected in out, expected


def test_show_with_json_prints_the_servers_document_unchanged(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/routines/rtn_1", ok(routine()))
    result = invoke(server, "routine", "show", "rtn_1")
    assert json.loads(result.stdout) == routine()


def test_show_of_a_paused_routine_has_no_next_fire(invoke: Invoke) -> None:
    doc = routine(status="paused", next_fire_at=None, action={**COMMAND_ACTION, "cwd": "/srv"})
    server = FakeServer().on("GET /v1/routines/rtn_1", ok(doc))
    result = invoke(server, "--no-json", "routine", "show", "rtn_1")
    assert "none while paused" in result.stdout
    assert "command: make audit (in /srv)" in result.stdout


def test_show_of_a_missing_routine_exits_1(invoke: Invoke) -> None:
    server = FakeServer().on(
        "GET /v1/routines/rtn_9", problem(404, "ROUTINE_NOT_FOUND", "no routine 'rtn_9'")
    )
    result = invoke(server, "routine", "show", "rtn_9")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "error: ROUTINE_NOT_FOUND: no routine 'rtn_9'"


# -- edit -------------------------------------------------------------------------------


def editing(current: dict[str, Any]) -> FakeServer:
    edited = dict(current, rev=current["rev"] + 1)
    return FakeServer().on("GET /v1/routines/rtn_1", ok(current)).on("PATCH /v1/routines/rtn_1", ok(edited))


def test_edit_sends_only_the_changes_conditional_on_the_revision_it_read(invoke: Invoke) -> None:
    server = editing(routine())
    result = invoke(server, "routine", "edit", "rtn_1", "--name", "audit", "--overlap", "allow", "--approval")
    assert result.exit_code == 0, result.output
    assert sent_json(server, "PATCH /v1/routines/rtn_1") == {
        "name": "audit",
        "overlap": "allow",
        "requires_approval": True,
        "expected_rev": 3,
    }
    assert json.loads(result.stdout)["rev"] == 4


def test_a_new_cron_keeps_the_zone_and_a_new_zone_keeps_the_cron(invoke: Invoke) -> None:
    server = editing(routine())
    assert invoke(server, "routine", "edit", "rtn_1", "--cron", "0 10 * * *").exit_code == 0
    assert invoke(server, "routine", "edit", "rtn_1", "--tz", "Asia/Tokyo").exit_code == 0
    assert [sent_json(server, "PATCH /v1/routines/rtn_1", i)["schedule"] for i in (0, 1)] == [
        {"cron": "0 10 * * *", "timezone": "Europe/Berlin"},
        {"cron": "0 9 * * *", "timezone": "Asia/Tokyo"},
    ]


def test_edit_to_an_interval_drops_the_zone(invoke: Invoke) -> None:
    server = editing(routine())
    assert invoke(server, "routine", "edit", "rtn_1", "--every", "60").exit_code == 0
    assert sent_json(server, "PATCH /v1/routines/rtn_1")["schedule"] == {"interval_s": 60}


def test_edit_merges_the_misfire_options_into_the_current_policy(invoke: Invoke) -> None:
    server = editing(routine(misfire={"policy": "catch_up", "max_runs": 4, "grace_s": 60.0}))
    assert invoke(server, "routine", "edit", "rtn_1", "--grace", "5").exit_code == 0
    assert sent_json(server, "PATCH /v1/routines/rtn_1")["misfire"] == {
        "policy": "catch_up",
        "max_runs": 4,
        "grace_s": 5,
    }


def test_edit_external_marks_the_current_command(invoke: Invoke) -> None:
    server = editing(routine())
    result = invoke(server, "routine", "edit", "rtn_1", "--external", "--allow-external")
    assert result.exit_code == 0, result.output
    body = sent_json(server, "PATCH /v1/routines/rtn_1")
    assert body["action"] == {**COMMAND_ACTION, "external": True}
    assert body["external_allowed"] is True


def test_a_new_command_stays_external_when_the_old_one_was(invoke: Invoke) -> None:
    current = routine(action={**COMMAND_ACTION, "external": True, "timeout_s": 30.0}, action_class="external")
    server = editing(current)
    assert invoke(server, "routine", "edit", "rtn_1", "--command", "make other").exit_code == 0
    assert sent_json(server, "PATCH /v1/routines/rtn_1")["action"] == {
        "kind": "command",
        "shell": "make other",
        "env": {},
        "timeout_s": 30.0,
        "external": True,
    }


def test_a_new_action_of_another_kind_replaces_the_old_one(invoke: Invoke) -> None:
    server = editing(routine())
    assert invoke(server, "routine", "edit", "rtn_1", "--task-title", "T").exit_code == 0
    assert sent_json(server, "PATCH /v1/routines/rtn_1")["action"] == {"kind": "task", "task": {"title": "T"}}


@pytest.mark.parametrize(
    ("current", "args"),
    [
        (routine(), []),
        (routine(schedule={"interval_s": 5.0}), ["--tz", "Europe/Berlin"]),
        (routine(), ["--cron", "* * * * *", "--every", "5"]),
        (http_routine(), ["--external"]),
    ],
    ids=["nothing", "zone-for-an-interval", "two-schedules", "external-connector"],
)
def test_edit_refuses_with_exit_2_and_changes_nothing(
    invoke: Invoke, current: dict[str, Any], args: list[str]
) -> None:
    server = editing(current)
    server.on("GET /v1/routines/rtn_1", ok(dict(current, id="rtn_1")))
    result = invoke(server, "routine", "edit", "rtn_1", *args)
    assert result.exit_code == 2, result.output
    assert server.sent("PATCH /v1/routines/rtn_1") == []


def test_an_edit_that_lost_a_race_exits_1_with_revision_conflict(invoke: Invoke) -> None:
    server = editing(routine()).on(
        "PATCH /v1/routines/rtn_1", problem(409, "REVISION_CONFLICT", "rtn_1 is at revision 4")
    )
    result = invoke(server, "routine", "edit", "rtn_1", "--name", "x")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: REVISION_CONFLICT: ")


# -- lifecycle, run-now, rm, history ----------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "path", "status"),
    [
        ("activate", "/v1/routines/rtn_1/activate", "active"),
        ("pause", "/v1/routines/rtn_1/pause", "paused"),
        ("resume", "/v1/routines/rtn_1/resume", "active"),
    ],
)
def test_lifecycle_commands_post_and_print_the_routine(
    invoke: Invoke, command: str, path: str, status: str
) -> None:
    doc = routine(status=status)
    server = FakeServer().on(f"POST {path}", ok(doc))
    result = invoke(server, "routine", command, "rtn_1")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == doc
    assert len(server.sent(f"POST {path}")) == 1


def test_resume_sends_apply_misfire(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/routines/rtn_1/resume", ok(routine()))
    assert invoke(server, "routine", "resume", "rtn_1").exit_code == 0
    assert invoke(server, "routine", "resume", "rtn_1", "--apply-misfire").exit_code == 0
    assert [sent_json(server, "POST /v1/routines/rtn_1/resume", i) for i in (0, 1)] == [
        {"apply_misfire": False},
        {"apply_misfire": True},
    ]


def test_pause_for_people(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/routines/rtn_1/pause", ok(routine(status="paused", next_fire_at=None)))
    result = invoke(server, "--no-json", "routine", "pause", "rtn_1")
    assert result.stdout.strip() == "rtn_1 paused: cron '0 9 * * *' in Europe/Berlin · paused"


def test_activate_by_an_agent_exits_1_forbidden(invoke: Invoke) -> None:
    server = FakeServer().on(
        "POST /v1/routines/rtn_1/activate", problem(403, "FORBIDDEN", "a person must activate a routine")
    )
    result = invoke(server, "routine", "activate", "rtn_1")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "error: FORBIDDEN: a person must activate a routine"


def test_run_now_prints_the_queued_run(invoke: Invoke) -> None:
    run = routine_run(trigger="manual", status="queued", started_at=None, finished_at=None, detail={})
    server = FakeServer().on("POST /v1/routines/rtn_1/run-now", ok(run, 202))
    result = invoke(server, "routine", "run-now", "rtn_1")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == run
    people = invoke(server, "--no-json", "routine", "run-now", "rtn_1")
    assert people.stdout.strip() == "run run_1 of rtn_1 is queued (manual)"


def test_run_now_waiting_for_approval_says_how_to_approve(invoke: Invoke) -> None:
    run = routine_run(trigger="manual", status="pending_approval", approval_id="apr_1", finished_at=None)
    server = FakeServer().on("POST /v1/routines/rtn_1/run-now", ok(run, 202))
    result = invoke(server, "--no-json", "routine", "run-now", "rtn_1")
    assert result.stdout.strip() == (
        "run run_1 of rtn_1 waits for approval apr_1: missiond approval approve apr_1"
    )


def test_run_now_of_a_blocked_routine_exits_1_with_policy_blocked(invoke: Invoke) -> None:
    detail = "routine rtn_2: the action has external side effects and external_allowed is false"
    server = FakeServer().on("POST /v1/routines/rtn_2/run-now", problem(403, "POLICY_BLOCKED", detail))
    result = invoke(server, "--no-json", "routine", "run-now", "rtn_2")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == f"error: POLICY_BLOCKED: {detail}"


def test_rm_deletes(invoke: Invoke) -> None:
    server = FakeServer().on("DELETE /v1/routines/rtn_1", ok({"id": "rtn_1", "deleted": True}))
    result = invoke(server, "routine", "rm", "rtn_1")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"id": "rtn_1", "deleted": True}
    assert invoke(server, "--no-json", "routine", "rm", "rtn_1").stdout.strip() == "deleted rtn_1"


def test_history_pages_and_prints(invoke: Invoke) -> None:
    body = {
        "items": [
            routine_run("run_3", status="succeeded", detail={"task_id": "tsk_1"}),
            routine_run("run_2", status="blocked_policy", trigger="manual", detail={"reason": "external"}),
            routine_run("run_1", status="missed", detail={"reason": "paused", "count": 3}),
        ],
        "next_before_id": "run_1",
    }
    server = FakeServer().on("GET /v1/routines/rtn_1/history", ok(body))
    result = invoke(server, "routine", "history", "rtn_1", "--limit", "3", "--before-id", "run_4")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body
    assert dict(server.sent("GET /v1/routines/rtn_1/history")[0].url.params) == {
        "limit": "3",
        "before_id": "run_4",
    }
    people = invoke(server, "--no-json", "routine", "history", "rtn_1", local_zone=NEW_YORK)
    lines = people.stdout.splitlines()
    assert lines[0].split()[:3] == ["run_3", "succeeded", "scheduled"]
    assert "2026-11-22 08:00 UTC (03:00 local)" in lines[0] and "task tsk_1" in lines[0]
    assert lines[1].split()[:3] == ["run_2", "blocked_policy", "manual"] and "external" in lines[1]
    assert "3 missed (paused)" in lines[2]
    assert lines[3] == "3 runs · more: --before-id run_1"


# -- approvals --------------------------------------------------------------------------


def test_approval_list_asks_for_pending_ones_and_prints_the_items(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/approvals", ok({"items": [approval()]}))
    result = invoke(server, "approval", "list")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"items": [approval()]}
    assert dict(server.sent("GET /v1/approvals")[0].url.params) == {"status": "pending"}
    assert invoke(server, "approval", "list", "--status", "denied", "--limit", "3").exit_code == 0
    assert dict(server.sent("GET /v1/approvals")[1].url.params) == {"status": "denied", "limit": "3"}


def test_approval_list_for_people(invoke: Invoke) -> None:
    decided = approval("apr_2", "denied", decider="user:admin", reason="not now")
    server = FakeServer().on("GET /v1/approvals", ok({"items": [approval(), decided]}))
    result = invoke(server, "--no-json", "approval", "list", local_zone=NEW_YORK)
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["apr_1", "pending", "routine/rtn_1/run/run_1"]
    assert "expires 2026-11-22 18:26:00 UTC (13:26:00 local)" in lines[0]
    assert lines[1].strip() == "run routine 'nightly audit' (every 3600 s): internal action task"
    assert "by user:admin: not now" in lines[2]
    assert lines[-1] == "2 pending approvals"


def test_approval_show(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/approvals/apr_1", ok(approval()))
    result = invoke(server, "approval", "show", "apr_1")
    assert json.loads(result.stdout) == approval()


def test_approve_with_and_without_a_reason(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/approvals/apr_1/approve", ok(approval(status="approved")))
    assert invoke(server, "approval", "approve", "apr_1").exit_code == 0
    result = invoke(server, "--no-json", "approval", "approve", "apr_1", "--reason", "fine")
    assert result.exit_code == 0, result.output
    assert [sent_json(server, "POST /v1/approvals/apr_1/approve", i) for i in (0, 1)] == [
        {},
        {"reason": "fine"},
    ]
    assert result.stdout.strip() == "apr_1 approved: routine/rtn_1/run/run_1"


def test_deny_needs_a_reason(invoke: Invoke) -> None:
    server = FakeServer().on("POST /v1/approvals/apr_1/deny", ok(approval(status="denied", reason="no")))
    assert invoke(server, "approval", "deny", "apr_1").exit_code == 2
    assert invoke(server, "approval", "deny", "apr_1", "--reason", "  ").exit_code == 2
    assert server.sent("POST /v1/approvals/apr_1/deny") == []
    result = invoke(server, "approval", "deny", "apr_1", "--reason", "no")
    assert result.exit_code == 0, result.output
    assert sent_json(server, "POST /v1/approvals/apr_1/deny") == {"reason": "no"}


def test_approving_a_missing_approval_exits_1(invoke: Invoke) -> None:
    server = FakeServer().on(
        "POST /v1/approvals/apr_9/approve", problem(404, "APPROVAL_NOT_FOUND", "no approval 'apr_9'")
    )
    result = invoke(server, "approval", "approve", "apr_9")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "error: APPROVAL_NOT_FOUND: no approval 'apr_9'"
