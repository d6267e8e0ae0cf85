"""CKAN package_search parameters (q, fq, fq_list, sort, rows, start, facets) as a SearchQuery:
the Solr syntax CKAN clients send, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from catalog.ckan_query import (
    NOTHING,
    UNLIMITED_FACETS,
    package_search_query,
    parse_fq,
    parse_sort,
    resolve_date_math,
)
from catalog.errors import InputError
from catalog.search_expr import And, MatchAll, Not, Or, Range, Term

NOW = datetime(2024, 5, 15, 12, 30, 45, tzinfo=UTC)


def fq(text: str) -> object:
    return parse_fq(text, now=NOW)


def org(name: str) -> Term:
    return Term("organization", name)


def tag(name: str) -> Term:
    return Term("tags", name)


def error_of(call) -> InputError:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as info:
        call()
    return info.value


# --- what CKAN's CKAN harvester sends (ckanext-harvest CKANHarvester) -------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "metadata_modified:[2024-05-01T10:00:00.000000Z TO *]",
            Range("metadata_modified", "2024-05-01T10:00:00.000000Z", None),
        ),
        (
            "metadata_modified:[2024-05-01T10:00:00Z TO *]",
            Range("metadata_modified", "2024-05-01T10:00:00Z", None),
        ),
        ("+dataset_type:dataset", Term("type", "dataset")),
        ("organization:a OR organization:b", Or((org("a"), org("b")))),
        ("-organization:c", Not(org("c"))),
        ("-organization:c -organization:d", And((Not(org("c")), Not(org("d"))))),
        ("groups:x", Term("groups", "x")),
        ("groups:x OR groups:y", Or((Term("groups", "x"), Term("groups", "y")))),
        (
            "-organization:c metadata_modified:[2024-05-01T10:00:00.000000Z TO *]",
            And(
                (
                    Range("metadata_modified", "2024-05-01T10:00:00.000000Z", None),
                    Not(org("c")),
                )
            ),
        ),
    ],
)
def test_harvester_filters(text: str, expected: object) -> None:
    assert fq(text) == expected


def test_harvester_joined_terms_follow_lucene() -> None:
    # The harvester joins its terms with spaces. With q.op=AND Lucene makes the OR'ed clauses
    # optional next to a required one, so Solr (and we) filter by the date only.
    text = "organization:a OR organization:b metadata_modified:[2024-05-01T10:00:00Z TO *]"
    assert fq(text) == Range("metadata_modified", "2024-05-01T10:00:00Z", None)


# --- syntax ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tags:Wasser", tag("Wasser")),
        ('tags:"Wasser und Boden"', tag("Wasser und Boden")),
        (r'tags:"say \"hi\""', tag('say "hi"')),
        ("tags:*", tag("*")),
        ("*:*", MatchAll()),
        ("tags:a tags:b", And((tag("a"), tag("b")))),
        ("tags:a AND tags:b", And((tag("a"), tag("b")))),
        ("tags:a && tags:b", And((tag("a"), tag("b")))),
        ("tags:a OR tags:b", Or((tag("a"), tag("b")))),
        ("tags:a || tags:b", Or((tag("a"), tag("b")))),
        ("+tags:a +tags:b", And((tag("a"), tag("b")))),
        ("tags:a -tags:b", And((tag("a"), Not(tag("b"))))),
        ("tags:a NOT tags:b", And((tag("a"), Not(tag("b"))))),
        ("tags:a AND NOT tags:b", And((tag("a"), Not(tag("b"))))),
        ("tags:a AND -tags:b", And((tag("a"), Not(tag("b"))))),
        ("NOT tags:a", Not(tag("a"))),
        ("!tags:a", Not(tag("a"))),
        ("- tags:a", Not(tag("a"))),
        ("(tags:a)", tag("a")),
        ("  tags:a  ", tag("a")),
        (
            "(tags:a OR tags:b) AND (tags:c OR tags:d)",
            And((Or((tag("a"), tag("b"))), Or((tag("c"), tag("d"))))),
        ),
        ("(tags:a OR tags:b) -tags:c", And((Or((tag("a"), tag("b"))), Not(tag("c"))))),
        ("((tags:a))", tag("a")),
        ("tags:a (tags:b tags:c)", And((tag("a"), tag("b"), tag("c")))),
        ("organization:(a OR b)", Or((org("a"), org("b")))),
        ("organization:(a b)", And((org("a"), org("b")))),
        ("organization:(a -b)", And((org("a"), Not(org("b"))))),
        ('tags:("a b" OR c)', Or((tag("a b"), tag("c")))),
        ("tags:(a OR (b c))", Or((tag("a"), And((tag("b"), tag("c")))))),
        ("tags:(a OR groups:b)", Or((tag("a"), Term("groups", "b")))),
        ("tags:(*)", tag("*")),
        (r"organization:amt\ fuer\ geodaten", org("amt fuer geodaten")),
        (r"name:a\:b", Term("name", "a:b")),
        (r"tags:a\(b\)", tag("a(b)")),
        (r"tags:100\%", tag("100%")),
        (r"tags:\*", tag("*")),
        (r"tags:a\\", tag("a\\")),
        ("organization: a", org("a")),
        ("tags:a^2", tag("a")),
        ('tags:"a b"^0.5 tags:c', And((tag("a b"), tag("c")))),
        ("tags:a+b-c", tag("a+b-c")),
        (
            "id:6f1c2e8a-0000-4000-8000-000000000001",
            Term("id", "6f1c2e8a-0000-4000-8000-000000000001"),
        ),
    ],
)
def test_syntax(text: str, expected: object) -> None:
    assert fq(text) == expected


def test_empty_fq_is_none() -> None:
    assert parse_fq("") is None
    assert parse_fq("   ") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Lucene's addClause with q.op=AND: OR makes both neighbours optional; optional clauses
        # only filter when a level has no required one
        ("tags:a OR tags:b tags:c", tag("c")),
        ("tags:a AND tags:b OR tags:c", tag("a")),
        ("tags:a OR tags:b -tags:c", And((Or((tag("a"), tag("b"))), Not(tag("c"))))),
        ("tags:a OR -tags:b", And((tag("a"), Not(tag("b"))))),
        ("tags:a OR +tags:b", Or((tag("a"), tag("b")))),
        ("tags:a OR tags:b OR tags:c", Or((tag("a"), tag("b"), tag("c")))),
        ("-tags:a -tags:b", And((Not(tag("a")), Not(tag("b"))))),
        ("*:* -tags:a", Not(tag("a"))),
        ("tags:a OR *:*", MatchAll()),
    ],
)
def test_lucene_clause_semantics(text: str, expected: object) -> None:
    assert fq(text) == expected


# --- ranges and date math -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "metadata_modified:[2024-01-01T00:00:00Z TO *]",
            Range("metadata_modified", "2024-01-01T00:00:00Z", None),
        ),
        (
            "metadata_modified:[* TO 2024-01-01T00:00:00Z]",
            Range("metadata_modified", None, "2024-01-01T00:00:00Z"),
        ),
        ("metadata_modified:[* TO *]", Range("metadata_modified", None, None)),
        # exclusive ends are read as inclusive
        (
            "metadata_modified:{2024-01-01T00:00:00Z TO 2024-02-01T00:00:00Z}",
            Range("metadata_modified", "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"),
        ),
        (
            "metadata_modified:[2024-01-01T00:00:00Z TO 2024-02-01T00:00:00Z}",
            Range("metadata_modified", "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"),
        ),
        (
            'metadata_created:["2024-01-01T00:00:00Z" TO *]',
            Range("metadata_created", "2024-01-01T00:00:00Z", None),
        ),
        (
            "metadata_modified:[NOW-1DAY TO NOW]",
            Range("metadata_modified", "2024-05-14T12:30:45Z", "2024-05-15T12:30:45Z"),
        ),
        (
            "metadata_modified:[NOW-7DAYS TO *]",
            Range("metadata_modified", "2024-05-08T12:30:45Z", None),
        ),
        (
            "metadata_modified:[NOW/DAY TO *]",
            Range("metadata_modified", "2024-05-15T00:00:00Z", None),
        ),
        (
            "metadata_created:[* TO NOW-2HOURS]",
            Range("metadata_created", None, "2024-05-15T10:30:45Z"),
        ),
        (
            "metadata_modified:[NOW-1MONTH/DAY TO NOW/DAY+1DAY]",
            Range("metadata_modified", "2024-04-15T00:00:00Z", "2024-05-16T00:00:00Z"),
        ),
        ("modified:[2020-01-01 TO 2021-12-31]", Range("modified", "2020-01-01", "2021-12-31")),
        ("issued:[2020 TO *]", Range("issued", "2020", None)),
        ("temporal_start:[* TO 2024-01-01]", Range("temporal_start", None, "2024-01-01")),
        ("temporal_end:[NOW/YEAR TO *]", Range("temporal_end", "2024-01-01T00:00:00Z", None)),
        # a single value or any value on a range field
        (
            'metadata_modified:"2024-01-01T00:00:00Z"',
            Range("metadata_modified", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"),
        ),
        (
            r"metadata_modified:2024-01-01T00\:00\:00Z",
            Range("metadata_modified", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"),
        ),
        ("metadata_modified:*", Range("metadata_modified", None, None)),
        ("modified:2024-01-01", Range("modified", "2024-01-01", "2024-01-01")),
        (
            "metadata_modified:[NOW-1DAY TO *] tags:a",
            And((Range("metadata_modified", "2024-05-14T12:30:45Z", None), tag("a"))),
        ),
        (
            "metadata_modified:([* TO 2020-01-01T00:00:00Z] OR [2024-01-01T00:00:00Z TO *])",
            Or(
                (
                    Range("metadata_modified", None, "2020-01-01T00:00:00Z"),
                    Range("metadata_modified", "2024-01-01T00:00:00Z", None),
                )
            ),
        ),
    ],
)
def test_ranges(text: str, expected: object) -> None:
    assert fq(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("NOW", "2024-05-15T12:30:45Z"),
        ("NOW-1DAY", "2024-05-14T12:30:45Z"),
        ("NOW-7DAYS", "2024-05-08T12:30:45Z"),
        ("NOW+1DAY", "2024-05-16T12:30:45Z"),
        ("NOW/DAY", "2024-05-15T00:00:00Z"),
        ("NOW/HOUR", "2024-05-15T12:00:00Z"),
        ("NOW/MINUTE", "2024-05-15T12:30:00Z"),
        ("NOW/MONTH", "2024-05-01T00:00:00Z"),
        ("NOW/YEAR", "2024-01-01T00:00:00Z"),
        ("NOW-2HOURS", "2024-05-15T10:30:45Z"),
        ("NOW-30MINUTES", "2024-05-15T12:00:45Z"),
        ("NOW-45SECONDS", "2024-05-15T12:30:00Z"),
        ("NOW-1YEAR", "2023-05-15T12:30:45Z"),
        ("NOW-3MONTHS", "2024-02-15T12:30:45Z"),
        ("NOW-1DAY/DAY", "2024-05-14T00:00:00Z"),
        ("NOW/DAY-1DAY", "2024-05-14T00:00:00Z"),
        ("NOW-500MILLIS", "2024-05-15T12:30:44.500000Z"),
        ("2024-01-31T10:00:00Z+1MONTH", "2024-02-29T10:00:00Z"),
        ("2024-02-29T10:00:00Z+1YEAR", "2025-02-28T10:00:00Z"),
        ("2024-03-15T10:20:30Z/DAY", "2024-03-15T00:00:00Z"),
        # no math: as given
        ("2024-05-01T10:00:00.000000Z", "2024-05-01T10:00:00.000000Z"),
        ("2024-05-01", "2024-05-01"),
    ],
)
def test_date_math(value: str, expected: str) -> None:
    assert resolve_date_math(value, NOW) == expected


def test_date_math_now_in_other_zone_and_naive() -> None:
    berlin = NOW.astimezone(timezone(timedelta(hours=2)))
    assert resolve_date_math("NOW/DAY", berlin) == "2024-05-15T00:00:00Z"
    naive = datetime(2024, 5, 15, 1, 0)
    assert parse_fq("metadata_modified:[NOW-1HOUR TO *]", now=naive) == Range(
        "metadata_modified", "2024-05-15T00:00:00Z", None
    )


def test_date_math_default_now_is_current_time() -> None:
    expr = parse_fq("metadata_modified:[NOW TO *]")
    assert isinstance(expr, Range) and expr.low is not None
    moment = datetime.fromisoformat(expr.low.replace("Z", "+00:00"))
    assert abs(moment - datetime.now(UTC)) < timedelta(minutes=1)


# --- field names and values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("organization:stadt-dresden", org("stadt-dresden")),
        ("owner_org:stadt-dresden", org("stadt-dresden")),
        ("groups:envi", Term("groups", "envi")),
        ("groups:ENVI", Term("groups", "envi")),
        (
            "groups:http://publications.europa.eu/resource/authority/data-theme/ECON",
            Term("groups", "econ"),
        ),
        ("res_format:CSV", Term("res_format", "CSV")),
        ("res_format:csv", Term("res_format", "CSV")),
        (
            "res_format:http://publications.europa.eu/resource/authority/file-type/JSON",
            Term("res_format", "JSON"),
        ),
        ("license_id:dl-by-de/2.0", Term("license_id", "dl-by-de/2.0")),
        (
            "license_id:http://dcat-ap.de/def/licenses/dl-by-de/2.0",
            Term("license_id", "dl-by-de/2.0"),
        ),
        ('license_id:"http://dcat-ap.de/def/licenses/cc-by/4.0"', Term("license_id", "cc-by/4.0")),
        ("license_id:cc-by", Term("license_id", "cc-by")),
        ("dataset_type:dataset", Term("type", "dataset")),
        ("type:series", Term("type", "series")),
        ("name:luftqualitaet", Term("name", "luftqualitaet")),
        ("uri:http://x.test/dataset/a", Term("uri", "http://x.test/dataset/a")),
        (
            "political_geocoding_level_uri:http://dcat-ap.de/def/politicalGeocoding/Level/municipality",
            Term("political_geocoding_level", "municipality"),
        ),
        (
            "politicalGeocodingLevelURI:http://dcat-ap.de/def/politicalGeocoding/Level/state",
            Term("political_geocoding_level", "state"),
        ),
        (
            "extras_politicalGeocodingLevelURI:http://dcat-ap.de/def/politicalGeocoding/Level/state",
            Term("political_geocoding_level", "state"),
        ),
        ("political_geocoding_level:federal", Term("political_geocoding_level", "federal")),
        (
            "frequency:http://publications.europa.eu/resource/authority/frequency/ANNUAL",
            Term("frequency", "ANNUAL"),
        ),
        (
            "accrual_periodicity:http://publications.europa.eu/resource/authority/frequency/DAILY",
            Term("frequency", "DAILY"),
        ),
        ("frequency:MONTHLY", Term("frequency", "MONTHLY")),
        ("capacity:public", MatchAll()),
        ("capacity:private", NOTHING),
        ("state:active", MatchAll()),
        ("+state:active", MatchAll()),
        ("state:deleted", NOTHING),
        ("state:draft", NOTHING),
        ("state:(active OR draft)", MatchAll()),
        ("private:false", MatchAll()),
        ("private:true", NOTHING),
        ("-state:deleted", Not(NOTHING)),
        ("capacity:public tags:a", tag("a")),
        ("+dataset_type:dataset +state:active +capacity:public", Term("type", "dataset")),
    ],
)
def test_fields(text: str, expected: object) -> None:
    assert fq(text) == expected


def test_nothing_matches_no_name() -> None:
    assert Term("name", "") == NOTHING


def test_unknown_field_is_named_in_both_languages() -> None:
    err = error_of(lambda: fq("tags:a author:Meier"))
    problem = err.problems[0]
    assert problem.where == "fq, position 7"
    assert problem.rule == "fq"
    assert "'author'" in problem.de and "unbekanntes Feld" in problem.de
    assert "'author'" in problem.en and "unknown field" in problem.en


@pytest.mark.parametrize(
    "text", ["num_resources:[1 TO *]", "title:Wasser", "text:Wasser", "site_id:default"]
)
def test_fields_not_available_in_fq(text: str) -> None:
    assert error_of(lambda: fq(text)).problems[0].where == "fq, position 0"


# --- malformed input, with the character offset ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("(tags:a", 0),  # unbalanced (
        ("tags:a OR (tags:b", 10),
        ("tags:a)", 6),  # ) without (
        ("tags:(a OR b", 5),
        ("()", 0),
        ("tags:()", 5),
        ('tags:"a', 5),  # unbalanced quote
        ('tags:a "b c', 7),
        ("tags:a AND", 7),  # dangling operator
        ("tags:a OR", 7),
        ("tags:a &&", 7),
        ("AND tags:a", 0),
        ("OR tags:a", 0),
        ("tags:a AND OR tags:b", 7),
        ("tags:a OR OR tags:b", 7),
        ("(tags:a AND)", 8),
        ("tags:a -", 7),
        ("NOT", 0),
        ("tags:a NOT", 7),
        ("--tags:a", 0),
        ("+ (tags:a) AND", 11),
        ("tags:", 5),  # field without value
        ("organization:", 13),
        ("tags: ", 5),
        ("(tags:)", 6),
        ("tags: AND groups:x", 5),
        ("tags: organization:x", 5),
        ("tags:^2", 5),
        ("metadata_modified:[2024-01-01T00:00:00Z *]", 18),  # range without TO
        ("metadata_modified:[2024-01-01T00:00:00Z]", 18),
        ("metadata_modified:[* TO 2024-01-01T00:00:00Z", 18),  # unclosed range
        ("metadata_modified:[* TO]", 18),
        ("metadata_modified:[]", 18),
        ("tags:a metadata_modified:[a to b]", 25),
        ("name:[a TO b]", 5),  # range on a field without ranges
        ("[a TO b]", 0),  # range without field
        ("metadata_modified:[yesterday TO *]", 19),  # not a timestamp
        ("metadata_modified:[NOW-1FORTNIGHT TO *]", 19),
        ("metadata_modified:[NOW-1day TO *]", 19),
        ("metadata_modified:[2024-13-01T00:00:00Z+1DAY TO *]", 19),
        ("water", 0),  # free text in fq
        ("tags:a water", 7),
        ('"free words"', 0),
        ("tags:wat*", 5),  # wildcards inside values
        ("tags:w?ter", 5),
        ("tags:a~2", 6),  # fuzzy
        ('tags:"a b"~3', 10),
        ("tags:a^x", 6),  # boost without number
        ("{!tag=o}organization:a", 0),  # local params
        ("private:maybe", 8),
        (":a", 0),
        ("*:x", 2),
        ("tags:a ]", 7),
    ],
)
def test_malformed(text: str, position: int) -> None:
    err = error_of(lambda: fq(text))
    assert len(err.problems) == 1
    assert err.problems[0].where == f"fq, position {position}"
    assert err.problems[0].rule == "fq"
    assert err.problems[0].de and err.problems[0].en


def test_trailing_backslash() -> None:
    err = error_of(lambda: fq("tags:a\\"))
    assert err.problems[0].where == "fq, position 6"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("tags:a AND", "AND"),
        ("(tags:a", "parenthesis"),
        ('tags:"a', "quotation mark"),
        ("tags:", "without a value"),
        ("metadata_modified:[a b]", "TO"),
    ],
)
def test_malformed_messages(text: str, words: str) -> None:
    assert words in error_of(lambda: fq(text)).problems[0].en


def test_where_names_the_parameter() -> None:
    err = error_of(lambda: parse_fq("tags:(a", where="fq_list[1]"))
    assert err.problems[0].where == "fq_list[1], position 5"


# --- sort -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("score desc, metadata_modified desc", ("relevance", True)),
        ("score desc", ("relevance", True)),
        ("relevance asc", ("relevance", False)),
        ("title_string asc", ("title", False)),
        ("title_string desc", ("title", True)),
        ("title asc", ("title", False)),
        ("name asc", ("name", False)),
        ("metadata_modified desc", ("metadata_modified", True)),
        ("metadata_modified asc", ("metadata_modified", False)),
        ("id asc", ("id", False)),
        ("modified desc", ("modified", True)),
        ("  metadata_modified   DESC , title_string asc", ("metadata_modified", True)),
        ("name", ("name", None)),
        ("", ("relevance", True)),
    ],
)
def test_parse_sort(sort: str, expected: tuple[str, bool | None]) -> None:
    assert parse_sort(sort) == expected


@pytest.mark.parametrize(
    "sort", ["metadata_created desc", "views_recent desc", "title_string upward", "name asc x"]
)
def test_parse_sort_refuses(sort: str) -> None:
    err = error_of(lambda: parse_sort(sort))
    assert err.problems[0].where == "sort"
    assert sort.split()[0] in err.problems[0].en or sort in err.problems[0].en


# --- package_search_query ---------------------------------------------------------------------


def test_defaults() -> None:
    query = package_search_query({}, now=NOW)
    assert query.q == ""
    assert query.expr is None
    assert query.offset == 0
    assert query.limit == 10
    assert query.facets == ()
    assert query.facet_limit == 50
    assert query.cursor is None
    # "score desc, metadata_modified desc" without words: every score is equal in Solr, so the
    # second clause decides
    assert (query.sort, query.descending) == ("metadata_modified", True)


def test_default_sort_with_words_is_relevance() -> None:
    query = package_search_query({"q": "Wasser"}, now=NOW)
    assert (query.q, query.sort, query.descending) == ("Wasser", "relevance", True)


def test_first_sort_clause_is_used() -> None:
    query = package_search_query({"q": "Wasser", "sort": "title_string asc, name desc"})
    assert (query.sort, query.descending) == ("title", False)
    query = package_search_query({"sort": "id asc"})
    assert (query.sort, query.descending) == ("id", False)


@pytest.mark.parametrize("q", ["", "*:*", "  *:*  ", '""', "''", None])
def test_q_meaning_everything(q: str | None) -> None:
    query = package_search_query({"q": q})
    assert query.q == "" and query.expr is None


def test_q_without_fields_is_text() -> None:
    query = package_search_query({"q": "Luftqualität Dresden"})
    assert query.q == "Luftqualität Dresden" and query.expr is None


@pytest.mark.parametrize(
    ("q", "words", "expr"),
    [
        ("tags:Wasser", "", tag("Wasser")),
        ("Luft tags:Wasser", "Luft", tag("Wasser")),
        ("Luft Dresden organization:a", "Luft Dresden", org("a")),
        ('"saubere Luft" organization:a', "saubere Luft", org("a")),
        ("Luft AND (tags:a OR tags:b)", "Luft", Or((tag("a"), tag("b")))),
        ("Luft -tags:a", "Luft", Not(tag("a"))),
        ("(Luft Wasser) name:x", "Luft Wasser", Term("name", "x")),
        ("text:Luft tags:a", "Luft", tag("a")),
        ("name:x OR id:x", "", Or((Term("name", "x"), Term("id", "x")))),
        ("*:* Luft", "Luft", None),
        ("capacity:public Luft", "Luft", None),
        ('"Wasser: Qualität"', "Wasser: Qualität", None),
    ],
)
def test_q_with_fields(q: str, words: str, expr: object) -> None:
    query = package_search_query({"q": q}, now=NOW)
    assert query.q == words
    assert query.expr == expr


@pytest.mark.parametrize(
    ("q", "where"),
    [
        ("Luft OR tags:a", "q, position 0"),
        ("-Luft tags:a", "q, position 0"),
        ("tags:a unknown:x", "q, position 7"),
        ("tags:(a", "q, position 5"),
        ("(Luft OR tags:a) name:x", "q, position 1"),
        ("{!lucene}tags:a", "q, position 0"),
    ],
)
def test_q_refusals(q: str, where: str) -> None:
    assert error_of(lambda: package_search_query({"q": q})).problems[0].where == where


def test_fq_fq_list_and_q_are_anded() -> None:
    query = package_search_query(
        {
            "q": "Luft groups:envi",
            "fq": "+dataset_type:dataset",
            "fq_list": ["organization:a OR organization:b", "-tags:alt"],
        },
        now=NOW,
    )
    assert query.q == "Luft"
    assert query.expr == And(
        (
            Term("groups", "envi"),
            Term("type", "dataset"),
            Or((org("a"), org("b"))),
            Not(tag("alt")),
        )
    )


def test_fq_list_forms() -> None:
    assert package_search_query({"fq_list": "tags:a"}).expr == tag("a")
    assert package_search_query({"fq_list": '["tags:a", "tags:b"]'}).expr == And(
        (tag("a"), tag("b"))
    )
    assert package_search_query({"fq_list": []}).expr is None
    err = error_of(lambda: package_search_query({"fq_list": ["tags:a", "tags:(b"]}))
    assert err.problems[0].where == "fq_list[1], position 5"
    assert error_of(lambda: package_search_query({"fq_list": [1]})).problems[0].where == "fq_list"


def test_fq_that_matches_everything_is_no_filter() -> None:
    query = package_search_query({"fq": "+state:active +capacity:public", "q": "*:*"})
    assert query.expr is None


def test_fq_date_math_uses_injected_now() -> None:
    query = package_search_query({"fq": "metadata_modified:[NOW-1DAY TO *]"}, now=NOW)
    assert query.expr == Range("metadata_modified", "2024-05-14T12:30:45Z", None)


def test_fq_errors_name_the_parameter() -> None:
    err = error_of(lambda: package_search_query({"fq": "tags:a AND"}))
    assert err.problems[0].where == "fq, position 7"
    assert error_of(lambda: package_search_query({"fq": ["tags:a"]})).problems[0].where == "fq"


@pytest.mark.parametrize(
    ("data", "offset", "limit"),
    [
        ({"rows": 0}, 0, 0),
        ({"rows": "0"}, 0, 0),
        ({"rows": 1000}, 0, 1000),
        ({"rows": "1000"}, 0, 1000),
        ({"rows": "25", "start": "50"}, 50, 25),
        ({"rows": 100, "start": 0}, 0, 100),
        ({"rows": "", "start": ""}, 0, 10),
        ({"rows": None, "start": None}, 0, 10),
    ],
)
def test_rows_and_start(data: dict, offset: int, limit: int) -> None:  # type: ignore[type-arg]
    query = package_search_query(data)
    assert (query.offset, query.limit) == (offset, limit)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        ({"rows": "abc"}, "rows"),
        ({"rows": 1001}, "rows"),
        ({"rows": "5000"}, "rows"),
        ({"rows": -1}, "rows"),
        ({"rows": 1.5}, "rows"),
        ({"rows": True}, "rows"),
        ({"start": -1}, "start"),
        ({"start": "x"}, "start"),
        ({"facet.limit": "many"}, "facet.limit"),
        ({"facet.field": "organization"}, "facet.field"),
        ({"facet.field": '["organization", "author"]'}, "facet.field"),
        ({"facet.field": '{"a": 1}'}, "facet.field"),
        ({"q": 5}, "q"),
        ({"sort": 5}, "sort"),
        ({"cursor": 5}, "cursor"),
    ],
)
def test_parameter_errors(data: dict, name: str) -> None:  # type: ignore[type-arg]
    err = error_of(lambda: package_search_query(data))
    problem = err.problems[0]
    assert problem.where == name
    assert problem.rule == "Validation Error"
    assert name in problem.de and name in problem.en


def test_facets() -> None:
    query = package_search_query(
        {"facet.field": '["organization", "tags", "res_format", "license_id", "groups"]'}
    )
    assert query.facets == ("organization", "tags", "res_format", "license_id", "groups")
    query = package_search_query(
        {"facet.field": ["dataset_type", "type", "political_geocoding_level_uri", "frequency"]}
    )
    assert query.facets == ("type", "political_geocoding_level", "frequency")
    assert package_search_query({"facet.field": "[]"}).facets == ()


def test_facet_off() -> None:
    query = package_search_query({"facet": "false", "facet.field": '["tags"]'})
    assert query.facets == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 50), ("10", 10), (0, 0), (-1, UNLIMITED_FACETS), ("-1", UNLIMITED_FACETS)],
)
def test_facet_limit(value: object, expected: int) -> None:
    assert package_search_query({"facet.limit": value}).facet_limit == expected


def test_include_flags_are_ignored_and_cursor_passes() -> None:
    query = package_search_query(
        {"include_private": True, "include_drafts": "true", "cursor": "eyJvIjoxMH0"}
    )
    assert query.cursor == "eyJvIjoxMH0"
    assert query.expr is None
    assert package_search_query({"cursor": ""}).cursor is None


def test_sort_errors_from_package_search() -> None:
    err = error_of(lambda: package_search_query({"sort": "metadata_created desc"}))
    assert err.problems[0].where == "sort"


def test_ckan_harvester_request() -> None:
    # CKANHarvester._search_for_datasets: rows=100, start, sort="id asc", fq joined by spaces
    query = package_search_query(
        {
            "rows": "100",
            "start": "200",
            "sort": "id asc",
            "fq": "-organization:c -organization:d "
            "metadata_modified:[2024-05-01T10:00:00.000000Z TO *]",
        },
        now=NOW,
    )
    assert (query.limit, query.offset, query.sort, query.descending) == (100, 200, "id", False)
    assert query.expr == And(
        (
            Range("metadata_modified", "2024-05-01T10:00:00.000000Z", None),
            Not(org("c")),
            Not(org("d")),
        )
    )
