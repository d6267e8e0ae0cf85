"""Catalogue documents in Turtle, N-Triples, RDF/XML and JSON-LD, streamed chunk by chunk.

Turtle and N-Triples are the cached per-record fragments joined together (no graph is built);
RDF/XML and JSON-LD build one small graph per chunk and splice the chunks into one document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from catalog import model
from catalog.namespaces import DCAT, HYDRA, PREFIXES, bind_prefixes, turtle_prefix_header
from catalog.rdf_io import jsonld_context, serialize
from catalog.rdf_mapping import BNodes, write_node
from catalog.store import Store, StoredResource
from catalog.turtle import fragment

CHUNK = 500


@dataclass
class Page:
    number: int
    size: int
    total: int
    url: Callable[[int], str]

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))


def catalog_graph(
    catalog: model.Catalog, members: Iterable[StoredResource], page: Page | None = None
) -> Graph:
    """The catalogue node with its dcat:dataset / dcat:service links (and hydra paging)."""
    g = Graph()
    subject = write_node(g, catalog, BNodes("catalog"))
    for r in members:
        g.add((subject, DCAT.service if r.kind == "service" else DCAT.dataset, URIRef(r.uri)))
    if page is not None:
        node = URIRef(page.url(page.number))
        g.add((node, RDF.type, HYDRA.PagedCollection))
        g.add((node, RDF.type, HYDRA.PartialCollectionView))
        g.add((node, HYDRA.totalItems, Literal(page.total, datatype=XSD.integer)))
        g.add((node, HYDRA.itemsPerPage, Literal(page.size, datatype=XSD.integer)))
        links = {"first": 1, "last": page.last}
        if page.number > 1:
            links["previous"] = page.number - 1
        if page.number < page.last:
            links["next"] = page.number + 1
        for rel, number in links.items():
            g.add((node, HYDRA[rel], URIRef(page.url(number))))
            g.add((node, HYDRA[rel + "Page"], URIRef(page.url(number))))
    return g


def _chunks(items: Iterator[StoredResource], size: int = CHUNK) -> Iterator[list[StoredResource]]:
    while chunk := list(islice(items, size)):
        yield chunk


def _member_links(catalog_uri: str, chunk: list[StoredResource]) -> Graph:
    g = Graph()
    for r in chunk:
        g.add(
            (
                URIRef(catalog_uri),
                DCAT.service if r.kind == "service" else DCAT.dataset,
                URIRef(r.uri),
            )
        )
    return g


def catalog_uri(store: Store, catalog: model.Catalog) -> str:
    return catalog.uri or f"{store.base_url}/catalog"


def stream_catalog(
    store: Store,
    catalog: model.Catalog,
    fmt: str,
    *,
    page: Page | None = None,
    modified_since: datetime | None = None,
    items: Iterable[StoredResource] | None = None,
) -> Iterator[str]:
    """The whole catalogue (or one page of it, or the given ``items``) as a document in ``fmt``."""
    if catalog.uri is None:
        catalog.uri = catalog_uri(store, catalog)
    if items is not None:
        items = iter(items)
    elif page is None:
        items = store.iter_resources(modified_since=modified_since)
    else:
        items = store.iter_resources(
            offset=(page.number - 1) * page.size, limit=page.size, modified_since=modified_since
        )
    head = catalog_graph(catalog, [], page)
    writer = {"turtle": _turtle, "nt": _ntriples, "xml": _rdfxml, "json-ld": _jsonld}[fmt]
    yield from writer(catalog.uri, head, _chunks(items))


def _turtle(cat: str, head: Graph, chunks: Iterator[list[StoredResource]]) -> Iterator[str]:
    yield turtle_prefix_header() + "\n" + fragment(head)
    for chunk in chunks:
        yield "\n" + fragment(_member_links(cat, chunk))
        yield "".join("\n" + r.ttl for r in chunk)


def _ntriples(cat: str, head: Graph, chunks: Iterator[list[StoredResource]]) -> Iterator[str]:
    yield head.serialize(format="nt")
    for chunk in chunks:
        yield _member_links(cat, chunk).serialize(format="nt")
        yield "".join(r.nt for r in chunk)


def _chunk_graph(cat: str, chunk: list[StoredResource]) -> Graph:
    g = _member_links(cat, chunk)
    g.parse(data="".join(r.nt for r in chunk), format="nt")
    return g


_XML_ROOT = re.compile(r"<rdf:RDF\b([^>]*)>", re.S)
_XMLNS = re.compile(r'xmlns:([\w.-]+)="([^"]*)"')


def _rdfxml(cat: str, head: Graph, chunks: Iterator[list[StoredResource]]) -> Iterator[str]:
    """One rdf:RDF root; each chunk's own namespace declarations move onto its descriptions."""
    known = {p: str(ns) for p, ns in PREFIXES.items()}
    yield '<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF'
    yield "".join(f'\n   xmlns:{p}="{ns}"' for p, ns in known.items()) + "\n>\n"
    for graph in _graphs(cat, head, chunks):
        text = serialize(graph, "xml")
        root = _XML_ROOT.search(text)
        if root is None:
            continue
        body = text[root.end() : text.rindex("</rdf:RDF>")]
        extra = " ".join(
            f'xmlns:{p}="{ns}"' for p, ns in _XMLNS.findall(root.group(1)) if known.get(p) != ns
        )
        if extra:
            body = re.sub(r"<rdf:Description\b", "<rdf:Description " + extra, body)
        yield body
    yield "</rdf:RDF>\n"


def _graphs(cat: str, head: Graph, chunks: Iterator[list[StoredResource]]) -> Iterator[Graph]:
    yield head
    for chunk in chunks:
        yield _chunk_graph(cat, chunk)


def _jsonld(cat: str, head: Graph, chunks: Iterator[list[StoredResource]]) -> Iterator[str]:
    context = jsonld_context()
    yield '{"@context": ' + json.dumps(context) + ', "@graph": ['
    first = True
    for graph in _graphs(cat, head, chunks):
        bind_prefixes(graph)
        doc = json.loads(graph.serialize(format="json-ld", context=context, auto_compact=True))
        nodes = doc.get("@graph", [doc] if "@id" in doc else [])
        for node in nodes:
            node.pop("@context", None)
            yield ("" if first else ",\n") + json.dumps(node, ensure_ascii=False)
            first = False
    yield "]}\n"


def resource_document(resource: StoredResource, fmt: str) -> str:
    """One dataset, series or service as a document."""
    if fmt == "turtle":
        return turtle_prefix_header() + "\n" + resource.ttl
    if fmt == "nt":
        return resource.nt
    graph = Graph()
    graph.parse(data=resource.nt, format="nt")
    return serialize(graph, fmt)


def build_graph(chunks: Iterable[str]) -> Graph:
    """Parse a streamed N-Triples document back into a graph (tests, validation)."""
    g = Graph()
    g.parse(data="".join(chunks), format="nt")
    return g
