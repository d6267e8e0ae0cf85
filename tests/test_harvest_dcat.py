"""The ``dcat`` source type: the reference examples from files, a served ODApp catalogue over
HTTP in every RDF syntax with hydra paging, cheap re-runs, and every way a page can fail."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from rdflib import Graph, URIRef

from catalog import rdf_io
from catalog.harvest_state import HarvestLedger
from catalog.namespaces import DCTERMS
from catalog.store import Store
from harvesters.base import Harvested, Item, SourceConfig, SourceError, Unchanged
from harvesters.context import RunContext
from harvesters.run import run_source
from harvesters.sources import dcat
from tests.conftest import BASE, EXAMPLES, Server

V2 = sorted((EXAMPLES / "v2.0").glob("*"))
V3 = sorted((EXAMPLES / "v3.0").glob("*"))
EXTRACTS = sorted((EXAMPLES / "validator-testcases").glob("dashboard__*"))
# the two reference examples with upstream syntax errors, and the line rdflib names
BROKEN = {"DataService.ttl": 12, "2024-02-22_UAG_Beispieldatensatz_v1.ttl": 1}
HARVESTABLE = [
    p
    for p in [*V2, *V3, *EXTRACTS, EXAMPLES / "ckanext-dcatde-catalog-endpoint-hydra.rdf"]
    if p.name not in BROKEN
]
PAGE_SIZE = 7
DEMO_COUNT = 33  # 29 datasets (3 sensor stations), 1 series, 3 data services


def source(name: str, url: str, **kwargs: Any) -> SourceConfig:
    return SourceConfig(
        name=name,
        type="dcat",
        organization={"name": "Testamt", "uri": "https://example.org/testamt"},
        url=url,
        **kwargs,
    )


class Recording(RunContext):
    """The runner's own context, noting the status of every answer it got."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.statuses: list[tuple[str, int]] = []

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        response = super().get(url, **kwargs)
        self.statuses.append((url, response.status_code))
        return response


def fresh(config: SourceConfig) -> Recording:
    """A context with nothing remembered: a first run."""
    return Recording(config, BASE)


def after_runs(store: Store, config: SourceConfig) -> Recording:
    """A context holding what the runs so far left in the ledger, as the runner builds it."""
    ledger = HarvestLedger(store)
    return Recording(config, BASE, None, 0, ledger.records(config.name), ledger.memory(config.name))


def harvested(items: list[Item]) -> dict[str, Harvested]:
    return {i.source_id: i for i in items if isinstance(i, Harvested)}


