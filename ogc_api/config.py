"""The pygeoapi configuration, generated from the catalogue and the data store's registry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from catalog import model
from catalog.data_registry import CollectionInfo
from ogc_api.crs import CRS84, SUPPORTED

FEATURE_PROVIDER = "ogc_api.provider.StoreProvider"
RECORD_PROVIDER = "ogc_api.records.CatalogRecordsProvider"
DRESDEN_BBOX = [13.579, 50.974, 13.966, 51.178]
MAX_ITEMS = 10_000


def build_config(
    *,
    base_url: str,
    database_url: str,
    catalog: model.Catalog | None,
    collections: list[CollectionInfo],
) -> dict[str, Any]:
    ogc_url = f"{base_url.rstrip('/')}/ogc"
    title = model.preferred_text(catalog.title) if catalog else "ODApp"
    resources: dict[str, Any] = {
        "catalog": _records_resource(ogc_url, database_url, catalog),
    }
    for info in collections:
        resources[info.id] = _feature_resource(info, database_url, base_url)
    publisher = catalog.publisher if catalog else None
    return {
        "server": {
            "bind": {"host": "127.0.0.1", "port": 0},
            "url": ogc_url,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "gzip": False,
            "languages": ["de", "en"],
            "pretty_print": False,
            "limits": {"default_items": 10, "max_items": MAX_ITEMS, "on_exceed": "throttle"},
            "map": {
                "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "attribution": "&copy; OpenStreetMap-Mitwirkende",
            },
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": {"de": title, "en": title},
                "description": {
                    "de": "Geodaten und Tabellen des Katalogs als OGC API Features, der "
                    "Katalog selbst als OGC API Records.",
                    "en": "The catalogue's geodata and tables as OGC API Features, the "
                    "catalogue itself as OGC API Records.",
                },
                "keywords": {"de": ["Open Data", "Geodaten"], "en": ["open data", "geodata"]},
                "keywords_type": "theme",
                "terms_of_service": f"{base_url}/catalog.ttl",
                "url": base_url,
            },
            "license": {
                # licences differ by dataset (some demo data has none): each record says its own
                "name": "Lizenz je Datensatz, siehe Katalogeintrag / licence per dataset",
                "url": f"{base_url}/catalog.ttl",
            },
            "provider": {
                "name": model.preferred_text(publisher.name) if publisher else "ODApp",
                "url": base_url,
            },
            "contact": {
                "name": model.preferred_text(publisher.name) if publisher else "ODApp",
                "url": base_url,
                "role": "pointOfContact",
            },
        },
        "resources": resources,
    }


def _feature_resource(info: CollectionInfo, database_url: str, base_url: str) -> dict[str, Any]:
    bbox = list(info.bbox) if info.bbox else DRESDEN_BBOX
    extents: dict[str, Any] = {"spatial": {"bbox": bbox, "crs": CRS84}}
    if info.time_min:
        # pygeoapi compares datetime= with these and wants datetimes, not strings
        extents["temporal"] = {
            "begin": _instant(info.time_min),
            "end": _instant(info.time_max, end=True) if info.time_max else None,
        }
    links = []
    if info.dataset_uri:
        links.append(
            {
                "type": "text/html",
                "rel": "describedby",
                "title": "Datensatz im Katalog (DCAT-AP.de)",
                "href": info.dataset_uri,
                "hreflang": "de",
            }
        )
    keywords = ["Open Data", "Dresden"]
    description = info.description or info.title
    provider: dict[str, Any] = {
        "type": "feature",
        "name": FEATURE_PROVIDER,
        "data": info.id,
        "database": database_url,
        "columns": [c.to_dict() for c in info.columns],
        "id_field": "id",
        "crs": list(SUPPORTED),
        "storage_crs": CRS84,
    }
    if info.time_column:
        provider["time_field"] = info.time_column
    return {
        "type": "collection",
        "title": info.title,
        "description": description,
        "keywords": keywords,
        "links": links,
        "extents": extents,
        "providers": [provider],
        "limits": {"default_items": 10, "max_items": MAX_ITEMS, "on_exceed": "throttle"},
    }


def _instant(value: str, *, end: bool = False) -> dt.datetime:
    """A stored extent (a date or a date-time) as a UTC datetime; a date ends at its last
    second."""
    if len(value) == 10:
        day = dt.date.fromisoformat(value)
        clock = dt.time(23, 59, 59) if end else dt.time(0, 0)
        return dt.datetime.combine(day, clock, tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _records_resource(
    ogc_url: str, database_url: str, catalog: model.Catalog | None
) -> dict[str, Any]:
    title = model.preferred_text(catalog.title) if catalog else "Katalog"
    return {
        "type": "collection",
        "title": {"de": f"{title}: Datensätze", "en": f"{title}: datasets"},
        "description": {
            "de": "Alle Datensätze und Dienste des Katalogs als OGC API Records (Suche mit q, "
            "bbox, datetime, keywords).",
            "en": "Every dataset and service of the catalogue as OGC API Records (search with q, "
            "bbox, datetime, keywords).",
        },
        "keywords": ["Katalog", "Metadaten", "DCAT-AP.de"],
        "links": [],
        "extents": {"spatial": {"bbox": DRESDEN_BBOX, "crs": CRS84}},
        "providers": [
            {
                "type": "record",
                "name": RECORD_PROVIDER,
                "data": "catalog",
                "database": database_url,
                "ogc_url": ogc_url,
                "id_field": "id",
                "time_field": "updated",
                "title_field": "title",
            }
        ],
    }
