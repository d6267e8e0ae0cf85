"""Search benchmark: CKAN ``package_search`` and ``SearchService.search`` against the raw SQL.

Not a test. For every size and backend it builds (or reuses) a store of n generated datasets
(bench/generate.py, imported with ``import_document`` in documents of ``--import-chunk``) and
measures the latency (p50/p95/p99/mean over ``--runs`` runs after ``--warmup`` warm-up runs,
cycling through ``QUERIES``) of one realistic search: German free text (inflected forms, umlaut
and ß spellings), two facet filters (``fq=organization:<Amt> AND res_format:CSV``), a bounding
box, facets ``organization,res_format,tags`` and ``rows=10``:

1. ``package_search``: the CKAN action as a client calls it (query parsing, search, package
   dicts, facet items), ``catalog.ckan_actions.package_search(Context(store, service), data)``;
2. ``SearchService.search``: the search alone, with the query already parsed (no dicts);
3. ``raw SQL``: the floor, the statements catalog/search.py sends, written by hand and run with
   sqlite3 / psycopg (autocommit; prepare_threshold=None as in catalog/store.py): on SQLite
   the count of the text's FTS matches, which decides (``PROBE_BELOW``) whether the fq terms
   are EXISTS probes by key or IN-lists (the bbox is an EXISTS probe of the R*Tree by id); the
   match set (id, rank) in one statement; count and page (heapq) in Python; facet counts of
   the matched ids (SQLite ``json_each``, PostgreSQL ``= ANY``); see ``Raw``;
4. ``raw SQL + rows``: the floor plus loading the 10 rows (every column), for information.

The three ways run interleaved (order rotated every run), so load from other processes hits
them alike; the ratio column is p95 / p95 of the raw SQL. The bounding box goes in as CKAN's
``ext_bbox`` if ``package_search_query`` reads it, otherwise it is set on the SearchQuery the
action builds (a SearchService subclass adds it); the output says which.

Stores are cached: SQLite files in bench/out/search-sqlite-<n>-s<seed>-<key>.db, PostgreSQL in
one database per size (odapp_bench_search_<n>, key in table bench_search_cache); <key> hashes
size, seed, bench/generate.py, catalog/migrations, catalog/resources and the catalog modules the
import runs (``--cache-key-all``: every module). A store whose key differs is rebuilt (older
SQLite files of the same size and seed are deleted); ``--rebuild`` forces a rebuild.

    .venv/bin/python bench/search.py --sizes 2000 --backends sqlite,postgresql
    .venv/bin/python bench/search.py --sizes 10000 100000 --backends sqlite

PostgreSQL: ODAPP_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1/odapp_bench) names
server and user; the database name is replaced by odapp_bench_search_<n>. Results are printed and
written to bench/out/search-<timestamp>.json (rewritten after every size and backend).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import heapq
import json
import math
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from generate import _TOPIC_AMT, AEMTER, BASE, TOPICS, generate_catalog
from sqlalchemy import event

from catalog.ckan_actions import Context
from catalog.ckan_actions import package_search as ckan_package_search
from catalog.ckan_query import package_search_query
from catalog.importer import import_document
from catalog.rdf_io import Document
from catalog.search import PROBE_BELOW, SearchQuery, SearchService, query_terms
from catalog.store import Store
from catalog.text import stem, umlaut_spellings

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1/odapp_bench"
OUT_DIR = Path(__file__).resolve().parent / "out"
ROOT = Path(__file__).resolve().parent.parent
# the cache key covers what can change a stored catalogue: the catalog modules the import runs
# (found by following ``catalog.*`` imports from these), the migrations, catalog/resources/**
# and bench/generate.py; edits elsewhere (search, CKAN API, web) keep the cached stores
WRITE_ROOTS = ("catalog/importer.py", "catalog/store.py", "catalog/search_index.py")
TARGET_P95_MS = 30.0
TARGET_RATIO = 2.0
FACET_FIELDS = ("organization", "res_format", "tags")
FORMAT = "CSV"

# (q, slug of the topic whose Amt is the organisation filter); inflected forms, umlauts, ß
QUERIES: list[tuple[str, str]] = [
    ("Bäume", "strassenbaeume"),
    ("Baeume", "strassenbaeume"),
    ("Haltestelle", "haltestellen"),
    ("Straßen", "strassenverzeichnis"),
    ("strassen", "strassenverzeichnis"),
    ("Luftqualität", "luftqualitaet"),
    ("Luftqualitaet Feinstaub", "luftqualitaet"),
    ("Wahlergebnisse", "wahlergebnisse"),
    ("Schulen", "schulen"),
    ("Radverkehr", "radverkehr"),
    ("Einwohner", "einwohner"),
    ("Haltestellen Straßenbahn", "haltestellen"),
    ("Spielplätze", "spielplaetze"),
    ("Kindertageseinrichtungen", "kitas"),
]
# (min_x, min_y, max_x, max_y) inside the generated area 13.5-14.0 E / 50.9-51.2 N
BBOXES: list[tuple[float, float, float, float]] = [
    (13.70, 51.02, 13.78, 51.07),  # centre
    (13.65, 51.08, 13.85, 51.18),  # north
    (13.50, 50.90, 13.70, 51.02),  # south-west
]


# --- generator knowledge -------------------------------------------------------------------


def topic_amt_slug(topic_slug: str) -> str:
    """The slug of the Amt that publishes most datasets of a topic (bench/generate.py)."""
    slugs = [t[2] for t in TOPICS]
    return AEMTER[_TOPIC_AMT[slugs.index(topic_slug)]][1]


@dataclass
class Case:
    q: str
    org: str
    bbox: tuple[float, float, float, float]

    def data(self, ext_bbox: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "q": self.q,
            "fq": f"organization:{self.org} AND res_format:{FORMAT}",
            "facet.field": json.dumps(list(FACET_FIELDS)),
            "rows": 10,
        }
        if ext_bbox:
            data["ext_bbox"] = ",".join(str(v) for v in self.bbox)
        return data


def make_cases(store: Store) -> list[Case]:
    orgs = store.organizations()  # (name, title, IRI, count)
    by_uri = {uri: name for name, _title, uri, _n in orgs if uri}
    busiest = max(orgs, key=lambda o: o[3])[0]
    cases = []
    for i, (q, topic) in enumerate(QUERIES):
        uri = f"{BASE}/organization/{topic_amt_slug(topic)}"
        cases.append(Case(q, by_uri.get(uri, busiest), BBOXES[i % len(BBOXES)]))
    return cases


# --- the bounding box: ext_bbox if ODApp reads it, else set on the parsed query -------------


def ext_bbox_supported() -> bool:
    query = package_search_query({"q": "x", "ext_bbox": "13.7,51.0,13.8,51.1"})
    return getattr(query, "bbox", None) is not None


class BboxSearchService(SearchService):
    """Adds ``self.bbox`` to every query (for package_search while it ignores ext_bbox)."""

    bbox: tuple[float, float, float, float] | None = None

    def search(self, query: SearchQuery):  # type: ignore[no-untyped-def]
        if self.bbox is not None and query.bbox is None:
            query = replace(query, bbox=self.bbox)
        return super().search(query)


# --- cache ---------------------------------------------------------------------------------


def write_side_files() -> list[Path]:
    """catalog modules reachable by imports from WRITE_ROOTS, migrations and resources."""
    import ast

    todo = [ROOT / r for r in WRITE_ROOTS]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen or not path.exists():
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name == "catalog" or name.startswith("catalog."):
                    base = ROOT / name.replace(".", "/")
                    todo += [base.with_suffix(".py"), base / "__init__.py"]
    extra = [p for p in (ROOT / "catalog" / "migrations").rglob("*") if p.is_file()]
    extra += [p for p in (ROOT / "catalog" / "resources").rglob("*") if p.is_file()]
    files = {p for p in seen | set(extra) if "__pycache__" not in p.parts}
    return sorted(files) + [ROOT / "bench" / "generate.py"]


def code_hashes(all_code: bool) -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    def digest(paths: list[Path]) -> str:
        h = hashlib.sha256()
        for path in paths:
            h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
        return h.hexdigest()[:16]

    every = sorted((ROOT / "catalog").rglob("*.py"))
    write = write_side_files()
    if all_code:
        write = sorted(set(write) | set(every))
    status = git("status", "--porcelain", "--", "catalog")
    return {
        "git_head": git("rev-parse", "--short", "HEAD"),
        "uncommitted": [ln.split(maxsplit=1)[-1] for ln in status.splitlines() if ln.strip()],
        "catalog_sha256": digest(every),
        "store_code_sha256": digest(write),
        "cache_key_files": [p.relative_to(ROOT).as_posix() for p in write],
    }


def cache_key(n: int, seed: int, code: dict[str, Any]) -> str:
    return hashlib.sha256(f"{n}:{seed}:{code['store_code_sha256']}".encode()).hexdigest()[:12]


def import_catalog(store: Store, n: int, seed: int, chunk: int) -> float:
    t0 = time.perf_counter()
    done = 0
    for start in range(0, n, chunk):
        data = generate_catalog(min(chunk, n - start), seed, start).encode("utf-8")
        report = import_document(store, Document(data, "bench.ttl", "turtle"))
        done += len(report.created) + len(report.updated)
        del data, report
        gc.collect()
        print(f"    imported {done:,}/{n:,} ({time.perf_counter() - t0:.0f} s)", flush=True)
    if done != n:
        raise SystemExit(f"import stored {done} of {n} datasets")
    return time.perf_counter() - t0


@dataclass
class Built:
    store: Store
    raw_target: str  # sqlite file path or libpq URL
    cache: str  # what happened: "reused …" / "built …"


@contextmanager
def sqlite_store(n: int, seed: int, key: str, chunk: int, rebuild: bool) -> Iterator[Built]:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"search-sqlite-{n}-s{seed}-{key}.db"
    if path.exists() and not rebuild:
        how = f"reused cached {path.name} (import skipped)"
    else:
        for old in OUT_DIR.glob(f"search-sqlite-{n}-s{seed}-*.db*"):
            old.unlink()  # older keys (and a build that was interrupted)
        tmp = path.with_name(path.name + ".building")
        store = Store(f"sqlite:///{tmp}", BASE)
        store.upgrade()
        print(f"  building {path.name}: importing {n:,} datasets", flush=True)
        sec = import_catalog(store, n, seed, chunk)
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        store.engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        tmp.replace(path)
        how = f"built {path.name}: import took {sec:.0f} s (cached for reruns)"
    store = Store(f"sqlite:///{path}", BASE)
    try:
        yield Built(store, str(path), how)
    finally:
        store.engine.dispose()


def pg_url_for(base_url: str, n: int) -> str:
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=f"/odapp_bench_search_{n}"))


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def postgres_store(
    base_url: str, n: int, seed: int, key: str, chunk: int, rebuild: bool
) -> Iterator[Built]:
    import psycopg
    from psycopg import sql

    url = pg_url_for(base_url, n)
    dbname = f"odapp_bench_search_{n}"
    admin = urlunsplit(urlsplit(_libpq(base_url))._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone() \
                is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    stored_key = None
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('public.bench_search_cache')").fetchone()[0]:
            row = conn.execute("SELECT key FROM bench_search_cache").fetchone()
            stored_key = row[0] if row else None
    if stored_key == key and not rebuild:
        how = f"reused database {dbname} (cache key {key}; import skipped)"
    else:
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            conn.execute("CREATE SCHEMA public")
        store = Store(url, BASE)
        store.upgrade()
        print(f"  building database {dbname}: importing {n:,} datasets", flush=True)
        sec = import_catalog(store, n, seed, chunk)
        store.engine.dispose()
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")  # what autovacuum does soon after a bulk load
            conn.execute("CREATE TABLE bench_search_cache (key text, size int, seed int, "
                         "built timestamptz DEFAULT now())")
            conn.execute("INSERT INTO bench_search_cache (key, size, seed) VALUES (%s, %s, %s)",
                         (key, n, seed))
        how = f"built database {dbname}: import took {sec:.0f} s, then VACUUM ANALYZE " \
              f"(cache key {key} kept for reruns)"
    store = Store(url, BASE)
    try:
        yield Built(store, _libpq(url), how)
    finally:
        store.engine.dispose()


# --- the raw SQL (the floor) ---------------------------------------------------------------


def sqlite_match(q: str, prefix: bool = False) -> str:
    """The FTS5 MATCH text catalog/search.py builds (``_fts_match``: stems, every word must
    occur; the last word is a prefix only for autocomplete, never in package_search)."""
    terms = query_terms(q)
    prefix_last = prefix and not q.endswith(" ")
    return " ".join(
        f'"{stem(t)}"' + ("*" if prefix_last and i == len(terms) - 1 else "")
        for i, t in enumerate(terms)
    )


def pg_tsquery(q: str, prefix: bool = False) -> str:
    """The to_tsquery text catalog/search.py builds (umlaut spellings; no prefix, as above)."""
    terms = query_terms(q)
    prefix_last = prefix and not q.endswith(" ")
    parts = []
    for i, t in enumerate(terms):
        suffix = ":*" if prefix_last and i == len(terms) - 1 else ""
        parts.append("(" + " | ".join(f"{v}{suffix}" for v in umlaut_spellings(t)) + ")")
    return " & ".join(parts)


# catalog/search.py, SearchService._run for a narrowed search (text + fq + bbox):
#   SQLite: (1) count the text's matches in the FTS index; (2) the match set (id, bm25) with
#   the fq terms as EXISTS probes by key if (1) <= PROBE_BELOW, else as IN-lists, and the bbox
#   as an EXISTS probe of the R*Tree by id (always, since there is a text match);
#   PostgreSQL: (2) only (IN-lists, geom &&, ts_rank); then, on both, count and page in Python
#   (len, heapq), (3) facet counts of the matched ids, (4) the page's rows (``raw SQL + rows``)
SQLITE_MATCH = """SELECT resources.id, fts.rank AS sort_key
FROM resources JOIN (SELECT rowid AS id, bm25(resources_fts, 10.0, 5.0, 1.0) AS rank
FROM resources_fts
WHERE resources_fts MATCH :match) AS fts ON fts.id = resources.id
WHERE resources.deleted IS 0 AND {org} AND {fmt} AND (EXISTS (SELECT resources_bbox.id
FROM resources_bbox
WHERE resources_bbox.id = resources.id AND resources_bbox.max_x >= :bx0 AND resources_bbox.min_x \
<= :bx1 AND resources_bbox.max_y >= :by0 AND resources_bbox.min_y <= :by1))"""
SQLITE_PROBE = """(EXISTS (SELECT resource_facets.resource_id
FROM resource_facets
WHERE resource_facets.facet = :{f} AND resource_facets.value = :{v} AND \
resource_facets.resource_id = resources.id))"""
SQLITE_LIST = """resources.id IN (SELECT resource_facets.resource_id
FROM resource_facets
WHERE resource_facets.facet = :{f} AND resource_facets.value = :{v})"""
PG_MATCH = """SELECT resources.id, ts_rank(resources.search_vector, \
to_tsquery('german'::regconfig, %(tsq)s::VARCHAR)) AS sort_key
FROM resources
WHERE resources.deleted IS false AND (resources.search_vector @@ to_tsquery('german'::regconfig, \
%(tsq)s::VARCHAR)) AND resources.id IN (SELECT resource_facets.resource_id
FROM resource_facets
WHERE resource_facets.facet = %(org_f)s::VARCHAR AND resource_facets.value = %(org)s::VARCHAR) \
AND resources.id IN (SELECT resource_facets.resource_id
FROM resource_facets
WHERE resource_facets.facet = %(fmt_f)s::VARCHAR AND resource_facets.value = %(fmt)s::VARCHAR) \
AND resources.geom && ST_MakeEnvelope(%(bx0)s, %(by0)s, %(bx1)s, %(by1)s, 4326)"""


def raw_statements(backend: str) -> dict[str, str]:
    """The statements of the floor, as catalog/search.py sends them for the benchmark's query."""
    if backend == "sqlite":
        facet_args = ", ".join(f":facet{i}" for i in range(len(FACET_FIELDS)))
        return {
            "text_count": "SELECT count(*) FROM resources_fts WHERE resources_fts MATCH :match",
            "match_probe": SQLITE_MATCH.format(
                org=SQLITE_PROBE.format(f="org_f", v="org"),
                fmt=SQLITE_PROBE.format(f="fmt_f", v="fmt")),
            "match_lists": SQLITE_MATCH.format(
                org=SQLITE_LIST.format(f="org_f", v="org"),
                fmt=SQLITE_LIST.format(f="fmt_f", v="fmt")),
            "facets": "SELECT f.facet, f.value, count(*) FROM json_each(:ids) AS j CROSS JOIN "
                      "resource_facets AS f ON f.resource_id = j.value\n"
                      f"WHERE f.facet IN ({facet_args}) GROUP BY f.facet, f.value",
            "rows": "SELECT resources.*, organizations.* FROM resources LEFT OUTER JOIN "
                    "organizations ON organizations.id = resources.organization_id "
                    "WHERE resources.id IN ({ids})",
            "text_only": "SELECT count(*) FROM resources JOIN resources_fts ON "
                         "resources_fts.rowid = resources.id WHERE resources_fts MATCH :match "
                         "AND resources.deleted IS 0",
        }
    facet_args = ", ".join(f"%(facet{i})s::VARCHAR" for i in range(len(FACET_FIELDS)))
    return {
        "match": PG_MATCH,
        "facets": "SELECT resource_facets.facet, resource_facets.value, count(*) AS n\n"
                  "FROM resource_facets\nWHERE resource_facets.resource_id = "
                  f"ANY (%(ids)s::INTEGER[]) AND resource_facets.facet IN ({facet_args}) "
                  "GROUP BY resource_facets.facet, resource_facets.value",
        "rows": "SELECT resources.*, organizations.* FROM resources LEFT OUTER JOIN organizations "
                "ON organizations.id = resources.organization_id WHERE resources.id IN ({ids})",
        "text_only": "SELECT count(*) FROM resources WHERE resources.search_vector @@ "
                     "to_tsquery('german'::regconfig, %(tsq)s) AND resources.deleted IS false",
    }


