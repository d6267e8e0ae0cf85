"""Geodata readers (GeoJSON, zipped Shapefile, GeoPackage, KML) via GDAL/pyogrio, and the
geometry steps tables share: repair, CRS detection, transformation to CRS84.

We read with ``pyogrio.raw.read`` rather than ``read_dataframe``: it hands back one WKB blob per
feature, so a geometry GDAL cannot make sense of becomes an error naming *that* feature instead
of one exception for the whole file, and no pandas round trip touches the values.
"""

from __future__ import annotations

import json
import math
import struct
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pyogrio
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from catalog.errors import InputError, Problem
from catalog.readers import Column, SourceData, Value

CRS84 = "OGC:CRS84"
LONLAT_BOUNDS = (-180.0, -90.0, 180.0, 90.0)
MAX_PROBLEMS = 100  # per rule, in warnings and in errors; the rest is summarised

# LIBKML turns KML presentation elements into columns; they describe rendering, not data.
_KML_STYLE_FIELDS = {"altitudeMode", "tessellate", "extrude", "visibility", "drawOrder", "icon"}
_KML_OPTIONAL_FIELDS = {"Name", "name", "description", "timestamp", "begin", "end"}


# --- problems ---------------------------------------------------------------------------------


class ProblemList:
    """Problems of one rule beyond MAX_PROBLEMS are counted, not listed (a broken file with
    100,000 bad rows must not produce a 100,000-entry report)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.items: list[Problem] = []
        self.counts: Counter[str] = Counter()

    def add(self, where: str, rule: str, de: str, en: str) -> None:
        self.counts[rule] += 1
        if self.counts[rule] <= MAX_PROBLEMS:
            self.items.append(Problem(where, rule, de, en))

    def __bool__(self) -> bool:
        return bool(self.items)

    def problems(self) -> list[Problem]:
        extra = [
            Problem(
                self.where,
                rule,
                f"{self.where}: {count - MAX_PROBLEMS} weitere Meldungen der Art {rule!r}",
                f"{self.where}: {count - MAX_PROBLEMS} more of {rule!r}",
            )
            for rule, count in self.counts.items()
            if count > MAX_PROBLEMS
        ]
        return self.items + extra

    def to_dicts(self) -> list[dict[str, str]]:
        return [p.to_dict() for p in self.problems()]


def _gdal_message(exc: BaseException) -> str:
    # pyogrio/GDAL messages may span lines and repeat the path; one line is enough for a user.
    return " ".join(str(exc).split())[:400] or type(exc).__name__


def unreadable(where: str, rule: str, de: str, en: str) -> InputError:
    return InputError([Problem(where, rule, f"{where}: {de}", f"{where}: {en}")])


# --- CRS and geometry steps shared with tables ------------------------------------------------


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
        if only in (
            "Point",
            "LineString",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
        ):
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
            f"({_gdal_message(exc)})",
            f"coordinates cannot be transformed from {crs_code(crs)} to CRS84 "
            f"({_gdal_message(exc)})",
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


def _id(value: Any) -> str | int | None:
    if isinstance(value, bool) or value is None:
        return None if value is None else str(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else str(value)
    if isinstance(value, (int, str)):
        return value
    return json.dumps(value)


# --- GDAL access ------------------------------------------------------------------------------


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
                f"Datei lässt sich nicht lesen (GDAL: {_gdal_message(exc)})",
                f"file cannot be read (GDAL: {_gdal_message(exc)})",
            ) from exc
    if wkbs is None:  # a table without geometry column (GeoPackage attribute table)
        wkbs = np.full(len(fids), None, dtype=object)
    messages = [
        _gdal_message(w.message)
        for w in caught
        if issubclass(w.category, RuntimeWarning)
        # GDAL notes it accepted "2024-01-01T10:00:00+01:00" in a GeoPackage: not a problem.
        and "successfully parsed" not in str(w.message)
    ]
    return meta, fids, wkbs, fields, messages


def _layers(gdal_path: str, where: str) -> list[str]:
    try:
        return [str(name) for name, _kind in pyogrio.list_layers(gdal_path)]
    except Exception as exc:
        raise unreadable(
            where,
            "unreadable",
            f"Datei lässt sich nicht öffnen (GDAL: {_gdal_message(exc)})",
            f"file cannot be opened (GDAL: {_gdal_message(exc)})",
        ) from exc


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
                reason = _gdal_message(exc)
        elif expected is not None and expected[i] is not None:
            try:
                shapely.from_geojson(json.dumps(expected[i]))
                reason = "GDAL"
            except Exception as exc:
                reason = _gdal_message(exc)
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
                f"Koordinatenreferenzsystem nicht lesbar ({_gdal_message(exc)})",
                f"coordinate reference system cannot be read ({_gdal_message(exc)})",
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


def _read_layer(
    gdal_path: str,
    layer: str | None,
    name: str,
    fmt: str,
    where: str,
    *,
    geojson: _GeoJSONInfo | None = None,
) -> SourceData:
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


# --- formats ----------------------------------------------------------------------------------


class _GeoJSONInfo:
    """What GDAL does not tell: declared CRS, feature ids, which features have a geometry."""

    def __init__(self, document: Any, where: str) -> None:
        if not isinstance(document, dict) or "type" not in document:
            raise unreadable(
                where,
                "geojson",
                "kein GeoJSON-Objekt (es fehlt 'type')",
                "not a GeoJSON object ('type' is missing)",
            )
        kind = document["type"]
        if kind == "FeatureCollection":
            features = document.get("features")
            if not isinstance(features, list):
                raise unreadable(
                    where,
                    "geojson",
                    "FeatureCollection ohne Liste 'features'",
                    "FeatureCollection without a 'features' list",
                )
        elif kind == "Feature":
            features = [document]
        else:
            features = [{"type": "Feature", "geometry": document}]
        features = [f if isinstance(f, dict) else {} for f in features]
        self.count = len(features)
        self.ids = [_id(f.get("id")) for f in features]
        self.has_ids = any(i is not None for i in self.ids)
        self.id_in_properties = any(
            isinstance(f.get("properties"), dict) and "id" in f["properties"] for f in features
        )
        self.geometries = [f.get("geometry") for f in features]
        self.declared_crs = self._declared_crs(document.get("crs"))

    @staticmethod
    def _declared_crs(member: Any) -> str | None:
        # GeoJSON 2008 "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:..."}}
        if not isinstance(member, dict):
            return None
        name = (member.get("properties") or {}).get("name")
        if not isinstance(name, str):
            return None
        try:
            return crs_code(CRS.from_user_input(name))
        except CRSError:
            return name


def _read_geojson(path: Path, where: str) -> list[SourceData]:
    try:
        document = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise InputError(
            [
                Problem(
                    f"{where}, line {exc.lineno}",
                    "syntax:json",
                    f"{where}: Zeile {exc.lineno}, Spalte {exc.colno}: ungültiges JSON ({exc.msg})",
                    f"{where}: line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg})",
                )
            ]
        ) from exc
    except UnicodeDecodeError as exc:
        raise unreadable(
            where, "encoding", "GeoJSON ist kein UTF-8", "GeoJSON is not UTF-8"
        ) from exc
    info = _GeoJSONInfo(document, where)
    return [_read_layer(str(path), None, path.stem, "geojson", where, geojson=info)]


def _shapefiles_in_zip(path: Path, where: str) -> list[str]:
    """Paths of the .shp files inside a zip, after checking their companions are there."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.startswith("__MACOSX/")]
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise unreadable(
            where,
            "zip",
            "kein gültiges Zip-Archiv; ein Shapefile wird als Zip mit .shp, .shx, .dbf und "
            ".prj erwartet",
            "not a valid zip archive; a Shapefile is expected as a zip holding .shp, .shx, "
            ".dbf and .prj",
        ) from exc
    if broken is not None:
        raise unreadable(
            where,
            "zip",
            f"Zip-Archiv beschädigt ({broken})",
            f"zip archive is damaged ({broken})",
        )
    lower = {n.lower(): n for n in names}
    shps = sorted(n for n in names if n.lower().endswith(".shp"))
    if not shps:
        listed = ", ".join(names[:10]) or "-"
        raise unreadable(
            where,
            "shapefile",
            f"das Zip-Archiv enthält keine .shp-Datei (Inhalt: {listed})",
            f"the zip archive contains no .shp file (contents: {listed})",
        )
    problems = ProblemList(where)
    for shp in shps:
        stem = shp[:-4]
        missing = [ext for ext in (".shx", ".dbf") if (stem + ext).lower() not in lower]
        if missing:
            problems.add(
                f"{where}, {shp}",
                "shapefile",
                f"{where}: zu {shp} fehlt {' und '.join(missing)} im Zip-Archiv",
                f"{where}: {shp} lacks {' and '.join(missing)} in the zip archive",
            )
    if problems:
        raise InputError(problems.problems())
    with zipfile.ZipFile(path) as archive:
        for shp in shps:
            shx = lower[(shp[:-4] + ".shx").lower()]
            with archive.open(shp) as handle:
                head = handle.read(100)
            inner = where if len(shps) == 1 else f"{where}/{shp}"
            _check_shp_structure(head, archive.getinfo(shp).file_size, archive.read(shx), inner)
    return shps


