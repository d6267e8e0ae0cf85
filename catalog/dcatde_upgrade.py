"""Mapping DCAT-AP.de 2.0 properties and code lists to their 3.0 successors on import."""

from __future__ import annotations

import re
from collections import Counter

from rdflib import Graph, URIRef
from rdflib.namespace import OWL

from catalog.namespaces import ADMS, DCAT, DCATAP, DCATDE, DCTERMS, EU, SCHEMA, SPDX
from catalog.turtle import iri

_PLANNED = {
    "stable": "STABLE",
    "available": "AVAILABLE",
    "temporary": "TEMPORARY",
    "experimental": "EXPERIMENTAL",
}
_ADMS_STATUS = {
    "Completed": "COMPLETED",
    "Deprecated": "DEPRECATED",
    "UnderDevelopment": "DEVELOP",
    "Withdrawn": "WITHDRAWN",
}
_HASH = {
    "md/2": "md2",
    "md/4": "md4",
    "md/5": "md5",
    "md/6": "md6",
    "sha/1": "sha1",
    "sha/224": "sha224",
    "sha/256": "sha256",
    "sha/384": "sha384",
    "sha/512": "sha512",
}
_RENAMED = {
    SCHEMA.startDate: DCAT.startDate,
    SCHEMA.endDate: DCAT.endDate,
    OWL.versionInfo: DCAT.version,
    DCTERMS.hasVersion: DCAT.hasVersion,
    DCATDE.plannedAvailability: DCATAP.availability,
}


def _successor_value(pred: URIRef, obj: object) -> object:
    text = str(obj)
    if pred == DCATDE.plannedAvailability:
        code = text.rstrip("/").rsplit("/", 1)[-1]
        # the vocabulary's IRIs are http://dcat-ap.de/…; catalogues also write https and www.
        base = re.sub(r"^https?://(www\.)?", "http://", text)
        if base.startswith("http://dcat-ap.de/def/plannedAvailability/") and code in _PLANNED:
            return URIRef(f"{EU}planned-availability/{_PLANNED[code]}")
    return obj


def upgrade_graph(graph: Graph) -> Counter[str]:
    """Rewrite 2.0-only properties in place; return how often each mapping was applied."""
    applied: Counter[str] = Counter()
    for old, new in _RENAMED.items():
        for s, o in list(graph.subject_objects(old)):
            graph.remove((s, old, o))
            graph.add((s, new, _successor_value(old, o)))
            applied[f"{iri(old)} -> {iri(new)}"] += 1
    for s, o in list(graph.subject_objects(ADMS.status)):
        text = str(o)
        if (
            text.startswith("http://purl.org/adms/status/")
            and text.rsplit("/", 1)[-1] in _ADMS_STATUS
        ):
            code = _ADMS_STATUS[text.rsplit("/", 1)[-1]]
            graph.remove((s, ADMS.status, o))
            graph.add((s, ADMS.status, URIRef(f"{EU}distribution-status/{code}")))
            applied["adms:status ADMS list -> EU distribution-status"] += 1
    for s, o in list(graph.subject_objects(SPDX.algorithm)):
        text = str(o)
        if "dcat-ap.de/def/hashAlgorithms/" in text:
            key = text.split("hashAlgorithms/", 1)[1].split("#", 1)[-1].strip("/")
            if key in _HASH:
                graph.remove((s, SPDX.algorithm, o))
                graph.add((s, SPDX.algorithm, SPDX["checksumAlgorithm_" + _HASH[key]]))
                applied["dcat-ap.de hashAlgorithms -> SPDX checksum algorithms"] += 1
    return applied
