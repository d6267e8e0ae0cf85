"""The publishers of the demo records: the city, its offices and the two outside sources."""

from __future__ import annotations

from dataclasses import dataclass

from catalog import model
from odapp.demo.vocab import PUBLISHER_TYPE


@dataclass(frozen=True)
class Org:
    """A publisher and the role address that answers for its datasets."""

    iri: str
    name: str
    type: str
    contact_name: str
    contact_email: str
    homepage: str | None = None

    def agent(self) -> model.Agent:  # a fresh object per record: records never share nodes
        return model.Agent(
            uri=self.iri,
            name={"de": self.name},
            type=f"{PUBLISHER_TYPE}{self.type}",
            homepage=self.homepage,
        )

    def contact(self) -> model.ContactPoint:
        return model.ContactPoint(fn={"de": self.contact_name}, email=self.contact_email)


def _city_office(key: str, name: str, email: str) -> Org:
    return Org(
        f"https://www.dresden.de/#{key}",
        f"Landeshauptstadt Dresden, {name}",
        "LocalAuthority",
        f"Landeshauptstadt Dresden, {name}",
        f"mailto:{email}",
    )


CITY = Org(
    "https://www.dresden.de/",
    "Landeshauptstadt Dresden",
    "LocalAuthority",
    "Landeshauptstadt Dresden, Open-Data-Koordination",
    "mailto:opendata@dresden.de",
    "https://www.dresden.de/",
)
STATISTICS = _city_office(
    "kommunale-statistikstelle", "Kommunale Statistikstelle", "statistik@dresden.de"
)
GEODATA = _city_office(
    "amt-fuer-geodaten-und-kataster", "Amt für Geodaten und Kataster", "geodaten@dresden.de"
)
ENVIRONMENT = _city_office("umweltamt", "Umweltamt", "umweltamt@dresden.de")
ROADS = _city_office(
    "strassen-und-tiefbauamt", "Straßen- und Tiefbauamt", "strassen-tiefbauamt@dresden.de"
)
PLANNING = _city_office("stadtplanungsamt", "Stadtplanungsamt", "stadtplanungsamt@dresden.de")
SCHOOLS = _city_office("amt-fuer-schulen", "Amt für Schulen", "schulen@dresden.de")  # no data yet
VVO = Org(
    "https://www.vvo-online.de/",
    "Verkehrsverbund Oberelbe GmbH (VVO)",
    "Company",
    # questions about the copy in this catalogue go to the catalogue's operator
    "Landeshauptstadt Dresden, Open-Data-Koordination",
    "mailto:opendata@dresden.de",
    "https://www.vvo-online.de/",
)
LFULG = Org(
    "https://www.lfulg.sachsen.de/",
    "Sächsisches Landesamt für Umwelt, Landwirtschaft und Geologie (LfULG)",
    "RegionalAuthority",
    "Landeshauptstadt Dresden, Open-Data-Koordination",
    "mailto:opendata@dresden.de",
    "https://www.lfulg.sachsen.de/",
)
ORGANISATIONS = (CITY, STATISTICS, GEODATA, ENVIRONMENT, ROADS, PLANNING, SCHOOLS, VVO, LFULG)


def osm_contributors() -> model.Agent:
    return model.Agent(
        uri="https://www.openstreetmap.org/copyright",
        name={"de": "OpenStreetMap-Mitwirkende"},
        homepage="https://www.openstreetmap.org/",
    )