def _check_shp_structure(head: bytes, size: int, shx: bytes, where: str) -> None:
    """Catch truncated or damaged .shp/.shx files, which GDAL reads without complaint (a cut-off
    record just comes back without geometry): the header states the file length, the index
    states where every record lies."""
    problem = None
    if len(head) < 4 or struct.unpack(">i", head[:4])[0] != 9994:
        problem = ("die .shp-Datei hat keinen gültigen Kopf", "the .shp file has no valid header")
    elif len(head) < 100:
        problem = (
            f"die .shp-Datei ist unvollständig ({size} Bytes)",
            f"the .shp file is truncated ({size} bytes)",
        )
    elif struct.unpack(">i", head[24:28])[0] * 2 != size:
        stated = struct.unpack(">i", head[24:28])[0] * 2
        problem = (
            f"die .shp-Datei ist unvollständig oder beschädigt ({size} Bytes, laut Kopf {stated})",
            f"the .shp file is truncated or damaged ({size} bytes, its header says {stated})",
        )
    elif len(shx) < 100 or (len(shx) - 100) % 8:
        problem = ("die .shx-Datei ist beschädigt", "the .shx file is damaged")
    else:
        for number, at in enumerate(range(100, len(shx), 8), start=1):
            offset, length = struct.unpack(">ii", shx[at : at + 8])
            if offset * 2 + 8 + length * 2 > size:
                problem = (
                    f"Datensatz {number} reicht über das Ende der .shp-Datei hinaus",
                    f"record {number} extends beyond the end of the .shp file",
                )
                break
    if problem:
        raise unreadable(where, "shapefile", *problem)


