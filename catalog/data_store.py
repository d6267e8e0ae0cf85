"""The data store: distributions loaded as tables of features or rows, in CRS84, next to the
catalogue in the same database.

A load reads the whole file first (``catalog.readers``), writes a new table version, and only
then, in one transaction, points the registry at it and drops the old version. A file that
cannot be read, or rows the database refuses, leave the served version untouched and the error
stored on the registry row for the Datenkontaktperson to see.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import shapely
from slugify import slugify
from sqlalchemy import Engine, Table, and_, false, func, or_, select, text, true
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from catalog.cql2_sql import FilterError, FilterTranslator, iso_utc
from catalog.data_tables import (
    StoredColumn,
    create_ddl,
    data_table,
    drop_ddl,
    index_ddl,
    rtree_name,
)
from catalog.errors import CatalogError, NotFound, Problem, problem
from catalog.readers import SourceData, read_source
from catalog.schema import DataCollection

COUNT_CAP = 10_000  # numberMatched is counted exactly up to here; above, it is left out


@dataclass(frozen=True)
class CollectionInfo:
    """What the registry knows of one collection."""

    id: str
    title: str
    description: str
    kind: str
    table_name: str | None
    columns: list[StoredColumn]
    geometry_type: str | None
    source_crs: str | None
    feature_count: int
    bbox: tuple[float, float, float, float] | None
    time_column: str | None
    time_min: str | None
    time_max: str | None
    dataset_uri: str | None
    distribution_uri: str | None
    source: str
    format: str | None
    report: dict[str, Any]
    error: dict[str, Any] | None
    loaded_at: dt.datetime | None
    updated_at: dt.datetime

    @property
    def has_geometry(self) -> bool:
        return self.kind == "features"

    @property
    def integer_ids(self) -> bool:
        return bool(self.report.get("integer_ids"))

    @classmethod
    def from_row(cls, row: DataCollection) -> CollectionInfo:
        bbox = None
        if row.min_x is not None:
            bbox = (row.min_x, row.min_y, row.max_x, row.max_y)
        return cls(
            id=row.id,
            title=row.title,
            description=row.description,
            kind=row.kind,
            table_name=row.table_name,
            columns=[StoredColumn(**c) for c in json.loads(row.columns)],
            geometry_type=row.geometry_type,
            source_crs=row.source_crs,
            feature_count=row.feature_count,
            bbox=bbox,  # type: ignore[arg-type]
            time_column=row.time_column,
            time_min=row.time_min,
            time_max=row.time_max,
            dataset_uri=row.dataset_uri,
            distribution_uri=row.distribution_uri,
            source=row.source,
            format=row.format,
            report=json.loads(row.report or "{}"),
            error=json.loads(row.error) if row.error else None,
            loaded_at=row.loaded_at,
            updated_at=row.updated_at,
        )


@dataclass
class LoadResult:
    collections: list[str]
    changed: bool
    warnings: list[dict[str, str]] = field(default_factory=list)


@dataclass
class FeatureQuery:
    """One items request, in CRS84. ``filter`` is a pygeofilter AST."""

    offset: int = 0
    limit: int = 10
    bbox: Sequence[float] | None = None
    datetime: str | None = None
    properties: Sequence[tuple[str, str]] = ()
    sortby: Sequence[tuple[str, bool]] = ()  # (name, ascending)
    select: Sequence[str] | None = None
    skip_geometry: bool = False
    q: str | None = None
    filter: Any = None
    hits_only: bool = False
    area: Any = None  # a shapely geometry in CRS84 that replaces bbox (bbox-crs other than CRS84)


@dataclass
class FeaturePage:
    features: list[dict[str, Any]]
    number_matched: int | None


class DataStore:
    """Loads distributions into tables and answers feature queries over them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    # --- registry -----------------------------------------------------------------------

    def collections(self, *, served_only: bool = True) -> list[CollectionInfo]:
        stmt = select(DataCollection).order_by(DataCollection.id)
        if served_only:
            stmt = stmt.where(DataCollection.table_name.is_not(None))
        with Session(self.engine) as session:
            return [CollectionInfo.from_row(r) for r in session.scalars(stmt)]

    def collection(self, collection_id: str) -> CollectionInfo:
        with Session(self.engine) as session:
            row = session.get(DataCollection, collection_id)
            if row is None:
                raise NotFound.one(
                    collection_id,
                    "not-found",
                    f"Sammlung '{collection_id}' gibt es nicht.",
                    f"No collection '{collection_id}'.",
                )
            return CollectionInfo.from_row(row)

    def generation(self) -> tuple[int, str]:
        """Changes whenever a collection is added, loaded, failed or removed."""
        with self.engine.connect() as conn:
            count, newest = conn.execute(
                select(func.count(), func.max(DataCollection.updated_at))
            ).one()
        return int(count), str(newest)

    def delete(self, collection_id: str) -> None:
        info = self.collection(collection_id)
        with self.engine.begin() as conn:
            conn.execute(DataCollection.__table__.delete().where(DataCollection.id == info.id))
            if info.table_name:
                for stmt in drop_ddl(info.table_name, self.dialect):
                    conn.exec_driver_sql(stmt)

    # --- loading ------------------------------------------------------------------------

    def load(
        self,
        collection_id: str,
        path: Path,
        *,
        fmt: str | None = None,
        title: str | None = None,
        description: str = "",
        dataset_uri: str | None = None,
        distribution_uri: str | None = None,
        source: str | None = None,
        where: str | None = None,
        force: bool = False,
    ) -> LoadResult:
        """Load ``path`` as collection ``collection_id`` (GeoPackages with several layers add
        ``<id>-<layer>``). Unchanged content is not loaded again unless ``force``."""
        collection_id = check_collection_id(collection_id)
        where = where or path.name
        meta = {
            "title": title or collection_id,
            "description": description,
            "dataset_uri": dataset_uri,
            "distribution_uri": distribution_uri,
            "source": source or str(path),
            "format": fmt,
        }
        try:
            digest = _sha256(path)
        except OSError as exc:
            error = CatalogError.one(
                where, "unreadable", f"Datei nicht lesbar: {exc}", f"File not readable: {exc}"
            )
            self._record_error(collection_id, error, meta)
            raise error from None
        if not force and self._unchanged(collection_id, digest):
            return LoadResult([collection_id], changed=False)
        try:
            layers = read_source(path, fmt=fmt, where=where)
        except CatalogError as exc:
            self._record_error(collection_id, exc, meta)
            raise
        ids = [collection_id] + [
            check_collection_id(f"{collection_id}-{slugify(layer.name) or i}")
            for i, layer in enumerate(layers[1:], start=1)
        ]
        warnings: list[dict[str, str]] = []
        for cid, layer in zip(ids, layers, strict=True):
            self._load_layer(cid, layer, digest, meta, where)
            warnings += layer.report.get("warnings", [])
        return LoadResult(ids, changed=True, warnings=warnings)

    def _unchanged(self, collection_id: str, digest: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    DataCollection.content_sha256, DataCollection.table_name, DataCollection.error
                ).where(DataCollection.id == collection_id)
            ).first()
        return bool(row and row[0] == digest and row[1] and not row[2])

    def _load_layer(
        self, cid: str, layer: SourceData, digest: str, meta: dict[str, Any], where: str
    ) -> None:
        columns = [StoredColumn(c.name, c.type, f"c{i}") for i, c in enumerate(layer.columns)]
        geometry = layer.geometries is not None
        name = f"d_{hashlib.sha1(cid.encode()).hexdigest()[:10]}_{uuid.uuid4().hex[:8]}"
        table = data_table(name, columns, self.dialect, geometry=geometry)
        ids, integer_ids = _feature_ids(layer)
        try:
            with self.engine.begin() as conn:
                table.create(conn)
                for stmt in create_ddl(table, self.dialect, geometry=geometry):
                    conn.exec_driver_sql(stmt)
                self._insert(conn, table, columns, layer, ids)
                for stmt in index_ddl(table, self.dialect, geometry=geometry):
                    conn.exec_driver_sql(stmt)
        except (SQLAlchemyError, ValueError, OverflowError) as exc:
            self._drop_quietly(name)
            error = CatalogError.one(
                where,
                "database",
                f"Die Daten konnten nicht gespeichert werden: {_short(exc)}",
                f"The data could not be stored: {_short(exc)}",
            )
            self._record_error(cid, error, meta)
            raise error from None
        time_column, time_min, time_max = _time_extent(columns, layer.rows)
        bounds = _bounds(layer.geometries)
        report = dict(layer.report)
        report["integer_ids"] = integer_ids
        now = dt.datetime.now(dt.UTC)
        values = {
            **meta,
            "layer": layer.name,
            "kind": "features" if geometry else "table",
            "table_name": name,
            "columns": json.dumps([c.to_dict() for c in columns], ensure_ascii=False),
            "geometry_type": layer.geometry_type,
            "source_crs": layer.source_crs,
            "feature_count": len(layer.rows),
            "min_x": bounds[0] if bounds else None,
            "min_y": bounds[1] if bounds else None,
            "max_x": bounds[2] if bounds else None,
            "max_y": bounds[3] if bounds else None,
            "time_column": time_column,
            "time_min": time_min,
            "time_max": time_max,
            "content_sha256": digest,
            "report": json.dumps(report, ensure_ascii=False, default=str),
            "error": None,
            "error_at": None,
            "loaded_at": now,
            "updated_at": now,
        }
        # the switch: one transaction points the registry at the new table and drops the old
        with self.engine.begin() as conn:
            old = conn.execute(
                select(DataCollection.table_name).where(DataCollection.id == cid)
            ).first()
            registry = DataCollection.__table__
            if old is None:
                conn.execute(registry.insert().values(id=cid, **values))
            else:
                conn.execute(registry.update().where(registry.c.id == cid).values(**values))
            if old is not None and old[0]:
                for stmt in drop_ddl(old[0], self.dialect):
                    conn.exec_driver_sql(stmt)

    def _insert(
        self,
        conn: Any,
        table: Table,
        columns: list[StoredColumn],
        layer: SourceData,
        ids: list[str],
    ) -> None:
        convert = [_converter(c.type, self.dialect) for c in columns]
        geometry = layer.geometries is not None
        rows = (tuple(f(v) for f, v in zip(convert, row, strict=True)) for row in layer.rows)
        geoms: list[Any] = []
        if geometry:
            if self.dialect == "postgresql":
                with_srid = shapely.set_srid(layer.geometries, 4326)  # type: ignore[arg-type]
                geoms = list(shapely.to_wkb(with_srid, hex=True, include_srid=True))
            else:
                geoms = list(shapely.to_geojson(layer.geometries))  # type: ignore[arg-type]
        names = ["fid", "id"] + (["geom"] if geometry else []) + [c.sql for c in columns]
        if self.dialect == "postgresql":
            cursor = conn.connection.dbapi_connection.cursor()
            quoted = ", ".join(f'"{n}"' for n in names)
            with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                for i, row in enumerate(rows):
                    head = (i + 1, ids[i], geoms[i]) if geometry else (i + 1, ids[i])
                    copy.write_row(head + row)
            return
        placeholders = ", ".join("?" for _ in names)
        batch: list[tuple[Any, ...]] = []
        sql = f'INSERT INTO "{table.name}" VALUES ({placeholders})'
        for i, row in enumerate(rows):
            head = (i + 1, ids[i], geoms[i]) if geometry else (i + 1, ids[i])
            batch.append(head + row)
            if len(batch) == 5000:
                conn.exec_driver_sql(sql, batch)
                batch = []
        if batch:
            conn.exec_driver_sql(sql, batch)
        if geometry:
            boxes = shapely.bounds(layer.geometries)  # type: ignore[arg-type]
            entries = [
                (i + 1, b[0], b[2], b[1], b[3])
                for i, b in enumerate(boxes.tolist())
                if not math.isnan(b[0])
            ]
            conn.exec_driver_sql(
                f'INSERT INTO "{rtree_name(table.name)}" VALUES (?, ?, ?, ?, ?)', entries
            )

    def _drop_quietly(self, name: str) -> None:
        try:
            with self.engine.begin() as conn:
                for stmt in drop_ddl(name, self.dialect):
                    conn.exec_driver_sql(stmt)
        except SQLAlchemyError:
            pass

    def _record_error(self, cid: str, error: CatalogError, meta: dict[str, Any]) -> None:
        """Keep the error on the registry row (creating a row that serves nothing yet)."""
        now = dt.datetime.now(dt.UTC)
        payload = json.dumps(error.to_dict(), ensure_ascii=False)
        registry = DataCollection.__table__
        with self.engine.begin() as conn:
            exists = conn.execute(select(registry.c.id).where(registry.c.id == cid)).first()
            if exists:
                conn.execute(
                    registry.update()
                    .where(registry.c.id == cid)
                    .values(error=payload, error_at=now, updated_at=now)
                )
            else:
                conn.execute(
                    registry.insert().values(
                        id=cid,
                        kind="table",
                        error=payload,
                        error_at=now,
                        updated_at=now,
                        **meta | {"source": meta["source"]},
                    )
                )

    # --- queries ------------------------------------------------------------------------

    def table_for(self, info: CollectionInfo) -> Table:
        if not info.table_name:
            raise NotFound.one(
                info.id,
                "not-loaded",
                f"Die Sammlung '{info.id}' ist noch nicht geladen.",
                f"Collection '{info.id}' has not been loaded yet.",
            )
        return _table(info.table_name, tuple(info.columns), self.dialect, info.has_geometry)

    def translator(self, info: CollectionInfo) -> FilterTranslator:
        return FilterTranslator(
            self.table_for(info), info.columns, self.dialect, geometry=info.has_geometry
        )

    def query(self, collection_id: str | CollectionInfo, query: FeatureQuery) -> FeaturePage:
        info = (
            collection_id
            if isinstance(collection_id, CollectionInfo)
            else self.collection(collection_id)
        )
        table = self.table_for(info)
        tr = self.translator(info)
        conditions = self._conditions(info, tr, query)
        by_name = {c.name: c for c in info.columns}
        wanted = list(query.select) if query.select else [c.name for c in info.columns]
        for name in wanted:
            tr.column(name)  # unknown names are refused
        cols = [table.c.fid, table.c.id]
        if info.has_geometry and not query.skip_geometry:
            cols.append(table.c.geom)
        cols += [table.c[by_name[n].sql] for n in wanted]
        with self.engine.connect() as conn:
            number_matched = self._count(conn, info, table, conditions, exact=query.hits_only)
            if query.hits_only:
                return FeaturePage([], number_matched)
            order = []
            for name, ascending in query.sortby:
                col = tr.column(name)[0]
                order.append(col.asc() if ascending else col.desc())
            order.append(table.c.fid)
            stmt = (
                select(*cols)
                .where(*conditions)
                .order_by(*order)
                .limit(query.limit)
                .offset(query.offset)
            )
            rows = conn.execute(stmt).all()
        return FeaturePage(
            [self._feature(info, row, wanted, query.skip_geometry) for row in rows],
            number_matched,
        )

    def feature(self, collection_id: str, feature_id: str) -> dict[str, Any] | None:
        info = self.collection(collection_id)
        table = self.table_for(info)
        names = [c.name for c in info.columns]
        cols = [table.c.fid, table.c.id]
        if info.has_geometry:
            cols.append(table.c.geom)
        cols += [table.c[c.sql] for c in info.columns]
        with self.engine.connect() as conn:
            row = conn.execute(select(*cols).where(table.c.id == str(feature_id))).first()
        return self._feature(info, row, names, False) if row else None

    def _conditions(
        self, info: CollectionInfo, tr: FilterTranslator, query: FeatureQuery
    ) -> list[Any]:
        conditions: list[Any] = []
        if query.bbox and query.area is None:
            box = list(query.bbox)
            if len(box) == 6:  # 3D bbox: the heights are ignored, the box is not
                box = [box[0], box[1], box[3], box[4]]
            # rows without geometry intersect no box (OGC API Features /req/core/fc-bbox-response)
            conditions.append(tr.bbox(*box) if info.has_geometry else false())
        if query.area is not None:
            conditions.append(tr.intersects(query.area))
        if query.datetime:
            conditions.append(self._datetime(info, tr, query.datetime))
        for name, value in query.properties:
            col, stored = tr.column(name)
            conditions.append(col == tr.literal_for(stored, value, name))
        if query.q:
            strings = [tr.column(c.name)[0] for c in info.columns if c.type == "string"]
            for word in query.q.replace(",", " ").split():
                pattern = f"%{word}%"
                conditions.append(
                    _any([col.ilike(pattern) for col in strings]) if strings else text("1 = 0")
                )
        if query.filter is not None:
            conditions.append(tr.translate(query.filter))
        return conditions

    def _datetime(self, info: CollectionInfo, tr: FilterTranslator, value: str) -> Any:
        if not info.time_column:
            raise FilterError.one(
                "datetime",
                "no-time",
                "Diese Sammlung hat keine Zeitangabe; datetime ist nicht anwendbar.",
                "This collection has no temporal property; datetime cannot be applied.",
            )
        col, stored = tr.column(info.time_column)
        start, _, end = value.partition("/")
        if not _:
            end = start
        parts = []
        if start not in ("", ".."):
            parts.append(col >= tr.literal_for(stored, _time_value(start), "datetime"))
        if end not in ("", ".."):
            parts.append(col <= tr.literal_for(stored, _time_value(end, upper=True), "datetime"))
        return and_(*parts) if parts else true()

    def _count(
        self, conn: Any, info: CollectionInfo, table: Table, conditions: list[Any], *, exact: bool
    ) -> int | None:
        if not conditions:
            return info.feature_count
        inner = select(table.c.fid).where(*conditions)
        if not exact:
            inner = inner.limit(COUNT_CAP + 1)
        n = conn.execute(select(func.count()).select_from(inner.subquery())).scalar_one()
        return n if exact or n <= COUNT_CAP else None

    def _feature(
        self, info: CollectionInfo, row: Any, names: list[str], skip_geometry: bool
    ) -> dict[str, Any]:
        ident = row[1]
        offset = 2
        geometry = None
        if info.has_geometry and not skip_geometry:
            geometry = json.loads(row[2]) if row[2] else None
            offset = 3
        types = {c.name: c.type for c in info.columns}
        props = {
            name: _output(types[name], row[offset + i], self.dialect)
            for i, name in enumerate(names)
        }
        return {
            "type": "Feature",
            "id": int(ident) if info.integer_ids else ident,
            "geometry": geometry,
            "properties": props,
        }


