"""What the geodata source types (ogcapi-features, wfs, csw) share: errors in two languages,
credentials for OWSLib, vocabulary IRIs, bounding boxes and dates as DCAT-AP.de values, licence
recognition and deterministic GeoJSON files for attachments."""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import tempfile
import weakref
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import shapely
from rdflib import Graph
from rdflib.namespace import DC, DCTERMS, FOAF, SKOS

from catalog import model
from catalog.namespaces import EU
from harvesters.base import Harvested, SourceConfig, SourceError

EU_FILE_TYPE = f"{EU}file-type/"
EU_THEME = f"{EU}data-theme/"
EU_LANGUAGE = f"{EU}language/"
EU_ACCESS_RIGHT = f"{EU}access-right/"
IANA = "https://www.iana.org/assignments/media-types/"
GEOJSON_FORMAT = f"{EU_FILE_TYPE}GEOJSON"
GEOJSON_MEDIA_TYPE = f"{IANA}application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
SHA256 = "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"
PUBLIC = f"{EU_ACCESS_RIGHT}PUBLIC"
NON_PUBLIC = f"{EU_ACCESS_RIGHT}NON_PUBLIC"
DCATDE_LICENCES = "http://dcat-ap.de/def/licenses/"


# --- errors --------------------------------------------------------------------------------


def describe(exc: BaseException) -> str:
    """One short line for an exception (requests and OWSLib messages can be whole pages)."""
    if isinstance(exc, requests.Timeout):
        return "timeout"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def source_error(url: str, exc: BaseException | str, what_de: str, what_en: str) -> SourceError:
    """A SourceError naming the URL: ``what_*`` says what failed (``Dienst nicht lesbar``)."""
    if isinstance(exc, SourceError):
        return exc
    detail = exc if isinstance(exc, str) else describe(exc)
    return SourceError(url, f"{what_de} ({url}): {detail}", f"{what_en} ({url}): {detail}")


# --- configuration -------------------------------------------------------------------------


def credentials(config: SourceConfig) -> tuple[tuple[str, str] | None, dict[str, str]]:
    """Basic-auth pair and extra headers from the source's credentials (the YAML names the
    environment variables; the values are read here)."""
    username, password = config.secret("username"), config.secret("password")
    token = config.secret("token")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return ((username, password) if username and password else None), headers


def string_list(config: SourceConfig, key: str) -> list[str]:
    """A filter that may be written as one string or as a list of strings."""
    value = config.filters.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def positive_int(config: SourceConfig, key: str, default: int | None) -> int | None:
    """An integer option (from ``options``, else ``filters``), at least 1."""
    value = config.options.get(key, config.filters.get(key, default))
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise SourceError(
            str(config.path or config.name),
            f"„{key}“ muss eine ganze Zahl ab 1 sein, nicht {value!r}.",
            f"'{key}' must be a whole number of at least 1, not {value!r}.",
        )
    return number


def text_language(config: SourceConfig) -> str:
    """The language tag for texts the source does not tag itself (from defaults.languages)."""
    for language in config.defaults.languages:
        code = language.rstrip("/").rsplit("/", 1)[-1].upper()
        if code in _TWO_LETTER:
            return _TWO_LETTER[code]
    return "de"


_TWO_LETTER = {"DEU": "de", "ENG": "en", "FRA": "fr", "POL": "pl", "CES": "cs", "HSB": "hsb"}
# ISO 639-2/B codes that differ from the /T codes the EU language table uses
_ISO639_B = {"GER": "DEU", "FRE": "FRA", "CZE": "CES", "DUT": "NLD", "GRE": "ELL", "CHI": "ZHO"}
_ISO639_1 = {"DE": "DEU", "EN": "ENG", "FR": "FRA", "PL": "POL", "CS": "CES", "NL": "NLD"}


def language_iri(code: str | None) -> str | None:
    """An EU language IRI for an ISO 639 code (``ger``, ``deu``, ``de``, ``de-DE``)."""
    if not code:
        return None
    code = code.strip().split("-")[0].split("_")[0].upper()
    code = _ISO639_B.get(code) or _ISO639_1.get(code) or code
    if len(code) != 3 or not code.isalpha():
        return None
    return f"{EU_LANGUAGE}{code}"


def two_letter(language: str | None) -> str | None:
    """The tag for texts from an EU language IRI (DEU -> de), if it is one we know."""
    if not language:
        return None
    return _TWO_LETTER.get(language.rsplit("/", 1)[-1].upper())


