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

        # routines: a recurring action behind a policy gate, and the approval queue
        routine = client.create_routine(
            "nightly audit", cron="0 2 * * *", timezone="Europe/Berlin",
            action={"kind": "command", "argv": ["make", "audit"]},
        )
        run = client.run_routine_now(routine.id)
        for approval in client.list_approvals():
            client.approve(approval.id, reason="looks fine")

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
    ApprovalNotFound,
    Conflict,
    ConnectionFailed,
    CursorExpired,
    CycleDetected,
    Forbidden,
    IdempotencyKeyReused,
    InvalidCursor,
    InvalidResourceKey,
    InvalidSchedule,
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
    RoutineNotFound,
    ServerError,
    TaskNotFound,
    TaskNotReady,
    TransportError,
    TxnCompareFailed,
    Unauthorized,
    UnknownConnector,
    ValidationFailed,
    ValueTooLarge,
)
from missiond.sdk.models import (
    Agent,
    AgentSession,
    Approval,
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
    Routine,
    RoutinePage,
    RoutineRun,
    RoutineRunPage,
    Task,
    TaskPage,
    TxnResult,
)
from missiond.sdk.resources import delete_op, patch_op, put_op
from missiond.sdk.retry import Backoff

__all__ = [
    "Agent",
    "AgentSession",
    "Approval",
    "ApprovalNotFound",
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
    "InvalidSchedule",
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
    "Routine",
    "RoutineNotFound",
    "RoutinePage",
    "RoutineRun",
    "RoutineRunPage",
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
    "UnknownConnector",
    "ValidationFailed",
    "ValueTooLarge",
    "delete_op",
    "patch_op",
    "put_op",
]
