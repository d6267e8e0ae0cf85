"""The data services: the DCAT-AP.de endpoint of this catalogue and the city's OGC API Features
service."""

from __future__ import annotations

from catalog import model
from odapp.demo.builder import Builder
from odapp.demo.organisations import CITY, GEODATA
from odapp.demo.sources import ELECTIONS_DATE, OGC_API
from odapp.demo.vocab import DCAT_AP_DE, EU, LICENCE_DL_BY, OGC_API_FEATURES


def add_services(b: Builder, modified: str) -> None:
    """The catalogue's own DCAT endpoint (serving every dataset so far) and the city's OGC API;
    ``modified``: the date of the newest record."""
    served = sorted(r.uri for r in b.resources if isinstance(r, model.Dataset) and r.uri)
    base = b.base
    b.service(
        "dcat-katalogschnittstelle",
        org=CITY,
        title=(
            "DCAT-AP.de-Schnittstelle dieses Katalogs (ODApp)",
            "DCAT-AP.de endpoint of this catalogue (ODApp)",
        ),
        description=(
            "Der ganze Katalog als DCAT-AP.de 3.0 für Harvester wie GovData: "
            f"{base}/catalog liefert je nach Accept-Header Turtle, RDF/XML, JSON-LD oder "
            f"N-Triples, {base}/catalog.ttl, .rdf, .jsonld und .nt das jeweilige Format. Große "
            "Kataloge kommen seitenweise (Parameter page, Hydra-Seitenverweise); "
            "modified_since=<ISO-8601-Zeitpunkt> liefert nur seither geänderte Einträge. Jeder "
            f"Datensatz einzeln: {base}/dataset/<Name>.ttl (ebenso .rdf, .jsonld, .nt).",
            "The whole catalogue as DCAT-AP.de 3.0 for harvesters such as GovData: "
            f"{base}/catalog returns Turtle, RDF/XML, JSON-LD or N-Triples by the Accept "
            f"header, {base}/catalog.ttl, .rdf, .jsonld and .nt that format. Large catalogues "
            "come in pages (parameter page, Hydra page links); modified_since=<ISO 8601 time> "
            "returns only the records changed since. Each dataset on its own: "
            f"{base}/dataset/<name>.ttl (also .rdf, .jsonld, .nt).",
        ),
        endpoint=f"{base}/catalog",
        endpoint_description=DCAT_AP_DE,
        conforms_to=[DCAT_AP_DE],
        formats=[
            f"{EU}file-type/{f}" for f in ("RDF_TURTLE", "RDF_XML", "JSON_LD", "RDF_N_TRIPLES")
        ],
        serves=served,
        licence=LICENCE_DL_BY,
        keywords=(
            "Metadaten",
            "Datenkatalog",
            "Schnittstelle",
            "DCAT-AP.de",
            "Harvesting",
            "Datensätze",
        ),
        modified=modified,
    )
    b.service(
        "ogc-api-features-dresden",
        org=GEODATA,
        title=(
            "OGC-API-Features-Dienst der Landeshauptstadt Dresden (kommisdd.dresden.de)",
            "OGC API Features service of the City of Dresden (kommisdd.dresden.de)",
        ),
        description=(
            "Geodatendienst der Stadt nach dem Standard OGC API – Features (Implementierung "
            "cardo WFS3Server): jede Sammlung (collection) liefert ihre Objekte als GeoJSON "
            "unter …/collections/<Kennung>/items. Aus ihm stammen die Wahlbezirke der "
            "Europawahl 2024 in diesem Katalog (Sammlung L1565, abgerufen am 15. Oktober 2024).",
            "The city's geodata service following OGC API – Features (cardo WFS3Server "
            "implementation): each collection returns its features as GeoJSON at "
            ".../collections/<id>/items. The polling districts of the 2024 European election in "
            "this catalogue come from it (collection L1565, retrieved on 15 October 2024).",
        ),
        endpoint=OGC_API,
        endpoint_description="https://www.cardogis.com/WFS3Server#items",
        conforms_to=[OGC_API_FEATURES],
        formats=[f"{EU}file-type/GEOJSON"],
        serves=[b.iri("wahlbezirke-europawahl-2024")],
        licence=LICENCE_DL_BY,
        keywords=(
            "Geodaten",
            "Geodatendienst",
            "Schnittstelle",
            "OGC API",
            "Wahlbezirke",
            "Geoinformation",
        ),
        modified=ELECTIONS_DATE,
    )
