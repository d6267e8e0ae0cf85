"""The DCAT-AP.de 3.0 model: Catalog, Dataset, DatasetSeries, Distribution, DataService, Agent,
ContactPoint and their small helper classes.

Every field names the RDF property it maps to in its metadata (``pred``) and how values are read
(``kind``); ``catalog.rdf_mapping`` reads and writes graphs from these declarations alone.
Properties that are not modelled are kept in ``extra`` (canonical N-Triples), so a record
survives a round trip through the store unchanged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rdflib import URIRef
from rdflib.namespace import XSD

from catalog.namespaces import (
    ADMS,
    DCAT,
    DCATAP,
    DCATDE,
    DCTERMS,
    FOAF,
    LOCN,
    PROV,
    SKOS,
    SPDX,
    VCARD,
)

# kinds understood by catalog.rdf_mapping
URI, URIS, TEXT, TEXTS, DATE, LITERAL, LITERALS, INT, NODE, NODES, NOTATIONS = (
    "uri",
    "uris",
    "text",
    "texts",
    "date",
    "literal",
    "literals",
    "int",
    "node",
    "nodes",
    "notations",
)
GEO = URIRef("urn:odapp:geometry-literal")  # datatype marker: WKT or GeoJSON, chosen by content
# locn:geometry is written as a locn:Geometry node with gsp:asWKT / gsp:asGeoJSON (the
# DCAT-AP.de shapes refuse a bare literal there); bare literals are still read.
GEO_NODE = URIRef("urn:odapp:geometry-node")


def prop(
    pred: URIRef,
    kind: str,
    cls: type | None = None,
    *,
    datatype: URIRef | None = None,
    email: bool = False,
) -> Any:
    """A modelled property: its predicate, how it is read, the nested class for nodes and the
    datatype a plain literal is written with (None: untyped; GEO: WKT or GeoJSON by content)."""
    meta = {"pred": pred, "kind": kind, "cls": cls, "datatype": datatype, "email": email}
    if kind in (URI, DATE, LITERAL, INT, NODE):
        return field(default=None, metadata=meta)
    if kind == TEXT:
        return field(default_factory=dict, metadata=meta)
    return field(default_factory=list, metadata=meta)


@dataclass(frozen=True, order=True)
class LangStr:
    """A literal with an optional language tag (keywords carry umlauts and a language)."""

    value: str
    lang: str = ""


@dataclass
class Node:
    """Base of every modelled resource: its IRI (None for a blank node) and the kept extras."""

    rdf_type: ClassVar[URIRef | None] = None
    # True where the source may rightly use another class (foaf:Person, vcard:Individual):
    # the default class is then written only if the kept extras name none.
    rdf_type_replaceable: ClassVar[bool] = False
    also_types: ClassVar[tuple[URIRef, ...]] = ()
    uri: str | None = None
    extra: str = ""

    def to_dict(self) -> dict[str, Any]:
        return _to_jsonable(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        return _from_jsonable(cls, data)


@dataclass
class Agent(Node):
    """foaf:Agent: a publisher, creator or maintainer; every Fachamt is an organisation."""

    rdf_type: ClassVar[URIRef | None] = FOAF.Organization
    rdf_type_replaceable: ClassVar[bool] = True
    name: dict[str, str] = prop(FOAF.name, TEXT)
    type: str | None = prop(DCTERMS.type, URI)
    email: str | None = prop(FOAF.mbox, URI, email=True)
    homepage: str | None = prop(FOAF.homepage, URI)


@dataclass
class ContactPoint(Node):
    """vcard:Kind (an organisational contact point)."""

    rdf_type: ClassVar[URIRef | None] = VCARD.Organization
    rdf_type_replaceable: ClassVar[bool] = True
    fn: dict[str, str] = prop(VCARD.fn, TEXT)
    email: str | None = prop(VCARD.hasEmail, URI, email=True)
    url: str | None = prop(VCARD.hasURL, URI)
    telephone: str | None = prop(VCARD.hasTelephone, URI)


@dataclass
class Location(Node):
    """dcterms:Location: geometry, bounding box and centroid as WKT or GeoJSON literals."""

    rdf_type: ClassVar[URIRef | None] = DCTERMS.Location
    geometry: str | None = prop(LOCN.geometry, LITERAL, datatype=GEO_NODE)
    bbox: str | None = prop(DCAT.bbox, LITERAL, datatype=GEO)
    centroid: str | None = prop(DCAT.centroid, LITERAL, datatype=GEO)
    name: dict[str, str] = prop(SKOS.prefLabel, TEXT)


@dataclass
class PeriodOfTime(Node):
    """dcterms:PeriodOfTime with DCAT start and end dates."""

    rdf_type: ClassVar[URIRef | None] = DCTERMS.PeriodOfTime
    start: str | None = prop(DCAT.startDate, DATE)
    end: str | None = prop(DCAT.endDate, DATE)


@dataclass
class Checksum(Node):
    rdf_type: ClassVar[URIRef | None] = SPDX.Checksum
    algorithm: str | None = prop(SPDX.algorithm, URI)
    value: str | None = prop(SPDX.checksumValue, LITERAL, datatype=XSD.hexBinary)


@dataclass
class Derivation(Node):
    """prov:Derivation: where a harvested record came from and when it was harvested."""

    rdf_type: ClassVar[URIRef | None] = PROV.Derivation
    entity: str | None = prop(PROV.entity, URI)
    at_time: str | None = prop(PROV.atTime, DATE)


@dataclass
class Distribution(Node):
    """dcat:Distribution: one way to get a dataset (a file, an API)."""

    rdf_type: ClassVar[URIRef | None] = DCAT.Distribution
    access_urls: list[str] = prop(DCAT.accessURL, URIS)
    download_urls: list[str] = prop(DCAT.downloadURL, URIS)
    license: str | None = prop(DCTERMS.license, URI)
    license_attribution: str | None = prop(DCATDE.licenseAttributionByText, LITERAL)
    title: dict[str, str] = prop(DCTERMS.title, TEXT)
    description: dict[str, str] = prop(DCTERMS.description, TEXT)
    format: str | None = prop(DCTERMS["format"], URI)
    media_type: str | None = prop(DCAT.mediaType, URI)
    compress_format: str | None = prop(DCAT.compressFormat, URI)
    package_format: str | None = prop(DCAT.packageFormat, URI)
    byte_size: int | None = prop(DCAT.byteSize, INT)
    issued: str | None = prop(DCTERMS.issued, DATE)
    modified: str | None = prop(DCTERMS.modified, DATE)
    availability: str | None = prop(DCATAP.availability, URI)
    status: str | None = prop(ADMS.status, URI)
    languages: list[str] = prop(DCTERMS.language, URIS)
    pages: list[str] = prop(FOAF.page, URIS)
    conforms_to: list[str] = prop(DCTERMS.conformsTo, URIS)
    access_services: list[str] = prop(DCAT.accessService, URIS)
    applicable_legislation: list[str] = prop(DCATAP.applicableLegislation, URIS)
    checksum: Checksum | None = prop(SPDX.checksum, NODE, Checksum)
    spatial_resolution: str | None = prop(
        DCAT.spatialResolutionInMeters, LITERAL, datatype=XSD.decimal
    )
    temporal_resolution: str | None = prop(DCAT.temporalResolution, LITERAL, datatype=XSD.duration)


@dataclass
class Resource(Node):
    """What datasets, series and data services share (dcat:Resource)."""

    title: dict[str, str] = prop(DCTERMS.title, TEXT)
    description: dict[str, str] = prop(DCTERMS.description, TEXT)
    publisher: Agent | None = prop(DCTERMS.publisher, NODE, Agent)
    contact_points: list[ContactPoint] = prop(DCAT.contactPoint, NODES, ContactPoint)
    keywords: list[LangStr] = prop(DCAT.keyword, TEXTS)
    themes: list[str] = prop(DCAT.theme, URIS)
    identifier: list[str] = prop(DCTERMS.identifier, LITERALS)
    issued: str | None = prop(DCTERMS.issued, DATE)
    modified: str | None = prop(DCTERMS.modified, DATE)
    availability: str | None = prop(DCATAP.availability, URI)
    access_rights: str | None = prop(DCTERMS.accessRights, URI)
    license: str | None = prop(DCTERMS.license, URI)
    conforms_to: list[str] = prop(DCTERMS.conformsTo, URIS)
    languages: list[str] = prop(DCTERMS.language, URIS)
    applicable_legislation: list[str] = prop(DCATAP.applicableLegislation, URIS)
    contributor_ids: list[str] = prop(DCATDE.contributorID, URIS)
    landing_pages: list[str] = prop(DCAT.landingPage, URIS)
    # provenance of harvested records: the records at the sources, and when each was harvested
    was_derived_from: list[str] = prop(PROV.wasDerivedFrom, URIS)
    derivations: list[Derivation] = prop(PROV.qualifiedDerivation, NODES, Derivation)


@dataclass
class Dataset(Resource):
    """dcat:Dataset with every mandatory, recommended and most optional DCAT-AP.de 3.0 fields."""

    rdf_type: ClassVar[URIRef | None] = DCAT.Dataset
    distributions: list[Distribution] = prop(DCAT.distribution, NODES, Distribution)
    political_geocoding_level: str | None = prop(DCATDE.politicalGeocodingLevelURI, URI)
    political_geocoding: list[str] = prop(DCATDE.politicalGeocodingURI, URIS)
    geocoding_description: dict[str, str] = prop(DCATDE.geocodingDescription, TEXT)
    spatial: list[Location] = prop(DCTERMS.spatial, NODES, Location)
    temporal: list[PeriodOfTime] = prop(DCTERMS.temporal, NODES, PeriodOfTime)
    accrual_periodicity: str | None = prop(DCTERMS.accrualPeriodicity, URI)
    other_identifiers: list[str] = prop(ADMS.identifier, NOTATIONS)
    version: str | None = prop(DCAT.version, LITERAL)
    version_notes: dict[str, str] = prop(ADMS.versionNotes, TEXT)
    legal_basis: dict[str, str] = prop(DCATDE.legalBasis, TEXT)
    relations: list[str] = prop(DCTERMS.relation, URIS)
    pages: list[str] = prop(FOAF.page, URIS)
    quality_processes: list[str] = prop(DCATDE.qualityProcessURI, URIS)
    type: str | None = prop(DCTERMS.type, URI)
    spatial_resolution: str | None = prop(
        DCAT.spatialResolutionInMeters, LITERAL, datatype=XSD.decimal
    )
    temporal_resolution: str | None = prop(DCAT.temporalResolution, LITERAL, datatype=XSD.duration)
    references: list[str] = prop(DCTERMS.references, URIS)
    is_referenced_by: list[str] = prop(DCTERMS.isReferencedBy, URIS)
    sources: list[str] = prop(DCTERMS.source, URIS)
    has_versions: list[str] = prop(DCAT.hasVersion, URIS)
    is_version_of: list[str] = prop(DCTERMS.isVersionOf, URIS)
    samples: list[str] = prop(ADMS.sample, URIS)
    in_series: list[str] = prop(DCAT.inSeries, URIS)
    was_generated_by: list[str] = prop(PROV.wasGeneratedBy, URIS)
    creators: list[Agent] = prop(DCTERMS.creator, NODES, Agent)
    contributors: list[Agent] = prop(DCTERMS.contributor, NODES, Agent)
    originators: list[Agent] = prop(DCATDE.originator, NODES, Agent)
    maintainers: list[Agent] = prop(DCATDE.maintainer, NODES, Agent)


@dataclass
class DatasetSeries(Dataset):
    """dcat:DatasetSeries: a dataset whose members point to it with dcat:inSeries."""

    rdf_type: ClassVar[URIRef | None] = DCAT.DatasetSeries
    # catalogues list series with dcat:dataset, whose values the shapes require to be datasets
    also_types: ClassVar[tuple[URIRef, ...]] = (DCAT.Dataset,)


@dataclass
class DataService(Resource):
    """dcat:DataService: an API that serves datasets."""

    rdf_type: ClassVar[URIRef | None] = DCAT.DataService
    endpoint_urls: list[str] = prop(DCAT.endpointURL, URIS)
    endpoint_descriptions: list[str] = prop(DCAT.endpointDescription, URIS)
    serves_datasets: list[str] = prop(DCAT.servesDataset, URIS)
    formats: list[str] = prop(DCTERMS["format"], URIS)


@dataclass
class Catalog(Node):
    """dcat:Catalog: the catalogue's own description (its datasets come from the store)."""

    rdf_type: ClassVar[URIRef | None] = DCAT.Catalog
    title: dict[str, str] = prop(DCTERMS.title, TEXT)
    description: dict[str, str] = prop(DCTERMS.description, TEXT)
    publisher: Agent | None = prop(DCTERMS.publisher, NODE, Agent)
    issued: str | None = prop(DCTERMS.issued, DATE)
    modified: str | None = prop(DCTERMS.modified, DATE)
    languages: list[str] = prop(DCTERMS.language, URIS)
    homepage: str | None = prop(FOAF.homepage, URI)
    license: str | None = prop(DCTERMS.license, URI)
    theme_taxonomies: list[str] = prop(DCAT.themeTaxonomy, URIS)
    availability: str | None = prop(DCATAP.availability, URI)
    spatial: list[Location] = prop(DCTERMS.spatial, NODES, Location)
    applicable_legislation: list[str] = prop(DCATAP.applicableLegislation, URIS)
    creators: list[Agent] = prop(DCTERMS.creator, NODES, Agent)


