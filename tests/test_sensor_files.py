"""The ``timeseries-files`` source type: the three real LfULG air-quality files become three
stations with every non-empty cell stored once at its exact UTC interval, daily values as local
days, proper units and one catalogue dataset each; unchanged files are not read again and a
grown file adds only its new rows; both clock changes of a year are read without gap or
duplicate; bad cells, dates and repeated rows are recorded with file and line."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select

from catalog.harvest_state import HarvestLedger
from catalog.schema import SensorDatastream, SensorObservedProperty, SensorThing
from catalog.sensors.store import SensorStore
from catalog.sensors.times import HOUR, iso, parse_instant
from catalog.store import Store
from harvesters import config as harvest_config
from harvesters.base import SourceConfig
from harvesters.config import load_source
from harvesters.run import JobResult, run_source
from harvesters.sources import timeseries_files
from harvesters.sources.timeseries_files import station_from_name, unit_of
from harvesters.sources.timeseries_table import Problem, Row, read_table
from tests.conftest import BASE, REFERENCE, ROOT

DRESDEN = REFERENCE / "dresden-data"
LUFT = sorted(DRESDEN.glob("luft_2019-02_*.csv"))
FIXTURES = ROOT / "tests" / "fixtures" / "sensors"
DST_FILE = FIXTURES / "luft_2019-dst_Teststation.csv"
BAD_FILE = FIXTURES / "messwerte_2024-01_Testpunkt-Sued.csv"
EXAMPLE = ROOT / "config" / "harvesters" / "examples" / "timeseries-files.yaml"
BERLIN = ZoneInfo("Europe/Berlin")
UCUM = "http://unitsofmeasure.org/ucum.html#"


def source_file(tmp_path: Path, folder: Path, name: str = "luft", options: str = "") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"name: {name}\n"
        "type: timeseries-files\n"
        "organization: {name: LfULG}\n"
        f"folder: {folder}\n"
        "defaults: {license: dl-by-de/2.0}\n"
        "options:\n  frequency: HOURLY\n" + options,
        encoding="utf-8",
    )
    return path


def harvest(store: Store, config: SourceConfig, tmp_path: Path) -> JobResult:
    result = run_source(store, config, files_dir=tmp_path / "files", base_url=BASE)
    assert result.status == "succeeded", result.summary()
    return result


def copy(files: list[Path], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copy(path, folder / path.name)
    return folder


def non_empty_cells(path: Path) -> int:
    """Counted with csv alone: every non-empty value cell below the header and units row."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[1][:2] == ["yyyy-mm-dd", "hh:mm"]  # the units row
    cells = [c for row in rows[2:] for c in row[2:] if c.strip()]
    assert all(float(c) == float(c) for c in cells)  # all numeric: none to reject
    return len(cells)


def streams(store: Store, source: str) -> dict[tuple[str, str], Any]:
    """(station key, datastream key) -> the datastream row with its observed property."""
    t, d, p = SensorThing, SensorDatastream, SensorObservedProperty
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                t.source_key.label("thing"),
                t.name.label("thing_name"),
                t.lon,
                t.lat,
                t.dataset_uri,
                d,
                p.name.label("property"),
                p.definition,
            )
            .join(d, d.thing_id == t.id)
            .join(p, p.id == d.observed_property_id)
            .where(t.source == source)
        ).all()
    return {(r.thing, r.source_key): r for r in rows}


def ms(text: str) -> int:
    return parse_instant(text)[0]


def issues(store: Store, source: str) -> list[dict[str, Any]]:
    return SensorStore(store.engine).issues(source, limit=1000)


# --- the real LfULG files ------------------------------------------------------------------


