"""The one error hierarchy of the server side.

    MissiondError                      code, status, detail, extra ids
    ├── ValidationFailed        400    VALIDATION_FAILED (errors name fields)
    │   ├── MalformedJson       400    MALFORMED_JSON
    │   ├── InvalidCursor       400    INVALID_CURSOR
    │   └── ReservedEventType   400    RESERVED_EVENT_TYPE
    ├── Unauthorized            401    UNAUTHORIZED
    ├── Forbidden               403    FORBIDDEN
    ├── NotFound                404    NOT_FOUND (subclasses narrow the code)
    ├── Conflict                409    REVISION_CONFLICT, INVALID_TRANSITION, ...
    ├── CursorExpired           410    CURSOR_EXPIRED
    ├── PreconditionFailed      412    PRECONDITION_FAILED
    ├── PayloadTooLarge         413    PAYLOAD_TOO_LARGE
    ├── IdempotencyKeyReused    422    IDEMPOTENCY_KEY_REUSED
    ├── StorageUnavailable      503    UNAVAILABLE
    └── SchemaTooNew                   refuses to start (not an HTTP error)

Adapters translate their library's errors into these (`raise ... from exc`);
the API maps them to RFC 9457 problem details in one place.
"""

from __future__ import annotations

from typing import Any


class MissiondError(Exception):
    status: int = 500
    code: str = "INTERNAL"
    title: str = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: list[dict[str, str]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.errors = errors or []
        self.extra = extra


class ValidationFailed(MissiondError):
    status = 400
    code = "VALIDATION_FAILED"
    title = "Validation failed"

    @classmethod
    def field(cls, field: str, message: str, **extra: Any) -> ValidationFailed:
        return cls(f"{field}: {message}", errors=[{"field": field, "message": message}], **extra)


class MalformedJson(ValidationFailed):
    code = "MALFORMED_JSON"
    title = "Malformed JSON"


class InvalidCursor(ValidationFailed):
    code = "INVALID_CURSOR"
    title = "Invalid cursor"


class ReservedEventType(ValidationFailed):
    code = "RESERVED_EVENT_TYPE"
    title = "Reserved event type"


class Unauthorized(MissiondError):
    status = 401
    code = "UNAUTHORIZED"
    title = "Unauthorized"


class Forbidden(MissiondError):
    status = 403
    code = "FORBIDDEN"
    title = "Forbidden"


class NotFound(MissiondError):
    status = 404
    code = "NOT_FOUND"
    title = "Not found"


class Conflict(MissiondError):
    status = 409
    code = "CONFLICT"
    title = "Conflict"


class CursorExpired(MissiondError):
    status = 410
    code = "CURSOR_EXPIRED"
    title = "Cursor expired"


class PreconditionFailed(MissiondError):
    status = 412
    code = "PRECONDITION_FAILED"
    title = "Precondition failed"


class PayloadTooLarge(MissiondError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    title = "Payload too large"


class IdempotencyKeyReused(MissiondError):
    status = 422
    code = "IDEMPOTENCY_KEY_REUSED"
    title = "Idempotency key reused with a different request"


class StorageUnavailable(MissiondError):
    status = 503
    code = "UNAVAILABLE"
    title = "Storage unavailable"


class SchemaTooNew(MissiondError):
    code = "SCHEMA_TOO_NEW"
    title = "Database schema is newer than this missiond"
