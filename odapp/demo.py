"""The ``odapp demo`` catalogue: real Dresden open data, files computed from it, and complete
DCAT-AP.de 3.0 records for all of them.

The seven input files in ``odapp/demo_data`` are byte copies of real data (origin, commit and
licence of each in ``demo_data/SOURCES.md``). :func:`build_demo` copies them into the files
directory, derives further files from them (per-election tables, turnout per Stadtteil and
Stadtbezirk, district boundaries dissolved from the polling districts, the stops inside Dresden,
daily air-quality means, ...) and describes every one of them.

The build is deterministic: no clock, no randomness, sorted output. Two calls give equal records
and byte-identical files.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from statistics import fmean
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from catalog import model

DATA_DIR = Path(__file__).resolve().parent / "demo_data"

# --- vocabularies ----------------------------------------------------------------------------

EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
PUBLISHER_TYPE = "http://purl.org/adms/publishertype/"
LICENCE_DL_BY = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
LICENCE_ODBL = "http://dcat-ap.de/def/licenses/odbl"
# No licence is stated for the VVO and LfULG files: "other-closed" (no open licence known) is
# the only honest entry of the dcat-ap.de list for them.
LICENCE_NOT_STATED = "http://dcat-ap.de/def/licenses/other-closed"
ATTRIBUTION_DRESDEN = "Landeshauptstadt Dresden, opendata.dresden.de"
ATTRIBUTION_OSM = "© OpenStreetMap-Mitwirkende"
ATTRIBUTION_VVO = "Verkehrsverbund Oberelbe GmbH (VVO)"
ATTRIBUTION_LFULG = "Sächsisches Landesamt für Umwelt, Landwirtschaft und Geologie (LfULG)"

GEOCODING_LEVEL = "http://dcat-ap.de/def/politicalGeocoding/Level/"
REGIONAL_KEY_DRESDEN = "http://dcat-ap.de/def/politicalGeocoding/regionalKey/146120000000"
DISTRICT_KEY = "http://dcat-ap.de/def/politicalGeocoding/districtKey/"
# Dresden has no contributorID of its own; the Land's one is the Saxon entry of the list.
CONTRIBUTOR_ID = "http://dcat-ap.de/def/contributors/freistaatSachsen"

STABLE = f"{EU}planned-availability/STABLE"
AVAILABLE = f"{EU}planned-availability/AVAILABLE"
PUBLIC = f"{EU}access-right/PUBLIC"
COMPLETED = f"{EU}distribution-status/COMPLETED"
DEU, ENG = f"{EU}language/DEU", f"{EU}language/ENG"
SHA256 = "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
RFC_GEOJSON = "https://www.rfc-editor.org/rfc/rfc7946"
RFC_CSV = "https://www.rfc-editor.org/rfc/rfc4180"
DCAT_AP_DE = "https://www.dcat-ap.de/def/dcatde/3.0/spec/"
OGC_API_FEATURES = "http://www.opengis.net/doc/IS/ogcapi-features-1/1.0"

FORMATS = {  # suffix -> (EU file type, IANA media type)
    ".csv": (f"{EU}file-type/CSV", f"{IANA}text/csv"),
    ".geojson": (f"{EU}file-type/GEOJSON", f"{IANA}application/geo+json"),
}

DRESDEN_BOUNDS = (13.579, 50.974, 13.966, 51.178)


GEODCATAP_ORIGINATOR = "http://data.europa.eu/930/originator"


def theme(code: str) -> str:
    return f"{EU}data-theme/{code}"


def frequency(code: str) -> str:
    return f"{EU}frequency/{code}"


def dataset_type(code: str) -> str:
    return f"{EU}dataset-type/{code}"


# --- organisations ---------------------------------------------------------------------------


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
            uri=self.iri, name={"de": self.name}, type=f"{PUBLISHER_TYPE}{self.type}",
            homepage=self.homepage,
        )

    def contact(self) -> model.ContactPoint:
        return model.ContactPoint(fn={"de": self.contact_name}, email=self.contact_email)


def _city_office(key: str, name: str, email: str) -> Org:
    return Org(
        f"https://www.dresden.de/#{key}", f"Landeshauptstadt Dresden, {name}", "LocalAuthority",
        f"Landeshauptstadt Dresden, {name}", f"mailto:{email}",
    )


CITY = Org(
    "https://www.dresden.de/", "Landeshauptstadt Dresden", "LocalAuthority",
    "Landeshauptstadt Dresden, Open-Data-Koordination", "mailto:opendata@dresden.de",
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
    "https://www.vvo-online.de/", "Verkehrsverbund Oberelbe GmbH (VVO)", "Company",
    # questions about the copy in this catalogue go to the catalogue's operator
    "Landeshauptstadt Dresden, Open-Data-Koordination", "mailto:opendata@dresden.de",
    "https://www.vvo-online.de/",
)
LFULG = Org(
    "https://www.lfulg.sachsen.de/",
    "Sächsisches Landesamt für Umwelt, Landwirtschaft und Geologie (LfULG)", "RegionalAuthority",
    "Landeshauptstadt Dresden, Open-Data-Koordination", "mailto:opendata@dresden.de",
    "https://www.lfulg.sachsen.de/",
)
ORGANISATIONS = (CITY, STATISTICS, GEODATA, ENVIRONMENT, ROADS, PLANNING, SCHOOLS, VVO, LFULG)


def _osm_contributors() -> model.Agent:
    return model.Agent(
        uri="https://www.openstreetmap.org/copyright", name={"de": "OpenStreetMap-Mitwirkende"},
        homepage="https://www.openstreetmap.org/",
    )


# --- the input files -------------------------------------------------------------------------

ELECTIONS_CSV = "wahlergebnisse_1999-2024_wahlbezirke.csv"
POLLING_DISTRICTS = "wahlbezirke_europawahl2024.geojson"
OSM_DISTRICTS = "stadtteile_dresden_osm2015.geojson"
VVO_STOPS = "vvo_haltestellen.csv"
AIR_STATIONS = (  # file, station name
    ("luft_2019-02_Dresden-Nord.csv", "Dresden-Nord"),
    ("luft_2019-02_Dresden-Bergstrasse.csv", "Dresden-Bergstraße"),
    ("luft_2019-02_Dresden-Winckelmannstr.csv", "Dresden-Winckelmannstraße"),
)

ELECTIONS_SOURCE = (
    "https://opendata.dresden.de/duva2dcat/dataset/de-sn-dresden-wahlen_1999_-_2019_ohne_ob-"
    "wahlen_od_wahlen_wahlbezirk_stadtteil_stadtraum/content.csv"
)
ELECTIONS_REPO = (
    "https://github.com/offenesdresden/wahlbezirke/blob/a897c9f11be6e8aa635ec025794ec7ad04357e77"
)
OGC_API = "https://kommisdd.dresden.de/net4/public/ogcapi"
OSM_REPO = (
    "https://github.com/offenesdresden/GeoData/blob/f47f9ba51194e39ad669aae14fa610c2bf35d339/"
    "Stadtteile-Dresden.geojson"
)
VVO_SOURCE = "https://www.vvo-online.de/open_data/VVO_STOPS.JSON"
VVO_REPO = (
    "https://github.com/kiliankoe/vvo/blob/8be894356c0d84917ca1a1e8b7f90b15e4b23a32/"
    "data/stations.csv"
)
AIR_SOURCE = "https://www.umwelt.sachsen.de/umwelt/infosysteme/luftonline/recherche.aspx"
AIR_REPO = (
    "https://github.com/offenesdresden/Luftqualitaet-data/tree/"
    "6f30fceca2b9c962a60d452b4f45677a58434963/joint/2019/02"
)

# dates of the source snapshots (the records' issued/modified dates: fixed, never "now")
ELECTIONS_DATE = "2024-10-15"
OSM_DATE = "2015-08-23"
VVO_DATE = "2026-07-24"
AIR_DATE = "2019-03-24"


@dataclass(frozen=True)
class Election:
    year: str
    kind: str  # "Wahlart" as in the source
    date: str
    name_de: str
    name_en: str
    keywords: tuple[str, ...]

    @property
    def slug(self) -> str:
        kind = {"Stadtbezirks- und Ortschaftsratswahl": "stadtbezirks-und-ortschaftsratswahl"}
        return f"wahlergebnisse-{kind.get(self.kind, self.kind.lower())}-{self.year}"

    @property
    def votes_per_voter(self) -> int:  # council elections: up to three votes each
        return 3 if self.kind in ("Kommunalwahl", "Stadtbezirks- und Ortschaftsratswahl") else 1


# The per-election datasets of the series (the full table holds all 25 elections since 1999).
ELECTIONS = (
    Election("2019", "Europawahl", "2019-05-26", "Europawahl 2019",
             "European Parliament election 2019", ("Europawahl", "Europäisches Parlament")),
    Election("2019", "Kommunalwahl", "2019-05-26", "Kommunalwahl (Stadtratswahl) 2019",
             "municipal election (city council) 2019", ("Kommunalwahl", "Stadtrat")),
    Election("2019", "Stadtbezirks- und Ortschaftsratswahl", "2019-05-26",
             "Stadtbezirksbeirats- und Ortschaftsratswahl 2019",
             "election of the district and local councils 2019",
             ("Stadtbezirksbeirat", "Ortschaftsrat", "Kommunalwahl")),
    Election("2019", "Landtagswahl", "2019-09-01", "Landtagswahl 2019",
             "Saxon state election 2019", ("Landtagswahl", "Sächsischer Landtag")),
    Election("2021", "Bundestagswahl", "2021-09-26", "Bundestagswahl 2021",
             "federal election 2021", ("Bundestagswahl", "Bundestag")),
    Election("2024", "Europawahl", "2024-06-09", "Europawahl 2024",
             "European Parliament election 2024", ("Europawahl", "Europäisches Parlament")),
    Election("2024", "Kommunalwahl", "2024-06-09", "Kommunalwahl (Stadtratswahl) 2024",
             "municipal election (city council) 2024", ("Kommunalwahl", "Stadtrat")),
    Election("2024", "Landtagswahl", "2024-09-01", "Landtagswahl 2024",
             "Saxon state election 2024", ("Landtagswahl", "Sächsischer Landtag")),
)
FIRST_ELECTION_DATE = "1999-06-13"  # European and municipal elections 1999

PARTY_COLUMNS = (  # source column, short name in derived files
    ("Stimmen CDU", "cdu"), ("Stimmen SPD", "spd"), ("Stimmen Die Linke", "die_linke"),
    ("Stimmen FDP", "fdp"), ("Stimmen Grüne", "gruene"), ("Stimmen AfD", "afd"),
    ("Stimmen Piraten", "piraten"), ("Stimmen Rechte Parteien", "rechte_parteien"),
    ("Stimmen sonstiger Parteien", "sonstige"),
)

# Every column of the election table: (name, German, English)
RESULT_COLUMNS = (
    ("Jahr", "„Jahr“", "\"Jahr\" (year)"),
    ("Stadtbezirk mit zugeordneten Ortschaften",
     "„Stadtbezirk mit zugeordneten Ortschaften“ (z. B. „StB 1 Neustadt“; die Ortschaften sind "
     "einem benachbarten Stadtbezirk zugeordnet)",
     "\"Stadtbezirk mit zugeordneten Ortschaften\" (city district, e.g. \"StB 1 Neustadt\"; "
     "the outlying localities are assigned to a neighbouring district)"),
    ("Stadtraum", "„Stadtraum“ (einer von 17 Stadträumen mit Nummer)",
     "\"Stadtraum\" (one of 17 planning areas, with number)"),
    ("Wahlart", "„Wahlart“", "\"Wahlart\" (kind of election)"),
    ("Wahlbezirk", "„Wahlbezirk“ (fünfstellige Nummer)",
     "\"Wahlbezirk\" (five-digit polling district number)"),
    ("Wahlberechtigte", "„Wahlberechtigte“", "\"Wahlberechtigte\" (eligible voters)"),
    ("Wahlberechtigte mit WS", "„Wahlberechtigte mit WS“ (mit Wahlschein, meist für die "
     "Briefwahl)", "\"Wahlberechtigte mit WS\" (of these with a polling card, mostly postal "
     "voters)"),
    ("Wähler", "„Wähler“", "\"Wähler\" (voters)"),
    ("Wähler mit WS", "„Wähler mit WS“", "\"Wähler mit WS\" (voters with a polling card)"),
    ("Stimmen ungültig", "„Stimmen ungültig“", "\"Stimmen ungültig\" (invalid votes)"),
    ("Stimmen gültig", "„Stimmen gültig“", "\"Stimmen gültig\" (valid votes)"),
    ("Stimmen CDU", "„Stimmen CDU“", "\"Stimmen CDU\""),
    ("Stimmen SPD", "„Stimmen SPD“", "\"Stimmen SPD\""),
    ("Stimmen Die Linke", "„Stimmen Die Linke“", "\"Stimmen Die Linke\""),
    ("Stimmen FDP", "„Stimmen FDP“", "\"Stimmen FDP\""),
    ("Stimmen Grüne", "„Stimmen Grüne“", "\"Stimmen Grüne\""),
    ("Stimmen AfD", "„Stimmen AfD“", "\"Stimmen AfD\""),
    ("Stimmen Piraten", "„Stimmen Piraten“", "\"Stimmen Piraten\""),
    ("Stimmen Rechte Parteien", "„Stimmen Rechte Parteien“ (von der Quelle zusammengefasst)",
     "\"Stimmen Rechte Parteien\" (right-wing parties, grouped by the source)"),
    ("Stimmen sonstiger Parteien", "„Stimmen sonstiger Parteien“",
     "\"Stimmen sonstiger Parteien\" (other parties)"),
    ("Stadtteil zus.", "„Stadtteil zus.“ (Stadtteil mit zweistelliger Nummer, z. B. „11 Äußere "
     "Neustadt (Antonstadt)“)", "\"Stadtteil zus.\" (Stadtteil with two-digit number)"),
    ("Wahl-Form", "„Wahl-Form“ (Wahlbezirk_Urne = Urnenwahlbezirk, Wahlbezirk_Brief = "
     "Briefwahlbezirk)", "\"Wahl-Form\" (Wahlbezirk_Urne = ballot-box district, "
     "Wahlbezirk_Brief = postal-vote district)"),
)
RESULT_NOTES_DE = (
    "Die Parteispalten zählen gültige Stimmen. Briefwahlbezirke haben 0 Wahlberechtigte, weil "
    "ihre Wähler in den Urnenwahlbezirken als Wahlberechtigte zählen; eine Wahlbeteiligung "
    "lässt sich daher nur für größere Gebiete berechnen. Bei Kommunal- und "
    "Stadtbezirks-/Ortschaftsratswahlen hat jede Person bis zu drei Stimmen, die Stimmenzahlen "
    "sind dort etwa dreimal so groß wie die Zahl der Wähler; bei Europa-, Bundestags- und "
    "Landtagswahlen enthält die Quelle eine Stimme je Wähler (welche von zwei Stimmen, gibt sie "
    "nicht an)."
)
RESULT_NOTES_EN = (
    "The party columns count valid votes. Postal-vote districts have 0 eligible voters because "
    "their voters are counted as eligible in the ballot-box districts, so turnout can only be "
    "computed for larger areas. In municipal and district/local council elections everyone has "
    "up to three votes, so the vote counts are about three times the number of voters; for "
    "European, federal and state elections the source has one vote per voter (it does not say "
    "which of the two)."
)


def _columns_doc(columns: Sequence[str]) -> tuple[str, str]:
    """The German and English description of the given election-table columns, in order."""
    docs = {name: (de, en) for name, de, en in RESULT_COLUMNS}
    return ", ".join(docs[c][0] for c in columns), ", ".join(docs[c][1] for c in columns)


GERMAN_MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
                 "September", "Oktober", "November", "Dezember")
ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December")


def _date_de(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.day}. {GERMAN_MONTHS[d.month - 1]} {d.year}"


def _date_en(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.day} {ENGLISH_MONTHS[d.month - 1]} {d.year}"


def _num_de(n: float, decimals: int = 0) -> str:
    """German number format (1.234,5)."""
    text = f"{n:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def _num_en(n: float, decimals: int = 0) -> str:
    return f"{n:,.{decimals}f}"


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.2f}" if whole else ""


# --- geometry helpers ------------------------------------------------------------------------

_EARTH_RADIUS = 6371007.2  # authalic radius (m)
_COS_STANDARD_PARALLEL = math.cos(math.radians(51.05))


def _area_km2(geom: BaseGeometry) -> float:
    """Area on the sphere: Lambert cylindrical equal-area projection with its standard parallel
    through Dresden (no pyproj needed; within a few per mille of the ellipsoidal area)."""

    def project(coords: np.ndarray) -> np.ndarray:
        lon, lat = np.radians(coords[:, 0]), np.radians(coords[:, 1])
        x = _EARTH_RADIUS * lon * _COS_STANDARD_PARALLEL
        return np.column_stack([x, _EARTH_RADIUS * np.sin(lat) / _COS_STANDARD_PARALLEL])

    return float(shapely.transform(geom, project).area) / 1e6


def _rounded(value: Any, digits: int = 6) -> Any:
    """Coordinates rounded to 6 decimals (about 0.1 m): smaller files, stable bytes."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, (list, tuple)):
        return [_rounded(v, digits) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    return value


def _feature(geom: BaseGeometry, properties: dict[str, Any], fid: str | None = None) -> dict:
    # RFC 7946: exterior rings counter-clockwise, holes clockwise
    geometry = _rounded(mapping(shapely.orient_polygons(geom)))
    feature: dict[str, Any] = {"type": "Feature"}
    if fid is not None:
        feature["id"] = fid
    feature["properties"] = properties
    feature["geometry"] = geometry
    return feature


def _point(lon: float, lat: float, properties: dict[str, Any], fid: str) -> dict:
    return {
        "type": "Feature", "id": fid, "properties": properties,
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
    }


def _bbox_wkt(bounds: Sequence[float]) -> str:
    """The bounds as a WKT polygon in CRS84, widened outwards to 3 decimals."""
    x0, y0 = math.floor(bounds[0] * 1000) / 1000, math.floor(bounds[1] * 1000) / 1000
    x1, y1 = math.ceil(bounds[2] * 1000) / 1000, math.ceil(bounds[3] * 1000) / 1000
    return (
        f"POLYGON(({x0:.3f} {y0:.3f}, {x1:.3f} {y0:.3f}, {x1:.3f} {y1:.3f}, "
        f"{x0:.3f} {y1:.3f}, {x0:.3f} {y0:.3f}))"
    )


DRESDEN_WKT = _bbox_wkt(DRESDEN_BOUNDS)


def _split_code(text: str) -> tuple[str, str]:
    """'11 Äußere Neustadt (Antonstadt)' -> ('11', 'Äußere Neustadt (Antonstadt)')."""
    code, _, name = text.partition(" ")
    return (code, name) if code.isdigit() else ("", text)


def _district(text: str) -> tuple[str, str]:
    """'StB 1 Neustadt' -> ('1', 'Neustadt')."""
    return _split_code(text.removeprefix("StB "))


# --- the builder -----------------------------------------------------------------------------


class _Builder:
    """Writes the files and makes the records; every record gets the same mandatory frame."""

    def __init__(self, base_url: str, files_dir: Path) -> None:
        self.base = base_url.rstrip("/")
        self.files_dir = files_dir
        self.resources: list[model.Resource] = []

    def iri(self, slug: str) -> str:
        return f"{self.base}/dataset/{slug}"

    # files

    def _target(self, rel: str) -> Path:
        path = self.files_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def copy(self, name: str, folder: str) -> str:
        rel = f"{folder}/{name}"
        shutil.copyfile(DATA_DIR / name, self._target(rel))
        return rel

    def write_csv(self, rel: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
        # UTF-8, comma, CRLF line ends: RFC 4180, as the city's own exports
        with self._target(rel).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow(header)
            writer.writerows(rows)
        return rel

    def write_geojson(self, rel: str, features: list[dict]) -> str:
        doc = {"type": "FeatureCollection", "features": features}
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
        self._target(rel).write_text(text, encoding="utf-8")
        return rel

    # records

    def dist(
        self,
        rel: str,
        title: tuple[str, str],
        description: tuple[str, str],
        *,
        licence: str,
        attribution: str,
        modified: str,
        conforms_to: Sequence[str] = (),
        temporal_resolution: str | None = None,
    ) -> model.Distribution:
        path = self.files_dir / rel
        data = path.read_bytes()
        file_type, media_type = FORMATS[path.suffix]
        url = f"{self.base}/files/{rel}"
        return model.Distribution(
            access_urls=[url],
            download_urls=[url],
            title={"de": title[0], "en": title[1]},
            description={"de": description[0], "en": description[1]},
            format=file_type,
            media_type=media_type,
            byte_size=len(data),
            checksum=model.Checksum(algorithm=SHA256, value=hashlib.sha256(data).hexdigest()),
            license=licence,
            license_attribution=attribution,
            issued=modified,
            modified=modified,
            availability=STABLE if licence != LICENCE_NOT_STATED else AVAILABLE,
            status=COMPLETED,
            languages=[DEU],
            conforms_to=list(conforms_to),
            temporal_resolution=temporal_resolution,
        )

    def dataset(
        self,
        slug: str,
        *,
        title: tuple[str, str],
        description: tuple[str, str],
        org: Org,
        keywords: Sequence[str],
        themes: Sequence[str],
        modified: str,
        periodicity: str,
        period: tuple[str, str],
        distributions: Sequence[model.Distribution] = (),
        spatial_wkt: str = DRESDEN_WKT,
        kind: str = "STATISTICAL",
        availability: str = STABLE,
        sources: Sequence[str] = (),
        originators: Sequence[model.Agent] = (),
        in_series: Sequence[str] = (),
        relations: Sequence[str] = (),
        conforms_to: Sequence[str] = (),
        pages: Sequence[str] = (),
        geocoding: tuple[str, Sequence[str]] | None = None,
        temporal_resolution: str | None = None,
        cls: type[model.Dataset] = model.Dataset,
    ) -> model.Dataset:
        # DCAT-AP.de 3.0 deprecates dcatde:politicalGeocodingURI and dcatde:originator: the
        # regional key goes into dcterms:spatial, the originator is dcterms:creator plus
        # geodcatap:originator (not modelled, so kept as an extra triple)
        level, keys = geocoding or (f"{GEOCODING_LEVEL}municipality", [REGIONAL_KEY_DRESDEN])
        for dist in distributions:  # named by their file, inside the dataset's document
            dist.uri = dist.uri or f"{self.iri(slug)}#{dist.download_urls[0].rsplit('/', 1)[1]}"
        record = cls(
            uri=self.iri(slug),
            identifier=[slug],
            title={"de": title[0], "en": title[1]},
            description={"de": description[0], "en": description[1]},
            publisher=org.agent(),
            contact_points=[org.contact()],
            keywords=[model.LangStr(k, "de") for k in keywords],
            themes=list(themes),
            type=dataset_type(kind),
            issued=modified,
            modified=modified,
            availability=availability,
            access_rights=PUBLIC,
            languages=[DEU],
            contributor_ids=[CONTRIBUTOR_ID],
            landing_pages=[self.iri(slug)],
            distributions=list(distributions),
            political_geocoding_level=level,
            spatial=[model.Location(geometry=spatial_wkt, bbox=spatial_wkt),
                     *(model.Location(uri=key) for key in keys)],
            temporal=[model.PeriodOfTime(start=period[0], end=period[1])],
            accrual_periodicity=periodicity,
            sources=list(sources),
            creators=list(originators),
            extra="".join(sorted(
                f"<urn:odapp:self> <{GEODCATAP_ORIGINATOR}> <{a.uri}> .\n" for a in originators
            )),
            in_series=list(in_series),
            relations=list(relations),
            conforms_to=list(conforms_to),
            pages=list(pages),
            temporal_resolution=temporal_resolution,
        )
        self.resources.append(record)
        return record


# --- elections (Kommunale Statistikstelle) ---------------------------------------------------


def _read_elections() -> list[dict[str, str]]:
    with (DATA_DIR / ELECTIONS_CSV).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _elections(b: _Builder, rows: list[dict[str, str]]) -> None:
    header = list(rows[0])
    elections = sorted({(r["Jahr"], r["Wahlart"]) for r in rows})
    parties = [col for col, _ in PARTY_COLUMNS]
    mismatched = sum(
        1 for r in rows if sum(int(r[p]) for p in parties) != int(r["Stimmen gültig"])
    )
    full_slug = "wahlergebnisse-wahlbezirke-1999-2024"
    series_slug = "wahlergebnisse-nach-wahlbezirken"
    turnout_districts = "wahlbeteiligung-stadtbezirke-1999-2024"
    turnout_quarters = "wahlbeteiligung-stadtteile-1999-2024"
    period = (FIRST_ELECTION_DATE, ELECTIONS[-1].date)
    common: dict[str, Any] = {
        "org": STATISTICS, "themes": [theme("GOVE")], "modified": ELECTIONS_DATE,
    }

    rel = b.copy(ELECTIONS_CSV, "wahlen")
    columns_de, columns_en = _columns_doc(header)
    b.dataset(
        full_slug,
        title=("Wahlergebnisse nach Wahlbezirken 1999–2024 (Gesamttabelle)",
               "Election results by polling district 1999–2024 (complete table)"),
        description=(
            f"Ergebnisse aller {len(elections)} Europa-, Bundestags-, Landtags- und "
            "Kommunalwahlen in Dresden von 1999 bis 2024 sowie der Stadtbezirksbeirats- und "
            "Ortschaftsratswahl 2019 (ohne Oberbürgermeisterwahlen), je Urnen- und "
            f"Briefwahlbezirk: {_num_de(len(rows))} Zeilen. Unveränderte Kopie des Exports der "
            "Kommunalen Statistikstelle auf opendata.dresden.de (trotz des dortigen Namens "
            f"„1999 – 2019“ reicht er bis 2024). Spalten: {columns_de}. {RESULT_NOTES_DE} "
            "Der Stadtraum ist für 2024 nicht angegeben („00 unbekannt“). In "
            f"{mismatched} Zeilen weicht die Summe der Parteistimmen von „Stimmen gültig“ ab "
            "(so in der Quelle). Komma-getrennt, UTF-8.",
            f"Results of all {len(elections)} European, federal, state and municipal elections "
            "in Dresden from 1999 to 2024 and of the 2019 district and local council election "
            "(no mayoral elections), per ballot-box and postal-vote district: "
            f"{_num_en(len(rows))} rows. Unchanged copy of the export of the Municipal "
            "Statistics Office on opendata.dresden.de (despite its name \"1999 – 2019\" it runs "
            f"to 2024). Columns: {columns_en}. {RESULT_NOTES_EN} "
            "The Stadtraum is not given for 2024 (\"00 unbekannt\"). In "
            f"{mismatched} rows the party votes do not add up to \"Stimmen gültig\" (as in the "
            "source). Comma-separated, UTF-8.",
        ),
        keywords=("Wahlen", "Wahlergebnisse", "Wahlbezirke", "Wählerstimmen", "Briefwahl",
                  "Europawahl", "Bundestagswahl", "Landtagswahl", "Kommunalwahl", "Parteien"),
        periodicity=frequency("IRREG"),
        period=period,
        distributions=[b.dist(
            rel, ("Wahlergebnisse 1999–2024 nach Wahlbezirken (CSV)",
                  "Election results 1999–2024 by polling district (CSV)"),
            ("Originaldatei der Kommunalen Statistikstelle, 22 Spalten, eine Zeile je Wahl und "
             "Wahlbezirk.", "Original file of the Municipal Statistics Office, 22 columns, one "
             "row per election and polling district."),
            licence=LICENCE_DL_BY, attribution=ATTRIBUTION_DRESDEN, modified=ELECTIONS_DATE,
            conforms_to=[RFC_CSV],
        )],
        relations=[ELECTIONS_SOURCE, f"{ELECTIONS_REPO}/all.csv", b.iri(series_slug),
                   b.iri(turnout_quarters), b.iri(turnout_districts)],
        pages=["https://github.com/offenesdresden/wahlbezirke"],
        **common,
    )

    b.dataset(
        series_slug,
        cls=model.DatasetSeries,
        title=("Wahlergebnisse nach Wahlbezirken (Reihe)",
               "Election results by polling district (series)"),
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
            + "). All elections since 1999 are in the complete table \"Election results by "
            "polling district 1999–2024\", from which the member datasets were filtered; its "
            "description explains the columns.",
        ),
        keywords=("Wahlen", "Wahlergebnisse", "Wahlbezirke", "Wählerstimmen", "Zeitreihe"),
        periodicity=frequency("IRREG"),
        period=(ELECTIONS[0].date, ELECTIONS[-1].date),
        sources=[b.iri(full_slug)],
        relations=[b.iri(full_slug)],
        **common,
    )

    for election in ELECTIONS:
        _election_dataset(b, election, rows, header, series_slug, full_slug, common)

    for election in ELECTIONS:
        if election.year == "2024":  # the Stadtteile of 2024 have boundaries in this catalogue
            _quarter_results(b, election, rows, full_slug, common)
    _turnout(b, rows, elections, turnout_quarters, turnout_districts, full_slug, period, common)


def _election_dataset(
    b: _Builder, e: Election, rows: list[dict[str, str]], header: list[str],
    series_slug: str, full_slug: str, common: dict[str, Any],
) -> None:
    selected = [r for r in rows if (r["Jahr"], r["Wahlart"]) == (e.year, e.kind)]
    dropped = [c for c, _ in PARTY_COLUMNS if not any(int(r[c]) for r in selected)]
    no_areas = all(r["Stadtraum"].startswith("00 ") for r in selected)
    if no_areas:
        dropped.append("Stadtraum")
    columns = [c for c in header if c not in ("Jahr", "Wahlart", *dropped)]
    rel = b.write_csv(f"wahlen/{e.slug}.csv", columns, ([r[c] for c in columns] for r in selected))
    columns_de, columns_en = _columns_doc(columns)
    ballot = sum(1 for r in selected if r["Wahl-Form"] == "Wahlbezirk_Urne")
    postal = len(selected) - ballot
    eligible = sum(int(r["Wahlberechtigte"]) for r in selected)
    voters = sum(int(r["Wähler"]) for r in selected)
    votes = sum(int(r["Stimmen gültig"]) for r in selected)
    turnout = 100 * voters / eligible
    dropped_de = (
        f" sowie {', '.join(f'„{c}“' for c in dropped)} (ohne Angaben)" if dropped else ""
    )
    dropped_en = (
        f" and {', '.join(f'{chr(34)}{c}{chr(34)}' for c in dropped)} (no data)" if dropped else ""
    )
    votes_de = (
        f" Jede Person hatte bis zu drei Stimmen: {_num_de(votes)} gültige Stimmen."
        if e.votes_per_voter > 1 else f" {_num_de(votes)} gültige Stimmen."
    )
    votes_en = (
        f" Everyone had up to three votes: {_num_en(votes)} valid votes."
        if e.votes_per_voter > 1 else f" {_num_en(votes)} valid votes."
    )
    b.dataset(
        e.slug,
        title=(f"{e.name_de} in Dresden: Ergebnisse nach Wahlbezirken",
               f"Dresden, {e.name_en}: results by polling district"),
        description=(
            f"Ergebnisse der {e.name_de} vom {_date_de(e.date)} in Dresden für alle {ballot} "
            f"Urnenwahlbezirke und {postal} Briefwahlbezirke (eine Zeile je Wahlbezirk): "
            f"{_num_de(voters)} Wähler bei {_num_de(eligible)} Wahlberechtigten, "
            f"Wahlbeteiligung {_num_de(turnout, 1)} %.{votes_de} Für diesen Katalog aus der "
            f"Gesamttabelle der Kommunalen Statistikstelle gefiltert (Jahr = {e.year}, Wahlart "
            f"= {e.kind}); weggelassen wurden die Spalten „Jahr“ und „Wahlart“{dropped_de}. "
            f"Spalten: {columns_de}. {RESULT_NOTES_DE}",
            f"Results of the {e.name_en} on {_date_en(e.date)} in Dresden for all {ballot} "
            f"ballot-box and {postal} postal-vote districts (one row per polling district): "
            f"{_num_en(voters)} voters of {_num_en(eligible)} eligible, turnout "
            f"{_num_en(turnout, 1)} %.{votes_en} Filtered for this catalogue from the complete "
            f"table of the Municipal Statistics Office (Jahr = {e.year}, Wahlart = {e.kind}); "
            f"the columns \"Jahr\" and \"Wahlart\"{dropped_en} were left out. Columns: "
            f"{columns_en}. {RESULT_NOTES_EN}",
        ),
        keywords=("Wahlen", "Wahlergebnisse", "Wahlbezirke", "Wählerstimmen", *e.keywords),
        periodicity=frequency("NEVER"),
        period=(e.date, e.date),
        distributions=[b.dist(
            rel, (f"{e.name_de}: Ergebnisse nach Wahlbezirken (CSV)",
                  f"{e.name_en}: results by polling district (CSV)"),
            (f"{len(selected)} Zeilen, {len(columns)} Spalten; aus der Gesamttabelle gefiltert "
             "(Daten geändert).", f"{len(selected)} rows, {len(columns)} columns; filtered "
             "from the complete table (data changed)."),
            licence=LICENCE_DL_BY, attribution=ATTRIBUTION_DRESDEN, modified=ELECTIONS_DATE,
            conforms_to=[RFC_CSV],
        )],
        in_series=[b.iri(series_slug)],
        sources=[b.iri(full_slug)],
        **common,
    )


def _quarter_results(
    b: _Builder, e: Election, rows: list[dict[str, str]], full_slug: str,
    common: dict[str, Any],
) -> None:
    """Turnout and party shares of one election per Stadtteil (the table behind a map)."""
    selected = [r for r in rows if (r["Jahr"], r["Wahlart"]) == (e.year, e.kind)]
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
        out = [nr, name, district, str(eligible), str(voters), _pct(voters, eligible), str(valid)]
        for col, _ in parties:
            n = sum(int(r[col]) for r in rs)
            out += [str(n), _pct(n, valid)]
        return out

    unassigned = [k for k in groups if not any(int(r["Wahlberechtigte"]) for r in groups[k])]
    unassigned_voters = sum(int(r["Wähler"]) for k in unassigned for r in groups[k])
    table = [
        line(*_split_code(k), _district(districts[k])[1], groups[k])
        for k in sorted(groups) if k not in unassigned
    ]
    table.append(line("", "Dresden insgesamt", "", selected))
    header = ["stadtteil_nr", "stadtteil", "stadtbezirk", "wahlberechtigte", "waehler",
              "wahlbeteiligung_prozent", "gueltige_stimmen"]
    for _, short in parties:
        header += [f"{short}_stimmen", f"{short}_prozent"]
    slug = f"{e.slug.removeprefix('wahlergebnisse-')}-ergebnisse-stadtteile"
    rel = b.write_csv(f"wahlen/{slug}.csv", header, table)
    names = ", ".join(short for _, short in parties)
    notes_de, notes_en = "", ""
    if unassigned_voters:
        notes_de += (f" {_num_de(unassigned_voters)} Briefwähler ohne Stadtteil zählen nur in "
                     "der Zeile „Dresden insgesamt“.")
        notes_en += (f" {_num_en(unassigned_voters)} postal voters without one count only in "
                     "the row \"Dresden insgesamt\" (whole city).")
    if e.votes_per_voter > 1:
        notes_de += " Jede Person hatte bis zu drei Stimmen; die Anteile beziehen sich auf Stimmen."
        notes_en += " Everyone had up to three votes; the shares are shares of votes."
    if missing:
        notes_de += (f" Ohne Spalten für {', '.join(missing)}: die Quelle weist dafür keine "
                     "Stimmen aus.")
        notes_en += f" No columns for {', '.join(missing)}: the source has no votes for them."
    b.dataset(
        slug,
        title=(f"{e.name_de} in Dresden: Wahlbeteiligung und Stimmenanteile nach Stadtteilen",
               f"Dresden, {e.name_en}: turnout and vote shares by Stadtteil"),
        description=(
            f"Wahlbeteiligung und Stimmenanteile der Parteien bei der {e.name_de} vom "
            f"{_date_de(e.date)} in den {len(table) - 1} Stadtteilen Dresdens und in der ganzen "
            "Stadt, für diesen Katalog berechnet aus den Ergebnissen nach Wahlbezirken der "
            "Kommunalen Statistikstelle (Summe aller Urnen- und Briefwahlbezirke, die die "
            f"Quelle dem Stadtteil zuordnet).{notes_de} Spalten: stadtteil_nr, stadtteil, "
            "stadtbezirk, wahlberechtigte, waehler, wahlbeteiligung_prozent (Wähler je 100 "
            f"Wahlberechtigte), gueltige_stimmen und je Partei ({names}) <partei>_stimmen und "
            "<partei>_prozent (Anteil an den gültigen Stimmen). Passt über stadtteil_nr zu den "
            "Stadtteilgrenzen 2024.",
            f"Turnout and party vote shares in the {e.name_en} of {_date_en(e.date)} in the "
            f"{len(table) - 1} Stadtteile (statistical districts) of Dresden and the whole city, "
            "computed for this catalogue from the results by polling district of the Municipal "
            "Statistics Office (sum of all ballot-box and postal-vote districts the source "
            f"assigns to the Stadtteil).{notes_en} Columns: stadtteil_nr, stadtteil, "
            "stadtbezirk, wahlberechtigte (eligible voters), waehler (voters), "
            "wahlbeteiligung_prozent (turnout), gueltige_stimmen (valid votes) and per party "
            f"({names}) <party>_stimmen and <party>_prozent (share of the valid votes). Joins "
            "the Stadtteil boundaries 2024 on stadtteil_nr.",
        ),
        keywords=(*e.keywords[:1], "Wahlbeteiligung", "Stimmenanteile", "Stadtteile",
                  "Parteien", "Wählerstimmen"),
        periodicity=frequency("NEVER"),
        period=(e.date, e.date),
        distributions=[b.dist(
            rel, (f"{e.name_de} nach Stadtteilen (CSV)", f"{e.name_en} by Stadtteil (CSV)"),
            (f"{len(table)} Zeilen (Stadtteile und Gesamtstadt), berechnet aus den Ergebnissen "
             "nach Wahlbezirken (Daten geändert).", f"{len(table)} rows (Stadtteile and whole "
             "city), computed from the results by polling district (data changed)."),
            licence=LICENCE_DL_BY, attribution=ATTRIBUTION_DRESDEN, modified=ELECTIONS_DATE,
            conforms_to=[RFC_CSV],
        )],
        sources=[b.iri(e.slug)],
        relations=[b.iri("stadtteile-dresden-2024")],
        **common,
    )


def _turnout(
    b: _Builder, rows: list[dict[str, str]], elections: list[tuple[str, str]],
    quarters_slug: str, districts_slug: str, full_slug: str, period: tuple[str, str],
    common: dict[str, Any],
) -> None:
    """Turnout (voters / eligible voters) per Stadtteil and per Stadtbezirk, every election."""
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

    def table(level: str, split: Any, total: bool) -> tuple[list[list[str]], int]:
        out, skipped = [], 0
        keys = sorted((k for k in sums if k[0] == level), key=lambda k: (order[k[1:3]], k[3]))
        for key in keys:
            eligible, voters, postal = sums[key]
            if not eligible:  # voters the source assigns to no area (2024: some postal votes)
                skipped += voters
                continue
            nr, name = split(key[3])
            out.append([key[1], key[2], nr, name, str(eligible), str(voters), str(postal),
                        _pct(voters, eligible), _pct(postal, voters)])
        if total:
            for year, kind in elections:
                eligible, voters, postal = sums[("*", year, kind, "*")]
                out.append([year, kind, "", "Dresden insgesamt", str(eligible), str(voters),
                            str(postal), _pct(voters, eligible), _pct(postal, voters)])
            out.sort(key=lambda row: (order[(row[0], row[1])], row[2] == "", row[2]))
        return out, skipped

    tail = ["wahlberechtigte", "waehler", "briefwaehler", "wahlbeteiligung_prozent",
            "briefwahlanteil_prozent"]
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

    quarters, skipped_q = table("Stadtteil zus.", _split_code, total=False)
    rel = b.write_csv(f"wahlen/{quarters_slug}.csv",
                      ["jahr", "wahlart", "stadtteil_nr", "stadtteil", *tail], quarters)
    n_quarters = len({row[2] for row in quarters})
    quarter_columns = (
        columns_de.format(nr="stadtteil_nr", name="stadtteil (Name wie in der Quelle)"),
        columns_en.format(nr="stadtteil_nr", name="stadtteil (name as in the source)"),
    )
    b.dataset(
        quarters_slug,
        title=("Wahlbeteiligung nach Stadtteilen 1999–2024",
               "Voter turnout by Stadtteil 1999–2024"),
        description=(
            f"Wahlbeteiligung und Briefwahlanteil in den {n_quarters} Stadtteilen Dresdens bei "
            f"allen {len(elections)} Wahlen von 1999 bis 2024 ({_num_de(len(quarters))} Zeilen), "
            "berechnet aus den Ergebnissen nach Wahlbezirken der Kommunalen Statistikstelle: "
            "Summe aller Urnen- und Briefwahlbezirke, die die Quelle dem Stadtteil zuordnet. "
            f"Spalten: {quarter_columns[0]}. "
            f"{_num_de(skipped_q)} Wähler aus Briefwahlbezirken ohne Stadtteil (nur 2024) sind "
            "nicht enthalten. Die Zuordnung der Briefwahlbezirke macht die Werte zu einer guten "
            "Näherung, nicht zu einer amtlichen Zahl.",
            f"Turnout and share of postal voters in the {n_quarters} Stadtteile (statistical "
            f"districts) of Dresden for all {len(elections)} elections from 1999 to 2024 "
            f"({_num_en(len(quarters))} rows), computed from the results by polling district "
            "of the Municipal Statistics Office: sum of all ballot-box and postal-vote "
            f"districts the source assigns to the Stadtteil. Columns: {quarter_columns[1]}. "
            f"{_num_en(skipped_q)} voters of postal-vote districts without a Stadtteil (2024 "
            "only) are not included. Because of how postal-vote districts are assigned, the "
            "figures are a close approximation, not official numbers.",
        ),
        keywords=("Wahlbeteiligung", "Briefwahl", "Stadtteile", "Wahlen", "Zeitreihe",
                  "Wählerstimmen"),
        periodicity=frequency("IRREG"),
        period=period,
        distributions=[b.dist(
            rel, ("Wahlbeteiligung nach Stadtteilen (CSV)", "Turnout by Stadtteil (CSV)"),
            (f"{_num_de(len(quarters))} Zeilen, eine je Wahl und Stadtteil (berechnet, Daten "
             "geändert).",
             f"{_num_en(len(quarters))} rows, one per election and Stadtteil (computed, data "
             "changed)."),
            licence=LICENCE_DL_BY, attribution=ATTRIBUTION_DRESDEN, modified=ELECTIONS_DATE,
            conforms_to=[RFC_CSV],
        )],
        sources=[b.iri(full_slug)],
        relations=[b.iri(districts_slug), b.iri("stadtteile-dresden-2024")],
        **common,
    )

    districts, _ = table("Stadtbezirk mit zugeordneten Ortschaften", _district, total=True)
    rel = b.write_csv(f"wahlen/{districts_slug}.csv",
                      ["jahr", "wahlart", "stadtbezirk_nr", "stadtbezirk", *tail], districts)
    b.dataset(
        districts_slug,
        title=("Wahlbeteiligung nach Stadtbezirken 1999–2024",
               "Voter turnout by city district 1999–2024"),
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
            "rows \"Dresden insgesamt\" (no stadtbezirk_nr) hold all voters of the city, also "
            "the postal voters the source assigns to no district.",
        ),
        keywords=("Wahlbeteiligung", "Briefwahl", "Stadtbezirke", "Wahlen", "Zeitreihe",
                  "Wählerstimmen"),
        periodicity=frequency("IRREG"),
        period=period,
        distributions=[b.dist(
            rel, ("Wahlbeteiligung nach Stadtbezirken (CSV)", "Turnout by city district (CSV)"),
            (f"{len(districts)} Zeilen, eine je Wahl und Stadtbezirk sowie für die Gesamtstadt "
             "(berechnet, Daten geändert).", f"{len(districts)} rows, one per election and "
             "city district plus the whole city (computed, data changed)."),
            licence=LICENCE_DL_BY, attribution=ATTRIBUTION_DRESDEN, modified=ELECTIONS_DATE,
            conforms_to=[RFC_CSV],
        )],
        sources=[b.iri(full_slug)],
        relations=[b.iri(quarters_slug), b.iri("stadtbezirke-dresden-2024")],
        **common,
    )


