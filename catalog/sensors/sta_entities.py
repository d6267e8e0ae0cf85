"""The eight SensorThings API 1.1 entity types over the sensor store's tables: which columns
each property is, how entity types are related (for paths, ``$expand`` and filters through
navigation properties), and how a row is written as JSON.

Mapping onto the store, which keeps only a Thing's current location:

- Locations and FeaturesOfInterest are the Things that have a location, with the Thing's id:
  ``Things(3)/Locations`` is ``Locations(3)``, and every Observation of Thing 3's
  Datastreams has ``FeaturesOfInterest(3)`` (encodingType application/geo+json).
- HistoricalLocations is always empty.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import (
    Table,
    exists,
    false,
    func,
    literal,
    null,
    select,
)

from catalog.schema import (
    SensorDatastream,
    SensorObservation,
    SensorObservedProperty,
    SensorSensor,
    SensorThing,
)
from catalog.sensors.sta_query import Typed, json_value
from catalog.sensors.times import iso, iso_interval

GEOJSON = "application/geo+json"

THINGS: Table = SensorThing.__table__  # type: ignore[assignment]
SENSORS: Table = SensorSensor.__table__  # type: ignore[assignment]
PROPERTIES: Table = SensorObservedProperty.__table__  # type: ignore[assignment]
DATASTREAMS: Table = SensorDatastream.__table__  # type: ignore[assignment]
OBSERVATIONS: Table = SensorObservation.__table__  # type: ignore[assignment]

Row = Mapping[str, Any]
Condition = Callable[[Any], Any]  # table alias -> SQL condition


def _column(name: str, kind: str) -> Callable[[Any], Typed]:
    return lambda t: Typed(t.c[name], kind, nullable=bool(t.c[name].nullable))


def _constant(value: Any, kind: str) -> Callable[[Any], Typed]:
    return lambda t: Typed(literal(value) if value is not None else null(), kind)


class EntityType:
    """One entity set: its table (a fresh alias per use, so that a filter can relate a
    table to itself), the properties usable in filters, and its JSON."""

    def __init__(
        self,
        name: str,
        plural: str,
        table: Table,
        *,
        fields: dict[str, Callable[[Any], Typed]],
        render: Callable[[Row], dict[str, Any]],
        base: Callable[[Any], list[Any]] = lambda t: [],
        json_fields: dict[str, str] | None = None,
        structs: dict[str, dict[str, str]] | None = None,
        overrides: dict[tuple[str, ...], tuple[str, str]] | None = None,
        extra: Callable[[Any], list[Any]] = lambda t: [],
    ) -> None:
        self.name = name
        self.plural = plural
        self.table = table
        self.fields = fields
        self.render = render
        self.base = base
        self.json_fields = json_fields or {}
        self.structs = structs or {}
        self.overrides = overrides or {}
        self.extra = extra
        self.navs: dict[str, Any] = {}

    def alias(self) -> Any:
        return self.table.alias()

    def columns(self, t: Any) -> list[Any]:
        return [*t.c, *self.extra(t)]

    def prop(self, t: Any, segments: tuple[str, ...], dialect: str) -> Typed | None:
        """A (possibly nested) property as a typed SQL value, or None if there is none."""
        if segments == ("@iot.id",):
            segments = ("id",)
        override = self.overrides.get(segments)
        if override is not None:
            return _column(*override)(t)
        head, rest = segments[0], segments[1:]
        if not rest:
            field = self.fields.get(head)
            return field(t) if field is not None else None
        if head in self.structs:
            column = self.structs[head].get(rest[0]) if len(rest) == 1 else None
            return _column(column, "string")(t) if column else None
        if head in self.json_fields:
            return json_value(t.c[self.json_fields[head]], rest, dialect)
        return None

    @property
    def property_names(self) -> list[str]:
        return [n for n in self.fields if n != "id"]

    def __repr__(self) -> str:
        return f"EntityType({self.name})"


class KeyNav:
    """A navigation property through a key: related rows have ``remote`` equal to the
    source's ``local`` column."""

    def __init__(
        self,
        name: str,
        target: str,
        many: bool,
        local: str,
        remote: str,
        *,
        fk: bool = False,
        scopes_datastream: bool = False,
    ) -> None:
        self.name = name
        self.target_name = target
        self.many = many
        self.local = local
        self.remote = remote
        self.fk = local if fk else None
        self.scopes_datastream = scopes_datastream  # all targets belong to one datastream

    @property
    def target(self) -> EntityType:
        return ENTITIES[self.target_name]

    def related(self, source: Any, condition: Condition) -> Any:
        """Source rows that have a related entity matching ``condition`` (any of them)."""
        t = self.target.alias()
        where = [*self.target.base(t), condition(t)]
        if self.many:
            link = t.c[self.remote] == source.c[self.local]
            return exists(select(literal(1)).select_from(t).where(link, *where))
        return source.c[self.local].in_(select(t.c[self.remote]).where(*where))

    def scalar(self, source: Any, value: Callable[[Any], Any]) -> Any:
        t = self.target.alias()
        link = t.c[self.remote] == source.c[self.local]
        return select(value(t)).where(link, *self.target.base(t)).limit(1).scalar_subquery()

    def of(self, row: Row) -> Condition:
        """The target rows related to one source row."""
        key = row[self.local]
        if key is None:
            return lambda t: false()
        return lambda t: t.c[self.remote] == key

    def group_key(self, row: Row) -> Any:
        return row[self.local]


