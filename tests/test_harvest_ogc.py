"""Harvesting geodata services: ``ogcapi-features`` against ODApp's own OGC API (pygeoapi, the
session fixture ``ogc_server``) and ``wfs`` against a real MapServer 8 WFS 2.0 (Debian package
cgi-mapserver, run as CGI behind a small HTTP server in this process).

Expected values come from the source data (odapp/demo_data, the generated point grid) or from
the serving side's own answers (numberMatched), never from the harvester under test."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyproj
import pytest
import requests
import shapely
from shapely.geometry import shape

from catalog import model
from catalog.data_store import DataStore
from catalog.store import Store
from harvesters.base import Defaults, Harvested, Item, RecordError, SourceConfig, SourceError
from harvesters.config import load_source
from harvesters.context import RunContext
from harvesters.run import run_source
from harvesters.sources import ogcapi_features, wfs
from tests.conftest import BASE, BIG_COLLECTION, BIG_COUNT, ROOT, Server

DEMO = ROOT / "odapp" / "demo_data"
FIXTURES = ROOT / "tests" / "fixtures" / "wfs"
STOPS = "haltestellen-dresden"  # 781 points derived by `odapp demo` from vvo_haltestellen.csv
AIR = "luftqualitaet-dresden-2019-02-stundenwerte"  # has a temporal extent
DL_BY = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"


def source(kind: str, url: str, **settings: object) -> SourceConfig:
    return SourceConfig(
        name=str(settings.pop("name", f"test-{kind}")),
        type=kind,
        organization={"name": "Landeshauptstadt Dresden"},
        url=url,
        defaults=Defaults(license=DL_BY),
        **settings,  # type: ignore[arg-type]
    )


def harvest(config: SourceConfig) -> list[Item]:
    fetch = ogcapi_features.fetch if config.type == "ogcapi-features" else wfs.fetch
    return list(fetch(RunContext(config, BASE)))


def by_id(items: list[Item]) -> dict[str, Harvested]:
    return {i.source_id: i for i in items if isinstance(i, Harvested)}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hanging server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


# --- ogcapi-features --------------------------------------------------------------------------


def test_collections_become_datasets(ogc_server: Server) -> None:
    ogc = f"{ogc_server.url}/ogc"
    listing = requests.get(f"{ogc}/collections", params={"f": "json"}, timeout=60).json()
    served = {c["id"]: c for c in listing["collections"]}
    features = {cid for cid, c in served.items() if c.get("itemType") == "feature"}
    items = harvest(source("ogcapi-features", ogc))
    harvested = by_id(items)
    assert set(harvested) == features  # every feature collection, not the Records catalogue
    assert "catalog" in served and "catalog" not in harvested
    assert not [i for i in items if isinstance(i, RecordError)]

    stops = harvested[STOPS]
    record = stops.record
    assert isinstance(record, model.Dataset)
    assert stops.origin == f"{ogc}/collections/{STOPS}"
    assert record.title == {"de": served[STOPS]["title"]}
    assert model.preferred_text(record.description) == served[STOPS]["description"]
    assert [k.value for k in record.keywords] == served[STOPS]["keywords"]
    # the extent, checked against the demo's source file: the stops with Dresden's district
    # key 14612 in their id (odapp/demo/transit.py)
    with (DEMO / "vvo_haltestellen.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["id"].startswith("de:14612:")]
    expected = shapely.MultiPoint([(float(r["longitude"]), float(r["latitude"])) for r in rows])
    coverage = shapely.from_wkt(record.spatial[0].bbox)
    assert coverage.bounds == pytest.approx(expected.bounds, abs=1e-6)
    api, download = record.distributions
    assert api.access_urls == [f"{ogc}/collections/{STOPS}"]
    assert CORE in api.conforms_to
    assert api.format.endswith("/file-type/GEOJSON")
    assert api.media_type.endswith("/application/geo+json")
    assert download.access_urls[0].startswith(f"{ogc}/collections/{STOPS}/items")
    assert not download.download_urls  # paged API: no single file without load
    air = harvested[AIR].record
    assert isinstance(air, model.Dataset)
    start, end = served[AIR]["extent"]["temporal"]["interval"][0]
    assert (air.temporal[0].start, air.temporal[0].end) == (start, end)


def test_collection_filters(ogc_server: Server) -> None:
    config = source(
        "ogcapi-features",
        f"{ogc_server.url}/ogc/",
        filters={"collections": [STOPS, AIR, "gibt-es-nicht"], "exclude": [AIR]},
    )
    items = harvest(config)
    assert set(by_id(items)) == {STOPS}
    errors = [i for i in items if isinstance(i, RecordError)]
    assert [e.source_id for e in errors] == ["gibt-es-nicht"]
    assert "gibt es auf dem Server nicht" in errors[0].message_de


def test_load_follows_next_links_through_every_feature(ogc_server: Server) -> None:
    ogc = f"{ogc_server.url}/ogc"
    matched = requests.get(
        f"{ogc}/collections/{BIG_COLLECTION}/items", params={"limit": 1, "f": "json"}, timeout=60
    ).json()["numberMatched"]
    assert matched == BIG_COUNT
    config = source(
        "ogcapi-features",
        ogc,
        filters={"collections": [BIG_COLLECTION]},
        load=True,
        options={"page_size": 1000},
    )
    (item,) = harvest(config)
    assert isinstance(item, Harvested)
    (attachment,) = item.attachments
    assert attachment.name == f"{BIG_COLLECTION}.geojson"
    data = json.loads(attachment.path.read_text("utf-8"))
    assert len(data["features"]) == matched
    # every generated point arrives once, with its values (tests/conftest.big_points_file)
    numbers = sorted(f["properties"]["nr"] for f in data["features"])
    assert numbers == list(range(1, BIG_COUNT + 1))
    point = next(f for f in data["features"] if f["properties"]["nr"] == 151)
    assert point["geometry"]["coordinates"] == pytest.approx([13.58, 50.98 + 0.0028])
    download = item.record.distributions[-1]
    url = f"{BASE}/files/harvest/{config.name}/{BIG_COLLECTION}.geojson"
    assert download.download_urls == [url] == download.access_urls
    assert download.byte_size == attachment.path.stat().st_size
    assert download.checksum is not None and download.checksum.value == sha256(attachment.path)
    # the same data give the same bytes, so a second run is "unchanged"
    (again,) = harvest(config)
    assert isinstance(again, Harvested)
    assert sha256(again.attachments[0].path) == sha256(attachment.path)


def test_licence_link_and_foreign_crs_extent() -> None:
    """A collection as ldproxy or GeoServer describe it: licence link, extent in EPSG:25833."""
    collection = {
        "id": "stadtteile",
        "title": "Stadtteile",
        "links": [
            {"rel": "license", "href": "https://www.govdata.de/dl-de/by-2-0", "title": "DL-DE BY"},
            {"rel": "items", "type": "application/geo+json", "href": "items?f=json"},
        ],
        "extent": {
            "spatial": {
                "bbox": [[400000, 5650000, 420000, 5665000]],
                "crs": "http://www.opengis.net/def/crs/EPSG/0/25833",
            },
            "temporal": {"interval": [["2024-01-01T00:00:00Z", None]]},
        },
    }
    url = "https://geo.example/ogc/collections/stadtteile"
    dataset, items_url = ogcapi_features._dataset(collection, url, "de")
    assert items_url == "https://geo.example/ogc/collections/items?f=json"
    assert {d.license for d in dataset.distributions} == {DL_BY}
    to_lonlat = pyproj.Transformer.from_crs("EPSG:25833", "OGC:CRS84", always_xy=True)
    expected = to_lonlat.transform_bounds(400000, 5650000, 420000, 5665000)
    assert shapely.from_wkt(dataset.spatial[0].bbox).bounds == pytest.approx(expected)
    assert dataset.temporal[0].start == "2024-01-01T00:00:00Z"
    assert dataset.temporal[0].end is None


def test_ogcapi_source_errors(ogc_server: Server, silent_port: int) -> None:
    with pytest.raises(SourceError) as html:  # the portal's start page is no OGC API
        harvest(source("ogcapi-features", f"{ogc_server.url}/dataset/nosuch"))
    assert "/dataset/nosuch" in html.value.where
    with pytest.raises(SourceError) as timeout:
        harvest(source("ogcapi-features", f"http://127.0.0.1:{silent_port}/ogc", timeout=1))
    assert "1 s" in timeout.value.message_de and "1 s" in timeout.value.message_en
    with pytest.raises(SourceError):
        harvest(source("ogcapi-features", f"http://127.0.0.1:{_closed_port()}/ogc"))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ogcapi_harvest_loads_into_the_data_store(
    store: Store, ogc_server: Server, tmp_path: Path
) -> None:
    ogc = f"{ogc_server.url}/ogc"
    matched = requests.get(
        f"{ogc}/collections/{STOPS}/items", params={"limit": 1, "f": "json"}, timeout=60
    ).json()["numberMatched"]
    config = source(
        "ogcapi-features",
        ogc,
        name="ogc-dresden",
        filters={"collections": [STOPS]},
        load=True,
        options={"page_size": 200},
    )
    result = run_source(store, config, files_dir=tmp_path / "files", base_url=BASE)
    assert result.status == "succeeded", result.summary()
    assert result.counts["new"] == 1
    stored = [r for r in store.iter_resources() if r.kind == "dataset"]
    assert len(stored) == 1
    record = stored[0].record
    assert model.preferred_text(record.title).startswith("Haltestellen Dresden")
    assert record.publisher is not None  # from the source's organisation
    loaded = [c for c in DataStore(store.engine).collections() if c.dataset_uri == stored[0].uri]
    assert len(loaded) == 1
    assert loaded[0].feature_count == matched
    assert (tmp_path / "files" / "harvest" / "ogc-dresden" / f"{STOPS}.geojson").is_file()
    again = run_source(store, config, files_dir=tmp_path / "files", base_url=BASE)
    assert again.status == "succeeded", again.summary()
    assert again.counts["unchanged"] == 1 and again.counts["changed"] == 0


# --- wfs (MapServer) --------------------------------------------------------------------------


class _MapServer:
    """MapServer's CGI program behind a threaded HTTP server: /wfs offers GeoJSON output,
    /wfs-gml only GML; /wartung answers HTML, /kaputt HTTP 500."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        data = workdir / "data"
        data.mkdir()
        _write_test_data(data)
        template = (FIXTURES / "dresden.map").read_text("utf-8")
        self.configs: dict[str, Path] = {}
        for path, formats in (("/wfs", '"wfs_getfeature_formatlist" "geojson"'), ("/wfs-gml", "")):
            name = path.strip("/")
            mapfile = workdir / f"{name}.map"
            mapfile.write_text(
                template.replace("@ONLINE@", f"{self.url}{path}?")
                .replace("@DATA@", str(data))
                .replace("@FORMATS@", formats),
                "utf-8",
            )
            conf = workdir / f"{name}.conf"
            conf.write_text(f'CONFIG\n  ENV\n    MS_MAPFILE "{mapfile}"\n  END\nEND\n', "utf-8")
            self.configs[path] = conf
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._answer(b"")

            def do_POST(self) -> None:
                self._answer(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def _answer(self, body: bytes) -> None:
                path, _, query = self.path.partition("?")
                if path == "/wartung":
                    return self._send(
                        200, "text/html", (FIXTURES / "not-capabilities.html").read_bytes()
                    )
                if path not in server.configs:
                    return self._send(500, "text/plain", b"interner Fehler")
                env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "MAPSERVER_CONFIG_FILE": str(server.configs[path]),
                    "REQUEST_METHOD": self.command,
                    "QUERY_STRING": query,
                    "CONTENT_LENGTH": str(len(body)),
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "SERVER_NAME": "127.0.0.1",
                    "SCRIPT_NAME": path,
                }
                out = subprocess.run(
                    ["mapserv"], env=env, input=body, capture_output=True, timeout=120
                ).stdout
                sep = b"\r\n\r\n" if b"\r\n\r\n" in out[:2000] else b"\n\n"
                head, _, payload = out.partition(sep)
                status, content_type = 200, "text/xml"
                for line in head.decode("latin-1").splitlines():
                    key, _, value = line.partition(":")
                    if key.strip().lower() == "status":
                        status = int(value.split()[0])
                    elif key.strip().lower() == "content-type":
                        content_type = value.strip()
                return self._send(status, content_type, payload)

            def _send(self, status: int, content_type: str, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _stops() -> dict[str, tuple[float, float]]:
    """The VVO stops in Dresden from the demo's source file: id -> (longitude, latitude)."""
    with (DEMO / "vvo_haltestellen.csv").open(encoding="utf-8") as f:
        return {
            r["id"]: (float(r["longitude"]), float(r["latitude"]))
            for r in csv.DictReader(f)
            if r["city"] == "Dresden"
        }


def _districts() -> dict[str, dict]:
    """The Stadtteile of the demo's OSM file: ref -> feature."""
    data = json.loads((DEMO / "stadtteile_dresden_osm2015.geojson").read_text("utf-8"))
    return {f["properties"]["ref"]: f for f in data["features"]}


def _write_test_data(folder: Path) -> None:
    # OSM's property names ("@id", "TMC:cid_58:...") are no XML names: MapServer would write
    # GML no parser accepts, so only three plain properties are served.
    features = [
        {
            "type": "Feature",
            "properties": {k: f["properties"][k] for k in ("ref", "name", "official_name")},
            "geometry": f["geometry"],
        }
        for f in _districts().values()
    ]
    (folder / "stadtteile.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), "utf-8"
    )
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:25833", always_xy=True)
    points = []
    for sid, (lon, lat) in _stops().items():
        x, y = to_utm.transform(lon, lat)
        points.append(
            {
                "type": "Feature",
                "properties": {"hst_id": sid},
                "geometry": {"type": "Point", "coordinates": [round(x, 3), round(y, 3)]},
            }
        )
    (folder / "haltestellen.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25833"}},
                "features": points,
            }
        ),
        "utf-8",
    )