# --- areas: polling districts, Stadtteile, Stadtbezirke (Amt für Geodaten und Kataster) ------


@dataclass
class Quarter:
    """A Stadtteil of 2024, dissolved from its polling districts."""

    nr: str
    name: str
    district_nr: str
    district: str
    geometry: BaseGeometry  # full resolution
    polling_districts: int


def _areas(b: _Builder, rows: list[dict[str, str]]) -> list[Quarter]:
    """Polling districts (original), Stadtteile and Stadtbezirke 2024 (dissolved), the OSM
    Stadtteile 2015 and the Stadtbezirk -> Stadtraum -> Stadtteil hierarchy."""
    doc = json.loads((DATA_DIR / POLLING_DISTRICTS).read_text(encoding="utf-8"))
    ballot = {
        r["Wahlbezirk"]: r for r in rows
        if (r["Jahr"], r["Wahlart"], r["Wahl-Form"]) == ("2024", "Europawahl", "Wahlbezirk_Urne")
    }
    pieces: dict[str, list[BaseGeometry]] = defaultdict(list)
    listing = []
    for f in doc["features"]:
        wb, label = f["properties"]["wb"], f["properties"]["wb_text"]
        geom = shape(f["geometry"])
        r = ballot[wb]
        nr, name = _split_code(r["Stadtteil zus."])
        dnr, dname = _district(r["Stadtbezirk mit zugeordneten Ortschaften"])
        pieces[r["Stadtteil zus."]].append(geom)
        point = geom.point_on_surface()
        listing.append([wb, label, nr, name, dnr, dname, f"{_area_km2(geom):.4f}",
                        f"{point.x:.6f}", f"{point.y:.6f}"])
    listing.sort()
    quarters = []
    for key in sorted(pieces):
        nr, name = _split_code(key)
        r = next(r for r in ballot.values() if r["Stadtteil zus."] == key)
        dnr, dname = _district(r["Stadtbezirk mit zugeordneten Ortschaften"])
        quarters.append(Quarter(nr, name, dnr, dname, shapely.union_all(pieces[key]),
                                len(pieces[key])))
    bounds = shapely.union_all([q.geometry for q in quarters]).bounds
    city_wkt = _bbox_wkt(bounds)
    e2024 = next(x for x in ELECTIONS if (x.year, x.kind) == ("2024", "Europawahl"))
    when = (e2024.date, e2024.date)
    geo = {"org": GEODATA, "themes": [theme("REGI"), theme("GOVE")], "kind": "GEOSPATIAL",
           "conforms_to": [CRS84], "spatial_wkt": city_wkt}

    # the polling districts: original file plus a table of them
    slug = "wahlbezirke-europawahl-2024"
    rel_geo = b.copy(POLLING_DISTRICTS, "gebiete")
    rel_csv = b.write_csv(
        f"gebiete/{slug}.csv",
        ["wahlbezirk", "bezeichnung", "stadtteil_nr", "stadtteil", "stadtbezirk_nr",
         "stadtbezirk", "flaeche_km2", "longitude", "latitude"],
        listing,
    )
    b.dataset(
        slug,
        title=("Wahlbezirke der Europawahl 2024", "Polling districts of the European "
               "Parliament election 2024"),
        description=(
            f"Grenzen der {len(listing)} Urnenwahlbezirke Dresdens zur Europawahl am "
            f"{_date_de(e2024.date)}, wie sie der OGC-API-Features-Dienst der Stadt "
            "(kommisdd.dresden.de, Sammlung L1565) am 15. Oktober 2024 ausgab: GeoJSON in WGS84 "
            "(Länge/Breite), je Wahlbezirk die Eigenschaften wb (fünfstellige Nummer, wie die "
            "Spalte „Wahlbezirk“ der Wahlergebnisse) und wb_text (Bezeichnung, z. B. "
            "„Pirnaische Vorstadt (Zirkusstr.)“). Briefwahlbezirke haben keine Fläche. Dazu eine "
            "für diesen Katalog berechnete Tabelle: wahlbezirk, bezeichnung, stadtteil_nr und "
            "stadtteil, stadtbezirk_nr und stadtbezirk (aus den Wahlergebnissen 2024), "
            "flaeche_km2 (Fläche, sphärisch berechnet) sowie longitude/latitude eines Punktes "
            "im Wahlbezirk (WGS84).",
            f"Boundaries of the {len(listing)} ballot-box polling districts of Dresden for the "
            f"European Parliament election on {_date_en(e2024.date)}, as served by the city's "
            "OGC API Features service (kommisdd.dresden.de, collection L1565) on 15 October "
            "2024: GeoJSON in WGS84 (longitude/latitude), with the properties wb (five-digit "
            "number, as the column \"Wahlbezirk\" of the election results) and wb_text (name). "
            "Postal-vote districts have no area. Also a table computed for this catalogue: "
            "wahlbezirk, bezeichnung (name), stadtteil_nr and stadtteil, stadtbezirk_nr and "
            "stadtbezirk (from the 2024 results), flaeche_km2 (area, computed on the sphere) "
            "and longitude/latitude of a point inside the district (WGS84).",
        ),
        keywords=("Wahlbezirke", "Europawahl", "Geodaten", "Gebietsgliederung", "Wahlen",
                  "Grenzen", "Flächen"),
        modified=ELECTIONS_DATE,
        periodicity=frequency("NEVER"),
        period=when,
        distributions=[
            b.dist(rel_geo, ("Wahlbezirke Europawahl 2024 (GeoJSON)",
                             "Polling districts 2024 (GeoJSON)"),
                   ("Originaldatei des OGC-API-Dienstes (3,4 MB, volle Auflösung; die "
                    "Geometrien tragen ein nicht standardgemäßes „crs“-Element).",
                    "Original file of the OGC API service (3.4 MB, full resolution; the "
                    "geometries carry a non-standard \"crs\" member)."),
                   licence=LICENCE_DL_BY, attribution=ATTRIBUTION_DRESDEN,
                   modified=ELECTIONS_DATE),
            b.dist(rel_csv, ("Wahlbezirke Europawahl 2024 mit Stadtteil und Fläche (CSV)",
                             "Polling districts 2024 with Stadtteil and area (CSV)"),
                   (f"{len(listing)} Zeilen, berechnet (Daten geändert).",
                    f"{len(listing)} rows, computed (data changed)."),
                   licence=LICENCE_DL_BY, attribution=ATTRIBUTION_DRESDEN,
                   modified=ELECTIONS_DATE, conforms_to=[RFC_CSV]),
        ],
        relations=[f"{OGC_API}/collections/L1565/items",
                   f"{ELECTIONS_REPO}/bezirke_e2024.geojson", b.iri(e2024.slug),
                   b.iri("stadtteile-dresden-2024"), b.iri("ogc-api-features-dresden")],
        **geo,
    )

    # Stadtteile and Stadtbezirke: union of the polling districts, simplified as a coverage so
    # neighbours keep sharing their edges
    simple = shapely.coverage_simplify([q.geometry for q in quarters], 5e-5)
    deviation = max(
        shapely.hausdorff_distance(q.geometry, s) for q, s in zip(quarters, simple, strict=True)
    )
    deviation_m = int(math.ceil(deviation * 111_320 / 5) * 5)
    areas = {q.nr: _area_km2(q.geometry) for q in quarters}
    total_area = sum(areas.values())
    quarter_features = [
        _feature(s, {"stadtteil_nr": q.nr, "stadtteil": q.name, "stadtbezirk_nr": q.district_nr,
                     "stadtbezirk": q.district, "flaeche_km2": round(areas[q.nr], 2),
                     "urnenwahlbezirke": q.polling_districts}, q.nr)
        for q, s in zip(quarters, simple, strict=True)
    ]
    quarter_rows = []
    for q in quarters:
        p = q.geometry.point_on_surface()
        quarter_rows.append([q.nr, q.name, q.district_nr, q.district, f"{areas[q.nr]:.2f}",
                             q.polling_districts, f"{p.x:.6f}", f"{p.y:.6f}"])
    slug = "stadtteile-dresden-2024"
    rel_geo = b.write_geojson(f"gebiete/{slug}.geojson", quarter_features)
    rel_csv = b.write_csv(
        f"gebiete/{slug}.csv",
        ["stadtteil_nr", "stadtteil", "stadtbezirk_nr", "stadtbezirk", "flaeche_km2",
         "urnenwahlbezirke", "longitude", "latitude"],
        quarter_rows,
    )
    derived_de = (
        "Die Stadtteilflächen sind für diesen Katalog berechnet: Vereinigung der "
        "Urnenwahlbezirke der Europawahl 2024 "
        "nach dem Stadtteil, dem die Kommunale Statistikstelle sie in den Wahlergebnissen "
        "zuordnet; die Grenzen folgen also den Wahlbezirksgrenzen, es ist nicht die amtliche "
        f"Stadtteilkarte. Im GeoJSON sind die Grenzen vereinfacht (Abweichung bis etwa "
        f"{deviation_m} m; benachbarte Flächen behalten gemeinsame Kanten), die Flächen "
        f"(flaeche_km2) sind aus den unvereinfachten Grenzen auf der Kugel berechnet (Summe "
        f"{_num_de(total_area, 1)} km²)."
    )
    derived_en = (
        "The Stadtteil areas were computed for this catalogue: union of the ballot-box "
        "polling districts of the 2024 "
        "European election by the Stadtteil the Municipal Statistics Office assigns them to in "
        "the election results; the boundaries therefore follow the polling districts, this is "
        "not the official map. In the GeoJSON the boundaries are simplified (deviation up to "
        f"about {deviation_m} m; neighbours keep their shared edges); the areas (flaeche_km2) "
        "are computed on the sphere from the unsimplified boundaries (total "
        f"{_num_en(total_area, 1)} km²)."
    )
    b.dataset(
        slug,
        title=("Stadtteile Dresden 2024 (aus den Wahlbezirken abgeleitet)",
               "Stadtteile (statistical districts) of Dresden 2024, derived from the polling "
               "districts"),
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
        keywords=("Stadtteile", "Gebietsgliederung", "Geodaten", "Grenzen", "Flächen",
                  "Stadtbezirke"),
        modified=ELECTIONS_DATE,
        periodicity=frequency("IRREG"),
        period=when,
        distributions=[
            b.dist(rel_geo, ("Stadtteile 2024 (GeoJSON, vereinfacht)",
                             "Stadtteile 2024 (GeoJSON, simplified)"),
                   (f"{len(quarters)} Polygone, RFC 7946 (berechnet, Daten geändert).",
                    f"{len(quarters)} polygons, RFC 7946 (computed, data changed)."),
                   licence=LICENCE_DL_BY, attribution=ATTRIBUTION_DRESDEN,
                   modified=ELECTIONS_DATE, conforms_to=[RFC_GEOJSON]),
            b.dist(rel_csv, ("Stadtteile 2024 (CSV-Liste)", "Stadtteile 2024 (CSV list)"),
                   (f"{len(quarters)} Zeilen (berechnet, Daten geändert).",
                    f"{len(quarters)} rows (computed, data changed)."),
                   licence=LICENCE_DL_BY, attribution=ATTRIBUTION_DRESDEN,
                   modified=ELECTIONS_DATE, conforms_to=[RFC_CSV]),
        ],
        sources=[b.iri("wahlbezirke-europawahl-2024"),
                 b.iri("wahlergebnisse-wahlbezirke-1999-2024")],
        relations=[b.iri("stadtbezirke-dresden-2024"), b.iri("stadtteile-openstreetmap-2015")],
        **geo,
    )

    by_district: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(quarters):
        by_district[q.district_nr].append(i)
    district_features, district_rows = [], []
    for dnr in sorted(by_district):
        members = [quarters[i] for i in by_district[dnr]]
        full = shapely.union_all([q.geometry for q in members])
        simplified = shapely.union_all([simple[i] for i in by_district[dnr]])
        area = _area_km2(full)
        ballot_count = sum(q.polling_districts for q in members)
        p = full.point_on_surface()
        props = {"stadtbezirk_nr": dnr, "stadtbezirk": members[0].district,
                 "flaeche_km2": round(area, 2), "stadtteile": len(members),
                 "urnenwahlbezirke": ballot_count}
        district_features.append(_feature(simplified, props, dnr))
        district_rows.append([dnr, members[0].district, f"{area:.2f}", len(members),
                              " ".join(q.nr for q in members), ballot_count,
                              f"{p.x:.6f}", f"{p.y:.6f}"])
    slug = "stadtbezirke-dresden-2024"
    rel_geo = b.write_geojson(f"gebiete/{slug}.geojson", district_features)
    rel_csv = b.write_csv(
        f"gebiete/{slug}.csv",
        ["stadtbezirk_nr", "stadtbezirk", "flaeche_km2", "stadtteile", "stadtteil_nr",
         "urnenwahlbezirke", "longitude", "latitude"],
        district_rows,
    )
    b.dataset(
        slug,
        title=("Stadtbezirke Dresden 2024 mit zugeordneten Ortschaften",
               "City districts (Stadtbezirke) of Dresden 2024 with their assigned localities"),
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
            "assigned to a neighbouring district, e.g. \"Klotzsche/nördliche Ortschaften\"), as "
            "areas (GeoJSON, WGS84) and a list (CSV). Properties / columns: stadtbezirk_nr "
            "(0–9), stadtbezirk (name), flaeche_km2 (area), stadtteile (number; the CSV also "
            "lists their numbers in stadtteil_nr, separated by spaces), urnenwahlbezirke "
            "(number of polling districts 2024), in the CSV also longitude/latitude of a point "
            "inside. The areas are the union of this catalogue's Stadtteile 2024. "
            f"{derived_en}",
        ),
        keywords=("Stadtbezirke", "Ortschaften", "Gebietsgliederung", "Geodaten", "Grenzen",
                  "Flächen"),
        modified=ELECTIONS_DATE,
        periodicity=frequency("IRREG"),
        period=when,
        distributions=[
            b.dist(rel_geo, ("Stadtbezirke 2024 (GeoJSON, vereinfacht)",
                             "City districts 2024 (GeoJSON, simplified)"),
                   (f"{len(district_rows)} Polygone, RFC 7946 (berechnet, Daten geändert).",
                    f"{len(district_rows)} polygons, RFC 7946 (computed, data changed)."),
                   licence=LICENCE_DL_BY, attribution=ATTRIBUTION_DRESDEN,
                   modified=ELECTIONS_DATE, conforms_to=[RFC_GEOJSON]),
            b.dist(rel_csv, ("Stadtbezirke 2024 (CSV-Liste)", "City districts 2024 (CSV list)"),
                   (f"{len(district_rows)} Zeilen (berechnet, Daten geändert).",
                    f"{len(district_rows)} rows (computed, data changed)."),
                   licence=LICENCE_DL_BY, attribution=ATTRIBUTION_DRESDEN,
                   modified=ELECTIONS_DATE, conforms_to=[RFC_CSV]),
        ],
        sources=[b.iri("stadtteile-dresden-2024")],
        relations=[b.iri("wahlbeteiligung-stadtbezirke-1999-2024")],
        **geo,
    )

    _osm_quarters(b, {q.nr for q in quarters})
    _hierarchy(b, rows)
    return quarters


