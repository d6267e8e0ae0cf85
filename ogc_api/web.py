"""The ``/ogc`` blueprint: pygeoapi's API functions behind Flask routes of ours, with a
configuration rebuilt whenever the data store's collections change (no restart), and the
checks OGC API Features asks for that pygeoapi 0.21 leaves out (unknown parameters → 400,
CQL2 text and JSON)."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable
from importlib import resources
from typing import Any

import pygeoapi.api as core_api
import pygeoapi.api.itemtypes as itemtypes_api
import pygeoapi.api.processes as processes_api
import pygeoapi.api.tiles as tiles_api
from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    make_response,
    request,
    send_from_directory,
)
from pygeoapi.api import API, APIRequest, apply_gzip
from pygeoapi.openapi import get_oas
from pygeoapi.util import render_j2_template, to_json

from catalog import model
from catalog.data_store import DataStore
from catalog.errors import CatalogError
from catalog.store import Store
from ogc_api import cql2, registry, sensors
from ogc_api.config import build_config
from ogc_api.crs import CRS84, SUPPORTED, box_in_crs84
from ogc_api.records import FIELDS as RECORD_FIELDS

bp = Blueprint("ogc", __name__, url_prefix="/ogc")
cql2.install()
# pygeoapi warns about every config key that is not a language tag, and logs each 4xx as an error
logging.getLogger("pygeoapi").setLevel(logging.CRITICAL)

ITEM_PARAMS = {
    "bbox",
    "bbox-crs",
    "crs",
    "f",
    "lang",
    "limit",
    "offset",
    "resulttype",
    "datetime",
    "sortby",
    "properties",
    "skipGeometry",
    "q",
    "filter",
    "filter-lang",
    "filter-crs",
}
PLAIN_PARAMS = {"f", "lang"}
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
FEATURES_3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
CONFORMANCE = sorted(
    {
        *core_api.CONFORMANCE_CLASSES,
        *(c for c in itemtypes_api.CONFORMANCE_CLASSES_FEATURES if "features-4" not in c),
        *itemtypes_api.CONFORMANCE_CLASSES_RECORDS,
        f"{FEATURES_3}filter",
        f"{FEATURES_3}features-filter",
        *(
            f"{CQL2}{c}"
            for c in (
                "cql2-text",
                "cql2-json",
                "basic-cql2",
                "advanced-comparison-operators",
                "case-insensitive-comparison",
                "basic-spatial-functions",
                "basic-spatial-functions-plus",
                "spatial-functions",
                "property-property",
                "arithmetic",
            )
        ),
    }
)
STATIC = str(resources.files("pygeoapi") / "static")


class OGCState:
    """The pygeoapi API object of one app, rebuilt when the registry's generation changes."""

    def __init__(
        self, store: Store, base_url: str, catalog: Callable[[], model.Catalog | None]
    ) -> None:
        self.store = store
        self.data = DataStore(store.engine)
        self.base_url = base_url
        self.catalog = catalog
        self._api: API | None = None
        self._generation: Any = None
        self._lock = threading.Lock()
        registry.register(store)

    def api(self) -> API:
        generation = (self.data.generation(), sensors.generation(self.store.engine))
        if self._api is None or generation != self._generation:
            with self._lock:
                if self._api is None or generation != self._generation:
                    config = build_config(
                        base_url=self.base_url,
                        database_url=self.store.database_url,
                        catalog=self.catalog(),
                        collections=self.data.collections(),
                    )
                    config["resources"].update(
                        sensors.resources(
                            self.store.engine,
                            base_url=self.base_url,
                            database_url=self.store.database_url,
                        )
                    )
                    openapi = get_oas(config, fail_on_invalid_collection=False)
                    self._api = API(config, openapi)
                    self._generation = generation
        return self._api


def _state() -> OGCState:
    return current_app.extensions["odapp_ogc"]


def init_app(app: Any, store: Store, base_url: str, catalog: Callable[[], Any]) -> None:
    app.extensions["odapp_ogc"] = OGCState(store, base_url, catalog)
    app.register_blueprint(bp)


