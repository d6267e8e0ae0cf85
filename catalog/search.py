"""One search service over two backends: SQLite FTS5 (stems from catalog.text) and PostgreSQL
full text with the ``german`` configuration; filters, facet counts, sorting, offset and cursor
paging, and a typo-tolerant fallback."""

from __future__ import annotations

import base64
import difflib
import heapq
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import (
    ARRAY,
    Integer,
    Select,
    and_,
    any_,
    bindparam,
    column,
    exists,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
    text,
    true,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from catalog.errors import InputError, problem
from catalog.schema import ResourceFacet, ResourceRow
from catalog.search_expr import And, Expr, MatchAll, Not, Or, Range, Term
from catalog.search_index import FACETS, INTERNAL_FACETS, write_index
from catalog.store import Store, StoredResource
from catalog.text import stem, umlaut_spellings, words

STOPWORDS = frozenset(
    (
        "der",
        "die",
        "das",
        "den",
        "dem",
        "des",
        "ein",
        "eine",
        "einer",
        "eines",
        "einem",
        "einen",
        "und",
        "oder",
        "in",
        "im",
        "am",
        "an",
        "auf",
        "aus",
        "bei",
        "mit",
        "nach",
        "von",
        "vom",
        "zu",
        "zum",
        "zur",
        "für",
        "über",
        "unter",
        "vor",
        "als",
        "auch",
        "es",
        "ist",
        "sind",
        "the",
        "of",
        "and",
        "for",
        "to",
        "a",
    )
)
# the SQLite R*Tree over the bounding boxes (created by migration 0001)
RTREE = table("resources_bbox", *(column(c) for c in ("id", "min_x", "max_x", "min_y", "max_y")))
# With a text match this small, filters are tested row by row (SQLite); above it, each filter's
# rows are listed once. Measured at 100,000 datasets: probing wins below about 10,000 matches.
PROBE_BELOW = 10_000
SORTS = {"relevance", "title", "modified", "metadata_modified", "id", "name"}


@dataclass
class SearchQuery:
    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)  # OR within a facet, AND across
    exclude: dict[str, list[str]] = field(default_factory=dict)
    bbox: tuple[float, float, float, float] | None = None  # intersects the coverage's bbox
    temporal: tuple[str | None, str | None] | None = None  # overlaps the temporal coverage
    modified: tuple[str | None, str | None] | None = None  # dct:modified range
    updated: tuple[datetime | None, datetime | None] | None = None  # metadata_modified range
    kinds: tuple[str, ...] = ()
    expr: Expr | None = None  # a boolean filter, e.g. a parsed CKAN fq
    sort: str = "relevance"
    descending: bool | None = None  # None: the sort's natural direction
    offset: int = 0
    limit: int = 20
    cursor: str | None = None
    facets: tuple[str, ...] = ()
    facet_limit: int = 50
    correct_typos: bool = True
    prefix: bool = False  # the last word may be the start of a word (autocomplete)


@dataclass
class SearchResult:
    count: int
    results: list[StoredResource]
    facets: dict[str, list[tuple[str, int]]]
    next_cursor: str | None = None
    suggestions: list[str] = field(default_factory=list)
    corrected_q: str | None = None  # the query actually run when the typed one found nothing


def query_terms(q: str) -> list[str]:
    return [w for w in words(q) if w not in STOPWORDS]


