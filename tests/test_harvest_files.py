"""The ``files`` source type over the real Dresden files: one dataset per file with the metadata
of its sidecar YAML, the validation report kept, coverage computed from the data; a half-written
file stops the run, a broken sidecar skips only its file, an unchanged re-run reads nothing; and,
through the runner, the data loaded into the store, searchable and served."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import http.server
import json
import os
import shutil
import threading
import time
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
import shapely
from rdflib import Graph

from catalog import model
from catalog.data_loading import OGC_FEATURES, loadable_format
from catalog.data_query import FeatureQuery
from catalog.data_store import DataStore
from catalog.harvest_state import HarvestLedger, RecordState
from catalog.rdf_mapping import resource_graph
from catalog.search import SearchQuery, SearchService
from catalog.shacl import validate
from catalog.spatial import parse_geometry
from catalog.store import Store
from harvesters.base import (
    Defaults,
    Harvested,
    Item,
    RecordError,
    SourceConfig,
    SourceError,
    Unchanged,
)
from harvesters.config import load_source
from harvesters.context import RunContext
from harvesters.defaults import apply_defaults
from harvesters.run import run_source
from harvesters.sources.files import fetch, title_from_file_name
from harvesters.sources.sidecar import KEYS, SidecarError, parse_sidecar, read_sidecar
from tests.conftest import BASE, REFERENCE, ROOT

DRESDEN = REFERENCE / "dresden-data"
SIDECARS = ROOT / "tests" / "fixtures" / "harvest_files"
EXAMPLES = ROOT / "config" / "harvesters" / "examples"
EU = "http://publications.europa.eu/resource/authority/"
FILE_TYPE = f"{EU}file-type/"
IANA = "https://www.iana.org/assignments/media-types/"
DL_BY = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
ODBL = "http://dcat-ap.de/def/licenses/odbl"
NOT_STATED = "http://dcat-ap.de/def/licenses/other-closed"
ATTRIBUTION_DRESDEN = "Landeshauptstadt Dresden, opendata.dresden.de"
ATTRIBUTION_LFULG = "Sächsisches Landesamt für Umwelt, Landwirtschaft und Geologie (LfULG)"

# file -> (title, licence, attribution, rows per layer): titles from the sidecars in
# tests/fixtures/harvest_files (one derived from the file name), licences from README.txt
EXPECTED = {
    "wahlbezirke_europawahl2024.geojson": (
        "Wahlbezirke Europawahl 2024",
        DL_BY,
        ATTRIBUTION_DRESDEN,
        408,
    ),
    "wahlergebnisse_1999-2024_wahlbezirke.csv": (
        "Wahlergebnisse nach Wahlbezirken 1999–2024",
        DL_BY,
        ATTRIBUTION_DRESDEN,
        12156,
    ),
    "stadtteile_dresden_osm2015.geojson": (
        "Stadtteile Dresden (OpenStreetMap, 2015)",
        ODBL,
        "© OpenStreetMap-Mitwirkende",
        61,
    ),
    "vvo_haltestellen.csv": (
        "Haltestellen im Verkehrsverbund Oberelbe",
        NOT_STATED,
        "Verkehrsverbund Oberelbe GmbH (VVO)",
        3913,
    ),
    # 684 values + the units row, which the reader keeps as an empty row
    "luft_2019-02_Dresden-Bergstrasse.csv": (
        "Luftqualität Dresden-Bergstraße, Februar 2019",
        NOT_STATED,
        ATTRIBUTION_LFULG,
        685,
    ),
    "luft_2019-02_Dresden-Nord.csv": (
        "Luftqualität Dresden-Nord, Februar 2019",
        NOT_STATED,
        ATTRIBUTION_LFULG,
        687,
    ),
    "luft_2019-02_Dresden-Winckelmannstr.csv": (
        "Luft 2019-02 Dresden-Winckelmannstr",  # no title in its sidecar: from the name
        NOT_STATED,
        ATTRIBUTION_LFULG,
        687,
    ),
}


# --- helpers --------------------------------------------------------------------------------


def source(folder: Path, name: str = "dresden-daten", **kwargs: object) -> SourceConfig:
    """A files source whose YAML file would sit in ``folder``'s parent."""
    options: dict[str, object] = {"folder": folder.name} | kwargs
    return SourceConfig(
        name=name,
        type="files",
        organization={"name": "Landeshauptstadt Dresden"},
        path=folder.parent / f"{name}.yaml",
        **options,  # type: ignore[arg-type]
    )


