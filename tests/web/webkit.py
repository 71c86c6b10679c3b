"""Helpers for the browser tests: sign in through `missiond ui`, talk to the API, wait."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

CHROMIUM = "/usr/bin/chromium"


def cli(server: Any, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MISSIOND_HOME": str(server.home), "MISSIOND_URL": server.url, "CI": "true"}
    env.pop("MISSIOND_TOKEN", None)
    if token:
        env["MISSIOND_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "missiond", "--json", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def login_link(server: Any) -> str:
    done = cli(server, "ui", "--no-open")
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["url"])


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Dashboard:
    """One server, one signed-in page, and an admin API client for arranging the world."""

    def __init__(self, server: Any, page: Page, artifacts: Path) -> None:
        self.server = server
        self.page = page
        self.artifacts = artifacts
        self.api = server.client()

    def login(self) -> None:
        self.page.goto(login_link(self.server))
        expect(self.page).to_have_url(f"{self.server.url}/ui/")
        self.expect_live()

    def expect_live(self) -> None:
        expect(self.page.locator("#live")).to_have_attribute("data-state", "live")

    def open(self, hash_path: str) -> None:
        self.page.goto(f"{self.server.url}/ui/#/{hash_path}")
        self.expect_live()

    def shot(self, name: str) -> Path:
        path = self.artifacts / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def agent(self, name: str, *roles: str, capabilities: list[str] | None = None) -> httpx.Client:
        body: dict[str, Any] = {"name": name, "roles": list(roles)}
        if capabilities is not None:
            body["capabilities"] = capabilities
        answer = self.api.post("/v1/agents", json=body)
        assert answer.status_code == 201, answer.text
        token = answer.json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.Client(base_url=self.server.url, headers=headers, timeout=10)

    def close(self) -> None:
        self.api.close()
