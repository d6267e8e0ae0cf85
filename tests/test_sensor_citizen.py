"""The ``sensor-community`` and ``opensensemap`` source types against a real local HTTP server
serving synthetic feeds (tests/fixtures/sensors/, see citizen_feeds.md): only stations inside
the bounding box and outdoors, values and UTC times right, a repeated feed stored once, the
openSenseMap history filling the gap between runs, bad values recorded as issues, and each
station a catalogue dataset. Both backends."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select

from catalog import model
from catalog.harvest_state import HarvestLedger
from catalog.schema import SensorDatastream, SensorObservedProperty, SensorThing
from catalog.sensors.store import SensorStore
from catalog.sensors.times import iso, parse_instant
from catalog.store import Store
from harvesters.base import Defaults, SourceConfig
from harvesters.config import check_file
from harvesters.run import run_source
from harvesters.sources import citizen_sensors, fetcher
from tests.conftest import BASE, ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "sensors"
EXAMPLES = ROOT / "config" / "harvesters" / "examples"
DRESDEN = [13.579, 50.974, 13.966, 51.178]  # west, south, east north
JOHANNSTADT = "6045d6e0a1b2c3d4e5f60701"
LOEBTAU = "5e9f1c2b3a4d5e6f70810901"
PM10_A = "6045d6e0a1b2c3d4e5f60702"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text("utf-8"))


def utc(text: str) -> int:
    return parse_instant(text)[0]


class Feeds:
    """data.sensor.community and api.opensensemap.org in one small server. Like a lenient
    server it ignores the box: the harvester must leave out what lies outside."""

    def __init__(self) -> None:
        self.sensor_community: list[Any] = load("sensor_community_dresden_1.json")
        self.boxes: list[Any] = load("opensensemap_dresden_1.json")
        self.history: dict[str, list[dict[str, Any]]] = load("opensensemap_history.json")
        self.history_limit = 10_000
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        if path.startswith("/airrohr/v1/filter/box="):
            return 200, self.sensor_community
        if path == "/boxes":
            return 200, self.boxes
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[0] == "boxes" and parts[2] == "data":
            start, end = utc(params["from-date"]), utc(params["to-date"])
            rows = [
                r for r in self.history.get(parts[3], []) if start <= utc(r["createdAt"]) <= end
            ]
            rows.sort(key=lambda r: utc(r["createdAt"]), reverse=True)
            return 200, rows[: self.history_limit]
        return 404, {"code": "NotFound", "message": path}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                params = dict(parse_qsl(parts.query))
                feeds.requests.append((parts.path, params))
                status, body = feeds.answer(parts.path, params)
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> Feeds:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feeds() -> Iterator[Feeds]:
    with Feeds() as running:
        yield running


def config(kind: str, url: str, name: str | None = None, **kwargs: Any) -> SourceConfig:
    options = {"bbox": DRESDEN} | kwargs.pop("options", {})
    return SourceConfig(
        name=name or kind,
        type=kind,
        organization={"name": "Landeshauptstadt Dresden, Umweltamt"},
        url=url,
        defaults=Defaults(license="http://dcat-ap.de/def/licenses/odbl"),
        options=options,
        **kwargs,
    )


def harvest(store: Store, cfg: SourceConfig, tmp_path: Path, status: str = "succeeded") -> Any:
    result = run_source(store, cfg, files_dir=tmp_path / "files", base_url=BASE)
    assert result.status == status, result.summary()
    return result


def things(store: Store, source: str) -> dict[str, Any]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(SensorThing).where(SensorThing.source == source)).all()
    return {row.source_key: row for row in rows}


def streams(store: Store, source: str) -> dict[str, Any]:
    """Datastream key -> (row, observed property name, definition)."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                SensorDatastream,
                SensorObservedProperty.name.label("property"),
                SensorObservedProperty.definition.label("definition"),
            )
            .join(SensorThing, SensorThing.id == SensorDatastream.thing_id)
            .join(SensorObservedProperty)
            .where(SensorThing.source == source)
        ).all()
    return {row.source_key: row for row in rows}


def series(store: Store, source: str) -> dict[str, list[tuple[int, float | None]]]:
    sensors = SensorStore(store.engine)
    return {
        key: [(r.start, r.value) for r in sensors.series(row.id)]
        for key, row in streams(store, source).items()
    }


def memory(store: Store, source: str) -> dict[str, Any]:
    return HarvestLedger(store).memory(source)


# --- sensor.community ------------------------------------------------------------------------


