"""OGC API Features benchmark: ODApp's ``items`` requests against vanilla pygeoapi, in one run.

Not a test. Four contenders, each a server of its own (a subprocess, waitress with the same
``--threads``, on a free port of 127.0.0.1, started one after the other so that they never run at
the same time), serve the same two collections:

1. ``odapp-sqlite``: ODApp on SQLite (``odapp db upgrade``, ``odapp data load`` of both files,
   ``odapp serve``); items at ``/ogc/collections/<id>/items``;
2. ``odapp-postgis``: the same on PostgreSQL + PostGIS (database odapp_bench_ogc, dropped and
   created anew);
3. ``pygeoapi-geojson``: vanilla pygeoapi (``pygeoapi.flask_app:APP`` under waitress, config and
   OpenAPI document generated here), its GeoJSON provider over the same files; it reads and
   parses the whole file on every request, which is the point of comparing with it;
4. ``pygeoapi-postgresql``: vanilla pygeoapi, its PostgreSQL provider (SQLAlchemy, geoalchemy2,
   psycopg2: bench/requirements.txt, pip-installed into this Python's environment when missing)
   over PostGIS tables of the same files (database odapp_bench_ogc_pygeoapi, loaded with
   ogr2ogr, GiST index on geom, VACUUM ANALYZE).

Both pygeoapi configurations use ODApp's server settings (limits 10/10,000, logging ERROR, no
gzip, no pretty printing), so that the difference is the provider and its surroundings.

Collections (bench/out/ogc/, generated deterministically from ``--seed``):
``points``: ``--points`` (default 100,000) random points inside Dresden's bbox with properties
name (unique), kind (one of 8), value (float), n (int); ``wahlbezirke``: the 408 real polling
districts of odapp/demo_data/wahlbezirke_europawahl2024.geojson.

Workload, per contender and collection: ``--warmup`` requests, then ``--requests`` requests
``items?f=json&limit=100&bbox=...`` over the same seeded list of random bboxes (0.01-0.03 degrees
wide and high, inside the Dresden bbox; the edges fall half-way between the points' 6-decimal
coordinates, so that no point lies on an edge), sent by ``--clients`` threads (one
requests.Session each). Every response must be 200 and a FeatureCollection. Reported: requests/s
(requests / wall time), p50/p95/mean latency, average response size; ratios of the throughput
(ODApp ÷ peer; > 1 means ODApp is faster).

Correctness: for every bbox all contenders must return the same number of features (and the same
numberMatched, where they send it), and for the first ``--verify`` bboxes, asked again with
limit=10000, the same set of features (by ``name`` / ``wb``). A disagreement is printed and makes
the exit status 1 (as does any failed request or a contender that does not start).

    .venv/bin/python bench/ogc_features.py                # all four, 100,000 points, 300 requests
    .venv/bin/python bench/ogc_features.py --points 10000 --only pygeoapi-geojson,odapp-sqlite

Time: pygeoapi's GeoJSON provider needs 4-6 s of CPU per request on 100,000 points (it
parses the 17 MB file twice and tests every feature with shapely), so the default run takes about
35 minutes, 30 of them for that one row; ``--only`` leaves it out. One run at a time
(bench/out/ogc/.lock).

PostgreSQL: ODAPP_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/odapp_bench)
names server and user; the database names are replaced. Results are printed and written to
bench/out/ogc_features.json; the servers' logs are in bench/out/ogc/logs/.
"""

from __future__ import annotations

import argparse
import atexit
import fcntl
import importlib.util
import json
import os
import platform
import random
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
DATA_DIR = OUT_DIR / "ogc"
JSON_PATH = OUT_DIR / "ogc_features.json"
REQUIREMENTS = ROOT / "bench" / "requirements.txt"
DISTRICTS = ROOT / "odapp" / "demo_data" / "wahlbezirke_europawahl2024.geojson"
# not resolved: .venv/bin/python is a symlink, and its folder holds odapp and pygeoapi
BIN = Path(sys.executable).parent

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/odapp_bench"
ODAPP_DB = "odapp_bench_ogc"
PEER_DB = "odapp_bench_ogc_pygeoapi"
DRESDEN_BBOX = (13.579, 50.974, 13.966, 51.178)
KINDS = ("Baum", "Bank", "Laterne", "Haltestelle", "Spielplatz", "Brunnen", "Denkmal",
         "Parkplatz")