def copy_dresden(folder: Path, names: list[str] | None = None, sidecars: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in list(EXPECTED) if names is None else names:
        shutil.copy(DRESDEN / name, folder / name)
        if not sidecars:
            continue
        for sidecar in (SIDECARS / f"{name}.yaml", SIDECARS / f"{Path(name).stem}.yaml"):
            if sidecar.exists():
                shutil.copy(sidecar, folder / sidecar.name)
    return folder


def context(
    config: SourceConfig, memory: dict | None = None, active: list[str] | None = None
) -> RunContext:
    """The runner's context; ``active`` are the source ids stored by an earlier run."""
    now = dt.datetime.now(dt.UTC)
    previous = {
        sid: RecordState(
            config.name, sid, f"{BASE}/dataset/{i}", None, "sha", None, 0, sid, "{}", True, now
        )
        for i, sid in enumerate(active or [])
    }
    return RunContext(config, BASE, previous=previous, memory=memory)


def harvested(items: list[Item]) -> dict[str, Harvested]:
    return {i.source_id: i for i in items if isinstance(i, Harvested)}


def only_error(items: list[Item]) -> RecordError:
    [error] = [i for i in items if isinstance(i, RecordError)]
    return error


def source_error(config: SourceConfig) -> SourceError:
    with pytest.raises(SourceError) as caught:
        list(fetch(context(config)))
    error = caught.value
    assert error.message_de and error.message_en and error.message_de != error.message_en
    return error


# --- the Dresden folder, fetched once for the module ----------------------------------------


@pytest.fixture(scope="module")
def dresden(tmp_path_factory: pytest.TempPathFactory) -> tuple[SourceConfig, RunContext, list]:
    folder = copy_dresden(tmp_path_factory.mktemp("amt") / "daten")
    config = source(folder)
    ctx = context(config)
    started = time.perf_counter()
    items = list(fetch(ctx))
    ctx.first_seconds = time.perf_counter() - started  # type: ignore[attr-defined]
    return config, ctx, items


def test_every_dresden_file_is_one_dataset_with_its_sidecar_metadata(dresden) -> None:
    _, _, items = dresden
    found = harvested(items)
    assert sorted(found) == sorted(EXPECTED)
    for name, (title, licence, attribution, _rows) in EXPECTED.items():
        record = found[name].record
        assert isinstance(record, model.Dataset)
        assert model.preferred_text(record.title) == title, name
        [dist] = record.distributions
        assert (dist.license, dist.license_attribution) == (licence, attribution), name
        assert record.description.get("de"), name
        assert found[name].origin.startswith("file://") and found[name].origin.endswith(name)
    wahl = found["wahlbezirke_europawahl2024.geojson"].record
    assert wahl.themes == [f"{EU}data-theme/GOVE", f"{EU}data-theme/REGI"]
    assert wahl.accrual_periodicity == f"{EU}frequency/IRREG"
    assert wahl.identifier == ["wahlbezirke-europawahl-2024"]
    assert (wahl.issued, wahl.modified) == ("2024-10-15", "2024-10-15")
    assert wahl.languages == [f"{EU}language/DEU"]
    assert [k.value for k in wahl.keywords] == ["Wahlen", "Europawahl", "Wahlbezirke"]
    assert wahl.contact_points[0].email == "mailto:statistik@dresden.de"
    assert wahl.publisher is not None and wahl.publisher.uri == "https://www.dresden.de/"
    assert wahl.landing_pages == ["https://github.com/offenesdresden/wahlbezirke"]
    results = found["wahlergebnisse_1999-2024_wahlbezirke.csv"].record
    assert results.title["en"] == "Election results by polling district 1999–2024"
    assert results.accrual_periodicity == f"{EU}frequency/IRREG"  # "unregelmäßig"
    luft = found["luft_2019-02_Dresden-Nord.csv"].record
    assert luft.accrual_periodicity == f"{EU}frequency/MONTHLY"  # "monthly"
    # nothing the sidecar does not say: the runner applies the source's defaults
    assert found["luft_2019-02_Dresden-Winckelmannstr.csv"].record.publisher is None
    # distinct, stable catalogue IRIs below the source's name
    uris = {h.record.uri for h in found.values()}
    assert len(uris) == 7
    assert f"{BASE}/dataset/dresden-daten-wahlbezirke-europawahl2024" in uris


def test_the_distribution_is_the_attached_file(dresden) -> None:
    _, ctx, items = dresden
    sums = {
        line.split()[1]: line.split()[0]
        for line in (DRESDEN / "README.txt").read_text().splitlines()
        if len(line.split()) == 2 and len(line.split()[0]) == 64
    }
    for name, item in harvested(items).items():
        [dist] = item.record.distributions
        [attachment] = item.attachments
        assert attachment.load is True and attachment.name == name
        assert attachment.path.read_bytes() == (DRESDEN / name).read_bytes()
        url = ctx.file_url(name)
        assert dist.download_urls == [url] and dist.access_urls == [url]
        assert dist.byte_size == (DRESDEN / name).stat().st_size
        assert dist.checksum is not None and dist.checksum.value == sums[name]
        assert dist.checksum.algorithm == "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"
        mtime = dt.datetime.fromtimestamp(attachment.path.stat().st_mtime, dt.UTC)
        assert dist.modified == mtime.replace(microsecond=0).isoformat()
        assert item.source_modified == dist.modified
        if name.endswith(".csv"):
            assert (dist.format, dist.media_type) == (f"{FILE_TYPE}CSV", f"{IANA}text/csv")
            assert loadable_format(dist) == "csv"
        else:
            assert dist.format == f"{FILE_TYPE}GEOJSON"
            assert dist.media_type == f"{IANA}application/geo+json"
            assert loadable_format(dist) == "geojson"


def test_the_validation_report_is_kept_for_the_department(dresden) -> None:
    _, _, items = dresden
    found = harvested(items)
    for name, (*_, rows) in EXPECTED.items():
        report = found[name].report
        assert json.loads(json.dumps(report)) == report  # JSON as it is stored
        assert report["rows"] == {Path(name).stem: rows}
        assert report["file"] == name
        assert report["sha256"] == hashlib.sha256((DRESDEN / name).read_bytes()).hexdigest()
    # the units row of the air-quality files breaks the column types: frictionless says so
    berg = found["luft_2019-02_Dresden-Bergstrasse.csv"].report
    assert berg["valid"] is False and berg["error_count"] == 13
    assert {e["type"] for e in berg["errors"]} == {"type-error"}
    assert berg["errors"][0]["where"] == "luft_2019-02_Dresden-Bergstrasse.csv, line 2"
    assert {w["rule"] for w in berg["warnings"]} == {"subheader", "validation"}
    assert berg["layers"][0]["subheader"]["NO2"] == "µg/m³"
    stops = found["vvo_haltestellen.csv"].report
    assert stops["valid"] is True and stops["errors"] == []
    assert stops["layers"][0]["geometry_type"] == "Point"
    assert {"name": "latitude", "type": "number"} in stops["layers"][0]["columns"]
    assert found["wahlbezirke_europawahl2024.geojson"].report["sidecar"] == (
        "wahlbezirke_europawahl2024.geojson.yaml"
    )
    assert found["vvo_haltestellen.csv"].report["sidecar"] == "vvo_haltestellen.yaml"


def test_coverage_comes_from_the_data_where_the_sidecar_has_none(dresden) -> None:
    _, _, items = dresden
    found = harvested(items)
    # README: bbox 13.579,50.975 – 13.966,51.178
    [box] = found["wahlbezirke_europawahl2024.geojson"].record.spatial
    bounds = parse_geometry(box.bbox or "").bounds
    assert bounds == pytest.approx((13.579, 50.975, 13.966, 51.178), abs=1e-3)
    [stops] = found["vvo_haltestellen.csv"].record.spatial  # points in the table's columns
    assert shapely.from_wkt(stops.bbox).contains(shapely.Point(13.7373, 51.0504))
    # the sidecar's own period wins; else the first date column; else a year column
    wahl = found["wahlbezirke_europawahl2024.geojson"].record
    assert [(t.start, t.end) for t in wahl.temporal] == [("2024-06-09", "2024-06-09")]
    nord = found["luft_2019-02_Dresden-Nord.csv"].record
    assert [(t.start, t.end) for t in nord.temporal] == [("2019-02-01", "2019-03-01")]
    results = found["wahlergebnisse_1999-2024_wahlbezirke.csv"].record
    assert [(t.start, t.end) for t in results.temporal] == [("1999-01-01", "2024-12-31")]
    # a table without coordinates: only the regional key its sidecar names
    assert [loc.uri for loc in results.spatial] == [
        "http://dcat-ap.de/def/politicalGeocoding/regionalKey/146120000000"
    ]


def test_an_unchanged_rerun_reads_no_file_and_is_much_faster(dresden) -> None:
    config, first, items = dresden
    ctx = context(config, memory=dict(first.kept), active=list(harvested(items)))
    started = time.perf_counter()
    again = list(fetch(ctx))
    seconds = time.perf_counter() - started
    assert again == [Unchanged(sid) for sid in sorted(EXPECTED)]
    assert seconds * 5 <= first.first_seconds, (seconds, first.first_seconds)
    assert ctx.kept == first.kept  # remembered again for the run after


def test_the_records_conform_to_the_dcat_ap_de_shapes(dresden) -> None:
    """With the source's defaults (as the runner applies them) no record violates a shape."""
    config, _, items = dresden
    config = dataclasses.replace(config, defaults=load_source(EXAMPLES / "files.yaml").defaults)
    graph = Graph()
    for item in harvested(items).values():
        record = copy.deepcopy(item.record)
        apply_defaults(record, config)
        graph += resource_graph(record)
    violations = [r for r in validate(graph).results if r.severity == "Violation"]
    assert violations == []


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("wahlbezirke_europawahl2024.geojson", "Wahlbezirke Europawahl 2024"),
        ("wahlergebnisse_1999-2024_wahlbezirke.csv", "Wahlergebnisse 1999-2024 Wahlbezirke"),
        ("luft_2019-02_Dresden-Nord.csv", "Luft 2019-02 Dresden-Nord"),
        ("Haltestellen VVO.xlsx", "Haltestellen VVO"),
        ("baeume.shp.zip", "Baeume"),
        ("stadtteile_v1.2.geojson", "Stadtteile V1.2"),
    ],
)
def test_title_from_the_file_name(name: str, title: str) -> None:
    assert title_from_file_name(name) == title