@pytest.fixture
def parse_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the pages the dcat source type parses (the real parser still does the work)."""
    calls: list[str] = []

    def counting(doc: rdf_io.Document) -> Graph:
        calls.append(doc.source)
        return rdf_io.parse(doc)

    monkeypatch.setattr(dcat, "parse", counting)
    monkeypatch.setattr(dcat, "pool", lambda: None)  # parsed here, where it can be counted
    return calls


# --- the reference examples ----------------------------------------------------------------

_RESOURCES = """
PREFIX dcat: <http://www.w3.org/ns/dcat#>
SELECT DISTINCT ?r WHERE {
  { ?r a ?type . VALUES ?type { dcat:Dataset dcat:DatasetSeries dcat:DataService } }
  UNION { ?catalog a dcat:Catalog ; dcat:dataset|dcat:service ?r }
}
"""


def expected_resources(path: Path) -> list[Any]:
    """Datasets, series and services of a file, counted with rdflib alone."""
    fmt = {".ttl": "turtle", ".rdf": "xml", ".jsonld": "json-ld"}[path.suffix]
    graph = Graph().parse(path, format=fmt)
    return [row[0] for row in graph.query(_RESOURCES)]


def test_the_reference_files_are_there() -> None:
    assert len(V2) == 7 and len(V3) == 3 and len(EXTRACTS) == 3
    assert {p.name.split("__")[1].split("-")[0] for p in EXTRACTS} == {
        "rostock",
        "bremen",
        "brandenburg",
    }


@pytest.mark.parametrize("path", HARVESTABLE, ids=lambda p: p.name)
def test_reference_examples_harvest_with_their_dataset_counts(path: Path) -> None:
    expected = expected_resources(path)
    items = list(dcat.fetch(fresh(source("beispiel", path.as_uri()))))
    found = harvested(items)
    assert len(items) == len(found) == len(expected) >= 1
    iris = {str(r) for r in expected if isinstance(r, URIRef)}
    assert iris <= set(found), "every dataset IRI is a source id"
    graph = Graph().parse(
        path, format={".ttl": "turtle", ".rdf": "xml"}.get(path.suffix, "json-ld")
    )
    for source_id, item in found.items():
        assert item.origin == path.as_uri()
        assert item.record.title, f"{source_id} has a title"
        if source_id in iris:
            assert item.record.uri == source_id
            modified = graph.value(URIRef(source_id), DCTERMS.modified)
            assert item.source_modified == (str(modified) if modified else None)
        else:  # blank nodes: dct:identifier or a content hash
            assert item.record.uri is None
            assert source_id.startswith("urn:sha256:") or source_id in item.record.identifier


def test_local_paths_and_file_urls_give_the_same(tmp_path: Path) -> None:
    path = EXAMPLES / "validator-testcases" / "dashboard__rostock-catalog-dataset-extracted.rdf"
    by_url = harvested(list(dcat.fetch(fresh(source("r", path.as_uri())))))
    by_path = harvested(list(dcat.fetch(fresh(source("r", str(path))))))
    relative = source("r", path.name)
    relative.path = path.parent / "rostock.yaml"  # relative to the YAML file's folder
    by_relative = harvested(list(dcat.fetch(fresh(relative))))
    assert by_url.keys() == by_path.keys() == by_relative.keys()
    assert len(by_url) == 1 and next(iter(by_url)).startswith("https://www.opendata-hro.de/")


def test_dcatde_2_records_are_lifted_to_3() -> None:
    bremen = EXAMPLES / "validator-testcases" / "dashboard__bremen-catalog-dataset-extracted.ttl"
    (item,) = harvested(list(dcat.fetch(fresh(source("hb", bremen.as_uri()))))).values()
    assert any("dcat:startDate" in k for k in item.report["dcatde_upgrade"])
    assert [t.start for t in item.record.temporal] == ["2020-03-25"], "schema:startDate"
    advanced = EXAMPLES / "v2.0" / "dcat_ap_de-RefImp_TTL_ADVANCED.ttl"
    items = harvested(list(dcat.fetch(fresh(source("v2", advanced.as_uri())))))
    algorithms = {
        d.checksum.algorithm
        for i in items.values()
        for d in i.record.distributions
        if d.checksum is not None
    }
    assert algorithms == {"http://spdx.org/rdf/terms#checksumAlgorithm_md5"}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_reference_examples_with_syntax_errors_fail_naming_the_line(name: str) -> None:
    path = next(EXAMPLES.rglob(name))
    with pytest.raises(SourceError) as info:
        list(dcat.fetch(fresh(source("kaputt", path.as_uri()))))
    line = BROKEN[name]
    error = info.value
    assert error.where == f"{path}, line {line}"
    assert f"Zeile {line}" in error.message_de and str(path.name) in error.message_de
    assert f"line {line}" in error.message_en and "syntax error (turtle)" in error.message_en


def test_examples_harvest_into_the_store_and_rerun_unchanged(store: Store, tmp_path: Path) -> None:
    """Through the runner into a database (SQLite and PostgreSQL), twice."""
    paths = [*EXTRACTS, EXAMPLES / "v3.0" / "DatasetSeries.ttl", V2[-1]]  # V2[-1]: blank nodes
    assert V2[-1].name == "ex-23-dataservice.rdf"
    total = 0
    for n, path in enumerate(paths):
        config = source(f"beispiel-{n}", path.as_uri())
        expected = len(expected_resources(path))
        first = run_source(store, config, files_dir=tmp_path / "files", base_url=BASE)
        assert first.status == "succeeded", first.summary()
        assert first.counts["new"] == expected and first.counts["failed"] == 0
        again = run_source(store, config, files_dir=tmp_path / "files", base_url=BASE)
        assert again.status == "succeeded", again.summary()
        assert again.counts["unchanged"] == expected and again.counts["new"] == 0
        total += expected
    assert len(list(store.iter_resources())) == total == 3 + 4 + 2


# --- a served ODApp catalogue over HTTP -----------------------------------------------------


_SOURCE: list[Server] = []


def source_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Server:
    """The served demo catalogue both harvest modules read (loading the demo takes ~20 s, so
    test_harvest_ckan uses this one too); an admin token is in ``server.token``."""
    if not _SOURCE:
        srv = Server(tmp_path_factory.mktemp("harvest-source"), {"ODAPP_PAGE_SIZE": str(PAGE_SIZE)})
        srv.odapp("demo")
        srv.odapp("users", "add", "admin", "--sysadmin")
        out = srv.odapp("tokens", "create", "admin").stdout
        srv.token = next(w for w in out.split() if w.startswith("odapp_"))  # type: ignore[attr-defined]
        srv.start()
        _SOURCE.append(srv)
        request.addfinalizer(lambda: _SOURCE.pop().stop())  # the session scope ends
    return _SOURCE[0]


@pytest.fixture(scope="session")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Server:
    return source_server(request, tmp_path_factory)


@pytest.fixture(scope="module")
def demo_iris(server: Server) -> set[str]:
    names = requests.get(f"{server.url}/api/3/action/package_list", timeout=30).json()["result"]
    return {f"{server.url}/dataset/{name}" for name in names}


@pytest.mark.parametrize("ext", ["ttl", "rdf", "jsonld", "nt"])
def test_served_catalogue_in_every_syntax_is_paged_through(
    server: Server, demo_iris: set[str], ext: str
) -> None:
    start = f"{server.url}/catalog.{ext}"
    context = fresh(source("odapp", start))
    items = harvested(list(dcat.fetch(context)))
    pages = -(-DEMO_COUNT // PAGE_SIZE)
    assert set(items) == demo_iris and len(items) == DEMO_COUNT
    assert [url for url, _ in context.statuses] == [start] + [
        f"{start}?page={n}" for n in range(2, pages + 1)
    ]
    assert {i.origin for i in items.values()} == {url for url, _ in context.statuses}
    assert {i.report["format"] for i in items.values()} == {rdf_io.EXTENSIONS[ext]}
    memory = {k: v for k, v in context.kept.items() if k.startswith("dcat:page:")}
    assert len(memory) == pages
    assert sum(len(m["ids"]) for m in memory.values()) == DEMO_COUNT
    assert all(len(m["sha256"]) == 64 and m["etag"] for m in memory.values())
    kinds = {type(i.record).__name__ for i in items.values()}
    assert kinds == {"Dataset", "DatasetSeries", "DataService"}


def test_heartbeat_once_per_page(server: Server) -> None:
    class Beating(Recording):
        beats = 0

        def heartbeat(self) -> None:
            self.beats += 1

    context = Beating(source("odapp", f"{server.url}/catalog.ttl"), BASE)
    list(dcat.fetch(context))
    assert context.beats == len(context.statuses) == -(-DEMO_COUNT // PAGE_SIZE)


def test_unchanged_rerun_reads_no_page_and_is_much_faster(
    server: Server, sqlite_store: Store, tmp_path: Path, parse_calls: list[str]
) -> None:
    config = source("odapp", f"{server.url}/catalog.ttl")
    first = run_source(sqlite_store, config, files_dir=tmp_path, base_url=BASE)
    assert first.status == "succeeded" and first.counts["new"] == DEMO_COUNT
    pages = len(parse_calls)
    assert pages == -(-DEMO_COUNT // PAGE_SIZE)

    context = after_runs(sqlite_store, config)
    items = list(dcat.fetch(context))
    assert len(items) == DEMO_COUNT and all(isinstance(i, Unchanged) for i in items)
    assert len(parse_calls) == pages, "no page was parsed again"
    assert {status for _, status in context.statuses} == {304}, "conditional requests"

    again = run_source(sqlite_store, config, files_dir=tmp_path, base_url=BASE)
    assert again.status == "succeeded"
    assert again.counts == {"new": 0, "changed": 0, "unchanged": DEMO_COUNT, "withdrawn": 0, "failed": 0}

    def best(make: Callable[[], Recording], n: int = 3) -> float:
        times = []
        for _ in range(n):
            started = time.perf_counter()
            list(dcat.fetch(make()))
            times.append(time.perf_counter() - started)
        return min(times)

    full = best(lambda: fresh(config))
    cheap = best(lambda: after_runs(sqlite_store, config))
    assert full >= 5 * cheap, f"first run {full:.3f} s, unchanged re-run {cheap:.3f} s"


def test_a_changed_catalogue_is_read_again(
    server: Server, sqlite_store: Store, tmp_path: Path
) -> None:
    config = source("odapp-nt", f"{server.url}/catalog.nt")
    run_source(sqlite_store, config, files_dir=tmp_path, base_url=BASE)
    ledger = HarvestLedger(sqlite_store)
    memory = {  # page 2 as if its bytes had been others, and without validators
        k: v | {"sha256": "0" * 64, "etag": None, "last_modified": None}
        if k.endswith("page=2")
        else v
        for k, v in ledger.memory(config.name).items()
    }
    context = Recording(config, BASE, None, 0, ledger.records(config.name), memory)
    items = list(dcat.fetch(context))
    assert len(items) == DEMO_COUNT
    again = [i for i in items if isinstance(i, Harvested)]
    assert len(again) == PAGE_SIZE and {i.origin for i in again} == {config.url + "?page=2"}


# --- pages served by a small HTTP server of the test -----------------------------------------

Route = Callable[[BaseHTTPRequestHandler], None]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that gave up (timeouts, refused pages) are what these tests are about."""


