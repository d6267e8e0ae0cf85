"""The ``sensorthings`` source type against a real SensorThings API server over HTTP
(tests/sta_fixture_server.py): Things, Locations and Datastreams stored, Observations paged
over next links and read again only after the newest one stored, dataArray and the normal form
alike, bad input recorded and the rest kept, a failure halfway that deletes nothing, and each
Thing a catalogue dataset. Both backends."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from catalog import model
from catalog.harvest_state import HarvestLedger
from catalog.schema import SensorDatastream, SensorObservedProperty, SensorThing
from catalog.search import SearchQuery, SearchService
from catalog.sensors.store import SensorStore
from catalog.sensors.times import iso, parse_time
from catalog.store import Store
from harvesters.base import Defaults, SourceConfig, SourceError
from harvesters.config import check_file
from harvesters.context import RunContext
from harvesters.run import run_source
from harvesters.sources.sensorthings import fetch
from tests.conftest import BASE, ROOT
from tests.sta_fixture_server import CATEGORY, MEASUREMENT, Request, StaFixture

EXAMPLE = ROOT / "config" / "harvesters" / "examples" / "sensorthings.yaml"
HOUR = 3_600_000
START = parse_time("2024-05-01T00:00:00Z")[0]
PM10 = "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/5"
NO2 = "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/8"
AIR_TEMPERATURE = "http://vocab.nerc.ac.uk/standard_name/air_temperature/"
MICROGRAM = {
    "name": "Mikrogramm pro Kubikmeter",
    "symbol": "µg/m³",
    "definition": "http://qudt.org/vocab/unit/MicroGM-PER-M3",
}
CELSIUS = {"name": "Grad Celsius", "symbol": "°C", "definition": "http://qudt.org/vocab/unit/DEG_C"}
PERCENT = {"name": "Prozent", "symbol": "%", "definition": "http://qudt.org/vocab/unit/PERCENT"}


# --- the server's data: three stations in Dresden (made up for the tests) --------------------


def _stream(
    ident: int,
    name: str,
    prop: tuple[str, str],
    unit: dict[str, str],
    sensor: str,
    kind: str = MEASUREMENT,
) -> dict[str, Any]:
    return {
        "@iot.id": ident,
        "name": name,
        "description": f"{name} (Testdaten)",
        "observationType": kind,
        "unitOfMeasurement": unit,
        "ObservedProperty": {
            "@iot.id": 100 + ident,
            "name": prop[0],
            "definition": prop[1],
            "description": f"{prop[0]} in der Außenluft",
        },
        "Sensor": {
            "@iot.id": 200 + ident,
            "name": sensor,
            "description": f"Messgerät {sensor}",
            "encodingType": "text/plain",
            "metadata": "",
        },
    }


def _point(lon: float, lat: float, name: str) -> dict[str, Any]:
    return {
        "@iot.id": int(lon * 1000),
        "name": name,
        "description": f"Standort {name}",
        "encodingType": "application/geo+json",
        "location": {"type": "Point", "coordinates": [lon, lat]},
    }


def things() -> list[dict[str, Any]]:
    garden = {
        "type": "Polygon",
        "coordinates": [
            [
                [13.755, 51.036],
                [13.778, 51.036],
                [13.778, 51.045],
                [13.755, 51.045],
                [13.755, 51.036],
            ]
        ],
    }
    return [
        {
            "@iot.id": 1,
            "name": "Luftmessstation Dresden-Nord",
            "description": "Verkehrsnahe Messstation am Schlesischen Platz",
            "properties": {"betreiber": "LfULG", "eu_code": "DESN061"},
            "Locations": [_point(13.7414, 51.0646, "Dresden-Nord")],
            "Datastreams": [
                _stream(11, "PM10 Dresden-Nord", ("PM10", PM10), MICROGRAM, "TEOM 1400"),
                _stream(
                    12,
                    "Lufttemperatur Dresden-Nord",
                    ("Lufttemperatur", AIR_TEMPERATURE),
                    CELSIUS,
                    "PT100",
                ),
            ],
        },
        {
            "@iot.id": 2,
            "name": "Luftmessstation Dresden-Bergstraße",
            "description": "",
            "properties": {"betreiber": "LfULG"},
            "Locations": [_point(13.7316, 51.0275, "Bergstraße")],
            "Datastreams": [
                _stream(21, "NO2 Bergstraße", ("NO2", NO2), MICROGRAM, "Chemilumineszenz"),
                _stream(
                    22,
                    "Wetterlage Bergstraße",
                    ("Wetterlage", "urn:test:wetterlage"),
                    {},
                    "Beobachter",
                    CATEGORY,
                ),
            ],
        },
        {
            "@iot.id": 3,
            "name": "Messfeld Großer Garten",
            "description": "Bodenfeuchte im Großen Garten",
            "Locations": [
                {
                    "@iot.id": 9,
                    "name": "Großer Garten",
                    "encodingType": "application/geo+json",
                    "location": garden,
                }
            ],
            "Datastreams": [
                _stream(
                    31,
                    "Bodenfeuchte Großer Garten",
                    ("Bodenfeuchte", "urn:test:soil"),
                    PERCENT,
                    "TDR-Sonde",
                ),
            ],
        },
    ]


def hourly_means(first: int, count: int, base: float) -> list[dict[str, Any]]:
    """Hourly means with interval times (as LfULG publishes them)."""
    return [
        {
            "phenomenonTime": f"{iso(START + h * HOUR)}/{iso(START + (h + 1) * HOUR)}",
            "resultTime": iso(START + (h + 1) * HOUR),
            "result": base + h,
        }
        for h in range(first, first + count)
    ]


def instants(first: int, count: int, base: float, step: float = 0.5) -> list[dict[str, Any]]:
    return [
        {"phenomenonTime": iso(START + h * HOUR), "result": round(base + step * h, 2)}
        for h in range(first, first + count)
    ]


def fill(server: StaFixture) -> StaFixture:
    server.things = things()
    server.add(11, *hourly_means(0, 10, 20.0))  # 20.0 … 29.0
    server.add(12, *instants(0, 7, 11.0))
    server.add(21, *hourly_means(0, 5, 40.0))
    server.add(
        22,
        *[
            {"phenomenonTime": iso(START + h * HOUR), "result": w}
            for h, w in enumerate(["sonnig", "bewölkt", "Regen"])
        ],
    )
    server.add(31, *instants(0, 4, 30.0, 1.0))
    return server


@pytest.fixture
def server() -> Iterator[StaFixture]:
    with fill(StaFixture(max_top=4)) as running:
        yield running


def config(url: str, name: str = "sta-lfulg", **kwargs: Any) -> SourceConfig:
    return SourceConfig(
        name=name,
        type="sensorthings",
        organization={"name": "Sächsisches Landesamt für Umwelt, Landwirtschaft und Geologie"},
        url=url,
        defaults=Defaults(license="http://dcat-ap.de/def/licenses/dl-by-de/2.0"),
        **kwargs,
    )


def harvest(store: Store, cfg: SourceConfig, tmp_path: Path, status: str = "succeeded") -> Any:
    result = run_source(store, cfg, files_dir=tmp_path / "files", base_url=BASE)
    assert result.status == status, result.summary()
    return result


def streams(store: Store, source: str) -> dict[str, int]:
    """Datastream key at the source -> ODApp's datastream id."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(SensorDatastream.source_key, SensorDatastream.id)
            .join(SensorThing, SensorThing.id == SensorDatastream.thing_id)
            .where(SensorThing.source == source)
        ).all()
    return {key: ds for key, ds in rows}


