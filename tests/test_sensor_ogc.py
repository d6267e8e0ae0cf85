"""Sensor data served as OGC API Features collections (sensor-latest, sensor-observations,
-hourly, -daily) and as CSV downloads, on both backends through the Flask app, plus real clients
(OWSLib, GDAL's OAPIF driver) over HTTP.

Readings are generated here and stored with SensorStore; every expected value (last values,
ranges, hourly and daily mean/min/max/count over Europe/Berlin days) is computed from the
generated readings, never read back from the server."""

from __future__ import annotations

import csv
import io
import os
import random
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from owslib.ogcapi.features import Features
from sqlalchemy import Engine, update

import ogc_api.sensors
from catalog.schema import SensorThing
from catalog.sensors.series_csv import csv_chunks, stream_infos
from catalog.sensors.store import Reading, SensorStore
from catalog.store import Store
from odapp.app import create_app
from odapp.settings import Settings
from tests.conftest import BASE

SENSOR_COLLECTIONS = [
    "sensor-latest",
    "sensor-observations",
    "sensor-observations-hourly",
    "sensor-observations-daily",
]
MINUTE = 60_000
HOUR = 3_600_000
BERLIN = ZoneInfo("Europe/Berlin")
# two days and more around the switch to summer time (2024-03-31, a 23-hour day in Berlin)
START = int(datetime(2024, 3, 30, 12, 0, tzinfo=UTC).timestamp() * 1000)
DATASET = "https://opendata.dresden.de/dataset/messstation-nord"
NORD = (13.7373, 51.0504)
SUED = (13.8012, 51.1003)


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def iso(value: int) -> str:
    text = datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{value % 1000:03d}" if value % 1000 else "") + "Z"


@dataclass
class Series:
    """One datastream as generated: (start, end, value) in time order."""

    id: int
    thing_id: int
    name: str
    observed_property: str
    unit: str
    location: tuple[float, float] | None
    readings: list[tuple[int, int | None, float]] = field(default_factory=list)

    def between(self, start: int | None, end: int | None) -> list[tuple[int, int | None, float]]:
        return [
            r
            for r in self.readings
            if (start is None or r[0] >= start) and (end is None or r[0] <= end)
        ]


@dataclass
class Sensors:
    nord_pm10: Series
    nord_temp: Series
    sued_pm10: Series
    mobil: Series  # its Thing has no location
    things: dict[str, int]

    @property
    def all(self) -> list[Series]:
        return [self.nord_pm10, self.nord_temp, self.sued_pm10, self.mobil]

    def by_id(self, ds: int) -> Series:
        return next(s for s in self.all if s.id == ds)


def populate(engine: Engine) -> Sensors:
    """Three Things (one without location) with four datastreams and 3,480 readings."""
    store = SensorStore(engine)
    rng = random.Random(6)
    pm10 = store.observed_property("PM10", "http://vocab.example/pm10")
    temp = store.observed_property("Lufttemperatur", "http://vocab.example/air-temperature")
    sensor = store.sensor("SDS011")
    nord = store.thing("test", "nord", "Messstation Nord", location=NORD)
    sued = store.thing("test", "sued", "Messstation Süd", location=SUED)
    mobil = store.thing("test", "mobil", "Mobile Messung")
    microgram = {"name": "Mikrogramm je Kubikmeter", "symbol": "µg/m³"}
    celsius = {"name": "Grad Celsius", "symbol": "°C"}

    def series(thing: int, key: str, name: str, prop: int, unit: dict, where: object) -> Series:
        ds = store.datastream(
            thing, key, name, observed_property_id=prop, sensor_id=sensor, unit=unit
        )
        prop_name = "PM10" if prop == pm10 else "Lufttemperatur"
        return Series(ds, thing, name, prop_name, unit["symbol"], where)  # type: ignore[arg-type]

    out = Sensors(
        series(nord, "pm10", "PM10 Nord", pm10, microgram, NORD),
        series(nord, "temp", "Temperatur Nord", temp, celsius, NORD),
        series(sued, "pm10", "PM10 Süd (Stundenmittel)", pm10, microgram, SUED),
        series(mobil, "pm10", "PM10 mobil", pm10, microgram, None),
        {"nord": nord, "sued": sued, "mobil": mobil},
    )
    # minute data with a few gaps; every 10 minutes; hourly means as intervals; a short run
    out.nord_pm10.readings = [
        (START + i * MINUTE, None, round(rng.uniform(2, 80), 1)) for i in range(3000) if i % 97
    ]
    out.nord_temp.readings = [
        (START + i * 10 * MINUTE + 30_500, None, round(rng.uniform(-3, 19), 2)) for i in range(400)
    ]
    out.sued_pm10.readings = [
        (START + i * HOUR, START + (i + 1) * HOUR, round(rng.uniform(5, 40), 3)) for i in range(60)
    ]
    out.mobil.readings = [(START + i * 7 * MINUTE, None, float(i)) for i in range(51)]
    for s in out.all:
        rows = [Reading(s.id, start, value, end=end) for start, end, value in s.readings]
        for i in range(0, len(rows), 1000):  # batches, as a harvester delivers them
            store.ingest("test", rows[i : i + 1000])
    with engine.begin() as conn:
        conn.execute(update(SensorThing).where(SensorThing.id == nord).values(dataset_uri=DATASET))
    return out


