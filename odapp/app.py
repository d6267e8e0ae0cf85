"""The Flask application factory: one store, the catalogue blueprint, liveness."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from catalog.ckan_web import bp as ckan_blueprint
from catalog.data_web import bp as data_blueprint
from catalog.errors import CatalogError
from catalog.model import preferred_text
from catalog.openapi import bp as openapi_blueprint
from catalog.search import SearchQuery
from catalog.sensors.downloads import bp as sensor_downloads_blueprint
from catalog.sensors.sta_api import bp as sta_blueprint
from catalog.store import Store
from catalog.web import bp as dcat_blueprint
from catalog.web import error_response, search_service
from harvesters.web import bp as harvest_blueprint
from odapp.catalog_record import current_catalog
from odapp.settings import Settings, load_settings
from ogc_api import web as ogc_web


def create_app(settings: Settings | None = None, store: Store | None = None) -> Flask:
    settings = settings or load_settings()
    store = store or Store(settings.database_url, settings.base_url)
    app = Flask(__name__)
    app.config.update(
        ODAPP_SETTINGS=settings,
        ODAPP_STORE=store,
        ODAPP_CATALOG=lambda: current_catalog(store, settings),
        ODAPP_PAGE_SIZE=settings.page_size,
        ODAPP_FILES_DIR=str(settings.files_path),
        ODAPP_HARVEST_DIR=str(settings.harvest_path),
        ODAPP_SITE_TITLE=preferred_text(current_catalog(store, settings).title)
        if store.is_current()
        else "ODApp",
    )
    app.register_blueprint(dcat_blueprint)
    app.register_blueprint(ckan_blueprint)
    app.register_blueprint(openapi_blueprint)
    app.register_blueprint(data_blueprint)
    app.register_blueprint(harvest_blueprint)
    app.register_blueprint(sta_blueprint)
    app.register_blueprint(sensor_downloads_blueprint)
    ogc_web.init_app(app, store, settings.base_url, lambda: current_catalog(store, settings))

    @app.errorhandler(CatalogError)
    def _catalog_error(error: CatalogError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        response = jsonify({"error": error.name, "message": error.description})
        response.status_code = error.code or 500
        return response

    @app.get("/healthz")
    def healthz() -> Response:
        try:
            with store.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # the database is what can fail here
            response = jsonify({"status": "error", "database": str(exc)[:200]})
            response.status_code = 503
            return response
        return jsonify({"status": "ok", "database": store.dialect, "datasets": store.count()})

    @app.get("/")
    def index() -> str:
        """A plain list and search box until the citizen portal arrives (50 at a time)."""
        catalog = current_catalog(store, settings)
        q = request.args.get("q", "")
        sort = "relevance" if q.strip() else "title"
        result = search_service().search(SearchQuery(q=q, sort=sort, limit=50))
        return render_template(
            "index.html",
            title=preferred_text(catalog.title),
            q=q,
            count=result.count,
            corrected=result.corrected_q,
            resources=result.results,
        )

    return app
