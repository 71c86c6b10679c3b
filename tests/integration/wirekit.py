"""Wire-level helpers for the integration tests: an SSE frame reader, HTTP and problem checks.

These tests talk raw HTTP (httpx) to real `missiond serve` processes, so they pin the
contract in specs/API_CONVENTIONS.md and specs/EVENT_SPINE.md rather than the SDK.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

PROBLEM_MEMBERS = ("type", "title", "status", "code", "detail")
ULID_RE = r"[0-9A-HJKMNP-TV-Z]{26}"
STREAM_PATH = "/v1/streams/events"


# ---------------------------------------------------------------- SSE


@dataclass
class Frame:
    """One dispatched SSE block: its fields and any comment lines it carried."""

    id: str | None = None
    event: str | None = None
    data: str | None = None
    retry: int | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def is_event(self) -> bool:
        return self.data is not None

    @property
    def seq(self) -> int:
        assert self.id is not None, f"frame without id: {self}"
        return int(self.id)

    def envelope(self) -> dict[str, Any]:
        assert self.data is not None, f"frame without data: {self}"
        value = json.loads(self.data)
        assert isinstance(value, dict)
        return value


def iter_frames(response: httpx.Response) -> Iterator[Frame]:
    """Parse text/event-stream: `field: value` lines, `:` comments, a blank line dispatches."""
    frame, data, touched = Frame(), list[str](), False
    for line in response.iter_lines():
        if line == "":
            if touched:
                frame.data = "\n".join(data) if data else None
                yield frame
            frame, data, touched = Frame(), [], False
            continue
        touched = True
        if line.startswith(":"):
            frame.comments.append(line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "id":
            frame.id = value
        elif name == "event":
            frame.event = value
        elif name == "data":
            data.append(value)
        elif name == "retry":
            frame.retry = int(value)


@dataclass
class Stream:
    response: httpx.Response
    frames: Iterator[Frame]

    def next_event(self) -> Frame:
        """The next frame that carries data (skips comment-only frames such as pings)."""
        for frame in self.frames:
            if frame.is_event:
                return frame
        raise AssertionError("the stream ended while an event was expected")

    def events_until(self, seq: int) -> list[Frame]:
        """Event frames up to and including the one with `seq` (fails on overshoot)."""
        out: list[Frame] = []
        while True:
            frame = self.next_event()
            out.append(frame)
            if frame.seq >= seq:
                assert frame.seq == seq, f"stream jumped past seq {seq}: got {frame.seq}"
                return out


@contextmanager
def open_stream(
    client: httpx.Client,
    *,
    params: dict[str, Any] | list[tuple[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    read_timeout: float = 5.0,
) -> Iterator[Stream]:
    """Open the SSE stream; leaving the block drops the TCP connection (the body is not read to the end)."""
    with client.stream(
        "GET",
        STREAM_PATH,
        params=params,
        headers=headers,
        timeout=httpx.Timeout(10.0, read=read_timeout),
    ) as response:
        if response.status_code != 200:
            response.read()
            raise AssertionError(f"stream refused: {response.status_code} {response.text}")
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response, iter_frames(response))


def assert_event_frame(frame: Frame, expected: dict[str, Any] | None = None) -> dict[str, Any]:
    """`id:` is the seq, `event:` is the type, `data:` the envelope (equal to `expected` when given)."""
    envelope = frame.envelope()
    assert frame.id == str(envelope["seq"])
    assert frame.event == envelope["type"]
    if expected is not None:
        assert envelope == expected
    return envelope


# ---------------------------------------------------------------- HTTP helpers


def head_seq(client: httpx.Client) -> int:
    response = client.get("/v1/health")
    assert response.status_code == 200, response.text
    return int(response.json()["head_seq"])


def post_event(
    client: httpx.Client,
    type_: str = "build.step.finished",
    subject: str = "repo/it",
    data: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    body = {"type": type_, "subject": subject, "data": data or {}}
    response = client.post("/v1/events", json=body, **kwargs)
    assert response.status_code == 201, response.text
    (envelope,) = response.json()["events"]
    return dict(envelope)


def post_batch(client: httpx.Client, items: list[dict[str, Any]], **kwargs: Any) -> list[dict[str, Any]]:
    response = client.post("/v1/events/batch", json={"events": items}, **kwargs)
    assert response.status_code == 201, response.text
    events = response.json()["events"]
    assert [e["seq"] for e in events] == list(range(events[0]["seq"], events[0]["seq"] + len(items)))
    return list(events)


def all_events(client: httpx.Client, *, after: int = 0) -> list[dict[str, Any]]:
    """Every retained event after `after`, following next_cursor."""
    out: list[dict[str, Any]] = []
    params: dict[str, Any] = {"after": after, "limit": 1000}
    while True:
        response = client.get("/v1/events", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        out.extend(page["events"])
        if not page["next_cursor"]:
            return out
        params = {"cursor": page["next_cursor"], "limit": 1000}


def wait_until(predicate: Callable[[], bool], *, timeout: float = 5.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def problem_type_for(code: str) -> str:
    return f"https://missiond.dev/problems/{code.lower().replace('_', '-')}"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 problem with the contract's members, the right code and no leaked traceback."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    assert "Traceback" not in response.text and 'File "' not in response.text
    body = response.json()
    assert isinstance(body, dict)
    missing = [m for m in PROBLEM_MEMBERS if m not in body]
    assert not missing, f"problem lacks {missing}: {body}"
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["type"] == problem_type_for(code)
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return dict(body)


def error_fields(problem: dict[str, Any]) -> list[str]:
    return [str(e["field"]) for e in problem.get("errors", [])]


def backend_of(server: Any) -> str:
    return "postgresql" if str(server.database_url).startswith("postgresql") else "sqlite"


def is_generated_correlation_id(value: str) -> bool:
    return re.fullmatch(f"cor_{ULID_RE}", value) is not None
