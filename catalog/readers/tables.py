"""Entry point for tables (CSV, XLSX): :func:`read_table` runs the steps that turn a table into
typed rows and, when it carries coordinate or WKT columns, CRS84 geometries.

How the work is split, and why:

* Cells come from Python's csv module (after our own byte-level encoding and delimiter
  detection, which frictionless' statistical guesses get wrong for short German files) or from
  frictionless' XLSX parser (openpyxl) (:mod:`~catalog.readers.cells`). Keeping the raw cells
  lets us name physical line numbers and read coordinates that a typed value would have lost.
* frictionless infers the schema from a sample; cheap passes over all values refine it for
  German numbers and dates, codes with leading zeros and a units row under the header
  (:mod:`~catalog.readers.schema`).
* frictionless ``validate`` runs over all rows once and keeps each typed row, so validation and
  conversion are one pass; a column with a value that does not fit its type is read as text
  (:mod:`~catalog.readers.validation`).
* Geometries come from the raw cells of a WKT column or a pair of coordinate columns
  (:mod:`~catalog.readers.table_geometry`).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.readers import COLUMN_TYPES, Column, SourceData
from catalog.readers.cells import (
    Cells,
    column_names,
    csv_cells,
    detect_delimiter,
    label,
    strip_sep_line,
    trim_empty_columns,
    xlsx_cells,
)
from catalog.readers.encoding import detect_encoding
from catalog.readers.geometry import geometry_type
from catalog.readers.problems import ProblemList
from catalog.readers.schema import has_subheader, infer_schema
from catalog.readers.table_geometry import TableGeometry
from catalog.readers.validation import validate


def read_table(path: Path, fmt: str, where: str) -> SourceData:
    warnings = ProblemList(where)
    report: dict[str, Any] = {"format": fmt}
    cells, german = _read_cells(path, fmt, where, report, warnings)

    trim_empty_columns(cells)
    names = column_names(cells.header, where, warnings)
    subheader = has_subheader(cells.rows)
    schema = infer_schema(names, cells.rows, german, subheader)
    tolerated = None
    if subheader and any(f.type != "string" for f in schema.fields):
        tolerated = 2  # frictionless row number of the first data row
        first = cells.rows[0]
        report["subheader"] = {
            name: label(first[j]) for j, name in enumerate(names) if j < len(first) and first[j]
        }
        de_loc, en_loc = cells.locate(0)
        warnings.add(
            f"{where}, {en_loc}",
            "subheader",
            f"{where}: {de_loc} sieht wie eine zweite Kopfzeile aus (Einheiten?); ihre Zellen "
            "passen nicht zu den Spaltentypen und bleiben leer (Inhalt unter 'subheader')",
            f"{where}: {en_loc} looks like a second header row (units?); its cells do not fit "
            "the column types and are left empty (content under 'subheader')",
        )
    schema, validated = validate(names, schema, cells, tolerated, where, warnings)
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

    geometry = TableGeometry(names, cells, where, warnings)
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


def _read_cells(
    path: Path, fmt: str, where: str, report: dict[str, Any], warnings: ProblemList
) -> tuple[Cells, bool]:
    """The raw cells, and whether text cells such as "1,5" are German decimals."""
    if fmt == "csv":
        decoded = detect_encoding(path.read_bytes(), where)
        text, delimiter, first_line = strip_sep_line(decoded.text)
        delimiter = delimiter or detect_delimiter(text)
        report.update(encoding=decoded.encoding, delimiter=delimiter)
        # In a comma file, "1,5" would have needed quotes.
        return csv_cells(text, delimiter, first_line, where), delimiter != ","
    if fmt == "xlsx":
        cells, sheets = xlsx_cells(path, where)
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
        return cells, True  # text cells "1,5" in a workbook are German decimals too
    raise ValueError(f"not a table format: {fmt}")


def _python_value(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _column_type(kind: str) -> str:
    """frictionless field type to column type; anything without a type of its own is text."""
    return kind if kind in COLUMN_TYPES else "string"