def series(store: Store, source: str) -> dict[str, list[tuple[Any, ...]]]:
    sensors = SensorStore(store.engine)
    return {
        key: [(r.start, r.end, r.value, r.text) for r in sensors.series(ds)]
        for key, ds in streams(store, source).items()
    }


def thing_rows(store: Store, source: str) -> dict[str, Any]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(SensorThing).where(SensorThing.source == source)).all()
    return {row.source_key: row for row in rows}


def observation_requests(server: StaFixture, stream: int) -> list[Request]:
    return server.logged(f"/Datastreams({stream})/Observations")


# --- tests ---------------------------------------------------------------------------------


def test_the_first_harvest_stores_every_station_series_and_observation(
    store: Store, server: StaFixture, tmp_path: Path
) -> None:
    result = harvest(store, config(server.url), tmp_path)
    assert result.counts["new"] == 3  # one catalogue dataset per Thing
    assert result.counts["observations"] == 10 + 7 + 5 + 3 + 4
    assert result.counts["rejected"] == 0 and result.counts["duplicates"] == 0

    found = thing_rows(store, "sta-lfulg")
    assert sorted(found) == ["1", "2", "3"]  # the remote @iot.id
    nord = found["1"]
    assert nord.name == "Luftmessstation Dresden-Nord"
    assert (nord.lon, nord.lat) == (13.7414, 51.0646)
    assert '"eu_code": "DESN061"' in nord.properties
    garden = found["3"]
    assert garden.lon is None and '"type": "Polygon"' in garden.location  # GeoJSON kept

    data = series(store, "sta-lfulg")
    assert sorted(data) == ["11", "12", "21", "22", "31"]
    # hourly means keep their interval; values in order
    assert data["11"][0] == (START, START + HOUR, 20.0, None)
    assert [row[2] for row in data["11"]] == [20.0 + h for h in range(10)]
    assert data["12"][3] == (START + 3 * HOUR, None, 12.5, None)
    assert [row[3] for row in data["22"]] == ["sonnig", "bewölkt", "Regen"]  # text kept

    with store.engine.connect() as conn:
        stream = conn.execute(
            select(SensorDatastream).where(SensorDatastream.id == streams(store, "sta-lfulg")["11"])
        ).one()
        definition = conn.execute(
            select(SensorObservedProperty.definition).where(
                SensorObservedProperty.id == stream.observed_property_id
            )
        ).scalar_one()
    assert definition == PM10
    assert (stream.unit_symbol, stream.unit_name) == ("µg/m³", "Mikrogramm pro Kubikmeter")
    assert stream.observation_count == 10 and stream.last_end == START + 10 * HOUR

    # paged: the server gives 4 at a time, so 10 observations took 3 requests
    requests = observation_requests(server, 11)
    assert len(requests) == 3
    assert requests[0].params["$orderby"] == "phenomenonTime asc"
    assert requests[0].params["$resultFormat"] == "dataArray"
    assert "$filter" not in requests[0].params  # nothing stored yet, no since
    assert [r.params.get("$skip") for r in requests] == [None, "4", "8"]


