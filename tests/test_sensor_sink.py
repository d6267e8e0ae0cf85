"""The sink sensor source types write through: values checked and normalised, every value not
taken recorded with its reason, times without zone read in the source's zone."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.sensors.store import SensorStore
from catalog.sensors.times import iso
from catalog.store import Store
from harvesters.base import SourceConfig, SourceError
from harvesters.sensor_sink import REJECTIONS_KEPT, SensorSink, ValueProblem, number


def config(**options: object) -> SourceConfig:
    return SourceConfig(
        name="umwelt", type="mqtt", organization={"name": "Umweltamt"}, options=dict(options)
    )


@pytest.mark.parametrize(
    ("raw", "value", "normalised"),
    [
        (12, 12.0, False),
        ("12.5", 12.5, False),
        (" -3e2 ", -300.0, False),
        ("12,5", 12.5, True),
        ("1.234,5", 1234.5, True),
    ],
)
def test_numbers(raw: object, value: float, normalised: bool) -> None:
    assert number(raw) == (value, normalised)


@pytest.mark.parametrize("raw", ["n/a", "", "NaN", float("inf"), True, {"v": 1}, "12.5.3"])
def test_not_numbers(raw: object) -> None:
    with pytest.raises(ValueProblem):
        number(raw)


def test_german_files_declare_the_comma() -> None:
    assert number("12,5", decimal_comma=True) == (12.5, False)


def test_sink_records_every_value_it_did_not_take(sqlite_store: Store) -> None:
    sink = SensorSink(sqlite_store.engine, config(timezone="Europe/Berlin"))
    thing = sink.thing("s1", "Station 1", location=[13.7, 51.0])
    ds = sink.datastream(thing, "pm10", "PM10", unit={"symbol": "µg/m³"})
    assert sink.reading(ds, "t:1", "2026-11-21T10:00:00Z", "12.5")
    assert sink.reading(ds, "t:2", "2026-11-21T12:30:00", 13)  # no zone: Berlin, noted
    assert sink.reading(ds, "t:3", "2026-11-21T12:00:00Z", "12,5")  # comma: noted
    assert not sink.reading(ds, "t:4", "2026-11-21T13:00:00Z", "kaputt")
    assert not sink.reading(ds, "t:5", "morgen", 1)
    assert not sink.reading(ds, "t:6", "2026-11-21T14:00:00Z", None)
    for i in range(REJECTIONS_KEPT + 5):  # a flood of bad values: first ones kept, then counted
        sink.reading(ds, f"t:{100 + i}", "2026-11-21T15:00:00Z", "x")
    sink.flush()
    assert sink.counts()["observations"] == 3
    assert sink.counts()["rejected"] == 3 + REJECTIONS_KEPT + 5
    stored = SensorStore(sqlite_store.engine).series(ds)
    assert [iso(r.start) for r in stored][1] == "2026-11-21T11:30:00Z"  # 12:30 CET
    issues = SensorStore(sqlite_store.engine).issues("umwelt", limit=1000)
    codes = [(i["action"], i["code"]) for i in issues]
    assert ("normalised", "no-zone") in codes and ("normalised", "decimal-comma") in codes
    assert ("rejected", "bad-time") in codes and ("rejected", "no-result") in codes
    non_numeric = [i for i in issues if i["code"] == "non-numeric"]
    assert sum(i["count"] for i in non_numeric) == 1 + REJECTIONS_KEPT + 5
    assert any(i["where"] == "t:4" and i["value"] == "kaputt" for i in non_numeric)


def test_unknown_zone_is_a_source_error(sqlite_store: Store) -> None:
    with pytest.raises(SourceError, match="Unknown time zone"):
        SensorSink(sqlite_store.engine, config(timezone="Europe/Dresden"))


def test_the_schedule_prunes_old_raw_readings(sqlite_store: Store, tmp_path: Path) -> None:
    import threading
    import time

    from catalog.sensors.store import Reading
    from catalog.sensors.times import DAY
    from harvesters.schedule import run_schedule

    sink = SensorSink(sqlite_store.engine, config())
    ds = sink.datastream(sink.thing("s1", "Station 1"), "pm10", "PM10")
    now = int(time.time() * 1000)
    sensors = SensorStore(sqlite_store.engine)
    sensors.ingest("umwelt", [Reading(ds, now - d * DAY, float(d)) for d in range(10)])
    stop = threading.Event()
    (tmp_path / "sources").mkdir()
    worker = threading.Thread(
        target=run_schedule,
        args=(sqlite_store, tmp_path / "sources", tmp_path / "files", "http://odapp.test"),
        kwargs={"stop": stop, "poll": 0.5, "retention_days": 3},
    )
    worker.start()
    deadline = time.monotonic() + 20
    while len(sensors.series(ds)) > 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.set()
    worker.join(20)
    assert [r.value for r in sensors.series(ds)] == [2.0, 1.0, 0.0]
    assert sum(r.count for r in sensors.series(ds, resolution="day")) == 10  # kept


def test_a_sources_issues_over_http(sqlite_store: Store) -> None:
    from odapp.app import create_app
    from odapp.settings import Settings

    sink = SensorSink(sqlite_store.engine, config())
    ds = sink.datastream(sink.thing("s1", "Station 1"), "pm10", "PM10")
    sink.reading(ds, "dresden/umwelt/s1/pm10", "2026-11-21T10:00:00Z", "hoch")
    sink.flush()
    client = create_app(
        Settings(database_url=sqlite_store.database_url), sqlite_store
    ).test_client()
    body = client.get("/api/harvest/sources/umwelt/issues").get_json()
    [issue] = body["issues"]
    assert issue["where"] == "dresden/umwelt/s1/pm10" and issue["value"] == "hoch"
    assert "keine Zahl" in issue["message_de"] and "not a number" in issue["message_en"]
    assert client.get("/api/harvest/sources/andere/issues").get_json()["issues"] == []
    bad = client.get("/api/harvest/sources/umwelt/issues?limit=viele")
    assert bad.status_code == 400 and "limit" in bad.get_data(as_text=True)
