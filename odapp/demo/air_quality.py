"""Air quality in Dresden, February 2019: the hourly values of three stations of the Saxon air
monitoring network (LfULG) and the daily means and monthly summary computed from them
(Umweltamt)."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import fmean
from typing import Any

from odapp.demo.builder import Builder
from odapp.demo.organisations import ENVIRONMENT, LFULG
from odapp.demo.sources import AIR_DATE, AIR_REPO, AIR_SOURCE, AIR_STATIONS, DEMO_DATA, LFULG_TERMS
from odapp.demo.text import not_stated_note
from odapp.demo.vocab import AVAILABLE, RFC_CSV, frequency, theme

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
    'Datum (date), Zeit (end of the measuring hour, "00:00" belongs to the previous day; '
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
    with (DEMO_DATA / name).open(encoding="utf-8", newline="") as fh:
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


PERIOD = ("2019-02-01", "2019-02-28")
HOURLY_SLUG = "luftqualitaet-dresden-2019-02-stundenwerte"
DAILY_SLUG = "luftqualitaet-dresden-2019-02-tagesmittel"
SUMMARY_SLUG = "luftqualitaet-dresden-2019-02-monatsuebersicht"
LFULG_DE = "des Sächsischen Landesamts für Umwelt, Landwirtschaft und Geologie (LfULG)"
LFULG_EN = "the Saxon State Office for Environment, Agriculture and Geology (LfULG)"
NOTE = not_stated_note(LFULG_DE, LFULG_EN)
STATION_LIST = ", ".join(name for _, name in AIR_STATIONS)
AIR_FIELDS: Mapping[str, Any] = {
    "themes": (theme("ENVI"), theme("HEAL")),
    "periodicity": frequency("NEVER"),
    "period": PERIOD,
    "modified": AIR_DATE,
    "availability": AVAILABLE,
}


def add_air_quality(b: Builder) -> None:
    """The stations' files, the daily means and the monthly summary."""
    _hourly_values(b)
    stations = [(name, _read_station(file)) for file, name in AIR_STATIONS]
    derived: dict[str, Any] = {
        "org": ENVIRONMENT,
        "kind": "STATISTICAL",
        "originators": [LFULG.agent()],
        "sources": [b.iri(HOURLY_SLUG)],
        **AIR_FIELDS,
    }
    _daily_means(b, stations, derived)
    _monthly_summary(b, stations, derived)


def _hourly_values(b: Builder) -> None:
    distributions = []
    for file, name in AIR_STATIONS:
        rel = b.copy(file, "umwelt")
        distributions.append(
            b.dist(
                rel,
                (f"Messstation {name}, Februar 2019 (CSV)", f"Station {name}, February 2019 (CSV)"),
                (
                    f"Stunden- und Tageswerte der Station {name}. {NOTE[0]}",
                    f"Hourly and daily values of the station {name}. {NOTE[1]}",
                ),
                LFULG_TERMS,
                temporal_resolution="PT1H",
            )
        )
    b.dataset(
        HOURLY_SLUG,
        title=(
            "Luftqualität an drei Messstationen in Dresden, Februar 2019 (Stundenwerte)",
            "Air quality at three monitoring stations in Dresden, February 2019 (hourly values)",
        ),
        description=(
            f"Messwerte der Luftmessstationen {STATION_LIST} des sächsischen Luftmessnetzes "
            "vom 1. bis 28. Februar 2019: Stundenwerte der Schadstoffe und der Wetterdaten, "
            "dazu an 14 Tagen gravimetrische Tageswerte für PM10 und PM2.5. Eine Datei je "
            "Station, eine Zeile je Stunde bzw. Tag; nicht jede Station misst jeden Stoff. "
            f"Spalten: {AIR_COLUMNS_DE}. Die Daten stammen aus dem Angebot „Luft online“ "
            f"{LFULG_DE}; das OK Lab Dresden hat sie abgerufen (Dezimalpunkt, Komma als "
            f"Trenner). {NOTE[0]}",
            f"Measurements of the air monitoring stations {STATION_LIST} of the Saxon air "
            "quality network from 1 to 28 February 2019: hourly values of pollutants and "
            "weather, plus gravimetric daily values of PM10 and PM2.5 on 14 days. One file per "
            "station, one row per hour or day; not every station measures every substance. "
            f'Columns: {AIR_COLUMNS_EN}. The data comes from the "Luft online" service of '
            f"{LFULG_EN}; OK Lab Dresden retrieved it (decimal point, comma separator). "
            f"{NOTE[1]}",
        ),
        org=LFULG,
        keywords=(
            "Luftqualität",
            "Luftmessnetz",
            "Feinstaub",
            "Stickstoffdioxid",
            "Ozon",
            "Messwerte",
            "Immissionen",
        ),
        kind="STATISTICAL",
        distributions=distributions,
        relations=[AIR_SOURCE, AIR_REPO, b.iri(DAILY_SLUG), b.iri(SUMMARY_SLUG)],
        pages=["https://github.com/offenesdresden/Luftqualitaet-data"],
        temporal_resolution="PT1H",
        **AIR_FIELDS,
    )


