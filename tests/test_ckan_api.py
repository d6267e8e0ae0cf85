"""The CKAN Action API against a running server, with the real ckanapi client and command line."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ckanapi
import pytest
import requests

from tests.conftest import Server

STATISTIK = "landeshauptstadt-dresden-kommunale-statistikstelle"
UMWELT = "landeshauptstadt-dresden-umweltamt"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Server:
    srv = Server(tmp_path_factory.mktemp("ckan"))
    srv.odapp("demo")
    srv.odapp("users", "add", "admin", "--sysadmin")
    srv.odapp("users", "add", "statistik")
    srv.odapp("users", "member", "statistik", STATISTIK, "--capacity", "editor")
    srv.tokens = {}  # type: ignore[attr-defined]
    for user in ("admin", "statistik"):
        out = srv.odapp("tokens", "create", user).stdout
        srv.tokens[user] = next(w for w in out.split() if w.startswith("odapp_"))  # type: ignore[attr-defined]
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def anon(server: Server) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(server.url, user_agent="odapp-tests")


def client(server: Server, user: str) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(server.url, apikey=server.tokens[user], user_agent="odapp-tests")  # type: ignore[attr-defined]


def test_status_and_site_read(anon: ckanapi.RemoteCKAN) -> None:
    status = anon.action.status_show()
    assert status["ckan_version"].startswith("2.") and "dcat" in status["extensions"]
    assert anon.action.site_read() is True


def test_package_list_and_show(anon: ckanapi.RemoteCKAN) -> None:
    names = anon.action.package_list()
    assert len(names) == 33 and names == sorted(names)
    assert anon.action.package_list(limit=5, offset=5) == names[5:10]
    package = anon.action.package_show(id="wahlbezirke-europawahl-2024")
    assert package["title"].startswith("Wahlbezirke") and package["organization"]["name"]
    assert anon.action.package_show(id=package["id"])["name"] == package["name"]
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert extras["uri"].endswith("/dataset/wahlbezirke-europawahl-2024")
    assert "politicalGeocodingLevelURI" in extras and json.loads(extras["contributorID"])
    assert {r["format"] for r in package["resources"]} >= {"GEOJSON"}
    assert all(t["name"] for t in package["tags"])
    with pytest.raises(ckanapi.NotFound):
        anon.action.package_show(id="gibt-es-nicht")


def test_package_search_german_words_facets_and_filters(anon: ckanapi.RemoteCKAN) -> None:
    found = anon.action.package_search(q="wahlbezirk", rows=50)
    assert "wahlbezirke-europawahl-2024" in [p["name"] for p in found["results"]]
    assert found["count"] == len(found["results"])
    faceted = anon.action.package_search(
        q="Haltestelle",
        **{"facet.field": json.dumps(["organization", "res_format"]), "facet.limit": 5},
    )
    assert faceted["count"] >= 3
    assert sum(faceted["facets"]["organization"].values()) >= faceted["count"]
    items = faceted["search_facets"]["res_format"]["items"]
    assert {"name", "display_name", "count"} <= set(items[0])
    only = anon.action.package_search(fq=f"organization:{STATISTIK}", rows=100)
    assert only["count"] > 5 and all(
        p["organization"]["name"] == STATISTIK for p in only["results"]
    )
    either = anon.action.package_search(
        fq=f"organization:{STATISTIK} OR organization:{UMWELT}", rows=100
    )
    none = anon.action.package_search(fq=f"-organization:{STATISTIK}", rows=100)
    assert either["count"] > only["count"] and none["count"] == 33 - only["count"]
    quoted = anon.action.package_search(fq='tags:"Wahlen"')
    assert quoted["count"] >= 1
    near = anon.action.package_search(q="Haltestellen", ext_bbox="13.70,51.02,13.78,51.08")
    far = anon.action.package_search(q="Haltestellen", ext_bbox="10.0,48.0,10.1,48.1")
    assert near["count"] >= 1 and far["count"] == 0
    with pytest.raises(ckanapi.ValidationError):
        anon.action.package_search(ext_bbox="13,51")
    span = anon.action.package_search(
        fq="temporal_start:[* TO 2019-12-31] AND temporal_end:[2019-02-01 TO *]"
    )
    assert span["count"] >= 1


def test_ckan_harvester_query_patterns(anon: ckanapi.RemoteCKAN) -> None:
    """What CKAN's CKAN-to-CKAN harvester sends: sort=id asc paging, modified-since ranges."""
    seen: list[str] = []
    start = 0
    while True:
        page = anon.action.package_search(
            fq="+dataset_type:dataset", sort="id asc", rows=7, start=start
        )
        if not page["results"]:
            break
        seen += [p["id"] for p in page["results"]]
        start += 7
    assert seen == sorted(seen)
    assert (
        len(seen) == len(set(seen)) == 30
    )  # 29 datasets (3 of them sensor stations) and the series; services are not datasets
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    recent = anon.action.package_search(fq=f"metadata_modified:[{since} TO *]", rows=1000)
    assert recent["count"] == 33
    future = anon.action.package_search(fq="metadata_modified:[NOW+1DAY TO *]")
    assert future["count"] == 0


