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
POSTGRES_URL = os.environ.get(
    "ODAPP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1/odapp_test"
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


def make_store(backend: str, tmp_path: Path) -> Store:
    if backend == "sqlite":
        store = Store(f"sqlite:///{tmp_path}/odapp.sqlite", BASE)
    else:
        if not _PG_PROBLEM:
            _PG_PROBLEM.append(_postgres_ready())
        if _PG_PROBLEM[0]:
            if os.environ.get("ODAPP_REQUIRE_POSTGRES"):
                pytest.fail(_PG_PROBLEM[0])
            pytest.skip(_PG_PROBLEM[0])
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