# --- values ------------------------------------------------------------------------------------

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(:\d{2}(\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?$"
)


def iso_date(value: Any) -> str | None:
    """A date or date-time in the lexical form xsd:date/xsd:dateTime take, else None."""
    if value is None:
        return None
    text = str(value).strip()
    if _DATE.match(text):
        return text
    match = _DATETIME.match(text)
    if not match:
        return None
    time = match.group(2)
    if len(time) == 5:
        time += ":00"
    zone = match.group(5) or ""
    if zone and zone != "Z" and ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    return f"{match.group(1)}T{time}{zone}"


def bbox_location(box: Iterable[Any] | None) -> model.Location | None:
    """A dcterms:Location with a CRS84 WKT bounding box, or None for a box that is none."""
    if box is None:
        return None
    try:
        minx, miny, maxx, maxy = (float(v) for v in list(box)[:4])
    except (TypeError, ValueError):
        return None
    values = (minx, miny, maxx, maxy)
    if not all(math.isfinite(v) for v in values):
        return None
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        return None
    if minx == maxx and miny == maxy:
        return model.Location(geometry=shapely.Point(minx, miny).wkt)
    return model.Location(bbox=shapely.box(minx, miny, maxx, maxy).wkt)


def period(start: Any, end: Any) -> model.PeriodOfTime | None:
    first, last = iso_date(start), iso_date(end)
    if not first and not last:
        return None
    return model.PeriodOfTime(start=first, end=last)


def keywords(values: Iterable[Any], lang: str) -> list[model.LangStr]:
    """Keywords without blanks and repeats, in their order."""
    seen: set[str] = set()
    out: list[model.LangStr] = []
    for value in values:
        if isinstance(value, dict):  # some servers write {"keyword": ..., "code": ...}
            value = value.get("keyword") or value.get("value") or value.get("code")
        text = " ".join(str(value or "").split())
        if text and text.lower() not in seen:
            seen.add(text.lower())
            out.append(model.LangStr(text, lang))
    return out


def texts(value: Any, lang: str) -> dict[str, str]:
    text = str(value).strip() if value is not None else ""
    return {lang: text} if text else {}


# --- licences --------------------------------------------------------------------------------


def _normal_url(url: str) -> str:
    parts = urlsplit(url.strip().lower())
    host = parts.netloc.removeprefix("www.")
    path = re.sub(r"/(deed|legalcode)(\.[a-z-]+)?/?$", "", parts.path)  # Creative Commons pages
    return f"{host}{path}".rstrip("/")


def _normal_text(text: str) -> str:
    text = text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    text = re.sub(r"\bversion\b", " ", text)
    return re.sub(r"[^a-z0-9]+", "", text)


# Spellings the dcat-ap.de vocabulary does not list (SPDX ids, GovData URLs, CC URLs).
_ALIASES = {
    "dl-de/by-2-0": "dl-by-de/2.0",
    "dl-de-by-2.0": "dl-by-de/2.0",
    "dl-de/by-1-0": "dl-by-de/1.0",
    "dl-de-by-1.0": "dl-by-de/1.0",
    "dl-de/zero-2-0": "dl-zero-de/2.0",
    "dl-de-zero-2.0": "dl-zero-de/2.0",
    "dl-de/by-nc-1-0": "dl-by-nc-de/1.0",
    "cc-by-4.0": "cc-by/4.0",
    "cc-by-sa-4.0": "cc-by-sa/4.0",
    "cc-by-nd-4.0": "cc-by-nd/4.0",
    "cc-by-nc-4.0": "cc-by-nc/4.0",
    "cc0-1.0": "cc-zero",
    "cc0": "cc-zero",
    "odbl-1.0": "odbl",
    "creativecommons.org/publicdomain/zero/1.0": "cc-zero",
    "opendatacommons.org/licenses/odbl": "odbl",
    "opendatacommons.org/licenses/odbl/1.0": "odbl",
    "opendatacommons.org/licenses/odbl/1-0": "odbl",
    "govdata.de/dl-de/by-2-0": "dl-by-de/2.0",
    "govdata.de/dl-de/zero-2-0": "dl-zero-de/2.0",
    "govdata.de/dl-de/by-1-0": "dl-by-de/1.0",
    "govdata.de/dl-de/by-nc-1-0": "dl-by-nc-de/1.0",
    "govdata.de/licenses": None,
}


@cache
def _licence_index() -> dict[str, str]:
    """Every spelling of a dcat-ap.de licence we recognise (normalised) -> its IRI."""
    graph = Graph()
    folder = resources.files("catalog").joinpath("resources", "vocab")
    graph.parse(data=folder.joinpath("dcat-ap-de-licenses-open.rdf").read_bytes(), format="xml")
    index: dict[str, str] = {}
    for iri in set(graph.subjects(SKOS.inScheme, None)):
        value = str(iri)
        if not value.startswith(DCATDE_LICENCES):
            continue
        code = value.removeprefix(DCATDE_LICENCES)
        index[code.lower()] = value
        index[_normal_url(value)] = value
        for predicate in (DC.identifier, SKOS.altLabel):
            for literal in graph.objects(iri, predicate):
                index.setdefault(str(literal).lower(), value)
        for predicate in (FOAF.homepage, DCTERMS.references):
            for url in graph.objects(iri, predicate):
                index.setdefault(_normal_url(str(url)), value)
        for label in graph.objects(iri, SKOS.prefLabel):
            index.setdefault(f"text:{_normal_text(str(label))}", value)
    for alias, code in _ALIASES.items():
        if code:
            index.setdefault(alias, f"{DCATDE_LICENCES}{code}")
    return index


_URL = re.compile(r"https?://[^\s\"'<>)\]]+")


def licence_iri(*hints: str | None) -> str | None:
    """The dcat-ap.de licence IRI for a licence URL, code (``dl-by-de/2.0``, ``CC-BY-4.0``) or
    name (``Datenlizenz Deutschland – Namensnennung – Version 2.0``), or None."""
    index = _licence_index()
    for hint in hints:
        if not hint:
            continue
        text = hint.strip()
        lowered = text.lower()
        if lowered in index:
            return index[lowered]
        if lowered.startswith(("http://", "https://")):
            found = index.get(_normal_url(text))
            if found:
                return found
        found = index.get(f"text:{_normal_text(text)}")
        if found:
            return found
    for hint in hints:  # a URL inside a sentence ("Es gilt die Lizenz https://...")
        for url in _URL.findall(hint or ""):
            found = index.get(_normal_url(url.rstrip(".,;")))
            if found:
                return found
    for hint in hints:  # a licence name inside a sentence
        normal = _normal_text(hint or "")
        for key, value in index.items():
            if key.startswith("text:") and len(key) > 20 and key[5:] in normal:
                return value
    return None


# --- distributions -----------------------------------------------------------------------------


def checksum_of(path: Path) -> model.Checksum:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return model.Checksum(algorithm=SHA256, value=digest.hexdigest())


def loaded_distribution(
    path: Path, url: str, title: dict[str, str], description: dict[str, str]
) -> model.Distribution:
    """The GeoJSON distribution of an attachment: the runner publishes the file at ``url``.

    It gets an IRI of its own (``<url>#distribution``): catalog.data_loading remembers which
    distribution a loaded collection came from by IRI and takes the licence of the OGC API
    distribution it adds from there."""
    return model.Distribution(
        uri=f"{url}#distribution",
        access_urls=[url],
        download_urls=[url],
        title=title,
        description=description,
        format=GEOJSON_FORMAT,
        media_type=GEOJSON_MEDIA_TYPE,
        byte_size=path.stat().st_size,
        checksum=checksum_of(path),
    )


# --- attachment files ----------------------------------------------------------------------


def scratch_folder(item_prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"odapp-harvest-{item_prefix}-"))


