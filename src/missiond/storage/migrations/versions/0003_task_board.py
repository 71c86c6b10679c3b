"""Task board: agents, sessions, tasks, labels, links, notes, steps, leases.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BIG = sa.BigInteger()


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("roles", JSON, nullable=False),
        sa.Column("capabilities", JSON, nullable=False),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "agent_sessions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("agent_id", sa.String(40), nullable=False),
        sa.Column("ttl_s", sa.Float(), nullable=False),
        sa.Column("started_at_us", BIG, nullable=False),
        sa.Column("expires_at_us", BIG, nullable=False),
        sa.Column("ended_at_us", BIG, nullable=True),
        sa.Column("end_reason", sa.String(40), nullable=True),
    )
    op.create_index("ix_agent_sessions_agent_id", "agent_sessions", ["agent_id"])
    op.create_index("ix_agent_sessions_live", "agent_sessions", ["ended_at_us", "expires_at_us"])
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("intent", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("role", sa.String(100), nullable=True),
        sa.Column("parent_id", sa.String(40), nullable=True),
        sa.Column("mission_id", sa.String(40), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column("open_blockers", sa.Integer(), nullable=False),
        sa.Column("unblocks", sa.Integer(), nullable=False),
        sa.Column("fence", BIG, nullable=False),
        sa.Column("lease_id", sa.String(40), nullable=True),
        sa.Column("lease_agent", sa.String(200), nullable=True),
        sa.Column("lease_expires_at_us", BIG, nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.Column("updated_at_us", BIG, nullable=False),
        sa.Column("completed_at_us", BIG, nullable=True),
    )
    op.create_index("ix_tasks_ready", "tasks", ["status", "open_blockers", "priority", "created_at_us"])
    op.create_index("ix_tasks_lease_expiry", "tasks", ["lease_expires_at_us"])
    op.create_index("ix_tasks_parent", "tasks", ["parent_id"])
    op.create_index("ix_tasks_mission", "tasks", ["mission_id"])
    op.create_table(
        "task_labels",
        sa.Column("task_id", sa.String(40), primary_key=True),
        sa.Column("label", sa.String(100), primary_key=True),
    )
    op.create_index("ix_task_labels_label", "task_labels", ["label", "task_id"])
    op.create_table(
        "task_links",
        sa.Column("src_id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("dst_id", sa.String(40), primary_key=True),
        sa.Column("created_at_us", BIG, nullable=False),
    )
    op.create_index("ix_task_links_dst", "task_links", ["dst_id", "kind"])
    op.create_table(
        "task_notes",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("task_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.Column("supersedes_id", sa.String(40), nullable=True),
        sa.Column("superseded_by_id", sa.String(40), nullable=True),
    )
    op.create_index("ix_task_notes_task_id", "task_notes", ["task_id"])
    op.create_table(
        "task_steps",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("task_id", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("updated_at_us", BIG, nullable=False),
    )
    op.create_index("ix_task_steps_task_id", "task_steps", ["task_id"])
    op.create_table(
        "leases",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("task_id", sa.String(40), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("session_id", sa.String(40), nullable=True),
        sa.Column("fencing_token", BIG, nullable=False),
        sa.Column("ttl_s", sa.Float(), nullable=False),
        sa.Column("acquired_at_us", BIG, nullable=False),
        sa.Column("expires_at_us", BIG, nullable=False),
        sa.Column("ended_at_us", BIG, nullable=True),
        sa.Column("end_reason", sa.String(40), nullable=True),
    )
    op.create_index("ix_leases_task_id", "leases", ["task_id"])
    op.create_index("ix_leases_session", "leases", ["session_id"])


def downgrade() -> None:
    for name in (
        "leases",
        "task_steps",
        "task_notes",
        "task_links",
        "task_labels",
        "tasks",
        "agent_sessions",
        "agents",
    ):
        op.drop_table(name)