@pytest.fixture(scope="module")
def mapserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_MapServer]:
    if shutil.which("mapserv") is None:
        why = "MapServer is not installed (Debian package cgi-mapserver)"
        if os.environ.get("CI"):  # CI installs it (scripts/test-services.sh): never skip there
            pytest.fail(why)
        pytest.skip(why)
    server = _MapServer(tmp_path_factory.mktemp("mapserver"))
    yield server
    server.stop()


def test_wfs_feature_types_become_datasets(mapserver: _MapServer) -> None:
    items = harvest(source("wfs", f"{mapserver.url}/wfs"))
    harvested = by_id(items)
    assert set(harvested) == {"ms:stadtteile", "ms:haltestellen"}
    districts = harvested["ms:stadtteile"].record
    assert isinstance(districts, model.Dataset)
    assert districts.title == {"de": "Stadtteile Dresden"}
    assert districts.description == {"de": "Grenzen der Stadtteile (OpenStreetMap 2015)"}
    assert [k.value for k in districts.keywords] == ["Stadtteile", "Grenzen", "Dresden"]
    union = shapely.union_all([shape(f["geometry"]) for f in _districts().values()])
    bbox = shapely.from_wkt(districts.spatial[0].bbox)
    assert bbox.bounds == pytest.approx(union.bounds, abs=1e-5)
    service, download = districts.distributions
    assert service.access_urls[0].startswith(f"{mapserver.url}/wfs?")
    assert "REQUEST=GetCapabilities" in service.access_urls[0]
    assert service.format.endswith("/file-type/WFS_SRVC")
    assert download.format.endswith("/file-type/GEOJSON")
    assert "OUTPUTFORMAT=application%2Fjson" in download.access_urls[0]
    # the licence of the service's AccessConstraints, on every distribution
    assert {d.license for d in districts.distributions} == {DL_BY}
    # GetFeature answers what the download distribution promises
    answer = requests.get(download.access_urls[0], timeout=60).json()
    assert len(answer["features"]) == len(_districts())