def _osm_quarters(b: _Builder, current: set[str]) -> None:
    doc = json.loads((DATA_DIR / OSM_DISTRICTS).read_text(encoding="utf-8"))
    table, geoms = [], []
    for f in doc["features"]:
        p = f["properties"]
        geom = shape(f["geometry"])
        geoms.append(geom)
        table.append([p.get("ref", ""), p.get("name", ""), p.get("official_name", ""),
                      p["@id"].removeprefix("relation/"), f"{_area_km2(geom):.2f}"])
    table.sort()
    refs = {row[0] for row in table}
    only_osm, only_now = sorted(refs - current), sorted(current - refs)
    bounds = shapely.union_all(geoms).bounds
    slug = "stadtteile-openstreetmap-2015"
    rel_geo = b.copy(OSM_DISTRICTS, "gebiete")
    rel_csv = b.write_csv(
        f"gebiete/{slug}.csv",
        ["stadtteil_nr", "name", "official_name", "osm_relation", "flaeche_km2"], table,
    )
    b.dataset(
        slug,
        title=("Stadtteile Dresden aus OpenStreetMap (Stand 2015)",
               "Stadtteile of Dresden from OpenStreetMap (2015)"),
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
            f"{', '.join(only_now)} are missing here. Current boundaries: \"Stadtteile Dresden "
            "2024\".",
        ),
        org=GEODATA,
        keywords=("Stadtteile", "OpenStreetMap", "Gebietsgliederung", "Geodaten", "Grenzen"),
        themes=[theme("REGI")],
        kind="GEOSPATIAL",
        modified=OSM_DATE,
        periodicity=frequency("NEVER"),
        period=(OSM_DATE, OSM_DATE),
        availability=AVAILABLE,
        spatial_wkt=_bbox_wkt(bounds),
        conforms_to=[CRS84],
        distributions=[
            b.dist(rel_geo, ("Stadtteile OSM 2015 (GeoJSON)", "Stadtteile OSM 2015 (GeoJSON)"),
                   ("Originaldatei (Overpass-Export), ODbL 1.0.",
                    "Original file (Overpass export), ODbL 1.0."),
                   licence=LICENCE_ODBL, attribution=ATTRIBUTION_OSM, modified=OSM_DATE),
            b.dist(rel_csv, ("Stadtteile OSM 2015 (CSV-Liste)", "Stadtteile OSM 2015 (CSV list)"),
                   (f"{len(table)} Zeilen, aus dem GeoJSON berechnet; ODbL 1.0 wie die Quelle.",
                    f"{len(table)} rows, computed from the GeoJSON; ODbL 1.0 like the source."),
                   licence=LICENCE_ODBL, attribution=ATTRIBUTION_OSM, modified=OSM_DATE,
                   conforms_to=[RFC_CSV]),
        ],
        originators=[_osm_contributors()],
        relations=[OSM_REPO, b.iri("stadtteile-dresden-2024")],
        pages=["https://github.com/offenesdresden/GeoData"],
    )