class Raw:
    """The statements of catalog/search.py, hand-written, on a plain DB-API connection: the
    same probing decision (SQLite: text matches <= PROBE_BELOW), the match set fetched once,
    count and page in Python (heapq), facets counted from the matched ids."""

    def __init__(self, backend: str, target: str) -> None:
        self.backend = backend
        self.sql = raw_statements(backend)
        if backend == "sqlite":
            self.conn: Any = sqlite3.connect(target, check_same_thread=False)
        else:
            import psycopg

            # prepare_threshold=None, as catalog/store.py connects: psycopg would prepare a
            # statement after five executions, and PostgreSQL's generic plan for it evaluates
            # to_tsquery per row (~1 s at 2,000 datasets)
            self.conn = psycopg.connect(target, autocommit=True, prepare_threshold=None)

    def params(self, case: Case) -> dict[str, Any]:
        x0, y0, x1, y1 = case.bbox
        p: dict[str, Any] = {"org_f": "organization", "org": case.org, "fmt_f": "res_format",
                             "fmt": FORMAT, "bx0": x0, "by0": y0, "bx1": x1, "by1": y1}
        if self.backend == "sqlite":
            p["match"] = sqlite_match(case.q)
        else:
            p["tsq"] = pg_tsquery(case.q)
        return p

    def facet_params(self, ids: list[int]) -> dict[str, Any]:
        p: dict[str, Any] = {f"facet{i}": f for i, f in enumerate(FACET_FIELDS)}
        p["ids"] = json.dumps(ids) if self.backend == "sqlite" else ids
        return p

    def match_sql(self, p: dict[str, Any]) -> tuple[str, bool]:
        """The match statement and whether it probes (SQLite: one more statement to decide)."""
        if self.backend != "sqlite":
            return self.sql["match"], False
        text_n = self.conn.execute(self.sql["text_count"], {"match": p["match"]}).fetchone()[0]
        probe = text_n <= PROBE_BELOW
        return self.sql["match_probe" if probe else "match_lists"], probe

    def run(self, case: Case, rows: bool = False) -> tuple[list[int], int, list[tuple]]:
        p = self.params(case)
        ex = self.conn.execute
        stmt, _probe = self.match_sql(p)
        matches = ex(stmt, p).fetchall()
        count = len(matches)
        # bm25: lower is better (ascending); ts_rank: higher is better (descending); ties by id
        # in the same direction, a NULL key as "" (SearchService._page_in_memory)
        keyed = [(key if key is not None else "", i) for i, key in matches]
        pick = heapq.nsmallest if self.backend == "sqlite" else heapq.nlargest
        ids = [i for _, i in pick(10, keyed)]
        facets = ex(self.sql["facets"], self.facet_params([i for i, _ in matches])).fetchall() \
            if matches else []
        if rows and ids:
            mark = "?" if self.backend == "sqlite" else "%s"
            ex(self.sql["rows"].format(ids=", ".join(mark for _ in ids)), ids).fetchall()
        return ids, count, facets

    def statements(self) -> int:
        """Statements per call without the rows (SQLite: text count, match, facets)."""
        return 3 if self.backend == "sqlite" else 2

    def text_count(self, q: str) -> int:
        p = {"match": sqlite_match(q)} if self.backend == "sqlite" else {"tsq": pg_tsquery(q)}
        return self.conn.execute(self.sql["text_only"], p).fetchone()[0]

    def explain(self, case: Case) -> dict[str, str]:
        p = self.params(case)
        stmt, probe = self.match_sql(p)
        ids = [r[0] for r in self.conn.execute(stmt, p).fetchall()]
        todo = [("match (probe)" if probe else "match (IN-lists)", stmt, p),
                ("facets", self.sql["facets"], self.facet_params(ids))]
        if self.backend == "sqlite":
            todo.insert(0, ("text_count", self.sql["text_count"], {"match": p["match"]}))
        out = {}
        for name, sql_text, args in todo:
            if self.backend == "sqlite":
                rows = self.conn.execute("EXPLAIN QUERY PLAN " + sql_text, args).fetchall()
                out[name] = "\n".join(f"{r[0]:>3} {r[1]:>3}  {r[3]}" for r in rows)
            else:
                rows = self.conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql_text,
                                         args).fetchall()
                out[name] = "\n".join(r[0] for r in rows)
        return out

    def close(self) -> None:
        self.conn.close()


