"""Retries happen only where repeating a request is safe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sdk_fakes import Connect, Recorder, envelope, problem

from missiond import sdk
from missiond.sdk import Backoff
from missiond.sdk.retry import is_idempotent, retry_after_seconds

OK_HEALTH = httpx.Response(200, json={"status": "ok", "head_seq": 1})


def test_a_get_is_retried_after_a_503_and_then_succeeds(delays: list[float], connect: Connect) -> None:
    server = Recorder(problem(503, "UNAVAILABLE"), problem(503, "UNAVAILABLE"), OK_HEALTH)
    client = connect(server)
    assert client.health().status == "ok"
    assert len(server.requests) == 3
    assert len(delays) == 2


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_get_is_retried_on_each_transient_status(
    status: int, delays: list[float], connect: Connect
) -> None:
    server = Recorder(httpx.Response(status), OK_HEALTH)
    client = connect(server)
    client.health()
    assert len(server.requests) == 2


def test_a_get_gives_up_after_the_configured_retries(delays: list[float], connect: Connect) -> None:
    server = Recorder(*[httpx.ConnectError("refused") for _ in range(3)])
    client = connect(server, retries=2)
    with pytest.raises(sdk.ConnectionFailed):
        client.health()
    assert len(server.requests) == 3
    assert len(delays) == 2


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "VALIDATION_FAILED"), (404, "NOT_FOUND"), (409, "REVISION_CONFLICT"), (500, "INTERNAL")],
    ids=["400", "404", "409", "500"],
)
def test_other_error_answers_are_never_retried(
    status: int, code: str, delays: list[float], connect: Connect
) -> None:
    server = Recorder(problem(status, code))
    client = connect(server)
    with pytest.raises(sdk.ProblemError):
        client.health()
    assert len(server.requests) == 1
    assert delays == []


def test_a_post_without_an_idempotency_key_is_not_retried(delays: list[float], connect: Connect) -> None:
    server = Recorder(problem(503, "UNAVAILABLE"))
    client = connect(server)
    with pytest.raises(sdk.ServerError):
        client.request("POST", "/v1/things", json={"a": 1})
    assert len(server.requests) == 1


def test_a_post_without_an_idempotency_key_is_not_retried_after_a_transport_error(
    delays: list[float], connect: Connect
) -> None:
    server = Recorder(httpx.ReadError("reset"))
    client = connect(server)
    with pytest.raises(sdk.TransportError):
        client.request("POST", "/v1/things", json={"a": 1})
    assert len(server.requests) == 1


def test_a_post_with_an_idempotency_key_is_retried_with_the_same_key(
    delays: list[float], connect: Connect
) -> None:
    server = Recorder(httpx.ReadError("reset"), httpx.Response(201, json={"ok": True}))
    client = connect(server)
    response = client.request("POST", "/v1/things", json={}, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 201
    assert [r.headers["Idempotency-Key"] for r in server.requests] == ["k1", "k1"]


def test_ingest_event_sends_a_fresh_idempotency_key_and_reuses_it_on_retry(
    delays: list[float], connect: Connect
) -> None:
    server = Recorder(problem(503, "UNAVAILABLE"), httpx.Response(201, json=envelope(7)))
    client = connect(server)
    event = client.ingest_event("session.run.started", "session/abc")
    keys = [r.headers["Idempotency-Key"] for r in server.requests]
    assert event.seq == 7
    assert len(keys) == 2 and keys[0] == keys[1]
    assert len(keys[0]) == 36  # a uuid4
    other = Recorder(httpx.Response(201, json=envelope(8)))
    client = connect(other)
    client.ingest_event("session.run.started", "session/abc")
    assert other.requests[0].headers["Idempotency-Key"] != keys[0]


def test_an_explicit_idempotent_false_turns_retries_off_for_a_get(
    delays: list[float], connect: Connect
) -> None:
    server = Recorder(problem(503, "UNAVAILABLE"))
    client = connect(server)
    with pytest.raises(sdk.ServerError):
        client.request("GET", "/v1/health", idempotent=False)
    assert len(server.requests) == 1


def test_a_429_waits_at_least_its_retry_after(delays: list[float], connect: Connect) -> None:
    limited = problem(429, "RATE_LIMITED")
    limited.headers["Retry-After"] = "3"
    server = Recorder(limited, OK_HEALTH)
    client = connect(server)
    client.health()
    assert delays and delays[0] >= 3


def test_a_retry_after_beyond_thirty_seconds_is_raised_instead_of_waited(
    delays: list[float], connect: Connect
) -> None:
    limited = problem(429, "RATE_LIMITED")
    limited.headers["Retry-After"] = "120"
    server = Recorder(limited)
    client = connect(server)
    with pytest.raises(sdk.RateLimited):
        client.health()
    assert delays == []


def test_retries_zero_means_a_single_attempt(delays: list[float], connect: Connect) -> None:
    server = Recorder(problem(503, "UNAVAILABLE"))
    client = connect(server, retries=0)
    with pytest.raises(sdk.ServerError):
        client.health()
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("method", "headers", "expected"),
    [
        ("GET", {}, True),
        ("HEAD", {}, True),
        ("PUT", {}, True),
        ("DELETE", {}, True),
        ("POST", {}, False),
        ("PATCH", {}, False),
        ("POST", {"idempotency-key": "k"}, True),
        ("PATCH", {"Idempotency-Key": "k"}, True),
    ],
    ids=["get", "head", "put", "delete", "post", "patch", "post-with-key", "patch-with-key"],
)
def test_which_requests_count_as_idempotent(method: str, headers: dict[str, str], expected: bool) -> None:
    assert is_idempotent(method, headers) is expected


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    now = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
    assert retry_after_seconds("2.5") == 2.5
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=10), usegmt=True), now=now) == 10
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


@given(attempt=st.integers(min_value=0, max_value=100_000))
def test_backoff_waits_grow_but_never_pass_the_cap(attempt: int) -> None:
    backoff = Backoff(base=0.1, cap=2.0)
    ceiling = min(2.0, 0.1 * 2.0 ** min(attempt, 32))
    delay = backoff.delay(attempt)
    assert ceiling / 2 <= delay <= ceiling <= 2.0
