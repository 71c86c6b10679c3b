"""A SIGKILL loses nothing that was acknowledged: real servers, real databases, restarted on the same home."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from wirekit import all_events, assert_problem, head_seq, post_batch, post_event

pytestmark = pytest.mark.slow


def _hammer(
    srv: Any, worker: int, stop: threading.Event, acked: list[dict[str, Any]], lock: threading.Lock
) -> None:
    """Write single events and batches until stopped or the server dies; keep what got a 201."""
    with httpx.Client(base_url=srv.url, headers=srv.headers(), timeout=5.0) as client:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                if n % 3:
                    body = {"type": "build.step.finished", "subject": f"repo/w{worker}", "data": {"n": n}}
                    response = client.post("/v1/events", json=body)
                else:
                    items = [
                        {"type": "build.log.appended", "subject": f"repo/w{worker}", "data": {"n": n, "i": i}}
                        for i in range(7)
                    ]
                    response = client.post("/v1/events/batch", json={"events": items})
            except httpx.HTTPError:
                return  # the server was killed mid-request: this write was never acknowledged
            if response.status_code != 201:
                return
            with lock:
                acked.extend(response.json()["events"])


def test_acknowledged_events_survive_a_sigkill_with_the_same_seqs_and_ids(
    server_factory: Any,
    database_url: str,
) -> None:
    srv = server_factory(database_url).start()
    client = srv.client()
    head0 = head_seq(client)
    acked: list[dict[str, Any]] = []
    lock = threading.Lock()
    stop = threading.Event()
    workers = [
        threading.Thread(target=_hammer, args=(srv, w, stop, acked, lock), daemon=True) for w in range(3)
    ]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        with lock:
            if len(acked) >= 150:
                break
        time.sleep(0.02)
    # one more write from here, then SIGKILL the moment its 201 arrives, with the workers still writing
    last = post_batch(
        client, [{"type": "build.finished", "subject": "repo/last", "data": {"i": i}} for i in range(3)]
    )
    srv.kill()
    stop.set()
    for worker in workers:
        worker.join(10)
    acked.extend(last)
    assert len(acked) >= 150

    restarted = server_factory(database_url, home=srv.home).start()
    client = restarted.client()
    log = {e["seq"]: e for e in all_events(client, after=head0)}
    for envelope in acked:
        assert log.get(envelope["seq"]) == envelope, f"acknowledged seq {envelope['seq']} lost or changed"
    assert len({e["id"] for e in log.values()}) == len(log)
    # no holes: whatever committed (acknowledged or not) is a gapless run of seqs
    assert sorted(log) == list(range(head0 + 1, head0 + len(log) + 1))
    assert head_seq(client) == max(log)
    # the restarted server keeps appending after the recovered head
    assert post_event(client)["seq"] == max(log) + 1


REQUESTS = {
    "/v1/events": {"type": "build.step.finished", "subject": "repo/idem", "data": {"k": 1}},
    "/v1/events/batch": {
        "events": [
            {"type": "build.step.finished", "subject": "repo/idem", "data": {"i": i}} for i in range(4)
        ]
    },
}
DIFFERENT = {
    "/v1/events": {"type": "build.step.finished", "subject": "repo/other", "data": {"k": 1}},
    "/v1/events/batch": {"events": [{"type": "build.step.finished", "subject": "repo/idem", "data": {}}]},
}


def test_idempotent_posts_repeated_after_a_sigkill_restart_replay_their_first_answers(
    server_factory: Any,
    database_url: str,
) -> None:
    srv = server_factory(database_url).start()
    client = srv.client()
    first = {
        path: client.post(path, json=body, headers={"Idempotency-Key": f"it-durable-{path}"})
        for path, body in REQUESTS.items()
    }
    srv.kill()  # right after the last 201
    for response in first.values():
        assert response.status_code == 201, response.text
        assert response.headers.get("Idempotent-Replayed") != "true"

    restarted = server_factory(database_url, home=srv.home).start()
    client = restarted.client()
    head = head_seq(client)
    for path, body in REQUESTS.items():
        key = {"Idempotency-Key": f"it-durable-{path}"}
        again = client.post(path, json=body, headers=key)
        assert again.status_code == 201, again.text
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json() == first[path].json()
        assert_problem(client.post(path, json=DIFFERENT[path], headers=key), 422, "IDEMPOTENCY_KEY_REUSED")
    assert head_seq(client) == head, "replays and refused reuses must not append anything"
    stored = {e["seq"]: e for e in all_events(client)}
    for response in first.values():
        for envelope in response.json()["events"]:
            assert stored[envelope["seq"]] == envelope