# --- what changes is harvested again ----------------------------------------------------------


def test_a_changed_sidecar_or_file_is_harvested_again(tmp_path: Path) -> None:
    names = ["stadtteile_dresden_osm2015.geojson", "luft_2019-02_Dresden-Nord.csv"]
    folder = copy_dresden(tmp_path / "daten", names)
    config = source(folder)
    first = context(config)
    assert sorted(harvested(list(fetch(first)))) == sorted(names)
    sidecar = folder / "stadtteile_dresden_osm2015.geojson.yaml"
    sidecar.write_text(sidecar.read_text().replace("(OpenStreetMap, 2015)", "(OSM)"))
    ctx = context(config, memory=dict(first.kept), active=names)
    items = list(fetch(ctx))
    assert Unchanged("luft_2019-02_Dresden-Nord.csv") in items
    retitled = harvested(items)["stadtteile_dresden_osm2015.geojson"].record
    assert retitled.title == {"de": "Stadtteile Dresden (OSM)"}
    # saved again with the same bytes: unchanged, and the new mtime is remembered
    data = folder / "luft_2019-02_Dresden-Nord.csv"
    later = data.stat().st_mtime + 60
    os.utime(data, (later, later))
    ctx = context(config, memory=dict(ctx.kept), active=names)
    assert Unchanged("luft_2019-02_Dresden-Nord.csv") in list(fetch(ctx))
    assert ctx.kept["file:luft_2019-02_Dresden-Nord.csv"]["mtime_ns"] == data.stat().st_mtime_ns
    # new content (size and mtime change) and a record withdrawn since: read again
    with data.open("a", encoding="utf-8") as fh:
        fh.write("2019-03-01,01:00" + "," * 15 + "\n")
    ctx = context(config, memory=dict(ctx.kept), active=names[:1])
    items = list(fetch(ctx))
    assert items[1] == Unchanged("stadtteile_dresden_osm2015.geojson")
    assert harvested(items)["luft_2019-02_Dresden-Nord.csv"].report["rows"] == {
        "luft_2019-02_Dresden-Nord": 688
    }
    # other defaults mean other records: everything is read again
    changed = source(folder, defaults=Defaults(license=DL_BY))
    items = list(fetch(context(changed, memory=dict(ctx.kept), active=names)))
    assert sorted(harvested(items)) == sorted(names)