def _daily_means(
    b: Builder, stations: list[tuple[str, dict[str, StationDay]]], derived: dict[str, Any]
) -> None:
    header = [
        "datum",
        "messstelle",
        "no2_tagesmittel_ugm3",
        "no2_max_stundenwert_ugm3",
        "no2_stundenwerte",
        "pm10_tagesmittel_ugm3",
        "pm10_stundenwerte",
        "pm10_gravimetrisch_ugm3",
        "pm25_gravimetrisch_ugm3",
    ]
    table = []
    for name, days in stations:
        for day in sorted(d for d in days if PERIOD[0] <= d <= PERIOD[1]):
            v = days[day]
            table.append(
                [
                    day,
                    name,
                    _fmt(_daily(v.no2)),
                    _fmt(max(v.no2) if v.no2 else None),
                    len(v.no2),
                    _fmt(_daily(v.pm10)),
                    len(v.pm10),
                    _fmt(v.pm10_gravimetric),
                    _fmt(v.pm25_gravimetric),
                ]
            )
    table.sort(key=lambda row: (row[0], row[1]))
    rel = b.write_csv(f"umwelt/{DAILY_SLUG}.csv", header, table)
    b.dataset(
        DAILY_SLUG,
        title=(
            "Luftqualität in Dresden, Februar 2019: Tagesmittel von PM10 und NO2",
            "Air quality in Dresden, February 2019: daily means of PM10 and NO2",
        ),
        description=(
            f"Tagesmittelwerte von Stickstoffdioxid (NO2) und Feinstaub (PM10) an den "
            f"Messstationen {STATION_LIST} für jeden Tag vom 1. bis 28. Februar 2019 "
            f"({len(table)} Zeilen). Vom Umweltamt für diesen Katalog aus den Stundenwerten "
            f"{LFULG_DE} berechnet (Datensatz „Luftqualität an drei Messstationen in Dresden, "
            "Februar 2019“): Mittel der Stunden 0–24 Uhr, nur wenn mindestens 18 Stundenwerte "
            "vorliegen (75 %), sonst leer. Spalten: datum, messstelle, no2_tagesmittel_ugm3, "
            "no2_max_stundenwert_ugm3, no2_stundenwerte (Anzahl), pm10_tagesmittel_ugm3 (aus "
            "der kontinuierlichen Messung PM10_TEOM), pm10_stundenwerte, "
            "pm10_gravimetrisch_ugm3 und pm25_gravimetrisch_ugm3 (Tageswerte des "
            "Referenzverfahrens, nur jeden zweiten Tag); alle Werte in µg/m³. Zum Vergleich: "
            f"Der EU-Grenzwert für das PM10-Tagesmittel ist 50 µg/m³. {NOTE[0]}",
            "Daily means of nitrogen dioxide (NO2) and particulate matter (PM10) at the "
            f"stations {STATION_LIST} for each day from 1 to 28 February 2019 ({len(table)} "
            "rows). Computed for this catalogue by the Environmental Office from the hourly "
            f'values of {LFULG_EN} (dataset "Air quality at three monitoring stations in '
            'Dresden, February 2019"): mean of the hours 0–24 h, only with at least 18 hourly '
            "values (75 %), else empty. Columns: datum (date), messstelle (station), "
            "no2_tagesmittel_ugm3 (daily mean), no2_max_stundenwert_ugm3 (highest hourly "
            "value), no2_stundenwerte (number of hourly values), pm10_tagesmittel_ugm3 (from "
            "the continuous PM10_TEOM measurement), pm10_stundenwerte, pm10_gravimetrisch_ugm3 "
            "and pm25_gravimetrisch_ugm3 (daily values of the reference method, every other "
            "day only); all values in µg/m³. For comparison: the EU limit for the daily mean "
            f"of PM10 is 50 µg/m³. {NOTE[1]}",
        ),
        keywords=(
            "Luftqualität",
            "Feinstaub",
            "Stickstoffdioxid",
            "Tagesmittelwerte",
            "Grenzwerte",
            "Umweltüberwachung",
        ),
        distributions=[
            b.dist(
                rel,
                (
                    "Tagesmittel PM10 und NO2, Februar 2019 (CSV)",
                    "Daily means of PM10 and NO2, February 2019 (CSV)",
                ),
                (
                    f"{len(table)} Zeilen, eine je Tag und Station (berechnet, Daten geändert). "
                    f"{NOTE[0]}",
                    f"{len(table)} rows, one per day and station (computed, data "
                    f"changed). {NOTE[1]}",
                ),
                LFULG_TERMS,
                conforms_to=[RFC_CSV],
                temporal_resolution="P1D",
            )
        ],
        relations=[b.iri(SUMMARY_SLUG)],
        temporal_resolution="P1D",
        **derived,
    )


