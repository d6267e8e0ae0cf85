"""The ``timeseries-files`` source type: measurement exports (CSV or XLSX, one station per
file, a time column and one column per measured quantity, like the LfULG air-quality files
``luft_2019-02_Dresden-Nord.csv``) become SensorThings Things, Datastreams and Observations,
and each station one catalogue dataset.

Files come from ``folder`` (with ``filters.include``/``exclude``/``recursive``, default
``*.csv *.tsv *.txt *.xlsx``), a ``glob`` pattern or ``urls``, as with the ``files`` type.
How a file is read (header, units row, time columns, daylight saving time, intervals) is
described in :mod:`harvesters.sources.timeseries_table`.

* Station: ``options.stations`` maps file-name patterns to a station (key, name,
  description, location [lon, lat], properties); without a match the station comes from the
  file name: ``luft_2019-02_Dresden-Nord.csv`` -> "Dresden-Nord" (the last part between
  underscores that is not a date). Several files (one per month) feed the same station.
* Datastreams: one per column that has a value, key = the column's name; rows without a time
  (daily values) go to their own datastream ``<column>-daily`` named "<column> (Tageswert)"
  whose phenomenon time is the local day. The LfULG column codes (NO2, PM10_TEOM, TEMP, …) and
  unit codes (µg/m³, PROZ, GRADC, m/sec, GRAD, …) are mapped to observed properties with German
  names and stable definitions and to proper units; ``options.columns`` overrides or adds,
  ``options.skip_columns`` leaves columns out.
* Values: an empty cell is a gap (nothing stored, nothing recorded); decimal commas are read;
  a cell that is not a number ("n/a", "-", "<5") is rejected and recorded with file, line and
  column, and so is a row whose date cannot be read or whose local time does not exist.
* Duplicates: a row whose time came earlier in the same file is checked against what was
  stored for it: the same value is handed to the store, which counts it as a duplicate; another
  value is rejected as a conflict naming both lines. When a changed file is read again, values
  already stored are skipped without noise; a value that differs from the stored one is recorded
  as a conflict with its line (the store keeps the first value).
* Incremental: each file's sha256 is remembered (with a fingerprint of the options that change
  how it is read); an unchanged file is not parsed again, but every station of the listing is
  still yielded, so its dataset stays (the runner withdraws datasets not yielded).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from sqlalchemy import select

from catalog.schema import SensorDatastream
from catalog.sensors.store import Reading, SensorStore
from harvesters import sensor_vocabulary as v
from harvesters.base import Context, Item, RecordError, SourceConfig, SourceError
from harvesters.sensor_sink import SensorSink, ValueProblem, number
from harvesters.sources.file_listing import local_paths
from harvesters.sources.timeseries_table import (
    DAY,
    Column,
    Problem,
    Row,
    Table,
    TableError,
    read_table,
)

# Bump when the reading of files changes: every file is then parsed again.
MAPPING_VERSION = 1
SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
PARSE_OPTIONS = (
    "timezone",
    "time_label",
    "interval_minutes",
    "columns",
    "skip_columns",
    "delimiter",
    "decimal",
    "encoding",
    "stations",
)
WINDOW = 7 * DAY  # stored values are compared a week at a time
_DATEISH = re.compile(r"^[\d.\-]+$")

# --- vocabulary: LfULG column codes (quantities and units: harvesters.sensor_vocabulary) ---


@dataclass(frozen=True)
class Known:
    """What a known column code measures."""

    observed_property: dict[str, str]
    unit: dict[str, str]
    sensor: str | None = None
    description: str = ""


# column code (folded: upper case, no spaces) -> what it measures
COLUMNS = {
    "NO2": Known(v.NO2, v.UG_M3),
    "NO": Known(v.NO, v.UG_M3),
    "NOX": Known(v.NOX, v.UG_M3),
    "O3": Known(v.O3, v.UG_M3),
    "SO2": Known(v.SO2, v.UG_M3),
    "CO": Known(v.CO, v.MG_M3),
    "BEN": Known(v.BENZENE, v.UG_M3),
    "BENZOL": Known(v.BENZENE, v.UG_M3),
    "PM10": Known(v.PM10, v.UG_M3),
    "PM10_TEOM": Known(
        v.PM10, v.UG_M3, "TEOM-Feinstaubmonitor", "Feinstaub PM10, TEOM (kontinuierlich)"
    ),
    "PM10_HVS": Known(
        v.PM10,
        v.UG_M3,
        "High-Volume-Sampler (gravimetrisch)",
        "Feinstaub PM10, gravimetrisch (High-Volume-Sampler)",
    ),
    "PM2.5": Known(v.PM25, v.UG_M3),
    "PM25": Known(v.PM25, v.UG_M3),
    "PM2_5": Known(v.PM25, v.UG_M3),
    "PM2,5": Known(v.PM25, v.UG_M3),
    "RUSS_PM1": Known(v.SOOT, v.UG_M3),
    "DRUCK": Known(v.PRESSURE, v.HPA),
    "FEUCHT": Known(v.HUMIDITY, v.PERCENT),
    "STRAHL": Known(v.RADIATION, v.W_M2),
    "TEMP": Known(v.TEMPERATURE, v.CELSIUS),
    "WINDGE": Known(v.WIND_SPEED, v.M_S),
    "WINDRI": Known(v.WIND_DIRECTION, v.DEGREE),
}


unit_of = v.unit_of  # kept here: the tests and callers read it from this module


def known_column(name: str) -> Known | None:
    return COLUMNS.get(name.strip().upper().replace(" ", ""))


def station_from_name(file_name: str) -> str:
    """``luft_2019-02_Dresden-Nord.csv`` -> ``Dresden-Nord``: the last part between
    underscores that is not a date or number."""
    stem = PurePosixPath(file_name).name
    for suffix in SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    parts = [p for p in stem.split("_") if p.strip()]
    kept = [p for p in parts if not _DATEISH.match(p)]
    return (kept[-1] if kept else stem).strip() or stem


# --- the source --------------------------------------------------------------------------


@dataclass
class _File:
    source_id: str  # path below the folder, or the URL
    label: str  # in messages: file:line
    name: str  # file name (station patterns match it)
    origin: str
    read: Callable[[], bytes]
    path: Path | None = None  # local files: checked for changes while read


@dataclass
class _Station:
    key: str
    name: str
    description: str = ""
    location: list[float] | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    origin: str = ""
    thing_id: int | None = None


def fetch(context: Context) -> Iterator[Item]:
    config = context.config
    sink: SensorSink = context.sensors
    options = config.options or {}
    fingerprint = _fingerprint(options)
    files = _listing(context)
    stations: dict[str, _Station] = {}
    station_of: dict[str, str] = {}  # file source id -> station key
    for source in files:
        station = _station(source, options.get("stations") or {})
        known = stations.setdefault(station.key, station)
        known.origin = source.origin  # files sort by name: the newest month wins
        station_of[source.source_id] = station.key
    for station in stations.values():
        station.thing_id = sink.thing(
            station.key,
            station.name,
            description=station.description,
            properties=station.properties,
            location=station.location,
        )
    for source in files:
        context.heartbeat()
        thing_id = stations[station_of[source.source_id]].thing_id
        assert thing_id is not None
        data = _read(source)
        memory_key = f"file:{source.source_id}"
        state = {"sha256": hashlib.sha256(data).hexdigest(), "config": fingerprint}
        if context.recall(memory_key) == state:
            context.remember(memory_key, state)
            continue  # unchanged: not parsed again; its station is still yielded below
        try:
            table = read_table(
                source.name,
                data,
                zone=sink.zone,
                time_label=options.get("time_label") or "end",
                interval_minutes=options.get("interval_minutes"),
                delimiter=options.get("delimiter"),
                decimal=options.get("decimal"),
                encoding=options.get("encoding"),
                skip_columns=options.get("skip_columns") or (),
            )
            _FileHarvest(context, sink, source, thing_id, table).run()
        except TableError as exc:
            yield RecordError(source.source_id, source.label, exc.de, exc.en)
            continue
        context.remember(memory_key, state)
    for station in stations.values():
        yield from sink.harvested(context.base_url, station.origin, keys=[station.key])


def _fingerprint(options: dict[str, Any]) -> str:
    relevant = {k: options.get(k) for k in PARSE_OPTIONS}
    text = json.dumps([MAPPING_VERSION, relevant], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _station(source: _File, patterns: dict[str, Any]) -> _Station:
    derived = station_from_name(source.name)
    for pattern, spec in patterns.items():
        target = source.source_id if "/" in pattern else source.name
        if fnmatch.fnmatchcase(target.casefold(), pattern.casefold()):
            spec = spec or {}
            return _Station(
                key=str(spec.get("key") or derived),
                name=str(spec.get("name") or derived),
                description=str(spec.get("description") or ""),
                location=spec.get("location"),
                properties=dict(spec.get("properties") or {}),
            )
    return _Station(derived, derived)


def _read(source: _File) -> bytes:
    try:
        before = _stamp(source.path)
        data = source.read()
        if _stamp(source.path) != before:
            raise SourceError(
                source.label,
                f"{source.label}: die Datei wurde während des Lesens verändert (wird sie gerade "
                "geschrieben?); bitte den Lauf wiederholen, wenn sie fertig ist.",
                f"{source.label}: the file changed while it was read (is it being written?); "
                "run again when it is complete.",
            )
        return data
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SourceError(
            source.label,
            f"{source.label}: nicht lesbar ({reason}); fehlen Leserechte, oder wurde die Datei "
            "gerade verschoben?",
            f"{source.label}: cannot be read ({reason}); missing read permission, or was the "
            "file just moved?",
        ) from None


def _stamp(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


# --- listing -----------------------------------------------------------------------------


def _listing(context: Context) -> list[_File]:
    config = context.config
    given = [key for key in ("folder", "glob", "urls") if getattr(config, key)]
    if len(given) != 1:
        raise SourceError(
            str(config.path or config.name),
            "Die Quelle muss genau eines von 'folder', 'glob' oder 'urls' angeben.",
            "The source must give exactly one of 'folder', 'glob' or 'urls'.",
        )
    if config.urls:
        return [_url_file(context, url) for url in config.urls]
    try:
        return _local_files(config)
    except OSError as exc:
        raise SourceError(
            str(config.folder or config.glob),
            f"Ordner nicht lesbar: {exc}",
            f"Folder cannot be read: {exc}",
        ) from None


def _url_file(context: Context, url: str) -> _File:
    name = unquote(PurePosixPath(urlparse(url).path).name) or "download.csv"
    return _File(url, url, name, url, lambda: context.get(url).content)


def _local_files(config: SourceConfig) -> list[_File]:
    return [
        _File(rel, rel, path.name, path.resolve().as_uri(), path.read_bytes, path)
        for path, rel in local_paths(config, SUFFIXES, _is_yaml)
    ]


def _is_yaml(name: str) -> bool:  # source files and notes kept beside the data
    return name.endswith((".yaml", ".yml"))


# --- one file ----------------------------------------------------------------------------


@dataclass
class _Spec:
    """One value column and the datastreams it feeds in this file."""

    column: Column
    numeric: bool
    timed_id: int | None = None
    daily_id: int | None = None


class _Stored:
    """Values already stored, looked up a week at a time, only where a datastream had data
    before this file was read (a first harvest asks nothing)."""

    def __init__(self, store: SensorStore) -> None:
        self.store = store
        self.extent: dict[int, tuple[int, int] | None] = {}
        self.windows: dict[tuple[int, int], dict[int, tuple[float | None, str | None]]] = {}

    def register(self, ds: int, everything: bool = False) -> None:
        if everything:
            self.extent[ds] = (-(2**62), 2**62)
            return
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(SensorDatastream.first_time, SensorDatastream.last_time).where(
                    SensorDatastream.id == ds
                )
            ).first()
        has = row is not None and row[0] is not None and row[1] is not None
        self.extent[ds] = (row[0], row[1]) if has and row is not None else None

    def get(self, ds: int, start: int) -> tuple[float | None, str | None] | None:
        extent = self.extent.get(ds)
        if extent is None or not extent[0] <= start <= extent[1]:
            return None
        key = (ds, start // WINDOW)
        values = self.windows.get(key)
        if values is None:
            if len(self.windows) >= 32:  # files run forward: old weeks are done
                self.windows.clear()
            first = key[1] * WINDOW
            rows = self.store.series(ds, start=first, end=first + WINDOW - 1)
            values = self.windows[key] = {r.start: (r.value, r.text) for r in rows}
        return values.get(start)


@dataclass
class _Later:
    reading: Reading
    line: int
    column: str
    first_line: int


class _FileHarvest:
    def __init__(
        self, context: Context, sink: SensorSink, source: _File, thing_id: int, table: Table
    ) -> None:
        self.context = context
        self.sink = sink
        self.source = source
        self.thing_id = thing_id
        self.table = table
        self.options = context.config.options or {}
        self.configured = self.options.get("columns") or {}
        self.specs = [_Spec(c, self._numeric(c)) for c in table.columns]
        self.stored = _Stored(sink.store)
        self.later: list[_Later] = []

    def run(self) -> None:
        for n, item in enumerate(self.table.rows):
            if n % 5000 == 0:
                self.context.heartbeat()
            if isinstance(item, Problem):
                where = f"{self.source.label}:{item.line}"
                self.sink.reject(where, item.code, item.de, item.en, item.value)
                continue
            self._row(item)
        self.sink.flush()
        self._settle_duplicates()

    def _row(self, row: Row) -> None:
        cells, daily = row.cells, row.daily
        width = len(cells)
        for spec in self.specs:
            index = spec.column.index
            if index >= width:
                continue
            raw = cells[index]
            if raw is None or (raw.__class__ is str and not raw.strip()):
                continue  # a gap
            ds = spec.daily_id if daily else spec.timed_id
            if ds is None:
                ds = self._stream(spec, daily)
            if spec.numeric:
                value = self._number(raw, row, spec, ds)
                if value is None:
                    continue
                reading = Reading(ds, row.start, value, row.end)
            else:
                reading = Reading(ds, row.start, None, row.end, text=str(raw).strip())
            if row.duplicate_of is not None:
                self.later.append(_Later(reading, row.line, spec.column.name, row.duplicate_of))
                continue
            stored = self.stored.get(ds, row.start)
            if stored is None:
                self.sink.add(reading)
            elif stored != (reading.result, reading.text):
                self._conflict(reading, row.line, spec.column.name, stored, None)

    def _number(self, raw: Any, row: Row, spec: _Spec, ds: int) -> float | None:
        cls = raw.__class__
        if cls is float or cls is int:
            if math.isfinite(raw):
                return float(raw)
        elif cls is str:
            text = raw.strip()
            candidate = text.replace(",", ".") if self.table.decimal_comma else text
            if "_" not in candidate and (not self.table.decimal_comma or "." not in text):
                try:
                    value = float(candidate)
                except ValueError:
                    pass
                else:
                    if math.isfinite(value):
                        return value
        where = f"{self.source.label}:{row.line} [{spec.column.name}]"
        try:
            value, normalised = _slow_number(raw, self.table.decimal_comma)
        except ValueProblem as exc:
            self.sink.reject(where, exc.code, exc.de, exc.en, raw, ds)
            return None
        if normalised:
            self.sink.note(
                where,
                "decimal-comma",
                "Dezimalkomma als Dezimalpunkt gelesen.",
                "Decimal comma read as a decimal point.",
                raw,
                ds,
            )
        return value

    def _numeric(self, column: Column) -> bool:
        configured = self._configured(column)
        return bool(configured.get("numeric", True))

    def _configured(self, column: Column) -> dict[str, Any]:
        for key in (column.name, column.name.casefold()):
            found = self.configured.get(key)
            if isinstance(found, dict):
                return found
        for key, found in self.configured.items():
            if key.casefold() == column.name.casefold() and isinstance(found, dict):
                return found
        return {}

    def _stream(self, spec: _Spec, daily: bool) -> int:
        column = spec.column
        configured = self._configured(column)
        known = known_column(column.name)
        name = configured.get("name") or column.name
        prop = configured.get("observed_property") or (
            dict(known.observed_property) if known else {"name": name}
        )
        unit = (
            configured.get("unit") or unit_of(column.unit) or (dict(known.unit) if known else None)
        )
        what = configured.get("description") or (known.description if known else "") or name
        minutes = self.table.interval_minutes
        if daily:
            key, title = f"{column.name}-daily", f"{name} (Tageswert)"
            description = f"{what}: Tageswerte (Spalte „{column.name}“, Zeilen ohne Uhrzeit)."
            properties = {"column": column.name, "aggregation": "P1D"}
        else:
            key, title = column.name, name
            edge = "endet" if self.table.time_label == "end" else "beginnt"
            description = (
                f"{what}: je Zeile ein Wert für {minutes} Minuten (Spalte „{column.name}“; das "
                f"Intervall {edge} zur angegebenen Zeit)."
            )
            properties = {
                "column": column.name,
                "interval_minutes": minutes,
                "time_label": self.table.time_label,
            }
        ds = self.sink.datastream(
            self.thing_id,
            key,
            title,
            observed_property=prop,
            unit=unit,
            sensor=configured.get("sensor") or (known.sensor if known else None),
            numeric=spec.numeric,
            description=description,
            properties=properties,
        )
        self.stored.register(ds)
        if daily:
            spec.daily_id = ds
        else:
            spec.timed_id = ds
        return ds

    def _conflict(
        self,
        reading: Reading,
        line: int,
        column: str,
        stored: tuple[float | None, str | None],
        first_line: int | None,
    ) -> None:
        old = _shown(*stored)
        new = _shown(reading.result, reading.text)
        earlier_de = f"in Zeile {first_line} " if first_line else ""
        earlier_en = f"in line {first_line} " if first_line else ""
        self.sink.reject(
            f"{self.source.label}:{line} [{column}]",
            "conflict",
            f"Für diese Zeit steht {earlier_de}schon der Wert {old} (gespeichert); der "
            f"abweichende Wert {new} wurde nicht übernommen.",
            f"The value {old} is already given {earlier_en}for this time (stored); the "
            f"different value {new} was not taken.",
            new,
            reading.datastream_id,
        )

    def _settle_duplicates(self) -> None:
        """Rows that repeated an earlier row's time, now that the earlier ones are stored."""
        if not self.later:
            return
        stored = _Stored(self.sink.store)
        for later in self.later:
            ds = later.reading.datastream_id
            if ds not in stored.extent:
                stored.register(ds, everything=True)
            value = stored.get(ds, later.reading.start)
            if value is None or value == (later.reading.result, later.reading.text):
                self.sink.add(later.reading)  # new, or the same value: the store counts it
            else:
                self._conflict(later.reading, later.line, later.column, value, later.first_line)
        self.later = []
        self.sink.flush()


def _slow_number(raw: Any, decimal_comma: bool) -> tuple[float, bool]:
    if isinstance(raw, str):
        text = raw.strip()
        if text[:1] in "<>" and len(text) > 1:
            try:
                number(text[1:].strip(), decimal_comma=decimal_comma)
            except ValueProblem:
                pass
            else:
                below = text[0] == "<"
                raise ValueProblem(
                    "censored",
                    f"„{text}“ ist nur eine Schranke ({'unter' if below else 'über'} der "
                    "Nachweis- bzw. Messgrenze), kein Messwert; der Wert wurde nicht übernommen.",
                    f"'{text}' is only a bound ({'below' if below else 'above'} the detection "
                    "or measuring limit), not a reading; the value was not taken.",
                )
    return number(raw, decimal_comma=decimal_comma)


def _shown(value: float | None, text: str | None) -> str:
    if text is not None:
        return f"„{text}“"
    if value is not None and value.is_integer():
        return str(int(value))
    return str(value)
