"""Harvest benchmark: a DCAT-AP.de catalogue of N datasets served over HTTP in pages of 100.

For each backend: the first run (everything new), the unchanged re-run, and a re-run after 1 %
of the datasets changed, in datasets per second; next to them, in the same run, the time rdflib
alone needs to download and parse the same pages (the peer: what any RDF harvester must pay).

    python bench/harvest.py --datasets 10000 --backends sqlite,postgresql
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from rdflib import Graph

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import stores  # noqa: E402
from catalog.store import Store  # noqa: E402
from harvesters.base import SourceConfig  # noqa: E402
from harvesters.run import run_source  # noqa: E402


def rdflib_alone(url: str, pages: int) -> float:
    """Download every page and parse it with rdflib, nothing else."""
    started = time.perf_counter()
    with requests.Session() as session:
        for n in range(1, pages + 1):
            body = session.get(f"{url}?page={n}", timeout=60).content
            Graph().parse(data=body, format="turtle")
    return time.perf_counter() - started


def fresh_store(backend: str, folder: Path) -> Store:
    return stores.fresh_store(backend, folder, "odapp_bench_harvest")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--per-page", type=int, default=100)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--json", type=Path, default=Path("bench/out/harvest.json"))
    args = parser.parse_args(argv)

    pages = -(-args.datasets // args.per_page)
    figures: dict[str, object] = {"datasets": args.datasets, "per_page": args.per_page}
    # the catalogue is served by another process, as a real source is: this one stays
    # single-threaded, so it parses and renders in worker processes as the CLI does
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.paged_catalog",
            "--datasets",
            str(args.datasets),
            "--per-page",
            str(args.per_page),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        peer = rdflib_alone(url, pages)
        figures["rdflib_download_and_parse_s"] = round(peer, 2)
        print(
            f"rdflib alone (download + parse {pages} pages): {peer:.1f} s, "
            f"{args.datasets / peer:.0f} datasets/s"
        )
        for backend in args.backends.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                store = fresh_store(backend, Path(tmp))
                config = SourceConfig(
                    name="bench",
                    type="dcat",
                    organization={"name": "Beispielstadt"},
                    url=url,
                    timeout=120,
                )
                first = run_source(store, config, files_dir=Path(tmp) / "files")
                assert first.status == "succeeded" and first.counts["new"] == args.datasets, (
                    first.summary()
                )
                again = run_source(store, config, files_dir=Path(tmp) / "files")
                assert again.counts["unchanged"] == args.datasets, again.summary()
                requests.post(url.rsplit("/", 1)[0] + "/_touch", timeout=60).raise_for_status()
                third = run_source(store, config, files_dir=Path(tmp) / "files")
                assert third.counts["changed"] == pages, third.summary()
                assert store.count() == args.datasets
                store.engine.dispose()
                # the server's pages are touched once per backend: restart from fresh ones
            row = {
                "first_run_s": round(first.seconds, 2),
                "first_run_datasets_per_s": round(args.datasets / first.seconds),
                "unchanged_rerun_s": round(again.seconds, 3),
                "rerun_speedup": round(first.seconds / again.seconds, 1),
                "one_percent_changed_s": round(third.seconds, 2),
                "first_run_vs_rdflib_parse": round(first.seconds / peer, 2),
            }
            figures[backend] = row
            print(
                f"{backend:<10} first run {first.seconds:6.1f} s ({row['first_run_datasets_per_s']}"
                f" datasets/s, {row['first_run_vs_rdflib_parse']}x rdflib's parse) | unchanged "
                f"re-run {again.seconds:5.2f} s ({row['rerun_speedup']}x faster) | 1 % changed "
                f"{third.seconds:5.1f} s"
            )
    finally:
        server.terminate()
        server.wait(10)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
