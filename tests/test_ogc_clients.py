"""The OGC API as real clients see it, on both backends (the session fixture ``ogc_server``):
OWSLib's Features and Records classes, GDAL's OAPIF driver (``ogrinfo``, ``ogr2ogr``, what QGIS
uses underneath) and plain HTTP for OGC API Features Part 2 (``crs``, ``bbox-crs``).

Expected values come from the source files (the demo data, the generated point grid) and from
pyproj, never from the server itself."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyproj
import pytest
import requests
import shapely
from owslib.ogcapi.features import Features
from owslib.ogcapi.records import Records
from rdflib import Graph, URIRef
from rdflib import namespace as rdfns

from tests.conftest import BIG_COLLECTION, BIG_COUNT, ROOT, Server

DEMO = ROOT / "odapp" / "demo_data"
DISTRICTS = "wahlbezirke-europawahl-2024"  # odapp/demo_data/wahlbezirke_europawahl2024.geojson
STOPS = "haltestellen-vvo"  # odapp/demo_data/vvo_haltestellen.csv
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
SUPPORTED_CRS = [CRS84] + [f"{EPSG}{code}" for code in (4326, 25833, 25832, 3857, 4258, 31468)]
TO_UTM = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:25833", always_xy=True)
# An 8 km x 8 km box in EPSG:25833 around the Altstadt (247 stops); no stop lies within 30 m of
# its edges, so neither a client's reprojection of the box nor rounding decides what is inside.
# UTM grid north is about 1 degree off true north here: the box is no longitude/latitude box.
UTM_BOX = (407_400.0, 5_648_600.0, 415_400.0, 5_656_600.0)
# A box in CRS84 (longitude, latitude) over the inner city; no stop within 3 m of its edges.
LONLAT_BOX = (13.713, 51.037, 13.773, 51.077)
GDAL_TIMEOUT = 180  # seconds for any one ogrinfo / ogr2ogr call
HTTP_TIMEOUT = 60


# --- expected values, from the source files --------------------------------------------------


@cache
def stops() -> dict[str, tuple[float, float]]:
    """Stop id → (longitude, latitude), straight from the CSV."""
    with (DEMO / "vvo_haltestellen.csv").open(encoding="utf-8") as f:
        return {r["id"]: (float(r["longitude"]), float(r["latitude"])) for r in csv.DictReader(f)}


@cache
def stops_utm() -> dict[str, tuple[float, float]]:
    return {sid: TO_UTM.transform(lon, lat) for sid, (lon, lat) in stops().items()}


def inside(box: tuple[float, ...], xy: tuple[float, float]) -> bool:
    return box[0] <= xy[0] <= box[2] and box[1] <= xy[1] <= box[3]


def expected_in(box: tuple[float, ...], points: dict[str, tuple[float, float]], margin: float) -> set:
    """The ids of the points inside ``box``, after checking that none is closer than ``margin``
    to its boundary (so the test cannot hinge on how a client rounds or densifies the box)."""
    boundary = shapely.box(*box).boundary
    assert min(boundary.distance(shapely.Point(xy)) for xy in points.values()) > margin
    found = {sid for sid, xy in points.items() if inside(box, xy)}
    assert 50 < len(found) < 1000  # a meaningful, single-page selection
    return found


@cache
def districts() -> dict[str, dict]:
    """Polling district number (property wb) → source feature."""
    source = json.loads((DEMO / "wahlbezirke_europawahl2024.geojson").read_text(encoding="utf-8"))
    by_wb = {f["properties"]["wb"]: f for f in source["features"]}
    assert len(by_wb) == len(source["features"]) == 408
    return by_wb


def big_point(nr: int) -> tuple[float, float]:
    """Where conftest.big_points_file puts point ``nr`` (1-based)."""
    i = nr - 1
    return 13.58 + (i % 150) * 0.0025, 50.98 + (i // 150) * 0.0028


# --- helpers ----------------------------------------------------------------------------------


def ogc(server: Server) -> str:
    return f"{server.url}/ogc/"


def get(server: Server, path: str, **params: object) -> requests.Response:
    return requests.get(f"{server.url}/ogc{path}", params=params, timeout=HTTP_TIMEOUT)


def collection_ids(server: Server) -> list[str]:
    response = get(server, "/collections")
    assert response.status_code == 200
    return [c["id"] for c in response.json()["collections"]]


def gdal(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a GDAL command-line tool as a user would, with a time limit; it must succeed."""
    if shutil.which(args[0]) is None:
        pytest.skip(f"{args[0]} not installed (GDAL's gdal-bin; see scripts/test-services.sh)")
    env = {**os.environ, "CPL_DEBUG": "OFF", "GDAL_HTTP_TIMEOUT": "60"}
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=GDAL_TIMEOUT, env=env, check=False
    )
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return result


