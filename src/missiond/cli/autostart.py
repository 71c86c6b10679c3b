"""Start a local server for a home when nothing answers there.

The CLI calls `start_server` only when the user named no server (no `--url`,
no `MISSIOND_URL`) and nothing is listening at the resolved local address.
The server is started in its own session, detached from the terminal, with
its output appended to `HOME/logs/server.log`. It writes `HOME/server.json`
(`{"pid", "url", "version", "started_at"}`) once it has bound its socket;
we poll that file and `/v1/health` until it answers.

An exclusive lock on `HOME/autostart.lock` makes concurrent CLI calls start
one server: whoever waited for the lock finds the server the first one
started and uses it.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from missiond.sdk.config import ServerInfo, read_server_info, server_file

START_TIMEOUT_S = 15.0
POLL_INTERVAL_S = 0.1
LOCK_FILE = "autostart.lock"

Probe = Callable[[str], bool]
"""Answers whether a healthy server answers at a base URL."""


class AutostartFailed(Exception):
    """No server answers and none could be started."""


@dataclass(frozen=True, slots=True)
class StartedServer:
    url: str
    pid: int | None
    spawned: bool
    """False when another CLI call started it while we waited for the lock."""


def log_path(home: Path) -> Path:
    return home / "logs" / "server.log"


def server_command(home: Path) -> list[str]:
    return [sys.executable, "-m", "missiond", "serve", "--home", str(home)]


def start_server(home: Path, *, probe: Probe, timeout: float = START_TIMEOUT_S) -> StartedServer:
    """Start `missiond serve` for `home` in the background and wait until it answers."""
    log = log_path(home)
    log.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(home / LOCK_FILE, time.monotonic() + timeout):
        info = read_server_info(home)
        if info is not None and probe(info.url):
            return StartedServer(info.url, info.pid, spawned=False)

        launched_at = time.time()
        with log.open("ab") as log_file:
            process = subprocess.Popen(
                server_command(home),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = read_server_info(home)
            if info and _written_by(info, process.pid, home, launched_at) and probe(info.url):
                # Another command's server may have won the race for the port (ours then exits).
                ours = info.pid in (None, process.pid)
                return StartedServer(info.url, process.pid if ours else info.pid, spawned=ours)
            if process.poll() is not None:
                raise AutostartFailed(
                    f"the server for {home} exited with status {process.returncode}; see {log}"
                )
            time.sleep(POLL_INTERVAL_S)
        raise AutostartFailed(
            f"the server for {home} (pid {process.pid}) did not answer within {timeout:g} s; see {log}"
        )


def _written_by(info: ServerInfo, pid: int, home: Path, launched_at: float) -> bool:
    """True unless server.json is a leftover from an earlier server."""
    if info.pid == pid:
        return True
    try:
        return os.stat(server_file(home)).st_mtime >= launched_at
    except OSError:
        return False


@contextmanager
def _exclusive_lock(path: Path, deadline: float) -> Iterator[None]:
    with path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise AutostartFailed(
                        f"another missiond command holds {path} (starting a server?)"
                    ) from None
                time.sleep(POLL_INTERVAL_S)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