def make_client(store: Store) -> FlaskClient:
    app = create_app(Settings(database_url=store.database_url, base_url=BASE), store=store)
    return app.test_client()


@pytest.fixture
def served(store: Store) -> Iterator[tuple[FlaskClient, Sensors]]:
    data = populate(store.engine)
    yield make_client(store), data


def items(client: FlaskClient, collection: str, **params: object) -> dict:
    response = client.get(f"/ogc/collections/{collection}/items", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("application/geo+json")
    return response.json


def every_item(client: FlaskClient, collection: str, **params: object) -> list[dict]:
    """All features, following the next links as a client does."""
    page = items(client, collection, **params)
    features = list(page["features"])
    while nxt := [link["href"] for link in page["links"] if link["rel"] == "next"]:
        response = client.get(nxt[0].removeprefix(BASE))
        assert response.status_code == 200
        page = response.json
        features += page["features"]
    return features


def as_rows(features: list[dict]) -> list[tuple[int, str, str | None, float]]:
    return [
        (
            f["properties"]["datastream_id"],
            f["properties"]["phenomenonTime"],
            f["properties"]["phenomenonTimeEnd"],
            f["properties"]["result"],
        )
        for f in features
    ]


def times_and_streams(features: list[dict]) -> list[tuple[int, int]]:
    return [
        (ms(f["properties"]["phenomenonTime"]), f["properties"]["datastream_id"]) for f in features
    ]


def expected_rows(
    series: list[Series], start: int | None, end: int | None
) -> list[tuple[int, str, str | None, float]]:
    return [
        (s.id, iso(t), iso(e) if e is not None else None, v)
        for s in series
        for t, e, v in s.between(start, end)
    ]


def buckets(series: Series, resolution: str) -> dict[int, tuple[int, list[float]]]:
    """Bucket start -> (bucket end, values): UTC hours, or Berlin calendar days in UTC."""
    out: dict[int, tuple[int, list[float]]] = {}
    for start, _end, value in series.readings:
        moment = datetime.fromtimestamp(start / 1000, UTC)
        if resolution == "hour":
            first = moment.replace(minute=0, second=0, microsecond=0)
            last = first + timedelta(hours=1)
        else:
            local = moment.astimezone(BERLIN).date()
            first = datetime(local.year, local.month, local.day, tzinfo=BERLIN)
            nxt = local + timedelta(days=1)
            last = datetime(nxt.year, nxt.month, nxt.day, tzinfo=BERLIN)
        key = int(first.timestamp() * 1000)
        out.setdefault(key, (int(last.timestamp() * 1000), []))[1].append(value)
    return out


# --- the collections --------------------------------------------------------------------------


def test_sensor_collections_appear_with_the_first_datastream(store: Store) -> None:
    client = make_client(store)
    before = [c["id"] for c in client.get("/ogc/collections").json["collections"]]
    assert not set(before) & set(SENSOR_COLLECTIONS)
    assert client.get("/ogc/collections/sensor-latest/items").status_code == 404

    data = populate(store.engine)
    listed = {c["id"]: c for c in client.get("/ogc/collections").json["collections"]}
    assert set(SENSOR_COLLECTIONS) <= set(listed)
    english = {c["id"]: c for c in client.get("/ogc/collections?lang=en").json["collections"]}
    assert listed["sensor-latest"]["title"] == "Sensordaten: neueste Messwerte"
    assert english["sensor-latest"]["title"] == "Sensor data: latest values"
    assert english["sensor-observations-daily"]["title"] == "Sensor data: daily values"
    first_reading = min(r[0] for s in data.all for r in s.readings)
    for cid in SENSOR_COLLECTIONS:
        assert "UTC" in listed[cid]["description"] and "UTC" in english[cid]["description"]
        assert "Sensordaten" in listed[cid]["keywords"]
        assert "sensor data" in english[cid]["keywords"]
        assert listed[cid]["extent"]["spatial"]["bbox"][0] == pytest.approx([*NORD, *SUED])
        begin, end = listed[cid]["extent"]["temporal"]["interval"][0]
        assert end is None  # readings keep arriving
        begin_ms = int(datetime.fromisoformat(begin).timestamp() * 1000)
        assert begin_ms <= first_reading and first_reading - begin_ms < 24 * HOUR
        assert client.get(f"/ogc/collections/{cid}/queryables").status_code == 200
    raw_begin = listed["sensor-observations"]["extent"]["temporal"]["interval"][0][0]
    assert int(datetime.fromisoformat(raw_begin).timestamp() * 1000) == first_reading
    assert (
        "/collections/sensor-observations/items" in client.get("/ogc/openapi?f=json").json["paths"]
    )


def test_latest_values_with_the_stations_geometry(served: tuple[FlaskClient, Sensors]) -> None:
    client, data = served
    page = items(client, "sensor-latest")
    features = {f["id"]: f for f in page["features"]}
    located = [data.nord_pm10, data.nord_temp, data.sued_pm10]
    assert page["numberMatched"] == 3 and set(features) == {s.id for s in located}
    for series in located:
        feature = features[series.id]
        start, end, value = series.readings[-1]
        assert feature["geometry"] == {"type": "Point", "coordinates": list(series.location)}
        props = feature["properties"]
        want_time = f"{iso(start)}/{iso(end)}" if end else iso(start)
        assert props == {
            "thing_id": series.thing_id,
            "thing": "Messstation Nord" if series.location == NORD else "Messstation Süd",
            "datastream": series.name,
            "observed_property": series.observed_property,
            "unit": series.unit,
            "result": value,
            "phenomenonTime": want_time,
            "observation_count": len(series.readings),
            "dataset": DATASET if series.location == NORD else None,
            "sta": f"{BASE}/sta/v1.1/Datastreams({series.id})",
        }
    nord = items(client, "sensor-latest", thing_id=data.things["nord"])
    assert {f["id"] for f in nord["features"]} == {data.nord_pm10.id, data.nord_temp.id}
    pm10 = items(client, "sensor-latest", observed_property="PM10")
    assert {f["id"] for f in pm10["features"]} == {data.nord_pm10.id, data.sued_pm10.id}
    south = items(client, "sensor-latest", bbox="13.79,51.09,13.81,51.11")
    assert [f["id"] for f in south["features"]] == [data.sued_pm10.id]
    by_result = items(client, "sensor-latest", sortby="-result")["features"]
    results = [f["properties"]["result"] for f in by_result]
    assert results == sorted(results, reverse=True)
    two = items(client, "sensor-latest", limit=2, offset=1, sortby="-result")
    assert [f["id"] for f in two["features"]] == [f["id"] for f in by_result[1:3]]
    one = client.get(f"/ogc/collections/sensor-latest/items/{data.sued_pm10.id}")
    assert (
        one.status_code == 200
        and one.json["properties"]["result"] == data.sued_pm10.readings[-1][2]
    )
    assert client.get(f"/ogc/collections/sensor-latest/items/{data.mobil.id}").status_code == 404
    assert client.get("/ogc/collections/sensor-latest/items?f=html").status_code == 200


# --- raw observations ---------------------------------------------------------------------------


def test_observations_by_datetime_range(served: tuple[FlaskClient, Sensors]) -> None:
    client, data = served
    pm10 = data.nord_pm10
    a, b = pm10.readings[100][0], pm10.readings[1400][0]  # both readings exist: closed ends count
    closed = f"{iso(a)}/{iso(b)}"
    page = items(client, "sensor-observations", datastream_id=pm10.id, datetime=closed, limit=50)
    want = expected_rows([pm10], a, b)
    assert page["numberMatched"] == len(want) == 1301
    assert page["numberReturned"] == 50
    got = every_item(
        client, "sensor-observations", datastream_id=pm10.id, datetime=closed, limit=500
    )
    assert as_rows(got) == want
    assert {f["geometry"]["coordinates"] == list(NORD) for f in got} == {True}
    assert all(isinstance(f["id"], int) for f in got)

    # open ranges: "x/.." and "../x", and the forms without the dots
    for text, start, end in (
        (f"{iso(b)}/..", b, None),
        (f"../{iso(a)}", None, a),
        (f"{iso(b)}/", b, None),
        (f"/{iso(a)}", None, a),
    ):
        page = items(client, "sensor-observations", datastream_id=pm10.id, datetime=text, limit=10)
        assert page["numberMatched"] == len(pm10.between(start, end)), text
        assert as_rows(page["features"]) == expected_rows([pm10], start, end)[:10]
    # an instant: exactly that reading; a time in between readings: nothing
    page = items(client, "sensor-observations", datastream_id=pm10.id, datetime=iso(a))
    assert as_rows(page["features"]) == expected_rows([pm10], a, a)
    assert items(client, "sensor-observations", datetime=iso(a + 1))["numberMatched"] == 0
    # a time with a zone offset means the same instant
    berlin = datetime.fromtimestamp(a / 1000, UTC).astimezone(BERLIN).isoformat()
    page = items(client, "sensor-observations", datastream_id=pm10.id, datetime=berlin)
    assert as_rows(page["features"]) == expected_rows([pm10], a, a)
    # a date alone is that whole UTC day
    day = items(client, "sensor-observations", datastream_id=pm10.id, datetime="2024-03-31")
    assert day["numberMatched"] == len(
        pm10.between(ms("2024-03-31T00:00:00+00:00"), ms("2024-04-01T00:00:00+00:00") - 1)
    )
    # interval observations carry their end
    sued = items(client, "sensor-observations", datastream_id=data.sued_pm10.id, limit=3)
    assert sued["features"][0]["properties"]["phenomenonTimeEnd"] == iso(
        data.sued_pm10.readings[0][1]
    )


def test_observations_filters_paging_and_sorting(
    served: tuple[FlaskClient, Sensors], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, data = served
    a, b = START + 3 * HOUR, START + 13 * HOUR
    span = f"{iso(a)}/{iso(b)}"
    # every datastream in the range: datastream after datastream, each in time order
    want = expected_rows(sorted(data.all, key=lambda s: s.id), a, b)
    page = items(client, "sensor-observations", datetime=span, limit=7)
    assert page["numberMatched"] == len(want)
    # pages of 7 cross the boundaries between datastreams
    assert as_rows(every_item(client, "sensor-observations", datetime=span, limit=7)) == want
    mobil = [
        f
        for f in every_item(client, "sensor-observations", datetime=span, limit=1000)
        if f["properties"]["datastream_id"] == data.mobil.id
    ]
    assert mobil and all(f["geometry"] is None for f in mobil)
    # by Thing
    nord = [data.nord_pm10, data.nord_temp]
    page = every_item(
        client, "sensor-observations", thing_id=data.things["nord"], datetime=span, limit=333
    )
    assert as_rows(page) == expected_rows(sorted(nord, key=lambda s: s.id), a, b)
    assert {f["properties"]["unit"] for f in page} == {"µg/m³", "°C"}
    # newest first over all datastreams: merged in time order
    newest = items(client, "sensor-observations", sortby="-phenomenonTime", limit=25)
    everything = sorted(
        ((t, s.id) for s in data.all for t, _e, _v in s.readings), key=lambda x: (-x[0], x[1])
    )
    got = times_and_streams(newest["features"])
    assert got == everything[:25]
    assert newest["numberMatched"] == sum(len(s.readings) for s in data.all)
    # oldest first in a range, second page
    second = items(
        client, "sensor-observations", sortby="phenomenonTime", datetime=span, offset=40, limit=30
    )
    in_range = sorted((t, s.id) for s in data.all for t, _e, _v in s.between(a, b))
    got = times_and_streams(second["features"])
    assert got == in_range[40:70]
    # deep pages are sorted by the database instead of merged: the same page
    monkeypatch.setattr(ogc_api.sensors, "MERGE_LIMIT", 10)
    again = items(
        client, "sensor-observations", sortby="phenomenonTime", datetime=span, offset=40, limit=30
    )
    assert again["features"] == second["features"]
    # one datastream backwards
    back = items(
        client,
        "sensor-observations",
        datastream_id=data.nord_temp.id,
        sortby="-phenomenonTime",
        limit=5,
    )
    assert as_rows(back["features"]) == expected_rows([data.nord_temp], None, None)[::-1][:5]
    # by bbox: the Thing's place
    south = items(client, "sensor-observations", bbox="13.79,51.09,13.81,51.11", limit=100)
    assert south["numberMatched"] == len(data.sued_pm10.readings)
    # hits only
    hits = items(client, "sensor-observations", resulttype="hits", datetime=span)
    assert hits["numberMatched"] == len(want) and hits["features"] == []
    # one observation by id
    first = page[0]
    one = client.get(f"/ogc/collections/sensor-observations/items/{first['id']}").json
    assert one["properties"] == first["properties"]


def test_observations_refuse_what_they_cannot_answer(served: tuple[FlaskClient, Sensors]) -> None:
    client, _data = served
    base = "/ogc/collections/sensor-observations/items"
    for query in (
        "datastream_id=abc",
        "result=3",
        "sortby=result",
        "datetime=gestern",
        "filter=result>3",
        "unknown=1",
    ):
        response = client.get(f"{base}?{query}")
        assert response.status_code == 400, query
    message = client.get(f"{base}?sortby=result").json["description"]
    assert "Cannot sort by 'result'" in message and "kann nicht sortiert werden" in message


# --- aggregates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("resolution", ["hour", "day"])
def test_aggregates_match_the_readings(
    served: tuple[FlaskClient, Sensors], resolution: str
) -> None:
    client, data = served
    collection = f"sensor-observations-{'hourly' if resolution == 'hour' else 'daily'}"
    for series in data.all:
        want = buckets(series, resolution)
        got = every_item(client, collection, datastream_id=series.id, limit=1000)
        assert [f["properties"]["phenomenonTime"] for f in got] == [iso(k) for k in sorted(want)]
        for feature in got:
            props = feature["properties"]
            start = ms(props["phenomenonTime"])
            end, values = want[start]
            assert props["phenomenonTimeEnd"] == iso(end)
            assert props["count"] == len(values)
            assert props["mean"] == pytest.approx(sum(values) / len(values), rel=1e-12)
            assert (props["min"], props["max"]) == (min(values), max(values))
            assert props["datastream_id"] == series.id
            assert props["observed_property"] == series.observed_property
            assert props["unit"] == series.unit
    if resolution == "day":  # the switch to summer time: a 23-hour day
        days = buckets(data.nord_pm10, "day")
        spring = ms("2024-03-31T00:00:00+01:00")
        assert days[spring][0] - spring == 23 * HOUR
    # a range selects buckets by their start
    pm10 = data.nord_pm10
    keys = sorted(buckets(pm10, resolution))
    span = f"{iso(keys[1])}/{iso(keys[-2])}"
    page = items(client, collection, datastream_id=pm10.id, datetime=span, limit=1000)
    assert page["numberMatched"] == len(keys) - 2
    one = client.get(f"/ogc/collections/{collection}/items/{page['features'][0]['id']}").json
    assert one["properties"] == page["features"][0]["properties"]


# --- CSV downloads ---------------------------------------------------------------------------------


def read_csv(body: str) -> list[dict[str, str]]:
    assert "\r\n" in body  # RFC 4180 line ends
    return list(csv.DictReader(io.StringIO(body, newline="")))


def test_csv_download_of_a_range(served: tuple[FlaskClient, Sensors]) -> None:
    client, data = served
    pm10 = data.nord_pm10
    a, b = pm10.readings[10][0], pm10.readings[2500][0]
    response = client.get(
        f"/sensors/datastreams/{pm10.id}/observations.csv",
        query_string={"datetime": f"{iso(a)}/{iso(b)}"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "charset=utf-8" in response.headers["Content-Type"]
    assert f'filename="datastream-{pm10.id}-raw.csv"' in response.headers["Content-Disposition"]
    rows = read_csv(response.get_data(as_text=True))
    assert list(rows[0]) == [
        "datastream_id",
        "datastream",
        "observed_property",
        "unit",
        "phenomenon_time_start",
        "phenomenon_time_end",
        "result",
    ]
    want = pm10.between(a, b)
    assert len(rows) == len(want)
    for row, (start, _end, value) in zip(rows, want, strict=True):
        assert row == {
            "datastream_id": str(pm10.id),
            "datastream": "PM10 Nord",
            "observed_property": "PM10",
            "unit": "µg/m³",
            "phenomenon_time_start": iso(start),
            "phenomenon_time_end": "",
            "result": row["result"],
        }
        assert float(row["result"]) == value
    # open range, interval observations
    sued = data.sued_pm10
    cut = sued.readings[40][0]
    rows = read_csv(
        client.get(
            f"/sensors/datastreams/{sued.id}/observations.csv?datetime={iso(cut)}/.."
        ).get_data(as_text=True)
    )
    assert [
        (r["phenomenon_time_start"], r["phenomenon_time_end"], float(r["result"])) for r in rows
    ] == [
        (iso(s), iso(e), v)
        for s, e, v in sued.between(cut, None)  # type: ignore[arg-type]
    ]
    # everything, no range
    rows = read_csv(
        client.get(f"/sensors/datastreams/{pm10.id}/observations.csv").get_data(as_text=True)
    )
    assert len(rows) == len(pm10.readings)


def test_csv_is_written_in_chunks_read_by_keyset(served: tuple[FlaskClient, Sensors]) -> None:
    client, data = served
    store = SensorStore(client.application.config["ODAPP_STORE"].engine)
    pm10 = data.nord_pm10
    streams = stream_infos(store.engine, datastream_id=pm10.id)
    chunks = list(csv_chunks(store, streams, None, None, "raw", chunk=250))
    assert len(chunks) == len(pm10.readings) // 250 + 1  # the header rides with the first rows
    whole = client.get(f"/sensors/datastreams/{pm10.id}/observations.csv").get_data(as_text=True)
    assert "".join(chunks) == whole


@pytest.mark.parametrize("resolution", ["hour", "day"])
def test_csv_download_of_aggregates(served: tuple[FlaskClient, Sensors], resolution: str) -> None:
    client, data = served
    series = data.nord_temp
    response = client.get(
        f"/sensors/datastreams/{series.id}/observations.csv?resolution={resolution}"
    )
    assert response.status_code == 200
    rows = read_csv(response.get_data(as_text=True))
    assert list(rows[0])[-4:] == ["mean", "min", "max", "count"]
    want = buckets(series, resolution)
    assert [r["phenomenon_time_start"] for r in rows] == [iso(k) for k in sorted(want)]
    for row in rows:
        end, values = want[ms(row["phenomenon_time_start"])]
        assert row["phenomenon_time_end"] == iso(end)
        assert int(row["count"]) == len(values)
        assert float(row["mean"]) == pytest.approx(sum(values) / len(values), rel=1e-12)
        assert (float(row["min"]), float(row["max"])) == (min(values), max(values))
        assert row["unit"] == "°C" and row["observed_property"] == "Lufttemperatur"


def test_csv_of_a_thing_in_long_format(served: tuple[FlaskClient, Sensors]) -> None:
    client, data = served
    nord = data.things["nord"]
    a, b = START + 5 * HOUR, START + 9 * HOUR
    response = client.get(f"/sensors/things/{nord}/observations.csv?datetime={iso(a)}/{iso(b)}")
    assert response.status_code == 200
    assert f'filename="thing-{nord}-raw.csv"' in response.headers["Content-Disposition"]
    rows = read_csv(response.get_data(as_text=True))
    got = [(int(r["datastream_id"]), r["phenomenon_time_start"], float(r["result"])) for r in rows]
    series = sorted([data.nord_pm10, data.nord_temp], key=lambda s: s.id)
    assert got == [(s.id, iso(t), v) for s in series for t, _e, v in s.between(a, b)]
    daily = read_csv(
        client.get(f"/sensors/things/{nord}/observations.csv?resolution=day").get_data(as_text=True)
    )
    assert {int(r["datastream_id"]) for r in daily} == {s.id for s in series}


def test_json_series_for_charts(served: tuple[FlaskClient, Sensors]) -> None:
    client, data = served
    sued = data.sued_pm10
    body = client.get(f"/sensors/datastreams/{sued.id}/observations.json").json
    assert body["datastream"]["unit"] == "µg/m³" and body["resolution"] == "raw"
    assert [(o["phenomenonTime"], o["result"]) for o in body["observations"]] == [
        (iso(s), v) for s, _e, v in sued.readings
    ]
    daily = client.get(f"/sensors/datastreams/{sued.id}/observations.json?resolution=day").json
    assert sum(o["count"] for o in daily["observations"]) == len(sued.readings)


def test_download_errors_name_the_parameter(served: tuple[FlaskClient, Sensors]) -> None:
    client, data = served
    ds = data.nord_pm10.id
    for path in (
        "/sensors/datastreams/999999/observations.csv",
        "/sensors/datastreams/abc/observations.csv",
        "/sensors/things/999999/observations.csv",
        "/sensors/datastreams/999999/observations.json",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        problem = response.json["problems"][0]
        assert "gibt es nicht" in problem["de"] and problem["en"].startswith("No ")
    for query, parameter in (
        ("datetime=gestern", "datetime"),
        ("datetime=2024-04-02T00:00:00Z/2024-04-01T00:00:00Z", "datetime"),
        ("resolution=minute", "resolution"),
        ("limit=5", "limit"),
    ):
        response = client.get(f"/sensors/datastreams/{ds}/observations.csv?{query}")
        assert response.status_code == 400, query
        assert response.is_json
        problem = response.json["problems"][0]
        assert problem["where"] == parameter
        assert parameter in problem["de"] and parameter in problem["en"]
        assert problem["de"] != problem["en"]


# --- real clients over HTTP ------------------------------------------------------------------------


def test_owslib_and_gdal_read_the_sensor_collections(server_factory) -> None:  # noqa: ANN001
    server = server_factory()
    server.odapp("db", "upgrade")
    store = Store(server.env["ODAPP_DATABASE_URL"], server.url)
    data = populate(store.engine)
    store.engine.dispose()
    server.start()

    api = Features(f"{server.url}/ogc/", timeout=60)
    assert set(SENSOR_COLLECTIONS) <= set(api.feature_collections())
    pm10 = data.nord_pm10
    a, b = pm10.readings[500][0], pm10.readings[620][0]
    page = api.collection_items(
        "sensor-observations", datetime_=f"{iso(a)}/{iso(b)}", datastream_id=pm10.id, limit=1000
    )
    assert page["numberMatched"] == len(pm10.between(a, b))
    assert as_rows(page["features"]) == expected_rows([pm10], a, b)
    hourly = api.collection_items(
        "sensor-observations-hourly", datetime_=f"{iso(a)}/..", datastream_id=pm10.id, limit=5
    )
    assert hourly["numberReturned"] == 5

    if shutil.which("ogrinfo") is None:
        pytest.skip("ogrinfo not installed (GDAL's gdal-bin)")
    env = {**os.environ, "CPL_DEBUG": "OFF", "GDAL_HTTP_TIMEOUT": "60"}
    result = subprocess.run(
        ["ogrinfo", "-ro", "-al", f"OAPIF:{server.url}/ogc/collections/sensor-latest"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"^Feature Count: 3$", out, re.MULTILINE), out
    assert re.search(r"^Geometry: Point$", out, re.MULTILINE)
    assert re.search(r"^result: Real", out, re.MULTILINE)
    located = [data.nord_pm10, data.nord_temp, data.sued_pm10]
    blocks = out.split("OGRFeature(")[1:]
    assert len(blocks) == 3
    for series in located:
        block = next(b for b in blocks if f"Datastreams({series.id})" in b)
        assert re.search(
            rf"^\s+result \(Real\) = {re.escape(str(series.readings[-1][2]))}$", block, re.MULTILINE
        )
        assert re.search(rf"^\s+thing_id \(Integer\) = {series.thing_id}$", block, re.MULTILINE)
        x, y = series.location  # type: ignore[misc]
        point = re.search(r"POINT \(([-\d.]+) ([-\d.]+)\)", block)
        assert point and float(point[1]) == pytest.approx(x) and float(point[2]) == pytest.approx(y)
    assert "Messstation Süd" in out