class Site:
    """A real HTTP server in a thread answering each path with a route of the test."""

    def __init__(self) -> None:
        routes: dict[str, Route] = {}
        self.routes = routes

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                route = routes.get(self.path.split("?", 1)[0])
                if route is None:
                    send(self, b"<html>nicht gefunden</html>", "text/html", status=404)
                else:
                    route(self)

            def do_POST(self) -> None:  # noqa: N802
                self.body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def page(self, path: str, body: str | bytes, media_type: str) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = lambda h: send(h, data, media_type)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def send(handler: BaseHTTPRequestHandler, body: bytes, media_type: str, status: int = 200) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", media_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    yield s
    s.close()


PREFIXES = """@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def ttl_page(datasets: list[str], view: str, next_page: str | None) -> str:
    body = PREFIXES + "".join(
        f'<http://example.org/ds/{d}> a dcat:Dataset ; dct:title "Datensatz {d}"@de ; '
        f'dct:modified "2024-01-0{len(d)}"^^xsd:date .\n'
        for d in datasets
    )
    link = f" ; hydra:next <{next_page}>" if next_page else ""
    return body + f"<{view}> a hydra:PartialCollectionView{link} .\n"


def jsonld_page(view: str, next_literal: str) -> str:
    """The old Hydra vocabulary as ckanext-dcat writes it: hydra:nextPage as a literal."""
    return json.dumps(
        {
            "@context": {
                "dcat": "http://www.w3.org/ns/dcat#",
                "dct": "http://purl.org/dc/terms/",
                "hydra": "http://www.w3.org/ns/hydra/core#",
            },
            "@graph": [
                {"@id": "http://example.org/ds/2a", "@type": "dcat:Dataset", "dct:title": "Zwei A"},
                {"@id": "http://example.org/ds/2b", "@type": "dcat:Dataset", "dct:title": "Zwei B"},
                {"@id": view, "@type": "hydra:PagedCollection", "hydra:nextPage": next_literal},
            ],
        }
    )


RDFXML_PAGE = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">
  <dcat:Dataset>
    <dct:title>Drei (ohne IRI)</dct:title>
    <dct:identifier>ds-3</dct:identifier>
  </dcat:Dataset>
</rdf:RDF>
"""


