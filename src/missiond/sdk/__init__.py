"""Python SDK for missiond: a sync `Client`, an async `AsyncClient`, typed
results and one error hierarchy (see `missiond.sdk.errors`).

    from missiond.sdk import Client

    with Client() as client:          # URL and token from the env or ./.missiond
        client.ingest_event("session.run.started", "session/abc", {"agent": "a1"})
        for event in client.stream_events(type="session.", after=0):
            print(event.seq, event.type, event.subject)

        # the blackboard: checked writes, then a watch that resumes across drops
        record = client.put_resource("project/x", {"owner": "a1"}, create_only=True)
        client.patch_resource("project/x", {"step": 2}, if_rev=record.mod_rev)
        page = client.list_resources("project/")
        for change in client.watch_resources("project/", after=page.revision):
            print(change.rev, change.type, change.key, change.value)

        # the task board: claim the best ready task, write with its fencing token, finish
        claim = client.claim_task(role="backend", ttl_s=120)
        if claim is not None:
            client.add_note(claim.task.id, "decision", "reuse the queue", fencing_token=claim.fencing_token)
            client.complete_task(claim.task.id, "merged in #42", fencing_token=claim.fencing_token)

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
    InvalidResourceKey,
    InvalidTransition,
    LeaseExpired,
    LeaseHeld,
    LeaseNotFound,
    MissiondError,
    NotFound,
    PayloadTooLarge,
    PolicyBlocked,
    PreconditionFailed,
    ProblemError,
    ProtocolError,
    RateLimited,
    ResourceNotFound,
    RevisionConflict,
    ServerError,
    TaskNotFound,
    TaskNotReady,
    TransportError,
    TxnCompareFailed,
    Unauthorized,
    ValidationFailed,
    ValueTooLarge,
)
from missiond.sdk.models import (
    Agent,
    AgentSession,
    Claim,
    DeletedResource,
    Event,
    EventPage,
    Health,
    Identity,
    Lease,
    Resource,
    ResourceEvent,
    ResourcePage,
    Task,
    TaskPage,
    TxnResult,
)
from missiond.sdk.resources import delete_op, patch_op, put_op
from missiond.sdk.retry import Backoff

__all__ = [
    "Agent",
    "AgentSession",
    "AsyncClient",
    "Backoff",
    "Claim",
    "Client",
    "ClientConfig",
    "Conflict",
    "ConnectionFailed",
    "CursorExpired",
    "CycleDetected",
    "DeletedResource",
    "Event",
    "EventPage",
    "Forbidden",
    "Health",
    "IdempotencyKeyReused",
    "Identity",
    "InvalidCursor",
    "InvalidResourceKey",
    "InvalidTransition",
    "Lease",
    "LeaseExpired",
    "LeaseHeld",
    "LeaseNotFound",
    "MissiondError",
    "NotFound",
    "PayloadTooLarge",
    "PolicyBlocked",
    "PreconditionFailed",
    "ProblemError",
    "ProtocolError",
    "RateLimited",
    "Resource",
    "ResourceEvent",
    "ResourceNotFound",
    "ResourcePage",
    "RevisionConflict",
    "ServerError",
    "ServerInfo",
    "Task",
    "TaskNotFound",
    "TaskNotReady",
    "TaskPage",
    "TransportError",
    "TxnCompareFailed",
    "TxnResult",
    "Unauthorized",
    "ValidationFailed",
    "ValueTooLarge",
    "delete_op",
    "patch_op",
    "put_op",
]