def _respond(api: API, result: tuple[dict, Any, Any]) -> Response:
    headers, status, content = result
    content = apply_gzip(headers, content)
    return make_response(content, status, headers or {})


def _exception(api: API, api_request: APIRequest, status: int, code: str, msg: str) -> Response:
    headers = api_request.get_response_headers(**api.api_headers)
    return _respond(api, api.get_exception(status, headers, api_request.format, code, msg))


def _unknown_parameters(api: API, api_request: APIRequest, allowed: set[str]) -> Response | None:
    """The 400 that OGC API Features requires for query parameters it does not know."""
    unknown = sorted(set(api_request.params) - allowed)
    if not unknown:
        return None
    return _exception(
        api,
        api_request,
        400,
        "InvalidParameterValue",
        f"Unknown query parameter(s) / unbekannte Parameter: {', '.join(unknown)}",
    )


def _run(function: Callable[..., Any], *args: Any, allowed: set[str] | None = None) -> Response:
    api = _state().api()
    api_request = APIRequest.from_flask(request, api.locales)
    if allowed is not None and (refused := _unknown_parameters(api, api_request, allowed)):
        return refused
    if not api_request.is_valid():
        return _respond(api, api.get_format_exception(api_request))
    return _respond(api, function(api, api_request, *args))


@bp.get("")
@bp.get("/")
def landing_page() -> Response:
    return _run(core_api.landing_page, allowed=PLAIN_PARAMS)


@bp.get("/openapi")
def openapi() -> Response:
    return _run(core_api.openapi_, allowed=PLAIN_PARAMS | {"ui"})


def _conformance(api: API, api_request: APIRequest) -> tuple[dict, int, str]:
    # pygeoapi 0.21's own list claims transactions (Part 4), which we do not offer, leaves out
    # the CQL2 filter classes we do, and grows a module-level list on every call
    content = {"conformsTo": CONFORMANCE}
    headers = api_request.get_response_headers(**api.api_headers)
    if api_request.format == "html":
        html = render_j2_template(
            api.tpl_config,
            api.config["server"]["templates"],
            "conformance.html",
            content,
            api_request.locale,
        )
        return headers, 200, html
    return headers, 200, to_json(content, api.pretty_print)


@bp.get("/conformance")
def conformance() -> Response:
    return _run(_conformance, allowed=PLAIN_PARAMS)


@bp.get("/collections/<collection_id>/schema")
def schema(collection_id: str) -> Response:
    return _run(core_api.get_collection_schema, collection_id, allowed=PLAIN_PARAMS)


@bp.get("/collections")
@bp.get("/collections/<collection_id>")
def collections(collection_id: str | None = None) -> Response:
    return _run(core_api.describe_collections, collection_id, allowed=PLAIN_PARAMS)


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str) -> Response:
    response = _run(
        itemtypes_api.get_collection_queryables, collection_id, allowed=PLAIN_PARAMS | {"profile"}
    )
    if response.status_code == 200 and response.is_json:
        # Part 3 names the https form of the JSON Schema dialect; pygeoapi 0.21 writes http
        body = response.get_data(as_text=True)
        response.set_data(body.replace('"http://json-schema.org/', '"https://json-schema.org/', 1))
        response.headers["Content-Type"] = "application/schema+json"
    return response


@bp.get("/processes")
@bp.get("/processes/<process_id>")
def processes(process_id: str | None = None) -> Response:
    # the landing page links here; no processes are offered, so the list is empty
    return _run(processes_api.describe_processes, process_id, allowed=PLAIN_PARAMS | {"limit"})


@bp.get("/jobs")
def jobs() -> Response:
    return _run(processes_api.get_jobs, allowed=PLAIN_PARAMS | {"limit", "offset"})


@bp.get("/TileMatrixSets")
@bp.get("/TileMatrixSets/<matrix_set>")
def tile_matrix_sets(matrix_set: str | None = None) -> Response:
    if matrix_set is None:
        return _run(tiles_api.tilematrixsets, allowed=PLAIN_PARAMS)
    return _run(tiles_api.tilematrixset, matrix_set, allowed=PLAIN_PARAMS)


