"""What every source type shares, driven through a real paged DCAT-AP.de server: idempotent
re-runs, withdrawal only after complete runs, restore, faults that change nothing, priority
between sources sharing a dct:identifier, provenance, one run at a time, a killed process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from rdflib import DCTERMS, Graph, Literal, URIRef
from sqlalchemy import select

from bench.paged_catalog import Fault, PagedCatalog, generated_pages
from catalog.harvest_state import HarvestBusy, HarvestLedger
from catalog.namespaces import PROV
from catalog.schema import ResourceRow
from catalog.store import Store
from harvesters.base import SourceConfig
from harvesters.run import run_source
from tests.conftest import Server

PER_PAGE = 10
PAGES = 4


def config(url: str, name: str = "beispiel", priority: int = 0, timeout: float = 5) -> SourceConfig:
    return SourceConfig(
        name=name,
        type="dcat",
        organization={"name": "Beispielstadt"},
        url=url,
        priority=priority,
        timeout=timeout,
    )


def snapshot(store: Store) -> dict[str, tuple[str, bool, object]]:
    """Every resource's RDF, deleted flag and last write."""
    with store.sessions() as session:
        rows = session.execute(
            select(ResourceRow.uri, ResourceRow.nt, ResourceRow.deleted, ResourceRow.updated_at)
        )
        return {uri: (nt, deleted, updated) for uri, nt, deleted, updated in rows}


def live(store: Store) -> set[str]:
    return {uri for uri, (_, deleted, _) in snapshot(store).items() if not deleted}


def _dataset(graph: Graph, identifier: str) -> URIRef:
    return next(s for s in graph.subjects(DCTERMS.identifier, Literal(identifier)))


def retitle(page: str, identifier: str, title: str) -> str:
    """The page with the dataset ``identifier`` given a new German title."""
    graph = Graph().parse(data=page, format="turtle")
    graph.set((_dataset(graph, identifier), DCTERMS.title, Literal(title, lang="de")))
    return graph.serialize(format="turtle")


def drop_dataset(page: str, identifier: str) -> str:
    """The page without the dataset ``identifier`` (and the catalogue's link to it)."""
    graph = Graph().parse(data=page, format="turtle")
    subject = _dataset(graph, identifier)
    graph.remove((subject, None, None))
    graph.remove((None, None, subject))
    return graph.serialize(format="turtle")


def identifiers(page: str) -> list[str]:
    graph = Graph().parse(data=page, format="turtle")
    return sorted(str(o) for o in graph.objects(None, DCTERMS.identifier))


@pytest.fixture
def pages() -> list[str]:
    return generated_pages(PER_PAGE * PAGES, PER_PAGE)


def test_rerun_changes_nothing_then_changes_and_withdrawals_apply(
    store: Store, tmp_path: Path, pages: list[str]
) -> None:
    with PagedCatalog(pages) as source:
        first = run_source(store, config(source.url), files_dir=tmp_path)
        assert first.status == "succeeded", first.summary()
        assert first.counts["new"] == PER_PAGE * PAGES
        before = snapshot(store)
        second = run_source(store, config(source.url), files_dir=tmp_path)
        assert second.counts == {
            "new": 0,
            "changed": 0,
            "unchanged": PER_PAGE * PAGES,
            "withdrawn": 0,
            "failed": 0,
        }
        assert snapshot(store) == before  # not one byte and not one timestamp changed

        changed_id = identifiers(pages[1])[3]
        gone_id = identifiers(pages[2])[0]
        source.pages[1] = retitle(pages[1], changed_id, "Neuer Titel mit Ümlaut")
        source.pages[2] = drop_dataset(pages[2], gone_id)
        third = run_source(store, config(source.url), files_dir=tmp_path)
        assert third.status == "succeeded", third.summary()
        assert (third.counts["changed"], third.counts["withdrawn"], third.counts["new"]) == (
            1,
            1,
            0,
        )
        with store.sessions() as session:
            titles = {
                t: d for t, d in session.execute(select(ResourceRow.title, ResourceRow.deleted))
            }
        assert titles["Neuer Titel mit Ümlaut"] is False
        gone = [u for u in before if u.endswith("/" + gone_id)]
        assert gone and snapshot(store)[gone[0]][1] is True  # kept, marked deleted

        source.pages[2] = pages[2]  # back at the source: restored
        fourth = run_source(store, config(source.url), files_dir=tmp_path)
        assert fourth.counts["changed"] == 1 and fourth.counts["withdrawn"] == 0
        assert snapshot(store)[gone[0]][1] is False


