"""A scripted coding agent for `missiond demo`: a separate process that speaks the real protocol.

    MISSIOND_URL=... MISSIOND_TOKEN=<agent token> python -m missiond.cli.demo_agent --role executor

It does what a real agent does through the SDK: claims the best ready board task
for its role (a lease), reads the instructions and the feedback notes of earlier
attempts, edits files in the mission's workspace, commits them, and submits the
work (`POST /v1/missions/{id}/work/{item}/submit`). Only its edits are scripted:
for the demo repository it knows how to write a greeting, to fix `add()` (wrongly
on the first attempt, right once the failed test's output is in its feedback) and
to write release notes.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from missiond.sdk import Client, MissiondError, TransportError

INTENT = re.compile(r"mission (?P<mission>\S+) item (?P<item>\S+) attempt (?P<attempt>\d+)")
IDLE_S = 0.25
WORK_S = 0.8  # long enough for a person to see the item in progress
GIVE_UP_UNREACHABLE_S = 30.0

_stop = False


def _on_signal(_signum: int, _frame: Any) -> None:
    global _stop
    _stop = True


def log(name: str, message: str, **fields: Any) -> None:
    print(json.dumps({"agent": name, "message": message, **fields}), flush=True)


# -- the scripted edits -----------------------------------------------------------------------


def write_greeting(workspace: Path, attempt: int, feedback: list[str]) -> str:
    (workspace / "greeting.py").write_text(
        '"""Greetings."""\n\n\ndef greet(name: str) -> str:\n    return f"Hello, {name}!"\n'
    )
    return "added greet(name) in greeting.py"


def fix_add(workspace: Path, attempt: int, feedback: list[str]) -> str:
    source = workspace / "calc.py"
    if not any("AssertionError" in f or "FAIL" in f for f in feedback):
        # The first try only looks at the first assertion and gets negative numbers wrong.
        source.write_text('"""Arithmetic."""\n\n\ndef add(a: int, b: int) -> int:\n    return abs(a) + b\n')
        return "add() now adds (abs(a) + b)"
    source.write_text('"""Arithmetic."""\n\n\ndef add(a: int, b: int) -> int:\n    return a + b\n')
    return "add() returns a + b; negative numbers are covered now (the test output showed add(-1, 1))"


def write_notes(workspace: Path, attempt: int, feedback: list[str]) -> str:
    (workspace / "NOTES.md").write_text(
        "# Release notes\n\n- `greet(name)` says hello.\n- `add()` adds, negative numbers included.\n"
    )
    return "wrote NOTES.md"


EDITS: dict[str, Callable[[Path, int, list[str]], str]] = {
    "greeting": write_greeting,
    "calc": fix_add,
    "notes": write_notes,
}


@contextlib.contextmanager
def repo_lock(workspace: Path) -> Iterator[None]:
    """Two agents share one checkout in the demo: their commits take turns."""
    with (workspace / ".git" / "missiond-demo.lock").open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def commit(workspace: Path, name: str, message: str) -> None:
    if not (workspace / ".git").is_dir():
        return
    env = {**os.environ, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": f"{name}@missiond.demo"}
    env |= {"GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": f"{name}@missiond.demo"}
    with repo_lock(workspace):
        subprocess.run(["git", "add", "-A"], cwd=workspace, env=env, check=False, capture_output=True)
        subprocess.run(
            ["git", "commit", "-q", "--allow-empty", "-m", message],
            cwd=workspace,
            env=env,
            check=False,
            capture_output=True,
        )


# -- the protocol -----------------------------------------------------------------------------


def work_on(client: Client, name: str, task_id: str) -> bool:
    """Do the task and submit the work; False when it is not a mission task (hand it back)."""
    task = client.get_task(task_id)
    found = INTENT.search(task.intent or "")
    if task.mission_id is None or found is None:
        log(name, "not a mission task; handing it back", task_id=task_id)
        return False
    mission_id, item_id, attempt = task.mission_id, found["item"], int(found["attempt"])
    mission = client.get_mission(mission_id)
    workspace = Path(str(mission.raw.get("spec", {}).get("workspace", ".")))
    feedback = [str(n.get("body", "")) for n in task.notes if n.get("kind") == "blocker"]
    log(name, "claimed", task_id=task_id, item=item_id, attempt=attempt, feedback=len(feedback))
    time.sleep(WORK_S)
    edit = EDITS.get(item_id)
    if edit is None:
        client.submit_work(mission_id, item_id, summary=f"{name} does not know how to do {item_id}", ok=False)
        return True
    summary = edit(workspace, attempt, feedback)
    commit(workspace, name, f"{item_id}: {summary} (attempt {attempt})")
    client.submit_work(mission_id, item_id, summary=summary)
    log(name, "submitted", item=item_id, attempt=attempt, summary=summary)
    return True


def run(role: str, name: str, parent: int) -> int:
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    unreachable_since: float | None = None
    with Client(retries=1) as client:
        log(name, "started", role=role, url=client.base_url)
        while not _stop and os.getppid() == parent:
            try:
                # Missions label their board tasks; other work on the board is not ours.
                claim = client.claim_task(role=role, labels=("mission",), ttl_s=120)
                unreachable_since = None
                if claim is None:
                    time.sleep(IDLE_S)
                    continue
                if not work_on(client, name, claim.task.id):
                    client.release_lease(claim.lease.id, outcome=f"{name} cannot do this task")
            except TransportError as error:
                unreachable_since = unreachable_since or time.monotonic()
                if time.monotonic() - unreachable_since > GIVE_UP_UNREACHABLE_S:
                    log(name, "the server is gone; stopping", error=str(error))
                    return 3
                time.sleep(1.0)
            except MissiondError as error:
                log(name, "the server refused", error=str(error))
                time.sleep(IDLE_S)
    log(name, "stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m missiond.cli.demo_agent", description=__doc__)
    parser.add_argument("--role", default="executor")
    parser.add_argument("--name", default=f"agent-{os.getpid()}")
    args = parser.parse_args(argv)
    return run(args.role, args.name, os.getppid())


if __name__ == "__main__":
    sys.exit(main())
