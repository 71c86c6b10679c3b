"""`missiond demo`: the whole system in one command, with real processes.

In a temporary workspace it makes a small git repository whose tests fail, starts
(or reuses) a server on the embedded SQLite default, registers two executor agents
that run as separate processes (`python -m missiond.cli.demo_agent`, on the SDK),
and runs a mission of three items through the real test gate and a human review:

- `greeting` passes at once;
- `calc` fails the real test gate, goes back with the test output, and passes after rework;
- `notes` waits for a person's approval, which the demo shows and then grants
  (`--interactive` leaves it to you: approve it in the dashboard or the CLI).

The code items are reviewed by the built-in reviewer (the mission's gate, `by: agent`);
the release notes have their own gate (`review: human`), so only they wait for a person.
Then a routine is created and fired with run-now. Exit 0 when every expected
outcome happened; otherwise 1, naming what did not.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from missiond.cli.app import App
from missiond.cli.demo_repo import make_repo, mission_spec, routine_action
from missiond.sdk import Client, MissiondError
from missiond.sdk.config import read_server_info

HUMAN_ITEM = "notes"
AUTO_REVIEWED = ("greeting", "calc")
SHOW_APPROVAL_S = 2.0
POLL_S = 0.25
AGENTS = ("executor-1", "executor-2")
STATUS_STYLE = {
    "done": "green",
    "failed": "red",
    "rework": "yellow",
    "review": "magenta",
    "test": "cyan",
    "in_progress": "blue",
}


@dataclass
class Outcome:
    name: str
    expected: str
    observed: str
    ok: bool


@dataclass
class Demo:
    console: Console
    interactive: bool
    keep: bool
    timeout_s: float
    root: Path
    repo: Path = field(init=False)
    home: Path = field(init=False)
    url: str = ""
    server: subprocess.Popen[bytes] | None = None
    agents: list[subprocess.Popen[bytes]] = field(default_factory=list)
    agent_ids: list[str] = field(default_factory=list)
    approvals: dict[str, dict[str, Any]] = field(default_factory=dict)
    shown_at: float | None = None
    log: list[str] = field(default_factory=list)

    home_override: Path | None = None

    def __post_init__(self) -> None:
        self.repo = self.root / "repo"
        self.home = self.home_override or self.root / "home"

    def say(self, message: str) -> None:
        self.log.append(message)
        if not self.console.is_terminal:
            self.console.print(message, soft_wrap=True)


# -- server and agents ------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v1/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def start_server(demo: Demo) -> None:
    """Reuse the server of this home when one answers; otherwise start one on SQLite."""
    info = read_server_info(demo.home)
    if info is not None and _healthy(info.url):
        demo.url = info.url
        demo.say(f"reusing the server at {demo.url}")
        return
    demo.home.mkdir(parents=True, exist_ok=True)
    (demo.home / "logs").mkdir(exist_ok=True)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIOND_")}
    env["MISSIOND_HUB_POLL_S"] = "0.2"
    with (demo.home / "logs" / "server.log").open("ab") as log:
        demo.server = subprocess.Popen(
            [sys.executable, "-m", "missiond", "serve", "--home", str(demo.home), "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    demo.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not _healthy(demo.url):
        if demo.server.poll() is not None or time.monotonic() > deadline:
            raise click.ClickException(f"the server did not start; see {demo.home / 'logs' / 'server.log'}")
        time.sleep(0.1)
    demo.say(f"server up at {demo.url} (pid {demo.server.pid}, SQLite in {demo.home})")


def start_agents(demo: Demo, client: Client) -> None:
    (demo.home / "logs").mkdir(parents=True, exist_ok=True)
    taken = {a.name for a in client.list_agents()}
    suffix = f"-{demo.root.name.rsplit('-', 1)[-1]}" if taken & set(AGENTS) else ""
    for base in AGENTS:
        name = base + suffix
        agent, token = client.create_agent(name, roles=["executor"])
        assert token is not None
        demo.agent_ids.append(agent.subject)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIOND_")}
        env |= {"MISSIOND_URL": demo.url, "MISSIOND_TOKEN": token, "MISSIOND_HOME": str(demo.home)}
        log = (demo.home / "logs" / f"{name}.log").open("ab")
        demo.agents.append(
            subprocess.Popen(
                [sys.executable, "-m", "missiond.cli.demo_agent", "--role", "executor", "--name", name],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        demo.say(f"agent {name} ({agent.subject}) runs as pid {demo.agents[-1].pid}")


def stop(demo: Demo) -> None:
    for proc in demo.agents:
        _terminate(proc)
    if demo.server is not None and not demo.keep:
        _terminate(demo.server)


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# -- following the mission --------------------------------------------------------------------


def review_for_the_person(demo: Demo, client: Client, mission_id: str) -> None:
    """Decide the review approvals the demo decides; show (and maybe grant) the person's one."""
    for approval in client.list_approvals("pending", limit=100):
        payload = approval.payload
        if approval.kind != "mission.review" or payload.get("mission_id") != mission_id:
            continue
        item = str(payload.get("item_id"))
        demo.approvals.setdefault(item, {"id": approval.id, "summary": approval.summary})
        if item in AUTO_REVIEWED:
            client.approve(approval.id, reason="reviewed by the demo on your behalf")
            demo.say(f"review of {item} (attempt {payload.get('attempt')}) approved by the demo")
            continue
        if demo.shown_at is None:
            demo.shown_at = time.monotonic()
            demo.say(
                f"APPROVAL WAITING: {approval.id} — {approval.summary}\n"
                f"  decide it in the dashboard ({demo.url}/ui/#/approvals) or with: "
                f"missiond --home {demo.home} approval approve {approval.id}"
            )
        if not demo.interactive and time.monotonic() - demo.shown_at >= SHOW_APPROVAL_S:
            client.approve(approval.id, reason="release notes read and approved (granted by the demo)")
            demo.say(f"approval {approval.id} for {item} granted")


