"""The Stadtteile of Dresden as mapped in OpenStreetMap in 2015 (OK Lab Dresden's export)."""

from __future__ import annotations

import json

import shapely
from shapely.geometry import shape

from odapp.demo.builder import Builder
from odapp.demo.geometry import area_km2, bbox_wkt
from odapp.demo.organisations import GEODATA, osm_contributors
from odapp.demo.sources import DEMO_DATA, OSM_DATE, OSM_DISTRICTS, OSM_REPO, OSM_TERMS
from odapp.demo.vocab import AVAILABLE, CRS84, RFC_CSV, frequency, theme


def add_osm_stadtteile(b: Builder, current: set[str]) -> None:
    """The OK Lab file and a list of it; ``current``: the numbers of the Stadtteile 2024."""
    doc = json.loads((DEMO_DATA / OSM_DISTRICTS).read_text(encoding="utf-8"))
    table, geoms = [], []
    for f in doc["features"]:
        p = f["properties"]
        geom = shape(f["geometry"])
        geoms.append(geom)
        table.append(
            [
                p.get("ref", ""),
                p.get("name", ""),
                p.get("official_name", ""),
                p["@id"].removeprefix("relation/"),
                f"{area_km2(geom):.2f}",
            ]
        )
    table.sort()
    refs = {row[0] for row in table}
    only_osm, only_now = sorted(refs - current), sorted(current - refs)
    bounds = shapely.union_all(geoms).bounds
    slug = "stadtteile-openstreetmap-2015"
    rel_geo = b.copy(OSM_DISTRICTS, "gebiete")
    rel_csv = b.write_csv(
        f"gebiete/{slug}.csv",
        ["stadtteil_nr", "name", "official_name", "osm_relation", "flaeche_km2"],
        table,
    )
    b.dataset(
        slug,
        title=(
            "Stadtteile Dresden aus OpenStreetMap (Stand 2015)",
            "Stadtteile of Dresden from OpenStreetMap (2015)",
        ),
        description=(
            f"Die {len(table)} Stadtteilgrenzen (admin_level 11), wie sie am 23. August 2015 in "
            "OpenStreetMap erfasst waren (Overpass-Export des OK Lab Dresden; die OSM-Relationen "
            "nennen als Quelle die Kommunale Statistikstelle Dresden). GeoJSON in WGS84 mit den "
            "OSM-Eigenschaften, u. a. ref (Stadtteilnummer), name, official_name, @id "
            "(OSM-Relation). Dazu eine für diesen Katalog berechnete Liste: stadtteil_nr, name, "
            "official_name, osm_relation und flaeche_km2 (sphärisch berechnet). Nicht amtlich "
            "und nicht aktuell: die Ortschaften im Westen (u. a. Cossebaude, Gompitz) fehlen, "
            f"die Nummern {', '.join(only_osm)} gibt es in der heutigen Statistik nicht, "
            f"{', '.join(only_now)} fehlen hier. Aktuelle Grenzen: „Stadtteile Dresden 2024“.",
            f"The {len(table)} Stadtteil boundaries (admin_level 11) as mapped in OpenStreetMap "
            "on 23 August 2015 (Overpass export by OK Lab Dresden; the OSM relations name the "
            "Municipal Statistics Office of Dresden as their source). GeoJSON in WGS84 with the "
            "OSM properties, among them ref (Stadtteil number), name, official_name, @id (OSM "
            "relation). Also a list computed for this catalogue: stadtteil_nr, name, "
            "official_name, osm_relation and flaeche_km2 (area on the sphere). Neither official "
            "nor current: the localities in the west (e.g. Cossebaude, Gompitz) are missing, "
            f"the numbers {', '.join(only_osm)} no longer exist in the statistics, "
            f'{", ".join(only_now)} are missing here. Current boundaries: "Stadtteile Dresden '
            '2024".',
        ),
        org=GEODATA,
        keywords=("Stadtteile", "OpenStreetMap", "Gebietsgliederung", "Geodaten", "Grenzen"),
        themes=[theme("REGI")],
        kind="GEOSPATIAL",
        modified=OSM_DATE,
        periodicity=frequency("NEVER"),
        period=(OSM_DATE, OSM_DATE),
        availability=AVAILABLE,
        spatial_wkt=bbox_wkt(bounds),
        conforms_to=[CRS84],
        distributions=[
            b.dist(
                rel_geo,
                ("Stadtteile OSM 2015 (GeoJSON)", "Stadtteile OSM 2015 (GeoJSON)"),
                (
                    "Originaldatei (Overpass-Export), ODbL 1.0.",
                    "Original file (Overpass export), ODbL 1.0.",
                ),
                OSM_TERMS,
            ),
            b.dist(
                rel_csv,
                ("Stadtteile OSM 2015 (CSV-Liste)", "Stadtteile OSM 2015 (CSV list)"),
                (
                    f"{len(table)} Zeilen, aus dem GeoJSON berechnet; ODbL 1.0 wie die Quelle.",
                    f"{len(table)} rows, computed from the GeoJSON; ODbL 1.0 like the source.",
                ),
                OSM_TERMS,
                conforms_to=[RFC_CSV],
            ),
        ],
        originators=[osm_contributors()],
        relations=[OSM_REPO, b.iri("stadtteile-dresden-2024")],
        pages=["https://github.com/offenesdresden/GeoData"],
    )
