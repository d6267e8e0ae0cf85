"""Raw cells of a table, before any typing: CSV text split with our own delimiter detection (and
Excel's ``sep=`` line), the first sheet of an XLSX workbook through frictionless/openpyxl, blank
rows left out and every row's physical line (CSV) or sheet row (XLSX) kept for messages; then the
header: trailing empty columns trimmed and a unique name for every column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
from frictionless import FrictionlessException, Resource, formats

from catalog.errors import InputError
from catalog.readers.problems import ProblemList, one_line, unreadable

# Cells holding whole WKT polygons exceed csv's default 128 KiB field limit. The limit is
# process-wide; raising it never breaks another reader.
csv.field_size_limit(max(csv.field_size_limit(), 256 * 1024 * 1024))

_DELIMITERS = (",", ";", "\t", "|")


@dataclass
class Cells:
    header: list[Any]
    rows: list[list[Any]]  # raw cells, blank rows left out
    locations: list[int]  # line number (CSV) or sheet row (XLSX) of each row
    unit: tuple[str, str]  # ("Zeile", "line") or ("Zeile", "row")
    blank_rows: int

    def locate(self, i: int) -> tuple[str, str]:
        """Row i named in German and English ("Zeile 7", "line 7")."""
        de, en = self.unit
        return f"{de} {self.locations[i]}", f"{en} {self.locations[i]}"


def _collect(numbered: Iterable[tuple[int, list[Any]]], unit: tuple[str, str]) -> Cells | None:
    """The first non-blank row is the header; None when there is none."""
    header: list[Any] | None = None
    rows: list[list[Any]] = []
    locations: list[int] = []
    blank = 0
    for location, row in numbered:
        if all(c is None or c == "" for c in row):
            blank += header is not None
            continue
        if header is None:
            header = row
            continue
        rows.append(row)
        locations.append(location)
    return None if header is None else Cells(header, rows, locations, unit, blank)


# --- CSV --------------------------------------------------------------------------------------


def strip_sep_line(text: str) -> tuple[str, str | None, int]:
    """Excel writes 'sep=;' as first line when asked to; it names the delimiter."""
    match = re.match(r"sep=(.)\r?\n", text)
    if match:
        return text[match.end() :], match.group(1), 2
    return text, None, 1


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


def csv_cells(text: str, delimiter: str, first_line: int, where: str) -> Cells:
    cells = _collect(_csv_records(text, delimiter, first_line, where), ("Zeile", "line"))
    if cells is None:
        raise unreadable(where, "empty", "keine Kopfzeile gefunden", "no header row found")
    return cells


def _csv_records(
    text: str, delimiter: str, first_line: int, where: str
) -> Iterable[tuple[int, list[str]]]:
    """(physical line where the record begins, cells) for every record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        start = reader.line_num + first_line
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.line_num + first_line - 1
            raise InputError.one(
                f"{where}, line {line}",
                "syntax:csv",
                f"{where}: Zeile {line}: CSV nicht lesbar ({exc})",
                f"{where}: line {line}: CSV cannot be parsed ({exc})",
            ) from exc
        yield start, cells


# --- XLSX -------------------------------------------------------------------------------------


def xlsx_cells(path: Path, where: str) -> tuple[Cells, list[str]]:
    """The first sheet's cells, and the names of all sheets."""
    try:
        # A file object: openpyxl refuses paths without an Excel extension ("download.bin").
        with path.open("rb") as handle:
            book = openpyxl.load_workbook(handle, read_only=True)  # lazy: the sheet list only
            sheets = list(book.sheetnames)
            book.close()
        with Resource(str(path), format="xlsx", control=formats.ExcelControl(sheet=1)) as res:
            rows = res.read_cells()
    except (FrictionlessException, OSError, KeyError, ValueError) as exc:
        message = one_line(exc, 300)
        raise unreadable(
            where,
            "syntax:xlsx",
            f"Excel-Datei nicht lesbar ({message})",
            f"Excel file cannot be read ({message})",
        ) from exc
    except Exception as exc:  # zipfile/openpyxl raise many kinds for damaged workbooks
        raise unreadable(
            where,
            "syntax:xlsx",
            f"Excel-Datei nicht lesbar ({type(exc).__name__})",
            f"Excel file cannot be read ({type(exc).__name__})",
        ) from exc
    cells = _collect(
        ((number, list(row)) for number, row in enumerate(rows, start=1)), ("Zeile", "row")
    )
    if cells is None:
        raise unreadable(
            where, "empty", "das erste Tabellenblatt ist leer", "the first sheet is empty"
        )
    return cells, sheets


# --- header -----------------------------------------------------------------------------------


def label(value: Any) -> str:
    """A header (or sub-header) cell as text."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a year typed into an Excel header
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def trim_empty_columns(cells: Cells) -> None:
    """Drop trailing columns without label and data (a ';' at each line end, Excel
    formatting beyond the table)."""
    width = len(cells.header)
    while (
        width
        and label(cells.header[width - 1]) == ""
        and all(len(r) < width or r[width - 1] in ("", None) for r in cells.rows)
    ):
        width -= 1
    cells.header = cells.header[:width]
    for i, row in enumerate(cells.rows):
        if len(row) > width and all(c in ("", None) for c in row[width:]):
            cells.rows[i] = row[:width]


def column_names(header: list[Any], where: str, warnings: ProblemList) -> list[str]:
    """Column names as in the source; empty and duplicate labels get a made-up unique name
    (the store needs one) and a warning."""
    names: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(header, start=1):
        text = label(raw)
        name = text or f"field{i}"
        suffix = 2
        while name in seen:
            name = f"{text or f'field{i}'}_{suffix}"
            suffix += 1
        if name != text:
            warnings.add(
                f"{where}, column {i}",
                "column-renamed",
                f"{where}: Spalte {i}: Überschrift {text!r} ist leer oder doppelt, "
                f"die Spalte heißt jetzt {name!r}",
                f"{where}: column {i}: heading {text!r} is empty or repeated, "
                f"the column is named {name!r}",
            )
        seen.add(name)
        names.append(name)
    return names
