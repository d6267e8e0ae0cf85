"""The JSON Schema of a harvest source file (``config/harvesters/*.yaml``).

``odapp harvest schema`` prints it; a copy is kept in ``config/harvesters/harvester.schema.json``
for editors (a test keeps the two equal)."""

from __future__ import annotations

from typing import Any

SENSOR_TYPES = ["sensorthings", "mqtt", "sensor-community", "opensensemap", "timeseries-files"]
TYPES = ["files", "ckan", "dcat", "ogcapi-features", "wfs", "csw", *SENSOR_TYPES]
FILE_TYPES = ["files", "timeseries-files"]  # read a folder, a glob or URLs
DEFAULT_URL_TYPES = ["sensor-community", "opensensemap"]  # the public feed unless url is given

_STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}}
_STRING_OR_LIST = {"oneOf": [{"type": "string", "minLength": 1}, _STRINGS]}
_ENV_NAME = {
    "type": "string",
    "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
    "description": "Name of an environment variable holding the secret (never the secret).",
}
_AGENT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "uri": {"type": "string", "format": "uri"},
        "email": {"type": "string"},
        "homepage": {"type": "string"},
    },
}

# filter keys per source type
FILTERS: dict[str, dict[str, Any]] = {
    "files": {
        "include": _STRING_OR_LIST,
        "exclude": _STRING_OR_LIST,
        "recursive": {"type": "boolean"},
    },
    "ckan": {
        "organization": _STRING_OR_LIST,
        "fq": {"type": "string"},
        "q": {"type": "string"},
        "tags": _STRING_OR_LIST,
        "groups": _STRING_OR_LIST,
        "dataset_type": _STRING_OR_LIST,
    },
    "dcat": {},
    "ogcapi-features": {"collections": _STRINGS, "exclude": _STRINGS},
    "wfs": {"typenames": _STRINGS, "exclude": _STRINGS},
    "csw": {
        "constraint": {"type": "string"},
        "max_records": {"type": "integer", "minimum": 1},
    },
    "sensorthings": {
        "things": {"type": "string", "description": "$filter on Things, e.g. name eq 'Nord'"},
        "observed_properties": _STRINGS,
    },
    "mqtt": {},
    "sensor-community": {"value_types": _STRINGS},
    "opensensemap": {"phenomena": _STRINGS},
    "timeseries-files": {
        "include": _STRING_OR_LIST,
        "exclude": _STRING_OR_LIST,
        "recursive": {"type": "boolean"},
    },
}