def test_real_air_quality_files(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = copy(LUFT, tmp_path / "luft")
    config = load_source(source_file(tmp_path, folder))
    parsed: list[str] = []
    real_read = timeseries_files.read_table

    def counting_read(name: str, data: bytes, **kwargs: Any) -> Any:
        parsed.append(name)
        return real_read(name, data, **kwargs)

    monkeypatch.setattr(timeseries_files, "read_table", counting_read)
    started = time.perf_counter()
    first = harvest(store, config, tmp_path)
    first_seconds = time.perf_counter() - started
    assert first.counts["new"] == 3 and first.counts["failed"] == 0
    assert sorted(parsed) == [p.name for p in LUFT]
    expected = {station_from_name(p.name): non_empty_cells(p) for p in LUFT}
    assert set(expected) == {"Dresden-Nord", "Dresden-Bergstrasse", "Dresden-Winckelmannstr"}
    found = streams(store, "luft")
    per_station = {key: 0 for key in expected}
    for (thing, _), row in found.items():
        per_station[thing] += row.observation_count
    assert per_station == expected
    assert first.counts["observations"] == sum(expected.values())
    assert first.counts["rejected"] == first.counts["duplicates"] == 0
    sensors = SensorStore(store.engine)
    # each observation row really stored: counted through the series, not the counter
    for (thing, key), row in found.items():
        assert len(sensors.series(row.id)) == row.observation_count, (thing, key)

    # a known value at its exact interval: "01:00" on 1 Feb (CET) is 00:00–01:00 local
    no2 = found[("Dresden-Nord", "NO2")]
    first_no2 = sensors.series(no2.id, limit=1)[0]
    assert (iso(first_no2.start), iso(first_no2.end), first_no2.value) == (
        "2019-01-31T23:00:00Z",
        "2019-02-01T00:00:00Z",
        13.0,
    )
    assert no2.property == "Stickstoffdioxid" and no2.definition.endswith("/pollutant/8")
    assert (no2.unit_symbol, no2.unit_definition) == ("µg/m³", UCUM + "ug/m3")
    # "2019-03-01 00:00" closes 28 Feb: the last hour ends at 23:00 UTC
    last = sensors.series(no2.id, descending=True, limit=1)[0]
    assert (iso(last.start), iso(last.end), last.value) == (
        "2019-02-28T22:00:00Z",
        "2019-02-28T23:00:00Z",
        50.0,
    )
    # daily values (empty "Zeit"): the local day as the interval, in their own datastream
    daily = found[("Dresden-Nord", "PM10_HVS-daily")]
    assert daily.name == "PM10_HVS (Tageswert)" and ("Dresden-Nord", "PM10_HVS") not in found
    day = sensors.series(daily.id, limit=1)[0]
    assert (iso(day.start), iso(day.end), day.value) == (
        "2019-01-31T23:00:00Z",
        "2019-02-01T23:00:00Z",
        28.05,
    )
    assert daily.observation_count == 14
    assert found[("Dresden-Nord", "PM2.5-daily")].property == "Feinstaub PM2,5"
    # units from the units row, mapped to proper symbols and UCUM codes
    units = {
        key: (r.unit_symbol, r.unit_definition)
        for (t, key), r in found.items()
        if t == "Dresden-Nord"
    }
    assert units["TEMP"] == ("°C", UCUM + "Cel")
    assert units["FEUCHT"] == ("%", UCUM + "%25")
    assert units["WINDGE"] == ("m/s", UCUM + "m/s")
    assert units["WINDRI"] == ("°", UCUM + "deg")
    assert units["STRAHL"] == ("W/m²", UCUM + "W/m2")
    assert units["DRUCK"] == ("hPa", UCUM + "hPa")
    properties = {key: r.property for (t, key), r in found.items() if t == "Dresden-Nord"}
    assert properties["PM10_TEOM"] == properties["PM10_HVS-daily"] == "Feinstaub PM10"
    assert properties["RUSS_PM1"] == "Ruß (PM1)" and properties["WINDRI"] == "Windrichtung"
    assert found[("Dresden-Nord", "PM10_TEOM")].sensor_id != daily.sensor_id  # TEOM vs HVS

    # one catalogue dataset per station: coverage and dct:modified from the data
    records = HarvestLedger(store).records("luft")
    assert set(records) == set(expected)
    for key, state in records.items():
        dataset = store.get(state.resource_uri).record
        assert dataset.title["de"] == f"{key}: Messwerte"
        assert [(p.start, p.end) for p in dataset.temporal] == [
            ("2019-01-31T23:00:00Z", "2019-02-28T23:00:00Z")
        ]
        newest = max(r.last_time for (t, _), r in found.items() if t == key)
        assert dataset.modified == iso(newest) == "2019-02-28T22:00:00Z"
        assert all(r.dataset_uri == state.resource_uri for (t, _), r in found.items() if t == key)

    # unchanged files: not parsed, nothing stored, every dataset still there
    parsed.clear()
    started = time.perf_counter()
    again = harvest(store, config, tmp_path)
    assert time.perf_counter() - started < first_seconds
    assert parsed == []
    assert again.counts["unchanged"] == 3 and again.counts["withdrawn"] == 0
    assert again.counts["observations"] == again.counts["duplicates"] == 0
    for state in records.values():  # store.get raises for a withdrawn dataset
        assert store.get(state.resource_uri).record.temporal

    # the export grows by three hours and a daily value: only those are added
    nord = folder / "luft_2019-02_Dresden-Nord.csv"
    added = [
        "2019-03-01,,,,,,,,30.00,,20.00,,,,,,",
        "2019-03-01,01:00,1.3,1012,71.0,8,45,26,,60,,1.50,,0,8.8,0.6,270",
        "2019-03-01,02:00,1.2,1012,72.5,7,41,27,,58,,1.40,,0,8.5,0.8,265",
        "2019-03-01,03:00,1.2,1011,73.0,6,40,28,,55,,1.30,,0,8.1,1.0,260",
    ]
    with nord.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(added) + "\n")
    grown = harvest(store, config, tmp_path)
    assert parsed == [nord.name]
    new_cells = sum(1 for line in added for c in line.split(",")[2:] if c)
    assert grown.counts["observations"] == new_cells
    assert grown.counts["duplicates"] == grown.counts["conflicts"] == 0
    assert grown.counts["rejected"] == 0
    assert (grown.counts["changed"], grown.counts["unchanged"]) == (1, 2)
    assert not issues(store, "luft")
    dataset = store.get(records["Dresden-Nord"].resource_uri).record
    assert dataset.temporal[0].end == "2019-03-01T23:00:00Z"  # the daily value of 1 March
    assert dataset.modified == "2019-03-01T01:00:00Z"
    assert sensors.series(no2.id, descending=True, limit=1)[0].value == 40.0


