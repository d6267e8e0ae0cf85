"""Numbers no database integer holds, and other odd input, on every sensor endpoint: a clear
4xx with a JSON body, never a 500 (schemathesis found a $skip that overflowed SQLite)."""

from __future__ import annotations

import pytest

from catalog.sensors.store import Reading, SensorStore
from catalog.store import Store
from odapp.app import create_app
from odapp.settings import Settings

HUGE = "1616997504090680852480"
URLS = [
    f"/sta/v1.1/Observations?$skip={HUGE}",
    f"/sta/v1.1/Observations?$top={HUGE}",
    f"/sta/v1.1/Observations?$filter=result gt {HUGE}",
    f"/sta/v1.1/Observations?$filter=id eq -{HUGE}",
    f"/sta/v1.1/Observations({HUGE})",
    f"/sta/v1.1/Datastreams(1)/Observations({HUGE})",
    "/sta/v1.1/Observations?$filter=phenomenonTime gt 99999-01-01T00:00:00Z",
    "/sta/v1.1/Observations?$filter=result div 0 gt 1",
    f"/ogc/collections/sensor-observations/items?datastream_id={HUGE}&f=json",
    f"/ogc/collections/sensor-observations/items?offset={HUGE}&f=json",
    f"/ogc/collections/sensor-latest/items?thing_id={HUGE}&f=json",
    f"/ogc/collections/sensor-latest/items/{HUGE}?f=json",
    f"/ogc/collections/sensor-observations/items/{HUGE}?f=json",
    f"/ogc/collections/sensor-observations-daily/items/1-{HUGE}?f=json",
    "/ogc/collections/sensor-observations/items?datetime=gestern&f=json",
    f"/sensors/things/{HUGE}/observations.csv",
    f"/sensors/datastreams/{HUGE}/observations.csv",
    "/sensors/datastreams/1/observations.csv?datetime=2026-13-01T00:00:00Z/..",
    "/sensors/datastreams/1/observations.csv?resolution=minute",
]


@pytest.mark.parametrize("url", URLS)
def test_odd_input_is_answered_without_a_server_error(sqlite_store: Store, url: str) -> None:
    sensors = SensorStore(sqlite_store.engine)
    thing = sensors.thing("t", "a", "Station A", location=(13.7, 51.0))
    prop = sensors.observed_property("NO2", "urn:test:no2")
    ds = sensors.datastream(
        thing, "no2", "NO2", observed_property_id=prop, sensor_id=sensors.sensor("S")
    )
    sensors.ingest("t", [Reading(ds, 1_700_000_000_000 + i * 60_000, float(i)) for i in range(5)])
    app = create_app(Settings(database_url=sqlite_store.database_url), sqlite_store)
    response = app.test_client().get(url)
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        assert response.is_json and response.get_json(), url