# --- measuring -----------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


@dataclass
class Stat:
    size: int
    backend: str
    operation: str
    runs: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    ratio_p95: float | None = None  # p95 / raw SQL p95
    statements: int | None = None  # SQL statements per call (ODApp's, counted once)
    note: str = ""


def stat(size: int, backend: str, op: str, ms: list[float], note: str = "") -> Stat:
    return Stat(size, backend, op, len(ms), pct(ms, 0.50), pct(ms, 0.95), pct(ms, 0.99),
                statistics.fmean(ms), max(ms), note=note)


OPS = ("package_search (action)", "SearchService.search", "raw SQL", "raw SQL + rows")


def measure(
    cases: list[Case], calls: dict[str, Callable[[Case], Any]], runs: int, warmup: int
) -> tuple[dict[str, list[float]], dict[str, dict[int, list[float]]]]:
    ops = list(calls)
    for i in range(warmup):
        for op in ops:
            calls[op](cases[i % len(cases)])
    times: dict[str, list[float]] = {op: [] for op in ops}
    per_case: dict[str, dict[int, list[float]]] = {op: {} for op in ops}
    gc.collect()
    clock = time.perf_counter_ns
    for i in range(runs):
        k = i % len(cases)
        case = cases[k]
        order = ops[i % len(ops):] + ops[: i % len(ops)]  # rotate who goes first
        for op in order:
            fn = calls[op]
            t0 = clock()
            fn(case)
            ms = (clock() - t0) / 1e6
            times[op].append(ms)
            per_case[op].setdefault(k, []).append(ms)
    return times, per_case


