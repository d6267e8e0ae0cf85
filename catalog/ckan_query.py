"""CKAN ``package_search`` parameters as a :class:`~catalog.search.SearchQuery`.

CKAN hands ``q`` and ``fq`` to Solr's standard (Lucene) query parser with ``q.op=AND``; this
module reads the same syntax into the filter expressions of :mod:`catalog.search_expr`:

* ``field:value``, ``field:"quoted value"``, ``field:*`` (any value), ``*:*`` (everything);
  backslash escapes any character (``organization:amt\\ fuer\\ geodaten``, ``\\:``); a value may
  contain unescaped colons and slashes (IRIs), where Solr would want them escaped.
* ``+`` (must), ``-`` / ``!`` / ``NOT`` (must not), ``AND`` / ``&&``, ``OR`` / ``||``,
  parentheses and field groups (``organization:(a OR b)``, ``tags:("a b" OR c)``).
* ranges ``field:[low TO high]``; ``*`` is an open end. Exclusive ends (``{low TO high}``) are
  read as inclusive: the expressions know only inclusive ranges. Solr date math (``NOW``,
  ``NOW-7DAYS``, ``NOW/DAY``, ``2024-01-01T00:00:00Z+1MONTH``) becomes an ISO timestamp in UTC,
  computed from an injectable ``now``.
* boosts (``^2``) are accepted and ignored (they only change scores).

Operators combine the way Lucene combines them, not by textbook precedence: every clause is
*must*, *should* or *must not*; ``AND`` makes both neighbours *must*, ``OR`` makes both *should*,
juxtaposition means *must* (``q.op=AND``). When a level has *must* clauses, its *should*
clauses do not filter (in Solr they only add to the score), so ``a OR b c`` finds what ``c``
finds, exactly as in CKAN. A level with only *must not* clauses matches everything else.

Field names are CKAN's (see ``_FIELDS``); ``capacity``, ``state`` and ``private`` are answered
from the fact that everything here is public and active. Values are brought to the form the
index holds: IRIs of geocoding levels, frequencies, themes and formats become their last path
segment, dcat-ap.de licence IRIs their short id, ``groups`` lower case, ``res_format`` upper
case. Wildcards are only supported as a whole value (``field:*``); fuzzy and proximity (``~``)
and local parameters (``{!…}``) are refused; ``/`` is an ordinary character (no regular
expressions).

``q`` without a colon is free text, as in CKAN (which hands it to dismax). With a colon it is
read like ``fq``: required free words (or ``text:`` clauses) stay the text query, the field
clauses become a filter; free words that are excluded or OR'ed with field clauses are refused.

Errors are :class:`InputError`: syntax errors with the parameter and character offset in
``where`` (``"fq, position 17"``) and rule ``"fq"``; bad parameters with the parameter name in
``where`` and rule ``"Validation Error"``; sorts that cannot be honoured with rule ``"sort"``.
"""

from __future__ import annotations

import json
import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from catalog.errors import InputError, problem
from catalog.search import SearchQuery
from catalog.search_expr import RANGE_FIELDS, And, Expr, MatchAll, Not, Or, Range, Term
from catalog.search_index import FACETS, licence_id

DEFAULT_SORT = "score desc, metadata_modified desc"
DEFAULT_ROWS = 10
MAX_ROWS = 1000
MAX_START = 100_000_000  # beyond what any catalogue holds, within what SQL offsets take
DEFAULT_FACET_LIMIT = 50
UNLIMITED_FACETS = 10_000

NOTHING: Expr = Term("name", "")
"""Matches no record (every record has a name)."""

