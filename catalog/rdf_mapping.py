"""Reading model objects from an RDF graph and writing them back, driven by the field
declarations in ``catalog.model``.

Reading consumes the triples a field maps; everything else about a node (and the blank or
otherwise unowned nodes it points to) is kept as canonical N-Triples in ``extra``. Writing puts
the same triples back, so import -> export -> import gives equal records.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import RDF, XSD
from rdflib.term import Node as Term

from catalog import model
from catalog.model import (
    DATE,
    GEO,
    GEO_NODE,
    INT,
    LITERAL,
    LITERALS,
    NODE,
    NODES,
    NOTATIONS,
    TEXT,
    TEXTS,
    URI,
    URIS,
    LangStr,
)
from catalog.namespaces import ADMS, DCAT, GSP, LOCN, SKOS

SELF = URIRef("urn:odapp:self")
_STRING_TYPES = {None, XSD.string, RDF.langString}
_TOP_TYPES = {
    DCAT.Dataset: model.Dataset,
    DCAT.DatasetSeries: model.DatasetSeries,
    DCAT.DataService: model.DataService,
}


@dataclass
class ParsedGraph:
    """What a graph holds: the catalogue description (if any) and its resources."""

    catalog: model.Catalog | None
    resources: list[model.Resource]
    unattached_triples: int = 0


# --- reading --------------------------------------------------------------------------------


@dataclass
class _Reader:
    graph: Graph
    top_level: set[Term]
    attached: set[tuple[Term, Term, Term]] = field(default_factory=set)
    skip: set[Term] = field(default_factory=set)
    modelled: set[Term] = field(default_factory=set)  # nodes read into a model object

    def read(self, subject: Term, cls: type[Any]) -> Any:
        g = self.graph
        self.modelled.add(subject)
        consumed: set[tuple[Term, Term, Term]] = set()
        kwargs: dict[str, Any] = {"uri": str(subject) if isinstance(subject, URIRef) else None}
        referenced: list[URIRef] = []
        for rdf_type in (cls.rdf_type, *cls.also_types):
            if rdf_type is not None and (subject, RDF.type, rdf_type) in g:
                consumed.add((subject, RDF.type, rdf_type))
        for f in dataclasses.fields(cls):
            meta = f.metadata
            if "pred" not in meta:
                continue
            pred, kind = meta["pred"], meta["kind"]
            objects = sorted(g.objects(subject, pred), key=_sort_key)
            value, used = self._read_field(kind, meta, objects)
            if used:
                kwargs[f.name] = value
                for o in used:
                    consumed.add((subject, pred, o))
                    if kind in (URI, URIS) and isinstance(o, URIRef):
                        referenced.append(o)
        extra = Graph()
        for p, o in g.predicate_objects(subject):
            if p in self.skip:
                self.attached.add((subject, p, o))
            elif (subject, p, o) not in consumed:
                extra.add((subject, p, o))
                self._closure(o, extra, {subject})
        for o in referenced:  # descriptions of referenced things (licence documents, concepts)
            if o not in self.modelled:
                self._closure(o, extra, {subject})
        self.attached.update(consumed)
        self.attached.update(extra)
        kwargs["extra"] = canonical_extra(extra, subject)
        return cls(**kwargs)

    def _read_field(self, kind: str, meta: dict[str, Any], objects: list[Term]) -> tuple[Any, list]:
        if kind == URI:
            uris = [o for o in objects if isinstance(o, URIRef)]
            return (str(uris[0]), uris[:1]) if uris else (None, [])
        if kind == URIS:
            uris = [o for o in objects if isinstance(o, URIRef)]
            return sorted(str(o) for o in uris), uris
        literals = [o for o in objects if isinstance(o, Literal)]
        if kind == TEXT:
            text: dict[str, str] = {}
            used = []
            for o in literals:
                lang = o.language or ""
                if o.datatype in _STRING_TYPES and lang not in text:
                    text[lang] = str(o)
                    used.append(o)
            return text, used
        if kind == TEXTS:
            used = [o for o in literals if o.datatype in _STRING_TYPES]
            return sorted(LangStr(str(o), o.language or "") for o in used), used
        if kind == LITERALS:
            used = [o for o in literals if o.datatype in _STRING_TYPES and not o.language]
            return sorted(str(o) for o in used), used
        if kind == DATE:
            used = [o for o in literals if not o.language][:1]
            return (str(used[0]) if used else None), used
        if kind == LITERAL:
            wanted = meta["datatype"]
            geo = wanted in (GEO, GEO_NODE)
            ok = {None, XSD.string, wanted} | (
                {GSP.wktLiteral, GSP.geoJSONLiteral} if geo else set()
            )
            used = [o for o in literals if not o.language and o.datatype in ok][:1]
            if not used and wanted == GEO_NODE:
                for o in objects:
                    value = self._geometry_node(o)
                    if value is not None:
                        return value, [o]
            return (str(used[0]) if used else None), used
        if kind == INT:
            for o in literals:
                number = _as_int(o)
                if number is not None:
                    return number, [o]
            return None, []
        if kind == NODE:
            nodes = [o for o in objects if not isinstance(o, Literal) and o not in self.top_level]
            return (self.read(nodes[0], meta["cls"]), nodes[:1]) if nodes else (None, [])
        if kind == NODES:
            nodes = [o for o in objects if not isinstance(o, Literal) and o not in self.top_level]
            values = sorted((self.read(o, meta["cls"]) for o in nodes), key=_node_key)
            return values, nodes
        if kind == NOTATIONS:
            notations, used = [], []
            for o in objects:
                notation = self._notation(o)
                if notation is not None:
                    notations.append(notation)
                    used.append(o)
            return sorted(notations), used
        raise ValueError(f"unknown field kind {kind}")

    def _geometry_node(self, node: Term) -> str | None:
        """A blank locn:Geometry node holding exactly one WKT or GeoJSON literal."""
        if not isinstance(node, BNode):
            return None
        triples = set(self.graph.predicate_objects(node))
        values = [
            o for p, o in triples if p in (GSP.asWKT, GSP.asGeoJSON) and isinstance(o, Literal)
        ]
        allowed = {(RDF.type, LOCN.Geometry)} | {(p, o) for p, o in triples if o in values}
        if len(values) != 1 or not triples <= allowed:
            return None
        self.attached.update((node, p, o) for p, o in triples)
        return str(values[0])

    def _notation(self, node: Term) -> str | None:
        """adms:identifier as a plain literal or as a blank adms:Identifier with one notation."""
        if isinstance(node, Literal):
            return str(node) if node.datatype in _STRING_TYPES and not node.language else None
        if not isinstance(node, BNode):
            return None
        triples = set(self.graph.predicate_objects(node))
        notes = [o for p, o in triples if p == SKOS.notation]
        allowed = {(RDF.type, ADMS.Identifier)} | {(SKOS.notation, n) for n in notes}
        if len(notes) != 1 or not triples <= allowed or notes[0].datatype not in _STRING_TYPES:
            return None
        self.attached.update((node, p, o) for p, o in triples)
        return str(notes[0])

    def _closure(self, node: Term, into: Graph, seen: set[Term]) -> None:
        """Add the description of an owned node: blank nodes always, IRIs that are no record."""
        if isinstance(node, Literal) or node in seen or node in self.top_level:
            return
        seen.add(node)
        for p, o in self.graph.predicate_objects(node):
            into.add((node, p, o))
            self._closure(o, into, seen)


def _as_int(lit: Literal) -> int | None:
    try:
        number = Decimal(str(lit).strip())
    except InvalidOperation:
        return None
    if number != number.to_integral_value() or number < 0:
        return None
    return int(number)


def _sort_key(term: Term) -> tuple[int, str]:
    return (0 if isinstance(term, URIRef) else 1 if isinstance(term, BNode) else 2, str(term))


def _node_key(node: model.Node) -> str:
    import json

    return json.dumps(node.to_dict(), sort_keys=True, ensure_ascii=False)


def canonical_extra(extra: Graph, subject: Term) -> str:
    """Sorted canonical N-Triples of ``extra`` with ``subject`` replaced by a placeholder."""
    if len(extra) == 0:
        return ""
    renamed = Graph()
    for s, p, o in extra:
        renamed.add((SELF if s == subject else s, p, SELF if o == subject else o))
    if any(isinstance(t, BNode) for triple in renamed for t in (triple[0], triple[2])):
        renamed = to_canonical_graph(renamed)
    lines = renamed.serialize(format="nt").splitlines()
    return "\n".join(sorted(line for line in lines if line.strip())) + "\n"


def read_graph(graph: Graph) -> ParsedGraph:
    """All catalogues, datasets, series and data services described in ``graph``."""
    top: dict[Term, type[model.Resource]] = {}
    for rdf_type, cls in _TOP_TYPES.items():
        for s in graph.subjects(RDF.type, rdf_type):
            # a series is also a dataset; the more specific class wins
            if top.get(s) is not model.DatasetSeries:
                top[s] = cls
    catalogs = list(graph.subjects(RDF.type, DCAT.Catalog))
    for cat in catalogs:
        for s in graph.objects(cat, DCAT.dataset):
            top.setdefault(s, model.Dataset)
        for s in graph.objects(cat, DCAT.service):
            top.setdefault(s, model.DataService)
    reader = _Reader(graph, set(top) | set(catalogs))
    resources = [
        reader.read(s, cls) for s, cls in sorted(top.items(), key=lambda kv: _sort_key(kv[0]))
    ]
    catalog = _read_catalog(reader, catalogs[0]) if catalogs else None
    unattached = len(graph) - len(reader.attached)  # every attached triple is in the graph
    return ParsedGraph(catalog, resources, unattached)


def _read_catalog(reader: _Reader, subject: Term) -> model.Catalog:
    # dcat:dataset/dcat:service/dcat:record are derived from the store, not kept in the record
    reader.skip = {DCAT.dataset, DCAT.service, DCAT.record}
    try:
        return reader.read(subject, model.Catalog)
    finally:
        reader.skip = set()


# --- writing --------------------------------------------------------------------------------


class BNodes:
    """Blank nodes unique to one record, so concatenated documents never share one by accident."""

    def __init__(self, seed: str) -> None:
        self.prefix = "b" + hashlib.sha1(seed.encode()).hexdigest()[:10]
        self.count = 0

    def new(self) -> BNode:
        self.count += 1
        return BNode(f"{self.prefix}x{self.count}")


def write_node(graph: Graph, obj: model.Node, bnodes: BNodes, subject: Term | None = None) -> Term:
    """Add ``obj``'s triples to ``graph`` and return its subject."""
    if subject is None:
        subject = URIRef(obj.uri) if obj.uri else bnodes.new()
    extra_triples = list(_extra_triples(obj.extra, subject, bnodes))
    if obj.rdf_type is not None and not (
        obj.rdf_type_replaceable
        and any(s == subject and p == RDF.type for s, p, _ in extra_triples)
    ):
        graph.add((subject, RDF.type, obj.rdf_type))
    for rdf_type in obj.also_types:
        graph.add((subject, RDF.type, rdf_type))
    for f in dataclasses.fields(obj):
        meta = f.metadata
        if "pred" not in meta:
            continue
        value = getattr(obj, f.name)
        if value in (None, "", [], {}):
            continue
        pred, kind = meta["pred"], meta["kind"]
        for term in _terms(graph, kind, meta, value, bnodes):
            graph.add((subject, pred, term))
    for t in extra_triples:
        graph.add(t)
    return subject


