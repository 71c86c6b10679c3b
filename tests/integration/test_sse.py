"""The SSE stream of the spine (`GET /v1/streams/events`) against real servers on both backends."""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from wirekit import (
    Frame,
    all_events,
    assert_event_frame,
    assert_problem,
    head_seq,
    open_stream,
    post_batch,
    post_event,
    wait_until,
)

pytestmark = pytest.mark.slow

SENTINEL = "probe.sentinel.seen"


def _items(
    n: int, *, type_: str = "build.step.finished", subject: str = "repo/it", pad: int = 0, tag: str = ""
) -> list[dict[str, Any]]:
    return [
        {"type": type_, "subject": subject, "data": {"i": i, "tag": tag, "pad": "x" * pad}} for i in range(n)
    ]


def _first_frame_carries_retry(stream_frames: Any) -> None:
    first: Frame = next(stream_frames)
    assert first.retry == 2000
    assert not first.is_event


def test_a_dropped_stream_resumed_with_last_event_id_delivers_every_event_exactly_once_in_order(
    server: Any,
) -> None:
    client = server.client()
    head0 = head_seq(client)
    acked: dict[int, dict[str, Any]] = {}
    lock = threading.Lock()

    def remember(envelopes: list[dict[str, Any]]) -> None:
        with lock:
            for envelope in envelopes:
                assert envelope["seq"] not in acked
                acked[envelope["seq"]] = envelope

    remember([post_event(client, "session.run.started", "session/pre", {"n": n}) for n in range(5)])
    remember(post_batch(client, _items(15, tag="pre")))

    dropped = threading.Event()
    writer_errors: list[BaseException] = []

    def writer() -> None:
        try:
            with server.client() as wc:
                for phase in ("before-drop", "after-drop"):
                    if phase == "after-drop":
                        assert dropped.wait(20), "the reader never dropped its connection"
                    for n in range(15):
                        remember([post_event(wc, "session.run.progressed", f"session/{phase}", {"n": n})])
                        remember(post_batch(wc, _items(4, tag=f"{phase}-{n}")))
        except BaseException as exc:  # surfaced by the main thread
            writer_errors.append(exc)

    thread = threading.Thread(target=writer, daemon=True)
    first: list[Frame] = []
    with open_stream(client, params={"after": 0}) as stream:
        _first_frame_carries_retry(stream.frames)
        thread.start()
        while len(first) < 40:  # 20 written before, at least 20 live ones while the writer runs
            first.append(stream.next_event())
    # leaving the block dropped the connection mid-stream; the writer keeps going
    dropped.set()
    last_id = first[-1].id
    assert last_id is not None
    with open_stream(client, headers={"Last-Event-ID": last_id}) as stream:
        _first_frame_carries_retry(stream.frames)
        thread.join(30)
        assert not thread.is_alive() and not writer_errors, writer_errors
        sentinel = post_event(client, SENTINEL, "session/end")
        second = stream.events_until(sentinel["seq"])

    remember([sentinel])
    # the log also holds events the server derived (run status); the stream must carry those too
    log = {e["seq"]: e for e in all_events(client, after=head0) if e["seq"] <= sentinel["seq"]}
    delivered = [f.seq for f in first + second]
    assert delivered == list(range(head0 + 1, sentinel["seq"] + 1)) == sorted(log)
    assert set(acked) <= set(log)
    for frame in first + second:
        assert_event_frame(frame, log[frame.seq])
    for seq, envelope in acked.items():
        assert log[seq] == envelope
    assert {f.envelope()["subject"] for f in second} >= {"session/after-drop"}


def test_the_last_event_id_header_wins_over_the_after_query_parameter(server: Any) -> None:
    client = server.client()
    head0 = head_seq(client)
    events = post_batch(client, _items(10))
    seqs = [e["seq"] for e in events]

    for after, last_event_id in ((head0, seqs[6]), (seqs[6], seqs[1])):
        headers = {"Last-Event-ID": str(last_event_id)}
        with open_stream(client, params={"after": after}, headers=headers) as stream:
            got = stream.events_until(seqs[-1])
        assert [f.seq for f in got] == [s for s in seqs if s > last_event_id]


