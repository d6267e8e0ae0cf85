"""Geometry of a table from its columns: a WKT (or EWKT, or GeoJSON) column found by name, else
a pair of coordinate columns (lon/lat, Rechtswert/Hochwert, x/y, ...) whose cells may be German
decimals. Without a declared SRID the CRS is guessed from the value ranges (lon/lat, ETRS89 /
UTM 33N with or without zone prefix); rows that do not fit it get no geometry, with a warning.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from catalog.readers.cells import Cells
from catalog.readers.geometry import CRS84, LONLAT_BOUNDS, finish_geometries, fits
from catalog.readers.problems import ProblemList
from catalog.readers.schema import GERMAN_NUMBER

_EWKT_SRID = re.compile(r"SRID=(\d+);", re.IGNORECASE)

# Coordinate column names after _norm (lower case, umlauts spelt out, non-alphanumerics "_").
_LAT = {"lat", "latitude", "breite", "geo_lat", "breitengrad", "wgs84_lat"}
_LON = {"lon", "lng", "long", "longitude", "laenge", "geo_lon", "laengengrad", "wgs84_lon"}
_COORDINATE_PAIRS = [  # (x names, y names), most specific first
    (_LON, _LAT),
    ({"rechtswert", "rw"}, {"hochwert", "hw"}),
    ({"easting", "ost"}, {"northing", "nord"}),
    ({"x", "x_koordinate", "koordinate_x"}, {"y", "y_koordinate", "koordinate_y"}),
]
_WKT_NAMES = {"wkt", "geometry", "geometrie", "geom", "the_geom", "wkb_geometry", "shape"}

# Value ranges that identify a CRS: Dresden data comes as lon/lat or ETRS89 / UTM 33N, the
# latter sometimes with the zone number prefixed to the easting (EPSG:5650).
_CRS_RANGES = [
    (CRS84, LONLAT_BOUNDS),
    ("EPSG:25833", (200_000.0, 5_000_000.0, 900_000.0, 6_500_000.0)),
    ("EPSG:5650", (33_200_000.0, 5_000_000.0, 33_900_000.0, 6_500_000.0)),
]


def _norm(name: str) -> str:
    text = name.strip().lower()
    for umlaut, spelt in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, spelt)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _coordinate(value: Any) -> float | None:
    """A coordinate cell as float; None when empty; raises ValueError when unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        if not text:
            return None
        if GERMAN_NUMBER.fullmatch(text) and "," in text:
            text = text.replace(".", "").replace(",", ".")
        number = float(text)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _guess_crs(bounds: np.ndarray) -> tuple[str | None, np.ndarray]:
    """The CRS whose value range most rows fit (more than half), and which rows fit it."""
    best: tuple[str | None, np.ndarray] = (None, np.zeros(len(bounds), dtype=bool))
    for code, box in _CRS_RANGES:
        inside = fits(bounds, box)
        if inside.sum() * 2 > len(bounds) and inside.sum() > best[1].sum():
            best = (code, inside)
    return best