def three_pages(site: Site) -> str:
    """Turtle -> JSON-LD (no extension) -> RDF/XML served as text/plain (by extension)."""
    site.page("/p1.ttl", ttl_page(["1"], "p1.ttl", "p2"), "text/turtle")
    site.page("/p2", jsonld_page(f"{site.url}/p2", "p3.rdf"), "application/ld+json")
    site.page("/p3.rdf", RDFXML_PAGE, "text/plain; charset=utf-8")
    return f"{site.url}/p1.ttl"


def test_paging_in_three_syntaxes_old_and_new_hydra(site: Site) -> None:
    context = fresh(source("drei", three_pages(site)))
    items = harvested(list(dcat.fetch(context)))
    assert set(items) == {
        "http://example.org/ds/1",
        "http://example.org/ds/2a",
        "http://example.org/ds/2b",
        "ds-3",
    }
    assert [i.report["format"] for i in items.values()] == ["turtle", "json-ld", "json-ld", "xml"]
    assert items["http://example.org/ds/1"].source_modified == "2024-01-01"
    assert items["ds-3"].origin == f"{site.url}/p3.rdf"


def test_unchanged_pages_without_validators_are_known_by_their_hash(
    site: Site, sqlite_store: Store, tmp_path: Path, parse_calls: list[str]
) -> None:
    config = source("drei", three_pages(site))
    first = run_source(sqlite_store, config, files_dir=tmp_path, base_url=BASE)
    assert first.status == "succeeded" and first.counts["new"] == 4
    assert len(parse_calls) == 3

    context = after_runs(sqlite_store, config)
    items = list(dcat.fetch(context))
    assert sorted(i.source_id for i in items if isinstance(i, Unchanged)) == sorted(
        ["http://example.org/ds/1", "http://example.org/ds/2a", "http://example.org/ds/2b", "ds-3"]
    )
    assert len(parse_calls) == 3 and {s for _, s in context.statuses} == {200}

    site.page("/p1.ttl", ttl_page(["1", "1b"], "p1.ttl", "p2"), "text/turtle")  # one more
    items = list(dcat.fetch(after_runs(sqlite_store, config)))
    assert len(parse_calls) == 4, "only the changed page is parsed"
    assert sorted(i.source_id for i in items if isinstance(i, Harvested)) == [
        "http://example.org/ds/1",
        "http://example.org/ds/1b",
    ]
    assert len([i for i in items if isinstance(i, Unchanged)]) == 3
    result = run_source(sqlite_store, config, files_dir=tmp_path, base_url=BASE)
    assert result.counts == {
        "new": 1,
        "changed": 0,
        "unchanged": 4,
        "withdrawn": 0,
        "failed": 0,
    }


