"""CKAN package dicts of another portal -> DCAT-AP.de records, for the ``ckan`` source type.

Core CKAN fields, the extras of ckanext-dcat (``uri``, ``identifier``, ``publisher_*``,
``contact_*``, ``spatial``, ``temporal_start`` ...) and ckanext-dcatde (``contributorID``,
``politicalGeocodingURI``, ``licenseAttributionByText`` ...) and ODApp's own extras. The common
part is :func:`catalog.ckan_dicts.record_from_package` (what ODApp's package_create uses); this
module first cleans the dict the way a harvest needs it — values another portal writes in forms
package_create would refuse (licence ids of other lists, free-text formats, group names that
are no EU data theme, codes where an IRI belongs) are translated where a translation is known
and otherwise left out with a note — and then adds what package_create has no field for.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from typing import Any
from urllib.parse import urljoin

from rdflib import URIRef

from catalog import model
from catalog.ckan_dicts import LIST_EXTRAS, SINGLE_EXTRAS, record_from_package
from catalog.errors import CatalogError
from catalog.namespaces import EU
from catalog.vocabularies import FILE_TYPES, LICENCES, THEMES, by_code

DCATDE_LICENCES = "http://dcat-ap.de/def/licenses/"
FREQUENCIES = URIRef(f"{EU}frequency")
GEOCODING_LEVEL = "http://dcat-ap.de/def/politicalGeocoding/Level/"
SPDX_CHECKSUM = "http://spdx.org/rdf/terms#checksumAlgorithm_"

# Licence ids as CKAN portals write them (CKAN's defaults, the Open Government Data ids GovData
# used before DCAT-AP.de, SPDX-like spellings) -> code of the dcat-ap.de licence list.
LICENCE_ALIASES = {
    "cc-by-4.0": "cc-by/4.0",
    "cc-by-3.0": "cc-by-de/3.0",
    "cc-by-de-3.0": "cc-by-de/3.0",
    "cc-by-sa-4.0": "cc-by-sa/4.0",
    "cc-by-sa-3.0": "cc-by-sa-de/3.0",
    "cc-by-nc-4.0": "cc-by-nc/4.0",
    "cc-nc": "cc-by-nc",
    "cc-nc-3.0": "cc-by-nc-de/3.0",
    "cc-by-nd-3.0": "cc-by-nd/3.0",
    "cc-by-nd-4.0": "cc-by-nd/4.0",
    "cc0": "cc-zero",
    "cc0-1.0": "cc-zero",
    "cc-zero-1.0": "cc-zero",
    "cc-pdm-1.0": "ccpdm/1.0",
    "dl-de-by-1.0": "dl-by-de/1.0",
    "dl-de-by-2.0": "dl-by-de/2.0",
    "dl-de/by-2-0": "dl-by-de/2.0",
    "dl-by-de-2.0": "dl-by-de/2.0",
    "dl-de-by-nc-1.0": "dl-by-nc-de/1.0",
    "dl-de-zero-2.0": "dl-zero-de/2.0",
    "dl-de/zero-2-0": "dl-zero-de/2.0",
    "dl-zero-de-2.0": "dl-zero-de/2.0",
    "geonutzv-de-2013-03-19": "geonutz/20130319",
    "geonutz-be-2013-10-01": "geonutz/20131001",
    "gpl-3.0": "gpl/3.0",
    "odc-odbl": "odbl",
    "odbl-1.0": "odbl",
    "odc-by": "odby",
    "odc-pddl": "odcpddl",
    "official-work": "officialwork",
    "app_commercial": "other-commercial",
    "app_freeware": "other-freeware",
    "app_opensource": "other-opensource",
    "bsd-license": "bsd",
    "bsdlicense": "bsd",
    "mpl": "mozilla",
    "other-pd": "other-open",
    "other-at": "other-open",
    "uk-ogl": "other-open",
}
# Licence documents (license_url) -> code of the dcat-ap.de list
LICENCE_URLS = {
    "govdata.de/dl-de/by-2-0": "dl-by-de/2.0",
    "govdata.de/dl-de/zero-2-0": "dl-zero-de/2.0",
    "govdata.de/dl-de/by-1-0": "dl-by-de/1.0",
    "creativecommons.org/licenses/by/4.0": "cc-by/4.0",
    "creativecommons.org/licenses/by-sa/4.0": "cc-by-sa/4.0",
    "creativecommons.org/licenses/by-nc/4.0": "cc-by-nc/4.0",
    "creativecommons.org/licenses/by-nd/4.0": "cc-by-nd/4.0",
    "creativecommons.org/publicdomain/zero/1.0": "cc-zero",
    "creativecommons.org/publicdomain/mark/1.0": "ccpdm/1.0",
    "opendatacommons.org/licenses/odbl": "odbl",
    "opendatacommons.org/licenses/by": "odby",
    "opendatacommons.org/licenses/pddl": "odcpddl",
}
# Free-text formats -> code of the EU file-type list (codes of the list itself match directly)
FORMAT_ALIASES = {
    "wms": "WMS_SRVC",
    "wfs": "WFS_SRVC",
    "wcs": "WCS_SRVC",
    "wmts": "WMTS_SRVC",
    "shape": "SHP",
    "shapefile": "SHP",
    "esri shapefile": "SHP",
    "esri-shapefile": "SHP",
    "jpg": "JPEG",
    "tif": "TIFF",
    "htm": "HTML",
    "text": "TXT",
    "plain": "TXT",
    "gz": "GZIP",
    "tar.gz": "TAR_GZ",
    "tgz": "TAR_GZ",
    "ttl": "RDF_TURTLE",
    "turtle": "RDF_TURTLE",
    "rdf/xml": "RDF_XML",
    "rdf+xml": "RDF_XML",
    "nt": "RDF_N_TRIPLES",
    "n-triples": "RDF_N_TRIPLES",
    "json-ld": "JSON_LD",
    "jsonld": "JSON_LD",
    "geo+json": "GEOJSON",
    "excel": "XLS",
    "api": "REST",
    "sparql": "SPARQLQ",
    "geopackage": "GPKG",
    "netcdf": "NETCDF",
}
# formats whose URL is a service to call, not a file to download
SERVICE_FORMATS = {"WMS_SRVC", "WFS_SRVC", "WCS_SRVC", "WMTS_SRVC", "MAP_SRVC", "REST", "SPARQLQ"}
FREQUENCY_WORDS = {
    "annually": "ANNUAL",
    "yearly": "ANNUAL",
    "jährlich": "ANNUAL",
    "monatlich": "MONTHLY",
    "wöchentlich": "WEEKLY",
    "täglich": "DAILY",
    "quartalsweise": "QUARTERLY",
    "irregular": "IRREG",
    "unregelmäßig": "IRREG",
    "continuous": "CONT",
    "continual": "CONT",
}
# old GovData (OGD) categories -> EU data theme codes
CATEGORY_THEMES = {
    "bevoelkerung": ["SOCI"],
    "bildung_wissenschaft": ["EDUC", "TECH"],
    "gesetze_justiz": ["JUST"],
    "gesundheit": ["HEAL"],
    "kultur_freizeit_sport_tourismus": ["EDUC"],
    "politik_wahlen": ["GOVE"],
    "soziales": ["SOCI"],
    "transport_verkehr": ["TRAN"],
    "umwelt_klima": ["ENVI"],
    "verwaltung": ["GOVE"],
    "wirtschaft_arbeit": ["ECON"],
}
LANGUAGES_2 = {
    "de": "DEU",
    "en": "ENG",
    "fr": "FRA",
    "es": "SPA",
    "it": "ITA",
    "nl": "NLD",
    "pl": "POL",
    "cs": "CES",
    "da": "DAN",
    "sv": "SWE",
    "fi": "FIN",
    "hu": "HUN",
    "pt": "POR",
    "ru": "RUS",
    "tr": "TUR",
    "uk": "UKR",
    "ar": "ARA",
    "sorb": "HSB",
    "hsb": "HSB",
    "dsb": "DSB",
}
# single IRI extras: where a code is written instead of an IRI, the vocabulary it comes from
CODE_PREFIXES = {
    "access_rights": f"{EU}access-right/",
    "availability": f"{EU}planned-availability/",
}
# extras that a portal using ckanext-scheming keeps as top-level fields instead
KNOWN_EXTRAS = {
    *LIST_EXTRAS,
    *SINGLE_EXTRAS,
    "uri",
    "identifier",
    "guid",
    "spatial",
    "spatial_uri",
    "spatial_text",
    "spatial_bbox",
    "temporal_start",
    "temporal_end",
    "publisher_name",
    "publisher_uri",
    "publisher_email",
    "publisher_url",
    "contact_name",
    "contact_email",
    "contact_uri",
    "contact_url",
    "licenseAttributionByText",
    "in_series",
    "endpoint_url",
    "version_notes",
}
_HTTP = re.compile(r"^https?://\S+$", re.I)
_MEDIA_TYPE = re.compile(r"^[a-z0-9][\w.+-]*/[\w.+-]+$", re.I)


class MappingError(Exception):
    """A package cannot be mapped; ``de`` and ``en`` say why."""

    def __init__(self, de: str, en: str) -> None:
        super().__init__(en)
        self.de = de
        self.en = en


def is_iri(value: Any) -> bool:
    return isinstance(value, str) and bool(_HTTP.match(value.strip()))


def licence_iri(license_id: Any, license_url: Any = None) -> str | None:
    """A dcat-ap.de licence IRI for a CKAN licence id (or its URL), an IRI as it is, else None."""
    if isinstance(license_id, str) and license_id.strip():
        value = license_id.strip()
        if is_iri(value):
            return _licence_from_url(value) or value
        key = value.lower()
        concept = by_code(LICENCES).get(LICENCE_ALIASES.get(key, key))
        if concept is not None:
            return concept.iri
    if is_iri(license_url):
        return _licence_from_url(license_url.strip()) or license_url.strip()
    return None


def _licence_from_url(url: str) -> str | None:
    if url.startswith(DCATDE_LICENCES):
        return url
    bare = re.sub(r"^https?://(www\.)?", "", url).rstrip("/")
    for key, code in LICENCE_URLS.items():
        if bare == key or bare.startswith(key + "/"):
            return by_code(LICENCES)[code].iri
    return None


def format_iri(value: Any) -> str | None:
    """The EU file-type IRI for a CKAN format ("CSV", ".csv", "text/csv", "WMS"), else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.startswith(f"{EU}file-type/"):
        return text
    key = text.lower().lstrip(".")
    if "/" in key and key not in FORMAT_ALIASES:  # a media type: its subtype names the format
        key = key.rsplit("/", 1)[-1].split(";", 1)[0].removeprefix("x-").removeprefix("vnd.")
    key = FORMAT_ALIASES.get(key, key).lower()
    concept = by_code(FILE_TYPES).get(key)
    return concept.iri if concept else None