def test_example_source_names_and_places_the_stations(sqlite_store: Store, tmp_path: Path) -> None:
    config, found = harvest_config.check_file(EXAMPLE)
    assert config is not None and not [p for p in found if p.severity == "error"], found
    result = subprocess.run(
        [sys.executable, "-m", "odapp.cli", "harvest", "check", "--offline", str(EXAMPLE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "timeseries-files" in result.stdout
    harvest(sqlite_store, config, tmp_path)
    found = streams(sqlite_store, config.name)
    berg = found[("Dresden-Bergstrasse", "NO2")]
    assert (berg.thing_name, berg.lon, berg.lat) == ("Dresden-Bergstraße", 13.731, 51.029)
    temp = found[("Dresden-Nord", "TEMP")]
    assert temp.name == "Lufttemperatur (2 m)" and temp.unit_symbol == "°C"


# --- daylight saving time ------------------------------------------------------------------


def test_both_clock_changes(store: Store, tmp_path: Path) -> None:
    folder = copy([DST_FILE], tmp_path / "dst")
    config = load_source(source_file(tmp_path, folder, "dst"))
    result = harvest(store, config, tmp_path)
    found = streams(store, "dst")
    sensors = SensorStore(store.engine)
    no2 = sensors.series(found[("Teststation", "NO2")].id)
    spring = [r for r in no2 if r.start < ms("2019-06-01T00:00:00Z")]
    autumn = [r for r in no2 if r.start >= ms("2019-06-01T00:00:00Z")]
    for block, first, hours in (
        (spring, "2019-03-29T23:00:00Z", 71),  # 24 + 23 + 24 rows: the day has 23 hours
        (autumn, "2019-10-25T22:00:00Z", 73),  # 24 + 25 + 24 rows: the day has 25 hours
    ):
        assert len(block) == hours
        assert iso(block[0].start) == first
        # consecutive UTC hours: no gap, no overlap, no duplicate
        assert all(r.end == r.start + HOUR for r in block)
        assert all(b.start == a.end for a, b in zip(block, block[1:], strict=False))
        # the values are the row numbers: none lost, none twice, in file order
        values = [int(r.value or 0) for r in block]
        assert values == sorted(values) and len(set(values)) == len(values)
    by_value = {int(r.value or 0): (iso(r.start), iso(r.end)) for r in no2}
    # spring: "01:00" and "03:00" on 31 March are consecutive hours
    assert by_value[25] == ("2019-03-30T23:00:00Z", "2019-03-31T00:00:00Z")
    assert by_value[27] == ("2019-03-31T00:00:00Z", "2019-03-31T01:00:00Z")
    assert 26 not in by_value  # the nonexistent "02:00"
    # autumn: "02:00" twice, first summer time, then winter time
    assert by_value[98] == ("2019-10-26T23:00:00Z", "2019-10-27T00:00:00Z")
    assert by_value[99] == ("2019-10-27T00:00:00Z", "2019-10-27T01:00:00Z")
    assert by_value[100] == ("2019-10-27T01:00:00Z", "2019-10-27T02:00:00Z")
    # the nonexistent hour is rejected with its reason, file and line
    assert result.counts["rejected"] == 1 and result.counts["duplicates"] == 0
    [issue] = issues(store, "dst")
    assert issue["code"] == "nonexistent-time" and issue["action"] == "rejected"
    assert issue["where"] == f"{DST_FILE.name}:30"
    assert "31.03.2019 02:00" in issue["message_de"] and "Sommerzeit" in issue["message_de"]
    assert "does not exist" in issue["message_en"]
    # daily values: the local day, 23 and 25 hours long on the days the clocks change
    days = {
        iso(r.start): (r.end or 0) - r.start
        for r in sensors.series(found[("Teststation", "PM10_HVS-daily")].id)
    }
    assert days["2019-03-30T23:00:00Z"] == 23 * HOUR  # 31 March
    assert days["2019-10-26T22:00:00Z"] == 25 * HOUR  # 27 October
    assert days["2019-03-29T23:00:00Z"] == days["2019-10-27T23:00:00Z"] == 24 * HOUR


def test_clock_changes_read_the_same_from_xlsx(sqlite_store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "xlsx"
    folder.mkdir()
    book = openpyxl.Workbook()
    sheet = book.active
    with DST_FILE.open(encoding="utf-8") as fh:
        for n, row in enumerate(csv.reader(fh)):
            if n < 2:
                sheet.append(row)  # header and units row as text
                continue
            day = dt.date.fromisoformat(row[0])
            clock = dt.time.fromisoformat(row[1]) if row[1] else None
            values = [float(v) if v else None for v in row[2:]]
            sheet.append([day, clock, *values])
    book.save(folder / "luft_2019-dst_Teststation.xlsx")
    from_xlsx = load_source(source_file(tmp_path, folder, "dst-xlsx"))
    from_csv = load_source(source_file(tmp_path, copy([DST_FILE], tmp_path / "csv"), "dst-csv"))
    harvest(sqlite_store, from_xlsx, tmp_path)
    harvest(sqlite_store, from_csv, tmp_path)
    sensors = SensorStore(sqlite_store.engine)
    xlsx, csv_ = streams(sqlite_store, "dst-xlsx"), streams(sqlite_store, "dst-csv")
    assert set(xlsx) == set(csv_) and len(xlsx) == 3
    for key in xlsx:
        a = [(r.start, r.end, r.value) for r in sensors.series(xlsx[key].id)]
        b = [(r.start, r.end, r.value) for r in sensors.series(csv_[key].id)]
        assert a == b and a, key
    assert [i["where"] for i in issues(sqlite_store, "dst-xlsx")] == [
        "luft_2019-dst_Teststation.xlsx:30"
    ]


# --- bad input -----------------------------------------------------------------------------


def test_bad_cells_dates_and_repeated_rows_are_recorded(store: Store, tmp_path: Path) -> None:
    folder = copy([BAD_FILE], tmp_path / "bad")
    config = load_source(source_file(tmp_path, folder, "bad"))
    result = harvest(store, config, tmp_path)  # rejected values do not fail the run
    name = BAD_FILE.name
    found = streams(store, "bad")
    sensors = SensorStore(store.engine)
    no2 = found[("Testpunkt-Sued", "NO2")]
    temp = found[("Testpunkt-Sued", "TEMP")]
    assert (no2.unit_symbol, temp.unit_symbol) == ("µg/m³", "°C")  # read from Windows-1252
    stored_no2 = {iso(r.end): r.value for r in sensors.series(no2.id)}
    assert stored_no2 == {
        "2024-01-01T00:00:00Z": 12.0,
        "2024-01-01T05:00:00Z": 14.0,  # the first 06:00 row wins
        "2024-01-01T23:00:00Z": 16.0,  # "24:00" is midnight at the end of the day
    }
    stored_temp = [r.value for r in sensors.series(temp.id)]
    assert stored_temp == [1.5, 1.4, 1.3, 1.2, 1.0, 0.9, 0.8]  # decimal commas
    by_code: dict[str, list[dict[str, Any]]] = {}
    for issue in issues(store, "bad"):
        by_code.setdefault(issue["code"], []).append(issue)
    assert sorted(i["where"] for i in by_code["non-numeric"]) == [
        f"{name}:4 [NO2]",
        f"{name}:5 [NO2]",
    ]
    assert {i["value"] for i in by_code["non-numeric"]} == {"n/a", "-"}
    [censored] = by_code["censored"]
    assert censored["where"] == f"{name}:6 [NO2]" and "Nachweis" in censored["message_de"]
    [bad_date] = by_code["bad-time"]
    assert bad_date["where"] == f"{name}:7" and bad_date["value"] == "32.01.2024 05:00"
    [conflict] = by_code["conflict"]
    assert conflict["where"] == f"{name}:9 [NO2]" and conflict["value"] == "15"
    assert "Zeile 8" in conflict["message_de"] and "line 8" in conflict["message_en"]
    assert "14" in conflict["message_de"]
    [duplicate] = by_code["duplicate"]  # the same TEMP again: counted by the store
    assert duplicate["datastream_id"] == temp.id and duplicate["count"] == 1
    assert set(by_code) == {"non-numeric", "censored", "bad-time", "conflict", "duplicate"}
    assert result.counts["observations"] == 3 + 7
    assert result.counts["duplicates"] == 1 and result.counts["rejected"] == 5


def test_a_file_that_cannot_be_read_fails_alone(store: Store, tmp_path: Path) -> None:
    folder = copy(LUFT[:1], tmp_path / "mixed")
    (folder / "luft_2019-02_Kaputt.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    config = load_source(source_file(tmp_path, folder, "mixed"))
    result = run_source(store, config, files_dir=tmp_path / "files", base_url=BASE)
    assert result.status == "partial"
    assert result.counts["new"] == 1 and result.counts["failed"] == 1
    assert result.errors[0]["where"] == "luft_2019-02_Kaputt.xlsx"
    assert "XLSX" in result.errors[0]["message_de"]


# --- reading tables (no store) -------------------------------------------------------------


def rows_of(text: str, name: str = "t.csv", **options: Any) -> tuple[Any, list[Row | Problem]]:
    table = read_table(name, text.encode("utf-8"), zone=BERLIN, **options)
    return table, list(table.rows)


def test_start_labels_german_dates_and_inferred_interval() -> None:
    table, rows = rows_of(
        "Messstelle Süd\nDatum;Uhrzeit;NO2 [µg/m³]\n"
        "27.10.2019;01:45;1,5\n27.10.2019;02:00;2\n27.10.2019;02:15;3\n"
        "27.10.2019;02:00;4\n27.10.2019;02:15;5\n",
        time_label="start",
    )
    assert (table.delimiter, table.decimal_comma, table.interval_minutes) == (";", True, 15)
    assert table.header_line == 2 and table.columns[0].unit == "µg/m³"
    assert [(iso(r.start), iso(r.end)) for r in rows if isinstance(r, Row)] == [
        ("2019-10-26T23:45:00Z", "2019-10-27T00:00:00Z"),
        ("2019-10-27T00:00:00Z", "2019-10-27T00:15:00Z"),
        ("2019-10-27T00:15:00Z", "2019-10-27T00:30:00Z"),
        ("2019-10-27T01:00:00Z", "2019-10-27T01:15:00Z"),  # 02:00 again: winter time
        ("2019-10-27T01:15:00Z", "2019-10-27T01:30:00Z"),
    ]


def test_newest_first_files_read_the_repeated_hour_the_other_way_round() -> None:
    _, rows = rows_of(
        "Datum,Zeit,NO2\n2019-10-27,03:00,4\n2019-10-27,02:00,3\n"
        "2019-10-27,02:00,2\n2019-10-27,01:00,1\n"
    )
    assert [iso(r.end) for r in rows if isinstance(r, Row)] == [
        "2019-10-27T02:00:00Z",
        "2019-10-27T01:00:00Z",  # first in the file: the later, winter-time "02:00"
        "2019-10-27T00:00:00Z",
        "2019-10-26T23:00:00Z",
    ]


def test_one_date_time_column_with_zone_and_24_00() -> None:
    _, rows = rows_of(
        "Zeitpunkt,Wert\n2024-01-01T23:00:00Z,1\n2024-01-02 01:00,2\n02.01.2024 24:00,3\n"
        "2024-01-03,4\n2024-01-03 02:00,2\n",
        interval_minutes=60,
    )
    got = [
        (r.line, iso(r.start), iso(r.end), r.daily, r.duplicate_of)
        for r in rows
        if isinstance(r, Row)
    ]
    assert got == [
        (2, "2024-01-01T22:00:00Z", "2024-01-01T23:00:00Z", False, None),
        (3, "2024-01-01T23:00:00Z", "2024-01-02T00:00:00Z", False, None),
        (4, "2024-01-02T22:00:00Z", "2024-01-02T23:00:00Z", False, None),
        (5, "2024-01-02T23:00:00Z", "2024-01-03T23:00:00Z", True, None),
        (6, "2024-01-03T00:00:00Z", "2024-01-03T01:00:00Z", False, None),
    ]


def test_shifted_rows_and_repeated_times_are_marked() -> None:
    _, rows = rows_of(
        "Datum,Zeit,A\n2024-01-01,01:00,1\n2024-01-01,02:00,1,5\n2024-01-01,01:00,2\n"
    )
    problem = rows[1]
    assert isinstance(problem, Problem) and (problem.line, problem.code) == (3, "extra-cells")
    repeated = rows[2]
    assert isinstance(repeated, Row) and repeated.duplicate_of == 2


@pytest.mark.parametrize(
    ("name", "station"),
    [
        ("luft_2019-02_Dresden-Nord.csv", "Dresden-Nord"),
        ("Dresden-Nord_2019.xlsx", "Dresden-Nord"),
        ("messstelle.csv", "messstelle"),
        ("2019-02.csv", "2019-02"),
    ],
)
def test_station_from_file_name(name: str, station: str) -> None:
    assert station_from_name(name) == station


def test_unit_codes() -> None:
    assert unit_of("µg/m³") == unit_of("ug/m3") == unit_of("μg/m3")
    assert unit_of("GRADC") == {"name": "Grad Celsius", "symbol": "°C", "definition": UCUM + "Cel"}
    assert unit_of("Furlong") == {"name": "Furlong", "symbol": "Furlong"}
