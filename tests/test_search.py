"""German-aware search on SQLite FTS5 and PostgreSQL full text: the same answers on both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from catalog import model
from catalog.errors import InputError
from catalog.namespaces import EU
from catalog.search import SearchQuery, SearchService
from catalog.store import Store

DL_BY = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
CC_BY = "http://dcat-ap.de/def/licenses/cc-by/4.0"


def dataset(
    name: str,
    title: str,
    *,
    description: str = "Ein Datensatz der Stadt.",
    keywords: tuple[str, ...] = (),
    org: str = "Umweltamt",
    themes: tuple[str, ...] = ("ENVI",),
    formats: tuple[str, ...] = ("CSV",),
    licence: str = DL_BY,
    level: str = "municipality",
    frequency: str = "ANNUAL",
    geometry: str | None = None,
    temporal: tuple[str, str | None] | None = None,
    modified: str = "2024-01-01",
) -> model.Dataset:
    return model.Dataset(
        uri=f"http://x.test/dataset/{name}",
        identifier=[name],
        title={"de": title},
        description={"de": description},
        keywords=[model.LangStr(k, "de") for k in keywords],
        publisher=model.Agent(uri=f"http://x.test/org/{org.replace(' ', '-')}", name={"de": org}),
        themes=[f"{EU}data-theme/{t}" for t in themes],
        political_geocoding_level=f"http://dcat-ap.de/def/politicalGeocoding/Level/{level}",
        accrual_periodicity=f"{EU}frequency/{frequency}",
        spatial=[model.Location(geometry=geometry)] if geometry else [],
        temporal=[model.PeriodOfTime(start=temporal[0], end=temporal[1])] if temporal else [],
        modified=modified,
        distributions=[
            model.Distribution(
                uri=f"http://x.test/dataset/{name}/{i}",
                access_urls=[f"http://x.test/f/{name}.{f.lower()}"],
                license=licence,
                format=f"{EU}file-type/{f}",
            )
            for i, f in enumerate(formats)
        ],
    )


CITY = "POLYGON((13.58 50.97, 13.97 50.97, 13.97 51.18, 13.58 51.18, 13.58 50.97))"
NORTH = "POLYGON((13.70 51.10, 13.80 51.10, 13.80 51.15, 13.70 51.15, 13.70 51.10))"

DATASETS = [
    dataset(
        "baumkataster",
        "Straßenbäume in Dresden",
        keywords=("Bäume", "Grün"),
        geometry=CITY,
        temporal=("2020-01-01", "2023-12-31"),
        formats=("CSV", "GEOJSON"),
    ),
    dataset(
        "haltestellen",
        "Haltestellen des ÖPNV",
        keywords=("Verkehr", "Straßenbahn"),
        org="Straßen- und Tiefbauamt",
        themes=("TRAN",),
        formats=("GEOJSON",),
        geometry=NORTH,
        temporal=("2024-01-01", None),
        frequency="DAILY",
        modified="2025-06-01",
    ),
    dataset(
        "wahlbezirke",
        "Wahlbezirke Europawahl 2024",
        keywords=("Wahlen",),
        org="Kommunale Statistikstelle",
        themes=("GOVE", "REGI"),
        licence=CC_BY,
        description="Grenzen der Urnenwahlbezirke.",
        geometry=CITY,
        temporal=("2024-06-09", "2024-06-09"),
        modified="2024-06-10",
    ),
    dataset(
        "luft",
        "Luftqualität Messstelle Nord",
        description="Stündliche Messwerte der Luftqualität.",
        keywords=("Umwelt", "Feinstaub"),
        formats=("CSV",),
        frequency="HOURLY",
        modified="2019-03-01",
        temporal=("2019-02-01", "2019-02-28"),
    ),
    # ranking: the same word in the title, in a keyword, or only in the description
    dataset("rang-titel", "Parkplätze am Rand", modified="2020-01-01"),
    dataset("rang-schlagwort", "Stellflächen", keywords=("Parkplätze",), modified="2020-01-02"),
    dataset(
        "rang-text",
        "Verkehrsflächen",
        description="Enthält auch Parkplätze.",
        modified="2020-01-03",
    ),
]


@pytest.fixture
def search(store: Store) -> SearchService:
    store.save(DATASETS)
    return SearchService(store)


def names(search: SearchService, **kw: object) -> list[str]:
    result = search.search(SearchQuery(limit=100, **kw))  # type: ignore[arg-type]
    return [r.name for r in result.results]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("Baum", "baumkataster"),  # Bäume / Baum
        ("bäume", "baumkataster"),
        ("baeume", "baumkataster"),  # ae finds ä
        ("Strassenbäume", "baumkataster"),  # Strasse finds Straße
        ("Haltestelle", "haltestellen"),  # singular finds plural
        ("haltestellen dresden", None),  # every word must match: none has both
        ("Wahlbezirk", "wahlbezirke"),
        ("Wahlbezirke", "wahlbezirke"),
        ("luftqualitaet", "luft"),
        ("OEPNV", "haltestellen"),  # umlauts typed as oe
        ("OPNV", "haltestellen"),  # or left out
        ("ÖPNV", "haltestellen"),
    ],
)
def test_german_words_in_their_forms(search: SearchService, q: str, expected: str | None) -> None:
    found = names(search, q=q, correct_typos=False)
    if expected is None:
        assert found == []
    else:
        assert expected in found


def test_prefix_matching_is_for_words_being_typed(search: SearchService) -> None:
    assert names(search, q="wahlbez", correct_typos=False) == []
    assert names(search, q="wahlbez", prefix=True) == ["wahlbezirke"]
    assert names(search, q="wahlbez ", prefix=True, correct_typos=False) == []  # the word is complete


def test_title_ranks_over_keywords_over_description(search: SearchService) -> None:
    assert names(search, q="Parkplätze") == ["rang-titel", "rang-schlagwort", "rang-text"]


def test_typo_falls_back_to_the_closest_word(search: SearchService) -> None:
    result = search.search(SearchQuery(q="Haltstellen"))
    assert [r.name for r in result.results] == ["haltestellen"]
    assert result.corrected_q == "haltestellen" and result.suggestions == ["haltestellen"]
    plain = search.search(SearchQuery(q="Haltstellen", correct_typos=False))
    assert plain.count == 0 and plain.suggestions == ["haltestellen"]


def test_filters_by_every_facet(search: SearchService) -> None:
    assert names(search, filters={"organization": ["kommunale-statistikstelle"]}) == ["wahlbezirke"]
    assert sorted(names(search, filters={"groups": ["tran", "gove"]})) == [
        "haltestellen",
        "wahlbezirke",
    ]
    assert names(search, filters={"tags": ["Feinstaub"]}) == ["luft"]
    assert sorted(names(search, filters={"res_format": ["GEOJSON"]})) == [
        "baumkataster",
        "haltestellen",
    ]
    assert names(search, filters={"license_id": ["cc-by/4.0"]}) == ["wahlbezirke"]
    assert names(search, filters={"frequency": ["HOURLY"]}) == ["luft"]
    assert len(names(search, filters={"political_geocoding_level": ["municipality"]})) == 7
    assert names(search, filters={"res_format": ["GEOJSON"], "groups": ["tran"]}) == [
        "haltestellen"
    ]
    assert "wahlbezirke" not in names(
        search, exclude={"organization": ["kommunale-statistikstelle"]}
    )


def test_bbox_temporal_and_modified_ranges(search: SearchService) -> None:
    assert sorted(names(search, bbox=(13.72, 51.12, 13.75, 51.13))) == [
        "baumkataster",
        "haltestellen",
        "wahlbezirke",
    ]
    assert sorted(names(search, bbox=(13.60, 51.00, 13.61, 51.01))) == [
        "baumkataster",
        "wahlbezirke",
    ]
    assert names(search, bbox=(10.0, 50.0, 11.0, 51.0)) == []
    assert sorted(names(search, temporal=("2024-01-01", "2024-12-31"))) == [
        "haltestellen",
        "wahlbezirke",
    ]
    assert names(search, temporal=("2019-02-10", "2019-02-11")) == ["luft"]
    assert names(search, modified=("2025-01-01", None)) == ["haltestellen"]
    assert names(search, modified=(None, "2019-12-31")) == ["luft"]
    future = datetime.now(UTC) + timedelta(days=1)
    assert names(search, updated=(future, None)) == []


def test_facet_counts_follow_the_filters(search: SearchService) -> None:
    result = search.search(
        SearchQuery(facets=("res_format", "organization", "groups"), facet_limit=2)
    )
    assert result.count == 7
    assert result.facets["res_format"] == [("CSV", 6), ("GEOJSON", 2)]
    assert result.facets["organization"][0] == ("umweltamt", 5)
    assert len(result.facets["organization"]) == 2  # facet_limit
    narrowed = search.search(SearchQuery(q="Haltestellen", facets=("res_format",)))
    assert narrowed.facets["res_format"] == [("GEOJSON", 1)]


def test_sorting(search: SearchService) -> None:
    by_title = names(search, sort="title")
    assert by_title == sorted(by_title, key=lambda n: search.store.get(n).title.lower())
    assert names(search, sort="modified")[0] == "haltestellen"
    assert names(search, sort="modified", descending=False)[0] == "luft"


def test_cursor_walks_everything_once_for_every_sort(search: SearchService) -> None:
    for sort in ("title", "modified", "metadata_modified", "id", "name"):
        seen, cursor = [], None
        while True:
            result = search.search(SearchQuery(sort=sort, limit=2, cursor=cursor))
            seen += [r.name for r in result.results]
            cursor = result.next_cursor
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 7, sort


def test_offset_paging_with_text_relevance(search: SearchService) -> None:
    first = names(search, q="Parkplätze")
    page = search.search(SearchQuery(q="Parkplätze", limit=2))
    rest = search.search(SearchQuery(q="Parkplätze", limit=2, cursor=page.next_cursor))
    assert [r.name for r in page.results + rest.results] == first


def test_index_follows_every_write(search: SearchService) -> None:
    store = search.store
    changed = dataset("luft", "Lärmkarte Dresden", keywords=("Lärm",), modified="2019-03-01")
    store.save([changed])
    assert names(search, q="Luftqualität", correct_typos=False) == []
    assert names(search, q="Lärm") == ["luft"]
    store.delete("luft")
    assert names(search, q="Lärm") == []
    assert search.search(SearchQuery(facets=("tags",))).facets["tags"].count(("Lärm", 1)) == 0


def test_reindex_rebuilds_the_same_answers(search: SearchService) -> None:
    before = {q: names(search, q=q) for q in ("Baum", "Parkplätze", "Wahlbezirk")}
    assert search.reindex() == 7
    assert {q: names(search, q=q) for q in before} == before


def test_bad_search_input(search: SearchService) -> None:
    with pytest.raises(InputError):
        search.search(SearchQuery(sort="popularity"))
    with pytest.raises(InputError):
        search.search(SearchQuery(filters={"colour": ["red"]}))
    with pytest.raises(InputError):
        search.search(SearchQuery(sort="title", cursor="not-a-cursor"))
    # characters with meaning in FTS5 or tsquery syntax are plain text here
    assert names(search, q='"Baum* OR -( & | !:') == []
