"""Routines in the TUI: the list (schedule, next fire, last result, EXTERNAL badge), the form
(validated here and by the server), activate, pause, resume, run now, delete, history."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Checkbox, Input, Select

from missiond.sdk import Client, RoutineNotFound

from .harness import errors, row_keys, screen_text, select_row, show, table_rows, wait_for

pytestmark = pytest.mark.anyio

COMMAND = {"kind": "command", "argv": ["true"]}


def _by_name(sdk: Client, name: str) -> Any:
    return next((r for r in sdk.list_routines(limit=500).items if r.name == name), None)


async def _fill(pilot: Any, app: Any, **values: str) -> None:
    for name, value in values.items():
        app.screen.query_one(f"#{name}", Input).value = value
    await pilot.pause()


async def test_creating_a_routine_with_the_form_stores_it_and_lists_it(sdk: Client, make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "3")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen.query("#cron"), what="the form")
        await _fill(
            pilot, app, name="tui nightly", cron="0 3 * * *", timezone="Europe/Berlin", command="true"
        )
        await pilot.press("ctrl+s")
        routine = await wait_for(
            pilot, lambda: _by_name(sdk, "tui nightly"), what="the routine on the server"
        )
        assert routine.cron == "0 3 * * *" and routine.timezone == "Europe/Berlin"
        assert routine.action["argv"] == ["true"] and routine.status == "active"
        await wait_for(pilot, lambda: routine.id in row_keys(app, "#routines"), what="the routine listed")
        row = table_rows(app, "#routines")[row_keys(app, "#routines").index(routine.id)]
        assert row[2] == "cron '0 3 * * *' in Europe/Berlin"
        assert "(in " in row[3]  # next fire with its distance
        assert row[4] == "never ran" and row[5] == "internal"


async def test_the_form_refuses_bad_input_before_and_after_asking_the_server(
    sdk: Client, make_app: Any
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "3")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen.query("#cron"), what="the form")
        await _fill(pilot, app, name="", cron="0 3 * *", timezone="Mars/Olympus", command="")
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert screen_text(app, "#name-error") == "a name is required"
        assert screen_text(app, "#cron-error") == "a cron expression has 5 fields, this has 4"
        assert screen_text(app, "#timezone-error") == "unknown time zone 'Mars/Olympus'"
        assert screen_text(app, "#command-error") == "a command is required"

        # five fields, but minute 61 does not exist: only the server can say so
        await _fill(pilot, app, name="tui broken", cron="61 3 * * *", timezone="UTC", command="true")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen_text(app, "#cron-error"), what="the server's field error")
        assert screen_text(app, "#form-error").startswith("INVALID_SCHEDULE")
        assert [n.title for n in errors(app)] == ["INVALID_SCHEDULE"]
        assert app.screen.query("#cron")  # the form stays open with what was typed
        assert _by_name(sdk, "tui broken") is None

        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.query("#routines"), what="back on the list")


async def test_edit_pause_resume_activate_run_now_history_and_delete(sdk: Client, make_app: Any) -> None:
    routine = sdk.create_routine("tui lifecycle", interval_s=3600, action=COMMAND)
    draft = sdk.create_routine("tui draft", interval_s=3600, action=COMMAND, status="draft")

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "3")
        await wait_for(pilot, lambda: routine.id in row_keys(app, "#routines"), what="listed")

        select_row(app, "#routines", routine.id)
        await pilot.press("e")
        await wait_for(pilot, lambda: app.screen.query("#interval"), what="the edit form")
        assert app.screen.query_one("#name", Input).value == "tui lifecycle"
        await _fill(pilot, app, name="tui lifecycle 2", interval="120")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: sdk.get_routine(routine.id).name == "tui lifecycle 2", what="edited")
        assert sdk.get_routine(routine.id).interval_s == 120

        await wait_for(pilot, lambda: app.screen.query("#routines"), what="back on the list")
        select_row(app, "#routines", routine.id)
        await pilot.press("p")
        await wait_for(pilot, lambda: sdk.get_routine(routine.id).status == "paused", what="paused")
        await pilot.press("r")
        await wait_for(pilot, lambda: sdk.get_routine(routine.id).status == "active", what="resumed")

        await wait_for(pilot, lambda: draft.id in row_keys(app, "#routines"), what="the draft")
        select_row(app, "#routines", draft.id)
        await pilot.press("a")
        await wait_for(pilot, lambda: sdk.get_routine(draft.id).status == "active", what="activated")

        select_row(app, "#routines", routine.id)
        await pilot.press("x")
        await wait_for(
            pilot,
            lambda: [r for r in sdk.routine_history(routine.id).items if r.trigger == "manual"],
            what="a manual run",
        )
        await wait_for(
            pilot,
            lambda: (
                table_rows(app, "#routines")[row_keys(app, "#routines").index(routine.id)][4]
                == "succeeded (exit 0)"
            ),
            what="the last result in the list",
            seen=lambda: table_rows(app, "#routines"),
        )

        select_row(app, "#routines", routine.id)
        await pilot.press("h")
        await wait_for(pilot, lambda: app.screen.query("#runs") and app.screen.loads, what="history")
        runs = table_rows(app, "#runs")
        assert any(r[1] == "manual" and r[2] == "succeeded (exit 0)" for r in runs)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.query("#routines"), what="back on the list")

        select_row(app, "#routines", routine.id)
        await pilot.press("delete")
        await wait_for(pilot, lambda: app.screen.query("#yes"), what="the confirmation")
        await pilot.press("y")

        def deleted() -> bool:
            try:
                sdk.get_routine(routine.id)
            except RoutineNotFound:
                return True
            return False

        await wait_for(pilot, deleted, what="deleted on the server")
        await wait_for(pilot, lambda: routine.id not in row_keys(app, "#routines"), what="gone from the list")
        assert not errors(app)


async def test_an_external_routine_shows_the_badge_and_run_now_shows_the_policy_block(
    sdk: Client, make_app: Any
) -> None:
    routine = sdk.create_routine(
        "tui push", interval_s=3600, action={"kind": "command", "argv": ["true"], "external": True}
    )
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "3")
        await wait_for(pilot, lambda: routine.id in row_keys(app, "#routines"), what="listed")
        row = table_rows(app, "#routines")[row_keys(app, "#routines").index(routine.id)]
        assert row[5].strip() == "EXTERNAL"

        select_row(app, "#routines", routine.id)
        await pilot.press("x")
        notice = await wait_for(pilot, lambda: errors(app), what="the policy problem")
        assert notice[0].title == "POLICY_BLOCKED" and "external" in notice[0].message
        await wait_for(
            pilot,
            lambda: (
                table_rows(app, "#routines")[row_keys(app, "#routines").index(routine.id)][4]
                == "blocked_policy"
            ),
            what="the blocked run as the last result",
        )


async def test_form_checkboxes_reach_the_server(sdk: Client, make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "3")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen.query("#cron"), what="the form")
        await _fill(pilot, app, name="tui gated", cron="*/5 * * * *", timezone="UTC", command="echo hi")
        app.screen.query_one("#requires_approval", Checkbox).value = True
        app.screen.query_one("#external", Checkbox).value = True
        app.screen.query_one("#external_allowed", Checkbox).value = True
        await pilot.press("ctrl+s")
        routine = await wait_for(pilot, lambda: _by_name(sdk, "tui gated"), what="stored")
        assert routine.requires_approval and routine.external_allowed and routine.external


async def test_task_and_connector_actions_from_the_form(sdk: Client, make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "3")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen.query("#cron"), what="the form")
        app.screen.query_one("#action", Select).value = "task"
        await pilot.pause()
        assert str(app.screen.query_one("#command-label").content) == "Task title"
        assert not app.screen.query_one("#external").display
        await _fill(pilot, app, name="tui triage", cron="0 9 * * 1", timezone="UTC", command="Weekly triage")
        await pilot.press("ctrl+s")
        routine = await wait_for(pilot, lambda: _by_name(sdk, "tui triage"), what="the task routine")
        assert routine.action["kind"] == "task" and routine.action["task"]["title"] == "Weekly triage"

        await wait_for(pilot, lambda: routine.id in row_keys(app, "#routines"), what="listed")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen.query("#cron"), what="the form again")
        app.screen.query_one("#action", Select).value = "http.post"
        await _fill(pilot, app, name="tui hook", cron="0 9 * * 1", timezone="UTC", command="ftp://nope")
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert screen_text(app, "#command-error") == "an http:// or https:// URL"
        await _fill(pilot, app, command="https://example.com/hook")
        await pilot.press("ctrl+s")
        hook = await wait_for(pilot, lambda: _by_name(sdk, "tui hook"), what="the connector routine")
        assert hook.external and hook.action["params"]["url"] == "https://example.com/hook"

        await wait_for(pilot, lambda: hook.id in row_keys(app, "#routines"), what="listed")
        select_row(app, "#routines", hook.id)
        await pilot.press("e")
        await wait_for(pilot, lambda: app.screen.query("#action"), what="the edit form")
        assert app.screen.query_one("#action", Select).value == "http.post"
        assert app.screen.query_one("#command", Input).value == "https://example.com/hook"
