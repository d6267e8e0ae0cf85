"""The sensor store: definitions (Things, Sensors, ObservedProperties, Datastreams), ingest of
observations exactly once, hourly and daily aggregates, retention, and the record of input
that was rejected or normalised.

Ingest is one transaction per batch: the observations, the aggregates they change, the
datastreams' newest values and the issues found are written together or not at all, so a
caller that acknowledges a message only after :meth:`SensorStore.ingest` returned never
acknowledges a reading that is not stored. A reading delivered twice is stored once: the
unique key (datastream, phenomenon time) decides, and the duplicate is counted as an issue.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Engine,
    case,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from catalog.schema import (
    SensorAggregate,
    SensorDatastream,
    SensorIssue,
    SensorObservation,
    SensorObservedProperty,
    SensorSensor,
    SensorThing,
)
from catalog.sensors.times import BERLIN, HOUR, DayBuckets
from catalog.sensors.times import iso as iso_time

MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
CATEGORY = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CategoryObservation"
TRUTH = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_TruthObservation"
COUNT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation"
OBSERVATION = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Observation"
NUMERIC_TYPES = {MEASUREMENT, COUNT}
VALUE_LIMIT = 200  # characters of an offending value kept with its issue
SQLITE_ROWS_PER_STATEMENT = 400  # 6 parameters each, well under SQLite's 32,766


@dataclass
class Reading:
    """One observation to store. Times in milliseconds since 1970 UTC."""

    datastream_id: int
    start: int
    result: float | None = None
    end: int | None = None  # set for interval observations (an hourly mean)
    text: str | None = None  # the result of a non-numeric datastream
    result_time: int | None = None


@dataclass
class Issue:
    """Input that was rejected or normalised, and why (German and English)."""

    where: str
    action: str  # rejected | normalised | duplicate
    code: str  # non-numeric | no-zone | duplicate | conflict | too-large | ...
    de: str
    en: str
    value: str = ""
    datastream_id: int | None = None
    count: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "action": self.action,
            "code": self.code,
            "message_de": self.de,
            "message_en": self.en,
            "value": self.value,
            "datastream_id": self.datastream_id,
            "count": self.count,
        }


@dataclass
class IngestResult:
    inserted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    touched: set[int] = field(default_factory=set)  # datastreams with new readings
    newest: dict[int, int] = field(default_factory=dict)  # datastream -> newest new time

    def add(self, other: IngestResult) -> None:
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        self.conflicts += other.conflicts
        self.touched |= other.touched
        for ds, ms in other.newest.items():
            self.newest[ds] = max(ms, self.newest.get(ds, ms))


class SeriesRow(NamedTuple):
    """One row of a time series: a raw reading or an aggregate bucket."""

    start: int
    end: int | None
    value: float | None
    text: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    count: int = 1
    id: int | None = None
    result_time: int | None = None


def short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= VALUE_LIMIT else text[:VALUE_LIMIT] + "…"


def _now() -> datetime:
    return datetime.now(UTC)


class SensorStore:
    """All reads and writes of sensor data go through here."""

    def __init__(self, engine: Engine, day_zone: tzinfo = BERLIN) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.days = DayBuckets(day_zone)
        self._ids: dict[tuple[Any, ...], int] = {}  # definition key -> id, per process

    # --- definitions --------------------------------------------------------------------

    def thing(
        self,
        source: str,
        key: str,
        name: str,
        *,
        description: str = "",
        properties: dict[str, Any] | None = None,
        location: dict[str, Any] | tuple[float, float] | None = None,
        location_name: str | None = None,
        organization: str | None = None,
    ) -> int:
        """The Thing ``key`` of ``source``, created or brought up to date; its id."""
        geometry = location
        if isinstance(location, tuple | list):
            geometry = {"type": "Point", "coordinates": [float(location[0]), float(location[1])]}
        lon = lat = None
        if isinstance(geometry, dict) and geometry.get("type") == "Point":
            lon, lat = (float(c) for c in geometry["coordinates"][:2])
        values = {
            "name": name,
            "description": description,
            "properties": json.dumps(properties or {}, ensure_ascii=False, sort_keys=True),
            "location_name": location_name or (name if geometry else None),
            "location": json.dumps(geometry) if geometry else None,
            "lon": lon,
            "lat": lat,
            "organization": organization,
        }
        return self._upsert(
            SensorThing,
            (SensorThing.source == source, SensorThing.source_key == key),
            {"source": source, "source_key": key},
            values,
            created=True,
        )

    def sensor(
        self,
        name: str,
        *,
        description: str = "",
        encoding_type: str = "text/plain",
        metadata: str = "",
    ) -> int:
        values = {"description": description, "encoding_type": encoding_type, "metadata_": metadata}
        return self._upsert(SensorSensor, (SensorSensor.name == name,), {"name": name}, values)

    def observed_property(self, name: str, definition: str, description: str = "") -> int:
        values = {"name": name, "description": description}
        return self._upsert(
            SensorObservedProperty,
            (SensorObservedProperty.definition == definition,),
            {"definition": definition},
            values,
        )

    def datastream(
        self,
        thing_id: int,
        key: str,
        name: str,
        *,
        observed_property_id: int,
        sensor_id: int,
        unit: dict[str, str] | None = None,
        observation_type: str = MEASUREMENT,
        description: str = "",
        properties: dict[str, Any] | None = None,
    ) -> int:
        unit = unit or {}
        values = {
            "name": name,
            "description": description,
            "observed_property_id": observed_property_id,
            "sensor_id": sensor_id,
            "observation_type": observation_type,
            "unit_name": unit.get("name", ""),
            "unit_symbol": unit.get("symbol", ""),
            "unit_definition": unit.get("definition", ""),
            "properties": json.dumps(properties or {}, ensure_ascii=False, sort_keys=True),
        }
        return self._upsert(
            SensorDatastream,
            (SensorDatastream.thing_id == thing_id, SensorDatastream.source_key == key),
            {"thing_id": thing_id, "source_key": key},
            values,
            stamped=True,
        )

    def _upsert(
        self,
        table: Any,
        where: tuple[Any, ...],
        keys: dict[str, Any],
        values: dict[str, Any],
        *,
        created: bool = False,
        stamped: bool = False,
    ) -> int:
        cache_key = (table.__tablename__, *keys.values(), json.dumps(values, default=str))
        known = self._ids.get(cache_key)
        if known is not None:
            return known
        for attempt in range(2):
            try:
                with self.engine.begin() as conn:
                    row = conn.execute(select(table).where(*where)).first()
                    now = _now()
                    stamps = {"updated_at": now} if created or stamped else {}
                    if row is None:
                        if created:
                            stamps["created_at"] = now
                        new_id = conn.execute(
                            insert(table).values(**keys, **values, **stamps).returning(table.id)
                        ).scalar_one()
                    else:
                        new_id = row.id
                        current = row._mapping
                        changed = {
                            k: v
                            for k, v in values.items()
                            if current[getattr(table, k).key if k != "metadata_" else "metadata"]
                            != v
                        }
                        if changed:
                            conn.execute(
                                update(table).where(table.id == new_id).values(**changed, **stamps)
                            )
                break
            except IntegrityError:  # created by another process meanwhile: read it again
                if attempt:
                    raise
        self._ids[cache_key] = new_id
        return new_id

    # --- ingest -------------------------------------------------------------------------

    def ingest(
        self,
        source: str,
        readings: Sequence[Reading],
        issues: Sequence[Issue] = (),
        *,
        replace: bool = False,
    ) -> IngestResult:
        """Store ``readings`` (each once) and record ``issues``, in one transaction.

        Another value for a time already stored is a conflict: kept out and recorded, or with
        ``replace`` (a source that publishes corrected values) taken, with the hourly and daily
        values recomputed and the correction recorded.
        """
        result = IngestResult()
        with self.engine.begin() as conn:
            readings, too_old = self._within_retention(conn, readings)
            issues = [*issues, *too_old]
            if readings:
                inserted = (
                    self._insert_postgresql(conn, readings)
                    if self.dialect == "postgresql"
                    else self._insert_sqlite(conn, readings)
                )
                result.inserted = len(inserted)
                duplicates = len(readings) - len(inserted)
                found = list(issues)
                if duplicates:
                    found += self._duplicates(conn, readings, inserted, result, replace)
                self._aggregate(conn, inserted)
                self._advance(conn, inserted, result)
                issues = found
            if issues:
                self._record(conn, source, issues)
        return result

    def _within_retention(
        self, conn: Connection, readings: Sequence[Reading]
    ) -> tuple[Sequence[Reading], list[Issue]]:
        """Readings older than what retention removed cannot be checked against the raw data
        any more (a redelivery would count twice in the aggregates): they are refused."""
        d = SensorDatastream
        marks = dict(
            conn.execute(select(d.id, d.pruned_before).where(d.pruned_before.is_not(None))).all()
        )
        if not marks:
            return readings, []
        kept, refused = [], {}
        for r in readings:
            mark = marks.get(r.datastream_id)
            if mark is not None and r.start < mark:
                refused[r.datastream_id] = refused.get(r.datastream_id, 0) + 1
            else:
                kept.append(r)
        issues = [
            Issue(
                where=f"Datastreams({ds})",
                action="rejected",
                code="older-than-retention",
                de=f"{n} Beobachtung(en) vor {iso_time(marks[ds])}: Rohwerte dieser Zeit sind nach "
                "der Aufbewahrungsfrist gelöscht, daher nicht übernommen.",
                en=f"{n} observation(s) before {iso_time(marks[ds])}: raw readings of that time "
                "are deleted after the retention period, so they were not taken.",
                datastream_id=ds,
                count=n,
            )
            for ds, n in refused.items()
        ]
        return kept, issues

    def record(self, source: str, issues: Sequence[Issue]) -> None:
        """Record issues found before anything could be stored (a payload too large)."""
        if issues:
            with self.engine.begin() as conn:
                self._record(conn, source, issues)

    def _record(self, conn: Connection, source: str, issues: Iterable[Issue]) -> None:
        now = _now()
        conn.execute(
            insert(SensorIssue),
            [
                {
                    "source": source,
                    "datastream_id": i.datastream_id,
                    "where": i.where[:2000],
                    "action": i.action,
                    "code": i.code,
                    "reason_de": i.de,
                    "reason_en": i.en,
                    "value": short(i.value),
                    "count": i.count,
                    "at": now,
                }
                for i in issues
            ],
        )

    def _insert_sqlite(self, conn: Connection, readings: Sequence[Reading]) -> list[tuple]:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        inserted: list[tuple] = []
        for i in range(0, len(readings), SQLITE_ROWS_PER_STATEMENT):
            chunk = readings[i : i + SQLITE_ROWS_PER_STATEMENT]
            params: list[Any] = []
            for r in chunk:
                params += (r.datastream_id, r.start, r.end, r.result_time, r.result, r.text)
            cursor.execute(
                "INSERT INTO sensor_observations (datastream_id, phenomenon_start, "
                "phenomenon_end, result_time, result, result_text) VALUES "
                + ",".join(["(?,?,?,?,?,?)"] * len(chunk))
                + " ON CONFLICT (datastream_id, phenomenon_start) DO NOTHING "
                "RETURNING datastream_id, phenomenon_start, phenomenon_end, result",
                params,
            )
            inserted += cursor.fetchall()
        return inserted

    def _insert_postgresql(self, conn: Connection, readings: Sequence[Reading]) -> list[tuple]:
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS sensor_incoming (n serial, datastream_id int, "
                "phenomenon_start bigint, phenomenon_end bigint, result_time bigint, "
                "result double precision, result_text text) ON COMMIT DELETE ROWS"
            )
            with cursor.copy(
                "COPY sensor_incoming (datastream_id, phenomenon_start, phenomenon_end, "
                "result_time, result, result_text) FROM STDIN"
            ) as copy:
                buffer = io.StringIO()
                for r in readings:
                    buffer.write(
                        f"{r.datastream_id}\t{r.start}\t{_copy(r.end)}\t{_copy(r.result_time)}"
                        f"\t{_copy(r.result)}\t{_copy_text(r.text)}\n"
                    )
                copy.write(buffer.getvalue())
            cursor.execute(
                "INSERT INTO sensor_observations (datastream_id, phenomenon_start, "
                "phenomenon_end, result_time, result, result_text) "
                "SELECT datastream_id, phenomenon_start, phenomenon_end, result_time, result, "
                "result_text FROM sensor_incoming ORDER BY n "
                "ON CONFLICT (datastream_id, phenomenon_start) DO NOTHING "
                "RETURNING datastream_id, phenomenon_start, phenomenon_end, result"
            )
            inserted = cursor.fetchall()
            cursor.execute("TRUNCATE sensor_incoming")
        return inserted

    def _duplicates(
        self,
        conn: Connection,
        readings: Sequence[Reading],
        inserted: list[tuple],
        result: IngestResult,
        replace: bool = False,
    ) -> list[Issue]:
        """Readings not inserted: the same reading again (counted) or another value for a
        time already stored (each recorded with both values; taken with ``replace``)."""
        new = {(row[0], row[1]) for row in inserted}
        by_stream: dict[int, list[Reading]] = {}
        seen: set[tuple[int, int]] = set()
        for r in readings:
            key = (r.datastream_id, r.start)
            if key in new and key not in seen:
                seen.add(key)  # the copy that was stored; a second one in the batch is a dup
                continue
            by_stream.setdefault(r.datastream_id, []).append(r)
        issues: list[Issue] = []
        for ds, dups in by_stream.items():
            stored: dict[int, tuple[float | None, str | None]] = {}
            times = sorted({r.start for r in dups})
            for i in range(0, len(times), 500):
                chunk = times[i : i + 500]
                stmt = select(
                    SensorObservation.phenomenon_start,
                    SensorObservation.result,
                    SensorObservation.result_text,
                ).where(
                    SensorObservation.datastream_id == ds,
                    SensorObservation.phenomenon_start.in_(chunk),
                )
                stored.update({t: (v, s) for t, v, s in conn.execute(stmt)})
            same = 0
            corrections: dict[int, tuple[Reading, float | None, str | None]] = {}
            for r in dups:
                value, text = stored.get(r.start, (None, None))
                if value == r.result and text == r.text:
                    same += 1
                    continue
                result.conflicts += 1
                if replace:  # the last value for a time wins
                    old = corrections.get(r.start)
                    corrections[r.start] = (r, *(old[1:] if old else (value, text)))
                    continue
                issues.append(
                    Issue(
                        where=f"Datastreams({ds}) {iso_time(r.start)}",
                        action="rejected",
                        code="conflict",
                        de=f"Für diese Zeit ist schon der Wert {value if text is None else text} "
                        "gespeichert; der abweichende Wert wurde nicht übernommen.",
                        en=f"The value {value if text is None else text} is already stored for "
                        "this time; the different value was not taken.",
                        value=str(r.result if r.text is None else r.text),
                        datastream_id=ds,
                    )
                )
            if corrections:
                issues += self._correct(conn, ds, list(corrections.values()))
            if same:
                result.duplicates += same
                issues.append(
                    Issue(
                        where=f"Datastreams({ds})",
                        action="duplicate",
                        code="duplicate",
                        de=f"{same} Beobachtung(en) kamen doppelt an und sind nur einmal "
                        "gespeichert.",
                        en=f"{same} observation(s) arrived again and are stored once.",
                        datastream_id=ds,
                        count=same,
                    )
                )
        return issues

    def _correct(
        self,
        conn: Connection,
        ds: int,
        corrections: list[tuple[Reading, float | None, str | None]],
    ) -> list[Issue]:
        """Take corrected values, recompute the hourly and daily values they fall in (from
        the raw readings, where retention has not removed those), record each correction."""
        t, a = SensorObservation, SensorAggregate
        issues = []
        buckets: set[tuple[str, int, int]] = set()
        for r, old, old_text in corrections:
            conn.execute(
                update(t)
                .where(t.datastream_id == ds, t.phenomenon_start == r.start)
                .values(
                    result=r.result,
                    result_text=r.text,
                    phenomenon_end=r.end,
                    result_time=r.result_time,
                )
            )
            conn.execute(
                update(SensorDatastream)
                .where(SensorDatastream.id == ds, SensorDatastream.last_time == r.start)
                .values(last_result=r.result, last_end=r.end)
            )
            hour = r.start - r.start % HOUR
            buckets |= {("hour", hour, hour + HOUR), ("day", *self.days.bucket(r.start))}
            was = old if old_text is None else old_text
            now = r.result if r.text is None else r.text
            issues.append(
                Issue(
                    where=f"Datastreams({ds}) {iso_time(r.start)}",
                    action="corrected",
                    code="corrected",
                    de=f"Wert korrigiert: {was} → {now}.",
                    en=f"Value corrected: {was} → {now}.",
                    value=str(now),
                    datastream_id=ds,
                )
            )
        pruned = conn.execute(
            select(SensorDatastream.pruned_before).where(SensorDatastream.id == ds)
        ).scalar()
        for resolution, start, end in sorted(buckets):
            key = (a.datastream_id == ds, a.resolution == resolution, a.bucket == start)
            if pruned is not None and pruned > start:  # raw readings of the bucket are gone
                issues.append(
                    Issue(
                        where=f"Datastreams({ds}) {resolution} {iso_time(start)}",
                        action="rejected",
                        code="aggregate-kept",
                        de="Die Rohwerte dieses Zeitraums sind nicht mehr gespeichert; der "
                        "Stunden- bzw. Tageswert bleibt ohne die Korrektur.",
                        en="The raw readings of this period are no longer kept; the hourly or "
                        "daily value stays without the correction.",
                        datastream_id=ds,
                    )
                )
                continue
            n, total, low, high = conn.execute(
                select(
                    func.count(t.result), func.sum(t.result), func.min(t.result), func.max(t.result)
                )
                .where(t.datastream_id == ds, t.phenomenon_start >= start)
                .where(t.phenomenon_start < end)
            ).one()
            if not n:
                conn.execute(delete(a).where(*key))
            elif (
                conn.execute(
                    update(a).where(*key).values(count=n, total=total, minimum=low, maximum=high)
                ).rowcount
                == 0
            ):
                conn.execute(
                    insert(a).values(
                        datastream_id=ds,
                        resolution=resolution,
                        bucket=start,
                        bucket_end=end,
                        count=n,
                        total=total,
                        minimum=low,
                        maximum=high,
                    )
                )
        return issues

    def _aggregate(self, conn: Connection, inserted: list[tuple]) -> None:
        buckets: dict[tuple[int, str, int], list[float]] = {}
        for ds, start, _end, value in inserted:
            if value is None:
                continue
            hour = start - start % HOUR
            day, day_end = self.days.bucket(start)
            for key, end in (((ds, "hour", hour), hour + HOUR), ((ds, "day", day), day_end)):
                acc = buckets.get(key)
                if acc is None:
                    buckets[key] = [end, 1, value, value, value]
                else:
                    acc[1] += 1
                    acc[2] += value
                    acc[3] = min(acc[3], value)
                    acc[4] = max(acc[4], value)
        if not buckets:
            return
        least, greatest = ("min", "max") if self.dialect == "sqlite" else ("LEAST", "GREATEST")
        sql = (
            "INSERT INTO sensor_aggregates (datastream_id, resolution, bucket, bucket_end, "
            "count, total, minimum, maximum) VALUES (%s) "
            "ON CONFLICT (datastream_id, resolution, bucket) DO UPDATE SET "
            "count = sensor_aggregates.count + excluded.count, "
            "total = sensor_aggregates.total + excluded.total, "
            f"minimum = {least}(sensor_aggregates.minimum, excluded.minimum), "
            f"maximum = {greatest}(sensor_aggregates.maximum, excluded.maximum)"
        )
        marks = ",".join(["?" if self.dialect == "sqlite" else "%s"] * 8)
        rows = [(ds, res, b, *acc) for (ds, res, b), acc in buckets.items()]
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(sql % marks, rows)

    def _advance(self, conn: Connection, inserted: list[tuple], result: IngestResult) -> None:
        """Each datastream's extent, count and newest value."""
        stats: dict[int, list[Any]] = {}  # ds -> [first, last, last_end, last_value, n]
        for ds, start, end, value in inserted:
            s = stats.get(ds)
            if s is None:
                stats[ds] = [start, start, end, value, 1]
                continue
            s[4] += 1
            if start < s[0]:
                s[0] = start
            if start > s[1]:
                s[1], s[2], s[3] = start, end, value
        now = _now()
        t = SensorDatastream
        for ds, (first, last, last_end, value, n) in stats.items():
            newer = (t.last_time.is_(None)) | (t.last_time < last)
            conn.execute(
                update(t)
                .where(t.id == ds)
                .values(
                    first_time=func.coalesce(func.min(t.first_time, first), first)
                    if self.dialect == "sqlite"
                    else func.least(func.coalesce(t.first_time, first), first),
                    last_result=_case(newer, value, t.last_result),
                    last_end=_case(newer, last_end, t.last_end),
                    last_time=_case(newer, last, t.last_time),
                    observation_count=t.observation_count + n,
                    updated_at=now,
                )
            )
            result.touched.add(ds)
            result.newest[ds] = last

    # --- reads --------------------------------------------------------------------------

    def newest(self, datastream_id: int) -> int | None:
        """The phenomenon time of the newest stored reading (incremental harvests)."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(SensorDatastream.last_time).where(SensorDatastream.id == datastream_id)
            ).scalar_one_or_none()

    def series(
        self,
        datastream_id: int,
        *,
        start: int | None = None,
        end: int | None = None,
        resolution: str = "raw",
        limit: int | None = None,
        offset: int = 0,
        descending: bool = False,
    ) -> list[SeriesRow]:
        """Readings (``raw``) or aggregates (``hour``, ``day``) with start in [start, end]."""
        if resolution == "raw":
            t = SensorObservation
            time_col = t.phenomenon_start
            stmt = select(
                t.phenomenon_start, t.phenomenon_end, t.result, t.result_text, t.id, t.result_time
            ).where(t.datastream_id == datastream_id)
        else:
            a = SensorAggregate
            time_col = a.bucket
            stmt = select(
                a.bucket, a.bucket_end, a.total / a.count, a.minimum, a.maximum, a.count
            ).where(a.datastream_id == datastream_id, a.resolution == resolution)
        if start is not None:
            stmt = stmt.where(time_col >= start)
        if end is not None:
            stmt = stmt.where(time_col <= end)
        stmt = stmt.order_by(time_col.desc() if descending else time_col).offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.engine.connect() as conn:
            rows = _fetch(conn, stmt)
        if resolution == "raw":  # positional: half a million rows a year of minute data
            return [SeriesRow(s, e, v, x, None, None, 1, i, rt) for s, e, v, x, i, rt in rows]
        return [SeriesRow(s, e, v, None, lo, hi, n) for s, e, v, lo, hi, n in rows]

    def issues(self, source: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        stmt = select(SensorIssue).order_by(SensorIssue.id.desc()).limit(limit)
        if source is not None:
            stmt = stmt.where(SensorIssue.source == source)
        with self.engine.connect() as conn:
            return [
                {
                    "source": r.source,
                    "datastream_id": r.datastream_id,
                    "where": r.where,
                    "action": r.action,
                    "code": r.code,
                    "message_de": r.reason_de,
                    "message_en": r.reason_en,
                    "value": r.value,
                    "count": r.count,
                    "at": r.at.isoformat() if r.at else None,
                }
                for r in conn.execute(stmt)
            ]

    # --- retention ----------------------------------------------------------------------

    def prune(self, before: int, batch: int = 50_000) -> int:
        """Delete raw readings older than ``before`` (ms); aggregates stay. Returns how many."""
        t = SensorObservation
        removed = 0
        while True:
            with self.engine.begin() as conn:
                rows = conn.execute(
                    select(t.id, t.datastream_id).where(t.phenomenon_start < before).limit(batch)
                ).all()
                if not rows:
                    d = SensorDatastream
                    conn.execute(
                        update(d)
                        .where((d.pruned_before.is_(None)) | (d.pruned_before < before))
                        .values(pruned_before=before)
                    )
                    return removed
                counts: dict[int, int] = {}
                for _id, ds in rows:
                    counts[ds] = counts.get(ds, 0) + 1
                ids = [r[0] for r in rows]
                for i in range(0, len(ids), 5000):
                    conn.execute(delete(t).where(t.id.in_(ids[i : i + 5000])))
                for ds, n in counts.items():
                    conn.execute(
                        update(SensorDatastream)
                        .where(SensorDatastream.id == ds)
                        .values(observation_count=SensorDatastream.observation_count - n)
                    )
                    removed += n


def _fetch(conn: Connection, stmt: Any) -> list[tuple]:
    """Rows as plain tuples straight from the driver: SQLAlchemy's Row objects cost more than
    the query itself for long series."""
    compiled = stmt.compile(dialect=conn.dialect)
    params = compiled.construct_params()
    args: Any = tuple(params[k] for k in compiled.positiontup) if compiled.positiontup else params
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), args)
        return cursor.fetchall()
    finally:
        cursor.close()


def _case(condition: Any, new: Any, old: Any) -> Any:
    return case((condition, literal(new) if new is not None else null()), else_=old)


def _copy(value: Any) -> str:
    return "\\N" if value is None else repr(value) if isinstance(value, float) else str(value)


def _copy_text(value: str | None) -> str:
    if value is None:
        return "\\N"
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )
