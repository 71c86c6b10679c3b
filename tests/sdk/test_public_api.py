"""The SDK's public names are a contract: adding one is a decision, removing one breaks users."""

from __future__ import annotations

import subprocess
import sys

import missiond.sdk

PUBLIC_NAMES = [
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


def test_the_sdk_exports_exactly_the_pinned_names() -> None:
    assert sorted(missiond.sdk.__all__) == PUBLIC_NAMES


def test_every_exported_name_is_importable_from_the_package() -> None:
    for name in missiond.sdk.__all__:
        assert getattr(missiond.sdk, name) is not None


def test_every_sdk_error_derives_from_missiond_error() -> None:
    errors = [getattr(missiond.sdk, n) for n in PUBLIC_NAMES]
    for error in (e for e in errors if isinstance(e, type) and issubclass(e, Exception)):
        assert issubclass(error, missiond.sdk.MissiondError)


def test_importing_the_sdk_and_cli_loads_nothing_server_side() -> None:
    probe = (
        "import sys, missiond.sdk, missiond.cli.main\n"
        "bad = ('missiond.storage', 'missiond.api', 'missiond.services', 'missiond.bootstrap',\n"
        "       'missiond.serve', 'sqlmodel', 'sqlalchemy', 'litestar')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in bad or m.startswith(bad)))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
