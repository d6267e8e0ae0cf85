"""Type inference for table columns. frictionless infers the schema (``Detector.detect_schema``)
from a sample: the first 1,000 rows plus 1,000 spread evenly over the rest (its inference costs
~0.1 ms per row and column; all 100,000 rows would cost ~10 s). Cheap regular-expression passes
over *all* values then refine it: leading-zero codes stay strings, German "1.234,5" numbers and
"31.12.2024" dates, integer columns that turn decimal further down, Excel's midnight datetimes
that are dates. A units row under the header ("µg/m³") is detected and left out of the inference.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from frictionless import Detector, Schema

# The types a store column can have; frictionless' geopoint would read "1,5" as a point and
# year/yearmonth/duration/object/array have no column type of their own.
_CANDIDATES = [{"type": t} for t in ("datetime", "date", "integer", "number", "boolean", "string")]
_SAMPLE_HEAD = 1_000
_SAMPLE_MAX = 2_000

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_LEADING_ZERO = re.compile(r"[+-]?0\d")  # "01067", "01000": codes, not numbers
GERMAN_NUMBER = re.compile(r"[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_GERMAN_DATE = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}")
_GERMAN_DATETIME = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4} \d{1,2}:\d{2}")
_GERMAN_DATETIME_S = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4} \d{1,2}:\d{2}:\d{2}")


def infer_schema(names: list[str], rows: list[list[Any]], german: bool, skip_first: bool) -> Schema:
    """The schema of the raw ``rows``; ``german`` allows decimal commas, ``skip_first`` leaves a
    sub-header row out."""
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
        texts and _all_match(GERMAN_NUMBER, texts) and any("," in v for v in texts)
        for texts in ([v for v in col if isinstance(v, str)] for col in columns)
    )
    fields = []
    for field, values in zip(inferred.fields, columns, strict=True):
        fields.append(
            _refine({"name": field.name, "type": field.type}, values, german, german_file)
        )
    return make_schema(fields)


def make_schema(fields: list[dict[str, Any]]) -> Schema:
    """A frictionless Schema from field descriptors; numbers are read as float, not Decimal."""
    for descriptor in fields:
        if descriptor["type"] == "number":
            descriptor["floatNumber"] = True
    return Schema.from_descriptor({"fields": fields})


def has_subheader(rows: list[list[Any]]) -> bool:
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
        and _all_match(GERMAN_NUMBER, texts)
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
        or GERMAN_NUMBER.fullmatch(value)
        or _ISO_DATE.match(value)
        or _GERMAN_DATE.match(value)
    )