def _terms(
    graph: Graph, kind: str, meta: dict[str, Any], value: Any, bnodes: BNodes
) -> Iterator[Term]:
    if kind == URI:
        yield URIRef(value)
    elif kind == URIS:
        yield from (URIRef(v) for v in value)
    elif kind == TEXT:
        yield from (Literal(text, lang=lang or None) for lang, text in value.items())
    elif kind == TEXTS:
        yield from (Literal(v.value, lang=v.lang or None) for v in value)
    elif kind == LITERALS:
        yield from (Literal(v) for v in value)
    elif kind == DATE:
        yield Literal(value, datatype=date_datatype(value))
    elif kind == LITERAL:
        datatype = meta["datatype"]
        if datatype == GEO_NODE:
            node = bnodes.new()
            geojson = value.lstrip().startswith("{")
            graph.add((node, RDF.type, LOCN.Geometry))
            graph.add(
                (
                    node,
                    GSP.asGeoJSON if geojson else GSP.asWKT,
                    Literal(value, datatype=GSP.geoJSONLiteral if geojson else GSP.wktLiteral),
                )
            )
            yield node
        elif datatype == GEO:
            datatype = GSP.geoJSONLiteral if value.lstrip().startswith("{") else GSP.wktLiteral
            yield Literal(value, datatype=datatype)
        else:
            yield Literal(value, datatype=datatype)
    elif kind == INT:
        yield Literal(value, datatype=XSD.nonNegativeInteger)
    elif kind == NODE:
        yield write_node(graph, value, bnodes)
    elif kind == NODES:
        yield from (write_node(graph, v, bnodes) for v in value)
    elif kind == NOTATIONS:
        for notation in value:
            node = bnodes.new()
            graph.add((node, RDF.type, ADMS.Identifier))
            graph.add((node, SKOS.notation, Literal(notation)))
            yield node
    else:
        raise ValueError(f"unknown field kind {kind}")


