"""Everything the SDK raises, in one hierarchy.

    MissiondError                   base of everything below
     ├── TransportError             the server could not be reached or the connection broke
     │    └── ConnectionFailed      no connection could be opened (nothing listening, refused)
     ├── ProtocolError              the server answered something the SDK cannot understand
     └── ProblemError               the server answered with an error (RFC 9457 problem)
          ├── ValidationFailed      400 VALIDATION_FAILED (and any other 400)
          │    ├── InvalidResourceKey   INVALID_RESOURCE_KEY
          │    ├── InvalidSchedule      INVALID_SCHEDULE (a routine's cron, timezone or interval_s)
          │    └── UnknownConnector     UNKNOWN_CONNECTOR (a routine action names no known connector)
          ├── InvalidCursor         400 INVALID_CURSOR
          ├── Unauthorized          401 UNAUTHORIZED
          ├── Forbidden             403 FORBIDDEN
          ├── PolicyBlocked         403 POLICY_BLOCKED (the blocked run is still recorded: `run`)
          ├── NotFound              404 NOT_FOUND and every *_NOT_FOUND
          │    ├── ResourceNotFound     RESOURCE_NOT_FOUND
          │    ├── TaskNotFound         TASK_NOT_FOUND
          │    ├── LeaseNotFound        LEASE_NOT_FOUND
          │    ├── RoutineNotFound      ROUTINE_NOT_FOUND
          │    └── ApprovalNotFound     APPROVAL_NOT_FOUND
          ├── Conflict              409, any state conflict
          │    ├── RevisionConflict     REVISION_CONFLICT (an `expected_rev` did not hold)
          │    ├── TxnCompareFailed     TXN_COMPARE_FAILED (nothing was applied)
          │    ├── InvalidTransition    INVALID_TRANSITION
          │    ├── CycleDetected        CYCLE_DETECTED
          │    ├── LeaseHeld            LEASE_HELD (someone else holds the task's lease)
          │    ├── LeaseExpired         LEASE_EXPIRED (a stale fencing token, or the lease is gone)
          │    └── TaskNotReady         TASK_NOT_READY (a named claim of a task with open blockers)
          ├── CursorExpired         410 CURSOR_EXPIRED (relist, then watch again)
          ├── PreconditionFailed    412 PRECONDITION_FAILED (`If-Match` / `If-None-Match`)
          ├── PayloadTooLarge       413 PAYLOAD_TOO_LARGE
          │    └── ValueTooLarge        VALUE_TOO_LARGE (a resource value over 256 KiB)
          ├── IdempotencyKeyReused  422 IDEMPOTENCY_KEY_REUSED
          ├── RateLimited           429 RATE_LIMITED
          └── ServerError           any 5xx (INTERNAL, UNAVAILABLE, ...)

httpx exceptions are translated once, where the SDK calls httpx, and chained
(`raise TransportError(...) from exc`); nothing above the SDK needs to know
httpx exists.

A problem is mapped by its `code` first; an unknown code falls back to the
class for its HTTP status, then to `ProblemError` itself. An error answer that
is not problem JSON still becomes a `ProblemError`, with code `HTTP_<status>`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx


def _int_member(problem: Mapping[str, Any], name: str) -> int | None:
    value = problem.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class MissiondError(Exception):
    """Base class of every error the SDK raises."""


class TransportError(MissiondError):
    """The server could not be reached, or the connection broke mid-answer."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class ConnectionFailed(TransportError):
    """No connection could be opened: nothing listens there, or it refused."""


class ProtocolError(MissiondError):
    """The server answered, but not in a shape the SDK understands."""


