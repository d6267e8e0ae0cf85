"""Spatial coverage as geometry: WKT or GeoJSON literals of dcterms:Location, in CRS84."""

from __future__ import annotations

import json
import re

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from catalog import model

# "<http://www.opengis.net/def/crs/OGC/1.3/CRS84> POLYGON(...)": GeoSPARQL WKT with a CRS IRI
_WKT_CRS = re.compile(r"^\s*<([^>]+)>\s*")
_LON_LAT_CRS = {
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/4326",  # axis order is taken as lon/lat, as data does
}


class GeometryError(ValueError):
    pass


def parse_geometry(text: str) -> BaseGeometry:
    """A WKT (optionally with a GeoSPARQL CRS prefix) or GeoJSON literal as a shapely geometry."""
    text = text.strip()
    try:
        if text.startswith("{"):
            data = json.loads(text)
            if data.get("type") == "Feature":
                data = data.get("geometry") or {}
            geom = shape(data)
        else:
            crs = _WKT_CRS.match(text)
            if crs:
                if crs.group(1) not in _LON_LAT_CRS:
                    raise GeometryError(f"unsupported CRS {crs.group(1)} (only CRS84/EPSG:4326)")
                text = text[crs.end() :]
            geom = shapely.from_wkt(text)
    except GeometryError:
        raise
    except Exception as exc:
        raise GeometryError(str(exc).splitlines()[0][:200]) from exc
    if geom.is_empty:
        raise GeometryError("empty geometry")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GeometryError(f"coordinates outside CRS84 lon/lat range: {geom.bounds}")
    return geom


def coverage_geometry(locations: list[model.Location]) -> BaseGeometry | None:
    """The union of every geometry (else bounding box, else centroid) of the locations."""
    parts = []
    for loc in locations:
        for text in (loc.geometry, loc.bbox, loc.centroid):
            if text:
                parts.append(parse_geometry(text))
                break
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)
