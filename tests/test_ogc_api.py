"""OGC API over HTTP against a real server, on both backends: landing page, collections, paging,
Part 2 CRS, CQL2, parameter checks, Records, HTML pages, and what the catalogue says about it."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from urllib.parse import quote

import pyproj
import pytest
import requests
import shapely
from rdflib import Graph, URIRef
from rdflib import namespace as rdfns

from tests.conftest import BIG_COLLECTION, BIG_COUNT, ROOT, Server, big_points_file

DISTRICTS = "wahlbezirke-europawahl-2024"
STOPS = "haltestellen-vvo"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
TO_UTM = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:25833", always_xy=True)


def get(server: Server, path: str, **params: object) -> requests.Response:
    return requests.get(f"{server.url}/ogc{path}", params=params, timeout=60)


def all_items(server: Server, collection: str, **params: object) -> list[dict]:
    """Every feature, following the next links as a client would."""
    url = f"{server.url}/ogc/collections/{collection}/items"
    response = requests.get(url, params={"limit": 500, **params}, timeout=60)
    features = []
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        features += page["features"]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            return features
        response = requests.get(nxt[0], timeout=60)


def test_landing_page_conformance_and_collections(ogc_server: Server) -> None:
    landing = get(ogc_server, "/").json()
    rels = {link["rel"]: link["href"] for link in landing["links"]}
    for rel in ("service-desc", "conformance", "data"):
        assert rels[rel].startswith(f"{ogc_server.url}/ogc/")
    classes = get(ogc_server, "/conformance").json()["conformsTo"]
    for needed in (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
        "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/core",
    ):
        assert needed in classes
    assert not [c for c in classes if "features-4" in c]  # no transactions are offered
    collections = {c["id"]: c for c in get(ogc_server, "/collections").json()["collections"]}
    assert {DISTRICTS, STOPS, BIG_COLLECTION, "catalog"} <= set(collections)
    districts = collections[DISTRICTS]
    assert f"{EPSG}25833" in districts["crs"]
    assert districts["storageCrs"].endswith("CRS84")
    bbox = districts["extent"]["spatial"]["bbox"][0]
    assert bbox[0] == pytest.approx(13.579, abs=1e-3) and bbox[3] == pytest.approx(51.178, abs=1e-3)
    openapi = get(ogc_server, "/openapi", f="json").json()
    assert f"/collections/{DISTRICTS}/items" in openapi["paths"]


def test_polling_districts_round_trip_over_http(ogc_server: Server) -> None:
    source = json.loads((ROOT / "odapp/demo_data/wahlbezirke_europawahl2024.geojson").read_text())
    served = {f["id"]: f for f in all_items(ogc_server, DISTRICTS)}
    assert len(served) == 408
    for feature in source["features"]:
        got = served[feature["id"]]
        assert got["properties"] == feature["properties"]
        want = shapely.geometry.shape({k: v for k, v in feature["geometry"].items() if k != "crs"})
        have = shapely.geometry.shape(got["geometry"])
        assert want.geom_type == have.geom_type
        assert shapely.equals_exact(want, have, tolerance=1e-9)
    one = get(ogc_server, f"/collections/{DISTRICTS}/items/{source['features'][0]['id']}").json()
    assert one["properties"] == source["features"][0]["properties"]


def test_transit_stops_round_trip_over_http(ogc_server: Server) -> None:
    with (ROOT / "odapp/demo_data/vvo_haltestellen.csv").open(encoding="utf-8", newline="") as fh:
        rows = {row["id"]: row for row in csv.DictReader(fh)}
    served = {f["id"]: f for f in all_items(ogc_server, STOPS, limit=2000)}
    assert len(served) == len(rows) == 3913
    for stop_id, row in rows.items():
        feature = served[stop_id]
        lon, lat = feature["geometry"]["coordinates"]
        assert (
            abs(lon - float(row["longitude"])) <= 1e-9 and abs(lat - float(row["latitude"])) <= 1e-9
        )
        assert feature["properties"]["name"] == (row["name"] or None)
        assert feature["properties"]["city"] == (row["city"] or None)


def test_paging_through_more_than_10000_features(ogc_server: Server) -> None:
    first = get(ogc_server, f"/collections/{BIG_COLLECTION}/items", limit=1000).json()
    assert first["numberMatched"] == BIG_COUNT and first["numberReturned"] == 1000
    ids = [f["id"] for f in all_items(ogc_server, BIG_COLLECTION, limit=2000)]
    assert len(ids) == len(set(ids)) == BIG_COUNT


def test_a_huge_request_without_bbox_is_capped_not_served_whole(ogc_server: Server) -> None:
    response = get(ogc_server, f"/collections/{BIG_COLLECTION}/items", limit=100_000_000)
    assert response.status_code == 200
    page = response.json()
    assert page["numberReturned"] == 10_000 < BIG_COUNT
    assert any(link["rel"] == "next" for link in page["links"])


def test_crs_25833_agrees_with_pyproj_to_the_centimetre(ogc_server: Server) -> None:
    plain = get(ogc_server, f"/collections/{STOPS}/items", limit=200).json()["features"]
    response = get(ogc_server, f"/collections/{STOPS}/items", limit=200, crs=f"{EPSG}25833")
    assert response.headers["Content-Crs"] == f"<{EPSG}25833>"
    utm = {f["id"]: f["geometry"]["coordinates"] for f in response.json()["features"]}
    for feature in plain:
        lon, lat = feature["geometry"]["coordinates"]
        x, y = TO_UTM.transform(lon, lat)
        got = utm[feature["id"]]
        assert abs(got[0] - x) < 0.01 and abs(got[1] - y) < 0.01
    # EPSG:4326 is latitude first; Web Mercator is x, y
    lat_first = get(ogc_server, f"/collections/{STOPS}/items", limit=1, crs=f"{EPSG}4326").json()
    lon, lat = plain[0]["geometry"]["coordinates"]
    assert lat_first["features"][0]["geometry"]["coordinates"] == pytest.approx(
        [lat, lon], abs=1e-9
    )
    mercator = get(
        ogc_server, f"/collections/{STOPS}/items/{quote(plain[0]['id'])}", crs=f"{EPSG}3857"
    )
    assert mercator.status_code == 200
    x, y = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:3857", always_xy=True).transform(lon, lat)
    assert mercator.json()["geometry"]["coordinates"] == pytest.approx([x, y], abs=0.01)
    bad = get(ogc_server, f"/collections/{STOPS}/items", crs=f"{EPSG}99999")
    assert bad.status_code == 400


def test_bbox_in_epsg_25833(ogc_server: Server) -> None:
    box = (408_000.0, 5_652_000.0, 414_000.0, 5_658_000.0)  # around the Altstadt
    stops = all_items(ogc_server, STOPS)
    expected = set()
    for f in stops:
        x, y = TO_UTM.transform(*f["geometry"]["coordinates"])
        if box[0] <= x <= box[2] and box[1] <= y <= box[3]:
            expected.add(f["id"])
    got = all_items(ogc_server, STOPS, bbox=",".join(map(str, box)), **{"bbox-crs": f"{EPSG}25833"})
    assert expected and {f["id"] for f in got} == expected


def test_unknown_and_bad_parameters_are_refused(ogc_server: Server) -> None:
    for params in (
        {"colour": "red"},
        {"limit": "ten"},
        {"bbox": "1,2,3"},
        {"offset": "-1"},
        {"sortby": "nosuch"},
        {"properties": "nosuch"},
        {"datetime": "gestern"},
        {"nr": "many"},
    ):
        response = get(ogc_server, f"/collections/{BIG_COLLECTION}/items", **params)
        assert response.status_code == 400, (params, response.text)
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["description"]
    assert (
        "colour"
        in get(ogc_server, f"/collections/{BIG_COLLECTION}/items", colour=1).json()["description"]
    )
    assert get(ogc_server, "/collections/nosuch/items").status_code == 404
    assert get(ogc_server, f"/collections/{BIG_COLLECTION}/items/999999").status_code == 404


def test_property_filters_sorting_and_selection(ogc_server: Server) -> None:
    page = get(
        ogc_server,
        f"/collections/{BIG_COLLECTION}/items",
        gruppe="g3",
        sortby="-wert",
        properties="nr,wert",
        skipGeometry="true",
        limit=5,
    ).json()
    assert page["numberMatched"] == len([i for i in range(BIG_COUNT) if i % 7 == 3])
    values = [f["properties"]["wert"] for f in page["features"]]
    assert values == sorted(values, reverse=True)
    assert all(
        set(f["properties"]) == {"nr", "wert"} and f["geometry"] is None for f in page["features"]
    )


def test_cql2_text_and_json(ogc_server: Server) -> None:
    text = "gruppe = 'g1' AND wert < 100 AND S_INTERSECTS(geometry, POLYGON((13.5 50.9, 13.8 50.9, 13.8 51.2, 13.5 51.2, 13.5 50.9)))"
    by_text = all_items(ogc_server, BIG_COLLECTION, filter=text, **{"filter-lang": "cql2-text"})
    expected = [
        i + 1
        for i in range(BIG_COUNT)
        if i % 7 == 1 and i * 0.5 < 100 and 13.58 + (i % 150) * 0.0025 <= 13.8
    ]
    assert sorted(f["id"] for f in by_text) == expected
    as_json = {
        "op": "and",
        "args": [
            {"op": "=", "args": [{"property": "gruppe"}, "g1"]},
            {"op": "<", "args": [{"property": "wert"}, 100]},
            {
                "op": "s_intersects",
                "args": [{"property": "geometry"}, {"bbox": [13.5, 50.9, 13.8, 51.2]}],
            },
        ],
    }
    by_json = all_items(
        ogc_server, BIG_COLLECTION, filter=json.dumps(as_json), **{"filter-lang": "cql2-json"}
    )
    assert sorted(f["id"] for f in by_json) == expected
    # the next link keeps the filter
    first = get(
        ogc_server, f"/collections/{BIG_COLLECTION}/items", filter="wert >= 0", limit=10
    ).json()
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    assert "filter=" in nxt


@pytest.mark.parametrize(
    "bad",
    [
        "gruppe = ",  # syntax
        "nosuch = 1",  # unknown property
        "wert = 'viel'",  # wrong type
        "gruppe = 'g1'; DROP TABLE resources; --",  # SQL after the expression
        "1=1) OR (1=1",
        "RELATE(geometry, POINT(13.7 51.0), 'T*F**F***')",  # not offered
    ],
)
def test_bad_cql2_is_a_400_that_names_the_problem(ogc_server: Server, bad: str) -> None:
    response = get(ogc_server, f"/collections/{BIG_COLLECTION}/items", filter=bad)
    assert response.status_code == 400, response.text
    assert response.json()["description"]
    assert (
        get(ogc_server, f"/collections/{BIG_COLLECTION}/items", limit=1).json()["numberMatched"]
        == BIG_COUNT
    )
    assert requests.get(f"{ogc_server.url}/catalog.ttl", timeout=60).status_code == 200


def test_unknown_filter_language_is_refused(ogc_server: Server) -> None:
    response = get(
        ogc_server,
        f"/collections/{BIG_COLLECTION}/items",
        filter="wert > 1",
        **{"filter-lang": "sql"},
    )
    assert response.status_code == 400 and "sql" in response.json()["description"]


def test_queryables_list_the_columns_with_types(ogc_server: Server) -> None:
    queryables = get(ogc_server, f"/collections/{BIG_COLLECTION}/queryables").json()
    props = queryables["properties"]
    assert props["nr"]["type"] == "integer"
    assert props["wert"]["type"] == "number"
    assert props["gruppe"]["type"] == "string"


def test_records_collection_searches_the_catalogue(ogc_server: Server) -> None:
    page = get(ogc_server, "/collections/catalog/items", q="Wahlbezirke", limit=50).json()
    records = {r["id"]: r for r in page["features"]}
    assert DISTRICTS in records
    record = records[DISTRICTS]
    hrefs = {link["href"] for link in record["links"]}
    assert any(h.endswith(f"/dataset/{DISTRICTS}.ttl") for h in hrefs)
    assert f"{ogc_server.url}/ogc/collections/{DISTRICTS}" in hrefs
    assert record["properties"]["title"] and record["properties"]["keywords"]
    assert record["geometry"]["type"] == "Polygon"
    keyword = get(ogc_server, "/collections/catalog/items", keywords="Wahlbezirke").json()
    assert keyword["numberMatched"] >= 1
    assert all("Wahlbezirke" in r["properties"]["keywords"] for r in keyword["features"])
    far = get(ogc_server, "/collections/catalog/items", bbox="-10,-10,-9,-9").json()
    assert far["numberMatched"] == 0
    old = get(ogc_server, "/collections/catalog/items", datetime="1900-01-01/1900-12-31").json()
    assert old["numberMatched"] == 0
    election = get(
        ogc_server, "/collections/catalog/items", q="Wahlbezirke", datetime="2024-06-09"
    ).json()
    assert DISTRICTS in {r["id"] for r in election["features"]}
    one = get(ogc_server, f"/collections/catalog/items/{DISTRICTS}").json()
    assert one["id"] == DISTRICTS


def test_html_pages_are_usable(ogc_server: Server) -> None:
    for path in (
        "/",
        "/collections",
        f"/collections/{DISTRICTS}",
        f"/collections/{DISTRICTS}/items",
    ):
        response = get(ogc_server, path, f="html")
        assert response.status_code == 200, path
        assert response.headers["Content-Type"].startswith("text/html")
        assert "Wahlbezirke" in response.text or path == "/"
    static = requests.get(f"{ogc_server.url}/ogc/static/css/default.css", timeout=60)
    assert static.status_code == 200


def test_the_dcat_record_describes_the_ogc_api(ogc_server: Server) -> None:
    graph = Graph().parse(
        data=requests.get(f"{ogc_server.url}/dataset/{DISTRICTS}.ttl", timeout=60).text,
        format="turtle",
    )
    dataset = URIRef(f"{ogc_server.url}/dataset/{DISTRICTS}")
    access = {
        str(graph.value(d, rdfns.DCAT.accessURL))
        for d in graph.objects(dataset, rdfns.DCAT.distribution)
        if graph.value(d, rdfns.DCAT.accessService)
    }
    assert f"{ogc_server.url}/ogc/collections/{DISTRICTS}" in access
    service = Graph().parse(
        data=requests.get(f"{ogc_server.url}/dataset/ogc-api.ttl", timeout=60).text, format="turtle"
    )
    service_iri = URIRef(f"{ogc_server.url}/dataset/ogc-api")
    assert (service_iri, rdfns.DCAT.servesDataset, dataset) in service
    assert (
        service_iri,
        rdfns.DCTERMS.conformsTo,
        URIRef("http://www.opengis.net/spec/ogcapi-features-1/1.0"),
    ) in service


def test_new_collections_appear_without_a_restart_and_behind_a_proxy(
    server_factory,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    server: Server = server_factory({"ODAPP_BASE_URL": "https://daten.example/stadt"})
    server.odapp("db", "upgrade")
    server.start()
    assert {c["id"] for c in get(server, "/collections").json()["collections"]} == {"catalog"}
    small = big_points_file(tmp_path / "klein.geojson", 25)
    server.odapp("data", "load", str(small), "--collection", "klein", "--title", "Klein")
    collections = get(server, "/collections").json()["collections"]
    assert "klein" in {c["id"] for c in collections}
    page = get(server, "/collections/klein/items", limit=10).json()
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert nxt.startswith("https://daten.example/stadt/ogc/collections/klein/items?")
    landing = get(server, "/").json()
    assert all(link["href"].startswith("https://daten.example/stadt") for link in landing["links"])


def test_datetime_on_a_collection_with_a_time_column(ogc_server: Server) -> None:
    """The stored extent is a date; pygeoapi refused every datetime= with 400 until the
    configuration gave it datetimes."""
    collection = "luftqualitaet-dresden-2019-02-tagesmittel"
    extent = get(ogc_server, f"/collections/{collection}").json()["extent"]["temporal"]
    assert extent["interval"][0][0].startswith("2019-02-01T00:00:00")
    response = get(ogc_server, f"/collections/{collection}/items", datetime="2019-02-03/2019-02-04")
    assert response.status_code == 200, response.text
    features = response.json()["features"]
    assert features
    days = {
        str(next(v for k, v in f["properties"].items() if "datum" in k.lower())) for f in features
    }
    assert days <= {"2019-02-03", "2019-02-04"}, days
