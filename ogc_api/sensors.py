"""Sensor data as OGC API Features collections: the newest value of every datastream
(``sensor-latest``), the raw readings (``sensor-observations``) and the hourly and daily
aggregates (``sensor-observations-hourly``, ``-daily``).

``datetime``, property filters, ``bbox``, paging and sorting all become SQL. A datastream's
readings are found through the unique index (datastream, time), so a query over many
datastreams is answered one datastream at a time (and merged when sorted by time), never by
sorting the whole table. Providers are built per request and only ask the database when
queried.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from pygeoapi.provider.base import (
    BaseProvider,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
)
from sqlalchemy import Connection, Engine, Select, func, select
from sqlalchemy.sql.elements import ColumnElement

from catalog.schema import (
    SensorAggregate,
    SensorDatastream,
    SensorObservation,
    SensorObservedProperty,
    SensorThing,
)
from catalog.sensors.series_csv import query_range
from catalog.sensors.times import (
    HOUR,
    DayBuckets,
    TimeError,
    db_int,
    from_ms,
    iso,
    iso_interval,
)
from ogc_api.config import DRESDEN_BBOX, MAX_ITEMS
from ogc_api.crs import CRS84, SUPPORTED, transform_features
from ogc_api.provider import fields_of
from ogc_api.registry import store_for

LATEST = "sensor-latest"
RAW = "sensor-observations"
HOURLY = "sensor-observations-hourly"
DAILY = "sensor-observations-daily"
RESOLUTIONS = {RAW: "raw", HOURLY: "hour", DAILY: "day"}
COLLECTIONS = (LATEST, RAW, HOURLY, DAILY)
MERGE_LIMIT = 50_000  # above offset + limit this, a time-sorted page is sorted by the database
IN_CHUNK = 500  # datastream ids per IN list

DS, THING, PROP = SensorDatastream, SensorThing, SensorObservedProperty

# field -> type (ogc_api.provider.JSON_TYPES) of each collection's properties
STREAM_FIELDS = {
    "datastream_id": "integer",
    "thing_id": "integer",
    "observed_property": "string",
    "unit": "string",
}
LATEST_FIELDS = {
    "thing_id": "integer",
    "thing": "string",
    "datastream": "string",
    "observed_property": "string",
    "unit": "string",
    "result": "number",
    "phenomenonTime": "string",  # an instant or an interval
    "observation_count": "integer",
    "dataset": "string",
    "sta": "string",
}
RAW_FIELDS = {
    **STREAM_FIELDS,
    "phenomenonTime": "datetime",
    "phenomenonTimeEnd": "datetime",
    "result": "number",
}
AGGREGATE_FIELDS = {
    **STREAM_FIELDS,
    "phenomenonTime": "datetime",
    "phenomenonTimeEnd": "datetime",
    "mean": "number",
    "min": "number",
    "max": "number",
    "count": "integer",
}
# property filters on the datastream (and its Thing): column, type
STREAM_FILTERS: dict[str, tuple[Any, type]] = {
    "datastream_id": (DS.id, int),
    "thing_id": (DS.thing_id, int),
    "thing": (THING.name, str),
    "datastream": (DS.name, str),
    "observed_property": (PROP.name, str),
    "unit": (DS.unit_symbol, str),
    "dataset": (THING.dataset_uri, str),
}
LATEST_FILTERS = {
    **STREAM_FILTERS,
    "result": (DS.last_result, float),
    "observation_count": (DS.observation_count, int),
}
LATEST_SORT = {
    "id": DS.id,
    "sta": DS.id,
    "thing_id": DS.thing_id,
    "thing": THING.name,
    "datastream": DS.name,
    "observed_property": PROP.name,
    "unit": DS.unit_symbol,
    "result": DS.last_result,
    "phenomenonTime": DS.last_time,
    "observation_count": DS.observation_count,
    "dataset": THING.dataset_uri,
}
SERIES_SORT_STREAM = {"datastream_id", "thing_id", "observed_property", "unit"}
TIME = "phenomenonTime"


# --- the configuration --------------------------------------------------------------------


def generation(engine: Engine) -> tuple[Any, ...]:
    """Changes when a datastream or Thing is added, a Thing changes (its place, its dataset) or
    older readings arrive; not with every new reading, so ingest does not rebuild the API."""
    stmt = select(
        select(func.count()).select_from(DS).scalar_subquery(),
        select(func.max(DS.id)).scalar_subquery(),
        select(func.min(DS.first_time)).scalar_subquery(),
        select(func.count()).select_from(THING).scalar_subquery(),
        select(func.max(THING.updated_at)).scalar_subquery(),
    )
    with engine.connect() as conn:
        return tuple(conn.execute(stmt).one())


def resources(engine: Engine, *, base_url: str, database_url: str) -> dict[str, Any]:
    """The four sensor collections of the pygeoapi configuration; none without datastreams."""
    with engine.connect() as conn:
        count, first = conn.execute(select(func.count(), func.min(DS.first_time))).one()
        if not count:
            return {}
        box = conn.execute(
            select(
                func.min(THING.lon), func.min(THING.lat), func.max(THING.lon), func.max(THING.lat)
            )
            .join(DS, DS.thing_id == THING.id)
            .where(THING.lon.is_not(None), THING.lat.is_not(None))
        ).one()
    bbox = list(box) if box[0] is not None else DRESDEN_BBOX
    begins = {LATEST: first, RAW: first, HOURLY: None, DAILY: None}
    if first is not None:
        begins[HOURLY] = first - first % HOUR
        begins[DAILY] = DayBuckets().bucket(first)[0]
    base = base_url.rstrip("/")
    out = {}
    for cid in COLLECTIONS:
        out[cid] = _resource(cid, bbox, begins[cid], base, database_url)
    return out


TEXTS = {
    LATEST: (
        {"de": "Sensordaten: neueste Messwerte", "en": "Sensor data: latest values"},
        "Der neueste Wert jedes Datenstroms (Datastream) jeder Messstation mit ihrem Standort.",
        "The newest value of every datastream of every station, at the station's location.",
    ),
    RAW: (
        {"de": "Sensordaten: Messwerte", "en": "Sensor data: observations"},
        "Jede einzelne Messung, abzufragen mit datetime (Zeitpunkt oder Zeitraum) und "
        "datastream_id oder thing_id.",
        "Every single observation, queried by datetime (an instant or a range) and "
        "datastream_id or thing_id.",
    ),
    HOURLY: (
        {"de": "Sensordaten: Stundenwerte", "en": "Sensor data: hourly values"},
        "Mittelwert, Minimum, Maximum und Anzahl der Messungen je Datenstrom und Stunde (UTC).",
        "Mean, minimum, maximum and count of the observations per datastream and hour (UTC).",
    ),
    DAILY: (
        {"de": "Sensordaten: Tageswerte", "en": "Sensor data: daily values"},
        "Mittelwert, Minimum, Maximum und Anzahl der Messungen je Datenstrom und Kalendertag "
        "in Dresden (Europe/Berlin; Anfang und Ende des Tages in UTC angegeben).",
        "Mean, minimum, maximum and count of the observations per datastream and calendar day "
        "in Dresden (Europe/Berlin; the day's start and end given in UTC).",
    ),
}
TIME_NOTE = (
    " Alle Zeiten in UTC (ISO 8601); Zeitreihen als CSV unter "
    "/sensors/datastreams/<id>/observations.csv und /sensors/things/<id>/observations.csv.",
    " All times are UTC (ISO 8601); time series as CSV at "
    "/sensors/datastreams/<id>/observations.csv and /sensors/things/<id>/observations.csv.",
)


def _resource(
    cid: str, bbox: list[float], begin: int | None, base: str, database_url: str
) -> dict[str, Any]:
    title, de, en = TEXTS[cid]
    fields = LATEST_FIELDS if cid == LATEST else RAW_FIELDS if cid == RAW else AGGREGATE_FIELDS
    extents: dict[str, Any] = {"spatial": {"bbox": bbox, "crs": CRS84}}
    if begin is not None:
        # open end: readings keep arriving, and pygeoapi refuses a datetime after the end
        extents["temporal"] = {"begin": from_ms(begin).astimezone(UTC), "end": None}
    provider = {
        "type": "feature",
        "name": f"ogc_api.sensors.{'LatestProvider' if cid == LATEST else 'SeriesProvider'}",
        "data": cid,
        "database": database_url,
        "base_url": base,
        "columns": [{"name": k, "type": v} for k, v in fields.items()],
        "id_field": "id",
        "crs": list(SUPPORTED),
        "storage_crs": CRS84,
    }
    return {
        "type": "collection",
        "title": title,
        "description": {"de": de + TIME_NOTE[0], "en": en + TIME_NOTE[1]},
        "keywords": {
            "de": ["Sensordaten", "Messwerte", "Zeitreihen", "Umwelt", "Dresden"],
            "en": ["sensor data", "observations", "time series", "environment", "Dresden"],
        },
        "links": [
            {
                "type": "application/json",
                "rel": "related",
                "title": {"de": "SensorThings API", "en": "SensorThings API"},
                "href": f"{base}/sta/v1.1/Datastreams",
            }
        ],
        "extents": extents,
        "providers": [provider],
        "limits": {"default_items": 10, "max_items": MAX_ITEMS, "on_exceed": "throttle"},
    }


# --- shared pieces of the providers --------------------------------------------------------


@dataclass(frozen=True)
class Stream:
    """A datastream with what every feature of it repeats."""

    id: int
    thing_id: int
    observed_property: str
    unit: str
    lon: float | None
    lat: float | None
    count: int  # readings stored (kept up to date by the store)

    def geometry(self) -> dict[str, Any] | None:
        if self.lon is None or self.lat is None:
            return None
        return {"type": "Point", "coordinates": [self.lon, self.lat]}


def bad(de: str, en: str) -> ProviderInvalidQueryError:
    return ProviderInvalidQueryError(user_msg=f"{en} / {de}")


def time_range(datetime_: str | None) -> tuple[int | None, int | None]:
    if not datetime_:
        return None, None
    try:
        return query_range(datetime_)
    except TimeError as exc:
        raise bad(f"datetime: {exc.de}", f"datetime: {exc.en}") from None


def within(column: Any, start: int | None, end: int | None) -> list[ColumnElement[bool]]:
    out = []
    if start is not None:
        out.append(column >= start)
    if end is not None:
        out.append(column <= end)
    return out


def stream_conditions(
    properties: Iterable[tuple[str, str]],
    bbox: list[float] | None,
    filters: dict[str, tuple[Any, type]],
) -> list[ColumnElement[bool]]:
    """Property filters (equality) and the bounding box, on datastream and Thing columns."""
    out: list[ColumnElement[bool]] = []
    for name, raw in properties:
        if name not in filters:
            raise bad(
                f"Nach '{name}' kann hier nicht gefiltert werden; für Zeiten datetime verwenden.",
                f"'{name}' cannot be filtered on here; use datetime for times.",
            )
        column, kind = filters[name]
        try:
            value = kind(raw)
            if kind is int:
                value = db_int(value)
        except ValueError:
            raise bad(
                f"{name}: '{raw}' ist keine Zahl.", f"{name}: '{raw}' is not a number."
            ) from None
        out.append(column == value)
    if bbox:
        box = [bbox[0], bbox[1], bbox[3], bbox[4]] if len(bbox) == 6 else list(bbox)
        out += [
            THING.lon >= box[0],
            THING.lat >= box[1],
            THING.lon <= box[2],
            THING.lat <= box[3],
        ]
    return out


def refuse_filter(filterq: Any, q: str | None) -> None:
    if filterq is not None:
        raise bad(
            "CQL2-Filter gibt es für Sensordaten nicht; bitte datetime, bbox und "
            "Eigenschaften wie datastream_id=… verwenden.",
            "CQL2 filters are not offered for sensor data; use datetime, bbox and "
            "properties such as datastream_id=….",
        )
    if q:
        raise bad(
            "q (Freitext) gibt es für Sensordaten nicht.",
            "q (free text) is not offered for sensor data.",
        )


def finish(
    features: list[dict[str, Any]],
    *,
    select_properties: list[str] | None,
    skip_geometry: bool,
    crs_transform_spec: Any,
) -> list[dict[str, Any]]:
    if select_properties:
        wanted = set(select_properties)
        for f in features:
            f["properties"] = {k: v for k, v in f["properties"].items() if k in wanted}
    if skip_geometry:
        for f in features:
            f["geometry"] = None
    elif crs_transform_spec is not None:
        transform_features(features, crs_transform_spec.target_crs_uri)
    return features


def collection(features: list[dict[str, Any]], matched: int | None, hits: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"type": "FeatureCollection", "features": [] if hits else features}
    if matched is not None:
        result["numberMatched"] = matched
    result["numberReturned"] = len(result["features"])
    return result


class SensorProvider(BaseProvider):
    """What both providers share: the definition, the fields, the engine."""

    FIELDS: dict[str, str] = {}

    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        self.collection_id = provider_def["data"]
        self.database = provider_def["database"]
        self.base_url = provider_def.get("base_url", "")
        self.id_field = "id"
        self._fields = fields_of([{"name": k, "type": v} for k, v in self.fields_types().items()])

    def fields_types(self) -> dict[str, str]:
        return self.FIELDS

    def get_fields(self) -> dict[str, dict[str, str]]:
        return self._fields

    @property
    def engine(self) -> Engine:
        return store_for(self.database).engine


# --- sensor-latest ---------------------------------------------------------------------------


class LatestProvider(SensorProvider):
    """One feature per located datastream: its newest value."""

    FIELDS = LATEST_FIELDS

    def _select(self) -> Select:
        return (
            select(
                DS.id,
                DS.thing_id,
                THING.name,
                DS.name,
                PROP.name,
                DS.unit_symbol,
                DS.last_result,
                DS.last_time,
                DS.last_end,
                DS.observation_count,
                THING.dataset_uri,
                THING.lon,
                THING.lat,
            )
            .join(THING, THING.id == DS.thing_id)
            .join(PROP, PROP.id == DS.observed_property_id)
            .where(THING.lon.is_not(None), THING.lat.is_not(None))
        )

    def _feature(self, row: Any) -> dict[str, Any]:
        ds, thing_id, thing, name, prop, unit, value, last, last_end, n, dataset, lon, lat = row
        return {
            "type": "Feature",
            "id": ds,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {
                "thing_id": thing_id,
                "thing": thing,
                "datastream": name,
                "observed_property": prop,
                "unit": unit,
                "result": value,
                "phenomenonTime": iso_interval(last, last_end) if last is not None else None,
                "observation_count": n,
                "dataset": dataset,
                "sta": f"{self.base_url}/sta/v1.1/Datastreams({ds})",
            },
        }

    def query(  # noqa: PLR0913 - pygeoapi's provider interface
        self,
        offset: int = 0,
        limit: int = 10,
        resulttype: str = "results",
        bbox: list[float] | None = None,
        datetime_: str | None = None,
        properties: list[tuple[str, str]] | None = None,
        sortby: list[dict[str, str]] | None = None,
        select_properties: list[str] | None = None,
        skip_geometry: bool = False,
        q: str | None = None,
        filterq: Any = None,
        crs_transform_spec: Any = None,
        **_kwargs: Any,
    ) -> dict[str, Any]:
        refuse_filter(filterq, q)
        start, end = time_range(datetime_)
        conditions = stream_conditions(properties or [], bbox, LATEST_FILTERS)
        conditions += within(DS.last_time, start, end)
        stmt = self._select().where(*conditions)
        order = []
        for s in sortby or []:
            column = LATEST_SORT.get(s["property"])
            if column is None:
                raise bad(
                    f"Nach '{s['property']}' kann nicht sortiert werden.",
                    f"Cannot sort by '{s['property']}'.",
                )
            order.append(column.desc() if s["order"] == "-" else column.asc())
        with self.engine.connect() as conn:
            matched = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
            rows = []
            if resulttype != "hits":
                rows = conn.execute(stmt.order_by(*order, DS.id).offset(offset).limit(limit)).all()
        features = finish(
            [self._feature(r) for r in rows],
            select_properties=select_properties,
            skip_geometry=skip_geometry,
            crs_transform_spec=crs_transform_spec,
        )
        return collection(features, matched, resulttype == "hits")

    def get(self, identifier: str, crs_transform_spec: Any = None, **_kwargs: Any) -> dict:
        try:
            ds = db_int(int(identifier))
        except ValueError:
            raise ProviderItemNotFoundError(user_msg=f"no datastream {identifier!r}") from None
        with self.engine.connect() as conn:
            row = conn.execute(self._select().where(DS.id == ds)).first()
        if row is None:
            raise ProviderItemNotFoundError(user_msg=f"no datastream {identifier!r}")
        return finish(
            [self._feature(row)],
            select_properties=None,
            skip_geometry=False,
            crs_transform_spec=crs_transform_spec,
        )[0]


# --- sensor-observations, -hourly, -daily ----------------------------------------------------


class SeriesProvider(SensorProvider):
    """Readings (``raw``) or aggregates (``hour``, ``day``): one feature each."""

    def __init__(self, provider_def: dict[str, Any]) -> None:
        self.resolution = RESOLUTIONS[provider_def["data"]]
        super().__init__(provider_def)

    def fields_types(self) -> dict[str, str]:
        return RAW_FIELDS if self.resolution == "raw" else AGGREGATE_FIELDS

    # -- SQL pieces --

    @property
    def raw(self) -> bool:
        return self.resolution == "raw"

    def _time(self) -> Any:
        return SensorObservation.phenomenon_start if self.raw else SensorAggregate.bucket

    def _stream_column(self) -> Any:
        return SensorObservation.datastream_id if self.raw else SensorAggregate.datastream_id

    def _rows(self) -> Select:
        if self.raw:
            o = SensorObservation
            return select(
                o.datastream_id, o.phenomenon_start, o.phenomenon_end, o.result, o.result_text, o.id
            )
        a = SensorAggregate
        return select(
            a.datastream_id, a.bucket, a.bucket_end, a.total, a.count, a.minimum, a.maximum
        ).where(a.resolution == self.resolution)

    def _counts_table(self) -> Select:
        stmt = select(self._stream_column(), func.count())
        if not self.raw:
            stmt = stmt.where(SensorAggregate.resolution == self.resolution)
        return stmt

    def _feature(self, stream: Stream, row: Any) -> dict[str, Any]:
        props: dict[str, Any] = {
            "datastream_id": stream.id,
            "thing_id": stream.thing_id,
            "observed_property": stream.observed_property,
            "unit": stream.unit,
            "phenomenonTime": iso(row[1]),
            "phenomenonTimeEnd": iso(row[2]),
        }
        if self.raw:
            props["result"] = row[3] if row[3] is not None else row[4]
            ident: Any = row[5]
        else:
            total, n, low, high = row[3:7]
            props.update(mean=total / n if n else None, min=low, max=high, count=n)
            ident = f"{stream.id}-{row[1]}"
        return {"type": "Feature", "id": ident, "geometry": stream.geometry(), "properties": props}

    # -- datastreams --

    def _streams(
        self, conn: Connection, conditions: list[ColumnElement[bool]], order: list[tuple[str, bool]]
    ) -> list[Stream]:
        columns = {
            "datastream_id": DS.id,
            "thing_id": DS.thing_id,
            "observed_property": PROP.name,
            "unit": DS.unit_symbol,
        }
        stmt = (
            select(
                DS.id,
                DS.thing_id,
                PROP.name,
                DS.unit_symbol,
                THING.lon,
                THING.lat,
                DS.observation_count,
            )
            .join(THING, THING.id == DS.thing_id)
            .join(PROP, PROP.id == DS.observed_property_id)
            .where(*conditions)
            .order_by(*[columns[p].asc() if asc else columns[p].desc() for p, asc in order], DS.id)
        )
        return [Stream(*row) for row in conn.execute(stmt)]

    def _counts(
        self, conn: Connection, streams: list[Stream], start: int | None, end: int | None
    ) -> dict[int, int]:
        """Readings per datastream in the range: the kept count for all raw readings, else a
        COUNT over the (datastream, time) index."""
        if self.raw and start is None and end is None:
            return {s.id: s.count for s in streams}
        counts = {s.id: 0 for s in streams}
        column = self._stream_column()
        ids = [s.id for s in streams]
        for i in range(0, len(ids), IN_CHUNK):
            stmt = (
                self._counts_table()
                .where(column.in_(ids[i : i + IN_CHUNK]), *within(self._time(), start, end))
                .group_by(column)
            )
            counts.update({ds: n for ds, n in conn.execute(stmt)})
        return counts

    def _fetch(
        self,
        conn: Connection,
        stream: Stream,
        start: int | None,
        end: int | None,
        *,
        descending: bool,
        offset: int,
        limit: int,
    ) -> list[Any]:
        time = self._time()
        stmt = (
            self._rows()
            .where(self._stream_column() == stream.id, *within(time, start, end))
            .order_by(time.desc() if descending else time.asc())
            .offset(offset)
            .limit(limit)
        )
        return conn.execute(stmt).all()

    # -- pages --

    def _walk(
        self,
        conn: Connection,
        streams: list[Stream],
        counts: dict[int, int],
        span: tuple[int | None, int | None],
        *,
        descending: bool,
        offset: int,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Datastream after datastream, each in time order: the page from the streams it
        covers, found by their counts."""
        features: list[dict[str, Any]] = []
        skip = offset
        for stream in streams:
            if len(features) >= limit:
                break
            n = counts.get(stream.id, 0)
            if skip >= n:
                skip -= n
                continue
            rows = self._fetch(
                conn, stream, *span, descending=descending, offset=skip, limit=limit - len(features)
            )
            features += [self._feature(stream, r) for r in rows]
            skip = 0
        return features

    def _merged(
        self,
        conn: Connection,
        streams: list[Stream],
        span: tuple[int | None, int | None],
        *,
        descending: bool,
        offset: int,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Several datastreams in one time order: the first offset + limit of each (an index
        range each), merged."""
        need = offset + limit
        if need > MERGE_LIMIT:
            return self._sorted_by_database(
                conn, streams, span, descending=descending, offset=offset, limit=limit
            )
        sign = -1 if descending else 1

        def keyed(stream: Stream) -> Iterator[tuple[int, int, Stream, Any]]:
            for row in self._fetch(
                conn, stream, *span, descending=descending, offset=0, limit=need
            ):
                yield (sign * row[1], stream.id, stream, row)

        merged = heapq.merge(*(keyed(s) for s in streams), key=lambda t: (t[0], t[1]))
        page = []
        for i, (_, _, stream, row) in enumerate(merged):
            if i >= need:
                break
            if i >= offset:
                page.append(self._feature(stream, row))
        return page

    def _sorted_by_database(
        self,
        conn: Connection,
        streams: list[Stream],
        span: tuple[int | None, int | None],
        *,
        descending: bool,
        offset: int,
        limit: int,
    ) -> list[dict[str, Any]]:
        by_id = {s.id: s for s in streams}
        time, column = self._time(), self._stream_column()
        stmt = (
            self._rows()
            .where(column.in_(list(by_id)), *within(time, *span))
            .order_by(time.desc() if descending else time.asc(), column)
            .offset(offset)
            .limit(limit)
        )
        return [self._feature(by_id[row[0]], row) for row in conn.execute(stmt)]

    def _order(
        self, sortby: list[dict[str, str]] | None
    ) -> tuple[list[tuple[str, bool]], bool, bool]:
        """(datastream sort keys, time descending, time first) from ``sortby``."""
        keys: list[tuple[str, bool]] = []
        descending, time_first = False, False
        for i, s in enumerate(sortby or []):
            prop, asc = s["property"], s["order"] != "-"
            if prop == TIME:
                descending, time_first = not asc, i == 0
                break  # readings of one datastream differ in time: later keys decide nothing
            if prop not in SERIES_SORT_STREAM:
                raise bad(
                    f"Nach '{prop}' kann nicht sortiert werden; möglich: phenomenonTime, "
                    "datastream_id, thing_id, observed_property, unit.",
                    f"Cannot sort by '{prop}'; possible: phenomenonTime, datastream_id, "
                    "thing_id, observed_property, unit.",
                )
            keys.append((prop, asc))
        return keys, descending, time_first

    def query(  # noqa: PLR0913 - pygeoapi's provider interface
        self,
        offset: int = 0,
        limit: int = 10,
        resulttype: str = "results",
        bbox: list[float] | None = None,
        datetime_: str | None = None,
        properties: list[tuple[str, str]] | None = None,
        sortby: list[dict[str, str]] | None = None,
        select_properties: list[str] | None = None,
        skip_geometry: bool = False,
        q: str | None = None,
        filterq: Any = None,
        crs_transform_spec: Any = None,
        **_kwargs: Any,
    ) -> dict[str, Any]:
        refuse_filter(filterq, q)
        span = time_range(datetime_)
        conditions = stream_conditions(properties or [], bbox, STREAM_FILTERS)
        keys, descending, time_first = self._order(sortby)
        hits = resulttype == "hits"
        with self.engine.connect() as conn:
            streams = self._streams(conn, conditions, keys)
            counts = self._counts(conn, streams, *span)
            streams = [s for s in streams if counts.get(s.id)]
            matched = sum(counts.values())
            features: list[dict[str, Any]] = []
            if hits or not streams:
                pass
            elif time_first and len(streams) > 1:
                features = self._merged(
                    conn, streams, span, descending=descending, offset=offset, limit=limit
                )
            else:
                features = self._walk(
                    conn, streams, counts, span, descending=descending, offset=offset, limit=limit
                )
        features = finish(
            features,
            select_properties=select_properties,
            skip_geometry=skip_geometry,
            crs_transform_spec=crs_transform_spec,
        )
        return collection(features, matched, hits)

    def get(self, identifier: str, crs_transform_spec: Any = None, **_kwargs: Any) -> dict:
        missing = ProviderItemNotFoundError(user_msg=f"no item {identifier!r}")
        try:
            if self.raw:
                condition = [SensorObservation.id == db_int(int(identifier))]
            else:
                ds, bucket = identifier.split("-", 1)
                condition = [
                    SensorAggregate.datastream_id == db_int(int(ds)),
                    SensorAggregate.bucket == db_int(int(bucket)),
                ]
        except ValueError:
            raise missing from None
        with self.engine.connect() as conn:
            row = conn.execute(self._rows().where(*condition)).first()
            if row is None:
                raise missing
            streams = self._streams(conn, [DS.id == row[0]], [])
        return finish(
            [self._feature(streams[0], row)],
            select_properties=None,
            skip_geometry=False,
            crs_transform_spec=crs_transform_spec,
        )[0]


def is_sensor_collection(collection_id: str) -> bool:
    return collection_id in COLLECTIONS
