"""A real `odapp serve` process (waitress) read by real clients: requests and rdflib."""

from __future__ import annotations

import pytest
import requests
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from catalog.namespaces import DCAT, HYDRA
from tests.conftest import EXAMPLES, Server, parseable_examples


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Server:
    srv = Server(tmp_path_factory.mktemp("http"), {"ODAPP_PAGE_SIZE": "7"})
    examples = [str(p) for p in parseable_examples()]
    done = srv.odapp("import", "--accept-incomplete", *examples)
    assert "new" in done.stdout
    srv.start()
    yield srv
    srv.stop()


def test_healthz(server: Server) -> None:
    body = requests.get(server.url + "/healthz", timeout=10).json()
    assert body["status"] == "ok" and body["database"] == "sqlite" and body["datasets"] >= 25


@pytest.mark.parametrize(
    ("ext", "fmt", "media"),
    [
        ("ttl", "turtle", "text/turtle"),
        ("rdf", "xml", "application/rdf+xml"),
        ("xml", "xml", "application/rdf+xml"),
        ("jsonld", "json-ld", "application/ld+json"),
        ("nt", "nt", "application/n-triples"),
    ],
)
def test_catalogue_pages_in_every_syntax(server: Server, ext: str, fmt: str, media: str) -> None:
    response = requests.get(f"{server.url}/catalog.{ext}", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(media)
    graph = Graph().parse(data=response.text, format=fmt)
    catalog = URIRef(server.url + "/catalog")
    assert (catalog, RDF.type, DCAT.Catalog) in graph
    members = set(graph.objects(catalog, DCAT.dataset)) | set(graph.objects(catalog, DCAT.service))
    assert len(members) == 7  # ODAPP_PAGE_SIZE
    for member in members:
        assert (member, RDF.type, None) in graph, "every listed record is described on the page"


def test_following_hydra_next_collects_every_record_once(server: Server) -> None:
    url: str | None = server.url + "/catalog.rdf"
    seen: list[URIRef] = []
    total = None
    while url:
        graph = Graph().parse(data=requests.get(url, timeout=30).text, format="xml")
        view = next(graph.subjects(RDF.type, HYDRA.PartialCollectionView))
        total = int(graph.value(view, HYDRA.totalItems))
        seen += list(graph.objects(URIRef(server.url + "/catalog"), DCAT.dataset))
        seen += list(graph.objects(URIRef(server.url + "/catalog"), DCAT.service))
        nxt = graph.value(view, HYDRA.next)
        url = str(nxt) if nxt else None
        assert url is None or url.startswith(server.url), "links use the public base URL"
    assert len(seen) == len(set(seen)) == total
    health = requests.get(server.url + "/healthz", timeout=10).json()
    assert total == health["datasets"]


def test_content_negotiation_on_catalog(server: Server) -> None:
    response = requests.get(
        server.url + "/catalog", headers={"Accept": "application/ld+json"}, timeout=30
    )
    assert response.headers["Content-Type"].startswith("application/ld+json")
    assert len(Graph().parse(data=response.text, format="json-ld")) > 0


def test_one_dataset_in_every_syntax(server: Server) -> None:
    name = "305d5bb9-28cb-496f-ad29-09838c5dcdbc"  # the real Rostock extract
    original = Graph().parse(
        EXAMPLES / "validator-testcases" / "dashboard__rostock-catalog-dataset-extracted.rdf"
    )
    subject = URIRef(f"https://www.opendata-hro.de/dataset/{name}")
    title = original.value(subject, URIRef("http://purl.org/dc/terms/title"))
    for ext, fmt in (("ttl", "turtle"), ("rdf", "xml"), ("jsonld", "json-ld"), ("nt", "nt")):
        response = requests.get(f"{server.url}/dataset/{name}.{ext}", timeout=10)
        assert response.status_code == 200, response.text
        graph = Graph().parse(data=response.text, format=fmt)
        assert graph.value(subject, URIRef("http://purl.org/dc/terms/title")) == title


@pytest.mark.parametrize(
    ("path", "status", "rule"),
    [
        ("/dataset/does-not-exist.ttl", 404, "not-found"),
        ("/dataset/does-not-exist.pdf", 400, "format"),
        ("/catalog.pdf", 400, "format"),
        ("/catalog.ttl?page=0", 400, "parameter"),
        ("/catalog.ttl?page=abc", 400, "parameter"),
        ("/catalog.ttl?page=999", 400, "parameter"),
        ("/catalog.ttl?modified_since=gestern", 400, "parameter"),
    ],
)
def test_errors_are_json_with_german_and_english(
    server: Server, path: str, status: int, rule: str
) -> None:
    response = requests.get(server.url + path, timeout=10)
    assert response.status_code == status
    body = response.json()
    assert body["problems"][0]["rule"] == rule
    assert body["problems"][0]["de"] and body["problems"][0]["en"]


def test_unknown_path_is_a_json_404(server: Server) -> None:
    response = requests.get(server.url + "/nowhere", timeout=10)
    assert response.status_code == 404 and response.json()["error"] == "Not Found"


def test_modified_since_filters(server: Server) -> None:
    response = requests.get(server.url + "/catalog.ttl?modified_since=2999-01-01", timeout=10)
    graph = Graph().parse(data=response.text, format="turtle")
    view = next(graph.subjects(RDF.type, HYDRA.PartialCollectionView))
    assert int(graph.value(view, HYDRA.totalItems)) == 0
    assert "modified_since=2999-01-01" in str(graph.value(view, HYDRA.first))


def test_index_page_lists_and_searches_the_datasets(server: Server) -> None:
    response = requests.get(server.url + "/", timeout=10)
    assert response.status_code == 200 and 'lang="de"' in response.text
    assert "/dataset/12345678-9abc-4729-9044-f4d4ceaed491.ttl" in response.text
    found = requests.get(server.url + "/", params={"q": "Haushaltsplan"}, timeout=10).text
    assert "/dataset/12345678-9abc-4729-9044-f4d4ceaed491.ttl" in found
    assert "/dataset/305d5bb9-28cb-496f-ad29-09838c5dcdbc.ttl" not in found
