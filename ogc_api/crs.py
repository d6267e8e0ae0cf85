"""Coordinate reference systems offered by every collection (OGC API Features Part 2), and the
output transformation from the stored CRS84."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import numpy as np
import pyproj
import shapely

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
# CRS84 first (the default), then WGS 84 in its own axis order, ETRS89 / UTM 33N (Dresden's
# working CRS) and 32N, Web Mercator, ETRS89 geographic and Gauß-Krüger zone 4 (old Saxon data)
SUPPORTED = [CRS84] + [f"{EPSG}{code}" for code in (4326, 25833, 25832, 3857, 4258, 31468)]


@lru_cache(maxsize=32)
def _transformer(target: str) -> pyproj.Transformer:
    # no always_xy: EPSG:4326 answers in latitude, longitude order, as Part 2 requires
    return pyproj.Transformer.from_crs(pyproj.CRS.from_user_input(CRS84), pyproj.CRS(target))


def transform_features(features: list[dict[str, Any]], target: str) -> None:
    """Transform the features' geometries (GeoJSON dicts in CRS84) to ``target``, in place."""
    if target == CRS84:
        return
    having = [f for f in features if f.get("geometry")]
    if not having:
        return
    transformer = _transformer(target)
    geoms = shapely.from_geojson([_dumps(f["geometry"]) for f in having])
    moved = shapely.transform(geoms, lambda xy: _pairs(transformer, xy))
    for feature, geom in zip(having, moved, strict=True):
        feature["geometry"] = shapely.geometry.mapping(geom)


def _pairs(transformer: pyproj.Transformer, xy: Any) -> Any:
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def _dumps(geometry: dict[str, Any]) -> str:
    return json.dumps(geometry)


@lru_cache(maxsize=32)
def _to_crs84(source: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(pyproj.CRS(source), pyproj.CRS.from_user_input(CRS84))


def box_in_crs84(values: list[float], source: str) -> Any:
    """The area a ``bbox`` in ``source`` (its own axis order) covers, as a CRS84 polygon.

    A rectangle in UTM is no rectangle in longitude/latitude: its edges are densified and
    transformed, so that features are tested against the area the client meant, not the
    envelope of its corners.
    """
    minx, miny, maxx, maxy = (
        (values[0], values[1], values[-3], values[-2]) if len(values) == 6 else values
    )
    box = shapely.box(minx, miny, maxx, maxy)
    dense = shapely.segmentize(box, max(maxx - minx, maxy - miny) / 64 or 1.0)
    return shapely.transform(dense, lambda xy: _pairs(_to_crs84(source), xy))
