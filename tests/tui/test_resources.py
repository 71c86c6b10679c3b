"""Resources in the TUI: browse by prefix (folders, open, up) and watch values change live."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input

from missiond.sdk import Client

from .harness import row_keys, screen_text, select_row, show, table_rows, wait_for

pytestmark = pytest.mark.anyio


async def test_prefix_browser_opens_folders_and_goes_up(sdk: Client, make_app: Any) -> None:
    sdk.put_resource("project/tuibrowse/build/status", {"ok": True})
    sdk.put_resource("project/tuibrowse/build/log", "line 1")
    sdk.put_resource("project/tuibrowse/owner", "ana")

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "5")
        await pilot.press("slash")
        app.screen.query_one("#prefix", Input).value = "project/tuibrowse/"
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: "project/tuibrowse/owner" in row_keys(app, "#resources"), what="listing"
        )
        rows = {r[0]: r for r in table_rows(app, "#resources")}
        assert rows["project/tuibrowse/build/"][1] == "2 keys"
        assert rows["project/tuibrowse/owner"][1:3] == ['"ana"', rows["project/tuibrowse/owner"][2]]
        assert "3 keys" in screen_text(app, "#summary")

        select_row(app, "#resources", "project/tuibrowse/build/")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                sorted(row_keys(app, "#resources"))
                == ["project/tuibrowse/build/log", "project/tuibrowse/build/status"]
            ),
            what="inside the folder",
        )
        assert app.screen.query_one("#prefix", Input).value == "project/tuibrowse/build/"

        await pilot.press("backspace")
        await wait_for(
            pilot, lambda: "project/tuibrowse/owner" in row_keys(app, "#resources"), what="up again"
        )


async def test_values_change_live_with_their_revision(sdk: Client, make_app: Any) -> None:
    first = sdk.put_resource("project/tuilive/counter", 1)

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "5")
        app.screen.query_one("#prefix", Input).value = "project/tuilive/"
        await pilot.press("slash", "enter")
        await wait_for(pilot, lambda: "project/tuilive/counter" in row_keys(app, "#resources"), what="listed")
        assert table_rows(app, "#resources")[0][1:3] == ["1", str(first.mod_rev)]
        loads = app.screen.loads

        second = sdk.put_resource("project/tuilive/counter", {"n": 2})
        await wait_for(
            pilot,
            lambda: table_rows(app, "#resources")[0][1:3] == ['{"n":2}', str(second.mod_rev)],
            what="the new value in place",
        )
        assert app.screen.loads == loads  # updated in place, not relisted

        sdk.put_resource("project/tuilive/added", "new")
        await wait_for(
            pilot, lambda: "project/tuilive/added" in row_keys(app, "#resources"), what="a new key"
        )
        sdk.delete_resource("project/tuilive/added")
        await wait_for(
            pilot, lambda: "project/tuilive/added" not in row_keys(app, "#resources"), what="deleted"
        )
