"""Federation: a GovData-style harvest of the paged DCAT catalogue, narrowed with q and fq,
conditional requests, and links built from the public base URL behind a proxy prefix."""

from __future__ import annotations

import time

import pytest
import requests
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF

from catalog.namespaces import DCAT, DCTERMS, HYDRA
from tests.conftest import Server

PUBLIC = "https://daten.example.org/odapp"  # what a reverse proxy publishes


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Server:
    srv = Server(tmp_path_factory.mktemp("federation"), {"ODAPP_PAGE_SIZE": "8"})
    srv.env["ODAPP_BASE_URL"] = PUBLIC
    srv.odapp("demo")
    srv.start()
    yield srv
    srv.stop()


def harvest(server: Server, start: str) -> tuple[dict[URIRef, Graph], int]:
    """Follow hydra:next from ``start`` like GovData: every dataset with its own description."""
    datasets: dict[URIRef, Graph] = {}
    url: str | None = start
    total = -1
    while url:
        # the links name the public URL; a harvester behind the proxy is sent to our server
        local = url.replace(PUBLIC, server.url)
        graph = Graph().parse(data=requests.get(local, timeout=30).text, format="xml")
        view = next(graph.subjects(RDF.type, HYDRA.PartialCollectionView))
        total = int(graph.value(view, HYDRA.totalItems))
        catalog = URIRef(f"{PUBLIC}/catalog")
        members = [*graph.objects(catalog, DCAT.dataset), *graph.objects(catalog, DCAT.service)]
        for ds in members:
            assert ds not in datasets, f"{ds} came twice"
            datasets[ds] = graph
        nxt = graph.value(view, HYDRA.next)
        url = str(nxt) if nxt else None
    return datasets, total


def test_govdata_style_harvest_collects_every_dataset_once(server: Server) -> None:
    datasets, total = harvest(server, f"{PUBLIC}/catalog.rdf")
    assert total == len(datasets) == 33  # 29 datasets (3 sensor stations), 1 series, 3 services
    for uri, graph in datasets.items():
        assert str(uri).startswith(f"{PUBLIC}/dataset/"), "IRIs use the public base URL"
        name = str(uri).rsplit("/", 1)[-1]
        package = requests.get(
            f"{server.url}/api/3/action/package_show", params={"id": name}, timeout=10
        ).json()
        modified = {e["key"]: e["value"] for e in package["result"]["extras"]}.get("modified")
        stated = graph.value(uri, DCTERMS.modified)
        # the same instant ("Z" and "+00:00" are one time; rdflib normalises to the latter)
        assert (
            modified and stated.toPython() == Literal(modified, datatype=stated.datatype).toPython()
        )


def test_paging_links_carry_the_query_and_the_prefix(server: Server) -> None:
    text = requests.get(
        f"{server.url}/catalog.ttl", params={"fq": "res_format:CSV"}, timeout=10
    ).text
    graph = Graph().parse(data=text, format="turtle")
    view = next(graph.subjects(RDF.type, HYDRA.PartialCollectionView))
    assert str(view).startswith(f"{PUBLIC}/catalog.ttl?")
    nxt = str(graph.value(view, HYDRA.next))
    assert (
        nxt.startswith(f"{PUBLIC}/catalog.ttl?")
        and "fq=res_format%3ACSV" in nxt
        and "page=2" in nxt
    )


def test_q_and_fq_narrow_the_catalogue(server: Server) -> None:
    datasets, total = harvest(server, f"{PUBLIC}/catalog.rdf?q=Wahlbezirk")
    api = requests.get(
        f"{server.url}/api/3/action/package_search",
        params={"q": "Wahlbezirk", "rows": 100},
        timeout=10,
    )
    found = {p["name"] for p in api.json()["result"]["results"]}
    assert total == len(datasets) == len(found) < 33
    assert {str(d).rsplit("/", 1)[-1] for d in datasets} == found
    org = "landeshauptstadt-dresden-umweltamt"
    datasets, total = harvest(server, f"{PUBLIC}/catalog.rdf?fq=organization:{org}")
    api = requests.get(
        f"{server.url}/api/3/action/package_search",
        params={"fq": f"organization:{org}"},
        timeout=10,
    )
    assert total == api.json()["result"]["count"] == len(datasets) >= 2
    bad = requests.get(f"{server.url}/catalog.ttl", params={"fq": "organization:(a OR"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["problems"][0]["de"]


def test_conditional_requests(server: Server) -> None:
    for path in ("/catalog.ttl", "/catalog.jsonld?page=2", "/dataset/haltestellen-vvo.rdf"):
        first = requests.get(server.url + path, timeout=10)
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        assert first.status_code == 200 and etag
        again = requests.get(server.url + path, headers={"If-None-Match": etag}, timeout=10)
        assert again.status_code == 304 and again.content == b""
        since = requests.get(server.url + path, headers={"If-Modified-Since": modified}, timeout=10)
        assert since.status_code == 304
        other = requests.get(
            server.url + path, headers={"If-None-Match": '"something-else"'}, timeout=10
        )
        assert other.status_code == 200


def test_a_change_makes_pages_and_documents_new(server: Server) -> None:
    page = requests.get(server.url + "/catalog.ttl", timeout=10)
    doc = requests.get(server.url + "/dataset/haltestellen-vvo.ttl", timeout=10)
    time.sleep(1.1)  # Last-Modified has whole seconds
    server.odapp("demo")  # writes every record again
    page2 = requests.get(
        server.url + "/catalog.ttl", headers={"If-None-Match": page.headers["ETag"]}, timeout=10
    )
    doc2 = requests.get(
        server.url + "/dataset/haltestellen-vvo.ttl",
        headers={"If-Modified-Since": doc.headers["Last-Modified"]},
        timeout=10,
    )
    assert page2.status_code == 200 and page2.headers["ETag"] != page.headers["ETag"]
    assert doc2.status_code == 200
