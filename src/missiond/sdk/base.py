"""What the sync and async clients share: configuration, headers, the retry
decision, request bodies and answer parsing. No IO happens here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from os import PathLike
from typing import Any
from urllib.parse import quote

import httpx

import missiond
from missiond.sdk import retry as _retry
from missiond.sdk.config import ClientConfig
from missiond.sdk.errors import ConnectionFailed, ProtocolError, TransportError
from missiond.sdk.models import Event, format_time

Filter = str | Sequence[str] | None
TimeBound = datetime | str | None

USER_AGENT = f"missiond-sdk/{missiond.__version__}"


class ClientBase:
    """Configuration and pure helpers common to `Client` and `AsyncClient`."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        home: str | PathLike[str] | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        correlation_id: str | None = None,
        backoff: _retry.Backoff | None = None,
    ) -> None:
        self.config = ClientConfig.from_env(base_url, token, home=home)
        self.timeout = timeout
        self.retries = max(0, retries)
        self.correlation_id = correlation_id
        self.backoff = backoff or _retry.Backoff()

    @property
    def base_url(self) -> str:
        return self.config.base_url

    def _default_headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token}"
        if self.correlation_id:
            headers["X-Correlation-ID"] = self.correlation_id
        return headers

    def _retryable(self, method: str, headers: Mapping[str, str], idempotent: bool | None) -> bool:
        return _retry.is_idempotent(method, headers) if idempotent is None else idempotent

    def _delay_after_response(self, response: httpx.Response, attempt: int, retryable: bool) -> float | None:
        """Seconds to wait before trying again, or None when this answer is final."""
        if not retryable or attempt >= self.retries:
            return None
        if response.status_code not in _retry.RETRY_STATUSES:
            return None
        retry_after = _retry.retry_after_seconds(response.headers.get("Retry-After"))
        if retry_after is not None and retry_after > _retry.MAX_RETRY_AFTER_S:
            return None
        return max(self.backoff.delay(attempt), retry_after or 0.0)

    def _delay_after_error(self, attempt: int, retryable: bool) -> float | None:
        if not retryable or attempt >= self.retries:
            return None
        return self.backoff.delay(attempt)

    def translate_error(self, exc: Exception) -> TransportError:
        """Translate an httpx failure into the SDK's own error (chain it with `from`)."""
        url = self.base_url
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            return ConnectionFailed(f"cannot reach missiond at {url}: {exc}", url=url)
        if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
            return ConnectionFailed(f"invalid missiond URL {url!r}: {exc}", url=url)
        detail = str(exc) or type(exc).__name__
        return TransportError(f"connection to missiond at {url} failed: {detail}", url=url)


def idempotency_headers(key: str | None) -> dict[str, str]:
    """An `Idempotency-Key` header; a fresh one when the caller gave none."""
    return {"Idempotency-Key": key or str(uuid.uuid4())}


def decode_json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise ProtocolError(
            f"the server answered {response.status_code} with a body that is not JSON"
        ) from exc


def _as_list(value: Filter) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def filter_params(type: Filter = None, subject: Filter = None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if types := _as_list(type):
        params["type"] = types
    if subjects := _as_list(subject):
        params["subject"] = subjects
    return params


def query_params(
    *,
    type: Filter = None,
    subject: Filter = None,
    after: int | None = None,
    cursor: str | None = None,
    since: TimeBound = None,
    until: TimeBound = None,
    limit: int | None = None,
) -> dict[str, Any]:
    params = filter_params(type, subject)
    if cursor:
        params["cursor"] = cursor
    elif after is not None:
        params["after"] = after
    if since is not None:
        params["since"] = format_time(since)
    if until is not None:
        params["until"] = format_time(until)
    if limit is not None:
        params["limit"] = limit
    return params


def event_body(
    type: str,
    subject: str,
    data: Mapping[str, Any] | None = None,
    v: int = 1,
    causation_id: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": type, "subject": subject, "data": dict(data or {}), "v": v}
    if causation_id is not None:
        body["causation_id"] = causation_id
    return body


def batch_body(events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    batch = []
    for event in events:
        item = dict(event)
        item.setdefault("data", {})
        item.setdefault("v", 1)
        if item.get("causation_id") is None:
            item.pop("causation_id", None)
        batch.append(item)
    return {"events": batch}


def parse_ingested(answer: Any) -> list[Event]:
    """The stored envelopes from an ingest answer.

    Accepts `{"events": [...]}`, a bare list, or a single envelope.
    """
    if isinstance(answer, Mapping) and isinstance(answer.get("events"), list):
        items = answer["events"]
    elif isinstance(answer, list):
        items = answer
    else:
        items = [answer]
    return [Event.from_json(item) for item in items]


def json_bytes(document: Any) -> bytes:
    """A body for a JSON media type other than application/json (a merge patch)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def id_segment(value: str) -> str:
    """An id as one percent-encoded path segment; an empty id or '.'/'..' is refused here
    (a URL library would drop or resolve them, and the request would reach another route)."""
    if not value or value in (".", ".."):
        raise ValueError(f"not an id: {value!r}")
    return quote(value, safe="")
