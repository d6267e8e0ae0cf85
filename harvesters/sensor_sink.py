"""What sensor source types write through: stations, time series and readings, checked and
normalised here, stored in batches, with every rejected or normalised value recorded.

A sensor source type (sensorthings, mqtt, sensor-community, opensensemap, timeseries-files)
reads its source, registers Things and Datastreams, adds readings to the sink and finally yields
the catalogue datasets of its Things (:meth:`SensorSink.harvested`), which the runner writes
like any other record. Readings are stored while the source is read (a year of minute data does
not wait in memory); a run that fails halfway keeps what it stored and deletes nothing, and the
next run carries on after the newest stored reading.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slugify import slugify
from sqlalchemy import Engine, update

from catalog.schema import SensorThing
from catalog.sensors.catalogue import thing_datasets
from catalog.sensors.store import (
    MEASUREMENT,
    OBSERVATION,
    IngestResult,
    Issue,
    Reading,
    SensorStore,
    short,
)
from catalog.sensors.times import TimeError, parse_time
from harvesters.base import Harvested, SourceConfig, SourceError

DEFAULT_ZONE = "Europe/Berlin"
DEFAULT_BATCH = 5000
REJECTIONS_KEPT = 100  # per datastream and reason; beyond that they are counted
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_COMMA_NUMBER = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")


class ValueProblem(ValueError):
    def __init__(self, code: str, de: str, en: str) -> None:
        super().__init__(en)
        self.code, self.de, self.en = code, de, en


def number(value: Any, *, decimal_comma: bool = False) -> tuple[float, bool]:
    """A numeric result and whether it had to be normalised (a decimal comma in JSON).

    Raises :class:`ValueProblem` for what is not a finite number.
    """
    if isinstance(value, bool):
        raise ValueProblem(
            "non-numeric", "Ein Wahrheitswert ist kein Messwert.", "A boolean is not a reading."
        )
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueProblem(
                "non-finite", f"{value} ist kein endlicher Wert.", f"{value} is not finite."
            )
        return float(value), False
    if isinstance(value, str):
        text = value.strip()
        if _PLAIN_NUMBER.match(text) and not (decimal_comma and "." in text):
            result = float(text)
            if math.isfinite(result):
                return result, False
        if _COMMA_NUMBER.match(text):
            return float(text.replace(".", "").replace(",", ".")), not decimal_comma
    shown = short(value)
    raise ValueProblem(
        "non-numeric",
        f"„{shown}“ ist keine Zahl; der Wert wurde nicht übernommen.",
        f"'{shown}' is not a number; the value was not taken.",
    )


class SensorSink:
    def __init__(self, engine: Engine, config: SourceConfig) -> None:
        self.engine = engine
        self.config = config
        self.source = config.name
        self.store = SensorStore(engine)
        zone = config.options.get("timezone") or DEFAULT_ZONE
        try:
            self.zone = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SourceError(
                "options.timezone",
                f"Unbekannte Zeitzone „{zone}“ (z. B. Europe/Berlin).",
                f"Unknown time zone '{zone}' (e.g. Europe/Berlin).",
            ) from None
        self.batch_size = int(config.options.get("batch_size") or DEFAULT_BATCH)
        # a source that publishes corrected values (validated air-quality data) replaces
        self.replace = config.options.get("corrections") == "replace"
        self.result = IngestResult()
        self.rejected = 0
        self.normalised = 0
        self.seen: dict[str, int] = {}  # thing key -> id, Things delivered in this run
        self._pending: list[Reading] = []
        self._issues: list[Issue] = []
        self._notes: dict[tuple[str, str, int | None], Issue] = {}  # counted normalisations
        self._kept: dict[tuple[str, int | None], int] = {}  # rejections recorded per kind

    # --- definitions --------------------------------------------------------------------

    def thing(
        self,
        key: str,
        name: str,
        *,
        description: str = "",
        properties: dict[str, Any] | None = None,
        location: dict[str, Any] | tuple[float, float] | list[float] | None = None,
    ) -> int:
        loc = tuple(location) if isinstance(location, list) else location
        thing_id = self.store.thing(
            self.source,
            key,
            name,
            description=description,
            properties=properties,
            location=loc,  # type: ignore[arg-type]
            organization=self.config.organization.get("name"),
        )
        self.seen[key] = thing_id
        return thing_id

    def datastream(
        self,
        thing_id: int,
        key: str,
        name: str,
        *,
        observed_property: dict[str, str] | None = None,
        unit: dict[str, str] | None = None,
        sensor: str | None = None,
        numeric: bool = True,
        description: str = "",
        properties: dict[str, Any] | None = None,
    ) -> int:
        prop = observed_property or {"name": name}
        definition = prop.get("definition") or (
            f"urn:odapp:observed-property:{slugify(prop['name']) or 'wert'}"
        )
        property_id = self.store.observed_property(
            prop["name"], definition, prop.get("description", "")
        )
        sensor_id = self.store.sensor(sensor or f"{self.source}: {prop['name']}")
        return self.store.datastream(
            thing_id,
            key,
            name,
            observed_property_id=property_id,
            sensor_id=sensor_id,
            unit=unit,
            observation_type=MEASUREMENT if numeric else OBSERVATION,
            description=description,
            properties=properties,
        )

    # --- readings -----------------------------------------------------------------------

    def add(self, reading: Reading) -> None:
        self._pending.append(reading)
        if len(self._pending) >= self.batch_size:
            self.flush()

    def reading(
        self,
        datastream_id: int,
        where: str,
        time: str | int,
        result: Any,
        *,
        end: str | int | None = None,
        numeric: bool = True,
        decimal_comma: bool = False,
        result_time: str | None = None,
    ) -> bool:
        """Check, normalise and add one raw reading; False (and recorded why) if rejected.

        ``time`` is ISO 8601 (instant or ``start/end``) or milliseconds; a time without zone
        is read in the source's zone and counted as normalised.
        """
        try:
            start, stop, assumed = self._time(time)
            if end is not None:
                stop, _, assumed_end = self._time(end)
                assumed = assumed or assumed_end
            rt = self._time(result_time)[0] if result_time else None
        except TimeError as exc:
            self.reject(where, "bad-time", exc.de, exc.en, time, datastream_id)
            return False
        if assumed:
            self.note(
                where,
                "no-zone",
                f"Zeit ohne Zeitzone, als {self.zone.key} gelesen.",
                f"Time without zone, read as {self.zone.key}.",
                time,
                datastream_id,
            )
        if result is None:
            self.reject(
                where,
                "no-result",
                "Der Messwert fehlt.",
                "The result is missing.",
                "",
                datastream_id,
            )
            return False
        if numeric:
            try:
                value, changed = number(result, decimal_comma=decimal_comma)
            except ValueProblem as exc:
                self.reject(where, exc.code, exc.de, exc.en, result, datastream_id)
                return False
            if changed:
                self.note(
                    where,
                    "decimal-comma",
                    "Dezimalkomma als Dezimalpunkt gelesen.",
                    "Decimal comma read as a decimal point.",
                    result,
                    datastream_id,
                )
            self.add(Reading(datastream_id, start, value, stop, result_time=rt))
        else:
            text = result if isinstance(result, str) else short(result)
            self.add(Reading(datastream_id, start, None, stop, text=text, result_time=rt))
        return True

    def _time(self, value: str | int) -> tuple[int, int | None, bool]:
        if isinstance(value, int) and not isinstance(value, bool):
            return value, None, False
        if not isinstance(value, str):
            raise TimeError(
                f"„{short(value)}“ ist keine Zeitangabe.", f"'{short(value)}' is not a time."
            )
        return parse_time(value, assume=self.zone)

    def reject(
        self,
        where: str,
        code: str,
        de: str,
        en: str,
        value: Any = "",
        datastream_id: int | None = None,
    ) -> None:
        """Record a value that was not taken (the first ones each, then a count)."""
        self.rejected += 1
        kept = self._kept.get((code, datastream_id), 0)
        if kept < REJECTIONS_KEPT:
            self._kept[(code, datastream_id)] = kept + 1
            self._issues.append(Issue(where, "rejected", code, de, en, short(value), datastream_id))
        else:
            self._count("rejected", code, where, de, en, value, datastream_id)

    def note(
        self,
        where: str,
        code: str,
        de: str,
        en: str,
        value: Any = "",
        datastream_id: int | None = None,
    ) -> None:
        """Record that a value was normalised (counted per reason and datastream)."""
        self.normalised += 1
        self._count("normalised", code, where, de, en, value, datastream_id)

    def _count(
        self, action: str, code: str, where: str, de: str, en: str, value: Any, ds: int | None
    ) -> None:
        key = (action, code, ds)
        issue = self._notes.get(key)
        if issue is None:  # the first occurrence stands for all; count says how many
            self._notes[key] = Issue(where, action, code, de, en, short(value), ds, 0)
            issue = self._notes[key]
        issue.count += 1

    def flush(self) -> IngestResult:
        """Store what is pending, with the issues found so far, in one transaction."""
        issues = self._issues + list(self._notes.values())
        if self._pending or issues:
            done = self.store.ingest(self.source, self._pending, issues, replace=self.replace)
            self.result.add(done)
        self._pending, self._issues, self._notes = [], [], {}
        return self.result

    def counts(self) -> dict[str, int]:
        return {
            "observations": self.result.inserted,
            "duplicates": self.result.duplicates,
            "conflicts": self.result.conflicts,
            "rejected": self.rejected,
            "normalised": self.normalised,
        }

    # --- catalogue ----------------------------------------------------------------------

    def harvested(
        self, base_url: str, origin: str, keys: Iterable[str] | None = None
    ) -> Iterator[Harvested]:
        """The catalogue datasets of this run's Things (or of ``keys``), after a flush."""
        self.flush()
        wanted = list(self.seen) if keys is None else list(keys)
        frequency = self.config.options.get("frequency")
        for ds in thing_datasets(
            self.engine, self.source, base_url, keys=wanted, frequency=frequency
        ):
            yield Harvested(
                source_id=ds.key,
                record=ds.record,
                origin=origin,
                source_modified=ds.record.modified,
            )


def link_datasets(engine: Engine, source: str, uris: dict[str, str]) -> None:
    """Remember each Thing's catalogue dataset IRI (STA Thing properties link to it)."""
    with engine.begin() as conn:
        for key, uri in uris.items():
            conn.execute(
                update(SensorThing)
                .where(SensorThing.source == source, SensorThing.source_key == key)
                .where((SensorThing.dataset_uri.is_(None)) | (SensorThing.dataset_uri != uri))
                .values(dataset_uri=uri)
            )
