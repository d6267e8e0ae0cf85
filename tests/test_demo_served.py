"""The newcomer's path: `odapp demo`, `odapp serve`, then /catalog.ttl is valid DCAT-AP.de 3.0 and
every distribution downloads."""

from __future__ import annotations

import hashlib

import pytest
import requests
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

from catalog.namespaces import DCAT, HYDRA, SPDX
from catalog.shacl import validate
from tests.conftest import Server


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Server:
    server = Server(tmp_path_factory.mktemp("demo"), {"ODAPP_PAGE_SIZE": "10"})
    out = server.odapp("demo").stdout
    assert "29 new" in out
    server.start()
    yield server
    server.stop()


def pages(server: Server, ext: str = "ttl", fmt: str = "turtle") -> list[Graph]:
    """Every page of the catalogue, following hydra:next."""
    out = []
    url: str | None = f"{server.url}/catalog.{ext}"
    while url:
        page = Graph().parse(data=requests.get(url, timeout=30).text, format=fmt)
        out.append(page)
        view = next(page.subjects(RDF.type, HYDRA.PartialCollectionView))
        nxt = page.value(view, HYDRA.next)
        url = str(nxt) if nxt else None
        page.remove((view, None, None))  # its links name the syntax (catalog.ttl?page=2)
    return out


def whole_catalogue(server: Server) -> Graph:
    graph = Graph()
    for page in pages(server):
        graph += page
    return graph


def test_catalogue_served_over_http_has_zero_shacl_violations(demo: Server) -> None:
    graph = whole_catalogue(demo)
    catalog = URIRef(demo.url + "/catalog")
    assert len(set(graph.objects(catalog, DCAT.dataset))) >= 25
    report = validate(graph)
    print(f"SHACL: {len(report.violations)} violations, {len(report.warnings)} warnings")
    assert report.violations == [], [f"{r.owner} {r.path}: {r.message}" for r in report.violations]


def test_every_syntax_gives_the_same_pages(demo: Server) -> None:
    turtle = pages(demo)
    assert len(turtle) == 4  # 33 records (29 + 3 air stations + the OGC API service), 10 a page
    for ext, fmt in (("rdf", "xml"), ("jsonld", "json-ld"), ("nt", "nt")):
        other = pages(demo, ext, fmt)
        assert len(other) == len(turtle)
        for a, b in zip(turtle, other, strict=True):
            assert isomorphic(a, b), ext


def test_every_download_works_and_matches_size_and_checksum(demo: Server) -> None:
    graph = whole_catalogue(demo)
    distributions = list(graph.subjects(RDF.type, DCAT.Distribution))
    assert len(distributions) >= 30
    apis = [d for d in distributions if graph.value(d, DCAT.accessService) is not None]
    assert len(apis) >= 20  # the OGC API collections: access URLs, no download
    for dist in apis:
        response = requests.get(str(graph.value(dist, DCAT.accessURL)), timeout=30)
        assert response.status_code == 200 and response.json()["itemType"] == "feature"
    sensors = [d for d in distributions if "/sta/v1.1/" in str(graph.value(d, DCAT.accessURL))]
    assert len(sensors) == 3  # each air-quality station's SensorThings distribution
    for dist in set(distributions) - set(apis):
        access = str(graph.value(dist, DCAT.accessURL))
        if access.startswith((demo.url + "/sta/", demo.url + "/sensors/", demo.url + "/ogc/")):
            response = requests.get(access, timeout=30)  # a station's API or CSV download
            assert response.status_code == 200, access
            assert response.content, access
            continue
        url = str(graph.value(dist, DCAT.downloadURL))
        assert url.startswith(demo.url + "/files/"), url
        response = requests.get(url, timeout=30)
        assert response.status_code == 200, url
        assert len(response.content) == int(graph.value(dist, DCAT.byteSize)), url
        checksum = graph.value(dist, SPDX.checksum)
        if checksum is not None:
            assert hashlib.sha256(response.content).hexdigest() == str(graph.value(checksum, SPDX.checksumValue))


def test_demo_can_be_loaded_again_without_duplicates(demo: Server) -> None:
    out = demo.odapp("demo").stdout
    assert "0 new, 29 updated" in out
    assert "0 new and 0 changed stations, 0 new readings" in out
    assert requests.get(demo.url + "/healthz", timeout=10).json()["datasets"] == 33


def test_validate_command_on_the_demo(demo: Server) -> None:
    done = demo.odapp("validate", check=False)
    assert done.returncode == 0, done.stdout[-2000:]
