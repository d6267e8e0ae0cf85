"""The read-only OGC SensorThings API 1.1 at ``/sta/v1.1/`` over the sensor store, so that
existing SensorThings clients (FROST's, QGIS's, dashboards, harvesters) read our sensor data.

Resource paths (``Things(1)/Datastreams``, ``Observations(5)/Datastream``,
``Things(1)/name/$value``, ``…/$ref``), the query options ``$filter``, ``$orderby``,
``$select``, ``$expand`` (nested, with options per level), ``$top`` (default 100, at most
10,000), ``$skip``, ``$count`` and ``$resultFormat=dataArray`` for Observations. Every filter
runs in SQL (see :mod:`catalog.sensors.sta_query`); entity mapping in
:mod:`catalog.sensors.sta_entities`.

Order: Observations of one Datastream (``Datastreams(1)/Observations``, or a filter
``Datastream/id eq 1``) come by phenomenonTime ascending, which is the (datastream_id,
phenomenon_start) index; everything else by id ascending. Any ``$orderby`` is completed by
id, so paging with ``@iot.nextLink`` (``$skip``) visits every entity once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, request
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import DataError

from catalog.sensors.sta_entities import BY_SET, ENTITIES, SETS, EntityType, Row
from catalog.sensors.sta_query import (
    Bin,
    Compiler,
    Lit,
    Node,
    Options,
    Path,
    QueryError,
    parse_options,
)
from catalog.sensors.times import LARGEST_INT
from catalog.store import Store

bp = Blueprint("sta", __name__, url_prefix="/sta/v1.1")

PREFIX = "/sta/v1.1"
_SPEC = "http://www.opengis.net/spec/iot_sensing/1.1/req"
CONFORMANCE = [
    f"{_SPEC}/datamodel",
    f"{_SPEC}/resource-path/resource-path-to-entities",
    f"{_SPEC}/request-data",
    *(
        f"{_SPEC}/request-data/{part}"
        for part in (
            "order",
            "expand",
            "select",
            "orderby",
            "top",
            "skip",
            "count",
            "filter",
            "built-in-filter-operations",
            "built-in-query-functions",
            "pagination",
            "status-code",
            "query-status-code",
        )
    ),
    f"{_SPEC}/data-array/data-array",
]
WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]
DATA_ARRAY_DEFAULT = ["id", "phenomenonTime", "resultTime", "result"]
_SEGMENT = re.compile(r"([A-Za-z]+)(?:\((?:(\d+)|'(\d+)'|(.*))\))?")


# --- responses ------------------------------------------------------------------------------


def _json(body: Any, status: int = 200) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return current_app.response_class(text, status=status, mimetype="application/json")


def _not_found(de: str, en: str) -> QueryError:
    return QueryError(None, None, de, en, status=404)


@bp.errorhandler(QueryError)
def _query_error(error: QueryError) -> Response:
    return _json(error.to_dict(), error.status)


@bp.route("/", methods=WRITE_METHODS)
@bp.route("/<path:path>", methods=WRITE_METHODS)
def _read_only(path: str = "") -> Response:
    error = QueryError(
        None,
        None,
        "Diese SensorThings-Schnittstelle ist nur lesbar; Daten kommen über die Harvester.",
        "This SensorThings API is read-only; data arrives through the harvesters.",
        status=405,
    )
    response = _json(error.to_dict(), 405)
    response.headers["Allow"] = "GET, HEAD, OPTIONS"
    return response


def _root_url() -> str:
    store: Store = current_app.config["ODAPP_STORE"]
    return store.base_url.rstrip("/") + PREFIX


@bp.get("/")
def service_root() -> Response:
    root = _root_url()
    return _json(
        {
            "value": [{"name": name, "url": f"{root}/{name}"} for name in SETS],
            "serverSettings": {"conformance": CONFORMANCE},
        }
    )


# --- resource paths -------------------------------------------------------------------------


@dataclass
class Segment:
    name: str
    id: int | None
    has_key: bool


@dataclass
class Target:
    """What a resource path addresses: one entity (``row``) or a collection."""

    entity: EntityType
    conditions: list[Callable[[Any], Any]] = field(default_factory=list)
    row: Row | None = None
    scoped: bool = False  # Observations of one Datastream
    count_hint: int | None = None  # the collection's size when unfiltered, if known


@dataclass
class Context:
    conn: Connection
    dialect: str
    root: str


def _segments(path: str) -> list[Segment]:
    out = []
    for raw in path.strip("/").split("/"):
        m = _SEGMENT.fullmatch(raw)
        if raw in ("$value", "$ref"):
            out.append(Segment(raw, None, False))
        elif m is None:
            raise _not_found(f"Unbekannter Pfad '{raw[:80]}'.", f"Unknown path '{raw[:80]}'.")
        else:
            key = m.group(2) or m.group(3)
            has_key = m.group(0).endswith(")")
            if key and int(key) > LARGEST_INT:  # no row has it; the driver would overflow
                raise _not_found(f"Unbekannter Schlüssel {key[:40]}.", f"Unknown key {key[:40]}.")
            out.append(Segment(m.group(1), int(key) if key else None, has_key))
    return out


def _fetch(ctx: Context, entity: EntityType, conditions: list[Any], entity_id: int | None) -> Row:
    t = entity.alias()
    where = [*entity.base(t), *(c(t) for c in conditions)]
    if entity_id is not None:
        where.append(t.c.id == entity_id)
    row = ctx.conn.execute(select(*entity.columns(t)).where(*where).limit(1)).mappings().first()
    if row is None:
        label = f"{entity.plural}({entity_id})" if entity_id is not None else entity.name
        raise _not_found(f"{label} gibt es nicht.", f"{label} does not exist.")
    return row


def _resolve(ctx: Context, segments: list[Segment]) -> tuple[Target, list[Segment]]:
    """The entity or collection the path leads to, and the segments after it (a property,
    ``$value`` or ``$ref``)."""
    first = segments[0]
    entity = BY_SET.get(first.name)
    if entity is None:
        raise _not_found(
            f"Unbekannte Entitätsmenge '{first.name}' (bekannt: {', '.join(SETS)}).",
            f"Unknown entity set '{first.name}' (known: {', '.join(SETS)}).",
        )
    target = Target(entity)
    if first.has_key:
        target.row = _fetch(ctx, entity, [], _key(first, entity))
    for i, seg in enumerate(segments[1:], start=1):
        if seg.name.startswith("$") or target.row is None:
            return target, segments[i:]
        nav = target.entity.navs.get(seg.name)
        if nav is None:
            return target, segments[i:]
        row = target.row
        nxt = Target(nav.target, [nav.of(row)], scoped=nav.scopes_datastream)
        if nav.scopes_datastream:
            nxt.count_hint = row.get("observation_count")
        if seg.has_key or not nav.many:
            if seg.has_key and not nav.many:
                raise _not_found(
                    f"{seg.name} ist ein einzelnes Objekt und hat keinen Schlüssel.",
                    f"{seg.name} is a single entity and takes no key.",
                )
            key = _key(seg, nav.target) if seg.has_key else None
            nxt.row = _fetch(ctx, nav.target, nxt.conditions, key)
        target = nxt
    return target, []


def _key(seg: Segment, entity: EntityType) -> int:
    if seg.id is None:
        raise _not_found(
            f"{entity.plural}: der Schlüssel ist eine ganze Zahl, z. B. {entity.plural}(1).",
            f"{entity.plural}: the key is a whole number, e.g. {entity.plural}(1).",
        )
    return seg.id


@bp.get("/<path:path>")
def resource(path: str) -> Response:
    try:
        return _resource(path)
    except DataError as exc:  # e.g. an overflow in a filter's arithmetic (PostgreSQL)
        raise QueryError(
            "$filter" if "$filter" in request.args else None,
            None,
            f"Die Datenbank kann die Abfrage nicht auswerten: {str(exc.orig)[:200]}",
            f"The database cannot evaluate the query: {str(exc.orig)[:200]}",
        ) from None


def _resource(path: str) -> Response:
    store: Store = current_app.config["ODAPP_STORE"]
    opts = parse_options(request.args)
    segments = _segments(path)
    with store.engine.connect() as conn:
        ctx = Context(conn, store.engine.dialect.name, _root_url())
        target, rest = _resolve(ctx, segments)
        _check(ctx, target.entity, opts)
        if rest:
            return _rest(ctx, target, rest, opts, path)
        if target.row is not None:
            if opts.result_format:
                raise opts.error(
                    "$resultFormat",
                    0,
                    "dataArray gibt es nur für Sammlungen von Observations.",
                    "dataArray is only for collections of Observations.",
                )
            return _json(_render(ctx, target.entity, [target.row], opts)[0])
        return _json(_collection(ctx, target, opts, path))


def _rest(ctx: Context, target: Target, rest: list[Segment], opts: Options, path: str) -> Response:
    """A property (``Things(1)/name``, ``…/$value``) or references (``…/$ref``)."""
    head = rest[0]
    if head.name == "$ref" and len(rest) == 1:
        refs = Options(
            top=opts.top,
            skip=opts.skip,
            count=opts.count,
            filter=opts.filter,
            orderby=opts.orderby,
            raw=opts.raw,
        )
        if target.row is not None:
            return _json({"@iot.selfLink": _self_link(ctx, target.entity, target.row)})
        body = _collection(ctx, target, refs, path)
        body["value"] = [{"@iot.selfLink": v["@iot.selfLink"]} for v in body["value"]]
        return _json(body)
    if target.row is None or head.has_key or head.name not in target.entity.property_names:
        raise _not_found(
            f"{target.entity.name} hat keine Eigenschaft oder Navigation '{head.name}'.",
            f"{target.entity.name} has no property or navigation '{head.name}'.",
        )
    value = target.entity.render(target.row).get(head.name)
    if len(rest) == 1:
        return _json({head.name: value})
    if len(rest) == 2 and rest[1].name == "$value":
        if value is None:
            return current_app.response_class(status=204)
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return current_app.response_class(text, mimetype="text/plain")
    raise _not_found(
        f"Nach '{head.name}' geht der Pfad nicht weiter.",
        f"The path does not continue after '{head.name}'.",
    )


# --- checking options before any query runs -------------------------------------------------


def _check(ctx: Context, entity: EntityType, opts: Options) -> None:
    """Compile every option of every ``$expand`` level once, so a mistake anywhere is a 400
    whether or not there are rows to expand."""
    t = entity.alias()
    if opts.filter is not None:
        Compiler(entity, t, ctx.dialect, opts, "$filter").condition(opts.filter)
    orderer = Compiler(entity, t, ctx.dialect, opts, "$orderby")
    for order in opts.orderby:
        orderer.order(order)
    allowed = {"id", "@iot.id", "@iot.selfLink", *entity.property_names, *entity.navs}
    for sel in opts.select or []:
        if sel.name not in allowed:
            raise opts.error(
                "$select",
                sel.pos,
                f"{entity.name} hat keine Eigenschaft '{sel.name}'.",
                f"{entity.name} has no property '{sel.name}'.",
            )
    if opts.result_format and entity.name != "Observation":
        raise opts.error(
            "$resultFormat",
            0,
            "dataArray gibt es nur für Observations.",
            "dataArray is only for Observations.",
        )
    for sel in opts.select or [] if opts.result_format else []:
        if sel.name not in ("id", "@iot.id", *DATA_ARRAY_DEFAULT):
            raise opts.error(
                "$select",
                sel.pos,
                f"'{sel.name}' ist keine Komponente eines dataArray "
                f"({', '.join(DATA_ARRAY_DEFAULT)}).",
                f"'{sel.name}' is not a component of a dataArray "
                f"({', '.join(DATA_ARRAY_DEFAULT)}).",
            )
    if opts.result_format and opts.expand:
        raise opts.error(
            "$expand",
            0,
            "$expand lässt sich nicht mit $resultFormat=dataArray verbinden.",
            "$expand cannot be combined with $resultFormat=dataArray.",
        )
    for item in opts.expand:
        nav = entity.navs.get(item.nav)
        if nav is None:
            raise opts.error(
                "$expand",
                item.pos,
                f"{entity.name} hat keine Navigationseigenschaft '{item.nav}' "
                f"(bekannt: {', '.join(entity.navs)}).",
                f"{entity.name} has no navigation property '{item.nav}' "
                f"(known: {', '.join(entity.navs)}).",
            )
        _check(ctx, nav.target, item.options)


# --- collections ----------------------------------------------------------------------------


def _scoped_by_filter(node: Node | None) -> bool:
    """Whether the filter restricts Observations to one Datastream (``Datastream/id eq 3``
    as one of its top-level ``and`` terms)."""
    if node is None:
        return False
    if isinstance(node, Bin) and node.op == "and":
        return _scoped_by_filter(node.left) or _scoped_by_filter(node.right)
    if isinstance(node, Bin) and node.op == "eq":
        for a, b in ((node.left, node.right), (node.right, node.left)):
            if (
                isinstance(a, Path)
                and a.segments == ("Datastream", "id")
                and isinstance(b, Lit)
                and b.kind == "number"
            ):
                return True
    return False


def _is_path(node: Node, *segments: str) -> bool:
    return isinstance(node, Path) and node.segments == segments


def _order(
    entity: EntityType, t: Any, compiler: Compiler, opts: Options, scoped: bool
) -> list[Any]:
    order: list[Any] = []
    for item in opts.orderby:
        order.extend(compiler.order(item))
    first = opts.orderby[0].expr if opts.orderby else None
    if entity.name == "Observation" and scoped:
        # one datastream: phenomenonTime is unique there, and is the index's order
        if first is None:
            return [t.c.phenomenon_start.asc()]
        if _is_path(first, "phenomenonTime"):
            return order
    if any(_is_path(o.expr, "id") or _is_path(o.expr, "@iot.id") for o in opts.orderby):
        return order
    return [*order, t.c.id.asc()]


def _query(
    ctx: Context,
    entity: EntityType,
    conditions: Iterable[Callable[[Any], Any]],
    opts: Options,
    *,
    scoped: bool = False,
    count_hint: int | None = None,
) -> tuple[list[Row], bool, int | None]:
    """One page of a collection: its rows, whether there are more, and the count if asked."""
    t = entity.alias()
    where = [*entity.base(t), *(c(t) for c in conditions)]
    if opts.filter is not None:
        where.append(Compiler(entity, t, ctx.dialect, opts, "$filter").condition(opts.filter))
        scoped = scoped or (entity.name == "Observation" and _scoped_by_filter(opts.filter))
    order = _order(entity, t, Compiler(entity, t, ctx.dialect, opts, "$orderby"), opts, scoped)
    limit = opts.limit
    stmt = (
        select(*entity.columns(t)).where(*where).order_by(*order).offset(opts.skip).limit(limit + 1)
    )
    rows = list(ctx.conn.execute(stmt).mappings().all())
    more = len(rows) > limit and limit > 0  # $top=0 asks for the count only
    count = None
    if opts.count:
        if count_hint is not None and opts.filter is None:
            count = int(count_hint)
        else:
            count = ctx.conn.execute(select(func.count()).select_from(t).where(*where)).scalar()
    return rows[:limit], more, count


def _collection(ctx: Context, target: Target, opts: Options, path: str) -> dict[str, Any]:
    rows, more, count = _query(
        ctx,
        target.entity,
        target.conditions,
        opts,
        scoped=target.scoped,
        count_hint=target.count_hint,
    )
    body: dict[str, Any] = {}
    if count is not None:
        body["@iot.count"] = count
    if opts.result_format == "dataArray":
        body["value"] = _data_array(ctx, rows, opts)
    else:
        body["value"] = _render(ctx, target.entity, rows, opts)
    if more:
        args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("$top", "$skip")]
        body["@iot.nextLink"] = _link(
            f"{ctx.root}/{path.strip('/')}",
            [*args, ("$top", str(opts.limit)), ("$skip", str(opts.skip + opts.limit))],
        )
    return body


def _link(url: str, args: list[tuple[str, str]]) -> str:
    query = "&".join(f"{quote(k, safe='$')}={quote(v, safe=_SAFE)}" for k, v in args)
    return f"{url}?{query}" if query else url


_SAFE = "$(),;:'/*@!="


# --- rendering ------------------------------------------------------------------------------


def _self_link(ctx: Context, entity: EntityType, row: Row) -> str:
    return f"{ctx.root}/{entity.plural}({row['id']})"


def _render(ctx: Context, entity: EntityType, rows: list[Row], opts: Options) -> list[dict]:
    items = [_entity(ctx, entity, row, opts) for row in rows]
    for item in opts.expand:
        nav = entity.navs[item.nav]
        if nav.many:
            for row, out in zip(rows, items, strict=True):
                _expand_many(ctx, entity, nav, row, out, item.options)
        else:
            done: dict[Any, dict | None] = {}
            for row, out in zip(rows, items, strict=True):
                key = nav.group_key(row)
                if key not in done:
                    found, _, _ = _query(ctx, nav.target, [nav.of(row)], item.options)
                    done[key] = (
                        _render(ctx, nav.target, found[:1], item.options)[0] if found else None
                    )
                out[nav.name] = done[key]
    return items


def _expand_many(
    ctx: Context, entity: EntityType, nav: Any, row: Row, out: dict, opts: Options
) -> None:
    hint = row.get("observation_count") if nav.scopes_datastream else None
    found, more, count = _query(
        ctx, nav.target, [nav.of(row)], opts, scoped=nav.scopes_datastream, count_hint=hint
    )
    if count is not None:
        out[f"{nav.name}@iot.count"] = count
    out[nav.name] = _render(ctx, nav.target, found, opts)
    if more:
        args = [(k, v) for k, v in opts.raw.items() if k not in ("$top", "$skip")]
        out[f"{nav.name}@iot.nextLink"] = _link(
            f"{_self_link(ctx, entity, row)}/{nav.name}",
            [*args, ("$top", str(opts.limit)), ("$skip", str(opts.skip + opts.limit))],
        )


def _entity(ctx: Context, entity: EntityType, row: Row, opts: Options) -> dict[str, Any]:
    link = _self_link(ctx, entity, row)
    out: dict[str, Any] = {"@iot.id": row["id"], "@iot.selfLink": link}
    out.update(entity.render(row))
    for name in entity.navs:
        out[f"{name}@iot.navigationLink"] = f"{link}/{name}"
    if opts.select is None:
        return out
    wanted = set()
    for sel in opts.select:
        if sel.name in ("id", "@iot.id"):
            wanted.add("@iot.id")
        elif sel.name in entity.navs:
            wanted.add(f"{sel.name}@iot.navigationLink")
        else:
            wanted.add(sel.name)
    return {k: v for k, v in out.items() if k in wanted}


def _data_array(ctx: Context, rows: list[Row], opts: Options) -> list[dict[str, Any]]:
    """Observations grouped by Datastream as the data-array extension has them."""
    components = (
        [("id" if s.name == "@iot.id" else s.name) for s in opts.select]
        if opts.select
        else DATA_ARRAY_DEFAULT
    )
    observation = ENTITIES["Observation"]
    groups: dict[int, list[list[Any]]] = {}
    for row in rows:
        values = observation.render(row)
        values["id"] = row["id"]
        groups.setdefault(row["datastream_id"], []).append([values.get(c) for c in components])
    return [
        {
            "Datastream@iot.navigationLink": f"{ctx.root}/Datastreams({ds})",
            "components": components,
            "dataArray@iot.count": len(data),
            "dataArray": data,
        }
        for ds, data in groups.items()
    ]
