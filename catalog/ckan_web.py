"""The CKAN Action API over HTTP: ``/api/3/action/<name>`` and ``/api/action/<name>``, GET and
POST, with CKAN's response envelope and error types (what ckanapi and CKAN harvesters expect)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request

from catalog.auth import AuthenticationError, AuthorizationError, authenticate
from catalog.ckan_actions import ACTIONS, Context
from catalog.errors import CatalogError, InputTooLarge, NotFound, ValidationError
from catalog.web import search_service

bp = Blueprint("ckan", __name__)

READ_ONLY = {
    "status_show",
    "site_read",
    "package_list",
    "package_show",
    "package_search",
    "current_package_list_with_resources",
    "resource_show",
    "organization_list",
    "organization_show",
    "group_list",
    "group_show",
    "tag_list",
    "license_list",
    "package_autocomplete",
}


def _reply(name: str, body: dict[str, Any], status: int = 200) -> Response:
    body = {"help": f"{request.host_url}api/3/action/help_show?name={name}", **body}
    return Response(
        json.dumps(body, ensure_ascii=False, default=str), status, mimetype="application/json"
    )


def _error(name: str, error: CatalogError) -> Response:
    if isinstance(error, NotFound):
        kind, status = "Not Found Error", 404
    elif isinstance(error, (AuthorizationError, AuthenticationError)):
        kind, status = "Authorization Error", 403
    elif isinstance(error, InputTooLarge):
        kind, status = "Validation Error", 413
    elif any(p.rule in ("fq", "search") for p in error.problems):
        kind, status = "Search Query Error", 409
    else:
        kind, status = "Validation Error", 409
    payload: dict[str, Any] = {"__type": kind, "message": "; ".join(p.en for p in error.problems)}
    if isinstance(error, ValidationError) or kind == "Validation Error":
        for p in error.problems:
            field = p.where.rsplit(": ", 1)[-1] if ": " in p.where else p.where
            payload.setdefault(field, []).append(p.en)
    payload["problems"] = [p.to_dict() for p in error.problems]
    return _reply(name, {"success": False, "error": payload}, status)


def _data() -> dict[str, Any]:
    if request.method == "POST":
        if request.is_json or (request.data and request.data.lstrip()[:1] in (b"{", b"[")):
            body = json.loads(request.data or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the JSON body must be an object")
            return body
        return request.form.to_dict()
    return request.args.to_dict()


@bp.route("/api/3/action/<name>", methods=["GET", "POST"])
@bp.route("/api/action/<name>", methods=["GET", "POST"])
def call(name: str) -> Response:
    fn = ACTIONS.get(name)
    if fn is None:
        return _reply(
            name,
            {
                "success": False,
                "error": {"__type": "Bad request - Action name not known", "message": name},
            },
            400,
        )
    if name not in READ_ONLY and request.method != "POST":
        return _reply(
            name,
            {"success": False, "error": {"__type": "Bad request", "message": f"{name} needs POST"}},
            400,
        )
    try:
        data = _data()
    except ValueError as exc:
        return _reply(
            name,
            {
                "success": False,
                "error": {"__type": "Bad request - JSON Error", "message": str(exc)},
            },
            400,
        )
    store = current_app.config["ODAPP_STORE"]
    lang = "en" if request.args.get("lang") == "en" else "de"
    try:
        user = authenticate(
            store, request.headers.get("Authorization") or request.headers.get("X-CKAN-API-Key")
        )
        ctx = Context(
            store, search_service(), user, lang, current_app.config.get("ODAPP_SITE_TITLE", "ODApp")
        )
        result = fn(ctx, data)
    except CatalogError as error:
        return _error(name, error)
    return _reply(name, {"success": True, "result": result})
