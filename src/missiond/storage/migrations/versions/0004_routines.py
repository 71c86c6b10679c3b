"""Routines, their runs, and the approval queue.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BIG = sa.BigInteger()


def upgrade() -> None:
    op.create_table(
        "routines",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("schedule", JSON, nullable=False),
        sa.Column("misfire", JSON, nullable=False),
        sa.Column("overlap", sa.String(20), nullable=False),
        sa.Column("action", JSON, nullable=False),
        sa.Column("requires_approval", sa.Boolean(), nullable=False),
        sa.Column("external_allowed", sa.Boolean(), nullable=False),
        sa.Column("created_by_type", sa.String(20), nullable=False),
        sa.Column("created_by_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("next_fire_at_us", BIG, nullable=True),
        sa.Column("last_fired_at_us", BIG, nullable=True),
        sa.Column("anchor_us", BIG, nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.Column("updated_at_us", BIG, nullable=False),
    )
    op.create_index("ix_routines_due", "routines", ["status", "next_fire_at_us"])
    op.create_table(
        "routine_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("routine_id", sa.String(40), nullable=False),
        sa.Column("scheduled_for_us", BIG, nullable=False),
        sa.Column("occurrence_key", sa.String(60), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("approval_id", sa.String(40), nullable=True),
        sa.Column("mission_id", sa.String(40), nullable=True),
        sa.Column("started_at_us", BIG, nullable=True),
        sa.Column("finished_at_us", BIG, nullable=True),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.UniqueConstraint("routine_id", "scheduled_for_us", "occurrence_key", name="uq_routine_occurrence"),
    )
    op.create_index("ix_routine_runs_routine", "routine_runs", ["routine_id", "created_at_us"])
    op.create_index("ix_routine_runs_status", "routine_runs", ["status"])
    op.create_table(
        "approvals",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("requester", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decider", sa.String(200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.Column("expires_at_us", BIG, nullable=True),
        sa.Column("decided_at_us", BIG, nullable=True),
        sa.Column("rev", sa.Integer(), nullable=False),
    )
    op.create_index("ix_approvals_status", "approvals", ["status", "created_at_us"])


def downgrade() -> None:
    for name in ("approvals", "routine_runs", "routines"):
        op.drop_table(name)
