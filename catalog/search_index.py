"""What search knows of a record: its texts, its facet values, its time span; and keeping the
index tables in step with every write (in the same transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, insert, text
from sqlalchemy.orm import Session

from catalog import model
from catalog.namespaces import EU
from catalog.schema import ResourceFacet, ResourceRow
from catalog.text import stemmed_text

DCATDE_LICENCES = "http://dcat-ap.de/def/licenses/"
# facet names as CKAN clients know them
FACETS = (
    "organization",
    "groups",
    "tags",
    "res_format",
    "license_id",
    "political_geocoding_level",
    "frequency",
    "type",
)


# looked up by the API, never offered as a facet
INTERNAL_FACETS = ("resource_id",)


def resource_id(dataset_uri: str, dist: model.Distribution, position: int) -> str:
    """A stable CKAN resource id: derived from the distribution IRI (or its position)."""
    key = dist.uri or f"{dataset_uri}#distribution-{position}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def _code(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1]


def licence_id(iri: str) -> str:
    """dcat-ap.de licence IRIs as their short id (dl-by-de/2.0), others as they are."""
    return iri.removeprefix(DCATDE_LICENCES)


def format_code(dist: model.Distribution) -> str | None:
    if dist.format:
        return _code(dist.format).upper()
    if dist.media_type:
        return _code(dist.media_type).split("+")[-1].upper()
    return None


def facet_values(item: model.Resource, organization: str | None) -> set[tuple[str, str]]:
    # a series is a dataset too (CKAN clients filter on dataset_type:dataset)
    kind = model.kind_of(item)
    values: set[tuple[str, str]] = {("type", kind)} | (
        {("type", "dataset")} if kind == "series" else set()
    )
    if organization:
        values.add(("organization", organization))
    values.update(("groups", _code(t).lower()) for t in item.themes if t.startswith(EU))
    values.update(("tags", k.value.strip()) for k in item.keywords if k.value.strip())
    if item.license:
        values.add(("license_id", licence_id(item.license)))
    if isinstance(item, model.Dataset):
        for position, dist in enumerate(item.distributions):
            values.add(("resource_id", resource_id(item.uri or "", dist, position)))
            code = format_code(dist)
            if code:
                values.add(("res_format", code))
            if dist.license:
                values.add(("license_id", licence_id(dist.license)))
        if item.political_geocoding_level:
            values.add(("political_geocoding_level", _code(item.political_geocoding_level)))
        if item.accrual_periodicity:
            values.add(("frequency", _code(item.accrual_periodicity)))
    if isinstance(item, model.DataService):
        values.update(("res_format", _code(f).upper()) for f in item.formats)
    return {(facet, value[:500]) for facet, value in values}


def search_texts(item: model.Resource) -> tuple[str, str, str]:
    """(titles, keywords, everything else worth finding) in every language."""
    title = " ".join(item.title.values())
    keywords = " ".join(k.value for k in item.keywords)
    parts = list(item.description.values())
    if item.publisher:
        parts += item.publisher.name.values()
    parts += item.identifier
    if isinstance(item, model.Dataset):
        for dist in item.distributions:
            parts += dist.title.values()
            parts += dist.description.values()
        parts += item.geocoding_description.values()
    return title, keywords, " ".join(parts)


def temporal_span(item: model.Resource) -> tuple[str | None, str | None]:
    if not isinstance(item, model.Dataset) or not item.temporal:
        return None, None
    starts = [p.start for p in item.temporal if p.start]
    ends = [p.end for p in item.temporal if p.end]
    return (min(starts) if starts else None), (max(ends) if ends else None)


def fill_columns(row: ResourceRow, item: model.Resource) -> None:
    row.search_title, row.search_keywords, row.search_text = search_texts(item)
    row.temporal_start, row.temporal_end = temporal_span(item)


def write_index(session: Session, pairs: Sequence[tuple[ResourceRow, model.Resource]]) -> None:
    """Facet rows for every written record and, on SQLite, its stems in the FTS5 table.

    Called after a flush, so every row has its id.
    """
    ids = [row.id for row, _ in pairs]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        session.execute(delete(ResourceFacet).where(ResourceFacet.resource_id.in_(chunk)))
    facet_rows = [
        {"resource_id": row.id, "facet": facet, "value": value}
        for row, item in pairs
        for facet, value in facet_values(item, row.organization.name if row.organization else None)
    ]
    if facet_rows:
        session.execute(insert(ResourceFacet), facet_rows)
    if session.get_bind().dialect.name == "sqlite":
        write_fts(session, pairs)


def write_fts(session: Session, pairs: Iterable[tuple[ResourceRow, model.Resource]]) -> None:
    rows = [
        {
            "id": row.id,
            "title": stemmed_text(row.search_title),
            "keywords": stemmed_text(row.search_keywords),
            "body": stemmed_text(row.search_text),
        }
        for row, _ in pairs
    ]
    if not rows:
        return
    session.execute(
        text("DELETE FROM resources_fts WHERE rowid = :id"), [{"id": r["id"]} for r in rows]
    )
    session.execute(
        text(
            "INSERT INTO resources_fts (rowid, title, keywords, body) "
            "VALUES (:id, :title, :keywords, :body)"
        ),
        rows,
    )