def _hierarchy(b: _Builder, rows: list[dict[str, str]]) -> None:
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
        table.append([*_district(district), *_split_code(area), *_split_code(quarter), n])
    table.sort(key=lambda row: (row[0], row[2], row[4]))
    split = sorted({row[5] for row in table if sum(1 for x in table if x[4] == row[4]) > 1})
    n_areas = len({row[2] for row in table})
    slug = "gliederung-stadtbezirke-stadtraeume-stadtteile"
    rel = b.write_csv(
        f"gebiete/{slug}.csv",
        ["stadtbezirk_nr", "stadtbezirk", "stadtraum_nr", "stadtraum", "stadtteil_nr",
         "stadtteil", "urnenwahlbezirke"],
        table,
    )
    b.dataset(
        slug,
        title=("Gliederung: Stadtbezirke, Stadträume und Stadtteile",
               "Hierarchy of city districts, planning areas (Stadträume) and Stadtteile"),
        description=(
            f"Welche Stadtteile zu welchem der {n_areas} Stadträume und welchem Stadtbezirk "
            f"gehören, nach der Zuordnung der Wahlbezirke zur {election.name_de} "
            f"({_date_de(election.date)}), der letzten Wahl, für die die Kommunale "
            "Statistikstelle Stadträume angibt. Eine Zeile je Kombination aus Stadtbezirk, "
            "Stadtraum und Stadtteil; Spalten: stadtbezirk_nr, stadtbezirk, stadtraum_nr, "
            "stadtraum, stadtteil_nr, stadtteil, urnenwahlbezirke (Zahl der Urnenwahlbezirke "
            "der Kombination). Stadträume sind nicht immer ganze Stadtteile: "
            f"{', '.join(split)} verteilt sich auf zwei Stadträume. Für diesen Katalog aus den "
            "Wahlergebnissen nach Wahlbezirken berechnet.",
            f"Which Stadtteile belong to which of the {n_areas} planning areas (Stadträume) and "
            "city districts, by the assignment of the polling districts in the "
            f"{election.name_en} ({_date_en(election.date)}), the last election for which the "
            "Municipal Statistics Office gives Stadträume. One row per combination of city "
            "district, Stadtraum and Stadtteil; columns: stadtbezirk_nr, stadtbezirk, "
            "stadtraum_nr, stadtraum, stadtteil_nr, stadtteil, urnenwahlbezirke (number of "
            "ballot-box districts of the combination). Stadträume are not always whole "
            f"Stadtteile: {', '.join(split)} is split between two. Computed for this catalogue "
            "from the election results by polling district.",
        ),
        org=PLANNING,
        keywords=("Stadträume", "Stadtteile", "Stadtbezirke", "Gebietsgliederung",
                  "Stadtentwicklung", "Planungsräume"),
        themes=[theme("REGI"), theme("GOVE")],
        kind="CODE_LIST",
        modified=ELECTIONS_DATE,
        periodicity=frequency("IRREG"),
        period=(election.date, election.date),
        distributions=[b.dist(
            rel, ("Gliederung Stadtbezirke – Stadträume – Stadtteile (CSV)",
                  "City districts – Stadträume – Stadtteile (CSV)"),
            (f"{len(table)} Zeilen (berechnet, Daten geändert).",
             f"{len(table)} rows (computed, data changed)."),
            licence=LICENCE_DL_BY, attribution=ATTRIBUTION_DRESDEN, modified=ELECTIONS_DATE,
            conforms_to=[RFC_CSV],
        )],
        sources=[b.iri("wahlergebnisse-wahlbezirke-1999-2024")],
        relations=[b.iri("stadtteile-dresden-2024"), b.iri("stadtbezirke-dresden-2024")],
    )