def test_malformed_page_fails_naming_url_and_line(site: Site) -> None:
    broken = (
        PREFIXES
        + '<http://example.org/a> dct:title "a" .\n<http://example.org/b> dct:title "b"\n<c> a dcat:Dataset .\n'
    )
    site.page("/kaputt.ttl", broken, "text/turtle")
    with pytest.raises(SourceError) as info:
        list(dcat.fetch(fresh(source("kaputt", f"{site.url}/kaputt.ttl"))))
    assert info.value.where == f"{site.url}/kaputt.ttl, line 6"
    assert f"{site.url}/kaputt.ttl" in info.value.message_de and "Zeile 6" in info.value.message_de
    assert "line 6" in info.value.message_en


def test_a_broken_second_page_fails_the_run_and_writes_nothing(
    site: Site, sqlite_store: Store, tmp_path: Path
) -> None:
    site.page("/p1.ttl", ttl_page(["1", "2"], "p1.ttl", "p2.rdf"), "text/turtle")
    site.page(
        "/p2.rdf",
        "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\n<x>",
        "application/rdf+xml",
    )
    result = run_source(
        sqlite_store, source("halb", f"{site.url}/p1.ttl"), files_dir=tmp_path, base_url=BASE
    )
    assert result.status == "failed" and result.counts["new"] == 0
    assert result.error and result.error["where"].startswith(f"{site.url}/p2.rdf, line ")
    assert list(sqlite_store.iter_resources()) == []


def test_paging_loops_are_refused(site: Site) -> None:
    site.page("/a.ttl", ttl_page(["1"], "a.ttl", "b.ttl"), "text/turtle")
    site.page("/b.ttl", ttl_page(["2"], "b.ttl", "a.ttl"), "text/turtle")
    items: list[Item] = []
    with pytest.raises(SourceError) as info:
        items.extend(dcat.fetch(fresh(source("schleife", f"{site.url}/a.ttl"))))
    assert len(items) == 2
    assert "Endlosschleife" in info.value.message_de and "paging loop" in info.value.message_en
    assert info.value.where == f"{site.url}/a.ttl"
    site.page("/self.ttl", ttl_page(["1"], "self.ttl", "self.ttl"), "text/turtle")
    with pytest.raises(SourceError, match="paging loop"):
        list(dcat.fetch(fresh(source("selbst", f"{site.url}/self.ttl"))))


def test_a_remote_page_cannot_lead_to_local_files(site: Site) -> None:
    site.page("/p.ttl", ttl_page(["1"], "p.ttl", "file:///etc/passwd"), "text/turtle")
    with pytest.raises(SourceError, match="not allowed"):
        list(dcat.fetch(fresh(source("boese", f"{site.url}/p.ttl"))))