def theme_iris(groups: Any, theme_extra: list[str]) -> list[str]:
    """EU data-theme IRIs from CKAN groups (named by theme code or OGD category) and the
    ckanext-dcat ``theme`` extra."""
    themes = by_code(THEMES)
    out: set[str] = set()
    for group in groups if isinstance(groups, list) else []:
        name = group.get("name") if isinstance(group, dict) else group
        uri = group.get("uri") if isinstance(group, dict) else None
        if is_iri(uri) and str(uri).startswith(f"{EU}data-theme/"):
            out.add(str(uri))
            continue
        key = str(name or "").strip().lower()
        codes = [key] if key in themes else CATEGORY_THEMES.get(key, [])
        out.update(themes[c.lower()].iri for c in codes if c.lower() in themes)
    for value in theme_extra:
        if value.startswith(f"{EU}data-theme/"):
            out.add(value)
        elif value.lower() in themes:
            out.add(themes[value.lower()].iri)
    return sorted(out)


def package_to_record(package: dict[str, Any], ckan_url: str) -> tuple[model.Resource, list[str]]:
    """The record for one package dict of the CKAN portal at ``ckan_url``, and notes on what
    was left out."""
    notes: list[str] = []
    package_id = package.get("id")
    if not isinstance(package_id, str) or not package_id:
        raise MappingError("Paket ohne id", "package without an id")
    extras = _extras(package)
    data: dict[str, Any] = {
        "name": package.get("name") or package_id,
        "title": package.get("title") or package.get("name") or "",
        "notes": package.get("notes") or "",
        "tags": [t for t in package.get("tags") or [] if _tag_name(t)],
        "url": package.get("url") if is_iri(package.get("url")) else "",
        "version": package.get("version") or None,
        "extras": _cleaned_extras(extras, notes),
    }
    for key in ("title_translated", "notes_translated"):
        if isinstance(package.get(key), dict):
            data[key] = {k: v for k, v in package[key].items() if isinstance(v, str)}
    contact_name = extras.get("contact_name") or package.get("maintainer")
    contact_email = extras.get("contact_email") or package.get("maintainer_email")
    if not (contact_name or contact_email):
        contact_name, contact_email = package.get("author"), package.get("author_email")
    data["maintainer"], data["maintainer_email"] = contact_name, _email(contact_email)
    licence = licence_iri(package.get("license_id"), package.get("license_url"))
    if licence:
        data["license_id"] = licence
    elif package.get("license_id") and package.get("license_id") != "notspecified":
        notes.append(f"license_id {package.get('license_id')!r}: no dcat-ap.de licence known")
    resources = []
    for position, res in enumerate(package.get("resources") or []):
        cleaned = _cleaned_resource(res, package_id, position, ckan_url, notes)
        if cleaned is not None:
            resources.append(cleaned)
    data["resources"] = resources
    try:
        record = record_from_package(
            data, base=None, publisher=_publisher(package, extras), base_url=ckan_url
        )
    except CatalogError as exc:
        first = exc.problems[0]
        raise MappingError(f"{first.where}: {first.de}", f"{first.where}: {first.en}") from exc
    _complete(record, package, extras, resources, ckan_url)
    return _as_kind(record, extras, licence), notes