# --- a file that cannot be read stops the run ---------------------------------------------------


def test_a_geojson_cut_in_the_middle_is_a_source_error(tmp_path: Path) -> None:
    folder = copy_dresden(tmp_path / "daten", ["stadtteile_dresden_osm2015.geojson"])
    data = (DRESDEN / "wahlbezirke_europawahl2024.geojson").read_bytes()
    (folder / "wahlbezirke_europawahl2024.geojson").write_bytes(data[: len(data) // 2])
    error = source_error(source(folder))
    assert error.where.startswith("wahlbezirke_europawahl2024.geojson, line 1")
    assert "wahlbezirke_europawahl2024.geojson" in error.message_de
    assert "ungültiges JSON" in error.message_de and "invalid JSON" in error.message_en


def test_a_csv_with_mixed_encodings_is_a_source_error(tmp_path: Path) -> None:
    folder = tmp_path / "daten"
    folder.mkdir()
    good = "Stadtteil;Einwohner\nAltstadt;1\nLöbtau;2\nA;3\nB;4\nC;5\n".encode()
    (folder / "einwohner.csv").write_bytes(good + "Äußere Neustadt;6\n".encode("cp1252"))
    error = source_error(source(folder))
    assert error.where == "einwohner.csv, line 7"
    assert "Zeile 7" in error.message_de and "mixes encodings" in error.message_en


def test_a_csv_cut_in_the_middle_of_a_row_is_a_source_error(tmp_path: Path) -> None:
    folder = tmp_path / "daten"
    folder.mkdir()
    data = (DRESDEN / "vvo_haltestellen.csv").read_bytes()
    (folder / "vvo_haltestellen.csv").write_bytes(data[: len(data) // 2])
    lines = data[: len(data) // 2].count(b"\n") + 1
    error = source_error(source(folder))
    assert error.where == f"vvo_haltestellen.csv, line {lines}"
    assert "mitten in einer Zeile" in error.message_de
    assert "middle of a row" in error.message_en


def test_a_broken_zip_is_a_source_error(tmp_path: Path) -> None:
    folder = tmp_path / "daten"
    shapefile = write_shapefile(tmp_path / "shp", "baeume")
    folder.mkdir()
    data = shapefile.read_bytes()
    (folder / "baeume.zip").write_bytes(data[: len(data) // 2])
    error = source_error(source(folder))
    assert error.where.startswith("baeume.zip")
    assert "baeume.zip" in error.message_en


def test_a_missing_folder_or_an_unclear_source_is_a_source_error(tmp_path: Path) -> None:
    error = source_error(source(tmp_path / "fehlt"))
    assert "fehlt" in error.where and "nicht gefunden" in error.message_de
    both = source(tmp_path / "daten", glob="daten/*.csv")
    assert "genau eines" in source_error(both).message_de
    bad_filter = source(copy_dresden(tmp_path / "daten", []), filters={"inlcude": "*.csv"})
    assert "inlcude" in source_error(bad_filter).where


# --- sidecars -----------------------------------------------------------------------------------


def test_a_sidecar_with_a_typo_skips_only_its_file_and_names_the_nearest_key(
    tmp_path: Path,
) -> None:
    names = ["stadtteile_dresden_osm2015.geojson", "luft_2019-02_Dresden-Nord.csv"]
    folder = copy_dresden(tmp_path / "daten", names)
    sidecar = folder / "stadtteile_dresden_osm2015.geojson.yaml"
    text = sidecar.read_text().replace("title:", "titel:").replace("license:", "licnese:")
    sidecar.write_text(text)
    ctx = context(source(folder))
    items = list(fetch(ctx))
    assert list(harvested(items)) == ["luft_2019-02_Dresden-Nord.csv"]
    error = only_error(items)
    assert error.source_id == "stadtteile_dresden_osm2015.geojson"
    line = text.splitlines().index(next(x for x in text.splitlines() if x.startswith("titel:")))
    assert error.where == f"stadtteile_dresden_osm2015.geojson.yaml, line {line + 1}, key 'titel'"
    assert "unbekannter Schlüssel 'titel'; meinten Sie 'title'?" in error.message_de
    assert "unknown key 'titel'; did you mean 'title'?" in error.message_en
    assert "unknown key 'licnese'; did you mean 'license'?" in error.message_en
    assert "stadtteile_dresden_osm2015.geojson.yaml, Zeile" in error.message_de
    # only a file that was harvested is remembered: the broken one is read again next time
    assert "file:luft_2019-02_Dresden-Nord.csv" in ctx.kept
    assert "file:stadtteile_dresden_osm2015.geojson" not in ctx.kept


@pytest.mark.parametrize(
    ("text", "where", "de", "en"),
    [
        ("title: x\nkeywords: {a: b}\n", "line 2, key 'keywords'", "Liste von Texten", "list"),
        ("issued: gestern\n", "line 1, key 'issued'", "muss ein Datum sein", "must be a date"),
        ("title: [a, b]\n", "line 1, key 'title'", "ein Text", "a text"),
        (
            "contact_point:\n  name: Amt\n  mail: a@b.de\n",
            "line 3, key 'contact_point.mail'",
            "meinten Sie 'email'?",
            "did you mean 'email'?",
        ),
        (
            "contact_point:\n  email: keine-adresse\n",
            "line 2, key 'contact_point.email'",
            "keine gültige E-Mail-Adresse",
            "not a valid e-mail address",
        ),
        ("license: dl-de-by\n", "line 1, key 'license'", "'dl-by-de/2.0'", "'dl-by-de/2.0'"),
        ("themes: [ENVI, UMWELTT]\n", "line 1, key 'themes'", "erlaubt: AGRI", "allowed"),
        (
            "accrual_periodicity: monatlch\n",
            "line 1, key 'accrual_periodicity'",
            "'MONTHLY'",
            "'MONTHLY'",
        ),
        ("landing_page: www.dresden.de\n", "line 1, key 'landing_page'", "https://", "https://"),
        (
            "temporal: {start: 2024-05-01, end: 2023-01-01}\n",
            "line 1, key 'temporal'",
            "vor dem",
            "before",
        ),
        ("title: a\ntitle: b\n", "line 2, key 'title'", "zweimal", "twice"),
        ("title: [a\n", "line 2", "kein gültiges YAML", "not valid YAML"),
        ("- title\n", "line 1", "schlüssel: wert", "key: value"),
        ("title: !!python/object/apply:os.system [ls]\n", "line 1", "kein gültiges", "not valid"),
    ],
)
def test_sidecar_mistakes_name_file_line_and_key(text: str, where: str, de: str, en: str) -> None:
    with pytest.raises(SidecarError) as caught:
        parse_sidecar(text, "daten.csv.yaml")
    [problem] = caught.value.problems
    assert problem.where == f"daten.csv.yaml, {where}"
    assert de in problem.de and en in problem.en
    assert problem.de.startswith("daten.csv.yaml, Zeile ")
    assert problem.en.startswith("daten.csv.yaml, line ")


def test_sidecar_values_are_read_in_the_forms_people_write() -> None:
    sidecar = parse_sidecar(
        "license: dl-de/by-2-0\n"
        "accrual_periodicity: jährlich\n"
        "themes: Umwelt\n"
        "language: [Deutsch, en]\n"
        "issued: 15.10.2024\n"
        "modified: 2024\n"
        "identifier: 4711\n"
        "keywords: [Bäume, 2024]\n"
        "contact_point: {email: mailto:umwelt@dresden.de, telephone: '+49 (351) 488-6201'}\n"
        "spatial: [13.58, 50.97, 13.97, 51.18]\n"
        "description:\n",
        "baeume.csv.yaml",
    )
    assert sidecar.license == DL_BY
    assert sidecar.accrual_periodicity == f"{EU}frequency/ANNUAL"
    assert sidecar.themes == [f"{EU}data-theme/ENVI"]
    assert sidecar.languages == [f"{EU}language/DEU", f"{EU}language/ENG"]
    assert (sidecar.issued, sidecar.modified) == ("2024-10-15", "2024")
    assert sidecar.identifier == "4711" and sidecar.keywords == ["Bäume", "2024"]
    assert sidecar.contact_point is not None
    assert sidecar.contact_point.email == "mailto:umwelt@dresden.de"
    assert sidecar.contact_point.telephone == "tel:+493514886201"
    [box] = sidecar.spatial
    assert parse_geometry(box.bbox or "").bounds == (13.58, 50.97, 13.97, 51.18)
    assert sidecar.description == {}  # left empty: the default applies


def test_the_example_sidecar_and_source_are_valid() -> None:
    sidecar = read_sidecar(EXAMPLES / "files-sidecar.yaml")
    assert sidecar.title == {"de": "Wahlbezirke Europawahl 2024"}
    assert sidecar.license == DL_BY and sidecar.publisher is not None
    assert sidecar.contact_point is not None and sidecar.temporal is not None
    # every key of the sidecar format is shown in the example
    text = (EXAMPLES / "files-sidecar.yaml").read_text()
    assert [k for k in KEYS if f"\n{k}:" not in text] == []
    config = load_source(EXAMPLES / "files.yaml")
    assert config.type == "files" and config.resolve(config.folder or "").is_dir()


# --- the other formats, filters and patterns ----------------------------------------------------


def write_shapefile(folder: Path, name: str) -> Path:
    """A zipped Shapefile of three trees in ETRS89 / UTM 33N, written by GDAL."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = gpd.GeoDataFrame(
        {"art": ["Linde", "Eiche", "Ahorn"], "hoehe": [12.5, 20.0, 8.0]},
        geometry=[shapely.Point(411000 + i * 100, 5655000 + i * 50) for i in range(3)],
        crs="EPSG:25833",
    )
    frame.to_file(folder / f"{name}.shp")
    target = folder / f"{name}.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for part in sorted(folder.glob(f"{name}.*")):
            if part.suffix != ".zip":
                archive.write(part, part.name)
    return target


def test_xlsx_geopackage_and_zipped_shapefile(tmp_path: Path) -> None:
    folder = tmp_path / "daten"
    folder.mkdir()
    shutil.copy(write_shapefile(tmp_path / "shp", "baeume"), folder / "baeume.zip")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Stadtteil", "Einwohner", "Stichtag"])
    sheet.append(["Altstadt", 55000, dt.date(2024, 12, 31)])
    sheet.append(["Neustadt", 50000, dt.date(2023, 12, 31)])
    book.save(folder / "einwohner.xlsx")
    frame = gpd.GeoDataFrame(
        {"name": ["Elbe"]}, geometry=[shapely.LineString([(13.7, 51.0), (13.8, 51.1)])], crs=4326
    )
    frame.to_file(folder / "gewaesser.gpkg", layer="fluesse", driver="GPKG")
    items = harvested(list(fetch(context(source(folder)))))
    expected = {
        "baeume.zip": ("SHP", "application/zip", "shapefile", 3),
        "einwohner.xlsx": (
            "XLSX",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
            2,
        ),
        "gewaesser.gpkg": ("GPKG", "application/geopackage+sqlite3", "geopackage", 1),
    }
    assert sorted(items) == sorted(expected)
    for name, (code, media, reader, rows) in expected.items():
        [dist] = items[name].record.distributions
        assert dist.format == f"{FILE_TYPE}{code}" and dist.media_type == f"{IANA}{media}"
        assert loadable_format(dist) == reader
        assert sum(items[name].report["rows"].values()) == rows
    assert items["baeume.zip"].record.distributions[0].package_format == (f"{IANA}application/zip")
    [trees] = items["baeume.zip"].record.spatial  # UTM in the file, lon/lat in the record
    west, south, east, north = parse_geometry(trees.bbox or "").bounds
    assert 13.7 < west < east < 13.8 and 51.0 < south < north < 51.1
    people = items["einwohner.xlsx"].record
    assert [(t.start, t.end) for t in people.temporal] == [("2023-12-31", "2024-12-31")]
    assert items["gewaesser.gpkg"].report["rows"] == {"fluesse": 1}


def test_filters_select_the_files_and_office_leftovers_are_never_read(tmp_path: Path) -> None:
    folder = copy_dresden(
        tmp_path / "daten", ["vvo_haltestellen.csv", "stadtteile_dresden_osm2015.geojson"]
    )
    (folder / "archiv").mkdir()
    shutil.copy(DRESDEN / "luft_2019-02_Dresden-Nord.csv", folder / "archiv" / "nord.csv")
    shutil.copy(DRESDEN / "luft_2019-02_Dresden-Nord.csv", folder / "archiv" / "alt.CSV")
    (folder / "~$einwohner.xlsx").write_bytes(b"locked by Excel")
    (folder / ".entwurf.csv").write_text("a,b\n1,2\n")
    (folder / "notizen.txt").write_text("keine Daten")
    (folder / "upload.csv.part").write_text("a,b\n1,")

    def ids(**filters: object) -> list[str]:
        return sorted(harvested(list(fetch(context(source(folder, filters=filters))))))

    assert ids() == ["stadtteile_dresden_osm2015.geojson", "vvo_haltestellen.csv"]
    assert ids(include="*.csv", recursive=True) == [
        "archiv/alt.CSV",
        "archiv/nord.csv",
        "vvo_haltestellen.csv",
    ]
    assert ids(recursive=True, exclude=["archiv/*", "*.geojson"]) == ["vvo_haltestellen.csv"]
    recursive = harvested(list(fetch(context(source(folder, filters={"recursive": True})))))
    nested = recursive["archiv/nord.csv"]
    assert nested.attachments[0].name == "archiv_nord.csv"  # flat below the source's folder
    assert nested.record.distributions[0].download_urls[0].endswith("/archiv_nord.csv")


def test_a_glob_pattern(tmp_path: Path) -> None:
    copy_dresden(tmp_path / "daten" / "2019", [f for f in EXPECTED if "luft" in f])
    config = SourceConfig(
        name="luft",
        type="files",
        organization={"name": "Umweltamt"},
        path=tmp_path / "luft.yaml",
        glob="daten/**/luft_*Nord.csv",
    )
    items = harvested(list(fetch(context(config))))
    assert list(items) == ["2019/luft_2019-02_Dresden-Nord.csv"]  # below the fixed part
    assert items["2019/luft_2019-02_Dresden-Nord.csv"].report["sidecar"] == (
        "2019/luft_2019-02_Dresden-Nord.csv.yaml"
    )


# --- files behind http(s) addresses ---------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def web_folder(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A real HTTP server over a folder (Last-Modified, If-Modified-Since -> 304)."""
    folder = tmp_path / "web"
    folder.mkdir()
    handler = partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_urls_are_downloaded_and_asked_again_only_if_modified(
    tmp_path: Path, web_folder: tuple[Path, str]
) -> None:
    folder, base = web_folder
    shutil.copy(DRESDEN / "stadtteile_dresden_osm2015.geojson", folder)
    shutil.copy(DRESDEN / "luft_2019-02_Dresden-Nord.csv", folder / "nord")  # no suffix
    old = time.time() - 3600
    os.utime(folder / "stadtteile_dresden_osm2015.geojson", (old, old))
    # sidecars of URL sources sit next to the source's YAML file
    shutil.copy(SIDECARS / "stadtteile_dresden_osm2015.geojson.yaml", tmp_path)
    urls = [f"{base}/stadtteile_dresden_osm2015.geojson", f"{base}/nord"]
    config = SourceConfig(
        name="web",
        type="files",
        organization={"name": "Stadt"},
        path=tmp_path / "web.yaml",
        urls=urls,
    )
    first = context(config)
    items = harvested(list(fetch(first)))
    assert list(items) == urls
    districts = items[urls[0]]
    assert districts.origin == urls[0]
    assert districts.record.title == {"de": "Stadtteile Dresden (OpenStreetMap, 2015)"}
    assert districts.report["rows"] == {"stadtteile_dresden_osm2015": 61}
    assert districts.source_modified == (dt.datetime.fromtimestamp(int(old), dt.UTC).isoformat())
    [attachment] = districts.attachments
    assert (
        attachment.path.read_bytes() == (folder / "stadtteile_dresden_osm2015.geojson").read_bytes()
    )
    nord = items[urls[1]]
    assert nord.attachments[0].name == "nord.csv"  # the suffix of the format found
    assert nord.record.distributions[0].format == f"{FILE_TYPE}CSV"
    # the temporary copy lives as long as the attachments do
    download = attachment.path
    del items, districts, nord, attachment
    import gc

    gc.collect()
    assert not download.exists()
    # unchanged on the server: 304 Not Modified, nothing downloaded
    again = list(fetch(context(config, memory=dict(first.kept), active=urls)))
    assert again == [Unchanged(urls[0]), Unchanged(urls[1])]
    # a file that is gone from the server stops the run
    (folder / "nord").unlink()
    with pytest.raises(SourceError) as caught:
        list(fetch(context(config)))
    assert caught.value.where == urls[1] and "404" in caught.value.message_en


def test_urls_ending_alike_get_distinct_names_and_a_web_page_is_refused(
    tmp_path: Path, web_folder: tuple[Path, str]
) -> None:
    folder, base = web_folder
    for sub, rows in (("2023", "1\n2\n"), ("2024", "3\n")):
        (folder / sub).mkdir()
        (folder / sub / "einwohner.csv").write_text("Anzahl\n" + rows, encoding="utf-8")
    urls = [f"{base}/2023/einwohner.csv", f"{base}/2024/einwohner.csv"]
    config = SourceConfig(
        name="web",
        type="files",
        organization={"name": "Stadt"},
        path=tmp_path / "w.yaml",
        urls=urls,
    )
    items = harvested(list(fetch(context(config))))
    names = [items[url].attachments[0].name for url in urls]
    assert len(set(names)) == 2 and all(n.endswith("-einwohner.csv") for n in names)
    assert [list(items[url].report["rows"].values()) for url in urls] == [[2], [1]]
    assert len({items[url].record.uri for url in urls}) == 2
    (folder / "daten.html").write_text("<html><body>Bitte anmelden</body></html>")
    config.urls = [f"{base}/daten.html"]
    with pytest.raises(SourceError) as caught:
        list(fetch(context(config)))
    assert "Webseite" in caught.value.message_de and "web page" in caught.value.message_en


# --- end to end through the runner ----------------------------------------------------------------


def write_source(folder: Path, name: str = "dresden-daten") -> Path:
    path = folder.parent / f"{name}.yaml"
    path.write_text(
        f"name: {name}\n"
        "type: files\n"
        "organization:\n"
        "  name: Landeshauptstadt Dresden\n"
        "  uri: https://www.dresden.de/\n"
        f"folder: {folder.name}\n"
        "defaults:\n"
        "  license: dl-by-de/2.0\n"
        "  contact_point: {name: Open-Data-Koordination, email: opendata@dresden.de}\n"
        "  languages: [DEU]\n"
        "  keywords: [Dresden]\n",
        encoding="utf-8",
    )
    return path


def test_harvested_files_are_loaded_searchable_and_served(store: Store, tmp_path: Path) -> None:
    folder = copy_dresden(tmp_path / "daten")
    config = load_source(write_source(folder))
    files_dir = tmp_path / "files"
    started = time.perf_counter()
    result = run_source(store, config, files_dir=files_dir, base_url=BASE)
    first_seconds = time.perf_counter() - started
    assert result.status == "succeeded", result.summary()
    assert result.counts == {"new": 7, "changed": 0, "unchanged": 0, "withdrawn": 0, "failed": 0}
    # the attachments are where the download URLs point
    for name in EXPECTED:
        assert (files_dir / "harvest" / "dresden-daten" / name).read_bytes() == (
            DRESDEN / name
        ).read_bytes()
    # searchable, with the sidecar's metadata and the source's defaults
    search = SearchService(store)
    hits = search.search(SearchQuery(q="Wahlbezirke Europawahl")).results
    record = hits[0].record
    assert isinstance(record, model.Dataset)
    assert model.preferred_text(record.title) == "Wahlbezirke Europawahl 2024"
    assert record.publisher is not None and record.publisher.uri == "https://www.dresden.de/"
    assert "Dresden" in [k.value for k in record.keywords]  # from the defaults
    file_dist = next(d for d in record.distributions if d.format == f"{FILE_TYPE}GEOJSON")
    assert file_dist.download_urls == [
        f"{BASE}/files/harvest/dresden-daten/wahlbezirke_europawahl2024.geojson"
    ]
    assert any(OGC_FEATURES in d.conforms_to for d in record.distributions)  # served
    luft = search.search(SearchQuery(q="Luftqualität Februar")).results
    assert sorted(model.preferred_text(r.record.title) for r in luft) == [
        "Luftqualität Dresden-Bergstraße, Februar 2019",
        "Luftqualität Dresden-Nord, Februar 2019",
    ]
    [winckel] = search.search(SearchQuery(q="Winckelmannstr")).results
    assert winckel.record.distributions[0].license == NOT_STATED  # the sidecar beats defaults
    # served from the data store: every file one collection with all its rows
    data = DataStore(store.engine)
    counts = {info.source.rsplit("/", 1)[-1]: info.feature_count for info in data.collections()}
    assert counts == {name: rows for name, (*_, rows) in EXPECTED.items()}
    polling = next(i for i in data.collections() if i.dataset_uri == record.uri)
    page = data.query(polling.id, FeatureQuery(properties=[("wb", "02200")]))
    [feature] = page.features
    assert feature["properties"]["wb_text"] == "Pirnaische Vorstadt (Zirkusstr.)"
    # the validation report is kept where the department sees it
    report = HarvestLedger(store).report("dresden-daten", "luft_2019-02_Dresden-Bergstrasse.csv")
    assert report["error_count"] == 13 and report["rows"] == {
        "luft_2019-02_Dresden-Bergstrasse": 685
    }
    # an unchanged re-run reads nothing and writes nothing
    started = time.perf_counter()
    again = run_source(store, config, files_dir=files_dir, base_url=BASE)
    assert again.status == "succeeded", again.summary()
    assert again.counts["unchanged"] == 7 and again.counts["new"] == again.counts["changed"] == 0
    assert (time.perf_counter() - started) * 5 <= first_seconds


def test_a_half_written_file_changes_nothing_in_the_catalogue(
    sqlite_store: Store, tmp_path: Path
) -> None:
    store = sqlite_store
    names = ["stadtteile_dresden_osm2015.geojson", "vvo_haltestellen.csv"]
    folder = copy_dresden(tmp_path / "daten", names)
    config = load_source(write_source(folder))
    files_dir = tmp_path / "files"
    first = run_source(store, config, files_dir=files_dir, base_url=BASE)
    assert first.status == "succeeded", first.summary()
    before = {r.uri: r.record.to_dict() for r in store.iter_resources()}
    # the department saves a new version of one file and a half-written new one appears
    sidecar = folder / "vvo_haltestellen.yaml"
    sidecar.write_text(sidecar.read_text().replace("im Verkehrsverbund", "im VVO"))
    data = (DRESDEN / "wahlbezirke_europawahl2024.geojson").read_bytes()
    (folder / "wahlbezirke_europawahl2024.geojson").write_bytes(data[:100_000])
    failed = run_source(store, config, files_dir=files_dir, base_url=BASE)
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error["where"].startswith("wahlbezirke_europawahl2024.geojson")
    assert {r.uri: r.record.to_dict() for r in store.iter_resources()} == before
    # once the file is complete, the run goes through
    (folder / "wahlbezirke_europawahl2024.geojson").write_bytes(data)
    done = run_source(store, config, files_dir=files_dir, base_url=BASE)
    assert done.status == "succeeded", done.summary()
    assert (done.counts["new"], done.counts["changed"], done.counts["unchanged"]) == (1, 1, 1)
