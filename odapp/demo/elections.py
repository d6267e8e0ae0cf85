"""The election table of the Kommunale Statistikstelle: the elections that get a dataset of
their own, the columns and what the descriptions say about them, and the slugs and fields the
election records share."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from odapp.demo.organisations import STATISTICS
from odapp.demo.sources import DEMO_DATA, ELECTIONS_CSV, ELECTIONS_DATE
from odapp.demo.vocab import theme


@dataclass(frozen=True)
class Election:
    year: str
    kind: str  # "Wahlart" as in the source
    date: str
    name_de: str
    name_en: str
    keywords: tuple[str, ...]

    @property
    def slug(self) -> str:
        kind = {"Stadtbezirks- und Ortschaftsratswahl": "stadtbezirks-und-ortschaftsratswahl"}
        return f"wahlergebnisse-{kind.get(self.kind, self.kind.lower())}-{self.year}"

    @property
    def votes_per_voter(self) -> int:  # council elections: up to three votes each
        return 3 if self.kind in ("Kommunalwahl", "Stadtbezirks- und Ortschaftsratswahl") else 1


# The per-election datasets of the series (the full table holds all 25 elections since 1999).
ELECTIONS = (
    Election(
        "2019",
        "Europawahl",
        "2019-05-26",
        "Europawahl 2019",
        "European Parliament election 2019",
        ("Europawahl", "Europäisches Parlament"),
    ),
    Election(
        "2019",
        "Kommunalwahl",
        "2019-05-26",
        "Kommunalwahl (Stadtratswahl) 2019",
        "municipal election (city council) 2019",
        ("Kommunalwahl", "Stadtrat"),
    ),
    Election(
        "2019",
        "Stadtbezirks- und Ortschaftsratswahl",
        "2019-05-26",
        "Stadtbezirksbeirats- und Ortschaftsratswahl 2019",
        "election of the district and local councils 2019",
        ("Stadtbezirksbeirat", "Ortschaftsrat", "Kommunalwahl"),
    ),
    Election(
        "2019",
        "Landtagswahl",
        "2019-09-01",
        "Landtagswahl 2019",
        "Saxon state election 2019",
        ("Landtagswahl", "Sächsischer Landtag"),
    ),
    Election(
        "2021",
        "Bundestagswahl",
        "2021-09-26",
        "Bundestagswahl 2021",
        "federal election 2021",
        ("Bundestagswahl", "Bundestag"),
    ),
    Election(
        "2024",
        "Europawahl",
        "2024-06-09",
        "Europawahl 2024",
        "European Parliament election 2024",
        ("Europawahl", "Europäisches Parlament"),
    ),
    Election(
        "2024",
        "Kommunalwahl",
        "2024-06-09",
        "Kommunalwahl (Stadtratswahl) 2024",
        "municipal election (city council) 2024",
        ("Kommunalwahl", "Stadtrat"),
    ),
    Election(
        "2024",
        "Landtagswahl",
        "2024-09-01",
        "Landtagswahl 2024",
        "Saxon state election 2024",
        ("Landtagswahl", "Sächsischer Landtag"),
    ),
)
FIRST_ELECTION_DATE = "1999-06-13"  # European and municipal elections 1999

PARTY_COLUMNS = (  # source column, short name in derived files
    ("Stimmen CDU", "cdu"),
    ("Stimmen SPD", "spd"),
    ("Stimmen Die Linke", "die_linke"),
    ("Stimmen FDP", "fdp"),
    ("Stimmen Grüne", "gruene"),
    ("Stimmen AfD", "afd"),
    ("Stimmen Piraten", "piraten"),
    ("Stimmen Rechte Parteien", "rechte_parteien"),
    ("Stimmen sonstiger Parteien", "sonstige"),
)

# Every column of the election table: (name, German, English)
RESULT_COLUMNS = (
    ("Jahr", "„Jahr“", '"Jahr" (year)'),
    (
        "Stadtbezirk mit zugeordneten Ortschaften",
        "„Stadtbezirk mit zugeordneten Ortschaften“ (z. B. „StB 1 Neustadt“; die Ortschaften sind "
        "einem benachbarten Stadtbezirk zugeordnet)",
        '"Stadtbezirk mit zugeordneten Ortschaften" (city district, e.g. "StB 1 Neustadt"; '
        "the outlying localities are assigned to a neighbouring district)",
    ),
    (
        "Stadtraum",
        "„Stadtraum“ (einer von 17 Stadträumen mit Nummer)",
        '"Stadtraum" (one of 17 planning areas, with number)',
    ),
    ("Wahlart", "„Wahlart“", '"Wahlart" (kind of election)'),
    (
        "Wahlbezirk",
        "„Wahlbezirk“ (fünfstellige Nummer)",
        '"Wahlbezirk" (five-digit polling district number)',
    ),
    ("Wahlberechtigte", "„Wahlberechtigte“", '"Wahlberechtigte" (eligible voters)'),
    (
        "Wahlberechtigte mit WS",
        "„Wahlberechtigte mit WS“ (mit Wahlschein, meist für die Briefwahl)",
        '"Wahlberechtigte mit WS" (of these with a polling card, mostly postal voters)',
    ),
    ("Wähler", "„Wähler“", '"Wähler" (voters)'),
    ("Wähler mit WS", "„Wähler mit WS“", '"Wähler mit WS" (voters with a polling card)'),
    ("Stimmen ungültig", "„Stimmen ungültig“", '"Stimmen ungültig" (invalid votes)'),
    ("Stimmen gültig", "„Stimmen gültig“", '"Stimmen gültig" (valid votes)'),
    ("Stimmen CDU", "„Stimmen CDU“", '"Stimmen CDU"'),
    ("Stimmen SPD", "„Stimmen SPD“", '"Stimmen SPD"'),
    ("Stimmen Die Linke", "„Stimmen Die Linke“", '"Stimmen Die Linke"'),
    ("Stimmen FDP", "„Stimmen FDP“", '"Stimmen FDP"'),
    ("Stimmen Grüne", "„Stimmen Grüne“", '"Stimmen Grüne"'),
    ("Stimmen AfD", "„Stimmen AfD“", '"Stimmen AfD"'),
    ("Stimmen Piraten", "„Stimmen Piraten“", '"Stimmen Piraten"'),
    (
        "Stimmen Rechte Parteien",
        "„Stimmen Rechte Parteien“ (von der Quelle zusammengefasst)",
        '"Stimmen Rechte Parteien" (right-wing parties, grouped by the source)',
    ),
    (
        "Stimmen sonstiger Parteien",
        "„Stimmen sonstiger Parteien“",
        '"Stimmen sonstiger Parteien" (other parties)',
    ),
    (
        "Stadtteil zus.",
        "„Stadtteil zus.“ (Stadtteil mit zweistelliger Nummer, z. B. „11 Äußere "
        "Neustadt (Antonstadt)“)",
        '"Stadtteil zus." (Stadtteil with two-digit number)',
    ),
    (
        "Wahl-Form",
        "„Wahl-Form“ (Wahlbezirk_Urne = Urnenwahlbezirk, Wahlbezirk_Brief = Briefwahlbezirk)",
        '"Wahl-Form" (Wahlbezirk_Urne = ballot-box district, '
        "Wahlbezirk_Brief = postal-vote district)",
    ),
)
RESULT_NOTES_DE = (
    "Die Parteispalten zählen gültige Stimmen. Briefwahlbezirke haben 0 Wahlberechtigte, weil "
    "ihre Wähler in den Urnenwahlbezirken als Wahlberechtigte zählen; eine Wahlbeteiligung "
    "lässt sich daher nur für größere Gebiete berechnen. Bei Kommunal- und "
    "Stadtbezirks-/Ortschaftsratswahlen hat jede Person bis zu drei Stimmen, die Stimmenzahlen "
    "sind dort etwa dreimal so groß wie die Zahl der Wähler; bei Europa-, Bundestags- und "
    "Landtagswahlen enthält die Quelle eine Stimme je Wähler (welche von zwei Stimmen, gibt sie "
    "nicht an)."
)
RESULT_NOTES_EN = (
    "The party columns count valid votes. Postal-vote districts have 0 eligible voters because "
    "their voters are counted as eligible in the ballot-box districts, so turnout can only be "
    "computed for larger areas. In municipal and district/local council elections everyone has "
    "up to three votes, so the vote counts are about three times the number of voters; for "
    "European, federal and state elections the source has one vote per voter (it does not say "
    "which of the two)."
)


FULL_SLUG = "wahlergebnisse-wahlbezirke-1999-2024"
SERIES_SLUG = "wahlergebnisse-nach-wahlbezirken"
TURNOUT_DISTRICTS_SLUG = "wahlbeteiligung-stadtbezirke-1999-2024"
TURNOUT_QUARTERS_SLUG = "wahlbeteiligung-stadtteile-1999-2024"

# every election record: published by the statistics office, same theme and date
ELECTION_FIELDS: Mapping[str, Any] = {
    "org": STATISTICS,
    "themes": (theme("GOVE"),),
    "modified": ELECTIONS_DATE,
}


def columns_doc(columns: Sequence[str]) -> tuple[str, str]:
    """The German and English description of the given election-table columns, in order."""
    docs = {name: (de, en) for name, de, en in RESULT_COLUMNS}
    return ", ".join(docs[c][0] for c in columns), ", ".join(docs[c][1] for c in columns)


def read_elections() -> list[dict[str, str]]:
    with (DEMO_DATA / ELECTIONS_CSV).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def results_of(e: Election, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows of one election."""
    return [r for r in rows if (r["Jahr"], r["Wahlart"]) == (e.year, e.kind)]
