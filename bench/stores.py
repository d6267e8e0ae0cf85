"""A fresh, migrated store for a benchmark: a new SQLite file, or a PostgreSQL + PostGIS
database dropped and created again under ``name``."""

from __future__ import annotations

import time
from pathlib import Path

from catalog.store import Store

SERVER = "postgresql://postgres@127.0.0.1"


def fresh_store(backend: str, folder: Path, name: str) -> Store:
    if backend == "sqlite":
        store = Store(f"sqlite:///{folder}/{name}-{time.monotonic_ns()}.sqlite")
    else:
        import psycopg

        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(f"{SERVER}/{name}", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        store = Store(f"{SERVER}/{name}")
    store.upgrade()
    return store