def test_a_second_run_reads_only_what_is_new(
    store: Store, server: StaFixture, tmp_path: Path
) -> None:
    cfg = config(server.url)
    harvest(store, cfg, tmp_path)
    before = series(store, "sta-lfulg")
    server.requests.clear()
    server.add(11, *hourly_means(10, 3, 20.0))  # 30.0, 31.0, 32.0
    server.add(12, *instants(7, 1, 11.0))

    result = harvest(store, cfg, tmp_path)
    assert result.counts["observations"] == 4
    assert result.counts["duplicates"] == 0 and result.counts["conflicts"] == 0
    [first, *_rest] = observation_requests(server, 11)
    newest = iso(START + 9 * HOUR)  # the start of the newest stored hourly mean
    assert first.params["$filter"] == f"phenomenonTime gt {newest}"
    assert observation_requests(server, 31)[0].params["$filter"] == (
        f"phenomenonTime gt {iso(START + 3 * HOUR)}"
    )
    after = series(store, "sta-lfulg")
    assert after["11"] == before["11"] + [
        (START + h * HOUR, START + (h + 1) * HOUR, 20.0 + h, None) for h in (10, 11, 12)
    ]
    assert len(after["12"]) == 8 and after["31"] == before["31"]
    issues = SensorStore(store.engine).issues("sta-lfulg")
    assert not [i for i in issues if i["code"] in ("duplicate", "conflict")]

    # a third run without anything new reads one empty page per Datastream and stores nothing
    server.requests.clear()
    again = harvest(store, cfg, tmp_path)
    assert again.counts["observations"] == 0
    assert len(observation_requests(server, 11)) == 1


