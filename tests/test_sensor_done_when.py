"""Issue 6, done when: a city sensor publishing to MQTT shows up as a dataset in the catalogue
within a minute, and its readings are queryable through /sta/v1.1/ and the OGC API.

Everything is real: a Mosquitto broker of the test's own, `odapp serve`, `odapp harvest listen`
as a second process on the same database, a paho publisher, and the clients users use
(ckanapi, requests on the SensorThings API, OWSLib on the OGC API)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ckanapi
import paho.mqtt.client as mqtt
import pytest
import requests
import yaml
from owslib.ogcapi.features import Features

from tests.conftest import Server
from tests.mosquitto import Mosquitto, available

SOURCE = "verkehrszaehler"
STATION = "Zählstelle Albertplatz"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    if not available():
        if os.environ.get("ODAPP_REQUIRE_POSTGRES"):
            pytest.fail("mosquitto is not installed (scripts/test-services.sh installs it)")
        pytest.skip("mosquitto is not installed")
    running = Mosquitto(tmp_path / "mosquitto").start()
    yield running
    running.stop()


def source(folder: Path, broker: Mosquitto) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "name": SOURCE,
        "type": "mqtt",
        "title": "Verkehrszählstellen (Infrarot)",
        "organization": {"name": "Straßen- und Tiefbauamt"},
        "url": broker.url,
        "defaults": {"license": "dl-by-de/2.0", "themes": ["TRAN"]},
        "options": {
            "catalogue_interval": 5,
            "mappings": [{"topic": "dresden/verkehr/{thing}/{datastream}", "time": "zeit"}],
            "things": {"albertplatz": {"name": STATION, "location": [13.7494, 51.0626]}},
            "datastreams": {
                "rad": {
                    "name": "Radverkehr",
                    "observed_property": {"name": "Anzahl Fahrräder je 15 Minuten"},
                    "unit": {"name": "Anzahl", "symbol": "1"},
                }
            },
        },
    }
    (folder / f"{SOURCE}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))


def wait_for(check: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"not within {timeout} s: {what}")


def test_a_city_sensor_on_mqtt_is_a_dataset_within_a_minute_and_queryable(
    broker: Mosquitto, server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    harvest = tmp_path / "harvest"
    source(harvest, broker)
    server = server_factory({"ODAPP_HARVEST_DIR": str(harvest)})
    server.odapp("db", "upgrade")
    server.start()
    log = open(tmp_path / "listen.log", "wb")  # noqa: SIM115 (closed below)
    listener = subprocess.Popen(
        [sys.executable, "-m", "odapp.cli", "harvest", "listen", SOURCE],
        cwd=server.workdir,
        env=server.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: "subscribed" in (tmp_path / "listen.log").read_text(), 30, "subscription")
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="zaehler-01")
        publisher.connect("127.0.0.1", broker.port)
        publisher.loop_start()
        start = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
        counts = [3, 8, 21, 34, 55, 41, 29, 17]
        published_at = time.monotonic()
        for i, n in enumerate(counts):
            when = (start + timedelta(minutes=15 * i)).isoformat().replace("+00:00", "Z")
            info = publisher.publish(
                "dresden/verkehr/albertplatz/rad", json.dumps({"zeit": when, "value": n}), qos=1
            )
            info.wait_for_publish(10)
        publisher.loop_stop()
        publisher.disconnect()

        # the catalogue: found by a CKAN client, within a minute of the first reading
        ckan = ckanapi.RemoteCKAN(server.url)
        found = wait_for(
            lambda: ckan.action.package_search(q="Albertplatz")["results"], 60, "the dataset"
        )
        assert time.monotonic() - published_at < 60
        [package] = found  # type: ignore[misc]
        assert package["title"] == f"{STATION}: Messwerte"
        assert package["organization"]["title"] == "Straßen- und Tiefbauamt"
        newest = (start + timedelta(minutes=15 * 7)).isoformat().replace("+00:00", "Z")

        def modified() -> str | None:
            shown = ckan.action.package_show(id=package["name"])
            return {e["key"]: e["value"] for e in shown["extras"]}.get("modified")

        wait_for(lambda: modified() == newest, 30, "dct:modified = newest reading")

        # the SensorThings API
        sta = f"{server.url}/sta/v1.1"
        things = requests.get(
            f"{sta}/Things",
            params={"$filter": f"name eq '{STATION}'", "$expand": "Datastreams,Locations"},
            timeout=10,
        ).json()["value"]
        [thing] = things
        assert thing["Locations"][0]["location"]["coordinates"] == [13.7494, 51.0626]
        [stream] = thing["Datastreams"]
        observations = requests.get(
            f"{sta}/Datastreams({stream['@iot.id']})/Observations",
            params={"$orderby": "phenomenonTime asc", "$count": "true"},
            timeout=10,
        ).json()
        assert observations["@iot.count"] == len(counts)
        assert [o["result"] for o in observations["value"]] == counts
        assert observations["value"][-1]["phenomenonTime"] == newest

        # the OGC API: the newest value at the station, and the series by datetime
        api = Features(f"{server.url}/ogc")
        latest = api.collection_items("sensor-latest", thing_id=thing["@iot.id"])
        [feature] = latest["features"]
        assert feature["properties"]["result"] == counts[-1]
        assert feature["geometry"]["coordinates"] == [13.7494, 51.0626]
        window = api.collection_items(
            "sensor-observations",
            datastream_id=stream["@iot.id"],
            datetime_="2026-11-21T06:30:00Z/2026-11-21T07:00:00Z",
        )
        assert window["numberMatched"] == 3
        assert sorted(f["properties"]["result"] for f in window["features"]) == [21, 34, 55]
        csv_text = requests.get(
            f"{server.url}/sensors/datastreams/{stream['@iot.id']}/observations.csv", timeout=10
        ).text
        assert csv_text.count("\n") == len(counts) + 1
    finally:
        listener.terminate()
        listener.wait(30)
        log.close()
