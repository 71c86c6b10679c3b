"""Dependencies shared by the controllers: the system, the auth guard, the request context."""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from missiond.api.ui_auth import browser_principal
from missiond.bootstrap import System
from missiond.services.context import Principal, RequestContext

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def system_of(connection: ASGIConnection[Any, Any, Any, Any]) -> System:
    system: System = connection.app.state.system
    return system


async def require_token(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """App-wide guard: every route needs a bearer token (or, from the dashboard, its session
    cookie with the CSRF check) unless it is marked public."""
    if handler.opt.get("public") or connection.url.path.startswith("/v1/schema"):
        return
    header = connection.headers.get("authorization")
    if header is None and (principal := browser_principal(connection)) is not None:
        connection.state.principal = principal
        return
    principal = system_of(connection).auth.authenticate(header)
    connection.state.principal = principal


async def provide_ctx(request: Request[Any, Any, Any], system: System) -> RequestContext:
    """The request's context. It names `system` though it does not use it: that puts the two
    dependencies in sequence, and Litestar resolves a lone dependency inline but a batch of
    independent ones in a new task group, which cost a tenth of every request's time."""
    del system
    principal: Principal = request.state.principal
    key = request.headers.get("idempotency-key")
    fingerprint = None
    if key and request.method in MUTATING:
        body = await request.body()
        digest = hashlib.sha256()
        digest.update(f"{request.method} {request.url.path}?{request.url.query}\n".encode())
        digest.update(body)
        fingerprint = digest.hexdigest()
    return RequestContext(
        principal=principal,
        correlation_id=request.state.correlation_id,
        idempotency_key=key[:200] if key else None,
        fingerprint=fingerprint,
    )


async def provide_system(request: Request[Any, Any, Any]) -> System:
    return system_of(request)
