"""Parity with the web dashboard: one real server, the TUI driven with Pilot and the dashboard
driven with Playwright (Debian's Chromium) at the same time. For each stable contract an
action taken in one client is seen by the other, live (no reload pressed in either)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from missiond.sdk import Client
from missiond.tui.screens.missions import MissionDetailScreen

from .harness import row_keys, screen_text, scripted_spec, select_row, show, table_rows, wait_for, wait_sync

pytestmark = pytest.mark.anyio

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 15_000


@asynccontextmanager
async def dashboard(server: Any) -> AsyncIterator[Page]:
    """A signed-in dashboard page on `server` (a one-time link, as `missiond ui` prints)."""
    link = httpx.post(f"{server.url}/v1/ui/login-links", json={}, headers=server.headers(), timeout=10)
    assert link.status_code in (200, 201), link.text
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            page = await browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(link.json()["url"])
            await expect(page).to_have_url(f"{server.url}/ui/")
            yield page
        finally:
            await browser.close()


async def open_view(page: Page, server: Any, path: str) -> None:
    await page.goto(f"{server.url}/ui/#/{path}")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")


def _approval(sdk: Client, mission_id: str) -> Any:
    return wait_sync(
        lambda: next((a for a in sdk.list_approvals() if a.payload.get("mission_id") == mission_id), None),
        what="the review approval",
    )


async def test_missions_paused_in_the_tui_show_paused_on_the_page_and_resumed_there_show_in_the_tui(
    server: Any, sdk: Client, make_app: Any, workspace: Any
) -> None:
    mission = sdk.create_mission(scripted_spec("Parity steer", workspace, human_review=True), start=True)
    _approval(sdk, mission.id)
    app = make_app()
    async with dashboard(server) as page, app.run_test(size=(120, 36)) as pilot:
        await open_view(page, server, f"missions/{mission.id}")
        badge = page.locator(".mission-head .badge").first
        await expect(badge).to_have_text("running")
        await wait_for(pilot, lambda: app.screen.loads, what="tui up")
        await app.push_screen(MissionDetailScreen(mission.id))
        await wait_for(pilot, lambda: getattr(app.screen, "mission", None), what="mission page")

        await pilot.press("p")  # TUI -> dashboard
        await expect(badge).to_have_text("paused")

        await page.get_by_role("button", name="Resume").click()  # dashboard -> TUI
        await wait_for(pilot, lambda: "running" in screen_text(app, "#header"), what="resumed in the TUI")
        assert sdk.get_mission(mission.id).status == "running"


async def test_approvals_decided_in_one_client_leave_the_queue_of_the_other(
    server: Any, sdk: Client, make_app: Any, workspace: Any
) -> None:
    first = sdk.create_mission(scripted_spec("Parity approve A", workspace, human_review=True), start=True)
    second = sdk.create_mission(scripted_spec("Parity approve B", workspace, human_review=True), start=True)
    a, b = _approval(sdk, first.id), _approval(sdk, second.id)
    app = make_app()
    async with dashboard(server) as page, app.run_test(size=(120, 36)) as pilot:
        await open_view(page, server, "approvals")
        cards = page.locator(".approval[data-kind='mission.review']")
        card_a = cards.filter(has_text=f"mission/{first.id}/work/a")
        card_b = cards.filter(has_text=f"mission/{second.id}/work/a")
        await expect(card_a).to_have_count(1)
        await expect(card_b).to_have_count(1)
        await show(pilot, app, "2")
        await wait_for(
            pilot, lambda: {a.id, b.id} <= set(row_keys(app, "#approvals")), what="both in the TUI"
        )

        select_row(app, "#approvals", a.id)  # TUI -> dashboard
        await pilot.press("a")
        await wait_for(pilot, lambda: app.screen.query("#reason"), what="prompt")
        await pilot.press(*"tui says yes", "enter")
        await expect(card_a).to_have_count(0)

        await card_b.get_by_role("textbox").fill("page says yes")  # dashboard -> TUI
        await card_b.get_by_role("button", name="Approve").click()
        await wait_for(pilot, lambda: b.id not in row_keys(app, "#approvals"), what="gone from the TUI")
        assert sdk.get_approval(a.id).reason == "tui says yes"
        assert sdk.get_approval(b.id).reason == "page says yes"


async def test_routines_created_on_the_page_appear_in_the_tui_and_runs_from_the_tui_in_the_page_history(
    server: Any, sdk: Client, make_app: Any
) -> None:
    app = make_app()
    async with dashboard(server) as page, app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "3")
        await open_view(page, server, "routines")
        await page.locator("#new-routine").click()
        form = page.locator("form.routine-form")
        await form.locator("input[name='name']").fill("parity nightly")
        await form.locator("input[name='cron']").fill("30 2 * * *")
        await form.locator("input[name='timezone']").fill("Europe/Berlin")
        await form.locator("textarea[name='action']").fill("echo from-parity")
        await form.get_by_role("button", name="Create").click()
        await expect(page.locator(".mission-head h1")).to_have_text("parity nightly")
        routine_id = page.url.rsplit("/", 1)[-1]

        await wait_for(pilot, lambda: routine_id in row_keys(app, "#routines"), what="listed in the TUI")
        row = table_rows(app, "#routines")[row_keys(app, "#routines").index(routine_id)]
        assert row[0] == "parity nightly" and row[2] == "cron '30 2 * * *' in Europe/Berlin"

        select_row(app, "#routines", routine_id)  # TUI -> dashboard
        await pilot.press("x")
        run = page.locator(".history tbody tr").first
        await expect(run).to_contain_text("manual")
        await expect(run).to_contain_text("succeeded")
        await expect(run).to_contain_text("from-parity")


async def test_resources_and_events_are_seen_by_both_clients_at_once(
    server: Any, sdk: Client, make_app: Any
) -> None:
    sdk.put_resource("project/parity/flag", "off")
    app = make_app()
    async with dashboard(server) as page, app.run_test(size=(120, 36)) as pilot:
        await open_view(page, server, "resources?prefix=project/parity/")
        row = page.locator("tr[data-key='project/parity/flag']")
        await expect(row).to_contain_text("off")
        await show(pilot, app, "5")
        from textual.widgets import Input

        app.screen.query_one("#prefix", Input).value = "project/parity/"
        await pilot.press("slash", "enter")
        await wait_for(pilot, lambda: "project/parity/flag" in row_keys(app, "#resources"), what="listed")

        written = sdk.put_resource("project/parity/flag", "on")
        await expect(row).to_contain_text('"on"')
        await wait_for(
            pilot,
            lambda: table_rows(app, "#resources")[0][1:3] == ['"on"', str(written.mod_rev)],
            what="the same value and revision in the TUI",
        )

        await open_view(page, server, "events?type=parity.")
        await show(pilot, app, "6")
        event = sdk.ingest_event("parity.seen", "repo/parity", {"by": "both"})
        await expect(page.locator(".vrow", has_text="parity.seen")).to_have_count(1)
        await expect(page.locator(".vrow", has_text="parity.seen")).to_contain_text(str(event.seq))
        await wait_for(
            pilot,
            lambda: any(
                line.split()[:1] == [str(event.seq)] and "parity.seen" in line for line in app.screen.lines
            ),
            what="the same event, same seq, in the TUI feed",
        )
