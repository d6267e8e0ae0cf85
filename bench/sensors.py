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

from bench import stores  # noqa: E402
from catalog.sensors.store import Reading, SensorStore  # noqa: E402
from catalog.sensors.times import DAY, to_ms  # noqa: E402
from catalog.store import Store  # noqa: E402

MINUTE = 60_000
BATCH = 5000


def fresh_store(backend: str, folder: Path) -> Store:
    return stores.fresh_store(backend, folder, "odapp_bench_sensors")


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


def raw_peer(store: Store, rows: list[Reading], table: str = "peer") -> float:
    """The same rows into a bare table with the same unique key, the fastest plain way."""
    tuples = [(r.datastream_id, r.start, r.result) for r in rows]
    if store.dialect == "sqlite":
        path = store.database_url.removeprefix("sqlite:///") + f".{table}"
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, ds INTEGER, t INTEGER, v REAL, "
            "UNIQUE (ds, t))"
        )
        started = time.perf_counter()
        for i in range(0, len(tuples), BATCH):
            conn.executemany(
                f"INSERT INTO {table} (ds, t, v) VALUES (?, ?, ?)", tuples[i : i + BATCH]
            )
            conn.commit()
        elapsed = time.perf_counter() - started
        conn.close()
        return elapsed
    import psycopg

    with psycopg.connect(store.database_url) as conn:
        conn.execute(
            f"CREATE TABLE {table} (id bigserial PRIMARY KEY, ds int, t bigint, "
            "v double precision, UNIQUE (ds, t))"
        )
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur:
            for i in range(0, len(tuples), BATCH):
                with cur.copy(f"COPY {table} (ds, t, v) FROM STDIN") as copy:
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
            store.engine.dispose()
            if args.file_days:
                fig.update(file_import(backend, folder, args.file_days))
            if args.live:
                fig.update(live(backend, folder, args.live))
            figures[backend] = fig
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2))
    print(f"figures written to {args.json}")
    return 0


def luft_file(path: Path, days: int) -> int:
    """A luft-style export: header, units row, German decimal commas and ``;``, local time
    with the hour-ending label, ten-minute values of six columns. Returns the reading count."""
    from datetime import datetime, timedelta

    columns = ["NO2", "NO", "O3", "PM10_TEOM", "TEMP", "FEUCHT"]
    units = ["µg/m³", "µg/m³", "µg/m³", "µg/m³", "GRADC", "PROZ"]
    rng = random.Random(7)
    lines = ["Datum;Zeit;" + ";".join(columns), "yyyy-mm-dd;hh:mm;" + ";".join(units)]
    start = datetime(2025, 1, 1)  # local wall-clock times, winter time at the start
    seen = set()
    n = 0
    for i in range(1, days * 144 + 1):
        when = start + timedelta(minutes=10 * i)
        label = when.strftime("%Y-%m-%d;%H:%M")
        if label in seen:
            continue
        seen.add(label)
        values = [f"{rng.uniform(0, 80):.1f}".replace(".", ",") for _ in columns]
        lines.append(label + ";" + ";".join(values))
        n += len(columns)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return n


def file_import(backend: str, folder: Path, days: int) -> dict[str, Any]:
    """The timeseries-files source end to end on a generated file, next to csv + raw insert."""
    from harvesters.base import Defaults, SourceConfig
    from harvesters.run import run_source

    data = folder / f"files-{backend}"
    data.mkdir(exist_ok=True)
    expected = luft_file(data / "luft_2025_Bench-Station.csv", days)
    store = fresh_store(backend, folder)
    config = SourceConfig(
        name="bench-files",
        type="timeseries-files",
        organization={"name": "Bench"},
        folder=str(data),
        defaults=Defaults(license="http://dcat-ap.de/def/licenses/dl-by-de/2.0"),
        options={"timezone": "Europe/Berlin"},
    )
    started = time.perf_counter()
    result = run_source(store, config, files_dir=folder / "out")
    seconds = time.perf_counter() - started
    stored = result.counts.get("observations", 0)
    peer = parse_and_insert_peer(store, data / "luft_2025_Bench-Station.csv")
    store.engine.dispose()
    fig = {
        "file_readings": expected,
        "file_stored": stored,
        "file_seconds": round(seconds, 2),
        "file_per_second": round(stored / seconds),
        "file_peer_seconds": round(peer, 2),
        "file_vs_peer": round(seconds / peer, 2),
    }
    print(
        f"[{backend}] file import {stored:,} readings (status {result.status}): {seconds:.1f} s "
        f"= {fig['file_per_second']:,}/s; csv module + raw insert {peer:.1f} s "
        f"(ratio {fig['file_vs_peer']})",
        flush=True,
    )
    return fig


