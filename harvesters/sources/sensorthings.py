"""Source type ``sensorthings``: the Things, Datastreams and Observations of an OGC
SensorThings API 1.1 server (FROST, ODApp's own /sta/v1.1, …), harvested incrementally.

``url`` is the service root (``https://host/FROST-Server/v1.1``, ``http://host/sta/v1.1``).
Things are read with their Locations and Datastreams in one paged listing (``filters.things``
is passed on as ``$filter``; ``filters.observed_properties`` keeps only the Datastreams of these
ObservedProperties, by name). Each Datastream's Observations are then read after the newest one
already stored (``options.since`` for the first run), oldest first, ``options.page_size`` per
request (default 1000), in the compact ``$resultFormat=dataArray`` form unless
``options.data_array`` is false or the server refuses it. ``options.max_observations`` caps one
run; the next run carries on where it stopped. Every Thing with Datastreams becomes one
catalogue dataset (see :mod:`catalog.sensors.catalogue`).

Any HTTP error, a broken answer or a next link that comes round again fails the run; what was
stored up to then stays, and the next run goes on after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin

from catalog.sensors.store import COUNT, MEASUREMENT
from catalog.sensors.times import TimeError, iso, parse_time
from harvesters.base import Context, Item, SourceError
from harvesters.sensor_sink import SensorSink

DEFAULT_PAGE_SIZE = 1000
THINGS_EXPAND = "Locations,Datastreams($expand=ObservedProperty,Sensor)"
STREAM_EXPAND = "ObservedProperty,Sensor"
_DATA_ARRAY = {"$resultFormat": "dataArray"}
NUMERIC = {MEASUREMENT, COUNT}
# characters left as they are in query values: OData needs the parentheses, quotes and commas
_SAFE = "$(),'/:=;"
_RESUME = "resume"  # memory key: the Datastream the next run starts with (after a capped run)


@dataclass
class _Stream:
    """A Datastream to read Observations for."""

    id: int  # ODApp's datastream id
    remote: Any  # the server's @iot.id
    key: str  # the Thing's key
    numeric: bool


@dataclass
class _Run:
    context: Context
    sink: SensorSink
    root: str
    page_size: int
    data_array: bool
    since: int | None
    budget: int | None  # observations still allowed in this run (None: no cap)
    data_array_known: bool = False  # the server has answered a dataArray request


def fetch(context: Context) -> Iterator[Item]:
    config = context.config
    if not config.url:
        raise SourceError(
            config.name,
            "Für sensorthings fehlt „url“ (die Basisadresse der SensorThings API, z. B. "
            "https://server/FROST-Server/v1.1).",
            "sensorthings needs 'url' (the SensorThings API service root, e.g. "
            "https://server/FROST-Server/v1.1).",
        )
    sink: SensorSink = context.sensors
    run = _Run(
        context=context,
        sink=sink,
        root=config.url.split("?", 1)[0].rstrip("/"),
        page_size=_positive(config.options.get("page_size"), "page_size") or DEFAULT_PAGE_SIZE,
        data_array=config.options.get("data_array", True) is not False,
        since=_since(config.options.get("since"), sink),
        budget=_positive(config.options.get("max_observations"), "max_observations"),
    )
    wanted = {str(n).casefold() for n in config.filters.get("observed_properties") or []}
    origins: dict[str, str] = {}
    streams: list[_Stream] = []
    for thing in _pages(context, _things_url(run.root, config.filters.get("things"))):
        found = _thing(run, thing, wanted)
        if found is not None:
            key, origin, thing_streams = found
            origins[key] = origin
            streams += thing_streams
    _observations(run, streams)
    for key, origin in origins.items():
        yield from sink.harvested(context.base_url, origin, keys=[key])


# --- Things and Datastreams ---------------------------------------------------------------


def _things_url(root: str, thing_filter: Any) -> str:
    params = {"$expand": THINGS_EXPAND}
    if isinstance(thing_filter, str) and thing_filter.strip():
        params["$filter"] = thing_filter.strip()
    return f"{root}/Things?{_query(params)}"


def _thing(
    run: _Run, thing: dict[str, Any], wanted: set[str]
) -> tuple[str, str, list[_Stream]] | None:
    """Register one Thing and its wanted Datastreams; None if it has none."""
    remote = thing.get("@iot.id")
    if remote is None:
        raise _broken(run.root + "/Things", "Ein Thing ohne @iot.id.", "A Thing without @iot.id.")
    key = str(remote)
    origin = str(thing.get("@iot.selfLink") or f"{run.root}/Things({_literal(remote)})")
    datastreams = [
        _expanded_stream(run, ds, origin) for ds in _expanded(run.context, thing, "Datastreams")
    ]
    datastreams = [
        ds
        for ds in datastreams
        if not wanted or str(_property(ds).get("name", "")).casefold() in wanted
    ]
    if not datastreams:
        return None
    run.context.heartbeat()
    properties = thing.get("properties")
    thing_id = run.sink.thing(
        key,
        str(thing.get("name") or key),
        description=str(thing.get("description") or ""),
        properties=properties if isinstance(properties, dict) else None,
        location=_location(_expanded(run.context, thing, "Locations", first_only=True)),
    )
    streams = []
    for ds in datastreams:
        numeric = ds.get("observationType", MEASUREMENT) in NUMERIC
        sensor = ds.get("Sensor") if isinstance(ds.get("Sensor"), dict) else {}
        unit = ds.get("unitOfMeasurement") if isinstance(ds.get("unitOfMeasurement"), dict) else {}
        prop = _property(ds)
        ds_id = run.sink.datastream(
            thing_id,
            str(ds["@iot.id"]),
            str(ds.get("name") or prop.get("name") or ds["@iot.id"]),
            observed_property={
                "name": str(prop.get("name") or ds.get("name") or ds["@iot.id"]),
                "definition": str(prop.get("definition") or ""),
                "description": str(prop.get("description") or ""),
            },
            unit={k: str(unit.get(k) or "") for k in ("name", "symbol", "definition")},
            sensor=str(sensor.get("name") or "") or None,
            numeric=numeric,
            description=str(ds.get("description") or ""),
            properties=ds.get("properties") if isinstance(ds.get("properties"), dict) else None,
        )
        streams.append(_Stream(ds_id, ds["@iot.id"], key, numeric))
    return key, origin, streams


def _expanded(
    context: Context, entity: dict[str, Any], name: str, *, first_only: bool = False
) -> list[dict[str, Any]]:
    """An expanded collection, with the rest the server paged out (``<name>@iot.nextLink``)."""
    items = entity.get(name)
    items = [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    more = entity.get(f"{name}@iot.nextLink")
    if isinstance(more, str) and more and not (first_only and items):
        items += list(_pages(context, more))
    return items


def _expanded_stream(run: _Run, ds: dict[str, Any], where: str) -> dict[str, Any]:
    """A Datastream with its ObservedProperty and Sensor (read separately where the server
    left them out of the expansion)."""
    if ds.get("@iot.id") is None:
        raise _broken(where, "Ein Datastream ohne @iot.id.", "A Datastream without @iot.id.")
    if isinstance(ds.get("ObservedProperty"), dict) and isinstance(ds.get("Sensor"), dict):
        return ds
    url = f"{run.root}/Datastreams({_literal(ds['@iot.id'])})?{_query({'$expand': STREAM_EXPAND})}"
    full = _json(run.context, url)
    return full if isinstance(full, dict) else ds


def _property(ds: dict[str, Any]) -> dict[str, Any]:
    prop = ds.get("ObservedProperty")
    return prop if isinstance(prop, dict) else {}


def _location(locations: list[dict[str, Any]]) -> tuple[float, float] | dict[str, Any] | None:
    """The first Location as (lon, lat) for a point, else its GeoJSON geometry."""
    for loc in locations[:1]:
        geometry = loc.get("location")
        if isinstance(geometry, dict) and geometry.get("type") == "Feature":
            geometry = geometry.get("geometry")
        if not isinstance(geometry, dict) or "type" not in geometry:
            return None
        if geometry["type"] == "Point":
            try:
                lon, lat = (float(c) for c in geometry["coordinates"][:2])
            except (KeyError, TypeError, ValueError):
                return None
            return lon, lat
        return geometry
    return None


# --- Observations -------------------------------------------------------------------------


def _observations(run: _Run, streams: list[_Stream]) -> None:
    """Read each Datastream's new Observations. A run that reaches ``max_observations``
    remembers where it stopped, so that the next one starts there and every Datastream gets
    its turn."""
    for stream in _rotated(streams, run.context.recall(_RESUME)):
        run.context.heartbeat()
        if (run.budget is not None and run.budget <= 0) or _read_stream(run, stream):
            run.context.remember(_RESUME, f"{stream.key}\n{stream.remote}")
            return
    run.context.remember(_RESUME, None)


def _rotated(streams: list[_Stream], resume: Any) -> list[_Stream]:
    for i, stream in enumerate(streams):
        if resume == f"{stream.key}\n{stream.remote}":
            return streams[i:] + streams[:i]
    return streams


def _read_stream(run: _Run, stream: _Stream) -> bool:
    """Store the Datastream's new Observations; True if the cap stopped it before its end."""
    newest = run.sink.store.newest(stream.id)
    params = {"$orderby": "phenomenonTime asc", "$top": str(run.page_size)}
    if newest is not None:  # after the newest stored one
        params["$filter"] = f"phenomenonTime gt {iso(newest)}"
    elif run.since is not None:  # the first run: from options.since on
        params["$filter"] = f"phenomenonTime ge {iso(run.since)}"
    url = f"{run.root}/Datastreams({_literal(stream.remote)})/Observations"
    first = f"{url}?{_query(params)}"
    if run.data_array:
        page = _first_data_array(run, first, f"{url}?{_query(params | _DATA_ARRAY)}")
    else:
        page = _json(run.context, first)
    seen: set[str] = {first}
    while True:
        rows, next_link = _page_rows(page, url)
        for row in rows:
            if run.budget is not None:
                if run.budget <= 0:
                    return True
                run.budget -= 1
            _reading(run, stream, row, url)
        run.sink.flush()  # what was read is kept even if a later page fails
        if not rows or not next_link:
            return False
        if run.budget is not None and run.budget <= 0:
            return True
        next_link = urljoin(url, next_link)
        _guard(seen, next_link)
        run.context.heartbeat()
        page = _json(run.context, next_link)


