"""Agents and their tokens. An agent's token carries its subject and capabilities;
every request made with it is attributed to `agent:<id>`."""

from __future__ import annotations

import re
from typing import Any

from missiond.core.events import NewEvent
from missiond.errors import Conflict, ValidationFailed
from missiond.identifiers import new_id
from missiond.services.auth import hash_token, make_token
from missiond.services.context import RequestContext
from missiond.services.mutations import Mutation
from missiond.services.task_model import ts
from missiond.storage.tables import AgentRow
from missiond.storage.uow import Store

DEFAULT_CAPABILITIES = (
    "tasks:read",
    "tasks:write",
    "tasks:claim",
    "events:read",
    "events:write",
    "resources:read",
    "resources:write",
    "missions:read",
    "missions:submit",
    "missions:review",
)
_CAPABILITY = re.compile(r"(\*|[a-z][a-z_]*:(\*|[a-z][a-z_]*)|admin)")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def agent_to_wire(row: AgentRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "subject": f"agent:{row.id}",
        "name": row.name,
        "roles": list(row.roles),
        "capabilities": list(row.capabilities),
        "created_at": ts(row.created_at_us),
        "created_by": row.created_by,
    }


class AgentService:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._mutation = Mutation(store)

    def create(
        self, ctx: RequestContext, name: str, roles: list[str], capabilities: list[str] | None
    ) -> tuple[dict[str, Any], bool]:
        ctx.principal.require("admin")
        if not _NAME.fullmatch(name):
            raise ValidationFailed.field("body.name", "1-100 characters of letters, digits, '.', '_', '-'")
        caps = list(dict.fromkeys(capabilities if capabilities is not None else DEFAULT_CAPABILITIES))
        for i, cap in enumerate(caps):
            if not _CAPABILITY.fullmatch(cap):
                raise ValidationFailed.field(
                    f"body.capabilities.{i}", "like 'tasks:claim', 'tasks:*' or 'admin'"
                )

        def change(uow: Any) -> dict[str, Any]:
            if uow.agents.by_name(name) is not None:
                raise Conflict(f"an agent named {name!r} exists", code="AGENT_EXISTS", name=name)
            row = AgentRow(
                id=new_id("agt"),
                name=name,
                roles=list(dict.fromkeys(roles)),
                capabilities=caps,
                created_at_us=uow.now_us,
                created_by=ctx.actor,
            )
            uow.agents.add(row)
            raw = make_token()
            uow.tokens.add(
                id=new_id("tok"),
                token_hash=hash_token(raw),
                subject=f"agent:{row.id}",
                kind="agent",
                capabilities=caps,
                created_at_us=uow.now_us,
            )
            uow.emit(NewEvent("agent.created", f"agent/agent:{row.id}", {"agent": agent_to_wire(row)}))
            # The token is shown once. An idempotent replay would show it again, so it is
            # not stored with the answer: a replay returns the agent without it.
            return {"agent": agent_to_wire(row), "token": raw}

        return self._mutation.run(ctx, change, redact=lambda a: {**a, "token": None})

    def list(self, ctx: RequestContext) -> dict[str, Any]:
        ctx.principal.require("agents:read")
        with self._store.read() as uow:
            return {"items": [agent_to_wire(r) for r in uow.agents.list()]}
