"""Every Thing with its Datastreams as a DCAT-AP.de dataset: its time coverage and
``dct:modified`` follow the newest observation; its distributions are the SensorThings API, the
OGC API collections and CSV downloads of the series."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from catalog import model
from catalog.namespaces import EU
from catalog.schema import SensorDatastream, SensorObservedProperty, SensorThing
from catalog.sensors.times import iso

STA_SPEC = "http://www.opengis.net/spec/iot_sensing/1.1/"
OGC_FEATURES_SPEC = "http://www.opengis.net/spec/ogcapi-features-1/1.0"
FILE_TYPE = f"{EU}file-type/"
FREQUENCY = f"{EU}frequency/"
ENVIRONMENT = f"{EU}data-theme/ENVI"


@dataclass(frozen=True)
class ThingDataset:
    thing_id: int
    key: str  # the Thing's key at its source
    record: model.Dataset
    newest: int | None  # newest observation (ms)


def thing_datasets(
    engine: Engine,
    source: str,
    base_url: str,
    *,
    keys: Iterable[str] | None = None,
    frequency: str | None = None,
) -> list[ThingDataset]:
    """The dataset of each Thing of ``source`` (only ``keys`` if given) that has datastreams."""
    t, d, p = SensorThing, SensorDatastream, SensorObservedProperty
    stmt = select(t).where(t.source == source).order_by(t.id)
    if keys is not None:
        stmt = stmt.where(t.source_key.in_(list(keys)))
    with engine.connect() as conn:
        things = conn.execute(stmt).all()
        streams = conn.execute(
            select(d, p.name.label("property_name"), p.definition)
            .join(p, p.id == d.observed_property_id)
            .where(d.thing_id.in_([row.id for row in things]))
            .order_by(d.thing_id, d.id)
        ).all()
    by_thing: dict[int, list[Any]] = {}
    for row in streams:
        by_thing.setdefault(row.thing_id, []).append(row)
    out = []
    for thing in things:
        rows = by_thing.get(thing.id)
        if rows:
            record, newest = _dataset(thing, rows, base_url.rstrip("/"), frequency)
            out.append(ThingDataset(thing.id, thing.source_key, record, newest))
    return out


def _dataset(
    thing: Any, streams: list[Any], base: str, frequency: str | None
) -> tuple[model.Dataset, int | None]:
    sta = f"{base}/sta/v1.1"
    firsts = [s.first_time for s in streams if s.first_time is not None]
    lasts = [max(s.last_end or 0, s.last_time) for s in streams if s.last_time is not None]
    newest = max((s.last_time for s in streams if s.last_time is not None), default=None)
    lines_de, lines_en = [], []
    for s in streams:
        unit = f" in {s.unit_symbol}" if s.unit_symbol else ""
        lines_de.append(f"- {s.name} ({s.property_name}{unit})")
        lines_en.append(f"- {s.name} ({s.property_name}{unit})")
    intro_de = thing.description or f"Messwerte der Station {thing.name}."
    intro_en = thing.description or f"Readings of the station {thing.name}."
    record = model.Dataset(
        title={"de": f"{thing.name}: Messwerte", "en": f"{thing.name}: readings"},
        description={
            "de": f"{intro_de}\n\nZeitreihen (Zeiten in UTC):\n" + "\n".join(lines_de),
            "en": f"{intro_en}\n\nTime series (times in UTC):\n" + "\n".join(lines_en),
        },
        identifier=[f"{sta}/Things({thing.id})"],
        keywords=sorted(
            {model.LangStr(s.property_name, "de") for s in streams}
            | {model.LangStr("Sensordaten", "de"), model.LangStr("Zeitreihe", "de")},
            key=lambda k: k.value.lower(),
        ),
        themes=[ENVIRONMENT],
        modified=iso(newest),
        conforms_to=[STA_SPEC],
        accrual_periodicity=FREQUENCY + (frequency or "CONT"),
        landing_pages=[f"{sta}/Things({thing.id})"],
    )
    if firsts and lasts:
        record.temporal = [model.PeriodOfTime(start=iso(min(firsts)), end=iso(max(lasts)))]
    if thing.lon is not None and thing.lat is not None:
        point = f"POINT ({thing.lon} {thing.lat})"
        record.spatial = [
            model.Location(
                geometry=point,
                centroid=point,
                name={"de": thing.location_name} if thing.location_name else {},
            )
        ]
    record.distributions = _distributions(thing.id, sta, base, thing.name)
    return record, newest


def _distributions(thing_id: int, sta: str, base: str, name: str) -> list[model.Distribution]:
    csv = f"{base}/sensors/things/{thing_id}/observations.csv"
    ogc = f"{base}/ogc/collections/sensor-observations/items?thing_id={thing_id}"
    # stable IRIs (fragments of the Thing's resource): CKAN and DCAT name them alike
    thing = f"{sta}/Things({thing_id})"
    return [
        model.Distribution(
            uri=f"{thing}#sta",
            title={"de": "SensorThings API 1.1", "en": "SensorThings API 1.1"},
            description={
                "de": f"Station, Zeitreihen und alle Beobachtungen von {name}.",
                "en": f"Station, time series and every observation of {name}.",
            },
            access_urls=[f"{sta}/Things({thing_id})"],
            format=FILE_TYPE + "JSON",
            media_type="https://www.iana.org/assignments/media-types/application/json",
            conforms_to=[STA_SPEC],
        ),
        model.Distribution(
            uri=f"{thing}#ogc-api",
            title={"de": "OGC API Features: Beobachtungen", "en": "OGC API Features: readings"},
            description={
                "de": "Beobachtungen als GeoJSON, abfragbar nach Zeitraum (datetime).",
                "en": "Observations as GeoJSON, queried by time range (datetime).",
            },
            access_urls=[ogc],
            format=FILE_TYPE + "GEOJSON",
            media_type="https://www.iana.org/assignments/media-types/application/geo+json",
            conforms_to=[OGC_FEATURES_SPEC],
        ),
        model.Distribution(
            uri=f"{thing}#csv",
            title={"de": "CSV: alle Rohwerte", "en": "CSV: every raw reading"},
            description={
                "de": "Mit ?datetime=Anfang/Ende einen Zeitraum, mit ?resolution=hour oder day "
                "Stunden- oder Tageswerte (Mittel, Minimum, Maximum, Anzahl) laden.",
                "en": "Add ?datetime=start/end for a time range, ?resolution=hour or day for "
                "hourly or daily values (mean, minimum, maximum, count).",
            },
            access_urls=[csv],
            download_urls=[csv],
            format=FILE_TYPE + "CSV",
            media_type="https://www.iana.org/assignments/media-types/text/csv",
        ),
    ]