# CKAN field name -> field of catalog.search_expr
_FIELDS: dict[str, str] = {
    "organization": "organization",
    "owner_org": "organization",  # CKAN: the organisation's id; here its name is what matches
    "groups": "groups",
    "tags": "tags",
    "res_format": "res_format",
    "license_id": "license_id",
    "dataset_type": "type",
    "type": "type",
    "name": "name",
    "id": "id",
    "uri": "uri",
    "political_geocoding_level": "political_geocoding_level",
    "political_geocoding_level_uri": "political_geocoding_level",
    "politicalGeocodingLevelURI": "political_geocoding_level",
    "frequency": "frequency",
    "accrual_periodicity": "frequency",
    **{field: field for field in RANGE_FIELDS},
}
# DCAT-AP.de extras, also under CKAN's index name extras_<key>
_EXTRAS = frozenset(
    {
        "political_geocoding_level_uri",
        "politicalGeocodingLevelURI",
        "frequency",
        "accrual_periodicity",
    }
)
# answered without looking at records ("text" only in q: it is the free text itself)
_SPECIAL = frozenset({"*", "text", "state", "capacity", "private"})

_SORTS = {
    "score": "relevance",
    "relevance": "relevance",
    "title_string": "title",
    "title": "title",
    "name": "name",
    "metadata_modified": "metadata_modified",
    "id": "id",
    "modified": "modified",
}

MUST, SHOULD, MUST_NOT = "must", "should", "must_not"
_VALUE_STOPS = '()"^~'
_WORD_STOPS = '():"^~'
_FIELDED = re.compile(r"([A-Za-z_][\w.]*|\*):")

_DATE_MATH = re.compile(
    r"(NOW|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)((?:[+-]\d+[A-Z]+|/[A-Z]+)*)"
)
_DATE_OP = re.compile(r"([+-])(\d+)([A-Z]+)|/([A-Z]+)")
_UNITS = {
    "YEAR": "year",
    "YEARS": "year",
    "MONTH": "month",
    "MONTHS": "month",
    "DAY": "day",
    "DAYS": "day",
    "DATE": "day",
    "HOUR": "hour",
    "HOURS": "hour",
    "MINUTE": "minute",
    "MINUTES": "minute",
    "SECOND": "second",
    "SECONDS": "second",
    "MILLI": "milli",
    "MILLIS": "milli",
    "MILLISECOND": "milli",
    "MILLISECONDS": "milli",
}
_RESETS = (
    ("microsecond", 0, "second"),
    ("second", 0, "minute"),
    ("minute", 0, "hour"),
    ("hour", 0, "day"),
    ("day", 1, "month"),
    ("month", 1, "year"),
)
_STEPS = {
    "day": timedelta(days=1),
    "hour": timedelta(hours=1),
    "minute": timedelta(minutes=1),
    "second": timedelta(seconds=1),
    "milli": timedelta(milliseconds=1),
}


# --- public ------------------------------------------------------------------------------


def parse_fq(fq: str, *, now: datetime | None = None, where: str = "fq") -> Expr | None:
    """A CKAN/Solr filter query as a filter expression; ``None`` for an empty one."""
    if not fq.strip():
        return None
    parser = _Parser(fq, where, _utc(now), free_text=False)
    return _combine(parser.parse())


def parse_sort(sort: str) -> tuple[str, bool | None]:
    """The first clause of a CKAN ``sort`` as (``SearchQuery.sort``, ``descending``)."""
    clauses = [c.strip() for c in (sort or "").split(",") if c.strip()]
    clause = clauses[0] if clauses else DEFAULT_SORT.split(",")[0]
    parts = clause.split()
    field = parts[0]
    if field not in _SORTS:
        known = ", ".join(sorted(_SORTS))
        raise InputError(
            [
                problem(
                    "sort",
                    "sort",
                    f"nach {field!r} kann nicht sortiert werden (möglich: {known})",
                    f"cannot sort by {field!r} (possible: {known})",
                )
            ]
        )
    if len(parts) == 1:
        return _SORTS[field], None
    direction = parts[1].lower()
    if len(parts) > 2 or direction not in ("asc", "desc"):
        raise InputError(
            [
                problem(
                    "sort",
                    "sort",
                    f"unbekannte Sortierrichtung in {clause!r} (asc oder desc)",
                    f"unknown sort order in {clause!r} (asc or desc)",
                )
            ]
        )
    return _SORTS[field], direction == "desc"


