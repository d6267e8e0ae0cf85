"""The hierarchy Stadtbezirk -> Stadtraum -> Stadtteil (Stadtplanungsamt), from the election
results."""

from __future__ import annotations

from collections import Counter

from odapp.demo.builder import Builder
from odapp.demo.elections import ELECTIONS
from odapp.demo.organisations import PLANNING
from odapp.demo.sources import DRESDEN_TERMS, ELECTIONS_DATE
from odapp.demo.text import date_de, date_en, split_code, split_district
from odapp.demo.vocab import RFC_CSV, frequency, theme


def add_hierarchy(b: Builder, rows: list[dict[str, str]]) -> None:
    """Stadtbezirk -> Stadtraum -> Stadtteil from the last election that names Stadträume."""
    named = {(r["Jahr"], r["Wahlart"]) for r in rows if not r["Stadtraum"].startswith("00 ")}
    election = max((e for e in ELECTIONS if (e.year, e.kind) in named), key=lambda e: e.date)
    last = (election.year, election.kind)
    counts: Counter[tuple[str, str, str]] = Counter(
        (r["Stadtbezirk mit zugeordneten Ortschaften"], r["Stadtraum"], r["Stadtteil zus."])
        for r in rows
        if (r["Jahr"], r["Wahlart"]) == last and r["Wahl-Form"] == "Wahlbezirk_Urne"
    )
    table = []
    for (district, area, quarter), n in counts.items():
        table.append([*split_district(district), *split_code(area), *split_code(quarter), n])
    table.sort(key=lambda row: (row[0], row[2], row[4]))
    split = sorted({row[5] for row in table if sum(1 for x in table if x[4] == row[4]) > 1})
    n_areas = len({row[2] for row in table})
    slug = "gliederung-stadtbezirke-stadtraeume-stadtteile"
    rel = b.write_csv(
        f"gebiete/{slug}.csv",
        [
            "stadtbezirk_nr",
            "stadtbezirk",
            "stadtraum_nr",
            "stadtraum",
            "stadtteil_nr",
            "stadtteil",
            "urnenwahlbezirke",
        ],
        table,
    )
    b.dataset(
        slug,
        title=(
            "Gliederung: Stadtbezirke, Stadträume und Stadtteile",
            "Hierarchy of city districts, planning areas (Stadträume) and Stadtteile",
        ),
        description=(
            f"Welche Stadtteile zu welchem der {n_areas} Stadträume und welchem Stadtbezirk "
            f"gehören, nach der Zuordnung der Wahlbezirke zur {election.name_de} "
            f"({date_de(election.date)}), der letzten Wahl, für die die Kommunale "
            "Statistikstelle Stadträume angibt. Eine Zeile je Kombination aus Stadtbezirk, "
            "Stadtraum und Stadtteil; Spalten: stadtbezirk_nr, stadtbezirk, stadtraum_nr, "
            "stadtraum, stadtteil_nr, stadtteil, urnenwahlbezirke (Zahl der Urnenwahlbezirke "
            "der Kombination). Stadträume sind nicht immer ganze Stadtteile: "
            f"{', '.join(split)} verteilt sich auf zwei Stadträume. Für diesen Katalog aus den "
            "Wahlergebnissen nach Wahlbezirken berechnet.",
            f"Which Stadtteile belong to which of the {n_areas} planning areas (Stadträume) and "
            "city districts, by the assignment of the polling districts in the "
            f"{election.name_en} ({date_en(election.date)}), the last election for which the "
            "Municipal Statistics Office gives Stadträume. One row per combination of city "
            "district, Stadtraum and Stadtteil; columns: stadtbezirk_nr, stadtbezirk, "
            "stadtraum_nr, stadtraum, stadtteil_nr, stadtteil, urnenwahlbezirke (number of "
            "ballot-box districts of the combination). Stadträume are not always whole "
            f"Stadtteile: {', '.join(split)} is split between two. Computed for this catalogue "
            "from the election results by polling district.",
        ),
        org=PLANNING,
        keywords=(
            "Stadträume",
            "Stadtteile",
            "Stadtbezirke",
            "Gebietsgliederung",
            "Stadtentwicklung",
            "Planungsräume",
        ),
        themes=[theme("REGI"), theme("GOVE")],
        kind="CODE_LIST",
        modified=ELECTIONS_DATE,
        periodicity=frequency("IRREG"),
        period=(election.date, election.date),
        distributions=[
            b.dist(
                rel,
                (
                    "Gliederung Stadtbezirke – Stadträume – Stadtteile (CSV)",
                    "City districts – Stadträume – Stadtteile (CSV)",
                ),
                (
                    f"{len(table)} Zeilen (berechnet, Daten geändert).",
                    f"{len(table)} rows (computed, data changed).",
                ),
                DRESDEN_TERMS,
                conforms_to=[RFC_CSV],
            )
        ],
        sources=[b.iri("wahlergebnisse-wahlbezirke-1999-2024")],
        relations=[b.iri("stadtteile-dresden-2024"), b.iri("stadtbezirke-dresden-2024")],
    )
