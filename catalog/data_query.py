"""Feature queries over the data store: bbox, datetime, property filters, free text and CQL2
become one SQL statement; ``numberMatched`` is counted only where that is cheap."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, and_, false, func, or_, select, text, true

from catalog.cql2_sql import FilterError, FilterTranslator, iso_utc
from catalog.data_registry import CollectionInfo, Registry
from catalog.data_tables import StoredColumn, data_table
from catalog.errors import NotFound

COUNT_CAP = 10_000  # numberMatched is counted exactly up to here; above, it is left out


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


class FeatureQueries(Registry):
    """Answers items requests; pygeoapi's provider calls :meth:`query` and :meth:`feature`."""

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


@lru_cache(maxsize=256)
def _table(name: str, columns: tuple[StoredColumn, ...], dialect: str, geometry: bool) -> Table:
    # pygeoapi builds a provider per request: the table object is built once per version
    return data_table(name, list(columns), dialect, geometry=geometry)


def _any(parts: list[Any]) -> Any:
    return or_(*parts)


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