def package_search_query(data: dict[str, Any], *, now: datetime | None = None) -> SearchQuery:
    """The ``data_dict`` of CKAN's ``package_search`` as a search query.

    ``q``, ``fq`` and every ``fq_list`` entry are ANDed. ``sort`` uses its first clause, except
    that a leading ``score`` without words gives way to the next clause (Solr scores every
    record alike then), so the default sorts an empty search by ``metadata_modified desc``.
    ``include_private`` / ``include_drafts`` are accepted and ignored: everything is public.
    """
    moment = _utc(now)
    raw_q = data.get("q")
    if raw_q is None:
        raw_q = ""
    if not isinstance(raw_q, str):
        raise _invalid("q", "muss ein Text sein", "Must be a string")
    q = raw_q.strip()
    exprs: list[Expr] = []
    if q in ("*:*", '""', "''"):
        q = ""
    elif ":" in q:
        if q.startswith("{!"):
            raise _syntax(
                "q",
                len(raw_q) - len(raw_q.lstrip()),
                "Local Parameters werden nicht unterstützt",
                "Local parameters are not supported",
            )
        q, q_expr = _parse_q(raw_q, moment)
        if q_expr is not None:
            exprs.append(q_expr)
    fq = data.get("fq")
    if fq is not None:
        if not isinstance(fq, str):
            raise _invalid("fq", "muss ein Text sein", "Must be a string")
        fq_expr = parse_fq(fq, now=moment)
        if fq_expr is not None:
            exprs.append(fq_expr)
    for i, item in enumerate(_fq_list(data.get("fq_list"))):
        item_expr = parse_fq(item, now=moment, where=f"fq_list[{i}]")
        if item_expr is not None:
            exprs.append(item_expr)
    expr = _and(exprs) if exprs else None
    if isinstance(expr, MatchAll):
        expr = None

    sort_param = data.get("sort")
    if sort_param is not None and not isinstance(sort_param, str):
        raise _invalid("sort", "muss ein Text sein", "Must be a string")
    clauses = [c.strip() for c in (sort_param or DEFAULT_SORT).split(",") if c.strip()]
    sort, descending = parse_sort(clauses[0] if clauses else DEFAULT_SORT)
    if sort == "relevance" and not q and len(clauses) > 1:
        # without words every score is equal: Solr orders by the next clause
        sort, descending = parse_sort(clauses[1])

    cursor = data.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise _invalid("cursor", "muss ein Text sein", "Must be a string")
    return SearchQuery(
        q=q,
        expr=expr,
        sort=sort,
        descending=descending,
        offset=_integer(data, "start", 0, minimum=0, maximum=MAX_START),
        limit=_integer(data, "rows", DEFAULT_ROWS, minimum=0, maximum=MAX_ROWS),
        cursor=cursor or None,
        facets=_facet_fields(data),
        facet_limit=_facet_limit(data),
        bbox=_bbox(data.get("ext_bbox")),
    )