def test_options_since_starts_the_first_run_there(
    store: Store, server: StaFixture, tmp_path: Path
) -> None:
    harvest(store, config(server.url, options={"since": "2024-05-01T08:00:00+02:00"}), tmp_path)
    data = series(store, "sta-lfulg")
    # 08:00 in Dresden is 06:00 UTC: the hourly means starting 06:00 (included) … 09:00 UTC
    assert [row[0] for row in data["11"]] == [START + h * HOUR for h in range(6, 10)]
    assert observation_requests(server, 11)[0].params["$filter"] == (
        "phenomenonTime ge 2024-05-01T06:00:00Z"
    )


def test_data_array_and_the_normal_form_give_the_same_series(store: Store, tmp_path: Path) -> None:
    results = {}
    for name, supports, asked in (
        ("sta-compact", True, True),
        ("sta-plain", True, False),
        ("sta-refuses", False, True),  # answers the dataArray request with HTTP 400
    ):
        with fill(StaFixture(max_top=3, data_array=supports)) as running:
            harvest(store, config(running.url, name, options={"data_array": asked}), tmp_path)
            formats = {r.params.get("$resultFormat") for r in running.logged("/Observations")}
            failed = [r for r in running.requests if r.status != 200]
        results[name] = series(store, name)
        if name == "sta-compact":
            assert formats == {"dataArray"} and not failed
        elif name == "sta-plain":
            assert formats == {None} and not failed
        else:  # one refused request, then the normal form for the rest of the run
            assert len(failed) == 1 and failed[0].status == 400
            assert formats == {"dataArray", None}
    assert results["sta-compact"] == results["sta-plain"] == results["sta-refuses"]
    assert sum(len(rows) for rows in results["sta-plain"].values()) == 29


def test_each_thing_is_a_catalogue_dataset_covering_its_observations(
    store: Store, server: StaFixture, tmp_path: Path
) -> None:
    harvest(store, config(server.url), tmp_path)
    nord = thing_rows(store, "sta-lfulg")["1"]
    assert nord.dataset_uri  # linked back by the runner
    record = store.get(nord.dataset_uri).record
    assert isinstance(record, model.Dataset)
    assert model.preferred_text(record.title) == "Luftmessstation Dresden-Nord: Messwerte"
    [period] = record.temporal
    # PM10 runs to the end of its last hourly mean, the temperature starts with it
    assert (period.start, period.end) == (iso(START), iso(START + 10 * HOUR))
    assert record.modified == iso(START + 9 * HOUR)  # the newest observation's time
    assert record.spatial and "13.7414 51.0646" in record.spatial[0].geometry
    [derived] = record.was_derived_from
    assert derived == f"{server.url}/Things(1)"  # the Thing at the source

    found = SearchService(store).search(SearchQuery(q="Bergstraße Messwerte"))
    assert [model.preferred_text(r.record.title) for r in found.results] == [
        "Luftmessstation Dresden-Bergstraße: Messwerte"
    ]

    server.add(11, *hourly_means(10, 1, 20.0))
    harvest(store, config(server.url), tmp_path)
    record = store.get(nord.dataset_uri).record
    assert record.modified == iso(START + 10 * HOUR)
    assert record.temporal[0].end == iso(START + 11 * HOUR)


