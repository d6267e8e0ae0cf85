"""The SQL shape of one data-store table, for SQLite and PostgreSQL + PostGIS.

Every loaded collection version is one table: ``fid`` (row order), ``id`` (the feature id users
see), the geometry (GeoJSON text plus an R*Tree of bounding boxes on SQLite; a PostGIS
``geometry(Geometry, 4326)`` with a GiST index on PostgreSQL) and one column per property,
named ``c0``, ``c1``, … so that any source name (spaces, umlauts, 200 characters) is safe; the
registry maps them back to the source names.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    func,
)
from sqlalchemy.types import UserDefinedType

SQL_TYPES = {
    "integer": BigInteger,
    "number": Float,
    "string": Text,
    "boolean": Boolean,
    "date": Date,
    "datetime": DateTime(timezone=True),
}


class PostGISGeometry(UserDefinedType):  # type: ignore[type-arg]
    """``geometry(Geometry, 4326)``; written as EWKB hex, read as GeoJSON text."""

    cache_ok = True

    def get_col_spec(self, **_kw: object) -> str:
        return "geometry(Geometry, 4326)"

    def bind_expression(self, bindvalue):  # type: ignore[no-untyped-def]
        return func.ST_GeomFromEWKB(func.decode(bindvalue, "hex"))

    def column_expression(self, col):  # type: ignore[no-untyped-def]
        # 15 decimals: the stored double survives the trip (the default of 9 rounds to 1e-9)
        return func.ST_AsGeoJSON(col, 15)


@dataclass(frozen=True)
class StoredColumn:
    """A property column: its source name, its type and its SQL name."""

    name: str
    type: str
    sql: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type, "sql": self.sql}


def data_table(name: str, columns: list[StoredColumn], dialect: str, *, geometry: bool) -> Table:
    """The SQLAlchemy table of one collection version (not bound to any metadata of the app)."""
    cols: list[Column] = [  # type: ignore[type-arg]
        Column("fid", Integer, primary_key=True, autoincrement=False),
        Column("id", Text, nullable=False),
    ]
    if geometry:
        if dialect == "postgresql":
            cols.append(Column("geom", PostGISGeometry()))
        else:
            cols.append(Column("geom", Text))  # GeoJSON geometry
    for c in columns:
        sql_type = SQL_TYPES[c.type]
        if dialect == "sqlite" and c.type in ("date", "datetime"):
            sql_type = Text  # ISO 8601 text compares in time order
        cols.append(Column(c.sql, sql_type))
    return Table(name, MetaData(), *cols)


def rtree_name(table: str) -> str:
    return f"{table}_rtree"


def create_ddl(table: Table, dialect: str, *, geometry: bool) -> list[str]:
    """Statements run after ``CREATE TABLE`` (indexes come after the rows are in)."""
    if dialect == "sqlite" and geometry:
        rtree = rtree_name(table.name)
        return [f'CREATE VIRTUAL TABLE "{rtree}" USING rtree(id, minx, maxx, miny, maxy)']
    return []


def index_ddl(table: Table, dialect: str, *, geometry: bool) -> list[str]:
    stmts = [f'CREATE UNIQUE INDEX "{table.name}_id" ON "{table.name}" (id)']
    if dialect == "postgresql" and geometry:
        stmts.append(f'CREATE INDEX "{table.name}_geom" ON "{table.name}" USING GIST (geom)')
        stmts.append(f'ANALYZE "{table.name}"')
    return stmts


def drop_ddl(name: str, dialect: str) -> list[str]:
    stmts = [f'DROP TABLE IF EXISTS "{name}"']
    if dialect == "sqlite":
        stmts.append(f'DROP TABLE IF EXISTS "{rtree_name(name)}"')
    return stmts