def test_wfs_load_reprojects_geojson_to_crs84(mapserver: _MapServer) -> None:
    config = source(
        "wfs",
        f"{mapserver.url}/wfs",
        filters={"typenames": ["haltestellen"]},
        load=True,
        options={"page_size": 250},
    )
    (item,) = harvest(config)
    assert isinstance(item, Harvested)
    (attachment,) = item.attachments
    assert attachment.name == "ms-haltestellen.geojson"
    features = json.loads(attachment.path.read_text("utf-8"))["features"]
    expected = _stops()
    assert len(features) == len(expected) > 500  # three pages of 250 and the rest
    got = {f["properties"]["hst_id"]: f["geometry"]["coordinates"] for f in features}
    assert set(got) == set(expected)
    for sid, (lon, lat) in expected.items():  # served in EPSG:25833, harvested in CRS84
        assert got[sid] == pytest.approx([lon, lat], abs=1e-6)
    assert item.record.distributions[-1].download_urls == [
        f"{BASE}/files/harvest/{config.name}/ms-haltestellen.geojson"
    ]


def test_wfs_load_reads_gml_when_there_is_no_geojson(mapserver: _MapServer) -> None:
    config = source("wfs", f"{mapserver.url}/wfs-gml", filters={"typenames": ["ms:stadtteile"]})
    (described,) = harvest(config)
    assert isinstance(described, Harvested)
    assert described.record.distributions[-1].format.endswith("/file-type/GML")
    config.load = True
    (item,) = harvest(config)
    assert isinstance(item, Harvested)
    features = json.loads(item.attachments[0].path.read_text("utf-8"))["features"]
    source_districts = _districts()
    assert len(features) == len(source_districts)
    for feature in features:  # GML 3.2 in urn EPSG:4326 (latitude first) back to lon/lat
        ref = feature["properties"]["ref"]
        assert feature["id"] == f"stadtteile.{ref}"
        original = shape(source_districts[ref]["geometry"])
        harvested = shape(feature["geometry"])
        assert harvested.bounds == pytest.approx(original.bounds, abs=1e-6)
        assert harvested.area == pytest.approx(original.area, rel=1e-6)