# --- public transport (VVO, Straßen- und Tiefbauamt, Stadtplanungsamt) -----------------------

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
    "by \"|\")"
)
NOT_STATED_DE = (
    "Lizenz: Für die Originaldaten ist keine Lizenz angegeben; die Datei steht hier nur zur "
    "Demonstration. Vor einer Weiterverwendung die Nutzungsbedingungen {who} prüfen."
)
NOT_STATED_EN = (
    "Licence: no licence is stated for the original data; the file is here for demonstration "
    "only. Check the terms of {who} before any reuse."
)


def _transit(b: _Builder, quarters: list[Quarter]) -> None:
    with (DATA_DIR / VVO_STOPS).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        stops = list(reader)
    districts = sorted({s["id"].split(":")[1] for s in stops})
    lons = [float(s["longitude"]) for s in stops]
    lats = [float(s["latitude"]) for s in stops]
    vvo_de, vvo_en = "der Verkehrsverbund Oberelbe GmbH", "Verkehrsverbund Oberelbe GmbH"
    transit = {"themes": [theme("TRAN")], "modified": VVO_DATE, "availability": AVAILABLE}

    slug_all = "haltestellen-vvo"
    rel = b.copy(VVO_STOPS, "verkehr")
    b.dataset(
        slug_all,
        title=("Haltestellen im Verkehrsverbund Oberelbe (VVO)",
               "Public transport stops of the Verkehrsverbund Oberelbe (VVO)"),
        description=(
            f"Alle {_num_de(len(stops))} Haltestellen von Bus, Straßenbahn, S-Bahn und Zug "
            "im Gebiet des VVO (Dresden und Umland) mit Lage, Verkehrsunternehmen und "
            "Linien, Stand 24. Juli 2026. Die Tabelle erzeugt das Projekt kiliankoe/vvo "
            "regelmäßig aus der Open-Data-Datei VVO_STOPS.JSON des VVO; sie liegt hier "
            f"unverändert. Spalten: {STOP_COLUMNS_DE}. Kreisschlüssel in den IDs: "
            f"{', '.join(districts)}. {NOT_STATED_DE.format(who=vvo_de)}",
            f"All {_num_en(len(stops))} bus, tram, suburban rail and train stops in the "
            "VVO area (Dresden and its region) with location, operators and lines, as of 24 "
            "July 2026. The table is generated regularly by the project kiliankoe/vvo from the "
            "VVO open-data file VVO_STOPS.JSON and is unchanged here. Columns: "
            f"{STOP_COLUMNS_EN}. District keys in the IDs: {', '.join(districts)}. "
            f"{NOT_STATED_EN.format(who=vvo_en)}",
        ),
        org=VVO,
        keywords=("Haltestellen", "ÖPNV", "Öffentlicher Nahverkehr", "Straßenbahn", "Bus",
                  "S-Bahn", "Verkehrsverbund Oberelbe"),
        kind="DIRECTORY",
        periodicity=frequency("IRREG"),
        period=(VVO_DATE, VVO_DATE),
        spatial_wkt=_bbox_wkt((min(lons), min(lats), max(lons), max(lats))),
        geocoding=(f"{GEOCODING_LEVEL}administrativeDistrict",
                   [f"{DISTRICT_KEY}{d}" for d in districts]),
        distributions=[b.dist(
            rel, ("Haltestellen VVO (CSV)", "VVO stops (CSV)"),
            ("Originaldatei (data/stations.csv des Projekts kiliankoe/vvo). "
             + NOT_STATED_DE.format(who=vvo_de),
             "Original file (data/stations.csv of the project kiliankoe/vvo). "
             + NOT_STATED_EN.format(who=vvo_en)),
            licence=LICENCE_NOT_STATED, attribution=ATTRIBUTION_VVO, modified=VVO_DATE,
            conforms_to=[RFC_CSV],
        )],
        relations=[VVO_SOURCE, VVO_REPO, b.iri("haltestellen-dresden")],
        pages=["https://github.com/kiliankoe/vvo"],
        **transit,
    )

    # stops inside the city: district key 14612 (also the localities, whose "city" differs)
    dresden = sorted((s for s in stops if s["id"].split(":")[1] == "14612"), key=lambda s: s["id"])
    named = sum(1 for s in dresden if s["city"] == "Dresden")
    trams = [s for s in dresden if s["tram_lines"]]

    def features(items: list[dict[str, str]]) -> list[dict]:
        keep = ("name", "city", "operators", "tram_lines", "bus_lines", "train_lines",
                "s_bahn_lines")
        return [
            _point(float(s["longitude"]), float(s["latitude"]),
                   {"id": s["id"], **{k: s[k] for k in keep},
                    "total_lines": int(s["total_lines"] or 0)}, s["id"])
            for s in items
        ]

    def bbox(items: list[dict[str, str]]) -> str:
        xs, ys = [float(s["longitude"]) for s in items], [float(s["latitude"]) for s in items]
        return _bbox_wkt((min(xs), min(ys), max(xs), max(ys)))

    derived = {
        "org": ROADS, "kind": "GEOSPATIAL", "conforms_to": [CRS84],
        "periodicity": frequency("IRREG"), "period": (VVO_DATE, VVO_DATE),
        "originators": [VVO.agent()], "sources": [b.iri(slug_all)], **transit,
    }
    slug = "haltestellen-dresden"
    rel_csv = b.write_csv(f"verkehr/{slug}.csv", header, ([s[c] for c in header] for s in dresden))
    rel_geo = b.write_geojson(f"verkehr/{slug}.geojson", features(dresden))
    licence_note = (NOT_STATED_DE.format(who=vvo_de), NOT_STATED_EN.format(who=vvo_en))
    b.dataset(
        slug,
        title=("Haltestellen des öffentlichen Nahverkehrs in Dresden",
               "Public transport stops in Dresden"),
        description=(
            f"Die {len(dresden)} Haltestellen des VVO im Stadtgebiet Dresden (Kreisschlüssel "
            f"14612 in der Haltestellen-ID), davon {named} mit dem Ortsnamen „Dresden“ und "
            f"{len(dresden) - named} in den Ortschaften (z. B. Weixdorf, Langebrück, Weißig, "
            "Cossebaude, Gompitz). Vom Straßen- und Tiefbauamt für diesen Katalog aus der "
            "Haltestellenliste des Verkehrsverbunds Oberelbe (VVO, Stand 24. Juli 2026) "
            "gefiltert; Urheber der Daten ist der VVO. Als CSV mit allen Spalten der Quelle "
            f"({STOP_COLUMNS_DE}) und als GeoJSON (Punkte in WGS84, gleiche Eigenschaften ohne "
            f"numeric_id und name_with_city). {licence_note[0]}",
            f"The {len(dresden)} VVO stops within the city of Dresden (district key 14612 in "
            f"the stop ID): {named} with the place name \"Dresden\" and {len(dresden) - named} "
            "in the outlying localities (e.g. Weixdorf, Langebrück, Weißig, Cossebaude, "
            "Gompitz). Filtered for this catalogue by the Roads and Civil Engineering Office "
            "from the stop list of the Verkehrsverbund Oberelbe (VVO, as of 24 July 2026); the "
            "data is the VVO's. As CSV with all columns of the source ("
            f"{STOP_COLUMNS_EN}) and as GeoJSON (points in WGS84, same properties without "
            f"numeric_id and name_with_city). {licence_note[1]}",
        ),
        keywords=("Haltestellen", "ÖPNV", "Öffentlicher Nahverkehr", "Straßenbahn", "Bus",
                  "Mobilität"),
        spatial_wkt=bbox(dresden),
        distributions=[
            b.dist(rel_csv, ("Haltestellen Dresden (CSV)", "Stops in Dresden (CSV)"),
                   (f"{len(dresden)} Zeilen, gefiltert (Daten geändert). {licence_note[0]}",
                    f"{len(dresden)} rows, filtered (data changed). {licence_note[1]}"),
                   licence=LICENCE_NOT_STATED, attribution=ATTRIBUTION_VVO, modified=VVO_DATE,
                   conforms_to=[RFC_CSV]),
            b.dist(rel_geo, ("Haltestellen Dresden (GeoJSON)", "Stops in Dresden (GeoJSON)"),
                   (f"{len(dresden)} Punkte, RFC 7946 (Daten geändert). {licence_note[0]}",
                    f"{len(dresden)} points, RFC 7946 (data changed). {licence_note[1]}"),
                   licence=LICENCE_NOT_STATED, attribution=ATTRIBUTION_VVO, modified=VVO_DATE,
                   conforms_to=[RFC_GEOJSON]),
        ],
        relations=[b.iri("strassenbahnhaltestellen-dresden"),
                   b.iri("haltestellen-nach-stadtteilen")],
        **derived,
    )

    slug = "strassenbahnhaltestellen-dresden"
    rel_geo = b.write_geojson(f"verkehr/{slug}.geojson", features(trams))
    rel_csv = b.write_csv(f"verkehr/{slug}.csv", header, ([s[c] for c in header] for s in trams))
    lines = sorted({n for s in trams for n in s["tram_lines"].split("|")},
                   key=lambda x: (len(x), x))
    b.dataset(
        slug,
        title=("Straßenbahnhaltestellen in Dresden", "Tram stops in Dresden"),
        description=(
            f"Die {len(trams)} Haltestellen im Stadtgebiet Dresden, an denen laut VVO "
            f"Straßenbahnlinien halten (Linien {', '.join(lines)}), als GeoJSON-Punkte (WGS84) "
            "und CSV. Vom Straßen- und Tiefbauamt für diesen Katalog aus der Haltestellenliste "
            "des VVO (Stand 24. Juli 2026) gefiltert: Haltestellen mit Kreisschlüssel 14612 "
            f"und nicht leerer Spalte tram_lines; Urheber der Daten ist der VVO. Spalten: "
            f"{STOP_COLUMNS_DE}. {licence_note[0]}",
            f"The {len(trams)} stops within Dresden served by tram lines according to the VVO "
            f"(lines {', '.join(lines)}), as GeoJSON points (WGS84) and CSV. Filtered for this "
            "catalogue by the Roads and Civil Engineering Office from the VVO stop list (as of "
            "24 July 2026): stops with district key 14612 and a non-empty tram_lines column; "
            f"the data is the VVO's. Columns: {STOP_COLUMNS_EN}. {licence_note[1]}",
        ),
        keywords=("Straßenbahn", "Haltestellen", "ÖPNV", "Öffentlicher Nahverkehr",
                  "Schienenverkehr"),
        spatial_wkt=bbox(trams),
        distributions=[
            b.dist(rel_geo, ("Straßenbahnhaltestellen (GeoJSON)", "Tram stops (GeoJSON)"),
                   (f"{len(trams)} Punkte, RFC 7946 (Daten geändert). {licence_note[0]}",
                    f"{len(trams)} points, RFC 7946 (data changed). {licence_note[1]}"),
                   licence=LICENCE_NOT_STATED, attribution=ATTRIBUTION_VVO, modified=VVO_DATE,
                   conforms_to=[RFC_GEOJSON]),
            b.dist(rel_csv, ("Straßenbahnhaltestellen (CSV)", "Tram stops (CSV)"),
                   (f"{len(trams)} Zeilen (Daten geändert). {licence_note[0]}",
                    f"{len(trams)} rows (data changed). {licence_note[1]}"),
                   licence=LICENCE_NOT_STATED, attribution=ATTRIBUTION_VVO, modified=VVO_DATE,
                   conforms_to=[RFC_CSV]),
        ],
        relations=[b.iri("haltestellen-dresden")],
        **derived,
    )

    _stops_per_quarter(b, dresden, quarters, licence_note, transit)


