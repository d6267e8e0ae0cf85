"""Source types ``sensor-community`` and ``opensensemap``: the open JSON feeds of citizen
air-quality sensors, limited to a bounding box (``options.bbox`` = [west, south, east, north]).

**sensor-community** reads ``<url>/airrohr/v1/filter/box=<south>,<west>,<north>,<east>``
(``url`` defaults to https://data.sensor.community; the API wants latitude before longitude,
the south-west corner first): every reading of the last five minutes. Each sensor location is
a Thing (key ``location-<id>``), each sensor and value type a Datastream (``P1`` = PM10,
``P2`` = PM2.5, ``P0`` = PM1, ``temperature``, ``humidity``, ``pressure`` in Pa, …);
``filters.value_types`` limits the value types (unknown ones are read only when named there).
The feed's times ("2024-05-01 10:15:03") are UTC by the API's definition and read as such.
The feed repeats readings from run to run; the store keeps each once and counts the rest as
duplicates. A location missing from one feed (its sensor was silent for five minutes) keeps
its catalogue dataset while it has readings from the last 30 days.

**opensensemap** reads ``<url>/boxes?bbox=<west>,<south>,<east>,<north>&full=true`` (``url``
defaults to https://api.opensensemap.org). Each senseBox is a Thing, each of its sensors a
Datastream (``filters.phenomena`` limits them by title). The first run takes each sensor's
last measurement; later runs fetch everything since the newest stored reading from
``/boxes/<box>/data/<sensor>`` (openSenseMap keeps the history), so nothing between two runs is
lost. Boxes without a measurement in the 30 days before the newest one in the feed are left
out.

Both: indoor sensors are left out, and so is whatever lies outside the box even if the server
returns it (counted, remembered as ``skipped``, not an issue). Values that are no number
("NaN", "") are recorded as issues and the rest stored.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, func, select

from catalog.schema import SensorDatastream, SensorThing
from catalog.sensors.times import DAY, TimeError, iso, parse_instant, to_ms
from harvesters import sensor_vocabulary as v
from harvesters.base import Context, Item, SourceError
from harvesters.sensor_sink import SensorSink

log = logging.getLogger(__name__)

SENSOR_COMMUNITY_URL = "https://data.sensor.community"
OPENSENSEMAP_URL = "https://api.opensensemap.org"
ACTIVE = 30 * DAY  # a station silent for longer leaves the catalogue
HISTORY_SPAN = 30 * DAY  # openSenseMap answers for at most one month per request
HISTORY_LIMIT = 10_000  # … and at most this many measurements
_SKIPPED = "skipped"  # memory key: what the last run left out and why

# --- what is measured (harvesters.sensor_vocabulary, shared with the other sensor sources) ---

# the feeds' unit symbols -> unit
UNITS = {"µg/m³": v.UG_M3, "°C": v.CELSIUS, "%": v.PERCENT, "Pa": v.PA, "hPa": v.HPA}
UNITS |= {"dB(A)": v.DB_A, "lx": v.LUX}
UNITS |= {"Grad": v.CELSIUS, "grad": v.CELSIUS}  # openSenseMap boxes write it for temperature
PM10, PM25, PM1, PM4 = v.PM10, v.PM25, v.PM1, v.PM4
TEMPERATURE, HUMIDITY, PRESSURE = v.TEMPERATURE, v.HUMIDITY, v.PRESSURE
SEA_LEVEL_PRESSURE = v.SEA_LEVEL_PRESSURE
_prop = v.prop


@dataclass(frozen=True)
class Phenomenon:
    observed_property: dict[str, str]
    unit: str  # the symbol the feed gives it in (sensor.community), a key of UNITS


# sensor.community value_type -> what it measures
VALUE_TYPES = {
    "P1": Phenomenon(PM10, "µg/m³"),
    "P2": Phenomenon(PM25, "µg/m³"),
    "P0": Phenomenon(PM1, "µg/m³"),
    "P4": Phenomenon(PM4, "µg/m³"),
    "temperature": Phenomenon(TEMPERATURE, "°C"),
    "humidity": Phenomenon(HUMIDITY, "%"),
    "pressure": Phenomenon(PRESSURE, "Pa"),
    "pressure_at_sealevel": Phenomenon(SEA_LEVEL_PRESSURE, "Pa"),
    "noise_LAeq": Phenomenon(_prop("Schallpegel LAeq", v.OWN + "schallpegel-laeq"), "dB(A)"),
    "noise_LA_min": Phenomenon(_prop("Schallpegel LA min", v.OWN + "schallpegel-la-min"), "dB(A)"),
    "noise_LA_max": Phenomenon(_prop("Schallpegel LA max", v.OWN + "schallpegel-la-max"), "dB(A)"),
}

# openSenseMap sensor titles (folded) -> what they measure
TITLES = {
    "pm10": PM10,
    "pm2.5": PM25,
    "pm25": PM25,
    "pm2,5": PM25,
    "pm1": PM1,
    "pm1.0": PM1,
    "pm4": PM4,
    "temperatur": TEMPERATURE,
    "temperature": TEMPERATURE,
    "lufttemperatur": TEMPERATURE,
    "rel. luftfeuchte": HUMIDITY,
    "relative luftfeuchte": HUMIDITY,
    "luftfeuchte": HUMIDITY,
    "luftfeuchtigkeit": HUMIDITY,
    "humidity": HUMIDITY,
    "luftdruck": PRESSURE,
    "pressure": PRESSURE,
    "air pressure": PRESSURE,
}


# --- shared ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    west: float
    south: float
    east: float
    north: float

    def __contains__(self, point: tuple[float, float]) -> bool:
        lon, lat = point
        return self.west <= lon <= self.east and self.south <= lat <= self.north


def fetch(context: Context) -> Iterator[Item]:
    """Either feed, by the source's type."""
    if context.config.type == "opensensemap":
        return fetch_opensensemap(context)
    return fetch_sensor_community(context)


