"""The catalogue's own DCAT record: stored (``odapp demo``, imports) or built from the settings."""

from __future__ import annotations

from catalog import model
from catalog.namespaces import EU
from catalog.store import Store
from odapp.settings import Settings

DRESDEN_BBOX = (
    "POLYGON((13.579 50.974, 13.966 50.974, 13.966 51.178, 13.579 51.178, 13.579 50.974))"
)


def default_catalog(settings: Settings) -> model.Catalog:
    base = settings.base_url
    overrides = settings.catalog
    return model.Catalog(
        uri=f"{base}/catalog",
        title=overrides.get("title", {"de": "Offene Daten Dresden", "en": "Open Data Dresden"}),
        description=overrides.get(
            "description",
            {
                "de": "Offene Daten der Landeshauptstadt Dresden und ihrer Partner.",
                "en": "Open data of the City of Dresden and its partners.",
            },
        ),
        publisher=model.Agent(
            uri=overrides.get("publisher_uri", "https://www.dresden.de/"),
            name={"de": overrides.get("publisher_name", "Landeshauptstadt Dresden")},
            type="http://purl.org/adms/publishertype/LocalAuthority",
        ),
        languages=[f"{EU}language/DEU", f"{EU}language/ENG"],
        homepage=f"{base}/",
        license="http://dcat-ap.de/def/licenses/dl-by-de/2.0",
        theme_taxonomies=[f"{EU}data-theme"],
        spatial=[model.Location(geometry=DRESDEN_BBOX)],
    )


def current_catalog(store: Store, settings: Settings) -> model.Catalog:
    return store.catalog() or default_catalog(settings)
