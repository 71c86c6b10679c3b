"""The one place where errors become RFC 9457 problem details."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from missiond.errors import MissiondError

log = logging.getLogger("missiond.api")
PROBLEM_JSON = "application/problem+json"


def _slug(code: str) -> str:
    return code.lower().replace("_", "-")


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    request: Request[Any, Any, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
    extra_headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": f"https://missiond.dev/problems/{_slug(code)}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
        correlation = request.scope.get("state", {}).get("correlation_id")
        if correlation:
            body["correlation_id"] = correlation
    if errors:
        body["errors"] = errors
    for key, value in extra.items():
        body.setdefault(key, value)
    headers = {"WWW-Authenticate": 'Bearer realm="missiond"'} if status == 401 else {}
    headers.update(extra_headers or {})
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def on_missiond_error(request: Request[Any, Any, Any], exc: MissiondError) -> Response[dict[str, Any]]:
    return problem(
        exc.status, exc.code, exc.title, exc.detail, request=request, errors=exc.errors, **exc.extra
    )


_KEY_RE = re.compile(r"^[\w.\[\]-]+$")


def _validation_errors(exc: ValidationException) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        source = item.get("source") or "body"
        source = getattr(source, "value", source)
        key = str(item.get("key") or "").strip()
        field = f"{source}.{key}" if key else str(source)
        out.append({"field": field, "message": str(item.get("message", "invalid"))})
    return out


_DECODE_HINTS = ("malformed", "truncated", "json", "decode", "invalid utf-8")


def _is_decode_error(detail: str) -> bool:
    lowered = detail.lower()
    return any(hint in lowered for hint in _DECODE_HINTS)


def on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    detail = exc.detail or ""
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc)
        if any(e["field"] == "body.data" and e["message"] == "'data'" for e in errors):
            # Litestar's way of saying the body was empty.
            return problem(
                400,
                "MALFORMED_JSON",
                "Malformed JSON",
                "a JSON body is required",
                request=request,
                errors=[{"field": "body", "message": "required"}],
            )
        if not errors and _is_decode_error(detail):
            return problem(
                400, "MALFORMED_JSON", "Malformed JSON", "the body is not valid JSON", request=request
            )
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or detail
        return problem(400, "VALIDATION_FAILED", "Validation failed", summary, request=request, errors=errors)
    if status == 400 and _is_decode_error(detail):
        return problem(400, "MALFORMED_JSON", "Malformed JSON", "the body is not valid JSON", request=request)
    if isinstance(exc, NotFoundException):
        return problem(404, "NOT_FOUND", "Not found", f"no route for {request.url.path}", request=request)
    if isinstance(exc, MethodNotAllowedException):
        allow = (exc.headers or {}).get("Allow") or (exc.headers or {}).get("allow")
        return problem(
            405,
            "METHOD_NOT_ALLOWED",
            "Method not allowed",
            detail,
            request=request,
            extra_headers={"Allow": allow} if allow else None,
        )
    if isinstance(exc, RequestEntityTooLarge):
        return problem(
            413, "PAYLOAD_TOO_LARGE", "Payload too large", "the request body is too large", request=request
        )
    if status == 415:
        return problem(415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type", detail, request=request)
    if status == 401:
        return problem(401, "UNAUTHORIZED", "Unauthorized", detail, request=request)
    if status == 403:
        return problem(403, "FORBIDDEN", "Forbidden", detail, request=request)
    if status >= 500:
        log.error("server error %s on %s: %s", status, request.url.path, detail)
        return problem(
            status, "INTERNAL", "Internal error", "the server failed; see its log", request=request
        )
    return problem(status, f"HTTP_{status}", "Client error", detail, request=request)


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    correlation = request.scope.get("state", {}).get("correlation_id")
    log.exception("unhandled error on %s %s (correlation %s)", request.method, request.url.path, correlation)
    return problem(
        500,
        "INTERNAL",
        "Internal error",
        "the server failed; see its log for this correlation id",
        request=request,
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    MissiondError: on_missiond_error,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}
