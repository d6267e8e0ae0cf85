"""Catalogue core: organisations, resources with cached RDF and a bounding-box index.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("uri", sa.String(2000), unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "resources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("uri", sa.String(2000), nullable=False, unique=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("organization_id", sa.Integer, sa.ForeignKey("organizations.id")),
        sa.Column("issued", sa.String(40)),
        sa.Column("modified", sa.String(40)),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("nt", sa.Text, nullable=False),
        sa.Column("ttl", sa.Text, nullable=False),
        sa.Column("min_x", sa.Float),
        sa.Column("min_y", sa.Float),
        sa.Column("max_x", sa.Float),
        sa.Column("max_y", sa.Float),
        sa.Column("geom_wkb", sa.LargeBinary),
        sa.Column("problems", sa.Text, nullable=False, server_default="[]"),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_resources_kind", "resources", ["kind"])
    op.create_index("ix_resources_organization_id", "resources", ["organization_id"])
    op.create_index("ix_resources_modified", "resources", ["modified"])
    op.create_index("ix_resources_deleted", "resources", ["deleted"])
    op.create_index("ix_resources_updated_at", "resources", ["updated_at"])
    op.create_table(
        "catalog_info",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    if dialect == "sqlite":
        # R*Tree over the bounding boxes, kept in step by triggers (no SpatiaLite here).
        op.execute(
            "CREATE VIRTUAL TABLE resources_bbox USING rtree(id, min_x, max_x, min_y, max_y)"
        )
        op.execute(
            "CREATE TRIGGER resources_bbox_insert AFTER INSERT ON resources "
            "WHEN NEW.min_x IS NOT NULL BEGIN "
            "INSERT INTO resources_bbox VALUES "
            "(NEW.id, NEW.min_x, NEW.max_x, NEW.min_y, NEW.max_y); END"
        )
        op.execute(
            "CREATE TRIGGER resources_bbox_update AFTER UPDATE OF min_x, min_y, max_x, max_y "
            "ON resources BEGIN DELETE FROM resources_bbox WHERE id = OLD.id; "
            "INSERT INTO resources_bbox SELECT NEW.id, NEW.min_x, NEW.max_x, NEW.min_y, NEW.max_y "
            "WHERE NEW.min_x IS NOT NULL; END"
        )
        op.execute(
            "CREATE TRIGGER resources_bbox_delete AFTER DELETE ON resources "
            "BEGIN DELETE FROM resources_bbox WHERE id = OLD.id; END"
        )
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        op.execute(
            "ALTER TABLE resources ADD COLUMN geom geometry(Geometry, 4326) "
            "GENERATED ALWAYS AS (ST_GeomFromWKB(geom_wkb, 4326)) STORED"
        )
        op.execute("CREATE INDEX ix_resources_geom ON resources USING gist (geom)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS resources_bbox")
    op.drop_table("catalog_info")
    op.drop_table("resources")
    op.drop_table("organizations")
