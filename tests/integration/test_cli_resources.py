"""`missiond resource ...` as real subprocesses against a real server: exit codes, JSON output, watch."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

MISSIOND = Path(sys.executable).with_name("missiond")
COMMAND = [str(MISSIOND)] if MISSIOND.exists() else [sys.executable, "-m", "missiond"]
TIMEOUT_S = 30.0


class Cli:
    """Runs `missiond` with MISSIOND_URL and MISSIOND_TOKEN pointing at one server."""

    def __init__(self, server: Any, cwd: Path) -> None:
        self.server = server
        self.cwd = cwd
        self.env = {
            **os.environ,
            "MISSIOND_URL": server.url,
            "MISSIOND_TOKEN": server.token,
            "MISSIOND_HOME": str(cwd / "client-home"),
        }

    def run(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*COMMAND, *args],
            input=input,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.cwd,
            timeout=TIMEOUT_S,
        )

    def ok(self, *args: str, input: str | None = None) -> Any:
        """Run a command that must succeed; its stdout as JSON."""
        result = self.run(*args, input=input)
        assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stderr}"
        return json.loads(result.stdout)

    def start(self, *args: str) -> Watcher:
        stderr = self.cwd / f"watch-{time.monotonic_ns()}.err"
        with stderr.open("w") as sink:  # a file, not a pipe nobody reads
            process = subprocess.Popen(
                [*COMMAND, *args],
                stdout=subprocess.PIPE,
                stderr=sink,
                stdin=subprocess.DEVNULL,
                text=True,
                env=self.env,
                cwd=self.cwd,
            )
        return Watcher(process, stderr)


class Watcher:
    """A long-running command whose stdout lines are read in the background."""

    def __init__(self, process: subprocess.Popen[str], stderr: Path) -> None:
        self.process = process
        self.stderr = stderr
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def next_json(self, timeout: float = TIMEOUT_S) -> Any:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line within {timeout} s; stderr: {self.stderr_so_far()}") from None
        return json.loads(line)

    def nothing_more(self, wait: float) -> None:
        time.sleep(wait)
        assert self.lines.empty(), f"unexpected line: {self.lines.get_nowait()!r}"

    def interrupt(self) -> int:
        """Ctrl-C; returns the exit code (and checks nothing went to stderr)."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(TIMEOUT_S)
        assert self.stderr_so_far() == "", self.stderr_so_far()
        return code

    def stderr_so_far(self) -> str:
        return self.stderr.read_text()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def live(server_factory: Any) -> Any:
    server = server_factory()
    server.start()
    return server


@pytest.fixture
def cli(live: Any, tmp_path: Path) -> Cli:
    return Cli(live, tmp_path)


@pytest.fixture
def watchers() -> Iterator[list[Watcher]]:
    started: list[Watcher] = []
    yield started
    for watcher in started:
        watcher.kill()


def test_put_get_patch_list_delete_round_trip(cli: Cli) -> None:
    created = cli.ok("resource", "put", "project/demo/config", '{"owner": "a1", "steps": [1]}')
    assert (created["key"], created["version"]) == ("project/demo/config", 1)
    assert created["value"] == {"owner": "a1", "steps": [1]}
    assert created["create_rev"] == created["mod_rev"] > 0
    assert created["updated_by"] == "user:admin" and created["expires_at"] is None

    fetched = cli.ok("resource", "get", "project/demo/config")
    assert fetched == created

    rev = str(created["mod_rev"])
    patched = cli.ok(
        "resource", "patch", "project/demo/config", "--if-rev", rev, input='{"owner": null, "n": 2}'
    )
    assert patched["value"] == {"steps": [1], "n": 2}
    assert (patched["version"], patched["create_rev"]) == (2, created["create_rev"])
    assert patched["mod_rev"] > created["mod_rev"]

    cli.ok("resource", "put", "project/demo/other", "--", "7")
    cli.ok("resource", "put", "team/elsewhere", "true")
    listed = cli.ok("resource", "list", "project/demo/")
    assert [item["key"] for item in listed["items"]] == ["project/demo/config", "project/demo/other"]
    assert listed["items"][0] == patched
    assert listed["revision"] >= patched["mod_rev"]
    assert listed["next_after_key"] is None

    paged = cli.ok("resource", "list", "project/demo/", "--all", "--limit", "1")
    assert [item["key"] for item in paged["items"]] == ["project/demo/config", "project/demo/other"]

    deleted = cli.ok("resource", "delete", "project/demo/config", "--if-rev", str(patched["mod_rev"]))
    assert deleted["key"] == "project/demo/config" and deleted["deleted"] is True
    assert deleted["rev"] > patched["mod_rev"]

    gone = cli.run("resource", "get", "project/demo/config")
    assert gone.returncode == 1
    assert gone.stderr.startswith("error: RESOURCE_NOT_FOUND: ")
    assert gone.stdout == ""
    assert [i["key"] for i in cli.ok("resource", "list", "project/demo/")["items"]] == ["project/demo/other"]


