"""The resources watch on a real server, on both backends: under concurrent writer processes
every watcher gets exactly the logged events, in order, with each transaction contiguous; a
list's revision is a watch cursor; resuming is exact; compacted cursors are refused; a prefix
filters by key prefix."""

from __future__ import annotations

import itertools
import multiprocessing
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from missiond.bootstrap import System
from missiond.core.events import EventFilter
from missiond.services.resources import Precondition

from .harness import ADMIN
from .watching import Watcher, head_of, logged, start_watchers
from .writers import OUTSIDE, write

pytestmark = pytest.mark.slow

WRITERS = 3
WRITES_EACH = 50
FAST_PINGS = {"MISSIOND_SSE_PING_S": "0.3"}


@pytest.fixture
def live(server_factory: Any, database_url: str) -> Iterator[Any]:
    server = server_factory(database_url, env=FAST_PINGS).start()
    yield server
    server.stop()


@pytest.fixture
def client(live: Any) -> Iterator[httpx.Client]:
    with live.client() as client:
        yield client


def start_writers(server: Any, prefix: str) -> list[multiprocessing.process.BaseProcess]:
    spawn = multiprocessing.get_context("spawn")
    writers = [
        spawn.Process(target=write, args=(server.url, server.token, prefix, seed, WRITES_EACH), daemon=True)
        for seed in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    return writers


def join_writers(writers: list[multiprocessing.process.BaseProcess]) -> None:
    for writer in writers:
        writer.join(90)
        assert writer.exitcode == 0, "a writer process failed (see its stderr above)"


def seqs(events: list[dict[str, Any]]) -> list[int]:
    return [e["seq"] for e in events]


def assert_transactions_contiguous(events: list[dict[str, Any]]) -> None:
    """The events sharing a revision (one write transaction) are adjacent and end at or before it."""
    positions: dict[int, list[int]] = {}
    for index, event in enumerate(events):
        positions.setdefault(event["data"]["rev"], []).append(index)
        assert event["seq"] <= event["data"]["rev"]
    for rev, where in positions.items():
        assert where == list(range(where[0], where[0] + len(where))), f"txn {rev} is split: {where}"
    revs = list(positions)
    assert revs == sorted(revs)


def new_prefix() -> str:
    return f"project/w{uuid.uuid4().hex[:8]}/"


def test_every_watcher_gets_each_logged_event_exactly_once_in_order_with_transactions_whole(
    live: Any, client: httpx.Client
) -> None:
    prefix = new_prefix()
    start = head_of(client)
    watchers = start_watchers([Watcher(live, prefix, after=start) for _ in range(3)])

    join_writers(start_writers(live, prefix))
    log = logged(client, prefix, start)

    assert len(log) > WRITERS * WRITES_EACH / 2
    assert any(e["data"]["rev"] != e["seq"] for e in log), "no multi-event transaction was logged"
    assert all(e["subject"].startswith(f"resource/{prefix}") for e in log)
    for watcher in watchers:
        received = watcher.finish(log[-1]["seq"])
        assert seqs(received) == sorted(set(seqs(received))), "out of order or repeated"
        assert received == log
        assert_transactions_contiguous(received)


def test_a_watch_from_a_lists_revision_rebuilds_the_final_list(live: Any, client: httpx.Client) -> None:
    prefix = new_prefix()
    start = head_of(client)
    writers = start_writers(live, prefix)
    deadline = time.monotonic() + 30
    while head_of(client) < start + 20 and time.monotonic() < deadline:
        time.sleep(0.02)

    listed = client.get("/v1/resources", params={"prefix": prefix, "limit": 1000}).json()
    watcher = start_watchers([Watcher(live, prefix, after=listed["revision"])])[0]
    join_writers(writers)
    later = logged(client, prefix, listed["revision"])

    assert later, "the writers finished before the list; nothing was left to watch"
    received = watcher.finish(later[-1]["seq"])
    assert received == later
    state = {item["key"]: rebuilt(item) for item in listed["items"]}
    for event in received:
        if event["type"] == "resource.updated":
            state[event["data"]["key"]] = rebuilt({**event["data"], "mod_rev": event["data"]["rev"]})
        else:
            state.pop(event["data"]["key"])
    final = client.get("/v1/resources", params={"prefix": prefix, "limit": 1000}).json()
    assert state == {item["key"]: rebuilt(item) for item in final["items"]}


def rebuilt(record: dict[str, Any]) -> tuple[Any, ...]:
    return (record["value"], record["version"], record["mod_rev"], record["create_rev"])


def write_a_history(client: httpx.Client, prefix: str) -> None:
    """Single writes and transactions of two and three keys (one of them outside the prefix)."""
    for n in range(4):
        assert client.put(f"/v1/resources/{prefix}k{n}", json={"value": n}).status_code == 201
        ops = [
            {"op": "put", "key": f"{prefix}k{n}", "value": {"n": n}},
            {"op": "put", "key": f"{OUTSIDE}{n}", "value": n},
            {"op": "patch", "key": f"{prefix}k0", "patch": {"t": n}},
        ]
        assert client.post("/v1/resources:txn", json={"ops": ops[: 2 + n % 2]}).status_code == 200


def inside_a_transaction(log: list[dict[str, Any]]) -> int:
    """The seq of an event followed, under the prefix, by another event of its transaction."""
    return next(e["seq"] for e, after in itertools.pairwise(log) if after["data"]["rev"] == e["data"]["rev"])


def test_resuming_with_last_event_id_delivers_exactly_the_later_events(
    live: Any, client: httpx.Client
) -> None:
    prefix = new_prefix()
    start = head_of(client)
    write_a_history(client, prefix)
    log = logged(client, prefix, start)
    mid_txn = inside_a_transaction(log)
    txn_end = next(e["data"]["rev"] for e in log if e["seq"] == mid_txn)
    cursors = [start, mid_txn, txn_end, log[len(log) // 2]["seq"], log[-1]["seq"]]

    # Last-Event-ID wins over ?after=, which points elsewhere on purpose.
    watchers = start_watchers([Watcher(live, prefix, after=start, last_event_id=c) for c in cursors])
    marker = client.put(f"/v1/resources/{prefix}marker", json={"value": True}).json()["mod_rev"]
    log = logged(client, prefix, start)

    for cursor, watcher in zip(cursors, watchers, strict=True):
        assert watcher.finish(marker) == [e for e in log if e["seq"] > cursor], f"resumed after {cursor}"


def test_a_watch_cut_mid_transaction_and_resumed_from_its_last_id_misses_and_repeats_nothing(
    live: Any, client: httpx.Client
) -> None:
    prefix = new_prefix()
    start = head_of(client)
    write_a_history(client, prefix)
    log = logged(client, prefix, start)
    cut = inside_a_transaction(log)

    first = start_watchers([Watcher(live, prefix, after=start, stop_at=cut)])[0].finish(cut)
    second = start_watchers([Watcher(live, prefix, last_event_id=first[-1]["seq"])])[0].finish(log[-1]["seq"])

    assert first[-1]["seq"] == cut
    assert first + second == log


def test_a_compacted_cursor_is_refused_with_cursor_expired(live: Any, client: httpx.Client) -> None:
    prefix = new_prefix()
    write_a_history(client, prefix)
    floor = head_of(client) - 3
    assert client.post("/v1/admin/compact", json={"through_seq": floor}).status_code == 200

    refused = [Watcher(live, prefix, after=floor - 1), Watcher(live, prefix, last_event_id=floor - 1)]
    accepted = Watcher(live, prefix, after=floor)
    start_watchers([*refused, accepted])
    marker = client.put(f"/v1/resources/{prefix}marker", json={"value": True}).json()["mod_rev"]

    for watcher in refused:
        watcher.join(10)
        assert watcher.status == 410
        assert watcher.problem is not None
        assert (watcher.problem["code"], watcher.problem["floor"]) == ("CURSOR_EXPIRED", floor)
    assert accepted.finish(marker) == logged(client, prefix, floor)


PREFIXES = ["project/a", "project/a/", "project/", "team/", ""]
KEYS = ["project/a", "project/a/x", "project/ab", "project/b", "team/a", "mission/m/a"]


def test_a_watch_sees_exactly_the_keys_under_its_prefix_live_and_in_catch_up(
    live: Any, client: httpx.Client
) -> None:
    start = head_of(client)
    live_watchers = start_watchers([Watcher(live, prefix, after=start) for prefix in PREFIXES])
    for key in KEYS:
        assert client.put(f"/v1/resources/{key}", json={"value": key}).status_code == 201
    ops = [{"op": "patch", "key": key, "patch": {"v": 2}} for key in KEYS]
    assert client.put(f"/v1/resources/{KEYS[0]}", json={"value": {}}).status_code == 200
    assert client.post("/v1/resources:txn", json={"ops": ops}).status_code == 200
    everything = logged(client, "", start)
    catch_up_watchers = start_watchers([Watcher(live, prefix, after=start) for prefix in PREFIXES])

    for prefix, live_watcher, catch_up in zip(PREFIXES, live_watchers, catch_up_watchers, strict=True):
        wanted = [e for e in everything if e["data"]["key"].startswith(prefix)]
        assert live_watcher.finish(wanted[-1]["seq"]) == wanted, f"live, prefix {prefix!r}"
        assert catch_up.finish(wanted[-1]["seq"]) == wanted, f"catch-up, prefix {prefix!r}"
        listed = client.get("/v1/resources", params={"prefix": prefix}).json()["items"]
        assert [item["key"] for item in listed] == sorted(k for k in KEYS if k.startswith(prefix))


def test_a_prefix_matches_case_sensitively_in_lists_and_in_a_watchs_catch_up_read(system: System) -> None:
    for key in ("project/A/x", "project/a/x"):
        system.resources.put(ADMIN, key, 1, ttl_s=None, pre=Precondition())
    watch_filter = EventFilter(types=("resource.",), subjects=("resource/project/a",))

    listed = system.resources.list(ADMIN, "project/a", after_key=None, limit=100)["items"]
    caught_up = system.events.read_after(watch_filter, 0, 100)

    assert [item["key"] for item in listed] == ["project/a/x"]
    assert [e.data["key"] for e in caught_up] == ["project/a/x"]
    assert all(watch_filter.matches(e) for e in caught_up)