def remove_with(harvested: Harvested, folder: Path) -> None:
    """Delete ``folder`` once the runner has let go of ``harvested`` (it copies the
    attachments first), or at the latest when the process ends."""
    weakref.finalize(harvested, shutil.rmtree, str(folder), True)


def feature_sort_key(feature: dict[str, Any]) -> tuple[int, Any]:
    fid = feature.get("id")
    if isinstance(fid, bool) or fid is None:
        return (2, "")
    if isinstance(fid, int | float):
        return (0, fid)
    return (1, str(fid))


def write_feature_collection(path: Path, features: list[dict[str, Any]]) -> None:
    """A GeoJSON FeatureCollection with sorted keys, features sorted by id when every feature
    has one: the same data always gives the same bytes (and so the same content hash)."""
    if features and all(f.get("id") is not None for f in features):
        features = sorted(features, key=feature_sort_key)
    with path.open("w", encoding="utf-8") as out:
        out.write('{"features": [')
        for i, feature in enumerate(features):
            if i:
                out.write(",")
            out.write("\n")
            out.write(json.dumps(feature, ensure_ascii=False, sort_keys=True))
        out.write('\n], "type": "FeatureCollection"}\n')


# --- constraints: licence, attribution and access rights ------------------------------------

_NO_LIMITS = (
    "nolimitations",
    "nolimitationsonpublicaccess",
    "keinezugriffsbeschraenkung",
    "keinebeschraenkung",
    "esgeltenkeinezugriffsbeschraenkungen",
)


def constraints(
    values: Iterable[str | None], urls: Iterable[str | None] = ()
) -> tuple[str | None, str | None, str | None]:
    """Licence IRI, attribution text and access-rights IRI from constraint texts and links.

    Understands the GDI-DE convention (a JSON object ``{"id": "dl-by-de/2.0", "name": ...,
    "url": ..., "quelle": ...}`` in otherConstraints or AccessConstraints), licence URLs, codes
    and names, and the INSPIRE "no limitations" values (in words or as the code-list link).
    """
    licence = attribution = access = None
    texts_seen: list[str] = []
    for value in values:
        text = (value or "").strip()
        if not text:
            continue
        texts_seen.append(text)
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if isinstance(data, dict):
                found = licence_iri(data.get("id"), data.get("url"), data.get("name"))
                if found and licence is None:
                    licence = found
                quelle = data.get("quelle") or data.get("source")
                if quelle and attribution is None:
                    attribution = str(quelle).strip()
                continue
        normal = _normal_text(text)
        if access is None and (normal in ("none", "keine") or any(k in normal for k in _NO_LIMITS)):
            access = PUBLIC
    for url in urls:
        if url and "LimitationsOnPublicAccess/noLimitations" in url:
            access = access or PUBLIC
        elif url and "LimitationsOnPublicAccess/INSPIRE_Directive_Article13" in url:
            access = access or NON_PUBLIC
        elif url and licence is None:
            licence = licence_iri(url)
    if licence is None:
        licence = licence_iri(*[t for t in texts_seen if not t.startswith("{")])
    return licence, attribution, access