def _stops_per_quarter(
    b: _Builder, stops: list[dict[str, str]], quarters: list[Quarter],
    licence_note: tuple[str, str], transit: dict[str, Any],
) -> None:
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
        area = _area_km2(q.geometry)
        table.append([q.nr, q.name, q.district, f"{area:.2f}", n, n_tram, f"{n / area:.2f}"])
    unplaced = int((~placed).sum())
    slug = "haltestellen-nach-stadtteilen"
    rel = b.write_csv(
        f"verkehr/{slug}.csv",
        ["stadtteil_nr", "stadtteil", "stadtbezirk", "flaeche_km2", "haltestellen",
         "haltestellen_strassenbahn", "haltestellen_je_km2"],
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
            f"{licence_note[0]}",
            f"Number of public transport stops in each of the {len(table)} Stadtteile of "
            "Dresden, a simple indicator of public transport coverage. Computed for this "
            "catalogue by the City Planning Office: the VVO stops within the city (as of 24 "
            "July 2026) were assigned to the Stadtteil boundaries 2024 (derived from the "
            "polling districts). Columns: stadtteil_nr, stadtteil, stadtbezirk, flaeche_km2 "
            "(area), haltestellen (stops), haltestellen_strassenbahn (stops with tram lines), "
            f"haltestellen_je_km2 (stops per km²). Stops outside every Stadtteil: {unplaced}. "
            f"The stop data is the VVO's. {licence_note[1]}",
        ),
        org=PLANNING,
        keywords=("Haltestellen", "ÖPNV", "Erschließung", "Stadtteile", "Stadtentwicklung",
                  "Straßenbahn"),
        kind="STATISTICAL",
        periodicity=frequency("IRREG"),
        period=(VVO_DATE, VVO_DATE),
        distributions=[b.dist(
            rel, ("Haltestellen nach Stadtteilen (CSV)", "Stops by Stadtteil (CSV)"),
            (f"{len(table)} Zeilen (berechnet, Daten geändert). {licence_note[0]}",
             f"{len(table)} rows (computed, data changed). {licence_note[1]}"),
            licence=LICENCE_NOT_STATED,
            attribution=f"{ATTRIBUTION_VVO}; {ATTRIBUTION_DRESDEN}",
            modified=VVO_DATE, conforms_to=[RFC_CSV],
        )],
        sources=[b.iri("haltestellen-dresden"), b.iri("stadtteile-dresden-2024")],
        originators=[VVO.agent()],
        relations=[b.iri("stadtteile-dresden-2024")],
        **transit,
    )


