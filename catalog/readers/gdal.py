"""GDAL access through pyogrio: reading one layer of a geodata file into a :class:`SourceData`
(OGR field types to column types, values to Python, feature ids, WKB to shapely, the source CRS),
listing a file's layers, and the ``/vsizip/`` path of a file inside a zip.

We read with ``pyogrio.raw.read`` rather than ``read_dataframe``: it hands back one WKB blob per
feature, so a geometry GDAL cannot make sense of becomes an error naming *that* feature instead
of one exception for the whole file, and no pandas round trip touches the values.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from catalog.errors import InputError
from catalog.readers import Column, SourceData, Value
from catalog.readers.geometry import (
    CRS84,
    LONLAT_BOUNDS,
    crs_code,
    finish_geometries,
    fits,
    geometry_type,
)
from catalog.readers.problems import ProblemList, gdal_message, unreadable

if TYPE_CHECKING:
    from catalog.readers.geojson import GeoJSONInfo

# LIBKML turns KML presentation elements into columns; they describe rendering, not data.
_KML_STYLE_FIELDS = {"altitudeMode", "tessellate", "extrude", "visibility", "drawOrder", "icon"}
_KML_OPTIONAL_FIELDS = {"Name", "name", "description", "timestamp", "begin", "end"}


# --- values -----------------------------------------------------------------------------------


def _column_type(ogr_type: str, subtype: str) -> str:
    if ogr_type in ("OFTInteger", "OFTInteger64"):
        return "boolean" if subtype == "OFSTBoolean" else "integer"
    if ogr_type == "OFTReal":
        return "number"
    if ogr_type == "OFTDate":
        return "date"
    if ogr_type == "OFTDateTime":
        return "datetime"
    return "string"  # strings, JSON, times, lists and binary are kept as text


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _parse_datetime(text: str) -> datetime:
    # GDAL writes "2024-01-01T10:00:00+01:00", some drivers "2024/01/01 10:00:00+01";
    # fromisoformat (3.11) takes both once the slashes are dashes.
    value = datetime.fromisoformat(text.replace("/", "-"))
    return value.astimezone(UTC) if value.tzinfo else value


def _convert(value: Any, kind: str) -> Value:
    if _is_null(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "boolean":
        return bool(value)
    if kind == "date":
        return date.fromisoformat(str(value).replace("/", "-")[:10])
    if kind == "datetime":
        return _parse_datetime(str(value))
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (list, tuple, np.ndarray)):
        return json.dumps([v.item() if isinstance(v, np.generic) else v for v in value])
    return str(value)


# --- GDAL access ------------------------------------------------------------------------------


def vsizip(archive: Path, member: str) -> str:
    """GDAL path of a file inside a zip, read without unpacking. The braces let GDAL open
    archives whatever their name ("download", "data.kmz", no .zip extension needed)."""
    return f"/vsizip/{{{archive.resolve()}}}/{member}"


def list_layers(gdal_path: str, where: str) -> list[str]:
    try:
        return [str(name) for name, _kind in pyogrio.list_layers(gdal_path)]
    except Exception as exc:
        raise unreadable(
            where,
            "unreadable",
            f"Datei lässt sich nicht öffnen (GDAL: {gdal_message(exc)})",
            f"file cannot be opened (GDAL: {gdal_message(exc)})",
        ) from exc


def _read_raw(gdal_path: str, layer: str | None, where: str) -> tuple[dict, Any, Any, list, list]:
    """pyogrio.raw.read with GDAL's warnings collected instead of printed."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            meta, fids, wkbs, fields = pyogrio.raw.read(
                gdal_path, layer=layer, return_fids=True, datetime_as_string=True
            )
        except Exception as exc:  # any GDAL failure means: this file cannot be read
            raise unreadable(
                where,
                "unreadable",
                f"Datei lässt sich nicht lesen (GDAL: {gdal_message(exc)})",
                f"file cannot be read (GDAL: {gdal_message(exc)})",
            ) from exc
    if wkbs is None:  # a table without geometry column (GeoPackage attribute table)
        wkbs = np.full(len(fids), None, dtype=object)
    messages = [
        gdal_message(w.message)
        for w in caught
        if issubclass(w.category, RuntimeWarning)
        # GDAL notes it accepted "2024-01-01T10:00:00+01:00" in a GeoPackage: not a problem.
        and "successfully parsed" not in str(w.message)
    ]
    return meta, fids, wkbs, fields, messages


def _parse_geometries(
    wkbs: Sequence[bytes | None],
    locate: Callable[[int], tuple[str, str]],
    where: str,
    expected: Sequence[Any] | None = None,
) -> np.ndarray:
    """WKB to shapely; a feature whose geometry GDAL or GEOS cannot read is an error.

    ``expected`` (GeoJSON) is the geometry member of each feature as written in the file: GDAL
    silently returns no geometry for e.g. non-numeric coordinates, so a None from GDAL for a
    feature that has a geometry in the file is also unreadable.
    """
    geoms = np.asarray(shapely.from_wkb(np.asarray(wkbs, dtype=object), on_invalid="ignore"))
    problems = ProblemList(where)
    for i, (wkb, geom) in enumerate(zip(wkbs, geoms, strict=True)):
        if geom is not None:
            continue
        if wkb is not None:
            try:
                shapely.from_wkb(wkb)
                reason = "WKB"
            except Exception as exc:
                reason = gdal_message(exc)
        elif expected is not None and expected[i] is not None:
            try:
                shapely.from_geojson(json.dumps(expected[i]))
                reason = "GDAL"
            except Exception as exc:
                reason = gdal_message(exc)
        else:
            continue  # a null geometry is allowed
        de_loc, en_loc = locate(i)
        problems.add(
            f"{where}, {en_loc}",
            "geometry-unreadable",
            f"{where}: {de_loc}: Geometrie nicht lesbar ({reason})",
            f"{where}: {en_loc}: geometry cannot be read ({reason})",
        )
    if problems:
        raise InputError(problems.problems())
    return geoms


