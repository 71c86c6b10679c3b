"""Bearer tokens: the admin token written on first start, agent tokens later.

Tokens are random, shown once, stored as SHA-256 hashes. Lookups are cached
briefly so a busy agent does not cost a query per request.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from pathlib import Path

from missiond.core.events import to_us
from missiond.errors import Unauthorized
from missiond.identifiers import new_id
from missiond.services.context import Principal
from missiond.storage.uow import Store

TOKEN_PREFIX = "mdt_"
ADMIN_SUBJECT = "user:admin"
_CACHE_TTL_S = 5.0


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def make_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _write_secret(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(content + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


class AuthService:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def ensure_admin_token(self, path: Path) -> str:
        """Return the admin token in `path`, creating it (0600) and registering its hash."""
        raw = path.read_text().strip() if path.exists() else ""
        if not raw.startswith(TOKEN_PREFIX):
            raw = make_token()
            _write_secret(path, raw)
        elif path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        with self._store.write(actor="system.auth") as uow:
            if uow.tokens.by_hash(hash_token(raw)) is None:
                uow.tokens.add(
                    id=new_id("tok"),
                    token_hash=hash_token(raw),
                    subject=ADMIN_SUBJECT,
                    kind="admin",
                    capabilities=["*"],
                    created_at_us=uow.now_us,
                )
        return raw

    def authenticate(self, header: str | None) -> Principal:
        if not header:
            raise Unauthorized("missing Authorization: Bearer token")
        scheme, _, raw = header.partition(" ")
        raw = raw.strip()
        if scheme.lower() != "bearer" or not raw:
            raise Unauthorized("the Authorization header must be 'Bearer <token>'")
        digest = hash_token(raw)
        principal = self._lookup(digest)
        if principal is None:
            raise Unauthorized("unknown, expired or revoked token")
        return principal

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()

    def _lookup(self, digest: str) -> Principal | None:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(digest)
        if cached and cached[0] > now:
            return cached[1]
        with self._store.read() as uow:
            record = uow.tokens.by_hash(digest)
            now_us = to_us(self._store.clock())
        principal = None
        if record and not record.revoked and (record.expires_at_us is None or record.expires_at_us > now_us):
            principal = Principal(
                subject=record.subject,
                kind=record.kind,
                capabilities=frozenset(record.capabilities),
                token_id=record.id,
                partition=record.partition,
            )
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now + _CACHE_TTL_S, principal)
        return principal