def test_provenance_names_the_page_and_the_harvest_time(
    store: Store, tmp_path: Path, pages: list[str]
) -> None:
    with PagedCatalog(pages[:1]) as source:
        run_source(store, config(source.url), files_dir=tmp_path)
        stored = next(store.iter_resources())
        graph = Graph().parse(data=stored.nt, format="nt")
        subject = URIRef(stored.uri)
        assert (subject, PROV.wasDerivedFrom, URIRef(source.url)) in graph
        derivation = graph.value(subject, PROV.qualifiedDerivation)
        assert graph.value(derivation, PROV.entity) == URIRef(source.url)
        assert isinstance(graph.value(derivation, PROV.atTime), Literal)


@pytest.mark.parametrize("kind", ["drop", "500", "malformed", "slow"])
def test_a_fault_on_page_3_changes_and_withdraws_nothing(
    store: Store, tmp_path: Path, pages: list[str], kind: str
) -> None:
    with PagedCatalog(pages) as source:
        assert run_source(store, config(source.url), files_dir=tmp_path).status == "succeeded"
        before = snapshot(store)
        # a real change on page 1 and a dataset gone from page 4, then the fault on page 3
        source.pages[0] = retitle(pages[0], identifiers(pages[0])[0], "Geändert")
        source.pages[3] = drop_dataset(pages[3], identifiers(pages[3])[0])
        source.fault = Fault(page=3, kind=kind, delay=3.0)
        failed = run_source(store, config(source.url, timeout=1.0), files_dir=tmp_path)
        assert failed.status == "failed"
        assert failed.error is not None and "page=3" in failed.error["where"]
        assert failed.error["message_de"] and failed.error["message_en"]
        assert snapshot(store) == before
        job = HarvestLedger(store).job(failed.job_id)
        assert job["status"] == "failed" and job["error"]["where"] == failed.error["where"]

        source.fault = None  # the next run completes and applies both
        ok = run_source(store, config(source.url, timeout=5.0), files_dir=tmp_path)
        assert ok.status == "succeeded", ok.summary()
        assert ok.counts["changed"] == 1 and ok.counts["withdrawn"] == 1


def test_the_higher_priority_wins_a_shared_identifier_and_both_origins_are_kept(
    store: Store, tmp_path: Path, pages: list[str]
) -> None:
    shared = identifiers(pages[0])[0]
    other_pages = [retitle(pages[0], shared, "Titel der wichtigeren Quelle")]
    with PagedCatalog(pages[:1]) as low, PagedCatalog(other_pages, "/other.ttl") as high:
        run_source(store, config(low.url, "niedrig", priority=1), files_dir=tmp_path)
        result = run_source(store, config(high.url, "hoch", priority=5), files_dir=tmp_path)
        assert result.status == "succeeded"
        assert len(live(store)) == PER_PAGE  # one dataset per identifier, not two
        with store.sessions() as session:
            row = session.scalar(
                select(ResourceRow).where(ResourceRow.title == "Titel der wichtigeren Quelle")
            )
            assert row is not None
            graph = Graph().parse(data=row.nt, format="nt")
        origins = set(graph.objects(URIRef(row.uri), PROV.wasDerivedFrom))
        assert {URIRef(low.url), URIRef(high.url)} <= origins

        # the low source runs again: it does not overwrite the winner
        again = run_source(store, config(low.url, "niedrig", priority=1), files_dir=tmp_path)
        assert again.counts["unchanged"] == PER_PAGE
        assert store.get(row.name).title == "Titel der wichtigeren Quelle"

        # the winner withdraws it: the other source's record takes over, nothing is deleted
        high.pages[0] = drop_dataset(other_pages[0], shared)
        gone = run_source(store, config(high.url, "hoch", priority=5), files_dir=tmp_path)
        assert gone.counts["withdrawn"] == 1
        fallback = store.get(row.name)
        assert fallback.title != "Titel der wichtigeren Quelle"
        assert row.uri in live(store)