class TableGeometry:
    """Finds the geometry of a table: a WKT column, else a pair of coordinate columns.

    After :meth:`find`, ``geometries`` (CRS84), ``crs`` (the source CRS code) and ``info`` (for
    the report) are set when a geometry was found; ``wkt_column`` is the index of a WKT column
    that became the geometry and is no longer a property.
    """

    def __init__(self, names: list[str], cells: Cells, where: str, warnings: ProblemList):
        self.names = names
        self.cells = cells
        self.where = where
        self.warnings = warnings
        self.geometries: list[shapely.Geometry | None] | None = None
        self.crs: str | None = None
        self.info: dict[str, Any] | None = None
        self.wkt_column: int | None = None

    def column(self, j: int) -> list[Any]:
        return [r[j] if j < len(r) else None for r in self.cells.rows]

    def find(self) -> None:
        normed = [_norm(n) for n in self.names]
        for j, name in enumerate(normed):
            if name in _WKT_NAMES and self._from_wkt(j):
                return
        for x_names, y_names in _COORDINATE_PAIRS:
            xs = [j for j, n in enumerate(normed) if n in x_names]
            ys = [j for j, n in enumerate(normed) if n in y_names]
            if xs and ys:
                self._from_columns(xs[0], ys[0])
                return

    def _settle(
        self,
        geoms: np.ndarray,
        srid: str | None,
        kind: tuple[str, str],
        described: dict[str, Any],
    ) -> None:
        """Choose the CRS, blank out rows that do not fit it, repair and transform."""
        present = np.array([g is not None for g in geoms], dtype=bool)
        if not present.any():
            return
        code: str | None
        if srid:
            code, inside = srid, np.ones(int(present.sum()), dtype=bool)
            try:
                crs = CRS.from_user_input(srid)
            except CRSError:
                code = None  # an EWKT SRID pyproj does not know
        else:
            code, inside = _guess_crs(shapely.bounds(geoms[present]))
            crs = CRS.from_user_input(code) if code else None
        if code is None or crs is None:
            self.warnings.add(
                self.where,
                "crs-unknown",
                f"{self.where}: {kind[0]} gefunden, aber ihr Koordinatenreferenzsystem ist "
                "unbekannt (weder Länge/Breite noch UTM 33N); die Tabelle wird ohne Geometrie "
                "geladen",
                f"{self.where}: {kind[1]} found, but their coordinate reference system is unknown "
                "(neither longitude/latitude nor UTM 33N); the table is loaded without geometry",
            )
            return
        for i in np.flatnonzero(present)[~inside]:
            de_loc, en_loc = self.cells.locate(int(i))
            self.warnings.add(
                f"{self.where}, {en_loc}",
                "coordinates-out-of-range",
                f"{self.where}: {de_loc}: Koordinaten passen nicht zu {code} wie die übrigen "
                "Zeilen; keine Geometrie",
                f"{self.where}: {en_loc}: coordinates do not fit {code} like the other rows; "
                "no geometry",
            )
            geoms[i] = None
        self.geometries = finish_geometries(
            geoms, crs, self.cells.locate, self.where, self.warnings
        )
        self.crs = code
        self.info = {**described, "crs": code}

    def _from_wkt(self, j: int) -> bool:
        values = self.column(j)
        geoms = np.empty(len(values), dtype=object)
        srids: set[str] = set()
        bad: list[int] = []
        filled = 0
        for i, value in enumerate(values):
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            filled += 1
            text = str(value).strip()
            match = _EWKT_SRID.match(text)
            if match:
                srids.add(f"EPSG:{match.group(1)}")
                text = text[match.end() :]
            try:
                geoms[i] = (
                    shapely.from_geojson(text) if text.startswith("{") else shapely.from_wkt(text)
                )
            except Exception:
                bad.append(i)
        if not filled or len(bad) * 2 >= filled:
            return False  # not a geometry column after all; it stays a property
        for i in bad:
            de_loc, en_loc = self.cells.locate(i)
            self.warnings.add(
                f"{self.where}, {en_loc}, column {self.names[j]!r}",
                "geometry-unreadable",
                f"{self.where}: {de_loc}, Spalte {self.names[j]!r}: kein lesbares WKT; "
                "keine Geometrie",
                f"{self.where}: {en_loc}, column {self.names[j]!r}: not readable WKT; no geometry",
            )
        srid = next(iter(srids)) if len(srids) == 1 else None
        self._settle(
            geoms,
            srid,
            ("WKT-Geometrien", "WKT geometries"),
            {"source": "wkt", "column": self.names[j]},
        )
        if self.geometries is not None:
            self.wkt_column = j
        return True

    def _from_columns(self, jx: int, jy: int) -> None:
        xs, ys = self.column(jx), self.column(jy)
        points = np.empty(len(xs), dtype=object)
        try:
            # Fast path: every cell a plain number (or numeric text in C notation).
            coords = np.column_stack([np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)])
            if not np.isfinite(coords).all():
                raise ValueError("not finite")
            rows: Iterable[int] = ()
        except (ValueError, TypeError):
            coords = np.full((len(xs), 2), np.nan)
            rows = range(len(xs))
        for i in rows:
            xv, yv = xs[i], ys[i]
            try:
                x, y = _coordinate(xv), _coordinate(yv)
            except ValueError:
                x = y = math.nan
            if x is None and y is None:
                continue  # no coordinates: a row without geometry
            if x is None or y is None or math.isnan(x) or math.isnan(y):
                de_loc, en_loc = self.cells.locate(i)
                shown = f"{self.names[jx]}={xv!r}, {self.names[jy]}={yv!r}"
                self.warnings.add(
                    f"{self.where}, {en_loc}",
                    "coordinates-unreadable",
                    f"{self.where}: {de_loc}: Koordinaten nicht lesbar ({shown}); keine Geometrie",
                    f"{self.where}: {en_loc}: coordinates cannot be read ({shown}); no geometry",
                )
                continue
            coords[i] = (x, y)
        filled = ~np.isnan(coords).any(axis=1)
        points[filled] = shapely.points(coords[filled])
        self._settle(
            points,
            None,
            ("Koordinatenspalten", "coordinate columns"),
            {"source": "columns", "columns": [self.names[jx], self.names[jy]]},
        )