def test_cursor_walks_all_without_a_row_cap(server: Server) -> None:
    seen, cursor = [], None
    while True:
        params = {"rows": 4, "sort": "name asc"} | ({"cursor": cursor} if cursor else {})
        body = requests.get(
            f"{server.url}/api/3/action/package_search", params=params, timeout=10
        ).json()
        seen += [p["name"] for p in body["result"]["results"]]
        cursor = body["result"]["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 33


def test_bad_queries_are_search_query_errors(anon: ckanapi.RemoteCKAN) -> None:
    with pytest.raises(ckanapi.SearchQueryError):
        anon.action.package_search(fq="organization:(a OR b")
    with pytest.raises(ckanapi.ValidationError):
        anon.action.package_search(rows="viele")


def test_resources_organisations_groups_tags_licences(anon: ckanapi.RemoteCKAN) -> None:
    package = anon.action.package_show(id="haltestellen-dresden")
    resource = package["resources"][0]
    assert anon.action.resource_show(id=resource["id"])["url"] == resource["url"]
    with pytest.raises(ckanapi.NotFound):
        anon.action.resource_show(id="00000000-0000-0000-0000-000000000000")
    orgs = anon.action.organization_list(all_fields=True)
    assert STATISTIK in [o["name"] for o in orgs] and all("package_count" in o for o in orgs)
    org = anon.action.organization_show(id=STATISTIK, include_datasets=True)
    assert org["package_count"] == len(org["packages"]) > 5
    groups = anon.action.group_list(all_fields=True)
    assert "envi" in [g["name"] for g in groups]
    envi = anon.action.group_show(id="envi")
    assert envi["title"] == "Umwelt" and envi["package_count"] >= 1
    assert "Wahlen" in anon.action.tag_list()
    licences = {lic["id"]: lic for lic in anon.action.license_list()}
    assert licences["dl-by-de/2.0"]["title"].startswith("Datenlizenz Deutschland")
    completions = anon.action.package_autocomplete(q="Luftq")
    # the air-quality datasets and the stations (keyword Luftqualität)
    assert completions and all(c["name"].startswith("luft") for c in completions)
    recent = anon.action.current_package_list_with_resources(limit=3)
    assert len(recent) == 3 and "resources" in recent[0]


def test_get_and_both_paths(server: Server) -> None:
    for path in ("/api/3/action/package_show", "/api/action/package_show"):
        body = requests.get(server.url + path, params={"id": "haltestellen-vvo"}, timeout=10).json()
        assert body["success"] is True and body["result"]["name"] == "haltestellen-vvo"
    unknown = requests.get(server.url + "/api/3/action/no_such_action", timeout=10)
    assert unknown.status_code == 400 and unknown.json()["success"] is False
    write_by_get = requests.get(
        server.url + "/api/3/action/package_delete", params={"id": "x"}, timeout=10
    )
    assert write_by_get.status_code == 400


NEW = {
    "name": "baumkataster-test",
    "title": "Baumkataster (Test)",
    "notes": "Straßenbäume in Dresden.",
    "owner_org": STATISTIK,
    "license_id": "dl-by-de/2.0",
    "tags": [{"name": "Bäume"}, {"name": "Grün"}],
    "groups": [{"name": "envi"}],
    "resources": [
        {"url": "https://example.org/baeume.csv", "format": "CSV", "name": "Bäume (CSV)"}
    ],
    "extras": [
        {
            "key": "politicalGeocodingLevelURI",
            "value": "http://dcat-ap.de/def/politicalGeocoding/Level/municipality",
        }
    ],
}


def test_write_needs_a_token_and_the_right_organisation(
    server: Server, anon: ckanapi.RemoteCKAN
) -> None:
    with pytest.raises(ckanapi.NotAuthorized):
        anon.action.package_create(**NEW)
    editor = client(server, "statistik")
    with pytest.raises(ckanapi.NotAuthorized):
        editor.action.package_create(**{**NEW, "name": "fremd", "owner_org": UMWELT})
    bad = ckanapi.RemoteCKAN(server.url, apikey="odapp_nope_nope")
    with pytest.raises(ckanapi.NotAuthorized):
        bad.action.package_show(id="haltestellen-vvo")


def test_package_life_cycle(server: Server, anon: ckanapi.RemoteCKAN) -> None:
    editor = client(server, "statistik")
    created = editor.action.package_create(**NEW)
    assert created["name"] == "baumkataster-test" and created["num_resources"] == 1
    assert created["resources"][0]["format"] == "CSV"
    assert {t["name"] for t in created["tags"]} == {"Bäume", "Grün"}
    assert anon.action.package_search(q="Baumkataster")["results"][0]["name"] == "baumkataster-test"
    # the DCAT view shows what the API wrote
    ttl = requests.get(f"{server.url}/dataset/baumkataster-test.ttl", timeout=10).text
    assert "Baumkataster (Test)" in ttl and "dl-by-de/2.0" in ttl
    with pytest.raises(ckanapi.ValidationError):
        editor.action.package_create(**NEW)  # the name is taken
    patched = editor.action.package_patch(id=created["id"], title="Baumkataster Dresden")
    assert patched["title"] == "Baumkataster Dresden" and patched["num_resources"] == 1
    extras = {e["key"]: e["value"] for e in patched["extras"]}
    assert extras["politicalGeocodingLevelURI"].endswith("/municipality"), "patch keeps DCAT fields"
    updated = editor.action.package_update(
        **{**NEW, "id": created["id"], "tags": [{"name": "Baum"}]}
    )
    assert [t["name"] for t in updated["tags"]] == ["Baum"]
    resource = editor.action.resource_create(
        package_id=created["id"], url="https://example.org/b.json", format="JSON"
    )
    assert anon.action.package_show(id=created["id"])["num_resources"] == 2
    changed = editor.action.resource_update(
        id=resource["id"], url="https://example.org/b2.json", format="JSON"
    )
    assert changed["url"] == "https://example.org/b2.json"
    editor.action.resource_delete(id=resource["id"])
    assert anon.action.package_show(id=created["id"])["num_resources"] == 1
    editor.action.package_delete(id=created["id"])
    with pytest.raises(ckanapi.NotFound):
        anon.action.package_show(id=created["id"])


def test_validation_errors_name_the_field(server: Server) -> None:
    editor = client(server, "statistik")
    with pytest.raises(ckanapi.ValidationError) as info:
        editor.action.package_create(name="ohne-orga", title="x", notes="y")
    assert "owner_org" in info.value.error_dict
    with pytest.raises(ckanapi.ValidationError) as info:
        editor.action.package_create(**{**NEW, "name": "Großbuchstaben"})
    assert "name" in info.value.error_dict
    with pytest.raises(ckanapi.ValidationError) as info:
        editor.action.package_create(**{**NEW, "name": "lizenz", "license_id": "gibt-es-nicht"})
    assert "license_id" in info.value.error_dict


def test_organisations_are_managed_by_sysadmins(server: Server) -> None:
    admin, editor = client(server, "admin"), client(server, "statistik")
    with pytest.raises(ckanapi.NotAuthorized):
        editor.action.organization_create(name="amt-fuer-tests", title="Amt für Tests")
    org = admin.action.organization_create(name="amt-fuer-tests", title="Amt für Tests")
    assert org["title"] == "Amt für Tests"
    renamed = admin.action.organization_update(id="amt-fuer-tests", title="Amt für Prüfungen")
    assert renamed["title"] == "Amt für Prüfungen"
    admin.action.organization_member_create(
        id="amt-fuer-tests", username="statistik", role="editor"
    )
    created = editor.action.package_create(
        **{**NEW, "name": "pruefung", "owner_org": "amt-fuer-tests"}
    )
    assert created["organization"]["name"] == "amt-fuer-tests"


def test_ckanapi_command_line(server: Server, tmp_path: Path) -> None:
    import os

    ckanapi_cli = Path(sys.executable).with_name("ckanapi")
    env = {**os.environ, "PATH": f"{ckanapi_cli.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [str(ckanapi_cli), "action", "package_list", "-r", server.url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    assert "wahlbezirke-europawahl-2024" in json.loads(done.stdout)
    dump = tmp_path / "dump.jsonl"
    subprocess.run(
        [
            str(ckanapi_cli),
            "dump",
            "datasets",
            "--all",
            "-r",
            server.url,
            "-O",
            str(dump),
            "-p",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    )
    lines = dump.read_text().splitlines()
    assert len(lines) >= 29 and all(json.loads(line)["name"] for line in lines)
