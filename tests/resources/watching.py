"""Watching resources over SSE from a real server, and reading the log a watch must equal."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx

WATCH_DEADLINE_S = 60.0


class Watcher(threading.Thread):
    """One SSE connection to `/v1/streams/resources`, read in a thread.

    It keeps every event envelope it receives, and returns once it has one with seq >=
    `stop_at` (set by the test once it knows the log). The server pings often (the tests
    start it with a short MISSIOND_SSE_PING_S), so the check runs even when no event comes.
    """

    def __init__(
        self,
        server: Any,
        prefix: str,
        *,
        after: int | None = None,
        last_event_id: int | None = None,
        stop_at: int | None = None,
    ) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.prefix = server.url, server.token, prefix
        self.after, self.last_event_id = after, last_event_id
        self.stop_at = stop_at
        self.events: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self.status: int | None = None
        self.problem: dict[str, Any] | None = None
        self.failure: Exception | None = None

    def run(self) -> None:
        params: dict[str, Any] = {"prefix": self.prefix}
        if self.after is not None:
            params["after"] = self.after
        headers = {"Authorization": f"Bearer {self.token}"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        deadline = time.monotonic() + WATCH_DEADLINE_S
        try:
            with (
                httpx.Client(base_url=self.url, timeout=httpx.Timeout(10.0)) as client,
                client.stream("GET", "/v1/streams/resources", params=params, headers=headers) as answer,
            ):
                self.status = answer.status_code
                if answer.status_code != 200:
                    self.problem = json.loads(answer.read())
                    return
                fields: dict[str, str] = {}
                for line in answer.iter_lines():
                    if line.startswith("retry:"):
                        self.connected.set()
                    if line == "":
                        if fields.get("event", "").startswith("resource."):
                            self.events.append(json.loads(fields["data"]))
                        elif fields.get("event") == "error":
                            raise AssertionError(f"the stream sent an error: {fields['data']}")
                        fields = {}
                        if self.done() or time.monotonic() > deadline:
                            return
                    elif not line.startswith(":"):
                        name, _, value = line.partition(":")
                        fields[name] = value[1:] if value.startswith(" ") else value
        except Exception as exc:  # reported to the test through `failure`
            self.failure = exc
        finally:
            self.connected.set()

    def done(self) -> bool:
        return self.stop_at is not None and bool(self.events) and self.events[-1]["seq"] >= self.stop_at

    def finish(self, stop_at: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait until the watcher has everything up to `stop_at`; returns what it received."""
        self.stop_at = stop_at
        self.join(timeout)
        assert not self.is_alive(), f"watcher on {self.prefix!r} still waiting for seq {stop_at}"
        assert self.failure is None, repr(self.failure)
        return self.events


def start_watchers(watchers: list[Watcher]) -> list[Watcher]:
    for watcher in watchers:
        watcher.start()
    for watcher in watchers:
        assert watcher.connected.wait(10), "a watcher did not connect"
    return watchers


def logged(client: httpx.Client, prefix: str, after: int) -> list[dict[str, Any]]:
    """Every resource event under `prefix` after `after`, from the query API."""
    events: list[dict[str, Any]] = []
    params: dict[str, Any] = {
        "type": "resource.",
        "subject": f"resource/{prefix}",
        "after": after,
        "limit": 1000,
    }
    while True:
        page = client.get("/v1/events", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        events += body["events"]
        if not body["next_cursor"]:
            return events
        params = {**params, "cursor": body["next_cursor"]}


def head_of(client: httpx.Client) -> int:
    return int(client.get("/v1/health").json()["head_seq"])
