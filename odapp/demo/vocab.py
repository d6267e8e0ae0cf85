"""The vocabularies of the demo records: EU authority tables, dcat-ap.de licences and
geocoding, media types and the specifications the files conform to."""

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


GEODCATAP_ORIGINATOR = "http://data.europa.eu/930/originator"


def theme(code: str) -> str:
    return f"{EU}data-theme/{code}"


def frequency(code: str) -> str:
    return f"{EU}frequency/{code}"


def dataset_type(code: str) -> str:
    return f"{EU}dataset-type/{code}"
