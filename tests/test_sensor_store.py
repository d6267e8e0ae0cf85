"""The sensor store on both backends: exactly-once ingest, recorded duplicates and conflicts,
aggregates that equal what the readings say, local days across daylight saving, retention that
keeps the aggregates, and the catalogue dataset of a Thing."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from catalog.sensors.catalogue import thing_datasets
from catalog.sensors.store import Reading, SensorStore
from catalog.sensors.times import DAY, HOUR, DayBuckets, iso, parse_time, to_ms
from catalog.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
T0 = to_ms(datetime(2019, 3, 30, 0, 0, tzinfo=UTC))


def station(sensors: SensorStore, key: str = "nord") -> tuple[int, int]:
    thing = sensors.thing("luft", key, f"Dresden-{key}", location=(13.74, 51.06))
    prop = sensors.observed_property("NO2", "urn:test:no2")
    sensor = sensors.sensor("Chemilumineszenz")
    ds = sensors.datastream(
        thing,
        "no2",
        "NO2",
        observed_property_id=prop,
        sensor_id=sensor,
        unit={"symbol": "µg/m³", "name": "Mikrogramm je Kubikmeter"},
    )
    return thing, ds


def test_definitions_are_upserted_once(store: Store) -> None:
    sensors = SensorStore(store.engine)
    thing, ds = station(sensors)
    assert station(SensorStore(store.engine)) == (thing, ds)  # a fresh process finds them
    moved = sensors.thing("luft", "nord", "Dresden-nord", location=(13.75, 51.07))
    assert moved == thing
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT lon, lat FROM sensor_things")).one() == (13.75, 51.07)
        assert conn.execute(text("SELECT count(*) FROM sensor_datastreams")).scalar() == 1


def test_ingest_is_exactly_once_and_records_what_it_did_not_take(store: Store) -> None:
    sensors = SensorStore(store.engine)
    _, ds = station(sensors)
    readings = [Reading(ds, T0 + i * 60_000, float(i % 97)) for i in range(5000)]
    first = sensors.ingest("luft", readings)
    assert (first.inserted, first.duplicates, first.conflicts) == (5000, 0, 0)
    # the same batch again plus one new reading and one other value for a stored time
    again = sensors.ingest(
        "luft",
        readings[:100] + [Reading(ds, T0 - 60_000, 1.0), Reading(ds, readings[7].start, 123.0)],
    )
    assert (again.inserted, again.duplicates, again.conflicts) == (1, 100, 1)
    with store.engine.connect() as conn:
        n, distinct = conn.execute(
            text("SELECT count(*), count(DISTINCT phenomenon_start) FROM sensor_observations")
        ).one()
    assert n == distinct == 5001
    kept = sensors.series(ds, start=readings[7].start, end=readings[7].start)
    assert [r.value for r in kept] == [7.0]  # the first value stays
    issues = {i["code"]: i for i in sensors.issues("luft")}
    assert issues["duplicate"]["count"] == 100
    assert issues["conflict"]["value"] == "123.0"
    assert "7.0" in issues["conflict"]["message_en"]


def test_duplicates_inside_one_batch_are_stored_once(store: Store) -> None:
    sensors = SensorStore(store.engine)
    _, ds = station(sensors)
    result = sensors.ingest("luft", [Reading(ds, T0, 1.0), Reading(ds, T0, 1.0)])
    assert (result.inserted, result.duplicates) == (1, 1)


def test_aggregates_equal_the_readings(store: Store) -> None:
    sensors = SensorStore(store.engine)
    _, ds = station(sensors)
    rng = random.Random(6)
    readings = [Reading(ds, T0 + i * 600_000, round(rng.uniform(-5, 80), 2)) for i in range(900)]
    rng.shuffle(readings)
    for i in range(0, len(readings), 70):  # many batches, out of order
        sensors.ingest("luft", readings[i : i + 70])
    days = DayBuckets(BERLIN)
    for resolution, bucket_of in (
        ("hour", lambda ms: ms - ms % HOUR),
        ("day", lambda ms: days.bucket(ms)[0]),
    ):
        expected: dict[int, list[float]] = {}
        for r in readings:
            expected.setdefault(bucket_of(r.start), []).append(r.result)  # type: ignore[arg-type]
        rows = sensors.series(ds, resolution=resolution)
        assert [row.start for row in rows] == sorted(expected)
        for row in rows:
            values = expected[row.start]
            assert row.count == len(values)
            assert row.minimum == min(values) and row.maximum == max(values)
            assert row.value == pytest.approx(statistics.fmean(values))


def test_local_days_have_23_and_25_hours() -> None:
    days = DayBuckets(BERLIN)
    spring = parse_time("2019-03-31T12:00:00+02:00")[0]
    start, end = days.bucket(spring)
    assert iso(start) == "2019-03-30T23:00:00Z" and end - start == 23 * HOUR
    autumn = parse_time("2019-10-27T12:00:00+01:00")[0]
    start, end = days.bucket(autumn)
    assert iso(start) == "2019-10-26T22:00:00Z" and end - start == 25 * HOUR
    # just before local midnight in winter belongs to that day
    late = parse_time("2019-02-01T23:59:00+01:00")[0]
    assert iso(days.bucket(late)[0]) == "2019-01-31T23:00:00Z"


def test_prune_keeps_aggregates_and_newest_values(store: Store) -> None:
    sensors = SensorStore(store.engine)
    _, ds = station(sensors)
    sensors.ingest("luft", [Reading(ds, T0 + i * HOUR, float(i)) for i in range(72)])
    removed = sensors.prune(T0 + 2 * DAY)
    assert removed == 48
    assert len(sensors.series(ds)) == 24
    assert len(sensors.series(ds, resolution="hour")) == 72  # kept for ever
    assert sum(r.count for r in sensors.series(ds, resolution="day")) == 72
    assert sensors.newest(ds) == T0 + 71 * HOUR
    with store.engine.connect() as conn:
        count = conn.execute(text("SELECT observation_count FROM sensor_datastreams")).scalar()
    assert count == 24


def test_newest_value_follows_the_latest_time_not_the_latest_write(store: Store) -> None:
    sensors = SensorStore(store.engine)
    _, ds = station(sensors)
    sensors.ingest("luft", [Reading(ds, T0 + HOUR, 5.0)])
    sensors.ingest("luft", [Reading(ds, T0, 9.0)])  # late reading of an earlier hour
    with store.engine.connect() as conn:
        last, value, first = conn.execute(
            text("SELECT last_time, last_result, first_time FROM sensor_datastreams")
        ).one()
    assert (last, value, first) == (T0 + HOUR, 5.0, T0)


def test_thing_dataset_follows_the_newest_observation(store: Store) -> None:
    sensors = SensorStore(store.engine)
    thing, ds = station(sensors)
    sensors.ingest("luft", [Reading(ds, T0 + i * HOUR, 1.0, T0 + (i + 1) * HOUR) for i in range(5)])
    [made] = thing_datasets(store.engine, "luft", "http://odapp.test")
    record = made.record
    assert made.thing_id == thing
    assert record.modified == iso(T0 + 4 * HOUR)
    assert record.temporal[0].start == iso(T0)
    assert record.temporal[0].end == iso(T0 + 5 * HOUR)
    assert record.identifier == [f"http://odapp.test/sta/v1.1/Things({thing})"]
    assert record.spatial[0].geometry == "POINT (13.74 51.06)"
    access = [d.access_urls[0] for d in record.distributions]
    assert f"http://odapp.test/sta/v1.1/Things({thing})" in access
    assert any(u.endswith(f"/sensors/things/{thing}/observations.csv") for u in access)
    sensors.ingest("luft", [Reading(ds, T0 + 9 * HOUR, 2.0)])
    [later] = thing_datasets(store.engine, "luft", "http://odapp.test")
    assert later.record.modified == iso(T0 + 9 * HOUR)


def test_time_parsing_names_what_is_wrong() -> None:
    assert parse_time("2019-02-01T01:00:00+01:00")[:2] == (
        to_ms(datetime(2019, 2, 1, 0, tzinfo=UTC)),
        None,
    )
    start, end, assumed = parse_time("2019-02-01T00:00:00Z/2019-02-01T01:00:00Z")
    assert end - start == HOUR and not assumed
    start, _, assumed = parse_time("2019-07-01T12:00:00", assume=BERLIN)
    assert assumed and iso(start) == "2019-07-01T10:00:00Z"
    with pytest.raises(ValueError, match="no time zone"):
        parse_time("2019-07-01T12:00:00")
    with pytest.raises(ValueError, match="not an ISO 8601"):
        parse_time("gestern")
    with pytest.raises(ValueError, match="ends before"):
        parse_time("2019-02-01T02:00:00Z/2019-02-01T01:00:00Z")


def test_corrected_values_replace_and_recompute_the_aggregates(store: Store) -> None:
    sensors = SensorStore(store.engine)
    _, ds = station(sensors)
    sensors.ingest("luft", [Reading(ds, T0 + i * 600_000, 10.0) for i in range(12)])  # 2 hours
    # the validated data: one value corrected, one the same, the newest corrected too
    fixed = [
        Reading(ds, T0 + 600_000, 40.0),
        Reading(ds, T0 + 1_200_000, 10.0),
        Reading(ds, T0 + 11 * 600_000, 4.0),
    ]
    kept = sensors.ingest("luft", fixed)  # default: the first value stays
    assert (kept.conflicts, kept.duplicates) == (2, 1)
    assert sensors.series(ds, resolution="hour")[0].maximum == 10.0
    done = sensors.ingest("luft", fixed, replace=True)
    assert done.conflicts == 2
    values = [r.value for r in sensors.series(ds)]
    assert values[1] == 40.0 and values[11] == 4.0 and values.count(10.0) == 10
    first, second = sensors.series(ds, resolution="hour")
    assert (first.count, first.minimum, first.maximum) == (6, 10.0, 40.0)
    assert first.value == pytest.approx(15.0)
    assert (second.minimum, second.value) == (4.0, pytest.approx(9.0))
    [day] = sensors.series(ds, resolution="day")
    assert day.count == 12 and day.value == pytest.approx((10 * 10 + 40 + 4) / 12)
    with store.engine.connect() as conn:
        last = conn.execute(text("SELECT last_result FROM sensor_datastreams")).scalar()
    assert last == 4.0
    corrected = [i for i in sensors.issues("luft") if i["code"] == "corrected"]
    assert len(corrected) == 2 and any("10.0 → 40.0" in i["message_en"] for i in corrected)


def test_input_older_than_retention_is_refused_with_its_reason(store: Store) -> None:
    sensors = SensorStore(store.engine)
    _, ds = station(sensors)
    sensors.ingest("luft", [Reading(ds, T0 + i * HOUR, 10.0) for i in range(48)])
    sensors.prune(T0 + DAY)
    # a redelivered old reading would count twice in the hourly value: refused instead
    late = sensors.ingest("luft", [Reading(ds, T0 + 5 * HOUR, 10.0), Reading(ds, T0, 99.0)])
    assert late.inserted == 0
    assert sensors.series(ds, resolution="hour")[5].count == 1
    assert sensors.series(ds, resolution="hour")[0].maximum == 10.0
    [issue] = [i for i in sensors.issues("luft") if i["code"] == "older-than-retention"]
    assert issue["count"] == 2 and "retention" in issue["message_en"]
    fresh = sensors.ingest("luft", [Reading(ds, T0 + 30 * HOUR, 12.0)], replace=True)
    assert fresh.conflicts == 1 and sensors.series(ds, start=T0 + 30 * HOUR)[0].value == 12.0