# --- cleaning the dict -------------------------------------------------------------------


def _extras(package: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in package.get("extras") or []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            out[item["key"]] = item.get("value")
    for key in KNOWN_EXTRAS:  # ckanext-scheming portals: the same fields at the top level
        value = package.get(key)
        if key not in out and value not in (None, "", [], {}):
            out[key] = json.dumps(value) if isinstance(value, list | dict) else value
    return out


def _values(value: Any) -> list[str]:
    """A list extra: a JSON list, a single value, or comma-separated values."""
    if isinstance(value, list):
        items = value
    elif isinstance(value, str) and value.strip().startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            items = [value]
    elif isinstance(value, str):
        parts = [v.strip() for v in value.split(",")]
        items = parts if len(parts) > 1 and all(is_iri(v) for v in parts) else [value]
    else:
        items = []
    return [str(v).strip() for v in items if str(v).strip()]


def _list_value(key: str, value: Any, notes: list[str]) -> list[str]:
    out = []
    for item in _values(value):
        if key == "language" and not is_iri(item):
            code = LANGUAGES_2.get(item.lower()) or (item.upper() if len(item) == 3 else None)
            if code:
                out.append(f"{EU}language/{code}")
                continue
        if key == "theme" and not is_iri(item) and item.lower() in by_code(THEMES):
            out.append(item)  # resolved in theme_iris
            continue
        if is_iri(item):
            out.append(item)
        else:
            notes.append(f"extra {key}: {item!r} is no IRI, left out")
    return out


def _single_value(key: str, value: Any, notes: list[str]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if key in ("issued", "modified"):
        return text
    if is_iri(text):
        return text
    code = text.upper().replace("-", "_").replace(" ", "_")
    if key == "frequency":
        code = FREQUENCY_WORDS.get(text.lower(), code)
        concept = by_code(FREQUENCIES).get(code.lower())
        if concept is not None:
            return concept.iri
    elif key == "politicalGeocodingLevelURI" and text in (
        "federal",
        "state",
        "administrativeDistrict",
        "municipality",
    ):
        return GEOCODING_LEVEL + text
    elif key in CODE_PREFIXES and re.fullmatch(r"[A-Z_]+", code):
        return CODE_PREFIXES[key] + code
    elif key in ("dcat_type", "odapp_kind") and text in ("dataset", "series", "service"):
        return None  # the kind of record, read in _as_kind
    notes.append(f"extra {key}: {text!r} is no IRI, left out")
    return None


def _cleaned_extras(extras: dict[str, Any], notes: list[str]) -> list[dict[str, Any]]:
    out = []
    for key in LIST_EXTRAS:
        if key in extras:
            values = _list_value(key, extras[key], notes)
            if key == "theme":
                continue  # themes come from groups and this extra together, in _complete
            if values:
                out.append({"key": key, "value": json.dumps(sorted(set(values)))})
    for key in SINGLE_EXTRAS:
        if key in extras and key != "dcat_type":
            value = _single_value(key, extras[key], notes)
            if value:
                out.append({"key": key, "value": value})
    return out


def _cleaned_resource(
    res: Any, package_id: str, position: int, ckan_url: str, notes: list[str]
) -> dict[str, Any] | None:
    if not isinstance(res, dict):
        return None
    url = _absolute(res.get("url"), ckan_url) or _absolute(res.get("access_url"), ckan_url)
    if not url:
        notes.append(f"resource {res.get('id') or position}: no URL, left out")
        return None
    fmt = format_iri(res.get("format")) or format_iri(res.get("mimetype"))
    if res.get("format") and fmt is None:
        notes.append(f"resource {res.get('id') or position}: format {res['format']!r} unknown")
    code = fmt.rsplit("/", 1)[-1] if fmt else None
    download = _absolute(res.get("download_url"), ckan_url)
    if download is None and "download_url" not in res and code not in SERVICE_FORMATS:
        download = url  # plain CKAN has only "url"; DCAT-minded portals say download_url
    uri = res.get("uri") if is_iri(res.get("uri")) else None
    if uri is None and res.get("id"):
        uri = f"{ckan_url}/dataset/{package_id}/resource/{res['id']}"
    mimetype = res.get("mimetype")
    size = res.get("size")
    cleaned: dict[str, Any] = {
        "url": url,
        "access_url": _absolute(res.get("access_url"), ckan_url) or url,
        "download_url": download,
        "name": res.get("name") or "",
        "description": res.get("description") or "",
        "format": code or "",
        "mimetype": mimetype.strip()
        if isinstance(mimetype, str) and _MEDIA_TYPE.match(mimetype.strip())
        else None,
        "size": size if isinstance(size, int) and size >= 0 else None,
        "uri": uri,
        # kept for _complete; record_from_package ignores keys it does not know
        "_issued": res.get("created") or res.get("issued"),
        "_modified": res.get("last_modified") or res.get("modified"),
        "_no_download": download is None,
        "_checksum": _checksum(res.get("hash"), res.get("hash_algorithm")),
    }
    if isinstance(size, str) and size.strip().isdigit():
        cleaned["size"] = int(size.strip())
    licence = licence_iri(res.get("license"))
    if licence:
        cleaned["license"] = licence
    if res.get("licenseAttributionByText"):
        cleaned["licenseAttributionByText"] = str(res["licenseAttributionByText"])
    return cleaned


def _checksum(value: Any, algorithm: Any) -> model.Checksum | None:
    """ckanext-dcat's hash and hash_algorithm (an SPDX IRI or a name like SHA-256)."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-fA-F]{32,128}", value.strip()):
        return None
    if not isinstance(algorithm, str) or not algorithm.strip():
        return None
    name = algorithm.strip()
    if not name.startswith(SPDX_CHECKSUM):
        key = re.sub(r"[^a-z0-9]", "", name.lower().rsplit("/", 1)[-1].rsplit("#", 1)[-1])
        key = key.removeprefix("checksumalgorithm")
        if key not in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512"):
            return None
        name = SPDX_CHECKSUM + key
    return model.Checksum(algorithm=name, value=value.strip().lower())


def _absolute(value: Any, base: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if re.match(r"^(https?|ftp)://", text, re.I):
        return text
    if text.startswith("/"):
        return urljoin(base + "/", text)
    return None


def _tag_name(tag: Any) -> str:
    name = tag.get("name") if isinstance(tag, dict) else tag
    return name.strip() if isinstance(name, str) else ""


def _email(value: Any) -> str | None:
    if not isinstance(value, str) or "@" not in value:
        return None
    return value.strip().removeprefix("mailto:")


def _publisher(package: dict[str, Any], extras: dict[str, Any]) -> model.Agent | None:
    """ckanext-dcat's publisher_* extras, else the organisation that owns the package."""
    name = extras.get("publisher_name")
    uri = extras.get("publisher_uri")
    email = extras.get("publisher_email")
    homepage = extras.get("publisher_url")
    org = package.get("organization") if isinstance(package.get("organization"), dict) else {}
    if not (name or uri):
        name = org.get("title") or org.get("name")
        uri = org.get("uri")
        email = org.get("email")
        homepage = org.get("homepage")
    if not (name or uri):
        return None
    return model.Agent(
        uri=uri if is_iri(uri) else None,
        name={"de": name} if name else {},
        email=f"mailto:{_email(email)}" if _email(email) else None,
        homepage=homepage if is_iri(homepage) else None,
    )


# --- what package_create has no field for ---------------------------------------------


def _complete(
    record: model.Dataset,
    package: dict[str, Any],
    extras: dict[str, Any],
    resources: list[dict[str, Any]],
    ckan_url: str,
) -> None:
    package_id = package["id"]
    record.uri = extras["uri"].strip() if is_iri(extras.get("uri")) else None
    record.uri = record.uri or f"{ckan_url}/dataset/{package_id}"
    identifier = extras.get("identifier") or extras.get("guid") or package_id
    record.identifier = [str(identifier)]
    record.themes = theme_iris(package.get("groups"), _values(extras.get("theme")))
    record.issued = record.issued or package.get("metadata_created") or None
    record.modified = record.modified or package.get("metadata_modified") or None
    contact = record.contact_points[0] if record.contact_points else None
    if contact is not None:
        if is_iri(extras.get("contact_uri")):
            contact.uri = extras["contact_uri"]
        if is_iri(extras.get("contact_url")):
            contact.url = extras["contact_url"]
    author = package.get("author")
    if author or _email(package.get("author_email")):
        email = _email(package.get("author_email"))
        record.creators = [
            model.Agent(
                name={"de": author} if author else {},
                email=f"mailto:{email}" if email else None,
            )
        ]
    start, end = extras.get("temporal_start"), extras.get("temporal_end")
    if start or end:
        record.temporal = [model.PeriodOfTime(start=start or None, end=end or None)]
    location = _location(extras)
    if location is not None:
        record.spatial = [location]
    in_series = [v for v in _values(extras.get("in_series")) if is_iri(v)]
    if in_series:
        record.in_series = in_series
    if isinstance(extras.get("version_notes"), str) and extras["version_notes"]:
        record.version_notes = {"de": extras["version_notes"]}
    attribution = extras.get("licenseAttributionByText")
    for dist, res in zip(record.distributions, resources, strict=True):
        if res["_no_download"]:
            dist.download_urls = []
        dist.checksum = dist.checksum or res["_checksum"]
        dist.issued = dist.issued or _text(res["_issued"])
        dist.modified = dist.modified or _text(res["_modified"])
        if attribution and not dist.license_attribution:
            dist.license_attribution = str(attribution)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _location(extras: dict[str, Any]) -> model.Location | None:
    geometry = extras.get("spatial")
    if isinstance(geometry, str) and geometry.strip():
        try:
            parsed = json.loads(geometry)
        except ValueError:
            parsed = None
        geometry = geometry.strip() if isinstance(parsed, dict) and "type" in parsed else None
    else:
        geometry = None
    bbox = None
    box = _values(extras.get("spatial_bbox")) if extras.get("spatial_bbox") else []
    if len(box) == 4:
        try:
            x0, y0, x1, y1 = (float(v) for v in box)
            bbox = f"POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"
        except ValueError:
            bbox = None
    uri = extras.get("spatial_uri") if is_iri(extras.get("spatial_uri")) else None
    text = extras.get("spatial_text")
    if not (geometry or bbox or uri):
        return None
    return model.Location(
        uri=uri,
        geometry=geometry,
        bbox=bbox,
        name={"de": text} if isinstance(text, str) and text else {},
    )


def _as_kind(record: model.Dataset, extras: dict[str, Any], licence: str | None) -> model.Resource:
    """ODApp writes the kind of record (dataset, series, service) in the odapp_kind extra
    (older ODApp in dcat_type); ckanext-dcat writes a dct:type IRI in dcat_type."""
    dcat_type = extras.get("dcat_type")
    if is_iri(dcat_type):
        record.type = dcat_type
    kind = extras.get("odapp_kind") or (None if is_iri(dcat_type) else dcat_type)
    if kind == "series":
        return model.DatasetSeries(**{f.name: getattr(record, f.name) for f in fields(record)})
    if kind == "service":
        shared = {f.name: getattr(record, f.name) for f in fields(model.Resource)}
        endpoints = [v for v in _values(extras.get("endpoint_url")) if is_iri(v)]
        service = model.DataService(**shared, endpoint_urls=endpoints)
        service.license = service.license or licence  # a service has no distributions
        return service
    return record
