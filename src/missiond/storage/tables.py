"""SQLModel tables. Wire types live in the API; these are rows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JsonType = sa.JSON().with_variant(JSONB(), "postgresql")


class SpineState(SQLModel, table=True):
    """One row: the seq counter (head) and the retention floor."""

    __tablename__ = "spine_state"
    id: int = Field(default=1, primary_key=True)
    head: int = Field(default=0, sa_type=sa.BigInteger, nullable=False)
    floor: int = Field(default=0, sa_type=sa.BigInteger, nullable=False)


class EventRow(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (
        sa.Index("ix_events_type_seq", "type", "seq"),
        sa.Index("ix_events_subject_seq", "subject", "seq"),
        sa.Index("ix_events_ts", "ts_us"),
    )
    seq: int = Field(sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    id: str = Field(max_length=40, unique=True, nullable=False)
    type: str = Field(max_length=128, nullable=False)
    subject: str = Field(max_length=512, nullable=False)
    ts_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    actor: str = Field(max_length=200, nullable=False)
    correlation_id: str | None = Field(default=None, max_length=128)
    causation_id: str | None = Field(default=None, max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType, nullable=False)
    v: int = Field(default=1, nullable=False)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"
    id: str = Field(primary_key=True, max_length=40)
    token_hash: str = Field(max_length=64, unique=True, nullable=False)
    subject: str = Field(max_length=200, nullable=False)
    kind: str = Field(max_length=20, nullable=False)  # admin | agent | run
    capabilities: list[str] = Field(default_factory=list, sa_type=JsonType, nullable=False)
    partition: dict[str, Any] | None = Field(default=None, sa_type=JsonType)
    created_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    expires_at_us: int | None = Field(default=None, sa_type=sa.BigInteger)
    revoked_at_us: int | None = Field(default=None, sa_type=sa.BigInteger)


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    principal: str = Field(primary_key=True, max_length=200)
    key: str = Field(primary_key=True, max_length=200)
    fingerprint: str = Field(max_length=64, nullable=False)
    response: dict[str, Any] = Field(sa_type=JsonType, nullable=False)
    created_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)


KeyType = sa.String(512).with_variant(sa.String(512, collation="C"), "postgresql")


class ResourceRow(SQLModel, table=True):
    __tablename__ = "resources"
    __table_args__ = (sa.Index("ix_resources_expires", "expires_at_us"),)
    key: str = Field(primary_key=True, sa_type=KeyType)
    value: Any = Field(default=None, sa_type=JsonType, nullable=True)
    create_rev: int = Field(sa_type=sa.BigInteger, nullable=False)
    mod_rev: int = Field(sa_type=sa.BigInteger, nullable=False)
    version: int = Field(nullable=False)
    updated_by: str = Field(max_length=200, nullable=False)
    updated_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    expires_at_us: int | None = Field(default=None, sa_type=sa.BigInteger)


class ReactorCursor(SQLModel, table=True):
    """Where a reactor (status indexer, mission runtime, ...) has read the spine up to."""

    __tablename__ = "reactor_cursors"
    name: str = Field(primary_key=True, max_length=100)
    position: int = Field(sa_type=sa.BigInteger, nullable=False)
    updated_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)


class AgentRow(SQLModel, table=True):
    __tablename__ = "agents"
    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200, unique=True, nullable=False)
    roles: list[str] = Field(default_factory=list, sa_type=JsonType, nullable=False)
    capabilities: list[str] = Field(default_factory=list, sa_type=JsonType, nullable=False)
    created_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    created_by: str = Field(max_length=200, nullable=False)


class AgentSessionRow(SQLModel, table=True):
    __tablename__ = "agent_sessions"
    __table_args__ = (sa.Index("ix_agent_sessions_live", "ended_at_us", "expires_at_us"),)
    id: str = Field(primary_key=True, max_length=40)
    agent_id: str = Field(max_length=40, nullable=False, index=True)
    ttl_s: float = Field(nullable=False)
    started_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    expires_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    ended_at_us: int | None = Field(default=None, sa_type=sa.BigInteger)
    end_reason: str | None = Field(default=None, max_length=40)


class TaskRow(SQLModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        sa.Index("ix_tasks_ready", "status", "open_blockers", "priority", "created_at_us"),
        sa.Index("ix_tasks_lease_expiry", "lease_expires_at_us"),
        sa.Index("ix_tasks_parent", "parent_id"),
        sa.Index("ix_tasks_mission", "mission_id"),
    )
    id: str = Field(primary_key=True, max_length=40)
    title: str = Field(max_length=500, nullable=False)
    type: str = Field(max_length=20, nullable=False)
    status: str = Field(max_length=20, nullable=False)
    intent: str = Field(default="", sa_type=sa.Text, nullable=False)
    description: str = Field(default="", sa_type=sa.Text, nullable=False)
    plan: str = Field(default="", sa_type=sa.Text, nullable=False)
    priority: int = Field(default=2, nullable=False)
    labels: list[str] = Field(default_factory=list, sa_type=JsonType, nullable=False)
    role: str | None = Field(default=None, max_length=100)
    parent_id: str | None = Field(default=None, max_length=40)
    mission_id: str | None = Field(default=None, max_length=40)
    outcome: str | None = Field(default=None, sa_type=sa.Text)
    rev: int = Field(default=1, nullable=False)
    open_blockers: int = Field(default=0, nullable=False)
    unblocks: int = Field(default=0, nullable=False)
    fence: int = Field(default=0, sa_type=sa.BigInteger, nullable=False)
    lease_id: str | None = Field(default=None, max_length=40)
    lease_agent: str | None = Field(default=None, max_length=200)
    lease_expires_at_us: int | None = Field(default=None, sa_type=sa.BigInteger)
    created_by: str = Field(max_length=200, nullable=False)
    created_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    updated_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    completed_at_us: int | None = Field(default=None, sa_type=sa.BigInteger)


class TaskLabelRow(SQLModel, table=True):
    __tablename__ = "task_labels"
    __table_args__ = (sa.Index("ix_task_labels_label", "label", "task_id"),)
    task_id: str = Field(primary_key=True, max_length=40)
    label: str = Field(primary_key=True, max_length=100)


class TaskLinkRow(SQLModel, table=True):
    """A relationship stored once, in its canonical direction (blocks, relates_to, duplicates)."""

    __tablename__ = "task_links"
    __table_args__ = (sa.Index("ix_task_links_dst", "dst_id", "kind"),)
    src_id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(primary_key=True, max_length=20)
    dst_id: str = Field(primary_key=True, max_length=40)
    created_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)


class TaskNoteRow(SQLModel, table=True):
    __tablename__ = "task_notes"
    id: str = Field(primary_key=True, max_length=40)
    task_id: str = Field(max_length=40, nullable=False, index=True)
    kind: str = Field(max_length=20, nullable=False)
    body: str = Field(sa_type=sa.Text, nullable=False)
    author: str = Field(max_length=200, nullable=False)
    created_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    supersedes_id: str | None = Field(default=None, max_length=40)
    superseded_by_id: str | None = Field(default=None, max_length=40)


class TaskStepRow(SQLModel, table=True):
    __tablename__ = "task_steps"
    id: str = Field(primary_key=True, max_length=40)
    task_id: str = Field(max_length=40, nullable=False, index=True)
    position: int = Field(nullable=False)
    title: str = Field(max_length=500, nullable=False)
    status: str = Field(max_length=20, nullable=False)
    updated_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)


class LeaseRow(SQLModel, table=True):
    __tablename__ = "leases"
    __table_args__ = (sa.Index("ix_leases_session", "session_id"),)
    id: str = Field(primary_key=True, max_length=40)
    task_id: str = Field(max_length=40, nullable=False, index=True)
    holder: str = Field(max_length=200, nullable=False)
    session_id: str | None = Field(default=None, max_length=40)
    fencing_token: int = Field(sa_type=sa.BigInteger, nullable=False)
    ttl_s: float = Field(nullable=False)
    acquired_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    expires_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    ended_at_us: int | None = Field(default=None, sa_type=sa.BigInteger)
    end_reason: str | None = Field(default=None, max_length=40)


class RoutineRow(SQLModel, table=True):
    __tablename__ = "routines"
    __table_args__ = (sa.Index("ix_routines_due", "status", "next_fire_at_us"),)
    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200, nullable=False)
    schedule: dict[str, Any] = Field(sa_type=JsonType, nullable=False)
    misfire: dict[str, Any] = Field(sa_type=JsonType, nullable=False)
    overlap: str = Field(max_length=20, nullable=False)
    action: dict[str, Any] = Field(sa_type=JsonType, nullable=False)
    requires_approval: bool = Field(nullable=False)
    external_allowed: bool = Field(nullable=False)
    created_by_type: str = Field(max_length=20, nullable=False)
    created_by_id: str = Field(max_length=200, nullable=False)
    status: str = Field(max_length=20, nullable=False)
    next_fire_at_us: int | None = Field(default=None, sa_type=sa.BigInteger)
    last_fired_at_us: int | None = Field(default=None, sa_type=sa.BigInteger)
    anchor_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    rev: int = Field(default=1, nullable=False)
    created_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    updated_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)


class RoutineRunRow(SQLModel, table=True):
    """One occurrence (or manual run) of a routine. (routine_id, scheduled_for_us,
    occurrence_key) is unique, so two schedulers can never fire one occurrence twice."""

    __tablename__ = "routine_runs"
    __table_args__ = (
        sa.UniqueConstraint("routine_id", "scheduled_for_us", "occurrence_key", name="uq_routine_occurrence"),
        sa.Index("ix_routine_runs_routine", "routine_id", "created_at_us"),
        sa.Index("ix_routine_runs_status", "status"),
    )
    id: str = Field(primary_key=True, max_length=40)
    routine_id: str = Field(max_length=40, nullable=False)
    scheduled_for_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    occurrence_key: str = Field(max_length=60, nullable=False)
    trigger: str = Field(max_length=20, nullable=False)
    status: str = Field(max_length=20, nullable=False)
    approval_id: str | None = Field(default=None, max_length=40)
    mission_id: str | None = Field(default=None, max_length=40)
    started_at_us: int | None = Field(default=None, sa_type=sa.BigInteger)
    finished_at_us: int | None = Field(default=None, sa_type=sa.BigInteger)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType, nullable=False)
    created_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)


class ApprovalRow(SQLModel, table=True):
    __tablename__ = "approvals"
    __table_args__ = (sa.Index("ix_approvals_status", "status", "created_at_us"),)
    id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=40, nullable=False)
    subject: str = Field(max_length=300, nullable=False)
    summary: str = Field(sa_type=sa.Text, nullable=False)
    requester: str = Field(max_length=200, nullable=False)
    status: str = Field(max_length=20, nullable=False)
    decider: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, sa_type=sa.Text)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType, nullable=False)
    created_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    expires_at_us: int | None = Field(default=None, sa_type=sa.BigInteger)
    decided_at_us: int | None = Field(default=None, sa_type=sa.BigInteger)
    rev: int = Field(default=1, nullable=False)


# -- memory (#7) -------------------------------------------------------------------------------
# The full-text index is not described here: it is backend specific (SQLite FTS5 table and
# triggers, a PostgreSQL generated tsvector column) and lives in migration 0005;
# storage/memory.py names those objects (FULLTEXT_OBJECTS).
MemoryRowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class MemoryRow(SQLModel, table=True):
    __tablename__ = "memory_records"
    __table_args__ = (
        sa.Index("ix_memory_partition", "org", "workspace", "project", "tier", "created_at_us"),
        sa.Index("ix_memory_expires", "expires_at_us"),
        sa.Index("ix_memory_source", "source_memory_id"),
    )
    num: int | None = Field(default=None, primary_key=True, sa_type=MemoryRowId)
    id: str = Field(max_length=40, unique=True, nullable=False)
    org: str = Field(max_length=64, nullable=False)
    workspace: str = Field(max_length=64, nullable=False)
    project: str = Field(max_length=64, nullable=False)
    tier: str = Field(max_length=16, nullable=False)
    scope: str = Field(max_length=40, nullable=False)
    kind: str = Field(max_length=20, nullable=False)
    content: str = Field(sa_type=sa.Text, nullable=False)
    tags: list[str] = Field(default_factory=list, sa_type=JsonType, nullable=False)
    tags_text: str = Field(default="", sa_type=sa.Text, nullable=False)
    artifact_refs: list[str] = Field(default_factory=list, sa_type=JsonType, nullable=False)
    classification: str = Field(max_length=20, nullable=False)
    source_memory_id: str | None = Field(default=None, max_length=40)
    promotion_id: str | None = Field(default=None, max_length=40)
    scrub: dict[str, Any] | None = Field(default=None, sa_type=JsonType)
    reviewed_by: str | None = Field(default=None, max_length=200)
    created_by: str = Field(max_length=200, nullable=False)
    created_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    expires_at_us: int | None = Field(default=None, sa_type=sa.BigInteger)
    v: int = Field(default=1, nullable=False)


class MemoryPromotionRow(SQLModel, table=True):
    """A promotion waiting for (or past) its review; holds the already scrubbed copy."""

    __tablename__ = "memory_promotions"
    __table_args__ = (
        sa.Index("ix_memory_promotions_approval", "approval_id"),
        sa.Index("ix_memory_promotions_source", "source_memory_id"),
    )
    id: str = Field(primary_key=True, max_length=40)
    source_memory_id: str = Field(max_length=40, nullable=False)
    org: str = Field(max_length=64, nullable=False)
    workspace: str = Field(max_length=64, nullable=False)
    project: str = Field(max_length=64, nullable=False)
    source_tier: str = Field(max_length=16, nullable=False)
    target_tier: str = Field(max_length=16, nullable=False)
    kind: str = Field(max_length=20, nullable=False)
    content: str = Field(sa_type=sa.Text, nullable=False)
    tags: list[str] = Field(default_factory=list, sa_type=JsonType, nullable=False)
    artifact_refs: list[str] = Field(default_factory=list, sa_type=JsonType, nullable=False)
    classification: str = Field(max_length=20, nullable=False)
    scrub: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType, nullable=False)
    status: str = Field(max_length=20, nullable=False)
    approval_id: str | None = Field(default=None, max_length=40)
    requested_by: str = Field(max_length=200, nullable=False)
    decided_by: str | None = Field(default=None, max_length=200)
    result_memory_id: str | None = Field(default=None, max_length=40)
    created_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    decided_at_us: int | None = Field(default=None, sa_type=sa.BigInteger)
    v: int = Field(default=1, nullable=False)


class MemoryAuditRow(SQLModel, table=True):
    __tablename__ = "memory_audit"
    __table_args__ = (
        sa.Index("ix_memory_audit_partition", "org", "workspace", "project", "id"),
        sa.Index("ix_memory_audit_memory", "memory_id", "id"),
    )
    id: str = Field(primary_key=True, max_length=40)
    action: str = Field(max_length=20, nullable=False)
    actor: str = Field(max_length=200, nullable=False)
    org: str = Field(max_length=64, nullable=False)
    workspace: str = Field(max_length=64, nullable=False)
    project: str = Field(max_length=64, nullable=False)
    tier: str | None = Field(default=None, max_length=16)
    memory_id: str | None = Field(default=None, max_length=40)
    outcome: str = Field(max_length=20, nullable=False)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType, nullable=False)
    at_us: int = Field(sa_type=sa.BigInteger, nullable=False)


# -- web dashboard sessions (#8) ----------------------------------------------------------------
class UiSessionRow(SQLModel, table=True):
    """A one-time login code or a browser session; only hashes of the secrets are kept."""

    __tablename__ = "ui_sessions"
    __table_args__ = (sa.Index("ix_ui_sessions_expires", "expires_at_us"),)
    id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=10, nullable=False)  # code | session
    secret_hash: str = Field(max_length=64, unique=True, nullable=False)
    subject: str = Field(max_length=200, nullable=False)
    principal_kind: str = Field(max_length=20, nullable=False)
    capabilities: list[str] = Field(default_factory=list, sa_type=JsonType, nullable=False)
    code_id: str | None = Field(default=None, max_length=40)  # session: the code it was made from
    created_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    expires_at_us: int = Field(sa_type=sa.BigInteger, nullable=False)
    ended_at_us: int | None = Field(default=None, sa_type=sa.BigInteger)  # code used / session ended
