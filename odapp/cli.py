"""The ``odapp`` command line."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from catalog.errors import CatalogError
from odapp.cli_context import Context, pass_ctx
from odapp.cli_harvest import harvest
from odapp.cli_sensors import sensors

EXPORT_FORMATS = {"ttl": "turtle", "rdf": "xml", "jsonld": "json-ld", "nt": "nt"}


def _fail(error: CatalogError) -> None:
    click.echo(f"Fehler / error ({type(error).__name__}):", err=True)
    for p in error.problems:
        click.echo(f"  - {p.where}\n    de: {p.de}\n    en: {p.en}\n    rule: {p.rule}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """ODApp: open-data catalogue and API server (DCAT-AP.de, CKAN API, OGC API).

    Settings come from the YAML file in ODAPP_CONFIG and ODAPP_* environment variables
    (ODAPP_DATABASE_URL, ODAPP_BASE_URL, ODAPP_FILES_DIR, ...).
    """


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """Create or migrate the schema to the newest version."""
    store = ctx.store
    click.echo(f"schema is current ({store.dialect})")


@main.command()
@click.option("--reset", is_flag=True, help="Delete the SQLite database and files first.")
@pass_ctx
def demo(ctx: Context, reset: bool) -> None:
    """Fill the store with the Dresden demo catalogue (real Dresden open data)."""
    from odapp.demo import build_demo

    settings = ctx.settings
    if reset and settings.database_url.startswith("sqlite:///"):
        db_file = Path(settings.database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_file) + suffix).unlink(missing_ok=True)
        shutil.rmtree(settings.files_path, ignore_errors=True)
    catalog, resources = build_demo(settings.base_url, settings.files_path)
    try:
        result = ctx.store.save(resources, catalog=catalog)
    except CatalogError as exc:
        _fail(exc)
    click.echo(
        f"Demo-Katalog geladen / demo catalogue loaded: {len(result.created)} new, "
        f"{len(result.updated)} updated, files in {settings.files_path}"
    )
    from catalog.data_loading import CatalogueLoader

    loader = CatalogueLoader(ctx.store, settings.files_path, f"{settings.base_url}/ogc")
    outcomes = loader.run()
    failed = _report_outcomes([o for o in outcomes if o.problems])
    click.echo(f"Daten / data: {len(outcomes) - failed} OGC API collections, {failed} failed")
    _demo_sensors(ctx)


def _demo_sensors(ctx: Context) -> None:
    """The air-quality files again, as sensor data: stations, series and readings."""
    from harvesters.config import load_source
    from harvesters.run import run_source
    from odapp.demo.sources import DEMO_DATA

    config = load_source(Path(str(DEMO_DATA / "luftmessstellen.yaml")))
    settings = ctx.settings
    result = run_source(
        ctx.store, config, files_dir=settings.files_path, base_url=settings.base_url
    )
    if result.status == "failed":
        click.echo(result.summary(), err=True)
        raise SystemExit(1)
    click.echo(
        f"Sensordaten / sensor data: {result.counts.get('new', 0)} new and "
        f"{result.counts.get('changed', 0)} changed stations, "
        f"{result.counts.get('observations', 0)} new readings (/sta/v1.1/)"
    )


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default from settings).")
@click.option("--port", type=int, default=None)
@click.option("--threads", type=int, default=None)
@pass_ctx
def serve(ctx: Context, host: str | None, port: int | None, threads: int | None) -> None:
    """Serve ODApp over HTTP with waitress (production WSGI server)."""
    from waitress import serve as waitress_serve

    from odapp.app import create_app

    settings = ctx.settings
    app = create_app(settings, ctx.store)
    host, port = host or settings.host, port or settings.port
    click.echo(f"ODApp on http://{host}:{port}/ (public base URL {settings.base_url})")
    waitress_serve(app, host=host, port=port, threads=threads or settings.threads, ident="ODApp")


@main.command("import")
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["turtle", "xml", "json-ld", "nt"]),
    default=None,
    help="Syntax (default: from name, media type or content).",
)
@click.option(
    "--accept-incomplete",
    is_flag=True,
    help="Keep records that miss a mandatory property (listed as problems) "
    "instead of refusing the document.",
)
@click.option(
    "--with-catalog",
    is_flag=True,
    help="Also take the document's dcat:Catalog description as this catalogue's.",
)
@pass_ctx
def import_(
    ctx: Context,
    sources: tuple[str, ...],
    fmt: str | None,
    accept_incomplete: bool,
    with_catalog: bool,
) -> None:
    """Import DCAT-AP.de 3.0/2.0 or DCAT-AP documents (files or http(s) URLs).

    Each document is stored completely or not at all.
    """
    from catalog.importer import import_document, load_document

    failed = False
    for source in sources:
        try:
            doc = load_document(source, fmt=fmt, max_bytes=ctx.settings.max_import_bytes)
            report = import_document(
                ctx.store, doc, with_catalog=with_catalog, strict=not accept_incomplete
            )
            click.echo(report.summary())
        except CatalogError as exc:
            failed = True
            click.echo(f"{source}: nicht importiert / not imported", err=True)
            for p in exc.problems:
                click.echo(f"  - {p}", err=True)
    if failed:
        sys.exit(2)


@main.command()
@click.option("--format", "ext", type=click.Choice(sorted(EXPORT_FORMATS)), default="ttl")
@click.option("--dataset", "name", default=None, help="Export one dataset (name, IRI or id).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None)
@pass_ctx
def export(ctx: Context, ext: str, name: str | None, output: str | None) -> None:
    """Export the catalogue (or one dataset) as DCAT-AP.de."""
    from catalog.export import resource_document, stream_catalog
    from odapp.catalog_record import current_catalog

    fmt = EXPORT_FORMATS[ext]
    try:
        if name:
            chunks: Iterator[str] = iter([resource_document(ctx.store.get(name), fmt)])
        else:
            chunks = stream_catalog(ctx.store, current_catalog(ctx.store, ctx.settings), fmt)
        out = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
        try:
            for chunk in chunks:
                out.write(chunk)
        finally:
            if output:
                out.close()
    except CatalogError as exc:
        _fail(exc)


@main.group()
def data() -> None:
    """The data store: distributions loaded as OGC API Features collections."""


def _report_outcomes(outcomes: list) -> int:
    failed = 0
    for o in outcomes:
        if o.problems:
            failed += 1
            click.echo(f"  FEHLER / ERROR  {o.collection}  ({o.source})", err=True)
            for p in o.problems:
                click.echo(f"    - {p.where}\n      de: {p.de}\n      en: {p.en}", err=True)
        else:
            state = "geladen / loaded" if o.changed else "unverändert / unchanged"
            extra = f", {o.warnings} Hinweise / warnings" if o.warnings else ""
            click.echo(f"  {state}  {o.collection}{extra}")
    return failed


@data.command("sync")
@click.option("--dataset", "names", multiple=True, help="Only these datasets (names).")
@click.option("--force", is_flag=True, help="Load again even when a file is unchanged.")
@pass_ctx
def data_sync(ctx: Context, names: tuple[str, ...], force: bool) -> None:
    """Load every loadable distribution (GeoJSON, Shapefile, GeoPackage, KML, CSV, XLSX) of the
    catalogue into the data store and add the OGC API distributions to the records."""
    from catalog.data_loading import CatalogueLoader

    settings = ctx.settings
    loader = CatalogueLoader(ctx.store, settings.files_path, f"{settings.base_url}/ogc")
    outcomes = loader.run(list(names) or None, force=force)
    failed = _report_outcomes(outcomes)
    click.echo(f"{len(outcomes) - failed} Sammlungen / collections served, {failed} failed")
    if failed:
        sys.exit(2)


@data.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--collection", "cid", required=True, help="Collection id (becomes the URL).")
@click.option("--title", default=None)
@click.option("--format", "fmt", default=None, help="geojson, shapefile, geopackage, kml, csv…")
@click.option("--dataset", "dataset", default=None, help="Dataset (name or IRI) it belongs to.")
@click.option("--force", is_flag=True)
@pass_ctx
def data_load(
    ctx: Context,
    path: Path,
    cid: str,
    title: str | None,
    fmt: str | None,
    dataset: str | None,
    force: bool,
) -> None:
    """Load one file as a collection."""
    from catalog.data_loading import publish
    from catalog.data_store import DataStore

    store = ctx.store
    data_store = DataStore(store.engine)
    try:
        dataset_uri = store.get(dataset).uri if dataset else None
        result = data_store.load(
            cid, path, fmt=fmt, title=title, dataset_uri=dataset_uri, force=force
        )
        if dataset_uri:
            publish(store, data_store, f"{ctx.settings.base_url}/ogc")
    except CatalogError as exc:
        _fail(exc)
    for w in result.warnings:
        click.echo(f"  Hinweis / warning: {w['where']}: {w['de']} / {w['en']}")
    state = "geladen / loaded" if result.changed else "unverändert / unchanged"
    click.echo(f"{state}: {', '.join(result.collections)}")


@data.command("list")
@pass_ctx
def data_list(ctx: Context) -> None:
    """The collections, their size, CRS and last error."""
    from catalog.data_store import DataStore

    for info in DataStore(ctx.store.engine).collections(served_only=False):
        served = f"{info.feature_count} {info.kind}" if info.table_name else "not served"
        click.echo(f"{info.id}  {served}  {info.source_crs or '-'}  {info.title}")
        if info.error:
            for p in info.error.get("problems", []):
                click.echo(f"    FEHLER / ERROR {p['where']}: {p['de']} / {p['en']}")


@main.group()
def search() -> None:
    """Search the catalogue and maintain its index."""


@search.command("reindex")
@pass_ctx
def search_reindex(ctx: Context) -> None:
    """Rebuild the search index and facets (for recovery; safe while serving)."""
    from catalog.search import SearchService

    done = SearchService(ctx.store).reindex()
    click.echo(f"{done} records indexed")


@search.command("query")
@click.argument("q", default="")
@click.option("--limit", type=int, default=10)
@pass_ctx
def search_query(ctx: Context, q: str, limit: int) -> None:
    """Search from the command line (German-aware, like the API)."""
    from catalog.search import SearchQuery, SearchService

    result = SearchService(ctx.store).search(SearchQuery(q=q, limit=limit))
    if result.corrected_q:
        click.echo(f"(gesucht nach / searched for: {result.corrected_q})")
    click.echo(f"{result.count} Treffer / results")
    for r in result.results:
        click.echo(f"  {r.name}  {r.title}")


@main.command()
@click.option("--dataset", "name", default=None, help="Validate one dataset only.")
@click.option("--no-vocabularies", is_flag=True, help="Skip the controlled-vocabulary checks.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@pass_ctx
def validate(ctx: Context, name: str | None, no_vocabularies: bool, as_json: bool) -> None:
    """Check the catalogue against the official DCAT-AP.de 3.0 SHACL shapes.

    Exits with 1 when there is any violation; warnings are reported, not failed on.
    """
    from rdflib import Graph

    from catalog.export import resource_document, stream_catalog
    from catalog.shacl import format_report
    from catalog.shacl import validate as shacl_validate
    from odapp.catalog_record import current_catalog

    if name:
        text = resource_document(ctx.store.get(name), "nt")
    else:
        text = "".join(stream_catalog(ctx.store, current_catalog(ctx.store, ctx.settings), "nt"))
    graph = Graph()
    graph.parse(data=text, format="nt")
    report = shacl_validate(graph, vocabularies=not no_vocabularies)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "conforms": report.conforms,
                    "violations": len(report.violations),
                    "warnings": len(report.warnings),
                    "results": [r.__dict__ for r in report.results],
                },
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
        click.echo(format_report(report))
    sys.exit(0 if report.conforms else 1)


@main.group()
def users() -> None:
    """Users and their roles in organisations."""


@users.command("add")
@click.argument("name")
@click.option("--email", default=None)
@click.option("--fullname", default=None)
@click.option("--sysadmin", is_flag=True, help="May edit everything and manage users.")
@click.option(
    "--password-prompt",
    is_flag=True,
    help="Ask for a password (read from standard input when it is not a terminal).",
)
@pass_ctx
def users_add(
    ctx: Context,
    name: str,
    email: str | None,
    fullname: str | None,
    sysadmin: bool,
    password_prompt: bool,
) -> None:
    """Create a user (NAME: 2-100 characters of a-z, 0-9, _ and -)."""
    from catalog import auth

    password = None
    if password_prompt:
        if sys.stdin.isatty():
            password = click.prompt(
                "Passwort / password", hide_input=True, confirmation_prompt=True
            )
        else:
            password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = auth.create_user(
            ctx.store, name, email=email, fullname=fullname, sysadmin=sysadmin, password=password
        )
    except CatalogError as exc:
        _fail(exc)
    role = " (sysadmin)" if user.sysadmin else ""
    click.echo(f"Benutzer angelegt / user created: {user.name}{role} id={user.id}")


@users.command("list")
@pass_ctx
def users_list(ctx: Context) -> None:
    """List the active users with their roles."""
    from catalog import auth

    for user in auth.list_users(ctx.store):
        roles = ", ".join(f"{o}:{c}" for o, c in auth.memberships(ctx.store, user.name).items())
        parts = [
            user.name,
            user.fullname or "",
            f"<{user.email}>" if user.email else "",
            "sysadmin" if user.sysadmin else "",
            roles,
        ]
        click.echo("  ".join(p for p in parts if p))


@users.command("delete")
@click.argument("name")
@pass_ctx
def users_delete(ctx: Context, name: str) -> None:
    """Delete a user: their tokens are revoked and their memberships end."""
    from catalog import auth

    try:
        auth.delete_user(ctx.store, name)
    except CatalogError as exc:
        _fail(exc)
    click.echo(f"Benutzer gelöscht / user deleted: {name}")


@users.command("member")
@click.argument("name")
@click.argument("organization")
@click.option("--capacity", default="member", show_default=True, help="admin, editor or member.")
@pass_ctx
def users_member(ctx: Context, name: str, organization: str, capacity: str) -> None:
    """Give a user a role in an organisation (admins and editors may edit its records)."""
    from catalog import auth

    try:
        auth.set_membership(ctx.store, name, organization, capacity)
    except CatalogError as exc:
        _fail(exc)
    click.echo(f"{name} ist / is {capacity} in {organization}")


@main.group()
def tokens() -> None:
    """API tokens (sent in the Authorization header)."""


@tokens.command("create")
@click.argument("user")
@click.option("--label", default="", help="What the token is for.")
@pass_ctx
def tokens_create(ctx: Context, user: str, label: str) -> None:
    """Create an API token for USER and print it (only this once)."""
    from catalog import auth

    try:
        token, info = auth.create_token(ctx.store, user, label)
    except CatalogError as exc:
        _fail(exc)
    click.echo(token)
    click.echo(
        f"API-Token {info.id} für / for {info.user_name}. Es wird nicht gespeichert und ist "
        "nur jetzt zu sehen / it is not stored and is shown only now.",
        err=True,
    )


@tokens.command("list")
@click.argument("user")
@pass_ctx
def tokens_list(ctx: Context, user: str) -> None:
    """List USER's tokens (ids and labels, never the tokens)."""
    from catalog import auth

    try:
        found = auth.list_tokens(ctx.store, user)
    except CatalogError as exc:
        _fail(exc)
    for t in found:
        used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
        state = "revoked" if t.revoked else "active"
        created = t.created_at.isoformat(timespec="seconds")
        click.echo(f"{t.id}  {state}  created {created}  last used {used}  {t.label}")


@tokens.command("revoke")
@click.argument("token_id")
@pass_ctx
def tokens_revoke(ctx: Context, token_id: str) -> None:
    """Revoke a token by its id."""
    from catalog import auth

    try:
        auth.revoke_token(ctx.store, token_id)
    except CatalogError as exc:
        _fail(exc)
    click.echo(f"Token widerrufen / revoked: {token_id}")


main.add_command(harvest)
main.add_command(sensors)

if __name__ == "__main__":
    main()
