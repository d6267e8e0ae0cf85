"""The SQL tables of the catalogue (SQLAlchemy 2). Changes go through an Alembic migration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Organization(Base):
    """A publisher (foaf:Agent); every Fachamt is one. Keyed by its IRI, else its name."""

    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    uri: Mapped[str | None] = mapped_column(String(2000), unique=True)
    title: Mapped[str] = mapped_column(Text)
    record: Mapped[str] = mapped_column(Text)  # model.Agent as JSON
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ResourceRow(Base):
    """A dataset, dataset series or data service with its record and cached RDF."""

    __tablename__ = "resources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    uri: Mapped[str] = mapped_column(String(2000), unique=True)
    kind: Mapped[str] = mapped_column(String(10), index=True)
    title: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    issued: Mapped[str | None] = mapped_column(String(40))
    modified: Mapped[str | None] = mapped_column(String(40), index=True)
    record: Mapped[str] = mapped_column(Text)  # model.Resource as JSON
    nt: Mapped[str] = mapped_column(Text)  # N-Triples of the record
    ttl: Mapped[str] = mapped_column(Text)  # Turtle fragment (no prefixes)
    rdfxml: Mapped[str] = mapped_column(Text, default="")  # rdf:Description elements
    jsonld: Mapped[str] = mapped_column(Text, default="")  # expanded JSON-LD node objects
    min_x: Mapped[float | None] = mapped_column(Float)
    min_y: Mapped[float | None] = mapped_column(Float)
    max_x: Mapped[float | None] = mapped_column(Float)
    max_y: Mapped[float | None] = mapped_column(Float)
    geom_wkb: Mapped[bytes | None] = mapped_column(LargeBinary)  # CRS84; PostGIS mirrors it as geom
    temporal_start: Mapped[str | None] = mapped_column(String(40))
    temporal_end: Mapped[str | None] = mapped_column(String(40))
    # what search reads: every language's title, keywords, and the rest of the text
    search_title: Mapped[str] = mapped_column(Text, default="")
    search_keywords: Mapped[str] = mapped_column(Text, default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[str] = mapped_column(Text, default="[]")  # mandatory rules it misses (imports)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    organization: Mapped[Organization | None] = relationship(lazy="joined")


class ResourceFacet(Base):
    """One facet value of a resource (organization, groups, tags, res_format, license_id, …)."""

    __tablename__ = "resource_facets"
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    facet: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(500), primary_key=True)


class CatalogInfo(Base):
    """The catalogue's own description (one row)."""

    __tablename__ = "catalog_info"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DataCollection(Base):
    """One table of the data store: a distribution (or one layer of it) loaded as features or
    rows. ``table_name`` is the table being served; a failed load leaves it as it was and keeps
    the error for the Datenkontaktperson."""

    __tablename__ = "data_collections"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # the OGC collection id
    dataset_uri: Mapped[str | None] = mapped_column(String(2000), index=True)
    distribution_uri: Mapped[str | None] = mapped_column(String(2000))
    source: Mapped[str] = mapped_column(Text)  # URL or file the data came from
    layer: Mapped[str | None] = mapped_column(String(200))
    format: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(10))  # features | table
    table_name: Mapped[str | None] = mapped_column(String(63))
    columns: Mapped[str] = mapped_column(Text, default="[]")  # [{name, type, sql}]
    geometry_type: Mapped[str | None] = mapped_column(String(40))
    source_crs: Mapped[str | None] = mapped_column(String(100))
    feature_count: Mapped[int] = mapped_column(Integer, default=0)
    integer_ids: Mapped[bool] = mapped_column(Boolean, default=False)  # ids output as numbers
    min_x: Mapped[float | None] = mapped_column(Float)
    min_y: Mapped[float | None] = mapped_column(Float)
    max_x: Mapped[float | None] = mapped_column(Float)
    max_y: Mapped[float | None] = mapped_column(Float)
    time_column: Mapped[str | None] = mapped_column(String(200))
    time_min: Mapped[str | None] = mapped_column(String(40))
    time_max: Mapped[str | None] = mapped_column(String(40))
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    report: Mapped[str] = mapped_column(Text, default="{}")  # validation report (JSON)
    error: Mapped[str | None] = mapped_column(Text)  # last failed load (JSON), None after success
    error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    loaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class HarvestJob(Base):
    """One run of a harvest source: when, how it ended, what it changed, what went wrong."""

    __tablename__ = "harvest_jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20))  # running | succeeded | partial | failed
    trigger: Mapped[str] = mapped_column(String(20), default="cli")  # cli | schedule | api
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    counts: Mapped[str] = mapped_column(Text, default="{}")  # new, changed, unchanged, ...
    errors: Mapped[str] = mapped_column(Text, default="[]")  # per-record errors
    error: Mapped[str | None] = mapped_column(Text)  # why the run failed (JSON)
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))


