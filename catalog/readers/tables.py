"""Table readers (CSV, XLSX): frictionless schema inference and validation, German number and
date conventions, and point/WKT geometries from coordinate columns.

How the work is split, and why:

* Cells come from Python's csv module (after our own byte-level encoding and delimiter
  detection, which frictionless' statistical guesses get wrong for short German files) or from
  frictionless' XLSX parser (openpyxl). Keeping the raw cells lets us name physical line
  numbers and read coordinates that a typed value would have lost.
* frictionless infers the schema (``Detector.detect_schema``) from a sample: the first 1,000
  rows plus 1,000 spread evenly over the rest. Its inference builds a cell reader per cell and
  candidate type (~0.1 ms per row and column; all 100,000 rows would cost ~10 s). Cheap
  regular-expression passes over *all* values then refine it: leading-zero codes stay strings,
  German "1.234,5" numbers and "31.12.2024" dates, integer columns that turn decimal further
  down. A units row under the header ("µg/m³") is left out of the inference.
* frictionless ``validate`` runs over all rows once; an ``on_row`` callback keeps each typed
  row, so validation and conversion are one pass. Structural errors (missing or extra cells)
  are reported and those cells are None. A column where any value (beyond the sample) does not
  fit the inferred type is read as text instead, with a warning, and validated again: typing
  must never lose a value such as house number "14a".
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import shapely
from frictionless import Detector, FrictionlessException, Resource, Schema, formats
from pyproj import CRS
from pyproj.exceptions import CRSError

from catalog.errors import InputError, Problem
from catalog.readers import Column, SourceData
from catalog.readers.encoding import detect_encoding
from catalog.readers.geo import (
    CRS84,
    LONLAT_BOUNDS,
    ProblemList,
    finish_geometries,
    fits,
    geometry_type,
    unreadable,
)

# Cells holding whole WKT polygons exceed csv's default 128 KiB field limit. The limit is
# process-wide; raising it never breaks another reader.
csv.field_size_limit(max(csv.field_size_limit(), 256 * 1024 * 1024))

# The types a store column can have; frictionless' geopoint would read "1,5" as a point and
# year/yearmonth/duration/object/array have no column type of their own.
_CANDIDATES = [{"type": t} for t in ("datetime", "date", "integer", "number", "boolean", "string")]
_SAMPLE_HEAD = 1_000
_SAMPLE_MAX = 2_000
_ERROR_LIMIT = 1_000  # frictionless stops validating here; we keep reading and counting
_REPORT_ERRORS = 20
_DELIMITERS = (",", ";", "\t", "|")

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_LEADING_ZERO = re.compile(r"[+-]?0\d")  # "01067", "01000": codes, not numbers
_GERMAN_NUMBER = re.compile(r"[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_GERMAN_DATE = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}")
_GERMAN_DATETIME = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4} \d{1,2}:\d{2}")
_GERMAN_DATETIME_S = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4} \d{1,2}:\d{2}:\d{2}")
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


@dataclass
class _Cells:
    header: list[Any]
    rows: list[list[Any]]  # raw cells, blank rows left out
    locations: list[int]  # line number (CSV) or sheet row (XLSX) of each row
    unit: tuple[str, str]  # ("Zeile", "line") or ("Zeile", "row")
    blank_rows: int


# --- reading cells ----------------------------------------------------------------------------


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most consistent number (>1) of
    fields; csv.Sniffer is easily fooled by commas inside German decimals."""
    sample = text[:65_536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    best, best_score = ",", (0.0, 0)
    for delimiter in _DELIMITERS:
        try:
            rows = [
                r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter) if r
            ]
        except csv.Error:
            continue
        rows = rows[:50]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(r) == width for r in rows) / len(rows), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_cells(text: str, delimiter: str, first_line: int, where: str) -> _Cells:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[list[Any]] = []
    locations: list[int] = []
    blank = 0
    while True:
        start = reader.line_num + first_line  # physical line where the next record begins
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line = reader.line_num + first_line - 1
            raise InputError(
                [
                    Problem(
                        f"{where}, line {line}",
                        "syntax:csv",
                        f"{where}: Zeile {line}: CSV nicht lesbar ({exc})",
                        f"{where}: line {line}: CSV cannot be parsed ({exc})",
                    )
                ]
            ) from exc
        if not any(cells):
            blank += header is not None
            continue
        if header is None:
            header = cells
            continue
        rows.append(cells)
        locations.append(start)
    if header is None:
        raise unreadable(where, "empty", "keine Kopfzeile gefunden", "no header row found")
    return _Cells(header, rows, locations, ("Zeile", "line"), blank)


