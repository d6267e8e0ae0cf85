"""One search service over two backends: SQLite FTS5 (stems from catalog.text) and PostgreSQL
full text with the ``german`` configuration; filters, facet counts, sorting, offset and cursor
paging, and a typo-tolerant fallback."""

from __future__ import annotations

import base64
import difflib
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Select, and_, func, literal_column, not_, or_, select, text, true
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
SORTS = {"relevance", "title", "modified", "metadata_modified", "id", "name"}


@dataclass
class SearchQuery:
    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)  # OR within a facet, AND across
    exclude: dict[str, list[str]] = field(default_factory=dict)
    any_of: list[dict[str, list[str]]] = field(default_factory=list)  # each: OR across facets
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
            if terms:
                base, rank = self._text(base, terms, dialect, query.q)
            base = base.where(*self._conditions(query, dialect))
            ids = base.subquery()
            count = session.scalar(select(func.count()).select_from(ids)) or 0
            page_ids, next_cursor = self._page(session, query, base, rank, count)
            results = self._load(session, page_ids)
            facets = self._facets(session, query, ids) if query.facets else {}
        return SearchResult(count, results, facets, next_cursor)

    def _text(
        self, base: Select, terms: list[str], dialect: str, q: str
    ) -> tuple[Select, ColumnElement]:
        prefix_last = not q.endswith(" ")
        if dialect == "postgresql":
            parts = []
            for i, term in enumerate(terms):
                suffix = ":*" if prefix_last and i == len(terms) - 1 else ""
                parts.append("(" + " | ".join(f"{v}{suffix}" for v in umlaut_spellings(term)) + ")")
            tsquery = func.to_tsquery(literal_column("'german'::regconfig"), " & ".join(parts))
            vector = literal_column("resources.search_vector")
            return base.where(vector.op("@@")(tsquery)), func.ts_rank(vector, tsquery)
        parts = []
        for i, term in enumerate(terms):
            star = "*" if prefix_last and i == len(terms) - 1 else ""
            parts.append(f'"{stem(term)}"{star}')
        match = " ".join(parts)
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

    def _conditions(self, query: SearchQuery, dialect: str) -> list[ColumnElement]:
        conditions: list[ColumnElement] = []

        def has(facet: str, values: list[str]) -> ColumnElement:
            return ResourceRow.id.in_(
                select(ResourceFacet.resource_id).where(
                    ResourceFacet.facet == facet, ResourceFacet.value.in_(values)
                )
            )

        for facet, values in query.filters.items():
            conditions.append(has(facet, values))
        for facet, values in query.exclude.items():
            conditions.append(~has(facet, values))
        for group in query.any_of:
            conditions.append(or_(*(has(f, v) for f, v in group.items())))
        if query.kinds:
            conditions.append(ResourceRow.kind.in_(query.kinds))
        if query.expr is not None:
            conditions.append(expr_sql(query.expr))
        if query.bbox is not None:
            x0, y0, x1, y1 = query.bbox
            if dialect == "postgresql":
                conditions.append(
                    text(
                        "resources.geom && ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 4326)"
                    ).bindparams(bx0=x0, by0=y0, bx1=x1, by1=y1)
                )
            else:
                conditions.append(
                    ResourceRow.id.in_(
                        select(text("id"))
                        .select_from(text("resources_bbox"))
                        .where(
                            text(
                                "max_x >= :bx0 AND min_x <= :bx1 "
                                "AND max_y >= :by0 AND min_y <= :by1"
                            ).bindparams(bx0=x0, by0=y0, bx1=x1, by1=y1)
                        )
                    )
                )
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
                key, last_id = state["k"], state["i"]
                if query.sort == "metadata_modified" and key is not None:
                    key = datetime.fromisoformat(key)
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

    def _facets(
        self, session: Session, query: SearchQuery, ids
    ) -> dict[str, list[tuple[str, int]]]:  # type: ignore[no-untyped-def]
        counts: dict[str, list[tuple[str, int]]] = {f: [] for f in query.facets}
        rows = session.execute(
            select(ResourceFacet.facet, ResourceFacet.value, func.count().label("n"))
            .where(
                ResourceFacet.facet.in_(query.facets),
                ResourceFacet.resource_id.in_(select(ids.c.id)),
            )
            .group_by(ResourceFacet.facet, ResourceFacet.value)
        ).all()
        for facet, value, n in rows:
            counts[facet].append((value, n))
        for facet in counts:
            counts[facet].sort(key=lambda vn: (-vn[1], vn[0]))
            del counts[facet][query.facet_limit :]
        return counts


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


def expr_sql(expr: Expr) -> ColumnElement:
    """SQL for a filter expression (the same on both backends)."""
    if isinstance(expr, MatchAll):
        return true()
    if isinstance(expr, Not):
        return not_(expr_sql(expr.expr))
    if isinstance(expr, And):
        return and_(*(expr_sql(e) for e in expr.items))
    if isinstance(expr, Or):
        return or_(*(expr_sql(e) for e in expr.items))
    if isinstance(expr, Term):
        if expr.field in _COLUMNS:
            column = _COLUMNS[expr.field]
            return column.is_not(None) if expr.value == "*" else column == expr.value
        if expr.field not in FACETS and expr.field not in INTERNAL_FACETS:
            raise _bad("fq", f"unbekanntes Feld {expr.field!r}", f"unknown field {expr.field!r}")
        match = ResourceFacet.facet == expr.field
        if expr.value != "*":
            match = and_(match, ResourceFacet.value == expr.value)
        return ResourceRow.id.in_(select(ResourceFacet.resource_id).where(match))
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