def test_connection_dropped_mid_page(site: Site) -> None:
    body = ttl_page(["1", "2", "3"], "p.ttl", None).encode()

    def short(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/turtle")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 2])
        handler.close_connection = True

    def chunked(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/turtle")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        half = body[: len(body) // 2]
        handler.wfile.write(f"{len(half):x}\r\n".encode() + half + b"\r\n")  # no final chunk
        handler.close_connection = True

    site.routes["/short.ttl"] = short
    site.routes["/chunked.ttl"] = chunked
    for path in ("/short.ttl", "/chunked.ttl"):
        with pytest.raises(SourceError) as info:
            list(dcat.fetch(fresh(source("abbruch", site.url + path))))
        assert info.value.where == site.url + path
        assert info.value.message_de and info.value.message_en


def test_http_errors_html_and_timeouts(site: Site) -> None:
    site.routes["/fehler.ttl"] = lambda h: send(h, b"kaputt", "text/plain", status=500)
    site.page("/login", "<!DOCTYPE html><html><body>Anmelden</body></html>", "text/html")

    def slow(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(2)
        send(handler, ttl_page(["1"], "slow.ttl", None).encode(), "text/turtle")

    site.routes["/slow.ttl"] = slow
    with pytest.raises(SourceError, match="HTTP 500"):
        list(dcat.fetch(fresh(source("f", f"{site.url}/fehler.ttl"))))
    with pytest.raises(SourceError, match="HTTP 404"):
        list(dcat.fetch(fresh(source("f", f"{site.url}/gibt-es-nicht.ttl"))))
    with pytest.raises(SourceError, match="HTML page instead of RDF"):
        list(dcat.fetch(fresh(source("f", f"{site.url}/login"))))
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        list(dcat.fetch(fresh(source("f", f"{site.url}/slow.ttl", timeout=0.5))))
    assert time.monotonic() - started < 1.9
    assert "0.5 s" in info.value.message_en and "0.5 s" in info.value.message_de


def test_missing_file_and_missing_url(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read file"):
        list(dcat.fetch(fresh(source("weg", (tmp_path / "weg.ttl").as_uri()))))
    with pytest.raises(SourceError, match="no address"):
        list(dcat.fetch(fresh(source("leer", ""))))


def test_redirects_resolve_relative_links_where_the_page_was_found(site: Site) -> None:
    def moved(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", "/neu/p1.ttl")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    site.routes["/katalog"] = moved
    site.page("/neu/p1.ttl", ttl_page(["1"], "p1.ttl", "p2.ttl"), "text/turtle")
    site.page("/neu/p2.ttl", ttl_page(["2"], "p2.ttl", None), "text/turtle")
    context = fresh(source("umzug", f"{site.url}/katalog"))
    items = harvested(list(dcat.fetch(context)))
    assert set(items) == {"http://example.org/ds/1", "http://example.org/ds/2"}
    assert [url for url, _ in context.statuses] == [f"{site.url}/katalog", f"{site.url}/neu/p2.ttl"]


def test_options_limit_pages_and_are_checked(site: Site) -> None:
    site.page("/a.ttl", ttl_page(["1"], "a.ttl", "b.ttl"), "text/turtle")
    site.page("/b.ttl", ttl_page(["2"], "b.ttl", None), "text/turtle")
    with pytest.raises(SourceError, match="more than 1 pages"):
        list(dcat.fetch(fresh(source("eine", f"{site.url}/a.ttl", options={"max_pages": 1}))))
    with pytest.raises(SourceError, match="too large"):
        list(dcat.fetch(fresh(source("klein", f"{site.url}/a.ttl", options={"max_bytes": 10}))))
    with pytest.raises(SourceError) as info:
        list(dcat.fetch(fresh(source("x", f"{site.url}/a.ttl", options={"max_pages": "viele"}))))
    assert info.value.where == "options.max_pages" and "ganze Zahl" in info.value.message_de
    site.page("/falsch", ttl_page(["1"], "falsch", None), "application/ld+json")  # wrong type
    with pytest.raises(SourceError, match="invalid JSON"):
        list(dcat.fetch(fresh(source("falsch", f"{site.url}/falsch"))))
    forced = source("erzwungen", f"{site.url}/falsch", options={"format": "turtle"})
    assert set(harvested(list(dcat.fetch(fresh(forced))))) == {"http://example.org/ds/1"}
