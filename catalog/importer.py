"""Importing RDF documents (files or URLs) into the store: parse safely, map DCAT-AP.de 2.0 to
3.0, read the records, validate them all, and store all of them or none."""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.dcatde_upgrade import upgrade_graph
from catalog.errors import InputError, Problem, problem
from catalog.rdf_io import DEFAULT_MAX_BYTES, Document, parse, read_path, read_url
from catalog.rdf_mapping import read_graph
from catalog.store import Store


@dataclass
class ImportReport:
    source: str
    format: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    upgraded: dict[str, int] = field(default_factory=dict)
    unattached_triples: int = 0
    catalog_updated: bool = False
    incomplete: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"{self.source} ({self.format}): {len(self.created)} new, {len(self.updated)} updated",
        ]
        lines += [f"  mapped DCAT-AP.de 2.0 -> 3.0: {k} ({n}x)" for k, n in self.upgraded.items()]
        if self.unattached_triples:
            lines.append(
                f"  {self.unattached_triples} triples belonged to no dataset and were not kept"
            )
        lines += [f"  incomplete (kept): {p}" for p in self.incomplete]
        return "\n".join(lines)


def load_document(
    source: str, *, fmt: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Document:
    if source.startswith(("http://", "https://")):
        return read_url(source, fmt=fmt, max_bytes=max_bytes)
    return read_path(source, fmt=fmt, max_bytes=max_bytes)


def import_document(
    store: Store, doc: Document, *, with_catalog: bool = False, strict: bool = True
) -> ImportReport:
    graph = parse(doc)
    upgraded = upgrade_graph(graph)
    parsed = read_graph(graph)
    if not parsed.resources:
        raise InputError(
            [
                problem(
                    doc.source,
                    "no-datasets",
                    "Das Dokument enthält keinen dcat:Dataset, dcat:DatasetSeries "
                    "oder dcat:DataService",
                    "the document holds no dcat:Dataset, dcat:DatasetSeries or dcat:DataService",
                )
            ]
        )
    result = store.save(
        parsed.resources, catalog=parsed.catalog if with_catalog else None, strict=strict
    )
    return ImportReport(
        doc.source,
        doc.format,
        result.created,
        result.updated,
        dict(upgraded),
        parsed.unattached_triples,
        with_catalog and parsed.catalog is not None,
        result.incomplete,
    )
