"""Public transport stops: the VVO's list (Verkehrsverbund Oberelbe), the stops and tram stops
in Dresden filtered from it (Straßen- und Tiefbauamt) and the stops per Stadtteil
(Stadtplanungsamt)."""

from __future__ import annotations

import csv
from typing import Any

import numpy as np
import shapely

from catalog import model
from odapp.demo.areas import Quarter
from odapp.demo.builder import Builder
from odapp.demo.geometry import area_km2, point_feature, points_bbox_wkt
from odapp.demo.organisations import PLANNING, ROADS, VVO
from odapp.demo.sources import (
    DEMO_DATA,
    DRESDEN_TERMS,
    VVO_DATE,
    VVO_REPO,
    VVO_SOURCE,
    VVO_STOPS,
    VVO_TERMS,
    Terms,
)
from odapp.demo.text import not_stated_note, num_de, num_en
from odapp.demo.vocab import (
    AVAILABLE,
    CRS84,
    DISTRICT_KEY,
    GEOCODING_LEVEL,
    RFC_CSV,
    RFC_GEOJSON,
    frequency,
    theme,
)

STOP_COLUMNS_DE = (
    "id (DHID, bundesweite Haltestellen-ID der Form de:<Kreisschlüssel>:<Nummer>), "
    "numeric_id (Nummer im VVO), name, city (Ort), name_with_city, latitude und longitude "
    "(WGS84), operators (Verkehrsunternehmen, z. B. DVB = Dresdner Verkehrsbetriebe), "
    "total_lines (Zahl der Linien), tram_lines, bus_lines, train_lines, s_bahn_lines "
    "(Liniennummern; mehrere Werte jeweils durch „|“ getrennt)"
)
STOP_COLUMNS_EN = (
    "id (DHID, the German stop ID de:<district key>:<number>), numeric_id (VVO number), name, "
    "city (place), name_with_city, latitude and longitude (WGS84), operators (transport "
    "companies, e.g. DVB = Dresdner Verkehrsbetriebe), total_lines (number of lines), "
    "tram_lines, bus_lines, train_lines, s_bahn_lines (line numbers; several values separated "
    'by "|")'
)
LICENCE_NOTE = not_stated_note("der Verkehrsverbund Oberelbe GmbH", "Verkehrsverbund Oberelbe GmbH")
TRANSIT_FIELDS: dict[str, Any] = {
    "themes": (theme("TRAN"),),
    "modified": VVO_DATE,
    "availability": AVAILABLE,
}


def add_transit(b: Builder, quarters: list[Quarter]) -> None:
    """The VVO's list, the stops and tram stops in Dresden, the stops per Stadtteil."""
    with (DEMO_DATA / VVO_STOPS).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        stops = list(reader)
    _vvo_stops(b, stops)
    # stops inside the city: district key 14612 (also the localities, whose "city" differs)
    dresden = sorted((s for s in stops if s["id"].split(":")[1] == "14612"), key=lambda s: s["id"])
    derived: dict[str, Any] = {
        "org": ROADS,
        "kind": "GEOSPATIAL",
        "conforms_to": [CRS84],
        "periodicity": frequency("IRREG"),
        "period": (VVO_DATE, VVO_DATE),
        "originators": [VVO.agent()],
        "sources": [b.iri("haltestellen-vvo")],
        **TRANSIT_FIELDS,
    }
    _dresden_stops(b, dresden, header, derived)
    _tram_stops(b, [s for s in dresden if s["tram_lines"]], header, derived)
    _stops_per_quarter(b, dresden, quarters)


def _bbox(stops: list[dict[str, str]]) -> str:
    return points_bbox_wkt(
        [float(s["longitude"]) for s in stops], [float(s["latitude"]) for s in stops]
    )