RESOURCE_CLASSES: dict[str, type[Resource]] = {
    "dataset": Dataset,
    "series": DatasetSeries,
    "service": DataService,
}


def kind_of(resource: Resource) -> str:
    for kind, cls in RESOURCE_CLASSES.items():
        if type(resource) is cls:
            return kind
    raise TypeError(f"not a catalogue resource: {type(resource).__name__}")


def preferred_text(text: dict[str, str], lang: str = "de") -> str:
    """The text in the wanted language, else German, untagged, English, or any."""
    for key in (lang, "de", "", "en"):
        if text.get(key):
            return text[key]
    return next(iter(text.values()), "")


# --- JSON form (what the store keeps and the APIs return) -----------------------------------


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, LangStr):
        return {"value": value.value, "lang": value.lang}
    if dataclasses.is_dataclass(value):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if v in (None, "", [], {}):
                continue
            out[f.name] = _to_jsonable(v)
        return out
    if isinstance(value, list):
        return [_to_jsonable(v) for v in value]
    return value


def _from_jsonable(cls: type, data: dict[str, Any]) -> Any:
    kwargs: dict[str, Any] = {}
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown field(s) {', '.join(sorted(unknown))}")
    for name, value in data.items():
        meta = known[name].metadata
        kind = meta.get("kind")
        if kind == TEXTS:
            kwargs[name] = [
                LangStr(v["value"], v.get("lang", "")) if isinstance(v, dict) else LangStr(str(v))
                for v in value
            ]
        elif kind == NODE:
            kwargs[name] = None if value is None else _from_jsonable(meta["cls"], value)
        elif kind == NODES:
            kwargs[name] = [_from_jsonable(meta["cls"], v) for v in value]
        else:
            kwargs[name] = value
    return cls(**kwargs)
