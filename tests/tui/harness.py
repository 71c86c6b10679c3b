"""Helpers for the TUI tests: start a real server, make mission specs, wait on the app."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from missiond.tui import MissiondTUI
from missiond.tui.format import Formatter


def root_conftest(config: pytest.Config) -> ModuleType:
    """tests/conftest.py (ServerProcess, free_port), found among the loaded conftest plugins."""
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, ModuleType) and all(hasattr(plugin, n) for n in ("ServerProcess", "free_port")):
            return plugin
    raise RuntimeError("tests/conftest.py is not loaded")


def start_server(config: pytest.Config, home: Path, **env: str) -> Any:
    root = root_conftest(config)
    full_env = {**os.environ, "MISSIOND_SSE_PING_S": "15", "MISSIOND_HUB_POLL_S": "0.2", **env}
    full_env.pop("MISSIOND_URL", None)
    full_env.pop("MISSIOND_TOKEN", None)
    server = root.ServerProcess(
        home=home, port=root.free_port(), database_url=f"sqlite:///{home / 'missiond.db'}", env=full_env
    )
    return server.start()


def scripted_spec(
    title: str,
    workspace: Path,
    *,
    human_review: bool = False,
    test_command: str | None = None,
    items: tuple[str, ...] = ("a",),
    fail_test: int = 0,
) -> dict[str, Any]:
    """A mission whose agents are the built-in scripted ones: it runs by itself, or waits for a
    person's approval when `human_review`."""
    roles: dict[str, Any] = {"executor": {"adapter": "scripted"}}
    gates: dict[str, Any] = {}
    if human_review:
        gates["review"] = {"required": True, "by": "human"}
    else:
        gates["review"] = {"required": False}
    if test_command:
        gates["test"] = {"command": test_command, "timeout_s": 30}
    if fail_test:
        roles["tester"] = {"adapter": "scripted", "script": {"fail_test": fail_test}}
    return {
        "title": title,
        "goal": f"{title} (tui test)",
        "workspace": str(workspace),
        "roles": roles,
        "gates": gates,
        "budgets": {"max_rework": 2},
        "work_items": [{"id": item, "title": f"Item {item}"} for item in items],
    }


def wait_sync(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def wait_for(
    pilot: Any,
    predicate: Callable[[], Any],
    timeout: float = 15.0,
    what: str = "",
    seen: Callable[[], Any] | None = None,
) -> Any:
    """Let the app run until `predicate()` is true (its value is returned) or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception:  # the screen may not be composed yet
            value = None
        if value:
            return value
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}" + (f"; saw {seen()!r}" if seen else ""))


def table_rows(app: MissiondTUI, selector: str) -> list[list[str]]:
    """The plain text of every row of a DataTable on the current screen."""
    from textual.widgets import DataTable

    table = app.screen.query_one(selector, DataTable)
    return [[str(getattr(c, "plain", c)) for c in table.get_row_at(i)] for i in range(table.row_count)]


def screen_text(app: MissiondTUI, selector: str) -> str:
    from textual.widgets import Static

    content = app.screen.query_one(selector, Static).content
    return str(getattr(content, "plain", content))


def select_row(app: MissiondTUI, selector: str, key: str) -> None:
    """Put the cursor of a DataTable on the current screen on the row with `key`, and focus it."""
    from textual.widgets import DataTable

    table = app.screen.query_one(selector, DataTable)
    table.move_cursor(row=table.get_row_index(key), animate=False)
    table.focus()


def row_keys(app: MissiondTUI, selector: str) -> list[str]:
    from textual.widgets import DataTable

    table = app.screen.query_one(selector, DataTable)
    return [str(key.value) for key in table.rows]


def errors(app: MissiondTUI) -> list[Any]:
    return [n for n in app.notices if n.severity == "error"]


async def show(pilot: Any, app: MissiondTUI, key: str) -> Any:
    """Press a screen's number key and wait until that screen has loaded once."""
    before = app.screen
    await pilot.press(key)
    await wait_for(pilot, lambda: app.screen is not before and app.screen.loads, what=f"screen {key}")
    return app.screen


class StableFormatter(Formatter):
    """Renders what changes from run to run (ids, times, seqs, the port) as fixed text, so
    SVG snapshots of a real server's data compare equal across runs. Known ids get the
    names the test gives them; any other id becomes `<prefix>_?`."""

    ID = re.compile(r"\b([a-z]{3})_[0-9A-HJKMNP-TV-Z]{26}\b")

    def __init__(self) -> None:
        super().__init__()
        self.names: dict[str, str] = {}

    def name(self, ident: str, label: str) -> None:
        self.names[ident] = label

    def id(self, value: str | None) -> str:
        return self.text(value) if value else "-"

    def text(self, value: str) -> str:
        return self.ID.sub(lambda m: self.names.get(m.group(0), f"{m.group(1)}_?"), value)

    def seq(self, value: int | None) -> str:
        return "-" if value is None else "#"

    def url(self, value: str) -> str:
        return re.sub(r":\d+$", ":PORT", value)

    def time(self, value: datetime | None) -> str:
        return "-" if value is None else "hh:mm:ss"

    def relative(self, value: datetime | None) -> str:
        return "-" if value is None else "in Δ"