def _xlsx_cells(path: Path, where: str) -> tuple[_Cells, list[str]]:
    try:
        # A file object: openpyxl refuses paths without an Excel extension ("download.bin").
        with path.open("rb") as handle:
            book = openpyxl.load_workbook(handle, read_only=True)  # lazy: the sheet list only
            sheets = list(book.sheetnames)
            book.close()
        with Resource(str(path), format="xlsx", control=formats.ExcelControl(sheet=1)) as res:
            cells = res.read_cells()
    except (FrictionlessException, OSError, KeyError, ValueError) as exc:
        raise unreadable(
            where,
            "syntax:xlsx",
            f"Excel-Datei nicht lesbar ({' '.join(str(exc).split())[:300]})",
            f"Excel file cannot be read ({' '.join(str(exc).split())[:300]})",
        ) from exc
    except Exception as exc:  # zipfile/openpyxl raise many kinds for damaged workbooks
        raise unreadable(
            where,
            "syntax:xlsx",
            f"Excel-Datei nicht lesbar ({type(exc).__name__})",
            f"Excel file cannot be read ({type(exc).__name__})",
        ) from exc
    header: list[Any] | None = None
    rows: list[list[Any]] = []
    locations: list[int] = []
    blank = 0
    for number, row in enumerate(cells, start=1):
        if all(c is None or c == "" for c in row):
            blank += header is not None
            continue
        if header is None:
            header = list(row)
            continue
        rows.append(list(row))
        locations.append(number)
    if header is None:
        raise unreadable(
            where, "empty", "das erste Tabellenblatt ist leer", "the first sheet is empty"
        )
    return _Cells(header, rows, locations, ("Zeile", "row"), blank), sheets


# --- schema -----------------------------------------------------------------------------------


