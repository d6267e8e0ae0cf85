"""Readers that turn one department data file into typed rows and CRS84 geometries.

``read_source(path)`` gives one :class:`SourceData` per layer. Geodata (GeoJSON, zipped
Shapefile, GeoPackage, KML) is read by GDAL through pyogrio (:mod:`catalog.readers.geo`); tables
(CSV, XLSX) are typed and validated with frictionless (:mod:`catalog.readers.tables`), and get
point or WKT geometries when they carry coordinate columns.

Modules: ``geo`` (geodata entry point, GeoPackage and KML layers), ``gdal`` (one layer through
pyogrio), ``geojson`` and ``shapefile`` (format-specific checks), ``geometry`` (repair, CRS84);
``tables`` (table entry point), ``encoding`` and ``cells`` (raw CSV/XLSX cells), ``schema``
(type inference), ``validation`` (frictionless validation, typed rows), ``table_geometry``
(coordinate and WKT columns); ``problems`` (warning and error collection). This module holds
the data classes and format detection.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import shapely

from catalog.errors import InputError, Problem

FORMATS = ("geojson", "shapefile", "geopackage", "kml", "csv", "xlsx")
GEO_FORMATS = ("geojson", "shapefile", "geopackage", "kml")
COLUMN_TYPES = ("integer", "number", "string", "boolean", "date", "datetime")

Value = int | float | str | bool | date | datetime | None


@dataclass
class Column:
    name: str  # as in the source, unchanged (German, spaces, umlauts allowed)
    type: str  # one of COLUMN_TYPES


@dataclass
class SourceData:
    """One layer or table: property columns, rows, and (for geodata) CRS84 geometries."""

    name: str
    columns: list[Column]
    rows: list[tuple]
    geometries: list[shapely.Geometry | None] | None = None
    feature_ids: list[str | int | None] | None = None
    source_crs: str | None = None
    geometry_type: str | None = None
    report: dict[str, Any] = field(default_factory=dict)


# --- format detection -------------------------------------------------------------------------

# Hint keys are lower-cased: EU file-type codes (last IRI segment), IANA media types, extensions.
_HINTS = {
    "geojson": "geojson",
    "application/geo+json": "geojson",
    "application/vnd.geo+json": "geojson",
    "shp": "shapefile",
    "shapefile": "shapefile",
    "application/x-shapefile": "shapefile",
    "application/vnd.shp": "shapefile",
    "x-gis/x-shapefile": "shapefile",
    "gpkg": "geopackage",
    "geopackage": "geopackage",
    "application/geopackage+sqlite3": "geopackage",
    "application/geopackage+vnd.sqlite3": "geopackage",
    "kml": "kml",
    "kmz": "kml",
    "application/vnd.google-earth.kml+xml": "kml",
    "application/vnd.google-earth.kmz": "kml",
    "csv": "csv",
    "tsv": "csv",
    "text/csv": "csv",
    "text/tab-separated-values": "csv",
    "xlsx": "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}
# A zip that is not recognisably anything else is handed to the Shapefile reader, whose errors
# ("no .shp in the archive", "not a zip archive") say what is wrong.
_ZIP_HINTS = {"zip", "application/zip", "application/x-zip-compressed", "application/x-zip"}


def _hint_key(hint: str) -> str:
    hint = hint.strip()
    if hint.startswith(("http://", "https://")):
        # EU file-type IRI (or any IRI): the code is the last path segment.
        return hint.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1].lower()
    hint = hint.split(";", 1)[0].strip().lower()  # "text/csv; charset=utf-8"
    return hint if "/" in hint else hint.lstrip(".")


def _sniff_zip(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n.lower() for n in archive.namelist() if not n.startswith("__MACOSX/")]
    except (zipfile.BadZipFile, OSError):
        return None
    if any(n.endswith(".shp") for n in names):
        return "shapefile"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if any(n.endswith(".kml") for n in names):
        return "kml"  # KMZ
    return None


def _sniff_binary(path: Path, head: bytes) -> str | None:
    """Formats whose signature is unambiguous; these win over a contradicting hint."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(path)
    if head.startswith(b"SQLite format 3\x00"):
        return "geopackage"
    if head.startswith(b"\x00\x00\x27\x0a"):  # Shapefile main-file code 9994
        return "shapefile"
    return None


def _sniff_text(head: bytes) -> str | None:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith((b"{", b"[")):
        return "geojson"
    if text.startswith(b"<") and b"<kml" in head.lower():
        return "kml"
    return None


def detect_format(path: Path, hint: str | None = None) -> str:
    """'geojson' | 'shapefile' | 'geopackage' | 'kml' | 'csv' | 'xlsx'.

    ``hint`` may be an EU file-type IRI, an IANA media type or a file extension. Binary
    signatures (a zip holding a .shp or an Excel workbook, an SQLite header) decide first because
    catalogue metadata is often wrong about them; then the hint, the extension and the text
    (JSON ``{``, XML ``<kml``). Ambiguous hints (ZIP, JSON, octet-stream) only fall through.
    Raises InputError when nothing matches.
    """
    return _detect_format(Path(path), hint, Path(path).name)


def _detect_format(path: Path, hint: str | None, where: str) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(8192)
    except OSError as exc:
        raise _not_found(where) from exc
    found = _sniff_binary(path, head)
    if found:
        return found
    keys = [_hint_key(c) for c in (hint, path.suffix) if c]
    for key in keys:
        if key in _HINTS:
            return _HINTS[key]
    if any(key in _ZIP_HINTS for key in keys):
        return "shapefile"
    found = _sniff_text(head)
    if found:
        return found
    if head and b"\x00" not in head:
        return "csv"  # text that is neither JSON nor KML: treat as delimited text
    raise InputError.one(
        where,
        "format",
        f"{where}: Dateiformat nicht erkannt (Hinweis: {hint or '-'}); unterstützt werden "
        "GeoJSON, Shapefile (zip), GeoPackage, KML, CSV und XLSX.",
        f"{where}: file format not recognised (hint: {hint or '-'}); supported are "
        "GeoJSON, Shapefile (zip), GeoPackage, KML, CSV and XLSX.",
    )


def _not_found(where: str) -> InputError:
    return InputError.one(
        where, "file", f"{where}: Datei nicht gefunden", f"{where}: file not found"
    )


def read_source(
    path: Path, *, fmt: str | None = None, where: str | None = None
) -> list[SourceData]:
    """Read the file; one SourceData per layer (GeoPackage and KML folders may give several,
    a zip with several Shapefiles gives one per .shp; every other format gives one).

    ``fmt`` is one of FORMATS or any hint :func:`detect_format` understands; unambiguous
    binary signatures in the file win over it. ``where`` is the name used in error messages
    (defaults to the file name). Raises InputError with Problems naming file, line/feature/row
    and column, in German and English, for every unreadable input.
    """
    path = Path(path)
    where = where or path.name
    if not path.is_file():
        raise _not_found(where)
    if path.stat().st_size == 0:
        raise InputError(
            [Problem(where, "empty", f"{where}: Datei ist leer", f"{where}: file is empty")]
        )
    # Canonical names are hints too: a workbook handed in as "csv" is still read as a workbook.
    fmt = _detect_format(path, fmt, where)
    # Imported here: detect_format callers should not pay for GDAL/frictionless start-up.
    if fmt in GEO_FORMATS:
        from catalog.readers import geo

        return geo.read_geo(path, fmt, where)
    from catalog.readers import tables

    return [tables.read_table(path, fmt, where)]


__all__ = [
    "COLUMN_TYPES",
    "FORMATS",
    "Column",
    "SourceData",
    "detect_format",
    "read_source",
]