def _bbox(value: Any) -> tuple[float, float, float, float] | None:
    """``ext_bbox=minx,miny,maxx,maxy`` in CRS84, as ckanext-spatial takes it."""
    if value in (None, ""):
        return None
    try:
        parts = [float(v) for v in str(value).split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not (
        -180 <= parts[0] <= parts[2] <= 180 and -90 <= parts[1] <= parts[3] <= 90
    ):
        raise _invalid(
            "ext_bbox",
            "erwartet minx,miny,maxx,maxy in Grad (CRS84)",
            "expected minx,miny,maxx,maxy in degrees (CRS84)",
        )
    return parts[0], parts[1], parts[2], parts[3]


# --- parameters ----------------------------------------------------------------------------


def _invalid(name: str, de: str, en: str) -> InputError:
    return InputError([problem(name, "Validation Error", f"{name}: {de}", f"{name}: {en}")])


def _syntax(where: str, pos: int, de: str, en: str) -> InputError:
    return InputError([problem(f"{where}, position {pos}", "fq", de, en)])


def _integer(
    data: dict[str, Any], name: str, default: int, *, minimum: int, maximum: int | None = None
) -> int:
    value = data.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        number = int(value)
    else:
        raise _invalid(name, f"keine ganze Zahl: {value!r}", f"Invalid integer: {value!r}")
    if number < minimum:
        raise _invalid(
            name, f"muss mindestens {minimum} sein", f"Must be a natural number ({minimum} or more)"
        )
    if maximum is not None and number > maximum:
        raise _invalid(name, f"höchstens {maximum} erlaubt", f"Must be at most {maximum}")
    return number


def _fq_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        if not value.lstrip().startswith("["):
            return [value]
        try:
            value = json.loads(value)
        except ValueError:
            raise _invalid("fq_list", "keine JSON-Liste", "Not a JSON list") from None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise _invalid("fq_list", "muss eine Liste von Texten sein", "Must be a list of strings")
    return list(value)


def _facet_fields(data: dict[str, Any]) -> tuple[str, ...]:
    if str(data.get("facet", "true")).lower() in ("false", "0", "off", "no"):
        return ()
    value = data.get("facet.field")
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _invalid(
                "facet.field", "keine JSON-Liste von Feldnamen", "Not a JSON list of field names"
            ) from None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise _invalid(
            "facet.field", "muss eine Liste von Feldnamen sein", "Must be a list of field names"
        )
    facets: list[str] = []
    for name in value:
        facet = name if name in FACETS else _FIELDS.get(name)
        if facet not in FACETS:
            known = ", ".join(FACETS)
            raise _invalid(
                "facet.field",
                f"unbekannte Facette {name!r} (möglich: {known})",
                f"unknown facet {name!r} (possible: {known})",
            )
        if facet not in facets:
            facets.append(facet)
    return tuple(facets)


def _facet_limit(data: dict[str, Any]) -> int:
    limit = _integer(data, "facet.limit", DEFAULT_FACET_LIMIT, minimum=-(10**9))
    return UNLIMITED_FACETS if limit < 0 else limit  # Solr: negative means unlimited


# --- expressions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    """Free words of ``q`` (no field, or the field ``text``)."""

    words: str


@dataclass
class _Clause:
    occur: str
    item: Expr | _Text
    pos: int


@dataclass(frozen=True)
class _Op:
    kind: str  # AND, OR (conjunctions), REQ, NOT (modifiers)
    pos: int
    end: int
    text: str


def _and(items: list[Expr]) -> Expr:
    flat: list[Expr] = []
    for item in items:
        flat.extend(item.items if isinstance(item, And) else (item,))
    flat = [i for i in flat if not isinstance(i, MatchAll)]
    if not flat:
        return MatchAll()
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def _or(items: list[Expr]) -> Expr:
    flat: list[Expr] = []
    for item in items:
        flat.extend(item.items if isinstance(item, Or) else (item,))
    if any(isinstance(i, MatchAll) for i in flat):
        return MatchAll()
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def _filters(clauses: list[_Clause], occur: str) -> list[Expr]:
    return [c.item for c in clauses if c.occur == occur and not isinstance(c.item, _Text)]


def _combine(clauses: list[_Clause]) -> Expr:
    """One level of Lucene clauses as an expression (free text is refused before)."""
    musts = _filters(clauses, MUST)
    shoulds = _filters(clauses, SHOULD)
    nots: list[Expr] = [Not(e) for e in _filters(clauses, MUST_NOT)]
    required = musts or ([_or(shoulds)] if shoulds else [])
    return _and([*required, *nots])


def _parse_q(q: str, now: datetime) -> tuple[str, Expr | None]:
    """A fielded ``q``: (its free words, the filter of its field clauses)."""
    clauses = _Parser(q, "q", now, free_text=True).parse()
    for c in clauses:
        if c.occur == MUST_NOT and isinstance(c.item, _Text):
            raise _syntax(
                "q",
                c.pos,
                "Wörter ausschließen geht nicht zusammen mit feld:wert in q",
                "excluding words does not work together with field:value in q",
            )
    if any(c.occur == MUST for c in clauses):
        occur = MUST
        filters = _filters(clauses, MUST)
    else:
        occur = SHOULD
        texts = [c for c in clauses if c.occur == SHOULD and isinstance(c.item, _Text)]
        if texts and sum(c.occur == SHOULD for c in clauses) > 1:
            raise _syntax(
                "q",
                texts[0].pos,
                "OR mit freien Wörtern geht nicht zusammen mit feld:wert in q",
                "OR with free words does not work together with field:value in q",
            )
        options = _filters(clauses, SHOULD)
        filters = [_or(options)] if options else []
    words = " ".join(
        c.item.words for c in clauses if c.occur == occur and isinstance(c.item, _Text)
    )
    nots: list[Expr] = [Not(e) for e in _filters(clauses, MUST_NOT)]
    if not filters and not nots:
        return words, None
    expr = _and([*filters, *nots])
    return words, None if isinstance(expr, MatchAll) else expr


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _last_segment(value: str) -> str:
    return value.rstrip("/").rsplit("/", 1)[-1] if "://" in value else value


def _term_value(field: str, value: str) -> str:
    if field == "license_id":
        return licence_id(value)
    if field in ("political_geocoding_level", "frequency"):
        return _last_segment(value)
    if field == "groups":
        return _last_segment(value).lower()
    if field == "res_format":
        return _last_segment(value).upper()
    return value


# --- date math -----------------------------------------------------------------------------


def resolve_date_math(value: str, now: datetime) -> str:
    """``NOW-1DAY``, ``NOW/DAY``, ``2024-01-31T00:00:00Z+1MONTH`` … as an ISO timestamp (UTC);
    other values unchanged. ``ValueError`` for an unknown unit or an impossible date."""
    match = _DATE_MATH.fullmatch(value)
    if not match:
        return value
    base, ops = match.groups()
    if base != "NOW" and not ops:
        return value
    moment = _utc(now) if base == "NOW" else datetime.fromisoformat(base.replace("Z", "+00:00"))
    for op in _DATE_OP.finditer(ops):
        sign, amount, unit_name, round_name = op.groups()
        unit = _UNITS.get(round_name or unit_name)
        if unit is None:
            raise ValueError(f"unknown unit {round_name or unit_name!r}")
        if round_name:
            moment = _round(moment, unit)
        else:
            moment = _add(moment, int(amount) if sign == "+" else -int(amount), unit)
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(moment: datetime, amount: int, unit: str) -> datetime:
    if unit in ("year", "month"):
        months = moment.year * 12 + moment.month - 1 + amount * (12 if unit == "year" else 1)
        year, month = divmod(months, 12)
        month += 1
        return moment.replace(
            year=year, month=month, day=min(moment.day, monthrange(year, month)[1])
        )
    return moment + amount * _STEPS[unit]


def _round(moment: datetime, unit: str) -> datetime:
    if unit == "milli":
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    for name, start, rounded_to in _RESETS:
        moment = moment.replace(**{name: start})
        if rounded_to == unit:
            break
    return moment


# --- parser --------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the Lucene query syntax, keeping character offsets for errors."""

    def __init__(self, text: str, where: str, now: datetime, *, free_text: bool) -> None:
        self.text = text
        self.where = where
        self.now = now
        self.free_text = free_text
        self.pos = 0

    def error(self, pos: int, de: str, en: str) -> InputError:
        return _syntax(self.where, pos, de, en)

    def parse(self) -> list[_Clause]:
        clauses = self.query(None)
        self.skip()
        if self.pos < len(self.text):  # a query stops early only at ")"
            raise self.error(
                self.pos,
                "schließende Klammer ohne öffnende",
                "closing parenthesis without an opening one",
            )
        return clauses

    # --- characters ---

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def boundary(self, i: int) -> bool:
        return i >= len(self.text) or self.text[i].isspace() or self.text[i] in '()"'

    def operator(self) -> _Op | None:
        t, p = self.text, self.pos
        if p >= len(t):
            return None
        if t[p] == "+":
            return _Op("REQ", p, p + 1, "+")
        if t[p] in "-!":
            return _Op("NOT", p, p + 1, t[p])
        for symbol, kind in (("&&", "AND"), ("||", "OR")):
            if t.startswith(symbol, p):
                return _Op(kind, p, p + 2, symbol)
        for word in ("AND", "OR", "NOT"):
            if t.startswith(word, p) and self.boundary(p + len(word)):
                return _Op(word, p, p + len(word), word)
        return None

    def word(self, stops: str) -> tuple[str, str, bool]:
        """(unescaped, raw, has an unescaped ``*`` or ``?``) up to whitespace or a stop."""
        start, out, wild = self.pos, [], False
        t = self.text
        while self.pos < len(t):
            ch = t[self.pos]
            if ch.isspace() or ch in stops:
                break
            if ch == "\\":
                if self.pos + 1 >= len(t):
                    raise self.error(
                        self.pos,
                        "Backslash am Ende ohne Zeichen",
                        "backslash at the end escapes nothing",
                    )
                out.append(t[self.pos + 1])
                self.pos += 2
                continue
            wild |= ch in "*?"
            out.append(ch)
            self.pos += 1
        return "".join(out), t[start : self.pos], wild

    def quoted(self) -> str:
        start = self.pos
        self.pos += 1
        out: list[str] = []
        t = self.text
        while self.pos < len(t):
            ch = t[self.pos]
            if ch == "\\" and self.pos + 1 < len(t):
                out.append(t[self.pos + 1])
                self.pos += 2
                continue
            self.pos += 1
            if ch == '"':
                return "".join(out)
            out.append(ch)
        raise self.error(
            start, "Anführungszeichen wird nicht geschlossen", "quotation mark is never closed"
        )

    # --- grammar ---

    def query(self, field: str | None) -> list[_Clause]:
        clauses: list[_Clause] = []
        while True:
            self.skip()
            if self.at_end() or self.peek() == ")":
                return clauses
            conj: str | None = None
            op = self.operator()
            if op is not None and op.kind in ("AND", "OR"):
                if not clauses:
                    raise self.error(
                        op.pos,
                        f"{op.text} ohne Ausdruck davor",
                        f"{op.text} without anything before it",
                    )
                conj = op.kind
                self.pos = op.end
                self.skip()
                following = self.operator()
                if (
                    self.at_end()
                    or self.peek() == ")"
                    or (following is not None and following.kind in ("AND", "OR"))
                ):
                    raise self.dangling(op)
                op = following
            modifier: str | None = None
            start = self.pos
            if op is not None:  # REQ or NOT
                modifier = op.kind
                self.pos = op.end
                self.skip()
                if self.at_end() or self.peek() == ")" or self.operator() is not None:
                    raise self.dangling(op)
            item = self.clause(field)
            self.add(clauses, conj, modifier, item, start)

    def dangling(self, op: _Op) -> InputError:
        return self.error(
            op.pos, f"{op.text} ohne Ausdruck danach", f"{op.text} without anything after it"
        )

    @staticmethod
    def add(
        clauses: list[_Clause], conj: str | None, modifier: str | None, item: Expr | _Text, pos: int
    ) -> None:
        """Lucene's QueryParserBase.addClause with the default operator AND."""
        if clauses and conj is not None and clauses[-1].occur != MUST_NOT:
            clauses[-1].occur = MUST if conj == "AND" else SHOULD
        if modifier == "NOT":
            occur = MUST_NOT
        elif conj == "OR":
            occur = SHOULD
        else:
            occur = MUST
        clauses.append(_Clause(occur, item, pos))

    def clause(self, field: str | None) -> Expr | _Text:
        start = self.pos
        ch = self.peek()
        if ch == "(":
            item = self.group(field)
        elif ch == '"':
            item = self.leaf(field, self.quoted(), start, any_value=False)
        elif self.text.startswith("{!", start):
            raise self.error(
                start,
                "Local Parameters werden nicht unterstützt",
                "local parameters are not supported",
            )
        elif ch in "[{":
            item = self.range(field)
        elif ch in "]}:^~":
            raise self.error(start, f"unerwartetes Zeichen {ch!r}", f"unexpected character {ch!r}")
        else:
            value, raw, wild = self.word(_WORD_STOPS)
            if self.peek() == ":":
                item = self.fielded(value, start)
            else:
                item = self.bare(field, value, raw, wild, start)
        self.suffix()
        return item

    def suffix(self) -> None:
        if self.peek() == "^":
            start = self.pos
            self.pos += 1
            match = re.match(r"\d+(\.\d+)?", self.text[self.pos :])
            if not match:
                raise self.error(start, "Gewichtung ^ ohne Zahl", "boost ^ without a number")
            self.pos += match.end()
        if self.peek() == "~":
            raise self.error(
                self.pos,
                "unscharfe Suche und Abstände (~) werden nicht unterstützt",
                "fuzzy and proximity search (~) are not supported",
            )

    def group(self, field: str | None) -> Expr | _Text:
        open_pos = self.pos
        self.pos += 1
        clauses = self.query(field)
        self.skip()
        if self.at_end():
            raise self.error(
                open_pos, "Klammer wird nicht geschlossen", "parenthesis is never closed"
            )
        self.pos += 1  # ")"
        if not clauses:
            raise self.error(open_pos, "leere Klammern", "empty parentheses")
        texts = [c for c in clauses if isinstance(c.item, _Text)]
        if texts and len(texts) == len(clauses) and all(c.occur == MUST for c in clauses):
            return _Text(" ".join(c.item.words for c in clauses if isinstance(c.item, _Text)))
        if texts:
            raise self.error(
                texts[0].pos,
                "freie Wörter in Klammern gehen nicht zusammen mit feld:wert",
                "free words in parentheses do not work together with field:value",
            )
        return _combine(clauses)

    def resolve(self, name: str, pos: int) -> str:
        if name == "text" and not self.free_text:
            raise self.error(
                pos,
                "Volltextsuche (text:) gehört in q, nicht in fq",
                "full text search (text:) belongs in q, not in fq",
            )
        if name in _SPECIAL:
            return name
        if name in _FIELDS:
            return _FIELDS[name]
        if name.startswith("extras_") and name.removeprefix("extras_") in _EXTRAS:
            return _FIELDS[name.removeprefix("extras_")]
        known = ", ".join(sorted({*_FIELDS, "capacity", "state", "private"}))
        raise self.error(
            pos,
            f"unbekanntes Feld {name!r} (bekannt: {known})",
            f"unknown field {name!r} (known: {known})",
        )

    def fielded(self, name: str, name_pos: int) -> Expr | _Text:
        field = self.resolve(name, name_pos)
        self.pos += 1  # ":"
        value_pos = self.pos
        self.skip()
        op = self.operator()
        fielded = _FIELDED.match(self.text, self.pos)
        if (
            self.at_end()
            or self.peek() == ")"
            or (op is not None and op.text not in ("+", "-", "!"))  # AND OR NOT && ||
            or (self.pos > value_pos and fielded is not None and self.is_field(fielded.group(1)))
        ):
            raise self.error(
                value_pos, f"Feld {name!r} ohne Wert", f"field {name!r} without a value"
            )
        start = self.pos
        ch = self.peek()
        if ch == "(":
            return self.group(field)
        if ch == '"':
            return self.leaf(field, self.quoted(), start, any_value=False)
        if ch in "[{":
            return self.range(field)
        if ch in "^~":
            raise self.error(start, f"Feld {name!r} ohne Wert", f"field {name!r} without a value")
        value, raw, wild = self.word(_VALUE_STOPS)
        return self.bare(field, value, raw, wild, start)

    @staticmethod
    def is_field(name: str) -> bool:
        return name in _SPECIAL or name in _FIELDS or name.removeprefix("extras_") in _EXTRAS

    def bare(self, field: str | None, value: str, raw: str, wild: bool, pos: int) -> Expr | _Text:
        if wild and raw != "*" and (field is not None or not self.free_text):
            raise self.error(
                pos,
                "Platzhalter (* und ?) werden nur als ganzer Wert (feld:*) unterstützt",
                "wildcards (* and ?) are only supported as the whole value (field:*)",
            )
        return self.leaf(field, value, pos, any_value=raw == "*")

    def leaf(self, field: str | None, value: str, pos: int, *, any_value: bool) -> Expr | _Text:
        if field is None or field == "text":
            if any_value:
                return MatchAll()
            if self.free_text:
                return _Text(value)
            raise self.error(
                pos,
                "fq braucht feld:wert; freie Wörter gehören in q",
                "fq needs field:value; free words belong in q",
            )
        if field == "*":
            if any_value:
                return MatchAll()
            raise self.error(pos, "nur *:* ist erlaubt", "only *:* is allowed")
        if field == "state":
            return MatchAll() if any_value or value == "active" else NOTHING
        if field == "capacity":
            return MatchAll() if any_value or value == "public" else NOTHING
        if field == "private":
            if any_value or value.lower() == "false":
                return MatchAll()
            if value.lower() == "true":
                return NOTHING
            raise self.error(
                pos,
                f"private ist true oder false, nicht {value!r}",
                f"private is true or false, not {value!r}",
            )
        if field in RANGE_FIELDS:
            if any_value:
                return Range(field, None, None)
            moment = self.moment(field, value, pos)
            return Range(field, moment, moment)
        return Term(field, "*" if any_value else _term_value(field, value))

    def range(self, field: str | None) -> Expr:
        start = self.pos
        self.pos += 1
        self.skip()
        low = self.endpoint()
        self.skip()
        if low is None or not (
            self.text.startswith("TO", self.pos) and self.boundary_range(self.pos + 2)
        ):
            raise self.error(start, "Bereich ohne »von TO bis«", "range without »low TO high«")
        self.pos += 2
        self.skip()
        high = self.endpoint()
        self.skip()
        if high is None or self.peek() not in ("]", "}") or self.at_end():
            raise self.error(
                start,
                "Bereich ohne »von TO bis« oder ohne schließende Klammer",
                "range without »low TO high« or without its closing bracket",
            )
        self.pos += 1
        if field is None:
            raise self.error(start, "Bereich ohne Feld", "range without a field")
        if field not in RANGE_FIELDS:
            raise self.error(
                start,
                f"für {field!r} ist kein Bereich möglich (nur {', '.join(sorted(RANGE_FIELDS))})",
                f"no range possible on {field!r} (only {', '.join(sorted(RANGE_FIELDS))})",
            )
        low_value, low_pos, low_any = low
        high_value, high_pos, high_any = high
        return Range(
            field,
            None if low_any else self.moment(field, low_value, low_pos),
            None if high_any else self.moment(field, high_value, high_pos),
        )

    def boundary_range(self, i: int) -> bool:
        return i >= len(self.text) or self.text[i].isspace()

    def endpoint(self) -> tuple[str, int, bool] | None:
        """(value, position, open) of a range end; None when there is none."""
        pos = self.pos
        if self.peek() == '"':
            return self.quoted(), pos, False
        value, raw, _ = self.word("]}")
        if not raw:
            return None
        return value, pos, raw == "*"

    def moment(self, field: str, value: str, pos: int) -> str:
        try:
            resolved = resolve_date_math(value, self.now)
            if field.startswith("metadata_"):
                datetime.fromisoformat(resolved.replace("Z", "+00:00"))
        except ValueError:
            raise self.error(
                pos,
                f"kein Zeitpunkt für {field}: {value!r}",
                f"not a timestamp for {field}: {value!r}",
            ) from None
        return resolved