_BBOX = {
    "type": "array",
    "items": {"type": "number"},
    "minItems": 4,
    "maxItems": 4,
    "description": "[west, south, east, north] in WGS84 degrees",
}
_UNIT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {k: {"type": "string"} for k in ("name", "symbol", "definition")},
}
_PROPERTY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {k: {"type": "string"} for k in ("name", "definition", "description")},
}
_LOCATION = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
_THING = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "location": {**_LOCATION, "description": "[longitude, latitude] in WGS84 degrees"},
        "properties": {"type": "object"},
    },
}
_STREAM = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "observed_property": _PROPERTY,
        "unit": _UNIT,
        "sensor": {"type": "string"},
        "numeric": {"type": "boolean", "description": "false: results are kept as text"},
    },
}
_SENSOR_COMMON = {
    "timezone": {
        "type": "string",
        "description": "IANA zone for times written without zone (default Europe/Berlin)",
    },
    "batch_size": {"type": "integer", "minimum": 1, "maximum": 100000},
    "frequency": {
        "type": "string",
        "description": "EU frequency code of the datasets, e.g. HOURLY, DAILY, CONT",
    },
    "corrections": {
        "enum": ["keep", "replace"],
        "description": "another value for a stored time: keep the first (default) or replace",
    },
}
# type-specific option keys (sensor types); other types keep free-form options
OPTIONS: dict[str, dict[str, Any]] = {
    "sensorthings": {
        **_SENSOR_COMMON,
        "page_size": {"type": "integer", "minimum": 1, "maximum": 10000},
        "since": {"type": "string", "description": "ISO 8601 time: first harvest from here"},
        "data_array": {"type": "boolean", "description": "ask for $resultFormat=dataArray"},
        "max_observations": {"type": "integer", "minimum": 1},
    },
    "mqtt": {
        **_SENSOR_COMMON,
        "client_id": {"type": "string", "minLength": 1},
        "qos": {"enum": [0, 1, 2]},
        "keepalive": {"type": "integer", "minimum": 5},
        "max_payload_bytes": {"type": "integer", "minimum": 64},
        "catalogue_interval": {"type": "number", "minimum": 1},
        "mappings": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["topic"],
                "properties": {
                    "topic": {
                        "type": "string",
                        "description": "topic with {thing} and {datastream} placeholders",
                    },
                    "format": {"enum": ["json", "sensorthings", "number"]},
                    "result": {"type": "string", "description": "JSON path of the result"},
                    "time": {"type": "string", "description": "JSON path of the time"},
                    "thing": {"type": "string", "description": "thing key if not in topic"},
                    "datastream": {"type": "string"},
                },
            },
        },
        "things": {"type": "object", "additionalProperties": _THING},
        "datastreams": {"type": "object", "additionalProperties": _STREAM},
        "allow_empty": {"type": "boolean"},
    },
    "sensor-community": {**_SENSOR_COMMON, "bbox": _BBOX},
    "opensensemap": {**_SENSOR_COMMON, "bbox": _BBOX},
    "timeseries-files": {
        **_SENSOR_COMMON,
        "time_label": {
            "enum": ["end", "start"],
            "description": "a row's time is the end (default) or start of its interval",
        },
        "interval_minutes": {"type": "integer", "minimum": 1},
        "stations": {
            "type": "object",
            "description": "file name pattern -> station (name, location, description)",
            "additionalProperties": {
                **_THING,
                "properties": {**_THING["properties"], "key": {"type": "string"}},
            },
        },
        "columns": {"type": "object", "additionalProperties": _STREAM},
        "skip_columns": _STRINGS,
        "delimiter": {"type": "string", "minLength": 1, "maxLength": 1},
        "decimal": {"enum": [",", "."]},
        "encoding": {"type": "string"},
        "allow_empty": {"type": "boolean"},
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://odapp.example/schemas/harvester.schema.json",
    "title": "ODApp harvest source",
    "description": "One source of a harvest: one YAML file in config/harvesters/.",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "type", "organization"],
    "properties": {
        "name": {
            "type": "string",
            "pattern": "^[a-z0-9][a-z0-9_-]{0,99}$",
            "description": "Short unique name: lower-case letters, digits, - and _.",
        },
        "type": {"enum": TYPES},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "organization": {**_AGENT, "required": ["name"]},
        "schedule": {"type": "string", "description": "cron expression, e.g. '0 3 * * *'"},
        "priority": {"type": "integer", "description": "higher wins for a shared dct:identifier"},
        "url": {"type": "string", "pattern": "^(https?|file|mqtts?)://"},
        "urls": {"type": "array", "items": {"type": "string", "pattern": "^https?://"}},
        "folder": {"type": "string", "minLength": 1},
        "glob": {"type": "string", "minLength": 1},
        "credentials": {
            "type": "object",
            "additionalProperties": False,
            "properties": {k: _ENV_NAME for k in ("username", "password", "token", "api_key")},
        },
        "filters": {"type": "object"},
        "defaults": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "license": {"type": "string"},
                "contact_point": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        k: {"type": "string"} for k in ("name", "email", "url", "telephone")
                    },
                },
                "themes": _STRING_OR_LIST,
                "contributor_id": {"type": "string"},
                "political_geocoding_level": {"type": "string"},
                "political_geocoding": _STRING_OR_LIST,
                "publisher": _AGENT,
                "languages": _STRING_OR_LIST,
                "access_rights": {"type": "string"},
                "keywords": _STRING_OR_LIST,
            },
        },
        "load": {"type": "boolean"},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600},
        "enabled": {"type": "boolean"},
        "options": {"type": "object"},
    },
    "allOf": [
        {
            "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
            "then": {
                "properties": {
                    "filters": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": keys,
                    }
                }
            },
        }
        for kind, keys in FILTERS.items()
    ]
    + [
        {
            "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
            "then": {
                "properties": {
                    "options": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": keys,
                    }
                }
            },
        }
        for kind, keys in OPTIONS.items()
    ]
    + [
        {
            "if": {"properties": {"type": {"const": "sensor-community"}}, "required": ["type"]},
            "then": {"properties": {"options": {"required": ["bbox"]}}, "required": ["options"]},
        },
        {
            "if": {"properties": {"type": {"const": "opensensemap"}}, "required": ["type"]},
            "then": {"properties": {"options": {"required": ["bbox"]}}, "required": ["options"]},
        },
        {
            "if": {"properties": {"type": {"const": "mqtt"}}, "required": ["type"]},
            "then": {
                "properties": {"options": {"required": ["mappings"]}},
                "required": ["options"],
            },
        },
        {
            "if": {"properties": {"type": {"enum": DEFAULT_URL_TYPES}}, "required": ["type"]},
            "then": {},
            "else": {
                "if": {"properties": {"type": {"enum": FILE_TYPES}}, "required": ["type"]},
                "then": {
                    "oneOf": [
                        {"required": ["folder"]},
                        {"required": ["glob"]},
                        {"required": ["urls"]},
                    ]
                },
                "else": {"required": ["url"]},
            },
        },
    ],
}
