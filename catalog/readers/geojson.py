"""GeoJSON: the file is parsed once with :mod:`json` before GDAL reads it, for what GDAL does not
tell (the declared GeoJSON-2008 CRS, feature ids and whether an "id" is also a property, the
geometry member of every feature) and for JSON syntax errors that name line and column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyproj import CRS
from pyproj.exceptions import CRSError

from catalog.errors import InputError
from catalog.readers import SourceData
from catalog.readers.gdal import read_layer
from catalog.readers.geometry import crs_code
from catalog.readers.problems import unreadable


class GeoJSONInfo:
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


def _id(value: Any) -> str | int | None:
    if isinstance(value, bool) or value is None:
        return None if value is None else str(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else str(value)
    if isinstance(value, (int, str)):
        return value
    return json.dumps(value)


def read_geojson(path: Path, where: str) -> list[SourceData]:
    try:
        document = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise InputError.one(
            f"{where}, line {exc.lineno}",
            "syntax:json",
            f"{where}: Zeile {exc.lineno}, Spalte {exc.colno}: ungültiges JSON ({exc.msg})",
            f"{where}: line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg})",
        ) from exc
    except UnicodeDecodeError as exc:
        raise unreadable(
            where, "encoding", "GeoJSON ist kein UTF-8", "GeoJSON is not UTF-8"
        ) from exc
    info = GeoJSONInfo(document, where)
    return [read_layer(str(path), None, path.stem, "geojson", where, geojson=info)]
