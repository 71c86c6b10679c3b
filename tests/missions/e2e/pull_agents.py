"""Real agent processes for the end-to-end mission tests, and the workspace they work in.

An agent is a small Python script (written into the test's tmp dir) that loops using only
the `missiond` CLI with `--json`: it claims a board task for its role, reads the task (its
description and notes carry the instructions and the feedback of earlier attempts), does
the work in a real git workspace, and answers with `missiond work submit` or
`missiond review approve`. It tolerates a server that is gone for a while (a killed and
restarted server): every CLI call is retried until the server answers.

What the executor writes is fixed per item, so the mission's course is known in advance:

- `item1`: right the first time;
- `item2`: wrong on attempt 1; on a later attempt it writes the right thing only when the
  task's notes carry the test gate's failure output (`BROKEN: item2.txt ...`);
- `item3`: always wrong, so it spends its rework budget.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

MISSIOND = Path(sys.executable).with_name("missiond")
CLI = [str(MISSIOND)] if MISSIOND.exists() else [sys.executable, "-m", "missiond"]

CHECK = '''\
"""The mission's test gate: ITEM.txt must say ok."""
import pathlib
import sys

item = sys.argv[1]
path = pathlib.Path(f"{item}.txt")
text = path.read_text().strip() if path.exists() else "<missing>"
if text != "ok":
    print(f"BROKEN: {item}.txt says {text!r}, expected 'ok'")
    sys.exit(1)
print(f"{item}: ok")
'''

AGENT = r'''
"""A pull agent: claims tasks of its role with the missiond CLI and answers them."""
import json
import os
import pathlib
import re
import subprocess
import sys
import time

ROLE = sys.argv[1]
WORKSPACE, JOURNAL, STOP = (pathlib.Path(arg) for arg in sys.argv[2:5])
CLI = json.loads(os.environ["AGENT_CLI"])
INTENT = re.compile(r"mission (\S+) item (\S+) attempt (\d+) as (\w+)")
SERVER_GONE = 3


def log(**entry):
    with JOURNAL.open("a") as out:
        out.write(json.dumps({"role": ROLE, "pid": os.getpid(), "t": round(time.time(), 3), **entry}) + "\n")


def cli(*args, ok_codes=()):
    """Run missiond --json ARGS until the server answers; returns (exit code, parsed stdout)."""
    while True:
        done = subprocess.run([*CLI, "--json", "--no-autostart", *args], capture_output=True, text=True)
        if done.returncode == SERVER_GONE:
            log(event="server-gone", args=list(args))
            time.sleep(0.3)
            continue
        if done.returncode != 0 and not any(code in done.stderr for code in ok_codes):
            log(event="cli-error", args=list(args), code=done.returncode, stderr=done.stderr[-500:])
            return done.returncode, None
        out = done.stdout.strip()
        return done.returncode, (json.loads(out) if out else None)


def git(*args):
    subprocess.run(["git", *args], cwd=WORKSPACE, check=True, capture_output=True)


def execute(mission_id, item, attempt, notes):
    feedback_seen = any(f"BROKEN: {item}.txt" in note for note in notes)
    if item == "item1" or (item == "item2" and feedback_seen):
        text = "ok"
    else:
        text = f"broken by attempt {attempt}"
    (WORKSPACE / f"{item}.txt").write_text(text + "\n")
    git("add", "-A")
    git("commit", "-q", "-m", f"{item} attempt {attempt}: {text}")
    summary = f"{item} attempt {attempt}: wrote {text!r}"
    return cli("work", "submit", mission_id, item, "--attempt", str(attempt), "--summary", summary,
               ok_codes=("MISSION_EVENT_NOT_APPLICABLE",))


def review(mission_id, item, attempt):
    return cli("review", "approve", mission_id, item, "--attempt", str(attempt),
               ok_codes=("MISSION_EVENT_NOT_APPLICABLE",))


