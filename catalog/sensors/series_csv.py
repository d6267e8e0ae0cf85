"""Time series as CSV (RFC 4180, UTF-8, header row) and JSON, written chunk by chunk: a
datastream's readings are read in pages by keyset on the phenomenon time, so a year of minute
data is never held in memory at once."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, select

from catalog.schema import SensorDatastream, SensorObservedProperty
from catalog.sensors.store import SensorStore, SeriesRow
from catalog.sensors.times import DAY, TimeError, iso, parse_range

CHUNK = 10_000  # rows read per query
RESOLUTIONS = ("raw", "hour", "day")
STREAM_COLUMNS = [
    "datastream_id",
    "datastream",
    "observed_property",
    "unit",
    "phenomenon_time_start",
    "phenomenon_time_end",
]
RAW_COLUMNS = [*STREAM_COLUMNS, "result"]
AGGREGATE_COLUMNS = [*STREAM_COLUMNS, "mean", "min", "max", "count"]


def _is_date(text: str) -> bool:
    return len(text) == 10 and text[4] == "-" and text[7] == "-"


def query_range(text: str) -> tuple[int | None, int | None]:
    """A ``datetime`` query parameter as (start, end) in ms, both inclusive, None where open.

    Times without zone are UTC. A date alone means the whole UTC day: ``2024-06-09`` is that
    day, and ``2024-06-01/2024-06-30`` ends at the end of the 30th, as people mean it."""
    text = text.strip()
    start, end = parse_range(text)
    first, _, second = text.partition("/")
    if end is not None and _is_date(second or first):  # the instant's or the range's end
        end += DAY - 1
    if start is not None and end is not None and end < start:
        raise TimeError(
            f"Der Zeitraum '{text[:80]}' endet vor seinem Anfang.",
            f"The range '{text[:80]}' ends before it starts.",
        )
    return start, end


@dataclass(frozen=True)
class StreamInfo:
    """What each row of a datastream repeats."""

    id: int
    name: str
    observed_property: str
    unit: str


def stream_infos(
    engine: Engine, *, datastream_id: int | None = None, thing_id: int | None = None
) -> list[StreamInfo]:
    """One datastream, or all of a Thing's (by id); empty when there is none."""
    ds, prop = SensorDatastream, SensorObservedProperty
    stmt = (
        select(ds.id, ds.name, prop.name, ds.unit_symbol)
        .join(prop, prop.id == ds.observed_property_id)
        .order_by(ds.id)
    )
    if datastream_id is not None:
        stmt = stmt.where(ds.id == datastream_id)
    if thing_id is not None:
        stmt = stmt.where(ds.thing_id == thing_id)
    with engine.connect() as conn:
        return [StreamInfo(*row) for row in conn.execute(stmt)]


def series_rows(
    store: SensorStore,
    stream: StreamInfo,
    start: int | None,
    end: int | None,
    resolution: str,
    chunk: int = CHUNK,
) -> Iterator[SeriesRow]:
    """Every row of ``stream`` with start in [start, end], in time order, read ``chunk`` at a
    time; each next chunk starts after the last time seen (times are unique per datastream)."""
    cursor = start
    while True:
        rows = store.series(stream.id, start=cursor, end=end, resolution=resolution, limit=chunk)
        yield from rows
        if len(rows) < chunk:
            return
        cursor = rows[-1].start + 1


def _number(value: float | int | None) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def _cells(stream: StreamInfo, row: SeriesRow, resolution: str) -> list[str]:
    cells = [
        str(stream.id),
        stream.name,
        stream.observed_property,
        stream.unit,
        iso(row.start) or "",
        iso(row.end) or "",
    ]
    if resolution == "raw":
        cells.append(_number(row.value) if row.value is not None else row.text or "")
    else:
        cells += [_number(row.value), _number(row.minimum), _number(row.maximum), str(row.count)]
    return cells


def csv_chunks(
    store: SensorStore,
    streams: Iterable[StreamInfo],
    start: int | None,
    end: int | None,
    resolution: str,
    chunk: int = CHUNK,
) -> Iterator[str]:
    """The CSV text in pieces of about ``chunk`` rows: the header, then each datastream's rows
    (long format)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(RAW_COLUMNS if resolution == "raw" else AGGREGATE_COLUMNS)
    pending = 0
    for stream in streams:
        for row in series_rows(store, stream, start, end, resolution, chunk):
            writer.writerow(_cells(stream, row, resolution))
            pending += 1
            if pending >= chunk:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
                pending = 0
    yield buffer.getvalue()


def json_chunks(
    store: SensorStore,
    stream: StreamInfo,
    start: int | None,
    end: int | None,
    resolution: str,
    chunk: int = CHUNK,
) -> Iterator[str]:
    """``{"datastream": …, "resolution": …, "observations": [...]}``, streamed the same way."""
    head = {
        "datastream": {
            "id": stream.id,
            "name": stream.name,
            "observed_property": stream.observed_property,
            "unit": stream.unit,
        },
        "resolution": resolution,
    }
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "observations": ['
    parts: list[str] = []
    first = True
    for row in series_rows(store, stream, start, end, resolution, chunk):
        item: dict[str, object] = {
            "phenomenonTime": iso(row.start),
            "phenomenonTimeEnd": iso(row.end),
        }
        if resolution == "raw":
            item["result"] = row.value if row.value is not None else row.text
        else:
            item.update(mean=row.value, min=row.minimum, max=row.maximum, count=row.count)
        parts.append(("" if first else ",") + json.dumps(item, ensure_ascii=False))
        first = False
        if len(parts) >= chunk:
            yield "".join(parts)
            parts = []
    yield "".join(parts) + "]}"