class ProblemError(MissiondError):
    """The server answered with an error (an RFC 9457 problem document)."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str = "",
        detail: str = "",
        problem: Mapping[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.problem: dict[str, Any] = dict(problem or {})
        super().__init__(f"{code}: {detail or title}" if (detail or title) else code)

    @property
    def correlation_id(self) -> str | None:
        value = self.problem.get("correlation_id")
        return value if isinstance(value, str) else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r})"


class ValidationFailed(ProblemError):
    """The request was malformed: wrong types, missing or unknown fields."""


class InvalidResourceKey(ValidationFailed):
    """A resource key (or prefix) the server refuses: unknown root, empty or dot segment, too long."""

    @property
    def key(self) -> str | None:
        value = self.problem.get("key", self.problem.get("prefix"))
        return value if isinstance(value, str) else None


class InvalidSchedule(ValidationFailed):
    """A routine's schedule the server refuses; `field` names `body.schedule.cron`,
    `body.schedule.timezone` or `body.schedule.interval_s`. Nothing was stored."""

    @property
    def field(self) -> str | None:
        return _first_error_field(self.problem)


class UnknownConnector(ValidationFailed):
    """A routine action names a connector the server does not have. Nothing was stored."""

    @property
    def field(self) -> str | None:
        return _first_error_field(self.problem)


def _first_error_field(problem: Mapping[str, Any]) -> str | None:
    errors = problem.get("errors")
    if isinstance(errors, list):
        for item in errors:
            if isinstance(item, Mapping) and isinstance(item.get("field"), str):
                return str(item["field"])
    return None


class InvalidCursor(ProblemError):
    """A cursor that cannot be parsed or is ahead of the log."""


class Unauthorized(ProblemError):
    """No token, or a token the server does not know."""


class Forbidden(ProblemError):
    """A valid token without the capability or partition the route needs."""


class PolicyBlocked(ProblemError):
    """A policy refused the side effect (it may need an approval).

    For a routine's run-now the refused run is still recorded (status
    `blocked_policy`); `run` is that run as the server reported it.
    """

    @property
    def run(self) -> dict[str, Any] | None:
        value = self.problem.get("run")
        return dict(value) if isinstance(value, Mapping) else None


class NotFound(ProblemError):
    """The route or the record does not exist."""


class ResourceNotFound(NotFound):
    """No (live) resource under that key; in a transaction, `op_index` names the op."""

    @property
    def key(self) -> str | None:
        value = self.problem.get("key")
        return value if isinstance(value, str) else None

    @property
    def op_index(self) -> int | None:
        return _int_member(self.problem, "op_index")


class TaskNotFound(NotFound):
    """No task with that id."""

    @property
    def task_id(self) -> str | None:
        value = self.problem.get("task_id")
        return value if isinstance(value, str) else None


class LeaseNotFound(NotFound):
    """No lease with that id."""

    @property
    def lease_id(self) -> str | None:
        value = self.problem.get("lease_id")
        return value if isinstance(value, str) else None


class RoutineNotFound(NotFound):
    """No routine with that id."""

    @property
    def routine_id(self) -> str | None:
        value = self.problem.get("routine_id")
        return value if isinstance(value, str) else None


class ApprovalNotFound(NotFound):
    """No approval with that id."""

    @property
    def approval_id(self) -> str | None:
        value = self.problem.get("approval_id")
        return value if isinstance(value, str) else None


class Conflict(ProblemError):
    """The record is not in a state that allows the change."""


class RevisionConflict(Conflict):
    """The record changed since the revision the write expected."""

    @property
    def expected_rev(self) -> int | None:
        return _int_member(self.problem, "expected_rev")

    @property
    def current_rev(self) -> int | None:
        return _int_member(self.problem, "current_rev")


class TxnCompareFailed(Conflict):
    """A transaction's compare did not hold; nothing was applied."""

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Each failed compare: `{index, key, expected_rev, current_rev}`."""
        value = self.problem.get("failed")
        return [dict(item) for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _str_list(problem: Mapping[str, Any], name: str) -> list[str]:
    value = problem.get(name)
    return [str(item) for item in value] if isinstance(value, list) else []


class InvalidTransition(Conflict):
    """The state machine does not allow that move from the current state."""

    @property
    def allowed(self) -> list[str]:
        """The statuses the task may move to from where it is."""
        return _str_list(self.problem, "allowed")


class CycleDetected(Conflict):
    """The change would create a dependency cycle."""

    @property
    def path(self) -> list[str]:
        """The task ids around the cycle the change would close."""
        return _str_list(self.problem, "path")


class LeaseHeld(Conflict):
    """Someone else holds the lease (or the holder wrote without its fencing token)."""

    @property
    def holder(self) -> str | None:
        value = self.problem.get("holder")
        return value if isinstance(value, str) else None


class LeaseExpired(Conflict):
    """The caller's lease ran out (or its fencing token is stale); the write changed nothing."""


class TaskNotReady(Conflict):
    """A named claim of a task that still has open blockers."""

    @property
    def open_blockers(self) -> int | None:
        return _int_member(self.problem, "open_blockers")


