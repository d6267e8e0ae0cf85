"""Areas (Amt für Geodaten und Kataster): the polling districts of the 2024 European election
(the city's file), and the Stadtteile and Stadtbezirke 2024 dissolved from them."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from catalog import model
from odapp.demo.builder import Builder
from odapp.demo.elections import ELECTIONS
from odapp.demo.geometry import area_km2, bbox_wkt, polygon_feature, surface_point
from odapp.demo.organisations import GEODATA
from odapp.demo.sources import (
    DEMO_DATA,
    DRESDEN_TERMS,
    ELECTIONS_DATE,
    ELECTIONS_REPO,
    OGC_API,
    POLLING_DISTRICTS,
)
from odapp.demo.text import date_de, date_en, num_de, num_en, split_code, split_district
from odapp.demo.vocab import CRS84, RFC_CSV, RFC_GEOJSON, frequency, theme

# the 2024 European election: the polling districts of the city's file are those of this election
EUROPEAN_2024 = next(e for e in ELECTIONS if (e.year, e.kind) == ("2024", "Europawahl"))


@dataclass
class Quarter:
    """A Stadtteil of 2024, dissolved from its polling districts."""

    nr: str
    name: str
    district_nr: str
    district: str
    geometry: BaseGeometry  # full resolution
    polling_districts: int


def add_areas(b: Builder, rows: list[dict[str, str]]) -> list[Quarter]:
    """Polling districts (original), Stadtteile and Stadtbezirke 2024 (dissolved from them);
    returns the Stadtteile at full resolution."""
    doc = json.loads((DEMO_DATA / POLLING_DISTRICTS).read_text(encoding="utf-8"))
    ballot = {
        r["Wahlbezirk"]: r
        for r in rows
        if (r["Jahr"], r["Wahlart"], r["Wahl-Form"]) == ("2024", "Europawahl", "Wahlbezirk_Urne")
    }
    pieces: dict[str, list[BaseGeometry]] = defaultdict(list)
    listing = []
    for f in doc["features"]:
        wb, label = f["properties"]["wb"], f["properties"]["wb_text"]
        geom = shape(f["geometry"])
        r = ballot[wb]
        nr, name = split_code(r["Stadtteil zus."])
        dnr, dname = split_district(r["Stadtbezirk mit zugeordneten Ortschaften"])
        pieces[r["Stadtteil zus."]].append(geom)
        listing.append(
            [wb, label, nr, name, dnr, dname, f"{area_km2(geom):.4f}", *surface_point(geom)]
        )
    listing.sort()
    quarters = []
    for key in sorted(pieces):
        nr, name = split_code(key)
        r = next(r for r in ballot.values() if r["Stadtteil zus."] == key)
        dnr, dname = split_district(r["Stadtbezirk mit zugeordneten Ortschaften"])
        quarters.append(
            Quarter(nr, name, dnr, dname, shapely.union_all(pieces[key]), len(pieces[key]))
        )
    bounds = shapely.union_all([q.geometry for q in quarters]).bounds
    geo: dict[str, Any] = {
        "org": GEODATA,
        "themes": [theme("REGI"), theme("GOVE")],
        "kind": "GEOSPATIAL",
        "conforms_to": [CRS84],
        "spatial_wkt": bbox_wkt(bounds),
        "modified": ELECTIONS_DATE,
        "period": (EUROPEAN_2024.date, EUROPEAN_2024.date),
    }
    _polling_districts(b, listing, geo)

    # Stadtteile and Stadtbezirke: union of the polling districts, simplified as a coverage so
    # neighbours keep sharing their edges
    simple = shapely.coverage_simplify([q.geometry for q in quarters], 5e-5)
    deviation = max(
        shapely.hausdorff_distance(q.geometry, s) for q, s in zip(quarters, simple, strict=True)
    )
    deviation_m = int(math.ceil(deviation * 111_320 / 5) * 5)
    areas = {q.nr: area_km2(q.geometry) for q in quarters}
    total_area = sum(areas.values())
    derived_de = (
        "Die Stadtteilflächen sind für diesen Katalog berechnet: Vereinigung der "
        "Urnenwahlbezirke der Europawahl 2024 "
        "nach dem Stadtteil, dem die Kommunale Statistikstelle sie in den Wahlergebnissen "
        "zuordnet; die Grenzen folgen also den Wahlbezirksgrenzen, es ist nicht die amtliche "
        f"Stadtteilkarte. Im GeoJSON sind die Grenzen vereinfacht (Abweichung bis etwa "
        f"{deviation_m} m; benachbarte Flächen behalten gemeinsame Kanten), die Flächen "
        f"(flaeche_km2) sind aus den unvereinfachten Grenzen auf der Kugel berechnet (Summe "
        f"{num_de(total_area, 1)} km²)."
    )
    derived_en = (
        "The Stadtteil areas were computed for this catalogue: union of the ballot-box "
        "polling districts of the 2024 "
        "European election by the Stadtteil the Municipal Statistics Office assigns them to in "
        "the election results; the boundaries therefore follow the polling districts, this is "
        "not the official map. In the GeoJSON the boundaries are simplified (deviation up to "
        f"about {deviation_m} m; neighbours keep their shared edges); the areas (flaeche_km2) "
        "are computed on the sphere from the unsimplified boundaries (total "
        f"{num_en(total_area, 1)} km²)."
    )
    derived = (derived_de, derived_en)
    _stadtteile(b, quarters, simple, areas, derived, geo)
    _stadtbezirke(b, quarters, simple, derived, geo)
    return quarters


def _polling_districts(b: Builder, listing: list[list[str]], geo: dict[str, Any]) -> None:
    """The city's file of the polling districts, and a table of them."""
    slug = "wahlbezirke-europawahl-2024"
    e = EUROPEAN_2024
    rel_geo = b.copy(POLLING_DISTRICTS, "gebiete")
    rel_csv = b.write_csv(
        f"gebiete/{slug}.csv",
        [
            "wahlbezirk",
            "bezeichnung",
            "stadtteil_nr",
            "stadtteil",
            "stadtbezirk_nr",
            "stadtbezirk",
            "flaeche_km2",
            "longitude",
            "latitude",
        ],
        listing,
    )
    b.dataset(
        slug,
        title=(
            "Wahlbezirke der Europawahl 2024",
            "Polling districts of the European Parliament election 2024",
        ),
        description=(
            f"Grenzen der {len(listing)} Urnenwahlbezirke Dresdens zur Europawahl am "
            f"{date_de(e.date)}, wie sie der OGC-API-Features-Dienst der Stadt "
            "(kommisdd.dresden.de, Sammlung L1565) am 15. Oktober 2024 ausgab: GeoJSON in WGS84 "
            "(Länge/Breite), je Wahlbezirk die Eigenschaften wb (fünfstellige Nummer, wie die "
            "Spalte „Wahlbezirk“ der Wahlergebnisse) und wb_text (Bezeichnung, z. B. "
            "„Pirnaische Vorstadt (Zirkusstr.)“). Briefwahlbezirke haben keine Fläche. Dazu eine "
            "für diesen Katalog berechnete Tabelle: wahlbezirk, bezeichnung, stadtteil_nr und "
            "stadtteil, stadtbezirk_nr und stadtbezirk (aus den Wahlergebnissen 2024), "
            "flaeche_km2 (Fläche, sphärisch berechnet) sowie longitude/latitude eines Punktes "
            "im Wahlbezirk (WGS84).",
            f"Boundaries of the {len(listing)} ballot-box polling districts of Dresden for the "
            f"European Parliament election on {date_en(e.date)}, as served by the city's "
            "OGC API Features service (kommisdd.dresden.de, collection L1565) on 15 October "
            "2024: GeoJSON in WGS84 (longitude/latitude), with the properties wb (five-digit "
            'number, as the column "Wahlbezirk" of the election results) and wb_text (name). '
            "Postal-vote districts have no area. Also a table computed for this catalogue: "
            "wahlbezirk, bezeichnung (name), stadtteil_nr and stadtteil, stadtbezirk_nr and "
            "stadtbezirk (from the 2024 results), flaeche_km2 (area, computed on the sphere) "
            "and longitude/latitude of a point inside the district (WGS84).",
        ),
        keywords=(
            "Wahlbezirke",
            "Europawahl",
            "Geodaten",
            "Gebietsgliederung",
            "Wahlen",
            "Grenzen",
            "Flächen",
        ),
        periodicity=frequency("NEVER"),
        distributions=[
            b.dist(
                rel_geo,
                ("Wahlbezirke Europawahl 2024 (GeoJSON)", "Polling districts 2024 (GeoJSON)"),
                (
                    "Originaldatei des OGC-API-Dienstes (3,4 MB, volle Auflösung; die "
                    "Geometrien tragen ein nicht standardgemäßes „crs“-Element).",
                    "Original file of the OGC API service (3.4 MB, full resolution; the "
                    'geometries carry a non-standard "crs" member).',
                ),
                DRESDEN_TERMS,
            ),
            b.dist(
                rel_csv,
                (
                    "Wahlbezirke Europawahl 2024 mit Stadtteil und Fläche (CSV)",
                    "Polling districts 2024 with Stadtteil and area (CSV)",
                ),
                (
                    f"{len(listing)} Zeilen, berechnet (Daten geändert).",
                    f"{len(listing)} rows, computed (data changed).",
                ),
                DRESDEN_TERMS,
                conforms_to=[RFC_CSV],
            ),
        ],
        relations=[
            f"{OGC_API}/collections/L1565/items",
            f"{ELECTIONS_REPO}/bezirke_e2024.geojson",
            b.iri(e.slug),
            b.iri("stadtteile-dresden-2024"),
            b.iri("ogc-api-features-dresden"),
        ],
        **geo,
    )