def _vvo_stops(b: Builder, stops: list[dict[str, str]]) -> None:
    """The VVO's list, unchanged."""
    districts = sorted({s["id"].split(":")[1] for s in stops})
    rel = b.copy(VVO_STOPS, "verkehr")
    b.dataset(
        "haltestellen-vvo",
        title=(
            "Haltestellen im Verkehrsverbund Oberelbe (VVO)",
            "Public transport stops of the Verkehrsverbund Oberelbe (VVO)",
        ),
        description=(
            f"Alle {num_de(len(stops))} Haltestellen von Bus, Straßenbahn, S-Bahn und Zug "
            "im Gebiet des VVO (Dresden und Umland) mit Lage, Verkehrsunternehmen und "
            "Linien, Stand 24. Juli 2026. Die Tabelle erzeugt das Projekt kiliankoe/vvo "
            "regelmäßig aus der Open-Data-Datei VVO_STOPS.JSON des VVO; sie liegt hier "
            f"unverändert. Spalten: {STOP_COLUMNS_DE}. Kreisschlüssel in den IDs: "
            f"{', '.join(districts)}. {LICENCE_NOTE[0]}",
            f"All {num_en(len(stops))} bus, tram, suburban rail and train stops in the "
            "VVO area (Dresden and its region) with location, operators and lines, as of 24 "
            "July 2026. The table is generated regularly by the project kiliankoe/vvo from the "
            "VVO open-data file VVO_STOPS.JSON and is unchanged here. Columns: "
            f"{STOP_COLUMNS_EN}. District keys in the IDs: {', '.join(districts)}. "
            f"{LICENCE_NOTE[1]}",
        ),
        org=VVO,
        keywords=(
            "Haltestellen",
            "ÖPNV",
            "Öffentlicher Nahverkehr",
            "Straßenbahn",
            "Bus",
            "S-Bahn",
            "Verkehrsverbund Oberelbe",
        ),
        kind="DIRECTORY",
        periodicity=frequency("IRREG"),
        period=(VVO_DATE, VVO_DATE),
        spatial_wkt=_bbox(stops),
        geocoding=(
            f"{GEOCODING_LEVEL}administrativeDistrict",
            [f"{DISTRICT_KEY}{d}" for d in districts],
        ),
        distributions=[
            b.dist(
                rel,
                ("Haltestellen VVO (CSV)", "VVO stops (CSV)"),
                (
                    "Originaldatei (data/stations.csv des Projekts kiliankoe/vvo). "
                    + LICENCE_NOTE[0],
                    "Original file (data/stations.csv of the project kiliankoe/vvo). "
                    + LICENCE_NOTE[1],
                ),
                VVO_TERMS,
                conforms_to=[RFC_CSV],
            )
        ],
        relations=[VVO_SOURCE, VVO_REPO, b.iri("haltestellen-dresden")],
        pages=["https://github.com/kiliankoe/vvo"],
        **TRANSIT_FIELDS,
    )


def _stop_files(
    b: Builder,
    slug: str,
    stops: list[dict[str, str]],
    header: list[str],
    label: tuple[str, str],
    rows: tuple[str, str],
) -> tuple[model.Distribution, model.Distribution]:
    """The stops as CSV (all columns of the source) and as GeoJSON points; ``rows`` names the
    CSV rows (German, English)."""
    keep = ("name", "city", "operators", "tram_lines", "bus_lines", "train_lines", "s_bahn_lines")
    features = [
        point_feature(
            float(s["longitude"]),
            float(s["latitude"]),
            {"id": s["id"], **{k: s[k] for k in keep}, "total_lines": int(s["total_lines"] or 0)},
            s["id"],
        )
        for s in stops
    ]
    rel_csv = b.write_csv(f"verkehr/{slug}.csv", header, ([s[c] for c in header] for s in stops))
    rel_geo = b.write_geojson(f"verkehr/{slug}.geojson", features)
    n = len(stops)
    csv_dist = b.dist(
        rel_csv,
        (f"{label[0]} (CSV)", f"{label[1]} (CSV)"),
        (
            f"{n} {rows[0]} (Daten geändert). {LICENCE_NOTE[0]}",
            f"{n} {rows[1]} (data changed). {LICENCE_NOTE[1]}",
        ),
        VVO_TERMS,
        conforms_to=[RFC_CSV],
    )
    geo_dist = b.dist(
        rel_geo,
        (f"{label[0]} (GeoJSON)", f"{label[1]} (GeoJSON)"),
        (
            f"{n} Punkte, RFC 7946 (Daten geändert). {LICENCE_NOTE[0]}",
            f"{n} points, RFC 7946 (data changed). {LICENCE_NOTE[1]}",
        ),
        VVO_TERMS,
        conforms_to=[RFC_GEOJSON],
    )
    return csv_dist, geo_dist


