"""The data store: distributions loaded as tables of features or rows, in CRS84, next to the
catalogue in the same database.

A load reads the whole file first (``catalog.readers``), writes a new table version, and only
then, in one transaction, points the registry at it and drops the old version. A file that
cannot be read, or rows the database refuses, leave the served version untouched and the error
stored on the registry row for the Datenkontaktperson to see. Reads are in
:mod:`catalog.data_registry` and :mod:`catalog.data_query`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from slugify import slugify
from sqlalchemy import Table, select
from sqlalchemy.exc import SQLAlchemyError

from catalog.cql2_sql import iso_utc
from catalog.data_query import FeatureQueries
from catalog.data_registry import check_collection_id
from catalog.data_tables import (
    StoredColumn,
    create_ddl,
    data_table,
    drop_ddl,
    index_ddl,
    rtree_name,
)
from catalog.errors import CatalogError
from catalog.readers import SourceData, read_source
from catalog.schema import DataCollection


@dataclass
class LoadResult:
    collections: list[str]
    changed: bool
    warnings: list[dict[str, str]] = field(default_factory=list)


class DataStore(FeatureQueries):
    """Loads distributions into tables; queries and registry reads come from its bases."""

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
            "integer_ids": integer_ids,
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


# --- helpers --------------------------------------------------------------------------------------


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
