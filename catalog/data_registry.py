"""The data store's registry: what is known of each collection (``data_collections``), read
once per request by the OGC API."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from slugify import slugify
from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from catalog.data_tables import StoredColumn
from catalog.errors import CatalogError, NotFound
from catalog.schema import DataCollection, ResourceRow


@dataclass(frozen=True)
class CollectionInfo:
    """What the registry knows of one collection."""

    id: str
    title: str
    description: str
    kind: str
    table_name: str | None
    columns: list[StoredColumn]
    geometry_type: str | None
    source_crs: str | None
    feature_count: int
    bbox: tuple[float, float, float, float] | None
    time_column: str | None
    time_min: str | None
    time_max: str | None
    dataset_uri: str | None
    distribution_uri: str | None
    source: str
    format: str | None
    integer_ids: bool
    report_text: str  # parsed only when asked for: items requests never need it
    error_text: str | None
    loaded_at: dt.datetime | None
    updated_at: dt.datetime

    @property
    def has_geometry(self) -> bool:
        return self.kind == "features"

    @property
    def report(self) -> dict[str, Any]:
        return json.loads(self.report_text or "{}")

    @property
    def error(self) -> dict[str, Any] | None:
        return json.loads(self.error_text) if self.error_text else None

    @classmethod
    def from_row(cls, row: DataCollection) -> CollectionInfo:
        bbox = None
        if row.min_x is not None:
            bbox = (row.min_x, row.min_y, row.max_x, row.max_y)
        return cls(
            id=row.id,
            title=row.title,
            description=row.description,
            kind=row.kind,
            table_name=row.table_name,
            columns=[StoredColumn(**c) for c in json.loads(row.columns)],
            geometry_type=row.geometry_type,
            source_crs=row.source_crs,
            feature_count=row.feature_count,
            bbox=bbox,  # type: ignore[arg-type]
            time_column=row.time_column,
            time_min=row.time_min,
            time_max=row.time_max,
            dataset_uri=row.dataset_uri,
            distribution_uri=row.distribution_uri,
            source=row.source,
            format=row.format,
            integer_ids=row.integer_ids,
            report_text=row.report or "{}",
            error_text=row.error,
            loaded_at=row.loaded_at,
            updated_at=row.updated_at,
        )


class Registry:
    """Reads of the registry; :class:`catalog.data_store.DataStore` adds the writes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    # --- registry -----------------------------------------------------------------------

    def collections(self, *, served_only: bool = True) -> list[CollectionInfo]:
        stmt = select(DataCollection).order_by(DataCollection.id)
        if served_only:  # loaded, and not belonging to a withdrawn dataset
            stmt = (
                stmt.outerjoin(ResourceRow, ResourceRow.uri == DataCollection.dataset_uri)
                .where(DataCollection.table_name.is_not(None))
                .where(or_(ResourceRow.id.is_(None), ResourceRow.deleted.is_(False)))
            )
        with Session(self.engine) as session:
            return [CollectionInfo.from_row(r) for r in session.scalars(stmt)]

    def served_by_dataset(self) -> dict[str, list[tuple[str, str]]]:
        """Dataset IRI → (collection id, title) of its served collections (one small query)."""
        stmt = (
            select(DataCollection.dataset_uri, DataCollection.id, DataCollection.title)
            .where(DataCollection.table_name.is_not(None), DataCollection.dataset_uri.is_not(None))
            .order_by(DataCollection.id)
        )
        out: dict[str, list[tuple[str, str]]] = {}
        with self.engine.connect() as conn:
            for dataset_uri, cid, title in conn.execute(stmt):
                out.setdefault(dataset_uri, []).append((cid, title))
        return out

    def collection(self, collection_id: str) -> CollectionInfo:
        with Session(self.engine) as session:
            row = session.get(DataCollection, collection_id)
            if row is None:
                raise NotFound.one(
                    collection_id,
                    "not-found",
                    f"Sammlung '{collection_id}' gibt es nicht.",
                    f"No collection '{collection_id}'.",
                )
            return CollectionInfo.from_row(row)

    def generation(self) -> tuple[int, str]:
        """Changes whenever a collection is added, loaded, failed or removed."""
        with self.engine.connect() as conn:
            count, newest = conn.execute(
                select(func.count(), func.max(DataCollection.updated_at))
            ).one()
        return int(count), str(newest)


def check_collection_id(value: str) -> str:
    cleaned = slugify(value, max_length=100) if value else ""
    if not cleaned:
        raise CatalogError.one(
            "collection",
            "collection-id",
            f"'{value}' taugt nicht als Kennung einer Sammlung.",
            f"'{value}' cannot be a collection id.",
        )
    return cleaned