def test_bad_observations_are_recorded_and_the_rest_stored(
    store: Store, server: StaFixture, tmp_path: Path
) -> None:
    server.add(
        12,
        {"phenomenonTime": iso(START + 7 * HOUR), "result": "n/a"},  # not a number
        {"phenomenonTime": "2024-05-01T10:00:00", "result": 16.0},  # no zone: Dresden time
        {"phenomenonTime": iso(START + 9 * HOUR), "result": 17.0},
        {"phenomenonTime": iso(START + 9 * HOUR), "result": 17.0},  # the same again
        {"phenomenonTime": iso(START + 9 * HOUR), "result": 99.0},  # another value, same time
        {"phenomenonTime": "gestern", "result": 1.0},  # not a time
    )
    result = harvest(store, config(server.url), tmp_path)
    assert result.counts["rejected"] == 2 and result.counts["normalised"] == 1
    assert result.counts["duplicates"] == 1 and result.counts["conflicts"] == 1
    data = series(store, "sta-lfulg")["12"]
    assert len(data) == 7 + 2
    assert (START + 8 * HOUR, None, 16.0, None) in data  # 10:00 CEST = 08:00 UTC
    assert (START + 9 * HOUR, None, 17.0, None) in data
    issues = SensorStore(store.engine).issues("sta-lfulg")
    codes = {(i["action"], i["code"]) for i in issues}
    assert codes >= {
        ("rejected", "non-numeric"),
        ("rejected", "bad-time"),
        ("normalised", "no-zone"),
        ("duplicate", "duplicate"),
        ("rejected", "conflict"),
    }
    [bad] = [i for i in issues if i["code"] == "non-numeric"]
    assert bad["value"] == "n/a" and "Datastreams(12)/Observations" in bad["where"]
    assert bad["message_de"] and bad["message_en"]
    # the other series are complete
    assert len(series(store, "sta-lfulg")["11"]) == 10


def test_a_failure_while_paging_fails_the_run_keeps_what_was_stored_and_the_next_run_completes(
    store: Store, server: StaFixture, tmp_path: Path
) -> None:
    # the third page of Datastream 21 (40 hourly means, 4 per page) answers HTTP 500
    server.add(21, *hourly_means(5, 35, 40.0))

    def broken(request: Request) -> bool:
        return request.path == "/Datastreams(21)/Observations" and (
            request.params.get("$skip") == "8"
        )

    server.fail = broken
    cfg = config(server.url)
    failed = harvest(store, cfg, tmp_path, status="failed")
    assert failed.error is not None and "HTTP 500" in failed.error["message_en"]
    assert "Datastreams(21)/Observations" in failed.error["where"]
    assert HarvestLedger(store).job(failed.job_id)["status"] == "failed"
    stored = series(store, "sta-lfulg")
    assert len(stored["11"]) == 10  # read before the failure, and kept
    assert len(stored["21"]) == 8  # the two pages before the broken one
    assert stored["21"] == [
        (START + h * HOUR, START + (h + 1) * HOUR, 40.0 + h, None) for h in range(8)
    ]
    assert store.count("dataset") == 0  # the catalogue is written only by a complete run

    server.fail = None
    server.requests.clear()
    done = harvest(store, cfg, tmp_path)
    assert done.counts["new"] == 3 and done.counts["duplicates"] == 0
    assert observation_requests(server, 21)[0].params["$filter"] == (
        f"phenomenonTime gt {iso(START + 7 * HOUR)}"
    )
    assert observation_requests(server, 11)[0].params["$filter"] == (
        f"phenomenonTime gt {iso(START + 9 * HOUR)}"
    )
    final = series(store, "sta-lfulg")
    assert len(final["21"]) == 40 and len(final["11"]) == 10
    assert [row[2] for row in final["21"]] == [40.0 + h for h in range(40)]


