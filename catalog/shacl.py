"""DCAT-AP.de 3.0 SHACL validation.

Validates an RDF graph against GovData's DCAT-AP.de 3.0 profile: the SEMIC DCAT-AP 3.0.0 shapes plus
the DCAT-AP.de additions (German messages and deactivations, german additions, deprecations and
controlled vocabularies). The shapes and the vocabularies the controlled-vocabulary checks need
(``skos:inScheme`` of every value) are shipped in ``catalog/resources``; nothing is ever fetched
(no ``owl:imports`` resolution).

Typical use::

    report = validate(graph)
    if not report.conforms:
        print(format_report(report))
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pyshacl import validate as pyshacl_validate
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, NamespaceManager
from rdflib.term import Node

__all__ = [
    "OWNER_CLASSES",
    "SHAPE_FILES",
    "ShaclReport",
    "ShaclResult",
    "format_report",
    "load_shapes",
    "load_vocabularies",
    "validate",
]

RESOURCES_DIR = Path(__file__).resolve().parent / "resources"
SHAPES_DIR = RESOURCES_DIR / "shacl"
VOCAB_DIR = RESOURCES_DIR / "vocab"

#: GovData's DCAT-AP.de 3.0 profile (order as in GovData's validator configuration).
SHAPE_FILES: tuple[str, ...] = (
    "dcat-ap-SHACL.ttl",  # SEMIC DCAT-AP 3.0.0
    "dcat-ap-SHACL-DE.ttl",  # German messages, deactivations
    "dcat-ap-spec-german-additions.ttl",
    "dcat-ap-de-deprecated.ttl",
    "dcat-ap-de-controlledvocabularies.ttl",
)

DCAT = Namespace("http://www.w3.org/ns/dcat#")

#: Classes whose instances "own" validation results (see :attr:`ShaclResult.owner`).
OWNER_CLASSES: tuple[URIRef, ...] = (
    DCAT.Dataset,
    DCAT.DatasetSeries,
    DCAT.DataService,
    DCAT.Catalog,
)

_PREFIXES: dict[str, str] = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcterms": "http://purl.org/dc/terms/",
    "dcatap": "http://data.europa.eu/r5r/",
    "dcatde": "http://dcat-ap.de/def/dcatde/",
    "adms": "http://www.w3.org/ns/adms#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "locn": "http://www.w3.org/ns/locn#",
    "geodcatap": "http://data.europa.eu/930/",
    "spdx": "http://spdx.org/rdf/terms#",
    "prov": "http://www.w3.org/ns/prov#",
    "odrl": "http://www.w3.org/ns/odrl/2/",
    "org": "http://www.w3.org/ns/org#",
    "time": "http://www.w3.org/2006/time#",
    "schema": "http://schema.org/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "sh": str(SH),
}

_SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
_SEVERITY_RANK = {"Violation": 0, "Warning": 1, "Info": 2}
_MAX_OWNER_DEPTH = 8

Triple = tuple[Node, Node, Node]


@dataclass(frozen=True)
class ShaclResult:
    """One SHACL validation result, flattened to strings."""

    severity: str  # "Violation" | "Warning" | "Info"
    focus: str  # the focus node (IRI or "_:bnode")
    owner: str | None  # IRI (or "_:bnode") of the Dataset/DatasetSeries/DataService/Catalog
    path: str | None  # result path as prefixed name where possible (dcterms:title)
    message: str  # the shape's sh:message (German preferred) or pyshacl's generated one
    value: str | None
    shape: str | None  # source shape IRI (nearest named shape for blank-node shapes)


@dataclass
class ShaclReport:
    """All results of one validation run."""

    results: list[ShaclResult] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        """True if there is no result of severity Violation (warnings are allowed)."""
        return not any(r.severity == "Violation" for r in self.results)

    @property
    def violations(self) -> list[ShaclResult]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[ShaclResult]:
        return [r for r in self.results if r.severity == "Warning"]

    @property
    def infos(self) -> list[ShaclResult]:
        return [r for r in self.results if r.severity == "Info"]

    def by_owner(self) -> dict[str | None, list[ShaclResult]]:
        """Results grouped by owner; owners sorted by IRI, results without owner last."""
        groups: dict[str | None, list[ShaclResult]] = {}
        for result in self.results:
            groups.setdefault(result.owner, []).append(result)
        return dict(sorted(groups.items(), key=lambda item: (item[0] is None, item[0] or "")))


# --------------------------------------------------------------------------- loading


def _parse_dir_files(graph: Graph, paths: Iterable[Path]) -> Graph:
    for path in paths:
        fmt = "xml" if path.suffix in (".rdf", ".owl", ".xml") else "turtle"
        graph.parse(path, format=fmt)
    return graph


@functools.cache
def load_shapes() -> Graph:
    """The DCAT-AP.de 3.0 shapes graph (parsed once per process; treat as read-only)."""
    return _parse_dir_files(Graph(), (SHAPES_DIR / name for name in SHAPE_FILES))


@functools.cache
def load_vocabularies() -> Graph:
    """All vocabularies in ``resources/vocab`` (parsed once per process; treat as read-only)."""
    files = sorted(
        p for p in VOCAB_DIR.rglob("*") if p.is_file() and p.suffix in (".ttl", ".rdf", ".owl")
    )
    return _parse_dir_files(Graph(), files)


@functools.cache
def _vocabulary_index() -> tuple[dict[Node, tuple[Triple, ...]], tuple[Triple, ...]]:
    """Vocabulary triples by subject, and the class/property hierarchy of the ontologies."""
    vocab = load_vocabularies()
    by_subject: dict[Node, list[Triple]] = {}
    for triple in vocab:
        by_subject.setdefault(triple[0], []).append(triple)
    hierarchy = tuple(
        triple
        for predicate in (RDFS.subClassOf, RDFS.subPropertyOf)
        for triple in vocab.triples((None, predicate, None))
    )
    return {k: tuple(v) for k, v in by_subject.items()}, hierarchy


def _relevant_vocabulary(data: Graph) -> Iterator[Triple]:
    """The part of the vocabularies the shapes can see from ``data``.

    The shapes only look at the vocabulary descriptions of IRIs that occur in the data (e.g.
    ``skos:inScheme`` of a dcat:theme value, the rdf:type of a publisher) and at the class hierarchy
    (``sh:class``/``sh:targetClass`` with subclasses such as foaf:Organization). Copying just that
    instead of all vocabularies gives the same results as a full merge and is much faster.
    """
    by_subject, hierarchy = _vocabulary_index()
    yield from hierarchy
    nodes = {n for triple in data for n in triple if isinstance(n, URIRef)}
    for node in nodes:
        yield from by_subject.get(node, ())


@functools.cache
def _namespace_manager() -> NamespaceManager:
    nsm = NamespaceManager(Graph(), bind_namespaces="none")
    for prefix, iri in _PREFIXES.items():
        nsm.bind(prefix, iri, override=True, replace=True)
    return nsm


# --------------------------------------------------------------------------- validation


def validate(data: Graph, *, vocabularies: bool = True) -> ShaclReport:
    """Validate ``data`` against the DCAT-AP.de 3.0 shapes.

    The caller's graph is not modified: data (and, with ``vocabularies=True``, the shipped
    vocabularies) are merged into a new graph. Inference is off, owl:imports are not followed.
    """
    shapes = load_shapes()
    merged = Graph()
    merged += data
    if vocabularies:
        merged.addN((s, p, o, merged) for s, p, o in _relevant_vocabulary(data))
    _conforms, report_graph, _text = pyshacl_validate(
        merged,
        shacl_graph=shapes,
        inference="none",
        abort_on_first=False,
        allow_infos=True,
        allow_warnings=True,
        meta_shacl=False,
        advanced=False,
        do_owl_imports=False,
        inplace=True,
    )
    return ShaclReport(_collect_results(report_graph, data, merged, shapes))


def _collect_results(report: Graph, data: Graph, merged: Graph, shapes: Graph) -> list[ShaclResult]:
    raw: list[tuple[str, Node, str | None, str, Node | None, Node | None]] = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        severity = _SEVERITIES.get(report.value(node, SH.resultSeverity), "Violation")
        focus = report.value(node, SH.focusNode)
        if focus is None:
            continue
        path = report.value(node, SH.resultPath)
        raw.append(
            (
                severity,
                focus,
                _render_path(path, report, shapes) if path is not None else None,
                _pick_message(list(report.objects(node, SH.resultMessage))),
                report.value(node, SH.value),
                report.value(node, SH.sourceShape),
            )
        )

    # Identical results (a shared vocabulary value referenced by several resources is reported
    # once per referencing resource) are attributed one by one to the referencing resources.
    owner_cache: dict[Node, Node | None] = {}
    results: list[ShaclResult] = []
    for (severity, focus, path, message, value, source), count in Counter(raw).items():
        subjects, parent_path = _referring_subjects(focus, source, data, merged, shapes)
        if parent_path is not None:
            # nested shape: report the path from the referring resource and the offending value
            path = f"{_qname(parent_path)}/{path}" if path else _qname(parent_path)
            if value is None:
                value = focus
        owners = [_owner(s, data, owner_cache) for s in subjects]
        owners += [owners[0]] * (count - len(owners))
        for owner in owners[:count]:
            results.append(
                ShaclResult(
                    severity=severity,
                    focus=_term_str(focus),
                    owner=_term_str(owner) if owner is not None else None,
                    path=path,
                    message=message,
                    value=_term_str(value) if value is not None else None,
                    shape=_shape_name(source, shapes),
                )
            )
    results.sort(
        key=lambda r: (
            r.owner is None,
            r.owner or "",
            _SEVERITY_RANK.get(r.severity, 9),
            r.focus,
            r.path or "",
            r.message,
            r.value or "",
        )
    )
    return results


def _pick_message(messages: list[Node]) -> str:
    literals = [m for m in messages if isinstance(m, Literal)]
    for wanted in ("de", None, "en"):
        for lit in literals:
            if lit.language == wanted:
                return str(lit)
    return str(literals[0]) if literals else ""


def _term_str(term: Node) -> str:
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


# --------------------------------------------------------------------------- owners


def _referring_subjects(
    focus: Node, source: Node | None, data: Graph, merged: Graph, shapes: Graph
) -> tuple[list[Node], URIRef | None]:
    """The resources a result is really about, and the path that leads from them to the focus.

    Results of shapes nested in a property shape (``:p sh:path dcat:theme ; sh:property [ sh:path
    skos:inScheme ... ]``) have the *value* (e.g. a vocabulary concept) as focus node; the resources
    that use the value are the subjects of the parent shape's path, restricted to the parent node
    shape's target class. For all other results the focus node itself is returned.
    """
    if source is None:
        return [focus], None
    parent = next(shapes.subjects(SH.property, source), None)
    parent_path = shapes.value(parent, SH.path) if parent is not None else None
    if not isinstance(parent_path, URIRef):
        return [focus], None
    subjects = sorted(set(data.subjects(parent_path, focus)), key=_sort_key)
    if not subjects:
        return [focus], parent_path
    classes = {
        cls
        for node_shape in shapes.subjects(SH.property, parent)
        for cls in shapes.objects(node_shape, SH.targetClass)
    }
    if classes:
        typed = [s for s in subjects if any(_has_type(merged, s, c) for c in classes)]
        if typed:
            subjects = typed
    return subjects, parent_path


def _has_type(graph: Graph, node: Node, cls: Node) -> bool:
    for typ in graph.objects(node, RDF.type):
        if typ == cls or cls in graph.transitive_objects(typ, RDFS.subClassOf):
            return True
    return False


def _sort_key(term: Node) -> tuple[int, str]:
    return (isinstance(term, BNode), str(term))


def _is_owner(data: Graph, node: Node) -> bool:
    return any((node, RDF.type, cls) in data for cls in OWNER_CLASSES)


def _owner(node: Node, data: Graph, cache: dict[Node, Node | None]) -> Node | None:
    """Nearest Dataset/DatasetSeries/DataService/Catalog reachable over incoming links."""
    if node in cache:
        return cache[node]
    result: Node | None = None
    if _is_owner(data, node):
        result = node
    else:
        seen = {node}
        frontier = [node]
        for _depth in range(_MAX_OWNER_DEPTH):
            found: set[Node] = set()
            next_frontier: list[Node] = []
            for current in frontier:
                for subject, predicate in data.subject_predicates(current):
                    if predicate == RDF.type or subject in seen:
                        continue
                    seen.add(subject)
                    if _is_owner(data, subject):
                        found.add(subject)
                    else:
                        next_frontier.append(subject)
            if found:
                result = _choose_owner(data, found)
                break
            if not next_frontier:
                break
            frontier = next_frontier
    cache[node] = result
    return result


def _choose_owner(data: Graph, owners: set[Node]) -> Node:
    """Pick one owner among several at the same distance.

    A node shared by a catalog and other owners (typically a publisher) belongs to the catalog;
    otherwise the first dataset / series / service / catalog (IRIs before blank nodes) wins.
    """

    def rank(owner: Node) -> tuple[int, int, str]:
        index = next(
            (i for i, cls in enumerate(OWNER_CLASSES) if (owner, RDF.type, cls) in data),
            len(OWNER_CLASSES),
        )
        return (index, isinstance(owner, BNode), str(owner))

    catalogs = [o for o in owners if (o, RDF.type, DCAT.Catalog) in data]
    if catalogs and len(owners) > 1:
        return min(catalogs, key=lambda o: (isinstance(o, BNode), str(o)))
    return min(owners, key=rank)


# --------------------------------------------------------------------------- rendering


def _lookup_graph(node: Node, report: Graph, shapes: Graph) -> Graph:
    return report if (node, None, None) in report else shapes


def _render_path(path: Node, report: Graph, shapes: Graph) -> str:
    if isinstance(path, URIRef):
        return _qname(path)
    graph = _lookup_graph(path, report, shapes)
    if (path, RDF.first, None) in graph:
        return "/".join(_render_path(p, report, shapes) for p in Collection(graph, path))
    for predicate, template in (
        (SH.inversePath, "^{}"),
        (SH.zeroOrMorePath, "{}*"),
        (SH.oneOrMorePath, "{}+"),
        (SH.zeroOrOnePath, "{}?"),
    ):
        inner = graph.value(path, predicate)
        if inner is not None:
            return template.format(_render_path(inner, report, shapes))
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        alt_graph = _lookup_graph(alternatives, report, shapes)
        parts = [_render_path(p, report, shapes) for p in Collection(alt_graph, alternatives)]
        return "(" + " | ".join(parts) + ")"
    return _term_str(path)


def _qname(iri: URIRef) -> str:
    try:
        prefix, namespace, name = _namespace_manager().compute_qname(str(iri), generate=False)
    except (KeyError, ValueError):
        return str(iri)
    if not prefix:
        return str(iri)
    return f"{prefix}:{name}"


def _shape_name(shape: Node | None, shapes: Graph) -> str | None:
    """IRI of the source shape, or of the nearest named shape containing a blank-node shape."""
    seen: set[Node] = set()
    current = shape
    while current is not None and current not in seen:
        if isinstance(current, URIRef):
            return str(current)
        seen.add(current)
        current = next(_shape_parents(current, shapes), None)
    return None


def _shape_parents(shape: Node, shapes: Graph) -> Iterator[Node]:
    for predicate in (SH.property, SH.node, SH["not"], SH.qualifiedValueShape):
        yield from shapes.subjects(predicate, shape)


# --------------------------------------------------------------------------- report text


def format_report(report: ShaclReport) -> str:
    """Human-readable report grouped by owner, with counts at the end."""
    lines: list[str] = []
    for owner, results in report.by_owner().items():
        lines.append(f"== {owner if owner is not None else '(ohne Datensatz/Katalog)'} ==")
        for r in results:
            where = r.path or "-"
            focus = "" if r.focus == owner else f" @ {r.focus}"
            lines.append(f"  [{r.severity}] {where}{focus}: {r.message}")
            if r.value is not None:
                lines.append(f"      Wert: {r.value}")
        lines.append("")
    violations, warnings, infos = len(report.violations), len(report.warnings), len(report.infos)
    lines.append(
        f"{violations} Verstoß/Verstöße (Violation), {warnings} Warnung(en) (Warning), "
        f"{infos} Hinweis(e) (Info) - " + ("konform" if report.conforms else "NICHT konform")
    )
    return "\n".join(lines)
