"""``odapp harvest …``: check the source files, run sources now or on their schedule, and see
the jobs."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from catalog.harvest_state import HarvestBusy, HarvestLedger
from odapp.cli_context import Context, pass_ctx


@click.group()
def harvest() -> None:
    """Harvest sources: one YAML file per source in the harvest folder
    (setting harvest_dir, default config/harvesters; examples in config/harvesters/examples)."""


def _folder(ctx: Context, folder: Path | None) -> Path:
    return folder or ctx.settings.harvest_path


@harvest.command("check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--folder", type=click.Path(path_type=Path), help="Another source folder.")
@click.option("--offline", is_flag=True, help="Do not try to reach the sources' URLs.")
@pass_ctx
def harvest_check(
    ctx: Context, files: tuple[Path, ...], folder: Path | None, offline: bool
) -> None:
    """Check every source file (or the FILES given): each mistake with file, line and a hint
    in German and English. Exit status 2 if any file has an error."""
    from harvesters.config import ConfigProblem, check_file, load_sources

    problems: list[ConfigProblem] = []
    if files:
        checked = []
        for path in files:
            config, found = check_file(path, online=not offline)
            problems += found
            checked.append((path, config))
    else:
        configs, problems = load_sources(_folder(ctx, folder), online=not offline)
        checked = [(c.path, c) for c in configs]
        if not configs and not problems:
            click.echo(f"Keine Quelldateien in {_folder(ctx, folder)} / no source files there.")
    for problem in problems:
        click.echo(str(problem), err=problem.severity == "error")
    bad = {p.file for p in problems if p.severity == "error"}
    for path, config in checked:
        if config is not None and str(path) not in bad:
            click.echo(f"OK  {path}  ({config.name}, {config.type})")
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    click.echo(f"{errors} Fehler / errors, {warnings} Warnungen / warnings")
    if errors:
        sys.exit(2)


@harvest.command("run")
@click.argument("names", nargs=-1)
@click.option(
    "--file",
    "files",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Run this source file (also outside the harvest folder).",
)
@click.option("--force", is_flag=True, help="Map and compare every record again.")
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as JSON.")
@pass_ctx
def harvest_run(
    ctx: Context, names: tuple[str, ...], files: tuple[Path, ...], force: bool, as_json: bool
) -> None:
    """Run the sources NAMES now (all enabled sources if none is named)."""
    from harvesters.config import ConfigError, load_source, load_sources
    from harvesters.run import describe, run_source

    logging.basicConfig(level=logging.WARNING)
    settings = ctx.settings
    if files:
        try:
            configs = [load_source(p) for p in files]
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
    else:
        configs, problems = load_sources(settings.harvest_path)
        for problem in problems:
            click.echo(str(problem), err=True)
        known = {c.name for c in configs}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise click.ClickException(
                f"Unbekannte Quelle(n) / unknown source(s): {', '.join(unknown)}; "
                f"bekannt / known: {', '.join(sorted(known)) or '-'}"
            )
        configs = [c for c in configs if (c.name in names if names else c.enabled)]
    if not configs:
        raise click.ClickException("Keine Quelle zu ernten / no source to harvest.")
    failed = False
    results = []
    for config in configs:
        try:
            result = run_source(
                ctx.store,
                config,
                files_dir=settings.files_path,
                base_url=settings.base_url,
                force=force,
            )
        except HarvestBusy as exc:
            click.echo(f"{config.name}: {exc.problems[0].de} / {exc.problems[0].en}", err=True)
            failed = True
            continue
        failed |= result.status == "failed"
        results.append(describe(result))
        if not as_json:
            click.echo(result.summary())
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    if failed:
        sys.exit(2)


@harvest.command("list")
@click.option("--jobs", "job_count", default=10, show_default=True, help="Recent jobs shown.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def harvest_list(ctx: Context, job_count: int, as_json: bool) -> None:
    """The sources with their schedule and newest job, then the recent jobs."""
    from harvesters.config import load_sources

    configs, problems = load_sources(ctx.settings.harvest_path)
    ledger = HarvestLedger(ctx.store)
    last = ledger.last_jobs()
    jobs = ledger.jobs(limit=job_count)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "sources": [
                        {
                            "name": c.name,
                            "type": c.type,
                            "schedule": c.schedule,
                            "last_job": last.get(c.name),
                        }
                        for c in configs
                    ],
                    "jobs": jobs,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    click.echo("Quellen / sources:")
    for c in configs:
        job = last.get(c.name)
        state = f"{job['status']} {job['ended_at'] or job['started_at']}" if job else "nie / never"
        off = "" if c.enabled else " (aus / disabled)"
        click.echo(f"  {c.name:<30} {c.type:<16} {c.schedule or '-':<14} {state}{off}")
    for p in problems:
        click.echo(str(p), err=True)
    click.echo("Jobs:")
    for job in jobs:
        counts = " ".join(f"{k}={v}" for k, v in job["counts"].items())
        click.echo(
            f"  #{job['id']:<5} {job['source']:<30} {job['status']:<10} {job['started_at']}  "
            f"{counts}"
        )
        if job["error"]:
            click.echo(f"         {job['error']['where']}: {job['error']['message_de']}")


@harvest.command("show")
@click.argument("job_id", type=int)
@pass_ctx
def harvest_show(ctx: Context, job_id: int) -> None:
    """One job with its per-record errors, as JSON."""
    click.echo(json.dumps(HarvestLedger(ctx.store).job(job_id), ensure_ascii=False, indent=2))


@harvest.command("schedule")
@click.option(
    "--poll", default=30.0, show_default=True, help="Seconds between looks at the folder."
)
@pass_ctx
def harvest_schedule(ctx: Context, poll: float) -> None:
    """Run every enabled source on its cron schedule until stopped (Ctrl-C or SIGTERM;
    usable as a systemd service); enabled mqtt sources listen all the time."""
    from harvesters.run import JobResult
    from harvesters.schedule import next_runs, run_schedule

    settings = ctx.settings
    for name, when in sorted(next_runs(settings.harvest_path, datetime.now(UTC)).items()):
        click.echo(f"{name}: next run {when.isoformat(timespec='minutes')}")

    def report(result: JobResult) -> None:
        click.echo(result.summary())

    try:
        run_schedule(
            ctx.store,
            settings.harvest_path,
            settings.files_path,
            settings.base_url,
            report=report,
            poll=poll,
            retention_days=settings.sensor_retention_days,
        )
    except KeyboardInterrupt:
        click.echo("gestoppt / stopped")


@harvest.command("listen")
@click.argument("name")
@click.option("--seconds", type=float, help="Stop after this many seconds (default: never).")
@pass_ctx
def harvest_listen(ctx: Context, name: str, seconds: float | None) -> None:
    """Subscribe to the mqtt source NAME and store its readings as they arrive, until stopped
    (Ctrl-C or SIGTERM; usable as a systemd service)."""
    import signal

    from harvesters.base import SourceError
    from harvesters.config import load_sources
    from harvesters.mqtt_listener import Listener

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = ctx.settings
    configs, problems = load_sources(settings.harvest_path)
    for problem in problems:
        click.echo(str(problem), err=True)
    config = next((c for c in configs if c.name == name), None)
    if config is None or config.type != "mqtt":
        mqtt = sorted(c.name for c in configs if c.type == "mqtt")
        raise click.ClickException(
            f"Keine mqtt-Quelle „{name}“ / no mqtt source '{name}'; "
            f"bekannt / known: {', '.join(mqtt) or '-'}"
        )
    try:
        listener = Listener(
            ctx.store, config, files_dir=settings.files_path, base_url=settings.base_url
        )
    except SourceError as exc:
        raise click.ClickException(f"{exc.where}: {exc.message_de} / {exc.message_en}") from None
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: listener.stop.set())
    counts = listener.run(seconds)
    click.echo(f"{name}: {counts.line()}")


@harvest.command("schema")
def harvest_schema() -> None:
    """Print the JSON Schema of a source file."""
    from harvesters.config_schema import SCHEMA

    click.echo(json.dumps(SCHEMA, ensure_ascii=False, indent=2))
