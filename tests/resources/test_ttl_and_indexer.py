"""TTL (expiry on read, on write, by the sweeper) and the status indexer (a fold of run and tool
events into `run/<session>/status`, applied exactly once across restarts)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from missiond.bootstrap import System, build
from missiond.core.events import NewEvent, format_ts
from missiond.errors import MissiondError
from missiond.services.resources import Patch, Precondition
from missiond.services.status_indexer import StatusIndexer
from missiond.settings import Settings
from missiond.storage.resources import ReactorCursors

from .harness import ADMIN, ManualClock, events_after, resource_events, spine_head

NO_PRECONDITION = Precondition()


def put(system: System, key: str, value: Any, ttl_s: float | None = None) -> dict[str, Any]:
    record, _ = system.resources.put(ADMIN, key, value, ttl_s=ttl_s, pre=NO_PRECONDITION)
    return record


def read(system: System, key: str) -> dict[str, Any] | None:
    try:
        return system.resources.get(ADMIN, key)
    except MissiondError as exc:
        assert exc.code == "RESOURCE_NOT_FOUND"
        return None


def poll(check: Callable[[], Any], timeout: float = 8.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(every)


# -- TTL, in-process on a clock the test moves ---------------------------------------------------
def test_an_expired_record_reads_as_not_found_and_is_expired_exactly_once(
    clocked_system: System, clock: ManualClock
) -> None:
    record = put(clocked_system, "project/t", {"n": 1}, ttl_s=10)
    clock.advance(seconds=10)

    assert read(clocked_system, "project/t") is None
    assert read(clocked_system, "project/t") is None
    clocked_system.resources.sweep()

    expired = [e for e in resource_events(clocked_system) if e.type == "resource.expired"]
    assert len(expired) == 1
    assert expired[0].actor == "system.ttl"
    assert expired[0].data == {
        "key": "project/t",
        "rev": expired[0].seq,
        "prev_rev": record["mod_rev"],
        "updated_by": "system.ttl",
    }


def test_a_record_is_live_until_the_instant_it_expires(clocked_system: System, clock: ManualClock) -> None:
    put(clocked_system, "project/t", 1, ttl_s=10)
    clock.advance(seconds=9.999)

    assert read(clocked_system, "project/t") is not None
    assert clocked_system.resources.sweep() == 0


def test_a_list_skips_expired_records_before_any_sweep(clocked_system: System, clock: ManualClock) -> None:
    put(clocked_system, "project/a", 1, ttl_s=5)
    put(clocked_system, "project/b", 2)
    put(clocked_system, "project/c", 3, ttl_s=100)
    clock.advance(seconds=6)
    head = spine_head(clocked_system)

    listed = clocked_system.resources.list(ADMIN, "project/", after_key=None, limit=100)

    assert [item["key"] for item in listed["items"]] == ["project/b", "project/c"]
    assert listed["revision"] == head == spine_head(clocked_system)


def test_a_write_to_an_expired_key_expires_it_and_creates_it_anew_in_one_transaction(
    clocked_system: System, clock: ManualClock
) -> None:
    old = put(clocked_system, "project/t", "old", ttl_s=5)
    clock.advance(seconds=6)
    head = spine_head(clocked_system)

    new = put(clocked_system, "project/t", "new")

    expired, updated = resource_events(clocked_system, head)
    assert (expired.type, updated.type) == ("resource.expired", "resource.updated")
    assert (expired.seq, updated.seq) == (head + 1, head + 2)
    assert expired.data["rev"] == updated.data["rev"] == new["mod_rev"] == head + 2
    assert expired.data["prev_rev"] == old["mod_rev"]
    assert updated.data["prev_rev"] == 0
    assert (new["version"], new["create_rev"], new["expires_at"]) == (1, head + 2, None)


def test_a_patch_of_an_expired_key_is_not_found_and_changes_nothing(
    clocked_system: System, clock: ManualClock
) -> None:
    put(clocked_system, "project/t", {"n": 1}, ttl_s=5)
    clock.advance(seconds=6)
    head = spine_head(clocked_system)

    with pytest.raises(MissiondError) as refused:
        clocked_system.resources.patch(ADMIN, "project/t", {"n": 2}, pre=NO_PRECONDITION)

    assert refused.value.code == "RESOURCE_NOT_FOUND"
    assert spine_head(clocked_system) == head


def test_patch_keeps_the_expiry_and_put_without_ttl_clears_it(clocked_system: System) -> None:
    created = put(clocked_system, "project/t", {"n": 1}, ttl_s=60)
    patched, _ = clocked_system.resources.patch(ADMIN, "project/t", {"n": 2}, pre=NO_PRECONDITION)
    txn_answer, _ = clocked_system.resources.txn(ADMIN, [], [Patch("project/t", {"n": 3})])
    after_txn = read(clocked_system, "project/t")
    replaced = put(clocked_system, "project/t", {"n": 4})

    assert created["expires_at"] is not None
    assert patched["expires_at"] == created["expires_at"]
    assert after_txn is not None and after_txn["mod_rev"] == txn_answer["revision"]
    assert after_txn["expires_at"] == created["expires_at"]
    assert replaced["expires_at"] is None


# -- TTL on a real server: the sweeper ------------------------------------------------------------
@pytest.mark.slow
def test_the_sweeper_removes_expired_records_without_anyone_reading_them(server: Any) -> None:
    with server.client() as client:
        for key, ttl in (("project/s/a", 0.3), ("project/s/b", 0.3), ("project/s/keep", None)):
            assert client.put(f"/v1/resources/{key}", json={"value": 1, "ttl_s": ttl}).status_code == 201

        def expired_keys() -> list[str]:
            events = client.get("/v1/events", params={"type": "resource.expired"}).json()["events"]
            return sorted(e["data"]["key"] for e in events)

        assert poll(lambda: expired_keys() == ["project/s/a", "project/s/b"]), expired_keys()
        listed = client.get("/v1/resources", params={"prefix": "project/s/"}).json()
        assert [item["key"] for item in listed["items"]] == ["project/s/keep"]
        assert client.get("/v1/resources/project/s/a").status_code == 404
        assert expired_keys() == ["project/s/a", "project/s/b"]


# -- the status indexer, in-process ---------------------------------------------------------------
def post(system: System, event_type: str, session: str, **data: Any) -> int:
    stored, _ = system.events.ingest(ADMIN, [NewEvent(event_type, f"session/{session}", data)])
    return int(stored[0]["seq"])


def tool(name: str, status: str) -> dict[str, Any]:
    return {"type": "tool", "tool": name, "state": {"status": status}}


def status_of(system: System, session: str) -> dict[str, Any] | None:
    return read(system, f"run/{session}/status")


def event_ts(system: System, seq: int) -> str:
    return format_ts(events_after(system, seq - 1)[0].ts)


def test_run_and_tool_events_fold_into_the_run_status(system: System) -> None:
    started = post(system, "session.run.started", "s1")
    system.status_indexer.drain()
    first = status_of(system, "s1")
    post(system, "message.part.updated", "s1", part=tool("bash", "running"))
    system.status_indexer.drain()
    in_tool = status_of(system, "s1")
    post(system, "message.part.updated", "s1", part=tool("bash", "completed"))
    system.status_indexer.drain()
    finished = post(system, "session.run.finished", "s1", status="completed", result={"ok": True})
    system.status_indexer.drain()
    last = status_of(system, "s1")

    assert first is not None and in_tool is not None and last is not None
    assert (first["value"]["state"], first["value"]["phase"], first["value"]["active_tool"]) == (
        "running",
        "run",
        None,
    )
    assert (in_tool["value"]["phase"], in_tool["value"]["active_tool"]) == ("tool", "bash")
    started_ts, finished_ts = event_ts(system, started), event_ts(system, finished)
    assert last["value"] == {
        "state": "finished",
        "phase": "run",
        "active_tool": None,
        "last_tool": "bash",
        "last_tool_state": "completed",
        "result": {"ok": True},
        "started_at": started_ts,
        "finished_at": finished_ts,
        "last_event_type": "session.run.finished",
        "last_event_seq": finished,
        "updated_at": finished_ts,
    }
    assert last["updated_by"] == "system.status_indexer"
    assert last["version"] == 4


ENDINGS = [
    pytest.param("session.run.failed", {"error": "boom"}, "failed", "boom", id="run-failed"),
    pytest.param("session.run.finished", {"status": "failed"}, "failed", None, id="finished-status-failed"),
    pytest.param("session.run.finished", {"status": "Error"}, "failed", None, id="finished-status-error"),
    pytest.param(
        "session.run.finished", {"status": "cancelled"}, "failed", None, id="finished-status-cancelled"
    ),
    pytest.param("session.run.finished", {"state": "aborted"}, "failed", None, id="finished-state-aborted"),
    pytest.param("session.run.finished", {"error": "oom"}, "failed", "oom", id="finished-with-error"),
    pytest.param(
        "session.run.finished", {"status": "completed", "result": 7}, "finished", 7, id="finished-completed"
    ),
    pytest.param("session.run.finished", {}, "finished", None, id="finished-without-status"),
]


@pytest.mark.parametrize(("event_type", "data", "state", "result"), ENDINGS)
def test_how_a_run_ends_decides_finished_or_failed(
    system: System, event_type: str, data: dict[str, Any], state: str, result: Any
) -> None:
    post(system, "session.run.started", "s1")
    post(system, "message.part.updated", "s1", part=tool("edit", "running"))
    seq = post(system, event_type, "s1", **data)
    system.status_indexer.drain()

    status = status_of(system, "s1")
    assert status is not None
    value = status["value"]
    assert (value["state"], value["phase"], value["active_tool"], value["result"]) == (
        state,
        "run",
        None,
        result,
    )
    assert value["finished_at"] is not None
    assert (value["last_event_type"], value["last_event_seq"]) == (event_type, seq)


def test_the_session_comes_from_data_session_id_before_the_subject(system: System) -> None:
    system.events.ingest(
        ADMIN, [NewEvent("session.run.started", "session/from-subject", {"session_id": "from-data"})]
    )
    system.status_indexer.drain()

    assert status_of(system, "from-data") is not None
    assert status_of(system, "from-subject") is None


def test_a_part_that_is_not_a_tool_does_not_touch_the_status(system: System) -> None:
    post(system, "session.run.started", "s1")
    system.status_indexer.drain()
    head = spine_head(system)

    post(system, "message.part.updated", "s1", part={"type": "text", "text": "hello"})
    system.status_indexer.drain()

    assert spine_head(system) == head + 1  # the posted event only
    status = status_of(system, "s1")
    assert status is not None and status["version"] == 1


def test_a_restarted_indexer_applies_no_event_twice_and_resumes_from_its_cursor(system: System) -> None:
    post(system, "session.run.started", "s1")
    post(system, "message.part.updated", "s1", part=tool("bash", "running"))
    system.status_indexer.drain()
    before, head = status_of(system, "s1"), spine_head(system)

    assert StatusIndexer(system.store).drain() == 0
    assert (status_of(system, "s1"), spine_head(system)) == (before, head)

    finished = post(system, "session.run.finished", "s1", status="completed")
    restarted = StatusIndexer(system.store)
    restarted.drain()

    after = status_of(system, "s1")
    assert before is not None and after is not None
    assert after["version"] == before["version"] + 1
    assert after["value"]["last_event_seq"] == finished
    assert [e.data["key"] for e in resource_events(system, head)] == ["run/s1/status"]
    assert restarted.position() == spine_head(system)


def test_a_step_that_fails_before_commit_applies_nothing_and_the_retry_applies_it_once(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    post(system, "session.run.started", "s1")
    head = spine_head(system)
    real_set = ReactorCursors.set

    def crash(self: ReactorCursors, name: str, position: int, at_us: int) -> None:
        raise RuntimeError("crashed between the status write and the cursor write")

    monkeypatch.setattr(ReactorCursors, "set", crash)
    with pytest.raises(RuntimeError):
        system.status_indexer.step()
    assert (status_of(system, "s1"), spine_head(system), system.status_indexer.position()) == (None, head, 0)

    monkeypatch.setattr(ReactorCursors, "set", real_set)
    system.status_indexer.drain()
    status = status_of(system, "s1")
    assert status is not None and status["version"] == 1
    assert len(resource_events(system, head)) == 1


# -- the status indexer on a real server, across restarts ---------------------------------------------
def run_events(session: str, *, failed: bool = False) -> list[dict[str, Any]]:
    subject = f"session/{session}"
    ending = {"status": "failed"} if failed else {"status": "completed", "result": "ok"}
    return [
        {"type": "session.run.started", "subject": subject},
        {"type": "message.part.updated", "subject": subject, "data": {"part": tool("bash", "running")}},
        {"type": "message.part.updated", "subject": subject, "data": {"part": tool("bash", "completed")}},
        {"type": "session.run.finished", "subject": subject, "data": ending},
    ]


def state_over_http(client: httpx.Client, session: str) -> str | None:
    answer = client.get(f"/v1/resources/run/{session}/status")
    return answer.json()["value"]["state"] if answer.status_code == 200 else None


@pytest.mark.slow
def test_a_restarted_server_applies_no_event_twice_and_catches_up_on_events_posted_while_down(
    server_factory: Any, database_url: str
) -> None:
    srv = server_factory(database_url).start()
    with srv.client() as client:
        assert client.post("/v1/events/batch", json={"events": run_events("s1")}).status_code == 201
        assert poll(lambda: state_over_http(client, "s1") == "finished")
        first = client.get("/v1/resources/run/s1/status").json()
        head = client.get("/v1/health").json()["head_seq"]
        assert first["updated_by"] == "system.status_indexer"
    srv.stop()

    srv.start()
    with srv.client() as client:
        time.sleep(1.5)  # the indexer runs at start-up and on a 0.8 s timer: give it both chances
        assert client.get("/v1/resources/run/s1/status").json() == first
        assert client.get("/v1/health").json()["head_seq"] == head
    srv.stop()

    offline = build(Settings.from_env(home=Path(srv.home), database_url=srv.database_url))
    offline.events.ingest(
        ADMIN,
        [NewEvent(e["type"], e["subject"], e.get("data", {})) for e in run_events("s2", failed=True)]
        + [NewEvent("session.run.started", "session/s1")],
    )
    offline.close()

    srv.start()
    with srv.client() as client:
        assert poll(lambda: state_over_http(client, "s2") == "failed")
        assert poll(lambda: state_over_http(client, "s1") == "running")
        second = client.get("/v1/resources/run/s1/status").json()
        assert second["version"] == first["version"] + 1
        changes = client.get("/v1/events", params={"type": "resource.", "after": head}).json()["events"]
        assert sorted(e["data"]["key"] for e in changes) == ["run/s1/status", "run/s2/status"]
