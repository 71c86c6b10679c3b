"""Governed memory in the SDK (MEMORY_TIERS.md): put, show, promote, search, audit, delete.

    token = admin.mint_memory_token(partition, run_id="run-42")     # fail-safe run grant
    agent = Client(url, token=token.token)
    note = agent.put_memory("pin postgres to 16 in CI", kind="solution", tags=["ci"])
    found = agent.search_memory("postgres ci", tiers=["session", "project"])
    result = agent.promote_memory(note.id, "project")   # status: promoted | pending_review | blocked

With the admin token every call names the partition (`partition={"org":..., "workspace":
..., "project":...}`); a minted token is bound to its partition and may leave it out.
`MemoryMethods` / `AsyncMemoryMethods` are mixed into `Client` / `AsyncClient`; they only
build requests and parse answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from missiond.sdk.base import id_segment, idempotency_headers
from missiond.sdk.errors import ProtocolError

MEMORY_PATH = "/v1/memory"
TIERS = ("session", "project", "team", "curated")
KINDS = ("note", "fact", "solution", "pitfall")


def memory_path(memory_id: str, *rest: str) -> str:
    return "/".join((MEMORY_PATH, id_segment(memory_id), *rest))


def _mapping(obj: Any, what: str, key: str = "id") -> Mapping[str, Any]:
    if not isinstance(obj, Mapping) or key not in obj:
        raise ProtocolError(f"expected {what}, got {obj!r:.200}")
    return obj


@dataclass(frozen=True)
class MemoryRecord:
    id: str
    tier: str
    partition: Mapping[str, str]
    kind: str
    content: str | None
    tags: tuple[str, ...]
    classification: str
    source_memory_id: str | None
    reviewed_by: str | None
    created_by: str
    created_at: str
    expires_at: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> MemoryRecord:
        m = _mapping(obj, "a memory record")
        partition = dict(m["partition"])
        return cls(
            id=m["id"], tier=partition.get("tier", ""), partition=partition, kind=m["kind"],
            content=m.get("content"), tags=tuple(m.get("tags") or ()), classification=m["classification"],
            source_memory_id=m.get("source_memory_id"), reviewed_by=m.get("reviewed_by"),
            created_by=m["created_by"], created_at=m["created_at"], expires_at=m.get("expires_at"), raw=m,
        )  # fmt: skip


@dataclass(frozen=True)
class SearchHit:
    memory: MemoryRecord
    score: float


@dataclass(frozen=True)
class SearchResult:
    items: tuple[SearchHit, ...]
    tiers_used: tuple[str, ...]
    tiers_blocked: tuple[str, ...]
    terms: tuple[str, ...]

    @classmethod
    def from_json(cls, obj: Any) -> SearchResult:
        m = _mapping(obj, "a search answer", "items")
        hits = tuple(SearchHit(MemoryRecord.from_json(h["memory"]), float(h["score"])) for h in m["items"])
        return cls(hits, tuple(m["tiers_used"]), tuple(m["tiers_blocked"]), tuple(m.get("terms") or ()))


@dataclass(frozen=True)
class PromotionResult:
    """`status` promoted (with `memory`), pending_review (with `approval_id`) or blocked."""

    status: str
    scrub: Mapping[str, Any]
    memory: MemoryRecord | None
    promotion_id: str | None
    approval_id: str | None

    @classmethod
    def from_json(cls, obj: Any) -> PromotionResult:
        m = _mapping(obj, "a promotion answer", "status")
        memory = MemoryRecord.from_json(m["memory"]) if m.get("memory") else None
        return cls(
            m["status"], dict(m.get("scrub") or {}), memory, m.get("promotion_id"), m.get("approval_id")
        )


@dataclass(frozen=True)
class AuditEntry:
    id: str
    action: str
    actor: str
    partition: Mapping[str, Any]
    memory_id: str | None
    outcome: str
    detail: Mapping[str, Any]
    at: str

    @classmethod
    def from_json(cls, obj: Any) -> AuditEntry:
        m = _mapping(obj, "an audit entry")
        return cls(
            m["id"], m["action"], m["actor"], dict(m["partition"]), m.get("memory_id"), m["outcome"],
            dict(m.get("detail") or {}), m["at"],
        )  # fmt: skip


@dataclass(frozen=True)
class AuditPage:
    items: tuple[AuditEntry, ...]
    next_before_id: str | None

    @classmethod
    def from_json(cls, obj: Any) -> AuditPage:
        m = _mapping(obj, "an audit page", "items")
        return cls(tuple(AuditEntry.from_json(e) for e in m["items"]), m.get("next_before_id"))


@dataclass(frozen=True)
class MemoryToken:
    """A minted token; `token` is shown once (None on an idempotent replay)."""

    token: str | None
    token_id: str
    subject: str
    kind: str
    grant: Mapping[str, Any]
    expires_at: str

    @classmethod
    def from_json(cls, obj: Any) -> MemoryToken:
        m = _mapping(obj, "a minted token", "token_id")
        return cls(m.get("token"), m["token_id"], m["subject"], m["kind"], dict(m["grant"]), m["expires_at"])


# -- requests (no IO) ------------------------------------------------------------------------------------
def put_body(
    content: str,
    kind: str,
    tier: str,
    tags: Sequence[str] | None,
    artifact_refs: Sequence[str] | None,
    classification: str,
    ttl_s: float | None,
    partition: Mapping[str, str] | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": kind, "content": content, "tier": tier, "classification": classification}
    if tags:
        body["tags"] = list(tags)
    if artifact_refs:
        body["artifact_refs"] = list(artifact_refs)
    if ttl_s is not None:
        body["ttl_s"] = ttl_s
    if partition is not None:
        body["partition"] = dict(partition)
    return body


def scoped(params: dict[str, Any], partition: Mapping[str, str] | None) -> dict[str, Any]:
    merged = {k: v for k, v in params.items() if v is not None}
    if partition is not None:
        merged.update(partition)
    return merged


def audit_params(
    action: str | None,
    actor: str | None,
    memory_id: str | None,
    outcome: str | None,
    before_id: str | None,
    limit: int | None,
    partition: Mapping[str, str] | None,
) -> dict[str, Any]:
    return scoped(
        {"action": action, "actor": actor, "memory_id": memory_id, "outcome": outcome,
         "before_id": before_id, "limit": limit},
        partition,
    )  # fmt: skip


def token_body(
    partition: Mapping[str, str], run_id: str | None, agent: str | None, **grant: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "agent" if agent else "run", "partition": dict(partition)}
    if agent:
        body["agent"] = agent
    else:
        body["run_id"] = run_id
    body.update(
        {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in grant.items() if v is not None}
    )
    return body


class MemoryMethods:
    """Memory calls of the blocking `Client`."""

    if TYPE_CHECKING:  # provided by `Client`; declared here for the type checker only

        def _json(self, method: str, path: str, **kwargs: Any) -> Any: ...

    def put_memory(
        self,
        content: str,
        *,
        kind: str = "note",
        tier: str = "session",
        tags: Sequence[str] | None = None,
        artifact_refs: Sequence[str] | None = None,
        classification: str = "internal",
        ttl_s: float | None = None,
        partition: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> MemoryRecord:
        """Store a record; above the session tier the content is scrubbed (a blocking finding
        raises `ValidationError`-like `ApiError` with code MEMORY_CONTENT_BLOCKED)."""
        body = put_body(content, kind, tier, tags, artifact_refs, classification, ttl_s, partition)
        answer = self._json("POST", MEMORY_PATH, json=body, headers=idempotency_headers(idempotency_key))
        return MemoryRecord.from_json(_mapping(answer, "a put answer", "memory")["memory"])

    def get_memory(self, memory_id: str) -> MemoryRecord:
        return MemoryRecord.from_json(self._json("GET", memory_path(memory_id)))

    def promote_memory(
        self, memory_id: str, to: str, *, note: str | None = None, idempotency_key: str | None = None
    ) -> PromotionResult:
        body = {"to": to, **({"note": note} if note else {})}
        answer = self._json(
            "POST", memory_path(memory_id, "promote"), json=body, headers=idempotency_headers(idempotency_key)
        )
        return PromotionResult.from_json(answer)

    def search_memory(
        self,
        q: str,
        *,
        tiers: Sequence[str] | None = None,
        limit: int | None = None,
        partition: Mapping[str, str] | None = None,
    ) -> SearchResult:
        params = scoped({"q": q, "tiers": ",".join(tiers) if tiers else None, "limit": limit}, partition)
        return SearchResult.from_json(self._json("GET", f"{MEMORY_PATH}/search", params=params))

    def memory_audit(
        self,
        *,
        action: str | None = None,
        actor: str | None = None,
        memory_id: str | None = None,
        outcome: str | None = None,
        before_id: str | None = None,
        limit: int | None = None,
        partition: Mapping[str, str] | None = None,
    ) -> AuditPage:
        params = audit_params(action, actor, memory_id, outcome, before_id, limit, partition)
        return AuditPage.from_json(self._json("GET", f"{MEMORY_PATH}/audit", params=params))

    def delete_memory(self, memory_id: str, *, idempotency_key: str | None = None) -> str:
        answer = self._json("DELETE", memory_path(memory_id), headers=idempotency_headers(idempotency_key))
        return str(_mapping(answer, "a delete answer", "deleted")["deleted"])

    def mint_memory_token(
        self,
        partition: Mapping[str, str],
        *,
        run_id: str | None = None,
        agent: str | None = None,
        idempotency_key: str | None = None,
        **grant: Any,
    ) -> MemoryToken:
        """Admin only. Grant keys: read_tiers, write_tiers, promote_targets,
        require_review_for_promote, read_audit, ttl_s (defaults are the fail-safe run grant)."""
        answer = self._json(
            "POST",
            f"{MEMORY_PATH}/tokens",
            json=token_body(partition, run_id, agent, **grant),
            headers=idempotency_headers(idempotency_key),
        )
        return MemoryToken.from_json(answer)


class AsyncMemoryMethods:
    """Memory calls of the `AsyncClient` (same arguments as `MemoryMethods`)."""

    if TYPE_CHECKING:  # provided by `AsyncClient`; declared here for the type checker only

        async def _json(self, method: str, path: str, **kwargs: Any) -> Any: ...

    async def put_memory(
        self,
        content: str,
        *,
        kind: str = "note",
        tier: str = "session",
        tags: Sequence[str] | None = None,
        artifact_refs: Sequence[str] | None = None,
        classification: str = "internal",
        ttl_s: float | None = None,
        partition: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> MemoryRecord:
        body = put_body(content, kind, tier, tags, artifact_refs, classification, ttl_s, partition)
        answer = await self._json(
            "POST", MEMORY_PATH, json=body, headers=idempotency_headers(idempotency_key)
        )
        return MemoryRecord.from_json(_mapping(answer, "a put answer", "memory")["memory"])

    async def get_memory(self, memory_id: str) -> MemoryRecord:
        return MemoryRecord.from_json(await self._json("GET", memory_path(memory_id)))

    async def promote_memory(
        self, memory_id: str, to: str, *, note: str | None = None, idempotency_key: str | None = None
    ) -> PromotionResult:
        body = {"to": to, **({"note": note} if note else {})}
        answer = await self._json(
            "POST", memory_path(memory_id, "promote"), json=body, headers=idempotency_headers(idempotency_key)
        )
        return PromotionResult.from_json(answer)

    async def search_memory(
        self,
        q: str,
        *,
        tiers: Sequence[str] | None = None,
        limit: int | None = None,
        partition: Mapping[str, str] | None = None,
    ) -> SearchResult:
        params = scoped({"q": q, "tiers": ",".join(tiers) if tiers else None, "limit": limit}, partition)
        return SearchResult.from_json(await self._json("GET", f"{MEMORY_PATH}/search", params=params))

    async def memory_audit(
        self,
        *,
        action: str | None = None,
        actor: str | None = None,
        memory_id: str | None = None,
        outcome: str | None = None,
        before_id: str | None = None,
        limit: int | None = None,
        partition: Mapping[str, str] | None = None,
    ) -> AuditPage:
        params = audit_params(action, actor, memory_id, outcome, before_id, limit, partition)
        return AuditPage.from_json(await self._json("GET", f"{MEMORY_PATH}/audit", params=params))

    async def delete_memory(self, memory_id: str, *, idempotency_key: str | None = None) -> str:
        answer = await self._json(
            "DELETE", memory_path(memory_id), headers=idempotency_headers(idempotency_key)
        )
        return str(_mapping(answer, "a delete answer", "deleted")["deleted"])

    async def mint_memory_token(
        self,
        partition: Mapping[str, str],
        *,
        run_id: str | None = None,
        agent: str | None = None,
        idempotency_key: str | None = None,
        **grant: Any,
    ) -> MemoryToken:
        """Admin only. Grant keys: read_tiers, write_tiers, promote_targets,
        require_review_for_promote, read_audit, ttl_s (defaults are the fail-safe run grant)."""
        answer = await self._json(
            "POST",
            f"{MEMORY_PATH}/tokens",
            json=token_body(partition, run_id, agent, **grant),
            headers=idempotency_headers(idempotency_key),
        )
        return MemoryToken.from_json(answer)