# --- helpers ------------------------------------------------------------------------------


def check_collection_id(value: str) -> str:
    cleaned = slugify(value, max_length=100) if value else ""
    if not cleaned:
        raise CatalogError.one(
            "collection",
            "collection-id",
            f"'{value}' taugt nicht als Kennung einer Sammlung.",
            f"'{value}' cannot be a collection id.",
        )
    return cleaned


@lru_cache(maxsize=256)
def _table(name: str, columns: tuple[StoredColumn, ...], dialect: str, geometry: bool) -> Table:
    # pygeoapi builds a provider per request: the table object is built once per version
    return data_table(name, list(columns), dialect, geometry=geometry)


def _any(parts: list[Any]) -> Any:
    return or_(*parts)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _feature_ids(layer: SourceData) -> tuple[list[str], bool]:
    """The source's ids when every feature has a distinct one, else the row numbers."""
    n = len(layer.rows)
    source = layer.feature_ids
    if not source:  # a table's own "id" column names its rows when it is a key
        for i, col in enumerate(layer.columns):
            if col.name.lower() == "id" and col.type in ("integer", "string"):
                source = [row[i] for row in layer.rows]
                break
    if source and all(i is not None and i != "" for i in source) and len(set(source)) == n:
        integer = all(isinstance(i, int) and not isinstance(i, bool) for i in source)
        return [str(i) for i in source], integer
    return [str(i + 1) for i in range(n)], True