class EmptyNav:
    """HistoricalLocations: the store keeps only the current location."""

    many = True
    fk = None
    scopes_datastream = False

    def __init__(self, name: str, target: str) -> None:
        self.name = name
        self.target_name = target

    @property
    def target(self) -> EntityType:
        return ENTITIES[self.target_name]

    def related(self, source: Any, condition: Condition) -> Any:
        return false()

    def scalar(self, source: Any, value: Callable[[Any], Any]) -> Any:
        return null()

    def of(self, row: Row) -> Condition:
        return lambda t: false()

    def group_key(self, row: Row) -> Any:
        return None


class ObservationFeature:
    """Observation → FeatureOfInterest: the location of the Thing of its Datastream."""

    name = "FeatureOfInterest"
    target_name = "FeatureOfInterest"
    many = False
    fk = None
    scopes_datastream = False

    @property
    def target(self) -> EntityType:
        return ENTITIES[self.target_name]

    def related(self, source: Any, condition: Condition) -> Any:
        f, d = self.target.alias(), DATASTREAMS.alias()
        features = select(f.c.id).where(*self.target.base(f), condition(f))
        return source.c.datastream_id.in_(select(d.c.id).where(d.c.thing_id.in_(features)))

    def scalar(self, source: Any, value: Callable[[Any], Any]) -> Any:
        f, d = self.target.alias(), DATASTREAMS.alias()
        thing = select(d.c.thing_id).where(d.c.id == source.c.datastream_id).scalar_subquery()
        return select(value(f)).where(f.c.id == thing, *self.target.base(f)).scalar_subquery()

    def of(self, row: Row) -> Condition:
        d = DATASTREAMS.alias()
        thing = select(d.c.thing_id).where(d.c.id == row["datastream_id"]).scalar_subquery()
        return lambda f: f.c.id == thing

    def group_key(self, row: Row) -> Any:
        return row["datastream_id"]


class FeatureObservations:
    """FeatureOfInterest → Observations: those of every Datastream of its Thing."""

    name = "Observations"
    target_name = "Observation"
    many = True
    fk = None
    scopes_datastream = False

    @property
    def target(self) -> EntityType:
        return ENTITIES[self.target_name]

    def related(self, source: Any, condition: Condition) -> Any:
        o, d = self.target.alias(), DATASTREAMS.alias()
        return exists(
            select(literal(1))
            .select_from(d.join(o, o.c.datastream_id == d.c.id))
            .where(d.c.thing_id == source.c.id, condition(o))
        )

    def scalar(self, source: Any, value: Callable[[Any], Any]) -> Any:
        return null()

    def of(self, row: Row) -> Condition:
        d = DATASTREAMS.alias()
        streams = select(d.c.id).where(d.c.thing_id == row["id"])
        return lambda o: o.c.datastream_id.in_(streams)

    def group_key(self, row: Row) -> Any:
        return row["id"]


