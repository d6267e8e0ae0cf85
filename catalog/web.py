"""HTTP views of the catalogue as DCAT-AP.de: the paged catalogue, each dataset, the files.

The blueprint reads ``current_app.config["ODAPP_STORE"]`` (a ``Store``), ``ODAPP_CATALOG`` (a
callable returning the ``model.Catalog``), ``ODAPP_PAGE_SIZE`` and ``ODAPP_FILES_DIR``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, request, send_from_directory

from catalog.ckan_query import package_search_query
from catalog.errors import CatalogError, InputError, problem
from catalog.export import Page, resource_document, stream_catalog
from catalog.rdf_io import FORMATS
from catalog.search import SearchService
from catalog.search_expr import And, Range
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


def _int_arg(name: str, default: int, minimum: int = 1, maximum: int = 10_000_000) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if not minimum <= value <= maximum:
        raise InputError(
            [
                problem(
                    f"query parameter {name}",
                    "parameter",
                    f"{name} muss eine ganze Zahl von {minimum} bis {maximum} sein",
                    f"{name} must be an integer from {minimum} to {maximum}",
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
        value = value.replace(tzinfo=UTC)
    return value


@bp.route("/catalog.<ext>")
@bp.route("/catalog", defaults={"ext": None})
def catalog_document(ext: str | None) -> Response:
    """The catalogue, hydra-paged like ckanext-dcat; ``q`` and ``fq`` narrow it as in CKAN."""
    if ext is not None and ext not in EXT_FORMATS:
        return _unknown_format(ext)
    fmt = EXT_FORMATS[ext] if ext else _format_for_accept()
    store = _store()
    size = current_app.config.get("ODAPP_PAGE_SIZE", 100)
    number = _int_arg("page", 1)
    since = _date_arg("modified_since")
    items = None
    if request.args.get("q") or request.args.get("fq"):
        query = package_search_query(
            {
                "q": request.args.get("q", ""),
                "fq": request.args.get("fq", ""),
                "rows": min(size, 1000),
                "start": (number - 1) * size,
                "sort": "id asc",
            }
        )
        if since is not None:
            window = Range("metadata_modified", since.isoformat(), None)
            query.expr = window if query.expr is None else And((query.expr, window))
        found = search_service().search(query)
        total, items = found.count, found.results
    else:
        total = store.count_since(since)
    base = f"{store.base_url}/catalog.{ext or FORMATS[fmt][2]}"
    args = {k: v for k, v in request.args.items() if k != "page"}  # the body streams later

    def url(n: int) -> str:
        return f"{base}?{urlencode(args | {'page': str(n)})}"

    page = Page(number, size, total, url)
    if number > page.last:
        raise InputError.one(
            "query parameter page",
            "parameter",
            f"Seite {number} gibt es nicht (letzte Seite: {page.last})",
            f"page {number} does not exist (last page: {page.last})",
        )
    last_modified = store.last_modified()
    tag = _etag(fmt, total, number, size, last_modified, sorted(args.items()))
    if _not_modified(tag, last_modified):
        return _conditional(Response(status=304), tag, last_modified)
    catalog = current_app.config["ODAPP_CATALOG"]()
    body = stream_catalog(store, catalog, fmt, page=page, modified_since=since, items=items)
    return _conditional(Response(body, content_type=_media(fmt)), tag, last_modified)


@bp.route("/dataset/<name>.<ext>")
def dataset_document(name: str, ext: str) -> Response:
    if ext not in EXT_FORMATS:
        return _unknown_format(ext)
    fmt = EXT_FORMATS[ext]
    stored = _store().get(name)
    tag = _etag(fmt, stored.uuid, stored.updated_at)
    if _not_modified(tag, stored.updated_at):
        return _conditional(Response(status=304), tag, stored.updated_at)
    response = Response(resource_document(stored, fmt), content_type=_media(fmt))
    return _conditional(response, tag, stored.updated_at)


def _etag(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _not_modified(tag: str, last_modified: datetime | None) -> bool:
    """If-None-Match wins over If-Modified-Since, as RFC 9110 says."""
    if request.if_none_match:
        return request.if_none_match.contains(tag)
    if request.if_modified_since and last_modified is not None:
        return _aware(last_modified).replace(microsecond=0) <= _aware(request.if_modified_since)
    return False


def _conditional(response: Response, tag: str, last_modified: datetime | None) -> Response:
    response.set_etag(tag)
    if last_modified is not None:
        response.last_modified = _aware(last_modified)
    response.headers["Cache-Control"] = "no-cache"  # revalidate, then reuse on 304
    return response


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def search_service() -> SearchService:
    """One search service per app (it caches the vocabulary for suggestions)."""
    config = current_app.config
    if "ODAPP_SEARCH" not in config:
        config["ODAPP_SEARCH"] = SearchService(config["ODAPP_STORE"])
    return config["ODAPP_SEARCH"]


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