def parse_and_insert_peer(store: Store, path: Path) -> float:
    """The least any importer does: read the CSV with the csv module, take the numbers and
    insert them raw (time zones, units, checks and aggregates left out)."""
    import csv
    from datetime import datetime

    started = time.perf_counter()
    rows: list[Reading] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter=";")
        header = next(reader)
        next(reader)
        for line in reader:
            when = int(datetime.strptime(line[0] + line[1], "%Y-%m-%d%H:%M").timestamp() * 1000)
            for col in range(2, len(header)):
                rows.append(Reading(col, when, float(line[col].replace(",", "."))))
    parsed = time.perf_counter() - started
    return parsed + raw_peer(store, rows, table=f"peer_file_{store.dialect}")


def live(backend: str, folder: Path, messages: int) -> dict[str, Any]:
    """Readings published to a real Mosquitto as fast as paho sends them, stored by
    `odapp harvest listen` in another process: observations per second until the last one
    is stored."""
    import os
    import subprocess

    import paho.mqtt.client as mqtt
    import yaml
    from sqlalchemy import text

    from tests.mosquitto import Mosquitto, available

    if not available():
        print(f"[{backend}] live: mosquitto not installed, skipped", flush=True)
        return {}
    store = fresh_store(backend, folder)
    broker = Mosquitto(folder / f"mosquitto-{backend}").start()
    harvest = folder / f"harvest-{backend}"
    harvest.mkdir(exist_ok=True)
    (harvest / "bench-mqtt.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "bench-mqtt",
                "type": "mqtt",
                "url": broker.url,
                "organization": {"name": "Bench"},
                "defaults": {"license": "dl-by-de/2.0"},
                "options": {"mappings": [{"topic": "bench/{thing}/{datastream}", "time": "t"}]},
            }
        )
    )
    env = {
        **os.environ,
        "ODAPP_DATABASE_URL": store.database_url,
        "ODAPP_HARVEST_DIR": str(harvest),
        "ODAPP_FILES_DIR": str(folder / "out"),
    }
    log = open(folder / f"listen-{backend}.log", "wb")  # noqa: SIM115 (closed below)
    listener = subprocess.Popen(
        [sys.executable, "-m", "odapp.cli", "harvest", "listen", "bench-mqtt"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while "subscribed" not in (folder / f"listen-{backend}.log").read_text():
            if time.monotonic() > deadline:
                raise RuntimeError("the listener did not subscribe")
            time.sleep(0.1)
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-publisher")
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.connect("127.0.0.1", broker.port)
        client.loop_start()
        started = time.perf_counter()
        infos = []
        for i in range(messages):
            when = 1_767_225_600_000 + (i // 10) * 1000  # 2026-01-01, ten stations a second
            payload = json.dumps({"t": when, "value": i % 500})
            infos.append(client.publish(f"bench/s{i % 10}/pm10", payload, qos=1))
        for info in infos:
            info.wait_for_publish(60)
        published = time.perf_counter() - started
        count = 0
        while count < messages and time.perf_counter() - started < 300:
            with store.engine.connect() as conn:
                count = conn.execute(text("SELECT count(*) FROM sensor_observations")).scalar()
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        client.loop_stop()
        client.disconnect()
    finally:
        listener.terminate()
        listener.wait(30)
        log.close()
        broker.stop()
        store.engine.dispose()
    fig = {
        "live_messages": messages,
        "live_stored": count,
        "live_publish_seconds": round(published, 2),
        "live_seconds": round(seconds, 2),
        "live_per_second": round(count / seconds),
    }
    print(
        f"[{backend}] live MQTT: {count:,} of {messages:,} readings stored {seconds:.1f} s after "
        f"the first publish = {fig['live_per_second']:,}/s (publishing took {published:.1f} s)",
        flush=True,
    )
    return fig


if __name__ == "__main__":
    sys.exit(main())
