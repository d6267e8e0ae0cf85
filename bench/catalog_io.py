"""Catalogue I/O benchmark: ODApp import and export against rdflib's own parse/serialise floor.

Not a test. For every size and backend it measures (datasets per second for each):

* generating the synthetic catalogue (bench/generate.py, for information),
* rdflib: parsing the Turtle document into one Graph, serialising that graph as Turtle (graphs
  above 10,000 datasets: the first 10,000 datasets only, because rdflib's Turtle writer slows
  down worse than linearly) and as N-Triples (full graph),
* ODApp import (``import_document``: parse + 2.0->3.0 upgrade + map + validate + store), with a
  breakdown of where the time goes; documents above ``--import-chunk`` datasets are imported
  in chunks of that many datasets (one document and one transaction per chunk),
* ODApp full export (``stream_catalog``) as Turtle, N-Triples, RDF/XML and JSON-LD (one export
  that runs longer than ``--export-timeout`` seconds is stopped and reported as skipped),
* single-dataset export ``resource_document(store.get(name), fmt)``: p50/p95 over 200 datasets,
* the ratios ODApp/rdflib (time per dataset; > 1 means ODApp is slower).

The table is printed at the end and written as JSON to bench/out/catalog_io-<timestamp>.json
(rewritten after every measurement, so an interrupted run keeps what it measured).

    .venv/bin/python bench/catalog_io.py --sizes 1000 --backends sqlite,postgresql
    .venv/bin/python bench/catalog_io.py --sizes 10000 100000 --backends sqlite

PostgreSQL: ODAPP_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1/odapp_bench); the
database is created if missing and its public schema is dropped and recreated for every size.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import rdflib
from generate import BASE, CATALOG_IRI, generate_catalog
from rdflib import Graph

import catalog.importer
import catalog.rdf_mapping
import catalog.store
from catalog import model
from catalog.export import resource_document, stream_catalog
from catalog.importer import import_document
from catalog.rdf_io import Document
from catalog.store import Store

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1/odapp_bench"
RDFLIB_TURTLE_MAX = 10_000
OUT_DIR = Path(__file__).resolve().parent / "out"


@dataclass
class Row:
    size: int
    backend: str
    operation: str
    seconds: float | None
    per_second: float | None  # datasets per second
    ratio: float | None = None  # ODApp / rdflib, time per dataset
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    args: dict[str, Any]
    started: str
    path: Path
    code: dict[str, Any] = field(default_factory=lambda: code_version())
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(format_row(row), flush=True)
        self.save()
        return row

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  NOTE: {text}", flush=True)
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "benchmark": "catalog_io",
            "started": self.started,
            "args": {k: str(v) if isinstance(v, Path) else v
                     for k, v in self.args.items()},
            "code": self.code,
            "environment": {
                "python": sys.version.split()[0],
                "rdflib": rdflib.__version__,
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "peak_rss_mb": peak_rss_mb(),
            },
            "rows": [asdict(r) for r in self.rows],
            "notes": self.notes,
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.path)


def code_version() -> dict[str, Any]:
    """Which code was measured: git HEAD, uncommitted files and a hash of catalog/*.py."""
    import hashlib
    import subprocess

    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    digest = hashlib.sha256()
    for path in sorted((root / "catalog").rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    status = git("status", "--porcelain", "--", "catalog")
    dirty = [line.split(maxsplit=1)[-1] for line in status.splitlines() if line.strip()]
    return {"git_head": git("rev-parse", "--short", "HEAD"), "uncommitted": dirty,
            "catalog_sha256": digest.hexdigest()[:16]}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}" if value >= 0.1 else f"{value:.2g}"


HEADER = f"{'size':>7}  {'backend':<10} {'operation':<34} {'seconds':>10} {'datasets/s':>11} " \
         f"{'ratio':>7}  note"


def format_row(r: Row) -> str:
    seconds = _num(r.seconds, 4 if r.seconds is not None and r.seconds < 0.1 else 2)
    return (
        f"{r.size:>7}  {r.backend:<10} {r.operation:<34} {seconds:>10} "
        f"{_num(r.per_second, 1):>11} {_ratio(r.ratio):>7}  {r.note}"
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


# --- where the import time goes -------------------------------------------------------------


class Breakdown:
    """Wraps module functions with timers while active (no profiler overhead)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def _wrap(self, fn: Callable[..., Any], label: str, materialise: bool) -> Callable[..., Any]:
        seconds, calls = self.seconds, self.calls

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                result = fn(*args, **kwargs)
                return list(result) if materialise else result
            finally:
                seconds[label] += time.perf_counter() - t0
                calls[label] += 1

        return wrapper

    @contextmanager
    def patched(self, targets: list[tuple[Any, str, str, bool]]) -> Iterator[Breakdown]:
        saved: list[tuple[Any, str, Any, bool]] = []
        for owner, attr, label, materialise in targets:
            if not hasattr(owner, attr):  # the code under test changed; time what exists
                continue
            had_own = attr in vars(owner) if not isinstance(owner, type) else True
            saved.append((owner, attr, getattr(owner, attr), had_own))
            setattr(owner, attr, self._wrap(getattr(owner, attr), label, materialise))
        try:
            yield self
        finally:
            for owner, attr, original, had_own in reversed(saved):
                if had_own:
                    setattr(owner, attr, original)
                else:
                    delattr(owner, attr)


def import_targets(store: Store) -> list[tuple[Any, str, str, bool]]:
    return [
        (catalog.importer, "parse", "parse (rdflib)", False),
        (catalog.importer, "upgrade_graph", "upgrade 2.0->3.0", False),
        (catalog.importer, "read_graph", "map (read_graph)", False),
        (catalog.rdf_mapping, "canonical_extra", "map: canonical_extra", False),
        (store, "save", "save", False),
        (catalog.store, "check_resource", "save: validate", False),
        (catalog.store, "resource_graph", "save: resource_graph", False),
        (catalog.store, "resource_triples", "save: resource_triples", False),
        (catalog.rdf_mapping, "_extra_triples", "save: re-parse extra", True),
        (catalog.store, "fragment", "save: turtle fragment", False),
        (catalog.store, "coverage_geometry", "save: geometry", False),
    ]


# --- backends -------------------------------------------------------------------------------


def reset_postgres(url: str) -> None:
    """Create the database if missing, then drop and recreate its public schema."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    dbname = str(conninfo_to_dict(url).get("dbname") or "odapp_bench")
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


@contextmanager
def open_store(backend: str, pg_url: str) -> Iterator[Store]:
    tmp: str | None = None
    if backend == "sqlite":
        tmp = tempfile.mkdtemp(prefix="odapp-bench-")
        url = f"sqlite:///{tmp}/bench.db"
    elif backend == "postgresql":
        reset_postgres(pg_url)
        url = pg_url
    else:
        raise SystemExit(f"unknown backend {backend!r} (sqlite, postgresql)")
    store = Store(url, BASE)
    try:
        store.upgrade()
        yield store
    finally:
        store.engine.dispose()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


# --- measurements ---------------------------------------------------------------------------


@dataclass
class Floor:
    """rdflib's times for one size: seconds per dataset of parse / Turtle / N-Triples."""

    parse: float
    turtle: float
    nt: float


def earlier_turtle_floor(path: Path, datasets: int, seed: int) -> Row | None:
    """rdflib's Turtle serialisation of ``datasets`` datasets from an earlier run's JSON."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("args", {}).get("seed") != seed:
        return None
    for row in doc.get("rows", []):
        if (row["backend"] == "rdflib" and row["operation"] == "serialize turtle"
                and row.get("data", {}).get("datasets_serialised") == datasets and row["seconds"]):
            return Row(**row)
    return None


def measure_rdflib(run: Run, n: int, ttl: str, seed: int, earlier: Path | None) -> Floor:
    sec, graph = timed(lambda: Graph().parse(data=ttl, format="turtle"))
    triples = len(graph)
    run.add(Row(n, "rdflib", "parse turtle", sec, n / sec, note=f"{triples:,} triples",
                data={"triples": triples}))
    parse = sec / n

    sec, text = timed(partial(graph.serialize, format="nt"))
    run.add(Row(n, "rdflib", "serialize nt (full graph)", sec, n / sec,
                note=f"{len(text) / 1e6:,.0f} MB"))
    nt = sec / n
    del text

    m = min(n, RDFLIB_TURTLE_MAX)
    found = earlier_turtle_floor(earlier, m, seed) if earlier else None
    if found is not None and earlier is not None:
        what = "full graph" if m == n else f"first {m:,} datasets only"
        run.add(Row(n, "rdflib", "serialize turtle", found.seconds, found.per_second,
                    note=f"{what}; taken from {earlier.name} (not measured again)",
                    data={"datasets_serialised": m, "from": str(earlier)}))
        return Floor(parse, found.seconds / m, nt)
    if n <= RDFLIB_TURTLE_MAX:
        note = "full graph"
    else:
        del graph
        gc.collect()
        note = f"first {m:,} datasets only (own graph; full graph too slow)"
        graph = Graph().parse(data=generate_catalog(m, seed), format="turtle")
    sec = _serialize_seconds(graph, "turtle")
    run.add(Row(n, "rdflib", "serialize turtle", sec, m / sec, note=note,
                data={"datasets_serialised": m}))
    del graph
    gc.collect()
    return Floor(parse, sec / m, nt)


def _serialize_seconds(graph: Graph, fmt: str) -> float:
    sec, _text = timed(partial(graph.serialize, format=fmt))
    return sec


def measure_import(
    run: Run, n: int, backend: str, store: Store, ttl: str, seed: int, chunk: int,
    floor: Floor | None, profile: bool,
) -> list[str]:
    breakdown = Breakdown()
    names: list[str] = []
    total = 0.0
    unattached = 0
    documents = 1 if n <= chunk else -(-n // chunk)
    profiler = _profiler(profile)
    with breakdown.patched(import_targets(store)):
        for k in range(documents):
            if documents == 1:
                data = ttl.encode("utf-8")
            else:
                data = generate_catalog(min(chunk, n - k * chunk), seed, k * chunk).encode("utf-8")
            doc = Document(data, "bench.ttl", "turtle")
            del data
            gc.collect()
            if profiler:
                profiler.start()
            t0 = time.perf_counter()
            report = import_document(store, doc)
            total += time.perf_counter() - t0
            if profiler:
                profiler.stop()
            names += report.created
            unattached += report.unattached_triples
            del doc, report
            if documents > 1:
                print(f"    imported {len(names):,}/{n:,} ({total:.0f} s)", flush=True)
    how = "whole document" if documents == 1 else f"{documents} documents of {chunk:,}"
    ratio = (total / n) / floor.parse if floor else None
    run.add(Row(n, backend, "ODApp import (total)", total, n / total, ratio,
                note=f"{how}; ratio vs rdflib parse" + (" [profiled]" if profiler else ""),
                data={"documents": documents, "unattached_triples": unattached,
                      "stored": len(names)}))
    if len(names) != n:
        run.note(f"{backend} {n}: only {len(names)} of {n} datasets were stored")
    order = [label for _, _, label, _ in import_targets(store)]
    for label in sorted(breakdown.seconds, key=order.index):
        sec = breakdown.seconds[label]
        run.add(Row(n, backend, f"  import: {label}", sec, n / sec if sec else None,
                    note=f"{100 * sec / total:.1f}% of import, {breakdown.calls[label]:,} calls"))
    if profiler:
        _write_profile(run, profiler, f"import-{backend}-{n}")
    return names


def measure_export(
    run: Run, n: int, backend: str, store: Store, fmt: str, floor: Floor | None, timeout: float,
    profile: bool,
) -> None:
    cat = model.Catalog(
        uri=CATALOG_IRI, title={"de": "Bench"}, description={"de": "Bench"},
        publisher=model.Agent(uri="https://example.org/", name={"de": "Bench"}),
    )
    profiler = _profiler(profile)
    gc.collect()
    if profiler:
        profiler.start()
    t0 = time.perf_counter()
    parts: list[str] = []
    stopped = False
    for chunk in stream_catalog(store, cat, fmt):
        parts.append(chunk)
        if time.perf_counter() - t0 > timeout:
            stopped = True
            break
    text = "".join(parts)
    sec = time.perf_counter() - t0
    if profiler:
        profiler.stop()
        _write_profile(run, profiler, f"export-{fmt}-{backend}-{n}")
    size_mb = len(text.encode("utf-8")) / 1e6
    del parts, text
    op = f"ODApp export {fmt}"
    if stopped:
        run.add(Row(n, backend, op, None, None,
                    note=f"SKIPPED: stopped after {sec:.0f} s (> {timeout:.0f} s), "
                         f"{size_mb:,.0f} MB written by then"))
        return
    ratio, vs = None, ""
    if floor and fmt == "turtle":
        ratio, vs = (sec / n) / floor.turtle, "; ratio vs rdflib serialize turtle"
    elif floor and fmt == "nt":
        ratio, vs = (sec / n) / floor.nt, "; ratio vs rdflib serialize nt"
    run.add(Row(n, backend, op, sec, n / sec, ratio,
                note=f"{size_mb:,.0f} MB{vs}" + (" [profiled]" if profiler else ""),
                data={"megabytes": size_mb}))


def measure_single(
    run: Run, n: int, backend: str, store: Store, names: list[str], samples: int, seed: int
) -> None:
    picked = random.Random(seed).sample(names, min(samples, len(names)))
    for fmt in ("turtle", "xml", "json-ld"):
        resource_document(store.get(picked[0]), fmt)  # warm up (plugin loading, caches)
        times = []
        gc.collect()
        for name in picked:
            t0 = time.perf_counter()
            resource_document(store.get(name), fmt)
            times.append(time.perf_counter() - t0)
        times.sort()
        p50 = statistics.median(times)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        run.add(Row(n, backend, f"single dataset {fmt}", p50, 1 / p50,
                    note=f"p50 {1000 * p50:.2f} ms, p95 {1000 * p95:.2f} ms "
                         f"(get + document, {len(times)} datasets)",
                    data={"p50_ms": 1000 * p50, "p95_ms": 1000 * p95, "samples": len(times)}))


def _profiler(enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("  (pyinstrument is not installed; --profile ignored)", flush=True)
        return None
    return Profiler(interval=0.002)


def _write_profile(run: Run, profiler: Any, name: str) -> None:
    path = run.path.with_name(run.path.stem + f"-profile-{name}.txt")
    path.write_text(profiler.output_text(unicode=True, color=False, show_all=False),
                    encoding="utf-8")
    run.note(f"profile written to {path}")


# --- main -----------------------------------------------------------------------------------


def _sizes(values: list[str]) -> list[int]:
    return [int(v.replace("_", "")) for value in values for v in value.split(",") if v]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["10000", "100000"],
                    help="numbers of datasets (space or comma separated; default 10000 100000)")
    ap.add_argument("--backends", default="sqlite",
                    help="comma separated: sqlite, postgresql (default sqlite)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--import-chunk", type=int, default=10_000,
                    help="import documents of at most this many datasets (default 10000)")
    ap.add_argument("--export-timeout", type=float, default=600,
                    help="stop one full export after this many seconds (default 600)")
    ap.add_argument("--formats", default="turtle,nt,xml,json-ld",
                    help="full-export formats (default turtle,nt,xml,json-ld)")
    ap.add_argument("--samples", type=int, default=200, help="datasets for single exports")
    ap.add_argument("--skip-rdflib", action="store_true", help="no rdflib floor (no ratios)")
    ap.add_argument("--rdflib-turtle-from", type=Path, metavar="JSON",
                    help="take rdflib's Turtle serialisation (of min(size, 10000) datasets) "
                         "from this earlier run's JSON (same seed) instead of measuring it "
                         "again (10,000 datasets take ~9 minutes)")
    ap.add_argument("--profile", action="store_true",
                    help="run import and full exports under pyinstrument (slower; reports "
                         "are written next to the JSON)")
    args = ap.parse_args(argv)
    sizes = _sizes(args.sizes)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    pg_url = os.environ.get("ODAPP_BENCH_POSTGRES_URL", DEFAULT_PG_URL)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run = Run(
        args={**vars(args), "sizes": sizes, "backends": backends, "formats": formats,
              "postgres_url": pg_url if "postgresql" in backends else None},
        started=datetime.now().isoformat(timespec="seconds"),
        path=OUT_DIR / f"catalog_io-{stamp}.json",
    )
    print(f"catalog_io: sizes {sizes}, backends {backends}, seed {args.seed}; "
          f"JSON -> {run.path}", flush=True)
    print(f"code: HEAD {run.code['git_head']}, catalog sha {run.code['catalog_sha256']}, "
          f"uncommitted: {', '.join(run.code['uncommitted']) or 'none'}", flush=True)
    print(HEADER, flush=True)
    for n in sizes:
        sec, ttl = timed(lambda n=n: generate_catalog(n, args.seed))
        run.add(Row(n, "-", "generate", sec, n / sec,
                    note=f"{len(ttl.encode('utf-8')) / 1e6:,.0f} MB Turtle"))
        floor = None if args.skip_rdflib else measure_rdflib(
            run, n, ttl, args.seed, args.rdflib_turtle_from)
        for backend in backends:
            with open_store(backend, pg_url) as store:
                names = measure_import(run, n, backend, store, ttl, args.seed,
                                       args.import_chunk, floor, args.profile)
                for fmt in formats:
                    measure_export(run, n, backend, store, fmt, floor, args.export_timeout,
                                   args.profile)
                if names:
                    measure_single(run, n, backend, store, names, args.samples, args.seed)
        del ttl
        gc.collect()
    print(f"\n== catalog_io results (peak RSS {peak_rss_mb():,.0f} MB) ==")
    print(HEADER)
    for row in run.rows:
        print(format_row(row))
    for text in run.notes:
        print(f"NOTE: {text}")
    run.save()
    print(f"\nJSON: {run.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
