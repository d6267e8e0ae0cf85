"""``/api/data/collections``: the data store's collections as JSON, with the validation report
and the error of the last failed load, for Datenkontaktpersonen and their tools."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from catalog.data_registry import CollectionInfo
from catalog.data_store import DataStore
from catalog.store import Store

bp = Blueprint("data", __name__, url_prefix="/api/data")


def _data() -> DataStore:
    store: Store = current_app.config["ODAPP_STORE"]
    return DataStore(store.engine)


def describe(info: CollectionInfo, base_url: str) -> dict[str, Any]:
    return {
        "id": info.id,
        "title": info.title,
        "dataset": info.dataset_uri,
        "distribution": info.distribution_uri,
        "source": info.source,
        "format": info.format,
        "served": info.table_name is not None,
        "kind": info.kind,
        "count": info.feature_count,
        "columns": [{"name": c.name, "type": c.type} for c in info.columns],
        "geometry_type": info.geometry_type,
        "source_crs": info.source_crs,
        "bbox": list(info.bbox) if info.bbox else None,
        "temporal": [info.time_min, info.time_max] if info.time_min else None,
        "loaded_at": info.loaded_at.isoformat() if info.loaded_at else None,
        "ogc_api": f"{base_url}/ogc/collections/{info.id}" if info.table_name else None,
        "report": info.report,
        "error": info.error,
    }


@bp.get("/collections")
def collections() -> Response:
    base = current_app.config["ODAPP_STORE"].base_url
    infos = _data().collections(served_only=False)
    return jsonify({"collections": [describe(i, base) for i in infos]})


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response:
    base = current_app.config["ODAPP_STORE"].base_url
    return jsonify(describe(_data().collection(collection_id), base))