def test_people_output_is_not_json(cli: Cli) -> None:
    result = cli.run("resource", "put", "project/people", "1", "--no-json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("project/people: created at rev ")
    table = cli.run("resource", "list", "project/", "--no-json")
    assert table.stdout.split()[:5] == ["key", "rev", "version", "updated_by", "value"]


def test_a_stale_if_rev_exits_1_with_precondition_failed_and_changes_nothing(cli: Cli) -> None:
    first = cli.ok("resource", "put", "project/cas", '{"v": 1}')
    second = cli.ok("resource", "put", "project/cas", '{"v": 2}', "--if-rev", str(first["mod_rev"]))
    stale = str(first["mod_rev"])

    for args in (
        ("put", "project/cas", '{"v": 3}', "--if-rev", stale),
        ("patch", "project/cas", '{"v": 3}', "--if-rev", stale),
        ("delete", "project/cas", "--if-rev", stale),
        ("put", "project/cas", '{"v": 3}', "--create-only"),
    ):
        result = cli.run("resource", *args)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert result.stderr.startswith("error: PRECONDITION_FAILED: "), result.stderr
        problem = json.loads(result.stderr.splitlines()[1])  # piped: the problem document follows
        assert problem["current_rev"] == second["mod_rev"]
        assert result.stdout == ""

    assert cli.ok("resource", "get", "project/cas") == second


def test_bad_input_exit_codes(cli: Cli) -> None:
    bad_key = cli.run("resource", "get", "project/a/../b")
    assert bad_key.returncode == 1
    assert bad_key.stderr.startswith("error: INVALID_RESOURCE_KEY: "), bad_key.stderr
    not_json = cli.run("resource", "put", "project/x", "{oops")
    assert not_json.returncode == 2
    missing = cli.run("resource", "patch", "project/never", "{}")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: RESOURCE_NOT_FOUND: ")


def test_watch_prints_a_change_made_by_another_command_as_a_json_line(
    cli: Cli, watchers: list[Watcher]
) -> None:
    revision = cli.ok("resource", "list", "project/w/")["revision"]
    watch = cli.start("resource", "watch", "project/w/", "--after", str(revision))
    watchers.append(watch)

    cli.ok("resource", "put", "project/elsewhere", "1")  # outside the prefix: not shown
    stored = cli.ok("resource", "put", "project/w/a", '{"n": 1}')
    change = watch.next_json()
    assert change["type"] == "resource.updated"
    assert change["subject"] == "resource/project/w/a"
    assert change["data"]["key"] == "project/w/a"
    assert change["data"]["value"] == {"n": 1}
    assert change["data"]["rev"] == stored["mod_rev"]
    assert change["data"]["prev_rev"] == 0

    deleted = cli.ok("resource", "delete", "project/w/a")
    change = watch.next_json()
    assert (change["type"], change["data"]["rev"]) == ("resource.deleted", deleted["rev"])
    assert change["data"]["prev_rev"] == stored["mod_rev"]

    assert watch.interrupt() == 0


def test_watch_without_after_sees_changes_made_after_it_started(cli: Cli, watchers: list[Watcher]) -> None:
    watch = cli.start("resource", "watch", "project/live/")
    watchers.append(watch)
    # It reads the head before connecting; write until the first change shows.
    seen = None
    for n in range(60):
        cli.ok("resource", "put", "project/live/x", json.dumps({"n": n}))
        try:
            seen = json.loads(watch.lines.get(timeout=0.5))
            break
        except queue.Empty:
            continue
    assert seen is not None, watch.stderr_so_far()
    assert seen["data"]["key"] == "project/live/x"
    assert watch.interrupt() == 0


def test_watch_resumes_across_a_server_restart_without_losing_or_repeating(
    cli: Cli, live: Any, watchers: list[Watcher]
) -> None:
    revision = cli.ok("resource", "list", "project/r/")["revision"]
    watch = cli.start("resource", "watch", "project/r/", "--after", str(revision))
    watchers.append(watch)
    before = cli.ok("resource", "put", "project/r/a", '"before"')
    assert watch.next_json()["data"]["rev"] == before["mod_rev"]

    live.stop()
    live.start()
    after = cli.ok("resource", "put", "project/r/b", '"after"')

    change = watch.next_json(timeout=60)
    assert (change["data"]["key"], change["data"]["rev"]) == ("project/r/b", after["mod_rev"])
    watch.nothing_more(0.5)
    assert watch.interrupt() == 0
