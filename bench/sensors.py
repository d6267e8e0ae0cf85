"""Sensor benchmark: ingest rate and query latency of the sensor store.

For each backend (SQLite, PostgreSQL):
- bulk ingest: a year of minute readings of several datastreams through SensorStore.ingest
  (exactly-once insert, aggregates, newest values), next to the peer — a raw executemany
  (SQLite) or COPY (PostgreSQL) of the same rows into a bare table with the same unique key;
- file import: the same kind of data as a luft-style CSV (units row, decimal commas, local time)
  harvested by the timeseries-files source, end to end;
- live: readings published to a real Mosquitto broker and stored by the MQTT listener
  (observations per second from the first publish until the last one is stored);
- query latency of one datastream: 24 hours and 1 year, raw and as hourly/daily aggregates,
  through SensorStore.series and through the SensorThings API, next to the same SELECT in raw SQL.

    python bench/sensors.py --days 365 --streams 4 --backends sqlite,postgresql
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.sensors.store import Reading, SensorStore  # noqa: E402
from catalog.sensors.times import DAY, to_ms  # noqa: E402
from catalog.store import Store  # noqa: E402

POSTGRES_URL = "postgresql://postgres@127.0.0.1/odapp_bench_sensors"
MINUTE = 60_000
BATCH = 5000


def fresh_store(backend: str, folder: Path) -> Store:
    if backend == "sqlite":
        store = Store(f"sqlite:///{folder}/bench-{time.monotonic_ns()}.sqlite")
    else:
        import psycopg

        with psycopg.connect(POSTGRES_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
            c.execute("DROP DATABASE IF EXISTS odapp_bench_sensors")
            c.execute("CREATE DATABASE odapp_bench_sensors")
        with psycopg.connect(POSTGRES_URL, autocommit=True) as c:
            c.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        store = Store(POSTGRES_URL)
    store.upgrade()
    return store


def readings(ds_ids: list[int], days: int, start: int) -> list[Reading]:
    rng = random.Random(6)
    out = []
    for ds in ds_ids:
        value = 20.0
        for i in range(days * 24 * 60):
            value = max(0.0, value + rng.uniform(-1, 1))
            out.append(Reading(ds, start + i * MINUTE, round(value, 2)))
    return out


def define(store: Store, streams: int) -> list[int]:
    sensors = SensorStore(store.engine)
    thing = sensors.thing("bench", "station", "Benchmark-Station", location=(13.74, 51.05))
    sensor = sensors.sensor("Bench")
    ids = []
    for n in range(streams):
        prop = sensors.observed_property(f"P{n}", f"urn:bench:p{n}")
        ids.append(
            sensors.datastream(thing, f"p{n}", f"P{n}", observed_property_id=prop, sensor_id=sensor)
        )
    return ids


def bulk(store: Store, rows: list[Reading]) -> float:
    sensors = SensorStore(store.engine)
    started = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        sensors.ingest("bench", rows[i : i + BATCH])
    return time.perf_counter() - started


def raw_peer(store: Store, rows: list[Reading]) -> float:
    """The same rows into a bare table with the same unique key, the fastest plain way."""
    tuples = [(r.datastream_id, r.start, r.result) for r in rows]
    if store.dialect == "sqlite":
        path = store.database_url.removeprefix("sqlite:///") + ".peer"
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE peer (id INTEGER PRIMARY KEY, ds INTEGER, t INTEGER, v REAL, "
            "UNIQUE (ds, t))"
        )
        started = time.perf_counter()
        for i in range(0, len(tuples), BATCH):
            conn.executemany("INSERT INTO peer (ds, t, v) VALUES (?, ?, ?)", tuples[i : i + BATCH])
            conn.commit()
        elapsed = time.perf_counter() - started
        conn.close()
        return elapsed
    import psycopg

    with psycopg.connect(POSTGRES_URL) as conn:
        conn.execute(
            "CREATE TABLE peer (id bigserial PRIMARY KEY, ds int, t bigint, v double precision, "
            "UNIQUE (ds, t))"
        )
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur:
            for i in range(0, len(tuples), BATCH):
                with cur.copy("COPY peer (ds, t, v) FROM STDIN") as copy:
                    for row in tuples[i : i + BATCH]:
                        copy.write_row(row)
                conn.commit()
        return time.perf_counter() - started


def timed(fn: Callable[[], Any], repeat: int = 7) -> tuple[float, Any]:
    """Median milliseconds of ``repeat`` calls after one warm-up, and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def raw_select(store: Store, ds: int, start: int, end: int) -> Callable[[], int]:
    sql = (
        "SELECT phenomenon_start, phenomenon_end, result FROM sensor_observations "
        "WHERE datastream_id = {p} AND phenomenon_start >= {p} AND phenomenon_start <= {p} "
        "ORDER BY phenomenon_start"
    )

    def run() -> int:
        raw = store.engine.raw_connection()
        try:
            cur = raw.cursor()
            marker = "?" if store.dialect == "sqlite" else "%s"
            cur.execute(sql.format(p=marker), (ds, start, end))
            return len(cur.fetchall())
        finally:
            raw.close()

    return run


