"""CSV downloads of sensor time series (to be written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sensor_downloads", __name__, url_prefix="/sensors")
