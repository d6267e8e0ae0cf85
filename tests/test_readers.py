"""catalog.readers: every supported format read into typed rows and CRS84 geometries, and every
kind of broken input turned into an InputError that names the file, the place and the cause."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from catalog.errors import InputError
from catalog.readers import Column, SourceData, detect_format, read_source
from catalog.readers.encoding import detect_encoding

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "odapp" / "demo_data"
UTM_TO_LONLAT = Transformer.from_crs("EPSG:25833", "OGC:CRS84", always_xy=True)


def only(path: Path, **kwargs: object) -> SourceData:
    layers = read_source(path, **kwargs)
    assert len(layers) == 1
    return layers[0]


def types(data: SourceData) -> dict[str, str]:
    return {c.name: c.type for c in data.columns}


def rules(data: SourceData) -> list[str]:
    return [w["rule"] for w in data.report["warnings"]]


def input_error(path: Path, **kwargs: object) -> InputError:
    with pytest.raises(InputError) as caught:
        read_source(path, **kwargs)
    error = caught.value
    for problem in error.problems:  # bilingual, and naming the file, always
        assert problem.de and problem.en and problem.rule
        assert path.name in problem.where
        assert "Traceback" not in problem.en
    return error


def write_zip(target: Path, files: list[Path], folder: str = "") -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for file in files:
            archive.write(file, folder + file.name)
    return target


# --- format detection -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("http://publications.europa.eu/resource/authority/file-type/GEOJSON", "geojson"),
        ("http://publications.europa.eu/resource/authority/file-type/KML", "kml"),
        ("http://publications.europa.eu/resource/authority/file-type/CSV", "csv"),
        ("application/geo+json", "geojson"),
        ("text/csv; charset=utf-8", "csv"),
        ("application/vnd.google-earth.kml+xml", "kml"),
        (".geojson", "geojson"),
        ("CSV", "csv"),
    ],
)
def test_detect_format_follows_hints_for_text_files(
    tmp_path: Path, hint: str, expected: str
) -> None:
    path = tmp_path / "download"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    assert detect_format(path, hint) == expected


def test_detect_format_from_content_and_extension(tmp_path: Path) -> None:
    (tmp_path / "a").write_text('\n  {"type": "Feature"}')
    (tmp_path / "b").write_text(
        '<?xml version="1.0"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
    )
    (tmp_path / "c").write_text("a;b\n1;2\n")
    (tmp_path / "d").write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    (tmp_path / "e.xlsx").write_bytes(b"not really")
    assert detect_format(tmp_path / "a") == "geojson"
    assert detect_format(tmp_path / "b") == "kml"
    assert detect_format(tmp_path / "c") == "csv"
    # binary signatures win over a hint that says otherwise
    assert detect_format(tmp_path / "d", "text/csv") == "geopackage"
    assert detect_format(tmp_path / "e.xlsx") == "xlsx"


def test_detect_format_zip_content(tmp_path: Path) -> None:
    shp = tmp_path / "x.shp"
    shp.write_bytes(b"")
    archive = write_zip(tmp_path / "download.bin", [shp], "folder/")
    for hint in (
        None,
        "application/zip",
        "http://publications.europa.eu/resource/authority/file-type/ZIP",
        "CSV",
    ):
        assert detect_format(archive, hint) == "shapefile"
    book = tmp_path / "book.bin"
    openpyxl.Workbook().save(book)
    assert detect_format(book, "application/zip") == "xlsx"


def test_unknown_binary_format_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "blob.dat"
    path.write_bytes(b"\x00\x01\x02binary")
    error = input_error(path)
    assert error.problems[0].rule == "format"


# --- GeoJSON ----------------------------------------------------------------------------------


def test_real_polling_districts_keep_every_feature_and_coordinate() -> None:
    path = DEMO / "wahlbezirke_europawahl2024.geojson"
    data = only(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    features = document["features"]
    assert len(features) == 408 == len(data.rows) == len(data.geometries)
    assert data.name == "wahlbezirke_europawahl2024"
    assert data.columns == [Column("wb", "string"), Column("wb_text", "string")]
    assert data.feature_ids == [f["id"] for f in features]
    assert data.rows == [(f["properties"]["wb"], f["properties"]["wb_text"]) for f in features]
    assert data.source_crs == "OGC:CRS84"  # no top-level crs; the per-geometry member is ignored
    assert data.geometry_type == "Geometry"  # 405 Polygons and 3 MultiPolygons
    for feature, geom in zip(features, data.geometries, strict=True):
        expected = shapely.get_coordinates(shapely.geometry.shape(feature["geometry"]))
        assert np.abs(shapely.get_coordinates(geom) - expected).max() < 1e-9
    assert data.report["warnings"] == []


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def feature(fid: object, geometry: object, **properties: object) -> dict:
    return {"type": "Feature", "id": fid, "properties": properties, "geometry": geometry}


BOW_TIE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}


def test_geojson_invalid_geometry_is_repaired_with_a_warning(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "flaechen.geojson",
        {
            "type": "FeatureCollection",
            "features": [
                feature("a1", {"type": "Point", "coordinates": [13.74, 51.05]}, name="Punkt"),
                feature("a2", None, name="ohne Geometrie"),
                feature("b7", BOW_TIE, name="Schleife"),
            ],
        },
    )
    data = only(path)
    assert data.feature_ids == ["a1", "a2", "b7"]
    assert [c.name for c in data.columns] == ["name"]  # GDAL's copy of the string id is dropped
    assert data.geometries[1] is None
    repaired = data.geometries[2]
    assert repaired.is_valid and repaired.geom_type == "MultiPolygon"
    assert repaired.area == pytest.approx(0.5)
    [warning] = data.report["warnings"]
    assert warning["rule"] == "geometry-repaired"
    assert warning["where"] == "flaechen.geojson, feature 3 (id 'b7')"
    assert "Self-intersection" in warning["en"] and "Self-intersection" in warning["de"]
    assert "Objekt 3" in warning["de"]
    json.dumps(data.report)  # the report is JSON-serialisable


def test_geojson_unreadable_geometries_name_the_features(tmp_path: Path) -> None:
    two_point_ring = {"type": "Polygon", "coordinates": [[[13.7, 51.0], [13.8, 51.0]]]}
    text_coordinates = {"type": "Point", "coordinates": ["x", "y"]}
    path = write_json(
        tmp_path / "kaputt.geojson",
        {
            "type": "FeatureCollection",
            "features": [
                feature(1, {"type": "Point", "coordinates": [13.7, 51.0]}),
                feature(2, two_point_ring),
                feature(3, text_coordinates),
            ],
        },
    )
    error = input_error(path)
    assert [p.where for p in error.problems] == [
        "kaputt.geojson, feature 2 (id 2)",
        "kaputt.geojson, feature 3 (id 3)",
    ]
    assert {p.rule for p in error.problems} == {"geometry-unreadable"}


def test_geojson_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "syntax.geojson"
    path.write_text('{"type": "FeatureCollection",\n"features": [\n{"type": "Feature",,}]}')
    error = input_error(path)
    assert error.problems[0].where == "syntax.geojson, line 3"
    assert "Zeile 3" in error.problems[0].de


def test_geojson_with_declared_utm_crs_is_transformed(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "utm.geojson",
        {
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25833"}},
            "features": [feature(None, {"type": "Point", "coordinates": [411600.0, 5656000.0]})],
        },
    )
    data = only(path)
    assert data.source_crs == "EPSG:25833"
    assert data.feature_ids is None  # no feature carries an id
    lon, lat = UTM_TO_LONLAT.transform(411600.0, 5656000.0)
    assert data.geometries[0].x == pytest.approx(lon, abs=1e-9)
    assert data.geometries[0].y == pytest.approx(lat, abs=1e-9)
    assert 13.7 < data.geometries[0].x < 13.8  # lon first


def test_geojson_declared_epsg_4326_is_reported_as_declared(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "wgs.geojson",
        {
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4326"}},
            "features": [feature(1, {"type": "Point", "coordinates": [13.74, 51.05]}, n=1)],
        },
    )
    data = only(path)
    assert data.source_crs == "EPSG:4326"
    assert (data.geometries[0].x, data.geometries[0].y) == (13.74, 51.05)  # still lon/lat
    assert data.columns == [Column("n", "integer")]


# --- Shapefile --------------------------------------------------------------------------------

UTM_POLYGONS = [
    shapely.Polygon([(411000, 5656000), (411500, 5656000), (411500, 5656400), (411000, 5656400)]),
    shapely.Polygon([(411234.5, 5657890.25), (411300, 5657890.25), (411300, 5658000.75)]),
]


def write_shapefile(folder: Path, name: str, crs: str | None = "EPSG:25833") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame = gpd.GeoDataFrame(
        {
            "Straße": ["Schloßstraße", "Königsbrücker Straße"],
            "Anzahl": [3, 12],
            "Wert": [1.5, None],
        },
        geometry=UTM_POLYGONS,
        crs=crs,
    )
    frame.to_file(folder / f"{name}.shp", engine="pyogrio", encoding="UTF-8")
    return folder / f"{name}.shp"


def shapefile_parts(shp: Path, exts: tuple[str, ...] = (".shp", ".shx", ".dbf", ".prj", ".cpg")):
    return [shp.with_suffix(e) for e in exts if shp.with_suffix(e).exists()]


def test_zipped_shapefile_in_utm_comes_out_in_lon_lat(tmp_path: Path) -> None:
    shp = write_shapefile(tmp_path / "src", "gebaeude")
    archive = write_zip(tmp_path / "gebaeude.zip", shapefile_parts(shp), "Daten/Gebäude/")
    data = only(archive, fmt="http://publications.europa.eu/resource/authority/file-type/SHP")
    assert data.name == "gebaeude"
    assert data.source_crs == "EPSG:25833"
    assert types(data) == {"Straße": "string", "Anzahl": "integer", "Wert": "number"}
    assert data.rows == [("Schloßstraße", 3, 1.5), ("Königsbrücker Straße", 12, None)]
    assert data.feature_ids is None
    assert data.geometry_type == "Polygon"
    for source, geom in zip(UTM_POLYGONS, data.geometries, strict=True):
        lons, lats = UTM_TO_LONLAT.transform(*np.asarray(source.exterior.coords).T)
        expected = np.column_stack([lons, lats])
        got = shapely.get_coordinates(geom)
        assert 13.7 < got[0, 0] < 13.8 and 51.0 < got[0, 1] < 51.1  # lon, lat order
        # the Shapefile writer may reverse ring orientation: match every vertex to its source
        distance = np.abs(got[:, None, :] - expected[None, :, :]).max(axis=2).min(axis=1)
        assert distance.max() < 1e-9
        assert len(got) == len(expected)
    assert data.report["format"] == "shapefile"


def test_shapefile_without_prj_in_lon_lat_is_assumed_crs84(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    frame = gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.Point(13.74, 51.05)], crs="OGC:CRS84")
    frame.to_file(folder / "p.shp", engine="pyogrio")
    archive = write_zip(
        tmp_path / "p.zip", shapefile_parts(folder / "p.shp", (".shp", ".shx", ".dbf"))
    )
    data = only(archive)
    assert data.source_crs == "OGC:CRS84"
    assert (data.geometries[0].x, data.geometries[0].y) == (13.74, 51.05)
    assert rules(data) == ["crs-assumed"]


def test_shapefile_without_prj_in_utm_is_crs_unknown(tmp_path: Path) -> None:
    shp = write_shapefile(tmp_path / "src", "ohne")
    archive = write_zip(tmp_path / "ohne.zip", shapefile_parts(shp, (".shp", ".shx", ".dbf")))
    error = input_error(archive)
    assert error.problems[0].rule == "crs-unknown"
    assert "CRS unknown" in error.problems[0].en


def test_corrupt_shapefiles_are_input_errors(tmp_path: Path) -> None:
    shp = write_shapefile(tmp_path / "src", "teil")
    whole = shp.read_bytes()

    truncated_dir = tmp_path / "cut"
    truncated_dir.mkdir()
    for part in shapefile_parts(shp):
        (truncated_dir / part.name).write_bytes(part.read_bytes())
    (truncated_dir / "teil.shp").write_bytes(whole[:-20])
    cases = {
        "truncated.zip": (shapefile_parts(truncated_dir / "teil.shp"), "shapefile", "truncated"),
        "nodbf.zip": (shapefile_parts(shp, (".shp", ".shx", ".prj")), "shapefile", ".dbf"),
        "noshp.zip": (shapefile_parts(shp, (".dbf", ".shx", ".prj")), "shapefile", "no .shp"),
    }
    for name, (files, rule, text) in cases.items():
        error = input_error(write_zip(tmp_path / name, files), fmt="SHP")
        assert error.problems[0].rule == rule, name
        assert text in error.problems[0].en, name

    not_zip = tmp_path / "kein.zip"
    not_zip.write_text("Dies ist keine Zip-Datei")
    error = input_error(not_zip, fmt="application/zip")
    assert error.problems[0].rule == "zip"
    assert "not a valid zip archive" in error.problems[0].en

    header_only = tmp_path / "kopf"
    header_only.mkdir()
    for part in shapefile_parts(shp):
        (header_only / part.name).write_bytes(part.read_bytes())
    (header_only / "teil.shp").write_bytes(whole[:60])
    error = input_error(write_zip(tmp_path / "kopf.zip", shapefile_parts(header_only / "teil.shp")))
    assert "truncated" in error.problems[0].en


# --- GeoPackage and KML -----------------------------------------------------------------------


def test_geopackage_with_two_layers(tmp_path: Path) -> None:
    path = tmp_path / "stadt.gpkg"
    schulen = gpd.GeoDataFrame(
        {
            "Name": ["Kreuzschule", "Vitzthum-Gymnasium"],
            "Schüler": [1100, 870],
            "eröffnet": pd.to_datetime(["1300-01-01", "1828-05-01"]).date,
            "geprüft": pd.to_datetime(["2024-05-01T08:30:00Z", None], utc=True),
        },
        geometry=[shapely.Point(411600, 5656000), shapely.Point(410900, 5655300)],
        crs="EPSG:25833",
    )
    linien = gpd.GeoDataFrame(
        {"Linie": ["11"]},
        geometry=[shapely.LineString([(13.70, 51.05), (13.75, 51.06)])],
        crs="EPSG:4326",
    )
    schulen.to_file(path, layer="schulen", engine="pyogrio")
    linien.to_file(path, layer="linien", engine="pyogrio")

    layers = {d.name: d for d in read_source(path)}
    assert set(layers) == {"schulen", "linien"}
    schools = layers["schulen"]
    assert schools.source_crs == "EPSG:25833"
    assert schools.geometry_type == "Point"
    assert schools.feature_ids == [1, 2]
    assert types(schools)["Schüler"] == "integer"
    assert types(schools)["geprüft"] == "datetime"
    assert schools.rows[0][1] == 1100
    assert schools.rows[0][3] == dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.UTC)
    assert schools.rows[1][3] is None
    lon, lat = UTM_TO_LONLAT.transform(411600, 5656000)
    assert abs(schools.geometries[0].x - lon) < 1e-9 and abs(schools.geometries[0].y - lat) < 1e-9

    lines = layers["linien"]
    assert lines.source_crs == "EPSG:4326"
    assert lines.geometry_type == "LineString"
    assert shapely.get_coordinates(lines.geometries[0]).tolist() == [[13.70, 51.05], [13.75, 51.06]]


def test_kml(tmp_path: Path) -> None:
    path = tmp_path / "orte.kml"
    frame = gpd.GeoDataFrame(
        {"Name": ["Frauenkirche", "Zwinger"], "Baujahr": [1743, 1728]},
        geometry=[shapely.Point(13.7417, 51.0519), shapely.Point(13.7339, 51.0529)],
        crs="EPSG:4326",
    )
    frame.to_file(path, driver="KML", engine="pyogrio")
    data = only(path, fmt="application/vnd.google-earth.kml+xml")
    assert data.name == "orte"
    assert data.report["format"] == "kml"
    assert data.source_crs == "OGC:CRS84"
    assert data.geometry_type == "Point"
    assert [c.name for c in data.columns] == ["Name", "Baujahr"]  # LIBKML styling columns dropped
    assert [r[0] for r in data.rows] == ["Frauenkirche", "Zwinger"]
    assert [(g.x, g.y, g.has_z) for g in data.geometries] == [
        (13.7417, 51.0519, False),
        (13.7339, 51.0529, False),
    ]


# --- CSV --------------------------------------------------------------------------------------


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_comma_types_and_empty_cells(tmp_path: Path) -> None:
    path = write(
        tmp_path / "werte.csv",
        "Name,Anzahl,Anteil,aktiv,Stichtag,Zeitpunkt,PLZ\n"
        "Altstadt,12,0.5,true,2024-01-31,2024-01-31T10:00:00+01:00,01067\n"
        "Neustadt,,1.25,false,,2024-02-01T08:00:00Z,01099\n"
        ",7,2,true,2024-03-01,,01307\n",
    )
    data = only(path)
    assert types(data) == {
        "Name": "string",
        "Anzahl": "integer",
        "Anteil": "number",
        "aktiv": "boolean",
        "Stichtag": "date",
        "Zeitpunkt": "datetime",
        "PLZ": "string",  # leading zeros: a code, not a number
    }
    utc = dt.UTC
    assert data.rows == [
        (
            "Altstadt",
            12,
            0.5,
            True,
            dt.date(2024, 1, 31),
            dt.datetime(2024, 1, 31, 9, tzinfo=utc),
            "01067",
        ),
        ("Neustadt", None, 1.25, False, None, dt.datetime(2024, 2, 1, 8, tzinfo=utc), "01099"),
        (None, 7, 2.0, True, dt.date(2024, 3, 1), None, "01307"),
    ]
    assert data.geometries is None and data.source_crs is None and data.geometry_type is None
    report = data.report
    assert (report["format"], report["encoding"], report["delimiter"], report["rows"]) == (
        "csv",
        "utf-8",
        ",",
        3,
    )
    assert report["validation"]["valid"] is True
    json.dumps(report)


def test_csv_semicolon_with_german_numbers_and_dates(tmp_path: Path) -> None:
    path = write(
        tmp_path / "haushalt.csv",
        "Produkt;Betrag;Anteil;Anzahl;Datum\n"
        'Schulen;1.234,5;0,25;"1.200";01.02.2024\n'
        "Kitas;-3,25;1;7;31.12.2023\n"
        "Bäder;12;;8;\n",
    )
    data = only(path)
    assert data.report["delimiter"] == ";"
    assert types(data) == {
        "Produkt": "string",
        "Betrag": "number",
        "Anteil": "number",
        "Anzahl": "number",  # "1.200" is one thousand two hundred in a decimal-comma file
        "Datum": "date",
    }
    assert data.rows == [
        ("Schulen", 1234.5, 0.25, 1200.0, dt.date(2024, 2, 1)),
        ("Kitas", -3.25, 1.0, 7.0, dt.date(2023, 12, 31)),
        ("Bäder", 12.0, None, 8.0, None),
    ]


def test_decimal_comma_needs_quotes_in_a_comma_file(tmp_path: Path) -> None:
    data = only(write(tmp_path / "komma.csv", 'a,b\n"1,5",x\n"2,5",y\n'))
    assert types(data)["a"] == "string"
    assert data.rows[0] == ("1,5", "x")


@pytest.mark.parametrize(("delimiter", "name"), [("\t", "tab"), ("|", "pipe")])
def test_other_delimiters(tmp_path: Path, delimiter: str, name: str) -> None:
    data = only(write(tmp_path / f"{name}.csv", f"a{delimiter}b\n1{delimiter}x,y\n2{delimiter}z\n"))
    assert data.report["delimiter"] == delimiter
    assert data.rows == [(1, "x,y"), (2, "z")]


def test_windows_1252_csv_with_umlauts(tmp_path: Path) -> None:
    path = write(
        tmp_path / "ortsteile.csv",
        "Ortsteil;Fläche;Einwohner\nÄußere Neustadt;1,5;18234\nLöbtau-Süd;0,8;14523\n",
        "cp1252",
    )
    data = only(path)
    assert data.report["encoding"] == "windows-1252"
    assert [c.name for c in data.columns] == ["Ortsteil", "Fläche", "Einwohner"]
    assert data.rows == [("Äußere Neustadt", 1.5, 18234), ("Löbtau-Süd", 0.8, 14523)]


def test_utf8_bom_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    data = only(write(tmp_path / "bom.csv", "\ufeffName;Wert\nÄ;1\n"))
    assert data.report["encoding"] == "utf-8-sig"
    assert data.columns[0] == Column("Name", "string")


def test_mixed_encodings_name_the_line(tmp_path: Path) -> None:
    good = "Name;Wert\nDresden;1\nLöbtau;2\nA;3\nB;4\nC;5\n".encode()
    path = tmp_path / "daten.csv"
    path.write_bytes(good + "Größe;6\n".encode("cp1252") + b"D;7\n")
    error = input_error(path)
    [problem] = error.problems
    assert problem.rule == "mixed-encodings"
    assert problem.where == "daten.csv, line 7"
    assert "daten.csv: Zeile 7" in problem.de and "line 7" in problem.en
    assert "mixes encodings" in problem.en and "UTF-8" in problem.en


def test_encoding_detection_directly() -> None:
    assert detect_encoding("Größe".encode(), "x").encoding == "utf-8"
    assert detect_encoding("Größe".encode("cp1252"), "x").encoding == "windows-1252"
    assert detect_encoding("Größe".encode("utf-16"), "x").text == "Größe"
    with pytest.raises(InputError) as caught:
        detect_encoding(b"a\nb\n\x81\n", "x.csv")  # 0x81: unassigned in Windows-1252
    assert caught.value.problems[0].where == "x.csv, line 3"


def test_validation_errors_are_reported_and_rows_still_loaded(tmp_path: Path) -> None:
    path = write(
        tmp_path / "luecken.csv",
        "Nr,Name,Datum\n1,a,2024-01-01\n2,b\n3,c,2024-01-03,zuviel\n4,d,2024-01-04\n",
    )
    data = only(path)
    assert len(data.rows) == 4
    assert data.rows[1] == (2, "b", None)
    assert data.rows[2] == (3, "c", dt.date(2024, 1, 3))
    validation = data.report["validation"]
    assert validation["valid"] is False
    assert validation["error_count"] == 2
    assert validation["error_types"] == {"missing-cell": 1, "extra-cell": 1}
    first = validation["errors"][0]
    assert (first["rowNumber"], first["fieldName"], first["type"], first["line"]) == (
        3,
        "Datum",
        "missing-cell",
        3,
    )
    assert "validation" in rules(data)


def test_a_value_that_breaks_the_type_keeps_the_column_as_text(tmp_path: Path) -> None:
    lines = "".join(f"Straße {i};{i}\n" for i in range(1, 30))
    data = only(write(tmp_path / "hausnummern.csv", "Straße;Hausnummer\n" + lines + "Ende;14a\n"))
    assert types(data)["Hausnummer"] == "string"
    assert data.rows[-1] == ("Ende", "14a")  # not lost to an integer type
    [warning] = [w for w in data.report["warnings"] if w["rule"] == "column-as-text"]
    assert "line 31" in warning["en"] and "'14a'" in warning["en"]


def test_units_row_below_the_header(tmp_path: Path) -> None:
    lines = "".join(f"2019-02-{d:02d},{d}.5,{d * 2}\n" for d in range(1, 10))
    path = write(tmp_path / "luft.csv", "Datum,NO2,O3\nyyyy-mm-dd,µg/m³,µg/m³\n" + lines)
    data = only(path)
    assert types(data) == {"Datum": "date", "NO2": "number", "O3": "integer"}
    assert data.rows[0] == (None, None, None)
    assert data.rows[1] == (dt.date(2019, 2, 1), 1.5, 2)
    assert data.report["subheader"] == {"Datum": "yyyy-mm-dd", "NO2": "µg/m³", "O3": "µg/m³"}
    assert "subheader" in rules(data)


def test_empty_and_duplicate_headings_get_names(tmp_path: Path) -> None:
    data = only(write(tmp_path / "kopf.csv", "a,,a,\n1,2,3,\n4,5,6,\n"))
    assert [c.name for c in data.columns] == ["a", "field2", "a_2"]  # trailing empty column dropped
    assert data.rows == [(1, 2, 3), (4, 5, 6)]
    assert rules(data).count("column-renamed") == 2


def test_unreadable_csv_is_an_input_error(tmp_path: Path) -> None:
    empty = tmp_path / "leer.csv"
    empty.write_bytes(b"")
    assert input_error(empty).problems[0].rule == "empty"
    blank = write(tmp_path / "nur_leer.csv", "\n\n\n")
    assert input_error(blank).problems[0].rule == "empty"
    missing = tmp_path / "fehlt.csv"
    assert input_error(missing).problems[0].rule == "file"


# --- geometry from table columns --------------------------------------------------------------


def test_real_stops_file_gives_exact_points() -> None:
    data = only(DEMO / "vvo_haltestellen.csv")
    assert len(data.rows) == 3913 == len(data.geometries)
    names = [c.name for c in data.columns]
    lat, lon = names.index("latitude"), names.index("longitude")
    assert types(data)["latitude"] == "number"
    for row, point in zip(data.rows, data.geometries, strict=True):
        assert (point.x, point.y) == (row[lon], row[lat])
    assert data.source_crs == "OGC:CRS84"
    assert data.geometry_type == "Point"
    assert data.report["geometry"] == {
        "source": "columns",
        "columns": ["longitude", "latitude"],
        "crs": "OGC:CRS84",
    }


def test_real_election_results_are_a_plain_table() -> None:
    data = only(DEMO / "wahlergebnisse_1999-2024_wahlbezirke.csv")
    assert len(data.rows) == 12156
    assert data.geometries is None and data.source_crs is None
    column_types = types(data)
    for name in ("Jahr", "Wahlberechtigte", "Wähler", "Stimmen CDU", "Stimmen gültig"):
        assert column_types[name] == "integer", name
    assert column_types["Wahlbezirk"] == "string"  # "01000" keeps its leading zero
    assert data.rows[0][:5] == (
        1999,
        "StB 0 Altstadt",
        "01 StB Altstadt ohne Johannstadt",
        "Europawahl",
        "01000",
    )
    assert data.report["validation"]["valid"] is True


def test_utm_coordinate_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path / "baeume.csv",
        "Baumart;Rechtswert;Hochwert\n"
        "Linde;411600,5;5656000,25\n"
        "Eiche;411000;5657000\n"
        "ohne Ort;;\n"
        "Ahorn;unbekannt;5657000\n",
    )
    data = only(path)
    assert data.source_crs == "EPSG:25833"
    assert [c.name for c in data.columns] == ["Baumart", "Rechtswert", "Hochwert"]  # kept
    first, second, empty, unreadable = data.geometries
    lon, lat = UTM_TO_LONLAT.transform(411600.5, 5656000.25)
    assert abs(first.x - lon) < 1e-9 and abs(first.y - lat) < 1e-9
    assert second is not None and empty is None and unreadable is None
    [warning] = [w for w in data.report["warnings"] if w["rule"] == "coordinates-unreadable"]
    assert warning["where"] == "baeume.csv, line 5"
    assert "Zeile 5" in warning["de"]


@pytest.mark.parametrize(
    ("lat_name", "lon_name"),
    [("Breite", "Länge"), ("BREITE", "Laenge"), ("geo_lat", "geo_lon"), ("Y", "X"), ("lat", "lng")],
)
def test_coordinate_column_names(tmp_path: Path, lat_name: str, lon_name: str) -> None:
    path = write(
        tmp_path / "orte.csv", f"Ort,{lat_name},{lon_name}\nA,51.05,13.74\nB,51.06,13.75\n"
    )
    data = only(path)
    assert [(g.x, g.y) for g in data.geometries] == [(13.74, 51.05), (13.75, 51.06)]
    assert data.report["geometry"]["columns"] == [lon_name, lat_name]


def test_coordinates_that_fit_no_crs_leave_a_plain_table(tmp_path: Path) -> None:
    data = only(write(tmp_path / "xy.csv", "x,y\n1000,2000\n3000,4000\n"))
    assert data.geometries is None
    assert rules(data) == ["crs-unknown"]


def test_wkt_column(tmp_path: Path) -> None:
    path = write(
        tmp_path / "flaechen.csv",
        "id,WKT,Name\n"
        '1,"POINT (13.74 51.05)",Punkt\n'
        '2,"POLYGON ((13.7 51, 13.8 51, 13.8 51.1, 13.7 51.1, 13.7 51))",Fläche\n'
        "3,,leer\n"
        '4,"POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))",Schleife\n'
        "5,kein WKT,kaputt\n",
    )
    data = only(path)
    assert [c.name for c in data.columns] == ["id", "Name"]  # the geometry column is not a property
    assert data.source_crs == "OGC:CRS84"
    assert data.geometry_type == "Geometry"
    point, polygon, empty, repaired, broken = data.geometries
    assert (point.x, point.y) == (13.74, 51.05)
    assert polygon.geom_type == "Polygon" and empty is None and broken is None
    assert repaired.is_valid
    found = {w["rule"]: w for w in data.report["warnings"]}
    assert found["geometry-repaired"]["where"] == "flaechen.csv, line 5"
    assert "line 6" in found["geometry-unreadable"]["where"]


@pytest.mark.parametrize("prefix", ["", "SRID=25833;"])
def test_wkt_column_in_utm(tmp_path: Path, prefix: str) -> None:
    text = f'geom;n\n"{prefix}POINT (411600 5656000)";1\n'
    data = only(write(tmp_path / "utm_wkt.csv", text))
    assert data.source_crs == "EPSG:25833"
    lon, lat = UTM_TO_LONLAT.transform(411600, 5656000)
    assert abs(data.geometries[0].x - lon) < 1e-9 and abs(data.geometries[0].y - lat) < 1e-9


# --- XLSX -------------------------------------------------------------------------------------


def test_xlsx_first_sheet_with_types_and_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "spielplaetze.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Spielplätze"
    sheet.append(["Name", "Geräte", "Fläche m²", "eröffnet", "geprüft", "Breite", "Länge", "Notiz"])
    sheet.append(
        [
            "Alaunplatz",
            12,
            1500.5,
            dt.date(1999, 5, 1),
            dt.datetime(2024, 3, 1, 9, 30),
            51.0687,
            13.7592,
            "neu",
        ]
    )
    sheet.append(
        [
            "Großer Garten",
            30,
            8000,
            dt.date(1985, 6, 1),
            dt.datetime(2024, 3, 2, 14, 0),
            51.0375,
            13.7625,
            7,
        ]
    )
    sheet.append([None, None, None, None, None, None, None, None])
    sheet.append(["Ohne Ort", 2, None, None, None, None, None, None])
    book.create_sheet("Legende").append(["nur Erklärungen"])
    book.save(path)

    data = only(path)
    assert data.report["format"] == "xlsx"
    assert data.report["sheet"] == "Spielplätze"
    assert types(data) == {
        "Name": "string",
        "Geräte": "integer",
        "Fläche m²": "number",
        "eröffnet": "date",
        "geprüft": "datetime",
        "Breite": "number",
        "Länge": "number",
        "Notiz": "string",
    }
    assert data.rows[0] == (
        "Alaunplatz",
        12,
        1500.5,
        dt.date(1999, 5, 1),
        dt.datetime(2024, 3, 1, 9, 30),
        51.0687,
        13.7592,
        "neu",
    )
    assert data.rows[1][-1] == "7"  # a number in a text column stays (as text)
    assert len(data.rows) == 3  # the blank row is skipped
    assert [(g.x, g.y) for g in data.geometries[:2]] == [(13.7592, 51.0687), (13.7625, 51.0375)]
    assert data.geometries[2] is None
    assert "sheets-ignored" in rules(data)


def test_damaged_xlsx_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "kaputt.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["a"])
    book.save(path)
    path.write_bytes(path.read_bytes()[:300])
    error = input_error(path, fmt="xlsx")
    assert error.problems[0].rule == "syntax:xlsx"


def test_kmz_under_any_name(tmp_path: Path) -> None:
    kml = tmp_path / "doc.kml"
    gpd.GeoDataFrame(
        {"Name": ["Blaues Wunder"]}, geometry=[shapely.Point(13.8081, 51.0532)], crs="EPSG:4326"
    ).to_file(kml, driver="KML", engine="pyogrio")
    archive = write_zip(tmp_path / "bruecken.download", [kml])
    assert detect_format(archive) == "kml"
    data = only(archive)
    assert data.rows == [("Blaues Wunder",)]
    assert (data.geometries[0].x, data.geometries[0].y) == (13.8081, 51.0532)


def test_zipped_shapefile_without_zip_extension(tmp_path: Path) -> None:
    shp = write_shapefile(tmp_path / "src", "ohne_endung")
    archive = write_zip(tmp_path / "download", shapefile_parts(shp))
    data = only(archive)
    assert data.name == "ohne_endung"
    assert [r[0] for r in data.rows] == ["Schloßstraße", "Königsbrücker Straße"]


def test_geopackage_attribute_table_has_no_geometry(tmp_path: Path) -> None:
    import pyogrio

    path = tmp_path / "gemischt.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(13.7, 51.0)], crs="EPSG:4326").to_file(
        path, layer="orte", engine="pyogrio"
    )
    pyogrio.write_dataframe(
        pd.DataFrame({"Jahr": [2023, 2024], "Wert": [1.5, 2.5]}), path, layer="zahlen"
    )
    tables = {d.name: d for d in read_source(path)}
    numbers = tables["zahlen"]
    assert (
        numbers.geometries is None and numbers.source_crs is None and numbers.geometry_type is None
    )
    assert numbers.rows == [(2023, 1.5), (2024, 2.5)]
    assert tables["orte"].geometry_type == "Point"


def test_many_errors_are_counted_and_every_row_loaded(tmp_path: Path) -> None:
    # 1,500 rows, each one cell short: more errors than frictionless validates in one go
    lines = "".join(f"{i},2024-01-{i % 28 + 1:02d}\n" for i in range(1500))
    data = only(write(tmp_path / "kurz.csv", "Nr,Datum,Wert\n" + lines))
    assert len(data.rows) == 1500
    assert data.rows[-1] == (1499, dt.date(2024, 1, 16), None)
    validation = data.report["validation"]
    assert validation["error_count"] == 1500
    assert validation["error_types"] == {"missing-cell": 1500}
    assert len(validation["errors"]) == 20


def test_warnings_are_capped_per_rule(tmp_path: Path) -> None:
    lines = "".join(f"P{i},51.05,13.74\n" for i in range(50)) + "".join(
        f"Q{i},?,13.74\n" for i in range(150)
    )
    data = only(write(tmp_path / "viele.csv", "Name,lat,lon\n" + lines))
    unreadable = [w for w in data.report["warnings"] if w["rule"] == "coordinates-unreadable"]
    assert len(unreadable) == 101  # 100 listed, then one that counts the rest
    assert "50 more" in unreadable[-1]["en"]
    assert sum(g is not None for g in data.geometries) == 50


def test_where_names_the_source_in_messages(tmp_path: Path) -> None:
    path = tmp_path / "daten.csv"
    path.write_bytes("a\nÄ\n".encode() + "Ö\n".encode("cp1252"))
    with pytest.raises(InputError) as caught:
        read_source(path, where="Amt 61/daten.csv")
    assert caught.value.problems[0].where == "Amt 61/daten.csv, line 3"
    assert caught.value.problems[0].de.startswith("Amt 61/daten.csv: Zeile 3")


def test_a_workbook_announced_as_csv_is_read_as_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "tabelle.csv"
    book = openpyxl.Workbook()
    book.active.append(["Jahr", "Wert"])
    book.active.append([2024, 1.5])
    book.save(path)
    data = only(path, fmt="text/csv")
    assert data.report["format"] == "xlsx"
    assert data.rows == [(2024, 1.5)]
