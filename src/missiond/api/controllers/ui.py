"""The web dashboard: its page, its static files, and the login that gives it a session.

`GET /ui/` serves the single page; `GET /ui/assets/...` its scripts and styles
(no build step: plain modules shipped in the package). Both are public: they
hold no data and no secret. Everything the page shows comes from the `/v1`
API, authenticated by the session cookie that `GET /ui/login?code=...` sets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_303_SEE_OTHER

from missiond.api.openapi import problems
from missiond.api.ui_auth import CSRF_HEADER, cookie_name, ui_sessions
from missiond.api.wire import WireModel
from missiond.services.context import RequestContext
from missiond.services.task_model import ts
from missiond.services.ui_sessions import csrf_token

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_FAILED_LOGIN = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>missiond: sign-in failed</title><link rel="stylesheet" href="/ui/assets/app.css"></head>
<body class="login-failed"><main><h1>This login link cannot be used</h1>
<p>It is unknown, was used already, or expired (links live two minutes and work once).</p>
<p>Run <code>missiond ui</code> for a new one.</p></main></body></html>"""


class LoginLinkOut(WireModel):
    url: str
    path: str
    expires_at: str
    ttl_s: int


class SessionOut(WireModel):
    subject: str
    kind: str
    capabilities: list[str]
    session_id: str | None
    expires_at: str | None
    csrf_token: str | None
    csrf_header: str


def _page(name: str) -> Response[bytes]:
    return Response(
        (STATIC / name).read_bytes(), media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS
    )


class UiPageController(Controller):
    """Public routes under /ui: the page, the login link target."""

    path = "/ui"
    include_in_schema = False

    @get("/", opt={"public": True}, sync_to_thread=False)
    def index(self) -> Response[bytes]:
        return _page("index.html")

    @get("/login", opt={"public": True}, sync_to_thread=True)
    def login(self, request: Request[Any, Any, Any], code: str = "") -> Response[Any]:
        session = ui_sessions(request).redeem(code, request.state.correlation_id)
        if session is None:
            return Response(
                _FAILED_LOGIN,
                status_code=401,
                media_type="text/html; charset=utf-8",
                headers=SECURITY_HEADERS,
            )
        cookie = Cookie(
            key=cookie_name(request),
            value=session.secret,
            path="/",
            max_age=session.ttl_s,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        # 303 to the page: the code leaves the address bar, and a reload cannot replay it.
        return Redirect("/ui/", status_code=HTTP_303_SEE_OTHER, cookies=[cookie], headers=SECURITY_HEADERS)


class UiApiController(Controller):
    """The dashboard's own API: login links (for `missiond ui`), the session, logout."""

    path = "/v1/ui"
    tags = ["ui"]
    security = [{"bearer": []}]

    @post(
        "/login-links",
        responses=problems(401, 403),
        sync_to_thread=True,
        status_code=201,
        summary="Make a one-time dashboard login link (admin; 2 minutes, single use)",
    )
    def login_link(self, request: Request[Any, Any, Any], ctx: RequestContext) -> LoginLinkOut:
        code = ui_sessions(request).create_code(ctx)
        path = f"/ui/login?code={code.code}"
        base = str(request.base_url).rstrip("/")
        return LoginLinkOut(url=base + path, path=path, expires_at=code.expires_at, ttl_s=code.ttl_s)

    @get("/session", responses=problems(401), sync_to_thread=False, summary="Who the page is signed in as")
    def session(self, request: Request[Any, Any, Any], ctx: RequestContext) -> SessionOut:
        browser = getattr(request.state, "ui_session", None)
        p = ctx.principal
        return SessionOut(
            subject=p.subject,
            kind=p.kind,
            capabilities=sorted(p.capabilities),
            session_id=browser.id if browser else None,
            expires_at=ts(browser.expires_at_us) if browser else None,
            csrf_token=csrf_token(browser.secret) if browser else None,
            csrf_header=CSRF_HEADER,
        )

    @post(
        "/logout",
        responses=problems(401, 403),
        sync_to_thread=True,
        status_code=200,
        summary="End the dashboard session",
    )
    def logout(self, request: Request[Any, Any, Any]) -> Response[dict[str, bool]]:
        browser = getattr(request.state, "ui_session", None)
        if browser is not None:
            ui_sessions(request).end(browser, request.state.correlation_id)
        response: Response[dict[str, bool]] = Response({"ended": browser is not None})
        response.delete_cookie(cookie_name(request), path="/")
        return response


def ui_route_handlers() -> list[Any]:
    # Static files carry no data: public, so the app-wide token guard stays off them.
    assets = create_static_files_router(
        path="/ui/assets",
        directories=[STATIC / "assets"],
        opt={"public": True},
        include_in_schema=False,
        name="ui-assets",
    )
    return [UiPageController, UiApiController, assets]