def _area_files(
    b: Builder,
    slug: str,
    features: list[dict],
    header: Sequence[str],
    rows: list[list[Any]],
    label: tuple[str, str],
) -> list[model.Distribution]:
    """The simplified areas as GeoJSON and their list as CSV, both computed."""
    rel_geo = b.write_geojson(f"gebiete/{slug}.geojson", features)
    rel_csv = b.write_csv(f"gebiete/{slug}.csv", header, rows)
    n = len(rows)
    return [
        b.dist(
            rel_geo,
            (f"{label[0]} (GeoJSON, vereinfacht)", f"{label[1]} (GeoJSON, simplified)"),
            (
                f"{n} Polygone, RFC 7946 (berechnet, Daten geändert).",
                f"{n} polygons, RFC 7946 (computed, data changed).",
            ),
            DRESDEN_TERMS,
            conforms_to=[RFC_GEOJSON],
        ),
        b.dist(
            rel_csv,
            (f"{label[0]} (CSV-Liste)", f"{label[1]} (CSV list)"),
            (f"{n} Zeilen (berechnet, Daten geändert).", f"{n} rows (computed, data changed)."),
            DRESDEN_TERMS,
            conforms_to=[RFC_CSV],
        ),
    ]


def _stadtteile(
    b: Builder,
    quarters: list[Quarter],
    simple: Sequence[BaseGeometry],
    areas: dict[str, float],
    derived: tuple[str, str],
    geo: dict[str, Any],
) -> None:
    derived_de, derived_en = derived
    features = [
        polygon_feature(
            s,
            {
                "stadtteil_nr": q.nr,
                "stadtteil": q.name,
                "stadtbezirk_nr": q.district_nr,
                "stadtbezirk": q.district,
                "flaeche_km2": round(areas[q.nr], 2),
                "urnenwahlbezirke": q.polling_districts,
            },
            q.nr,
        )
        for q, s in zip(quarters, simple, strict=True)
    ]
    rows = [
        [
            q.nr,
            q.name,
            q.district_nr,
            q.district,
            f"{areas[q.nr]:.2f}",
            q.polling_districts,
            *surface_point(q.geometry),
        ]
        for q in quarters
    ]
    header = [
        "stadtteil_nr",
        "stadtteil",
        "stadtbezirk_nr",
        "stadtbezirk",
        "flaeche_km2",
        "urnenwahlbezirke",
        "longitude",
        "latitude",
    ]
    slug = "stadtteile-dresden-2024"
    distributions = _area_files(
        b, slug, features, header, rows, ("Stadtteile 2024", "Stadtteile 2024")
    )
    b.dataset(
        slug,
        title=(
            "Stadtteile Dresden 2024 (aus den Wahlbezirken abgeleitet)",
            "Stadtteile (statistical districts) of Dresden 2024, derived from the polling "
            "districts",
        ),
        description=(
            f"Die {len(quarters)} statistischen Stadtteile Dresdens (Stand Europawahl 2024) als "
            "Flächen (GeoJSON, WGS84) und als Liste (CSV). Eigenschaften bzw. Spalten: "
            "stadtteil_nr (zweistellig, erste Ziffer = Stadtbezirk), stadtteil, "
            "stadtbezirk_nr, stadtbezirk (Stadtbezirk mit zugeordneten Ortschaften), "
            "flaeche_km2, urnenwahlbezirke (Anzahl 2024), in der CSV zusätzlich "
            f"longitude/latitude eines Punktes im Stadtteil. {derived_de}",
            f"The {len(quarters)} statistical districts (Stadtteile) of Dresden as of the 2024 "
            "European election, as areas (GeoJSON, WGS84) and as a list (CSV). Properties / "
            "columns: stadtteil_nr (two digits, the first is the city district), stadtteil "
            "(name), stadtbezirk_nr, stadtbezirk (city district with its assigned localities), "
            "flaeche_km2 (area), urnenwahlbezirke (number of polling districts 2024), in the "
            f"CSV also longitude/latitude of a point inside. {derived_en}",
        ),
        keywords=(
            "Stadtteile",
            "Gebietsgliederung",
            "Geodaten",
            "Grenzen",
            "Flächen",
            "Stadtbezirke",
        ),
        periodicity=frequency("IRREG"),
        distributions=distributions,
        sources=[
            b.iri("wahlbezirke-europawahl-2024"),
            b.iri("wahlergebnisse-wahlbezirke-1999-2024"),
        ],
        relations=[b.iri("stadtbezirke-dresden-2024"), b.iri("stadtteile-openstreetmap-2015")],
        **geo,
    )