def render(demo: Demo, mission: dict[str, Any], progress: Progress) -> Group:
    table = Table(title=f"mission {mission['id']} — {mission['status']}", title_justify="left", expand=True)
    for column in ("item", "status", "attempts", "review", "test", "latest"):
        table.add_column(column)
    for item in mission.get("items", []):
        attempts = item.get("attempts") or []
        last = attempts[-1] if attempts else {}
        tests = " ".join("✓" if a.get("test") == "passed" else "✗" for a in attempts if a.get("test"))
        table.add_row(
            item["id"],
            Text(item["status"], style=STATUS_STYLE.get(item["status"], "")),
            str(len(attempts)),
            str(last.get("review") or ("waiting for a person" if item["status"] == "review" else "")),
            tests,
            Text(str(last.get("summary") or ""), overflow="ellipsis", no_wrap=True),
        )
    lines = Text("\n".join(demo.log[-6:]), style="dim")
    return Group(progress, table, lines)


def follow(demo: Demo, client: Client, mission_id: str) -> dict[str, Any]:
    deadline = None if demo.interactive else time.monotonic() + demo.timeout_s
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )
    bar = progress.add_task("items done", total=3)
    seen: dict[str, str] = {}
    with Live(console=demo.console, refresh_per_second=8, transient=False) as live:
        if not demo.console.is_terminal:
            live.stop()
        while True:
            mission = dict(client.get_mission(mission_id).raw)
            for item in mission.get("items", []):
                if seen.get(item["id"]) != item["status"]:
                    seen[item["id"]] = item["status"]
                    demo.say(f"{item['id']}: {item['status']} (attempt {len(item.get('attempts') or [])})")
            progress.update(bar, completed=mission["progress"]["done"], total=mission["progress"]["total"])
            if demo.console.is_terminal:
                live.update(render(demo, mission, progress))
            if mission["status"] in ("succeeded", "failed", "cancelled", "halted"):
                return mission
            review_for_the_person(demo, client, mission_id)
            if deadline is not None and time.monotonic() > deadline:
                demo.say(f"gave up waiting after {demo.timeout_s:g} s")
                return mission
            time.sleep(POLL_S)


def fire_routine(demo: Demo, client: Client) -> dict[str, Any]:
    routine = client.create_routine(
        "nightly tests", cron="0 2 * * *", timezone="UTC", action=routine_action(demo.repo)
    )
    demo.say(f"routine {routine.id} 'nightly tests' created; firing it now")
    run = client.run_routine_now(routine.id)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = client.routine_history(routine.id, limit=10).items
        found = next((r for r in runs if r.id == run.id), None)
        if found is not None and found.status not in ("queued", "running", "pending_approval"):
            demo.say(f"routine run {found.id}: {found.status} (exit {found.detail.get('exit_code')})")
            return dict(found.raw)
        time.sleep(POLL_S)
    return {"id": run.id, "status": "still running after 60 s", "detail": {}}


# -- what must have happened ------------------------------------------------------------------


def _item(mission: dict[str, Any], item_id: str) -> dict[str, Any]:
    return next((i for i in mission.get("items", []) if i["id"] == item_id), {"status": "missing"})