class SearchService:
    """Search over a store; cheap to create, keeps a small vocabulary cache for suggestions."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._vocabulary: tuple[tuple[int, datetime | None], list[str]] | None = None
        self._all_facets: tuple[tuple[int, datetime | None], list] | None = None  # type: ignore[type-arg]
        self._lock = threading.Lock()

    # --- public -------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        if query.sort not in SORTS:
            raise _bad(
                "sort", f"unbekannte Sortierung {query.sort!r}", f"unknown sort {query.sort!r}"
            )
        for facet in [*query.filters, *query.exclude, *query.facets]:
            if facet not in FACETS:
                raise _bad("facet", f"unbekannte Facette {facet!r}", f"unknown facet {facet!r}")
        result = self._run(query)
        terms = query_terms(query.q)
        if result.count == 0 and terms:
            corrected = self.correct(terms)
            if corrected and corrected != terms:
                result.suggestions = [" ".join(corrected)]
                if query.correct_typos:
                    retry = self._run(_replace_q(query, " ".join(corrected)))
                    if retry.count:
                        retry.suggestions = result.suggestions
                        retry.corrected_q = " ".join(corrected)
                        return retry
        return result

    def correct(self, terms: list[str]) -> list[str] | None:
        """Each unknown word replaced by the closest known one (title and keyword words)."""
        vocabulary = self.vocabulary()
        known = set(vocabulary)
        out, changed = [], False
        for term in terms:
            if term in known or len(term) < 3:
                out.append(term)
                continue
            close = difflib.get_close_matches(term, vocabulary, n=1, cutoff=0.75)
            out.append(close[0] if close else term)
            changed |= bool(close)
        return out if changed else None

    def vocabulary(self) -> list[str]:
        with self.store.sessions() as session:
            version = (
                session.scalar(select(func.count(ResourceRow.id))) or 0,
                session.scalar(select(func.max(ResourceRow.updated_at))),
            )
            with self._lock:
                if self._vocabulary and self._vocabulary[0] == version:
                    return self._vocabulary[1]
            seen: set[str] = set()
            rows = session.execute(
                select(ResourceRow.search_title, ResourceRow.search_keywords).where(
                    ResourceRow.deleted.is_(False)
                )
            )
            for title, keywords in rows:
                seen.update(words(title))
                seen.update(words(keywords))
        vocabulary = sorted(w for w in seen if len(w) >= 3 and not w.isdigit())
        with self._lock:
            self._vocabulary = (version, vocabulary)
        return vocabulary

    def reindex(self, chunk: int = 500) -> int:
        """Rebuild facets and the text index, chunk by chunk (each chunk is one transaction)."""
        from catalog import model

        done, last_id = 0, 0
        while True:
            with self.store.sessions.begin() as session:
                rows = session.scalars(
                    select(ResourceRow)
                    .where(ResourceRow.id > last_id)
                    .order_by(ResourceRow.id)
                    .limit(chunk)
                ).all()
                if not rows:
                    return done
                pairs = []
                for row in rows:
                    item = model.RESOURCE_CLASSES[row.kind].from_dict(json.loads(row.record))
                    from catalog.search_index import fill_columns

                    fill_columns(row, item)
                    pairs.append((row, item))
                session.flush()
                write_index(session, pairs)
                done += len(rows)
                last_id = rows[-1].id

    # --- query building -----------------------------------------------------------------

    def _run(self, query: SearchQuery) -> SearchResult:
        dialect = self.store.dialect
        terms = query_terms(query.q)
        with self.store.sessions() as session:
            rank = None
            base = select(ResourceRow.id).where(ResourceRow.deleted.is_(False))
            probe = False
            if terms:
                base, rank = self._text(base, terms, dialect, query.q, query.prefix)
                probe = (
                    dialect == "sqlite" and self._fts_matches(session, terms, query) <= PROBE_BELOW
                )
            conditions = self._conditions(query, dialect, probe, within_text=bool(terms))
            base = base.where(*conditions)
            if terms or conditions:
                # a narrowed search: evaluate the match set once, then count, page and
                # facet from it (three statements each redoing the match were 5x slower)
                column, descending = self._sort_columns(query, rank)
                matches = session.execute(base.add_columns(column.label("sort_key"))).all()
                count = len(matches)
                page_ids, next_cursor = self._page_in_memory(query, matches, descending, rank)
                facets = (
                    self._facets_of(session, query, [m.id for m in matches]) if query.facets else {}
                )
            else:
                count = session.scalar(select(func.count()).select_from(base.subquery())) or 0
                page_ids, next_cursor = self._page(session, query, base, rank, count)
                facets = self._facets_of_all(session, query) if query.facets else {}
            results = self._load(session, page_ids)
        return SearchResult(count, results, facets, next_cursor)

    def _fts_matches(self, session: Session, terms: list[str], query: SearchQuery) -> int:
        """How many records the words alone match (SQLite; an index-only count)."""
        match = _fts_match(terms, query.q, query.prefix)
        return (
            session.scalar(
                text("SELECT count(*) FROM resources_fts WHERE resources_fts MATCH :m").bindparams(
                    m=match
                )
            )
            or 0
        )

    def _page_in_memory(
        self,
        query: SearchQuery,
        matches: list,
        descending: bool,
        rank: ColumnElement | None,  # type: ignore[type-arg]
    ) -> tuple[list[int], str | None]:
        keyset = query.sort != "relevance" or rank is None
        offset = query.offset
        rows = [(m.sort_key if m.sort_key is not None else "", m.id) for m in matches]
        if query.cursor:
            state = _decode_cursor(query.cursor)
            if keyset and "k" in state:
                after = (_cursor_key(query, state["k"]), state["i"])
                rows = [r for r in rows if (r < after if descending else r > after)]
                offset = 0
            else:
                offset = int(state.get("o", 0))
        pick = heapq.nlargest if descending else heapq.nsmallest
        page = pick(offset + query.limit, rows)[offset:]
        next_cursor = None
        if page and len(page) == query.limit:
            key, last_id = page[-1]
            if keyset:
                state = {"k": key.isoformat() if isinstance(key, datetime) else key, "i": last_id}
            else:
                state = {"o": offset + len(page)}
            next_cursor = _encode_cursor(state)
        return [i for _, i in page], next_cursor

    def _text(
        self, base: Select, terms: list[str], dialect: str, q: str, prefix: bool
    ) -> tuple[Select, ColumnElement]:
        prefix_last = prefix and not q.endswith(" ")
        if dialect == "postgresql":
            parts = []
            for i, term in enumerate(terms):
                suffix = ":*" if prefix_last and i == len(terms) - 1 else ""
                parts.append("(" + " | ".join(f"{v}{suffix}" for v in umlaut_spellings(term)) + ")")
            tsquery = func.to_tsquery(literal_column("'german'::regconfig"), " & ".join(parts))
            vector = literal_column("resources.search_vector")
            return base.where(vector.op("@@")(tsquery)), func.ts_rank(vector, tsquery)
        match = _fts_match(terms, q, prefix)
        fts = (
            select(
                literal_column("rowid").label("id"),
                literal_column("bm25(resources_fts, 10.0, 5.0, 1.0)").label("rank"),
            )
            .select_from(text("resources_fts"))
            .where(text("resources_fts MATCH :match").bindparams(match=match))
            .subquery("fts")
        )
        base = base.join(fts, fts.c.id == ResourceRow.id)
        return base, fts.c.rank

    def _conditions(
        self, query: SearchQuery, dialect: str, probe: bool = False, within_text: bool = False
    ) -> list[ColumnElement]:
        """SQL conditions of the filters. ``probe``: test each candidate row by its key (for a
        selective text match) instead of building the full list of every filter's rows."""
        conditions: list[ColumnElement] = []

        def has(facet: str, values: list[str]) -> ColumnElement:
            return facet_condition(facet, ResourceFacet.value.in_(values), probe)

        for facet, values in query.filters.items():
            conditions.append(has(facet, values))
        for facet, values in query.exclude.items():
            conditions.append(~has(facet, values))
        if query.kinds:
            conditions.append(ResourceRow.kind.in_(query.kinds))
        if query.expr is not None:
            conditions.append(expr_sql(query.expr, probe))
        if query.bbox is not None:
            x0, y0, x1, y1 = query.bbox
            if dialect == "postgresql":
                conditions.append(
                    text(
                        "resources.geom && ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 4326)"
                    ).bindparams(bx0=x0, by0=y0, bx1=x1, by1=y1)
                )
            else:
                r = RTREE.c
                box = and_(r.max_x >= x0, r.min_x <= x1, r.max_y >= y0, r.min_y <= y1)
                if probe or within_text:  # an R*Tree lookup by id beats listing the box
                    conditions.append(exists(select(r.id).where(r.id == ResourceRow.id, box)))
                else:
                    conditions.append(ResourceRow.id.in_(select(r.id).where(box)))
        if query.temporal is not None:
            start, end = query.temporal
            if end:
                conditions.append(ResourceRow.temporal_start <= end)
            if start:
                conditions.append(
                    or_(
                        ResourceRow.temporal_end >= start,
                        and_(
                            ResourceRow.temporal_end.is_(None),
                            ResourceRow.temporal_start.is_not(None),
                        ),
                    )
                )
        if query.modified is not None:
            start, end = query.modified
            if start:
                conditions.append(ResourceRow.modified >= start)
            if end:
                conditions.append(ResourceRow.modified <= end)
        if query.updated is not None:
            start, end = query.updated
            if start:
                conditions.append(ResourceRow.updated_at >= start)
            if end:
                conditions.append(ResourceRow.updated_at <= end)
        return conditions

    def _sort_columns(
        self, query: SearchQuery, rank: ColumnElement | None
    ) -> tuple[ColumnElement, bool]:
        """The sort column and whether it runs descending."""
        sort = query.sort
        if sort == "relevance" and rank is None:
            sort = "modified"
        natural = {
            "relevance": self.store.dialect == "postgresql",  # ts_rank: high first; bm25: low first
            "title": False,
            "name": False,
            "id": False,
            "modified": True,
            "metadata_modified": True,
        }[sort]
        column = {
            "relevance": rank,
            "title": func.lower(ResourceRow.title),
            "name": ResourceRow.name,
            "id": ResourceRow.uuid,
            "modified": func.coalesce(ResourceRow.modified, ""),
            "metadata_modified": ResourceRow.updated_at,
        }[sort]
        descending = (
            natural if query.descending is None or sort == "relevance" else query.descending
        )
        if sort == "relevance" and query.descending is False:
            descending = not natural
        return column, descending

    def _page(
        self,
        session: Session,
        query: SearchQuery,
        base: Select,
        rank: ColumnElement | None,
        count: int,
    ) -> tuple[list[int], str | None]:
        column, descending = self._sort_columns(query, rank)
        keyed = base.add_columns(column.label("sort_key"))
        inner = keyed.subquery("page")
        order = (
            (inner.c.sort_key.desc(), inner.c.id.desc())
            if descending
            else (inner.c.sort_key.asc(), inner.c.id.asc())
        )
        stmt = select(inner.c.id, inner.c.sort_key).order_by(*order)
        offset = query.offset
        keyset = query.sort != "relevance" or rank is None
        if query.cursor:
            state = _decode_cursor(query.cursor)
            if keyset and "k" in state:
                key, last_id = _cursor_key(query, state["k"]), state["i"]
                after = (
                    or_(inner.c.sort_key < key, and_(inner.c.sort_key == key, inner.c.id < last_id))
                    if descending
                    else or_(
                        inner.c.sort_key > key, and_(inner.c.sort_key == key, inner.c.id > last_id)
                    )
                )
                stmt = stmt.where(after)
                offset = 0
            else:
                offset = int(state.get("o", 0))
        rows = session.execute(stmt.offset(offset).limit(query.limit)).all()
        next_cursor = None
        if rows and len(rows) == query.limit:
            last = rows[-1]
            if keyset:
                key = (
                    last.sort_key.isoformat()
                    if isinstance(last.sort_key, datetime)
                    else last.sort_key
                )
                next_cursor = _encode_cursor({"k": key, "i": last.id})
            else:
                next_cursor = _encode_cursor({"o": offset + len(rows)})
        return [r.id for r in rows], next_cursor

    def _load(self, session: Session, ids: list[int]) -> list[StoredResource]:
        if not ids:
            return []
        rows = {
            r.id: r for r in session.scalars(select(ResourceRow).where(ResourceRow.id.in_(ids)))
        }
        return [StoredResource.from_row(rows[i]) for i in ids]

    def _facets_of(
        self, session: Session, query: SearchQuery, ids: list[int]
    ) -> dict[str, list[tuple[str, int]]]:
        """Facet counts over the given resources, looked up by resource id."""
        if not ids:
            return {f: [] for f in query.facets}
        if self.store.dialect == "postgresql":
            in_ids = ResourceFacet.resource_id == any_(bindparam("ids", ids, type_=ARRAY(Integer)))
            rows = session.execute(
                select(ResourceFacet.facet, ResourceFacet.value, func.count().label("n"))
                .where(in_ids, ResourceFacet.facet.in_(query.facets))
                .group_by(ResourceFacet.facet, ResourceFacet.value)
            ).all()
        else:
            # driven from the ids (CROSS JOIN fixes SQLite's join order): each id's few facet
            # rows by index, instead of every row of the facets tested for membership
            rows = session.execute(
                text(
                    "SELECT f.facet, f.value, count(*) FROM json_each(:ids) AS j "
                    "CROSS JOIN resource_facets AS f ON f.resource_id = j.value "
                    "WHERE f.facet IN :facets GROUP BY f.facet, f.value"
                ).bindparams(bindparam("facets", expanding=True)),
                {"ids": json.dumps(ids), "facets": list(query.facets)},
            ).all()
        return _facet_lists(query, rows)

    def _facets_of_all(
        self, session: Session, query: SearchQuery
    ) -> dict[str, list[tuple[str, int]]]:
        """Facet counts of the whole catalogue, cached until the next write."""
        version = (
            session.scalar(select(func.count(ResourceRow.id))) or 0,
            session.scalar(select(func.max(ResourceRow.updated_at))),
        )
        with self._lock:
            cached = (
                self._all_facets if self._all_facets and self._all_facets[0] == version else None
            )
        if cached is None:
            rows = session.execute(
                select(ResourceFacet.facet, ResourceFacet.value, func.count().label("n"))
                .join(ResourceRow, ResourceRow.id == ResourceFacet.resource_id)
                .where(ResourceRow.deleted.is_(False))
                .group_by(ResourceFacet.facet, ResourceFacet.value)
            ).all()
            cached = (version, [tuple(r) for r in rows])
            with self._lock:
                self._all_facets = cached
        return _facet_lists(query, [r for r in cached[1] if r[0] in query.facets])


