"""CKAN package, resource, organisation and group dicts for DCAT-AP.de records, and back.

The mapping follows ckanext-dcat and ckanext-dcatde: core CKAN fields where CKAN has them,
DCAT-AP.de properties as extras (``contributorID``, ``politicalGeocodingLevelURI`` …), and the
dataset IRI as the ``uri`` extra.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from catalog import model
from catalog.errors import ValidationError, problem
from catalog.namespaces import EU
from catalog.search_index import format_code, licence_id, resource_id
from catalog.store import StoredResource
from catalog.vocabularies import FILE_TYPES, LICENCES, THEMES, by_code, concepts

IANA = "https://www.iana.org/assignments/media-types/"
DCATDE_LICENCES = "http://dcat-ap.de/def/licenses/"

# extras whose value is a JSON list of IRIs, as ckanext-dcatde writes them
LIST_EXTRAS = {
    "contributorID": "contributor_ids",
    "politicalGeocodingURI": "political_geocoding",
    "theme": "themes",
    "language": "languages",
    "conforms_to": "conforms_to",
    "documentation": "pages",
    "source": "sources",
    "related_resource": "relations",
    "applicable_legislation": "applicable_legislation",
}
SINGLE_EXTRAS = {
    "politicalGeocodingLevelURI": "political_geocoding_level",
    "frequency": "accrual_periodicity",
    "access_rights": "access_rights",
    "availability": "availability",
    "issued": "issued",
    "modified": "modified",
    "dcat_type": "type",
}


def _text(value: dict[str, str], lang: str = "de") -> str:
    return model.preferred_text(value, lang)


def organization_dict(
    name: str, title: str, uri: str | None, count: int | None = None, agent: dict | None = None
) -> dict[str, Any]:  # type: ignore[type-arg]
    out: dict[str, Any] = {
        "id": name,
        "name": name,
        "title": title,
        "display_name": title,
        "description": "",
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "uri": uri,
    }
    if agent:
        out["email"] = (agent.get("email") or "").removeprefix("mailto:")
        out["homepage"] = agent.get("homepage") or ""
    if count is not None:
        out["package_count"] = count
    return out


def group_dict(code: str, lang: str = "de", count: int | None = None) -> dict[str, Any]:
    concept = by_code(THEMES).get(code.lower())
    title = concept.label(lang) if concept else code
    out: dict[str, Any] = {
        "id": code.lower(),
        "name": code.lower(),
        "title": title,
        "display_name": title,
        "description": "",
        "type": "group",
        "is_organization": False,
        "state": "active",
        "image_url": "",
        "uri": concept.iri if concept else None,
    }
    if count is not None:
        out["package_count"] = count
    return out


def resource_dict(
    stored: StoredResource, dist: model.Distribution, position: int
) -> dict[str, Any]:
    url = (dist.download_urls or dist.access_urls or [""])[0]
    return {
        "id": resource_id(stored.uri, dist, position),
        "package_id": stored.uuid,
        "position": position,
        "state": "active",
        "name": _text(dist.title),
        "description": _text(dist.description),
        "url": url,
        "access_url": (dist.access_urls or [None])[0],
        "download_url": (dist.download_urls or [None])[0],
        "format": format_code(dist) or "",
        "mimetype": (dist.media_type or "").removeprefix(IANA) or None,
        "size": dist.byte_size,
        "license": dist.license,
        "licenseAttributionByText": dist.license_attribution,
        "created": dist.issued,
        "last_modified": dist.modified,
        "uri": dist.uri,
        "hash": dist.checksum.value if dist.checksum else "",
        "url_type": None,
    }


def package_dict(
    stored: StoredResource, org: dict[str, Any] | None, lang: str = "de"
) -> dict[str, Any]:
    record = stored.record
    dataset = record if isinstance(record, model.Dataset) else None
    dists = dataset.distributions if dataset else []
    licence = record.license or next((d.license for d in dists if d.license), None)
    licence_concept = concepts(LICENCES).get(licence or "")
    contact = record.contact_points[0] if record.contact_points else None
    # dcat_type is dct:type as ckanext-dcat writes it; the kind of record has its own extra
    extras: dict[str, Any] = {"uri": stored.uri, "odapp_kind": stored.kind}
    for key, attr in LIST_EXTRAS.items():
        values = getattr(record, attr, None)
        if values:
            extras[key] = json.dumps(values)
    for key, attr in SINGLE_EXTRAS.items():
        value = getattr(record, attr, None)
        if value:
            extras[key] = value
    if record.identifier:
        extras["identifier"] = record.identifier[0]
    if dataset and dataset.temporal:
        extras["temporal_start"] = dataset.temporal[0].start or ""
        extras["temporal_end"] = dataset.temporal[0].end or ""
    if stored.bbox:
        x0, y0, x1, y1 = stored.bbox
        extras["spatial_bbox"] = json.dumps([x0, y0, x1, y1])
    if dataset and dataset.in_series:
        extras["in_series"] = json.dumps(dataset.in_series)
    if isinstance(record, model.DataService):
        extras["endpoint_url"] = json.dumps(record.endpoint_urls)
    keywords = sorted(
        {
            k.value
            for k in record.keywords
            if not k.lang or k.lang.startswith(lang[:2]) or lang == "de"
        }
    )
    themes = [
        t.removeprefix(f"{EU}data-theme/").lower()
        for t in record.themes
        if t.startswith(f"{EU}data-theme/")
    ]
    return {
        "id": stored.uuid,
        "name": stored.name,
        "title": _text(record.title, lang),
        "notes": _text(record.description, lang),
        "title_translated": dict(record.title),
        "notes_translated": dict(record.description),
        "type": "dataset",
        "state": "active",
        "private": False,
        "url": (record.landing_pages or [""])[0],
        "version": dataset.version if dataset else None,
        "license_id": licence_id(licence) if licence else "",
        "license_title": licence_concept.label(lang) if licence_concept else (licence or ""),
        "license_url": licence or "",
        "isopen": bool(licence and licence.startswith(DCATDE_LICENCES) and "closed" not in licence),
        "author": _text(dataset.creators[0].name) if dataset and dataset.creators else None,
        "author_email": None,
        "maintainer": _text(contact.fn) if contact else None,
        "maintainer_email": (contact.email or "").removeprefix("mailto:") or None
        if contact
        else None,
        "metadata_created": _iso(stored.created_at),
        "metadata_modified": _iso(stored.updated_at),
        "owner_org": org["id"] if org else None,
        "organization": org,
        "tags": [
            {"name": k, "display_name": k, "state": "active", "vocabulary_id": None}
            for k in keywords
        ],
        "num_tags": len(keywords),
        "groups": [group_dict(code, lang) for code in themes],
        "resources": [resource_dict(stored, d, i) for i, d in enumerate(dists)],
        "num_resources": len(dists),
        "extras": [{"key": k, "value": v} for k, v in sorted(extras.items())],
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    return text.replace("+00:00", "")


# --- CKAN dict -> record ------------------------------------------------------------------


def _problem(field: str, de: str, en: str) -> ValidationError:
    return ValidationError([problem(field, "Validation Error", de, en)])


def record_from_package(
    data: dict[str, Any],
    *,
    base: model.Dataset | None,
    publisher: model.Agent | None,
    base_url: str,
) -> model.Dataset:
    """Apply a CKAN package dict to a record (a copy of ``base``, or a new one).

    Fields the dict does not name keep their value, so DCAT-AP.de properties that CKAN has no
    field for survive a package_update from a client that only knows CKAN.
    """
    record = replace(base) if base is not None else model.Dataset()
    name = data.get("name") or (base.identifier[0] if base and base.identifier else None)
    if not name:
        raise _problem("name", "Name fehlt", "Missing value: name")
    extras = _extras(data.get("extras"))
    if base is None:
        record.uri = extras.get("uri") or f"{base_url}/dataset/{name}"
        record.identifier = [name]
    if "title" in data:
        record.title = _translated(data, "title", record.title)
    if "notes" in data:
        record.description = _translated(data, "notes", record.description)
    if publisher is not None:
        record.publisher = publisher
    if "tags" in data:
        record.keywords = sorted({model.LangStr(_tag_name(t), "de") for t in data["tags"] or []})
    if "groups" in data:
        record.themes = sorted({_theme(g) for g in data["groups"] or []})
    if "url" in data:
        record.landing_pages = [data["url"]] if data["url"] else []
    if "version" in data:
        record.version = data["version"] or None
    if "maintainer_email" in data or "maintainer" in data:
        email = data.get("maintainer_email")
        fn = data.get("maintainer")
        record.contact_points = (
            [
                model.ContactPoint(
                    fn={"de": fn} if fn else {}, email=f"mailto:{email}" if email else None
                )
            ]
            if email or fn
            else []
        )
    for key, attr in LIST_EXTRAS.items():
        if key in extras:
            setattr(record, attr, _json_list(key, extras[key]))
    for key, attr in SINGLE_EXTRAS.items():
        if key == "dcat_type" and "://" not in str(extras.get(key, "://")):
            continue  # older ODApp wrote the kind of record here, not dct:type
        if key in extras:
            setattr(record, attr, extras[key] or None)
    licence = _licence(data.get("license_id")) if "license_id" in data else None
    # a new resource without its own licence takes the dataset's (CKAN keeps one per dataset)
    inherited = (
        licence
        or record.license
        or next((d.license for d in record.distributions if d.license), None)
    )
    if "resources" in data:
        old = {resource_id(record.uri or "", d, i): d for i, d in enumerate(record.distributions)}
        record.distributions = [
            distribution_from_resource(
                r,
                old.get(r.get("id", "")),
                licence or (None if r.get("id") in old else inherited),
                i,
            )
            for i, r in enumerate(data["resources"] or [])
        ]
    elif licence:
        record.distributions = [replace(d, license=licence) for d in record.distributions]
    return record


def distribution_from_resource(
    res: dict[str, Any], base: model.Distribution | None, licence: str | None, position: int
) -> model.Distribution:
    dist = replace(base) if base is not None else model.Distribution()
    url = res.get("url") or res.get("access_url")
    if "url" in res or "access_url" in res or base is None:
        if not url:
            raise _problem(f"resources[{position}].url", "URL fehlt", "Missing value: url")
        dist.access_urls = [res.get("access_url") or url]
        dist.download_urls = [res.get("download_url") or url]
    if "name" in res:
        dist.title = {"de": res["name"]} if res["name"] else {}
    if "description" in res:
        dist.description = {"de": res["description"]} if res["description"] else {}
    if "format" in res:
        concept = by_code(FILE_TYPES).get((res["format"] or "").lower().lstrip("."))
        dist.format = concept.iri if concept else None
    if "mimetype" in res:
        dist.media_type = f"{IANA}{res['mimetype']}" if res["mimetype"] else None
    if "size" in res:
        size = res["size"]
        if size not in (None, ""):
            try:
                dist.byte_size = int(size)
            except (TypeError, ValueError):
                raise _problem(
                    f"resources[{position}].size",
                    "Größe muss eine ganze Zahl sein",
                    "size must be an integer",
                ) from None
        else:
            dist.byte_size = None
    if "license" in res and res["license"]:
        dist.license = _licence(res["license"])
    elif licence:
        dist.license = licence
    if "licenseAttributionByText" in res:
        dist.license_attribution = res["licenseAttributionByText"] or None
    if "uri" in res and res["uri"]:
        dist.uri = res["uri"]
    return dist


def _translated(data: dict[str, Any], key: str, old: dict[str, str]) -> dict[str, str]:
    translated = data.get(f"{key}_translated")
    if isinstance(translated, dict) and translated:
        return {k: v for k, v in translated.items() if v}
    value = data.get(key) or ""
    out = {k: v for k, v in old.items() if k not in ("de", "")}
    if value:
        out["de"] = value
    return out


def _extras(extras: Any) -> dict[str, str]:
    if extras in (None, ""):
        return {}
    if not isinstance(extras, list):
        raise _problem("extras", "extras muss eine Liste sein", "extras must be a list")
    out = {}
    for i, item in enumerate(extras):
        if not isinstance(item, dict) or "key" not in item:
            raise _problem(
                f"extras[{i}]", "Eintrag braucht key und value", "item needs key and value"
            )
        out[str(item["key"])] = item.get("value")
    return out


def _json_list(key: str, value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        parsed = json.loads(value) if value else []
    except ValueError:
        return [value]
    return [str(v) for v in parsed] if isinstance(parsed, list) else [str(parsed)]


def _tag_name(tag: Any) -> str:
    name = tag.get("name") if isinstance(tag, dict) else tag
    if not isinstance(name, str) or not name.strip():
        raise _problem("tags", "Schlagwort ohne Namen", "tag without a name")
    return name.strip()


def _theme(group: Any) -> str:
    name = group.get("name") if isinstance(group, dict) else group
    concept = by_code(THEMES).get(str(name).lower())
    if concept is None:
        raise _problem(
            "groups",
            f"Unbekannte Kategorie {name!r} (EU-Datenthemen)",
            f"unknown group {name!r} (EU data themes)",
        )
    return concept.iri


def _licence(value: str | None) -> str | None:
    if not value:
        return None
    if value.startswith(("http://", "https://")):
        return value
    concept = by_code(LICENCES).get(value.lower())
    if concept is None:
        raise _problem(
            "license_id",
            f"Unbekannte Lizenz {value!r} (Liste dcat-ap.de)",
            f"unknown license_id {value!r} (dcat-ap.de list)",
        )
    return concept.iri
