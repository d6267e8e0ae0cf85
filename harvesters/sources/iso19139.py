"""ISO 19139 metadata (as parsed by OWSLib's :class:`~owslib.iso.MD_Metadata`) mapped to
DCAT-AP.de, following the GeoDCAT-AP alignment where DCAT-AP.de has a place for the value.

=============================================  ==============================================
ISO 19139                                      DCAT-AP.de
=============================================  ==============================================
fileIdentifier                                 dct:identifier (and the harvest's source id)
citation identifier (an http(s) IRI)           the dataset's IRI; every code: adms:identifier
hierarchyLevel service                         dcat:DataService (else dcat:Dataset)
title, abstract                                dct:title, dct:description (metadata language)
keywords (all thesauri, INSPIRE themes too)    dcat:keyword
topicCategory, INSPIRE theme                   dcat:theme (EU data themes, clear cases only)
date publication (else creation)               dct:issued
date revision (else dateStamp)                 dct:modified
EX_GeographicBoundingBox                       dct:spatial (dcat:bbox, WKT in CRS84)
EX_TemporalExtent                              dct:temporal
pointOfContact                                 dcat:contactPoint (vcard:Organization)
role publisher (else owner, else the first     dct:publisher (foaf:Organization)
point of contact)
role author / originator / custodian           dct:creator / dcatde:originator /
                                               dcatde:maintainer
otherConstraints, useLimitation (licence       dct:license of every distribution,
URL, code, name or the GDI-DE JSON)            dcatde:licenseAttributionByText ("quelle")
"no limitations" (text or INSPIRE code list)   dct:accessRights PUBLIC; INSPIRE Art. 13:
                                               NON_PUBLIC
online resources: download                     dcat:Distribution with dcat:downloadURL
online resources: OGC services, other links    dcat:Distribution with dcat:accessURL and
                                               format (WMS_SRVC, WFS_SRVC, ...)
online resources: function information/search  foaf:page (the first: dcat:landingPage)
resource language                              dct:language (EU language table)
referenceSystemInfo (EPSG)                     dct:conformsTo (the EPSG IRI)
=============================================  ==============================================

Lineage (dct:provenance) has no place in ODApp's model and is left out.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from catalog import model, vocabularies
from harvesters.sources import geo_common as gc

# ISO 19115 topic categories with one clear EU data theme (the others have none or several).
TOPIC_THEMES = {
    "farming": "AGRI",
    "biota": "ENVI",
    "boundaries": "REGI",
    "climatologyMeteorologyAtmosphere": "ENVI",
    "economy": "ECON",
    "environment": "ENVI",
    "geoscientificInformation": "TECH",
    "health": "HEAL",
    "inlandWaters": "ENVI",
    "oceans": "ENVI",
    "planningCadastre": "REGI",
    "society": "SOCI",
    "transportation": "TRAN",
}
# INSPIRE themes (code of http://inspire.ec.europa.eu/theme/<code>) with one clear data theme
INSPIRE_THEMES = {
    "au": "REGI",  # Administrative units
    "tn": "TRAN",  # Transport networks
    "hy": "ENVI",  # Hydrography
    "ps": "ENVI",  # Protected sites
    "sd": "ENVI",  # Species distribution
    "hb": "ENVI",  # Habitats and biotopes
    "ac": "ENVI",  # Atmospheric conditions
    "mf": "ENVI",  # Meteorological geographical features
    "af": "AGRI",  # Agricultural and aquaculture facilities
    "er": "ENER",  # Energy resources
    "hh": "HEAL",  # Human health and safety
    "pd": "SOCI",  # Population distribution – demography
}
# INSPIRE theme names (German and English) -> code, for keywords written without a link
INSPIRE_NAMES = {
    "verwaltungseinheiten": "au",
    "administrative units": "au",
    "verkehrsnetze": "tn",
    "transport networks": "tn",
    "gewässernetz": "hy",
    "hydrography": "hy",
    "schutzgebiete": "ps",
    "protected sites": "ps",
    "verteilung der arten": "sd",
    "species distribution": "sd",
    "lebensräume und biotope": "hb",
    "habitats and biotopes": "hb",
    "atmosphärische bedingungen": "ac",
    "atmospheric conditions": "ac",
    "meteorologisch-geografische kennwerte": "mf",
    "meteorological geographical features": "mf",
    "landwirtschaftliche anlagen und aquakulturanlagen": "af",
    "agricultural and aquaculture facilities": "af",
    "energiequellen": "er",
    "energy resources": "er",
    "gesundheit und sicherheit": "hh",
    "human health and safety": "hh",
    "verteilung der bevölkerung — demografie": "pd",
    "verteilung der bevölkerung – demografie": "pd",
    "population distribution — demography": "pd",
    "population distribution - demography": "pd",
}
SERVICE_FORMATS = {  # protocol fragment (lower case) -> EU file type
    "wms": "WMS_SRVC",
    "wfs": "WFS_SRVC",
    "wcs": "WCS_SRVC",
    "wmts": "WMTS_SRVC",
}
OGC_API_FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0"
FILE_FORMATS = {  # format names and file suffixes (lower case) -> EU file type
    "geojson": "GEOJSON",
    "json": "JSON",
    "shp": "SHP",
    "shape": "SHP",
    "shapefile": "SHP",
    "esri shapefile": "SHP",
    "gml": "GML",
    "csv": "CSV",
    "gpkg": "GPKG",
    "geopackage": "GPKG",
    "kml": "KML",
    "kmz": "KMZ",
    "pdf": "PDF",
    "xlsx": "XLSX",
    "xls": "XLS",
    "zip": "ZIP",
    "tif": "TIFF",
    "tiff": "TIFF",
    "geotiff": "TIFF",
    "xml": "XML",
    "html": "HTML",
}
MEDIA_TYPES = {"GEOJSON": "application/geo+json", "CSV": "text/csv", "JSON": "application/json"}
_IRI = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_EPSG = re.compile(r"EPSG\D{0,3}(\d{4,6})", re.IGNORECASE)


class MappingError(ValueError):
    """The record cannot become a catalogue record (German and English reason)."""

    def __init__(self, message_de: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_de = message_de
        self.message_en = message_en


def _iri(value: Any) -> str | None:
    text = str(value or "").strip()
    return text if _IRI.match(text) else None


def _theme(code: str) -> str | None:
    iri = f"{gc.EU_THEME}{code}"
    return iri if iri in vocabularies.concepts(vocabularies.THEMES) else None


def _file_type(code: str | None) -> str | None:
    if not code:
        return None
    iri = f"{gc.EU_FILE_TYPE}{code}"
    return iri if iri in vocabularies.concepts(vocabularies.FILE_TYPES) else None


def to_resource(md: Any, default_lang: str) -> model.Dataset | model.DataService:
    """The DCAT-AP.de record of one parsed ISO 19139 document; raises MappingError."""
    if not md.identification:
        raise MappingError(
            "Der Eintrag hat keine identificationInfo.", "The record has no identificationInfo."
        )
    ident = md.identification[0]
    language = gc.language_iri(md.languagecode or md.language)
    lang = gc.two_letter(language) or default_lang
    title = (ident.title or "").strip()
    if not title:
        raise MappingError("Der Eintrag hat keinen Titel.", "The record has no title.")
    is_service = (md.hierarchy or "").lower() == "service" or getattr(ident, "identtype", "") == (
        "service"
    )
    record: model.Dataset | model.DataService = (
        model.DataService() if is_service else model.Dataset()
    )
    record.title = {lang: title}
    record.description = gc.texts(ident.abstract, lang)
    if md.identifier:
        record.identifier = [md.identifier.strip()]
    codes = [c.strip() for c in ident.uricode or [] if c and c.strip()]
    resource_iri = next((c for c in codes if _iri(c)), None)
    if resource_iri and resource_iri != md.identifier:
        record.uri = resource_iri
    _keywords_and_themes(record, ident, lang)
    _dates(record, md, ident)
    _parties(record, md, ident, lang)
    licence, attribution, access = gc.constraints(
        [*(ident.otherconstraints or []), *(ident.uselimitation or [])],
        [*(getattr(ident, "otherconstraints_url", None) or []), *(ident.uselimitation_url or [])],
    )
    classified = {c.lower() for c in (ident.securityconstraints or [])} - {"unclassified"}
    record.access_rights = gc.NON_PUBLIC if classified else access
    languages = [gc.language_iri(c) for c in (ident.resourcelanguagecode or [])] or [
        gc.language_iri(c) for c in (ident.resourcelanguage or [])
    ]
    record.languages = sorted({iri for iri in languages if iri}) or ([language] if language else [])
    record.conforms_to = _reference_systems(md)
    links = _online_resources(md, ident)
    if isinstance(record, model.DataService):
        _service(record, links, licence, lang)
        return record
    assert isinstance(record, model.Dataset)
    if codes:
        record.other_identifiers = [c for c in codes if c != md.identifier]
    location = gc.bbox_location(_bbox(ident))
    if location is not None:
        record.spatial.append(location)
    span = gc.period(ident.temporalextent_start, ident.temporalextent_end)
    if span is not None:
        record.temporal.append(span)
    _distributions(record, md, links, licence, attribution, lang)
    return record


def _bbox(ident: Any) -> tuple[Any, Any, Any, Any] | None:
    box = getattr(ident, "bbox", None)
    if box is None:
        return None
    return (box.minx, box.miny, box.maxx, box.maxy)


def _keywords_and_themes(record: model.Resource, ident: Any, lang: str) -> None:
    words: list[str] = []
    themes: list[str] = []
    for group in ident.keywords or []:
        for keyword in getattr(group, "keywords", []) or []:
            name = (keyword.name or "").strip()
            if name:
                words.append(name)
            url = keyword.url or ""
            code = None
            if url.rstrip("/").rsplit("/theme/", 1)[0].endswith("inspire.ec.europa.eu"):
                code = url.rstrip("/").rsplit("/", 1)[-1]
            elif name.lower() in INSPIRE_NAMES:
                code = INSPIRE_NAMES[name.lower()]
            if code in INSPIRE_THEMES:
                themes.append(INSPIRE_THEMES[code])
    record.keywords = gc.keywords(words, lang)
    for category in ident.topiccategory or []:
        if category in TOPIC_THEMES:
            themes.append(TOPIC_THEMES[category])
    record.themes = [iri for code in dict.fromkeys(themes) if (iri := _theme(code))]


def _dates(record: model.Resource, md: Any, ident: Any) -> None:
    by_type: dict[str, list[str]] = {}
    for entry in ident.date or []:
        value = gc.iso_date(entry.date)
        if value:
            by_type.setdefault((entry.type or "").lower(), []).append(value)
    issued = by_type.get("publication") or by_type.get("creation") or []
    record.issued = min(issued) if issued else None
    revised = by_type.get("revision") or []
    record.modified = max(revised) if revised else gc.iso_date(md.datestamp)


def _parties(record: model.Resource, md: Any, ident: Any, lang: str) -> None:
    parties = list(ident.contact or [])
    contacts = [p for p in parties if (p.role or "") == "pointOfContact"]
    if not contacts:  # the metadata's own contact is better than none
        contacts = [p for p in md.contact or [] if (p.role or "") == "pointOfContact"]
    record.contact_points = [c for p in contacts if (c := _contact(p, lang)) is not None]
    by_role: dict[str, list[Any]] = {}
    for party in parties + list(md.contact or []):
        by_role.setdefault(party.role or "", []).append(party)
    for role in ("publisher", "owner"):
        agent = next((a for p in by_role.get(role, []) if (a := _agent(p, lang))), None)
        if agent is not None:
            record.publisher = agent
            break
    else:
        record.publisher = next((a for p in contacts if (a := _agent(p, lang))), None)
    if isinstance(record, model.Dataset):
        record.creators = [a for p in by_role.get("author", []) if (a := _agent(p, lang))]
        record.originators = [a for p in by_role.get("originator", []) if (a := _agent(p, lang))]
        record.maintainers = [a for p in by_role.get("custodian", []) if (a := _agent(p, lang))]


def _mailto(email: str | None) -> str | None:
    email = (email or "").strip()
    return f"mailto:{email}" if email and " " not in email and "@" in email else None


def _contact(party: Any, lang: str) -> model.ContactPoint | None:
    name = (party.organization or party.name or "").strip()
    email = _mailto(party.email)
    phone = re.sub(r"[^\d+]", "", party.phone or "")
    url = _iri(party.onlineresource.url) if party.onlineresource else None
    if not (name or email or url):
        return None
    return model.ContactPoint(
        fn={lang: name} if name else {},
        email=email,
        telephone=f"tel:{phone}" if phone else None,
        url=url,
    )


def _agent(party: Any, lang: str) -> model.Agent | None:
    name = (party.organization or party.name or "").strip()
    if not name:
        return None
    url = _iri(party.onlineresource.url) if party.onlineresource else None
    return model.Agent(name={lang: name}, email=_mailto(party.email), homepage=url)


def _reference_systems(md: Any) -> list[str]:
    system = md.referencesystem
    if system is None:
        return []
    for value in (system.code_url, system.code):
        match = _EPSG.search(value or "")
        if match:
            return [f"http://www.opengis.net/def/crs/EPSG/0/{match.group(1)}"]
    return []


def _online_resources(md: Any, ident: Any) -> list[Any]:
    """Every online resource of the record (distribution, distributors, service operations),
    each URL once."""
    found: list[Any] = []
    distribution = md.distribution
    if distribution is not None:
        found += list(distribution.online or [])
        for distributor in distribution.distributor or []:
            found += list(distributor.online or [])
    for operation in getattr(ident, "operations", None) or []:
        found += list(operation.get("connectpoint") or [])
    seen: set[str] = set()
    out = []
    for resource in found:
        url = _iri(resource.url)
        if url and url not in seen:
            seen.add(url)
            out.append(resource)
    return out


def _service_format(protocol: str, url: str) -> str | None:
    text = f"{protocol} {url}".lower()
    for fragment in ("wmts", "wms", "wfs", "wcs"):  # wmts before wms
        if re.search(rf"(ogc:|\b|service=){fragment}\b", text):
            return SERVICE_FORMATS[fragment]
    return None


def _is_ogc_api_features(protocol: str) -> bool:
    text = protocol.lower().replace(" ", "")
    return "ogcapi-features" in text or "ogc:api-features" in text or "ogcapifeatures" in text


def _format_of(url: str, names: list[str]) -> str | None:
    suffix = urlsplit(url).path.rsplit(".", 1)[-1].lower() if "." in urlsplit(url).path else ""
    for hint in [suffix, *(n.lower().strip() for n in names)]:
        if hint in FILE_FORMATS:
            return FILE_FORMATS[hint]
    return None


def _distributions(
    record: model.Dataset,
    md: Any,
    links: list[Any],
    licence: str | None,
    attribution: str | None,
    lang: str,
) -> None:
    names = (
        [md.distribution.format] if md.distribution is not None and md.distribution.format else []
    )
    pages: list[str] = []
    for resource in links:
        url = resource.url.strip()
        protocol = (resource.protocol or "").strip()
        function = (resource.function or "").strip().lower()
        service = _service_format(protocol, url)
        ogc_api = _is_ogc_api_features(protocol)
        download = function == "download" or "download" in protocol.lower()
        if not (service or ogc_api or download) and (
            function in ("information", "search", "browsegraphic")
            or protocol.upper().startswith("WWW:LINK")
        ):
            pages.append(url)
            continue
        dist = model.Distribution(
            access_urls=[url],
            title=gc.texts(resource.name, lang),
            description=gc.texts(resource.description, lang),
            license=licence,
            license_attribution=attribution,
            languages=list(record.languages),
        )
        if service:
            dist.format = _file_type(service)
        elif ogc_api:
            dist.format = _file_type("GEOJSON")
            dist.media_type = gc.GEOJSON_MEDIA_TYPE
            dist.conforms_to = [OGC_API_FEATURES]
        else:
            code = _format_of(url, names if len(names) == 1 else [])
            dist.format = _file_type(code)
            if code in MEDIA_TYPES:
                dist.media_type = f"{gc.IANA}{MEDIA_TYPES[code]}"
            if download:
                dist.download_urls = [url]
        record.distributions.append(dist)
    if pages:
        record.landing_pages = pages[:1]
        record.pages = pages[1:]


def _service(record: model.DataService, links: list[Any], licence: str | None, lang: str) -> None:
    urls = [resource.url.strip() for resource in links]
    capabilities = [u for u in urls if "getcapabilities" in u.lower()]
    record.endpoint_urls = [_endpoint(u) for u in (capabilities or urls)[:1]]
    record.endpoint_descriptions = capabilities[:1]
    record.license = licence
    formats = {
        f
        for resource in links
        if (f := _file_type(_service_format(resource.protocol or "", resource.url)))
    }
    record.formats = sorted(formats)
    if not record.endpoint_urls:
        raise MappingError(
            "Der Dienst nennt keine Adresse (connectPoint oder onLine).",
            "The service names no address (connectPoint or onLine).",
        )


def _endpoint(url: str) -> str:
    """A service's endpoint: its GetCapabilities URL without the request parameters."""
    base, _, query = url.partition("?")
    keep = [
        p
        for p in query.split("&")
        if p and p.split("=", 1)[0].lower() not in ("service", "request", "version")
    ]
    return f"{base}?{'&'.join(keep)}" if keep else base
