"""Approvals in the TUI: a human review gate's approval is approved or denied from the screen,
and the mission moves on."""

from __future__ import annotations

from typing import Any

import pytest

from missiond.sdk import Client

from .harness import errors, row_keys, scripted_spec, select_row, show, table_rows, wait_for, wait_sync

pytestmark = pytest.mark.anyio


def _approval_for(sdk: Client, mission_id: str) -> str:
    def find() -> str | None:
        for approval in sdk.list_approvals("pending"):
            if approval.payload.get("mission_id") == mission_id:
                return approval.id
        return None

    return str(wait_sync(find, what="the review approval"))


async def test_approving_from_the_screen_lets_the_mission_finish(
    sdk: Client, make_app: Any, workspace: Any
) -> None:
    mission = sdk.create_mission(scripted_spec("Approve me", workspace, human_review=True), start=True)
    approval_id = _approval_for(sdk, mission.id)

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "2")
        await wait_for(pilot, lambda: approval_id in row_keys(app, "#approvals"), what="the approval")
        row = table_rows(app, "#approvals")[row_keys(app, "#approvals").index(approval_id)]
        assert row[1] == "mission.review" and row[2] == f"mission/{mission.id}/work/a" and row[4] == "pending"

        select_row(app, "#approvals", approval_id)
        await pilot.press("a")
        await wait_for(pilot, lambda: app.screen.query("#reason"), what="the reason prompt")
        await pilot.press(*"ship it", "enter")

        await wait_for(pilot, lambda: sdk.get_mission(mission.id).status == "succeeded", what="mission done")
        decided = sdk.get_approval(approval_id)
        assert (decided.status, decided.reason, decided.decider) == ("approved", "ship it", "user:admin")
        await wait_for(pilot, lambda: approval_id not in row_keys(app, "#approvals"), what="gone from queue")
        assert not errors(app)


async def test_deny_needs_a_reason_and_sends_the_item_back_with_it_as_feedback(
    sdk: Client, make_app: Any, workspace: Any
) -> None:
    mission = sdk.create_mission(scripted_spec("Deny me", workspace, human_review=True), start=True)
    approval_id = _approval_for(sdk, mission.id)

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "2")
        await wait_for(pilot, lambda: approval_id in row_keys(app, "#approvals"), what="the approval")
        select_row(app, "#approvals", approval_id)
        await pilot.press("d")
        await wait_for(pilot, lambda: app.screen.query("#reason"), what="the reason prompt")
        await pilot.press("enter")  # empty: refused by the prompt, nothing sent
        await pilot.pause(0.2)
        assert "A reason is required." in str(app.screen.query_one("#error").content)
        assert sdk.get_approval(approval_id).status == "pending"

        await pilot.press(*"needs a test", "enter")
        await wait_for(pilot, lambda: sdk.get_approval(approval_id).status == "denied", what="denied")
        await wait_for(
            pilot,
            lambda: "needs a test" in " ".join(sdk.get_mission(mission.id).item("a")["feedback"]),
            what="the reason as the item's feedback",
        )


async def test_show_all_lists_decided_approvals_too(sdk: Client, make_app: Any, workspace: Any) -> None:
    mission = sdk.create_mission(scripted_spec("Decided", workspace, human_review=True), start=True)
    approval_id = _approval_for(sdk, mission.id)
    sdk.approve(approval_id, reason="fine")

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "2")
        assert approval_id not in row_keys(app, "#approvals")
        loads = app.screen.loads
        await pilot.press("s")
        await wait_for(pilot, lambda: app.screen.loads > loads, what="reload")
        await wait_for(pilot, lambda: approval_id in row_keys(app, "#approvals"), what="decided approval")
        row = table_rows(app, "#approvals")[row_keys(app, "#approvals").index(approval_id)]
        assert row[4] == "approved"
