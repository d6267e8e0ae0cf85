"""Election results by polling district: the complete table 1999–2024 (the city's file), the
series and one dataset per election filtered from the table."""

from __future__ import annotations

from catalog import model
from odapp.demo.builder import Builder
from odapp.demo.elections import (
    ELECTION_FIELDS,
    ELECTIONS,
    FIRST_ELECTION_DATE,
    FULL_SLUG,
    PARTY_COLUMNS,
    RESULT_NOTES_DE,
    RESULT_NOTES_EN,
    SERIES_SLUG,
    TURNOUT_DISTRICTS_SLUG,
    TURNOUT_QUARTERS_SLUG,
    Election,
    columns_doc,
    results_of,
)
from odapp.demo.sources import DRESDEN_TERMS, ELECTIONS_CSV, ELECTIONS_REPO, ELECTIONS_SOURCE
from odapp.demo.text import date_de, date_en, num_de, num_en
from odapp.demo.vocab import RFC_CSV, frequency


def add_election_results(b: Builder, rows: list[dict[str, str]]) -> None:
    """The complete table, the series and the datasets of the series, in this order."""
    header = list(rows[0])
    elections = sorted({(r["Jahr"], r["Wahlart"]) for r in rows})
    parties = [col for col, _ in PARTY_COLUMNS]
    mismatched = sum(1 for r in rows if sum(int(r[p]) for p in parties) != int(r["Stimmen gültig"]))

    rel = b.copy(ELECTIONS_CSV, "wahlen")
    columns_de, columns_en = columns_doc(header)
    b.dataset(
        FULL_SLUG,
        title=(
            "Wahlergebnisse nach Wahlbezirken 1999–2024 (Gesamttabelle)",
            "Election results by polling district 1999–2024 (complete table)",
        ),
        description=(
            f"Ergebnisse aller {len(elections)} Europa-, Bundestags-, Landtags- und "
            "Kommunalwahlen in Dresden von 1999 bis 2024 sowie der Stadtbezirksbeirats- und "
            "Ortschaftsratswahl 2019 (ohne Oberbürgermeisterwahlen), je Urnen- und "
            f"Briefwahlbezirk: {num_de(len(rows))} Zeilen. Unveränderte Kopie des Exports der "
            "Kommunalen Statistikstelle auf opendata.dresden.de (trotz des dortigen Namens "
            f"„1999 – 2019“ reicht er bis 2024). Spalten: {columns_de}. {RESULT_NOTES_DE} "
            "Der Stadtraum ist für 2024 nicht angegeben („00 unbekannt“). In "
            f"{mismatched} Zeilen weicht die Summe der Parteistimmen von „Stimmen gültig“ ab "
            "(so in der Quelle). Komma-getrennt, UTF-8.",
            f"Results of all {len(elections)} European, federal, state and municipal elections "
            "in Dresden from 1999 to 2024 and of the 2019 district and local council election "
            "(no mayoral elections), per ballot-box and postal-vote district: "
            f"{num_en(len(rows))} rows. Unchanged copy of the export of the Municipal "
            'Statistics Office on opendata.dresden.de (despite its name "1999 – 2019" it runs '
            f"to 2024). Columns: {columns_en}. {RESULT_NOTES_EN} "
            'The Stadtraum is not given for 2024 ("00 unbekannt"). In '
            f'{mismatched} rows the party votes do not add up to "Stimmen gültig" (as in the '
            "source). Comma-separated, UTF-8.",
        ),
        keywords=(
            "Wahlen",
            "Wahlergebnisse",
            "Wahlbezirke",
            "Wählerstimmen",
            "Briefwahl",
            "Europawahl",
            "Bundestagswahl",
            "Landtagswahl",
            "Kommunalwahl",
            "Parteien",
        ),
        periodicity=frequency("IRREG"),
        period=(FIRST_ELECTION_DATE, ELECTIONS[-1].date),
        distributions=[
            b.dist(
                rel,
                (
                    "Wahlergebnisse 1999–2024 nach Wahlbezirken (CSV)",
                    "Election results 1999–2024 by polling district (CSV)",
                ),
                (
                    "Originaldatei der Kommunalen Statistikstelle, 22 Spalten, eine Zeile je "
                    "Wahl und Wahlbezirk.",
                    "Original file of the Municipal Statistics Office, 22 columns, one row per "
                    "election and polling district.",
                ),
                DRESDEN_TERMS,
                conforms_to=[RFC_CSV],
            )
        ],
        relations=[
            ELECTIONS_SOURCE,
            f"{ELECTIONS_REPO}/all.csv",
            b.iri(SERIES_SLUG),
            b.iri(TURNOUT_QUARTERS_SLUG),
            b.iri(TURNOUT_DISTRICTS_SLUG),
        ],
        pages=["https://github.com/offenesdresden/wahlbezirke"],
        **ELECTION_FIELDS,
    )

    b.dataset(
        SERIES_SLUG,
        cls=model.DatasetSeries,
        title=(
            "Wahlergebnisse nach Wahlbezirken (Reihe)",
            "Election results by polling district (series)",
        ),
        description=(
            "Datensatzreihe mit einem Datensatz je Wahl: die Ergebnisse aller Urnen- und "
            "Briefwahlbezirke Dresdens. Enthalten sind die Wahlen von 2019 bis 2024 ("
            + ", ".join(e.name_de for e in ELECTIONS)
            + "). Alle Wahlen seit 1999 stehen in der Gesamttabelle „Wahlergebnisse nach "
            "Wahlbezirken 1999–2024“, aus der die Einzeldatensätze gefiltert wurden; die "
            "Spalten sind dort beschrieben.",
            "Dataset series with one dataset per election: the results of all ballot-box and "
            "postal-vote districts of Dresden. It holds the elections from 2019 to 2024 ("
            + ", ".join(e.name_en for e in ELECTIONS)
            + '). All elections since 1999 are in the complete table "Election results by '
            'polling district 1999–2024", from which the member datasets were filtered; its '
            "description explains the columns.",
        ),
        keywords=("Wahlen", "Wahlergebnisse", "Wahlbezirke", "Wählerstimmen", "Zeitreihe"),
        periodicity=frequency("IRREG"),
        period=(ELECTIONS[0].date, ELECTIONS[-1].date),
        sources=[b.iri(FULL_SLUG)],
        relations=[b.iri(FULL_SLUG)],
        **ELECTION_FIELDS,
    )

    for election in ELECTIONS:
        _election_dataset(b, election, rows, header)


