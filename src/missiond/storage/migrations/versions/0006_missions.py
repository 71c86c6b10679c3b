"""Missions and their command outbox.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BIG = sa.BigInteger()


def upgrade() -> None:
    op.create_table(
        "missions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("state", JSON, nullable=False),
        sa.Column("applied_seq", BIG, nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.Column("updated_at_us", BIG, nullable=False),
    )
    op.create_index("ix_missions_status", "missions", ["status", "id"])
    op.create_table(
        "mission_commands",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("mission_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("not_before_us", BIG, nullable=False),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.Column("updated_at_us", BIG, nullable=False),
        sa.Column("result", JSON, nullable=False),
    )
    op.create_index("ix_mission_commands_due", "mission_commands", ["status", "not_before_us"])
    op.create_index("ix_mission_commands_mission", "mission_commands", ["mission_id", "status"])


def downgrade() -> None:
    op.drop_table("mission_commands")
    op.drop_table("missions")
