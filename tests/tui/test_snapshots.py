"""SVG snapshots of the main screens at 120x36, against a real server whose content this
module controls: the same data is made in the same order every run, and what still varies
(ids, times, seqs, the port) is rendered fixed by `StableFormatter`.

Update after an intended change with `pytest tests/tui/test_snapshots.py --snapshot-update`,
look at the SVGs (`tests/tui/__snapshots__/`), and commit them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from missiond.sdk import Client, PolicyBlocked
from missiond.tui import MissiondTUI
from missiond.tui.live import LinkState
from missiond.tui.screens.missions import MissionDetailScreen

from .harness import StableFormatter, scripted_spec, start_server, wait_for, wait_sync

SIZE = (120, 36)


@pytest.fixture(scope="module")
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A fresh server with a fixed set of missions, approvals, routines, tasks, resources and events."""
    home = tmp_path_factory.mktemp("snap-home")
    workspace = tmp_path_factory.mktemp("snap-ws")
    server = start_server(request.config, home)
    names: dict[str, str] = {}
    try:
        with Client(server.url, server.token) as sdk:
            yield _populate(sdk, Path(workspace), names) | {"server": server, "names": names}
    finally:
        server.stop()


def _populate(sdk: Client, workspace: Path, names: dict[str, str]) -> dict[str, Any]:
    passing = sdk.create_mission(
        scripted_spec(
            "Ship the parser", workspace, test_command="echo 'collected 12 items'; echo '12 passed'"
        ),
        start=True,
    )
    wait_sync(lambda: sdk.get_mission(passing.id).status == "succeeded", what="passing mission")
    failing_spec = scripted_spec("Flaky build", workspace, test_command="echo 'FAILED test_io'; exit 1")
    failing_spec["budgets"] = {"max_rework": 0}
    failing = sdk.create_mission(failing_spec, start=True)
    wait_sync(lambda: sdk.get_mission(failing.id).status == "failed", what="failing mission")
    waiting = sdk.create_mission(scripted_spec("Needs a human", workspace, human_review=True), start=True)
    approval = wait_sync(lambda: next(iter(sdk.list_approvals()), None), what="approval")

    nightly = sdk.create_routine(
        "nightly audit",
        cron="0 2 * * *",
        timezone="Europe/Berlin",
        action={"kind": "command", "argv": ["true"]},
    )
    push = sdk.create_routine(
        "push release", interval_s=3600, action={"kind": "command", "argv": ["true"], "external": True}
    )
    with pytest.raises(PolicyBlocked):
        sdk.run_routine_now(push.id)

    docs = sdk.create_task("Write the docs", role="writer", priority=1)
    ship = sdk.create_task("Ship 1.0", role="writer")
    sdk.link_tasks(docs.id, "blocks", ship.id)
    fix = sdk.create_task("Fix the parser bug", role="fixer", priority=0)
    agent, token = sdk.create_agent("fixer-1", roles=["fixer"])
    with Client(sdk.base_url, token) as agent_client:
        agent_client.claim_task_id(fix.id, ttl_s=3600)

    sdk.put_resource("project/demo/build/status", {"ok": True, "tests": 12})
    sdk.put_resource("project/demo/build/log", "12 passed in 0.4s")
    sdk.put_resource("project/demo/owner", "ana")
    for i, step in enumerate(("checkout", "build", "test", "package")):
        sdk.ingest_event("demo.step.finished", "repo/demo", {"step": step, "n": i})

    for ident, label in (
        (passing.id, "msn_PARSER"),
        (failing.id, "msn_FLAKY"),
        (waiting.id, "msn_HUMAN"),
        (approval.id, "apr_REVIEW"),
        (nightly.id, "rtn_NIGHTLY"),
        (push.id, "rtn_PUSH"),
        (docs.id, "tsk_DOCS"),
        (ship.id, "tsk_SHIP"),
        (fix.id, "tsk_FIX"),
        (agent.id, "agt_FIXER"),
    ):
        names[ident] = label
    return {"passing": passing.id}


def _app(world: dict[str, Any], start: str = "missions") -> MissiondTUI:
    formatter = StableFormatter()
    formatter.names.update(world["names"])
    server = world["server"]
    return MissiondTUI(server.url, server.token, formatter=formatter, start=start)


async def _settled(pilot: Any, signals: int = 3) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.link.state is LinkState.LIVE, what="live")
    await wait_for(pilot, lambda: app.signal_count == signals, what="signals counted")
    await wait_for(pilot, lambda: getattr(app.screen, "loads", 0) >= 1, what="screen loaded")
    await pilot.pause(0.3)


SCREENS = ["missions", "approvals", "routines", "tasks", "signals"]


@pytest.mark.parametrize("screen", SCREENS, ids=SCREENS)
def test_main_screen_looks_as_committed(snap_compare: Any, world: dict[str, Any], screen: str) -> None:
    assert snap_compare(_app(world, screen), terminal_size=SIZE, run_before=_settled)


def test_mission_page_looks_as_committed(snap_compare: Any, world: dict[str, Any]) -> None:
    async def open_mission(pilot: Any) -> None:
        await _settled(pilot)
        await pilot.app.push_screen(MissionDetailScreen(world["passing"]))
        await wait_for(pilot, lambda: getattr(pilot.app.screen, "mission", None), what="mission page")
        await pilot.pause(0.3)

    assert snap_compare(_app(world), terminal_size=SIZE, run_before=open_mission)


def test_resources_screen_looks_as_committed(snap_compare: Any, world: dict[str, Any]) -> None:
    async def browse(pilot: Any) -> None:
        await _settled(pilot)
        app = pilot.app
        app.screen.query_one("#prefix", Input).value = "project/demo/"
        await pilot.press("slash", "enter")
        await wait_for(pilot, lambda: "project/demo/owner" in app.screen.records, what="listing")
        await pilot.pause(0.3)

    assert snap_compare(_app(world, "resources"), terminal_size=SIZE, run_before=browse)


def test_events_screen_looks_as_committed(snap_compare: Any, world: dict[str, Any]) -> None:
    async def filtered(pilot: Any) -> None:
        await _settled(pilot)
        app = pilot.app
        app.screen.query_one("#type-filter", Input).value = "demo."
        await wait_for(pilot, lambda: len(app.screen.lines) == 4, what="filtered feed")
        app.screen.query_one("#events").focus()
        await pilot.pause(0.3)

    assert snap_compare(_app(world, "events"), terminal_size=SIZE, run_before=filtered)
