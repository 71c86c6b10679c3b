"""Missions in the TUI against a real server: the list, a mission's page, pause/resume/cancel."""

from __future__ import annotations

from typing import Any

import pytest

from missiond.sdk import Client

from .harness import screen_text, scripted_spec, select_row, table_rows, wait_for, wait_sync

pytestmark = pytest.mark.anyio


def _done(sdk: Client, mission_id: str) -> bool:
    return sdk.get_mission(mission_id).status in ("succeeded", "failed")


async def test_mission_list_shows_a_finished_mission_and_its_page_shows_attempts_and_test_tail(
    sdk: Client, make_app: Any, workspace: Any
) -> None:
    spec = scripted_spec("Tail check", workspace, test_command="echo gate-output-line; exit 0")
    mission = sdk.create_mission(spec, start=True)
    wait_sync(lambda: _done(sdk, mission.id), what="the scripted mission to finish")

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        rows = await wait_for(
            pilot,
            lambda: [r for r in table_rows(app, "#missions") if r[0] == mission.id],
            what="the mission in the list",
        )
        assert rows[0][1] == "Tail check"
        assert rows[0][2] == "succeeded"
        assert rows[0][3].endswith("1/1")

        table = app.screen.query_one("#missions")
        table.move_cursor(row=[r[0] for r in table_rows(app, "#missions")].index(mission.id))
        await pilot.press("o")
        await wait_for(pilot, lambda: getattr(app.screen, "mission", None), what="the mission page")
        assert table_rows(app, "#items") == [["a", "done", "1", "0"]]
        item = screen_text(app, "#item")
        assert "#1 executor  run ok" in item
        assert "test passed (exit 0)" in item
        assert "gate-output-line" in item  # the test output tail
        assert f"artifact: artifacts/missions/{mission.id}/a-a1-test.log" in item
        assert "done 1: a" in screen_text(app, "#lanes")

        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.query("#missions"), what="back on the list")


async def test_pause_resume_and_cancel_from_the_mission_page_reach_the_server(
    sdk: Client, make_app: Any, workspace: Any
) -> None:
    mission = sdk.create_mission(scripted_spec("Steer me", workspace, human_review=True), start=True)
    wait_sync(lambda: sdk.get_mission(mission.id).item("a")["status"] == "review", what="review")

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.screen.loads, what="first load")
        from missiond.tui.screens.missions import MissionDetailScreen

        await app.push_screen(MissionDetailScreen(mission.id))
        await wait_for(pilot, lambda: getattr(app.screen, "mission", None), what="the mission page")

        await pilot.press("p")
        await wait_for(pilot, lambda: sdk.get_mission(mission.id).status == "paused", what="paused")
        await wait_for(pilot, lambda: "paused" in screen_text(app, "#header"), what="paused shown")

        await pilot.press("r")
        await wait_for(pilot, lambda: sdk.get_mission(mission.id).status == "running", what="running again")
        await wait_for(pilot, lambda: "running" in screen_text(app, "#header"), what="running shown")

        await pilot.press("c")
        await wait_for(pilot, lambda: app.screen.query("#reason"), what="the reason prompt")
        await pilot.press(*"no longer needed", "enter")
        await wait_for(pilot, lambda: sdk.get_mission(mission.id).status == "cancelled", what="cancelled")
        await wait_for(pilot, lambda: "cancelled" in screen_text(app, "#header"), what="cancelled shown")
        assert sdk.get_mission(mission.id).reason == "no longer needed"


async def test_a_refused_action_shows_the_problem_message_not_a_traceback(
    sdk: Client, make_app: Any, workspace: Any
) -> None:
    mission = sdk.create_mission(scripted_spec("Finished", workspace), start=True)
    wait_sync(lambda: _done(sdk, mission.id), what="finished")

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        from missiond.tui.screens.missions import MissionDetailScreen

        await app.push_screen(MissionDetailScreen(mission.id))
        await wait_for(pilot, lambda: getattr(app.screen, "mission", None), what="the mission page")
        await pilot.press("p")  # a finished mission cannot be paused: the server answers 409
        notice = await wait_for(
            pilot, lambda: next((n for n in app.notices if n.severity == "error"), None), what="an error"
        )
        assert notice.title == "MISSION_EVENT_NOT_APPLICABLE"
        assert "Traceback" not in notice.message and notice.message
        assert app.is_running


