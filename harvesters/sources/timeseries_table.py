"""A station's time-series export (CSV or XLSX) read into rows with UTC times: the pure part of
the ``timeseries-files`` source type (no store, no network; bytes in, rows and problems out).

Layout
------
* The header is the first row that names a date or time column (Datum, Zeit, Date, Time,
  Zeitpunkt, …) among the first lines; without one, the first non-empty row is the header and
  its first column holds the time. Lines above the header (export metadata) are skipped.
* Time: a date column plus a time column (``Datum`` + ``Zeit``, as in the LfULG air-quality
  exports), or one date-time column. Dates ``2019-02-01``, ``01.02.2019``, ``01.02.19``,
  ``2019/02/01``; times ``01:00``, ``1:00:00``, ``24:00`` (= 00:00 of the next day), an hour
  number, or Excel date/time cells. A date-time with ``Z`` or ``+01:00`` is taken as written;
  every other time is local time in ``zone`` (with daylight saving time).
* A row without a time (an empty time cell, or a date without time) is a daily value: its
  phenomenon time is the local day, ``[D 00:00, D+1 00:00)`` in UTC (23 or 25 hours long on
  the days the clocks change).
* A units row directly under the header (its date cell is not a date, e.g. ``yyyy-mm-dd``,
  and no value cell is a number) gives each column's unit; ``NO2 [µg/m³]`` in the header does
  too.
* Delimiter, decimal mark and encoding are detected unless given: ``;`` with decimal comma as
  German Excel writes it, ``,`` (or tab) with decimal point; UTF-8 (with or without BOM), else
  Windows-1252.

Intervals
---------
A timed row stands for an interval of ``interval_minutes`` (inferred as the most common step
between the first rows unless given; 60 for hourly data). With ``time_label="end"`` (default,
as in the LfULG files: "01:00" is the mean of 00:00–01:00, "00:00" closes the previous day) the
row's time is the interval's end, so the interval is ``[t - interval, t]``; with ``"start"`` it
is ``[t, t + interval]``.

Daylight saving time (Europe/Berlin; worked out for end labels, hourly data)
------------------------------------------------------------------------------
Spring, 2019-03-31, clocks jump from 02:00 CET to 03:00 CEST (at 01:00 UTC):

=========  ======================  =================================
label      instant (label = end)   interval in UTC
=========  ======================  =================================
01:00      01:00 CET = 00:00Z      2019-03-30T23:00Z / 03-31T00:00Z
02:00      does not exist          rejected ("nonexistent-time")
03:00      03:00 CEST = 01:00Z     2019-03-31T00:00Z / 01:00Z
04:00      04:00 CEST = 02:00Z     01:00Z / 02:00Z
=========  ======================  =================================

The hour 01:00–02:00 CET ends at the instant the clock shows 03:00 CEST, so "01:00" and
"03:00" are consecutive hours and the day has 23 rows; a row labelled "02:00" names a wall time
that does not exist and is rejected with its reason (02:00–02:59 likewise for minute data).

Autumn, 2019-10-27, clocks go back from 03:00 CEST to 02:00 CET (at 01:00 UTC); wall times
02:00–02:59 occur twice:

=====================  ======================  =================================
label (file order)     instant (label = end)   interval in UTC
=====================  ======================  =================================
01:00                  01:00 CEST = 23:00Z     10-26T22:00Z / 23:00Z
02:00 (first)          02:00 CEST = 00:00Z     10-26T23:00Z / 10-27T00:00Z
02:00 (second)         02:00 CET  = 01:00Z     00:00Z / 01:00Z
03:00                  03:00 CET  = 02:00Z     01:00Z / 02:00Z
=====================  ======================  =================================

The hour 02:00–03:00 CEST ends when the clock would show 03:00 CEST and is set back to 02:00
CET, so the label "02:00" appears twice and the day has 25 rows. Which is which is decided by
order of appearance within the file: the first occurrence is summer time (fold 0), the second
winter time (fold 1); in a file sorted newest first it is the other way round. A third
occurrence is a duplicate. With start labels the same holds for the start times ("02:00"
twice in autumn, none in spring). A file that holds only one of the two "02:00" rows cannot
say which it is: it is taken as the first (summer time).

Rows with the same UTC time as an earlier row of the same series (timed or daily) are marked
with ``duplicate_of`` = the earlier line; the caller decides (same value: a duplicate, another
value: a conflict).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import chain
from typing import Any

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
EPOCH_NAIVE = datetime(1970, 1, 1)
LOOKAHEAD = 200  # data rows read ahead to detect the decimal mark, interval and order
HEADER_SEARCH = 20  # lines searched for the header
DEFAULT_INTERVAL = 60

DATE_NAMES = {"datum", "date", "tag", "day", "messdatum"}
TIME_NAMES = {"zeit", "uhrzeit", "time", "uhr", "messzeit", "stunde", "hour"}
DATETIME_NAMES = {
    "datum/zeit",
    "datum zeit",
    "datum_zeit",
    "datum/uhrzeit",
    "datum uhrzeit",
    "datumzeit",
    "zeitpunkt",
    "messzeitpunkt",
    "zeitstempel",
    "timestamp",
    "datetime",
    "date/time",
    "date_time",
    "date time",
}

_DATE_TIME = re.compile(
    r"^\s*(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})|(\d{4})/(\d{1,2})/(\d{1,2}))"
    r"(?:(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*$"
)
_TIME = re.compile(r"^\s*(\d{1,2})(?::(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?\s*(?:Uhr)?\s*$", re.I)
_HEADER_UNIT = re.compile(r"^(.*?)\s*[\[(]([^\])]+)[\])]\s*$")
_NUMBERISH = re.compile(r"^[+-]?[\d.,]+(?:[eE][+-]?\d+)?$")
_COMMA_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")
_POINT_DECIMAL = re.compile(r"^[+-]?\d+\.\d+$")


class TableError(Exception):
    """The file cannot be read as a time-series table at all (``de``/``en`` say why)."""

    def __init__(self, de: str, en: str) -> None:
        super().__init__(en)
        self.de = de
        self.en = en


@dataclass(frozen=True)
class Problem:
    """A row that was not taken, and why."""

    line: int
    code: str  # bad-time | nonexistent-time | extra-cells
    de: str
    en: str
    value: str = ""


@dataclass(slots=True)
class Row:
    """One data row: its phenomenon time in ms UTC and its raw cells (index by Column.index)."""

    line: int
    start: int
    end: int
    daily: bool
    cells: Sequence[Any]
    duplicate_of: int | None = None  # line of an earlier row with the same time


@dataclass(frozen=True)
class Column:
    index: int  # position in the raw row
    name: str  # header text without a unit in brackets
    unit: str | None = None  # as written in the units row or the header


@dataclass
class Table:
    name: str
    columns: list[Column]  # value columns (time columns and skipped ones left out)
    rows: Iterator[Row | Problem]
    interval_minutes: int
    interval_inferred: bool
    time_label: str
    decimal_comma: bool
    delimiter: str | None  # None for XLSX
    encoding: str | None
    header_line: int
    units_line: int | None
    time_columns: list[str] = field(default_factory=list)


def read_table(
    name: str,
    data: bytes,
    *,
    zone: tzinfo,
    time_label: str = "end",
    interval_minutes: int | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    skip_columns: Iterable[str] = (),
) -> Table:
    """The table in ``data`` (a CSV or XLSX file called ``name``); rows are read lazily.

    Raises :class:`TableError` if the file has no header or no time column.
    """
    if time_label not in ("end", "start"):
        raise TableError(
            f"time_label muss „end“ oder „start“ sein, nicht „{time_label}“.",
            f"time_label must be 'end' or 'start', not '{time_label}'.",
        )
    if data[:4] == b"PK\x03\x04" or name.lower().endswith((".xlsx", ".xlsm")):
        lines, used_encoding, used_delimiter = _xlsx_lines(name, data), None, None
    else:
        used_encoding = encoding or _encoding(data)
        try:
            head = data[:100_000].decode(used_encoding, errors="replace")
        except LookupError:
            raise TableError(
                f"Unbekannte Zeichenkodierung „{used_encoding}“ (z. B. utf-8, cp1252).",
                f"Unknown encoding '{used_encoding}' (e.g. utf-8, cp1252).",
            ) from None
        used_delimiter = delimiter or _delimiter(head.removeprefix("\ufeff"))
        lines = _csv_lines(data, used_encoding, used_delimiter)
    header_line, header, rest = _header(lines)
    date_index, time_index = _time_columns(header)
    skip = {s.strip().casefold() for s in skip_columns}
    columns = _value_columns(header, {date_index, time_index}, skip)
    ahead, rest = _take(rest, LOOKAHEAD + 1)
    units_line = None
    if ahead and _is_units_row(ahead[0][1], date_index, columns):
        units_line, units = ahead.pop(0)
        columns = [Column(c.index, c.name, _cell_text(units, c.index) or c.unit) for c in columns]
    comma = _decimal_comma(decimal, used_delimiter, ahead, columns)
    stamper = _Stamper(date_index, time_index)
    stamped = [(line, cells, stamper.stamp(cells)) for line, cells in ahead]
    stamper.date_only = _date_only(stamped, date_index, time_index)
    stamped = [(line, cells, stamper.stamp(cells)) for line, cells, _ in stamped]
    interval, inferred, descending = _infer(stamped, interval_minutes)
    converter = _Converter(zone, interval * MINUTE, time_label, descending, len(header))
    rows = converter.rows(
        chain(stamped, ((line, cells, stamper.stamp(cells)) for line, cells in rest))
    )
    names = [header[i] for i in (date_index, time_index) if i is not None]
    return Table(
        name,
        columns,
        rows,
        interval,
        inferred,
        time_label,
        comma,
        used_delimiter,
        used_encoding,
        header_line,
        units_line,
        names,
    )


# --- reading lines -------------------------------------------------------------------------


def _encoding(data: bytes) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:  # checked piecewise: a big file is never held twice
        for i in range(0, len(data), 1 << 20):
            decoder.decode(data[i : i + (1 << 20)])
        decoder.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "cp1252"  # what German Excel writes as "CSV (Trennzeichen-getrennt)"


def _delimiter(text: str) -> str:
    """The candidate splitting the first lines into the most fields (metadata lines above
    the header have few)."""
    lines = [line for line in text[:100_000].splitlines()[:HEADER_SEARCH] if line.strip()]
    counts = {d: max((line.count(d) for line in lines), default=0) for d in (";", "\t", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_lines(data: bytes, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as exc:
        raise TableError(
            f"Zeile {reader.line_num}: die CSV-Datei ist beschädigt ({exc}).",
            f"line {reader.line_num}: the CSV file is broken ({exc}).",
        ) from None
    except UnicodeDecodeError as exc:
        raise TableError(
            f"Nach Zeile {reader.line_num}: die Datei ist nicht als {encoding} lesbar ({exc}).",
            f"After line {reader.line_num}: the file cannot be read as {encoding} ({exc}).",
        ) from None


def _xlsx_lines(name: str, data: bytes) -> Iterator[tuple[int, list[Any]]]:
    import zipfile

    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TableError(
            f"{name} ist keine lesbare Excel-Datei (XLSX): {exc}",
            f"{name} is not a readable Excel file (XLSX): {exc}",
        ) from None
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1):
            yield number, list(values)
    finally:
        book.close()


def _take(rows: Iterator[Any], n: int) -> tuple[list[Any], Iterator[Any]]:
    taken = []
    for item in rows:
        taken.append(item)
        if len(taken) >= n:
            break
    return taken, rows


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell_text(cells: Sequence[Any], index: int) -> str | None:
    if index >= len(cells) or _empty(cells[index]):
        return None
    return str(cells[index]).strip()


def _header(
    lines: Iterator[tuple[int, list[Any]]],
) -> tuple[int, list[str], Iterator[tuple[int, list[Any]]]]:
    """The header row: the first naming a time column, else the first non-empty one."""
    seen: list[tuple[int, list[Any]]] = []
    for line, cells in lines:
        if all(_empty(c) for c in cells):
            continue
        seen.append((line, cells))
        names = {_bare(str(c)).casefold() for c in cells if not _empty(c)}
        if names & (DATE_NAMES | TIME_NAMES | DATETIME_NAMES):
            header = [str(c).strip() if not _empty(c) else "" for c in cells]
            return line, header, lines
        if len(seen) >= HEADER_SEARCH:
            break
    if not seen:
        raise TableError("Die Datei ist leer.", "The file is empty.")
    line, cells = seen[0]
    header = [str(c).strip() if not _empty(c) else "" for c in cells]
    return line, header, chain(seen[1:], lines)


def _bare(name: str) -> str:
    """A header without its unit: ``NO2 [µg/m³]`` -> ``NO2``."""
    match = _HEADER_UNIT.match(name.strip())
    return match.group(1).strip() if match and match.group(1).strip() else name.strip()


def _time_columns(header: list[str]) -> tuple[int, int | None]:
    folded = [_bare(h).casefold() for h in header]

    def first(names: set[str]) -> int | None:
        return next((i for i, h in enumerate(folded) if h in names), None)

    date_index, time_index = first(DATE_NAMES), first(TIME_NAMES)
    datetime_index = first(DATETIME_NAMES)
    if date_index is not None:
        return date_index, time_index
    if datetime_index is not None:
        return datetime_index, None
    if time_index is not None:  # a lone "Zeit" column holding date and time
        return time_index, None
    if not header:
        raise TableError("Die Datei hat keine Kopfzeile.", "The file has no header row.")
    return 0, None


def _value_columns(
    header: list[str], time_indexes: set[int | None], skip: set[str]
) -> list[Column]:
    columns: list[Column] = []
    names: set[str] = set()
    for index, text in enumerate(header):
        if index in time_indexes or not text:
            continue
        match = _HEADER_UNIT.match(text)
        name, unit = text, None
        if match and match.group(1).strip():
            name, unit = match.group(1).strip(), match.group(2).strip()
        if text.casefold() in skip or name.casefold() in skip:
            continue
        base, n = name, 2
        while name in names:  # the same header twice: keep both apart
            name, n = f"{base}_{n}", n + 1
        names.add(name)
        columns.append(Column(index, name, unit))
    return columns


def _is_units_row(cells: Sequence[Any], date_index: int, columns: list[Column]) -> bool:
    """The row under the header holds units: no date where the date goes, no numbers."""
    if date_index < len(cells) and not _empty(cells[date_index]):
        value = cells[date_index]
        if isinstance(value, datetime | date) or _DATE_TIME.match(str(value)):
            return False
    texts = [cells[c.index] for c in columns if c.index < len(cells) and not _empty(cells[c.index])]
    if not texts:
        return False
    return all(isinstance(t, str) and not _NUMBERISH.match(t.strip()) for t in texts)


def _decimal_comma(
    decimal: str | None,
    delimiter: str | None,
    ahead: list[tuple[int, list[Any]]],
    columns: list[Column],
) -> bool:
    if decimal is not None:
        return decimal == ","
    if delimiter == ",":
        return False
    commas = points = 0
    for _, cells in ahead:
        for c in columns:
            if c.index < len(cells) and isinstance(cells[c.index], str):
                text = cells[c.index].strip()
                commas += bool(_COMMA_DECIMAL.match(text))
                points += bool(_POINT_DECIMAL.match(text))
    if commas or points:
        return commas >= points
    return delimiter == ";"


# --- times ---------------------------------------------------------------------------------


class _BadTime(ValueError):
    pass


@dataclass(slots=True)
class _Stamp:
    local: int  # wall time as ms since 1970 (as if UTC); the day's 00:00 for daily values
    daily: bool
    offset: int | None = None  # ms east of UTC if the time says its zone


class _Stamper:
    """The time of a row from its date and time cells."""

    def __init__(self, date_index: int, time_index: int | None) -> None:
        self.date_index = date_index
        self.time_index = time_index
        self.date_only = False  # single Excel date-time column holding dates only
        self._dates: dict[tuple[int, int, int], int] = {}

    def stamp(self, cells: Sequence[Any]) -> _Stamp | Problem:
        raw_date = cells[self.date_index] if self.date_index < len(cells) else None
        raw_time = None
        if self.time_index is not None and self.time_index < len(cells):
            raw_time = cells[self.time_index]
        try:
            return self._stamp(raw_date, raw_time)
        except _BadTime:
            shown = " ".join(str(v).strip() for v in (raw_date, raw_time) if not _empty(v))
            return Problem(
                0,
                "bad-time",
                f"Datum/Zeit „{shown}“ ist nicht lesbar; die Zeile wurde übersprungen.",
                f"Date/time '{shown}' cannot be read; the row was skipped.",
                shown,
            )

    def _stamp(self, raw_date: Any, raw_time: Any) -> _Stamp:
        if _empty(raw_date):
            raise _BadTime
        offset = None
        clock: int | None = None  # ms since local midnight; None: no time given
        if isinstance(raw_date, datetime):
            day = self._day(raw_date.year, raw_date.month, raw_date.day)
            if self.time_index is None and not self.date_only:
                clock = _ms_of(raw_date.hour, raw_date.minute, raw_date.second)
        elif isinstance(raw_date, date):
            day = self._day(raw_date.year, raw_date.month, raw_date.day)
        else:
            match = _DATE_TIME.match(str(raw_date))
            if match is None:
                raise _BadTime
            g = match.groups()
            if g[0]:
                y, m, d = int(g[0]), int(g[1]), int(g[2])
            elif g[3]:
                y, m, d = int(g[5]), int(g[4]), int(g[3])
                y += 2000 if y < 100 else 0
            else:
                y, m, d = int(g[6]), int(g[7]), int(g[8])
            day = self._day(y, m, d)
            if g[9] is not None:
                clock = _ms_of(int(g[9]), int(g[10]), int(g[11] or 0))
            if g[12]:
                offset = _offset_ms(g[12])
        if self.time_index is not None:
            clock = _clock(raw_time)
        if clock is None:
            return _Stamp(day, True, offset)
        return _Stamp(day + clock, False, offset)

    def _day(self, y: int, m: int, d: int) -> int:
        key = (y, m, d)
        known = self._dates.get(key)
        if known is None:
            try:
                known = (date(y, m, d).toordinal() - EPOCH_ORDINAL) * DAY
            except ValueError:
                raise _BadTime from None
            self._dates[key] = known
        return known


def _ms_of(h: int, m: int, s: int) -> int:
    if m > 59 or s > 59 or h > 24 or (h == 24 and (m or s)):
        raise _BadTime
    return h * HOUR + m * MINUTE + s * 1000


def _clock(value: Any) -> int | None:
    """Milliseconds since local midnight of a time cell; None if empty (a daily value)."""
    if _empty(value):
        return None
    if isinstance(value, datetime):
        return _ms_of(value.hour, value.minute, value.second)
    if isinstance(value, time):
        return _ms_of(value.hour, value.minute, value.second)
    if isinstance(value, timedelta):
        ms = int(round(value.total_seconds())) * 1000
        if not 0 <= ms <= DAY:
            raise _BadTime
        return ms
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 0 <= value <= 24:
            return int(value) * HOUR  # an hour number
        if 0 < value < 1:  # Excel: a fraction of the day
            return int(round(value * 1440)) * MINUTE
        raise _BadTime
    match = _TIME.match(str(value))
    if match is None:
        raise _BadTime
    h, m, s = match.groups()
    return _ms_of(int(h), int(m or 0), int(s or 0))


def _offset_ms(text: str) -> int:
    if text == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * (int(digits[:2]) * HOUR + int(digits[2:4] or 0) * MINUTE)


def _date_only(
    stamped: list[tuple[int, list[Any], _Stamp | Problem]], date_index: int, time_index: int | None
) -> bool:
    """A single Excel date-time column whose values are all at midnight holds dates (daily
    values), not instants at 00:00."""
    if time_index is not None:
        return False
    cells = [c[date_index] for _, c, _ in stamped if date_index < len(c)]
    values = [s for _, _, s in stamped if isinstance(s, _Stamp)]
    return (
        bool(values)
        and all(isinstance(c, datetime) for c in cells if not _empty(c))
        and all(not s.daily and s.local % DAY == 0 for s in values)
    )


def _infer(
    stamped: list[tuple[int, list[Any], _Stamp | Problem]], given: int | None
) -> tuple[int, bool, bool]:
    """(interval in minutes, whether inferred, whether the file runs newest first)."""
    times = [s.local for _, _, s in stamped if isinstance(s, _Stamp) and not s.daily]
    steps = [b - a for a, b in zip(times, times[1:], strict=False) if b != a]
    descending = sum(1 for s in steps if s < 0) > len(steps) / 2
    if given:
        return int(given), False, descending
    common = Counter(abs(s) for s in steps if abs(s) % MINUTE == 0).most_common(1)
    if not common:
        return DEFAULT_INTERVAL, True, descending
    return common[0][0] // MINUTE, True, descending


class _Seen:
    """Times already taken in one series: a sorted array while the file runs forward (little
    memory for a year of minute values), a dict for rows out of order."""

    def __init__(self) -> None:
        self.times = array("q")
        self.lines = array("q")
        self.extra: dict[int, int] = {}

    def earlier(self, t: int, line: int) -> int | None:
        """The line that already had time ``t``; else remember this one and return None."""
        times = self.times
        if not times or t > times[-1]:
            times.append(t)
            self.lines.append(line)
            return None
        i = bisect_left(times, t)
        if i < len(times) and times[i] == t:
            return int(self.lines[i])
        known = self.extra.get(t)
        if known is not None:
            return known
        self.extra[t] = line
        return None


class _Converter:
    """Local wall times to UTC intervals, with the daylight-saving rules of the module doc."""

    def __init__(
        self, zone: tzinfo, interval: int, label: str, descending: bool, width: int
    ) -> None:
        self.zone = zone
        self.interval = interval
        self.label_is_end = label == "end"
        self.descending = descending
        self.width = width
        self._days: dict[int, int | None] = {}
        self._occurrences: dict[int, int] = {}  # ambiguous wall time -> times seen
        self._timed = _Seen()
        self._daily = _Seen()

    def rows(
        self, stamped: Iterator[tuple[int, Sequence[Any], _Stamp | Problem]]
    ) -> Iterator[Row | Problem]:
        width = self.width
        for line, cells, stamp in stamped:
            if all(_empty(c) for c in cells):
                continue
            if isinstance(stamp, Problem):
                yield Problem(line, stamp.code, stamp.de, stamp.en, stamp.value)
                continue
            if len(cells) > width and any(not _empty(c) for c in cells[width:]):
                yield Problem(
                    line,
                    "extra-cells",
                    f"Die Zeile hat {len(cells)} Felder, die Kopfzeile nur {width} (verrutschte "
                    "Spalten, z. B. ein Dezimalkomma ohne Anführungszeichen?); sie wurde "
                    "übersprungen.",
                    f"The row has {len(cells)} fields, the header only {width} (shifted "
                    "columns, e.g. a decimal comma without quotes?); it was skipped.",
                    ",".join(str(c) for c in cells)[:200],
                )
                continue
            row = self._row(line, cells, stamp)
            if isinstance(row, Problem):
                yield row
                continue
            seen = self._daily if row.daily else self._timed
            row.duplicate_of = seen.earlier(row.start, line)
            yield row

    def _row(self, line: int, cells: Sequence[Any], stamp: _Stamp) -> Row | Problem:
        if stamp.daily:
            if stamp.offset is not None:
                start = stamp.local - stamp.offset
                return Row(line, start, start + DAY, True, cells)
            start = self._utc(stamp.local, line)
            end = self._utc(stamp.local + DAY, line)
            if isinstance(start, Problem) or isinstance(end, Problem):
                return start if isinstance(start, Problem) else end  # type: ignore[return-value]
            return Row(line, start, end, True, cells)
        if stamp.offset is not None:
            instant: int | Problem = stamp.local - stamp.offset
        else:
            instant = self._utc(stamp.local, line)
        if isinstance(instant, Problem):
            return instant
        if self.label_is_end:
            return Row(line, instant - self.interval, instant, False, cells)
        return Row(line, instant, instant + self.interval, False, cells)

    def _day_offset(self, day: int) -> int | None:
        """The UTC offset (ms) valid for a whole local day, or None on days the clocks change."""
        if day in self._days:
            return self._days[day]
        start = EPOCH_NAIVE + timedelta(milliseconds=day * DAY)
        after = start + timedelta(days=1)
        offsets = {
            moment.replace(tzinfo=self.zone, fold=fold).utcoffset()
            for moment in (start, after)
            for fold in (0, 1)
        }
        value = None
        if len(offsets) == 1:
            only = offsets.pop()
            value = int(only.total_seconds() * 1000) if only is not None else 0
        self._days[day] = value
        return value

    def _utc(self, local: int, line: int) -> int | Problem:
        offset = self._day_offset(local // DAY)
        if offset is not None:
            return local - offset
        naive = EPOCH_NAIVE + timedelta(milliseconds=local)
        first = naive.replace(tzinfo=self.zone)
        second = naive.replace(tzinfo=self.zone, fold=1)
        o0, o1 = _ms(first.utcoffset()), _ms(second.utcoffset())
        if o0 == o1:
            return local - o0
        back = first.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None)
        if back != naive:
            shown = naive.strftime("%d.%m.%Y %H:%M")
            return Problem(
                line,
                "nonexistent-time",
                f"Die Ortszeit {shown} gibt es in {self.zone} nicht (Umstellung auf "
                "Sommerzeit, die Uhr springt eine Stunde vor); die Zeile wurde übersprungen.",
                f"The local time {shown} does not exist in {self.zone} (the clocks go forward "
                "to summer time); the row was skipped.",
                naive.isoformat(sep=" ", timespec="minutes"),
            )
        seen = self._occurrences.get(local, 0)
        self._occurrences[local] = seen + 1
        later = (seen >= 1) != self.descending  # second occurrence: winter time (fold 1)
        return local - (o1 if later else o0)


def _ms(delta: timedelta | None) -> int:
    return int(delta.total_seconds() * 1000) if delta is not None else 0
