"""Geometry helpers: areas on the sphere, GeoJSON features with stable bytes, WKT boxes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

_EARTH_RADIUS = 6371007.2  # authalic radius (m)
_COS_STANDARD_PARALLEL = math.cos(math.radians(51.05))


def area_km2(geom: BaseGeometry) -> float:
    """Area on the sphere: Lambert cylindrical equal-area projection with its standard parallel
    through Dresden (no pyproj needed; within a few per mille of the ellipsoidal area)."""

    def project(coords: np.ndarray) -> np.ndarray:
        lon, lat = np.radians(coords[:, 0]), np.radians(coords[:, 1])
        x = _EARTH_RADIUS * lon * _COS_STANDARD_PARALLEL
        return np.column_stack([x, _EARTH_RADIUS * np.sin(lat) / _COS_STANDARD_PARALLEL])

    return float(shapely.transform(geom, project).area) / 1e6


def _rounded(value: Any, digits: int = 6) -> Any:
    """Coordinates rounded to 6 decimals (about 0.1 m): smaller files, stable bytes."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, (list, tuple)):
        return [_rounded(v, digits) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    return value


def polygon_feature(geom: BaseGeometry, properties: dict[str, Any], fid: str | None = None) -> dict:
    # RFC 7946: exterior rings counter-clockwise, holes clockwise
    geometry = _rounded(mapping(shapely.orient_polygons(geom)))
    feature: dict[str, Any] = {"type": "Feature"}
    if fid is not None:
        feature["id"] = fid
    feature["properties"] = properties
    feature["geometry"] = geometry
    return feature


def point_feature(lon: float, lat: float, properties: dict[str, Any], fid: str) -> dict:
    return {
        "type": "Feature",
        "id": fid,
        "properties": properties,
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
    }


def bbox_wkt(bounds: Sequence[float]) -> str:
    """The bounds as a WKT polygon in CRS84, widened outwards to 3 decimals."""
    x0, y0 = math.floor(bounds[0] * 1000) / 1000, math.floor(bounds[1] * 1000) / 1000
    x1, y1 = math.ceil(bounds[2] * 1000) / 1000, math.ceil(bounds[3] * 1000) / 1000
    return (
        f"POLYGON(({x0:.3f} {y0:.3f}, {x1:.3f} {y0:.3f}, {x1:.3f} {y1:.3f}, "
        f"{x0:.3f} {y1:.3f}, {x0:.3f} {y0:.3f}))"
    )


DRESDEN_BOUNDS = (13.579, 50.974, 13.966, 51.178)
DRESDEN_WKT = bbox_wkt(DRESDEN_BOUNDS)


def points_bbox_wkt(lons: Sequence[float], lats: Sequence[float]) -> str:
    return bbox_wkt((min(lons), min(lats), max(lons), max(lats)))


def surface_point(geom: BaseGeometry) -> list[str]:
    """Longitude and latitude (6 decimals) of a point inside the geometry."""
    p = geom.point_on_surface()
    return [f"{p.x:.6f}", f"{p.y:.6f}"]