def _fts_match(terms: list[str], q: str, prefix: bool) -> str:
    """An FTS5 query of the stems: every word must occur; the last may be a prefix."""
    prefix_last = prefix and not q.endswith(" ")
    parts = []
    for i, term in enumerate(terms):
        star = "*" if prefix_last and i == len(terms) - 1 else ""
        parts.append(f'"{stem(term)}"{star}')
    return " ".join(parts)


def _facet_lists(query: SearchQuery, rows: list) -> dict[str, list[tuple[str, int]]]:  # type: ignore[type-arg]
    counts: dict[str, list[tuple[str, int]]] = {f: [] for f in query.facets}
    for facet, value, n in rows:
        counts[facet].append((value, n))
    for facet in counts:
        counts[facet].sort(key=lambda vn: (-vn[1], vn[0]))
        del counts[facet][query.facet_limit :]
    return counts


def _cursor_key(query: SearchQuery, key: object) -> object:
    if query.sort == "metadata_modified" and isinstance(key, str):
        return datetime.fromisoformat(key)
    return key


_COLUMNS = {
    "name": ResourceRow.name,
    "id": ResourceRow.uuid,
    "uri": ResourceRow.uri,
    "modified": ResourceRow.modified,
    "issued": ResourceRow.issued,
    "temporal_start": ResourceRow.temporal_start,
    "temporal_end": ResourceRow.temporal_end,
    "metadata_modified": ResourceRow.updated_at,
    "metadata_created": ResourceRow.created_at,
}


