"""The issue's "done when": a Datenkontaktperson copies an example YAML, edits three lines, runs
``odapp harvest check`` and ``odapp harvest run``, and the department's data is searchable and
served, by a real ``odapp serve`` process read with ckanapi and OWSLib."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import requests
from ckanapi import RemoteCKAN

from tests.conftest import Server

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "harvesters" / "examples" / "files.yaml"
DRESDEN = Path(os.environ.get("ODAPP_REFERENCE", ROOT.parent / "shared" / "reference")) / (
    "dresden-data"
)


def test_copy_the_example_edit_three_lines_check_run_and_find_the_data(tmp_path: Path) -> None:
    data = tmp_path / "amt" / "opendata"
    data.mkdir(parents=True)
    for name in ("wahlbezirke_europawahl2024.geojson", "vvo_haltestellen.csv"):
        shutil.copy(DRESDEN / name, data / name)
    folder = tmp_path / "config" / "harvesters"
    folder.mkdir(parents=True)
    text = EXAMPLE.read_text("utf-8")
    edits = {
        "name: statistik-dateien": "name: buergeramt",
        "folder: ../../../odapp/demo_data": f"folder: {data}",
        "  name: Landeshauptstadt Dresden, Kommunale Statistikstelle": "  name: Bürgeramt Dresden",
    }
    for old, new in edits.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (folder / "buergeramt.yaml").write_text(text, "utf-8")

    server = Server(tmp_path)
    check = server.odapp("harvest", "check", "--offline")
    assert check.returncode == 0 and "OK" in check.stdout, check.stdout + check.stderr
    run = server.odapp("harvest", "run", "buergeramt", check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "succeeded" in run.stdout and "new 2" in run.stdout, run.stdout

    server.start()
    try:
        ckan = RemoteCKAN(server.url)
        found = ckan.action.package_search(q="Wahlbezirke")
        assert found["count"] >= 1
        dataset = found["results"][0]
        assert dataset["organization"]["title"] == "Bürgeramt Dresden"
        assert dataset["license_id"] == "dl-by-de/2.0"
        # served: the features as an OGC API collection, as many as the file holds
        collections = requests.get(f"{server.url}/ogc/collections?f=json", timeout=30).json()
        ids = [c["id"] for c in collections["collections"]]
        wahl = next(c for c in ids if "wahlbezirk" in c)
        hits = requests.get(
            f"{server.url}/ogc/collections/{wahl}/items?f=json&limit=1", timeout=30
        ).json()
        expected = len(
            json.loads((data / "wahlbezirke_europawahl2024.geojson").read_text())["features"]
        )
        assert hits["numberMatched"] == expected
        jobs = requests.get(f"{server.url}/api/harvest/jobs?source=buergeramt", timeout=10).json()
        assert jobs["jobs"][0]["counts"]["new"] == 2

        # the department deletes the file: the dataset is withdrawn and its map layer goes
        (data / "wahlbezirke_europawahl2024.geojson").unlink()
        again = server.odapp("harvest", "run", "buergeramt")
        assert "withdrawn 1" in again.stdout, again.stdout
        assert ckan.action.package_search(q="Wahlbezirke")["count"] == 0
        collections = requests.get(f"{server.url}/ogc/collections?f=json", timeout=30).json()
        assert wahl not in [c["id"] for c in collections["collections"]]
        gone = requests.get(f"{server.url}/ogc/collections/{wahl}/items?f=json", timeout=30)
        assert gone.status_code == 404
    finally:
        server.stop()