def test_max_observations_caps_a_run_and_the_next_runs_carry_on(
    store: Store, server: StaFixture, tmp_path: Path
) -> None:
    cfg = config(server.url, options={"max_observations": 12, "page_size": 5})
    totals = []
    for _ in range(3):
        result = harvest(store, cfg, tmp_path)
        totals.append(result.counts["observations"])
    assert totals == [12, 12, 5]  # 29 in all, none twice
    data = series(store, "sta-lfulg")
    assert sum(len(rows) for rows in data.values()) == 29
    assert [row[2] for row in data["11"]] == [20.0 + h for h in range(10)]
    # page size 5 asked, the server's limit of 4 applies
    assert {
        r.params["$top"] for r in server.logged("/Observations") if "$skip" not in r.params
    } == {"5"}


def test_filters_choose_things_and_observed_properties(
    store: Store, server: StaFixture, tmp_path: Path
) -> None:
    cfg = config(
        server.url,
        filters={
            "things": "name ne 'Messfeld Großer Garten'",
            "observed_properties": ["PM10", "no2"],
        },
    )
    result = harvest(store, cfg, tmp_path)
    assert result.counts["new"] == 2
    assert sorted(streams(store, "sta-lfulg")) == ["11", "21"]
    [listing, *_] = server.logged("/Things")
    assert listing.params["$filter"] == "name ne 'Messfeld Großer Garten'"
    assert listing.params["$expand"] == "Locations,Datastreams($expand=ObservedProperty,Sensor)"
    assert not observation_requests(server, 12) and not observation_requests(server, 31)


def test_expanded_datastreams_paged_by_the_server_are_all_read(
    store: Store, tmp_path: Path
) -> None:
    with fill(StaFixture(max_top=2, expand_top=1)) as running:
        harvest(store, config(running.url), tmp_path)
        assert running.logged("/Things(1)/Datastreams")  # the rest of Thing 1's Datastreams
    assert sorted(streams(store, "sta-lfulg")) == ["11", "12", "21", "22", "31"]


def test_a_next_link_that_comes_round_again_fails_the_run(tmp_path: Path) -> None:
    with fill(StaFixture(max_top=2)) as running:
        original = running._page

        def looping(path: str, params: dict[str, str], rows: list, expand: Any) -> dict:
            page = original(path, params, rows, expand)
            if path == "/Things":  # always the same next page
                page["@iot.nextLink"] = f"{running.url}/Things?$skip=2&$top=2"
            return page

        running._page = looping  # type: ignore[method-assign]
        store = Store(f"sqlite:///{tmp_path}/loop.sqlite", BASE)
        store.upgrade()
        context = RunContext(config(running.url), BASE, engine=store.engine)
        with pytest.raises(SourceError) as caught:
            list(fetch(context))
        store.engine.dispose()
    assert "@iot.nextLink" in caught.value.message_en and caught.value.message_de


def test_an_answer_that_is_not_sensorthings_fails_the_run(tmp_path: Path) -> None:
    with StaFixture() as running:
        store = Store(f"sqlite:///{tmp_path}/none.sqlite", BASE)
        store.upgrade()
        context = RunContext(config(running.url + "/nirgends"), BASE, engine=store.engine)
        with pytest.raises(SourceError) as caught:
            list(fetch(context))
        store.engine.dispose()
    assert "HTTP 404" in caught.value.message_en


def test_the_example_file_is_valid() -> None:
    found, problems = check_file(EXAMPLE)
    assert found is not None and found.type == "sensorthings", [str(p) for p in problems]
    assert not [p for p in problems if p.severity == "error"]
    assert found.url and found.url.endswith("/v1.1")
    checked = subprocess.run(
        [sys.executable, "-m", "odapp.cli", "harvest", "check", "--offline", str(EXAMPLE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
