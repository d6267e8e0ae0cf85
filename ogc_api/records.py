"""The catalogue as an OGC API Records collection (``catalog``): a pygeoapi record provider over
ODApp's search, each record linking to its DCAT-AP.de documents and its Features collections."""

from __future__ import annotations

from typing import Any

import shapely
from pygeoapi.provider.base import (
    BaseProvider,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
)

from catalog import model
from catalog.data_loading import OGC_FEATURES
from catalog.errors import CatalogError, NotFound
from catalog.search import SearchQuery, SearchService
from catalog.store import StoredResource
from ogc_api.provider import message
from ogc_api.registry import data_store_for, store_for

FIELDS = {
    "title": {"type": "string"},
    "description": {"type": "string"},
    "keywords": {"type": "string"},
    "themes": {"type": "string"},
    "type": {"type": "string"},
    "publisher": {"type": "string"},
    "license": {"type": "string"},
    "created": {"type": "string", "format": "date"},
    "updated": {"type": "string", "format": "date"},
}
# property filters → search facets
FACET_OF = {"keywords": "tags", "publisher": "organization", "license": "license_id"}
SORT_OF = {"title": "title", "updated": "modified"}
KIND_OF = {"dataset": "dataset", "series": "series", "service": "service"}


class CatalogRecordsProvider(BaseProvider):
    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        self.database = provider_def["database"]
        self.ogc_url = provider_def["ogc_url"]
        self._fields = dict(FIELDS)
        self.id_field = "id"
        self.title_field = "title"

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
        q: str | None = None,
        filterq: Any = None,
        **_kwargs: Any,
    ) -> dict[str, Any]:
        if filterq is not None:
            raise ProviderInvalidQueryError(
                user_msg="CQL2 filters are not supported on the catalogue records; use q, bbox, "
                "datetime or keywords / Filter werden hier nicht unterstützt"
            )
        search = SearchQuery(q=q or "", offset=offset, limit=limit)
        for name, value in properties or []:
            if name in FACET_OF:
                search.filters.setdefault(FACET_OF[name], []).extend(value.split(","))
            elif name == "type" and value in KIND_OF:
                search.kinds = (KIND_OF[value],)
            else:
                raise ProviderInvalidQueryError(user_msg=f"cannot filter by {name!r}")
        if bbox:
            search.bbox = (bbox[0], bbox[1], bbox[-2], bbox[-1]) if len(bbox) in (4, 6) else None
        if datetime_:
            start, _, end = datetime_.partition("/")
            end = end if _ else start
            search.temporal = (
                None if start in ("", "..") else start[:10],
                None if end in ("", "..") else end[:10],
            )
        if sortby:
            first = sortby[0]
            if first["property"] not in SORT_OF:
                raise ProviderInvalidQueryError(user_msg=f"cannot sort by {first['property']!r}")
            search.sort = SORT_OF[first["property"]]
            search.descending = first["order"] == "-"
        elif not q:
            search.sort = "name"
        store = store_for(self.database)
        try:
            result = SearchService(store).search(search)
        except CatalogError as exc:
            raise ProviderInvalidQueryError(user_msg=message(exc)) from None
        features = []
        if resulttype != "hits":
            collections = data_store_for(self.database).served_by_dataset()
            features = [self._record(r, collections) for r in result.results]
        return {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": result.count,
            "numberReturned": len(features),
        }

    def get(self, identifier: str, **_kwargs: Any) -> dict[str, Any]:
        try:
            stored = store_for(self.database).get(identifier)
        except NotFound:
            raise ProviderItemNotFoundError(user_msg=f"no record {identifier!r}") from None
        return self._record(stored, data_store_for(self.database).served_by_dataset())

    def _record(
        self, stored: StoredResource, collections: dict[str, list[tuple[str, str]]]
    ) -> dict[str, Any]:
        record = stored.record
        base = store_for(self.database).base_url
        page = f"{base}/dataset/{stored.name}"
        links = [
            {
                "href": f"{page}.ttl",
                "rel": "describedby",
                "type": "text/turtle",
                "title": "DCAT-AP.de (Turtle)",
            },
            {
                "href": f"{page}.rdf",
                "rel": "describedby",
                "type": "application/rdf+xml",
                "title": "DCAT-AP.de (RDF/XML)",
            },
            {
                "href": f"{page}.jsonld",
                "rel": "describedby",
                "type": "application/ld+json",
                "title": "DCAT-AP.de (JSON-LD)",
            },
        ]
        for cid, title in collections.get(stored.uri, []):
            links.append(
                {
                    "href": f"{self.ogc_url}/collections/{cid}",
                    "rel": "item",
                    "type": "application/json",
                    "title": f"OGC API Features: {title}",
                }
            )
        for dist in getattr(record, "distributions", []):
            if OGC_FEATURES in dist.conforms_to:
                continue  # already linked above as its collection
            for url in dist.download_urls or dist.access_urls:
                links.append(
                    {
                        "href": url,
                        "rel": "enclosure",
                        "type": _media_type(dist.media_type),
                        "title": model.preferred_text(dist.title) or url.rsplit("/", 1)[-1],
                    }
                )
        kind = stored.kind
        props: dict[str, Any] = {
            "type": kind,
            "title": stored.title,
            "description": model.preferred_text(record.description),
            "keywords": [k.value for k in record.keywords],
            "themes": [
                {"concepts": [{"id": t.rsplit("/", 1)[-1]}], "scheme": t.rsplit("/", 1)[0]}
                for t in record.themes
            ],
            "language": {"code": "de"},
            "created": record.issued,
            "updated": record.modified,
            "license": record.license,
            "publisher": model.preferred_text(record.publisher.name) if record.publisher else None,
            "formats": sorted(
                {
                    d.format.rsplit("/", 1)[-1]
                    for d in getattr(record, "distributions", [])
                    if d.format
                }
            ),
        }
        geometry = None
        if stored.bbox:
            geometry = shapely.geometry.mapping(shapely.box(*stored.bbox))
        time = None
        temporal = getattr(record, "temporal", [])
        if temporal:
            time = {"interval": [temporal[0].start or "..", temporal[0].end or ".."]}
        props = {k: v for k, v in props.items() if v not in (None, [], "")}
        return {
            "id": stored.name,
            "type": "Feature",
            "conformsTo": ["http://www.opengis.net/spec/ogcapi-records-1/1.0/req/record-core"],
            "geometry": geometry,
            "time": time,
            "properties": props,
            "links": links,
        }


def _media_type(iri: str | None) -> str:
    """``https://www.iana.org/assignments/media-types/text/csv`` → ``text/csv``."""
    if not iri:
        return "application/octet-stream"
    return "/".join(iri.rstrip("/").rsplit("/", 2)[-2:])
