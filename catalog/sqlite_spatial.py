"""Exact spatial predicates for SQLite (which has no SpatiaLite here): a SQL function that tests
a stored GeoJSON geometry against a query geometry with shapely. The R*Tree narrows the rows
first, so the function only sees candidates."""

from __future__ import annotations

import sqlite3
from functools import lru_cache

import shapely
from shapely import prepared

_PREDICATES = {
    "intersects": lambda q, g: q.intersects(g),
    "disjoint": lambda q, g: q.disjoint(g),
    "contains": lambda q, g: q.within(g),  # the feature contains the query geometry
    "within": lambda q, g: q.contains(g),  # the feature lies within it
    "touches": lambda q, g: q.touches(g),
    "crosses": lambda q, g: q.crosses(g),
    "overlaps": lambda q, g: q.overlaps(g),
    "equals": lambda q, g: q.context.equals(g),
}


@lru_cache(maxsize=64)
def _query_geometry(wkb: bytes) -> prepared.PreparedGeometry:
    return prepared.prep(shapely.from_wkb(wkb))


def _spatial(op: str, geojson: str | None, query_wkb: bytes) -> int | None:
    if geojson is None:
        return None
    test = _PREDICATES[op]
    return int(test(_query_geometry(query_wkb), shapely.from_geojson(geojson)))


def _distance(geojson: str | None, query_wkb: bytes) -> float | None:
    if geojson is None:
        return None
    return float(shapely.from_wkb(query_wkb).distance(shapely.from_geojson(geojson)))


def register(connection: sqlite3.Connection) -> None:
    """Add ``odapp_spatial(op, geojson, wkb)`` and ``odapp_distance(geojson, wkb)``."""
    connection.create_function("odapp_spatial", 3, _spatial, deterministic=True)
    connection.create_function("odapp_distance", 2, _distance, deterministic=True)


PREDICATES = tuple(_PREDICATES)