def _first_data_array(run: _Run, plain: str, compact: str) -> Any:
    """Ask for the dataArray form; a server that answers the first such request with HTTP 400
    does not know it, and the run goes on with the normal form."""
    if run.data_array_known:
        return _json(run.context, compact)
    try:
        page = _json(run.context, compact)
    except SourceError as exc:
        if exc.status != 400:
            raise
        run.data_array = False
        return _json(run.context, plain)
    run.data_array_known = True
    return page


def _page_rows(page: Any, where: str) -> tuple[list[dict[str, Any]], str | None]:
    """The Observations of one answer (normal or dataArray form) and its next link."""
    if not isinstance(page, dict) or not isinstance(page.get("value"), list):
        raise _broken(
            where,
            "Die Antwort enthält keine Liste „value“.",
            "The answer holds no 'value' list.",
        )
    rows: list[dict[str, Any]] = []
    for entry in page["value"]:
        if isinstance(entry, dict) and isinstance(entry.get("dataArray"), list):
            components = entry.get("components")
            if not isinstance(components, list):
                raise _broken(
                    where,
                    "dataArray ohne „components“.",
                    "dataArray without 'components'.",
                )
            rows += [
                dict(zip(components, values, strict=False))
                for values in entry["dataArray"]
                if isinstance(values, list)
            ]
        elif isinstance(entry, dict):
            rows.append(entry)
    next_link = page.get("@iot.nextLink")
    return rows, next_link if isinstance(next_link, str) and next_link else None


