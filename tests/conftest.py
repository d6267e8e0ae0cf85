"""Shared fixtures: a store on each backend (SQLite file, real PostgreSQL + PostGIS), the
reference examples, and a real ODApp server process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from catalog.store import Store

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(os.environ.get("ODAPP_REFERENCE", ROOT.parent / "shared" / "reference"))
EXAMPLES = REFERENCE / "dcat-ap-de" / "examples"
# plain (EU) DCAT-AP examples, imported alongside the DCAT-AP.de ones
EU_EXAMPLES = REFERENCE / "dcat-ap-de" / "eu-dcat-ap" / "3.0.1" / "examples"
# one database per test process (parallel runs would drop each other's tables), removed at the end
POSTGRES_URL = os.environ.get(
    "ODAPP_TEST_POSTGRES_URL", f"postgresql://postgres@127.0.0.1/odapp_test_{os.getpid()}"
)
BASE = "http://odapp.test"

# Examples with known upstream syntax errors (see the reference README); they must fail cleanly.
BROKEN_EXAMPLES = {
    "DataService.ttl",
    "2024-02-22_UAG_Beispieldatensatz_v1.ttl",
    "example-bee-population-dataset-series-combined.ttl",
}


def example_files() -> list[Path]:
    if not EXAMPLES.is_dir():
        return []
    found = [*EXAMPLES.rglob("*"), *EU_EXAMPLES.glob("*")]
    return sorted(p for p in found if p.suffix in (".ttl", ".rdf", ".jsonld"))


def parseable_examples() -> list[Path]:
    return [p for p in example_files() if p.name not in BROKEN_EXAMPLES]


def _postgres_ready() -> str | None:
    """Create the test database if needed; return why PostgreSQL cannot be used, or None."""
    import psycopg

    target = POSTGRES_URL.rsplit("/", 1)
    try:
        with psycopg.connect(target[0] + "/postgres", autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (target[1],)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{target[1]}"')
        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except Exception as exc:  # any failure means: no usable PostgreSQL/PostGIS here
        return f"PostgreSQL + PostGIS not usable at {POSTGRES_URL}: {exc}"
    return None


_PG_PROBLEM: list[str | None] = []


def reset_postgres() -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'spatial_ref_sys'"  # PostGIS's own
        ).fetchall()
        for (table,) in tables:
            conn.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')


def require_postgres() -> None:
    """Skip (fail with ODAPP_REQUIRE_POSTGRES) when PostgreSQL + PostGIS cannot be used."""
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_postgres_ready())
    if _PG_PROBLEM[0]:
        if os.environ.get("ODAPP_REQUIRE_POSTGRES"):
            pytest.fail(_PG_PROBLEM[0])
        pytest.skip(_PG_PROBLEM[0])


def make_store(backend: str, tmp_path: Path) -> Store:
    if backend == "sqlite":
        store = Store(f"sqlite:///{tmp_path}/odapp.sqlite", BASE)
    else:
        require_postgres()
        reset_postgres()
        store = Store(POSTGRES_URL, BASE)
    store.upgrade()
    return store


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = make_store(request.param, tmp_path)
    yield s
    s.engine.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = make_store("sqlite", tmp_path)
    yield s
    s.engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A real `odapp serve` process on a free port with its own SQLite database."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.env = {
            **os.environ,
            "ODAPP_DATABASE_URL": f"sqlite:///{workdir}/odapp.sqlite",
            "ODAPP_FILES_DIR": str(workdir / "files"),
            "ODAPP_BASE_URL": self.url,
            "ODAPP_PORT": str(self.port),
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def odapp(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "odapp.cli", *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=600,
        )

    def start(self) -> Server:
        log = open(self.workdir / "server.log", "wb")  # noqa: SIM115 (closed with the process)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "odapp.cli", "serve"],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.2)
            if self.process.poll() is not None:
                break
        raise RuntimeError((self.workdir / "server.log").read_text())

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    servers: list[Server] = []

    def make(env: dict[str, str] | None = None) -> Server:
        server = Server(tmp_path_factory.mktemp("server"), env)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


OGC_POSTGRES_URL = POSTGRES_URL.rsplit("/", 1)[0] + f"/odapp_test_ogc_{os.getpid()}"


@pytest.fixture(scope="session", autouse=True)
def _drop_test_database() -> Iterator[None]:
    yield
    if _PG_PROBLEM and not _PG_PROBLEM[0] and "ODAPP_TEST_POSTGRES_URL" not in os.environ:
        _drop_postgres_database(POSTGRES_URL)
BIG_COLLECTION = "punkte"
BIG_COUNT = 10_500


def big_points_file(path: Path, n: int = BIG_COUNT) -> Path:
    """``n`` points in a grid over Dresden (deterministic), as GeoJSON."""
    import json

    features = []
    for i in range(n):
        x, y = 13.58 + (i % 150) * 0.0025, 50.98 + (i // 150) * 0.0028
        features.append({
            "type": "Feature",
            "id": i + 1,
            "properties": {"nr": i + 1, "gruppe": f"g{i % 7}", "wert": round(i * 0.5, 1)},
            "geometry": {"type": "Point", "coordinates": [x, y]},
        })
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _fresh_postgres_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def ogc_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A served demo catalogue (its distributions loaded as OGC API collections) plus a
    10,500-point collection, on SQLite and on PostgreSQL + PostGIS."""
    env = {}
    if request.param == "postgresql":
        require_postgres()
        _fresh_postgres_database(OGC_POSTGRES_URL)
        env["ODAPP_DATABASE_URL"] = OGC_POSTGRES_URL
    server = Server(tmp_path_factory.mktemp(f"ogc-{request.param}"), env)
    server.odapp("demo")
    big = big_points_file(server.workdir / "punkte.geojson")
    server.odapp("data", "load", str(big), "--collection", BIG_COLLECTION, "--title", "Punkte")
    server.start()
    yield server
    server.stop()
    if request.param == "postgresql":
        _drop_postgres_database(OGC_POSTGRES_URL)


def _drop_postgres_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
