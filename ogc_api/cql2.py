"""CQL2 text and JSON for pygeoapi 0.21, which reads ``filter`` with the older ECQL grammar only
(no ``S_INTERSECTS``, no ``filter-lang=cql2-text``, JSON only as a POST body).

:func:`parse` reads what OGC API Features Part 3 specifies; :func:`install` makes pygeoapi use it.
"""

from __future__ import annotations

import json
from typing import Any

import pygeoapi.api.itemtypes as itemtypes
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text
from pygeofilter.parsers.ecql import parse as parse_ecql

from catalog.errors import CatalogError

LANGUAGES = ("cql2-text", "cql2-json", "cql-text", "cql-json")


class FilterSyntaxError(CatalogError):
    status = 400


def parse(text: str, lang: str | None = None) -> Any:
    """The pygeofilter AST of ``text``; a syntax error names the position."""
    if lang not in (None, *LANGUAGES):
        raise FilterSyntaxError.one(
            "filter-lang",
            "filter-lang",
            f"Unbekannte Filtersprache '{lang}'; erlaubt: {', '.join(LANGUAGES[:2])}",
            f"Unknown filter language '{lang}'; allowed: {', '.join(LANGUAGES[:2])}",
        )
    stripped = text.lstrip()
    as_json = lang in ("cql2-json", "cql-json") or (lang is None and stripped.startswith("{"))
    try:
        if as_json:
            return parse_cql2_json(_bbox_literals(json.loads(text)))
        try:
            return parse_cql2_text(text)
        except Exception:
            if lang in ("cql2-text",):
                raise
            return parse_ecql(text)  # older clients send ECQL
    except Exception as exc:  # the parsers raise lark's many error types
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise FilterSyntaxError.one(
            "filter",
            "cql2-syntax",
            f"Der Filter ist kein gültiges CQL2 ({'JSON' if as_json else 'Text'}): {detail}",
            f"The filter is not valid CQL2 ({'JSON' if as_json else 'text'}): {detail}",
        ) from None


def _bbox_literals(node: Any) -> Any:
    """``{"bbox": [...]}`` as a GeoJSON polygon: pygeofilter 0.4 reads the four numbers in the
    wrong order (minx, miny as x1, x2)."""
    if isinstance(node, list):
        return [_bbox_literals(n) for n in node]
    if not isinstance(node, dict):
        return node
    box = node.get("bbox")
    if set(node) == {"bbox"} and isinstance(box, list) and len(box) in (4, 6):
        minx, miny, maxx, maxy = (box[0], box[1], box[3], box[4]) if len(box) == 6 else box
        ring = [[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]
        return {"type": "Polygon", "coordinates": [ring]}
    return {k: _bbox_literals(v) for k, v in node.items()}


def _parse_for_pygeoapi(text: str) -> Any:
    return parse(text)


def _parse_json_for_pygeoapi(data: str | bytes) -> Any:
    return parse(data.decode() if isinstance(data, bytes) else data, "cql2-json")


def install() -> None:
    # pygeoapi calls these module-level names for `filter` parameters and POSTed CQL2 JSON
    itemtypes.parse_ecql_text = _parse_for_pygeoapi
    itemtypes.parse_cql2_json = _parse_json_for_pygeoapi
