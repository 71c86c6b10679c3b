"""Governed memory: records with a full-text index, pending promotions, and the audit trail.

The full-text index is backend specific and kept in step with the records inside
the writing transaction: on SQLite an external-content FTS5 table fed by triggers
(rowid = `memory_records.num`, an INTEGER PRIMARY KEY so VACUUM cannot renumber
it); on PostgreSQL a stored generated tsvector column with a GIN index.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BIG = sa.BigInteger()
ROWID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_SQLITE_FTS = [
    """CREATE VIRTUAL TABLE memory_fts USING fts5(
        scope, tags_text, content,
        content='memory_records', content_rowid='num',
        tokenize='porter unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER memory_fts_ai AFTER INSERT ON memory_records BEGIN
        INSERT INTO memory_fts(rowid, scope, tags_text, content)
        VALUES (new.num, new.scope, new.tags_text, new.content);
    END""",
    """CREATE TRIGGER memory_fts_ad AFTER DELETE ON memory_records BEGIN
        INSERT INTO memory_fts(memory_fts, rowid, scope, tags_text, content)
        VALUES ('delete', old.num, old.scope, old.tags_text, old.content);
    END""",
    """CREATE TRIGGER memory_fts_au AFTER UPDATE ON memory_records BEGIN
        INSERT INTO memory_fts(memory_fts, rowid, scope, tags_text, content)
        VALUES ('delete', old.num, old.scope, old.tags_text, old.content);
        INSERT INTO memory_fts(rowid, scope, tags_text, content)
        VALUES (new.num, new.scope, new.tags_text, new.content);
    END""",
]

_PG_FTS = [
    """ALTER TABLE memory_records ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(tags_text, '')), 'A')
        || setweight(to_tsvector('english', content), 'B')
    ) STORED""",
    "CREATE INDEX ix_memory_search ON memory_records USING gin (search_vector)",
]


def upgrade() -> None:
    op.create_table(
        "memory_records",
        sa.Column("num", ROWID, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("tags_text", sa.Text(), nullable=False),
        sa.Column("artifact_refs", JSON, nullable=False),
        sa.Column("classification", sa.String(20), nullable=False),
        sa.Column("source_memory_id", sa.String(40), nullable=True),
        sa.Column("promotion_id", sa.String(40), nullable=True),
        sa.Column("scrub", JSON, nullable=True),
        sa.Column("reviewed_by", sa.String(200), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.Column("expires_at_us", BIG, nullable=True),
        sa.Column("v", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_memory_partition", "memory_records", ["org", "workspace", "project", "tier", "created_at_us"]
    )
    op.create_index("ix_memory_expires", "memory_records", ["expires_at_us"])
    op.create_index("ix_memory_source", "memory_records", ["source_memory_id"])
    op.create_table(
        "memory_promotions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("source_memory_id", sa.String(40), nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("source_tier", sa.String(16), nullable=False),
        sa.Column("target_tier", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("artifact_refs", JSON, nullable=False),
        sa.Column("classification", sa.String(20), nullable=False),
        sa.Column("scrub", JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("approval_id", sa.String(40), nullable=True),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("result_memory_id", sa.String(40), nullable=True),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.Column("decided_at_us", BIG, nullable=True),
        sa.Column("v", sa.Integer(), nullable=False),
    )
    op.create_index("ix_memory_promotions_approval", "memory_promotions", ["approval_id"])
    op.create_index("ix_memory_promotions_source", "memory_promotions", ["source_memory_id"])
    op.create_table(
        "memory_audit",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(16), nullable=True),
        sa.Column("memory_id", sa.String(40), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("at_us", BIG, nullable=False),
    )
    op.create_index("ix_memory_audit_partition", "memory_audit", ["org", "workspace", "project", "id"])
    op.create_index("ix_memory_audit_memory", "memory_audit", ["memory_id", "id"])
    statements = _SQLITE_FTS if op.get_bind().dialect.name == "sqlite" else _PG_FTS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("memory_fts_ai", "memory_fts_ad", "memory_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS memory_fts")
    for name in ("memory_audit", "memory_promotions", "memory_records"):
        op.drop_table(name)