def oapif(server: Server) -> str:
    """The data source name a GDAL/QGIS user types: the landing page behind ``OAPIF:``."""
    return f"OAPIF:{ogc(server)}"


def read_geojson(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["features"]


# --- OWSLib: OGC API Features -----------------------------------------------------------------


def test_owslib_reads_landing_page_conformance_and_every_collection(ogc_server: Server) -> None:
    api = Features(ogc(ogc_server), timeout=HTTP_TIMEOUT)
    rels = {link["rel"] for link in api.links}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    assert api.api()["openapi"].startswith("3.0")  # the service-desc link, read by OWSLib
    classes = api.conformance()["conformsTo"]
    for needed in (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    ):
        assert needed in classes

    listed = [c["id"] for c in api.collections()["collections"]]
    assert listed == collection_ids(ogc_server)
    features = api.feature_collections()
    assert set(features) == set(listed) - {"catalog"}
    assert {DISTRICTS, STOPS, BIG_COLLECTION} <= set(features)

    for cid in listed:
        info = api.collection(cid)
        assert info["id"] == cid
        assert info["title"]
        queryables = api.collection_queryables(cid)
        assert queryables["type"] == "object" and queryables["properties"], cid
        assert queryables["$id"] == f"{ogc(ogc_server)}collections/{cid}/queryables"
        page = api.collection_items(cid)
        assert page["type"] == "FeatureCollection", cid
        assert 0 < len(page["features"]) <= 10, cid  # the default page size; none is empty
        assert page["numberReturned"] == len(page["features"])
        assert page["numberMatched"] >= page["numberReturned"]
        for feature in page["features"]:
            assert feature["type"] == "Feature" and feature["id"] not in (None, "")
            assert "geometry" in feature
            if cid != "catalog":  # every property of a feature can be used in a filter
                assert set(feature["properties"]) <= set(queryables["properties"]), cid
        if cid != "catalog":
            assert info["itemType"] == "feature"
            assert info["crs"] == SUPPORTED_CRS  # CRS84 first, as Part 2 asks
            assert info["storageCrs"] == CRS84


def test_owslib_items_with_limit_and_bbox(ogc_server: Server) -> None:
    expected = expected_in(LONLAT_BOX, stops(), margin=3e-5)
    api = Features(ogc(ogc_server), timeout=HTTP_TIMEOUT)

    first = api.collection_items(STOPS, limit=5, bbox=list(LONLAT_BOX))
    assert first["numberMatched"] == len(expected)
    assert first["numberReturned"] == len(first["features"]) == 5
    assert {f["id"] for f in first["features"]} <= expected
    assert [link for link in first["links"] if link["rel"] == "next"]

    everything = api.collection_items(STOPS, limit=1000, bbox=list(LONLAT_BOX))
    got = {f["id"]: f for f in everything["features"]}
    assert set(got) == expected
    assert not [link for link in everything["links"] if link["rel"] == "next"]
    for sid, feature in got.items():
        assert feature["geometry"]["coordinates"] == pytest.approx(list(stops()[sid]), abs=1e-9)


def test_owslib_pages_through_more_than_10000_features(ogc_server: Server) -> None:
    api = Features(ogc(ogc_server), timeout=HTTP_TIMEOUT)
    params: dict[str, str | int] = {"limit": 3000}
    seen: list[int] = []
    pages = 0
    while True:
        page = api.collection_items(BIG_COLLECTION, **params)
        pages += 1
        assert page["numberMatched"] == BIG_COUNT
        assert page["numberReturned"] == len(page["features"])
        for feature in page["features"]:
            nr = feature["properties"]["nr"]
            assert feature["id"] == nr
            assert feature["properties"]["gruppe"] == f"g{(nr - 1) % 7}"
            assert feature["geometry"]["coordinates"] == pytest.approx(big_point(nr), abs=1e-9)
        seen += [f["id"] for f in page["features"]]
        following = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not following:
            break
        assert pages < 10, "the next links do not end"
        url = urlsplit(following[0])
        assert url.path == f"/ogc/collections/{BIG_COLLECTION}/items"
        params = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert pages == 4  # 3000 + 3000 + 3000 + 1500
    assert len(seen) == len(set(seen)) == BIG_COUNT
    assert set(seen) == set(range(1, BIG_COUNT + 1))


# --- OWSLib: OGC API Records ------------------------------------------------------------------


def test_owslib_records_finds_the_polling_district_dataset(ogc_server: Server) -> None:
    api = Records(ogc(ogc_server), timeout=HTTP_TIMEOUT)
    assert api.records() == ["catalog"]
    found = api.collection_items("catalog", q="Wahlbezirke")
    assert found["type"] == "FeatureCollection"
    by_id = {r["id"]: r for r in found["features"]}
    assert DISTRICTS in by_id, sorted(by_id)
    record = by_id[DISTRICTS]
    assert record["properties"]["type"] == "dataset"
    assert "Wahlbezirke" in record["properties"]["title"]
    single = api.collection_item("catalog", DISTRICTS)
    assert (single["properties"], single["geometry"]) == (record["properties"], record["geometry"])

    links = record["links"]
    turtle = [link for link in links if link["href"].endswith(".ttl")]
    assert len(turtle) == 1
    assert turtle[0]["rel"] == "describedby" and turtle[0]["type"] == "text/turtle"
    assert turtle[0]["href"] == f"{ogc_server.url}/dataset/{DISTRICTS}.ttl"
    response = requests.get(turtle[0]["href"], timeout=HTTP_TIMEOUT)
    assert response.status_code == 200
    graph = Graph().parse(data=response.text, format="turtle")
    datasets = set(graph.subjects(rdfns.RDF.type, rdfns.DCAT.Dataset))
    assert len(datasets) == 1
    assert graph.value(next(iter(datasets)), rdfns.DCAT.distribution) is not None
    assert isinstance(next(iter(datasets)), URIRef)

    collection_url = f"{ogc(ogc_server)}collections/{DISTRICTS}"
    assert collection_url in {link["href"] for link in links}
    # follow it as a client would: the collection behind the record holds the file's districts
    response = requests.get(collection_url, timeout=HTTP_TIMEOUT)
    assert response.status_code == 200 and response.json()["id"] == DISTRICTS
    features = Features(ogc(ogc_server), timeout=HTTP_TIMEOUT)
    items = features.collection_items(DISTRICTS, limit=1000)["features"]
    source = json.loads((DEMO / "wahlbezirke_europawahl2024.geojson").read_text(encoding="utf-8"))
    assert {f["id"]: f["properties"]["wb"] for f in items} == {
        f["id"]: f["properties"]["wb"] for f in source["features"]
    }


# --- GDAL's OAPIF driver ----------------------------------------------------------------------


def test_ogrinfo_lists_every_collection(ogc_server: Server) -> None:
    listed = gdal("ogrinfo", "-ro", "-q", oapif(ogc_server)).stdout
    layers = re.findall(r"^\d+: (\S+) \(title: ", listed, flags=re.MULTILINE)
    assert layers == collection_ids(ogc_server)
    titles = {c["id"]: c["title"] for c in get(ogc_server, "/collections").json()["collections"]}
    for line in listed.splitlines():
        match = re.match(r"^\d+: (\S+) \(title: ", line)
        if match:
            assert f"(title: {titles[match.group(1)]})" in line
    assert re.search(rf"^\d+: {DISTRICTS} \(title: .*\) \(Polygon\)$", listed, re.MULTILINE)
    assert re.search(rf"^\d+: {STOPS} \(title: .*\) \(Point\)$", listed, re.MULTILINE)
    # the same URL without the trailing slash, as often pasted into QGIS
    again = gdal("ogrinfo", "-ro", "-q", oapif(ogc_server).rstrip("/")).stdout
    assert re.findall(r"^\d+: (\S+) \(title: ", again, flags=re.MULTILINE) == layers


def test_ogrinfo_summary_of_the_big_collection(ogc_server: Server) -> None:
    summary = gdal("ogrinfo", "-ro", "-so", oapif(ogc_server), BIG_COLLECTION).stdout
    assert re.search(rf"^Feature Count: {BIG_COUNT}$", summary, re.MULTILINE), summary
    assert re.search(r"^Geometry: Point$", summary, re.MULTILINE)
    assert re.search(r"^nr: Integer", summary, re.MULTILINE)
    assert re.search(r"^gruppe: String", summary, re.MULTILINE)
    assert re.search(r"^wert: Real", summary, re.MULTILINE)
    (x0, y0), (x1, y1) = big_point(1), big_point(BIG_COUNT)
    assert f"Extent: ({x0:.6f}, {y0:.6f}) - ({x1:.6f}, {y1:.6f})" in summary


def test_ogr2ogr_copies_all_10500_features(ogc_server: Server, tmp_path: Path) -> None:
    # GDAL 3.6 asks for GDAL's default page size (limit=10) and follows the 1,050 next links
    out = tmp_path / "punkte.geojson"
    gdal("ogr2ogr", "-f", "GeoJSON", str(out), oapif(ogc_server), BIG_COLLECTION)
    features = read_geojson(out)
    assert len(features) == BIG_COUNT
    numbers = [f["properties"]["nr"] for f in features]
    assert sorted(numbers) == list(range(1, BIG_COUNT + 1))
    for feature in features:
        nr = feature["properties"]["nr"]
        assert set(feature["properties"]) == {"nr", "gruppe", "wert"}
        assert feature["properties"]["gruppe"] == f"g{(nr - 1) % 7}"
        assert feature["properties"]["wert"] == round((nr - 1) * 0.5, 1)
        assert feature["geometry"]["type"] == "Point"
        assert feature["geometry"]["coordinates"] == pytest.approx(big_point(nr), abs=1e-9)


def test_ogr2ogr_polling_districts_equal_the_source_file(
    ogc_server: Server, tmp_path: Path
) -> None:
    out = tmp_path / "wahlbezirke.geojson"
    gdal("ogr2ogr", "-f", "GeoJSON", str(out), oapif(ogc_server), DISTRICTS)
    copied = {f["properties"]["wb"]: f for f in read_geojson(out)}
    source = districts()
    assert len(copied) == len(read_geojson(out)) == 408
    assert set(copied) == set(source)
    for wb, feature in copied.items():
        assert feature["properties"] == source[wb]["properties"]
        ours, theirs = shapely.geometry.shape(feature["geometry"]), shapely.geometry.shape(
            source[wb]["geometry"]
        )
        assert ours.geom_type == theirs.geom_type, wb
        assert shapely.equals_exact(ours, theirs, tolerance=1e-9), wb


def test_ogr2ogr_spatial_filter_in_epsg_25833(ogc_server: Server, tmp_path: Path) -> None:
    expected = expected_in(UTM_BOX, stops_utm(), margin=30.0)
    out = tmp_path / "haltestellen.geojson"
    gdal(
        "ogr2ogr", "-f", "GeoJSON", "-spat", *(str(v) for v in UTM_BOX),
        "-spat_srs", "EPSG:25833", str(out), oapif(ogc_server), STOPS,
    )
    features = read_geojson(out)
    got = [f["properties"]["id"] for f in features]  # a string id becomes an "id" field in OGR
    assert len(got) == len(set(got))
    assert set(got) == expected
    for feature in features:
        lon, lat = stops()[feature["properties"]["id"]]
        assert feature["properties"]["longitude"] == lon and feature["properties"]["latitude"] == lat
        assert feature["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-9)


# --- plain HTTP: OGC API Features Part 2 ------------------------------------------------------


def test_bbox_crs_25833_over_http(ogc_server: Server) -> None:
    expected = expected_in(UTM_BOX, stops_utm(), margin=30.0)
    response = get(
        ogc_server, f"/collections/{STOPS}/items", limit=1000,
        bbox=",".join(str(v) for v in UTM_BOX), **{"bbox-crs": f"{EPSG}25833"},
    )
    assert response.status_code == 200, response.text
    page = response.json()
    got = {f["id"] for f in page["features"]}
    assert got == expected, (
        f"{len(got)} stops instead of {len(expected)}; not inside the box: {sorted(got - expected)}; "
        f"missing: {sorted(expected - got)}"
    )
    assert page["numberMatched"] == len(expected)


def test_crs_25833_output_agrees_with_pyproj(ogc_server: Server) -> None:
    response = get(ogc_server, f"/collections/{STOPS}/items", limit=10_000, crs=f"{EPSG}25833")
    assert response.status_code == 200
    assert response.headers["Content-Crs"] == f"<{EPSG}25833>"
    page = response.json()
    assert page["numberMatched"] == page["numberReturned"] == len(stops())
    utm = stops_utm()
    for feature in page["features"]:
        x, y = feature["geometry"]["coordinates"]
        ex, ey = utm[feature["id"]]
        assert abs(x - ex) < 0.01 and abs(y - ey) < 0.01, (feature["id"], x, y, ex, ey)
    # one feature on its own, in the same CRS
    sid = page["features"][0]["id"]
    one = get(ogc_server, f"/collections/{STOPS}/items/{sid}", crs=f"{EPSG}25833")
    assert one.status_code == 200 and one.headers["Content-Crs"] == f"<{EPSG}25833>"
    assert one.json()["geometry"]["coordinates"] == pytest.approx(list(utm[sid]), abs=0.01)


# --- what the clients tripped over (each is a deviation from the standards) -------------------


def test_feature_responses_are_geojson(ogc_server: Server) -> None:
    """Part 1, /req/geojson/definition: 200-responses with feature content are
    application/geo+json, which is also what the items and self links announce."""
    wrong = []
    for path in (f"/collections/{STOPS}/items", f"/collections/{BIG_COLLECTION}/items/1"):
        response = requests.get(
            f"{ogc_server.url}/ogc{path}", headers={"Accept": "application/geo+json"},
            timeout=HTTP_TIMEOUT,
        )
        assert response.status_code == 200
        self_link = next(link for link in response.json()["links"] if link["rel"] == "self")
        assert self_link["type"] == "application/geo+json"
        if response.headers["Content-Type"].split(";")[0] != "application/geo+json":
            wrong.append(f"{path}: Content-Type {response.headers['Content-Type']}")
    assert not wrong, "\n".join(wrong)


def test_every_landing_page_link_resolves(ogc_server: Server) -> None:
    landing = get(ogc_server, "/").json()
    broken = []
    for link in landing["links"]:
        response = requests.get(link["href"], timeout=HTTP_TIMEOUT)
        if response.status_code != 200:
            broken.append(f"{link['rel']} {link['href']} -> {response.status_code}")
    assert not broken, "\n".join(broken)


def test_queryables_name_a_json_schema_version_part_3_allows(ogc_server: Server) -> None:
    """Part 3, /req/queryables/get-queryables-response B: "$schema" is
    https://json-schema.org/draft/2019-09/schema or https://json-schema.org/draft/2020-12/schema."""
    response = get(ogc_server, f"/collections/{BIG_COLLECTION}/queryables")
    assert response.headers["Content-Type"].startswith("application/schema+json")
    assert response.json()["$schema"] in (
        "https://json-schema.org/draft/2019-09/schema",
        "https://json-schema.org/draft/2020-12/schema",
    )


def test_bbox_on_a_collection_without_geometries_is_not_an_error(ogc_server: Server) -> None:
    """Part 1, /req/core/fc-bbox-response: a valid bbox selects the features whose geometry
    intersects it (the abstract test adds: and those without a geometry); it is no reason for a
    400, which is for invalid parameter values."""
    table = "europawahl-2024-ergebnisse-stadtteile"  # a CSV table: every geometry is null
    total = get(ogc_server, f"/collections/{table}/items", limit=1).json()["numberMatched"]
    response = get(ogc_server, f"/collections/{table}/items", bbox="13.5,50.9,14.0,51.2")
    assert response.status_code == 200, response.text
    assert response.json()["numberMatched"] in (0, total)


def test_the_polling_district_record_links_answer_with_their_media_types(
    ogc_server: Server,
) -> None:
    record = get(ogc_server, f"/collections/catalog/items/{DISTRICTS}").json()
    wrong = []
    for link in record["links"]:
        response = requests.get(link["href"], headers={"Accept": link["type"]}, timeout=HTTP_TIMEOUT)
        served = response.headers.get("Content-Type", "").split(";")[0]
        if response.status_code != 200 or served != link["type"]:
            wrong.append(
                f"{link['rel']} {link['href']} says {link['type']}, "
                f"answers {response.status_code} {served}"
            )
    assert not wrong, "\n".join(wrong)


def test_record_properties_are_not_null(ogc_server: Server) -> None:
    """OGC API Records, recordGeoJSON.yaml: license, publisher and the like are strings when
    present; a JSON null is not one (the dataset's licence is on its distributions)."""
    record = get(ogc_server, f"/collections/catalog/items/{DISTRICTS}").json()
    nulls = sorted(key for key, value in record["properties"].items() if value is None)
    assert not nulls, nulls