def _bbox(context: Context) -> Box:
    value = context.config.options.get("bbox")
    try:
        west, south, east, north = (float(v) for v in value)  # type: ignore[union-attr]
        valid = -180 <= west < east <= 180 and -90 <= south < north <= 90
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise SourceError(
            "options.bbox",
            f"„bbox“ muss [West, Süd, Ost, Nord] in Grad sein (z. B. [13.58, 50.97, 13.97, "
            f"51.18] für Dresden), nicht {value!r}.",
            f"'bbox' must be [west, south, east, north] in degrees (e.g. [13.58, 50.97, 13.97, "
            f"51.18] for Dresden), not {value!r}.",
        )
    return Box(west, south, east, north)


def _json_list(context: Context, url: str) -> list[Any]:
    response = context.get(url, headers={"Accept": "application/json"})
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, list):
        raise SourceError(
            url,
            "Die Antwort ist keine JSON-Liste; ist die Adresse richtig?",
            "The answer is not a JSON list; is the address right?",
        )
    return data


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # not NaN


def _coordinate(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _unit_of(symbol: str) -> dict[str, str]:
    known = UNITS.get(symbol.strip()) or v.unit_of(symbol)
    return dict(known) if known else {"name": symbol, "symbol": symbol, "definition": ""}


def _skipped(context: Context, counts: Counter[str]) -> None:
    """Say what was left out (not an issue: the feed does not know our box)."""
    if counts:
        log.info("%s: left out %s", context.config.name, dict(counts))
    context.remember(_SKIPPED, dict(sorted(counts.items())))


def _active_keys(engine: Engine, source: str) -> list[str]:
    """Things of ``source`` with a reading in the 30 days before the source's newest one."""
    t, d = SensorThing, SensorDatastream
    with engine.connect() as conn:
        newest = conn.execute(
            select(func.max(d.last_time)).join(t, t.id == d.thing_id).where(t.source == source)
        ).scalar_one_or_none()
        if newest is None:
            return []
        rows = conn.execute(
            select(t.source_key)
            .join(d, d.thing_id == t.id)
            .where(t.source == source, d.last_time >= newest - ACTIVE)
            .distinct()
        ).all()
    return [row[0] for row in rows]


# --- sensor.community -----------------------------------------------------------------------


def fetch_sensor_community(context: Context) -> Iterator[Item]:
    config = context.config
    sink: SensorSink = context.sensors
    box = _bbox(context)
    root = (config.url or SENSOR_COMMUNITY_URL).split("?", 1)[0].rstrip("/")
    if "/airrohr/v1/filter" not in root:
        root += "/airrohr/v1/filter"
    # latitude first, south-west corner first (the API's order, not the bbox option's)
    url = (
        f"{root}/box={_coordinate(box.south)},{_coordinate(box.west)},"
        f"{_coordinate(box.north)},{_coordinate(box.east)}"
    )
    wanted = {str(v).casefold() for v in config.filters.get("value_types") or []}
    feed = _SensorCommunity(context, sink, box, url, wanted)
    for n, entry in enumerate(_json_list(context, url)):
        if n % 500 == 0:
            context.heartbeat()
        feed.entry(entry)
    _skipped(context, feed.skipped)
    sink.flush()
    keys = sorted(set(sink.seen) | set(_active_keys(sink.engine, sink.source)))
    yield from sink.harvested(context.base_url, url, keys=keys)


class _SensorCommunity:
    def __init__(
        self, context: Context, sink: SensorSink, box: Box, url: str, wanted: set[str]
    ) -> None:
        self.context, self.sink, self.box, self.url, self.wanted = context, sink, box, url, wanted
        self.things: dict[str, int] = {}
        self.streams: dict[str, int] = {}
        self.skipped: Counter[str] = Counter()

    def entry(self, entry: Any) -> None:
        location = entry.get("location") if isinstance(entry, dict) else None
        sensor = entry.get("sensor") if isinstance(entry, dict) else None
        if not isinstance(location, dict) or not isinstance(sensor, dict):
            self.sink.reject(
                self.url,
                "bad-entry",
                "Ein Eintrag ohne „location“ oder „sensor“ wurde übergangen.",
                "An entry without 'location' or 'sensor' was passed over.",
                entry,
            )
            return
        lon, lat = _number(location.get("longitude")), _number(location.get("latitude"))
        where = f"{self.url} [location {location.get('id')}, sensor {sensor.get('id')}]"
        if lon is None or lat is None or location.get("id") is None:
            self.sink.reject(
                where,
                "no-location",
                "Standort ohne Kennung oder Koordinaten; der Eintrag wurde übergangen.",
                "A location without id or coordinates; the entry was passed over.",
                location,
            )
            return
        if str(location.get("indoor", 0)) not in ("0", "False", "false", ""):
            self.skipped["indoor"] += 1
            return
        if (lon, lat) not in self.box:
            self.skipped["outside_bbox"] += 1
            return
        time = self._time(entry.get("timestamp"), where)
        if time is None:
            return
        values = entry.get("sensordatavalues")
        for value in values if isinstance(values, list) else []:
            if isinstance(value, dict):
                self._value(location, (lon, lat), sensor, value, time, where)

    def _time(self, stamp: Any, where: str) -> int | None:
        """The feed's "YYYY-MM-DD HH:MM:SS", which is UTC (the API says so, the text not)."""
        try:
            parsed = datetime.fromisoformat(str(stamp).strip())
        except ValueError:
            self.sink.reject(
                where,
                "bad-time",
                f"„{stamp}“ ist keine Zeitangabe; der Eintrag wurde übergangen.",
                f"'{stamp}' is not a time; the entry was passed over.",
                stamp,
            )
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return to_ms(parsed)

    def _value(
        self,
        location: dict[str, Any],
        point: tuple[float, float],
        sensor: dict[str, Any],
        value: dict[str, Any],
        time: int,
        where: str,
    ) -> None:
        value_type = str(value.get("value_type") or "")
        known = VALUE_TYPES.get(value_type)
        if self.wanted and value_type.casefold() not in self.wanted:
            return
        if not self.wanted and known is None:
            self.skipped["unknown_value_type"] += 1
            return
        ds = self._stream(location, point, sensor, value_type, known)
        self.sink.reading(ds, f"{where} {value_type}", time, value.get("value"))

    def _thing(self, location: dict[str, Any], point: tuple[float, float]) -> int:
        key = f"location-{location['id']}"
        thing = self.things.get(key)
        if thing is None:
            thing = self.sink.thing(
                key,
                f"Sensor.Community-Messstation {location['id']}",
                description=(
                    f"Messstation von Bürgerinnen und Bürgern im Netzwerk Sensor.Community "
                    f"(ehemals luftdaten.info), Standort {location['id']}. Die Werte sind "
                    f"ungeprüft und nicht kalibriert."
                ),
                properties={
                    "location_id": location["id"],
                    "country": location.get("country"),
                    "altitude": _number(location.get("altitude")),
                    "network": "https://sensor.community/",
                },
                location=point,
            )
            self.things[key] = thing
        return thing

    def _stream(
        self,
        location: dict[str, Any],
        point: tuple[float, float],
        sensor: dict[str, Any],
        value_type: str,
        known: Phenomenon | None,
    ) -> int:
        key = f"{sensor.get('id')}-{value_type}"
        ds = self.streams.get(key)
        if ds is not None:
            return ds
        kind = sensor.get("sensor_type") if isinstance(sensor.get("sensor_type"), dict) else {}
        type_name = str(kind.get("name") or "Sensor")
        maker = str(kind.get("manufacturer") or "")
        prop = known.observed_property if known else _prop(value_type, "")
        ds = self.sink.datastream(
            self._thing(location, point),
            key,
            f"{prop['name']} ({type_name}, Sensor {sensor.get('id')})",
            observed_property=prop,
            unit=UNITS[known.unit] if known else None,
            sensor=f"{type_name} ({maker})" if maker else type_name,
            properties={
                "sensor_id": sensor.get("id"),
                "pin": sensor.get("pin"),
                "sensor_type": type_name,
                "value_type": value_type,
            },
        )
        self.streams[key] = ds
        return ds


# --- openSenseMap ---------------------------------------------------------------------------


def fetch_opensensemap(context: Context) -> Iterator[Item]:
    config = context.config
    sink: SensorSink = context.sensors
    box = _bbox(context)
    root = (config.url or OPENSENSEMAP_URL).split("?", 1)[0].rstrip("/").removesuffix("/boxes")
    url = (
        f"{root}/boxes?bbox={_coordinate(box.west)},{_coordinate(box.south)},"
        f"{_coordinate(box.east)},{_coordinate(box.north)}&full=true"
    )
    wanted = {str(v).casefold() for v in config.filters.get("phenomena") or []}
    boxes = [b for b in _json_list(context, url) if isinstance(b, dict)]
    feed = _OpenSenseMap(context, sink, box, root, wanted, _newest(boxes))
    origins: dict[str, str] = {}
    for sensebox in boxes:
        context.heartbeat()
        key = feed.box(sensebox)
        if key is not None:
            origins[key] = f"{root}/boxes/{key}"
    _skipped(context, feed.skipped)
    for key, origin in origins.items():
        yield from sink.harvested(context.base_url, origin, keys=[key])


def _last(sensor: dict[str, Any]) -> tuple[Any, Any] | None:
    """A sensor's last measurement (value, createdAt), if the feed has one."""
    last = sensor.get("lastMeasurement")
    if isinstance(last, dict) and last.get("createdAt"):
        return last.get("value"), last["createdAt"]
    return None


def _instant(text: Any) -> int | None:
    try:
        return parse_instant(str(text))[0]
    except TimeError:
        return None


def _newest(boxes: list[dict[str, Any]]) -> int | None:
    times = [
        _instant(last[1])
        for b in boxes
        for s in (b.get("sensors") if isinstance(b.get("sensors"), list) else [])
        if isinstance(s, dict) and (last := _last(s)) is not None
    ]
    return max((t for t in times if t is not None), default=None)


class _OpenSenseMap:
    def __init__(
        self,
        context: Context,
        sink: SensorSink,
        box: Box,
        root: str,
        wanted: set[str],
        newest: int | None,
    ) -> None:
        self.context, self.sink, self.bbox, self.root = context, sink, box, root
        self.wanted = wanted
        self.since = newest - ACTIVE if newest is not None else None
        self.skipped: Counter[str] = Counter()

    def box(self, sensebox: dict[str, Any]) -> str | None:
        """Register one senseBox with its sensors and read them; its key, or None if left
        out."""
        key = str(sensebox.get("_id") or "")
        point = self._point(sensebox)
        where = f"{self.root}/boxes/{key}"
        if not key or point is None:
            self.sink.reject(
                where,
                "no-location",
                "Eine senseBox ohne Kennung oder Standort wurde übergangen.",
                "A senseBox without id or location was passed over.",
                sensebox.get("name", ""),
            )
            return None
        if str(sensebox.get("exposure") or "").lower() == "indoor":
            self.skipped["indoor"] += 1
            return None
        if point not in self.bbox:
            self.skipped["outside_bbox"] += 1
            return None
        sensors = [s for s in sensebox.get("sensors") or [] if isinstance(s, dict)]
        sensors = [s for s in sensors if self._wanted(s)]
        if not sensors or not self._active(sensors):
            self.skipped["inactive"] += 1
            return None
        thing = self.sink.thing(
            key,
            str(sensebox.get("name") or key),
            description=str(sensebox.get("description") or ""),
            properties={
                "exposure": sensebox.get("exposure"),
                "model": sensebox.get("model"),
                "network": "https://opensensemap.org/",
                "explore": f"https://opensensemap.org/explore/{key}",
            },
            location=point,
        )
        for sensor in sensors:
            self._sensor(thing, key, sensor, where)
        return key

    def _point(self, sensebox: dict[str, Any]) -> tuple[float, float] | None:
        current = sensebox.get("currentLocation")
        coordinates = current.get("coordinates") if isinstance(current, dict) else None
        if not isinstance(coordinates, list) or len(coordinates) < 2:
            return None
        lon, lat = _number(coordinates[0]), _number(coordinates[1])
        return (lon, lat) if lon is not None and lat is not None else None

    def _wanted(self, sensor: dict[str, Any]) -> bool:
        if not self.wanted:
            return True
        title = str(sensor.get("title") or "").strip().casefold()
        known = TITLES.get(title)
        names = {title} | ({known["name"].casefold()} if known else set())
        return bool(names & self.wanted)

    def _active(self, sensors: list[dict[str, Any]]) -> bool:
        times = [_instant(last[1]) for s in sensors if (last := _last(s)) is not None]
        return any(t is not None and (self.since is None or t >= self.since) for t in times)

    def _sensor(self, thing: int, box: str, sensor: dict[str, Any], where: str) -> None:
        sensor_id = str(sensor.get("_id") or "")
        if not sensor_id:
            return
        title = str(sensor.get("title") or sensor_id).strip()
        known = TITLES.get(title.casefold())
        prop = known or _prop(title, "")
        unit = str(sensor.get("unit") or "")
        kind = str(sensor.get("sensorType") or "").strip()
        ds = self.sink.datastream(
            thing,
            sensor_id,
            f"{title} ({kind})" if kind else title,
            observed_property=prop,
            unit=_unit_of(unit) if unit else None,
            sensor=kind or None,
            properties={"sensor_id": sensor_id, "title": title, "sensor_type": kind},
        )
        self._readings(ds, box, sensor_id, sensor, f"{where}/sensors/{sensor_id}")

    def _readings(
        self, ds: int, box: str, sensor_id: str, sensor: dict[str, Any], where: str
    ) -> None:
        """The last measurement, and on later runs everything since the newest stored one."""
        last = _last(sensor)
        if last is None:
            return
        value, created = last
        last_ms = _instant(created)
        newest = self.sink.store.newest(ds)
        if last_ms is None or newest is None:  # first run (or a broken time: recorded)
            self.sink.reading(ds, where, str(created), value)
            return
        if last_ms <= newest:
            return
        start = max(newest + 1, last_ms - HISTORY_SPAN)
        times = set()
        for row in self._history(box, sensor_id, start, last_ms):
            self.sink.reading(ds, where, str(row.get("createdAt")), row.get("value"))
            times.add(_instant(row.get("createdAt")))
        if last_ms not in times:
            self.sink.reading(ds, where, str(created), value)

    def _history(self, box: str, sensor_id: str, start: int, end: int) -> list[dict[str, Any]]:
        """openSenseMap's measurements in [start, end], newest first, paged backwards."""
        rows: list[dict[str, Any]] = []
        while end >= start:
            url = (
                f"{self.root}/boxes/{quote(box)}/data/{quote(sensor_id)}"
                f"?from-date={iso(start)}&to-date={iso(end)}&format=json"
            )
            page = [r for r in _json_list(self.context, url) if isinstance(r, dict)]
            rows += page
            times = [t for t in (_instant(r.get("createdAt")) for r in page) if t is not None]
            if len(page) < HISTORY_LIMIT or not times:
                break
            end = min(times) - 1
        return rows
