"""Round trips: every parseable official example and real catalogue extract imports, exports in
every syntax, and re-imports to the same records, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from catalog import model
from catalog.dcatde_upgrade import upgrade_graph
from catalog.export import resource_document, stream_catalog
from catalog.importer import import_document, load_document
from catalog.namespaces import DCAT, DCATAP, EU, turtle_prefix_header
from catalog.rdf_io import Document, parse
from catalog.rdf_mapping import read_graph, resource_graph
from catalog.store import Store
from catalog.turtle import fragment
from tests.conftest import BROKEN_EXAMPLES, example_files, make_store, parseable_examples

CATALOG = model.Catalog(
    uri="http://odapp.test/catalog",
    title={"de": "Test"},
    description={"de": "Test"},
    publisher=model.Agent(uri="http://odapp.test/", name={"de": "Test"}),
)
EXPORT_FORMATS = ["turtle", "xml", "json-ld", "nt"]


def test_reference_examples_are_there() -> None:
    names = {p.name for p in example_files()}
    assert "Dataset-und-Distribution.ttl" in names
    assert "dashboard__rostock-catalog-dataset-extracted.rdf" in names
    assert "example-bee-population.ttl" in names  # plain DCAT-AP 3.0.1 (SEMIC)
    assert len(parseable_examples()) >= 19


def records(store: Store) -> dict[str, str]:
    return {r.uri: r.record_json for r in store.iter_resources()}


@pytest.mark.parametrize("path", parseable_examples(), ids=lambda p: p.name)
def test_mapping_round_trip(path: Path) -> None:
    """graph -> records -> graph -> records gives equal records, for every example."""
    graph = parse(load_document(str(path)))
    upgrade_graph(graph)
    first = read_graph(graph)
    assert first.resources, "every example describes at least one resource"
    out = Graph()
    for resource in first.resources:
        out += resource_graph(resource)
    second = read_graph(out)
    by_uri = {r.uri: r for r in second.resources}
    for resource in first.resources:
        if resource.uri is not None:
            assert by_uri[resource.uri] == resource


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_store_round_trip_every_example(store: Store, tmp_path: Path, fmt: str) -> None:
    """import every example -> export the whole catalogue -> import into a fresh store: same records."""
    for path in parseable_examples():
        import_document(store, load_document(str(path)), strict=False)
    before = records(store)
    assert len(before) >= 25
    text = "".join(stream_catalog(store, CATALOG, fmt))
    second = make_store("sqlite", tmp_path / "second")
    import_document(second, Document(text.encode(), "export", fmt), strict=False)
    after = records(second)
    assert after.keys() == before.keys()
    for uri, record in before.items():
        assert json.loads(after[uri]) == json.loads(record), uri


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_single_dataset_documents_round_trip(sqlite_store: Store, fmt: str) -> None:
    for path in parseable_examples():
        import_document(sqlite_store, load_document(str(path)), strict=False)
    for stored in sqlite_store.iter_resources():
        text = resource_document(stored, fmt)
        again = read_graph(parse(Document(text.encode(), stored.name, fmt)))
        (resource,) = [r for r in again.resources if r.uri == stored.uri]
        assert resource == stored.record


def test_broken_examples_fail_with_line_numbers() -> None:
    from catalog.errors import InputError

    for path in example_files():
        if path.name in BROKEN_EXAMPLES:
            with pytest.raises(InputError) as info:
                parse(load_document(str(path)))
            assert "line" in info.value.problems[0].where


def test_turtle_fragment_is_isomorphic_to_the_source() -> None:
    for path in parseable_examples():
        graph = parse(load_document(str(path)))
        again = Graph().parse(data=turtle_prefix_header() + fragment(graph), format="turtle")
        assert isomorphic(graph, again), path.name


def test_dcatde_2_properties_map_to_3() -> None:
    text = """
    @prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dcatde: <http://dcat-ap.de/def/dcatde/> .
    @prefix dct: <http://purl.org/dc/terms/> . @prefix schema: <http://schema.org/> .
    @prefix owl: <http://www.w3.org/2002/07/owl#> .
    <http://x.test/d> a dcat:Dataset ; dct:title "T" ; owl:versionInfo "1.0" ;
      dct:temporal [ a dct:PeriodOfTime ; schema:startDate "2020-01-01" ; schema:endDate "2020-12-31" ] ;
      dcat:distribution <http://x.test/d/1> .
    <http://x.test/d/1> a dcat:Distribution ; dcat:accessURL <http://x.test/f> ;
      dcatde:plannedAvailability <http://dcat-ap.de/def/plannedAvailability/stable> .
    """
    graph = Graph().parse(data=text, format="turtle")
    applied = upgrade_graph(graph)
    assert sum(applied.values()) == 4
    (dataset,) = read_graph(graph).resources
    assert dataset.version == "1.0"
    assert dataset.temporal[0].start == "2020-01-01" and dataset.temporal[0].end == "2020-12-31"
    assert dataset.distributions[0].availability == f"{EU}planned-availability/STABLE"
    assert (None, DCATAP.availability, None) in graph
    assert not dataset.extra and not dataset.distributions[0].extra


@pytest.mark.parametrize(
    "written",
    [
        "https://www.dcat-ap.de/def/plannedAvailability/available",
        "http://www.dcat-ap.de/def/plannedAvailability/available",
        "https://dcat-ap.de/def/plannedAvailability/available/",
    ],
)
def test_planned_availability_as_catalogues_write_it_maps_to_3(written: str) -> None:
    """Rostock's extract writes the 2.0 vocabulary with https and www."""
    text = f"""
    @prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dcatde: <http://dcat-ap.de/def/dcatde/> .
    <http://x.test/d/1> a dcat:Distribution ; dcatde:plannedAvailability <{written}> .
    """
    graph = Graph().parse(data=text, format="turtle")
    upgrade_graph(graph)
    assert graph.value(URIRef("http://x.test/d/1"), DCATAP.availability) == URIRef(
        f"{EU}planned-availability/AVAILABLE"
    )


def test_unmodelled_properties_survive(sqlite_store: Store) -> None:
    text = """
    @prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
    @prefix foaf: <http://xmlns.com/foaf/0.1/> . @prefix ex: <http://example.org/ns#> .
    <http://x.test/d> a dcat:Dataset ; dct:title "Bäume"@de ; dct:description "Straßenbäume"@de ;
      dct:publisher [ a foaf:Organization ; foaf:name "Umweltamt" ; ex:budget 12 ] ;
      ex:rating [ ex:stars 4 ; ex:by "Anna" ] ;
      ex:seeAlso <http://example.org/other> .
    """
    import_document(sqlite_store, Document(text.encode(), "t.ttl", "turtle"))
    stored = sqlite_store.get("d")
    exported = Graph().parse(data=resource_document(stored, "turtle"), format="turtle")
    original = Graph().parse(data=text, format="turtle")
    assert isomorphic(original, exported)
    assert (None, DCAT.distribution, None) not in exported
