"""The browser side of the auth guard: the dashboard's session cookie and its CSRF check.

A request without an `Authorization` header that carries the session cookie is
authenticated by the cookie. Cookie-authenticated mutations must also carry
`X-Missiond-CSRF` (derived from the session secret, read by the page from
`GET /v1/ui/session`) and, when the browser sends `Origin`, come from this
server's own origin. Bearer requests are untouched: they are not sent by a
browser on its own, so they cannot be forged cross-site.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from missiond.errors import Forbidden
from missiond.services.context import Principal
from missiond.services.ui_sessions import BrowserSession, UiSessionService, csrf_matches

COOKIE_PREFIX = "missiond_session"
CSRF_HEADER = "x-missiond-csrf"
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def ui_sessions(connection: ASGIConnection[Any, Any, Any, Any]) -> UiSessionService:
    """The app's one session service (made on first use; it holds a small lookup cache)."""
    state = connection.app.state
    service: UiSessionService | None = getattr(state, "ui_sessions", None)
    if service is None:
        service = UiSessionService(state.system.store)
        state.ui_sessions = service
    return service


def cookie_name(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """Cookies are shared by every port of a host, so the name carries the port: two
    servers on 127.0.0.1 (the demo's and yours) keep separate sessions."""
    host = connection.headers.get("host", "")
    port = host.rsplit(":", 1)[1] if ":" in host and not host.endswith("]") else ""
    return f"{COOKIE_PREFIX}_{port}" if port.isdigit() else COOKIE_PREFIX


def browser_session(connection: ASGIConnection[Any, Any, Any, Any]) -> BrowserSession | None:
    """The session named by the cookie (401 when it is unknown or over), or None without one."""
    secret = connection.cookies.get(cookie_name(connection))
    if not secret:
        return None
    return ui_sessions(connection).authenticate(secret)


def browser_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    session = browser_session(connection)
    if session is None:
        return None
    if connection.scope.get("method", "GET") in MUTATING:
        _check_forgery(connection, session)
    connection.state.ui_session = session
    return session.principal


def _check_forgery(connection: ASGIConnection[Any, Any, Any, Any], session: BrowserSession) -> None:
    origin = connection.headers.get("origin")
    if origin is not None and origin != _own_origin(connection):
        raise Forbidden(f"cross-origin request from {origin} refused", code="CSRF_FAILED")
    if not csrf_matches(session.secret, connection.headers.get(CSRF_HEADER)):
        raise Forbidden("the dashboard's CSRF token is missing or wrong; reload the page", code="CSRF_FAILED")


def _own_origin(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    scheme = connection.scope.get("scheme", "http")
    return f"{scheme}://{connection.headers.get('host', '')}"
