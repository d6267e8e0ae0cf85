"""Catalogue documents in Turtle, N-Triples, RDF/XML and JSON-LD, streamed chunk by chunk.

Every syntax is the records' cached fragments joined together (written when a record is saved),
so no graph of the whole catalogue is ever built; only the catalogue node and the page's member
links are made per request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from catalog import model
from catalog.namespaces import DCAT, HYDRA, PREFIXES, turtle_prefix_header
from catalog.rdf_fragments import jsonld_fragment, xml_fragment
from catalog.rdf_io import serialize
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


def _rdfxml(cat: str, head: Graph, chunks: Iterator[list[StoredResource]]) -> Iterator[str]:
    """One rdf:RDF root declaring the fixed prefixes; then the records' stored fragments."""
    yield '<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF'
    yield "".join(f'\n   xmlns:{p}="{ns}"' for p, ns in PREFIXES.items()) + "\n>\n"
    yield xml_fragment(head)
    for chunk in chunks:
        yield xml_fragment(_member_links(cat, chunk))
        yield "".join(r.rdfxml for r in chunk)
    yield "</rdf:RDF>\n"


def _jsonld(cat: str, head: Graph, chunks: Iterator[list[StoredResource]]) -> Iterator[str]:
    """Expanded JSON-LD: one ``@graph`` of every record's stored node objects."""
    yield '{"@graph": [\n' + jsonld_fragment(head)
    for chunk in chunks:
        links = jsonld_fragment(_member_links(cat, chunk))
        yield "".join(",\n" + part for part in (links, *(r.jsonld for r in chunk)) if part)
    yield "\n]}\n"


def resource_document(resource: StoredResource, fmt: str) -> str:
    """One dataset, series or service as a document."""
    if fmt == "turtle":
        return turtle_prefix_header() + "\n" + resource.ttl
    if fmt == "nt":
        return resource.nt
    graph = Graph()
    graph.parse(data=resource.nt, format="nt")
    return serialize(graph, fmt)
