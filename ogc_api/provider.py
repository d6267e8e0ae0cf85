"""pygeoapi feature provider over ODApp's data store (SQLite or PostGIS)."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context
from pygeoapi.provider.base import (
    BaseProvider,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
    ProviderQueryError,
)

from catalog.data_query import FeatureQuery
from catalog.errors import CatalogError, NotFound
from ogc_api.crs import transform_features
from ogc_api.registry import data_store_for

JSON_TYPES = {
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}


def fields_of(columns: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {c["name"]: dict(JSON_TYPES[c["type"]]) for c in columns}


def message(exc: CatalogError) -> str:
    return "; ".join(f"{p.where}: {p.en} / {p.de}" for p in exc.problems)


class StoreProvider(BaseProvider):
    """Cheap to build: everything it needs is in the provider definition, which the generated
    configuration fills from the registry; the database is asked only when queried."""

    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        self.collection_id = provider_def["data"]
        self.database = provider_def["database"]
        self._fields = fields_of(provider_def.get("columns", []))
        self.id_field = "id"

    def get_fields(self) -> dict[str, dict[str, str]]:
        return self._fields

    def query(  # noqa: PLR0913 - pygeoapi's provider interface
        self,
        offset: int = 0,
        limit: int = 10,
        resulttype: str = "results",
        bbox: list[float] | None = None,
        datetime_: str | None = None,
        properties: list[tuple[str, str]] | None = None,
        sortby: list[dict[str, str]] | None = None,
        select_properties: list[str] | None = None,
        skip_geometry: bool = False,
        q: str | None = None,
        filterq: Any = None,
        crs_transform_spec: Any = None,
        **_kwargs: Any,
    ) -> dict[str, Any]:
        query = FeatureQuery(
            offset=offset,
            limit=limit,
            bbox=bbox or None,
            datetime=datetime_,
            properties=properties or [],
            sortby=[(s["property"], s["order"] != "-") for s in sortby or []],
            select=select_properties or None,
            skip_geometry=skip_geometry,
            q=q,
            filter=filterq,
            hits_only=resulttype == "hits",
            # pygeoapi hands over the envelope of a bbox in another CRS; the blueprint keeps
            # the area itself
            area=g.get("odapp_bbox_area") if has_request_context() else None,
        )
        try:
            page = data_store_for(self.database).query(self.collection_id, query)
        except NotFound as exc:
            raise ProviderItemNotFoundError(user_msg=message(exc)) from None
        except CatalogError as exc:
            raise ProviderInvalidQueryError(user_msg=message(exc)) from None
        if crs_transform_spec is not None:
            transform_features(page.features, crs_transform_spec.target_crs_uri)
        result: dict[str, Any] = {"type": "FeatureCollection", "features": page.features}
        if page.number_matched is not None:
            result["numberMatched"] = page.number_matched
        result["numberReturned"] = len(page.features)
        return result

    def get(self, identifier: str, crs_transform_spec: Any = None, **_kwargs: Any) -> dict:
        try:
            feature = data_store_for(self.database).feature(self.collection_id, identifier)
        except CatalogError as exc:
            raise ProviderQueryError(user_msg=message(exc)) from None
        if feature is None:
            raise ProviderItemNotFoundError(user_msg=f"no feature {identifier!r}")
        if crs_transform_spec is not None:
            transform_features([feature], crs_transform_spec.target_crs_uri)
        return feature
