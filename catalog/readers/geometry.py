"""Geometry steps shared by geodata and table readers: CRS codes, transformation to CRS84 (lon/lat
order), bounds tests, the single geometry type of a layer, and :func:`finish_geometries`, which
repairs invalid geometries, drops empties and an all-zero Z, transforms to CRS84 and checks that
every coordinate came out finite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer

from catalog.errors import InputError
from catalog.readers.problems import ProblemList, gdal_message, unreadable

CRS84 = "OGC:CRS84"
LONLAT_BOUNDS = (-180.0, -90.0, 180.0, 90.0)
_SIMPLE_TYPES = (
    "Point",
    "LineString",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
)


def crs_code(crs: CRS) -> str:
    """'EPSG:25833', 'OGC:CRS84', ...; the WKT when no authority code matches."""
    authority = crs.to_authority() or crs.to_authority(min_confidence=70)
    return f"{authority[0]}:{authority[1]}" if authority else crs.to_wkt()


@lru_cache(maxsize=64)
def _transformer(crs_wkt: str) -> Transformer | None:
    source = CRS.from_wkt(crs_wkt)
    if source.equals(CRS84, ignore_axis_order=True):
        return None  # EPSG:4326 / CRS84: GDAL already hands out lon/lat; keep the bits exact
    return Transformer.from_crs(source, CRS84, always_xy=True)


def to_crs84(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    """Transform an array of geometries (None allowed) to CRS84 in lon/lat order."""
    transformer = _transformer(crs.to_wkt())
    if transformer is None or len(geoms) == 0:
        return geoms

    def project(coords: np.ndarray) -> np.ndarray:
        if coords.shape[1] == 3:
            x, y, z = transformer.transform(coords[:, 0], coords[:, 1], coords[:, 2])
            return np.column_stack([x, y, z])
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, project, include_z=None)


def fits(bounds: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Per-row test that (minx, miny, maxx, maxy) bounds lie inside ``box``."""
    return (
        (bounds[:, 0] >= box[0])
        & (bounds[:, 1] >= box[1])
        & (bounds[:, 2] <= box[2])
        & (bounds[:, 3] <= box[3])
    )


def geometry_type(geoms: Sequence[shapely.Geometry | None]) -> str:
    """The single geometry type of a layer, 'Geometry' when types mix (or nothing is there)."""
    types = {g.geom_type for g in geoms if g is not None}
    if len(types) == 1:
        (only,) = types
        if only in _SIMPLE_TYPES:
            return only
    return "Geometry"


def finish_geometries(
    geoms: np.ndarray,
    crs: CRS,
    locate: Callable[[int], tuple[str, str]],
    where: str,
    report: ProblemList,
) -> list[shapely.Geometry | None]:
    """Repair invalid geometries (with a warning each), drop empties and a Z that is all 0,
    transform to CRS84 and check that every coordinate came out finite.

    ``locate(i)`` names item i in German and English ("Objekt 3 (id 7)", "feature 3 (id 7)").
    """
    geoms = np.asarray(geoms, dtype=object)
    present = np.array([g is not None for g in geoms], dtype=bool)
    if not present.any():
        return [None] * len(geoms)
    valid = shapely.is_valid(geoms)
    for i in np.flatnonzero(present & ~valid):
        reason = shapely.is_valid_reason(geoms[i])
        # "structure" keeps a polygon a polygon (holes subtract, spikes go), which a store
        # typed by geometry kind needs; the default "linework" may yield GeometryCollections.
        repaired = shapely.make_valid(geoms[i], method="structure", keep_collapsed=False)
        de_loc, en_loc = locate(int(i))
        report.add(
            f"{where}, {en_loc}",
            "geometry-repaired",
            f"{where}: {de_loc}: ungültige Geometrie ({reason}) wurde repariert (make_valid)",
            f"{where}: {en_loc}: invalid geometry ({reason}) was repaired (make_valid)",
        )
        geoms[i] = repaired
    geoms[present] = [None if g.is_empty else g for g in geoms[present]]
    present = np.array([g is not None for g in geoms], dtype=bool)
    if shapely.has_z(geoms[present]).any():
        coords = shapely.get_coordinates(geoms[present], include_z=True)
        if not np.nan_to_num(coords[:, 2]).any():
            # KML (LIBKML) and some writers add z = 0 everywhere: it carries no information.
            geoms[present] = shapely.force_2d(geoms[present])
    try:
        geoms = to_crs84(geoms, crs)
    except Exception as exc:  # pyproj raises ProjError and friends; all mean the same here
        raise unreadable(
            where,
            "crs",
            f"Koordinaten lassen sich nicht aus {crs_code(crs)} nach CRS84 umrechnen "
            f"({gdal_message(exc)})",
            f"coordinates cannot be transformed from {crs_code(crs)} to CRS84 "
            f"({gdal_message(exc)})",
        ) from exc
    bounds = shapely.bounds(geoms)
    bad = present & ~np.isfinite(bounds).all(axis=1)
    if bad.any():
        problems = ProblemList(where)
        for i in np.flatnonzero(bad):
            de_loc, en_loc = locate(int(i))
            problems.add(
                f"{where}, {en_loc}",
                "crs",
                f"{where}: {de_loc}: Koordinaten liegen außerhalb des Gültigkeitsbereichs von "
                f"{crs_code(crs)} und lassen sich nicht nach CRS84 umrechnen",
                f"{where}: {en_loc}: coordinates lie outside the area of {crs_code(crs)} and "
                "cannot be transformed to CRS84",
            )
        raise InputError(problems.problems())
    return list(geoms)