def _election_dataset(
    b: Builder, e: Election, rows: list[dict[str, str]], header: list[str]
) -> None:
    selected = results_of(e, rows)
    dropped = [c for c, _ in PARTY_COLUMNS if not any(int(r[c]) for r in selected)]
    no_areas = all(r["Stadtraum"].startswith("00 ") for r in selected)
    if no_areas:
        dropped.append("Stadtraum")
    columns = [c for c in header if c not in ("Jahr", "Wahlart", *dropped)]
    rel = b.write_csv(f"wahlen/{e.slug}.csv", columns, ([r[c] for c in columns] for r in selected))
    columns_de, columns_en = columns_doc(columns)
    ballot = sum(1 for r in selected if r["Wahl-Form"] == "Wahlbezirk_Urne")
    postal = len(selected) - ballot
    eligible = sum(int(r["Wahlberechtigte"]) for r in selected)
    voters = sum(int(r["Wähler"]) for r in selected)
    votes = sum(int(r["Stimmen gültig"]) for r in selected)
    turnout = 100 * voters / eligible
    dropped_de = f" sowie {', '.join(f'„{c}“' for c in dropped)} (ohne Angaben)" if dropped else ""
    dropped_en = (
        f" and {', '.join(f'{chr(34)}{c}{chr(34)}' for c in dropped)} (no data)" if dropped else ""
    )
    votes_de = (
        f" Jede Person hatte bis zu drei Stimmen: {num_de(votes)} gültige Stimmen."
        if e.votes_per_voter > 1
        else f" {num_de(votes)} gültige Stimmen."
    )
    votes_en = (
        f" Everyone had up to three votes: {num_en(votes)} valid votes."
        if e.votes_per_voter > 1
        else f" {num_en(votes)} valid votes."
    )
    b.dataset(
        e.slug,
        title=(
            f"{e.name_de} in Dresden: Ergebnisse nach Wahlbezirken",
            f"Dresden, {e.name_en}: results by polling district",
        ),
        description=(
            f"Ergebnisse der {e.name_de} vom {date_de(e.date)} in Dresden für alle {ballot} "
            f"Urnenwahlbezirke und {postal} Briefwahlbezirke (eine Zeile je Wahlbezirk): "
            f"{num_de(voters)} Wähler bei {num_de(eligible)} Wahlberechtigten, "
            f"Wahlbeteiligung {num_de(turnout, 1)} %.{votes_de} Für diesen Katalog aus der "
            f"Gesamttabelle der Kommunalen Statistikstelle gefiltert (Jahr = {e.year}, Wahlart "
            f"= {e.kind}); weggelassen wurden die Spalten „Jahr“ und „Wahlart“{dropped_de}. "
            f"Spalten: {columns_de}. {RESULT_NOTES_DE}",
            f"Results of the {e.name_en} on {date_en(e.date)} in Dresden for all {ballot} "
            f"ballot-box and {postal} postal-vote districts (one row per polling district): "
            f"{num_en(voters)} voters of {num_en(eligible)} eligible, turnout "
            f"{num_en(turnout, 1)} %.{votes_en} Filtered for this catalogue from the complete "
            f"table of the Municipal Statistics Office (Jahr = {e.year}, Wahlart = {e.kind}); "
            f'the columns "Jahr" and "Wahlart"{dropped_en} were left out. Columns: '
            f"{columns_en}. {RESULT_NOTES_EN}",
        ),
        keywords=("Wahlen", "Wahlergebnisse", "Wahlbezirke", "Wählerstimmen", *e.keywords),
        periodicity=frequency("NEVER"),
        period=(e.date, e.date),
        distributions=[
            b.dist(
                rel,
                (
                    f"{e.name_de}: Ergebnisse nach Wahlbezirken (CSV)",
                    f"{e.name_en}: results by polling district (CSV)",
                ),
                (
                    f"{len(selected)} Zeilen, {len(columns)} Spalten; aus der Gesamttabelle "
                    "gefiltert (Daten geändert).",
                    f"{len(selected)} rows, {len(columns)} columns; filtered from the complete "
                    "table (data changed).",
                ),
                DRESDEN_TERMS,
                conforms_to=[RFC_CSV],
            )
        ],
        in_series=[b.iri(SERIES_SLUG)],
        sources=[b.iri(FULL_SLUG)],
        **ELECTION_FIELDS,
    )
