"""Benchmark: the routine scheduler with 10,000 active routines.

    .venv/bin/python bench/routines.py [--routines 10000] [--minutes 2]

1. Recovery: 10,000 routines (mixed cron and interval) whose next fire time
   is a day ago, as after a day of downtime; time until every one is
   planned (runs + missed ranges committed), through the service layer.
2. Lateness: a real server with 10,000 active routines, many due every
   minute (a third `* * * * *`, the rest intervals of 30-120 s). Their
   actions are external connectors with external_allowed=false, so each
   occurrence is decided and recorded (blocked_policy) without spending the
   machine on 10,000 subprocesses a minute: what is measured is the
   scheduler. Lateness = run creation time - scheduled_for. Also the server
   process's CPU share over the window (from /proc).
Targets: lateness p99 < 1 s; recovery < 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from missiond.bootstrap import build
from missiond.core.events import to_us
from missiond.core.routines.schedule import CronSchedule, IntervalSchedule
from missiond.identifiers import new_id
from missiond.settings import Settings
from missiond.storage.tables import RoutineRow, RoutineRunRow

ACTION = {
    "kind": "connector",
    "connector": "http.post",
    "params": {"url": "http://127.0.0.1:9/", "json": None, "headers": {}},
    "timeout_s": 5.0,
}


def seed(system, n: int, now: datetime, *, behind: timedelta, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    rows = []
    for i in range(n):
        anchor = now - timedelta(days=2) + timedelta(seconds=rng.randrange(120))
        if i % 3 == 0:
            schedule = {
                "cron": "* * * * *",
                "timezone": rng.choice(["UTC", "Europe/Berlin", "America/New_York"]),
            }
            parsed = CronSchedule.parse(schedule["cron"], schedule["timezone"])
        else:
            schedule = {"interval_s": float(rng.choice([30, 45, 60, 90, 120]))}
            parsed = IntervalSchedule.parse(schedule["interval_s"], anchor)
        nxt = parsed.next_after(now - behind)
        rows.append(
            {
                "id": new_id("rtn"),
                "name": f"r{i}",
                "schedule": schedule,
                "misfire": {"policy": "run_once", "max_runs": 1, "grace_s": 60.0},
                "overlap": "allow",
                "action": ACTION,
                "requires_approval": False,
                "external_allowed": False,
                "created_by_type": "user",
                "created_by_id": "bench",
                "status": "active",
                "next_fire_at_us": to_us(nxt),
                "last_fired_at_us": None,
                "anchor_us": to_us(anchor),
                "rev": 1,
                "created_at_us": to_us(now),
                "updated_at_us": to_us(now),
            }
        )
    with system.store.engine.begin() as conn:
        for start in range(0, len(rows), 2000):
            conn.execute(sa.insert(RoutineRow.__table__), rows[start : start + 2000])


def recovery(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="missiond-bench-") as tmp:
        system = build(Settings.from_env(home=Path(tmp)))
        now = datetime.now(UTC)
        seed(system, n, now, behind=timedelta(days=1), rng=random.Random(3))
        start = time.perf_counter()
        planned = 0
        while (due := system.routines.tick(now)) > 0:
            planned += due
        elapsed = time.perf_counter() - start
        with system.store.engine.connect() as conn:
            runs = conn.execute(sa.select(sa.func.count()).select_from(RoutineRunRow.__table__)).scalar()
        system.close()
    return {"recovery_s": elapsed, "recovered_routines": planned, "recovery_rows": int(runs or 0)}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def lateness(n: int, minutes: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="missiond-bench-") as tmp:
        home = Path(tmp)
        system = build(Settings.from_env(home=home))
        now = datetime.now(UTC)
        seed(system, n, now, behind=timedelta(seconds=-5), rng=random.Random(5))
        system.close()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {**os.environ, "MISSIOND_LOG_LEVEL": "warning"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "missiond", "serve", "--home", str(home), "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(200):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            window_start = datetime.now(UTC) + timedelta(seconds=10)  # let the startup backlog settle
            time.sleep(10)
            cpu0, wall0 = _cpu_seconds(proc.pid), time.perf_counter()
            print(f"  measuring for {minutes:g} min...", file=sys.stderr)
            time.sleep(minutes * 60)
            cpu1, wall1 = _cpu_seconds(proc.pid), time.perf_counter()
        finally:
            proc.terminate()
            proc.wait(20)
        system = build(Settings.from_env(home=home))
        with system.store.engine.connect() as conn:
            t = RoutineRunRow.__table__
            rows = conn.execute(
                sa.select(t.c.scheduled_for_us, t.c.created_at_us).where(
                    t.c.scheduled_for_us >= to_us(window_start), t.c.status != "missed"
                )
            ).all()
        system.close()
    late = sorted((created - scheduled) / 1e6 for scheduled, created in rows)
    return {
        "fired_in_window": len(late),
        "lateness_p50_s": statistics.median(late) if late else float("nan"),
        "lateness_p99_s": late[int(len(late) * 0.99) - 1] if late else float("nan"),
        "scheduler_cpu_share": (cpu1 - cpu0) / (wall1 - wall0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--routines", type=int, default=10_000)
    parser.add_argument("--minutes", type=float, default=2.0)
    args = parser.parse_args()
    print(f"recovery of {args.routines} routines after a day down...", file=sys.stderr)
    figures: dict[str, float] = recovery(args.routines)
    print(f"lateness with {args.routines} active routines...", file=sys.stderr)
    figures |= lateness(args.routines, args.minutes)
    rows = [
        ("recovery after 1 day", f"{figures['recovery_s']:.2f} s", "target < 2 s"),
        ("fired in window", f"{figures['fired_in_window']:.0f}", ""),
        ("lateness p50", f"{figures['lateness_p50_s'] * 1000:.0f} ms", ""),
        ("lateness p99", f"{figures['lateness_p99_s'] * 1000:.0f} ms", "target < 1000 ms"),
        ("server CPU share", f"{figures['scheduler_cpu_share'] * 100:.1f} %", "of one core"),
    ]
    for name, value, note in rows:
        print(f"{name:<22} {value:>12}  {note}")
    figures["recovery_target_met"] = figures["recovery_s"] < 2
    figures["lateness_target_met"] = figures["lateness_p99_s"] < 1
    print(
        json.dumps(
            {
                "bench": "routines",
                **{k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