def _monthly_summary(
    b: Builder, stations: list[tuple[str, dict[str, StationDay]]], derived: dict[str, Any]
) -> None:
    summary = []
    for name, days in stations:
        inside = [days[d] for d in sorted(days) if PERIOD[0] <= d <= PERIOD[1]]
        no2 = [x for v in inside for x in v.no2]
        pm10 = [x for v in inside for x in v.pm10]
        pm10_days = [m for v in inside if (m := _daily(v.pm10)) is not None]
        grav = [v.pm10_gravimetric for v in inside if v.pm10_gravimetric is not None]
        grav25 = [v.pm25_gravimetric for v in inside if v.pm25_gravimetric is not None]
        summary.append(
            [
                name,
                _fmt(fmean(no2) if no2 else None),
                _fmt(max(no2) if no2 else None),
                sum(1 for x in no2 if x > 200),
                len(no2),
                _fmt(fmean(pm10) if pm10 else None),
                _fmt(max(pm10_days) if pm10_days else None),
                sum(1 for m in pm10_days if m > 50),
                len(pm10_days),
                _fmt(fmean(grav) if grav else None),
                sum(1 for x in grav if x > 50),
                len(grav),
                _fmt(fmean(grav25) if grav25 else None),
            ]
        )
    rel = b.write_csv(
        f"umwelt/{SUMMARY_SLUG}.csv",
        [
            "messstelle",
            "no2_mittel_ugm3",
            "no2_max_stundenwert_ugm3",
            "no2_stunden_ueber_200",
            "no2_stundenwerte",
            "pm10_mittel_ugm3",
            "pm10_max_tagesmittel_ugm3",
            "pm10_tage_ueber_50",
            "pm10_tage",
            "pm10_gravimetrisch_mittel_ugm3",
            "pm10_gravimetrisch_tage_ueber_50",
            "pm10_gravimetrisch_tage",
            "pm25_gravimetrisch_mittel_ugm3",
        ],
        summary,
    )
    b.dataset(
        SUMMARY_SLUG,
        title=(
            "Luftqualität in Dresden, Februar 2019: Monatsübersicht je Messstation",
            "Air quality in Dresden, February 2019: monthly summary per station",
        ),
        description=(
            f"Kennzahlen für Februar 2019 an den Messstationen {STATION_LIST}, eine Zeile je "
            "Station. Vom Umweltamt für diesen Katalog aus den Stundenwerten "
            f"{LFULG_DE} berechnet. Spalten: messstelle, no2_mittel_ugm3 (Mittel aller "
            "Stundenwerte), no2_max_stundenwert_ugm3, no2_stunden_ueber_200 (Stunden über dem "
            "EU-Stundengrenzwert 200 µg/m³), no2_stundenwerte, pm10_mittel_ugm3 (kontinuierliche "
            "Messung), pm10_max_tagesmittel_ugm3, pm10_tage_ueber_50 (Tage mit Tagesmittel über "
            "dem EU-Grenzwert 50 µg/m³), pm10_tage (Tage mit gültigem Tagesmittel, mindestens "
            "18 Stundenwerte), pm10_gravimetrisch_mittel_ugm3, "
            "pm10_gravimetrisch_tage_ueber_50, pm10_gravimetrisch_tage und "
            "pm25_gravimetrisch_mittel_ugm3 (Referenzverfahren, jeden zweiten Tag). Ein "
            "Monatsmittel ist nicht mit dem Jahresgrenzwert vergleichbar. "
            f"{NOTE[0]}",
            f"Key figures for February 2019 at the stations {STATION_LIST}, one row per "
            f"station. Computed for this catalogue by the Environmental Office from the hourly "
            f"values of {LFULG_EN}. Columns: messstelle (station), no2_mittel_ugm3 (mean of all "
            "hourly values), no2_max_stundenwert_ugm3 (highest hourly value), "
            "no2_stunden_ueber_200 (hours above the EU hourly limit of 200 µg/m³), "
            "no2_stundenwerte (number of hourly values), pm10_mittel_ugm3 (continuous "
            "measurement), pm10_max_tagesmittel_ugm3 (highest daily mean), pm10_tage_ueber_50 "
            "(days with a daily mean above the EU limit of 50 µg/m³), pm10_tage (days with a "
            "valid daily mean, at least 18 hourly values), pm10_gravimetrisch_mittel_ugm3, "
            "pm10_gravimetrisch_tage_ueber_50, pm10_gravimetrisch_tage and "
            "pm25_gravimetrisch_mittel_ugm3 (reference method, every other day). A monthly "
            f"mean cannot be compared with the annual limit value. {NOTE[1]}",
        ),
        keywords=(
            "Luftqualität",
            "Feinstaub",
            "Stickstoffdioxid",
            "Grenzwertüberschreitungen",
            "Monatswerte",
            "Umweltüberwachung",
        ),
        distributions=[
            b.dist(
                rel,
                ("Monatsübersicht Februar 2019 (CSV)", "Monthly summary February 2019 (CSV)"),
                (
                    f"{len(summary)} Zeilen, eine je Station (berechnet, Daten geändert). "
                    f"{NOTE[0]}",
                    f"{len(summary)} rows, one per station (computed, data changed). {NOTE[1]}",
                ),
                LFULG_TERMS,
                conforms_to=[RFC_CSV],
                temporal_resolution="P1M",
            )
        ],
        relations=[b.iri(DAILY_SLUG)],
        **derived,
    )
