"""`missiond memory ...` as real subprocesses against a real `missiond serve` process:
an admin mints a run token, the run writes and searches through the CLI, a promotion
waits for a person, who approves it; the secret in the note never reaches the server log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

pytestmark = pytest.mark.slow

PROJECT = "acme/core/alpha"
SECRET = "ghp_" + "R8mZqk2Lw9XcVb4Tn6Yp1Hs3Dj5Fg7Ka0Qe2"


def _cli(server: Any, token: str, *args: str) -> Any:
    env = {**os.environ, "MISSIOND_URL": server.url, "MISSIOND_TOKEN": token}
    done = subprocess.run(
        [sys.executable, "-m", "missiond", "--json", "memory", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_run_remembers_searches_and_promotes_through_the_cli(
    server_factory: Any, database_url: str
) -> None:
    server = server_factory(database_url).start()
    minted = _cli(
        server, server.token, "token", "--project", PROJECT, "--run-id", "run-7", "--promote", "project"
    )
    run_token = minted["token"]
    assert minted["grant"]["write_tiers"] == ["session"]

    note = f"CI needs GITHUB_TOKEN={SECRET} to push tags"
    stored = _cli(server, run_token, "put", note, "--kind", "solution", "--tag", "ci")
    found = _cli(server, run_token, "search", "push tags")
    assert [h["memory"]["id"] for h in found["items"]] == [stored["id"]]
    assert found["tiers_blocked"] == ["team", "curated"]

    promoted = _cli(server, run_token, "promote", stored["id"], "--to", "project")
    assert promoted["status"] == "pending_review" and promoted["scrub"]["counts"] == {"github_token": 1}
    with server.client() as admin:
        assert admin.post(f"/v1/approvals/{promoted['approval_id']}/approve", json={}).status_code == 200

    [hit] = _cli(server, run_token, "search", "push tags", "--tiers", "project")["items"]
    assert hit["memory"]["content"] == "CI needs GITHUB_TOKEN=[REDACTED:github_token] to push tags"
    assert hit["memory"]["reviewed_by"] == "user:admin"
    trail = _cli(server, server.token, "audit", "--project", PROJECT, "--action", "promote")["items"]
    assert [e["outcome"] for e in trail] == ["promoted", "pending_review"]
    assert _cli(server, run_token, "rm", stored["id"]) == {"deleted": stored["id"]}
    server.stop()
    assert SECRET not in (server.home / "server.out").read_text()
