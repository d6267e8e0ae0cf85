"""The data store's registry: one row per loaded collection (the data itself lives in one table
per collection version, created by catalog.data_store, not by migrations).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "data_collections",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("dataset_uri", sa.String(2000)),
        sa.Column("distribution_uri", sa.String(2000)),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("layer", sa.String(200)),
        sa.Column("format", sa.String(40)),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("table_name", sa.String(63)),
        sa.Column("columns", sa.Text, nullable=False, server_default="[]"),
        sa.Column("geometry_type", sa.String(40)),
        sa.Column("source_crs", sa.String(100)),
        sa.Column("feature_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("integer_ids", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("min_x", sa.Float),
        sa.Column("min_y", sa.Float),
        sa.Column("max_x", sa.Float),
        sa.Column("max_y", sa.Float),
        sa.Column("time_column", sa.String(200)),
        sa.Column("time_min", sa.String(40)),
        sa.Column("time_max", sa.String(40)),
        sa.Column("content_sha256", sa.String(64)),
        sa.Column("report", sa.Text, nullable=False, server_default="{}"),
        sa.Column("error", sa.Text),
        sa.Column("error_at", TZ),
        sa.Column("loaded_at", TZ),
        sa.Column("updated_at", TZ, nullable=False),
        sa.CheckConstraint("kind IN ('features', 'table')", name="ck_data_collections_kind"),
    )
    op.create_index("ix_data_collections_dataset_uri", "data_collections", ["dataset_uri"])
    op.create_index("ix_data_collections_updated_at", "data_collections", ["updated_at"])


def downgrade() -> None:
    op.drop_table("data_collections")