def date_datatype(value: str) -> URIRef | None:
    """xsd:date, xsd:dateTime, xsd:gYear or xsd:gYearMonth by the lexical form, else None."""
    v = value.strip()
    if len(v) == 4 and v.isdigit():
        return XSD.gYear
    if len(v) == 7 and v[:4].isdigit() and v[4] == "-" and v[5:].isdigit():
        return XSD.gYearMonth
    if len(v) >= 10 and v[:4].isdigit() and v[4] == "-" and v[7] == "-":
        return XSD.dateTime if "T" in v else XSD.date if len(v) == 10 or v[10] in "Z+-" else None
    return None


def _extra_triples(extra: str, subject: Term, bnodes: BNodes) -> Iterator[tuple[Term, Term, Term]]:
    if not extra:
        return
    g = Graph()
    g.parse(data=extra, format="nt")
    mapping: dict[BNode, BNode] = {}

    def term(t: Term) -> Term:
        if t == SELF:
            return subject
        if isinstance(t, BNode):
            if t not in mapping:
                mapping[t] = bnodes.new()
            return mapping[t]
        return t

    for s, p, o in g:
        yield term(s), p, term(o)


class TripleSet(set):
    """A set of triples with Graph's ``add``: writing one record needs no rdflib store."""

    def add(self, triple: tuple[Term, Term, Term]) -> None:  # type: ignore[override]
        super().add(triple)


def resource_triples(resource: model.Resource) -> TripleSet:
    """The triples of one catalogue resource (with its distributions, agents, locations)."""
    triples = TripleSet()
    write_node(triples, resource, BNodes(resource.uri or ""))  # type: ignore[arg-type]
    return triples


def resource_graph(resource: model.Resource) -> Graph:
    g = Graph()
    for triple in resource_triples(resource):
        g.add(triple)
    return g