@contextmanager
def count_statements(store: Store) -> Iterator[list[str]]:
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", listener)


def other_benchmarks() -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "bench/" in cmd and "python" in cmd:
            found.append(f"{pid}: {cmd.strip()[:120]}")
    return found


# --- output --------------------------------------------------------------------------------


HEADER = (f"{'size':>7}  {'backend':<10} {'operation':<24} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'mean ms':>8} {'p95/raw':>8} {'stmts':>5}  note")
# stmts: SQL statements sent for the first query with results (ODApp: an engine event; the
# package_search action includes its organisation lookups; pool_pre_ping's ping not counted)


def format_stat(s: Stat) -> str:
    ratio = "-" if s.ratio_p95 is None else f"{s.ratio_p95:.2f}"
    stmts = "-" if s.statements is None else str(s.statements)
    return (f"{s.size:>7}  {s.backend:<10} {s.operation:<24} {s.p50_ms:>8.2f} {s.p95_ms:>8.2f} "
            f"{s.p99_ms:>8.2f} {s.mean_ms:>8.2f} {ratio:>8} {stmts:>5}  {s.note}")


@dataclass
class Run:
    args: dict[str, Any]
    started: str
    path: Path
    code: dict[str, Any]
    stats: list[Stat] = field(default_factory=list)
    per_query: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # size -> q -> …
    runs: list[dict[str, Any]] = field(default_factory=list)  # per size+backend: cache, load…
    sql: dict[str, Any] = field(default_factory=dict)
    plans: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  NOTE: {text}", flush=True)

    def save(self) -> None:
        import resource

        self.path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "benchmark": "search",
            "started": self.started,
            "args": self.args,
            "code": self.code,
            "environment": {
                "python": sys.version.split()[0],
                "sqlite": sqlite3.sqlite_version,
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            },
            "targets": {"p95_ms_at_100000_sqlite": TARGET_P95_MS,
                        "max_ratio_p95_vs_raw": TARGET_RATIO},
            "stats": [asdict(s) for s in self.stats],
            "per_query": self.per_query,
            "counts": self.counts,
            "runs": self.runs,
            "sql": self.sql,
            "plans": self.plans,
            "notes": self.notes,
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.path)