def test_sensor_community_keeps_the_outdoor_stations_in_the_box_with_utc_times(
    store: Store, feeds: Feeds, tmp_path: Path
) -> None:
    result = harvest(store, config("sensor-community", feeds.url), tmp_path)
    # latitude first, south-west corner first
    [(path, _params)] = feeds.requests
    assert path == "/airrohr/v1/filter/box=50.974,13.579,51.178,13.966"

    found = things(store, "sensor-community")
    assert sorted(found) == ["location-11111", "location-11112"]
    neustadt = found["location-11111"]
    assert (neustadt.lon, neustadt.lat) == (13.754, 51.065)
    assert neustadt.name == "Sensor.Community-Messstation 11111"
    assert json.loads(neustadt.properties)["altitude"] == 113.2
    assert memory(store, "sensor-community")["skipped"] == {"indoor": 1, "outside_bbox": 2}

    ds = streams(store, "sensor-community")
    assert sorted(ds) == [
        "22221-P1",
        "22221-P2",
        "22222-humidity",
        "22222-pressure",
        "22222-temperature",
        "33331-P1",
        "33331-P2",
        "33332-humidity",
        "33332-temperature",
    ]
    pm10 = ds["22221-P1"]
    assert (pm10.property, pm10.definition) == (
        "Feinstaub PM10",
        "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/5",
    )
    assert pm10.name == "Feinstaub PM10 (SDS011, Sensor 22221)"
    assert ds["22221-P2"].property == "Feinstaub PM2,5" and pm10.unit_symbol == "µg/m³"
    assert (ds["22222-pressure"].unit_symbol, ds["22222-temperature"].unit_symbol) == ("Pa", "°C")

    data = series(store, "sensor-community")
    # "2024-05-01 10:12:30" is UTC by the API's definition (12:12:30 in Dresden)
    assert data["22221-P1"] == [
        (utc("2024-05-01T10:12:30Z"), 12.43),
        (utc("2024-05-01T10:14:55Z"), 13.05),
    ]
    assert data["22222-pressure"][0] == (utc("2024-05-01T10:12:31Z"), 99873.41)
    assert data["33331-P1"] == [(utc("2024-05-01T10:15:35Z"), 9.8)]
    assert data["33331-P2"] == []
    assert result.counts["observations"] == 4 + 6 + 1 + 2
    assert result.counts["rejected"] == 3 and result.counts["normalised"] == 0

    issues = SensorStore(store.engine).issues("sensor-community")
    assert sorted(i["value"] for i in issues) == ["", "NaN", "kaputt"]
    assert {(i["action"], i["code"]) for i in issues} == {("rejected", "non-numeric")}
    assert all("11112" in i["where"] for i in issues)  # nothing about indoor or outside


def test_sensor_community_stations_are_catalogue_datasets(
    store: Store, feeds: Feeds, tmp_path: Path
) -> None:
    result = harvest(store, config("sensor-community", feeds.url), tmp_path)
    assert result.counts["new"] == 2
    neustadt = things(store, "sensor-community")["location-11111"]
    record = store.get(neustadt.dataset_uri).record
    assert isinstance(record, model.Dataset)
    assert model.preferred_text(record.title) == "Sensor.Community-Messstation 11111: Messwerte"
    [period] = record.temporal
    assert (period.start, period.end) == ("2024-05-01T10:12:30Z", "2024-05-01T10:14:56Z")
    assert record.modified == "2024-05-01T10:14:56Z"
    assert "13.754 51.065" in record.spatial[0].geometry
    # the licence from the source's defaults
    assert {d.license for d in record.distributions} == {"http://dcat-ap.de/def/licenses/odbl"}


def test_sensor_community_a_repeated_feed_stores_only_the_new_readings(
    store: Store, feeds: Feeds, tmp_path: Path
) -> None:
    cfg = config("sensor-community", feeds.url)
    harvest(store, cfg, tmp_path)
    before = series(store, "sensor-community")
    feeds.sensor_community = load("sensor_community_dresden_2.json")

    result = harvest(store, cfg, tmp_path)
    assert result.counts["observations"] == 4 + 3 + 2 + 2
    # the readings of 10:14:55/56 and 10:15:35 came again: stored once, counted
    assert result.counts["duplicates"] == 2 + 3 + 1 and result.counts["conflicts"] == 0
    assert result.counts["rejected"] == 1  # "kaputt" again
    after = series(store, "sensor-community")
    assert after["22221-P1"] == before["22221-P1"] + [
        (utc("2024-05-01T10:17:20Z"), 14.2),
        (utc("2024-05-01T10:19:45Z"), 13.7),
    ]
    assert sum(len(v) for v in after.values()) == 13 + 11
    assert sorted(things(store, "sensor-community")) == ["location-11111", "location-11112"]
    duplicates = [
        i for i in SensorStore(store.engine).issues("sensor-community") if i["code"] == "duplicate"
    ]
    assert sum(i["count"] for i in duplicates) == 6

    # Striesen silent for five minutes: its dataset stays in the catalogue
    feeds.sensor_community = [
        e for e in load("sensor_community_dresden_2.json") if e["location"]["id"] == 11111
    ]
    quiet = harvest(store, cfg, tmp_path)
    assert quiet.counts["withdrawn"] == 0
    striesen = things(store, "sensor-community")["location-11112"]
    assert store.get(striesen.dataset_uri).record.modified == "2024-05-01T10:18:02Z"


