"""Source type ``mqtt``: readings published to an MQTT broker.

The readings themselves arrive through the live subscription (:mod:`harvesters.mqtt_listener`,
``odapp harvest listen <name>``, also started by ``odapp harvest schedule``). A run of the
source (by the listener after new stations or new readings, by ``odapp harvest run`` or on its
schedule) reads no network: it yields the catalogue dataset of every Thing this source has
stored, so ``dct:modified`` and the time coverage follow the newest reading.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse, urlunparse

from sqlalchemy import select

from catalog.schema import SensorThing
from harvesters.base import Context, Item


def fetch(context: Context) -> Iterator[Item]:
    config = context.config
    sink = context.sensors
    with sink.engine.connect() as conn:
        keys = list(
            conn.execute(
                select(SensorThing.source_key)
                .where(SensorThing.source == config.name)
                .order_by(SensorThing.id)
            ).scalars()
        )
    yield from sink.harvested(context.base_url, origin=origin(config.url), keys=keys)


def origin(url: str | None) -> str:
    """The broker's address without user or password (provenance of the datasets)."""
    parsed = urlparse(url or "")
    if not parsed.hostname:
        return url or ""
    host = parsed.hostname + (f":{parsed.port}" if parsed.port else "")
    return urlunparse(parsed._replace(netloc=host))
