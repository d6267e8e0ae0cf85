"""Users, API tokens (only their SHA-256 is stored) and organisation memberships.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("email", sa.String(254)),
        sa.Column("fullname", sa.Text),
        sa.Column("sysadmin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("password_hash", sa.String(300)),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("state", sa.String(10), nullable=False, server_default="active"),
        sa.CheckConstraint("state IN ('active', 'deleted')", name="ck_users_state"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "user_id",
            sa.String(36),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_used_at", TZ),
        sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "memberships",
        sa.Column(
            "user_id",
            sa.String(36),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "organization_id",
            sa.Integer,
            sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("capacity", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "organization_id"),
        sa.CheckConstraint(
            "capacity IN ('admin', 'editor', 'member')", name="ck_memberships_capacity"
        ),
    )
    op.create_index("ix_memberships_organization_id", "memberships", ["organization_id"])


def downgrade() -> None:
    op.drop_table("memberships")
    op.drop_table("api_tokens")
    op.drop_table("users")
