"""HTTP views of the catalogue as DCAT-AP.de: the paged catalogue, each dataset, the files.

The blueprint reads ``current_app.config["ODAPP_STORE"]`` (a ``Store``), ``ODAPP_CATALOG`` (a
callable returning the ``model.Catalog``), ``ODAPP_PAGE_SIZE`` and ``ODAPP_FILES_DIR``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, request, send_from_directory

from catalog.errors import CatalogError, InputError, problem
from catalog.export import Page, resource_document, stream_catalog
from catalog.rdf_io import FORMATS
from catalog.store import Store

EXT_FORMATS = {"ttl": "turtle", "rdf": "xml", "xml": "xml", "jsonld": "json-ld", "nt": "nt"}

bp = Blueprint("dcat", __name__)


def _store() -> Store:
    return current_app.config["ODAPP_STORE"]


def _format_for_accept(default: str = "turtle") -> str:
    best = request.accept_mimetypes.best_match([media for _, media, _ in FORMATS.values()])
    for name, (_, media, _) in FORMATS.items():
        if media == best and request.accept_mimetypes[best] > 0:
            return name
    return default


def _media(fmt: str) -> str:
    return FORMATS[fmt][1] + "; charset=utf-8"


def _int_arg(name: str, default: int, minimum: int = 1) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise InputError(
            [
                problem(
                    f"query parameter {name}",
                    "parameter",
                    f"{name} muss eine ganze Zahl ≥ {minimum} sein",
                    f"{name} must be an integer ≥ {minimum}",
                )
            ]
        )
    return value


def _date_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            [
                problem(
                    f"query parameter {name}",
                    "parameter",
                    f"{name} ist kein ISO-8601-Datum: {raw!r}",
                    f"{name} is not an ISO 8601 date: {raw!r}",
                )
            ]
        ) from None
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value


@bp.route("/catalog.<ext>")
@bp.route("/catalog", defaults={"ext": None})
def catalog_document(ext: str | None) -> Response:
    if ext is not None and ext not in EXT_FORMATS:
        return _unknown_format(ext)
    fmt = EXT_FORMATS[ext] if ext else _format_for_accept()
    store = _store()
    catalog_factory: Callable = current_app.config["ODAPP_CATALOG"]
    size = current_app.config.get("ODAPP_PAGE_SIZE", 100)
    number = _int_arg("page", 1)
    since = _date_arg("modified_since")
    total = store.count_since(since)
    base = f"{store.base_url}/catalog.{ext or FORMATS[fmt][2]}"

    query = {k: v for k, v in request.args.items() if k != "page"}  # the body streams later

    def url(n: int) -> str:
        return f"{base}?{urlencode(query | {'page': str(n)})}"

    page = Page(number, size, total, url)
    if number > page.last:
        raise InputError(
            [
                problem(
                    "query parameter page",
                    "parameter",
                    f"Seite {number} gibt es nicht (letzte Seite: {page.last})",
                    f"page {number} does not exist (last page: {page.last})",
                )
            ]
        )
    body = stream_catalog(store, catalog_factory(), fmt, page=page, modified_since=since)
    return Response(body, mimetype=None, content_type=_media(fmt))


@bp.route("/dataset/<name>.<ext>")
def dataset_document(name: str, ext: str) -> Response:
    if ext not in EXT_FORMATS:
        return _unknown_format(ext)
    fmt = EXT_FORMATS[ext]
    return Response(resource_document(_store().get(name), fmt), content_type=_media(fmt))


def _unknown_format(ext: str) -> Response:
    error = InputError(
        [
            problem(
                f".{ext}",
                "format",
                f"Unbekanntes Format .{ext}; möglich: ttl, rdf, jsonld, nt",
                f"unknown format .{ext}; use ttl, rdf, jsonld or nt",
            )
        ]
    )
    return error_response(error)


@bp.route("/files/<path:path>")
def files(path: str) -> Response:
    return send_from_directory(current_app.config["ODAPP_FILES_DIR"], path)


def error_response(error: CatalogError) -> Response:
    response = jsonify(error.to_dict())
    response.status_code = error.status
    return response