deadline = time.monotonic() + float(os.environ.get("AGENT_DEADLINE_S", "120"))
while time.monotonic() < deadline and not STOP.exists():
    code, claim = cli("task", "claim", "--role", ROLE, "--ttl", "15")
    if not claim:
        time.sleep(0.2)
        continue
    task = claim["task"]
    mission_id, item, attempt, role = INTENT.fullmatch(task["intent"]).groups()
    notes = []
    if int(attempt) > 1:  # the feedback of earlier attempts is in the task's notes
        _, shown = cli("task", "show", task["id"])
        notes = [n["body"] for n in (shown or {}).get("notes", [])]
    log(event="claimed", task_id=task["id"], mission_id=mission_id, item=item, attempt=int(attempt),
        task_role=role, description=task["description"], notes=notes)
    if ROLE == "executor":
        code, _ = execute(mission_id, item, int(attempt), notes)
    else:
        code, _ = review(mission_id, item, int(attempt))
    log(event="answered", task_id=task["id"], item=item, attempt=int(attempt), code=code)
log(event="stopped")
'''


class Agents:
    """The agent processes of one test, their journal and the stop file."""

    def __init__(self, root: Path, workspace: Path, url: str, tokens: dict[str, str]) -> None:
        self.root = root
        self.workspace = workspace
        self.journal = root / "journal.jsonl"
        self.stop_file = root / "stop"
        self.script = root / "agent.py"
        self.script.write_text(AGENT)
        self.url = url
        self.tokens = tokens
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        for role, token in self.tokens.items():
            env = {
                **os.environ,
                "MISSIOND_URL": self.url,
                "MISSIOND_TOKEN": token,
                "AGENT_CLI": json.dumps(CLI),
            }
            log = (self.root / f"{role}.log").open("ab")
            argv = [
                sys.executable,
                str(self.script),
                role,
                str(self.workspace),
                str(self.journal),
                str(self.stop_file),
            ]
            self.procs.append(subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT))

    def stop(self) -> None:
        self.stop_file.touch()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def entries(self, event: str | None = None) -> list[dict[str, Any]]:
        if not self.journal.exists():
            return []
        found = [json.loads(line) for line in self.journal.read_text().splitlines() if line.strip()]
        return [e for e in found if event is None or e["event"] == event]

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-2000:] for p in sorted(self.root.glob("*.log")))


def run_cli(url: str, token: str, *args: str, stdin: str | None = None) -> Any:
    env = {**os.environ, "MISSIOND_URL": url, "MISSIOND_TOKEN": token}
    done = subprocess.run(
        [*CLI, "--json", "--no-autostart", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"missiond {' '.join(args)}: {done.returncode} {done.stderr}"
    return json.loads(done.stdout)


def git_workspace(path: Path) -> Path:
    """A real git repository with the gate's check script committed as the baseline."""
    path.mkdir(parents=True)
    (path / "check.py").write_text(CHECK)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "agents@missiond.test")
    git("config", "user.name", "missiond agents")
    git("add", "check.py")
    git("commit", "-q", "-m", "baseline: the test gate")
    return path


def git_log(path: Path) -> list[str]:
    done = subprocess.run(["git", "log", "--format=%s"], cwd=path, check=True, capture_output=True, text=True)
    return list(reversed(done.stdout.strip().splitlines()))


def mission_spec(workspace: Path) -> dict[str, Any]:
    return {
        "title": "Three files",
        "goal": "Each ITEM.txt says ok",
        "success_criteria": ["python check.py ITEM exits 0 for every item"],
        "workspace": str(workspace),
        "roles": {"executor": {"adapter": "pull"}, "reviewer": {"adapter": "pull"}},
        "gates": {
            "review": {"required": True, "by": "agent"},
            "test": {"command": f'"{sys.executable}" check.py "$MISSIOND_ITEM_ID"', "timeout_s": 30},
        },
        "budgets": {"max_rework": 1, "max_parallel": 3},
        "work_items": [{"id": f"item{n}", "title": f"Make item{n}.txt say ok"} for n in (1, 2, 3)],
    }
