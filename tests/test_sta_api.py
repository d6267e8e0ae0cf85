"""The read-only SensorThings API 1.1 at /sta/v1.1/: every entity set, navigation, each query
option (nested $expand, $filter on times, results, strings and navigation paths, $count,
paging with @iot.nextLink), errors (400 naming option and position, 404, 405), on SQLite and
PostgreSQL through the Flask app, and FROST's Python client against a real `odapp serve`.

Expected values come from the readings the tests store, never from the server itself."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import event, update

from catalog.schema import SensorThing
from catalog.sensors.sta_api import CONFORMANCE
from catalog.sensors.store import CATEGORY, Reading, SensorStore
from catalog.store import Store
from odapp.app import create_app
from odapp.settings import Settings
from tests.conftest import BASE, Server

ROOT = f"{BASE}/sta/v1.1"
START = datetime(2019, 2, 1, tzinfo=UTC)
HOUR = 3_600_000
START_MS = int(START.timestamp() * 1000)
PM10_COUNT = 150  # hourly readings of Dresden-Nord's PM10, result i / 2
DATASET = "https://opendata.dresden.de/dataset/luftmessstation-dresden-nord"
SETS = [
    "Things",
    "Locations",
    "HistoricalLocations",
    "Datastreams",
    "Sensors",
    "ObservedProperties",
    "Observations",
    "FeaturesOfInterest",
]


def iso(ms: int) -> str:
    return (START + timedelta(milliseconds=ms - START_MS)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class World:
    nord: int
    berg: int
    depot: int  # a Thing without location
    palas: int
    pm10: int
    no2: int
    status: int
    pm10_nord: int
    no2_nord: int
    pm10_berg: int
    status_depot: int


def fill(engine: Any) -> World:
    sensors = SensorStore(engine)
    nord = sensors.thing(
        "luft",
        "DESN092",
        "Dresden-Nord",
        description="Verkehrsnahe Messstation",
        properties={"typ": "Verkehr", "hoehe": 112},
        location=(13.7413, 51.0650),
        location_name="Schlesischer Platz",
    )
    berg = sensors.thing(
        "luft",
        "DESN061",
        "Dresden-Bergstraße",
        properties={"typ": "Verkehr", "hoehe": 160},
        location=(13.7322, 51.0311),
    )
    depot = sensors.thing("luft", "DEPOT", "Depot ohne Ort", properties={"typ": "Lager"})
    with engine.begin() as conn:
        conn.execute(update(SensorThing).where(SensorThing.id == nord).values(dataset_uri=DATASET))
    palas = sensors.sensor("Palas Fidas 200", description="Feinstaubmessgerät")
    pm10 = sensors.observed_property("PM10", "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/5")
    no2 = sensors.observed_property("NO2", "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/8")
    status = sensors.observed_property("Status", "urn:odapp:status")
    ugm3 = {"name": "Mikrogramm je Kubikmeter", "symbol": "µg/m³", "definition": "urn:ugm3"}
    pm10_nord = sensors.datastream(
        nord,
        "pm10",
        "PM10 Dresden-Nord",
        observed_property_id=pm10,
        sensor_id=palas,
        unit=ugm3,
        properties={"messart": "kontinuierlich"},
    )
    no2_nord = sensors.datastream(
        nord, "no2", "NO2 Dresden-Nord", observed_property_id=no2, sensor_id=palas, unit=ugm3
    )
    pm10_berg = sensors.datastream(
        berg, "pm10", "PM10 Bergstraße", observed_property_id=pm10, sensor_id=palas, unit=ugm3
    )
    status_depot = sensors.datastream(
        depot,
        "status",
        "Status Depot",
        observed_property_id=status,
        sensor_id=palas,
        observation_type=CATEGORY,
    )
    readings = [Reading(pm10_nord, START_MS + i * HOUR, i / 2) for i in range(PM10_COUNT)]
    readings += [  # hourly means: intervals, with a result time
        Reading(
            no2_nord,
            START_MS + i * HOUR,
            20.0 + i,
            end=START_MS + (i + 1) * HOUR,
            result_time=START_MS + (i + 1) * HOUR,
        )
        for i in range(5)
    ]
    readings += [Reading(pm10_berg, START_MS + i * 24 * HOUR, 7.0 + i) for i in range(3)]
    readings += [
        Reading(status_depot, START_MS + i * HOUR, None, text=t)
        for i, t in enumerate(["ok", "fault", "ok"])
    ]
    sensors.ingest("luft", readings)
    return World(
        nord, berg, depot, palas, pm10, no2, status, pm10_nord, no2_nord, pm10_berg, status_depot
    )


@pytest.fixture
def world(store: Store) -> World:
    return fill(store.engine)


@pytest.fixture
def client(store: Store, world: World, tmp_path: Path) -> Iterator[FlaskClient]:
    settings = Settings(
        database_url="sqlite://",
        base_url=BASE,
        files_dir=str(tmp_path / "files"),
        harvest_dir=str(tmp_path / "harvest"),
    )
    yield create_app(settings, store).test_client()


def get(client: FlaskClient, path: str, status: int = 200, **params: Any) -> Any:
    response = client.get(f"/sta/v1.1/{path}", query_string=params)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json() if response.is_json else response.get_data(as_text=True)


def q(client: FlaskClient, path: str, params: str, status: int = 200) -> Any:
    """A request with a query string written by hand (as clients put it into URLs)."""
    response = client.get(f"/sta/v1.1/{path}?{params}")
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def ids(body: dict[str, Any]) -> list[int]:
    return [v["@iot.id"] for v in body["value"]]


def follow(client: FlaskClient, url: str) -> Any:
    assert url.startswith(ROOT)
    response = client.get(url[len(BASE) :])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def pm10_ids(client: FlaskClient, world: World) -> list[int]:
    """Observation ids of the PM10 Nord readings in time order (ids are the store's)."""
    body = get(client, f"Datastreams({world.pm10_nord})/Observations", **{"$top": "1000"})
    return ids(body)


# --- service root and entity sets ------------------------------------------------------------


def test_service_root_lists_the_entity_sets_and_conformance(client: FlaskClient) -> None:
    body = get(client, "")
    assert [(s["name"], s["url"]) for s in body["value"]] == [(n, f"{ROOT}/{n}") for n in SETS]
    conformance = body["serverSettings"]["conformance"]
    spec = "http://www.opengis.net/spec/iot_sensing/1.1/req"
    for cls in ("datamodel", "resource-path/resource-path-to-entities", "request-data"):
        assert f"{spec}/{cls}" in conformance
    assert conformance == CONFORMANCE
    assert f"{spec}/create-update-delete" not in conformance  # read-only


def test_things_locations_and_features(client: FlaskClient, world: World) -> None:
    things = get(client, "Things")
    assert ids(things) == [world.nord, world.berg, world.depot]
    nord = things["value"][0]
    assert nord["@iot.selfLink"] == f"{ROOT}/Things({world.nord})"
    assert nord["name"] == "Dresden-Nord"
    assert nord["description"] == "Verkehrsnahe Messstation"
    assert nord["properties"] == {"typ": "Verkehr", "hoehe": 112, "dataset": DATASET}
    assert "dataset" not in things["value"][1]["properties"]
    for nav in ("Locations", "HistoricalLocations", "Datastreams"):
        assert nord[f"{nav}@iot.navigationLink"] == f"{ROOT}/Things({world.nord})/{nav}"

    locations = get(client, "Locations")
    assert ids(locations) == [world.nord, world.berg]  # the depot has no location
    location = locations["value"][0]
    assert location["name"] == "Schlesischer Platz"
    assert location["encodingType"] == "application/geo+json"
    assert location["location"] == {"type": "Point", "coordinates": [13.7413, 51.065]}
    assert location["Things@iot.navigationLink"] == f"{ROOT}/Locations({world.nord})/Things"

    features = get(client, "FeaturesOfInterest")
    assert ids(features) == [world.nord, world.berg]
    assert features["value"][0]["feature"] == location["location"]
    assert features["value"][0]["encodingType"] == "application/geo+json"
    assert features["value"][0]["Observations@iot.navigationLink"] == (
        f"{ROOT}/FeaturesOfInterest({world.nord})/Observations"
    )
    assert get(client, "HistoricalLocations") == {"value": []}
    assert get(client, f"Things({world.nord})/HistoricalLocations") == {"value": []}


def test_datastreams_sensors_properties_observations(client: FlaskClient, world: World) -> None:
    ds = get(client, f"Datastreams({world.pm10_nord})")
    assert ds["@iot.id"] == world.pm10_nord
    assert ds["name"] == "PM10 Dresden-Nord"
    assert ds["unitOfMeasurement"] == {
        "name": "Mikrogramm je Kubikmeter",
        "symbol": "µg/m³",
        "definition": "urn:ugm3",
    }
    assert ds["observationType"].endswith("OM_Measurement")
    assert ds["observedArea"] == {"type": "Point", "coordinates": [13.7413, 51.065]}
    last = START_MS + (PM10_COUNT - 1) * HOUR
    assert ds["phenomenonTime"] == f"2019-02-01T00:00:00Z/{iso(last)}"
    assert ds["resultTime"] is None
    assert ds["properties"] == {"messart": "kontinuierlich"}
    for nav in ("Thing", "Sensor", "ObservedProperty", "Observations"):
        assert ds[f"{nav}@iot.navigationLink"] == f"{ROOT}/Datastreams({world.pm10_nord})/{nav}"
    # intervals: the stream ends where its last hourly mean ends
    no2 = get(client, f"Datastreams({world.no2_nord})")
    assert no2["phenomenonTime"] == "2019-02-01T00:00:00Z/2019-02-01T05:00:00Z"
    depot = get(client, f"Datastreams({world.status_depot})")
    assert depot["observedArea"] is None

    sensor = get(client, f"Sensors({world.palas})")
    assert sensor["name"] == "Palas Fidas 200"
    assert sensor["encodingType"] == "text/plain"
    assert sensor["Datastreams@iot.navigationLink"] == f"{ROOT}/Sensors({world.palas})/Datastreams"
    props = get(client, "ObservedProperties")
    assert [p["name"] for p in props["value"]] == ["PM10", "NO2", "Status"]
    assert props["value"][0]["definition"].endswith("/pollutant/5")

    total = PM10_COUNT + 5 + 3 + 3
    assert get(client, "Observations", **{"$count": "true", "$top": "0"}) == {
        "@iot.count": total,
        "value": [],
    }
    obs = get(client, f"Datastreams({world.no2_nord})/Observations")["value"]
    assert obs[0]["phenomenonTime"] == "2019-02-01T00:00:00Z/2019-02-01T01:00:00Z"
    assert obs[0]["resultTime"] == "2019-02-01T01:00:00Z"
    assert obs[0]["result"] == 20.0
    oid = obs[0]["@iot.id"]
    assert obs[0]["Datastream@iot.navigationLink"] == f"{ROOT}/Observations({oid})/Datastream"
    assert obs[0]["FeatureOfInterest@iot.navigationLink"] == (
        f"{ROOT}/Observations({oid})/FeatureOfInterest"
    )
    pm10 = get(client, f"Datastreams({world.pm10_nord})/Observations", **{"$top": "2"})["value"]
    assert [(o["phenomenonTime"], o["result"], o["resultTime"]) for o in pm10] == [
        ("2019-02-01T00:00:00Z", 0.0, None),
        ("2019-02-01T01:00:00Z", 0.5, None),
    ]
    texts = get(client, f"Datastreams({world.status_depot})/Observations")["value"]
    assert [o["result"] for o in texts] == ["ok", "fault", "ok"]


# --- paths -------------------------------------------------------------------------------


def test_navigation_paths(client: FlaskClient, world: World) -> None:
    assert ids(get(client, f"Things({world.nord})/Datastreams")) == [
        world.pm10_nord,
        world.no2_nord,
    ]
    first = pm10_ids(client, world)[0]
    assert get(client, f"Datastreams({world.pm10_nord})/Thing")["@iot.id"] == world.nord
    assert get(client, f"Datastreams({world.pm10_nord})/Sensor")["@iot.id"] == world.palas
    assert get(client, f"Datastreams({world.pm10_nord})/ObservedProperty")["name"] == "PM10"
    assert get(client, f"Observations({first})/Datastream")["@iot.id"] == world.pm10_nord
    assert get(client, f"Observations({first})/Datastream/Thing")["@iot.id"] == world.nord
    assert ids(get(client, f"Things({world.nord})/Locations")) == [world.nord]
    assert ids(get(client, f"Things({world.depot})/Locations")) == []
    assert ids(get(client, f"Locations({world.berg})/Things")) == [world.berg]
    assert ids(get(client, f"Sensors({world.palas})/Datastreams")) == [
        world.pm10_nord,
        world.no2_nord,
        world.pm10_berg,
        world.status_depot,
    ]
    assert ids(get(client, f"ObservedProperties({world.pm10})/Datastreams")) == [
        world.pm10_nord,
        world.pm10_berg,
    ]
    assert get(client, f"Observations({first})/FeatureOfInterest")["@iot.id"] == world.nord
    assert (
        len(
            get(client, f"FeaturesOfInterest({world.nord})/Observations", **{"$top": "1000"})[
                "value"
            ]
        )
        == PM10_COUNT + 5
    )
    assert get(client, f"Datastreams({world.pm10_nord})/Observations({first})")["result"] == 0.0
    # properties and their raw values
    assert get(client, f"Things({world.nord})/name") == {"name": "Dresden-Nord"}
    assert get(client, f"Things({world.nord})/name/$value") == "Dresden-Nord"
    assert (
        get(client, f"Datastreams({world.pm10_nord})/unitOfMeasurement")["unitOfMeasurement"][
            "symbol"
        ]
        == "µg/m³"
    )
    assert get(client, f"Observations({first})/result/$value") == "0.0"
    response = client.get(f"/sta/v1.1/Observations({first})/resultTime/$value")
    assert response.status_code == 204
    # references
    assert get(client, f"Things({world.nord})/Datastreams/$ref") == {
        "value": [
            {"@iot.selfLink": f"{ROOT}/Datastreams({world.pm10_nord})"},
            {"@iot.selfLink": f"{ROOT}/Datastreams({world.no2_nord})"},
        ]
    }
    assert get(client, f"Datastreams({world.pm10_nord})/Thing/$ref") == {
        "@iot.selfLink": f"{ROOT}/Things({world.nord})"
    }


def test_unknown_entities_and_paths_are_404_with_json(client: FlaskClient, world: World) -> None:
    first_berg = ids(get(client, f"Datastreams({world.pm10_berg})/Observations"))[0]
    status_obs = ids(get(client, f"Datastreams({world.status_depot})/Observations"))[0]
    for path in (
        "Thingz",
        "Things(999)",
        "Things(abc)",
        f"Things({world.nord})/Foo",
        f"Things({world.nord})/Datastreams(999)",
        f"Datastreams({world.pm10_nord})/Observations({first_berg})",  # not its observation
        f"Observations({status_obs})/FeatureOfInterest",  # the depot has no location
        f"Locations({world.depot})",
        "HistoricalLocations(1)",
        f"Things({world.nord})/name/extra",
        f"Things({world.nord})/Datastreams/Thing",
    ):
        response = client.get(f"/sta/v1.1/{path}")
        assert response.status_code == 404, path
        body = response.get_json()
        assert body["code"] == 404 and body["message_de"] and body["message_en"], path


def test_writes_are_405(client: FlaskClient, world: World) -> None:
    for method in ("post", "put", "patch", "delete"):
        for path in ("Things", f"Things({world.nord})", ""):
            response = getattr(client, method)(f"/sta/v1.1/{path}", json={"name": "x"})
            assert response.status_code == 405, (method, path)
            assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
            assert "read-only" in response.get_json()["message_en"]
    assert ids(get(client, "Things")) == [world.nord, world.berg, world.depot]


# --- paging, $count, $orderby, $select -----------------------------------------------------


def test_default_page_and_paging_with_next_link_visit_every_row_once(
    client: FlaskClient, world: World
) -> None:
    body = get(client, f"Datastreams({world.pm10_nord})/Observations")
    assert len(body["value"]) == 100
    assert parse_qs(urlsplit(body["@iot.nextLink"]).query) == {"$top": ["100"], "$skip": ["100"]}

    url = f"{ROOT}/Observations?$filter=result%20ge%2010&$orderby=result%20desc&$top=7&$count=true"
    seen: list[float] = []
    pages = 0
    while url:
        page = follow(client, url)
        pages += 1
        assert page["@iot.count"] == PM10_COUNT - 20 + 5  # 10..74.5, and the NO2 means 20..24
        seen += [v["result"] for v in page["value"]]
        url = page.get("@iot.nextLink")
    expected = sorted(
        [i / 2 for i in range(20, PM10_COUNT)] + [20.0 + i for i in range(5)], reverse=True
    )
    assert seen == expected
    assert pages == -(-len(expected) // 7)

    # every observation exactly once, in id order, over all datastreams
    all_ids: list[int] = []
    url = f"{ROOT}/Observations?$top=40&$select=id"
    while url:
        page = follow(client, url)
        all_ids += ids(page)
        url = page.get("@iot.nextLink")
    assert len(all_ids) == len(set(all_ids)) == PM10_COUNT + 5 + 3 + 3
    assert all_ids == sorted(all_ids)


def test_top_is_capped_at_10000_and_the_next_link_says_so(store: Store, tmp_path: Path) -> None:
    sensors = SensorStore(store.engine)
    thing = sensors.thing("bulk", "t", "T")
    ds = sensors.datastream(
        thing,
        "d",
        "D",
        observed_property_id=sensors.observed_property("X", "urn:x"),
        sensor_id=sensors.sensor("S"),
    )
    sensors.ingest("bulk", [Reading(ds, START_MS + i * 1000, float(i)) for i in range(10_050)])
    client = create_app(Settings(base_url=BASE, files_dir=str(tmp_path)), store).test_client()
    body = get(client, f"Datastreams({ds})/Observations", **{"$top": "50000", "$select": "result"})
    assert len(body["value"]) == 10_000
    assert parse_qs(urlsplit(body["@iot.nextLink"]).query) == {
        "$select": ["result"],
        "$top": ["10000"],
        "$skip": ["10000"],
    }
    rest = follow(client, body["@iot.nextLink"])
    assert [v["result"] for v in rest["value"]] == [float(i) for i in range(10_000, 10_050)]
    assert "@iot.nextLink" not in rest


def test_count_skip_and_top(client: FlaskClient, world: World) -> None:
    path = f"Datastreams({world.pm10_nord})/Observations"
    body = get(client, path, **{"$count": "true", "$top": "3", "$skip": "10"})
    assert body["@iot.count"] == PM10_COUNT
    assert [v["result"] for v in body["value"]] == [5.0, 5.5, 6.0]
    filtered = get(client, path, **{"$count": "true", "$filter": "result lt 3", "$top": "2"})
    assert filtered["@iot.count"] == 6
    assert get(client, "Things", **{"$count": "false"}).get("@iot.count") is None
    assert get(client, "Things", **{"$count": "true"})["@iot.count"] == 3
    assert get(client, "Things", **{"$skip": "5"}) == {"value": []}


def test_orderby(client: FlaskClient, world: World) -> None:
    desc = get(
        client,
        f"Datastreams({world.pm10_nord})/Observations",
        **{"$orderby": "phenomenonTime desc", "$top": "2"},
    )
    assert [v["phenomenonTime"] for v in desc["value"]] == [
        iso(START_MS + (PM10_COUNT - 1) * HOUR),
        iso(START_MS + (PM10_COUNT - 2) * HOUR),
    ]
    by_name = get(client, "Datastreams", **{"$orderby": "name", "$select": "name"})
    assert [v["name"] for v in by_name["value"]] == sorted(
        ["PM10 Dresden-Nord", "NO2 Dresden-Nord", "PM10 Bergstraße", "Status Depot"]
    )
    two_keys = get(
        client,
        "Datastreams",
        **{"$orderby": "ObservedProperty/name asc, name desc", "$select": "id"},
    )
    assert ids(two_keys) == [world.no2_nord, world.pm10_nord, world.pm10_berg, world.status_depot]
    by_thing = get(client, "Datastreams", **{"$orderby": "Thing/name desc,id desc"})
    assert ids(by_thing) == [world.no2_nord, world.pm10_nord, world.pm10_berg, world.status_depot]
    # text results have no number: last when descending, first when ascending, on both backends
    by_result = get(client, "Observations", **{"$orderby": "result desc", "$top": "3"})
    assert [v["result"] for v in by_result["value"]] == [74.5, 74.0, 73.5]
    ascending = get(client, "Observations", **{"$orderby": "result", "$top": "4"})
    assert [v["result"] for v in ascending["value"]] == ["fault", "ok", "ok", 0.0]
    by_id = get(client, "Things", **{"$orderby": "@iot.id desc", "$filter": "@iot.id le 3"})
    assert ids(by_id) == [world.depot, world.berg, world.nord]


def test_select(client: FlaskClient, world: World) -> None:
    body = get(client, "Things", **{"$select": "@iot.id,name"})
    assert body["value"][0] == {"@iot.id": world.nord, "name": "Dresden-Nord"}
    body = get(client, f"Things({world.nord})", **{"$select": "id,Datastreams,@iot.selfLink"})
    assert body == {
        "@iot.id": world.nord,
        "@iot.selfLink": f"{ROOT}/Things({world.nord})",
        "Datastreams@iot.navigationLink": f"{ROOT}/Things({world.nord})/Datastreams",
    }
    obs = get(
        client,
        f"Datastreams({world.no2_nord})/Observations",
        **{"$select": "result,phenomenonTime", "$top": "1"},
    )
    assert obs["value"] == [
        {"phenomenonTime": "2019-02-01T00:00:00Z/2019-02-01T01:00:00Z", "result": 20.0}
    ]
    error = get(client, "Things", 400, **{"$select": "name,colour"})
    assert error["option"] == "$select" and error["position"] == 6
    assert "colour" in error["message_en"] and "colour" in error["message_de"]


# --- $expand ------------------------------------------------------------------------------


def test_expand_with_nesting_and_options_per_level(client: FlaskClient, world: World) -> None:
    body = get(
        client,
        f"Things({world.nord})",
        **{
            "$expand": "Datastreams($filter=ObservedProperty/name eq 'PM10';$select=name,id;"
            "$expand=Observations($top=2;$orderby=phenomenonTime desc;$select=result))",
        },
    )
    assert [d["name"] for d in body["Datastreams"]] == ["PM10 Dresden-Nord"]
    pm10 = body["Datastreams"][0]
    assert pm10["Observations"] == [{"result": 74.5}, {"result": 74.0}]
    next_link = pm10["Observations@iot.nextLink"]
    assert next_link.startswith(f"{ROOT}/Datastreams({world.pm10_nord})/Observations?")
    assert parse_qs(urlsplit(next_link).query) == {
        "$orderby": ["phenomenonTime desc"],
        "$select": ["result"],
        "$top": ["2"],
        "$skip": ["2"],
    }
    assert [v["result"] for v in follow(client, next_link)["value"]] == [73.5, 73.0]

    # the path form, and an expansion that is cut by $top and counted
    body = get(client, "Things", **{"$expand": "Datastreams/Observations", "$top": "1"})
    streams = body["value"][0]["Datastreams"]
    assert [d["@iot.id"] for d in streams] == [world.pm10_nord, world.no2_nord]
    assert len(streams[0]["Observations"]) == 100 and "Observations@iot.nextLink" in streams[0]
    assert len(streams[1]["Observations"]) == 5 and "Observations@iot.nextLink" not in streams[1]

    newest = get(
        client,
        "Datastreams",
        **{
            "$expand": "Observations($top=1;$orderby=phenomenonTime desc;$count=true),Thing($select=name)",
            "$filter": "ObservedProperty/name eq 'PM10'",
        },
    )["value"]
    assert [
        (d["Thing"], d["Observations@iot.count"], d["Observations"][0]["result"]) for d in newest
    ] == [({"name": "Dresden-Nord"}, PM10_COUNT, 74.5), ({"name": "Dresden-Bergstraße"}, 3, 9.0)]
    # to-one navigations of a page of observations, and a FeatureOfInterest
    obs = get(
        client,
        f"Datastreams({world.no2_nord})/Observations",
        **{
            "$expand": "Datastream($select=name;$expand=Sensor($select=name)),FeatureOfInterest",
            "$top": "2",
        },
    )["value"]
    assert obs[0]["Datastream"] == {
        "name": "NO2 Dresden-Nord",
        "Sensor": {"name": "Palas Fidas 200"},
    }
    assert obs[1]["FeatureOfInterest"]["feature"]["coordinates"] == [13.7413, 51.065]
    depot = get(
        client,
        f"Datastreams({world.status_depot})/Observations",
        **{"$expand": "FeatureOfInterest", "$top": "1"},
    )["value"][0]
    assert depot["FeatureOfInterest"] is None


def test_expand_errors_name_the_place(client: FlaskClient, world: World) -> None:
    error = get(client, "Things", 400, **{"$expand": "Datastreams,Sensors"})
    assert error["option"] == "$expand" and error["position"] == 13
    assert "Sensors" in error["message_en"]
    text = "Datastreams($filter=colour eq 1)"
    error = get(client, "Things", 400, **{"$expand": text})
    assert error["option"] == "$expand" and error["position"] == text.index("colour") + 1
    assert error["context"] == "Datastreams: $filter"
    # nothing to expand: the mistake is still reported
    error = get(client, "Things", 400, **{"$expand": "Datastreams($top=x)", "$top": "0"})
    assert error["option"] == "$expand"


# --- $filter ------------------------------------------------------------------------------


def test_filter_on_time_ranges(client: FlaskClient, world: World) -> None:
    path = f"Datastreams({world.pm10_nord})/Observations"
    # 06:00 and 09:00 in Dresden (UTC+1 in February) are 05:00Z and 08:00Z
    body = q(
        client,
        path,
        "$filter=phenomenonTime%20gt%202019-02-01T06:00:00%2B01:00%20and%20"
        "phenomenonTime%20lt%202019-02-01T09:00:00%2B01:00",
    )
    assert [v["phenomenonTime"] for v in body["value"]] == [
        "2019-02-01T06:00:00Z",
        "2019-02-01T07:00:00Z",
    ]
    # an unencoded '+' arrives as a space and still means +01:00
    same = q(
        client,
        path,
        "$filter=phenomenonTime gt 2019-02-01T06:00:00+01:00 and "
        "phenomenonTime lt 2019-02-01T09:00:00+01:00",
    )
    assert same == body
    zulu = get(
        client, path, **{"$filter": "phenomenonTime ge 2019-02-07T00:00:00Z", "$count": "true"}
    )
    assert zulu["@iot.count"] == PM10_COUNT - 6 * 24
    with_ms = get(client, path, **{"$filter": "phenomenonTime le 2019-02-01T01:00:00.000Z"})
    assert [v["result"] for v in with_ms["value"]] == [0.0, 0.5]
    quoted = get(client, path, **{"$filter": "phenomenonTime lt '2019-02-01T02:00:00Z'"})
    assert len(quoted["value"]) == 2
    date_only = get(client, path, **{"$filter": "phenomenonTime ge 2019-02-07", "$top": "1"})
    assert date_only["value"][0]["phenomenonTime"] == "2019-02-07T00:00:00Z"
    # intervals compare by their start
    means = get(
        client,
        f"Datastreams({world.no2_nord})/Observations",
        **{"$filter": "phenomenonTime ge 2019-02-01T03:00:00Z"},
    )
    assert [v["result"] for v in means["value"]] == [23.0, 24.0]
    results = get(
        client,
        f"Datastreams({world.no2_nord})/Observations",
        **{"$filter": "resultTime gt 2019-02-01T04:00:00Z"},
    )
    assert [v["result"] for v in results["value"]] == [24.0]
    assert ids(get(client, "Observations", **{"$filter": "resultTime ne null"})) == ids(
        get(client, f"Datastreams({world.no2_nord})/Observations")
    )
    # datastreams by their phenomenon time (its start): only those that began later
    later = get(client, "Datastreams", **{"$filter": "phenomenonTime ge 2019-02-01T00:00:01Z"})
    assert later["value"] == []
    # date functions, in UTC
    parts = get(
        client,
        "Observations",
        **{
            "$filter": f"Datastream/id eq {world.pm10_nord} and day(phenomenonTime) eq 3 and "
            "hour(phenomenonTime) eq 4 and month(phenomenonTime) eq 2 and "
            "year(phenomenonTime) eq 2019 and minute(phenomenonTime) eq 0",
        },
    )
    assert [v["phenomenonTime"] for v in parts["value"]] == ["2019-02-03T04:00:00Z"]


def test_filter_on_results_strings_and_logic(client: FlaskClient, world: World) -> None:
    path = f"Datastreams({world.pm10_nord})/Observations"

    def results(expr: str, where: str = path) -> list[Any]:
        return [
            v["result"] for v in get(client, where, **{"$filter": expr, "$top": "1000"})["value"]
        ]

    assert results("result gt 73") == [73.5, 74.0, 74.5]
    assert results("result eq 3 or result eq 4.5") == [3.0, 4.5]
    assert results("not (result ge 1) and result ne 0") == [0.5]
    assert results("(result add 1) mul 2 le 3 and result sub 0.5 ge 0") == [0.5]
    assert results("result div 2 eq 1") == [2.0]
    assert results("result mod 10 eq 0 and result gt 0") == [
        10.0,
        20.0,
        30.0,
        40.0,
        50.0,
        60.0,
        70.0,
    ]
    assert results("-result gt -1") == [0.0, 0.5]
    assert results("round(result) eq 2 and floor(result) eq 1") == [1.5]
    assert results("ceiling(result) eq 1") == [0.5, 1.0]
    status = f"Datastreams({world.status_depot})/Observations"
    assert results("result eq 'fault'", status) == ["fault"]
    assert results("result ne 'fault'", status) == ["ok", "ok"]
    assert results("startswith(result, 'o')", status) == ["ok", "ok"]

    def names(expr: str, where: str = "Things") -> list[str]:
        return [v["name"] for v in get(client, where, **{"$filter": expr})["value"]]

    assert names("name eq 'Dresden-Bergstraße'") == ["Dresden-Bergstraße"]
    assert names("name eq 'Dresden-Nord''s'") == []
    assert names("substringof('Nord', name)") == ["Dresden-Nord"]
    assert names("contains(name, 'nord')") == []  # case-sensitive
    assert names("contains(tolower(name), 'nord')") == ["Dresden-Nord"]
    assert names("startswith(name, 'Dresden') and endswith(name, 'ße')") == ["Dresden-Bergstraße"]
    assert names("length(name) eq 12") == ["Dresden-Nord"]
    assert names("toupper(name) eq 'DEPOT OHNE ORT'") == ["Depot ohne Ort"]
    assert names("indexof(name, 'Nord') eq 8") == ["Dresden-Nord"]
    assert names("substring(name, 8) eq 'Nord'") == ["Dresden-Nord"]
    assert names("substring(name, 0, 5) eq 'Depot'") == ["Depot ohne Ort"]
    assert names("concat(concat(name, ' '), 'x') eq 'Dresden-Nord x'") == ["Dresden-Nord"]
    assert names("trim(' Depot ohne Ort ') eq name") == ["Depot ohne Ort"]
    assert names("contains(name, 'Nord') eq true") == ["Dresden-Nord"]
    assert names("contains(name, 'Nord') eq false") == ["Dresden-Bergstraße", "Depot ohne Ort"]
    # JSON properties of Things, and the dataset a Thing is catalogued as
    assert names("properties/typ eq 'Verkehr' and properties/hoehe gt 150") == [
        "Dresden-Bergstraße"
    ]
    assert names(f"properties/dataset eq '{DATASET}'") == ["Dresden-Nord"]
    assert names("properties/missing eq null") == [
        "Dresden-Nord",
        "Dresden-Bergstraße",
        "Depot ohne Ort",
    ]
    # through navigation properties: to one, and to many ("any")
    assert names("Thing/name eq 'Dresden-Nord'", "Datastreams") == [
        "PM10 Dresden-Nord",
        "NO2 Dresden-Nord",
    ]
    assert names("ObservedProperty/name eq 'PM10'", "Datastreams") == [
        "PM10 Dresden-Nord",
        "PM10 Bergstraße",
    ]
    assert names("Thing/id eq " + str(world.berg), "Datastreams") == ["PM10 Bergstraße"]
    assert names(
        "unitOfMeasurement/symbol eq 'µg/m³' and Sensor/name eq 'Palas Fidas 200'", "Datastreams"
    ) == ["PM10 Dresden-Nord", "NO2 Dresden-Nord", "PM10 Bergstraße"]
    assert names("Datastreams/ObservedProperty/name eq 'NO2'") == ["Dresden-Nord"]
    assert names("Datastreams/Observations/result gt 8.5") == ["Dresden-Nord", "Dresden-Bergstraße"]
    assert names("not Datastreams/Observations/result gt 8.5") == ["Depot ohne Ort"]
    assert names("Things/name eq 'Dresden-Nord'", "Locations") == ["Schlesischer Platz"]
    observed = get(
        client,
        "Observations",
        **{
            "$filter": "Datastream/Thing/name eq 'Dresden-Bergstraße' and result gt 7",
        },
    )
    assert [v["result"] for v in observed["value"]] == [8.0, 9.0]
    by_feature = get(client, "Observations", **{"$filter": f"FeatureOfInterest/id eq {world.berg}"})
    assert [v["result"] for v in by_feature["value"]] == [7.0, 8.0, 9.0]
    by_stream = get(
        client,
        "Observations",
        **{
            "$filter": f"Datastream/id eq {world.pm10_nord} and phenomenonTime gt "
            "2019-02-07T04:00:00+01:00",
            "$count": "true",
        },
    )
    assert by_stream["@iot.count"] == PM10_COUNT - 6 * 24 - 4  # after 03:00Z on the 7th
    assert by_stream["value"][0]["phenomenonTime"] == "2019-02-07T04:00:00Z"  # time order
    assert names(f"Observations/Datastream/id eq {world.pm10_berg}", "FeaturesOfInterest") == [
        "Dresden-Bergstraße"
    ]


@pytest.mark.parametrize(
    ("params", "option", "at", "words"),
    [  # `at`: the text the reported position points to (1-based), None: no position
        ({"$filter": "result gt"}, "$filter", "", "ends too early"),
        ({"$filter": "name eq 'Dresden"}, "$filter", "'Dresden", "Unterminated string"),
        ({"$filter": "colour eq 'rot'"}, "$filter", "colour", "no property 'colour'"),
        ({"$filter": "name eq 3"}, "$filter", "eq", "Cannot compare"),
        ({"$filter": "frobnicate(name) eq 1"}, "$filter", "frob", "Unknown function"),
        (
            {"$filter": "geo.intersects(location, geography'POINT(1 2)')"},
            "$filter",
            "geography",
            "Typed literals",
        ),
        ({"$filter": "name eq 'a' description"}, "$filter", "description", "operator"),
        ({"$filter": "name eq 'a' & name"}, "$filter", "&", "Unexpected character"),
        ({"$filter": "properties eq 1"}, "$filter", "properties", "is an object"),
        ({"$filter": "Datastreams/name"}, "$filter", "Datastreams", "condition is expected"),
        ({"$filter": "phenomenonTime gt 2019-13-01T00:00:00Z"}, "$filter", "2019", "ISO 8601"),
        (
            {"$filter": "Datastreams/name eq name"},
            "$filter",
            "Datastreams",
            "goes through a collection",
        ),
        ({"$filter": "length(name, 2) eq 1"}, "$filter", "length", "takes 1 argument"),
        ({"$top": "-1"}, "$top", "-1", "whole number"),
        ({"$skip": "x"}, "$skip", "x", "whole number"),
        ({"$count": "yes"}, "$count", "yes", "true or false"),
        ({"$orderby": "name sideways"}, "$orderby", "sideways", "Expected ','"),
        ({"$orderby": "name eq 'x'"}, "$orderby", "eq", "condition"),
        ({"$resultFormat": "csv"}, "$resultFormat", "csv", "Unknown result format"),
        ({"$format": "json"}, "$format", None, "Unknown query option"),
    ],
)
def test_bad_options_are_400_naming_option_and_position(
    client: FlaskClient, params: dict[str, str], option: str, at: str | None, words: str
) -> None:
    error = get(client, "Things", 400, **params)
    assert error["code"] == 400
    assert error["option"] == option
    text = params[option]
    expected = None if at is None else (text.index(at) + 1 if at else len(text) + 1)
    assert error["position"] == expected
    assert words in error["message_en"], error
    assert error["message_de"] != error["message_en"]
    assert f"position {expected}" in error["message_en"] if expected else True


# --- data arrays --------------------------------------------------------------------------


def test_result_format_data_array(client: FlaskClient, world: World) -> None:
    body = get(
        client,
        "Observations",
        **{
            "$resultFormat": "dataArray",
            "$filter": f"Datastream/id eq {world.no2_nord} or Datastream/id eq {world.pm10_berg}",
            "$count": "true",
        },
    )
    assert body["@iot.count"] == 8
    groups = {g["Datastream@iot.navigationLink"]: g for g in body["value"]}
    no2 = groups[f"{ROOT}/Datastreams({world.no2_nord})"]
    assert no2["components"] == ["id", "phenomenonTime", "resultTime", "result"]
    assert no2["dataArray@iot.count"] == 5
    assert no2["dataArray"][0][1:] == [
        "2019-02-01T00:00:00Z/2019-02-01T01:00:00Z",
        "2019-02-01T01:00:00Z",
        20.0,
    ]
    berg = groups[f"{ROOT}/Datastreams({world.pm10_berg})"]
    assert [row[3] for row in berg["dataArray"]] == [7.0, 8.0, 9.0]
    page = get(
        client,
        f"Datastreams({world.pm10_nord})/Observations",
        **{
            "$resultFormat": "dataArray",
            "$select": "phenomenonTime,result",
            "$top": "2",
        },
    )
    assert page["value"][0]["components"] == ["phenomenonTime", "result"]
    assert page["value"][0]["dataArray"] == [
        ["2019-02-01T00:00:00Z", 0.0],
        ["2019-02-01T01:00:00Z", 0.5],
    ]
    rest = follow(client, page["@iot.nextLink"])
    assert rest["value"][0]["dataArray"][0] == ["2019-02-01T02:00:00Z", 1.0]
    error = get(client, "Things", 400, **{"$resultFormat": "dataArray"})
    assert error["option"] == "$resultFormat"


def test_arithmetic_the_database_refuses_is_a_400(client: FlaskClient, world: World) -> None:
    body = client.get(
        "/sta/v1.1/Observations",
        query_string={
            "$filter": "result mul 1e308 mul 1e308 gt 0",
        },
    )
    # SQLite computes infinity, PostgreSQL refuses the overflow: never a 500
    assert body.status_code in (200, 400)
    if body.status_code == 400:
        assert body.get_json()["option"] == "$filter"


# --- a real server and a real SensorThings client ----------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning:furl")
def test_frost_client_reads_a_served_odapp(server_factory: Any) -> None:
    import frost_sta_client as frost  # in the test extras

    server: Server = server_factory()
    server.odapp("db", "upgrade")
    served = Store(server.env["ODAPP_DATABASE_URL"], server.url)
    world = fill(served.engine)
    served.engine.dispose()
    server.start()
    service = frost.SensorThingsService(f"{server.url}/sta/v1.1")

    things = list(service.things().query().list())
    assert [(t.id, t.name) for t in things] == [
        (world.nord, "Dresden-Nord"),
        (world.berg, "Dresden-Bergstraße"),
        (world.depot, "Depot ohne Ort"),
    ]
    nord = service.things().find(world.nord)
    assert nord.properties["dataset"] == DATASET
    streams = list(nord.get_datastreams().query().list())
    assert [d.name for d in streams] == ["PM10 Dresden-Nord", "NO2 Dresden-Nord"]
    assert streams[0].unit_of_measurement.symbol == "µg/m³"
    locations = list(nord.get_locations().query().list())
    assert [loc.id for loc in locations] == [world.nord]

    # every observation of a datastream, page after page (the client follows @iot.nextLink)
    pm10 = service.datastreams().find(world.pm10_nord)
    everything = pm10.get_observations().query().top(40).list()
    results = [o.result for o in everything]
    assert results == [i / 2 for i in range(PM10_COUNT)]

    # a time window with a zoned literal, newest first, counted
    window = (
        pm10.get_observations()
        .query()
        .filter(
            "phenomenonTime ge 2019-02-02T00:00:00+01:00 and "
            "phenomenonTime lt 2019-02-02T03:00:00+01:00"
        )
        .orderby("phenomenonTime", "desc")
        .count()
        .list()
    )
    assert window.count == 3
    assert [o.phenomenon_time for o in window.entities] == [
        "2019-02-02T01:00:00Z",
        "2019-02-02T00:00:00Z",
        "2019-02-01T23:00:00Z",
    ]
    expanded = list(
        service.datastreams()
        .query()
        .filter("ObservedProperty/name eq 'PM10'")
        .expand("Thing,Observations($top=1;$orderby=phenomenonTime desc)")
        .list()
    )
    assert [(d.thing.name, d.observations.entities[0].result) for d in expanded] == [
        ("Dresden-Nord", 74.5),
        ("Dresden-Bergstraße", 9.0),
    ]
    # writes are refused
    response = requests.post(f"{server.url}/sta/v1.1/Things", json={"name": "x"}, timeout=30)
    assert response.status_code == 405
    with pytest.raises(requests.HTTPError):
        service.things().find(999)


def test_time_ranges_of_one_datastream_use_its_time_index(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """The SQL of a page of one datastream's observations in a time window walks the
    (datastream_id, phenomenon_start) index in order: no scan, no sort (checked on SQLite's
    plan; timings on a million rows are in the issue notes, not in a test)."""
    world = fill(sqlite_store.engine)
    client = create_app(Settings(base_url=BASE, files_dir=str(tmp_path)), sqlite_store)
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "FROM sensor_observations" in statement:
            statements.append((statement, params))

    event.listen(sqlite_store.engine, "before_cursor_execute", capture)
    window = "phenomenonTime ge 2019-02-02T00:00:00+01:00 and phenomenonTime lt 2019-02-03"
    for path, params in (
        (f"Datastreams({world.pm10_nord})/Observations", {"$filter": window}),
        (
            f"Datastreams({world.pm10_nord})/Observations",
            {"$filter": window, "$orderby": "phenomenonTime desc"},
        ),
        ("Observations", {"$filter": f"Datastream/id eq {world.pm10_nord} and {window}"}),
        (
            "Observations",
            {
                "$filter": f"{window} and Datastream/id eq {world.pm10_nord}",
                "$orderby": "phenomenonTime desc",
            },
        ),
    ):
        statements.clear()
        assert client.test_client().get(f"/sta/v1.1/{path}", query_string=params).status_code == 200
        ((statement, bound),) = statements
        with sqlite_store.engine.connect() as conn:
            plan = " | ".join(
                r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", bound)
            )
        assert (
            "USING INDEX sqlite_autoindex_sensor_observations_1 (datastream_id=? AND "
            "phenomenon_start>? AND phenomenon_start<?)" in plan
        ), (path, params, plan)
        assert "TEMP B-TREE" not in plan, (path, params, plan)
    event.remove(sqlite_store.engine, "before_cursor_execute", capture)
