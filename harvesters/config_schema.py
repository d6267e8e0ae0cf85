"""The JSON Schema of a harvest source file (``config/harvesters/*.yaml``).

``odapp harvest schema`` prints it; a copy is kept in ``config/harvesters/harvester.schema.json``
for editors (a test keeps the two equal)."""

from __future__ import annotations

from typing import Any

TYPES = ["files", "ckan", "dcat", "ogcapi-features", "wfs", "csw"]

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
        "url": {"type": "string", "pattern": "^(https?|file)://"},
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
            "if": {"properties": {"type": {"const": "files"}}, "required": ["type"]},
            "then": {
                "oneOf": [
                    {"required": ["folder"]},
                    {"required": ["glob"]},
                    {"required": ["urls"]},
                ]
            },
            "else": {"required": ["url"]},
        }
    ],
}