def test_a_stream_without_a_cursor_starts_at_the_head_and_a_live_event_arrives_promptly(server: Any) -> None:
    client = server.client()
    post_batch(client, _items(3, tag="old"))
    with open_stream(client, read_timeout=5.0) as stream:
        _first_frame_carries_retry(stream.frames)
        time.sleep(0.1)
        started = time.monotonic()
        live = post_event(client, "session.run.started", "session/live", {"live": True})
        frame = stream.next_event()
        elapsed = time.monotonic() - started
    assert_event_frame(frame, live)
    assert elapsed < 5.0


@pytest.mark.parametrize(
    ("params", "wanted"),
    [
        ([("type", "job.run.")], lambda e: e["type"].startswith("job.run.")),
        (
            [("type", "job.run.started"), ("type", "build.")],
            lambda e: e["type"] == "job.run.started" or e["type"].startswith("build."),
        ),
        ([("subject", "session/a")], lambda e: e["subject"].startswith("session/a")),
        (
            [("type", "job."), ("subject", "repo/")],
            lambda e: e["type"].startswith("job.") and e["subject"].startswith("repo/"),
        ),
    ],
    ids=["one-type-prefix", "types-are-ored", "subject-prefix", "type-and-subject-are-anded"],
)
def test_the_stream_delivers_only_events_matching_its_type_and_subject_prefixes(
    module_server: Any,
    params: list[tuple[str, str]],
    wanted: Any,
) -> None:
    client = module_server.client()
    head0 = head_seq(client)
    mix = [
        ("job.run.started", "session/a"),
        ("job.run.finished", "session/ab"),
        ("job.tool.called", "session/a"),
        ("build.finished", "repo/x"),
        ("jobx.run.started", "session/a"),
        ("job.run.started", "repo/y"),
        ("build.started", "session/b"),
        ("job.tool.called", "repo/z"),
    ]

    def items(key: str) -> list[dict[str, Any]]:
        return [{"type": t, "subject": s, "data": {key: k}} for k, (t, s) in enumerate(mix)]

    written = post_batch(client, items("k"))
    expected_catch_up = [e for e in written if wanted(e)]
    assert 0 < len(expected_catch_up) < len(written)

    with open_stream(client, params=[*params, ("after", head0)]) as stream:
        caught_up = [stream.next_event() for _ in expected_catch_up]
        # live events pass through the same filter: unmatched ones must not show up before the match
        live = post_batch(client, items("live"))
        live_wanted = [e for e in live if wanted(e)]
        live_frames = [stream.next_event() for _ in live_wanted]

    for frame, envelope in zip(caught_up + live_frames, expected_catch_up + live_wanted, strict=True):
        assert_event_frame(frame, envelope)
    query = client.get("/v1/events", params=[*params, ("after", head0)]).json()["events"]
    assert [e["seq"] for e in query] == [e["seq"] for e in expected_catch_up + live_wanted]


def test_cursors_below_the_floor_expire_and_cursors_ahead_or_unparsable_are_refused_before_streaming(
    server: Any,
) -> None:
    client = server.client()
    head0 = head_seq(client)
    post_batch(client, _items(10))
    through = head0 + 5
    compact = client.post("/v1/admin/compact", json={"through_seq": through})
    assert compact.status_code == 200, compact.text
    assert compact.json()["floor"] == through
    head = head_seq(client)

    for params, headers in (
        ({"after": through - 2}, {}),
        ({}, {"Last-Event-ID": str(through - 1)}),
        ({"after": head}, {"Last-Event-ID": str(head0 + 1)}),
    ):
        problem = assert_problem(
            client.get("/v1/streams/events", params=params, headers=headers), 410, "CURSOR_EXPIRED"
        )
        assert problem["floor"] == through
    assert (
        assert_problem(client.get("/v1/events", params={"after": through - 1}), 410, "CURSOR_EXPIRED")[
            "floor"
        ]
        == through
    )

    for params, headers in (
        ({"after": head + 1}, {}),
        ({}, {"Last-Event-ID": str(head + 50)}),
        ({"after": "abc"}, {}),
        ({}, {"Last-Event-ID": "12x"}),
        ({"after": "-1"}, {}),
        ({"after": "1.5"}, {}),
    ):
        response = client.get("/v1/streams/events", params=params, headers=headers)
        assert_problem(response, 400, "INVALID_CURSOR")

    # a cursor exactly at the floor is still good: it resumes with the first retained event
    with open_stream(client, params={"after": through}) as stream:
        got = stream.events_until(head)
    assert [f.seq for f in got] == list(range(through + 1, head + 1))
    assert got[-1].event == "spine.compacted"


