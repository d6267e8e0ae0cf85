"""Turnout and vote shares per area, computed from the election results: the 2024 elections
per Stadtteil, and the turnout of every election per Stadtteil and per Stadtbezirk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from odapp.demo.builder import Builder
from odapp.demo.elections import (
    ELECTION_FIELDS,
    ELECTIONS,
    FIRST_ELECTION_DATE,
    FULL_SLUG,
    PARTY_COLUMNS,
    TURNOUT_DISTRICTS_SLUG,
    TURNOUT_QUARTERS_SLUG,
    Election,
    results_of,
)
from odapp.demo.sources import DRESDEN_TERMS
from odapp.demo.text import date_de, date_en, num_de, num_en, pct, split_code, split_district
from odapp.demo.vocab import RFC_CSV, frequency


def add_turnout(b: Builder, rows: list[dict[str, str]]) -> None:
    for election in ELECTIONS:
        if election.year == "2024":  # the Stadtteile of 2024 have boundaries in this catalogue
            _quarter_results(b, election, rows)
    _turnout(b, rows)


def _quarter_results(b: Builder, e: Election, rows: list[dict[str, str]]) -> None:
    """Turnout and party shares of one election per Stadtteil (the table behind a map)."""
    selected = results_of(e, rows)
    parties = [(c, short) for c, short in PARTY_COLUMNS if any(int(r[c]) for r in selected)]
    missing = [short for c, short in PARTY_COLUMNS if (c, short) not in parties]
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    districts: dict[str, str] = {}
    for r in selected:
        groups[r["Stadtteil zus."]].append(r)
        if r["Wahl-Form"] == "Wahlbezirk_Urne":
            districts[r["Stadtteil zus."]] = r["Stadtbezirk mit zugeordneten Ortschaften"]

    def line(nr: str, name: str, district: str, rs: list[dict[str, str]]) -> list[str]:
        eligible = sum(int(r["Wahlberechtigte"]) for r in rs)
        voters = sum(int(r["Wähler"]) for r in rs)
        valid = sum(int(r["Stimmen gültig"]) for r in rs)
        out = [nr, name, district, str(eligible), str(voters), pct(voters, eligible), str(valid)]
        for col, _ in parties:
            n = sum(int(r[col]) for r in rs)
            out += [str(n), pct(n, valid)]
        return out

    unassigned = [k for k in groups if not any(int(r["Wahlberechtigte"]) for r in groups[k])]
    unassigned_voters = sum(int(r["Wähler"]) for k in unassigned for r in groups[k])
    table = [
        line(*split_code(k), split_district(districts[k])[1], groups[k])
        for k in sorted(groups)
        if k not in unassigned
    ]
    table.append(line("", "Dresden insgesamt", "", selected))
    header = [
        "stadtteil_nr",
        "stadtteil",
        "stadtbezirk",
        "wahlberechtigte",
        "waehler",
        "wahlbeteiligung_prozent",
        "gueltige_stimmen",
    ]
    for _, short in parties:
        header += [f"{short}_stimmen", f"{short}_prozent"]
    slug = f"{e.slug.removeprefix('wahlergebnisse-')}-ergebnisse-stadtteile"
    rel = b.write_csv(f"wahlen/{slug}.csv", header, table)
    names = ", ".join(short for _, short in parties)
    notes_de, notes_en = "", ""
    if unassigned_voters:
        notes_de += (
            f" {num_de(unassigned_voters)} Briefwähler ohne Stadtteil zählen nur in "
            "der Zeile „Dresden insgesamt“."
        )
        notes_en += (
            f" {num_en(unassigned_voters)} postal voters without one count only in "
            'the row "Dresden insgesamt" (whole city).'
        )
    if e.votes_per_voter > 1:
        notes_de += " Jede Person hatte bis zu drei Stimmen; die Anteile beziehen sich auf Stimmen."
        notes_en += " Everyone had up to three votes; the shares are shares of votes."
    if missing:
        notes_de += (
            f" Ohne Spalten für {', '.join(missing)}: die Quelle weist dafür keine Stimmen aus."
        )
        notes_en += f" No columns for {', '.join(missing)}: the source has no votes for them."
    b.dataset(
        slug,
        title=(
            f"{e.name_de} in Dresden: Wahlbeteiligung und Stimmenanteile nach Stadtteilen",
            f"Dresden, {e.name_en}: turnout and vote shares by Stadtteil",
        ),
        description=(
            f"Wahlbeteiligung und Stimmenanteile der Parteien bei der {e.name_de} vom "
            f"{date_de(e.date)} in den {len(table) - 1} Stadtteilen Dresdens und in der ganzen "
            "Stadt, für diesen Katalog berechnet aus den Ergebnissen nach Wahlbezirken der "
            "Kommunalen Statistikstelle (Summe aller Urnen- und Briefwahlbezirke, die die "
            f"Quelle dem Stadtteil zuordnet).{notes_de} Spalten: stadtteil_nr, stadtteil, "
            "stadtbezirk, wahlberechtigte, waehler, wahlbeteiligung_prozent (Wähler je 100 "
            f"Wahlberechtigte), gueltige_stimmen und je Partei ({names}) <partei>_stimmen und "
            "<partei>_prozent (Anteil an den gültigen Stimmen). Passt über stadtteil_nr zu den "
            "Stadtteilgrenzen 2024.",
            f"Turnout and party vote shares in the {e.name_en} of {date_en(e.date)} in the "
            f"{len(table) - 1} Stadtteile (statistical districts) of Dresden and the whole city, "
            "computed for this catalogue from the results by polling district of the Municipal "
            "Statistics Office (sum of all ballot-box and postal-vote districts the source "
            f"assigns to the Stadtteil).{notes_en} Columns: stadtteil_nr, stadtteil, "
            "stadtbezirk, wahlberechtigte (eligible voters), waehler (voters), "
            "wahlbeteiligung_prozent (turnout), gueltige_stimmen (valid votes) and per party "
            f"({names}) <party>_stimmen and <party>_prozent (share of the valid votes). Joins "
            "the Stadtteil boundaries 2024 on stadtteil_nr.",
        ),
        keywords=(
            *e.keywords[:1],
            "Wahlbeteiligung",
            "Stimmenanteile",
            "Stadtteile",
            "Parteien",
            "Wählerstimmen",
        ),
        periodicity=frequency("NEVER"),
        period=(e.date, e.date),
        distributions=[
            b.dist(
                rel,
                (f"{e.name_de} nach Stadtteilen (CSV)", f"{e.name_en} by Stadtteil (CSV)"),
                (
                    f"{len(table)} Zeilen (Stadtteile und Gesamtstadt), berechnet aus den "
                    "Ergebnissen nach Wahlbezirken (Daten geändert).",
                    f"{len(table)} rows (Stadtteile and whole city), computed from the results "
                    "by polling district (data changed).",
                ),
                DRESDEN_TERMS,
                conforms_to=[RFC_CSV],
            )
        ],
        sources=[b.iri(e.slug)],
        relations=[b.iri("stadtteile-dresden-2024")],
        **ELECTION_FIELDS,
    )


def _turnout(b: Builder, rows: list[dict[str, str]]) -> None:
    """Turnout (voters / eligible voters) per Stadtteil and per Stadtbezirk, every election."""
    elections = sorted({(r["Jahr"], r["Wahlart"]) for r in rows})
    period = (FIRST_ELECTION_DATE, ELECTIONS[-1].date)
    order = {key: i for i, key in enumerate(elections)}
    sums: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        postal = int(r["Wähler"]) if r["Wahl-Form"] == "Wahlbezirk_Brief" else 0
        for level in ("Stadtteil zus.", "Stadtbezirk mit zugeordneten Ortschaften", "*"):
            area = r[level] if level != "*" else "*"
            s = sums[(level, r["Jahr"], r["Wahlart"], area)]
            s[0] += int(r["Wahlberechtigte"])
            s[1] += int(r["Wähler"])
            s[2] += postal

    def line(year: str, kind: str, nr: str, name: str, counts: list[int]) -> list[str]:
        eligible, voters, postal = counts
        return [year, kind, nr, name, *map(str, counts), pct(voters, eligible), pct(postal, voters)]

    def table(
        level: str, split: Callable[[str], tuple[str, str]], total: bool
    ) -> tuple[list[list[str]], int]:
        out, skipped = [], 0
        keys = sorted((k for k in sums if k[0] == level), key=lambda k: (order[k[1:3]], k[3]))
        for key in keys:
            if not sums[key][0]:  # voters the source assigns to no area (2024: some postal votes)
                skipped += sums[key][1]
                continue
            out.append(line(key[1], key[2], *split(key[3]), sums[key]))
        if total:
            for year, kind in elections:
                out.append(line(year, kind, "", "Dresden insgesamt", sums[("*", year, kind, "*")]))
            out.sort(key=lambda row: (order[(row[0], row[1])], row[2] == "", row[2]))
        return out, skipped

    tail = [
        "wahlberechtigte",
        "waehler",
        "briefwaehler",
        "wahlbeteiligung_prozent",
        "briefwahlanteil_prozent",
    ]
    columns_de = (
        "jahr, wahlart, {nr}, {name}, wahlberechtigte, waehler (Wähler an der Urne und per "
        "Brief), briefwaehler (Wähler in Briefwahlbezirken), wahlbeteiligung_prozent (Wähler je "
        "100 Wahlberechtigte) und briefwahlanteil_prozent (Anteil der Briefwähler an den Wählern)"
    )
    columns_en = (
        "jahr (year), wahlart (kind of election), {nr}, {name}, wahlberechtigte (eligible "
        "voters), waehler (voters at the ballot box and by post), briefwaehler (voters in "
        "postal-vote districts), wahlbeteiligung_prozent (voters per 100 eligible) and "
        "briefwahlanteil_prozent (postal voters' share of the voters)"
    )

    quarters, skipped_q = table("Stadtteil zus.", split_code, total=False)
    rel = b.write_csv(
        f"wahlen/{TURNOUT_QUARTERS_SLUG}.csv",
        ["jahr", "wahlart", "stadtteil_nr", "stadtteil", *tail],
        quarters,
    )
    n_quarters = len({row[2] for row in quarters})
    quarter_columns = (
        columns_de.format(nr="stadtteil_nr", name="stadtteil (Name wie in der Quelle)"),
        columns_en.format(nr="stadtteil_nr", name="stadtteil (name as in the source)"),
    )
    b.dataset(
        TURNOUT_QUARTERS_SLUG,
        title=(
            "Wahlbeteiligung nach Stadtteilen 1999–2024",
            "Voter turnout by Stadtteil 1999–2024",
        ),
        description=(
            f"Wahlbeteiligung und Briefwahlanteil in den {n_quarters} Stadtteilen Dresdens bei "
            f"allen {len(elections)} Wahlen von 1999 bis 2024 ({num_de(len(quarters))} Zeilen), "
            "berechnet aus den Ergebnissen nach Wahlbezirken der Kommunalen Statistikstelle: "
            "Summe aller Urnen- und Briefwahlbezirke, die die Quelle dem Stadtteil zuordnet. "
            f"Spalten: {quarter_columns[0]}. "
            f"{num_de(skipped_q)} Wähler aus Briefwahlbezirken ohne Stadtteil (nur 2024) sind "
            "nicht enthalten. Die Zuordnung der Briefwahlbezirke macht die Werte zu einer guten "
            "Näherung, nicht zu einer amtlichen Zahl.",
            f"Turnout and share of postal voters in the {n_quarters} Stadtteile (statistical "
            f"districts) of Dresden for all {len(elections)} elections from 1999 to 2024 "
            f"({num_en(len(quarters))} rows), computed from the results by polling district "
            "of the Municipal Statistics Office: sum of all ballot-box and postal-vote "
            f"districts the source assigns to the Stadtteil. Columns: {quarter_columns[1]}. "
            f"{num_en(skipped_q)} voters of postal-vote districts without a Stadtteil (2024 "
            "only) are not included. Because of how postal-vote districts are assigned, the "
            "figures are a close approximation, not official numbers.",
        ),
        keywords=(
            "Wahlbeteiligung",
            "Briefwahl",
            "Stadtteile",
            "Wahlen",
            "Zeitreihe",
            "Wählerstimmen",
        ),
        periodicity=frequency("IRREG"),
        period=period,
        distributions=[
            b.dist(
                rel,
                ("Wahlbeteiligung nach Stadtteilen (CSV)", "Turnout by Stadtteil (CSV)"),
                (
                    f"{num_de(len(quarters))} Zeilen, eine je Wahl und Stadtteil (berechnet, Daten "
                    "geändert).",
                    f"{num_en(len(quarters))} rows, one per election and Stadtteil (computed, data "
                    "changed).",
                ),
                DRESDEN_TERMS,
                conforms_to=[RFC_CSV],
            )
        ],
        sources=[b.iri(FULL_SLUG)],
        relations=[b.iri(TURNOUT_DISTRICTS_SLUG), b.iri("stadtteile-dresden-2024")],
        **ELECTION_FIELDS,
    )

    districts, _ = table("Stadtbezirk mit zugeordneten Ortschaften", split_district, total=True)
    rel = b.write_csv(
        f"wahlen/{TURNOUT_DISTRICTS_SLUG}.csv",
        ["jahr", "wahlart", "stadtbezirk_nr", "stadtbezirk", *tail],
        districts,
    )
    b.dataset(
        TURNOUT_DISTRICTS_SLUG,
        title=(
            "Wahlbeteiligung nach Stadtbezirken 1999–2024",
            "Voter turnout by city district 1999–2024",
        ),
        description=(
            "Wahlbeteiligung und Briefwahlanteil in den zehn Stadtbezirken Dresdens (mit den "
            "ihnen zugeordneten Ortschaften) und in der ganzen Stadt bei allen "
            f"{len(elections)} Wahlen von 1999 bis 2024 ({len(districts)} Zeilen), berechnet aus "
            "den Ergebnissen nach Wahlbezirken der Kommunalen Statistikstelle. Spalten: "
            f"{columns_de.format(nr='stadtbezirk_nr (0–9)', name='stadtbezirk')}. Die Zeilen "
            "„Dresden insgesamt“ (ohne stadtbezirk_nr) enthalten alle Wähler, auch die keinem "
            "Stadtbezirk zugeordneten Briefwähler.",
            "Turnout and share of postal voters in the ten city districts (Stadtbezirke, with "
            "the outlying localities assigned to them) and in the whole city for all "
            f"{len(elections)} elections from 1999 to 2024 ({len(districts)} rows), computed "
            "from the results by polling district of the Municipal Statistics Office. Columns: "
            f"{columns_en.format(nr='stadtbezirk_nr (0–9)', name='stadtbezirk (name)')}. The "
            'rows "Dresden insgesamt" (no stadtbezirk_nr) hold all voters of the city, also '
            "the postal voters the source assigns to no district.",
        ),
        keywords=(
            "Wahlbeteiligung",
            "Briefwahl",
            "Stadtbezirke",
            "Wahlen",
            "Zeitreihe",
            "Wählerstimmen",
        ),
        periodicity=frequency("IRREG"),
        period=period,
        distributions=[
            b.dist(
                rel,
                ("Wahlbeteiligung nach Stadtbezirken (CSV)", "Turnout by city district (CSV)"),
                (
                    f"{len(districts)} Zeilen, eine je Wahl und Stadtbezirk sowie für die "
                    "Gesamtstadt (berechnet, Daten geändert).",
                    f"{len(districts)} rows, one per election and city district plus the whole "
                    "city (computed, data changed).",
                ),
                DRESDEN_TERMS,
                conforms_to=[RFC_CSV],
            )
        ],
        sources=[b.iri(FULL_SLUG)],
        relations=[b.iri(TURNOUT_QUARTERS_SLUG), b.iri("stadtbezirke-dresden-2024")],
        **ELECTION_FIELDS,
    )