def _stadtbezirke(
    b: Builder,
    quarters: list[Quarter],
    simple: Sequence[BaseGeometry],
    derived: tuple[str, str],
    geo: dict[str, Any],
) -> None:
    """The Stadtbezirke: union of their Stadtteile."""
    derived_de, derived_en = derived
    by_district: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(quarters):
        by_district[q.district_nr].append(i)
    district_features, district_rows = [], []
    for dnr in sorted(by_district):
        members = [quarters[i] for i in by_district[dnr]]
        full = shapely.union_all([q.geometry for q in members])
        simplified = shapely.union_all([simple[i] for i in by_district[dnr]])
        area = area_km2(full)
        ballot_count = sum(q.polling_districts for q in members)
        props = {
            "stadtbezirk_nr": dnr,
            "stadtbezirk": members[0].district,
            "flaeche_km2": round(area, 2),
            "stadtteile": len(members),
            "urnenwahlbezirke": ballot_count,
        }
        district_features.append(polygon_feature(simplified, props, dnr))
        district_rows.append(
            [
                dnr,
                members[0].district,
                f"{area:.2f}",
                len(members),
                " ".join(q.nr for q in members),
                ballot_count,
                *surface_point(full),
            ]
        )
    header = [
        "stadtbezirk_nr",
        "stadtbezirk",
        "flaeche_km2",
        "stadtteile",
        "stadtteil_nr",
        "urnenwahlbezirke",
        "longitude",
        "latitude",
    ]
    slug = "stadtbezirke-dresden-2024"
    distributions = _area_files(
        b,
        slug,
        district_features,
        header,
        district_rows,
        ("Stadtbezirke 2024", "City districts 2024"),
    )
    b.dataset(
        slug,
        title=(
            "Stadtbezirke Dresden 2024 mit zugeordneten Ortschaften",
            "City districts (Stadtbezirke) of Dresden 2024 with their assigned localities",
        ),
        description=(
            f"Die {len(district_rows)} Stadtbezirke Dresdens, wie die Kommunale Statistikstelle "
            "sie in den Wahlergebnissen 2024 verwendet (die Ortschaften sind einem benachbarten "
            "Stadtbezirk zugeordnet, z. B. „Klotzsche/nördliche Ortschaften“), als Flächen "
            "(GeoJSON, WGS84) und Liste (CSV). Eigenschaften bzw. Spalten: stadtbezirk_nr (0–9), "
            "stadtbezirk, flaeche_km2, stadtteile (Anzahl; in der CSV zusätzlich stadtteil_nr "
            "mit den Nummern, durch Leerzeichen getrennt), urnenwahlbezirke (Anzahl 2024), in "
            "der CSV auch longitude/latitude eines Punktes im Stadtbezirk. Die Flächen sind "
            f"die Vereinigung der Stadtteile 2024 dieses Katalogs. {derived_de}",
            f"The {len(district_rows)} city districts of Dresden as the Municipal Statistics "
            "Office uses them in the 2024 election results (the outlying localities are "
            'assigned to a neighbouring district, e.g. "Klotzsche/nördliche Ortschaften"), as '
            "areas (GeoJSON, WGS84) and a list (CSV). Properties / columns: stadtbezirk_nr "
            "(0–9), stadtbezirk (name), flaeche_km2 (area), stadtteile (number; the CSV also "
            "lists their numbers in stadtteil_nr, separated by spaces), urnenwahlbezirke "
            "(number of polling districts 2024), in the CSV also longitude/latitude of a point "
            "inside. The areas are the union of this catalogue's Stadtteile 2024. "
            f"{derived_en}",
        ),
        keywords=(
            "Stadtbezirke",
            "Ortschaften",
            "Gebietsgliederung",
            "Geodaten",
            "Grenzen",
            "Flächen",
        ),
        periodicity=frequency("IRREG"),
        distributions=distributions,
        sources=[b.iri("stadtteile-dresden-2024")],
        relations=[b.iri("wahlbeteiligung-stadtbezirke-1999-2024")],
        **geo,
    )