def test_a_source_runs_once_at_a_time_and_a_killed_run_is_marked_failed(
    store: Store, tmp_path: Path, pages: list[str]
) -> None:
    with PagedCatalog(pages) as source:
        source.fault = Fault(page=2, kind="slow", delay=60)
        yaml_file = tmp_path / "beispiel.yaml"
        yaml_file.write_text(
            "name: beispiel\ntype: dcat\norganization:\n  name: Beispielstadt\n"
            f"url: {source.url}\ntimeout: 120\n",
            "utf-8",
        )
        env = {
            **os.environ,
            "ODAPP_DATABASE_URL": store.database_url,
            "ODAPP_FILES_DIR": str(tmp_path),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "odapp.cli", "harvest", "run", "--file", str(yaml_file)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        ledger = HarvestLedger(store)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("page=2" in s for s in source.served):
            time.sleep(0.1)
        assert any("page=2" in s for s in source.served), "the run never reached page 2"
        with pytest.raises(HarvestBusy):
            run_source(store, config(source.url), files_dir=tmp_path)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

        jobs = ledger.jobs("beispiel")
        killed = next(j for j in jobs if j["pid"] == process.pid)
        assert killed["status"] == "failed"
        assert str(process.pid) in killed["error"]["message_en"]
        assert live(store) == set()  # nothing half-written

        source.fault = None
        done = run_source(store, config(source.url), files_dir=tmp_path)
        assert done.status == "succeeded" and done.counts["new"] == PER_PAGE * PAGES
        assert ledger.last_jobs()["beispiel"]["id"] == done.job_id > killed["id"]


def test_jobs_are_listed_over_http_and_by_the_cli(tmp_path: Path, pages: list[str]) -> None:
    with PagedCatalog(pages[:2]) as source:
        server = Server(tmp_path)
        folder = tmp_path / "config" / "harvesters"
        folder.mkdir(parents=True)
        (folder / "beispiel.yaml").write_text(
            "name: beispiel\ntype: dcat\norganization:\n  name: Beispielstadt\n"
            f"url: {source.url}\nschedule: '0 3 * * *'\ndefaults:\n  license: dl-by-de/2.0\n",
            "utf-8",
        )
        run = server.odapp("harvest", "run", "beispiel")
        assert "succeeded" in run.stdout and "new 20" in run.stdout
        listing = server.odapp("harvest", "list")
        assert "beispiel" in listing.stdout and "0 3 * * *" in listing.stdout
        server.start()
        try:
            jobs = requests.get(f"{server.url}/api/harvest/jobs", timeout=10).json()["jobs"]
            assert jobs[0]["source"] == "beispiel" and jobs[0]["status"] == "succeeded"
            assert jobs[0]["counts"]["new"] == 20
            one = requests.get(f"{server.url}/api/harvest/jobs/{jobs[0]['id']}", timeout=10).json()
            assert one["errors"] == []
            bad = requests.get(f"{server.url}/api/harvest/jobs?limit=lots", timeout=10)
            assert bad.status_code == 400 and "limit" in bad.json()["problems"][0]["where"]
            missing = requests.get(f"{server.url}/api/harvest/jobs/999999", timeout=10)
            assert missing.status_code == 404
            sources = requests.get(f"{server.url}/api/harvest/sources", timeout=10).json()
            assert sources["sources"][0]["last_job"]["status"] == "succeeded"
            found = requests.get(
                f"{server.url}/api/3/action/package_search", params={"rows": 0}, timeout=10
            ).json()
            assert found["result"]["count"] == 20
        finally:
            server.stop()


def test_the_schedule_runs_what_is_due_and_stops_on_sigterm(
    sqlite_store: Store, tmp_path: Path, pages: list[str]
) -> None:
    from datetime import UTC, datetime, timedelta

    from harvesters.schedule import run_due

    with PagedCatalog(pages[:1]) as source:
        hourly = config(source.url)
        hourly.schedule = "0 * * * *"
        now = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
        due: dict[str, datetime] = {}
        assert run_due(sqlite_store, [hourly], due, now, tmp_path, "http://x") == []
        assert due["beispiel"] == now.replace(hour=11, minute=0)
        results = run_due(sqlite_store, [hourly], due, due["beispiel"], tmp_path, "http://x")
        assert [r.status for r in results] == ["succeeded"]
        assert due["beispiel"] == now.replace(hour=12, minute=0)
        jobs = HarvestLedger(sqlite_store).jobs("beispiel")
        assert jobs[0]["trigger"] == "schedule"
        later = due["beispiel"] - timedelta(minutes=1)
        assert run_due(sqlite_store, [hourly], due, later, tmp_path, "http://x") == []

    folder = tmp_path / "quellen"
    folder.mkdir()
    env = {
        **os.environ,
        "ODAPP_DATABASE_URL": sqlite_store.database_url,
        "ODAPP_HARVEST_DIR": str(folder),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "odapp.cli", "harvest", "schedule", "--poll", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(3)
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0


def test_pages_read_ahead_and_parsed_in_workers_give_the_same_records(
    tmp_path: Path, pages: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI parses pages in worker processes, guessing the next page from the raw text;
    what it stores must be exactly what reading page after page stores."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from harvesters.sources import dcat

    begun: list[str] = []
    real_begin = dcat._begin

    def counting_begin(context, url, trust_memory, executor):  # type: ignore[no-untyped-def]
        begun.append(url)
        return real_begin(context, url, trust_memory, executor)

    monkeypatch.setattr(dcat, "_begin", counting_begin)
    stores = {}
    with PagedCatalog(pages) as source:
        for mode in ("serial", "workers"):
            store = Store(f"sqlite:///{tmp_path}/{mode}.sqlite")
            store.upgrade()
            if mode == "workers":
                executor = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))
                monkeypatch.setattr(dcat, "pool", lambda pool=executor: pool)
            else:
                monkeypatch.setattr(dcat, "pool", lambda: None)
            begun.clear()
            result = run_source(store, config(source.url), files_dir=tmp_path)
            assert result.status == "succeeded" and result.counts["new"] == PER_PAGE * PAGES
            assert len(begun) == PAGES  # every guess was right: no page read twice
            stores[mode] = {uri: nt for uri, (nt, _, _) in snapshot(store).items()}
        executor.shutdown()
        # a fault on page 3 read ahead is raised in order, and nothing is written
        source.fault = Fault(page=3, kind="500")
        failed = run_source(
            Store(f"sqlite:///{tmp_path}/serial.sqlite"), config(source.url), files_dir=tmp_path
        )
        assert failed.status == "failed" and "page=3" in failed.error["where"]
    strip = re.compile(r'"[0-9T:+-]{19,25}"\^\^<http://www.w3.org/2001/XMLSchema#dateTime>')
    assert {u: strip.sub("", nt) for u, nt in stores["serial"].items()} == {
        u: strip.sub("", nt) for u, nt in stores["workers"].items()
    }