# --- air quality (LfULG, Umweltamt) ----------------------------------------------------------

AIR_COLUMNS_DE = (
    "Datum, Zeit (Ende der Messstunde, „00:00“ gehört zum Vortag; leer bei Tageswerten), "
    "BEN (Benzol), DRUCK (Luftdruck, hPa), FEUCHT (relative Feuchte, %), NO, NO2, O3, "
    "PM10_HVS (Feinstaub PM10 gravimetrisch, Tageswert), PM10_TEOM (PM10 kontinuierlich, "
    "Stundenwert), PM2.5 (gravimetrisch, Tageswert), RUSS_PM1 (Ruß), SO2, STRAHL "
    "(Globalstrahlung, W/m²), TEMP (°C), WINDGE (Windgeschwindigkeit, m/s), WINDRI "
    "(Windrichtung, Grad); Konzentrationen in µg/m³. Die zweite Zeile nennt die Einheiten. "
    "Leere Felder: nicht gemessen oder fehlend"
)
AIR_COLUMNS_EN = (
    "Datum (date), Zeit (end of the measuring hour, \"00:00\" belongs to the previous day; "
    "empty for daily values), BEN (benzene), DRUCK (air pressure, hPa), FEUCHT (relative "
    "humidity, %), NO, NO2, O3, PM10_HVS (particulate matter PM10, gravimetric, daily value), "
    "PM10_TEOM (PM10, continuous, hourly value), PM2.5 (gravimetric, daily value), RUSS_PM1 "
    "(soot), SO2, STRAHL (global radiation, W/m²), TEMP (°C), WINDGE (wind speed, m/s), "
    "WINDRI (wind direction, degrees); concentrations in µg/m³. The second line gives the "
    "units. Empty fields: not measured or missing"
)


@dataclass
class StationDay:
    no2: list[float]
    pm10: list[float]
    pm10_gravimetric: float | None = None
    pm25_gravimetric: float | None = None


def _read_station(name: str) -> dict[str, StationDay]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        next(reader)  # the units row
        days: dict[str, StationDay] = defaultdict(lambda: StationDay([], []))
        for row in reader:
            r = dict(zip(header, row, strict=True))
            if not r["Zeit"]:  # daily values (gravimetric)
                day = days[r["Datum"]]
                day.pm10_gravimetric = float(r["PM10_HVS"]) if r["PM10_HVS"] else None
                day.pm25_gravimetric = float(r["PM2.5"]) if r["PM2.5"] else None
                continue
            when = date.fromisoformat(r["Datum"])
            if r["Zeit"] == "00:00":  # the hour 23:00-24:00 of the previous day
                when -= timedelta(days=1)
            day = days[when.isoformat()]
            if r["NO2"]:
                day.no2.append(float(r["NO2"]))
            if r["PM10_TEOM"]:
                day.pm10.append(float(r["PM10_TEOM"]))
    return dict(days)


MIN_HOURS = 18  # a daily mean needs 75 % of the hours (EU data-capture rule)


