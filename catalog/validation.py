"""The mandatory rules every record must meet before it is stored (DCAT-AP.de 3.0 and GovData).

The full SHACL check (``catalog.shacl``) reports everything else; these rules are the ones a
write refuses on, with a message that names the record, the field and the rule.
"""

from __future__ import annotations

import re

from catalog import model
from catalog.errors import Problem, problem
from catalog.spatial import GeometryError, coverage_geometry

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")

_FIELD_NAMES = {  # how the spec calls them, for the messages
    "title": ("Titel", "title", "dcterms:title"),
    "description": ("Beschreibung", "description", "dcterms:description"),
    "publisher": ("Herausgeber", "publisher", "dcterms:publisher"),
    "publisher.name": ("Name des Herausgebers", "publisher name", "foaf:name"),
    "access_urls": ("Zugangs-URL", "access URL", "dcat:accessURL"),
    "license": ("Lizenz", "licence", "dcterms:license"),
    "endpoint_urls": ("Endpunkt-URL", "endpoint URL", "dcat:endpointURL"),
}


def _missing(where: str, field: str) -> Problem:
    de, en, term = _FIELD_NAMES[field]
    return problem(
        f"{where}: {field}",
        f"mandatory:{term}",
        f"Pflichtangabe fehlt: {de} ({term}) ist nach DCAT-AP.de 3.0 verpflichtend",
        f"missing mandatory property: {en} ({term}) is required by DCAT-AP.de 3.0",
    )


def _has_text(text: dict[str, str]) -> bool:
    return any(v.strip() for v in text.values())


def check_resource(resource: model.Resource, where: str | None = None) -> list[Problem]:
    """Every mandatory-rule problem of one dataset, series or data service (empty when valid)."""
    where = where or resource.uri or "(record without IRI)"
    problems: list[Problem] = []
    if not _has_text(resource.title):
        problems.append(_missing(where, "title"))
    if isinstance(resource, model.Dataset) and not _has_text(resource.description):
        problems.append(_missing(where, "description"))
    if resource.publisher is None:
        problems.append(_missing(where, "publisher"))
    elif not _has_text(resource.publisher.name):
        problems.append(_missing(where, "publisher.name"))
    if isinstance(resource, model.DataService) and not resource.endpoint_urls:
        problems.append(_missing(where, "endpoint_urls"))
    if isinstance(resource, model.Dataset):
        for i, dist in enumerate(resource.distributions):
            at = f"{where}: distributions[{i}]" + (f" <{dist.uri}>" if dist.uri else "")
            if not dist.access_urls:
                problems.append(_missing(at, "access_urls"))
            if not dist.license:
                problems.append(_missing(at, "license"))
        for i, loc in enumerate(resource.spatial):
            try:
                coverage_geometry([loc])
            except GeometryError as exc:
                problems.append(
                    problem(
                        f"{where}: spatial[{i}]",
                        "geometry",
                        f"Geometrie nicht lesbar: {exc}",
                        f"geometry cannot be read: {exc}",
                    )
                )
    problems.extend(_check_iris(resource, where))
    if isinstance(resource, model.Dataset):
        seen: set[str] = {resource.uri} if resource.uri else set()
        for i, dist in enumerate(resource.distributions):
            if dist.uri and dist.uri in seen:
                problems.append(
                    problem(
                        f"{where}: distributions[{i}]",
                        "iri-unique",
                        f"IRI {dist.uri} ist schon vergeben (in RDF wäre es derselbe Knoten)",
                        f"IRI {dist.uri} is already used (in RDF it would be the same node)",
                    )
                )
            if dist.uri:
                seen.add(dist.uri)
    return problems


def _check_iris(node: model.Node, where: str, path: str = "") -> list[Problem]:
    """IRIs must be absolute and free of characters that break every RDF syntax."""
    import dataclasses

    problems: list[Problem] = []
    values: list[tuple[str, object]] = [(path + "uri", node.uri)]
    for f in dataclasses.fields(node):
        kind = f.metadata.get("kind")
        value = getattr(node, f.name)
        if kind == model.URI:
            values.append((path + f.name, value))
        elif kind == model.URIS:
            values.extend((f"{path}{f.name}[{i}]", v) for i, v in enumerate(value))
        elif kind == model.NODE and value is not None:
            problems.extend(_check_iris(value, where, f"{path}{f.name}."))
        elif kind == model.NODES:
            for i, child in enumerate(value):
                problems.extend(_check_iris(child, where, f"{path}{f.name}[{i}]."))
    for name, value in values:
        if value is not None and not _IRI.match(str(value)):
            problems.append(
                problem(
                    f"{where}: {name}",
                    "iri",
                    f"Keine gültige absolute IRI: {value!r}",
                    f"not a valid absolute IRI: {value!r}",
                )
            )
    return problems
