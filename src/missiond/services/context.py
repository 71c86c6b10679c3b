"""Who is asking and under which correlation: passed from the API into every service call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from missiond.errors import Forbidden


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    kind: str  # admin | agent | run | system
    capabilities: frozenset[str]
    token_id: str | None = None
    partition: dict[str, Any] | None = None

    def can(self, capability: str) -> bool:
        if "*" in self.capabilities or capability in self.capabilities:
            return True
        namespace = capability.split(":", 1)[0]
        return f"{namespace}:*" in self.capabilities

    def require(self, capability: str) -> None:
        if not self.can(capability):
            raise Forbidden(f"{self.subject} lacks the capability {capability!r}", capability=capability)


SYSTEM = Principal(subject="system", kind="system", capabilities=frozenset({"*"}))


@dataclass(frozen=True, slots=True)
class RequestContext:
    principal: Principal
    correlation_id: str | None = None
    idempotency_key: str | None = None
    fingerprint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        return self.principal.subject


def system_context(component: str, correlation_id: str | None = None) -> RequestContext:
    principal = Principal(subject=f"system.{component}", kind="system", capabilities=frozenset({"*"}))
    return RequestContext(principal=principal, correlation_id=correlation_id)
