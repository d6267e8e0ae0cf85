"""Drop the index on resources.deleted: almost every row is not deleted, and SQLite's planner
chose it over the unique indexes for lookups.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_resources_deleted", "resources")


def downgrade() -> None:
    op.create_index("ix_resources_deleted", "resources", ["deleted"])