def facet_condition(facet: str, value_test: ColumnElement, probe: bool) -> ColumnElement:
    """Resources with a matching value of ``facet``: probed by key, or as a list of ids."""
    match = and_(ResourceFacet.facet == facet, value_test)
    if probe:
        return exists(
            select(ResourceFacet.resource_id).where(
                match, ResourceFacet.resource_id == ResourceRow.id
            )
        )
    return ResourceRow.id.in_(select(ResourceFacet.resource_id).where(match))


def expr_sql(expr: Expr, probe: bool = False) -> ColumnElement:
    """SQL for a filter expression (the same on both backends)."""
    if isinstance(expr, MatchAll):
        return true()
    if isinstance(expr, Not):
        return not_(expr_sql(expr.expr, probe))
    if isinstance(expr, And):
        return and_(*(expr_sql(e, probe) for e in expr.items))
    if isinstance(expr, Or):
        return or_(*(expr_sql(e, probe) for e in expr.items))
    if isinstance(expr, Term):
        if expr.field in _COLUMNS:
            column = _COLUMNS[expr.field]
            return column.is_not(None) if expr.value == "*" else column == expr.value
        if expr.field not in FACETS and expr.field not in INTERNAL_FACETS:
            raise _bad("fq", f"unbekanntes Feld {expr.field!r}", f"unknown field {expr.field!r}")
        value_test = true() if expr.value == "*" else ResourceFacet.value == expr.value
        return facet_condition(expr.field, value_test, probe)
    if isinstance(expr, Range):
        if expr.field not in _COLUMNS or expr.field in ("name", "id", "uri"):
            raise _bad(
                "fq", f"kein Bereich möglich für {expr.field!r}", f"no range on {expr.field!r}"
            )
        column = _COLUMNS[expr.field]
        timestamp = expr.field.startswith("metadata_")
        parts = [column.is_not(None)]
        if expr.low is not None:
            parts.append(column >= (_timestamp(expr.low) if timestamp else expr.low))
        if expr.high is not None:
            parts.append(column <= (_timestamp(expr.high) if timestamp else expr.high))
        return and_(*parts)
    raise TypeError(f"not a filter expression: {expr!r}")


def _timestamp(value: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad("fq", f"kein Zeitpunkt: {value!r}", f"not a timestamp: {value!r}") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _replace_q(query: SearchQuery, q: str) -> SearchQuery:
    from dataclasses import replace

    return replace(query, q=q, correct_typos=False)


def _encode_cursor(state: dict) -> str:  # type: ignore[type-arg]
    return (
        base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode())
        .decode()
        .rstrip("=")
    )


def _decode_cursor(cursor: str) -> dict:  # type: ignore[type-arg]
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(state, dict):
            raise ValueError("not an object")
        return state
    except ValueError as exc:
        raise _bad("cursor", "ungültiger Cursor", f"invalid cursor: {exc}") from exc


def _bad(where: str, de: str, en: str) -> InputError:
    return InputError([problem(where, "search", de, en)])