class HarvestLock(Base):
    """At most one running job per source, across processes: the row is the lock."""

    __tablename__ = "harvest_locks"
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    job_id: Mapped[int] = mapped_column(Integer)
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HarvestRecord(Base):
    """One record of one source: its key there, the catalogue resource it feeds, the hash of
    its content (what makes a re-run cheap) and its mapped record (so that, when the winning
    source of a shared dct:identifier withdraws it, the next one can take over)."""

    __tablename__ = "harvest_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(1000))
    resource_uri: Mapped[str] = mapped_column(String(2000), index=True)
    identifier: Mapped[str | None] = mapped_column(String(2000), index=True)
    content_hash: Mapped[str] = mapped_column(String(80))
    source_modified: Mapped[str | None] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    origin: Mapped[str] = mapped_column(Text)
    record: Mapped[str] = mapped_column(Text)  # the mapped record (JSON), before provenance
    report: Mapped[str] = mapped_column(Text, default="{}")  # e.g. the frictionless report
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False: withdrawn
    first_harvested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    harvested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # content changed
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HarvestMemory(Base):
    """What a source type remembers between complete runs (page hashes and their ids)."""

    __tablename__ = "harvest_memory"
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- sensor data (OGC SensorThings API 1.1 data model) -------------------------------------
# Times are integers, milliseconds since 1970 UTC: the same on both backends, cheap to compare,
# and what a BRIN index on PostgreSQL summarises best.

ObservationId = BigInteger().with_variant(Integer, "sqlite")  # SQLite: rowid alias


class SensorThing(Base):
    """A station (STA Thing) with its current location; one catalogue dataset each."""

    __tablename__ = "sensor_things"
    __table_args__ = (UniqueConstraint("source", "source_key", name="uq_sensor_things_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    source_key: Mapped[str] = mapped_column(String(1000))  # the Thing's key at the source
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    location_name: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)  # GeoJSON geometry (CRS84)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    organization: Mapped[str | None] = mapped_column(String(100))
    dataset_uri: Mapped[str | None] = mapped_column(String(2000))
    catalogued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SensorSensor(Base):
    """The instrument or procedure (STA Sensor)."""

    __tablename__ = "sensor_sensors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(500), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    encoding_type: Mapped[str] = mapped_column(String(200), default="text/plain")
    metadata_: Mapped[str] = mapped_column("metadata", Text, default="")


class SensorObservedProperty(Base):
    """What is measured (STA ObservedProperty), keyed by its definition IRI."""

    __tablename__ = "sensor_observed_properties"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    definition: Mapped[str] = mapped_column(String(2000), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")


class SensorDatastream(Base):
    """One time series of one Thing; keeps its extent, count and newest value up to date."""

    __tablename__ = "sensor_datastreams"
    __table_args__ = (UniqueConstraint("thing_id", "source_key", name="uq_sensor_datastreams_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thing_id: Mapped[int] = mapped_column(ForeignKey("sensor_things.id"), index=True)
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensor_sensors.id"))
    observed_property_id: Mapped[int] = mapped_column(ForeignKey("sensor_observed_properties.id"))
    source_key: Mapped[str] = mapped_column(String(1000))
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    observation_type: Mapped[str] = mapped_column(String(200))
    unit_name: Mapped[str] = mapped_column(String(200), default="")
    unit_symbol: Mapped[str] = mapped_column(String(50), default="")
    unit_definition: Mapped[str] = mapped_column(String(2000), default="")
    properties: Mapped[str] = mapped_column(Text, default="{}")
    first_time: Mapped[int | None] = mapped_column(BigInteger)
    last_time: Mapped[int | None] = mapped_column(BigInteger)
    last_end: Mapped[int | None] = mapped_column(BigInteger)
    last_result: Mapped[float | None] = mapped_column(Float)
    observation_count: Mapped[int] = mapped_column(BigInteger, default=0)
    # raw readings before this were removed by retention; older input cannot be checked
    pruned_before: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SensorObservation(Base):
    """One reading. (datastream_id, phenomenon_start) is unique: a reading delivered twice
    (MQTT redelivery, an overlapping harvest) is stored once."""

    __tablename__ = "sensor_observations"
    __table_args__ = (
        UniqueConstraint("datastream_id", "phenomenon_start", name="uq_sensor_observations_time"),
    )
    id: Mapped[int] = mapped_column(ObservationId, primary_key=True, autoincrement=True)
    datastream_id: Mapped[int] = mapped_column(Integer)
    phenomenon_start: Mapped[int] = mapped_column(BigInteger)
    phenomenon_end: Mapped[int | None] = mapped_column(BigInteger)  # intervals (hourly means)
    result_time: Mapped[int | None] = mapped_column(BigInteger)
    result: Mapped[float | None] = mapped_column(Float)
    result_text: Mapped[str | None] = mapped_column(Text)  # non-measurement datastreams


class SensorAggregate(Base):
    """Hourly (UTC hours) and daily (local days) min, max, mean and count, kept for ever."""

    __tablename__ = "sensor_aggregates"
    datastream_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resolution: Mapped[str] = mapped_column(String(5), primary_key=True)  # hour | day
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # start, ms UTC
    bucket_end: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)
    minimum: Mapped[float] = mapped_column(Float)
    maximum: Mapped[float] = mapped_column(Float)


class SensorIssue(Base):
    """Input that was rejected or normalised, with the reason: nothing is dropped silently."""

    __tablename__ = "sensor_issues"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    datastream_id: Mapped[int | None] = mapped_column(Integer)
    where: Mapped[str] = mapped_column(Text)  # topic, file and line, URL
    action: Mapped[str] = mapped_column(String(20))  # rejected | normalised | duplicate
    code: Mapped[str] = mapped_column(String(40))
    reason_de: Mapped[str] = mapped_column(Text)
    reason_en: Mapped[str] = mapped_column(Text)
    value: Mapped[str] = mapped_column(Text, default="")  # the offending input, shortened
    count: Mapped[int] = mapped_column(Integer, default=1)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
