"""Source type ``wfs``: every feature type of an OGC Web Feature Service becomes a DCAT-AP.de
dataset.

``url`` is the service address (a GetCapabilities URL is fine too). The client is OWSLib's
``WebFeatureService``, version 2.0.0, else 1.1.0. Filters: ``typenames`` (feature types to
harvest, with or without namespace prefix: ``ms:stadtteile`` or ``stadtteile``) and ``exclude``.
Option ``page_size`` (features per GetFeature request when the server pages, default 1000).

With ``load: true`` every feature is fetched (GeoJSON where the server offers it, else GML read by
GDAL through pyogrio), converted to GeoJSON in CRS84 and attached as ``<typename>.geojson``
(``:`` becomes ``-``), which the runner publishes and loads into ODApp's data store (which reads
GeoJSON, not GML).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
import shapely
from owslib.util import Authentication, ServiceException
from owslib.wfs import WebFeatureService
from pyproj import CRS, Transformer
from shapely.geometry import mapping, shape

from catalog import model
from harvesters.base import Attachment, Context, Harvested, Item, RecordError, SourceError
from harvesters.sources import geo_common as gc

VERSIONS = ("2.0.0", "1.1.0")
WFS_FORMAT = f"{gc.EU_FILE_TYPE}WFS_SRVC"
GML_FORMAT = f"{gc.EU_FILE_TYPE}GML"
GML_MEDIA_TYPE = f"{gc.IANA}application/gml+xml"
WFS_SPEC = {
    "2.0.0": "http://www.opengis.net/doc/IS/wfs/2.0",
    "1.1.0": "http://www.opengis.net/doc/IS/wfs/1.1",
}
SERVICE_TYPE = "http://www.opengis.net/def/serviceType/ogc/wfs"
MAX_PAGES = 100_000
_LON_LAT = {"OGC:CRS84", "EPSG:4326"}


def fetch(context: Context) -> Iterator[Item]:
    config = context.config
    if not config.url:
        raise SourceError(
            config.name,
            "Für wfs fehlt „url“ (die Adresse des WFS).",
            "wfs needs 'url' (the address of the WFS).",
        )
    wfs = _open(context, config.url)
    caps = wfs._capabilities
    version = wfs.version
    base = wfs.url
    caps_url = _kvp(base, {"SERVICE": "WFS", "REQUEST": "GetCapabilities", "VERSION": version})
    wanted = gc.string_list(config, "typenames")
    excluded = gc.string_list(config, "exclude")
    page_size = gc.positive_int(config, "page_size", 1000) or 1000
    lang = gc.text_language(config)
    ident = getattr(wfs, "identification", None)
    service_title = (getattr(ident, "title", None) or "").strip() or base
    licence, attribution, access = gc.constraints(
        [getattr(ident, "accessconstraints", None), getattr(ident, "fees", None)]
    )
    paging = version == "2.0.0" and _paging(caps)
    seen: set[str] = set()
    for name, meta in wfs.contents.items():
        if not name or _matches(name, excluded) or (wanted and not _matches(name, wanted)):
            continue
        seen.add(name)
        context.heartbeat()
        type_param = "TYPENAMES" if version == "2.0.0" else "TYPENAME"
        origin = _kvp(
            base,
            {
                "SERVICE": "WFS",
                "VERSION": version,
                "REQUEST": "DescribeFeatureType",
                type_param: name,
            },
        )
        formats = _output_formats(wfs, caps, name)
        json_format = next((f for f in formats if "json" in f.lower()), None)
        try:
            dataset = _dataset(meta, name, service_title, lang, origin)
        except (AttributeError, TypeError, ValueError) as exc:
            yield RecordError(
                name,
                caps_url,
                f"Objektart nicht lesbar: {gc.describe(exc)}",
                f"Feature type not readable: {gc.describe(exc)}",
            )
            continue
        dataset.access_rights = access
        getfeature = {
            "SERVICE": "WFS",
            "VERSION": version,
            "REQUEST": "GetFeature",
            type_param: name,
        }
        if json_format:
            getfeature["OUTPUTFORMAT"] = json_format
        title = model.preferred_text(dataset.title)
        dataset.distributions = [
            model.Distribution(
                access_urls=[caps_url],
                title={"de": f"WFS: {title}", "en": f"WFS: {title}"},
                description={
                    "de": f"Web Feature Service {version} „{service_title}“, Objektart {name}.",
                    "en": f"Web Feature Service {version} '{service_title}', feature type {name}.",
                },
                format=WFS_FORMAT,
                conforms_to=[SERVICE_TYPE, WFS_SPEC[version]],
                license=licence,
                license_attribution=attribution,
            ),
            model.Distribution(
                access_urls=[_kvp(base, getfeature)],
                title={
                    "de": f"{'GeoJSON' if json_format else 'GML'}: {title}",
                    "en": f"{'GeoJSON' if json_format else 'GML'}: {title}",
                },
                description={
                    "de": f"Die Objekte als {'GeoJSON' if json_format else 'GML'} "
                    "(WFS-Abfrage GetFeature).",
                    "en": f"The features as {'GeoJSON' if json_format else 'GML'} "
                    "(WFS GetFeature request).",
                },
                format=gc.GEOJSON_FORMAT if json_format else GML_FORMAT,
                media_type=gc.GEOJSON_MEDIA_TYPE if json_format else GML_MEDIA_TYPE,
                license=licence,
                license_attribution=attribution,
            ),
        ]
        harvested = Harvested(source_id=name, record=dataset, origin=origin)
        if config.load:
            default_crs = _default_crs(meta)
            problem = _load(
                context, wfs, harvested, name, json_format, paging, page_size, default_crs
            )
            if problem is not None:
                yield problem
                continue
        yield harvested
    for name in wanted:
        if not any(_matches(found, [name]) for found in seen) and not _matches(name, excluded):
            yield RecordError(
                name,
                caps_url,
                f"Die Objektart „{name}“ gibt es in diesem WFS nicht.",
                f"The WFS has no feature type '{name}'.",
            )


def _kvp(base: str, params: dict[str, str]) -> str:
    joiner = "" if base.endswith(("?", "&")) else ("&" if "?" in base else "?")
    return f"{base}{joiner}{urlencode(params)}"


def _matches(name: str, patterns: list[str]) -> bool:
    local = name.rsplit(":", 1)[-1]
    return any(p in (name, local) for p in patterns)


def _open(context: Context, url: str) -> Any:
    """OWSLib's WFS client for the newest version the server speaks."""
    config = context.config
    basic, headers = gc.credentials(config)
    problem: BaseException | None = None
    for version in VERSIONS:
        auth = Authentication(*basic) if basic else None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return WebFeatureService(
                    url,
                    version=version,
                    timeout=int(max(1, config.timeout)),
                    headers=dict(headers) or None,
                    auth=auth,
                )
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise gc.source_error(url, exc, "WFS nicht erreichbar", "WFS not reachable") from None
        except Exception as exc:  # HTTP errors, OWS exceptions, XML that is no capabilities
            problem = exc
    raise gc.source_error(
        url,
        problem or "?",
        "Die Capabilities des WFS sind nicht lesbar (Version 2.0.0 und 1.1.0 versucht)",
        "The WFS capabilities cannot be read (tried versions 2.0.0 and 1.1.0)",
    )


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _paging(caps: Any) -> bool:
    """Does the server declare ImplementsResultPaging (WFS 2.0 startIndex/count)?"""
    for element in caps.iter():
        if _local(element.tag) == "Constraint" and element.get("name") == "ImplementsResultPaging":
            for child in element:
                if _local(child.tag) == "DefaultValue":
                    return (child.text or "").strip().upper() == "TRUE"
    return False


