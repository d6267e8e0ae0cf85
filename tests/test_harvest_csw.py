"""Harvesting a real CSW: pycsw 2.6.2 from PyPI, filled with the ISO 19139 records of
tests/fixtures/csw/ (Dresden geodata metadata), served as a WSGI app in a subprocess.

pycsw needs SQLAlchemy < 2 and OWSLib < 0.29, ODApp needs SQLAlchemy 2 and OWSLib >= 0.31, so
pycsw lives in a virtualenv of its own (.venv/pycsw-2.6.2/, created on first use, about 20 s;
ODAPP_PYCSW_VENV names another place). Expected values are those written in the fixture files."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import shapely
from lxml import etree

from catalog import model
from catalog.store import Store
from harvesters.base import Defaults, Harvested, Item, RecordError, SourceConfig, SourceError
from harvesters.config import load_source
from harvesters.context import RunContext
from harvesters.run import run_source
from harvesters.sources import csw
from tests.conftest import BASE, ROOT, free_port

FIXTURES = ROOT / "tests" / "fixtures" / "csw"
PYCSW_VERSION = "2.6.2"
# inside .venv/: ignored by git and ruff, removed by `make clean` and then made again
PYCSW_VENV = Path(os.environ.get("ODAPP_PYCSW_VENV", ROOT / ".venv" / f"pycsw-{PYCSW_VERSION}"))
EU = "http://publications.europa.eu/resource/authority/"
LICENCES = "http://dcat-ap.de/def/licenses/"
STADTTEILE = "8c3a4f2e-5d0b-4c1e-9a57-0d1e5a6b7c01"
WAHLBEZIRKE = "8c3a4f2e-5d0b-4c1e-9a57-0d1e5a6b7c02"
HALTESTELLEN = "8c3a4f2e-5d0b-4c1e-9a57-0d1e5a6b7c03"
LUFT = "8c3a4f2e-5d0b-4c1e-9a57-0d1e5a6b7c04"
WMS = "8c3a4f2e-5d0b-4c1e-9a57-0d1e5a6b7c05"
UNTITLED = "8c3a4f2e-5d0b-4c1e-9a57-0d1e5a6b7c06"
GMD = {"gmd": "http://www.isotc211.org/2005/gmd", "gco": "http://www.isotc211.org/2005/gco"}

PYCSW_CONFIG = """\
[server]
home={home}
url={url}
mimetype=application/xml; charset=UTF-8
encoding=UTF-8
language=de-DE
maxrecords=10
loglevel=WARNING
logfile={home}/pycsw.log
pretty_print=true
domainquerytype=list
domaincounts=false
profiles=apiso

[manager]
transactions=false
allowed_ips=127.0.0.1

[metadata:main]
identification_title=Geodatenkatalog Dresden (Test)
identification_abstract=pycsw mit Testdatensätzen für ODApp
identification_keywords=Dresden,Geodaten
identification_keywords_type=theme
identification_fees=None
identification_accessconstraints=None
provider_name=Landeshauptstadt Dresden
provider_url=https://www.dresden.de/
contact_name=Geodaten
contact_position=Geodaten
contact_address=Dr.-Külz-Ring 19
contact_city=Dresden
contact_stateorprovince=Sachsen
contact_postalcode=01067
contact_country=Deutschland
contact_phone=+49-351-0
contact_fax=+49-351-0
contact_email=geodaten@dresden.example
contact_url=https://www.dresden.de/
contact_hours=8-16
contact_instructions=keine
contact_role=pointOfContact

[repository]
database=sqlite:///{home}/records.db
table=records

[metadata:inspire]
enabled=false
"""
# pycsw's wsgi module prints every request path; its gzip answers carry the uncompressed length
# (so gzip_compresslevel stays out of the configuration above)
SERVE = """\
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server
from pycsw.wsgi import application

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

