"""Loading a catalogue's distributions into the data store, then describing the result in the
catalogue: every served collection becomes an OGC API distribution of its dataset, with the
data service that serves it, and the dataset's coverage comes from the data when its metadata
has none."""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests
import shapely
from slugify import slugify

from catalog import model
from catalog.data_registry import CollectionInfo
from catalog.data_store import DataStore
from catalog.errors import CatalogError, Problem
from catalog.store import Store

OGC_FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0"
OGC_FEATURES_CRS = "http://www.opengis.net/spec/ogcapi-features-2/1.0"
OGC_FEATURES_FILTER = "http://www.opengis.net/spec/ogcapi-features-3/1.0"
OGC_RECORDS = "http://www.opengis.net/spec/ogcapi-records-1/1.0"
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
IANA = "https://www.iana.org/assignments/media-types/"
SERVICE_NAME = "ogc-api"
GEODATA = ("geojson", "shapefile", "geopackage", "kml")
MAX_DOWNLOAD = 2 * 1024**3  # a distribution larger than this is not loaded


@dataclass
class Outcome:
    dataset: str
    collection: str
    source: str
    changed: bool = False
    problems: list[Problem] = field(default_factory=list)
    warnings: int = 0


_FORMATS = {  # EU file-type codes, IANA media types and file suffixes we load, lower-cased
    "geojson": "geojson",
    "application/geo+json": "geojson",
    "shp": "shapefile",
    "application/x-shapefile": "shapefile",
    "application/vnd.shp": "shapefile",
    "gpkg": "geopackage",
    "application/geopackage+sqlite3": "geopackage",
    "kml": "kml",
    "application/vnd.google-earth.kml+xml": "kml",
    "csv": "csv",
    "text/csv": "csv",
    "xlsx": "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}


def _hint(value: str) -> str:
    value = value.strip().lower()
    if value.startswith(EU_FILE_TYPE.lower()):
        return value.rsplit("/", 1)[-1]
    if value.startswith(IANA.lower()):
        return value.removeprefix(IANA.lower())
    return value.lstrip(".")


def loadable_format(dist: model.Distribution) -> str | None:
    """The reader format of a distribution, or None when it is nothing we load."""
    url = (dist.download_urls or dist.access_urls or [""])[0]
    for hint in (dist.format, dist.media_type, Path(urlparse(url).path).suffix):
        if hint and _hint(hint) in _FORMATS:
            return _FORMATS[_hint(hint)]
    return None


class CatalogueLoader:
    """Loads every loadable distribution of the catalogue (or of some datasets)."""

    def __init__(self, store: Store, files_dir: Path, ogc_url: str) -> None:
        self.store = store
        self.data = DataStore(store.engine)
        self.files_dir = files_dir
        self.ogc_url = ogc_url.rstrip("/")

    def run(self, names: list[str] | None = None, *, force: bool = False) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for stored in self.store.iter_resources():
            if stored.kind not in ("dataset", "series") or (names and stored.name not in names):
                continue
            record = stored.record
            loadable = [
                (d, fmt)
                for d in getattr(record, "distributions", [])
                if (fmt := loadable_format(d)) and not _is_ogc(d)
            ]
            # geodata first: the dataset's name goes to its map layer, not to a side table
            loadable.sort(key=lambda pair: pair[1] not in GEODATA)
            taken: set[str] = set()
            for dist, fmt in loadable:
                cid = _collection_id(stored.name, dist, taken)
                outcomes.append(self._load(stored.name, stored.uri, record, dist, fmt, cid, force))
        publish(self.store, self.data, self.ogc_url)
        return outcomes

    def _load(
        self,
        name: str,
        dataset_uri: str,
        record: model.Resource,
        dist: model.Distribution,
        fmt: str,
        cid: str,
        force: bool,
    ) -> Outcome:
        url = (dist.download_urls or dist.access_urls)[0]
        outcome = Outcome(name, cid, url)
        title = model.preferred_text(dist.title) or model.preferred_text(record.title)
        try:
            with self._local(url) as path:
                result = self.data.load(
                    cid,
                    path,
                    fmt=fmt,
                    title=title,
                    description=model.preferred_text(dist.description)
                    or model.preferred_text(record.description),
                    dataset_uri=dataset_uri,
                    distribution_uri=dist.uri,
                    source=url,
                    where=url.rsplit("/", 1)[-1],
                    force=force,
                )
        except CatalogError as exc:
            outcome.problems = exc.problems
            return outcome
        outcome.changed = result.changed
        outcome.warnings = len(result.warnings)
        return outcome

    def _local(self, url: str) -> _LocalFile:
        """The file behind ``url``: our own /files/ URLs and file:// map to disk, others are
        downloaded (up to MAX_DOWNLOAD)."""
        files_prefix = f"{self.store.base_url}/files/"
        if url.startswith(files_prefix):
            return _LocalFile(self.files_dir / unquote(url.removeprefix(files_prefix)))
        parsed = urlparse(url)
        if parsed.scheme == "file":
            return _LocalFile(Path(unquote(parsed.path)))
        if parsed.scheme in ("http", "https"):
            return _LocalFile(None, url)
        raise CatalogError.one(
            url, "url", "Adresse ist weder http(s) noch file.", "URL is neither http(s) nor file."
        )


class _LocalFile:
    def __init__(self, path: Path | None, url: str | None = None) -> None:
        self.path = path
        self.url = url
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Path:
        if self.path is not None:
            return self.path
        assert self.url is not None
        self._tmp = tempfile.TemporaryDirectory(prefix="odapp-load-")
        name = Path(urlparse(self.url).path).name or "download"
        target = Path(self._tmp.name) / name
        try:
            with requests.get(self.url, stream=True, timeout=60) as response:
                response.raise_for_status()
                size = 0
                with target.open("wb") as fh:
                    for chunk in response.iter_content(1 << 20):
                        size += len(chunk)
                        if size > MAX_DOWNLOAD:
                            raise CatalogError.one(
                                self.url,
                                "too-large",
                                "Die Datei ist größer als 2 GB und wird nicht geladen.",
                                "The file is larger than 2 GB and is not loaded.",
                            )
                        fh.write(chunk)
        except requests.RequestException as exc:
            raise CatalogError.one(
                self.url,
                "download",
                f"Herunterladen fehlgeschlagen: {exc}",
                f"Download failed: {exc}",
            ) from None
        return target

    def __exit__(self, *_exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


def _collection_id(name: str, dist: model.Distribution, taken: set[str]) -> str:
    """The dataset's name for its first collection, then name + file name (or format)."""
    url = (dist.download_urls or dist.access_urls or [""])[0]
    stem = slugify(Path(urlparse(url).path).stem, max_length=40)
    fmt = loadable_format(dist) or "data"
    second = f"{name}-{stem}" if stem and stem not in name else f"{name}-{fmt}"
    for candidate in (name, second, *(f"{name}-{n}" for n in range(2, 1000))):
        candidate = candidate[:100]
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    raise AssertionError("unreachable")


def _is_ogc(dist: model.Distribution) -> bool:
    return OGC_FEATURES in dist.conforms_to


def _ours(dist: model.Distribution, ogc_url: str) -> bool:
    return any(url.startswith(ogc_url + "/") for url in dist.access_urls)


# --- describing the served collections in the catalogue -------------------------------------


def publish(store: Store, data: DataStore, ogc_url: str) -> list[str]:
    """Give every dataset with served collections its OGC API distributions (and coverage
    computed from the data where the metadata has none); returns the names changed."""
    by_dataset: dict[str, list[CollectionInfo]] = {}
    for info in data.collections():
        if info.dataset_uri:
            by_dataset.setdefault(info.dataset_uri, []).append(info)
    if not by_dataset:
        return []
    service_uri = f"{store.base_url}/dataset/{SERVICE_NAME}"
    changed: list[model.Resource] = []
    for stored in store.iter_resources():
        infos = by_dataset.get(stored.uri)
        record = stored.record
        if not infos or not isinstance(record, model.Dataset):
            continue
        updated = copy.deepcopy(record)
        _describe(updated, infos, ogc_url, service_uri)
        if updated.to_dict() != record.to_dict():
            changed.append(updated)
    newest = max(i.loaded_at for infos in by_dataset.values() for i in infos if i.loaded_at)
    service = _service(store, ogc_url, service_uri, sorted(by_dataset), newest.date().isoformat())
    if service is not None:
        changed.append(service)
    if changed:
        store.save(changed)
    return [model.preferred_text(r.title) for r in changed]


def _describe(
    record: model.Dataset, infos: list[CollectionInfo], ogc_url: str, service_uri: str
) -> None:
    sources = {d.uri: d for d in record.distributions if d.uri}
    # our own OGC API distributions are rebuilt; another server's (a harvested one) stay
    keep = [d for d in record.distributions if not (_is_ogc(d) and _ours(d, ogc_url))]
    licensed = next((d for d in record.distributions if d.license), None)
    for info in infos:
        source = sources.get(info.distribution_uri or "") or licensed
        link = f"{ogc_url}/collections/{info.id}"
        keep.append(
            model.Distribution(
                uri=f"{record.uri}#ogc-api-{info.id}",
                access_urls=[link],
                title={
                    "de": f"OGC API Features: {info.title}",
                    "en": f"OGC API Features: {info.title}",
                },
                description={
                    "de": "Die Daten als Schnittstelle nach OGC API – Features (GeoJSON, "
                    f"seitenweise, filterbar mit bbox, datetime und CQL2): {link}/items",
                    "en": "The data through an OGC API – Features interface (GeoJSON, paged, "
                    f"filterable with bbox, datetime and CQL2): {link}/items",
                },
                format=f"{EU_FILE_TYPE}GEOJSON",
                media_type=f"{IANA}application/geo+json",
                conforms_to=[OGC_FEATURES, OGC_FEATURES_CRS, OGC_FEATURES_FILTER],
                access_services=[service_uri],
                license=source.license if source else record.license,
                license_attribution=source.license_attribution if source else None,
                availability=source.availability if source else None,
                languages=list(source.languages) if source else [],
                modified=info.loaded_at.date().isoformat() if info.loaded_at else None,
            )
        )
    record.distributions = keep
    if not any(loc.geometry or loc.bbox for loc in record.spatial):
        boxes = [i.bbox for i in infos if i.bbox]
        if boxes:
            box = shapely.box(
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            )
            record.spatial.append(model.Location(bbox=box.wkt))
    if not record.temporal:
        times = [(i.time_min, i.time_max) for i in infos if i.time_min]
        if times:
            start = min(t[0] for t in times)[:10]
            end = max(t[1] for t in times if t[1])[:10]
            record.temporal.append(model.PeriodOfTime(start=start, end=end))


def _service(
    store: Store, ogc_url: str, service_uri: str, served: list[str], modified: str
) -> model.DataService | None:
    catalog = store.catalog()
    try:
        existing = store.get(service_uri).record
    except CatalogError:
        existing = None
    publisher = catalog.publisher if catalog else None
    if publisher is None:  # no catalogue record yet: the publisher of a served dataset
        for uri in served:
            publisher = getattr(store.get(uri).record, "publisher", None)
            if publisher is not None:
                break
    service = model.DataService(
        uri=service_uri,
        identifier=[SERVICE_NAME],
        title={
            "de": "OGC API dieses Katalogs (Features und Records)",
            "en": "OGC API of this catalogue (Features and Records)",
        },
        description={
            "de": f"Geodaten und Tabellen des Katalogs als OGC API – Features unter {ogc_url}/ "
            "(GeoJSON, Koordinatensysteme CRS84, EPSG:4326, EPSG:25833, EPSG:3857, Filter mit "
            "CQL2); der Katalog selbst als OGC API – Records (Sammlung catalog). Nutzbar mit "
            "QGIS, GDAL (OAPIF:), OWSLib und Webkarten.",
            "en": f"The catalogue's geodata and tables as OGC API – Features at {ogc_url}/ "
            "(GeoJSON, CRS84, EPSG:4326, EPSG:25833, EPSG:3857, CQL2 filters); the catalogue "
            "itself as OGC API – Records (collection catalog). Works with QGIS, GDAL (OAPIF:), "
            "OWSLib and web maps.",
        },
        publisher=publisher,
        contact_points=list(existing.contact_points) if existing else [],
        keywords=[model.LangStr(k, "de") for k in ("OGC API", "Geodaten", "Schnittstelle")],
        themes=["http://publications.europa.eu/resource/authority/data-theme/GOVE"],
        access_rights="http://publications.europa.eu/resource/authority/access-right/PUBLIC",
        license=catalog.license if catalog and getattr(catalog, "license", None) else None,
        endpoint_urls=[f"{ogc_url}/"],
        endpoint_descriptions=[f"{ogc_url}/openapi"],
        conforms_to=[OGC_FEATURES, OGC_FEATURES_CRS, OGC_FEATURES_FILTER, OGC_RECORDS],
        serves_datasets=served,
        formats=[f"{EU_FILE_TYPE}GEOJSON", f"{EU_FILE_TYPE}JSON", f"{EU_FILE_TYPE}HTML"],
        landing_pages=[f"{ogc_url}/"],
    )
    service.issued = existing.issued if existing is not None else modified
    service.modified = modified
    if existing is not None and existing.to_dict() == service.to_dict():
        return None
    return service
