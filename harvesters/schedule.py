"""Running every source on its cron schedule until stopped (``odapp harvest schedule``).

One loop in one process; several schedulers (or a scheduler and a manual ``odapp harvest run``)
may run side by side: the per-source lock lets only one of them run a source at a time.
SIGTERM (systemd's stop) ends the loop after the running job.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from croniter import croniter

from catalog.harvest_state import HarvestBusy
from catalog.sensors.store import SensorStore
from catalog.sensors.times import DAY
from catalog.store import Store
from harvesters.base import SourceConfig
from harvesters.config import load_sources
from harvesters.mqtt_listener import Listeners
from harvesters.run import JobResult, run_source

log = logging.getLogger(__name__)


def next_run(config: SourceConfig, after: datetime) -> datetime:
    return croniter(config.schedule, after).get_next(datetime)  # type: ignore[no-any-return]


def next_runs(folder: Path, after: datetime) -> dict[str, datetime]:
    configs, _ = load_sources(folder)
    return {c.name: next_run(c, after) for c in configs if c.schedule and c.enabled}


def run_due(
    store: Store,
    configs: list[SourceConfig],
    due: dict[str, datetime],
    now: datetime,
    files_dir: Path,
    base_url: str,
) -> list[JobResult]:
    """Run every enabled source whose time has come and set its next time; a source not seen
    before gets its first time after ``now``."""
    results: list[JobResult] = []
    for config in configs:
        if not config.schedule or not config.enabled:
            due.pop(config.name, None)
            continue
        when = due.setdefault(config.name, next_run(config, now))
        if when > now:
            continue
        due[config.name] = next_run(config, now)
        try:
            results.append(
                run_source(
                    store, config, files_dir=files_dir, base_url=base_url, trigger="schedule"
                )
            )
        except HarvestBusy:
            log.info("%s is running elsewhere; next at %s", config.name, due[config.name])
    return results


ONE_DAY = timedelta(days=1)


def prune_sensor_data(store: Store, retention_days: int) -> int:
    """Delete raw readings older than the retention time (aggregates stay)."""
    before = int(time.time() * 1000) - retention_days * DAY
    try:
        removed = SensorStore(store.engine).prune(before)
    except Exception:  # a busy store: the next day tries again; harvesting goes on
        log.exception("pruning sensor readings failed")
        return 0
    if removed:
        log.info("pruned %d raw sensor readings older than %d days", removed, retention_days)
    return removed


def run_schedule(
    store: Store,
    folder: Path,
    files_dir: Path,
    base_url: str,
    *,
    stop: threading.Event | None = None,
    report: Callable[[JobResult], None] = lambda r: None,
    poll: float = 30.0,
    retention_days: int = 0,
) -> None:
    """Loop until ``stop`` (or SIGTERM); the folder is read again every round, so new or
    edited source files count without a restart. Raw sensor readings older than
    ``retention_days`` (0: keep all) are pruned at the start and then once a day."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    due: dict[str, datetime] = {}
    listeners = Listeners(store, files_dir, base_url)  # mqtt sources listen all the time
    pruned: datetime | None = None
    try:
        while not stop.is_set():
            if retention_days > 0 and (pruned is None or datetime.now(UTC) - pruned > ONE_DAY):
                pruned = datetime.now(UTC)
                prune_sensor_data(store, retention_days)
            configs, problems = load_sources(folder)
            for problem in problems:
                log.warning("%s", problem)
            listeners.sync(configs)
            now = datetime.now(UTC)
            for result in run_due(store, configs, due, now, files_dir, base_url):
                report(result)
            upcoming = list(due.values()) or [now]
            wait = max(0.5, min(poll, (min(upcoming) - datetime.now(UTC)).total_seconds()))
            stop.wait(wait)
    finally:
        listeners.stop_all()