class CursorExpired(ProblemError):
    """The cursor is older than the retained log; relist and watch again."""

    @property
    def floor(self) -> int | None:
        value = self.problem.get("floor")
        return value if isinstance(value, int) else None


class PreconditionFailed(ProblemError):
    """An `If-Match` (or `If-None-Match`) precondition did not hold."""

    @property
    def current_rev(self) -> int | None:
        return _int_member(self.problem, "current_rev")


class PayloadTooLarge(ProblemError):
    """The request body is over the server's limit."""


class ValueTooLarge(PayloadTooLarge):
    """A resource value is over the server's limit (256 KiB as compact JSON)."""


class IdempotencyKeyReused(ProblemError):
    """The same Idempotency-Key was sent with a different body."""


class RateLimited(ProblemError):
    """Too many requests; wait and try again."""


class ServerError(ProblemError):
    """The server failed (5xx): a bug, or storage unavailable."""


_BY_CODE: dict[str, type[ProblemError]] = {
    "VALIDATION_FAILED": ValidationFailed,
    "MALFORMED_JSON": ValidationFailed,
    "INVALID_RESOURCE_KEY": InvalidResourceKey,
    "INVALID_CURSOR": InvalidCursor,
    "UNAUTHORIZED": Unauthorized,
    "FORBIDDEN": Forbidden,
    "POLICY_BLOCKED": PolicyBlocked,
    "NOT_FOUND": NotFound,
    "RESOURCE_NOT_FOUND": ResourceNotFound,
    "TASK_NOT_FOUND": TaskNotFound,
    "LEASE_NOT_FOUND": LeaseNotFound,
    "ROUTINE_NOT_FOUND": RoutineNotFound,
    "APPROVAL_NOT_FOUND": ApprovalNotFound,
    "INVALID_SCHEDULE": InvalidSchedule,
    "UNKNOWN_CONNECTOR": UnknownConnector,
    "REVISION_CONFLICT": RevisionConflict,
    "TXN_COMPARE_FAILED": TxnCompareFailed,
    "INVALID_TRANSITION": InvalidTransition,
    "CYCLE_DETECTED": CycleDetected,
    "LEASE_HELD": LeaseHeld,
    "LEASE_EXPIRED": LeaseExpired,
    "TASK_NOT_READY": TaskNotReady,
    "CURSOR_EXPIRED": CursorExpired,
    "PRECONDITION_FAILED": PreconditionFailed,
    "PAYLOAD_TOO_LARGE": PayloadTooLarge,
    "VALUE_TOO_LARGE": ValueTooLarge,
    "IDEMPOTENCY_KEY_REUSED": IdempotencyKeyReused,
    "RATE_LIMITED": RateLimited,
    "INTERNAL": ServerError,
    "UNAVAILABLE": ServerError,
}

_BY_STATUS: dict[int, type[ProblemError]] = {
    400: ValidationFailed,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: CursorExpired,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    422: IdempotencyKeyReused,
    429: RateLimited,
}


def error_class_for(code: str, status: int) -> type[ProblemError]:
    """The exception class for a problem `code`, falling back on its `status`."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    if code.endswith("_NOT_FOUND"):
        return NotFound
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ProblemError)


def problem_error(status: int, problem: Mapping[str, Any]) -> ProblemError:
    """Build the right `ProblemError` subclass from a decoded problem document."""
    code = str(problem.get("code") or f"HTTP_{status}")
    cls = error_class_for(code, status)
    return cls(
        status,
        code,
        title=str(problem.get("title") or ""),
        detail=str(problem.get("detail") or ""),
        problem=problem,
    )


def error_from_response(response: httpx.Response) -> ProblemError:
    """Translate an error answer (already read) into a `ProblemError`."""
    status = response.status_code
    problem: Any = None
    try:
        problem = json.loads(response.content) if response.content else None
    except ValueError:
        problem = None
    if isinstance(problem, dict) and isinstance(problem.get("code"), str):
        return problem_error(status, problem)
    reason = response.reason_phrase or "error"
    text = response.text.strip()
    detail = text[:500] if text else reason
    synthetic = {"status": status, "code": f"HTTP_{status}", "title": reason, "detail": detail}
    return problem_error(status, synthetic)
