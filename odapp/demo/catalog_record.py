"""The record of the demo catalogue itself."""

from __future__ import annotations

from catalog import model
from odapp.demo.geometry import DRESDEN_WKT
from odapp.demo.organisations import CITY
from odapp.demo.vocab import DEU, ENG, EU, LICENCE_DL_BY, STABLE


def catalog_record(base: str, modified: str) -> model.Catalog:
    """``base``: the catalogue's base URL without trailing slash; ``modified``: the date of the
    newest record (issued and modified of the catalogue)."""
    return model.Catalog(
        uri=f"{base}/catalog",
        title={"de": "Offene Daten Dresden (Demo)", "en": "Open Data Dresden (demo)"},
        description={
            "de": (
                "Demonstrationskatalog von ODApp mit echten offenen Daten aus Dresden: "
                "Wahlergebnisse 1999–2024 nach Wahlbezirken, Wahlbezirks-, Stadtteil- und "
                "Stadtbezirksgrenzen, Haltestellen des Verkehrsverbunds Oberelbe und "
                "Luftmesswerte des LfULG. Neben den Originaldateien enthält er Dateien, die "
                "ODApp daraus berechnet hat (gefiltert, zusammengefasst, verschnitten); jede "
                "Beschreibung nennt Quelle und Verfahren. Die Zuordnung der abgeleiteten "
                "Datensätze zu Ämtern der Stadtverwaltung ist beispielhaft. Für die Daten "
                "des VVO und des LfULG ist keine Lizenz angegeben: sie stehen hier nur zur "
                "Demonstration."
            ),
            "en": (
                "ODApp demonstration catalogue with real open data from Dresden: election "
                "results 1999–2024 by polling district, boundaries of polling districts, "
                "Stadtteile and city districts, public transport stops of the Verkehrsverbund "
                "Oberelbe and air-quality measurements of the LfULG. Besides the original "
                "files it holds files ODApp computed from them (filtered, aggregated, "
                "intersected); every description names the source and the method. Which "
                "city office publishes a derived dataset is illustrative. No licence is "
                "stated for the VVO and LfULG data: they are here for demonstration only."
            ),
        },
        publisher=CITY.agent(),
        issued=modified,
        modified=modified,
        languages=[DEU, ENG],
        homepage=f"{base}/",
        license=LICENCE_DL_BY,
        theme_taxonomies=[f"{EU}data-theme"],
        availability=STABLE,
        spatial=[model.Location(geometry=DRESDEN_WKT, bbox=DRESDEN_WKT)],
    )