def test_sensor_community_value_types_limit_the_series(
    store: Store, feeds: Feeds, tmp_path: Path
) -> None:
    cfg = config("sensor-community", feeds.url, filters={"value_types": ["P2", "humidity"]})
    harvest(store, cfg, tmp_path)
    assert sorted(streams(store, "sensor-community")) == [
        "22221-P2",
        "22222-humidity",
        "33331-P2",
        "33332-humidity",
    ]


def test_a_missing_or_wrong_bbox_fails_the_run(
    sqlite_store: Store, feeds: Feeds, tmp_path: Path
) -> None:
    for kind in ("sensor-community", "opensensemap"):
        for bbox in (None, [13.9, 50.9, 13.5, 51.1], [13.5, 50.9]):
            cfg = config(kind, feeds.url, options={"bbox": bbox})
            result = harvest(sqlite_store, cfg, tmp_path, status="failed")
            assert result.error["where"] == "options.bbox"
            assert "West, Süd, Ost, Nord" in result.error["message_de"]
    assert feeds.requests == []


# --- openSenseMap ---------------------------------------------------------------------------


def test_opensensemap_keeps_the_outdoor_boxes_in_the_bbox_with_their_last_measurements(
    store: Store, feeds: Feeds, tmp_path: Path
) -> None:
    result = harvest(store, config("opensensemap", feeds.url), tmp_path)
    [(path, params)] = feeds.requests  # the first run reads no history
    assert path == "/boxes"
    assert params == {"bbox": "13.579,50.974,13.966,51.178", "full": "true"}
    assert result.counts["new"] == 2

    found = things(store, "opensensemap")
    assert sorted(found) == [LOEBTAU, JOHANNSTADT]
    box = found[JOHANNSTADT]
    assert (box.name, box.lon, box.lat) == ("senseBox Johannstadt", 13.7625, 51.0498)
    assert box.description.startswith("Auf dem Balkon")
    assert memory(store, "opensensemap")["skipped"] == {
        "inactive": 1,
        "indoor": 1,
        "outside_bbox": 1,
    }

    ds = streams(store, "opensensemap")
    assert len(ds) == 6 + 3
    pm10 = ds[PM10_A]
    assert (pm10.property, pm10.unit_symbol, pm10.name) == (
        "Feinstaub PM10",
        "µg/m³",
        "PM10 (SDS 011)",
    )
    pressure = ds["6045d6e0a1b2c3d4e5f60706"]
    assert (pressure.property, pressure.unit_symbol) == ("Luftdruck", "hPa")  # as given
    light = ds["6045d6e0a1b2c3d4e5f60707"]
    assert (light.property, light.unit_symbol) == ("Beleuchtungsstärke", "lx")
    assert ds["6045d6e0a1b2c3d4e5f60705"].property == "relative Luftfeuchte"

    data = series(store, "opensensemap")
    assert data[PM10_A] == [(utc("2024-05-01T10:14:05.123Z"), 11.27)]
    assert result.counts["observations"] == 6
    issues = SensorStore(store.engine).issues("opensensemap")
    assert sorted(i["value"] for i in issues) == ["", "NaN", "warm"]
    assert all(LOEBTAU in i["where"] for i in issues)

    record = store.get(box.dataset_uri).record
    assert model.preferred_text(record.title) == "senseBox Johannstadt: Messwerte"
    assert record.modified == "2024-05-01T10:14:05.123Z"
    assert record.was_derived_from == [f"{feeds.url}/boxes/{JOHANNSTADT}"]


