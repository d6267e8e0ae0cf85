"""Harvesting: jobs, the per-source lock, the records of every source and what a source type
remembers between runs.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "harvest_jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False, server_default="cli"),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("ended_at", TZ),
        sa.Column("counts", sa.Text, nullable=False, server_default="{}"),
        sa.Column("errors", sa.Text, nullable=False, server_default="[]"),
        sa.Column("error", sa.Text),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
    )
    op.create_index("ix_harvest_jobs_source", "harvest_jobs", ["source"])
    op.create_table(
        "harvest_locks",
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("job_id", sa.Integer, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("heartbeat_at", TZ, nullable=False),
    )
    op.create_table(
        "harvest_records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("source_id", sa.String(1000), nullable=False),
        sa.Column("resource_uri", sa.String(2000), nullable=False),
        sa.Column("identifier", sa.String(2000)),
        sa.Column("content_hash", sa.String(80), nullable=False),
        sa.Column("source_modified", sa.String(40)),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("report", sa.Text, nullable=False, server_default="{}"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("first_harvested_at", TZ, nullable=False),
        sa.Column("harvested_at", TZ, nullable=False),
        sa.Column("withdrawn_at", TZ),
        sa.UniqueConstraint("source", "source_id", name="uq_harvest_records_source_id"),
    )
    op.create_index("ix_harvest_records_resource_uri", "harvest_records", ["resource_uri"])
    op.create_index("ix_harvest_records_identifier", "harvest_records", ["identifier"])
    op.create_table(
        "harvest_memory",
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False, server_default="{}"),
        sa.Column("updated_at", TZ, nullable=False),
    )


def downgrade() -> None:
    for table in ("harvest_memory", "harvest_records", "harvest_locks", "harvest_jobs"):
        op.drop_table(table)
