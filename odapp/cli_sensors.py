"""``odapp sensors …``: the stations and series in the store, rejected input, and retention."""

from __future__ import annotations

import json
import time

import click
from sqlalchemy import select

from catalog.schema import SensorDatastream, SensorThing
from catalog.sensors.store import SensorStore
from catalog.sensors.times import DAY, iso
from odapp.cli_context import Context, pass_ctx


@click.group()
def sensors() -> None:
    """Sensor data: stations (Things), time series (Datastreams), issues, retention."""


@sensors.command("list")
@click.option("--source", default=None, help="Only the stations of this harvest source.")
@pass_ctx
def sensors_list(ctx: Context, source: str | None) -> None:
    """Every station with its series: readings held, first and newest reading."""
    t, d = SensorThing, SensorDatastream
    stmt = (
        select(
            t.id,
            t.source,
            t.name,
            d.id,
            d.name,
            d.unit_symbol,
            d.observation_count,
            d.first_time,
            d.last_time,
        )
        .join(d, d.thing_id == t.id)
        .order_by(t.source, t.id, d.id)
    )
    if source:
        stmt = stmt.where(t.source == source)
    with ctx.store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    if not rows:
        click.echo("Keine Sensordaten / no sensor data.")
    current = None
    for tid, src, tname, did, dname, unit, count, first, last in rows:
        if tid != current:
            click.echo(f"Things({tid})  {tname}  [{src}]")
            current = tid
        click.echo(
            f"  Datastreams({did})  {dname} [{unit}]  {count} Werte/readings  "
            f"{iso(first) or '–'} … {iso(last) or '–'}"
        )


@sensors.command("issues")
@click.option("--source", default=None, help="Only this harvest source.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@pass_ctx
def sensors_issues(ctx: Context, source: str | None, limit: int, as_json: bool) -> None:
    """Input that was rejected or normalised, newest first, with the reason."""
    found = SensorStore(ctx.store.engine).issues(source, limit)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    for i in found:
        count = f" ×{i['count']}" if i["count"] != 1 else ""
        click.echo(f"{i['at'][:19]}  {i['source']}  {i['action']}{count}  {i['where']}")
        click.echo(f"    {i['message_de']}\n    {i['message_en']}")
        if i["value"]:
            click.echo(f"    Wert/value: {i['value']}")


@sensors.command("prune")
@click.option(
    "--days",
    type=int,
    default=None,
    help="Keep raw readings of this many days (default: setting sensor_retention_days).",
)
@pass_ctx
def sensors_prune(ctx: Context, days: int | None) -> None:
    """Delete raw readings older than the retention time; hourly and daily values stay."""
    days = ctx.settings.sensor_retention_days if days is None else days
    if days <= 0:
        click.echo("Aufbewahrung unbegrenzt / retention unlimited: nothing to delete.")
        return
    before = int(time.time() * 1000) - days * DAY
    removed = SensorStore(ctx.store.engine).prune(before)
    click.echo(
        f"{removed} Rohwerte vor {iso(before)} gelöscht / raw readings before that deleted "
        "(Stunden- und Tageswerte bleiben / hourly and daily values stay)."
    )
