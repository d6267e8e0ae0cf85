"""Bad department files through the command line and a running server: a clear error naming
file and place in German and English, nothing already served lost, the error kept for the
Datenkontaktperson."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import geopandas
import requests
import shapely

from tests.conftest import Server, big_points_file


def _shapefile_zip(path: Path, *, truncate: bool = False) -> Path:
    frame = geopandas.GeoDataFrame(
        {"name": ["A", "B"]},
        geometry=[shapely.Point(411_000, 5_655_000), shapely.Point(412_000, 5_656_000)],
        crs="EPSG:25833",
    )
    folder = path.parent / (path.stem + "_shp")
    folder.mkdir()
    frame.to_file(folder / "punkte.shp", engine="pyogrio")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for part in folder.iterdir():
            data = part.read_bytes()
            if truncate and part.suffix == ".shp":
                data = data[: len(data) // 2]
            zf.writestr(part.name, data)
    path.write_bytes(buffer.getvalue())
    return path


def test_bad_files_give_clear_errors_and_keep_what_is_served(
    server_factory,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    server: Server = server_factory()
    server.odapp("db", "upgrade")
    good = big_points_file(tmp_path / "punkte.geojson", 40)
    server.odapp("data", "load", str(good), "--collection", "punkte")
    server.start()

    # a corrupt Shapefile under the same collection: refused, the 40 points stay served
    broken = _shapefile_zip(tmp_path / "punkte.zip", truncate=True)
    result = server.odapp("data", "load", str(broken), "--collection", "punkte", check=False)
    assert result.returncode == 2
    assert "punkte.zip" in result.stderr and "de:" in result.stderr and "en:" in result.stderr
    items = requests.get(f"{server.url}/ogc/collections/punkte/items?limit=100", timeout=30).json()
    assert items["numberMatched"] == 40 and len(items["features"]) == 40
    status = requests.get(f"{server.url}/api/data/collections/punkte", timeout=30).json()
    assert status["served"] and status["count"] == 40
    assert status["error"]["problems"][0]["where"].startswith("punkte.zip")

    # a good Shapefile in EPSG:25833 replaces it and clears the error
    fine = _shapefile_zip(tmp_path / "gut.zip")
    server.odapp("data", "load", str(fine), "--collection", "punkte")
    status = requests.get(f"{server.url}/api/data/collections/punkte", timeout=30).json()
    assert status["count"] == 2 and status["error"] is None
    assert status["source_crs"] == "EPSG:25833"

    # a CSV that mixes UTF-8 and Windows-1252: the line is named
    mixed = tmp_path / "gemischt.csv"
    mixed.write_bytes("name,wert\nGörlitzer Straße,1\n".encode() + "Löbtau,2\n".encode("cp1252"))
    result = server.odapp("data", "load", str(mixed), "--collection", "gemischt", check=False)
    assert result.returncode == 2
    assert "gemischt.csv" in result.stderr and "3" in result.stderr
    assert "gemischt" not in {
        c["id"]
        for c in requests.get(f"{server.url}/ogc/collections", timeout=30).json()["collections"]
    }

    # invalid geometries are repaired, and the repair is reported per feature
    bowtie = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": 1,
                "properties": {"name": "Schleife"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[13.7, 51.0], [13.8, 51.1], [13.8, 51.0], [13.7, 51.1], [13.7, 51.0]]
                    ],
                },
            },
            {
                "type": "Feature",
                "id": 2,
                "properties": {"name": "gut"},
                "geometry": {"type": "Point", "coordinates": [13.75, 51.05]},
            },
        ],
    }
    path = tmp_path / "schleife.geojson"
    path.write_text(json.dumps(bowtie))
    result = server.odapp("data", "load", str(path), "--collection", "schleife")
    assert "schleife.geojson" in result.stdout and "1" in result.stdout
    feature = requests.get(f"{server.url}/ogc/collections/schleife/items/1", timeout=30).json()
    assert shapely.geometry.shape(feature["geometry"]).is_valid
    status = requests.get(f"{server.url}/api/data/collections/schleife", timeout=30).json()
    assert status["report"]["warnings"]
