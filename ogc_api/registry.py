"""The stores pygeoapi's providers read, by database URL.

pygeoapi builds a provider object per request from its configuration, so providers must not
open connections of their own: they look up the engine the application registered here.
"""

from __future__ import annotations

from catalog.data_store import DataStore
from catalog.store import Store

_stores: dict[str, Store] = {}
_data: dict[str, DataStore] = {}


def register(store: Store) -> None:
    _stores[store.database_url] = store
    _data[store.database_url] = DataStore(store.engine)


def store_for(database_url: str) -> Store:
    if database_url not in _stores:
        raise RuntimeError(f"no store registered for {database_url}")
    return _stores[database_url]


def data_store_for(database_url: str) -> DataStore:
    if database_url not in _data:
        raise RuntimeError(f"no data store registered for {database_url}")
    return _data[database_url]
