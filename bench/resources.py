"""Benchmark: CAS writes and watch delivery against a real missiond server.

    .venv/bin/python bench/resources.py [--clients 8] [--keys 16] [--watchers 200]
                                        [--rate 200] [--seconds 10] [--rounds 3]

One run measures, against one freshly started server (SQLite default):
  1. baseline: plain GET /v1/health requests/s from the same client pool;
  2. CAS: `clients` concurrent writers doing read -> PUT If-Match on a shared
     key set; writes/s and conflicts/s, and the ratio to the baseline.
     Baseline and CAS alternate for `rounds` pairs; the median pair is reported
     with every pair's ratio beside it;
  3. watch: `watchers` SSE watchers on the prefix while a paced writer does
     `rate` writes/s for `seconds`; each value carries its publish time, so
     each watcher measures delivery latency; p50/p99 and lost/duplicated
     counts (compared with the spine).
Prints a table and one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TARGET_CAS_RATIO = 0.30
TARGET_P99_MS = 100.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MISSIOND_LOG_LEVEL": "warning", "MISSIOND_SSE_QUEUE": "100000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "missiond", "serve", "--home", str(home), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(home / "server.err", "wb"),  # noqa: SIM115
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


# -- phase 1 and 2: request rates -------------------------------------------------------------
async def _health_worker(client: httpx.AsyncClient, deadline: float) -> int:
    n = 0
    while time.perf_counter() < deadline:
        (await client.get("/v1/health")).raise_for_status()
        n += 1
    return n


async def _cas_worker(
    client: httpx.AsyncClient, keys: list[str], deadline: float, seed: int
) -> tuple[int, int]:
    ok = conflicts = 0
    i = seed
    while time.perf_counter() < deadline:
        key = keys[i % len(keys)]
        i += 7
        record = (await client.get(f"/v1/resources/{key}")).json()
        rev, value = record["mod_rev"], record["value"]
        value["n"] += 1
        answer = await client.put(
            f"/v1/resources/{key}", json={"value": value}, headers={"If-Match": f'"{rev}"'}
        )
        if answer.status_code == 200:
            ok += 1
        elif answer.status_code == 412:
            conflicts += 1
        else:
            raise RuntimeError(answer.text)
    return ok, conflicts


async def rates(
    url: str, token: str, clients: int, keys: list[str], seconds: float, rounds: int
) -> dict[str, float]:
    """`rounds` alternating pairs of (health, CAS) phases; the ratio of each pair, and the
    median pair's figures (a shared machine's noise moves both phases of a pair alike)."""
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    pairs: list[dict[str, float]] = []
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as client:
        for key in keys:
            (await client.put(f"/v1/resources/{key}", json={"value": {"n": 0}})).raise_for_status()
        await asyncio.gather(*[_health_worker(client, time.perf_counter() + 1) for _ in range(clients)])
        for index in range(rounds):
            start = time.perf_counter()
            counts = await asyncio.gather(*[_health_worker(client, start + seconds) for _ in range(clients)])
            health_rps = sum(counts) / (time.perf_counter() - start)
            start = time.perf_counter()
            results = await asyncio.gather(
                *[_cas_worker(client, keys, start + seconds, i) for i in range(clients)]
            )
            elapsed = time.perf_counter() - start
            writes = sum(r[0] for r in results) / elapsed
            pair = {
                "health_rps": health_rps,
                "cas_writes_per_s": writes,
                "cas_conflicts_per_s": sum(r[1] for r in results) / elapsed,
                "cas_ratio": writes / health_rps,
            }
            print(
                f"  round {index + 1}/{rounds}: health {health_rps:.0f} req/s, CAS {writes:.0f} writes/s,"
                f" ratio {pair['cas_ratio']:.3f}",
                file=sys.stderr,
            )
            pairs.append(pair)
    pairs.sort(key=lambda p: p["cas_ratio"])
    return {**pairs[len(pairs) // 2], "cas_ratio_rounds": [round(p["cas_ratio"], 3) for p in pairs]}


# -- phase 3: watchers ------------------------------------------------------------------------
async def _watch(port: int, token: str, prefix: str, after: int, out: list) -> None:  # type: ignore[type-arg]
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**22)
    writer.write(
        (
            f"GET /v1/streams/resources?prefix={prefix}&after={after} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    seqs: list[int] = []
    latencies: list[float] = []
    seq = 0
    while True:
        line = await reader.readline()
        if not line:
            break
        if line.startswith(b"id: "):
            seq = int(line[4:])
        elif line.startswith(b"data: "):
            now = time.time()
            envelope = json.loads(line[6:])
            seqs.append(seq)
            value = envelope["data"].get("value") or {}
            if "t" in value:
                latencies.append((now - value["t"]) * 1000)
            if value.get("last"):
                break
    writer.close()
    out.append((seqs, latencies))


def watcher_process(
    port: int, token: str, prefix: str, after: int, count: int, ready: mp.Event, queue: mp.Queue
) -> None:  # type: ignore[type-arg]
    async def main() -> None:
        out: list = []  # type: ignore[type-arg]
        tasks = [asyncio.create_task(_watch(port, token, prefix, after, out)) for _ in range(count)]
        await asyncio.sleep(1.0)
        ready.set()
        await asyncio.gather(*tasks)
        queue.put(out)

    asyncio.run(main())


def paced_writes(url: str, token: str, prefix: str, rate: int, seconds: float) -> int:
    n = int(rate * seconds)
    interval = 1.0 / rate
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        start = time.perf_counter()
        for i in range(n):
            target = start + i * interval
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            value = {"t": time.time(), "i": i, "last": i == n - 1}
            client.put(f"/v1/resources/{prefix}k{i % 32}", json={"value": value}).raise_for_status()
    return n


def watch(url: str, port: int, token: str, watchers: int, rate: int, seconds: float) -> dict[str, float]:
    prefix = "project/watch/"
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
        after = client.get("/v1/health").json()["head_seq"]
    ctx = mp.get_context("spawn")
    procs_n = max(1, min(4, watchers // 50))
    per = [watchers // procs_n + (1 if i < watchers % procs_n else 0) for i in range(procs_n)]
    queue: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    readies = [ctx.Event() for _ in per]
    procs = [
        ctx.Process(target=watcher_process, args=(port, token, prefix, after, n, r, queue))
        for n, r in zip(per, readies, strict=True)
    ]
    for p in procs:
        p.start()
    for r in readies:
        r.wait(60)
    written = paced_writes(url, token, prefix, rate, seconds)
    results = []
    for _ in procs:
        results.extend(queue.get(timeout=120))
    for p in procs:
        p.join(30)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
        expected: list[int] = []
        cursor = None
        while True:
            params = {"type": "resource.", "subject": f"resource/{prefix}", "after": after, "limit": 1000}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/v1/events", params=params).json()
            expected += [e["seq"] for e in page["events"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
    lost = dup = 0
    latencies: list[float] = []
    for seqs, lat in results:
        dup += len(seqs) - len(set(seqs))
        lost += len(set(expected) - set(seqs))
        latencies += lat
    latencies.sort()
    return {
        "watchers": len(results),
        "watch_writes": written,
        "watch_rate_target": rate,
        "delivery_p50_ms": statistics.median(latencies),
        "delivery_p99_ms": latencies[int(len(latencies) * 0.99) - 1],
        "deliveries": len(latencies),
        "lost": lost,
        "duplicated": dup,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--keys", type=int, default=16)
    parser.add_argument("--watchers", type=int, default=200)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3, help="health/CAS pairs; the median is reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="missiond-bench-") as tmp:
        home = Path(tmp)
        port = free_port()
        proc = start_server(home, port)
        try:
            url = f"http://127.0.0.1:{port}"
            token = (home / "token").read_text().strip()
            keys = [f"project/cas/k{i}" for i in range(args.keys)]
            print(
                f"measuring request rates ({args.clients} clients, {args.rounds} rounds of"
                f" {args.seconds:.0f}s health + {args.seconds:.0f}s CAS)...",
                file=sys.stderr,
            )
            figures = asyncio.run(rates(url, token, args.clients, keys, args.seconds, args.rounds))
            print(
                f"measuring watch delivery ({args.watchers} watchers, {args.rate} writes/s)...",
                file=sys.stderr,
            )
            figures |= watch(url, port, token, args.watchers, args.rate, args.seconds)
        finally:
            proc.terminate()
            proc.wait(10)
    rows = [
        ("health baseline", f"{figures['health_rps']:.0f} req/s", ""),
        (
            "CAS writes",
            f"{figures['cas_writes_per_s']:.0f} writes/s",
            f"ratio {figures['cas_ratio']:.2f} (target >= {TARGET_CAS_RATIO}; median of"
            f" {figures['cas_ratio_rounds']})",
        ),
        ("CAS conflicts", f"{figures['cas_conflicts_per_s']:.0f} /s", ""),
        ("delivery p50", f"{figures['delivery_p50_ms']:.1f} ms", ""),
        ("delivery p99", f"{figures['delivery_p99_ms']:.1f} ms", f"target < {TARGET_P99_MS} ms"),
        ("lost / duplicated", f"{figures['lost']} / {figures['duplicated']}", "target 0 / 0"),
    ]
    for name, value, note in rows:
        print(f"{name:<20} {value:>18}  {note}")
    figures["cas_target_met"] = figures["cas_ratio"] >= TARGET_CAS_RATIO
    figures["p99_target_met"] = figures["delivery_p99_ms"] < TARGET_P99_MS
    print(
        json.dumps(
            {
                "bench": "resources",
                **{k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