@bp.get("/collections/<collection_id>/items/<path:item_id>")
def item(collection_id: str, item_id: str) -> Response:
    response = _run(
        itemtypes_api.get_collection_item, collection_id, item_id, allowed=PLAIN_PARAMS | {"crs"}
    )
    return _as_geojson(response, None)


@bp.route("/collections/<collection_id>/items", methods=["GET", "POST"])
def items(collection_id: str) -> Response:
    state = _state()
    api = state.api()
    api_request = APIRequest.from_flask(request, api.locales)
    resource = api.config["resources"].get(collection_id)
    if resource is None:
        return _run(itemtypes_api.get_collection_items, collection_id)
    provider = resource["providers"][0]
    if provider["type"] == "record":
        fields = set(RECORD_FIELDS)
    else:
        fields = {c["name"] for c in provider.get("columns", [])}
    if refused := _unknown_parameters(api, api_request, ITEM_PARAMS | fields):
        return refused
    bbox, bbox_crs = api_request.params.get("bbox"), api_request.params.get("bbox-crs")
    if bbox and bbox_crs and bbox_crs in SUPPORTED and bbox_crs != CRS84:
        # a malformed box is left to pygeoapi's own check, which answers 400
        with contextlib.suppress(ValueError, TypeError):
            g.odapp_bbox_area = box_in_crs84([float(v) for v in bbox.split(",")], bbox_crs)
    text = api_request.params.get("filter")
    if request.method == "POST" and request.data and text is None:
        text = request.get_data(as_text=True)
    lang = api_request.params.get("filter-lang")
    if text is not None or lang is not None:
        try:
            if text is None:
                raise cql2.FilterSyntaxError.one(
                    "filter-lang", "filter", "filter-lang ohne filter", "filter-lang without filter"
                )
            ast = cql2.parse(text, lang)
            if provider["type"] == "feature" and not sensors.is_sensor_collection(collection_id):
                info = state.data.collection(collection_id)
                state.data.translator(info).translate(ast)  # unknown properties, bad types
        except CatalogError as exc:
            problem = exc.problems[0]
            return _exception(
                api, api_request, 400, "InvalidParameterValue", f"{problem.en} / {problem.de}"
            )
        # pygeoapi knows only the CQL 1 names; the filter itself is read by cql2.parse again
        api_request._args = api_request.params.copy()  # a mutable copy of Flask's args
        api_request._args.pop("filter-lang", None)
    if not api_request.is_valid():
        return _respond(api, api.get_format_exception(api_request))
    response = _respond(api, itemtypes_api.get_collection_items(api, api_request, collection_id))
    return _as_geojson(response, f"{api.get_collections_url()}/{collection_id}/queryables")


def _top_level_links(body: str) -> list[dict[str, Any]]:
    """The links of a pygeoapi document, read from its end: pygeoapi writes them after the
    features, so a page of 10,000 features is not parsed again only for its links."""
    start = body.rfind('"links":')
    if start < 0:
        return []
    value = start + len('"links":')
    value += len(body[value:]) - len(body[value:].lstrip())  # a pretty-printed document
    try:
        links, _end = json.JSONDecoder().raw_decode(body, value)
    except ValueError:
        return []
    return links if isinstance(links, list) else []


def _as_geojson(response: Response, queryables: str | None) -> Response:
    """Features are GeoJSON (pygeoapi 0.21 labels them application/json), and their links are
    repeated in a Link header, as OGC API Features recommends."""
    if response.status_code != 200 or response.mimetype != "application/json":
        return response
    response.headers["Content-Type"] = "application/geo+json"
    links = _top_level_links(response.get_data(as_text=True))
    header = [
        f'<{link["href"]}>; rel={link["rel"]}; type="{link.get("type", "application/json")}"'
        for link in links
        if link.get("rel") in ("self", "alternate", "next", "prev", "collection")
        and link.get("href")
    ]
    if queryables:
        header.append(
            f'<{queryables}>; rel="http://www.opengis.net/def/rel/ogc/1.0/queryables"; '
            'type="application/schema+json"'
        )
    if header:
        response.headers["Link"] = ", ".join(header)
    return response


@bp.get("/static/<path:path>")
def static(path: str) -> Response:
    return send_from_directory(STATIC, path)