LIMIT = 100
MAX_ITEMS = 10_000  # ODApp's ogc_api/config.py; the peers get the same
COLLECTIONS = ("points", "wahlbezirke")
KEY_PROPERTY = {"points": "name", "wahlbezirke": "wb"}  # unique per feature, for --verify
SLOW = ("pygeoapi-geojson",)  # measured with --slow-requests
CONTENDERS = ("odapp-sqlite", "odapp-postgis", "pygeoapi-geojson", "pygeoapi-postgresql")
RATIOS = (
    ("odapp-sqlite", "pygeoapi-geojson"),
    ("odapp-postgis", "pygeoapi-geojson"),
    ("odapp-postgis", "pygeoapi-postgresql"),
)
Bbox = tuple[float, float, float, float]


class SetupError(Exception):
    """A contender could not be set up or started (the message says exactly why)."""


# --- data ----------------------------------------------------------------------------------


def points_path(n: int, seed: int) -> Path:
    return DATA_DIR / f"points-{n}-s{seed}.geojson"


def write_points(n: int, seed: int) -> tuple[Path, str]:
    """n random points in the Dresden bbox (6-decimal coordinates); reused if already there."""
    path = points_path(n, seed)
    if path.exists():
        return path, f"reused {path.relative_to(ROOT)}"
    rng = random.Random(seed)
    x0, y0, x1, y1 = DRESDEN_BBOX
    features = []
    for i in range(1, n + 1):
        features.append({
            "type": "Feature",
            "id": i,
            "geometry": {"type": "Point", "coordinates": [round(rng.uniform(x0, x1), 6),
                                                          round(rng.uniform(y0, y1), 6)]},
            "properties": {
                "name": f"Punkt {i:06d}",
                "kind": KINDS[rng.randrange(len(KINDS))],
                "value": round(rng.uniform(0, 1000), 3),
                "n": rng.randrange(10_000),
            },
        })
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump({"type": "FeatureCollection", "features": features}, fh,
                  separators=(",", ":"), ensure_ascii=False)
    tmp.replace(path)
    return path, f"generated {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.1f} MB)"


def make_bboxes(count: int, seed: int) -> list[Bbox]:
    """Random boxes 0.01-0.03 degrees wide and high inside the Dresden bbox; each edge is a
    6-decimal value plus 0.5e-6, so no (6-decimal) point lies on an edge."""
    rng = random.Random(seed)
    x0, y0, x1, y1 = DRESDEN_BBOX
    boxes = []
    for _ in range(count):
        w, h = rng.uniform(0.01, 0.03), rng.uniform(0.01, 0.03)
        minx, miny = rng.uniform(x0, x1 - w), rng.uniform(y0, y1 - h)
        boxes.append(tuple(round(v, 6) + 5e-7 for v in (minx, miny, minx + w, miny + h)))
    return boxes  # type: ignore[return-value]


def bbox_param(b: Bbox) -> str:
    return ",".join(f"{v:.7f}" for v in b)


# --- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cmd(argv: list[str], env: dict[str, str] | None, what: str, timeout: float = 1800) -> str:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)
    if proc.returncode != 0:
        out = (proc.stderr.strip() or proc.stdout.strip())[-3000:]
        raise SetupError(f"{what}: `{shlex.join(argv)}` exited with {proc.returncode} after "
                         f"{time.perf_counter() - t0:.1f} s:\n{out}")
    return proc.stdout


_RUNNING: list[Server] = []


@dataclass
class Server:
    """One contender's HTTP server: a subprocess in a process group of its own."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    prefix: str  # path before /collections
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    def start(self, probe: str, timeout: float = 180) -> float:
        log_dir = DATA_DIR / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log = log_dir / f"{self.name}.log"
        fh = self.log.open("wb")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=fh,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        fh.close()
        _RUNNING.append(self)
        url = f"{self.base()}/collections/{probe}/items?f=json&limit=1"
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise SetupError(f"{self.name}: `{shlex.join(self.argv)}` exited with "
                                 f"{self.proc.returncode} before serving:\n{self.log_tail()}")
            try:
                if requests.get(url, timeout=30).status_code == 200:
                    return time.perf_counter() - t0
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise SetupError(f"{self.name}: {url} did not answer 200 within {timeout:.0f} s:\n"
                         f"{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if self in _RUNNING:
            _RUNNING.remove(self)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # the group of this server only
            proc.wait(timeout=15)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


def stop_all() -> None:
    for server in list(_RUNNING):
        server.stop()


def _on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


# --- PostgreSQL ----------------------------------------------------------------------------


def pg_url(base_url: str, dbname: str) -> str:
    parts = urlsplit(base_url.replace("postgresql+psycopg://", "postgresql://", 1))
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def recreate_database(base_url: str, dbname: str) -> None:
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(pg_url(base_url, "postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(dbname)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    except psycopg.Error as exc:
        raise SetupError(f"PostgreSQL at {pg_url(base_url, 'postgres')}: {exc}") from exc


def drop_database(base_url: str, dbname: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(pg_url(base_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(dbname)))


# --- contenders ----------------------------------------------------------------------------


@dataclass
class Prepared:
    server: Server
    steps: dict[str, float]  # setup step -> seconds
    notes: list[str] = field(default_factory=list)


def _clean_env() -> dict[str, str]:
    """This environment without ODAPP_* and PYGEOAPI_* (an outer ODAPP_CONFIG must not leak)."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("ODAPP_", "PYGEOAPI_"))}


