"""Downloads of sensor time series: one datastream's, or all of a Thing's datastreams in long
format, as CSV (and one datastream as JSON for charts), any range, streamed.

``datetime`` takes an instant or a range (``a/b``, ``a/..``, ``../b``; ISO 8601, UTC unless a
zone is given) and ``resolution`` ``raw`` (default), ``hour`` or ``day``. Unknown ids answer
404, bad parameters 400, both as JSON naming the parameter in German and English.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, current_app, request, stream_with_context
from sqlalchemy import select

from catalog.errors import CatalogError, NotFound
from catalog.schema import SensorThing
from catalog.sensors.series_csv import (
    RESOLUTIONS,
    StreamInfo,
    csv_chunks,
    json_chunks,
    query_range,
    stream_infos,
)
from catalog.sensors.store import SensorStore
from catalog.sensors.times import TimeError
from catalog.store import Store

bp = Blueprint("sensor_downloads", __name__, url_prefix="/sensors")

CSV_TYPE = "text/csv; charset=utf-8; header=present"
KNOWN_PARAMS = {"datetime", "resolution"}


def _sensor_store() -> SensorStore:
    store: Store = current_app.config["ODAPP_STORE"]
    return SensorStore(store.engine)


def _parameters() -> tuple[int | None, int | None, str]:
    """(start, end, resolution) from the query string, or a 400 naming the parameter."""
    unknown = sorted(set(request.args) - KNOWN_PARAMS)
    if unknown:
        names = ", ".join(unknown)
        raise CatalogError.one(
            unknown[0],
            "unknown-parameter",
            f"Unbekannte(r) Parameter: {names}; erlaubt sind datetime und resolution.",
            f"Unknown parameter(s): {names}; allowed are datetime and resolution.",
        )
    resolution = request.args.get("resolution", "raw")
    if resolution not in RESOLUTIONS:
        raise CatalogError.one(
            "resolution",
            "bad-resolution",
            f"resolution '{resolution}' gibt es nicht; erlaubt: raw, hour, day.",
            f"resolution '{resolution}' does not exist; allowed: raw, hour, day.",
        )
    text = request.args.get("datetime", "").strip()
    if not text:
        return None, None, resolution
    try:
        start, end = query_range(text)
    except TimeError as exc:
        raise CatalogError.one(
            "datetime", "bad-datetime", f"datetime: {exc.de}", f"datetime: {exc.en}"
        ) from None
    return start, end, resolution


def _missing(kind: str, ident: str) -> CatalogError:
    german = "Datenstrom" if kind == "Datastream" else "Messstation (Thing)"
    return NotFound.one(
        f"{kind}({ident})", "not-found", f"{german} {ident} gibt es nicht.", f"No {kind} {ident}."
    )


def _id(kind: str, ident: str) -> int:
    """The numeric id in the path; anything else names nothing that exists."""
    if not ident.isdigit() or len(ident) > 18:
        raise _missing(kind, ident[:40])
    return int(ident)


def _datastream(ident: str) -> StreamInfo:
    store: Store = current_app.config["ODAPP_STORE"]
    found = stream_infos(store.engine, datastream_id=_id("Datastream", ident))
    if not found:
        raise _missing("Datastream", ident)
    return found[0]


def _csv(chunks: Iterator[str], filename: str) -> Response:
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Type"] = CSV_TYPE
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/datastreams/<datastream_id>/observations.csv")
def datastream_csv(datastream_id: str) -> Response:
    stream = _datastream(datastream_id)
    start, end, resolution = _parameters()
    chunks = csv_chunks(_sensor_store(), [stream], start, end, resolution)
    return _csv(chunks, f"datastream-{stream.id}-{resolution}.csv")


@bp.get("/things/<thing_id>/observations.csv")
def thing_csv(thing_id: str) -> Response:
    store: Store = current_app.config["ODAPP_STORE"]
    ident = _id("Thing", thing_id)
    if not _thing_exists(store, ident):
        raise _missing("Thing", thing_id)
    start, end, resolution = _parameters()
    streams = stream_infos(store.engine, thing_id=ident)
    chunks = csv_chunks(_sensor_store(), streams, start, end, resolution)
    return _csv(chunks, f"thing-{ident}-{resolution}.csv")


@bp.get("/datastreams/<datastream_id>/observations.json")
def datastream_json(datastream_id: str) -> Response:
    stream = _datastream(datastream_id)
    start, end, resolution = _parameters()
    chunks = json_chunks(_sensor_store(), stream, start, end, resolution)
    return Response(stream_with_context(chunks), mimetype="application/json")


def _thing_exists(store: Store, thing_id: int) -> bool:
    with store.engine.connect() as conn:
        found = conn.execute(select(SensorThing.id).where(SensorThing.id == thing_id)).first()
    return found is not None
