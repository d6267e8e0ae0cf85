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
