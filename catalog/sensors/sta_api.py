"""The read-only SensorThings API 1.1 at /sta/v1.1/ (to be written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sta", __name__, url_prefix="/sta/v1.1")