def _output_formats(wfs: Any, caps: Any, name: str) -> list[str]:
    """The formats GetFeature offers for ``name``: the type's own list, else the operation's."""
    for feature_type in caps.iter():
        if _local(feature_type.tag) != "FeatureType":
            continue
        names = [c.text for c in feature_type if _local(c.tag) == "Name"]
        if names and (names[0] or "").strip() == name:
            for child in feature_type:
                if _local(child.tag) == "OutputFormats":
                    found = [(f.text or "").strip() for f in child if (f.text or "").strip()]
                    if found:
                        return found
    try:
        operation = wfs.getOperationByName("GetFeature")
        values = operation.parameters.get("outputFormat", {}).get("values", [])
        return [str(v) for v in values]
    except (KeyError, AttributeError):
        return []


def _dataset(meta: Any, name: str, service: str, lang: str, origin: str) -> model.Dataset:
    title = (meta.title or "").strip() or name
    abstract = (meta.abstract or "").strip() or (
        f"Objektart „{name}“ des Web Feature Service „{service}“."
    )
    dataset = model.Dataset(
        title={lang: title},
        description={lang: abstract},
        keywords=gc.keywords(meta.keywords or [], lang),
        identifier=[origin],
    )
    location = gc.bbox_location(meta.boundingBoxWGS84)
    if location is not None:
        dataset.spatial.append(location)
    return dataset


