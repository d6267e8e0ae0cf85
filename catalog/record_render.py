"""What the store writes for a record besides its keys: the record as JSON, its RDF in four
syntaxes, its coverage geometry and its search texts. All of it depends on the record alone, so
big batches (imports, harvests) render it in worker processes, one per core."""

from __future__ import annotations

import atexit
import json
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import shapely
from rdflib.plugins.serializers.nt import _nt_row

from catalog import model
from catalog.rdf_fragments import jsonld_fragment, xml_fragment
from catalog.rdf_mapping import resource_triples
from catalog.search_index import search_texts, temporal_span
from catalog.spatial import coverage_geometry
from catalog.turtle import fragment

# below this many records the workers' start (about a second) costs more than it saves
PARALLEL_FROM = 300
CHUNK = 25


@dataclass
class Rendered:
    kind: str
    title: str
    record: str
    nt: str
    ttl: str
    rdfxml: str
    jsonld: str
    bounds: tuple[float, float, float, float] | None
    geom_wkb: bytes | None
    search: tuple[str, str, str]
    temporal: tuple[str | None, str | None]


def render(item: model.Resource) -> Rendered:
    triples = resource_triples(item)
    geom = coverage_geometry(item.spatial) if isinstance(item, model.Dataset) else None
    return Rendered(
        kind=model.kind_of(item),
        title=model.preferred_text(item.title),
        record=json.dumps(item.to_dict(), ensure_ascii=False, sort_keys=True),
        nt="".join(sorted(_nt_row(t) for t in triples)),
        ttl=fragment(triples),
        rdfxml=xml_fragment(triples),
        jsonld=jsonld_fragment(triples),
        bounds=None if geom is None else tuple(geom.bounds),  # type: ignore[arg-type]
        geom_wkb=None if geom is None else shapely.to_wkb(geom),
        search=search_texts(item),
        temporal=temporal_span(item),
    )


def _render_chunk(items: list[model.Resource]) -> list[Rendered]:
    return [render(item) for item in items]


_pool: ProcessPoolExecutor | None = None


def _workers() -> int:
    configured = os.environ.get("ODAPP_RENDER_WORKERS")
    if configured is not None:
        return max(0, int(configured))
    return os.cpu_count() or 1


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # fork (spawn would re-run the caller's main script); only ever from a process with
        # one thread, so no lock of another thread can be inherited held
        _pool = ProcessPoolExecutor(_workers(), mp_context=multiprocessing.get_context("fork"))
        atexit.register(_pool.shutdown, cancel_futures=True)
    return _pool


def render_many(items: Sequence[model.Resource]) -> list[Rendered]:
    """Every item rendered, in order; in worker processes when the batch is big enough and
    the process is single-threaded (CLI imports and harvests, not the web server)."""
    parallel = _pool is not None or threading.active_count() == 1
    if len(items) < PARALLEL_FROM or _workers() < 2 or not parallel:
        return [render(item) for item in items]
    chunks = [list(items[i : i + CHUNK]) for i in range(0, len(items), CHUNK)]
    out: list[Rendered] = []
    for part in _executor().map(_render_chunk, chunks):
        out.extend(part)
    return out