# --- JSON of each entity type ---------------------------------------------------------------


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _thing(row: Row) -> dict[str, Any]:
    properties = _json(row["properties"]) or {}
    if row["dataset_uri"]:
        properties["dataset"] = row["dataset_uri"]
    return {"name": row["name"], "description": row["description"], "properties": properties}


def _location(row: Row) -> dict[str, Any]:
    return {
        "name": row["location_name"] or row["name"],
        "description": row["description"],
        "encodingType": GEOJSON,
        "location": _json(row["location"]),
    }


def _feature(row: Row) -> dict[str, Any]:
    return {
        "name": row["location_name"] or row["name"],
        "description": row["description"],
        "encodingType": GEOJSON,
        "feature": _json(row["location"]),
    }


def _historical(row: Row) -> dict[str, Any]:
    return {"time": None}


def _datastream(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": row["name"],
        "description": row["description"],
        "unitOfMeasurement": {
            "name": row["unit_name"],
            "symbol": row["unit_symbol"],
            "definition": row["unit_definition"],
        },
        "observationType": row["observation_type"],
        "observedArea": _json(row["thing_location"]),
    }
    first = row["first_time"]
    if first is not None:
        last = row["last_end"] if row["last_end"] is not None else row["last_time"]
        out["phenomenonTime"] = f"{iso(first)}/{iso(last if last is not None else first)}"
    out["resultTime"] = None
    out["properties"] = _json(row["properties"]) or {}
    return out


def _sensor(row: Row) -> dict[str, Any]:
    return {
        "name": row["name"],
        "description": row["description"],
        "encodingType": row["encoding_type"],
        "metadata": row["metadata"],
    }


def _observed_property(row: Row) -> dict[str, Any]:
    return {
        "name": row["name"],
        "definition": row["definition"],
        "description": row["description"],
    }


def _observation(row: Row) -> dict[str, Any]:
    result = row["result"]
    if result is None:
        result = row["result_text"]
    elif not math.isfinite(result):  # JSON has no NaN or infinity
        result = None
    return {
        "phenomenonTime": iso_interval(row["phenomenon_start"], row["phenomenon_end"]),
        "resultTime": iso(row["result_time"]),
        "result": result,
    }


def _located(t: Any) -> list[Any]:
    return [t.c.location.is_not(None)]


def _thing_location(t: Any) -> list[Any]:
    things = THINGS.alias()
    location = select(things.c.location).where(things.c.id == t.c.thing_id).scalar_subquery()
    return [location.label("thing_location")]


_ID = _column("id", "number")
_PLACE_FIELDS = {
    "id": _ID,
    "name": lambda t: Typed(func.coalesce(t.c.location_name, t.c.name), "string", nullable=False),
    "description": _column("description", "string"),
    "encodingType": _constant(GEOJSON, "string"),
}

