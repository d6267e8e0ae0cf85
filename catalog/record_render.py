"""What the store writes for a record besides its keys: the record as JSON, its RDF in four
syntaxes, its coverage geometry and its search texts. All of it depends on the record alone, so
big batches (imports, harvests) render it in worker processes (:mod:`catalog.workers`)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import shapely
from rdflib.plugins.serializers.nt import _nt_row

from catalog import model
from catalog.rdf_fragments import jsonld_fragment, xml_fragment
from catalog.rdf_mapping import resource_triples
from catalog.search_index import search_texts, temporal_span
from catalog.spatial import coverage_geometry
from catalog.turtle import fragment
from catalog.workers import pool

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


def render_many(items: Sequence[model.Resource]) -> Iterator[Rendered]:
    """Every item rendered, in order, as they are ready: in worker processes when the batch is
    big enough, so the caller can write the first ones while the rest are rendered."""
    executor = pool() if len(items) >= PARALLEL_FROM else None
    if executor is None:
        yield from (render(item) for item in items)
        return
    chunks = [list(items[i : i + CHUNK]) for i in range(0, len(items), CHUNK)]
    for part in executor.map(_render_chunk, chunks):
        yield from part