def _check_shapefile_parts(shp: Path, where: str) -> None:
    parts = {ext: shp.with_suffix(ext) for ext in (".shx", ".dbf")}
    parts = {ext: p if p.exists() else p.with_suffix(ext.upper()) for ext, p in parts.items()}
    missing = [ext for ext, p in parts.items() if not p.exists()]
    if missing:
        raise unreadable(
            where,
            "shapefile",
            f"neben der .shp-Datei fehlt {' und '.join(missing)}",
            f"{' and '.join(missing)} missing next to the .shp file",
        )
    with shp.open("rb") as handle:
        head = handle.read(100)
    _check_shp_structure(head, shp.stat().st_size, parts[".shx"].read_bytes(), where)


def _vsizip(archive: Path, member: str) -> str:
    """GDAL path of a file inside a zip, read without unpacking. The braces let GDAL open
    archives whatever their name ("download", "data.kmz", no .zip extension needed)."""
    return f"/vsizip/{{{archive.resolve()}}}/{member}"


def _read_shapefile(path: Path, where: str) -> list[SourceData]:
    if path.suffix.lower() == ".shp":
        _check_shapefile_parts(path, where)
        return [_read_layer(str(path), None, path.stem, "shapefile", where)]
    shps = _shapefiles_in_zip(path, where)
    out = []
    for shp in shps:
        gdal_path = _vsizip(path, shp)
        inner_where = where if len(shps) == 1 else f"{where}/{shp}"
        out.append(_read_layer(gdal_path, None, PurePosixPath(shp).stem, "shapefile", inner_where))
    return out


def _read_multi(path: Path, fmt: str, where: str) -> list[SourceData]:
    """GeoPackage (one SourceData per table) and KML/KMZ (one per non-empty folder)."""
    gdal_path = str(path)
    if fmt == "kml" and zipfile.is_zipfile(path):
        # KMZ: read the KML inside (GDAL would only recognise the archive by its extension).
        with zipfile.ZipFile(path) as archive:
            kmls = sorted(n for n in archive.namelist() if n.lower().endswith(".kml"))
        if not kmls:
            raise unreadable(
                where, "kml", "das Zip-Archiv enthält keine .kml-Datei", "no .kml file in the zip"
            )
        gdal_path = _vsizip(path, kmls[0])
    layers = _layers(gdal_path, where)
    out = []
    for layer in layers:
        named = f"{where}, layer {layer}" if fmt == "geopackage" or len(layers) > 1 else where
        data = _read_layer(gdal_path, layer, layer, fmt, named)
        if fmt == "kml" and not data.rows and len(layers) > 1:
            continue  # LIBKML lists empty folders as layers
        out.append(data)
    if not out:
        raise unreadable(
            where, "empty", "die Datei enthält keine Ebenen", "the file contains no layers"
        )
    if fmt == "kml" and len(out) == 1:
        out[0].name = path.stem  # one layer: named like every single-layer file
    return out


def read_geo(path: Path, fmt: str, where: str) -> list[SourceData]:
    if fmt == "geojson":
        return _read_geojson(path, where)
    if fmt == "shapefile":
        return _read_shapefile(path, where)
    if fmt in ("geopackage", "kml"):
        return _read_multi(path, fmt, where)
    raise ValueError(f"not a geodata format: {fmt}")
