"""The input files in ``odapp/demo_data``, where they come from, and the terms they come with
(origin, commit and licence of each in ``demo_data/SOURCES.md``)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

from odapp.demo.vocab import (
    ATTRIBUTION_DRESDEN,
    ATTRIBUTION_LFULG,
    ATTRIBUTION_OSM,
    ATTRIBUTION_VVO,
    LICENCE_DL_BY,
    LICENCE_NOT_STATED,
    LICENCE_ODBL,
)

# package data of ``odapp``: found the same way from a checkout, an editable install and a wheel
DEMO_DATA: Traversable = files("odapp") / "demo_data"

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
class Terms:
    """Licence, attribution and date of a source: every file copied or derived from it has them."""

    licence: str
    attribution: str
    modified: str


DRESDEN_TERMS = Terms(LICENCE_DL_BY, ATTRIBUTION_DRESDEN, ELECTIONS_DATE)
OSM_TERMS = Terms(LICENCE_ODBL, ATTRIBUTION_OSM, OSM_DATE)
VVO_TERMS = Terms(LICENCE_NOT_STATED, ATTRIBUTION_VVO, VVO_DATE)
LFULG_TERMS = Terms(LICENCE_NOT_STATED, ATTRIBUTION_LFULG, AIR_DATE)
