"""The data store on both backends: loading real Dresden data, queries, CQL2 in SQL, and loads
that fail without losing what is served."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import shapely
from pygeofilter.parsers.cql2_json import parse as cql2_json
from pygeofilter.parsers.cql2_text import parse as cql2_text
from sqlalchemy import inspect

from catalog.cql2_sql import FilterError
from catalog.data_query import COUNT_CAP, FeatureQuery
from catalog.data_store import DataStore
from catalog.errors import CatalogError
from catalog.store import Store

DEMO = Path(__file__).resolve().parents[1] / "odapp" / "demo_data"
DISTRICTS = DEMO / "wahlbezirke_europawahl2024.geojson"
STOPS = DEMO / "vvo_haltestellen.csv"


@pytest.fixture
def data(store: Store) -> DataStore:
    return DataStore(store.engine)


def _all(data: DataStore, cid: str, **kw: object) -> list[dict]:
    out, offset = [], 0
    while True:
        page = data.query(cid, FeatureQuery(offset=offset, limit=1000, **kw))  # type: ignore[arg-type]
        out += page.features
        if len(page.features) < 1000:
            return out
        offset += 1000


def _coords(geometry: dict) -> list[tuple[float, float]]:
    return [tuple(c) for c in shapely.get_coordinates(shapely.geometry.shape(geometry)).tolist()]


def test_polling_districts_round_trip_feature_by_feature(data: DataStore) -> None:
    result = data.load("wahlbezirke", DISTRICTS, title="Wahlbezirke")
    assert result.changed and result.collections == ["wahlbezirke"]
    source = json.loads(DISTRICTS.read_text(encoding="utf-8"))["features"]
    served = {f["id"]: f for f in _all(data, "wahlbezirke")}
    assert len(served) == len(source) == 408
    for feature in source:
        got = served[feature["id"]]
        assert got["properties"] == feature["properties"]
        want = _coords({k: v for k, v in feature["geometry"].items() if k != "crs"})
        have = _coords(got["geometry"])
        assert len(want) == len(have)
        assert (
            max(max(abs(a[0] - b[0]), abs(a[1] - b[1])) for a, b in zip(want, have, strict=True))
            <= 1e-9
        )
    info = data.collection("wahlbezirke")
    assert info.feature_count == 408
    assert info.bbox is not None
    assert info.bbox[0] == pytest.approx(13.579, abs=1e-3)
    assert info.bbox[3] == pytest.approx(51.178, abs=1e-3)


def test_bbox_finds_polygons_that_intersect_not_only_by_envelope(data: DataStore) -> None:
    data.load("wahlbezirke", DISTRICTS)
    every = _all(data, "wahlbezirke")
    box = (13.735, 51.045, 13.745, 51.055)  # Altstadt
    page = data.query("wahlbezirke", FeatureQuery(bbox=box, limit=1000))
    expected = {
        f["id"]
        for f in every
        if shapely.geometry.shape(f["geometry"]).intersects(shapely.box(*box))
    }
    assert expected and {f["id"] for f in page.features} == expected
    assert page.number_matched == len(expected)


def test_stops_csv_property_filter_sort_and_select(data: DataStore) -> None:
    data.load("haltestellen", STOPS)
    info = data.collection("haltestellen")
    assert info.feature_count == 3913 and info.geometry_type == "Point"
    page = data.query(
        "haltestellen",
        FeatureQuery(
            properties=[("city", "Dresden")],
            sortby=[("name", True)],
            select=["name", "total_lines"],
            limit=5,
        ),
    )
    assert page.number_matched == 659
    names = [f["properties"]["name"] for f in page.features]
    assert names == sorted(names)
    assert set(page.features[0]["properties"]) == {"name", "total_lines"}
    assert page.features[0]["geometry"]["type"] == "Point"
    hidden = data.query("haltestellen", FeatureQuery(skip_geometry=True, limit=1))
    assert hidden.features[0]["geometry"] is None


@pytest.mark.parametrize(
    ("cql", "check"),
    [
        (
            "city = 'Dresden' AND total_lines > 10",
            lambda p: p["city"] == "Dresden" and (p["total_lines"] or 0) > 10,
        ),
        ("name LIKE 'Hauptbahnhof%'", lambda p: (p["name"] or "").startswith("Hauptbahnhof")),
        (
            "name LIKE 'hauptbahnhof%'",
            lambda p: (p["name"] or "").startswith("hauptbahnhof"),
        ),  # case matters
        (
            "CASEI(name) LIKE CASEI('HAUPTBAHNHOF%')",
            lambda p: (p["name"] or "").lower().startswith("hauptbahnhof"),
        ),
        ("city IN ('Radebeul', 'Pirna')", lambda p: p["city"] in ("Radebeul", "Pirna")),
        ("total_lines BETWEEN 3 AND 4", lambda p: 3 <= (p["total_lines"] or 0) <= 4),
        (
            "tram_lines IS NOT NULL AND city <> 'Dresden'",
            lambda p: p["tram_lines"] is not None and p["city"] not in (None, "Dresden"),
        ),
        (
            "NOT (city = 'Dresden') AND total_lines >= 20",
            lambda p: p["city"] not in (None, "Dresden") and (p["total_lines"] or 0) >= 20,
        ),
    ],
)
def test_cql2_text_matches_python(data: DataStore, cql: str, check) -> None:  # type: ignore[no-untyped-def]
    data.load("haltestellen", STOPS)
    every = _all(data, "haltestellen")
    expected = {f["id"] for f in every if check(f["properties"])}
    got = {f["id"] for f in _all(data, "haltestellen", filter=cql2_text(cql))}
    assert got == expected


def test_cql2_spatial_and_json(data: DataStore) -> None:
    data.load("haltestellen", STOPS)
    every = _all(data, "haltestellen")
    area = shapely.box(13.70, 51.02, 13.78, 51.07)
    expected = {f["id"] for f in every if area.intersects(shapely.geometry.shape(f["geometry"]))}
    text = f"S_INTERSECTS(geometry, {area.wkt})"
    assert {f["id"] for f in _all(data, "haltestellen", filter=cql2_text(text))} == expected
    as_json = {
        "op": "and",
        "args": [
            {"op": "s_within", "args": [{"property": "geometry"}, shapely.geometry.mapping(area)]},
            {"op": ">", "args": [{"property": "total_lines"}, 5]},
        ],
    }
    got = {f["id"] for f in _all(data, "haltestellen", filter=cql2_json(json.dumps(as_json)))}
    by_id = {f["id"]: f for f in every}
    assert got == {i for i in expected if by_id[i]["properties"]["total_lines"] > 5}
    assert got


def test_filters_we_cannot_apply_are_refused(data: DataStore) -> None:
    data.load("haltestellen", STOPS)
    with pytest.raises(FilterError, match="nosuch"):
        data.query("haltestellen", FeatureQuery(filter=cql2_text("nosuch = 1")))
    with pytest.raises(FilterError, match="integer"):
        data.query("haltestellen", FeatureQuery(filter=cql2_text("total_lines = 'many'")))
    with pytest.raises(FilterError, match="integer"):
        data.query("haltestellen", FeatureQuery(properties=[("total_lines", "viele")]))
    with pytest.raises(FilterError, match="temporal|datetime"):
        data.query("haltestellen", FeatureQuery(datetime="2024-01-01"))


def test_sql_in_a_filter_is_only_a_value(data: DataStore, store: Store) -> None:
    data.load("haltestellen", STOPS)
    evil = "name = 'x\"; DROP TABLE resources; --' OR city = '1) OR (1=1'"
    page = data.query("haltestellen", FeatureQuery(filter=cql2_text(evil)))
    assert page.features == []
    assert inspect(store.engine).has_table("resources")
    assert data.collection("haltestellen").feature_count == 3913


def test_number_matched_is_left_out_above_the_cap(data: DataStore, tmp_path: Path) -> None:
    n = COUNT_CAP + 500
    features = [
        {
            "type": "Feature",
            "id": i,
            "properties": {"nr": i},
            "geometry": {"type": "Point", "coordinates": [13.7 + i * 1e-6, 51.0]},
        }
        for i in range(n)
    ]
    path = tmp_path / "many.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    data.load("many", path)
    assert data.query("many", FeatureQuery(limit=1)).number_matched == n  # unfiltered: stored
    assert (
        data.query("many", FeatureQuery(limit=1, filter=cql2_text("nr >= 0"))).number_matched
        is None
    )
    small = data.query("many", FeatureQuery(limit=1, filter=cql2_text("nr < 100")))
    assert small.number_matched == 100
    hits = data.query("many", FeatureQuery(hits_only=True, filter=cql2_text("nr >= 0")))
    assert hits.number_matched == n
    last = data.query("many", FeatureQuery(offset=n - 3, limit=10))
    assert [f["id"] for f in last.features] == [n - 3, n - 2, n - 1]


def test_loading_is_idempotent_and_a_broken_file_keeps_the_served_version(
    data: DataStore, tmp_path: Path
) -> None:
    path = tmp_path / "bezirke.geojson"
    shutil.copy(DISTRICTS, path)
    data.load("bezirke", path)
    first = data.collection("bezirke")
    again = data.load("bezirke", path)
    assert not again.changed
    assert data.collection("bezirke").table_name == first.table_name
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", ', encoding="utf-8"
    )
    with pytest.raises(CatalogError) as caught:
        data.load("bezirke", path)
    assert "bezirke.geojson" in str(caught.value)
    after = data.collection("bezirke")
    assert after.table_name == first.table_name and after.feature_count == 408
    assert after.error and after.error["problems"][0]["where"].startswith("bezirke.geojson")
    assert len(data.query("bezirke", FeatureQuery(limit=1000)).features) == 408
    shutil.copy(DISTRICTS, path)
    data.load("bezirke", path)  # the repaired file is loaded (the error is cleared)
    assert data.collection("bezirke").error is None
    tables = [t for t in inspect(data.engine).get_table_names() if t.startswith("d_")]
    assert len([t for t in tables if not t.endswith(("_rtree", "_node", "_parent", "_rowid"))]) == 1


def test_datetime_on_a_table_with_dates(data: DataStore, tmp_path: Path) -> None:
    path = tmp_path / "messungen.csv"
    rows = ["datum,wert,lat,lon"] + [
        f"2024-01-{d:02d},{d * 1.5},51.05,13.7{d:02d}" for d in range(1, 29)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    data.load("messungen", path)
    info = data.collection("messungen")
    assert info.time_column == "datum"
    assert info.time_min.startswith("2024-01-01") and info.time_max.startswith("2024-01-28")
    page = data.query("messungen", FeatureQuery(datetime="2024-01-10/2024-01-12", limit=100))
    assert sorted(f["properties"]["datum"] for f in page.features) == [
        "2024-01-10",
        "2024-01-11",
        "2024-01-12",
    ]
    later = data.query("messungen", FeatureQuery(datetime="2024-01-27/..", limit=100))
    assert len(later.features) == 2
    cql = data.query(
        "messungen", FeatureQuery(filter=cql2_text("datum > DATE('2024-01-25')"), limit=100)
    )
    assert len(cql.features) == 3
