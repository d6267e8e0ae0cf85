"""Running every source on its cron schedule until stopped (``odapp harvest schedule``).

One loop in one process; several schedulers (or a scheduler and a manual ``odapp harvest run``)
may run side by side: the per-source lock lets only one of them run a source at a time.
SIGTERM (systemd's stop) ends the loop after the running job.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from croniter import croniter

from catalog.harvest_state import HarvestBusy
from catalog.store import Store
from harvesters.config import load_sources
from harvesters.run import JobResult, run_source

log = logging.getLogger(__name__)


def next_runs(folder: Path, after: datetime) -> dict[str, datetime]:
    configs, _ = load_sources(folder)
    return {
        c.name: croniter(c.schedule, after).get_next(datetime)
        for c in configs
        if c.schedule and c.enabled
    }


def run_schedule(
    store: Store,
    folder: Path,
    files_dir: Path,
    base_url: str,
    *,
    stop: threading.Event | None = None,
    report: Callable[[JobResult], None] = lambda r: None,
    poll: float = 30.0,
) -> None:
    """Run each enabled source whenever its cron expression comes due; re-read the folder
    on every round, so new or edited files count without a restart."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    due = next_runs(folder, datetime.now(UTC))
    while not stop.is_set():
        now = datetime.now(UTC)
        configs, problems = load_sources(folder)
        for problem in problems:
            log.warning("%s", problem)
        for config in configs:
            if not config.schedule or not config.enabled:
                continue
            when = due.setdefault(config.name, croniter(config.schedule, now).get_next(datetime))
            if when > now or stop.is_set():
                continue
            due[config.name] = croniter(config.schedule, now).get_next(datetime)
            try:
                result = run_source(
                    store, config, files_dir=files_dir, base_url=base_url, trigger="schedule"
                )
            except HarvestBusy:
                log.info("%s is running elsewhere; next at %s", config.name, due[config.name])
                continue
            report(result)
        upcoming = [t for t in due.values()] or [now]
        wait = max(0.5, min(poll, (min(upcoming) - datetime.now(UTC)).total_seconds()))
        stop.wait(wait)
