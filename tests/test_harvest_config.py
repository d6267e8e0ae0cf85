"""Source files: every mistake with file, line and a German and English hint; the examples pass;
the JSON Schema kept for editors is the one the code checks with."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harvesters.config import check_file, load_source, load_sources
from harvesters.config_schema import SCHEMA, TYPES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "config" / "harvesters" / "examples"

GOOD = """\
name: umweltamt
type: files
organization:
  name: Umweltamt Dresden
folder: .
schedule: "0 3 * * *"
defaults:
  license: dl-by-de/2.0
  themes: [ENVI, regi]
  political_geocoding_level: municipality
"""


def write(tmp_path: Path, text: str, name: str = "quelle.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def problems_of(path: Path) -> dict[str, tuple[int | None, str, str]]:
    _, found = check_file(path)
    return {p.field: (p.line, p.de, p.en) for p in found}


def test_a_good_file_gives_a_config_with_codes_expanded(tmp_path: Path) -> None:
    config = load_source(write(tmp_path, GOOD))
    assert config.name == "umweltamt" and config.schedule == "0 3 * * *"
    assert config.defaults.license == "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
    assert config.defaults.themes == [
        "http://publications.europa.eu/resource/authority/data-theme/ENVI",
        "http://publications.europa.eu/resource/authority/data-theme/REGI",
    ]
    assert config.defaults.political_geocoding_level.endswith("/Level/municipality")
    assert config.resolve(".") == tmp_path


def test_an_unknown_key_names_its_line_and_the_nearest_valid_key(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("organization:", "organisation:"))
    found = problems_of(path)
    line, de, en = found["organisation"]
    assert line == 3
    assert "„organization“" in de and "'organization'" in en
    nested = problems_of(write(tmp_path, GOOD.replace("  license:", "  licence:"), "b.yaml"))
    assert nested["defaults.licence"][0] == 8 and "license" in nested["defaults.licence"][2]


def test_a_bad_cron_expression_is_explained(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, GOOD.replace("0 3 * * *", "0 25 * * *")))
    line, de, en = found["schedule"]
    assert line == 6 and "Cron" in de and "cron" in en


def test_a_missing_licence_is_an_error_for_files_and_a_warning_for_catalogues(
    tmp_path: Path,
) -> None:
    text = GOOD.replace("  license: dl-by-de/2.0\n", "")
    _, found = check_file(write(tmp_path, text))
    assert [p.severity for p in found if p.field == "defaults.license"] == ["error"]
    catalogue = text.replace("type: files", "type: dcat").replace(
        "folder: .", "url: https://example.org/catalog.ttl"
    )
    config, found = check_file(write(tmp_path, catalogue, "dcat.yaml"))
    assert config is not None
    assert [p.severity for p in found if p.field == "defaults.license"] == ["warning"]


def test_an_unknown_licence_or_theme_suggests_the_nearest_code(tmp_path: Path) -> None:
    text = GOOD.replace("dl-by-de/2.0", "dl-by/2.0").replace("ENVI", "ENVX")
    found = problems_of(write(tmp_path, text))
    assert "dl-by-de/2.0" in found["defaults.license"][1]
    assert "ENVI" in found["defaults.themes"][1] and found["defaults.themes"][0] == 9


def test_an_unreachable_folder_and_url_are_reported(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, GOOD.replace("folder: .", "folder: ./fehlt")))
    assert found["folder"][0] == 5 and "fehlt" in found["folder"][1]
    text = GOOD.replace("type: files", "type: dcat").replace(
        "folder: .", "url: http://127.0.0.1:9/nothing-listens-here"
    )
    _, online = check_file(write(tmp_path, text, "url.yaml"), online=True)
    assert any(p.field == "url" and "Nicht erreichbar" in p.de for p in online)
    _, offline = check_file(tmp_path / "url.yaml", online=False)
    assert not any(p.field == "url" for p in offline)


def test_secrets_are_refused_and_only_variable_names_accepted(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, GOOD + "credentials:\n  token: geheim-123!\n"))
    assert (
        found["credentials.token"][0] == 12 and "Umgebungsvariable" in found["credentials.token"][1]
    )
    config = load_source(write(tmp_path, GOOD + "credentials:\n  token: UMWELT_TOKEN\n", "v.yaml"))
    assert config.credentials == {"token": "UMWELT_TOKEN"}


def test_yaml_syntax_errors_and_duplicate_keys_name_the_line(tmp_path: Path) -> None:
    _, found = check_file(write(tmp_path, GOOD.replace("type: files", "type: files: x")))
    assert found and found[0].line == 2
    _, found = check_file(write(tmp_path, GOOD + "schedule: '0 4 * * *'\n", "dup.yaml"))
    assert any(p.field == "schedule" and p.line == 11 and "doppelt" in p.de for p in found)


def test_names_must_be_unique_in_the_folder(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD, "b.yaml")
    configs, problems = load_sources(tmp_path)
    assert len(configs) == 1
    assert any(p.field == "name" and "a.yaml" in p.de for p in problems)


def test_every_example_is_valid() -> None:
    examples = sorted(EXAMPLES.glob("*.yaml"))
    types = set()
    for path in examples:
        if path.name.endswith("-sidecar.yaml"):
            continue
        config, found = check_file(path)
        errors = [str(p) for p in found if p.severity == "error"]
        assert config is not None and not errors, errors
        types.add(config.type)
    assert types == set(TYPES)


def test_the_schema_for_editors_is_the_one_the_code_uses() -> None:
    kept = json.loads((ROOT / "config" / "harvesters" / "harvester.schema.json").read_text())
    assert kept == SCHEMA


def test_the_cli_check_exits_2_and_prints_both_languages(tmp_path: Path) -> None:
    write(tmp_path, GOOD.replace("0 3 * * *", "jeden Tag"))
    result = subprocess.run(
        [sys.executable, "-m", "odapp.cli", "harvest", "check", str(tmp_path / "quelle.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"{tmp_path / 'quelle.yaml'}:6:" in result.stderr
    assert "Cron-Ausdruck" in result.stderr and "cron expression" in result.stderr


@pytest.mark.parametrize("bad", ["priority: hoch\n", "timeout: -5\n", "load: vielleicht\n"])
def test_wrong_value_types_are_named(tmp_path: Path, bad: str) -> None:
    _, found = check_file(write(tmp_path, GOOD + bad))
    key = bad.split(":")[0]
    assert any(p.field == key and p.line == 11 for p in found), [str(p) for p in found]


def test_a_sidecar_given_as_a_source_file_is_recognised() -> None:
    config, found = check_file(EXAMPLES / "files-sidecar.yaml")
    assert config is None and len(found) == 1
    assert "Begleitdatei" in found[0].de and "sidecar" in found[0].en


SENSORS = """\
name: luftmessnetz
type: mqtt
url: mqtt://127.0.0.1:1883
organization:
  name: Umweltamt Dresden