ENTITIES: dict[str, EntityType] = {
    "Thing": EntityType(
        "Thing",
        "Things",
        THINGS,
        fields={
            "id": _ID,
            "name": _column("name", "string"),
            "description": _column("description", "string"),
            "properties": lambda t: Typed(t.c.properties, "object"),
        },
        json_fields={"properties": "properties"},
        overrides={("properties", "dataset"): ("dataset_uri", "string")},
        render=_thing,
    ),
    "Location": EntityType(
        "Location",
        "Locations",
        THINGS,
        fields={**_PLACE_FIELDS, "location": lambda t: Typed(t.c.location, "geometry")},
        base=_located,
        render=_location,
    ),
    "HistoricalLocation": EntityType(
        "HistoricalLocation",
        "HistoricalLocations",
        THINGS,
        fields={"id": _ID, "time": _constant(None, "time")},
        base=lambda t: [false()],
        render=_historical,
    ),
    "Datastream": EntityType(
        "Datastream",
        "Datastreams",
        DATASTREAMS,
        fields={
            "id": _ID,
            "name": _column("name", "string"),
            "description": _column("description", "string"),
            "unitOfMeasurement": lambda t: Typed(t.c.unit_name, "object"),
            "observationType": _column("observation_type", "string"),
            "observedArea": lambda t: Typed(null(), "geometry"),
            "phenomenonTime": _column("first_time", "time"),
            "resultTime": _constant(None, "time"),
            "properties": lambda t: Typed(t.c.properties, "object"),
        },
        json_fields={"properties": "properties"},
        structs={
            "unitOfMeasurement": {
                "name": "unit_name",
                "symbol": "unit_symbol",
                "definition": "unit_definition",
            }
        },
        extra=_thing_location,
        render=_datastream,
    ),
    "Sensor": EntityType(
        "Sensor",
        "Sensors",
        SENSORS,
        fields={
            "id": _ID,
            "name": _column("name", "string"),
            "description": _column("description", "string"),
            "encodingType": _column("encoding_type", "string"),
            "metadata": _column("metadata", "string"),
        },
        render=_sensor,
    ),
    "ObservedProperty": EntityType(
        "ObservedProperty",
        "ObservedProperties",
        PROPERTIES,
        fields={
            "id": _ID,
            "name": _column("name", "string"),
            "definition": _column("definition", "string"),
            "description": _column("description", "string"),
        },
        render=_observed_property,
    ),
    "Observation": EntityType(
        "Observation",
        "Observations",
        OBSERVATIONS,
        fields={
            "id": _ID,
            "phenomenonTime": _column("phenomenon_start", "time"),
            "resultTime": _column("result_time", "time"),
            "result": lambda t: Typed(t.c.result, "result", text=t.c.result_text),
        },
        render=_observation,
    ),
    "FeatureOfInterest": EntityType(
        "FeatureOfInterest",
        "FeaturesOfInterest",
        THINGS,
        fields={**_PLACE_FIELDS, "feature": lambda t: Typed(t.c.location, "geometry")},
        base=_located,
        render=_feature,
    ),
}

_NAVS: dict[str, list[Any]] = {
    "Thing": [
        KeyNav("Locations", "Location", True, "id", "id"),
        EmptyNav("HistoricalLocations", "HistoricalLocation"),
        KeyNav("Datastreams", "Datastream", True, "id", "thing_id"),
    ],
    "Location": [
        KeyNav("Things", "Thing", True, "id", "id"),
        EmptyNav("HistoricalLocations", "HistoricalLocation"),
    ],
    "HistoricalLocation": [
        KeyNav("Thing", "Thing", False, "id", "id", fk=True),
        KeyNav("Locations", "Location", True, "id", "id"),
    ],
    "Datastream": [
        KeyNav("Thing", "Thing", False, "thing_id", "id", fk=True),
        KeyNav("Sensor", "Sensor", False, "sensor_id", "id", fk=True),
        KeyNav(
            "ObservedProperty", "ObservedProperty", False, "observed_property_id", "id", fk=True
        ),
        KeyNav("Observations", "Observation", True, "id", "datastream_id", scopes_datastream=True),
    ],
    "Sensor": [KeyNav("Datastreams", "Datastream", True, "id", "sensor_id")],
    "ObservedProperty": [KeyNav("Datastreams", "Datastream", True, "id", "observed_property_id")],
    "Observation": [
        KeyNav("Datastream", "Datastream", False, "datastream_id", "id", fk=True),
        ObservationFeature(),
    ],
    "FeatureOfInterest": [FeatureObservations()],
}
for _name, _navs in _NAVS.items():
    ENTITIES[_name].navs = {nav.name: nav for nav in _navs}

BY_SET: dict[str, EntityType] = {e.plural: e for e in ENTITIES.values()}
SETS = (
    "Things",
    "Locations",
    "HistoricalLocations",
    "Datastreams",
    "Sensors",
    "ObservedProperties",
    "Observations",
    "FeaturesOfInterest",
)