# --- one size and backend ------------------------------------------------------------------


def bench_one(run: Run, built: Built, backend: str, n: int, args: argparse.Namespace,
              native_bbox: bool) -> None:
    store = built.store
    count = store.count()
    if count != n:
        run.note(f"{backend} {n}: the store holds {count} resources, expected {n}")
    cases = make_cases(store)
    service = SearchService(store) if native_bbox else BboxSearchService(store)
    raw = Raw(backend, built.raw_target)
    datas = [c.data(native_bbox) for c in cases]
    queries = []
    for c, d in zip(cases, datas, strict=True):
        query = package_search_query(d)
        if not native_bbox:
            query = replace(query, bbox=c.bbox)
        queries.append(query)
    index = {id(c): k for k, c in enumerate(cases)}

    def action(case: Case) -> Any:
        if not native_bbox:
            service.bbox = case.bbox  # type: ignore[attr-defined]
        # a new Context per call, as catalog/ckan_web.py makes one per request (it holds
        # per-request caches); the SearchService is shared, as in the web app
        return ckan_package_search(Context(store, service), datas[index[id(case)]])

    def search(case: Case) -> Any:
        return service.search(queries[index[id(case)]])

    calls: dict[str, Callable[[Case], Any]] = {
        OPS[0]: action,
        OPS[1]: search,
        OPS[2]: raw.run,
        OPS[3]: lambda c: raw.run(c, rows=True),
    }

    # correctness first: ODApp and the raw SQL must agree, on ids, count and facets
    counts, raw_counts, text_counts, problems = {}, {}, {}, []
    for k, case in enumerate(cases):
        result = service.search(queries[k])
        ids, rc, facets = raw.run(case)
        counts[case.q], raw_counts[case.q] = result.count, rc
        text_counts[case.q] = raw.text_count(case.q)
        odapp_ids = [r.id for r in result.results]
        if result.corrected_q is not None or rc != result.count or ids != odapp_ids:
            problems.append(f"{case.q!r}: ODApp count {result.count} ids {odapp_ids[:3]}… "
                            f"corrected_q {result.corrected_q!r}; raw count {rc} ids {ids[:3]}…")
        raw_facets: dict[str, list[tuple[str, int]]] = {f: [] for f in FACET_FIELDS}
        for f, v, c in facets:
            raw_facets[f].append((v, c))
        for f in raw_facets:
            raw_facets[f] = sorted(raw_facets[f], key=lambda vn: (-vn[1], vn[0]))[:50]
        if raw_facets != {f: list(vs) for f, vs in result.facets.items()}:
            problems.append(f"{case.q!r}: facet counts differ between ODApp and the raw SQL")
        action_count = action(case)["count"]
        if action_count != result.count:
            problems.append(f"{case.q!r}: package_search count {action_count} != search "
                            f"{result.count}")
    for p in problems:
        run.note(f"{backend} {n}: {p}")

    statements: dict[str, int] = {}
    # the first query that finds something (a query without results also runs the typo
    # correction's statements, which the floor does not)
    slow_case = next((c for c in cases if counts[c.q]), cases[0])
    for op, fn in ((OPS[0], action), (OPS[1], search)):
        with count_statements(store) as seen:
            fn(slow_case)
        statements[op] = len(seen)
        run.sql.setdefault(f"odapp_{backend}", {})[op] = seen
    statements[OPS[2]], statements[OPS[3]] = raw.statements(), raw.statements() + 1
    if f"raw_{backend}" not in run.sql:
        run.sql[f"raw_{backend}"] = raw.sql
        print(f"\n  raw SQL ({backend}; the floor, the statements catalog/search.py sends; count "
              "= len(matches), page = heapq."
              + ("nsmallest(10, (bm25, id))" if backend == "sqlite" else
                 "nlargest(10, (ts_rank, id))") + " in Python):")
        if backend == "sqlite":
            print(f"  (match_probe if text_count <= PROBE_BELOW = {PROBE_BELOW:,}, else "
                  "match_lists)")
        for name, text in raw.sql.items():
            if name != "text_only":
                print(f"  -- {name}\n" + "\n".join("    " + ln for ln in text.splitlines()))
        print(f"  params of {slow_case.q!r}: {raw.params(slow_case)}", flush=True)

    runs = max(args.runs, 200)
    runs = -(-runs // len(cases)) * len(cases)
    load_before = os.getloadavg()
    others = other_benchmarks()
    t0 = time.perf_counter()
    times, per_case = measure(cases, calls, runs, args.warmup)
    took = time.perf_counter() - t0
    load_after = os.getloadavg()
    high = max(load_before[0], load_after[0]) > 1.5
    load_note = (f"load {load_before[0]:.2f} -> {load_after[0]:.2f} (1-min avg, 2 cores)"
                 + (" HIGH" if high else ""))

    raw_p95 = pct(times[OPS[2]], 0.95)
    for op in OPS:
        s = stat(n, backend, op, times[op], note=load_note if op == OPS[0] else "")
        s.ratio_p95 = s.p95_ms / raw_p95
        s.statements = statements.get(op)
        run.stats.append(s)
        print(format_stat(s), flush=True)

    for k, case in enumerate(cases):
        run.per_query.append({
            "size": n, "backend": backend, "q": case.q, "org": case.org, "bbox": case.bbox,
            "count": counts[case.q], "raw_count": raw_counts[case.q],
            "text_only_count": text_counts[case.q],
            **{f"{op} mean_ms": statistics.fmean(per_case[op][k]) for op in OPS},
            **{f"{op} p95_ms": pct(per_case[op][k], 0.95) for op in OPS},
        })
    size_counts = run.counts.setdefault(str(n), {})
    for case in cases:
        size_counts.setdefault(case.q, {"org": case.org, "bbox": case.bbox})[backend] = {
            "count": counts[case.q], "text_only": text_counts[case.q]}

    # the slowest query (ODApp search mean): plans, and a profile if the targets are missed
    slow_k = max(range(len(cases)), key=lambda k: statistics.fmean(per_case[OPS[1]][k]))
    slow = cases[slow_k]
    plans = raw.explain(slow)
    run.plans[f"{backend} {n}"] = {"q": slow.q, "org": slow.org, "bbox": slow.bbox, **plans}
    act = next(s for s in run.stats if s.size == n and s.backend == backend and s.operation
               == OPS[0])
    missed = act.p95_ms > TARGET_P95_MS or (act.ratio_p95 or 0) > TARGET_RATIO
    profile_path = None
    if args.profile or (missed and not args.no_profile):
        profile_path = profile(run, backend, n, slow, action, search)
    run.runs.append({
        "size": n, "backend": backend, "cache": built.cache, "runs_per_operation": runs,
        "warmup": args.warmup, "seconds": took, "load_before": load_before,
        "load_after": load_after, "load_high": high, "other_bench_processes": others,
        "bbox_via": "ext_bbox" if native_bbox else "SearchQuery.bbox (ext_bbox not read)",
        "slowest_query": slow.q, "profile": profile_path,
    })
    raw.close()


def profile(run: Run, backend: str, n: int, case: Case, action: Callable[[Case], Any],
            search: Callable[[Case], Any]) -> str | None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        run.note("pyinstrument is not installed; no profile")
        return None
    paths = []
    for name, fn in (("action", action), ("search", search)):
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(60):
            fn(case)
        profiler.stop()
        path = run.path.with_name(f"{run.path.stem}-profile-{name}-{backend}-{n}.txt")
        path.write_text(profiler.output_text(unicode=True, color=False, show_all=False),
                        encoding="utf-8")
        paths.append(str(path))
    run.note(f"profiles of {case.q!r} (60 calls each): {', '.join(paths)}")
    return ", ".join(paths)


# --- main ----------------------------------------------------------------------------------


def _sizes(values: list[str]) -> list[int]:
    return [int(v.replace("_", "")) for value in values for v in value.split(",") if v]


def print_summary(run: Run) -> None:
    print("\n== search results (latency per call; p95/raw = p95 / raw SQL p95 of the same size "
          "and backend; stmts = SQL statements per call) ==")
    print(HEADER)
    for s in run.stats:
        print(format_stat(s))
    print(f"\ntargets: p95 < {TARGET_P95_MS:.0f} ms at 100,000 datasets on SQLite, within "
          f"{TARGET_RATIO:.0f}x of the raw query (p95)")
    for s in run.stats:
        if s.operation in OPS[:2]:
            ok_p95 = s.p95_ms < TARGET_P95_MS
            ok_ratio = (s.ratio_p95 or 0) <= TARGET_RATIO
            print(f"  {s.size:>7} {s.backend:<10} {s.operation:<24} p95 {s.p95_ms:7.2f} ms "
                  f"{'ok ' if ok_p95 else 'MISS'}  ratio {s.ratio_p95:5.2f} "
                  f"{'ok' if ok_ratio else 'MISS'}"
                  + ("" if s.size == 100_000 and s.backend == "sqlite" else "  (informative)"))
    print("\nresult counts per query (fq organization + res_format:CSV + bbox; in brackets: "
          "text alone)")
    for size, by_q in run.counts.items():
        backends = sorted({b for v in by_q.values() for b in v if b not in ("org", "bbox")})
        print(f"  size {size}: " + "  ".join(f"{b:>18}" for b in backends) + "  agree")
        for q, v in by_q.items():
            cells = [f"{v[b]['count']:>6} [{v[b]['text_only']:>6}]" if b in v else "-"
                     for b in backends]
            agree = len({v[b]["count"] for b in backends if b in v}) <= 1
            agree_s = "yes" if agree else "NO"
            print(f"    {q:<26} " + "  ".join(f"{c:>18}" for c in cells) + f"  {agree_s}"
                  + ("" if agree or len(backends) < 2 else f"   (org {v['org']})"))
    print("\nper query (mean ms: action / search / raw):")
    for row in run.per_query:
        print(f"  {row['size']:>7} {row['backend']:<10} {row['q']:<26} n={row['count']:<5} "
              + " / ".join(f"{row[f'{op} mean_ms']:.2f}" for op in OPS[:3]))
    for key, plan in run.plans.items():
        print(f"\nquery plans of the slowest query on {key}: q={plan['q']!r} org={plan['org']} "
              f"bbox={plan['bbox']}")
        for name, text in plan.items():
            if name not in ("q", "org", "bbox"):
                print(f"  -- {name}\n" + "\n".join("    " + ln for ln in text.splitlines()))
    for info in run.runs:
        print(f"\n{info['size']} {info['backend']}: {info['cache']}; bbox via {info['bbox_via']}; "
              f"{info['runs_per_operation']} runs per operation after {info['warmup']} warm-up; "
              f"load {info['load_before'][0]:.2f} -> {info['load_after'][0]:.2f}"
              + (" (HIGH: numbers are pessimistic)" if info["load_high"] else ""))
        for other in info["other_bench_processes"]:
            print(f"    running at the same time: {other}")
    for text in run.notes:
        print(f"NOTE: {text}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["10000", "100000"],
                    help="numbers of datasets (space or comma separated; default 10000 100000)")
    ap.add_argument("--backends", default="sqlite,postgresql",
                    help="comma separated: sqlite, postgresql (default both)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=200,
                    help="timed runs per operation (at least 200; rounded up to a multiple of "
                         "the number of queries)")
    ap.add_argument("--warmup", type=int, default=20, help="warm-up runs (default 20)")
    ap.add_argument("--import-chunk", type=int, default=10_000)
    ap.add_argument("--rebuild", action="store_true", help="import again even if cached")
    ap.add_argument("--cache-key-all", action="store_true",
                    help="key the cache on all catalog code, read-side modules included")
    ap.add_argument("--profile", action="store_true",
                    help="always profile the slowest query (default: only if a target is missed)")
    ap.add_argument("--no-profile", action="store_true", help="never profile")
    ap.add_argument("--build-only", action="store_true",
                    help="build (or check) the cached stores and stop; measure in a later run")
    args = ap.parse_args(argv)
    sizes = _sizes(args.sizes)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for b in backends:
        if b not in ("sqlite", "postgresql"):
            raise SystemExit(f"unknown backend {b!r} (sqlite, postgresql)")
    pg_url = os.environ.get("ODAPP_BENCH_POSTGRES_URL", DEFAULT_PG_URL)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    code = code_hashes(args.cache_key_all)
    native_bbox = ext_bbox_supported()
    run = Run(
        args={**vars(args), "sizes": sizes, "backends": backends,
              "postgres_url": pg_url if "postgresql" in backends else None},
        started=datetime.now().isoformat(timespec="seconds"),
        path=OUT_DIR / f"search-{stamp}.json",
        code=code,
    )
    print(f"search: sizes {sizes}, backends {backends}, seed {args.seed}; JSON -> {run.path}",
          flush=True)
    print(f"code: HEAD {code['git_head']}, catalog sha {code['catalog_sha256']}, uncommitted: "
          f"{', '.join(code['uncommitted']) or 'none'}", flush=True)
    mods = [f.removeprefix("catalog/") for f in code["cache_key_files"]
            if f.startswith("catalog/") and f.endswith(".py") and "/migrations/" not in f]
    print(f"cache key: size, seed, bench/generate.py, catalog migrations + resources and the "
          f"modules the import runs ({', '.join(mods)})", flush=True)
    print("bbox: " + ("passed as ext_bbox (package_search_query reads it)" if native_bbox else
                      "package_search_query ignores ext_bbox, so the box is set on the "
                      "SearchQuery it builds (SearchService subclass)"), flush=True)
    print(f"load average at start: {os.getloadavg()}", flush=True)
    for other in other_benchmarks():
        print(f"  running at the same time: {other}", flush=True)
    print(HEADER, flush=True)
    for n in sizes:
        key = cache_key(n, args.seed, code)
        for backend in backends:
            opener = (sqlite_store(n, args.seed, key, args.import_chunk, args.rebuild)
                      if backend == "sqlite" else
                      postgres_store(pg_url, n, args.seed, key, args.import_chunk, args.rebuild))
            with opener as built:
                print(f"  {n} {backend}: {built.cache}", flush=True)
                if args.build_only:
                    continue
                bench_one(run, built, backend, n, args, native_bbox)
            run.save()
    if args.build_only:
        return 0
    print_summary(run)
    run.save()
    print(f"\nJSON: {run.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