def prepare_odapp(name: str, files: dict[str, Path], threads: int, pg_base: str) -> Prepared:
    odapp = BIN / "odapp"
    if not odapp.exists():
        raise SetupError(f"{odapp} not found (install ODApp: make setup)")
    work = DATA_DIR / name
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    steps: dict[str, float] = {}
    if name == "odapp-sqlite":
        db = work / "odapp.sqlite"
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{db}"
    else:
        t0 = time.perf_counter()
        recreate_database(pg_base, ODAPP_DB)
        steps["create database"] = time.perf_counter() - t0
        url = pg_url(pg_base, ODAPP_DB)
    env = _clean_env() | {
        "ODAPP_DATABASE_URL": url,
        "ODAPP_BASE_URL": f"http://127.0.0.1:{port}",
        "ODAPP_PORT": str(port),
        "ODAPP_FILES_DIR": str(work / "files"),
    }
    t0 = time.perf_counter()
    run_cmd([str(odapp), "db", "upgrade"], env, f"{name}: odapp db upgrade")
    steps["db upgrade"] = time.perf_counter() - t0
    for collection, path in files.items():
        t0 = time.perf_counter()
        run_cmd([str(odapp), "data", "load", str(path), "--collection", collection], env,
                f"{name}: odapp data load {collection}")
        steps[f"data load {collection}"] = time.perf_counter() - t0
    argv = [str(odapp), "serve", "--host", "127.0.0.1", "--port", str(port),
            "--threads", str(threads)]
    return Prepared(Server(name, argv, env, port, "/ogc"), steps)


