"""Times of sensor data: ISO 8601 in and out, milliseconds since 1970 UTC inside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

HOUR = 3_600_000
DAY = 24 * HOUR
BERLIN = ZoneInfo("Europe/Berlin")


LARGEST_INT = 2**63 - 1  # what SQLite and PostgreSQL bigint hold


def db_int(value: int) -> int:
    """``value`` if a database integer can hold it; ValueError otherwise (an id or key from
    a URL that no row can have: a 404 or 400, never an overflow in the driver)."""
    if not -LARGEST_INT <= value <= LARGEST_INT:
        raise ValueError(f"{value} is out of range")
    return value


class TimeError(ValueError):
    """A time that cannot be read; ``de``/``en`` say why."""

    def __init__(self, de: str, en: str) -> None:
        super().__init__(en)
        self.de = de
        self.en = en


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(value: datetime) -> int:
    return (value - EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def iso(ms: int | None) -> str | None:
    """``2019-02-01T00:00:00Z`` (milliseconds only where there are any)."""
    if ms is None:
        return None
    value = from_ms(ms)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if ms % 1000:
        text += f".{ms % 1000:03d}"
    return text + "Z"


def iso_interval(start: int, end: int | None) -> str:
    return f"{iso(start)}/{iso(end)}" if end is not None and end != start else str(iso(start))


def parse_instant(text: str, *, assume: tzinfo | None = None) -> tuple[int, bool]:
    """Milliseconds of an ISO 8601 instant and whether a zone had to be assumed.

    A time without zone is read in ``assume`` (the source's local time) if given, else
    refused: the caller records that it normalised it.
    """
    raw = text.strip()
    if not raw:
        raise TimeError("Zeitangabe fehlt.", "The time is missing.")
    try:
        value = datetime.fromisoformat(raw.replace(" ", "T", 1) if "T" not in raw else raw)
    except ValueError:
        raise TimeError(
            f"'{raw[:60]}' ist keine Zeitangabe nach ISO 8601.",
            f"'{raw[:60]}' is not an ISO 8601 time.",
        ) from None
    assumed = False
    if value.tzinfo is None:
        if assume is None:
            raise TimeError(f"'{raw[:60]}' hat keine Zeitzone.", f"'{raw[:60]}' has no time zone.")
        value = value.replace(tzinfo=assume)
        assumed = True
    return to_ms(value), assumed


def parse_time(text: str, *, assume: tzinfo | None = None) -> tuple[int, int | None, bool]:
    """An instant or an ISO 8601 interval ``start/end``: (start, end or None, zone assumed)."""
    if "/" in text:
        first, second = text.split("/", 1)
        start, assumed_a = parse_instant(first, assume=assume)
        end, assumed_b = parse_instant(second, assume=assume)
        if end < start:
            raise TimeError(
                f"Das Intervall '{text[:80]}' endet vor seinem Anfang.",
                f"The interval '{text[:80]}' ends before it starts.",
            )
        return start, end, assumed_a or assumed_b
    start, assumed = parse_instant(text, assume=assume)
    return start, None, assumed


def parse_range(text: str) -> tuple[int | None, int | None]:
    """An OGC/STA ``datetime`` range: ``a/b``, ``a/..``, ``../b`` or one instant."""
    if "/" not in text:
        ms, _ = parse_instant(text, assume=UTC)
        return ms, ms
    first, second = text.split("/", 1)
    start = None if first in ("", "..") else parse_instant(first, assume=UTC)[0]
    end = None if second in ("", "..") else parse_instant(second, assume=UTC)[0]
    return start, end


class DayBuckets:
    """Start and end of the local day (Europe/Berlin by default) a time falls in; the UTC
    offset is looked up once per hour, which keeps bulk ingest fast."""

    def __init__(self, zone: tzinfo = BERLIN) -> None:
        self.zone = zone
        self._offsets: dict[int, int] = {}

    def _offset(self, ms: int) -> int:
        hour = ms // HOUR
        offset = self._offsets.get(hour)
        if offset is None:
            delta = from_ms(hour * HOUR).astimezone(self.zone).utcoffset()
            offset = int(delta.total_seconds() * 1000) if delta else 0
            self._offsets[hour] = offset
        return offset

    def bucket(self, ms: int) -> tuple[int, int]:
        local = ms + self._offset(ms)
        day = local - local % DAY
        start = day - self._offset(day - self._offset(ms))
        # a 23- or 25-hour day ends where the next local midnight is
        nxt = day + DAY
        end = nxt - self._offset(nxt - self._offset(ms))
        return start, end