def test_wfs_filters_and_errors(mapserver: _MapServer, silent_port: int) -> None:
    items = harvest(
        source("wfs", f"{mapserver.url}/wfs", filters={"typenames": ["haltestellen", "gleise"]})
    )
    assert set(by_id(items)) == {"ms:haltestellen"}
    assert [i.source_id for i in items if isinstance(i, RecordError)] == ["gleise"]
    for broken in ("/wartung", "/kaputt"):
        with pytest.raises(SourceError) as error:
            harvest(source("wfs", f"{mapserver.url}{broken}"))
        assert broken in error.value.message_de and broken in error.value.message_en
    with pytest.raises(SourceError) as timeout:
        harvest(source("wfs", f"http://127.0.0.1:{silent_port}/wfs", timeout=1))
    assert "nicht erreichbar" in timeout.value.message_de


def test_wfs_harvest_loads_into_the_data_store(
    store: Store, mapserver: _MapServer, tmp_path: Path
) -> None:
    config = source(
        "wfs",
        f"{mapserver.url}/wfs",
        name="wfs-dresden",
        filters={"typenames": ["ms:haltestellen"]},
        load=True,
    )
    result = run_source(store, config, files_dir=tmp_path / "files", base_url=BASE)
    assert result.status == "succeeded", result.summary()
    assert result.counts["new"] == 1
    (stored,) = [r for r in store.iter_resources() if r.kind == "dataset"]
    loaded = [c for c in DataStore(store.engine).collections() if c.dataset_uri == stored.uri]
    assert [c.feature_count for c in loaded] == [len(_stops())]
    assert loaded[0].bbox is not None
    lon = [p[0] for p in _stops().values()]
    assert loaded[0].bbox[0] == pytest.approx(min(lon), abs=1e-6)


@pytest.mark.parametrize("kind", ["ogcapi-features", "wfs"])
def test_example_file_is_valid(kind: str) -> None:
    config = load_source(ROOT / "config" / "harvesters" / "examples" / f"{kind}.yaml")
    assert config.type == kind
    assert config.url and config.url.startswith("https://")
    allowed = {"ogcapi-features": {"collections", "exclude"}, "wfs": {"typenames", "exclude"}}
    assert set(config.filters) <= allowed[kind]
    assert config.defaults.license == DL_BY
    assert config.options.get("page_size") == 1000
