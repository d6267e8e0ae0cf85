"""The ``odapp demo`` catalogue: real Dresden open data, files computed from it, and complete
DCAT-AP.de 3.0 records for all of them.

The seven input files in ``odapp/demo_data`` are byte copies of real data (origin, commit and
licence of each in ``demo_data/SOURCES.md``). :func:`build_demo` copies them into the files
directory, derives further files from them (per-election tables, turnout per Stadtteil and
Stadtbezirk, district boundaries dissolved from the polling districts, the stops inside Dresden,
daily air-quality means, ...) and describes every one of them.

The build is deterministic: no clock, no randomness, sorted output. Two calls give equal records
and byte-identical files.

One module per subject, each adding its records in catalogue order: ``election_results`` and
``turnout`` (from the table described in ``elections``), ``areas``, ``osm_stadtteile``,
``hierarchy``, ``transit``, ``air_quality``, ``services``; ``catalog_record`` is the
catalogue's own record. ``builder`` writes the files and gives every record the common frame;
``vocab``, ``organisations``, ``sources``, ``text`` and ``geometry`` hold what they share.
"""

from __future__ import annotations

from pathlib import Path

from catalog import model
from odapp.demo.air_quality import add_air_quality
from odapp.demo.areas import add_areas
from odapp.demo.builder import Builder
from odapp.demo.catalog_record import catalog_record
from odapp.demo.election_results import add_election_results
from odapp.demo.elections import read_elections
from odapp.demo.hierarchy import add_hierarchy
from odapp.demo.osm_stadtteile import add_osm_stadtteile
from odapp.demo.services import add_services
from odapp.demo.transit import add_transit
from odapp.demo.turnout import add_turnout
from odapp.demo.vocab import LICENCE_DL_BY, LICENCE_NOT_STATED, LICENCE_ODBL

__all__ = ["LICENCE_DL_BY", "LICENCE_NOT_STATED", "LICENCE_ODBL", "build_demo"]


def build_demo(base_url: str, files_dir: Path) -> tuple[model.Catalog, list[model.Resource]]:
    """Write the demo files into ``files_dir`` and return the catalogue record and its
    resources (datasets, one series, two data services), all with full DCAT-AP.de metadata.

    Every distribution is a file under ``files_dir``, served by ODApp at
    ``{base_url}/files/<relative path>``.
    """
    b = Builder(base_url, Path(files_dir))
    rows = read_elections()
    add_election_results(b, rows)
    add_turnout(b, rows)
    quarters = add_areas(b, rows)
    add_osm_stadtteile(b, {q.nr for q in quarters})
    add_hierarchy(b, rows)
    add_transit(b, quarters)
    add_air_quality(b)
    newest = max(r.modified for r in b.resources if r.modified)
    add_services(b, newest)
    return catalog_record(b.base, newest), b.resources
