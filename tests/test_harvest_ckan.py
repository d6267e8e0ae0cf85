"""The ``ckan`` source type against a running ODApp (another process with its own database)
through the real ckanapi client: the same datasets as its DCAT catalogue, filters, incremental
runs by metadata_modified, tokens, errors, and the mapping of ckanext-dcat(de) packages."""

from __future__ import annotations

import json
import socket
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import ckanapi
import pytest
import requests

from catalog import model
from catalog.harvest_state import HarvestLedger
from catalog.store import Store
from catalog.validation import check_resource
from harvesters.base import Harvested, RecordError, SourceConfig, SourceError, Unchanged
from harvesters.context import RunContext
from harvesters.run import run_source
from harvesters.sources import ckan, dcat
from harvesters.sources.ckan_mapping import format_iri, licence_iri, package_to_record
from tests.conftest import BASE, Server
from tests.test_harvest_dcat import Site, send, source_server

STATISTIK = "landeshauptstadt-dresden-kommunale-statistikstelle"
UMWELT = "landeshauptstadt-dresden-umweltamt"
DEMO_COUNT = 33  # 29 datasets (3 sensor stations), 1 series, 3 data services
EU = "http://publications.europa.eu/resource/authority/"


@pytest.fixture(scope="session")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Server:
    """The served demo catalogue, shared with test_harvest_dcat (see source_server)."""
    return source_server(request, tmp_path_factory)


@pytest.fixture(scope="module")
def portal(server: Server) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(server.url, user_agent="odapp-tests")


def source(name: str, url: str, **kwargs: Any) -> SourceConfig:
    return SourceConfig(
        name=name,
        type="ckan",
        organization={"name": "Landeshauptstadt Dresden", "uri": "https://www.dresden.de/"},
        url=url,
        **kwargs,
    )


def fetch_fresh(config: SourceConfig) -> list[Any]:
    return list(ckan.fetch(RunContext(config, BASE)))


def after_runs(store: Store, config: SourceConfig) -> RunContext:
    ledger = HarvestLedger(store)
    return RunContext(
        config, BASE, None, 0, ledger.records(config.name), ledger.memory(config.name)
    )


