"""Python SDK for missiond: a sync `Client`, an async `AsyncClient`, typed
results and one error hierarchy (see `missiond.sdk.errors`).

    from missiond.sdk import Client

    with Client() as client:          # URL and token from the env or ./.missiond
        client.ingest_event("session.run.started", "session/abc", {"agent": "a1"})
        for event in client.stream_events(type="session.", after=0):
            print(event.seq, event.type, event.subject)

The SDK imports nothing from the server side.
"""

from missiond.sdk.async_client import AsyncClient
from missiond.sdk.client import Client
from missiond.sdk.config import ClientConfig, ServerInfo
from missiond.sdk.errors import (
    Conflict,
    ConnectionFailed,
    CursorExpired,
    CycleDetected,
    Forbidden,
    IdempotencyKeyReused,
    InvalidCursor,
    InvalidTransition,
    LeaseExpired,
    LeaseHeld,
    MissiondError,
    NotFound,
    PayloadTooLarge,
    PolicyBlocked,
    PreconditionFailed,
    ProblemError,
    ProtocolError,
    RateLimited,
    RevisionConflict,
    ServerError,
    TransportError,
    Unauthorized,
    ValidationFailed,
)
from missiond.sdk.models import Event, EventPage, Health, Identity
from missiond.sdk.retry import Backoff

__all__ = [
    "AsyncClient",
    "Backoff",
    "Client",
    "ClientConfig",
    "Conflict",
    "ConnectionFailed",
    "CursorExpired",
    "CycleDetected",
    "Event",
    "EventPage",
    "Forbidden",
    "Health",
    "IdempotencyKeyReused",
    "Identity",
    "InvalidCursor",
    "InvalidTransition",
    "LeaseExpired",
    "LeaseHeld",
    "MissiondError",
    "NotFound",
    "PayloadTooLarge",
    "PolicyBlocked",
    "PreconditionFailed",
    "ProblemError",
    "ProtocolError",
    "RateLimited",
    "RevisionConflict",
    "ServerError",
    "ServerInfo",
    "TransportError",
    "Unauthorized",
    "ValidationFailed",
]
