"""Benchmark: the routine scheduler with 10,000 active routines.

    .venv/bin/python bench/routines.py [--routines 10000] [--minutes 2]
        [--part all|recovery|lateness] [--repeats 5]

1. Recovery: 10,000 routines (mixed cron and interval) whose next fire time
   is a day ago, as after a day of downtime; time until every one is
   planned (runs + missed ranges committed), through the service layer
   (`RoutineService.tick` until nothing is due). Run `--repeats` times on
   fresh databases; best and median wall time, and the process's CPU time
   (less sensitive to a busy machine than wall time).
2. Lateness: a real server with 10,000 active routines, many due every
   minute (a third `* * * * *`, the rest intervals of 30-120 s). Their
   actions are external connectors with external_allowed=false, so each
   occurrence is decided and recorded (blocked_policy) without spending the
   machine on 10,000 subprocesses a minute: what is measured is the
   scheduler. Lateness = run creation time - scheduled_for (a run's
   creation time is the start of its tick's transaction). Also the server
   process's CPU share over the window (from /proc).
Targets: recovery < 2 s; lateness p99 < 1 s. Figures depend on the machine
and on what else runs on it: the load average is printed with them.
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
        cpu, start = time.process_time(), time.perf_counter()
        planned = 0
        while (due := system.routines.tick(now)) > 0:
            planned += due
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        runs, routines = RoutineRunRow.__table__, RoutineRow.__table__
        count = sa.select(sa.func.count())
        with system.store.engine.connect() as conn:
            fired = conn.execute(count.select_from(runs).where(runs.c.status != "missed")).scalar()
            missed = conn.execute(count.select_from(runs).where(runs.c.status == "missed")).scalar()
            left = conn.execute(
                count.select_from(routines).where(routines.c.next_fire_at_us <= to_us(now))
            ).scalar()
        system.close()
    if planned != n or left:
        raise SystemExit(f"recovery planned {planned} of {n} routines; {left} still due")
    return {
        "recovery_s": elapsed,
        "recovery_cpu_s": cpu,
        "runs": int(fired or 0),
        "missed_rows": int(missed or 0),
    }


def recoveries(n: int, repeats: int) -> dict[str, float]:
    measured = []
    for i in range(repeats):
        measured.append(recovery(n))
        print(f"  run {i + 1}: {measured[-1]['recovery_s']:.2f} s", file=sys.stderr)
    walls = sorted(m["recovery_s"] for m in measured)
    return {
        "recovery_best_s": walls[0],
        "recovery_median_s": statistics.median(walls),
        "recovery_cpu_best_s": min(m["recovery_cpu_s"] for m in measured),
        "recovery_runs": measured[0]["runs"],
        "recovery_missed_rows": measured[0]["missed_rows"],
        "recovery_repeats": repeats,
    }


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


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--routines", type=int, default=10_000)
    parser.add_argument("--minutes", type=float, default=2.0, help="lateness window")
    parser.add_argument("--part", choices=("all", "recovery", "lateness"), default="all")
    parser.add_argument("--repeats", type=int, default=5, help="recovery runs (best and median)")
    args = parser.parse_args()
    figures: dict[str, float] = {}
    rows: list[tuple[str, str, str]] = []
    load_before = _load()
    if args.part in ("all", "recovery"):
        print(f"recovery of {args.routines} routines after a day down...", file=sys.stderr)
        figures |= recoveries(args.routines, args.repeats)
        best, median = figures["recovery_best_s"], figures["recovery_median_s"]
        missed = figures["recovery_missed_rows"]
        rows += [
            (
                "recovery after 1 day",
                f"{best:.2f} s",
                f"best of {args.repeats}; target < 2 s, {best / 2:.2f}x",
            ),
            ("  median", f"{median:.2f} s", f"{median / 2:.2f}x target"),
            ("  CPU (best)", f"{figures['recovery_cpu_best_s']:.2f} s", "this process"),
            ("  rows", f"{figures['recovery_runs']:.0f}", f"runs, and {missed:.0f} missed ranges"),
        ]
        figures["recovery_target_met"] = best < 2
    if args.part in ("all", "lateness"):
        print(f"lateness with {args.routines} active routines...", file=sys.stderr)
        figures |= lateness(args.routines, args.minutes)
        p99 = figures["lateness_p99_s"]
        rows += [
            ("fired in window", f"{figures['fired_in_window']:.0f}", f"{args.minutes:g} min"),
            ("lateness p50", f"{figures['lateness_p50_s'] * 1000:.0f} ms", ""),
            ("lateness p99", f"{p99 * 1000:.0f} ms", f"target < 1000 ms ({p99:.2f}x)"),
            ("server CPU share", f"{figures['scheduler_cpu_share'] * 100:.1f} %", "of one core"),
        ]
        figures["lateness_target_met"] = p99 < 1
    rows.append(("load average", load_before, f"before; after: {_load()} ({os.cpu_count()} CPUs)"))
    for name, value, note in rows:
        print(f"{name:<22} {value:>14}  {note}")
    print(
        json.dumps(
            {
                "bench": "routines",
                "routines": args.routines,
                **{k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()},
                "load_average": load_before,
            }
        )
    )


if __name__ == "__main__":
    main()
