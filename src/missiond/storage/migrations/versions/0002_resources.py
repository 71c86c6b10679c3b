"""Shared resources and reactor cursors.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
KEY = sa.String(512).with_variant(sa.String(512, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("key", KEY, primary_key=True),
        sa.Column("value", JSON, nullable=True),
        sa.Column("create_rev", sa.BigInteger(), nullable=False),
        sa.Column("mod_rev", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at_us", sa.BigInteger(), nullable=False),
        sa.Column("expires_at_us", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_resources_expires", "resources", ["expires_at_us"])
    op.create_table(
        "reactor_cursors",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_us", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reactor_cursors")
    op.drop_table("resources")