@pytest.fixture
def mapped(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The package ids the ckan source type maps (the real mapping still does the work)."""
    calls: list[str] = []

    def counting(package: dict[str, Any], url: str) -> Any:
        calls.append(package["id"])
        return package_to_record(package, url)

    monkeypatch.setattr(ckan, "package_to_record", counting)
    return calls


# --- the same catalogue through the CKAN API and through DCAT --------------------------------


def test_ckan_and_dcat_harvests_give_the_same_datasets(server: Server) -> None:
    by_ckan = fetch_fresh(source("odapp-ckan", server.url))
    by_dcat = list(dcat.fetch(RunContext(dcat_source(server), BASE)))
    assert all(isinstance(i, Harvested) for i in by_ckan + by_dcat)
    assert len(by_ckan) == len(by_dcat) == DEMO_COUNT

    def described(items: list[Harvested]) -> set[tuple[str, str, str, str]]:
        return {
            (
                i.record.uri or "",
                i.record.identifier[0] if i.record.identifier else "",
                model.preferred_text(i.record.title, "de"),
                model.preferred_text(i.record.title, "en"),
            )
            for i in items
        }

    assert described(by_ckan) == described(by_dcat)
    ckan_records = {i.record.uri: i.record for i in by_ckan}
    for item in by_dcat:
        other = ckan_records[item.record.uri]
        assert type(other) is type(item.record)  # a series stays a series over CKAN too
        assert getattr(other, "type", None) == getattr(item.record, "type", None)
        assert other.keywords == item.record.keywords
        assert other.themes == item.record.themes
        assert other.contributor_ids == item.record.contributor_ids
        assert other.publisher is not None and item.record.publisher is not None
        assert other.publisher.uri == item.record.publisher.uri
        if isinstance(item.record, model.DataService):
            assert isinstance(other, model.DataService)
            assert other.endpoint_urls == item.record.endpoint_urls
        else:
            assert isinstance(other, model.Dataset) and isinstance(item.record, model.Dataset)
            # the same periods; RDF writes a UTC time back as +00:00 where CKAN keeps "Z"
            assert [(instant(t.start), instant(t.end)) for t in other.temporal] == [
                (instant(t.start), instant(t.end)) for t in item.record.temporal
            ]
            assert other.political_geocoding_level == item.record.political_geocoding_level
            assert {(d.uri, d.license, d.format) for d in other.distributions} == {
                (d.uri, d.license, d.format) for d in item.record.distributions
            }


def instant(value: str | None) -> str | None:
    return value.replace("Z", "+00:00") if value and value.endswith("Z") else value


def dcat_source(server: Server) -> SourceConfig:
    return SourceConfig(
        name="odapp-dcat",
        type="dcat",
        organization={"name": "Landeshauptstadt Dresden"},
        url=f"{server.url}/catalog.ttl",
    )


def test_both_routes_fill_one_catalogue_in_another_database(
    server: Server, store: Store, tmp_path: Path
) -> None:
    """Two processes, two databases: the served ODApp, and the store the runner writes."""
    names = requests.get(f"{server.url}/api/3/action/package_list", timeout=30).json()["result"]
    iris = {f"{server.url}/dataset/{name}" for name in names}
    first = run_source(store, source("odapp-ckan", server.url), files_dir=tmp_path, base_url=BASE)
    assert first.status == "succeeded", first.summary()
    assert first.counts["new"] == DEMO_COUNT and first.counts["failed"] == 0
    assert {r.uri for r in store.iter_resources()} == iris
    second = run_source(store, dcat_source(server), files_dir=tmp_path, base_url=BASE)
    assert second.status == "succeeded", second.summary()
    assert {r.uri for r in store.iter_resources()} == iris, "one record per dataset, not two"


# --- filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "fq"),
    [
        ({"organization": UMWELT}, f"organization:{UMWELT}"),
        (
            {"organization": [UMWELT, STATISTIK]},
            f"organization:{UMWELT} OR organization:{STATISTIK}",
        ),
        (
            {"tags": ["Wahlen", "Sächsischer Landtag"]},
            'tags:"Wahlen" OR tags:"Sächsischer Landtag"',
        ),
        ({"groups": "envi"}, "groups:envi"),
        ({"fq": "res_format:GEOJSON", "organization": STATISTIK}, None),
        ({"dataset_type": "dataset"}, "+dataset_type:dataset"),
    ],
)
def test_filters_select_what_package_search_finds(
    server: Server, portal: ckanapi.RemoteCKAN, filters: dict[str, Any], fq: str | None
) -> None:
    if fq is None:
        fq = f"res_format:GEOJSON AND organization:{STATISTIK}"
    expected = {p["id"] for p in portal.action.package_search(fq=fq, rows=1000)["results"]}
    items = fetch_fresh(source("gefiltert", server.url, filters=filters))
    assert {i.source_id for i in items} == expected
    assert 0 < len(expected) < DEMO_COUNT


def test_small_pages_list_every_package_once(server: Server) -> None:
    context = RunContext(source("seiten", server.url, options={"rows": 4}), BASE)
    beats: list[float] = []
    context.heartbeat = lambda: beats.append(time.monotonic())  # type: ignore[method-assign]
    items = list(ckan.fetch(context))
    assert len(items) == len({i.source_id for i in items}) == DEMO_COUNT
    assert len(beats) == -(-DEMO_COUNT // 4), "one heartbeat per page"


def test_origin_and_source_modified(server: Server, portal: ckanapi.RemoteCKAN) -> None:
    package = portal.action.package_show(id="haltestellen-vvo")
    items = {i.source_id: i for i in fetch_fresh(source("odapp", server.url))}
    item = items[package["id"]]
    assert item.origin == f"{server.url}/dataset/haltestellen-vvo"
    assert item.source_modified == package["metadata_modified"]
    assert item.record.uri == f"{server.url}/dataset/haltestellen-vvo"
    assert item.record.publisher is not None
    assert item.record.publisher.name == {"de": package["organization"]["title"]}


# --- incremental runs ------------------------------------------------------------------------


def test_unchanged_packages_are_not_mapped_again(
    server: Server, sqlite_store: Store, tmp_path: Path, mapped: list[str]
) -> None:
    config = source("odapp-inkrementell", server.url)
    first = run_source(sqlite_store, config, files_dir=tmp_path, base_url=BASE)
    assert first.status == "succeeded" and first.counts["new"] == DEMO_COUNT
    assert len(mapped) == DEMO_COUNT
    items = list(ckan.fetch(after_runs(sqlite_store, config)))
    assert len(items) == DEMO_COUNT and all(isinstance(i, Unchanged) for i in items)
    assert len(mapped) == DEMO_COUNT, "nothing was mapped again"
    again = run_source(sqlite_store, config, files_dir=tmp_path, base_url=BASE)
    assert again.counts == {"new": 0, "changed": 0, "unchanged": DEMO_COUNT, "withdrawn": 0, "failed": 0}


def test_one_changed_package_is_the_only_one_harvested(
    server: Server, portal: ckanapi.RemoteCKAN, sqlite_store: Store, tmp_path: Path
) -> None:
    config = source("odapp-aenderung", server.url)
    assert run_source(sqlite_store, config, files_dir=tmp_path, base_url=BASE).counts["new"] == DEMO_COUNT
    editor = ckanapi.RemoteCKAN(server.url, apikey=server.token)  # type: ignore[attr-defined]
    package = portal.action.package_show(id="stadtteile-dresden-2024")
    title = package["title"] + " (geändert)"
    patched = editor.action.package_patch(id=package["id"], title=title)
    assert patched["metadata_modified"] != package["metadata_modified"]

    items = list(ckan.fetch(after_runs(sqlite_store, config)))
    changed = [i for i in items if isinstance(i, Harvested)]
    assert len(items) == DEMO_COUNT
    assert [i.source_id for i in changed] == [package["id"]]
    assert changed[0].record.title["de"] == title
    assert changed[0].source_modified == patched["metadata_modified"]

    result = run_source(sqlite_store, config, files_dir=tmp_path, base_url=BASE)
    assert result.counts == {"new": 0, "changed": 1, "unchanged": DEMO_COUNT - 1, "withdrawn": 0, "failed": 0}
    stored = next(r for r in sqlite_store.iter_resources() if r.uri == changed[0].record.uri)
    assert stored.record.title["de"] == title


# --- credentials and errors ------------------------------------------------------------------


def test_the_token_is_sent(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODAPP_TEST_CKAN_TOKEN", server.token)  # type: ignore[attr-defined]
    monkeypatch.setenv("ODAPP_TEST_CKAN_BAD", "odapp_falsch_falsch")
    good = source("mit-token", server.url, credentials={"token": "ODAPP_TEST_CKAN_TOKEN"})
    assert len(fetch_fresh(good)) == DEMO_COUNT
    bad = source("falsches-token", server.url, credentials={"api_key": "ODAPP_TEST_CKAN_BAD"})
    with pytest.raises(SourceError) as info:
        fetch_fresh(bad)
    assert "check the API token" in info.value.message_en
    assert "API-Token" in info.value.message_de and server.url in info.value.message_de


def test_a_bad_filter_query_is_a_source_error(server: Server) -> None:
    with pytest.raises(SourceError) as info:
        fetch_fresh(source("kaputt", server.url, filters={"fq": "organization:(a OR"}))
    assert info.value.where == f"{server.url}/api/3/action/package_search"
    assert "check the filters" in info.value.message_en and "Filter" in info.value.message_de
    with pytest.raises(SourceError, match="no CKAN name"):
        fetch_fresh(source("kaputt", server.url, filters={"organization": "a) OR (b"}))


def test_unreachable_portal_non_ckan_server_and_timeout() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening
        with pytest.raises(SourceError) as info:
            fetch_fresh(source("weg", closed))
    assert "connection" in info.value.message_en and "Verbindung" in info.value.message_de

    site = Site()
    try:
        site.routes["/api/action/package_search"] = lambda h: send(
            h, b"<html><body>Wartung</body></html>", "text/html", status=503
        )

        def slow(handler: BaseHTTPRequestHandler) -> None:
            time.sleep(2)
            send(
                handler,
                b'{"success": true, "result": {"count": 0, "results": []}}',
                "application/json",
            )

        with pytest.raises(SourceError, match="did not answer like a CKAN API"):
            fetch_fresh(source("html", site.url))
        site.routes["/api/action/package_search"] = slow
        started = time.monotonic()
        with pytest.raises(SourceError) as info:
            fetch_fresh(source("langsam", site.url, timeout=0.5))
        assert time.monotonic() - started < 1.9
        assert "timeout" in info.value.message_en and "0.5 s" in info.value.message_de
    finally:
        site.close()


def test_a_failing_ckan_source_writes_nothing(sqlite_store: Store, tmp_path: Path) -> None:
    site = Site()
    try:
        site.routes["/api/action/package_search"] = lambda h: send(
            h,
            b'{"success": false, "error": {"__type": "Not Found Error"}}',
            "application/json",
            404,
        )
        result = run_source(
            sqlite_store, source("kein-ckan", site.url), files_dir=tmp_path, base_url=BASE
        )
    finally:
        site.close()
    assert result.status == "failed" and result.error is not None
    assert "CKAN" in result.error["message_en"] and "CKAN" in result.error["message_de"]
    assert list(sqlite_store.iter_resources()) == []


# --- the mapping of packages from other portals ----------------------------------------------

GOVDATA_STYLE = {
    "id": "5f2bc7c2-0d6b-4b7c-9a52-0c7e0b1f0a11",
    "name": "baumkataster-rostock",
    "title": "Baumkataster Rostock",
    "notes": "Alle Straßenbäume der Hanse- und Universitätsstadt Rostock.",
    "license_id": "dl-de-by-2.0",
    "license_url": "https://www.govdata.de/dl-de/by-2-0",
    "maintainer": "Amt für Stadtgrün",
    "maintainer_email": "stadtgruen@rostock.de",
    "author": "Hanse- und Universitätsstadt Rostock",
    "author_email": "opendata@rostock.de",
    "url": "https://www.opendata-hro.de/dataset/baumkataster",
    "metadata_created": "2019-03-01T10:00:00.000000",
    "metadata_modified": "2024-06-30T08:15:00.123456",
    "organization": {
        "name": "hansestadt-rostock",
        "title": "Hanse- und Universitätsstadt Rostock",
    },
    "groups": [{"name": "umwelt_klima"}, {"name": "envi"}, {"name": "lieblingsdaten"}],
    "tags": [{"name": "Bäume"}, {"name": "Stadtgrün"}, {"name": "  "}],
    "extras": [
        {"key": "uri", "value": "https://www.opendata-hro.de/dataset/baumkataster"},
        {"key": "identifier", "value": "hro-baumkataster"},
        {
            "key": "contributorID",
            "value": '["http://dcat-ap.de/def/contributors/transparenzportalRostock"]',
        },
        {
            "key": "politicalGeocodingURI",
            "value": '["http://dcat-ap.de/def/politicalGeocoding/regionalKey/130030000000"]',
        },
        {"key": "politicalGeocodingLevelURI", "value": "municipality"},
        {"key": "licenseAttributionByText", "value": "Hanse- und Universitätsstadt Rostock"},
        {"key": "frequency", "value": "ANNUAL"},
        {"key": "language", "value": '["de"]'},
        {"key": "access_rights", "value": "PUBLIC"},
        {"key": "temporal_start", "value": "2019-01-01"},
        {"key": "temporal_end", "value": "2024-12-31"},
        {
            "key": "spatial",
            "value": '{"type": "Polygon", "coordinates": [[[12.0, 54.0], [12.2, 54.0], [12.2, 54.2], [12.0, 54.0]]]}',
        },
        {"key": "publisher_name", "value": "Amt für Stadtgrün, Rostock"},
        {"key": "publisher_uri", "value": "https://rathaus.rostock.de/stadtgruen"},
        {"key": "contact_email", "value": "gruen@rostock.de"},
    ],
    "resources": [
        {
            "id": "r1",
            "url": "https://www.opendata-hro.de/baeume.csv",
            "format": "CSV",
            "name": "Bäume (CSV)",
            "mimetype": "text/csv",
            "size": "123456",
            "last_modified": "2024-06-30T08:00:00",
            "license": "cc-by-4.0",
        },
        {"id": "r2", "url": "https://geo.rostock.de/wms", "format": "WMS", "name": "Karte"},
        {"id": "r3", "url": "/dataset/baumkataster/resource/r3/download/b.json", "format": ".json"},
        {"id": "r4", "url": "", "format": "PDF", "name": "ohne Adresse"},
        {"id": "r5", "url": "https://x.example/a.bin", "format": "Sonderformat"},
    ],
}


def test_a_ckanext_dcatde_package_maps_to_dcat_ap_de() -> None:
    record, notes = package_to_record(GOVDATA_STYLE, "https://www.opendata-hro.de")
    assert isinstance(record, model.Dataset)
    assert record.uri == "https://www.opendata-hro.de/dataset/baumkataster"
    assert record.identifier == ["hro-baumkataster"]
    assert record.title == {"de": "Baumkataster Rostock"}
    assert record.contributor_ids == ["http://dcat-ap.de/def/contributors/transparenzportalRostock"]
    assert record.political_geocoding == [
        "http://dcat-ap.de/def/politicalGeocoding/regionalKey/130030000000"
    ]
    assert (
        record.political_geocoding_level
        == "http://dcat-ap.de/def/politicalGeocoding/Level/municipality"
    )
    assert record.accrual_periodicity == f"{EU}frequency/ANNUAL"
    assert record.languages == [f"{EU}language/DEU"]
    assert record.access_rights == f"{EU}access-right/PUBLIC"
    assert record.themes == [f"{EU}data-theme/ENVI"], "OGD category and theme code, one theme"
    assert {k.value for k in record.keywords} == {"Bäume", "Stadtgrün"}
    assert [(t.start, t.end) for t in record.temporal] == [("2019-01-01", "2024-12-31")]
    assert record.spatial[0].geometry and '"Polygon"' in record.spatial[0].geometry
    assert record.publisher is not None
    assert record.publisher.uri == "https://rathaus.rostock.de/stadtgruen"
    assert record.contact_points[0].email == "mailto:gruen@rostock.de"
    assert record.creators[0].email == "mailto:opendata@rostock.de"
    assert record.issued == "2019-03-01T10:00:00.000000"
    assert record.modified == "2024-06-30T08:15:00.123456"
    assert record.landing_pages == ["https://www.opendata-hro.de/dataset/baumkataster"]

    csv, wms, json_file, other = record.distributions
    assert csv.uri == f"https://www.opendata-hro.de/dataset/{GOVDATA_STYLE['id']}/resource/r1"
    assert csv.access_urls == csv.download_urls == ["https://www.opendata-hro.de/baeume.csv"]
    assert csv.format == f"{EU}file-type/CSV"
    assert csv.media_type == "https://www.iana.org/assignments/media-types/text/csv"
    assert csv.license == "http://dcat-ap.de/def/licenses/cc-by/4.0", "its own licence"
    assert csv.byte_size == 123456 and csv.modified == "2024-06-30T08:00:00"
    assert csv.license_attribution == "Hanse- und Universitätsstadt Rostock"
    assert wms.format == f"{EU}file-type/WMS_SRVC"
    assert wms.access_urls == ["https://geo.rostock.de/wms"] and wms.download_urls == []
    assert wms.license == "http://dcat-ap.de/def/licenses/dl-by-de/2.0", "the package's licence"
    assert json_file.access_urls == [
        "https://www.opendata-hro.de/dataset/baumkataster/resource/r3/download/b.json"
    ]
    assert json_file.format == f"{EU}file-type/JSON"
    assert other.format is None
    assert any("r4" in n for n in notes) and any("Sonderformat" in n for n in notes)
    problems = [p for p in check_resource(record, "test") if not p.rule.startswith("mandatory:")]
    assert problems == [], "the record can be stored"


def test_licences_and_formats_as_portals_write_them() -> None:
    dcatde = "http://dcat-ap.de/def/licenses/"
    assert licence_iri("dl-by-de/2.0") == f"{dcatde}dl-by-de/2.0"
    assert licence_iri("dl-de-by-2.0") == f"{dcatde}dl-by-de/2.0"
    assert licence_iri("dl-de-zero-2.0") == f"{dcatde}dl-zero-de/2.0"
    assert licence_iri("cc-by-4.0") == f"{dcatde}cc-by/4.0"
    assert licence_iri("cc-zero") == f"{dcatde}cc-zero"
    assert licence_iri("CC0-1.0") == f"{dcatde}cc-zero"
    assert licence_iri("odc-odbl") == f"{dcatde}odbl"
    assert licence_iri("notspecified") is None
    assert licence_iri("eigene", "https://creativecommons.org/licenses/by/4.0/") == (
        f"{dcatde}cc-by/4.0"
    )
    assert licence_iri("eigene", "https://example.org/lizenz") == "https://example.org/lizenz"
    assert format_iri("CSV") == format_iri(".csv") == format_iri("text/csv") == f"{EU}file-type/CSV"
    assert format_iri("GeoJSON") == format_iri("application/geo+json") == f"{EU}file-type/GEOJSON"
    assert format_iri("Shapefile") == f"{EU}file-type/SHP"
    assert format_iri("xlsx") == f"{EU}file-type/XLSX"
    assert format_iri("Textdatei mit Tabulatoren") is None


def test_odd_packages_are_taken_or_reported_one_by_one() -> None:
    """A size that is no number is left out; a search result without id is one RecordError."""
    odd = dict(GOVDATA_STYLE, id="seltsam", extras=[], name=None, title=None)
    odd["resources"] = [{"url": "https://example.org/a.csv", "size": "viel"}]
    body = {"success": True, "result": {"count": 2, "results": [{"name": "ohne-id"}, odd]}}
    site = Site()
    try:
        site.routes["/api/action/package_search"] = lambda h: send(
            h, json.dumps(body).encode(), "application/json"
        )
        items = fetch_fresh(source("seltsam", site.url, options={"get_only": True}))
    finally:
        site.close()
    error, item = items
    assert isinstance(error, RecordError) and "id" in error.message_en and error.message_de
    assert isinstance(item, Harvested) and item.source_id == "seltsam"
    assert item.record.title == {}, "no title: stored with a note by the runner, not dropped"
    assert item.record.distributions[0].byte_size is None