def _reading(run: _Run, stream: _Stream, row: dict[str, Any], url: str) -> None:
    ident = row.get("id", row.get("@iot.id"))
    where = f"{url}({_literal(ident)})" if ident is not None else url
    time = row.get("phenomenonTime")
    result_time = row.get("resultTime")
    run.sink.reading(
        stream.id,
        where,
        time if isinstance(time, str) else ("" if time is None else str(time)),
        row.get("result"),
        numeric=stream.numeric,
        result_time=result_time if isinstance(result_time, str) and result_time else None,
    )


# --- HTTP and JSON ------------------------------------------------------------------------


def _pages(context: Context, url: str) -> Iterator[dict[str, Any]]:
    """Every entity of a collection, following @iot.nextLink (a link seen twice fails)."""
    seen = {url}
    while True:
        context.heartbeat()
        page = _json(context, url)
        if not isinstance(page, dict) or not isinstance(page.get("value"), list):
            raise _broken(
                url,
                "Die Antwort enthält keine Liste „value“.",
                "The answer holds no 'value' list.",
            )
        entities = [e for e in page["value"] if isinstance(e, dict)]
        yield from entities
        next_link = page.get("@iot.nextLink")
        if not entities or not isinstance(next_link, str) or not next_link:
            return
        url = urljoin(url, next_link)
        _guard(seen, url)


def _guard(seen: set[str], url: str) -> None:
    if url in seen:
        raise SourceError(
            url,
            "Der Server verweist ein zweites Mal auf dieselbe Folgeseite (@iot.nextLink); "
            "die Liste endet nie.",
            "The server links to the same next page (@iot.nextLink) a second time; the "
            "listing never ends.",
        )
    seen.add(url)


def _json(context: Context, url: str) -> Any:
    response = context.get(url, headers={"Accept": "application/json"})
    try:
        return response.json()
    except ValueError:
        raise _broken(url, "Die Antwort ist kein JSON.", "The answer is not JSON.") from None


def _broken(where: str, de: str, en: str) -> SourceError:
    return SourceError(
        where,
        f"{de} Ist das eine SensorThings API 1.1?",
        f"{en} Is this a SensorThings API 1.1?",
    )


def _query(params: dict[str, str]) -> str:
    return "&".join(f"{k}={quote(v, safe=_SAFE)}" for k, v in params.items())


def _literal(value: Any) -> str:
    """An @iot.id as OData writes it in a path: numbers as they are, strings quoted."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


# --- options ------------------------------------------------------------------------------


def _positive(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise SourceError(
        f"options.{name}",
        f"„{name}“ muss eine ganze Zahl ab 1 sein, nicht {value!r}.",
        f"'{name}' must be a whole number of at least 1, not {value!r}.",
    )


def _since(value: Any, sink: SensorSink) -> int | None:
    if value is None:
        return None
    try:
        start, _end, _assumed = parse_time(str(value), assume=sink.zone)
    except TimeError as exc:
        raise SourceError(
            "options.since",
            f"„since“ ist keine Zeitangabe nach ISO 8601: {exc.de}",
            f"'since' is not an ISO 8601 time: {exc.en}",
        ) from None
    return start
