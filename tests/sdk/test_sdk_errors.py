"""Every error answer becomes one exception from the SDK's own hierarchy."""

from __future__ import annotations

import httpx
import pytest
from sdk_fakes import Connect, Recorder, problem

from missiond import sdk
from missiond.sdk.errors import error_class_for, error_from_response

CODE_TABLE = [
    (400, "VALIDATION_FAILED", sdk.ValidationFailed),
    (400, "INVALID_CURSOR", sdk.InvalidCursor),
    (400, "INVALID_RESOURCE_KEY", sdk.InvalidResourceKey),
    (401, "UNAUTHORIZED", sdk.Unauthorized),
    (403, "FORBIDDEN", sdk.Forbidden),
    (403, "POLICY_BLOCKED", sdk.PolicyBlocked),
    (404, "NOT_FOUND", sdk.NotFound),
    (404, "RESOURCE_NOT_FOUND", sdk.ResourceNotFound),
    (404, "TASK_NOT_FOUND", sdk.TaskNotFound),
    (404, "LEASE_NOT_FOUND", sdk.LeaseNotFound),
    (409, "REVISION_CONFLICT", sdk.RevisionConflict),
    (409, "TXN_COMPARE_FAILED", sdk.TxnCompareFailed),
    (409, "INVALID_TRANSITION", sdk.InvalidTransition),
    (409, "CYCLE_DETECTED", sdk.CycleDetected),
    (409, "LEASE_HELD", sdk.LeaseHeld),
    (409, "LEASE_EXPIRED", sdk.LeaseExpired),
    (409, "TASK_NOT_READY", sdk.TaskNotReady),
    (410, "CURSOR_EXPIRED", sdk.CursorExpired),
    (412, "PRECONDITION_FAILED", sdk.PreconditionFailed),
    (413, "PAYLOAD_TOO_LARGE", sdk.PayloadTooLarge),
    (413, "VALUE_TOO_LARGE", sdk.ValueTooLarge),
    (422, "IDEMPOTENCY_KEY_REUSED", sdk.IdempotencyKeyReused),
    (429, "RATE_LIMITED", sdk.RateLimited),
    (500, "INTERNAL", sdk.ServerError),
    (503, "UNAVAILABLE", sdk.ServerError),
]


@pytest.mark.parametrize(("status", "code", "expected"), CODE_TABLE, ids=[code for _, code, _ in CODE_TABLE])
def test_a_problem_code_maps_to_its_exception_class(
    status: int, code: str, expected: type[sdk.ProblemError]
) -> None:
    error = error_from_response(problem(status, code, "what went wrong"))
    assert type(error) is expected
    assert (error.status, error.code, error.detail) == (status, code, "what went wrong")


FALLBACKS = [
    (400, "RESERVED_EVENT_TYPE", sdk.ValidationFailed),
    (404, "ROUTINE_MISSING", sdk.NotFound),
    (409, "MISSION_HALTED", sdk.Conflict),
    (502, "UPSTREAM", sdk.ServerError),
    (418, "TEAPOT", sdk.ProblemError),
]


@pytest.mark.parametrize(("status", "code", "expected"), FALLBACKS, ids=["400", "404", "409", "5xx", "other"])
def test_an_unknown_code_falls_back_on_the_status(
    status: int, code: str, expected: type[sdk.ProblemError]
) -> None:
    assert error_class_for(code, status) is expected


def test_every_state_conflict_is_a_conflict() -> None:
    for cls in (
        sdk.RevisionConflict,
        sdk.TxnCompareFailed,
        sdk.InvalidTransition,
        sdk.CycleDetected,
        sdk.LeaseHeld,
        sdk.LeaseExpired,
        sdk.TaskNotReady,
    ):
        assert issubclass(cls, sdk.Conflict)


def test_the_resource_errors_refine_the_general_ones() -> None:
    assert issubclass(sdk.ResourceNotFound, sdk.NotFound)
    assert issubclass(sdk.InvalidResourceKey, sdk.ValidationFailed)
    assert issubclass(sdk.ValueTooLarge, sdk.PayloadTooLarge)


def test_the_task_board_errors_refine_the_general_ones() -> None:
    assert issubclass(sdk.TaskNotFound, sdk.NotFound)
    assert issubclass(sdk.LeaseNotFound, sdk.NotFound)


def test_a_problem_keeps_its_extra_members() -> None:
    error = error_from_response(
        problem(410, "CURSOR_EXPIRED", "cursor below floor", floor=120, correlation_id="cor_9")
    )
    assert isinstance(error, sdk.CursorExpired)
    assert error.floor == 120
    assert error.correlation_id == "cor_9"
    assert error.problem["floor"] == 120
    assert str(error) == "CURSOR_EXPIRED: cursor below floor"


def test_an_error_answer_that_is_not_problem_json_still_becomes_a_problem() -> None:
    error = error_from_response(httpx.Response(502, text="Bad Gateway from the proxy"))
    assert isinstance(error, sdk.ServerError)
    assert error.code == "HTTP_502"
    assert error.detail == "Bad Gateway from the proxy"
    assert error.problem["code"] == "HTTP_502"


def test_an_empty_error_answer_uses_the_reason_phrase() -> None:
    error = error_from_response(httpx.Response(404))
    assert isinstance(error, sdk.NotFound)
    assert (error.code, error.detail) == ("HTTP_404", "Not Found")


def test_the_client_raises_the_mapped_problem(connect: Connect) -> None:
    server = Recorder(problem(403, "FORBIDDEN", "needs events:write"))
    client = connect(server, "tok")
    with pytest.raises(sdk.Forbidden) as caught:
        client.ingest_event("session.run.started", "session/abc")
    assert caught.value.detail == "needs events:write"


def test_a_refused_connection_becomes_connection_failed_chained_to_the_httpx_error(connect: Connect) -> None:
    server = Recorder(httpx.ConnectError("connection refused"))
    client = connect(server, retries=0)
    with pytest.raises(sdk.ConnectionFailed) as caught:
        client.health()
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert caught.value.url == "http://test"
    assert "cannot reach missiond at http://test" in str(caught.value)


def test_a_broken_answer_becomes_a_transport_error_but_not_connection_failed(connect: Connect) -> None:
    server = Recorder(httpx.ReadError("connection reset"))
    client = connect(server, retries=0)
    with pytest.raises(sdk.TransportError) as caught:
        client.health()
    assert not isinstance(caught.value, sdk.ConnectionFailed)
    assert isinstance(caught.value.__cause__, httpx.ReadError)


def test_a_success_answer_that_is_not_json_is_a_protocol_error(connect: Connect) -> None:
    server = Recorder(httpx.Response(200, text="<html>hello</html>"))
    client = connect(server)
    with pytest.raises(sdk.ProtocolError):
        client.whoami()