async def test_a_draft_is_started_and_a_waiting_review_is_decided_from_the_mission_page(
    sdk: Client, make_app: Any, workspace: Any
) -> None:
    mission = sdk.create_mission(
        scripted_spec("Start and review", workspace, human_review=True, items=("a", "b"))
    )
    assert mission.status == "draft"

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        from missiond.tui.screens.missions import MissionDetailScreen

        await wait_for(pilot, lambda: app.screen.loads, what="first load")
        await app.push_screen(MissionDetailScreen(mission.id))
        await wait_for(pilot, lambda: getattr(app.screen, "mission", None), what="the mission page")
        await pilot.press("s")
        await wait_for(pilot, lambda: sdk.get_mission(mission.id).status == "running", what="started")

        def waiting(item: str) -> bool:
            return sdk.get_mission(mission.id).item(item)["status"] == "review"

        await wait_for(pilot, lambda: waiting("a") and waiting("b"), what="both items in review")
        await wait_for(pilot, lambda: "review 2" in screen_text(app, "#lanes"), what="lanes show review")
        from .harness import select_row

        select_row(app, "#items", "b")
        await pilot.press("d")
        await wait_for(pilot, lambda: app.screen.query("#reason"), what="the reason prompt")
        await pilot.press(*"rename the flag", "enter")
        await wait_for(
            pilot,
            lambda: "rename the flag" in " ".join(sdk.get_mission(mission.id).item("b")["feedback"]),
            what="b sent back with the reason",
        )
        assert sdk.get_mission(mission.id).item("a")["status"] == "review"  # only b was decided

        await wait_for(pilot, lambda: isinstance(app.screen, MissionDetailScreen), what="back on the page")
        select_row(app, "#items", "a")
        await pilot.press("a")
        await wait_for(pilot, lambda: app.screen.query("#reason"), what="the approve prompt")
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: sdk.get_mission(mission.id).item("a")["status"] == "done", what="a done"
        )


async def test_the_list_filters_by_status_pages_by_fifty_and_steers_the_selected_mission(
    sdk: Client, make_app: Any, workspace: Any
) -> None:
    drafts = [sdk.create_mission(scripted_spec(f"Paged {i:02d}", workspace)).id for i in range(55)]
    running = sdk.create_mission(scripted_spec("List steer", workspace, human_review=True), start=True)

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: running.id in table_rows_ids(app), what="the running mission listed")
        screen = app.screen
        while screen.status_filter != "draft":
            await pilot.press("f")
        await wait_for(pilot, lambda: "filter: draft" in screen_text(app, "#summary"), what="draft filter")
        await wait_for(pilot, lambda: len(table_rows_ids(app)) == 50, what="a full first page")
        first_page = table_rows_ids(app)
        assert set(first_page) <= set(_all_drafts(sdk))
        assert set(drafts[-50:]) <= set(first_page) or len(_all_drafts(sdk)) > 55  # newest first
        draft_total = sdk.list_missions("draft").counts["draft"]
        assert f"page 1 (1-50 of {draft_total})" in screen_text(app, "#summary")

        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: "page 2" in screen_text(app, "#summary"), what="page 2")
        second_page = table_rows_ids(app)
        assert second_page and not set(second_page) & set(first_page)
        assert len(first_page) + len(second_page) == min(draft_total, 100)
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: table_rows_ids(app) == first_page, what="back to page 1")

        while screen.status_filter is not None:
            await pilot.press("f")
        await wait_for(pilot, lambda: running.id in table_rows_ids(app), what="all again")
        select_row(app, "#missions", running.id)
        await pilot.press("p")
        await wait_for(
            pilot, lambda: sdk.get_mission(running.id).status == "paused", what="paused from the list"
        )
        await wait_for(pilot, lambda: _row(app, running.id)[2] == "paused", what="paused in the row")
        await pilot.press("r")
        await wait_for(pilot, lambda: sdk.get_mission(running.id).status == "running", what="resumed")
        await pilot.press("c")
        await wait_for(pilot, lambda: app.screen.query("#reason"), what="the reason prompt")
        await pilot.press("enter")
        await wait_for(pilot, lambda: sdk.get_mission(running.id).status == "cancelled", what="cancelled")
        await wait_for(pilot, lambda: _row(app, running.id)[2] == "cancelled", what="cancelled in the row")


def table_rows_ids(app: Any) -> list[str]:
    from .harness import row_keys

    return row_keys(app, "#missions")


def _row(app: Any, mission_id: str) -> list[str]:
    return table_rows(app, "#missions")[table_rows_ids(app).index(mission_id)]


def _all_drafts(sdk: Client) -> list[str]:
    page = sdk.list_missions("draft", limit=200)
    return [m.id for m in page.items]
