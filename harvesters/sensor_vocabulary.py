"""What sensors measure, named once for every sensor source: observed properties (the EEA
pollutant vocabulary where it has one, else ``urn:odapp:observed-property:…``) and units
(UCUM). The store keys observed properties by definition, so two sources describing the same
quantity must use the same name and definition here, or they would overwrite each other."""

from __future__ import annotations

from urllib.parse import quote

UCUM = "http://unitsofmeasure.org/ucum.html#"
EIONET = "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/"
OWN = "urn:odapp:observed-property:"


def unit(name: str, symbol: str, ucum: str | None) -> dict[str, str]:
    definition = UCUM + quote(ucum, safe="/") if ucum else ""
    return {"name": name, "symbol": symbol, "definition": definition}


def prop(name: str, definition: str, description: str = "") -> dict[str, str]:
    return {"name": name, "definition": definition, "description": description}


UG_M3 = unit("Mikrogramm pro Kubikmeter", "µg/m³", "ug/m3")
MG_M3 = unit("Milligramm pro Kubikmeter", "mg/m³", "mg/m3")
NG_M3 = unit("Nanogramm pro Kubikmeter", "ng/m³", "ng/m3")
HPA = unit("Hektopascal", "hPa", "hPa")
PA = unit("Pascal", "Pa", "Pa")
PERCENT = unit("Prozent", "%", "%")
W_M2 = unit("Watt pro Quadratmeter", "W/m²", "W/m2")
CELSIUS = unit("Grad Celsius", "°C", "Cel")
M_S = unit("Meter pro Sekunde", "m/s", "m/s")
DEGREE = unit("Grad", "°", "deg")
KELVIN = unit("Kelvin", "K", "K")
MM = unit("Millimeter", "mm", "mm")
PPB = unit("Teile pro Milliarde", "ppb", "[ppb]")
PPM = unit("Teile pro Million", "ppm", "[ppm]")
LUX = unit("Lux", "lx", "lx")
DB_A = unit("Dezibel (A-bewertet)", "dB(A)", None)

# a unit as written (folded: lower case, µ/μ -> u, ³ -> 3, ² -> 2, no spaces) -> unit
UNITS = {
    "ug/m3": UG_M3,
    "mg/m3": MG_M3,
    "ng/m3": NG_M3,
    "hpa": HPA,
    "mbar": HPA,
    "pa": PA,
    "proz": PERCENT,
    "%": PERCENT,
    "prozent": PERCENT,
    "w/m2": W_M2,
    "gradc": CELSIUS,
    "°c": CELSIUS,
    "gradcelsius": CELSIUS,
    "degc": CELSIUS,
    "m/sec": M_S,
    "m/s": M_S,
    "grad": DEGREE,
    "°": DEGREE,
    "deg": DEGREE,
    "k": KELVIN,
    "mm": MM,
    "ppb": PPB,
    "ppm": PPM,
    "lx": LUX,
    "db(a)": DB_A,
}


def fold_unit(text: str) -> str:
    return (
        text.strip().lower().replace("µ", "u").replace("μ", "u").replace("³", "3")
        .replace("²", "2").replace(" ", "")
    )  # fmt: skip


def unit_of(text: str | None) -> dict[str, str] | None:
    """The unit written as ``text``; an unknown one keeps its spelling as name and symbol."""
    if not text:
        return None
    known = UNITS.get(fold_unit(text))
    return dict(known) if known else {"name": text.strip(), "symbol": text.strip()}


PM10 = prop(
    "Feinstaub PM10", EIONET + "5", "Partikel mit einem aerodynamischen Durchmesser bis 10 µm"
)
PM25 = prop(
    "Feinstaub PM2,5", EIONET + "6001", "Partikel mit einem aerodynamischen Durchmesser bis 2,5 µm"
)
PM1 = prop(
    "Feinstaub PM1",
    OWN + "feinstaub-pm1",
    "Partikel mit einem aerodynamischen Durchmesser bis 1 µm",
)
PM4 = prop(
    "Feinstaub PM4",
    OWN + "feinstaub-pm4",
    "Partikel mit einem aerodynamischen Durchmesser bis 4 µm",
)
NO2 = prop("Stickstoffdioxid", EIONET + "8")
NO = prop("Stickstoffmonoxid", EIONET + "38")
NOX = prop("Stickoxide (als NO2)", EIONET + "9")
O3 = prop("Ozon", EIONET + "7")
SO2 = prop("Schwefeldioxid", EIONET + "1")
CO = prop("Kohlenmonoxid", EIONET + "10")
BENZENE = prop("Benzol", EIONET + "20")
SOOT = prop("Ruß (PM1)", OWN + "russ-pm1", "Ruß (Black Carbon) in Partikeln bis 1 µm")
TEMPERATURE = prop("Lufttemperatur", OWN + "lufttemperatur")
HUMIDITY = prop("relative Luftfeuchte", OWN + "relative-luftfeuchte")
PRESSURE = prop("Luftdruck", OWN + "luftdruck")
SEA_LEVEL_PRESSURE = prop("Luftdruck auf Meereshöhe", OWN + "luftdruck-meereshoehe")
RADIATION = prop("Globalstrahlung", OWN + "globalstrahlung")
WIND_SPEED = prop("Windgeschwindigkeit", OWN + "windgeschwindigkeit")
WIND_DIRECTION = prop("Windrichtung", OWN + "windrichtung")
