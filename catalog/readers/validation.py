"""frictionless validation of a whole table in one pass that also yields the typed rows (an
``on_row`` callback keeps each one), reading on past frictionless' error limit, with a compact
summary for the report. A column where some value (beyond the inference sample) does not fit its
type is read as text instead, with a warning, and validated again: typing must never lose a value
such as house number "14a".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from frictionless import Resource, Schema

from catalog.readers.cells import Cells, label
from catalog.readers.problems import ProblemList
from catalog.readers.schema import make_schema

_ERROR_LIMIT = 1_000  # frictionless stops validating here; we keep reading and counting
_REPORT_ERRORS = 20


class _Shared(list):
    """Inline data frictionless may deep-copy but need not: ``Resource.validate`` exports the
    resource descriptor (data included) before it starts, which deep-copied every cell and
    cost about 40 % of the read time for 100,000 rows. The data is never modified."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _Shared:
        return self


@dataclass
class Validated:
    typed: list[list[Any]]
    summary: dict[str, Any]
    # first type error per field outside a tolerated sub-header row: (row number, cell)
    misfits: dict[str, tuple[int, Any]]


def validate(
    names: list[str],
    schema: Schema,
    cells: Cells,
    tolerated: int | None,
    where: str,
    warnings: ProblemList,
) -> tuple[Schema, Validated]:
    """Validate and type all rows. A typed column with a value that does not fit its type
    anywhere but in a sub-header row (frictionless row number ``tolerated``) becomes a text
    column and the table is validated again: a store must not turn "14a" in a house-number
    column into an empty cell."""
    _text_cells(cells.rows, schema)
    result = _run_validation(names, schema, cells, tolerated)
    if not result.misfits:
        return schema, result
    fields = []
    for field in schema.fields:
        if field.name in result.misfits:
            number, cell = result.misfits[field.name]
            de_loc, en_loc = cells.locate(number - 2)
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
    schema = make_schema(fields)
    _text_cells(cells.rows, schema)
    return schema, _run_validation(names, schema, cells, tolerated)


def _text_cells(rows: list[list[Any]], schema: Schema) -> None:
    """Workbook cells typed as numbers or dates in a text column are text, not errors."""
    text_columns = [j for j, f in enumerate(schema.fields) if f.type == "string"]
    for row in rows:
        for j in text_columns:
            if j < len(row) and row[j] is not None and not isinstance(row[j], str):
                value = row[j]
                row[j] = value.isoformat() if isinstance(value, (date, datetime)) else label(value)


def _run_validation(
    names: list[str], schema: Schema, cells: Cells, tolerated: int | None
) -> Validated:
    rows = cells.rows
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
    return Validated(out, summary, misfits)