def test_opensensemap_the_next_run_fetches_the_history_since_the_newest_reading(
    store: Store, feeds: Feeds, tmp_path: Path
) -> None:
    cfg = config("opensensemap", feeds.url)
    harvest(store, cfg, tmp_path)
    feeds.boxes = load("opensensemap_dresden_2.json")
    feeds.requests.clear()

    result = harvest(store, cfg, tmp_path)
    history = [(p, q) for p, q in feeds.requests if "/data/" in p]
    assert len(history) == 6  # the Johannstadt sensors; Löbtau has nothing stored yet
    path, params = next((p, q) for p, q in history if p.endswith(PM10_A))
    assert path == f"/boxes/{JOHANNSTADT}/data/{PM10_A}"
    assert params == {
        "from-date": "2024-05-01T10:14:05.124Z",  # just after the newest stored
        "to-date": "2024-05-01T10:44:05.123Z",  # the last measurement
        "format": "json",
    }
    assert result.counts["observations"] == 6 * 6 + 3
    assert result.counts["duplicates"] == 0

    data = series(store, "opensensemap")
    assert [t for t, _ in data[PM10_A]] == [
        utc(f"2024-05-01T10:{m:02d}:05.123Z") for m in range(14, 45, 5)
    ]
    assert data[PM10_A][-1][1] == 12.83
    assert data["5e9f1c2b3a4d5e6f70810902"] == [(utc("2024-05-01T10:43:51Z"), 10.09)]
    box = things(store, "opensensemap")[JOHANNSTADT]
    record = store.get(box.dataset_uri).record
    assert record.modified == "2024-05-01T10:44:05.123Z"
    assert record.temporal[0].start == "2024-05-01T10:14:05.123Z"

    # the same feed again: nothing new, no history asked for
    feeds.requests.clear()
    again = harvest(store, cfg, tmp_path)
    assert again.counts["observations"] == 0
    assert [p for p, _ in feeds.requests] == ["/boxes"]


def test_opensensemap_history_longer_than_one_answer_is_paged_back(
    store: Store, feeds: Feeds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # openSenseMap answers at most 10,000 measurements; here 4, to see the paging
    monkeypatch.setattr(citizen_sensors, "HISTORY_LIMIT", 4)
    feeds.history_limit = 4
    cfg = config("opensensemap", feeds.url)
    harvest(store, cfg, tmp_path)
    feeds.boxes = load("opensensemap_dresden_2.json")
    feeds.requests.clear()
    harvest(store, cfg, tmp_path)
    pages = [q for p, q in feeds.requests if p.endswith(PM10_A)]
    assert [q["to-date"] for q in pages] == [
        "2024-05-01T10:44:05.123Z",
        iso(utc("2024-05-01T10:29:05.123Z") - 1),
    ]
    assert len(series(store, "opensensemap")[PM10_A]) == 7


def test_opensensemap_phenomena_limit_the_series(
    store: Store, feeds: Feeds, tmp_path: Path
) -> None:
    cfg = config("opensensemap", feeds.url, filters={"phenomena": ["pm10", "Feinstaub PM2,5"]})
    harvest(store, cfg, tmp_path)
    assert sorted(r.properties for r in streams(store, "opensensemap").values()) == sorted(
        json.dumps({"sensor_id": s, "sensor_type": "SDS 011", "title": t}, sort_keys=True)
        for s, t in (
            (PM10_A, "PM10"),
            ("6045d6e0a1b2c3d4e5f60703", "PM2.5"),
            ("5e9f1c2b3a4d5e6f70810902", "PM10"),
            ("5e9f1c2b3a4d5e6f70810903", "PM2.5"),
        )
    )


def test_opensensemap_an_http_error_fails_the_run_and_keeps_what_was_stored(
    store: Store, feeds: Feeds, tmp_path: Path
) -> None:
    cfg = config("opensensemap", feeds.url)
    harvest(store, cfg, tmp_path)
    feeds.boxes = load("opensensemap_dresden_2.json")
    feeds.history.pop(PM10_A)
    original = feeds.answer
    feeds.answer = lambda path, params: (  # type: ignore[method-assign]
        (503, {"message": "busy"}) if path.endswith(PM10_A) else original(path, params)
    )
    failed = harvest(store, cfg, tmp_path, status="failed")
    assert "HTTP 503" in failed.error["message_en"]
    assert len(series(store, "opensensemap")[PM10_A]) == 1  # kept, nothing deleted
    assert store.count("dataset") == 2


# --- registry and examples ------------------------------------------------------------------


def test_the_registry_picks_the_fetch_function_of_each_type() -> None:
    assert fetcher("sensor-community") is citizen_sensors.fetch_sensor_community
    assert fetcher("opensensemap") is citizen_sensors.fetch_opensensemap


@pytest.mark.parametrize("name", ["sensor-community.yaml", "opensensemap.yaml"])
def test_the_example_files_are_valid(name: str) -> None:
    found, problems = check_file(EXAMPLES / name)
    assert found is not None, [str(p) for p in problems]
    assert not [p for p in problems if p.severity == "error"]
    assert found.url is None  # the public feed by default
    assert len(found.options["bbox"]) == 4
    checked = subprocess.run(
        [sys.executable, "-m", "odapp.cli", "harvest", "check", "--offline", str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
