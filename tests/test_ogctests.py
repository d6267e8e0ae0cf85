"""ogctests 0.1.15 ("a black box verifier for the OGC API Specification", PyPI) against the real
server, on both backends. It pins dependencies of its own, so it runs from its own virtualenv
(scripts/ogctests-venv.sh makes .venv-ogctests/) in a subprocess, and its JUnit XML is read here.

Its CLI (``python -m ogctests features/core features/filtering -i URL``) hands all scopes to one
pytest run, where each scope's conftest sorts every collected test by *its* numbering and the run
dies in collection; so each scope gets its own pytest run here, exactly as the CLI would start it
(pytest on the installed ``ogctests/features/<scope>`` folder, INSTANCE_URL in the environment).

Every test of a scope must pass, except the ones listed in NEEDS_INTERNET (this machine reaches
package indexes only, and those tests fetch documents from the internet) and in OGCTESTS_DEFECTS:
tests that fail on a defect of ogctests 0.1.15 itself, each with the reason; a listed test that
starts passing fails this test, so the list cannot go stale."""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import ROOT, Server

SCOPES = ("features/core", "features/filtering")
# the tests each scope has in ogctests 0.1.15: a run that collects fewer has not really run
EXPECTED_COUNT = {"features/core": 29, "features/filtering": 10}
NEEDS_INTERNET = {
    "features/core": {
        # fc-time-definition: downloads the external $refs of the items' parameters (pygeoapi's, on schemas.opengis.net and raw.githubusercontent.com)
        "test_ast18",
    },
    "features/filtering": set(),
}
OGCTESTS_DEFECTS = {
    "features/core": {
        # its featureCollectionGeoJSON schema requires a geometry object; RFC 7946 §3.2 and the
        # OGC schema allow null, which the table collections (CSV without coordinates) have
        "test_ast22",
        "test_ast28",  # the same schema, on a single feature of a table collection
    },
    "features/filtering": {
        # compares the raw rel parameter with the URI, but RFC 8288 requires a URI rel quoted
        "test_ct2",
        # its Link-header parser stores the target as "iri", the test reads "href": url=[None]
        "test_ct3",
        # the four below read the queryable that test_ct3 would have stored (KeyError)
        "test_ct5",
        "test_ct7",
        "test_ct8",
        "test_ct9",
        "test_ct10",
    },
}


@pytest.fixture(scope="session")
def ogctests_python() -> Path:
    """The python of .venv-ogctests (created on first use; later calls only check it)."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ogctests-venv.sh")],
        capture_output=True, text=True, timeout=900, check=False,
    )
    assert result.returncode == 0, f"scripts/ogctests-venv.sh failed:\n{result.stderr[-3000:]}"
    python = Path(result.stdout.strip().splitlines()[-1])
    assert python.is_file(), result.stdout
    return python


def run_scope(python: Path, scope: str, instance_url: str, workdir: Path) -> dict[str, str]:
    """Run one ogctests scope; return test name → "passed", or the reason it did not pass."""
    located = subprocess.run(
        [str(python), "-c", "import ogctests, pathlib; print(pathlib.Path(ogctests.__file__).parent)"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    package = Path(located.stdout.strip())
    junit = workdir / f"{scope.replace('/', '-')}.xml"
    ini = workdir / "pytest.ini"  # keep our pyproject's pytest settings out of its run
    ini.write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CLIENT_OVERRIDDEN"))}
    env["INSTANCE_URL"] = instance_url
    result = subprocess.run(
        [
            str(python), "-m", "pytest", str(package / scope), "-c", str(ini),
            "--rootdir", str(workdir), "-p", "no:cacheprovider", "-q", "--tb=short",
            f"--junit-xml={junit}",
        ],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert junit.is_file(), f"ogctests {scope} wrote no report:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    outcomes: dict[str, str] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("name", "")
        problem = next((case.find(tag) for tag in ("failure", "error", "skipped")
                        if case.find(tag) is not None), None)
        if problem is None:
            outcomes[name] = "passed"
        else:
            text = (problem.get("message") or problem.text or "").strip().splitlines()
            outcomes[name] = f"{problem.tag}: {text[0][:300] if text else ''}"
    return outcomes


@pytest.mark.parametrize("scope", SCOPES)
def test_ogctests(ogc_server: Server, ogctests_python: Path, scope: str, tmp_path: Path) -> None:
    outcomes = run_scope(ogctests_python, scope, f"{ogc_server.url}/ogc", tmp_path)
    assert len(outcomes) == EXPECTED_COUNT[scope], sorted(outcomes)
    excused = NEEDS_INTERNET[scope] | OGCTESTS_DEFECTS[scope]
    assert excused <= set(outcomes), f"listed but no longer in ogctests: {excused - set(outcomes)}"
    failed = {name: why for name, why in outcomes.items() if why != "passed" and name not in excused}
    assert not failed, "\n".join(f"{name}: {why}" for name, why in sorted(failed.items()))
    passing = sorted(name for name in OGCTESTS_DEFECTS[scope] if outcomes[name] == "passed")
    assert not passing, f"listed as ogctests defects but passing now: {passing}"
