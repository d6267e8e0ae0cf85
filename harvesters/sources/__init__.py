"""The source types: one module per kind of source, each with ``fetch(context)``."""

from __future__ import annotations

from importlib import import_module

from harvesters.base import SourceType

# type name in the YAML file -> module below harvesters.sources
MODULES = {
    "files": "files",
    "ckan": "ckan",
    "dcat": "dcat",
    "ogcapi-features": "ogcapi_features",
    "wfs": "wfs",
    "csw": "csw",
    "sensorthings": "sensorthings",
    "mqtt": "mqtt",
    "sensor-community": "citizen_sensors",
    "opensensemap": "citizen_sensors",
    "timeseries-files": "timeseries_files",
}


def fetcher(type_name: str) -> SourceType:
    """The fetch function of a source type (imported on first use: OWSLib is slow to load)."""
    module = import_module(f"harvesters.sources.{MODULES[type_name]}")
    # a module serving several types offers fetch_<type> (citizen_sensors)
    special = getattr(module, "fetch_" + type_name.replace("-", "_"), None)
    return special or module.fetch  # type: ignore[no-any-return]