def _daily(values: list[float]) -> float | None:
    return fmean(values) if len(values) >= MIN_HOURS else None


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _air(b: _Builder) -> None:
    period = ("2019-02-01", "2019-02-28")
    stations = [(name, _read_station(file)) for file, name in AIR_STATIONS]
    raw_slug = "luftqualitaet-dresden-2019-02-stundenwerte"
    daily_slug = "luftqualitaet-dresden-2019-02-tagesmittel"
    summary_slug = "luftqualitaet-dresden-2019-02-monatsuebersicht"
    lfulg_de = "des Sächsischen Landesamts für Umwelt, Landwirtschaft und Geologie (LfULG)"
    lfulg_en = "the Saxon State Office for Environment, Agriculture and Geology (LfULG)"
    note = (NOT_STATED_DE.format(who=lfulg_de), NOT_STATED_EN.format(who=lfulg_en))
    common: dict[str, Any] = {
        "themes": [theme("ENVI"), theme("HEAL")], "periodicity": frequency("NEVER"),
        "period": period, "modified": AIR_DATE, "availability": AVAILABLE,
    }
    station_list = ", ".join(name for name, _ in stations)

    distributions = []
    for file, name in AIR_STATIONS:
        rel = b.copy(file, "umwelt")
        distributions.append(b.dist(
            rel, (f"Messstation {name}, Februar 2019 (CSV)", f"Station {name}, February 2019 "
                  "(CSV)"),
            (f"Stunden- und Tageswerte der Station {name}. {note[0]}",
             f"Hourly and daily values of the station {name}. {note[1]}"),
            licence=LICENCE_NOT_STATED, attribution=ATTRIBUTION_LFULG, modified=AIR_DATE,
            temporal_resolution="PT1H",
        ))
    b.dataset(
        raw_slug,
        title=("Luftqualität an drei Messstationen in Dresden, Februar 2019 (Stundenwerte)",
               "Air quality at three monitoring stations in Dresden, February 2019 (hourly "
               "values)"),
        description=(
            f"Messwerte der Luftmessstationen {station_list} des sächsischen Luftmessnetzes "
            "vom 1. bis 28. Februar 2019: Stundenwerte der Schadstoffe und der Wetterdaten, "
            "dazu an 14 Tagen gravimetrische Tageswerte für PM10 und PM2.5. Eine Datei je "
            "Station, eine Zeile je Stunde bzw. Tag; nicht jede Station misst jeden Stoff. "
            f"Spalten: {AIR_COLUMNS_DE}. Die Daten stammen aus dem Angebot „Luft online“ "
            f"{lfulg_de}; das OK Lab Dresden hat sie abgerufen (Dezimalpunkt, Komma als "
            f"Trenner). {note[0]}",
            f"Measurements of the air monitoring stations {station_list} of the Saxon air "
            "quality network from 1 to 28 February 2019: hourly values of pollutants and "
            "weather, plus gravimetric daily values of PM10 and PM2.5 on 14 days. One file per "
            "station, one row per hour or day; not every station measures every substance. "
            f"Columns: {AIR_COLUMNS_EN}. The data comes from the \"Luft online\" service of "
            f"{lfulg_en}; OK Lab Dresden retrieved it (decimal point, comma separator). "
            f"{note[1]}",
        ),
        org=LFULG,
        keywords=("Luftqualität", "Luftmessnetz", "Feinstaub", "Stickstoffdioxid", "Ozon",
                  "Messwerte", "Immissionen"),
        kind="STATISTICAL",
        distributions=distributions,
        relations=[AIR_SOURCE, AIR_REPO, b.iri(daily_slug), b.iri(summary_slug)],
        pages=["https://github.com/offenesdresden/Luftqualitaet-data"],
        temporal_resolution="PT1H",
        **common,
    )

    header = ["datum", "messstelle", "no2_tagesmittel_ugm3", "no2_max_stundenwert_ugm3",
              "no2_stundenwerte", "pm10_tagesmittel_ugm3", "pm10_stundenwerte",
              "pm10_gravimetrisch_ugm3", "pm25_gravimetrisch_ugm3"]
    table = []
    for name, days in stations:
        for day in sorted(d for d in days if period[0] <= d <= period[1]):
            v = days[day]
            table.append([day, name, _fmt(_daily(v.no2)), _fmt(max(v.no2) if v.no2 else None),
                          len(v.no2), _fmt(_daily(v.pm10)), len(v.pm10),
                          _fmt(v.pm10_gravimetric), _fmt(v.pm25_gravimetric)])
    table.sort(key=lambda row: (row[0], row[1]))
    rel = b.write_csv(f"umwelt/{daily_slug}.csv", header, table)
    derived: dict[str, Any] = {
        "org": ENVIRONMENT, "kind": "STATISTICAL", "originators": [LFULG.agent()],
        "sources": [b.iri(raw_slug)], **common,
    }
    b.dataset(
        daily_slug,
        title=("Luftqualität in Dresden, Februar 2019: Tagesmittel von PM10 und NO2",
               "Air quality in Dresden, February 2019: daily means of PM10 and NO2"),
        description=(
            f"Tagesmittelwerte von Stickstoffdioxid (NO2) und Feinstaub (PM10) an den "
            f"Messstationen {station_list} für jeden Tag vom 1. bis 28. Februar 2019 "
            f"({len(table)} Zeilen). Vom Umweltamt für diesen Katalog aus den Stundenwerten "
            f"{lfulg_de} berechnet (Datensatz „Luftqualität an drei Messstationen in Dresden, "
            "Februar 2019“): Mittel der Stunden 0–24 Uhr, nur wenn mindestens 18 Stundenwerte "
            "vorliegen (75 %), sonst leer. Spalten: datum, messstelle, no2_tagesmittel_ugm3, "
            "no2_max_stundenwert_ugm3, no2_stundenwerte (Anzahl), pm10_tagesmittel_ugm3 (aus "
            "der kontinuierlichen Messung PM10_TEOM), pm10_stundenwerte, "
            "pm10_gravimetrisch_ugm3 und pm25_gravimetrisch_ugm3 (Tageswerte des "
            "Referenzverfahrens, nur jeden zweiten Tag); alle Werte in µg/m³. Zum Vergleich: "
            f"Der EU-Grenzwert für das PM10-Tagesmittel ist 50 µg/m³. {note[0]}",
            "Daily means of nitrogen dioxide (NO2) and particulate matter (PM10) at the "
            f"stations {station_list} for each day from 1 to 28 February 2019 ({len(table)} "
            "rows). Computed for this catalogue by the Environmental Office from the hourly "
            f"values of {lfulg_en} (dataset \"Air quality at three monitoring stations in "
            "Dresden, February 2019\"): mean of the hours 0–24 h, only with at least 18 hourly "
            "values (75 %), else empty. Columns: datum (date), messstelle (station), "
            "no2_tagesmittel_ugm3 (daily mean), no2_max_stundenwert_ugm3 (highest hourly "
            "value), no2_stundenwerte (number of hourly values), pm10_tagesmittel_ugm3 (from "
            "the continuous PM10_TEOM measurement), pm10_stundenwerte, pm10_gravimetrisch_ugm3 "
            "and pm25_gravimetrisch_ugm3 (daily values of the reference method, every other "
            "day only); all values in µg/m³. For comparison: the EU limit for the daily mean "
            f"of PM10 is 50 µg/m³. {note[1]}",
        ),
        keywords=("Luftqualität", "Feinstaub", "Stickstoffdioxid", "Tagesmittelwerte",
                  "Grenzwerte", "Umweltüberwachung"),
        distributions=[b.dist(
            rel, ("Tagesmittel PM10 und NO2, Februar 2019 (CSV)",
                  "Daily means of PM10 and NO2, February 2019 (CSV)"),
            (f"{len(table)} Zeilen, eine je Tag und Station (berechnet, Daten geändert). "
             f"{note[0]}", f"{len(table)} rows, one per day and station (computed, data "
             f"changed). {note[1]}"),
            licence=LICENCE_NOT_STATED, attribution=ATTRIBUTION_LFULG, modified=AIR_DATE,
            conforms_to=[RFC_CSV], temporal_resolution="P1D",
        )],
        relations=[b.iri(summary_slug)],
        temporal_resolution="P1D",
        **derived,
    )

    summary = []
    for name, days in stations:
        inside = [days[d] for d in sorted(days) if period[0] <= d <= period[1]]
        no2 = [x for v in inside for x in v.no2]
        pm10 = [x for v in inside for x in v.pm10]
        pm10_days = [m for v in inside if (m := _daily(v.pm10)) is not None]
        grav = [v.pm10_gravimetric for v in inside if v.pm10_gravimetric is not None]
        grav25 = [v.pm25_gravimetric for v in inside if v.pm25_gravimetric is not None]
        summary.append([
            name, _fmt(fmean(no2) if no2 else None), _fmt(max(no2) if no2 else None),
            sum(1 for x in no2 if x > 200), len(no2),
            _fmt(fmean(pm10) if pm10 else None), _fmt(max(pm10_days) if pm10_days else None),
            sum(1 for m in pm10_days if m > 50), len(pm10_days),
            _fmt(fmean(grav) if grav else None), sum(1 for x in grav if x > 50), len(grav),
            _fmt(fmean(grav25) if grav25 else None),
        ])
    rel = b.write_csv(
        f"umwelt/{summary_slug}.csv",
        ["messstelle", "no2_mittel_ugm3", "no2_max_stundenwert_ugm3", "no2_stunden_ueber_200",
         "no2_stundenwerte", "pm10_mittel_ugm3", "pm10_max_tagesmittel_ugm3",
         "pm10_tage_ueber_50", "pm10_tage", "pm10_gravimetrisch_mittel_ugm3",
         "pm10_gravimetrisch_tage_ueber_50", "pm10_gravimetrisch_tage",
         "pm25_gravimetrisch_mittel_ugm3"],
        summary,
    )
    b.dataset(
        summary_slug,
        title=("Luftqualität in Dresden, Februar 2019: Monatsübersicht je Messstation",
               "Air quality in Dresden, February 2019: monthly summary per station"),
        description=(
            f"Kennzahlen für Februar 2019 an den Messstationen {station_list}, eine Zeile je "
            "Station. Vom Umweltamt für diesen Katalog aus den Stundenwerten "
            f"{lfulg_de} berechnet. Spalten: messstelle, no2_mittel_ugm3 (Mittel aller "
            "Stundenwerte), no2_max_stundenwert_ugm3, no2_stunden_ueber_200 (Stunden über dem "
            "EU-Stundengrenzwert 200 µg/m³), no2_stundenwerte, pm10_mittel_ugm3 (kontinuierliche "
            "Messung), pm10_max_tagesmittel_ugm3, pm10_tage_ueber_50 (Tage mit Tagesmittel über "
            "dem EU-Grenzwert 50 µg/m³), pm10_tage (Tage mit gültigem Tagesmittel, mindestens "
            "18 Stundenwerte), pm10_gravimetrisch_mittel_ugm3, "
            "pm10_gravimetrisch_tage_ueber_50, pm10_gravimetrisch_tage und "
            "pm25_gravimetrisch_mittel_ugm3 (Referenzverfahren, jeden zweiten Tag). Ein "
            "Monatsmittel ist nicht mit dem Jahresgrenzwert vergleichbar. "
            f"{note[0]}",
            f"Key figures for February 2019 at the stations {station_list}, one row per "
            f"station. Computed for this catalogue by the Environmental Office from the hourly "
            f"values of {lfulg_en}. Columns: messstelle (station), no2_mittel_ugm3 (mean of all "
            "hourly values), no2_max_stundenwert_ugm3 (highest hourly value), "
            "no2_stunden_ueber_200 (hours above the EU hourly limit of 200 µg/m³), "
            "no2_stundenwerte (number of hourly values), pm10_mittel_ugm3 (continuous "
            "measurement), pm10_max_tagesmittel_ugm3 (highest daily mean), pm10_tage_ueber_50 "
            "(days with a daily mean above the EU limit of 50 µg/m³), pm10_tage (days with a "
            "valid daily mean, at least 18 hourly values), pm10_gravimetrisch_mittel_ugm3, "
            "pm10_gravimetrisch_tage_ueber_50, pm10_gravimetrisch_tage and "
            "pm25_gravimetrisch_mittel_ugm3 (reference method, every other day). A monthly "
            f"mean cannot be compared with the annual limit value. {note[1]}",
        ),
        keywords=("Luftqualität", "Feinstaub", "Stickstoffdioxid", "Grenzwertüberschreitungen",
                  "Monatswerte", "Umweltüberwachung"),
        distributions=[b.dist(
            rel, ("Monatsübersicht Februar 2019 (CSV)", "Monthly summary February 2019 (CSV)"),
            (f"{len(summary)} Zeilen, eine je Station (berechnet, Daten geändert). {note[0]}",
             f"{len(summary)} rows, one per station (computed, data changed). {note[1]}"),
            licence=LICENCE_NOT_STATED, attribution=ATTRIBUTION_LFULG, modified=AIR_DATE,
            conforms_to=[RFC_CSV], temporal_resolution="P1M",
        )],
        relations=[b.iri(daily_slug)],
        **derived,
    )


# --- data services ---------------------------------------------------------------------------


def _service(
    b: _Builder, slug: str, org: Org, *, title: tuple[str, str], description: tuple[str, str],
    endpoint: str, endpoint_description: str, conforms_to: Sequence[str], formats: Sequence[str],
    serves: Sequence[str], licence: str, keywords: Sequence[str], modified: str,
) -> None:
    b.resources.append(model.DataService(
        uri=b.iri(slug),
        identifier=[slug],
        title={"de": title[0], "en": title[1]},
        description={"de": description[0], "en": description[1]},
        publisher=org.agent(),
        contact_points=[org.contact()],
        keywords=[model.LangStr(k, "de") for k in keywords],
        themes=[theme("GOVE")],
        issued=modified,
        modified=modified,
        availability=STABLE,
        access_rights=PUBLIC,
        license=licence,
        conforms_to=list(conforms_to),
        languages=[DEU],
        contributor_ids=[CONTRIBUTOR_ID],
        landing_pages=[b.iri(slug)],
        endpoint_urls=[endpoint],
        endpoint_descriptions=[endpoint_description],
        serves_datasets=list(serves),
        formats=list(formats),
    ))


def _services(b: _Builder, modified: str) -> None:
    served = sorted(r.uri for r in b.resources if isinstance(r, model.Dataset) and r.uri)
    base = b.base
    _service(
        b, "dcat-katalogschnittstelle", CITY,
        title=("DCAT-AP.de-Schnittstelle dieses Katalogs (ODApp)",
               "DCAT-AP.de endpoint of this catalogue (ODApp)"),
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
        formats=[f"{EU}file-type/{f}" for f in ("RDF_TURTLE", "RDF_XML", "JSON_LD",
                                                 "RDF_N_TRIPLES")],
        serves=served,
        licence=LICENCE_DL_BY,
        keywords=("Metadaten", "Datenkatalog", "Schnittstelle", "DCAT-AP.de", "Harvesting",
                  "Datensätze"),
        modified=modified,
    )
    _service(
        b, "ogc-api-features-dresden", GEODATA,
        title=("OGC-API-Features-Dienst der Landeshauptstadt Dresden (kommisdd.dresden.de)",
               "OGC API Features service of the City of Dresden (kommisdd.dresden.de)"),
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
        keywords=("Geodaten", "Geodatendienst", "Schnittstelle", "OGC API", "Wahlbezirke",
                  "Geoinformation"),
        modified=ELECTIONS_DATE,
    )


# --- entry point -----------------------------------------------------------------------------


def build_demo(base_url: str, files_dir: Path) -> tuple[model.Catalog, list[model.Resource]]:
    """Write the demo files into ``files_dir`` and return the catalogue record and its
    resources (datasets, one series, two data services), all with full DCAT-AP.de metadata.

    Every distribution is a file under ``files_dir``, served by ODApp at
    ``{base_url}/files/<relative path>``.
    """
    files_dir = Path(files_dir)
    b = _Builder(base_url, files_dir)
    rows = _read_elections()
    _elections(b, rows)
    quarters = _areas(b, rows)
    _transit(b, quarters)
    _air(b)
    newest = max(r.modified for r in b.resources if r.modified)
    _services(b, newest)
    catalog = model.Catalog(
        uri=f"{b.base}/catalog",
        title={"de": "Offene Daten Dresden (Demo)", "en": "Open Data Dresden (demo)"},
        description={
            "de": "Demonstrationskatalog von ODApp mit echten offenen Daten aus Dresden: "
                  "Wahlergebnisse 1999–2024 nach Wahlbezirken, Wahlbezirks-, Stadtteil- und "
                  "Stadtbezirksgrenzen, Haltestellen des Verkehrsverbunds Oberelbe und "
                  "Luftmesswerte des LfULG. Neben den Originaldateien enthält er Dateien, die "
                  "ODApp daraus berechnet hat (gefiltert, zusammengefasst, verschnitten); jede "
                  "Beschreibung nennt Quelle und Verfahren. Die Zuordnung der abgeleiteten "
                  "Datensätze zu Ämtern der Stadtverwaltung ist beispielhaft. Für die Daten "
                  "des VVO und des LfULG ist keine Lizenz angegeben: sie stehen hier nur zur "
                  "Demonstration.",
            "en": "ODApp demonstration catalogue with real open data from Dresden: election "
                  "results 1999–2024 by polling district, boundaries of polling districts, "
                  "Stadtteile and city districts, public transport stops of the Verkehrsverbund "
                  "Oberelbe and air-quality measurements of the LfULG. Besides the original "
                  "files it holds files ODApp computed from them (filtered, aggregated, "
                  "intersected); every description names the source and the method. Which "
                  "city office publishes a derived dataset is illustrative. No licence is "
                  "stated for the VVO and LfULG data: they are here for demonstration only.",
        },
        publisher=CITY.agent(),
        issued=newest,
        modified=newest,
        languages=[DEU, ENG],
        homepage=f"{b.base}/",
        license=LICENCE_DL_BY,
        theme_taxonomies=[f"{EU}data-theme"],
        availability=STABLE,
        spatial=[model.Location(geometry=DRESDEN_WKT, bbox=DRESDEN_WKT)],
    )
    return catalog, b.resources