def _label(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a year typed into an Excel header
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _trim_empty_columns(cells: _Cells) -> None:
    """Drop trailing columns without label and data (a ';' at each line end, Excel
    formatting beyond the table)."""
    width = len(cells.header)
    while (
        width
        and _label(cells.header[width - 1]) == ""
        and all(len(r) < width or r[width - 1] in ("", None) for r in cells.rows)
    ):
        width -= 1
    cells.header = cells.header[:width]
    for i, row in enumerate(cells.rows):
        if len(row) > width and all(c in ("", None) for c in row[width:]):
            cells.rows[i] = row[:width]


def _names(header: list[Any], where: str, warnings: ProblemList) -> list[str]:
    """Column names as in the source; empty and duplicate labels get a made-up unique name
    (the store needs one) and a warning."""
    names: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(header, start=1):
        label = _label(raw)
        name = label or f"field{i}"
        suffix = 2
        while name in seen:
            name = f"{label or f'field{i}'}_{suffix}"
            suffix += 1
        if name != label:
            warnings.add(
                f"{where}, column {i}",
                "column-renamed",
                f"{where}: Spalte {i}: Überschrift {label!r} ist leer oder doppelt, "
                f"die Spalte heißt jetzt {name!r}",
                f"{where}: column {i}: heading {label!r} is empty or repeated, "
                f"the column is named {name!r}",
            )
        seen.add(name)
        names.append(name)
    return names


def _sample(rows: list[list[Any]]) -> list[list[Any]]:
    if len(rows) <= _SAMPLE_MAX:
        return rows
    rest = rows[_SAMPLE_HEAD:]
    step = len(rest) / (_SAMPLE_MAX - _SAMPLE_HEAD)
    return rows[:_SAMPLE_HEAD] + [rest[int(i * step)] for i in range(_SAMPLE_MAX - _SAMPLE_HEAD)]


def _all_match(pattern: re.Pattern[str], values: list[str]) -> bool:
    return all(pattern.fullmatch(v) for v in values)


def _refine(
    descriptor: dict[str, Any], values: list[Any], german: bool, german_file: bool
) -> dict[str, Any]:
    """Adjust one inferred field with all its non-empty values in view."""
    kind = descriptor["type"]
    texts = [v for v in values if isinstance(v, str)]
    name = descriptor["name"]
    if kind == "any":
        kind = "string"  # empty or hopelessly mixed
    if kind == "integer" and texts:
        if any(_LEADING_ZERO.match(v) for v in texts):
            return {"name": name, "type": "string"}  # postcodes, district numbers: keep "01067"
        if not _all_match(_INT, texts) and _all_match(_FLOAT, texts):
            kind = "number"  # decimals further down than the sample reached
    if (
        german
        and texts
        and kind in ("string", "integer", "number")
        and _all_match(_GERMAN_NUMBER, texts)
    ):
        decimal = any("," in v for v in texts)
        grouped = german_file and any(_GROUPED.fullmatch(v) for v in texts)
        if decimal or grouped:
            return {"name": name, "type": "number", "decimalChar": ",", "groupChar": "."}
    if kind == "string" and texts and len(texts) == len(values):
        if _all_match(_GERMAN_DATE, texts):
            return {"name": name, "type": "date", "format": "%d.%m.%Y"}
        if _all_match(_GERMAN_DATETIME_S, texts):
            return {"name": name, "type": "datetime", "format": "%d.%m.%Y %H:%M:%S"}
        if _all_match(_GERMAN_DATETIME, texts):
            return {"name": name, "type": "datetime", "format": "%d.%m.%Y %H:%M"}
    if (
        kind == "datetime"
        and values
        and all(
            isinstance(v, datetime) and v.time() == datetime.min.time() and v.tzinfo is None
            for v in values
        )
    ):
        return {"name": name, "type": "date"}  # Excel stores dates as midnight datetimes
    return {**descriptor, "type": kind}


def _looks_typed(value: Any) -> bool:
    if not isinstance(value, str):
        return value is not None
    return bool(
        _FLOAT.fullmatch(value)
        or _GERMAN_NUMBER.fullmatch(value)
        or _ISO_DATE.match(value)
        or _GERMAN_DATE.match(value)
    )


def _has_subheader(rows: list[list[Any]]) -> bool:
    """Whether the first data row is a second header row (units such as "µg/m³", format
    notes such as "yyyy-mm-dd"): it holds only text, and some column with text there has
    nothing but numbers or dates below (at least five of them).

    frictionless would type every such column as string; we type them by the rows below and
    let the sub-header cells become (reported) type errors instead.
    """
    if len(rows) < 6:
        return False
    first, below = rows[0], _sample(rows[1:])
    if any(_looks_typed(v) for v in first if v not in ("", None)):
        return False
    for j, head in enumerate(first):
        if head in ("", None):
            continue
        values = [r[j] for r in below if j < len(r) and r[j] not in ("", None)]
        if len(values) >= 5 and all(_looks_typed(v) for v in values):
            return True
    return False


def _schema(names: list[str], rows: list[list[Any]], german: bool, skip_first: bool) -> Schema:
    body = rows[1:] if skip_first else rows
    detector = Detector(field_float_numbers=True)
    inferred = detector.detect_schema(_sample(body), labels=names, field_candidates=_CANDIDATES)
    columns = [
        [r[j] for r in body if j < len(r) and r[j] is not None and r[j] != ""]
        for j in range(len(names))
    ]
    # A file where some column has decimal commas writes "1.234" for one thousand two
    # hundred and thirty-four, so grouped numbers elsewhere in it are German as well.
    german_file = german and any(
        texts and _all_match(_GERMAN_NUMBER, texts) and any("," in v for v in texts)
        for texts in ([v for v in col if isinstance(v, str)] for col in columns)
    )
    fields = []
    for field, values in zip(inferred.fields, columns, strict=True):
        fields.append(
            _refine({"name": field.name, "type": field.type}, values, german, german_file)
        )
    return _make_schema(fields)


def _make_schema(fields: list[dict[str, Any]]) -> Schema:
    for descriptor in fields:
        if descriptor["type"] == "number":
            descriptor["floatNumber"] = True  # float, not Decimal
    return Schema.from_descriptor({"fields": fields})


def _text_cells(rows: list[list[Any]], schema: Schema) -> None:
    """Workbook cells typed as numbers or dates in a text column are text, not errors."""
    text_columns = [j for j, f in enumerate(schema.fields) if f.type == "string"]
    for row in rows:
        for j in text_columns:
            if j < len(row) and row[j] is not None and not isinstance(row[j], str):
                value = row[j]
                row[j] = value.isoformat() if isinstance(value, (date, datetime)) else _label(value)


# --- validation and typed rows ----------------------------------------------------------------


class _Shared(list):
    """Inline data frictionless may deep-copy but need not: ``Resource.validate`` exports the
    resource descriptor (data included) before it starts, which deep-copied every cell and
    cost about 40 % of the read time for 100,000 rows. The data is never modified."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _Shared:
        return self


@dataclass
class _Validated:
    typed: list[list[Any]]
    summary: dict[str, Any]
    # first type error per field outside a tolerated sub-header row: (row number, cell)
    misfits: dict[str, tuple[int, Any]]


def _run_validation(
    names: list[str], rows: list[list[Any]], schema: Schema, cells: _Cells, tolerated: int | None
) -> _Validated:
    typed: dict[int, list[Any]] = {}
    misfits: dict[str, tuple[int, Any]] = {}

    def keep(row: Any, offset: int = 0) -> list[Any]:
        number = row.row_number + offset
        typed[number] = row.to_list()
        for error in row.errors:
            if error.type == "type-error" and number != tolerated:
                misfits.setdefault(error.field_name, (number, error.cell))
        return row.errors

    resource = Resource(data=_Shared([names, *rows]), schema=schema)
    report = resource.validate(on_row=keep, limit_errors=_ERROR_LIMIT)
    task = report.tasks[0]
    errors = [e.to_descriptor() for e in task.errors]
    types = Counter(e.get("type", "error") for e in errors)
    if any("reached error limit" in w for w in task.warnings):
        # frictionless stopped at _ERROR_LIMIT errors; read on (typing, counting) from there.
        done = max(typed, default=1) - 1
        with Resource(data=_Shared([names, *rows[done:]]), schema=schema) as rest:
            for row in rest.row_stream:
                types.update(e.type for e in keep(row, done))
    out = [typed.get(i + 2) or [None] * len(names) for i in range(len(rows))]

    def compact(error: dict[str, Any]) -> dict[str, Any]:
        item = {k: error.get(k) for k in ("rowNumber", "fieldName", "type", "note", "message")}
        number = error.get("rowNumber")
        if isinstance(number, int) and 2 <= number < len(cells.locations) + 2:
            item[cells.unit[1]] = cells.locations[number - 2]
        return item

    count = sum(types.values())
    summary = {
        "valid": count == 0,
        "error_count": count,
        "error_types": dict(types),
        "errors": [compact(e) for e in errors[:_REPORT_ERRORS]],
    }
    return _Validated(out, summary, misfits)


def _validate(
    names: list[str],
    schema: Schema,
    cells: _Cells,
    tolerated: int | None,
    where: str,
    warnings: ProblemList,
) -> tuple[Schema, _Validated]:
    """Validate and type all rows. A typed column with a value that does not fit its type
    anywhere but in a sub-header row becomes a text column and the table is validated again:
    a store must not turn "14a" in a house-number column into an empty cell."""
    _text_cells(cells.rows, schema)
    result = _run_validation(names, cells.rows, schema, cells, tolerated)
    if not result.misfits:
        return schema, result
    fields = []
    for field in schema.fields:
        if field.name in result.misfits:
            number, cell = result.misfits[field.name]
            de_loc, en_loc = _locate(cells, number - 2)
            warnings.add(
                f"{where}, {en_loc}, column {field.name!r}",
                "column-as-text",
                f"{where}: Spalte {field.name!r} wird als Text gelesen: {de_loc} enthält "
                f"{cell!r}, die übrigen Werte sind vom Typ {field.type}",
                f"{where}: column {field.name!r} is read as text: {en_loc} holds {cell!r}, "
                f"the other values are {field.type}",
            )
            fields.append({"name": field.name, "type": "string"})
        else:
            fields.append(field.to_descriptor())
    schema = _make_schema(fields)
    _text_cells(cells.rows, schema)
    return schema, _run_validation(names, cells.rows, schema, cells, tolerated)


def _locate(cells: _Cells, i: int) -> tuple[str, str]:
    de, en = cells.unit
    return f"{de} {cells.locations[i]}", f"{en} {cells.locations[i]}"


def _python_value(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --- geometry from columns --------------------------------------------------------------------


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
        if _GERMAN_NUMBER.fullmatch(text) and "," in text:
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


class _Geometry:
    """Finds the geometry of a table: a WKT column, else a pair of coordinate columns."""

    def __init__(self, names: list[str], cells: _Cells, where: str, warnings: ProblemList):
        self.names = names
        self.cells = cells
        self.where = where
        self.warnings = warnings
        self.geometries: list[shapely.Geometry | None] | None = None
        self.crs: str | None = None
        self.info: dict[str, Any] | None = None
        self.wkt_column: int | None = None

    def locate(self, i: int) -> tuple[str, str]:
        return _locate(self.cells, i)

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
            de_loc, en_loc = self.locate(int(i))
            self.warnings.add(
                f"{self.where}, {en_loc}",
                "coordinates-out-of-range",
                f"{self.where}: {de_loc}: Koordinaten passen nicht zu {code} wie die übrigen "
                "Zeilen; keine Geometrie",
                f"{self.where}: {en_loc}: coordinates do not fit {code} like the other rows; "
                "no geometry",
            )
            geoms[i] = None
        self.geometries = finish_geometries(geoms, crs, self.locate, self.where, self.warnings)
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
            de_loc, en_loc = self.locate(i)
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
                de_loc, en_loc = self.locate(i)
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


# --- entry point ------------------------------------------------------------------------------


def _strip_sep_line(text: str) -> tuple[str, str | None, int]:
    """Excel writes 'sep=;' as first line when asked to; it names the delimiter."""
    match = re.match(r"sep=(.)\r?\n", text)
    if match:
        return text[match.end() :], match.group(1), 2
    return text, None, 1


def read_table(path: Path, fmt: str, where: str) -> SourceData:
    warnings = ProblemList(where)
    report: dict[str, Any] = {"format": fmt}
    if fmt == "csv":
        decoded = detect_encoding(path.read_bytes(), where)
        text, delimiter, first_line = _strip_sep_line(decoded.text)
        delimiter = delimiter or detect_delimiter(text)
        cells = _csv_cells(text, delimiter, first_line, where)
        report.update(encoding=decoded.encoding, delimiter=delimiter)
        german = delimiter != ","  # in a comma file, "1,5" would have needed quotes
    elif fmt == "xlsx":
        cells, sheets = _xlsx_cells(path, where)
        report["sheet"] = sheets[0] if sheets else None
        if len(sheets) > 1:
            warnings.add(
                where,
                "sheets-ignored",
                f"{where}: nur das erste Tabellenblatt ({sheets[0]!r}) wird gelesen, "
                f"{len(sheets) - 1} weitere werden ignoriert",
                f"{where}: only the first sheet ({sheets[0]!r}) is read, "
                f"{len(sheets) - 1} more are ignored",
            )
        german = True  # text cells "1,5" in a workbook are German decimals too
    else:
        raise ValueError(f"not a table format: {fmt}")

    _trim_empty_columns(cells)
    names = _names(cells.header, where, warnings)
    subheader = _has_subheader(cells.rows)
    schema = _schema(names, cells.rows, german, subheader)
    tolerated = None
    if subheader and any(f.type != "string" for f in schema.fields):
        tolerated = 2  # frictionless row number of the first data row
        first = cells.rows[0]
        report["subheader"] = {
            name: _label(first[j]) for j, name in enumerate(names) if j < len(first) and first[j]
        }
        de_loc, en_loc = _locate(cells, 0)
        warnings.add(
            f"{where}, {en_loc}",
            "subheader",
            f"{where}: {de_loc} sieht wie eine zweite Kopfzeile aus (Einheiten?); ihre Zellen "
            "passen nicht zu den Spaltentypen und bleiben leer (Inhalt unter 'subheader')",
            f"{where}: {en_loc} looks like a second header row (units?); its cells do not fit "
            "the column types and are left empty (content under 'subheader')",
        )
    schema, validated = _validate(names, schema, cells, tolerated, where, warnings)
    typed, validation = validated.typed, validated.summary
    if not validation["valid"]:
        warnings.add(
            where,
            "validation",
            f"{where}: {validation['error_count']} Fehler bei der Prüfung der Tabelle; "
            "betroffene Zellen bleiben leer (Einzelheiten unter 'validation')",
            f"{where}: {validation['error_count']} errors validating the table; the cells "
            "concerned are left empty (details under 'validation')",
        )

    geometry = _Geometry(names, cells, where, warnings)
    geometry.find()
    keep = [j for j in range(len(names)) if j != geometry.wkt_column]
    columns = [Column(names[j], _column_type(schema.fields[j].type)) for j in keep]
    for j, field in enumerate(schema.fields):
        if field.type in ("number", "datetime"):  # NaN/inf to None, aware datetimes to UTC
            for row in typed:
                row[j] = _python_value(row[j])
    if len(keep) == len(names):
        rows = [tuple(row) for row in typed]
    else:
        rows = [tuple(row[j] for j in keep) for row in typed]

    report.update(rows=len(rows), blank_rows_skipped=cells.blank_rows)
    if geometry.info:
        report["geometry"] = geometry.info
    report["warnings"] = warnings.to_dicts()
    report["validation"] = validation
    return SourceData(
        name=path.stem,
        columns=columns,
        rows=rows,
        geometries=geometry.geometries,
        feature_ids=None,
        source_crs=geometry.crs,
        geometry_type=geometry_type(geometry.geometries) if geometry.geometries else None,
        report=report,
    )


def _column_type(kind: str) -> str:
    return kind if kind in ("integer", "number", "boolean", "date", "datetime") else "string"
