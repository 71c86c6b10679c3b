"""Web dashboard: one-time login codes and browser sessions (hashes only).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BIG = sa.BigInteger()


def upgrade() -> None:
    op.create_table(
        "ui_sessions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("principal_kind", sa.String(20), nullable=False),
        sa.Column("capabilities", JSON, nullable=False),
        sa.Column("code_id", sa.String(40), nullable=True),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.Column("expires_at_us", BIG, nullable=False),
        sa.Column("ended_at_us", BIG, nullable=True),
    )
    op.create_index("ix_ui_sessions_expires", "ui_sessions", ["expires_at_us"])


def downgrade() -> None:
    op.drop_index("ix_ui_sessions_expires", table_name="ui_sessions")
    op.drop_table("ui_sessions")
