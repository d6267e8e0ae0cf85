"""Sensor data in the SensorThings API 1.1 model: Things, Sensors, ObservedProperties,
Datastreams, Observations, hourly and daily aggregates, and the record of rejected input.

On PostgreSQL, observations get a BRIN index on time (tiny, and good for time ranges over
hundreds of millions of rows appended roughly in time order) next to the unique btree on
(datastream, time) that answers one datastream's range queries.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
OBSERVATION_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "sensor_things",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("source_key", sa.String(1000), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("properties", sa.Text, nullable=False, server_default="{}"),
        sa.Column("location_name", sa.Text),
        sa.Column("location", sa.Text),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("organization", sa.String(100)),
        sa.Column("dataset_uri", sa.String(2000)),
        sa.Column("catalogued_at", TZ),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.UniqueConstraint("source", "source_key", name="uq_sensor_things_key"),
    )
    op.create_table(
        "sensor_sensors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(500), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("encoding_type", sa.String(200), nullable=False, server_default="text/plain"),
        sa.Column("metadata", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "sensor_observed_properties",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("definition", sa.String(2000), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "sensor_datastreams",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("thing_id", sa.Integer, sa.ForeignKey("sensor_things.id"), nullable=False),
        sa.Column("sensor_id", sa.Integer, sa.ForeignKey("sensor_sensors.id"), nullable=False),
        sa.Column(
            "observed_property_id",
            sa.Integer,
            sa.ForeignKey("sensor_observed_properties.id"),
            nullable=False,
        ),
        sa.Column("source_key", sa.String(1000), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("observation_type", sa.String(200), nullable=False),
        sa.Column("unit_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("unit_symbol", sa.String(50), nullable=False, server_default=""),
        sa.Column("unit_definition", sa.String(2000), nullable=False, server_default=""),
        sa.Column("properties", sa.Text, nullable=False, server_default="{}"),
        sa.Column("first_time", sa.BigInteger),
        sa.Column("last_time", sa.BigInteger),
        sa.Column("last_end", sa.BigInteger),
        sa.Column("last_result", sa.Float),
        sa.Column("observation_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("pruned_before", sa.BigInteger),
        sa.Column("updated_at", TZ, nullable=False),
        sa.UniqueConstraint("thing_id", "source_key", name="uq_sensor_datastreams_key"),
    )
    op.create_index("ix_sensor_datastreams_thing_id", "sensor_datastreams", ["thing_id"])
    op.create_table(
        "sensor_observations",
        sa.Column("id", OBSERVATION_ID, primary_key=True, autoincrement=True),
        sa.Column("datastream_id", sa.Integer, nullable=False),
        sa.Column("phenomenon_start", sa.BigInteger, nullable=False),
        sa.Column("phenomenon_end", sa.BigInteger),
        sa.Column("result_time", sa.BigInteger),
        sa.Column("result", sa.Float),
        sa.Column("result_text", sa.Text),
        sa.UniqueConstraint(
            "datastream_id", "phenomenon_start", name="uq_sensor_observations_time"
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_sensor_observations_time_brin ON sensor_observations "
            "USING brin (phenomenon_start)"
        )
    op.create_table(
        "sensor_aggregates",
        sa.Column("datastream_id", sa.Integer, primary_key=True),
        sa.Column("resolution", sa.String(5), primary_key=True),
        sa.Column("bucket", sa.BigInteger, primary_key=True),
        sa.Column("bucket_end", sa.BigInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("minimum", sa.Float, nullable=False),
        sa.Column("maximum", sa.Float, nullable=False),
    )
    op.create_table(
        "sensor_issues",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("datastream_id", sa.Integer),
        sa.Column("where", sa.Text, nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("reason_de", sa.Text, nullable=False),
        sa.Column("reason_en", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False, server_default=""),
        sa.Column("count", sa.Integer, nullable=False, server_default="1"),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_sensor_issues_source", "sensor_issues", ["source"])
    op.create_index("ix_sensor_issues_at", "sensor_issues", ["at"])


def downgrade() -> None:
    for table in (
        "sensor_issues",
        "sensor_aggregates",
        "sensor_observations",
        "sensor_datastreams",
        "sensor_observed_properties",
        "sensor_sensors",
        "sensor_things",
    ):
        op.drop_table(table)
