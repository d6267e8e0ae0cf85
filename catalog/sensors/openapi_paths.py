"""The sensor endpoints in the OpenAPI document (schemathesis fuzzes them like the rest)."""

from __future__ import annotations

from typing import Any

STRING = {"type": "string"}
ERROR = {"$ref": "#/components/schemas/Error"}
ENTITY_SETS = [
    "Things",
    "Locations",
    "HistoricalLocations",
    "Datastreams",
    "Sensors",
    "ObservedProperties",
    "Observations",
    "FeaturesOfInterest",
]
JSON_OBJECT = {"application/json": {"schema": {"type": "object"}}}
BAD = {"description": "bad query option or parameter", "content": {"application/json": {}}}
MISSING = {"description": "no such entity", "content": {"application/json": {}}}


def _param(name: str, schema: dict[str, Any], description: str, where: str = "query") -> dict:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


_OPTIONS = [
    _param("$top", {"type": "integer", "minimum": 0}, "page size (default 100, at most 10,000)"),
    _param("$skip", {"type": "integer", "minimum": 0}, "entities to skip"),
    _param("$count", {"type": "boolean"}, "add @iot.count"),
    _param("$orderby", STRING, "e.g. phenomenonTime desc"),
    _param("$filter", STRING, "OData filter, e.g. phenomenonTime gt 2026-11-01T00:00:00Z"),
    _param("$select", STRING, "properties to return"),
    _param("$expand", STRING, "e.g. Datastreams($top=1;$expand=Observations)"),
]
_SERIES = [
    _param("datetime", STRING, "range a/b, a/.. or ../b (ISO 8601)"),
    _param("resolution", {"type": "string", "enum": ["raw", "hour", "day"]}, "raw or aggregates"),
]


def sensor_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/sta/v1.1/": {
            "get": {
                "summary": "SensorThings API 1.1: service root",
                "operationId": "sta_root",
                "tags": ["SensorThings API"],
                "responses": {"200": {"description": "entity sets", "content": JSON_OBJECT}},
            }
        },
        "/sta/v1.1/{entity_set}": {
            "get": {
                "summary": "A SensorThings entity set, filtered, ordered, expanded and paged",
                "operationId": "sta_collection",
                "tags": ["SensorThings API"],
                "parameters": [
                    _param("entity_set", {"type": "string", "enum": ENTITY_SETS}, "", "path"),
                    *_OPTIONS,
                ],
                "responses": {
                    "200": {"description": "value, @iot.nextLink", "content": JSON_OBJECT},
                    "400": BAD,
                },
            }
        },
        "/sta/v1.1/Datastreams({id})/Observations": {
            "get": {
                "summary": "The observations of one datastream",
                "operationId": "sta_datastream_observations",
                "tags": ["SensorThings API"],
                "parameters": [_param("id", {"type": "integer"}, "", "path"), *_OPTIONS],
                "responses": {
                    "200": {"description": "observations", "content": JSON_OBJECT},
                    "400": BAD,
                    "404": MISSING,
                },
            }
        },
    }
    for kind in ("datastreams", "things"):
        paths[f"/sensors/{kind}/{{id}}/observations.csv"] = {
            "get": {
                "summary": f"Readings of one of the {kind} as CSV (any range, streamed)",
                "operationId": f"sensor_{kind}_csv",
                "tags": ["Sensor data"],
                "parameters": [_param("id", {"type": "integer"}, "", "path"), *_SERIES],
                "responses": {
                    "200": {"description": "CSV", "content": {"text/csv": {"schema": STRING}}},
                    "400": BAD,
                    "404": MISSING,
                },
            }
        }
    return paths
