"""Labels of the controlled vocabularies shipped in catalog/resources/vocab (themes, licences,
file types, frequencies), read once per process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from rdflib import Graph, URIRef
from rdflib.namespace import DC, DCTERMS, RDF, SKOS

from catalog.namespaces import EU

THEMES = URIRef(f"{EU}data-theme")
FILE_TYPES = URIRef(f"{EU}file-type")
LICENCES = URIRef("http://dcat-ap.de/def/licenses")


@dataclass(frozen=True)
class Concept:
    iri: str
    code: str
    labels: dict[str, str]

    def label(self, lang: str = "de") -> str:
        return self.labels.get(lang) or self.labels.get("de") or self.labels.get("en") or self.code


@cache
def _graph() -> Graph:
    graph = Graph()
    folder = resources.files("catalog").joinpath("resources", "vocab")
    for name in ("eu-data-theme.ttl", "eu-file-type.ttl", "eu-frequency.ttl"):
        graph.parse(data=folder.joinpath(name).read_text("utf-8"), format="turtle")
    graph.parse(data=folder.joinpath("dcat-ap-de-licenses-open.rdf").read_bytes(), format="xml")
    return graph


@cache
def concepts(scheme: URIRef) -> dict[str, Concept]:
    """Concepts of a scheme by IRI."""
    graph = _graph()
    out: dict[str, Concept] = {}
    for iri in graph.subjects(SKOS.inScheme, scheme):
        if (iri, RDF.type, SKOS.Concept) not in graph:
            continue
        labels = {lit.language or "": str(lit) for lit in graph.objects(iri, SKOS.prefLabel)}
        code = graph.value(iri, SKOS.notation) or graph.value(iri, DC.identifier)
        code = code or graph.value(iri, DCTERMS.identifier) or str(iri).rsplit("/", 1)[-1]
        out[str(iri)] = Concept(str(iri), str(code), labels)
    return out


@cache
def by_code(scheme: URIRef) -> dict[str, Concept]:
    """Concepts of a scheme by code, case-insensitively (lower-case keys)."""
    return {c.code.lower(): c for c in concepts(scheme).values()}
