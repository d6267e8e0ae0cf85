"""Source type ``ogcapi-features``: every feature collection of an OGC API – Features server
(pygeoapi, ldproxy, GeoServer, ODApp itself) becomes a DCAT-AP.de dataset.

``url`` is the landing page. Filters: ``collections`` (ids to harvest; all when missing) and
``exclude`` (ids to leave out). Option ``page_size`` (features per request when loading,
default 1000). With ``load: true`` every feature of a collection is downloaded (following the
``next`` links) into a GeoJSON attachment ``<collection id>.geojson``, which the runner publishes
and loads into ODApp's data store.

OWSLib's :class:`~owslib.ogcapi.features.Features` is the client. Its requests go through the
runner's HTTP session (``context.get``): OWSLib 0.35 does not pass its ``timeout`` on to
requests and would add credential headers to a module-wide dict shared by every instance.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urljoin

from owslib.ogcapi.features import Features
from pyproj import CRS, Transformer

from catalog import model
from harvesters.base import (
    Attachment,
    Context,
    Harvested,
    Item,
    RecordError,
    SourceError,
)
from harvesters.sources import geo_common as gc

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
# the standard itself: catalog.data_loading recognises API distributions by it (and does not
# try to load the collection's JSON description as a GeoJSON file)
STANDARD = "http://www.opengis.net/spec/ogcapi-features-1/1.0"
JSON_TYPES = ("application/geo+json", "application/json")
ACCEPT_JSON = "application/json, application/geo+json;q=0.9"
ACCEPT_GEOJSON = "application/geo+json, application/json;q=0.9"
MAX_PAGES = 100_000  # a server whose next links never end is cut off here


class _Features(Features):
    """OWSLib's client, with every request made by the runner's HTTP session."""

    def __init__(self, context: Context, url: str) -> None:
        self.context = context
        landing = context.get(url, headers={"Accept": ACCEPT_JSON})
        try:
            landing.json()
        except ValueError as exc:
            raise gc.source_error(
                url,
                exc,
                "Die Startseite ist kein JSON – ist das eine OGC-API-Adresse?",
                "The landing page is not JSON: is this an OGC API address?",
            ) from None
        super().__init__(url, json_=landing.text, timeout=int(context.config.timeout))
        self.headers = {}  # never the module-wide dict OWSLib would otherwise update

    def _request(
        self,
        method: str = "GET",
        path: str | None = None,
        data: str | None = None,
        as_dict: bool = True,
        kwargs: dict | None = None,
    ) -> Any:
        url = self._build_url(path)
        response = self.context.get(url, params=kwargs or None, headers={"Accept": ACCEPT_JSON})
        try:
            return response.json() if as_dict else response.content
        except ValueError as exc:
            raise gc.source_error(
                url, exc, "Die Antwort ist kein JSON", "The response is not JSON"
            ) from None


def fetch(context: Context) -> Iterator[Item]:
    config = context.config
    if not config.url:
        raise SourceError(
            config.name,
            "Für ogcapi-features fehlt „url“ (die Startseite der OGC API).",
            "ogcapi-features needs 'url' (the OGC API landing page).",
        )
    base = config.url.split("?", 1)[0].rstrip("/")
    api = _Features(context, base)
    listing = api.collections()
    collections = listing.get("collections") if isinstance(listing, dict) else None
    if not isinstance(collections, list):
        raise SourceError(
            base,
            f"{base}/collections enthält keine Liste „collections“.",
            f"{base}/collections has no 'collections' list.",
        )
    wanted = gc.string_list(config, "collections")
    excluded = set(gc.string_list(config, "exclude"))
    page_size = gc.positive_int(config, "page_size", 1000) or 1000
    lang = gc.text_language(config)
    seen: set[str] = set()
    for collection in collections:
        cid = str(collection.get("id") or "") if isinstance(collection, dict) else ""
        if not cid or cid in excluded or (wanted and cid not in wanted):
            continue
        item_type = str(collection.get("itemType") or "feature").lower()
        if item_type != "feature":  # OGC API Records catalogues and the like
            continue
        seen.add(cid)
        context.heartbeat()
        url = f"{base}/collections/{quote(cid, safe='')}"
        try:
            dataset, items_url = _dataset(collection, url, lang)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            yield RecordError(
                cid,
                url,
                f"Sammlung nicht lesbar: {gc.describe(exc)}",
                f"Collection not readable: {gc.describe(exc)}",
            )
            continue
        harvested = Harvested(
            source_id=cid,
            record=dataset,
            origin=url,
            source_modified=gc.iso_date(collection.get("updated") or collection.get("modified")),
        )
        if config.load:
            problem = _load(context, harvested, cid, items_url, page_size)
            if problem is not None:
                yield problem
                continue
        yield harvested
    for cid in wanted:
        if cid not in seen and cid not in excluded:
            yield RecordError(
                cid,
                f"{base}/collections",
                f"Die Sammlung „{cid}“ gibt es auf dem Server nicht (oder sie hat keine Features).",
                f"The server has no feature collection '{cid}'.",
            )


def _link(links: list[dict[str, Any]], rel: str, types: tuple[str, ...] = ()) -> dict | None:
    matching = [link for link in links if isinstance(link, dict) and link.get("rel") == rel]
    for media_type in types:
        for link in matching:
            if str(link.get("type", "")).split(";")[0].strip() == media_type:
                return link
    return matching[0] if matching and not types else None


def _dataset(collection: dict[str, Any], url: str, lang: str) -> tuple[model.Dataset, str]:
    cid = str(collection["id"])
    links = [link for link in collection.get("links") or [] if isinstance(link, dict)]
    title = str(collection.get("title") or cid)
    items_link = _link(links, "items", JSON_TYPES)
    items_url = urljoin(url, items_link["href"]) if items_link else f"{url}/items"
    licence_link = _link(links, "license")
    licence = None
    if licence_link:
        href = urljoin(url, str(licence_link.get("href", ""))) if licence_link.get("href") else ""
        licence = gc.licence_iri(href, licence_link.get("title")) or href or None
    page = _link(links, "describedby", ("text/html",))
    modified = gc.iso_date(collection.get("updated") or collection.get("modified"))
    dataset = model.Dataset(
        title={lang: title},
        description=gc.texts(collection.get("description"), lang),
        keywords=gc.keywords(collection.get("keywords") or [], lang),
        identifier=[url],
        modified=modified,
        landing_pages=[urljoin(url, page["href"])] if page and page.get("href") else [],
    )
    extent = collection.get("extent") or {}
    spatial = extent.get("spatial") or {}
    boxes = spatial.get("bbox") or []
    if boxes and not isinstance(boxes[0], list | tuple):  # a single box written flat
        boxes = [boxes]
    if boxes:
        location = gc.bbox_location(_to_crs84(boxes[0], spatial.get("crs")))
        if location is not None:
            dataset.spatial.append(location)
    temporal = extent.get("temporal") or {}
    intervals = temporal.get("interval") or []
    if intervals and isinstance(intervals[0], list | tuple) and len(intervals[0]) == 2:
        start, end = (None if v in (None, "..") else v for v in intervals[0])
        span = gc.period(start, end)
        if span is not None:
            dataset.temporal.append(span)
    dataset.distributions.append(
        model.Distribution(
            access_urls=[url],
            title={"de": f"OGC API Features: {title}", "en": f"OGC API Features: {title}"},
            description={
                "de": "Die Sammlung als Schnittstelle nach OGC API – Features (seitenweise "
                f"GeoJSON): {items_url}",
                "en": f"The collection through OGC API – Features (paged GeoJSON): {items_url}",
            },
            format=gc.GEOJSON_FORMAT,
            media_type=gc.GEOJSON_MEDIA_TYPE,
            conforms_to=[STANDARD, CORE],
            license=licence,
        )
    )
    dataset.distributions.append(
        model.Distribution(
            access_urls=[items_url],
            title={"de": f"GeoJSON: {title}", "en": f"GeoJSON: {title}"},
            description={
                "de": "Die Objekte der Sammlung als GeoJSON (seitenweise, Links „next“).",
                "en": "The collection's features as GeoJSON (paged, 'next' links).",
            },
            format=gc.GEOJSON_FORMAT,
            media_type=gc.GEOJSON_MEDIA_TYPE,
            license=licence,
        )
    )
    return dataset, items_url


def _to_crs84(box: list[Any], crs: str | None) -> list[float] | None:
    """The bounding box in CRS84 (OGC API extents are CRS84 unless they say otherwise)."""
    try:
        values = [float(v) for v in box]
    except (TypeError, ValueError):
        return None
    if len(values) == 6:  # 3D: minx, miny, minz, maxx, maxy, maxz
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4:
        return None
    if not crs or crs in (gc.CRS84, "http://www.opengis.net/def/crs/OGC/1.3/CRS84h"):
        return values
    try:
        transformer = Transformer.from_crs(CRS.from_user_input(crs), "OGC:CRS84", always_xy=True)
        return list(transformer.transform_bounds(*values))
    except Exception:  # an unknown CRS: no coverage rather than a wrong one
        return None


def _load(
    context: Context, harvested: Harvested, cid: str, items_url: str, page_size: int
) -> RecordError | None:
    """Download every feature into ``<cid>.geojson`` and attach it; a problem with the data
    (not with the connection, which raises SourceError) gives a RecordError."""
    features: list[dict[str, Any]] = []
    expected: int | None = None
    url: str | None = items_url
    params: dict[str, Any] | None = {"limit": page_size}
    visited: set[str] = set()
    for _ in range(MAX_PAGES):
        if url is None:
            break
        response = context.get(url, params=params, headers={"Accept": ACCEPT_GEOJSON})
        context.heartbeat()
        try:
            page = response.json()
        except ValueError:
            page = None
        if not isinstance(page, dict) or not isinstance(page.get("features"), list):
            return RecordError(
                cid,
                response.url,
                "Die Antwort ist keine GeoJSON-FeatureCollection.",
                "The response is not a GeoJSON FeatureCollection.",
            )
        if expected is None and isinstance(page.get("numberMatched"), int):
            expected = page["numberMatched"]
        features.extend(page["features"])
        visited.add(response.url)
        nxt = _link(page.get("links") or [], "next", JSON_TYPES) or _link(
            page.get("links") or [], "next"
        )
        if not page["features"] or not nxt or not nxt.get("href"):
            break
        url = urljoin(response.url, str(nxt["href"]))
        params = None  # the next link carries every parameter
        if url in visited:
            return RecordError(
                cid,
                url,
                "Der Link „next“ zeigt auf eine schon gelesene Seite.",
                "The 'next' link points to a page already read.",
            )
    else:
        return RecordError(
            cid,
            items_url,
            f"Mehr als {MAX_PAGES} Seiten: Abruf abgebrochen.",
            f"More than {MAX_PAGES} pages: download stopped.",
        )
    if expected is not None and len(features) != expected:
        return RecordError(
            cid,
            items_url,
            f"Unvollständig: {len(features)} von {expected} Objekten gelesen.",
            f"Incomplete: {len(features)} of {expected} features read.",
        )
    folder = gc.scratch_folder(context.config.name)
    name = f"{cid}.geojson"
    path = folder / name
    gc.write_feature_collection(path, features)
    gc.remove_with(harvested, folder)
    harvested.attachments.append(Attachment(path, name=name))
    harvested.report["features"] = len(features)
    dataset = harvested.record
    assert isinstance(dataset, model.Dataset)
    download = gc.loaded_distribution(
        path,
        context.file_url(name),
        {
            "de": f"GeoJSON-Datei: {model.preferred_text(dataset.title)}",
            "en": f"GeoJSON file: {model.preferred_text(dataset.title)}",
        },
        {
            "de": f"Alle {len(features)} Objekte der Sammlung als eine GeoJSON-Datei "
            "(Abzug beim Harvesting).",
            "en": f"All {len(features)} features of the collection as one GeoJSON file "
            "(copy made when harvesting).",
        },
    )
    download.license = dataset.distributions[-1].license
    dataset.distributions[-1] = download
    return None