def _load(
    context: Context,
    wfs: Any,
    harvested: Harvested,
    name: str,
    json_format: str | None,
    paging: bool,
    page_size: int,
    default_crs: str | None,
) -> RecordError | None:
    """Fetch every feature, write ``<name>.geojson`` in CRS84 and attach it."""
    features: list[dict[str, Any]] = []
    start = 0
    folder = gc.scratch_folder(context.config.name)
    gc.remove_with(harvested, folder)
    schema = None if json_format else _schema(context, harvested.origin, folder)
    for page_number in range(MAX_PAGES):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                response = wfs.getfeature(
                    typename=[name],
                    outputFormat=json_format,
                    maxfeatures=page_size if paging else None,
                    startindex=start if paging and start else None,
                )
                data = response.read()
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise gc.source_error(
                wfs.url, exc, "WFS nicht erreichbar", "WFS not reachable"
            ) from None
        except (ServiceException, requests.HTTPError) as exc:
            return RecordError(
                name,
                wfs.url,
                f"GetFeature für {name} abgelehnt: {gc.describe(exc)}",
                f"GetFeature for {name} refused: {gc.describe(exc)}",
            )
        context.heartbeat()
        try:
            page, matched = (
                _json_page(data, default_crs)
                if json_format
                else _gml_page(data, folder / f"p{page_number}.gml", schema)
            )
        except Exception as exc:  # unreadable JSON/GML: this feature type only
            return RecordError(
                name,
                wfs.url,
                f"Antwort auf GetFeature nicht lesbar: {gc.describe(exc)}",
                f"GetFeature response not readable: {gc.describe(exc)}",
            )
        features.extend(page)
        start += len(page)
        if not paging or not page or (matched is not None and start >= matched):
            break
    file_name = re.sub(r"[^A-Za-z0-9._-]+", "-", name) + ".geojson"
    path = folder / file_name
    gc.write_feature_collection(path, features)
    harvested.attachments.append(Attachment(path, name=file_name))
    harvested.report["features"] = len(features)
    dataset = harvested.record
    assert isinstance(dataset, model.Dataset)
    title = model.preferred_text(dataset.title)
    download = gc.loaded_distribution(
        path,
        context.file_url(file_name),
        {"de": f"GeoJSON-Datei: {title}", "en": f"GeoJSON file: {title}"},
        {
            "de": f"Alle {len(features)} Objekte als eine GeoJSON-Datei in CRS84 "
            "(Abzug beim Harvesting).",
            "en": f"All {len(features)} features as one GeoJSON file in CRS84 "
            "(copy made when harvesting).",
        },
    )
    download.license = dataset.distributions[-1].license
    download.license_attribution = dataset.distributions[-1].license_attribution
    dataset.distributions[-1] = download
    return None


def _number(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _default_crs(meta: Any) -> str | None:
    try:
        return str(meta.crsOptions[0].getcodeurn()) if meta.crsOptions else None
    except (AttributeError, IndexError, TypeError):
        return None


def _json_page(
    data: bytes, default_crs: str | None = None
) -> tuple[list[dict[str, Any]], int | None]:
    """Features of a GeoJSON GetFeature answer, in CRS84. Coordinates are in the CRS the
    answer names ("crs" member), else in the feature type's default CRS; EPSG:4326 is taken
    as longitude/latitude, as GeoJSON has it."""
    page = json.loads(data)
    if not isinstance(page, dict) or not isinstance(page.get("features"), list):
        raise ValueError("not a GeoJSON FeatureCollection")
    matched = _number(page.get("numberMatched", page.get("totalFeatures")))
    crs_name = ((page.get("crs") or {}).get("properties") or {}).get("name") or default_crs
    features = page["features"]
    if crs_name:
        crs = CRS.from_user_input(crs_name)
        if crs.to_string() not in _LON_LAT and not crs.equals(CRS.from_user_input("OGC:CRS84")):
            transformer = Transformer.from_crs(crs, "OGC:CRS84", always_xy=True)
            for feature in features:
                if feature.get("geometry"):
                    geometry = shapely.transform(
                        shape(feature["geometry"]),
                        lambda xy: _transform_xy(transformer, xy),
                    )
                    feature["geometry"] = mapping(geometry)
    return features, matched


def _transform_xy(transformer: Transformer, xy: Any) -> Any:
    import numpy as np

    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def _schema(context: Context, url: str, folder: Path) -> Path | None:
    """The feature type's application schema (DescribeFeatureType), so that GDAL reads the
    GML with the server's types and never downloads anything itself; None if unavailable."""
    try:
        response = context.get(url)
    except SourceError:
        return None
    if b"schema" not in response.content[:2000]:
        return None
    path = folder / "schema.xsd"
    path.write_bytes(response.content)
    return path


def _gml_page(
    data: bytes, path: Path, schema: Path | None = None
) -> tuple[list[dict[str, Any]], int | None]:
    """Features of a GML GetFeature answer, read by GDAL and reprojected to CRS84."""
    import pyogrio

    path.write_bytes(data)
    head = data[:4000].decode("utf-8", "replace")
    match = re.search(r'numberMatched="(\d+)"', head)
    matched = int(match.group(1)) if match else None
    returned = re.search(r'numberReturned="0"', head)
    if returned:
        return [], matched
    options = {"XSD": str(schema)} if schema else {"DOWNLOAD_SCHEMA": "NO"}
    frame = pyogrio.read_dataframe(path, **options)
    if not hasattr(frame, "geometry"):
        raise ValueError("GDAL found no geometries in the GML")
    if frame.crs is not None:
        frame = frame.to_crs("OGC:CRS84")
    collection = json.loads(frame.to_json(drop_id=True))
    features = []
    for feature in collection["features"]:
        properties = feature.get("properties") or {}
        fid = properties.pop("gml_id", None)
        if schema is None:  # without a schema GDAL takes gml:boundedBy for attributes
            properties.pop("lowerCorner", None)
            properties.pop("upperCorner", None)
        out = {"type": "Feature", "properties": properties, "geometry": feature.get("geometry")}
        if fid is not None:
            out["id"] = fid
        features.append(out)
    return features, matched
