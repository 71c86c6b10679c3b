"""Browser sessions for the web dashboard.

A person with an admin token asks for a login link (`missiond ui`); the link
carries a one-time code (random, 2 minutes, single use). Opening it trades
the code for a session secret that lives only in an HttpOnly cookie. Only
SHA-256 hashes of codes and secrets are stored, so a copy of the database
logs nobody in. Mutations made with the cookie must carry a CSRF token
derived from the session secret (HMAC), which the page reads from
`GET /v1/ui/session`; another origin can neither read that answer nor
compute the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from missiond.core.events import NewEvent, to_us
from missiond.errors import Unauthorized
from missiond.identifiers import new_id
from missiond.services.context import Principal, RequestContext
from missiond.services.task_model import ts
from missiond.storage.tables import UiSessionRow
from missiond.storage.ui_sessions import UiSessionRecord, UiSessionRows
from missiond.storage.uow import Store

CODE_TTL_S = 120
SESSION_TTL_S = 12 * 3600
_CACHE_TTL_S = 5.0
_SECRET_BYTES = 32


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def csrf_token(session_secret: str) -> str:
    mac = hmac.new(session_secret.encode(), b"missiond-ui-csrf-v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def csrf_matches(session_secret: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(session_secret), presented or "")


@dataclass(frozen=True, slots=True)
class LoginCode:
    code: str
    expires_at: str
    ttl_s: int


@dataclass(frozen=True, slots=True)
class BrowserSession:
    id: str
    secret: str
    principal: Principal
    expires_at_us: int

    @property
    def ttl_s(self) -> int:
        return SESSION_TTL_S


class UiSessionService:
    def __init__(self, store: Store, *, code_ttl_s: int = CODE_TTL_S, session_ttl_s: int = SESSION_TTL_S):
        self._store = store
        self._code_ttl_us = code_ttl_s * 1_000_000
        self._session_ttl_us = session_ttl_s * 1_000_000
        self._cache: dict[str, tuple[float, UiSessionRecord | None]] = {}
        self._lock = threading.Lock()

    def create_code(self, ctx: RequestContext) -> LoginCode:
        """A one-time login code for the caller, who must be a person holding `admin`."""
        ctx.principal.require("admin")
        code = secrets.token_urlsafe(_SECRET_BYTES)
        with self._store.write(actor=ctx.actor, correlation_id=ctx.correlation_id) as uow:
            row = UiSessionRows(uow.session).add(
                UiSessionRow(
                    id=new_id("ses"),
                    kind="code",
                    secret_hash=_hash(code),
                    subject=ctx.principal.subject,
                    principal_kind=ctx.principal.kind,
                    capabilities=sorted(ctx.principal.capabilities),
                    created_at_us=uow.now_us,
                    expires_at_us=uow.now_us + self._code_ttl_us,
                )
            )
            expires_at = ts(row.expires_at_us) or ""
            uow.emit(
                NewEvent(
                    "ui.login_link_created", f"ui/{row.id}", {"code_id": row.id, "expires_at": expires_at}
                )
            )
        return LoginCode(code=code, expires_at=expires_at, ttl_s=self._code_ttl_us // 1_000_000)

    def redeem(self, code: str, correlation_id: str | None = None) -> BrowserSession | None:
        """Trade a live code for a new session (once); None when the code is unknown, used or expired."""
        if not code or len(code) > 200:
            return None
        with self._store.write(actor="system.ui", correlation_id=correlation_id) as uow:
            rows = UiSessionRows(uow.session)
            found = rows.by_hash(_hash(code))
            if (
                found is None
                or found.kind != "code"
                or found.ended_at_us is not None
                or found.expires_at_us <= uow.now_us
                or not rows.end(found.id, uow.now_us)
            ):
                return None
            secret = secrets.token_urlsafe(_SECRET_BYTES)
            session = rows.add(
                UiSessionRow(
                    id=new_id("ses"),
                    kind="session",
                    secret_hash=_hash(secret),
                    subject=found.subject,
                    principal_kind=found.principal_kind,
                    capabilities=list(found.capabilities),
                    code_id=found.id,
                    created_at_us=uow.now_us,
                    expires_at_us=uow.now_us + self._session_ttl_us,
                )
            )
            rows.purge(uow.now_us)
            uow.emit(
                NewEvent(
                    "ui.session_started",
                    f"ui/{session.id}",
                    {"session_id": session.id, "code_id": found.id, "expires_at": ts(session.expires_at_us)},
                ),
                actor=found.subject,
            )
        return BrowserSession(session.id, secret, _principal(session), session.expires_at_us)

    def authenticate(self, secret: str) -> BrowserSession:
        row = self._lookup(_hash(secret))
        now_us = to_us(self._store.clock())
        if row is None or row.kind != "session" or row.ended_at_us is not None or row.expires_at_us <= now_us:
            raise Unauthorized(
                "the dashboard session is unknown, ended or expired; run `missiond ui` to sign in"
            )
        return BrowserSession(row.id, secret, _principal(row), row.expires_at_us)

    def end(self, session: BrowserSession, correlation_id: str | None = None) -> None:
        with self._store.write(actor=session.principal.subject, correlation_id=correlation_id) as uow:
            if UiSessionRows(uow.session).end(session.id, uow.now_us):
                uow.emit(NewEvent("ui.session_ended", f"ui/{session.id}", {"session_id": session.id}))
        with self._lock:
            self._cache.pop(_hash(session.secret), None)

    def _lookup(self, digest: str) -> UiSessionRecord | None:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(digest)
        if cached and cached[0] > now:
            return cached[1]
        with self._store.read() as uow:
            row = UiSessionRows(uow.session).by_hash(digest)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now + _CACHE_TTL_S, row)
        return row


def _principal(row: UiSessionRecord) -> Principal:
    return Principal(
        subject=row.subject,
        kind=row.principal_kind,
        capabilities=frozenset(row.capabilities),
        token_id=row.id,
    )