def _dresden_stops(
    b: Builder, dresden: list[dict[str, str]], header: list[str], derived: dict[str, Any]
) -> None:
    named = sum(1 for s in dresden if s["city"] == "Dresden")
    slug = "haltestellen-dresden"
    csv_dist, geo_dist = _stop_files(
        b,
        slug,
        dresden,
        header,
        ("Haltestellen Dresden", "Stops in Dresden"),
        ("Zeilen, gefiltert", "rows, filtered"),
    )
    b.dataset(
        slug,
        title=(
            "Haltestellen des öffentlichen Nahverkehrs in Dresden",
            "Public transport stops in Dresden",
        ),
        description=(
            f"Die {len(dresden)} Haltestellen des VVO im Stadtgebiet Dresden (Kreisschlüssel "
            f"14612 in der Haltestellen-ID), davon {named} mit dem Ortsnamen „Dresden“ und "
            f"{len(dresden) - named} in den Ortschaften (z. B. Weixdorf, Langebrück, Weißig, "
            "Cossebaude, Gompitz). Vom Straßen- und Tiefbauamt für diesen Katalog aus der "
            "Haltestellenliste des Verkehrsverbunds Oberelbe (VVO, Stand 24. Juli 2026) "
            "gefiltert; Urheber der Daten ist der VVO. Als CSV mit allen Spalten der Quelle "
            f"({STOP_COLUMNS_DE}) und als GeoJSON (Punkte in WGS84, gleiche Eigenschaften ohne "
            f"numeric_id und name_with_city). {LICENCE_NOTE[0]}",
            f"The {len(dresden)} VVO stops within the city of Dresden (district key 14612 in "
            f'the stop ID): {named} with the place name "Dresden" and {len(dresden) - named} '
            "in the outlying localities (e.g. Weixdorf, Langebrück, Weißig, Cossebaude, "
            "Gompitz). Filtered for this catalogue by the Roads and Civil Engineering Office "
            "from the stop list of the Verkehrsverbund Oberelbe (VVO, as of 24 July 2026); the "
            "data is the VVO's. As CSV with all columns of the source ("
            f"{STOP_COLUMNS_EN}) and as GeoJSON (points in WGS84, same properties without "
            f"numeric_id and name_with_city). {LICENCE_NOTE[1]}",
        ),
        keywords=(
            "Haltestellen",
            "ÖPNV",
            "Öffentlicher Nahverkehr",
            "Straßenbahn",
            "Bus",
            "Mobilität",
        ),
        spatial_wkt=_bbox(dresden),
        distributions=[csv_dist, geo_dist],
        relations=[
            b.iri("strassenbahnhaltestellen-dresden"),
            b.iri("haltestellen-nach-stadtteilen"),
        ],
        **derived,
    )


def _tram_stops(
    b: Builder, trams: list[dict[str, str]], header: list[str], derived: dict[str, Any]
) -> None:
    slug = "strassenbahnhaltestellen-dresden"
    csv_dist, geo_dist = _stop_files(
        b, slug, trams, header, ("Straßenbahnhaltestellen", "Tram stops"), ("Zeilen", "rows")
    )
    lines = sorted(
        {n for s in trams for n in s["tram_lines"].split("|")}, key=lambda x: (len(x), x)
    )
    b.dataset(
        slug,
        title=("Straßenbahnhaltestellen in Dresden", "Tram stops in Dresden"),
        description=(
            f"Die {len(trams)} Haltestellen im Stadtgebiet Dresden, an denen laut VVO "
            f"Straßenbahnlinien halten (Linien {', '.join(lines)}), als GeoJSON-Punkte (WGS84) "
            "und CSV. Vom Straßen- und Tiefbauamt für diesen Katalog aus der Haltestellenliste "
            "des VVO (Stand 24. Juli 2026) gefiltert: Haltestellen mit Kreisschlüssel 14612 "
            f"und nicht leerer Spalte tram_lines; Urheber der Daten ist der VVO. Spalten: "
            f"{STOP_COLUMNS_DE}. {LICENCE_NOTE[0]}",
            f"The {len(trams)} stops within Dresden served by tram lines according to the VVO "
            f"(lines {', '.join(lines)}), as GeoJSON points (WGS84) and CSV. Filtered for this "
            "catalogue by the Roads and Civil Engineering Office from the VVO stop list (as of "
            "24 July 2026): stops with district key 14612 and a non-empty tram_lines column; "
            f"the data is the VVO's. Columns: {STOP_COLUMNS_EN}. {LICENCE_NOTE[1]}",
        ),
        keywords=(
            "Straßenbahn",
            "Haltestellen",
            "ÖPNV",
            "Öffentlicher Nahverkehr",
            "Schienenverkehr",
        ),
        spatial_wkt=_bbox(trams),
        distributions=[geo_dist, csv_dist],
        relations=[b.iri("haltestellen-dresden")],
        **derived,
    )