defaults:
  license: dl-by-de/2.0
options:
  timezone: Europe/Berlin
  mappings:
    - topic: "dresden/luft/{thing}/{datastream}"
      fromat: json
  things:
    nord:
      name: Dresden-Nord
      locaton: [13.74, 51.06]
"""


def test_sensor_options_are_checked_with_nearest_keys(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, SENSORS))
    assert found["options.mappings[0].fromat"][0] == 12
    assert "Meinten Sie „format“?" in found["options.mappings[0].fromat"][1]
    assert found["options.things.nord.locaton"][0] == 16
    assert "Did you mean 'location'?" in found["options.things.nord.locaton"][2]


def test_sensor_types_name_what_they_need(tmp_path: Path) -> None:
    no_box = SENSORS.replace("type: mqtt", "type: opensensemap").replace(
        "url: mqtt://127.0.0.1:1883\n", ""
    )
    found = problems_of(write(tmp_path, no_box))
    assert "options.bbox" in found, found
    no_mapping = "\n".join(SENSORS.splitlines()[:9])
    found = problems_of(write(tmp_path, no_mapping))
    assert "options.mappings" in found, found
    good = SENSORS.replace("fromat", "format").replace("locaton", "location")
    _, problems = check_file(write(tmp_path, good))
    assert [p for p in problems if p.severity == "error"] == []
    assert load_source(tmp_path / "quelle.yaml").options["things"]["nord"]["location"] == [
        13.74,
        51.06,
    ]
