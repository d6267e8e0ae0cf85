"""The OpenAPI 3 description of the DCAT endpoints and the CKAN Action API, and its docs page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template

from catalog.sensors.openapi_paths import sensor_paths

bp = Blueprint("openapi", __name__, template_folder="templates")

FORMATS = {
    "ttl": "text/turtle",
    "rdf": "application/rdf+xml",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
}


def _param(
    name: str,
    schema: dict[str, Any],
    description: str,
    where: str = "query",
    required: bool = False,
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "schema": schema,
        "description": description,
    }


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
ERROR = {"$ref": "#/components/schemas/Error"}
ENVELOPE = {"$ref": "#/components/schemas/CkanEnvelope"}

# action -> (summary, {parameter: (schema, description, required)}, writes)
ACTIONS: dict[str, tuple[str, dict[str, tuple[dict[str, Any], str, bool]], bool]] = {
    "status_show": ("Site status, CKAN version and extensions", {}, False),
    "site_read": ("Whether the site can be read", {}, False),
    "package_list": (
        "Names of all datasets",
        {
            "limit": ({**INTEGER, "minimum": 0}, "at most this many names", False),
            "offset": ({**INTEGER, "minimum": 0}, "skip this many names", False),
        },
        False,
    ),
    "package_show": (
        "One dataset by id, name or IRI",
        {"id": (STRING, "id, name or IRI", True)},
        False,
    ),
    "package_search": (
        "German-aware search with Solr-style filters and facets",
        {
            "q": (
                STRING,
                "words (German stemming, umlaut spellings) and field:value clauses",
                False,
            ),
            "fq": (STRING, "filter query: field:value, quotes, AND/OR/-, ranges [a TO b]", False),
            "rows": (
                {**INTEGER, "minimum": 0, "maximum": 1000},
                "results per page (default 10)",
                False,
            ),
            "start": ({**INTEGER, "minimum": 0}, "offset", False),
            "sort": (
                STRING,
                "score desc | title_string asc | metadata_modified desc | id asc | name asc",
                False,
            ),
            "facet.field": (STRING, 'JSON list of facets, e.g. ["organization","tags"]', False),
            "facet.limit": (INTEGER, "values per facet (-1: all)", False),
            "ext_bbox": (STRING, "minx,miny,maxx,maxy in CRS84", False),
            "cursor": (
                STRING,
                "next_cursor of the previous page (stable paging without a row cap)",
                False,
            ),
        },
        False,
    ),
    "current_package_list_with_resources": (
        "Recently changed datasets with their resources",
        {
            "limit": ({**INTEGER, "minimum": 1, "maximum": 1000}, "at most this many", False),
            "offset": ({**INTEGER, "minimum": 0}, "skip this many", False),
        },
        False,
    ),
    "resource_show": (
        "One resource (distribution) by id",
        {"id": (STRING, "resource id", True)},
        False,
    ),
    "organization_list": (
        "All organisations",
        {
            "all_fields": (BOOLEAN, "whole dicts instead of names", False),
            "sort": (STRING, "name | title | package_count, with asc/desc", False),
            "limit": ({**INTEGER, "minimum": 0}, "at most", False),
            "offset": ({**INTEGER, "minimum": 0}, "skip", False),
        },
        False,
    ),
    "organization_show": (
        "One organisation",
        {
            "id": (STRING, "name or IRI", True),
            "include_datasets": (BOOLEAN, "with its datasets", False),
        },
        False,
    ),
    "group_list": (
        "The EU data themes as groups",
        {"all_fields": (BOOLEAN, "whole dicts", False)},
        False,
    ),
    "group_show": ("One EU data theme", {"id": (STRING, "theme code, e.g. envi", True)}, False),
    "tag_list": (
        "All keywords",
        {"query": (STRING, "only keywords containing this", False)},
        False,
    ),
    "license_list": ("The dcat-ap.de licences", {}, False),
    "package_autocomplete": (
        "Datasets for a search box",
        {
            "q": (STRING, "the typed text", False),
            "limit": ({**INTEGER, "minimum": 1, "maximum": 100}, "at most", False),
        },
        False,
    ),
    "package_create": ("Create a dataset (editor of owner_org)", {}, True),
    "package_update": ("Replace a dataset's CKAN fields", {}, True),
    "package_patch": ("Change the given fields of a dataset", {}, True),
    "package_delete": ("Withdraw a dataset", {"id": (STRING, "id or name", True)}, True),
    "resource_create": ("Add a resource", {}, True),
    "resource_update": ("Replace a resource", {}, True),
    "resource_patch": ("Change a resource", {}, True),
    "resource_delete": ("Remove a resource", {"id": (STRING, "resource id", True)}, True),
    "organization_create": ("Create an organisation (sysadmin)", {}, True),
    "organization_update": ("Change an organisation", {}, True),
    "organization_patch": ("Change an organisation", {}, True),
    "organization_member_create": ("Make a user a member, editor or admin", {}, True),
}


def _action_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    responses = {
        "200": {"description": "success", "content": {"application/json": {"schema": ENVELOPE}}},
        "400": {
            "description": "bad request",
            "content": {"application/json": {"schema": ENVELOPE}},
        },
        "403": {
            "description": "not authorised",
            "content": {"application/json": {"schema": ENVELOPE}},
        },
        "404": {"description": "not found", "content": {"application/json": {"schema": ENVELOPE}}},
        "409": {
            "description": "validation or search query error",
            "content": {"application/json": {"schema": ENVELOPE}},
        },
    }
    for name, (summary, params, writes) in ACTIONS.items():
        body = {
            "type": "object",
            "properties": {p: schema for p, (schema, _, _) in params.items()},
            "required": [p for p, (_, _, req) in params.items() if req],
            "additionalProperties": True,
        }
        post = {
            "summary": summary,
            "operationId": f"{name}_post",
            "tags": ["CKAN Action API"],
            "requestBody": {"required": False, "content": {"application/json": {"schema": body}}},
            "responses": responses,
        }
        if writes:
            post["security"] = [{"ApiToken": []}]
        item: dict[str, Any] = {"post": post}
        if not writes:
            item["get"] = {
                "summary": summary,
                "operationId": name,
                "tags": ["CKAN Action API"],
                "parameters": [_param(p, s, d, required=r) for p, (s, d, r) in params.items()],
                "responses": responses,
            }
        paths[f"/api/3/action/{name}"] = item
    return paths


def _dcat_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for ext, media in FORMATS.items():
        ok = {"description": "a page of the catalogue", "content": {media: {"schema": STRING}}}
        paths[f"/catalog.{ext}"] = {
            "get": {
                "summary": f"The catalogue as DCAT-AP.de ({ext}), hydra-paged",
                "operationId": f"catalog_{ext}",
                "tags": ["DCAT-AP.de"],
                "parameters": [
                    _param("page", {**INTEGER, "minimum": 1}, "page number"),
                    _param(
                        "modified_since",
                        {"type": "string", "format": "date-time"},
                        "only records changed since",
                    ),
                    _param("q", STRING, "words, as in package_search"),
                    _param("fq", STRING, "filter query, as in package_search"),
                ],
                "responses": {
                    "200": ok,
                    "304": {"description": "not modified (ETag / Last-Modified)"},
                    "400": {
                        "description": "bad parameter",
                        "content": {"application/json": {"schema": ERROR}},
                    },
                },
            }
        }
        paths[f"/dataset/{{name}}.{ext}"] = {
            "get": {
                "summary": f"One dataset as DCAT-AP.de ({ext})",
                "operationId": f"dataset_{ext}",
                "tags": ["DCAT-AP.de"],
                "parameters": [_param("name", STRING, "the dataset's name", "path")],
                "responses": {
                    "200": {"description": "the dataset", "content": {media: {"schema": STRING}}},
                    "304": {"description": "not modified"},
                    "404": {
                        "description": "no such dataset",
                        "content": {"application/json": {"schema": ERROR}},
                    },
                },
            }
        }
    paths["/healthz"] = {
        "get": {
            "summary": "Liveness and database check",
            "operationId": "healthz",
            "tags": ["Operations"],
            "responses": {
                "200": {
                    "description": "up",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "503": {"description": "the database cannot be reached"},
            },
        }
    }
    return paths


def openapi_document(base_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "ODApp API",
            "version": "1",
            "description": (
                "DCAT-AP.de catalogue and CKAN-compatible Action API (also at /api/action/)."
            ),
            "license": {"name": "EUPL-1.2"},
        },
        "servers": [{"url": base_url}],
        "paths": {**_dcat_paths(), **_action_paths(), **sensor_paths()},
        "components": {
            "securitySchemes": {
                "ApiToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "an API token from `odapp tokens create`",
                },
            },
            "schemas": {
                "CkanEnvelope": {
                    "type": "object",
                    "required": ["success"],
                    "properties": {
                        "help": STRING,
                        "success": BOOLEAN,
                        "result": {},
                        "error": {
                            "type": "object",
                            "properties": {"__type": STRING, "message": STRING},
                        },
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error", "problems"],
                    "properties": {
                        "error": STRING,
                        "message": STRING,
                        "problems": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "where": STRING,
                                    "rule": STRING,
                                    "de": STRING,
                                    "en": STRING,
                                },
                            },
                        },
                    },
                },
            },
        },
    }


@bp.get("/api/openapi.json")
def openapi_json() -> Response:
    return jsonify(openapi_document(current_app.config["ODAPP_STORE"].base_url))


@bp.get("/api/docs")
def docs() -> str:
    document = openapi_document(current_app.config["ODAPP_STORE"].base_url)
    return render_template("api_docs.html", doc=document)