def check(demo: Demo, client: Client, mission: dict[str, Any], run: dict[str, Any]) -> list[Outcome]:
    outcomes = []
    greeting = _item(mission, "greeting")
    tests = [a.get("test") for a in greeting.get("attempts", [])]
    outcomes.append(
        Outcome(
            "greeting passes at once",
            "done after 1 attempt, test passed",
            f"{greeting['status']} after {len(tests)} attempt(s), tests {tests}",
            greeting["status"] == "done" and tests == ["passed"],
        )
    )
    calc = _item(mission, "calc")
    tests = [a.get("test") for a in calc.get("attempts", [])]
    outcomes.append(
        Outcome(
            "calc fails the real test gate, passes after rework",
            "attempt 1 test failed, then passed; done",
            f"{calc['status']}, tests {tests}, reworks {calc.get('reworks')}",
            calc["status"] == "done" and len(tests) >= 2 and tests[0] == "failed" and tests[-1] == "passed",
        )
    )
    notes = _item(mission, HUMAN_ITEM)
    approval = demo.approvals.get(HUMAN_ITEM)
    decided = client.get_approval(approval["id"]) if approval else None
    outcomes.append(
        Outcome(
            "notes waits for a human approval",
            "an approval was shown, approved by a person; done",
            f"{notes['status']}, approval {decided.id if decided else 'none'}"
            f" {decided.status if decided else ''} by {decided.decider if decided else '-'}",
            notes["status"] == "done" and decided is not None and decided.status == "approved",
        )
    )
    outcomes.append(
        Outcome("the mission succeeds", "succeeded", str(mission["status"]), mission["status"] == "succeeded")
    )
    ours_tasks = {f"task/{t.id}" for t in client.list_tasks(mission=mission["id"], limit=1000).items}
    claims = client.query_events(type="task.claimed", subject=sorted(ours_tasks) or None, limit=1000).events
    claimers = {e.actor for e in claims if e.subject in ours_tasks}
    ours = sorted(claimers & set(demo.agent_ids))
    outcomes.append(
        Outcome(
            "agents are separate processes",
            f"{len(AGENTS)} agent processes claimed the work",
            f"pids {', '.join(str(p.pid) for p in demo.agents)}; claims by {', '.join(ours) or 'nobody'}",
            len(demo.agents) == len(AGENTS) and bool(ours) and claimers <= set(demo.agent_ids),
        )
    )
    exit_code = (run.get("detail") or {}).get("exit_code")
    outcomes.append(
        Outcome(
            "a routine fires with run-now",
            "run succeeded, exit 0",
            f"{run.get('status')}, exit {exit_code}",
            run.get("status") == "succeeded" and exit_code == 0,
        )
    )
    return outcomes


def summary_table(outcomes: list[Outcome]) -> Table:
    table = Table(title="missiond demo — what happened", title_justify="left")
    table.add_column("")
    table.add_column("outcome")
    table.add_column("expected")
    table.add_column("observed")
    for o in outcomes:
        table.add_row(
            Text("✓", style="green") if o.ok else Text("✗", style="red"), o.name, o.expected, o.observed
        )
    return table


@contextlib.contextmanager
def workspace(keep: bool) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="missiond-demo-"))
    try:
        yield root
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def login_link(client: Client) -> str | None:
    with contextlib.suppress(MissiondError):
        return str(client.request("POST", "/v1/ui/login-links", json={}).json()["url"])
    return None


@click.command()
@click.option("--interactive", is_flag=True, help="Wait for you to decide the approval (dashboard or CLI).")
@click.pass_context
@click.option("--keep", is_flag=True, help="Leave the server (and the workspace) running to explore.")
@click.option(
    "--timeout", "timeout_s", default=240.0, show_default=True, help="Seconds to wait for the mission."
)
def demo(ctx: click.Context, interactive: bool, keep: bool, timeout_s: float) -> None:
    """Run the golden path: a mission with real agents, a real test gate, a human approval.

    It runs in a temporary directory with its own server on SQLite; with the global
    `--home DIR` it reuses the server running for that home (or starts one there)."""
    console = Console(highlight=False)
    app = ctx.find_object(App)
    home = app.home.expanduser().resolve() if app is not None and app.home is not None else None
    with workspace(keep) as root:
        run_demo(Demo(console, interactive, keep, timeout_s, root, home_override=home))


def run_demo(demo: Demo) -> None:
    console = demo.console
    no_git = make_repo(demo.repo)
    console.print(Panel.fit(f"missiond demo in {demo.root}", style="bold"))
    if no_git is None:
        demo.say(f"git repository with failing tests at {demo.repo}")
    else:
        demo.say(f"project with failing tests at {demo.repo} (not a git repository: {no_git})")
    start_server(demo)
    token = (demo.home / "token").read_text().strip()
    outcomes: list[Outcome] = []
    try:
        with Client(demo.url, token) as client:
            link = login_link(client)
            console.print(
                f"dashboard: [bold]{demo.url}/ui/[/bold]" + (f"  (sign in: {link})" if link else "")
            )
            start_agents(demo, client)
            created = client.create_mission(mission_spec(demo.repo), start=True)
            demo.say(
                f"mission {created.id} started: 3 items, agent review (notes: a person), test gate: unittest"
            )
            mission = follow(demo, client, created.id)
            run = fire_routine(demo, client)
            outcomes = check(demo, client, mission, run)
            console.print(summary_table(outcomes))
            console.print(f"dashboard: {demo.url}/ui/#/missions/{created.id}")
    finally:
        stop(demo)
    if demo.keep:
        console.print(
            f"The server keeps running at {demo.url} (pid {demo.server.pid if demo.server else '?'}).\n"
            f"Sign in with: missiond --home {demo.home} ui\n"
            f"Stop it with: kill {demo.server.pid if demo.server else '<pid>'}"
        )
    failed = [o.name for o in outcomes if not o.ok]
    if failed or not outcomes:
        raise click.ClickException("not as expected: " + "; ".join(failed or ["no outcome was checked"]))
    console.print("[green]every expected outcome happened[/green]")