def _pygeoapi_config(port: int, resources: dict[str, Any]) -> dict[str, Any]:
    limits = {"default_items": 10, "max_items": MAX_ITEMS, "on_exceed": "throttle"}
    x0, y0, x1, y1 = DRESDEN_BBOX
    return {
        "server": {
            "bind": {"host": "127.0.0.1", "port": port},
            "url": f"http://127.0.0.1:{port}",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "gzip": False,
            "languages": ["de-DE", "en-US"],
            "pretty_print": False,
            "limits": limits,
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                    "attribution": "&copy; OpenStreetMap contributors"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {"title": "pygeoapi (bench peer)", "description": "bench peer",
                               "keywords": ["bench"], "keywords_type": "theme",
                               "terms_of_service": "https://creativecommons.org/licenses/by/4.0/",
                               "url": "https://pygeoapi.io"},
            "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {"name": "bench", "url": "https://pygeoapi.io"},
            "contact": {"name": "bench", "url": "https://pygeoapi.io"},
        },
        "resources": {
            cid: {
                "type": "collection",
                "title": cid,
                "description": cid,
                "keywords": ["bench"],
                "links": [],
                "extents": {"spatial": {"bbox": [x0, y0, x1, y1],
                                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
                "limits": limits,
                "providers": [provider],
            }
            for cid, provider in resources.items()
        },
    }


def ensure_peer_packages(install: bool) -> str | None:
    """geoalchemy2 and psycopg2 for pygeoapi's PostgreSQL provider; pip-installs them into this
    Python's environment (bench/requirements.txt) when they are missing."""
    missing = [m for m in ("geoalchemy2", "psycopg2") if importlib.util.find_spec(m) is None]
    if not missing:
        return None
    if not install:
        raise SetupError(f"missing {', '.join(missing)} for pygeoapi's PostgreSQL provider: "
                         f"{sys.executable} -m pip install -r {REQUIREMENTS.relative_to(ROOT)}")
    run_cmd([sys.executable, "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)], None,
            "pip install -r bench/requirements.txt")
    return f"pip-installed {REQUIREMENTS.relative_to(ROOT)} (missing: {', '.join(missing)})"


def load_peer_tables(files: dict[str, Path], pg_base: str) -> None:
    import psycopg

    parts = urlsplit(pg_url(pg_base, PEER_DB))
    conn_str = (f"PG:host={parts.hostname or '127.0.0.1'} port={parts.port or 5432} "
                f"dbname={PEER_DB} user={parts.username or 'postgres'}"
                + (f" password={parts.password}" if parts.password else ""))
    with psycopg.connect(pg_url(pg_base, PEER_DB), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    for table, path in files.items():
        # the GeoJSON ids become the integer primary key id; geometry type as in the file
        run_cmd(["ogr2ogr", "-f", "PostgreSQL", conn_str, str(path), "-nln", table,
                 "-nlt", "GEOMETRY", "-lco", "GEOMETRY_NAME=geom", "-lco", "FID=id",
                 "-lco", "SPATIAL_INDEX=GIST", "-lco", "PRECISION=NO", "-overwrite",
                 "--config", "PG_USE_COPY", "YES"], None, f"ogr2ogr {path.name} -> {table}")
    with psycopg.connect(pg_url(pg_base, PEER_DB), autocommit=True) as conn:
        for table, path in files.items():
            n = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # type: ignore
            gist = conn.execute(
                "SELECT count(*) FROM pg_indexes WHERE tablename = %s AND indexdef ILIKE "
                "'%%USING gist%%'", (table,)).fetchone()[0]  # type: ignore[index]
            if not gist:
                conn.execute(f'CREATE INDEX ON "{table}" USING gist (geom)')
            expected = len(json.loads(path.read_text(encoding="utf-8"))["features"])
            if n != expected:
                raise SetupError(f"ogr2ogr loaded {n} rows into {table}, expected {expected}")
        conn.execute("VACUUM ANALYZE")


def prepare_pygeoapi(name: str, files: dict[str, Path], threads: int, pg_base: str,
                     install: bool) -> Prepared:
    work = DATA_DIR / name
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    steps: dict[str, float] = {}
    notes: list[str] = []
    resources: dict[str, Any] = {}
    if name == "pygeoapi-geojson":
        for cid, path in files.items():
            resources[cid] = {"type": "feature", "name": "GeoJSON", "data": str(path),
                              "id_field": "id"}
    else:
        note = ensure_peer_packages(install)
        if note:
            notes.append(note)
        t0 = time.perf_counter()
        recreate_database(pg_base, PEER_DB)
        load_peer_tables(files, pg_base)
        steps["ogr2ogr + index + analyze"] = time.perf_counter() - t0
        parts = urlsplit(pg_url(pg_base, PEER_DB))
        data = {"host": parts.hostname or "127.0.0.1", "port": parts.port or 5432,
                "dbname": PEER_DB, "user": parts.username or "postgres",
                "password": parts.password or "", "search_path": ["public"]}
        for cid in files:
            resources[cid] = {"type": "feature", "name": "PostgreSQL", "data": data,
                              "id_field": "id", "table": cid, "geom_field": "geom"}
    config_path, openapi_path = work / "pygeoapi-config.yml", work / "pygeoapi-openapi.yml"
    config_path.write_text(yaml.safe_dump(_pygeoapi_config(port, resources), sort_keys=False),
                           encoding="utf-8")
    env = _clean_env() | {"PYGEOAPI_CONFIG": str(config_path),
                          "PYGEOAPI_OPENAPI": str(openapi_path)}
    t0 = time.perf_counter()
    run_cmd([str(BIN / "pygeoapi"), "openapi", "generate", str(config_path), "--output-file",
             str(openapi_path)], env, f"{name}: pygeoapi openapi generate")
    steps["openapi generate"] = time.perf_counter() - t0
    argv = [sys.executable, "-m", "waitress", "--host=127.0.0.1", f"--port={port}",
            f"--threads={threads}", "--ident=pygeoapi", "pygeoapi.flask_app:APP"]
    return Prepared(Server(name, argv, env, port, ""), steps, notes)


# --- measuring -----------------------------------------------------------------------------


@dataclass
class Sample:
    index: int
    latency_s: float
    status: int
    size: int
    returned: int | None = None
    matched: int | None = None
    keys: list[str] | None = None
    error: str | None = None


def fetch(session: requests.Session, url: str, index: int, key: str | None) -> Sample:
    t0 = time.perf_counter()
    try:
        resp = session.get(url, timeout=300)
        body = resp.content
    except requests.RequestException as exc:
        return Sample(index, time.perf_counter() - t0, 0, 0, error=f"{type(exc).__name__}: {exc}")
    latency = time.perf_counter() - t0
    sample = Sample(index, latency, resp.status_code, len(body))
    if resp.status_code != 200:
        sample.error = f"HTTP {resp.status_code}: {body[:300]!r}"
        return sample
    try:
        doc = json.loads(body)
    except ValueError as exc:
        sample.error = f"not JSON ({exc}): {body[:200]!r}"
        return sample
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" \
            or not isinstance(doc.get("features"), list):
        sample.error = f"not a FeatureCollection: {body[:200]!r}"
        return sample
    sample.returned = len(doc["features"])
    matched = doc.get("numberMatched")
    sample.matched = matched if isinstance(matched, int) else None
    if key is not None:
        sample.keys = sorted(str((f.get("properties") or {}).get(key)) for f in doc["features"])
    return sample


def run_batch(urls: list[str], clients: int, key: str | None = None,
              label: str = "") -> tuple[list[Sample], float]:
    """GET every URL with ``clients`` threads (one requests.Session each); samples in URL order
    and the wall time of the whole batch. A slow batch says how far it is once a minute."""
    local = threading.local()
    sessions: list[requests.Session] = []
    lock = threading.Lock()
    progress = {"done": 0, "said": time.perf_counter()}

    def one(i: int) -> Sample:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            with lock:
                sessions.append(session)
        sample = fetch(session, urls[i], i, key)
        with lock:
            progress["done"] += 1
            now = time.perf_counter()
            if label and now - progress["said"] > 60:
                progress["said"] = now
                print(f"    ... {label}: {progress['done']}/{len(urls)} after {now - t0:.0f} s "
                      f"(load {os.getloadavg()[0]:.1f})", flush=True)
        return sample

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        samples = list(pool.map(one, range(len(urls))))
    wall = time.perf_counter() - t0
    for session in sessions:
        session.close()
    return samples, wall


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class Result:
    contender: str
    collection: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    mean_ms: float
    max_ms: float
    avg_kb: float
    avg_returned: float
    avg_matched: float | None
    load_before: float
    load_after: float


def summarize(contender: str, collection: str, samples: list[Sample], wall: float,
              load: tuple[float, float]) -> Result:
    ok = [s for s in samples if s.error is None]
    lat = [s.latency_s * 1000 for s in ok]
    matched = [s.matched for s in ok if s.matched is not None]
    return Result(
        contender, collection, len(samples), len(samples) - len(ok), wall,
        len(ok) / wall if wall else 0.0, pct(lat, 0.5), pct(lat, 0.95),
        statistics.fmean(lat) if lat else float("nan"), max(lat, default=float("nan")),
        statistics.fmean(s.size for s in ok) / 1024 if ok else float("nan"),
        statistics.fmean(s.returned or 0 for s in ok) if ok else float("nan"),
        statistics.fmean(matched) if matched else None, load[0], load[1],
    )


@dataclass
class Run:
    args: dict[str, Any]
    started: str
    environment: dict[str, Any]
    data: dict[str, str] = field(default_factory=dict)
    setup: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: list[Result] = field(default_factory=list)
    ratios: list[dict[str, Any]] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # contender -> collection -> per-bbox (returned, matched); --verify key lists
    counts: dict[str, dict[str, list[tuple[int | None, int | None]]]] = field(
        default_factory=dict)
    verify: dict[str, dict[str, list[list[str] | None]]] = field(default_factory=dict)

    def save(self) -> None:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        doc = {k: v for k, v in asdict(self).items() if k not in ("counts", "verify")}
        doc["counts_per_bbox"] = {c: {col: [list(x) for x in v] for col, v in by.items()}
                                  for c, by in self.counts.items()}
        JSON_PATH.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n",
                             encoding="utf-8")


def measure_contender(run: Run, prepared: Prepared, args: argparse.Namespace,
                      warm: list[Bbox], boxes: list[Bbox]) -> None:
    server = prepared.server
    if server.name in SLOW and args.slow_requests < len(boxes):
        # the GeoJSON provider re-reads the file per request (4-6 s of CPU at 100k points):
        # a prefix of the same boxes keeps `make bench` short and the comparison fair
        boxes, warm = boxes[: args.slow_requests], warm[:2]
    t_start = server.start(COLLECTIONS[0])
    run.setup[server.name]["steps"]["server ready"] = t_start
    print(f"  {server.name}: serving on {server.base()} ({t_start:.1f} s to the first 200)",
          flush=True)
    for collection in COLLECTIONS:
        base = f"{server.base()}/collections/{collection}/items?f=json"
        warm_urls = [f"{base}&limit={LIMIT}&bbox={bbox_param(b)}" for b in warm]
        samples, _ = run_batch(warm_urls, args.clients, label=f"{server.name} {collection} warm-up")
        bad = [s for s in samples if s.error]
        if bad:
            raise SetupError(f"{server.name} {collection}: warm-up request failed: "
                             f"{bad[0].error}\n{server.log_tail(2000)}")
        urls = [f"{base}&limit={LIMIT}&bbox={bbox_param(b)}" for b in boxes]
        before = os.getloadavg()[0]
        samples, wall = run_batch(urls, args.clients, label=f"{server.name} {collection}")
        after = os.getloadavg()[0]
        result = summarize(server.name, collection, samples, wall, (before, after))
        run.results.append(result)
        run.counts.setdefault(server.name, {})[collection] = [
            (s.returned, s.matched) for s in samples]
        for s in samples:
            if s.error:
                run.failures.append(f"{server.name} {collection} bbox {bbox_param(boxes[s.index])}:"
                                    f" {s.error}")
        print(format_result(result), flush=True)
        if args.verify:
            vurls = [f"{base}&limit={MAX_ITEMS}&bbox={bbox_param(b)}"
                     for b in boxes[:args.verify]]
            vsamples, _ = run_batch(vurls, args.clients, KEY_PROPERTY[collection],
                                    f"{server.name} {collection} verify")
            run.verify.setdefault(server.name, {})[collection] = [s.keys for s in vsamples]
            for s in vsamples:
                if s.error:
                    run.failures.append(f"{server.name} {collection} verify bbox "
                                        f"{bbox_param(boxes[s.index])}: {s.error}")


# --- comparing and printing ----------------------------------------------------------------


def compare_counts(run: Run, boxes: list[Bbox]) -> None:
    for collection in COLLECTIONS:
        names = [c for c in run.counts if collection in run.counts[c]]
        if len(names) < 2:
            continue
        for i, b in enumerate(boxes[: min(len(run.counts[c][collection]) for c in names)]):
            cells = {c: run.counts[c][collection][i] for c in names}
            returned = {c: r for c, (r, _m) in cells.items() if r is not None}
            matched = {c: m for c, (_r, m) in cells.items() if m is not None}
            if len(set(returned.values())) > 1 or len(set(matched.values())) > 1:
                run.disagreements.append(
                    f"{collection} bbox {bbox_param(b)}: "
                    + ", ".join(f"{c} returned {r} matched {m}" for c, (r, m) in cells.items()))
        vnames = [c for c in run.verify if collection in run.verify[c]]
        for i in range(min((len(run.verify[c][collection]) for c in vnames), default=0)):
            sets = {c: run.verify[c][collection][i] for c in vnames}
            known = {c: k for c, k in sets.items() if k is not None}
            if len({tuple(k) for k in known.values()}) > 1:
                ref_name, ref = next(iter(known.items()))
                diffs = []
                for c, k in known.items():
                    if k != ref:
                        only_c = sorted(set(k) - set(ref))[:3]
                        only_ref = sorted(set(ref) - set(k))[:3]
                        diffs.append(f"{c}: {len(k)} features (not in {ref_name}: {only_c}, "
                                     f"missing: {only_ref})")
                run.disagreements.append(
                    f"{collection} bbox {bbox_param(boxes[i])} limit={MAX_ITEMS}: {ref_name} "
                    f"{len(ref)} features; " + "; ".join(diffs))


def compute_ratios(run: Run) -> None:
    by = {(r.contender, r.collection): r for r in run.results}
    for odapp, peer in RATIOS:
        for collection in COLLECTIONS:
            a, b = by.get((odapp, collection)), by.get((peer, collection))
            if a is None or b is None or not b.rps:
                continue
            run.ratios.append({
                "odapp": odapp, "peer": peer, "collection": collection,
                "throughput_ratio": a.rps / b.rps,
                "p50_speedup": b.p50_ms / a.p50_ms if a.p50_ms else None,
                "p95_speedup": b.p95_ms / a.p95_ms if a.p95_ms else None,
            })


HEADER = (f"  {'contender':<20} {'collection':<12} {'req':>5} {'err':>4} {'req/s':>8} "
          f"{'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8} {'max ms':>8} {'avg KB':>7} "
          f"{'returned':>8} {'matched':>8} {'load':>9}")


def format_result(r: Result) -> str:
    matched = f"{r.avg_matched:8.1f}" if r.avg_matched is not None else f"{'-':>8}"
    return (f"  {r.contender:<20} {r.collection:<12} {r.requests:>5} {r.errors:>4} "
            f"{r.rps:8.2f} {r.p50_ms:8.1f} {r.p95_ms:8.1f} {r.mean_ms:8.1f} {r.max_ms:8.1f} "
            f"{r.avg_kb:7.1f} {r.avg_returned:8.1f} {matched} "
            f"{r.load_before:4.1f}>{r.load_after:<4.1f}")


def print_summary(run: Run, args: argparse.Namespace) -> None:
    print(f"\n== OGC API Features items: limit={LIMIT}, random bbox 0.01-0.03 deg, "
          f"{args.requests} requests per row after {args.warmup} warm-up, {args.clients} "
          f"clients, servers: waitress --threads {args.threads}, one at a time ==")
    print(HEADER)
    for r in run.results:
        print(format_result(r))
    print("  (req/s = requests / wall time with all clients busy; latency per request as a "
          "client sees it;\n   returned/matched = average features per response; load = "
          f"1-minute load average before>after the row, on {os.cpu_count()} CPUs:\n   other "
          "work on the machine slows every contender it overlaps)")
    if run.ratios:
        print("\n== ratios (throughput = ODApp req/s / peer req/s; > 1 means ODApp is faster; "
              "p50/p95 speed-up = peer latency / ODApp latency) ==")
        print(f"  {'ratio':<44} {'collection':<12} {'throughput':>10} {'p50':>7} {'p95':>7}")
        for x in run.ratios:
            print(f"  {x['odapp'] + ' / ' + x['peer']:<44} {x['collection']:<12} "
                  f"{x['throughput_ratio']:10.2f} {x['p50_speedup']:7.2f} "
                  f"{x['p95_speedup']:7.2f}")
    print("\n== setup (seconds) ==")
    for name, info in run.setup.items():
        steps = ", ".join(f"{k} {v:.1f}" for k, v in info["steps"].items())
        print(f"  {name:<20} {steps}" + (f"  [{'; '.join(info['notes'])}]" if info["notes"]
                                         else ""))
    agree_names = sorted(run.counts)
    if len(agree_names) > 1:
        state = "DISAGREE" if run.disagreements else "agree"
        what = "features per bbox" + (f" and the feature sets of the first {args.verify} "
                                      f"bboxes (limit={MAX_ITEMS})" if args.verify else "")
        print(f"\n{what}: {state} ({', '.join(agree_names)})")
    for d in run.disagreements[:20]:
        print(f"  WARNING: {d}")
    if len(run.disagreements) > 20:
        print(f"  ... and {len(run.disagreements) - 20} more (all in {JSON_PATH})")
    for f in run.failures[:20]:
        print(f"FAILED: {f}")
    if len(run.failures) > 20:
        print(f"  ... and {len(run.failures) - 20} more (all in {JSON_PATH})")


# --- main ----------------------------------------------------------------------------------


def versions() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, Any] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                           "machine": platform.platform()}
    for pkg in ("pygeoapi", "waitress", "SQLAlchemy", "GeoAlchemy2", "psycopg2-binary",
                "psycopg", "shapely", "odapp"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    try:
        out["git_head"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                         capture_output=True, text=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                                text=True).stdout
        out["uncommitted"] = [ln[3:] for ln in status.splitlines() if ln.strip()]
    except OSError:
        pass
    try:
        out["postgresql"] = subprocess.run(["psql", "--version"], capture_output=True,
                                           text=True).stdout.strip()
    except OSError:
        out["postgresql"] = None
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=300,
                    help="measured requests per contender and collection (default 300)")
    ap.add_argument("--warmup", type=int, default=20, help="warm-up requests (default 20)")
    ap.add_argument("--threads", type=int, default=4, help="waitress threads of every server")
    ap.add_argument("--clients", type=int, default=4, help="client threads (default 4)")
    ap.add_argument("--slow-requests", type=int, default=40,
                    help="measured requests for pygeoapi-geojson (default 40)")
    ap.add_argument("--only", default=",".join(CONTENDERS),
                    help=f"comma separated subset of {', '.join(CONTENDERS)}")
    ap.add_argument("--points", type=int, default=100_000, help="points (default 100000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--verify", type=int, default=10,
                    help="compare the sets of features of the first N bboxes (default 10; 0: off)")
    ap.add_argument("--no-install", action="store_true",
                    help="do not pip-install bench/requirements.txt when it is missing")
    ap.add_argument("--keep-databases", action="store_true",
                    help="leave the PostgreSQL databases for inspection (default: drop them)")
    args = ap.parse_args(argv)
    only = [c.strip() for c in args.only.split(",") if c.strip()]
    for c in only:
        if c not in CONTENDERS:
            raise SystemExit(f"unknown contender {c!r} ({', '.join(CONTENDERS)})")
    if args.requests < 1 or args.threads < 1 or args.clients < 1 or args.points < 1:
        raise SystemExit("--requests, --threads, --clients and --points must be positive")
    contenders = [c for c in CONTENDERS if c in only]
    pg_base = os.environ.get("ODAPP_BENCH_POSTGRES_URL", DEFAULT_PG_URL)

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # two runs at once would share the databases, files and logs (and each slow the other)
    lock = (DATA_DIR / ".lock").open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise SystemExit(f"another bench/ogc_features.py is running ({DATA_DIR / '.lock'} is "
                         "locked); wait for it to finish") from None
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    atexit.register(stop_all)

    run = Run(args={**vars(args), "contenders": contenders, "limit": LIMIT,
                    "postgres_url": pg_base},
              started=datetime.now().isoformat(timespec="seconds"), environment=versions())
    print(f"ogc_features: {', '.join(contenders)}; {args.points:,} points + "
          f"{DISTRICTS.name}; {args.requests} requests (+{args.warmup} warm-up) per contender "
          f"and collection, {args.clients} clients, {args.threads} server threads; "
          f"JSON -> {JSON_PATH.relative_to(ROOT)}", flush=True)
    env = run.environment
    print(f"pygeoapi {env['pygeoapi']}, waitress {env['waitress']}, SQLAlchemy "
          f"{env['SQLAlchemy']}, Python {env['python']}, {env['cpus']} CPUs, git "
          f"{env.get('git_head')}; load average {os.getloadavg()[0]:.2f}", flush=True)
    t0 = time.perf_counter()
    points, how = write_points(args.points, args.seed)
    run.data = {"points": str(points), "wahlbezirke": str(DISTRICTS)}
    print(f"points: {how} in {time.perf_counter() - t0:.1f} s", flush=True)
    files = {"points": points, "wahlbezirke": DISTRICTS}
    warm = make_bboxes(args.warmup, args.seed + 1000)
    boxes = make_bboxes(args.requests, args.seed)
    print(HEADER, flush=True)

    used_pg = False
    prepare: dict[str, Callable[[], Prepared]] = {
        "odapp-sqlite": lambda: prepare_odapp("odapp-sqlite", files, args.threads, pg_base),
        "odapp-postgis": lambda: prepare_odapp("odapp-postgis", files, args.threads, pg_base),
        "pygeoapi-geojson": lambda: prepare_pygeoapi("pygeoapi-geojson", files, args.threads,
                                                     pg_base, not args.no_install),
        "pygeoapi-postgresql": lambda: prepare_pygeoapi("pygeoapi-postgresql", files,
                                                        args.threads, pg_base,
                                                        not args.no_install),
    }
    try:
        for name in contenders:
            used_pg = used_pg or name in ("odapp-postgis", "pygeoapi-postgresql")
            print(f"  {name}: setting up", flush=True)
            prepared: Prepared | None = None
            try:
                prepared = prepare[name]()
                run.setup[name] = {"steps": prepared.steps, "notes": prepared.notes}
                measure_contender(run, prepared, args, warm, boxes)
            except SetupError as exc:
                run.setup.setdefault(name, {"steps": {}, "notes": []})
                run.failures.append(f"{name}: {exc}")
                print(f"  {name}: FAILED: {exc}", flush=True)
            finally:
                if prepared is not None:
                    prepared.server.stop()
            run.save()
    finally:
        stop_all()
        if used_pg and not args.keep_databases:
            for db in (ODAPP_DB, PEER_DB):
                try:
                    drop_database(pg_base, db)
                except Exception as exc:  # noqa: BLE001 - cleanup must not hide the result
                    print(f"NOTE: could not drop database {db}: {exc}")
    compare_counts(run, boxes)
    compute_ratios(run)
    print_summary(run, args)
    run.save()
    print(f"\nJSON: {JSON_PATH}")
    return 1 if run.failures or run.disagreements else 0


if __name__ == "__main__":
    raise SystemExit(main())
