"""One ODApp harvests another's SensorThings API: a real `odapp serve` process serves
/sta/v1.1/, this process harvests it with the `sensorthings` source type, incrementally."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from catalog.harvest_state import HarvestLedger
from catalog.schema import SensorDatastream, SensorThing
from catalog.sensors.store import Reading, SensorStore
from catalog.sensors.times import HOUR, iso, parse_time
from catalog.store import Store
from harvesters.base import Defaults, SourceConfig
from harvesters.run import run_source
from tests.conftest import Server

START = parse_time("2026-11-01T00:00:00Z")[0]


def fill(url: str, hours: range) -> None:
    """Two stations with two series each, hourly means with interval times."""
    remote = SensorStore(Store(url).engine)
    for n, (key, name, where) in enumerate(
        [
            ("nord", "Dresden-Nord", (13.741, 51.065)),
            ("berg", "Dresden-Bergstraße", (13.73, 51.028)),
        ]
    ):
        thing = remote.thing("luftnetz", key, name, location=where, description=f"Station {name}")
        sensor = remote.sensor("Messgerät")
        for code, unit in (("NO2", "µg/m³"), ("TEMP", "°C")):
            prop = remote.observed_property(code, f"urn:test:{code.lower()}")
            ds = remote.datastream(
                thing,
                code,
                code,
                observed_property_id=prop,
                sensor_id=sensor,
                unit={"symbol": unit},
            )
            remote.ingest(
                "luftnetz",
                [
                    Reading(ds, START + h * HOUR, float(h + n), START + (h + 1) * HOUR)
                    for h in hours
                ],
            )


def config(url: str) -> SourceConfig:
    return SourceConfig(
        name="nachbar",
        type="sensorthings",
        organization={"name": "Nachbarkommune"},
        url=url,
        defaults=Defaults(license="http://dcat-ap.de/def/licenses/dl-by-de/2.0"),
        options={"page_size": 50},
    )


def test_odapp_harvests_odapp(
    server_factory: Callable[..., Server], store: Store, tmp_path: Path
) -> None:
    server = server_factory()
    server.odapp("db", "upgrade")
    fill(server.env["ODAPP_DATABASE_URL"], range(0, 120))
    server.start()
    source = config(f"{server.url}/sta/v1.1")

    first = run_source(store, source, files_dir=tmp_path / "files")
    assert first.status == "succeeded", first.error or first.errors
    assert first.counts["new"] == 2 and first.counts["observations"] == 2 * 2 * 120

    local = SensorStore(store.engine)
    with store.engine.connect() as conn:
        things = {t.name: t for t in conn.execute(select(SensorThing))}
        streams = conn.execute(select(SensorDatastream)).all()
    assert set(things) == {"Dresden-Nord", "Dresden-Bergstraße"}
    assert (things["Dresden-Nord"].lon, things["Dresden-Nord"].lat) == (13.741, 51.065)
    assert {s.unit_symbol for s in streams} == {"µg/m³", "°C"}
    nord_no2 = next(
        s for s in streams if s.thing_id == things["Dresden-Nord"].id and s.name == "NO2"
    )
    series = local.series(nord_no2.id)
    assert [r.value for r in series] == [float(h) for h in range(120)]
    assert (series[5].start, series[5].end) == (START + 5 * HOUR, START + 6 * HOUR)

    # the catalogue dataset of each remote Thing follows its newest reading
    uri = HarvestLedger(store).records("nachbar")[things["Dresden-Nord"].source_key].resource_uri
    record = store.get(uri).record
    assert record.modified == iso(START + 119 * HOUR)
    assert record.temporal[0].end == iso(START + 120 * HOUR)

    # new readings at the source: the next run fetches only those
    fill(server.env["ODAPP_DATABASE_URL"], range(120, 130))
    again = run_source(store, source, files_dir=tmp_path / "files")
    assert again.status == "succeeded", again.error or again.errors
    assert again.counts["observations"] == 2 * 2 * 10
    assert again.counts["duplicates"] == 0  # asked only for what is newer
    assert again.counts["changed"] == 2
    assert len(local.series(nord_no2.id)) == 130
    assert store.get(uri).record.modified == iso(START + 129 * HOUR)

    nothing = run_source(store, source, files_dir=tmp_path / "files")
    assert nothing.counts["observations"] == 0 and nothing.counts["unchanged"] == 2