make_server("127.0.0.1", int(sys.argv[1]), application, handler_class=Quiet).serve_forever()
"""


def _installed(python: Path) -> bool:
    if not python.is_file():
        return False
    check = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('pycsw'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return check.stdout.strip() == PYCSW_VERSION


@pytest.fixture(scope="session")
def pycsw_python() -> Path:
    """The python of .venv-pycsw with pycsw installed (created once, ~20 s)."""
    python = PYCSW_VENV / "bin" / "python"
    with open(Path(os.environ.get("TMPDIR", "/tmp")) / "odapp-pycsw-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed(python):
            subprocess.run(
                [sys.executable, "-m", "venv", "--clear", str(PYCSW_VENV)],
                check=True,
                capture_output=True,
                timeout=300,
            )
            subprocess.run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    f"pycsw=={PYCSW_VERSION}",
                    "SQLAlchemy>=1.4,<2",
                ],
                check=True,
                capture_output=True,
                timeout=900,
            )
    assert _installed(python), f"pycsw {PYCSW_VERSION} could not be installed in {PYCSW_VENV}"
    return python


@pytest.fixture(scope="module")
def pycsw_url(pycsw_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A pycsw CSW 2.0.2 with the six fixture records, on a free port."""
    home = tmp_path_factory.mktemp("pycsw")
    port = free_port()
    url = f"http://127.0.0.1:{port}/csw"
    config = home / "pycsw.cfg"
    config.write_text(PYCSW_CONFIG.format(home=home, url=url), "utf-8")
    admin = [str(pycsw_python), str(pycsw_python.parent / "pycsw-admin.py")]
    for command in (
        ["-c", "setup_db", "-f", str(config)],
        ["-c", "load_records", "-f", str(config), "-p", str(FIXTURES), "-y"],
    ):
        done = subprocess.run(
            admin + command, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, done.stderr[-3000:]
    (home / "serve.py").write_text(SERVE, "utf-8")
    log = open(home / "serve.log", "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [str(pycsw_python), str(home / "serve.py"), str(port)],
        env={**os.environ, "PYCSW_CONFIG": str(config)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            caps = requests.get(
                url, params={"service": "CSW", "request": "GetCapabilities"}, timeout=5
            )
            if caps.status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((home / "serve.log").read_text("utf-8", "replace"))
        time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=20)
    log.close()


def source(url: str, **settings: object) -> SourceConfig:
    return SourceConfig(
        name=str(settings.pop("name", "test-csw")),
        type="csw",
        organization={"name": "Landeshauptstadt Dresden"},
        url=url,
        defaults=Defaults(license=f"{LICENCES}dl-by-de/2.0"),
        **settings,  # type: ignore[arg-type]
    )


def harvest(config: SourceConfig) -> list[Item]:
    return list(csw.fetch(RunContext(config, BASE)))


def by_id(items: list[Item]) -> dict[str, Harvested]:
    return {i.source_id: i for i in items if isinstance(i, Harvested)}


def test_every_record_is_harvested_page_by_page(pycsw_url: str) -> None:
    # pages of two records: three GetRecords requests for the six records
    items = harvest(source(pycsw_url, options={"page_size": 2}))
    assert len(items) == 6
    harvested = by_id(items)
    assert set(harvested) == {STADTTEILE, WAHLBEZIRKE, HALTESTELLEN, LUFT, WMS}
    (error,) = [i for i in items if isinstance(i, RecordError)]
    assert error.source_id == UNTITLED
    assert error.message_de == "Der Eintrag hat keinen Titel."
    # origin is the GetRecordById request that returns this very record as ISO 19139
    for sid, item in harvested.items():
        answer = etree.fromstring(requests.get(item.origin, timeout=30).content)
        ids = answer.xpath(
            "//gmd:MD_Metadata/gmd:fileIdentifier/gco:CharacterString/text()", namespaces=GMD
        )
        assert ids == [sid]
        assert item.record.identifier == [sid]


def test_iso_19139_maps_to_dcat_ap_de(pycsw_url: str) -> None:
    harvested = by_id(harvest(source(pycsw_url)))
    item = harvested[STADTTEILE]
    record = item.record
    assert isinstance(record, model.Dataset)
    assert item.source_modified == "2024-03-05T10:15:00"  # gmd:dateStamp
    assert record.uri == "https://registry.gdi-de.org/id/de.sn.dresden/stadtteile"
    assert record.title == {"de": "Stadtteile Dresden"}
    assert record.description["de"].startswith("Grenzen der 64 statistischen Stadtteile")
    assert [k.value for k in record.keywords] == [
        "Stadtteile",
        "Verwaltungsgrenzen",
        "opendata",
        "Verwaltungseinheiten",
    ]
    # topic categories boundaries + society, INSPIRE theme Verwaltungseinheiten (au): REGI once
    assert record.themes == [f"{EU}data-theme/REGI", f"{EU}data-theme/SOCI"]
    assert (record.issued, record.modified) == ("2016-01-15", "2024-02-29")
    assert shapely.from_wkt(record.spatial[0].bbox).bounds == (13.579, 50.974, 13.966, 51.178)
    assert (record.temporal[0].start, record.temporal[0].end) == ("2024-01-01", "2024-12-31")
    (contact,) = record.contact_points
    assert contact.fn == {"de": "Landeshauptstadt Dresden, Kommunale Statistikstelle"}
    assert contact.email == "mailto:statistik@dresden.example"
    assert contact.telephone == "tel:+493514880000"
    assert contact.url == "https://www.dresden.de/statistik"
    assert record.publisher is not None
    assert record.publisher.name == {"de": "Landeshauptstadt Dresden"}
    assert record.publisher.email == "mailto:opendata@dresden.example"
    assert record.access_rights == f"{EU}access-right/PUBLIC"
    assert record.languages == [f"{EU}language/DEU"]
    assert record.conforms_to == ["http://www.opengis.net/def/crs/EPSG/0/25833"]
    assert record.landing_pages == ["https://www.dresden.de/stadtteile"]
    download, service = record.distributions
    assert download.download_urls == ["https://opendata.dresden.example/stadtteile.geojson"]
    assert download.format == f"{EU}file-type/GEOJSON"
    assert download.title == {"de": "Stadtteile als GeoJSON"}
    assert service.access_urls == [
        "https://kommisdd.dresden.example/wfs?SERVICE=WFS&REQUEST=GetCapabilities"
    ]
    assert service.format == f"{EU}file-type/WFS_SRVC" and not service.download_urls
    for dist in record.distributions:  # the GDI-DE JSON licence with its "quelle"
        assert dist.license == f"{LICENCES}dl-by-de/2.0"
        assert dist.license_attribution == "Landeshauptstadt Dresden, opendata.dresden.de"


def test_licences_themes_and_services(pycsw_url: str) -> None:
    harvested = by_id(harvest(source(pycsw_url)))
    wahl = harvested[WAHLBEZIRKE].record
    assert isinstance(wahl, model.Dataset)
    # licence written only as a name in useLimitation
    assert {d.license for d in wahl.distributions} == {f"{LICENCES}dl-by-de/2.0"}
    api, download = wahl.distributions
    assert api.conforms_to == ["http://www.opengis.net/spec/ogcapi-features-1/1.0"]
    assert download.download_urls == ["https://opendata.dresden.example/wahlbezirke_e2024.geojson"]
    assert (wahl.issued, wahl.modified) == ("2024-05-15", "2024-06-20")
    luft = harvested[LUFT].record
    assert isinstance(luft, model.Dataset)
    # a gmx:Anchor to the Creative Commons deed page
    assert luft.distributions[0].license == f"{LICENCES}cc-by/4.0"
    assert luft.themes == [f"{EU}data-theme/ENVI"]
    assert (luft.temporal[0].start, luft.temporal[0].end) == ("2019-02-01", "2019-02-28")
    stops = harvested[HALTESTELLEN].record
    assert isinstance(stops, model.Dataset)
    assert stops.distributions[0].license is None  # none given: the source default applies
    assert stops.access_rights == f"{EU}access-right/PUBLIC"  # otherConstraints "keine"
    assert stops.themes == [f"{EU}data-theme/TRAN"]  # INSPIRE Verkehrsnetze + transportation
    assert stops.distributions[0].format == f"{EU}file-type/CSV"
    wms = harvested[WMS].record
    assert isinstance(wms, model.DataService)
    assert wms.endpoint_urls == ["https://kommisdd.dresden.example/wms"]
    assert wms.formats == [f"{EU}file-type/WMS_SRVC"]
    assert wms.license == f"{LICENCES}dl-zero-de/2.0"


def test_constraint_and_max_records(pycsw_url: str) -> None:
    found = harvest(source(pycsw_url, filters={"constraint": "Europawahl"}))
    assert [i.source_id for i in found] == [WAHLBEZIRKE]
    nothing = harvest(source(pycsw_url, filters={"constraint": "Gibt es nicht"}))
    assert nothing == []
    first = harvest(source(pycsw_url, filters={"max_records": 4}, options={"page_size": 3}))
    assert len(first) == 4


def test_csw_source_errors(pycsw_url: str) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        with pytest.raises(SourceError) as timeout:
            harvest(source(f"http://127.0.0.1:{silent.getsockname()[1]}/csw", timeout=1))
    assert "nicht erreichbar" in timeout.value.message_de
    assert "/csw" in timeout.value.where
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(SourceError):
        harvest(source(f"http://127.0.0.1:{port}/csw"))
    files = ThreadingHTTPServer(("127.0.0.1", 0), _FixtureFiles)
    threading.Thread(target=files.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{files.server_address[1]}"
        with pytest.raises(SourceError) as bad:  # XML, but an ISO record, no CSW answer
            harvest(source(f"{base}/stadtteile.xml"))
        assert "CSW capabilities cannot be read" in bad.value.message_en
        assert "stadtteile.xml" in bad.value.message_de
        with pytest.raises(SourceError) as missing:  # HTTP 404
            harvest(source(f"{base}/gibt-es-nicht"))
        assert "404" in missing.value.message_en
    finally:
        files.shutdown()
        files.server_close()


class _FixtureFiles(SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(FIXTURES), **kwargs)

    def log_message(self, *args: object) -> None:
        pass


def test_csw_harvest_writes_the_catalogue(store: Store, tmp_path: Path, pycsw_url: str) -> None:
    config = source(pycsw_url, name="csw-dresden", options={"page_size": 4})
    result = run_source(store, config, files_dir=tmp_path / "files", base_url=BASE)
    # the title-less draft fails on its own; the five others are written
    assert result.status == "partial", result.summary()
    assert result.counts["new"] == 5 and result.counts["failed"] == 1
    assert [e["source_id"] for e in result.errors] == [UNTITLED]
    kinds = sorted(r.kind for r in store.iter_resources())
    assert kinds == ["dataset"] * 4 + ["service"]
    stadtteile = store.get("https://registry.gdi-de.org/id/de.sn.dresden/stadtteile").record
    assert stadtteile.title == {"de": "Stadtteile Dresden"}
    stops = next(r.record for r in store.iter_resources() if r.record.identifier == [HALTESTELLEN])
    assert isinstance(stops, model.Dataset)
    assert stops.distributions[0].license == f"{LICENCES}dl-by-de/2.0"  # the source default
    again = run_source(store, config, files_dir=tmp_path / "files", base_url=BASE)
    assert again.counts["unchanged"] == 5 and again.counts["new"] == 0, again.summary()


def test_example_file_is_valid() -> None:
    config = load_source(ROOT / "config" / "harvesters" / "examples" / "csw.yaml")
    assert config.type == "csw"
    assert config.url and config.url.startswith("https://")
    assert set(config.filters) <= {"constraint", "max_records"}
    assert config.defaults.license and config.defaults.license.startswith(LICENCES)