def _source_crs(
    meta: dict, geoms: np.ndarray, where: str, warnings_: ProblemList
) -> tuple[CRS, str]:
    """The CRS to transform from, and the code to report."""
    if meta.get("crs"):
        try:
            crs = CRS.from_user_input(meta["crs"])
        except CRSError as exc:
            raise unreadable(
                where,
                "crs",
                f"Koordinatenreferenzsystem nicht lesbar ({gdal_message(exc)})",
                f"coordinate reference system cannot be read ({gdal_message(exc)})",
            ) from exc
        return crs, crs_code(crs)
    present = np.array([g is not None for g in geoms], dtype=bool)
    if not present.any() or fits(shapely.bounds(geoms[present]), LONLAT_BOUNDS).all():
        warnings_.add(
            where,
            "crs-assumed",
            f"{where}: kein Koordinatenreferenzsystem angegeben (.prj fehlt?); die Koordinaten "
            "passen zu Länge/Breite, CRS84 wird angenommen",
            f"{where}: no coordinate reference system declared (missing .prj?); the coordinates "
            "fit longitude/latitude, CRS84 is assumed",
        )
        return CRS.from_user_input(CRS84), CRS84
    raise unreadable(
        where,
        "crs-unknown",
        "Koordinatenreferenzsystem unbekannt: die Datei gibt keines an (.prj fehlt?) und die "
        "Koordinaten sind keine Längen/Breiten. Bitte die .prj-Datei mitliefern.",
        "CRS unknown: the file declares none (missing .prj?) and the coordinates are not "
        "longitude/latitude. Please include the .prj file.",
    )


def read_layer(
    gdal_path: str,
    layer: str | None,
    name: str,
    fmt: str,
    where: str,
    *,
    geojson: GeoJSONInfo | None = None,
) -> SourceData:
    """One layer as SourceData. ``geojson`` (GeoJSON only) is what the raw read of the file
    found: feature count, ids and geometry members, declared CRS."""
    meta, fids, wkbs, values, messages = _read_raw(gdal_path, layer, where)
    warnings_ = ProblemList(where)
    for message in messages:
        warnings_.add(
            where, "gdal", f"{where}: GDAL meldet: {message}", f"{where}: GDAL: {message}"
        )

    names = [str(n) for n in meta["fields"]]
    kinds = [
        _column_type(t, s) for t, s in zip(meta["ogr_types"], meta["ogr_subtypes"], strict=True)
    ]
    keep = list(range(len(names)))
    feature_ids: list[str | int | None] | None = None

    if fmt == "geojson" and geojson is not None:
        if geojson.count != len(wkbs):
            raise unreadable(
                where,
                "features",
                f"GDAL liest {len(wkbs)} Objekte, die Datei enthält {geojson.count}",
                f"GDAL reads {len(wkbs)} features, the file holds {geojson.count}",
            )
        if geojson.has_ids:
            feature_ids = geojson.ids
        if "id" in names and not geojson.id_in_properties:
            keep.remove(names.index("id"))  # GDAL's copy of the feature id, not a property
    elif fmt == "geopackage":
        feature_ids = [int(f) for f in fids]
    elif fmt == "kml":
        if "id" in names:
            column = values[names.index("id")]
            if any(not _is_null(v) for v in column):
                feature_ids = [None if _is_null(v) else str(v) for v in column]
            keep.remove(names.index("id"))
        keep = [
            i
            for i in keep
            if names[i] not in _KML_STYLE_FIELDS
            and not (names[i] in _KML_OPTIONAL_FIELDS and all(_is_null(v) for v in values[i]))
        ]

    def locate(i: int) -> tuple[str, str]:
        fid = feature_ids[i] if feature_ids is not None else None
        suffix = f" (id {fid!r})" if fid is not None else ""
        return f"Objekt {i + 1}{suffix}", f"feature {i + 1}{suffix}"

    columns = [Column(names[i], kinds[i]) for i in keep]
    converted = [[_convert(v, kinds[i]) for v in values[i]] for i in keep]
    rows = list(zip(*converted, strict=True)) if converted else [() for _ in wkbs]

    report: dict[str, Any] = {"format": fmt, "layer": name, "rows": len(rows)}
    geometries: list[shapely.Geometry | None] | None = None
    source_crs = geom_type = None
    if meta.get("geometry_type") is not None or any(w is not None for w in wkbs):
        geoms = _parse_geometries(
            wkbs, locate, where, expected=geojson.geometries if geojson else None
        )
        crs, source_crs = _source_crs(meta, geoms, where, warnings_)
        if fmt == "geojson" and geojson is not None:
            # GDAL reports EPSG:4326 for RFC 7946 files; say what the file says (none = CRS84).
            source_crs = geojson.declared_crs or CRS84
        elif fmt == "kml":
            source_crs = CRS84  # KML is lon/lat WGS84 by definition; it declares nothing
        geometries = finish_geometries(geoms, crs, locate, where, warnings_)
        geom_type = geometry_type(geometries)
    report["warnings"] = warnings_.to_dicts()
    return SourceData(
        name=name,
        columns=columns,
        rows=rows,
        geometries=geometries,
        feature_ids=feature_ids,
        source_crs=source_crs,
        geometry_type=geom_type,
        report=report,
    )
