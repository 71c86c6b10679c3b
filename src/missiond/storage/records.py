"""Small repositories for auth tokens and idempotency records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from missiond.storage.tables import ApiToken, IdempotencyRecord


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: str
    subject: str
    kind: str
    capabilities: tuple[str, ...]
    partition: dict[str, Any] | None
    expires_at_us: int | None
    revoked: bool


def _token(row: ApiToken) -> TokenRecord:
    return TokenRecord(
        id=row.id,
        subject=row.subject,
        kind=row.kind,
        capabilities=tuple(row.capabilities),
        partition=row.partition,
        expires_at_us=row.expires_at_us,
        revoked=row.revoked_at_us is not None,
    )


class Tokens:
    def __init__(self, session: Session) -> None:
        self._session = session

    def by_hash(self, token_hash: str) -> TokenRecord | None:
        row = self._session.exec(select(ApiToken).where(col(ApiToken.token_hash) == token_hash)).first()
        return _token(row) if row else None

    def add(
        self,
        *,
        id: str,
        token_hash: str,
        subject: str,
        kind: str,
        capabilities: list[str],
        created_at_us: int,
        partition: dict[str, Any] | None = None,
        expires_at_us: int | None = None,
    ) -> TokenRecord:
        row = ApiToken(
            id=id,
            token_hash=token_hash,
            subject=subject,
            kind=kind,
            capabilities=capabilities,
            partition=partition,
            created_at_us=created_at_us,
            expires_at_us=expires_at_us,
        )
        self._session.add(row)
        self._session.flush()
        return _token(row)

    def revoke(self, token_id: str, at_us: int) -> bool:
        row = self._session.get(ApiToken, token_id)
        if row is None or row.revoked_at_us is not None:
            return False
        row.revoked_at_us = at_us
        self._session.add(row)
        return True


class Idempotency:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, principal: str, key: str) -> tuple[str, dict[str, Any]] | None:
        row = self._session.get(IdempotencyRecord, (principal, key))
        return (row.fingerprint, row.response) if row else None

    def put(self, principal: str, key: str, fingerprint: str, response: dict[str, Any], at_us: int) -> None:
        self._session.add(
            IdempotencyRecord(
                principal=principal, key=key, fingerprint=fingerprint, response=response, created_at_us=at_us
            )
        )
        self._session.flush()
