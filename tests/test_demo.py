"""The ``odapp demo`` catalogue: complete DCAT-AP.de records, real files, storable, repeatable."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
import shapely
from rdflib import Graph
from shapely.geometry import shape

from catalog import model
from catalog.export import stream_catalog
from catalog.store import Store
from catalog.validation import check_resource
from odapp.demo import LICENCE_DL_BY, LICENCE_ODBL, build_demo

BASE = "http://odapp.test:8080"
EU = "http://publications.europa.eu/resource/authority/"
UMLAUTS = set("äöüÄÖÜß")

Demo = tuple[model.Catalog, list[model.Resource], Path]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    files = tmp_path_factory.mktemp("files")
    catalog, resources = build_demo(BASE, files)
    return catalog, resources, files


def datasets(resources: list[model.Resource]) -> list[model.Dataset]:
    return [r for r in resources if isinstance(r, model.Dataset)]


def formats(node: model.Distribution | model.DataService) -> list[str]:
    """dcterms:format of a distribution or data service."""
    if isinstance(node, model.DataService):
        return list(node.formats)
    return [node.format] if node.format else []


def local_file(files: Path, url: str) -> Path:
    prefix = f"{BASE}/files/"
    assert url.startswith(prefix), url
    return files / url.removeprefix(prefix)


def test_at_least_25_resources_and_all_pass_the_mandatory_rules(demo: Demo) -> None:
    _, resources, _ = demo
    assert len(resources) >= 25
    for r in resources:
        assert check_resource(r) == [], r.uri


def test_names_and_iris_are_unique_and_stable(demo: Demo) -> None:
    _, resources, _ = demo
    names = [r.identifier[0] for r in resources]
    assert len(set(names)) == len(names)
    assert len({r.uri for r in resources}) == len(resources)
    for r in resources:
        assert len(r.identifier) == 1
        assert r.uri == f"{BASE}/dataset/{r.identifier[0]}"
        assert r.landing_pages == [r.uri]


def test_series_and_services_point_to_records_of_the_catalogue(demo: Demo) -> None:
    _, resources, _ = demo
    series = [r for r in resources if isinstance(r, model.DatasetSeries)]
    services = [r for r in resources if isinstance(r, model.DataService)]
    assert series and services
    uris = {r.uri for r in resources}
    members = [r for r in datasets(resources) if r.in_series]
    assert len(members) >= 2
    for r in members:
        assert set(r.in_series) <= {s.uri for s in series}
    for s in services:
        assert s.endpoint_urls and s.endpoint_descriptions and s.serves_datasets
        assert set(s.serves_datasets) <= uris
        assert formats(s)
    for r in datasets(resources):
        assert set(r.sources) <= uris, r.uri  # dcterms:source names datasets only


def test_every_download_is_a_written_file_with_its_size_and_checksum(demo: Demo) -> None:
    _, resources, files = demo
    seen = 0
    for r in datasets(resources):
        if isinstance(r, model.DatasetSeries):
            continue
        assert r.distributions, r.uri
        for d in r.distributions:
            assert d.access_urls == d.download_urls
            path = local_file(files, d.download_urls[0])
            assert path.is_file() and path.stat().st_size > 0, path
            data = path.read_bytes()
            assert d.byte_size == len(data)
            assert d.checksum is not None
            assert d.checksum.value == hashlib.sha256(data).hexdigest()
            assert formats(d) == [f"{EU}file-type/{path.suffix[1:].upper()}"]
            assert d.media_type and d.media_type.startswith("https://www.iana.org/assignments/")
            assert d.title.get("de") and d.title.get("en")
            assert d.modified and d.availability and d.license
            seen += 1
    assert seen >= 30


def test_every_record_has_the_complete_metadata(demo: Demo) -> None:
    _, resources, _ = demo
    keywords = []
    for r in resources:
        for text in (r.title, r.description):
            assert text.get("de") and text.get("en"), r.uri
        assert r.publisher is not None and r.publisher.name.get("de") and r.publisher.uri
        assert r.publisher.type and r.publisher.type.startswith("http://purl.org/adms/")
        assert r.contact_points and all(c.fn and c.email for c in r.contact_points)
        assert all(c.email.endswith("@dresden.de") for c in r.contact_points)
        assert r.keywords and all(k.lang == "de" for k in r.keywords)
        keywords += [k.value for k in r.keywords]
        assert r.issued and r.modified and r.access_rights == f"{EU}access-right/PUBLIC"
        assert r.languages == [f"{EU}language/DEU"] and r.availability
        assert all(t.startswith(f"{EU}data-theme/") for t in r.themes) and r.themes
    for r in datasets(resources):
        assert r.accrual_periodicity and r.accrual_periodicity.startswith(f"{EU}frequency/")
        assert r.temporal and all(p.start and p.end and p.start <= p.end for p in r.temporal)
        assert any(loc.geometry for loc in r.spatial)
        assert any(loc.uri and "/politicalGeocoding/" in loc.uri for loc in r.spatial)
        assert r.political_geocoding_level
        for d in r.distributions:
            if d.license in (LICENCE_DL_BY, LICENCE_ODBL):
                assert d.license_attribution, (r.uri, d.uri)
    assert any(UMLAUTS & set(k) for k in keywords)


def test_store_round_trip(tmp_path: Path, demo: Demo) -> None:
    catalog, resources, _ = demo
    store = Store(f"sqlite:///{tmp_path}/t.sqlite", BASE)
    store.upgrade()
    result = store.save(resources, catalog=catalog)
    assert store.count() == len(resources) == len(result.created)
    assert sorted(result.created) == sorted(r.identifier[0] for r in resources)
    for r in resources:
        assert store.get(r.identifier[0]).record == r
    assert store.catalog() == catalog


def test_the_exported_catalogue_conforms_to_dcat_ap_de(tmp_path: Path, demo: Demo) -> None:
    from catalog import shacl

    catalog, resources, _ = demo
    store = Store(f"sqlite:///{tmp_path}/t.sqlite", BASE)
    store.upgrade()
    store.save(resources, catalog=catalog)
    graph = Graph().parse(data="".join(stream_catalog(store, catalog, "nt")), format="nt")
    report = shacl.validate(graph)
    assert report.violations == [], shacl.format_report(report)
    assert report.warnings == [], shacl.format_report(report)


def test_same_call_gives_equal_records_and_identical_files(tmp_path: Path, demo: Demo) -> None:
    catalog, resources, files = demo
    again_catalog, again = build_demo(BASE, tmp_path)
    assert again_catalog == catalog
    assert again == resources

    def digests(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()
        }

    assert digests(tmp_path) == digests(files)


def test_derived_files_hold_what_their_records_say(demo: Demo) -> None:
    _, resources, files = demo
    by_name = {r.identifier[0]: r for r in resources}

    def rows(name: str, index: int = 0) -> list[dict[str, str]]:
        r = by_name[name]
        assert isinstance(r, model.Dataset)
        path = local_file(files, r.distributions[index].download_urls[0])
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    turnout = rows("wahlbeteiligung-stadtbezirke-1999-2024")
    city = next(t for t in turnout if (t["jahr"], t["wahlart"], t["stadtbezirk"])
                == ("2024", "Europawahl", "Dresden insgesamt"))
    assert (city["wahlberechtigte"], city["waehler"]) == ("429624", "312570")
    assert city["wahlbeteiligung_prozent"] == "72.75"
    assert "72,8 %" in by_name["wahlergebnisse-europawahl-2024"].description["de"]

    stops = rows("haltestellen-dresden")
    assert len(stops) == 781 and all(s["id"].startswith("de:14612:") for s in stops)
    trams = rows("strassenbahnhaltestellen-dresden", 1)
    assert trams and all(t["tram_lines"] for t in trams)

    quarters = by_name["stadtteile-dresden-2024"]
    assert isinstance(quarters, model.Dataset)
    path = local_file(files, quarters.distributions[0].download_urls[0])
    doc = json.loads(path.read_text(encoding="utf-8"))
    geoms = [shape(f["geometry"]) for f in doc["features"]]
    assert len(geoms) == 61 and all(g.is_valid for g in geoms)
    assert all(shapely.is_ccw(g.exterior) for g in geoms)  # RFC 7946 winding
    assert path.stat().st_size < 400_000
    stops_geojson = local_file(files, by_name["haltestellen-dresden"].distributions[1]
                               .download_urls[0])
    assert stops_geojson.stat().st_size < 300_000

    daily = rows("luftqualitaet-dresden-2019-02-tagesmittel")
    assert len(daily) == 3 * 28
    assert {d["datum"] for d in daily} == {f"2019-02-{day:02d}" for day in range(1, 29)}
