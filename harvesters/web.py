"""Harvest jobs over HTTP: ``/api/harvest/jobs`` (JSON), the sources, their records and the
sensor input they rejected or normalised."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request

from catalog.errors import CatalogError, InputError
from catalog.harvest_state import HarvestLedger
from catalog.sensors.store import SensorStore
from harvesters.config import load_sources
from harvesters.config_schema import SCHEMA

bp = Blueprint("harvest", __name__)


def _ledger() -> HarvestLedger:
    return HarvestLedger(current_app.config["ODAPP_STORE"])


def _int(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= maximum:
        raise InputError.one(
            name,
            "parameter",
            f"{name} muss eine ganze Zahl zwischen 0 und {maximum} sein.",
            f"{name} must be an integer between 0 and {maximum}.",
        )
    return int(raw)


@bp.get("/api/harvest/jobs")
def jobs() -> Response:
    """The newest jobs first; ``source``, ``limit`` (≤ 500) and ``offset`` narrow them."""
    limit = _int("limit", 50, 500)
    offset = _int("offset", 0, 10_000_000)
    source = request.args.get("source")
    return jsonify(
        {"jobs": _ledger().jobs(source, limit, offset), "limit": limit, "offset": offset}
    )


@bp.get("/api/harvest/jobs/<int:job_id>")
def job(job_id: int) -> Response:
    """One job with its per-record errors."""
    return jsonify(_ledger().job(job_id))


@bp.get("/api/harvest/sources")
def sources() -> Response:
    """The configured sources with their newest job (no credentials, only variable names)."""
    folder = Path(current_app.config["ODAPP_HARVEST_DIR"])
    configs, problems = load_sources(folder)
    last = _ledger().last_jobs()
    return jsonify(
        {
            "sources": [
                {
                    "name": c.name,
                    "type": c.type,
                    "title": c.title,
                    "organization": c.organization,
                    "schedule": c.schedule,
                    "priority": c.priority,
                    "enabled": c.enabled,
                    "last_job": last.get(c.name),
                }
                for c in configs
            ],
            "problems": [p.to_dict() for p in problems],
        }
    )


@bp.get("/api/harvest/sources/<name>/records")
def records(name: str) -> Response:
    """A source's records: the dataset each feeds, when it changed, its validation report."""
    return jsonify({"source": name, "records": _ledger().source_records(name)})


@bp.get("/api/harvest/sources/<name>/issues")
def issues(name: str) -> Response:
    """Sensor input of a source that was rejected or normalised, newest first, with the
    reason in German and English, the place (topic, file and line, URL) and the value."""
    limit = _int("limit", 100, 1000)
    found = SensorStore(current_app.config["ODAPP_STORE"].engine).issues(name, limit)
    return jsonify({"source": name, "issues": found, "limit": limit})


@bp.get("/api/harvest/schema.json")
def schema() -> Response:
    return jsonify(SCHEMA)


@bp.errorhandler(CatalogError)
def _error(error: CatalogError) -> Response:
    response = jsonify(error.to_dict())
    response.status_code = error.status
    return response