def _converter(kind: str, dialect: str) -> Any:
    def number(v: Any) -> Any:
        if v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))):
            return None
        return v

    if kind == "date" and dialect == "sqlite":
        return lambda v: v.isoformat() if isinstance(v, dt.date) else v
    if kind == "datetime":
        if dialect == "sqlite":
            return lambda v: iso_utc(v) if isinstance(v, dt.datetime) else v
        return lambda v: (
            v.replace(tzinfo=dt.UTC) if isinstance(v, dt.datetime) and v.tzinfo is None else v
        )
    if kind == "boolean" and dialect == "sqlite":
        return lambda v: None if v is None else int(bool(v))
    if kind in ("number", "integer"):
        return number
    return lambda v: v


def _output(kind: str, value: Any, dialect: str) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        if isinstance(value, dt.datetime):
            value = iso_utc(value)
        return value.replace(".000000Z", "Z")
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if kind == "boolean":
        return bool(value)
    return value


def _time_value(value: str, *, upper: bool = False) -> Any:
    try:
        if "T" in value or " " in value:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise FilterError.one(
            "datetime",
            "datetime",
            f"'{value}' ist kein Zeitpunkt nach RFC 3339.",
            f"'{value}' is not an RFC 3339 date or time.",
        ) from None
    if upper:
        return dt.datetime.combine(day, dt.time.max, dt.UTC)
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def _time_extent(columns: list[StoredColumn], rows: list[tuple]) -> tuple[str | None, ...]:
    """The first date or datetime column and its range (datetimes in UTC)."""
    for i, col in enumerate(columns):
        if col.type not in ("date", "datetime"):
            continue
        present = [r[i] for r in rows if isinstance(r[i], dt.date)]
        if col.type == "datetime":
            present = [
                v.astimezone(dt.UTC).replace(tzinfo=None) if v.tzinfo else v
                for v in present
                if isinstance(v, dt.datetime)
            ]
        if present:
            return col.name, min(present).isoformat(), max(present).isoformat()
    return None, None, None


def _bounds(geometries: Sequence[Any] | None) -> tuple[float, float, float, float] | None:
    if not geometries:
        return None
    present = [g for g in geometries if g is not None and not g.is_empty]
    if not present:
        return None
    box = shapely.total_bounds(present)
    return float(box[0]), float(box[1]), float(box[2]), float(box[3])


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


def problems_of(info: CollectionInfo) -> list[Problem]:
    """The stored error of the last failed load, as problems."""
    if not info.error:
        return []
    return [problem(**p) for p in info.error.get("problems", [])]