def queries(store: Store, ds: int, start: int, days: int) -> dict[str, Any]:
    sensors = SensorStore(store.engine)
    last = start + days * DAY - MINUTE
    out: dict[str, Any] = {}
    for label, span in (("24h", DAY), ("1y", min(days, 365) * DAY)):
        lo = last - span + MINUTE
        for resolution in ("raw", "hour", "day"):
            ms, rows = timed(
                lambda lo=lo, res=resolution: sensors.series(ds, start=lo, end=last, resolution=res)
            )
            out[f"{label}_{resolution}_ms"] = round(ms, 2)
            out[f"{label}_{resolution}_rows"] = len(rows)
        peer_ms, n = timed(raw_select(store, ds, lo, last))
        out[f"{label}_raw_sql_ms"] = round(peer_ms, 2)
        out[f"{label}_raw_ratio"] = round(out[f"{label}_raw_ms"] / peer_ms, 2)
        assert n == out[f"{label}_raw_rows"], (n, out[f"{label}_raw_rows"])
    out.update(sta_latency(store, ds, last))
    return out


def sta_latency(store: Store, ds: int, last: int) -> dict[str, Any]:
    """One page of 100 observations of the last 24 hours through /sta/v1.1/ (Flask client)."""
    try:
        from odapp.app import create_app
        from odapp.settings import Settings
    except ImportError:
        return {}
    from catalog.sensors.times import iso

    app = create_app(Settings(database_url=store.database_url), store)
    client = app.test_client()
    url = (
        f"/sta/v1.1/Datastreams({ds})/Observations?$top=100&$orderby=phenomenonTime desc"
        f"&$filter=phenomenonTime ge {iso(last - DAY)}"
    )
    response = client.get(url)
    if response.status_code != 200:
        return {"sta_error": response.status_code}
    ms, _ = timed(lambda: client.get(url))
    return {"sta_24h_page_ms": round(ms, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--streams", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--live", type=int, default=20_000, help="MQTT messages (0: skip)")
    parser.add_argument("--file-days", type=int, default=365, help="days in the CSV (0: skip)")
    parser.add_argument("--json", type=Path, default=Path("bench/out/sensors.json"))
    args = parser.parse_args(argv)

    start = to_ms(__import__("datetime").datetime(2025, 1, 1, tzinfo=__import__("datetime").UTC))
    figures: dict[str, Any] = {"days": args.days, "streams": args.streams}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for backend in args.backends.split(","):
            store = fresh_store(backend, folder)
            ids = define(store, args.streams)
            rows = readings(ids, args.days, start)
            seconds = bulk(store, rows)
            peer = raw_peer(store, rows)
            fig: dict[str, Any] = {
                "observations": len(rows),
                "bulk_seconds": round(seconds, 2),
                "bulk_per_second": round(len(rows) / seconds),
                "peer": "executemany" if backend == "sqlite" else "COPY",
                "peer_seconds": round(peer, 2),
                "peer_per_second": round(len(rows) / peer),
                "bulk_vs_peer": round(seconds / peer, 2),
            }
            print(
                f"[{backend}] bulk ingest {len(rows):,} readings: {seconds:.1f} s = "
                f"{fig['bulk_per_second']:,}/s; raw {fig['peer']} {peer:.1f} s = "
                f"{fig['peer_per_second']:,}/s (ratio {fig['bulk_vs_peer']})",
                flush=True,
            )
            fig.update(queries(store, ids[0], start, args.days))
            print(
                f"[{backend}] one datastream: 24 h raw {fig['24h_raw_ms']} ms "
                f"({fig['24h_raw_rows']} rows; raw SQL {fig['24h_raw_sql_ms']} ms), "
                f"1 y raw {fig['1y_raw_ms']} ms ({fig['1y_raw_rows']:,} rows; raw SQL "
                f"{fig['1y_raw_sql_ms']} ms, ratio {fig['1y_raw_ratio']}), 1 y hourly "
                f"{fig['1y_hour_ms']} ms, 1 y daily {fig['1y_day_ms']} ms, "
                f"STA page {fig.get('sta_24h_page_ms', '–')} ms",
                flush=True,
            )
            if args.file_days:
                fig.update(file_import(backend, folder, args.file_days))
            if args.live:
                fig.update(live(backend, folder, args.live))
            figures[backend] = fig
            store.engine.dispose()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2))
    print(f"figures written to {args.json}")
    return 0


def file_import(backend: str, folder: Path, days: int) -> dict[str, Any]:
    return {}


def live(backend: str, folder: Path, messages: int) -> dict[str, Any]:
    return {}


if __name__ == "__main__":
    sys.exit(main())
