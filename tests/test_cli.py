"""The `odapp` command line as users run it, in its own process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph

from tests.conftest import EXAMPLES, Server


@pytest.fixture
def cli(tmp_path: Path) -> Server:
    return Server(tmp_path)


def test_help_lists_the_commands(cli: Server) -> None:
    out = cli.odapp("--help").stdout
    for command in ("demo", "serve", "db", "import", "export", "validate"):
        assert command in out


def test_import_export_round_trip(cli: Server, tmp_path: Path) -> None:
    rostock = EXAMPLES / "validator-testcases" / "dashboard__rostock-catalog-dataset-extracted.rdf"
    done = cli.odapp("import", str(rostock))
    assert "1 new" in done.stdout
    assert "adms:status ADMS list -> EU distribution-status" in done.stdout
    again = cli.odapp("import", str(rostock))
    assert "0 new, 1 updated" in again.stdout
    for ext, fmt in (("ttl", "turtle"), ("rdf", "xml"), ("jsonld", "json-ld"), ("nt", "nt")):
        out = tmp_path / f"catalog.{ext}"
        cli.odapp("export", "--format", ext, "-o", str(out))
        graph = Graph().parse(out, format=fmt)
        assert len(graph) > 100
    one = cli.odapp("export", "--dataset", "305d5bb9-28cb-496f-ad29-09838c5dcdbc").stdout
    assert "opendata-hro.de" in one


def test_refused_import_exits_2_with_reasons_and_changes_nothing(cli: Server) -> None:
    simple = EXAMPLES / "v2.0" / "dcat_ap_de-RefImp_TTL_SIMPLE.ttl"  # has no dcterms:publisher
    done = cli.odapp("import", str(simple), check=False)
    assert done.returncode == 2
    assert "Pflichtangabe fehlt" in done.stderr and "dcterms:publisher" in done.stderr
    assert cli.odapp("export", "--format", "nt").stdout.count("dcat#Dataset") == 0
    kept = cli.odapp("import", "--accept-incomplete", str(simple))
    assert "incomplete (kept)" in kept.stdout


def test_bad_file_names_file_and_line(cli: Server, tmp_path: Path) -> None:
    bad = tmp_path / "kaputt.ttl"
    bad.write_text('@prefix dct: <http://purl.org/dc/terms/> .\n<http://x.test/a> dct:title "x" ;;\n<a\n')
    done = cli.odapp("import", str(bad), check=False)
    assert done.returncode == 2
    assert "kaputt.ttl, line" in done.stderr


def test_validate_reports_violations_per_dataset(cli: Server) -> None:
    bremen = EXAMPLES / "validator-testcases" / "dashboard__bremen-catalog-dataset-extracted.ttl"
    cli.odapp("import", "--accept-incomplete", str(bremen))
    done = cli.odapp("validate", "--json", check=False)
    report = json.loads(done.stdout)
    assert done.returncode == 1 and not report["conforms"]
    owners = {r["owner"] for r in report["results"] if r["severity"] == "Violation"}
    assert any("bremen" in (o or "") for o in owners)


def test_unknown_setting_in_config_is_named(cli: Server, tmp_path: Path) -> None:
    config = tmp_path / "odapp.yaml"
    config.write_text("database_ur: sqlite:///x.sqlite\n")
    cli.env["ODAPP_CONFIG"] = str(config)
    done = cli.odapp("db", "upgrade", check=False)
    assert done.returncode != 0 and "database_ur" in done.stderr


@pytest.fixture
def file_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A plain HTTP server (Python's own) serving the reference examples and a few test files."""
    import functools
    import http.server
    import shutil
    import threading

    root = tmp_path / "www"
    shutil.copytree(EXAMPLES, root)
    (root / "huge.ttl").write_bytes(b"# " + b"x" * 3_000_000 + b"\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_import_from_urls(cli: Server, file_server: str) -> None:
    url = f"{file_server}/validator-testcases/dashboard__rostock-catalog-dataset-extracted.rdf"
    done = cli.odapp("import", url)
    assert f"{url} (xml): 1 new" in done.stdout
    jsonld = f"{file_server}/v2.0/dcat_ap_de-RefImp_JSONLD_ADVANCED.jsonld"
    assert "2 new" in cli.odapp("import", "--accept-incomplete", jsonld).stdout


def test_url_import_errors(cli: Server, file_server: str) -> None:
    missing = cli.odapp("import", f"{file_server}/nope.ttl", check=False)
    assert missing.returncode == 2 and "404" in missing.stderr
    cli.env["ODAPP_MAX_IMPORT_BYTES"] = "1000000"
    huge = cli.odapp("import", f"{file_server}/huge.ttl", check=False)
    assert huge.returncode == 2 and "too large" in huge.stderr
    scheme = cli.odapp("import", "ftp://example.org/catalog.ttl", check=False)
    assert scheme.returncode == 2
