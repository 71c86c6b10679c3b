"""Keyboard first, mouse too: every action has a footer key and a command palette entry; the
palette and the navigation bar work; `missiond tui` passes --url/--token through."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from textual.binding import Binding
from textual.widgets._footer import FooterKey

from missiond.cli.main import cli
from missiond.tui import MissiondTUI
from missiond.tui.screens.base import NAV
from missiond.tui.screens.missions import MissionDetailScreen
from missiond.tui.screens.routines import RoutineHistoryScreen

from .harness import scripted_spec, show, wait_for, wait_sync

pytestmark = pytest.mark.anyio


def _shown(screen: Any) -> list[Binding]:
    return [b for b in type(screen).BINDINGS if isinstance(b, Binding) and b.show]


async def _check_screen(pilot: Any, app: MissiondTUI) -> None:
    screen = app.screen
    bindings = _shown(screen)
    assert bindings, f"{type(screen).__name__} has no actions"
    # The footer fills in as the screen's and the app's bindings arrive; under load that takes
    # a few frames, so wait for every expected key (a key that never comes times out here).
    expected = {b.action for b in bindings} | {f"go('{mode}')" for _key, mode, _title in NAV}

    def footer() -> set[str]:
        return {key.action for key in screen.query(FooterKey)}

    await wait_for(pilot, lambda: expected <= footer(), what=f"the footer to show {sorted(expected)}")
    footer_actions = footer()
    titles = {command.title for command in app.get_system_commands(screen)}
    where = type(screen).__name__.removesuffix("Screen")
    for binding in bindings:
        assert binding.action in footer_actions, f"{where}: {binding.description} is not in the footer"
        assert f"{where}: {binding.description}" in titles, f"{where}: {binding.description} not in palette"
    for _key, mode, title in NAV:
        assert f"Go to {title}" in titles
        assert f"go('{mode}')" in footer_actions


async def test_every_screen_shows_each_action_in_the_footer_and_the_palette(
    sdk: Any, make_app: Any, workspace: Any
) -> None:
    mission = sdk.create_mission(scripted_spec("Palette", workspace), start=True)
    routine = sdk.create_routine(
        "palette routine", interval_s=3600, action={"kind": "command", "argv": ["true"]}
    )
    wait_sync(lambda: sdk.get_mission(mission.id).status == "succeeded", what="finished")
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen.loads, what="missions")
        await _check_screen(pilot, app)
        for key, _mode, _title in NAV[1:]:
            await show(pilot, app, key)
            await _check_screen(pilot, app)
        await app.push_screen(RoutineHistoryScreen(routine.id, routine.name))
        await _check_screen(pilot, app)
        await app.push_screen(MissionDetailScreen(mission.id))
        await _check_screen(pilot, app)


async def _palette_shows(pilot: Any, app: MissiondTUI, title: str) -> None:
    """Wait until the palette's highlighted result is the command `title` (search is async)."""
    from textual.command import CommandList

    def highlighted() -> str:
        results = app.screen.query_one(CommandList)
        if results.highlighted is None:
            return ""
        prompt = results.get_option_at_index(results.highlighted).prompt
        return str(getattr(prompt, "plain", prompt))

    await wait_for(pilot, lambda: highlighted().startswith(title), what=f"{title} highlighted")


async def test_the_command_palette_runs_navigation_and_screen_actions(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.screen.loads, what="missions")
        await pilot.press("ctrl+p")
        await pilot.press(*"Go to Routines")
        await _palette_shows(pilot, app, "Go to Routines")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.current_mode == "routines", what="routines via the palette")

        await pilot.press("ctrl+p")
        await pilot.press(*"Routines: New")
        await _palette_shows(pilot, app, "Routines: New")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.query("#cron"), what="the routine form via the palette")


async def test_the_navigation_bar_answers_the_mouse(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.screen.loads, what="missions")
        text = " ".join(f" {key} {title} " for key, _mode, title in NAV)  # what the bar shows
        await pilot.click("#nav", offset=(text.index("6 Events") + 1 + 1, 0))  # +1 for the padding
        await wait_for(pilot, lambda: app.current_mode == "events", what="events by mouse")
        await pilot.click("#nav", offset=(text.index("1 Missions") + 1 + 1, 0))
        await wait_for(pilot, lambda: app.current_mode == "missions", what="missions by mouse")


def test_missiond_tui_passes_url_and_token_to_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(self: MissiondTUI, *args: Any, **kwargs: Any) -> None:
        seen.update(url=self.client.base_url, token=self.client.config.token, start=self.start)

    monkeypatch.setattr(MissiondTUI, "run", fake_run)
    result = CliRunner().invoke(
        cli,
        ["--url", "http://192.0.2.10:9999", "--token", "remote-token", "tui", "--screen", "routines"],
    )
    assert result.exit_code == 0, result.output
    assert seen == {"url": "http://192.0.2.10:9999", "token": "remote-token", "start": "routines"}