def _stops_per_quarter(b: Builder, stops: list[dict[str, str]], quarters: list[Quarter]) -> None:
    xs = np.array([float(s["longitude"]) for s in stops])
    ys = np.array([float(s["latitude"]) for s in stops])
    tram = np.array([bool(s["tram_lines"]) for s in stops])
    placed = np.zeros(len(stops), dtype=bool)
    table = []
    for q in quarters:
        shapely.prepare(q.geometry)
        inside = shapely.contains_xy(q.geometry, xs, ys) & ~placed
        placed |= inside
        n, n_tram = int(inside.sum()), int((inside & tram).sum())
        area = area_km2(q.geometry)
        table.append([q.nr, q.name, q.district, f"{area:.2f}", n, n_tram, f"{n / area:.2f}"])
    unplaced = int((~placed).sum())
    slug = "haltestellen-nach-stadtteilen"
    rel = b.write_csv(
        f"verkehr/{slug}.csv",
        [
            "stadtteil_nr",
            "stadtteil",
            "stadtbezirk",
            "flaeche_km2",
            "haltestellen",
            "haltestellen_strassenbahn",
            "haltestellen_je_km2",
        ],
        table,
    )
    b.dataset(
        slug,
        title=("ÖPNV-Haltestellen nach Stadtteilen", "Public transport stops by Stadtteil"),
        description=(
            f"Zahl der Haltestellen des öffentlichen Nahverkehrs in jedem der {len(table)} "
            "Stadtteile Dresdens, als einfacher Indikator der ÖPNV-Erschließung. Vom "
            "Stadtplanungsamt für diesen Katalog berechnet: die Haltestellen des VVO im "
            "Stadtgebiet (Stand 24. Juli 2026) wurden den Stadtteilgrenzen 2024 (aus den "
            "Wahlbezirken abgeleitet) zugeordnet. Spalten: stadtteil_nr, stadtteil, "
            "stadtbezirk, flaeche_km2, haltestellen, haltestellen_strassenbahn (Haltestellen "
            "mit Straßenbahnlinien), haltestellen_je_km2. Haltestellen außerhalb aller "
            f"Stadtteilflächen: {unplaced}. Urheber der Haltestellendaten ist der VVO. "
            f"{LICENCE_NOTE[0]}",
            f"Number of public transport stops in each of the {len(table)} Stadtteile of "
            "Dresden, a simple indicator of public transport coverage. Computed for this "
            "catalogue by the City Planning Office: the VVO stops within the city (as of 24 "
            "July 2026) were assigned to the Stadtteil boundaries 2024 (derived from the "
            "polling districts). Columns: stadtteil_nr, stadtteil, stadtbezirk, flaeche_km2 "
            "(area), haltestellen (stops), haltestellen_strassenbahn (stops with tram lines), "
            f"haltestellen_je_km2 (stops per km²). Stops outside every Stadtteil: {unplaced}. "
            f"The stop data is the VVO's. {LICENCE_NOTE[1]}",
        ),
        org=PLANNING,
        keywords=(
            "Haltestellen",
            "ÖPNV",
            "Erschließung",
            "Stadtteile",
            "Stadtentwicklung",
            "Straßenbahn",
        ),
        kind="STATISTICAL",
        periodicity=frequency("IRREG"),
        period=(VVO_DATE, VVO_DATE),
        distributions=[
            b.dist(
                rel,
                ("Haltestellen nach Stadtteilen (CSV)", "Stops by Stadtteil (CSV)"),
                (
                    f"{len(table)} Zeilen (berechnet, Daten geändert). {LICENCE_NOTE[0]}",
                    f"{len(table)} rows (computed, data changed). {LICENCE_NOTE[1]}",
                ),
                Terms(
                    VVO_TERMS.licence,
                    f"{VVO_TERMS.attribution}; {DRESDEN_TERMS.attribution}",
                    VVO_DATE,
                ),
                conforms_to=[RFC_CSV],
            )
        ],
        sources=[b.iri("haltestellen-dresden"), b.iri("stadtteile-dresden-2024")],
        originators=[VVO.agent()],
        relations=[b.iri("stadtteile-dresden-2024")],
        **TRANSIT_FIELDS,
    )
