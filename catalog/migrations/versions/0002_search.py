"""Search: text columns, facet values, temporal coverage; FTS5 (SQLite) or tsvector (PostgreSQL).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("resources") as batch:
        batch.add_column(sa.Column("temporal_start", sa.String(40)))
        batch.add_column(sa.Column("temporal_end", sa.String(40)))
        batch.add_column(sa.Column("search_title", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("search_keywords", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("search_text", sa.Text, nullable=False, server_default=""))
    op.create_index("ix_resources_title", "resources", ["title"])
    op.create_index("ix_resources_temporal", "resources", ["temporal_start", "temporal_end"])
    op.create_table(
        "resource_facets",
        sa.Column(
            "resource_id",
            sa.Integer,
            sa.ForeignKey("resources.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("facet", sa.String(40), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("facet", "value", "resource_id"),
    )
    op.create_index("ix_resource_facets_resource", "resource_facets", ["resource_id"])
    if dialect == "sqlite":
        # Stems written by catalog.text (FTS5 has no German stemmer); rowid = resources.id.
        op.execute(
            "CREATE VIRTUAL TABLE resources_fts USING fts5("
            "title, keywords, body, tokenize = 'unicode61 remove_diacritics 0')"
        )
        op.execute(
            "CREATE TRIGGER resources_fts_delete AFTER DELETE ON resources "
            "BEGIN DELETE FROM resources_fts WHERE rowid = OLD.id; END"
        )
    elif dialect == "postgresql":
        op.execute(
            "ALTER TABLE resources ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('german'::regconfig, search_title), 'A') || "
            "setweight(to_tsvector('german'::regconfig, search_keywords), 'B') || "
            "setweight(to_tsvector('german'::regconfig, search_text), 'C')) STORED"
        )
        op.execute("CREATE INDEX ix_resources_search ON resources USING gin (search_vector)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS resources_fts")
    else:
        op.execute("ALTER TABLE resources DROP COLUMN IF EXISTS search_vector")
    op.drop_table("resource_facets")
    op.drop_index("ix_resources_temporal", "resources")
    op.drop_index("ix_resources_title", "resources")
    with op.batch_alter_table("resources") as batch:
        for column in (
            "search_text",
            "search_keywords",
            "search_title",
            "temporal_end",
            "temporal_start",
        ):
            batch.drop_column(column)
