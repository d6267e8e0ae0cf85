"""Hypothesis-generated datasets (umlauts, long texts, odd but valid IRIs) survive every syntax."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog import model
from catalog.export import resource_document
from catalog.rdf_io import FORMATS, Document, parse
from catalog.rdf_mapping import read_graph
from catalog.store import Store
from catalog.validation import check_resource

# Text with German letters, quotes, backslashes, newlines and some far-away code points.
TEXT = st.text(
    alphabet=st.sampled_from(
        list(string.ascii_letters + string.digits + " äöüÄÖÜß€\"'\\\n\t,.;:-_#<>{}()[]@")
        + ["\u00a0", "\u2013", "é", "ł", "ž", "漢", "😀"]
    ),
    min_size=1,
    max_size=3000,
).filter(lambda s: s.strip() != "")
SHORT = st.text(
    alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyzäöüß-ÄÖÜ0123456789 ")),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() != "")
LANG = st.sampled_from(["de", "en", "de-DE", ""])
SEGMENT = st.text(
    alphabet=st.sampled_from(list(string.ascii_letters + string.digits + "-._~%!$&'()*+,;=:@äöü")),
    min_size=1,
    max_size=30,
)
IRI = st.builds(
    lambda host, parts, query, frag: f"https://{host}.example/" + "/".join(parts) + query + frag,
    st.sampled_from(["daten", "opendata.dresden", "xn--bume-loa"]),
    st.lists(SEGMENT, min_size=1, max_size=4),
    st.sampled_from(["", "?a=1&b=ü", "?q=%C3%A4"]),
    st.sampled_from(["", "#dataset", "#x-1"]),
)
DATE = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.replace(microsecond=0).isoformat()),
    st.integers(1900, 2100).map(str),
)
TEXTS = st.dictionaries(LANG, TEXT, min_size=1, max_size=3)

distributions = st.builds(
    model.Distribution,
    uri=st.one_of(st.none(), IRI.map(lambda i: i.replace("https://", "https://dist."))),
    access_urls=st.lists(IRI, min_size=1, max_size=2, unique=True).map(sorted),
    download_urls=st.lists(IRI, max_size=2, unique=True).map(sorted),
    license=st.sampled_from(
        ["http://dcat-ap.de/def/licenses/dl-by-de/2.0", "http://dcat-ap.de/def/licenses/cc-by/4.0"]
    ),
    license_attribution=st.one_of(st.none(), SHORT),
    title=st.dictionaries(LANG, SHORT, max_size=2),
    byte_size=st.one_of(st.none(), st.integers(0, 10**12)),
    modified=st.one_of(st.none(), DATE),
)

datasets = st.builds(
    model.Dataset,
    uri=IRI,
    title=TEXTS,
    description=TEXTS,
    publisher=st.builds(
        model.Agent,
        uri=st.one_of(st.none(), IRI.map(lambda i: i.replace("https://", "https://org."))),
        name=st.dictionaries(LANG, SHORT, min_size=1, max_size=2),
    ),
    keywords=st.lists(st.builds(model.LangStr, SHORT, LANG), max_size=8, unique=True).map(sorted),
    themes=st.lists(
        st.sampled_from(["ENVI", "TRAN", "GOVE", "SOCI"]).map(
            lambda c: f"http://publications.europa.eu/resource/authority/data-theme/{c}"
        ),
        max_size=3,
        unique=True,
    ).map(sorted),
    identifier=st.lists(SHORT, max_size=1),
    issued=st.one_of(st.none(), DATE),
    modified=st.one_of(st.none(), DATE),
    contact_points=st.lists(
        st.builds(
            model.ContactPoint,
            fn=st.dictionaries(LANG, SHORT, min_size=1, max_size=1),
            email=st.just("mailto:umwelt@dresden.de"),
        ),
        max_size=1,
    ),
    temporal=st.lists(
        st.builds(model.PeriodOfTime, start=DATE, end=st.one_of(st.none(), DATE)), max_size=1
    ),
    distributions=st.lists(distributions, max_size=3, unique_by=lambda d: d.uri or id(d)).map(
        lambda ds: sorted(ds, key=lambda d: repr(d.to_dict()))
    ),
    version=st.one_of(st.none(), SHORT),
)


def normalised(resource: model.Resource) -> model.Resource:
    """Lists come back sorted (RDF has no order); sort nested lists the way the reader does."""
    from catalog.rdf_mapping import _node_key

    for dist in getattr(resource, "distributions", []):
        dist.access_urls.sort()
        dist.download_urls.sort()
    if isinstance(resource, model.Dataset):
        resource.distributions.sort(key=_node_key)
        resource.contact_points.sort(key=_node_key)
        resource.temporal.sort(key=_node_key)
    return resource


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(dataset=datasets)
def test_generated_datasets_round_trip_in_every_syntax(
    sqlite_store: Store, dataset: model.Dataset
) -> None:
    assert check_resource(dataset) == []
    sqlite_store.save([dataset])
    stored = sqlite_store.get(dataset.uri)
    expected = normalised(stored.record)
    for fmt in FORMATS:
        text = resource_document(stored, fmt)
        parsed = read_graph(parse(Document(text.encode(), f"generated.{fmt}", fmt)))
        (again,) = [r for r in parsed.resources if r.uri == dataset.uri]
        assert again == expected, fmt