def test_an_idle_stream_receives_ping_comments(server_factory: Any, database_url: str) -> None:
    srv = server_factory(database_url, env={"MISSIOND_SSE_PING_S": "0.5"}).start()
    client = srv.client()
    started = time.monotonic()
    with open_stream(client, read_timeout=5.0) as stream:
        _first_frame_carries_retry(stream.frames)
        pings = [next(stream.frames) for _ in range(3)]
        live = post_event(client)
        frame = stream.next_event()
    for ping in pings:
        assert ping.comments == ["ping"]
        assert not ping.is_event and ping.id is None and ping.event is None
    assert time.monotonic() - started < 5.0
    assert_event_frame(frame, live)


def test_closed_streams_unregister_their_subscriber(server: Any) -> None:
    client = server.client()

    def subscribers() -> int:
        return int(client.get("/v1/admin/stats").json()["subscribers"])

    base = subscribers()  # reactors inside the server may hold subscriptions of their own
    clients = [server.client() for _ in range(3)]
    with ExitStack() as others:
        streams = [
            others.enter_context(open_stream(clients[1], params={"after": 0, "type": "session."})),
            others.enter_context(open_stream(clients[2], params={"subject": "repo/"})),
        ]
        with open_stream(clients[0]) as lone:
            for stream in (lone, *streams):
                _first_frame_carries_retry(stream.frames)
            assert wait_until(lambda: subscribers() == base + 3), subscribers()
        assert wait_until(lambda: subscribers() == base + 2), subscribers()
    assert wait_until(lambda: subscribers() == base), subscribers()


def test_a_slow_consumer_gets_an_error_frame_and_resumes_from_its_last_id_losing_nothing(
    server_factory: Any,
    database_url: str,
) -> None:
    srv = server_factory(database_url, env={"MISSIOND_SSE_QUEUE": "5"}).start()
    client = srv.client()
    client.timeout = httpx.Timeout(30.0)
    head0 = head_seq(client)
    acked: dict[int, dict[str, Any]] = {}
    first: list[Frame] = []
    with open_stream(client, read_timeout=10.0) as stream:
        _first_frame_carries_retry(stream.frames)
        # the client stops reading while 2000 fat events (8 MB) pour in, far beyond its 5-event queue
        for batch in range(20):
            for envelope in post_batch(client, _items(100, pad=4000, tag=f"b{batch}")):
                acked[envelope["seq"]] = envelope
        error = None
        for frame in stream.frames:
            if frame.event == "error":
                error = frame
                break
            if frame.is_event:
                first.append(frame)
        assert error is not None, "no error frame before the stream ended"
        assert next(stream.frames, None) is None, "the stream went on after the error frame"
    assert error.id is None, "the error frame must not move the client's Last-Event-ID"
    details = error.envelope()
    assert details["code"] == "SLOW_CONSUMER"
    last_seen = first[-1].seq if first else head0
    assert details["last_seq"] == last_seen
    assert len(first) < 2000

    head = head_seq(client)
    assert head >= max(acked)
    # let the hub catch up first, so the resumed stream starts with an empty 5-event queue
    assert wait_until(lambda: client.get("/v1/admin/stats").json()["hub_position"] >= head, timeout=10.0)
    with open_stream(client, headers={"Last-Event-ID": str(last_seen)}, read_timeout=10.0) as stream:
        rest = stream.events_until(head)
    log = {e["seq"]: e for e in all_events(client, after=head0) if e["seq"] <= head}
    delivered = [f.seq for f in first + rest]
    assert delivered == list(range(head0 + 1, head + 1)) == sorted(log)
    for frame in first + rest:
        assert_event_frame(frame, log[frame.seq])
    assert all(log[seq] == envelope for seq, envelope in acked.items())
