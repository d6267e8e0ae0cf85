"""The harvest ledger: jobs, the per-source lock, the records of every source and what source
types remember between runs. Harvesters write the catalogue through :class:`catalog.store.Store`
and their bookkeeping through here, in the same transaction."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog.errors import CatalogError, NotFound, Problem
from catalog.schema import HarvestJob, HarvestLock, HarvestMemory, HarvestRecord, ResourceRow
from catalog.store import Store

# a lock whose process cannot be checked (another host) is taken over after this silence
STALE_AFTER = timedelta(minutes=15)
MAX_STORED_ERRORS = 1000


class HarvestBusy(CatalogError):
    status = 409


@dataclass
class RecordState:
    """One record of a source as the ledger holds it."""

    source: str
    source_id: str
    resource_uri: str
    identifier: str | None
    content_hash: str
    source_modified: str | None
    priority: int
    origin: str
    record: str
    active: bool
    harvested_at: datetime

    @classmethod
    def from_row(cls, row: HarvestRecord) -> RecordState:
        return cls(
            row.source,
            row.source_id,
            row.resource_uri,
            row.identifier,
            row.content_hash,
            row.source_modified,
            row.priority,
            row.origin,
            row.record,
            row.active,
            _aware(row.harvested_at),
        )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class HarvestLedger:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.sessions = store.sessions
        self.host = socket.gethostname()[:255]

    # --- jobs and the lock ----------------------------------------------------------------

    def start(self, source: str, trigger: str = "cli") -> int:
        """Open a job for ``source`` and take its lock; a lock left by a dead process is
        taken over (its job marked failed). Raises HarvestBusy if a live run holds it."""
        self.reap(source)
        now = _now()
        try:
            # the lock first, in its own transaction: its primary key decides who runs
            with self.sessions.begin() as session:
                session.add(
                    HarvestLock(
                        source=source, job_id=0, pid=os.getpid(), host=self.host, heartbeat_at=now
                    )
                )
        except IntegrityError:
            with self.sessions() as session:
                holder = session.get(HarvestLock, source)
            job_ref = holder.job_id if holder else "?"
            pid = holder.pid if holder else "?"
            raise HarvestBusy(
                [
                    Problem(
                        source,
                        "busy",
                        f"Die Quelle wird gerade geerntet (Job {job_ref}, Prozess {pid}).",
                        f"The source is being harvested right now (job {job_ref}, process {pid}).",
                    )
                ]
            ) from None
        with self.sessions.begin() as session:
            job = HarvestJob(
                source=source,
                status="running",
                trigger=trigger,
                started_at=now,
                pid=os.getpid(),
                host=self.host,
                counts="{}",
                errors="[]",
            )
            session.add(job)
            session.flush()
            session.execute(
                update(HarvestLock).where(HarvestLock.source == source).values(job_id=job.id)
            )
            return job.id

    def reap(self, source: str | None = None) -> list[int]:
        """Mark jobs whose process died as failed and free their locks; returns their ids."""
        reaped: list[int] = []
        now = _now()
        with self.sessions.begin() as session:
            query = select(HarvestLock)
            if source is not None:
                query = query.where(HarvestLock.source == source)
            for lock in session.scalars(query):
                dead = (lock.host == self.host and not _alive(lock.pid)) or (
                    now - _aware(lock.heartbeat_at) > STALE_AFTER
                )
                if not dead:
                    continue
                job = session.get(HarvestJob, lock.job_id)
                if job is not None and job.status == "running":
                    job.status = "failed"
                    job.ended_at = now
                    job.error = json.dumps(
                        {
                            "where": lock.source,
                            "message_de": f"Der Prozess {lock.pid} auf {lock.host} ist während "
                            "der Ernte beendet worden; nichts wurde geschrieben.",
                            "message_en": f"Process {lock.pid} on {lock.host} died during the "
                            "harvest; nothing was written.",
                        },
                        ensure_ascii=False,
                    )
                    reaped.append(job.id)
                session.delete(lock)
            # running jobs without a lock (lock lost with a crashed transaction) end too
            orphans = select(HarvestJob).where(
                HarvestJob.status == "running",
                HarvestJob.source.not_in(select(HarvestLock.source)),
            )
            if source is not None:
                orphans = orphans.where(HarvestJob.source == source)
            for job in session.scalars(orphans):
                job.status = "failed"
                job.ended_at = now
                job.error = job.error or json.dumps(
                    {
                        "where": job.source,
                        "message_de": "Der Job hat nicht ordentlich geendet.",
                        "message_en": "The job did not end properly.",
                    }
                )
                reaped.append(job.id)
        return reaped

    def heartbeat(self, source: str, job_id: int) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(HarvestLock)
                .where(HarvestLock.source == source, HarvestLock.job_id == job_id)
                .values(heartbeat_at=_now())
            )

    def finish_in(
        self,
        session: Session,
        job_id: int,
        status: str,
        counts: dict[str, int],
        errors: list[dict[str, str]],
        error: dict[str, str] | None = None,
    ) -> None:
        """End the job and free its source's lock (inside the caller's transaction)."""
        job = session.get(HarvestJob, job_id)
        if job is None:
            raise NotFound.one(str(job_id), "job", "Job nicht gefunden", "job not found")
        job.status = status
        job.ended_at = _now()
        job.counts = json.dumps(counts)
        job.errors = json.dumps(errors[:MAX_STORED_ERRORS], ensure_ascii=False)
        job.error = json.dumps(error, ensure_ascii=False) if error else None
        session.execute(
            delete(HarvestLock).where(
                HarvestLock.source == job.source, HarvestLock.job_id == job_id
            )
        )

    def finish(
        self,
        job_id: int,
        status: str,
        counts: dict[str, int],
        errors: list[dict[str, str]],
        error: dict[str, str] | None = None,
    ) -> None:
        with self.sessions.begin() as session:
            self.finish_in(session, job_id, status, counts, errors, error)

    def jobs(self, source: str | None = None, limit: int = 50, offset: int = 0) -> list[dict]:
        self.reap()
        query = select(HarvestJob).order_by(HarvestJob.id.desc()).limit(limit).offset(offset)
        if source:
            query = query.where(HarvestJob.source == source)
        with self.sessions() as session:
            return [job_dict(j, with_errors=False) for j in session.scalars(query)]

    def job(self, job_id: int) -> dict[str, Any]:
        self.reap()
        with self.sessions() as session:
            job = session.get(HarvestJob, job_id)
            if job is None:
                raise NotFound.one(
                    f"job {job_id}", "not-found", "Job nicht gefunden", "job not found"
                )
            return job_dict(job, with_errors=True)

    def last_jobs(self) -> dict[str, dict[str, Any]]:
        """The newest job of every source."""
        self.reap()
        newest_ids = select(func.max(HarvestJob.id)).group_by(HarvestJob.source)
        with self.sessions() as session:  # one row per source, however long the history
            jobs = session.scalars(select(HarvestJob).where(HarvestJob.id.in_(newest_ids)))
            return {job.source: job_dict(job, with_errors=False) for job in jobs}

    # --- records --------------------------------------------------------------------------

    def records(self, source: str) -> dict[str, RecordState]:
        with self.sessions() as session:
            rows = session.scalars(select(HarvestRecord).where(HarvestRecord.source == source))
            return {r.source_id: RecordState.from_row(r) for r in rows}

    def members(self, identifiers: Iterable[str], exclude_source: str) -> list[RecordState]:
        """Active records of other sources sharing any of these dct:identifiers."""
        return self._others(HarvestRecord.identifier, identifiers, exclude_source)

    def uri_members(self, uris: Iterable[str], exclude_source: str) -> list[RecordState]:
        """Active records of other sources feeding any of these catalogue resources."""
        return self._others(HarvestRecord.resource_uri, uris, exclude_source)

    def _others(self, column: Any, values: Iterable[str], exclude_source: str) -> list[RecordState]:
        wanted = sorted(set(values))
        found: list[RecordState] = []
        with self.sessions() as session:
            for start in range(0, len(wanted), 500):
                rows = session.scalars(
                    select(HarvestRecord).where(
                        column.in_(wanted[start : start + 500]),
                        HarvestRecord.source != exclude_source,
                        HarvestRecord.active.is_(True),
                    )
                )
                found.extend(RecordState.from_row(r) for r in rows)
        return found

    @staticmethod
    def write_records_in(
        session: Session, source: str, states: list[RecordState], reports: dict[str, str]
    ) -> None:
        """Insert or update these records of ``source`` (inside the caller's transaction)."""
        if not states:
            return
        existing: dict[str, HarvestRecord] = {}
        ids = [s.source_id for s in states]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            existing.update(
                (r.source_id, r)
                for r in session.scalars(
                    select(HarvestRecord).where(
                        HarvestRecord.source == source, HarvestRecord.source_id.in_(chunk)
                    )
                )
            )
        now = _now()
        for state in states:
            row = existing.get(state.source_id)
            if row is None:
                row = HarvestRecord(
                    source=source, source_id=state.source_id, first_harvested_at=now
                )
                session.add(row)
            row.resource_uri = state.resource_uri
            row.identifier = state.identifier
            row.content_hash = state.content_hash
            row.source_modified = state.source_modified
            row.priority = state.priority
            row.origin = state.origin
            row.record = state.record
            row.active = state.active
            row.harvested_at = state.harvested_at
            row.withdrawn_at = None if state.active else now
            if state.source_id in reports:
                row.report = reports[state.source_id]

    @staticmethod
    def set_hash_in(session: Session, source: str, source_id: str, content_hash: str) -> None:
        session.execute(
            update(HarvestRecord)
            .where(HarvestRecord.source == source, HarvestRecord.source_id == source_id)
            .values(content_hash=content_hash)
        )

    def set_hash(self, source: str, source_id: str, content_hash: str) -> None:
        with self.sessions.begin() as session:
            self.set_hash_in(session, source, source_id, content_hash)

    def report(self, source: str, source_id: str) -> dict[str, Any]:
        with self.sessions() as session:
            row = session.scalar(
                select(HarvestRecord).where(
                    HarvestRecord.source == source, HarvestRecord.source_id == source_id
                )
            )
            if row is None:
                raise NotFound.one(source_id, "not-found", "Nicht gefunden", "not found")
            return json.loads(row.report or "{}")

    def source_records(self, source: str) -> list[dict[str, Any]]:
        """The records of a source with their catalogue names (for the department's view)."""
        with self.sessions() as session:
            rows = session.execute(
                select(HarvestRecord, ResourceRow.name, ResourceRow.deleted)
                .outerjoin(ResourceRow, ResourceRow.uri == HarvestRecord.resource_uri)
                .where(HarvestRecord.source == source)
                .order_by(HarvestRecord.source_id)
            )
            return [
                {
                    "source_id": r.source_id,
                    "dataset": name,
                    "dataset_uri": r.resource_uri,
                    "identifier": r.identifier,
                    "active": r.active,
                    "origin": r.origin,
                    "source_modified": r.source_modified,
                    "harvested_at": _aware(r.harvested_at).isoformat(),
                    "report": json.loads(r.report or "{}"),
                    "withdrawn": bool(deleted),
                }
                for r, name, deleted in rows
            ]

    # --- memory ---------------------------------------------------------------------------

    def memory(self, source: str) -> dict[str, Any]:
        with self.sessions() as session:
            row = session.get(HarvestMemory, source)
            return json.loads(row.value) if row else {}

    @staticmethod
    def set_memory_in(session: Session, source: str, value: dict[str, Any]) -> None:
        row = session.get(HarvestMemory, source) or HarvestMemory(source=source)
        row.value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        row.updated_at = _now()
        session.add(row)


def job_dict(job: HarvestJob, *, with_errors: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": job.id,
        "source": job.source,
        "status": job.status,
        "trigger": job.trigger,
        "started_at": _aware(job.started_at).isoformat(),
        "ended_at": _aware(job.ended_at).isoformat() if job.ended_at else None,
        "counts": json.loads(job.counts or "{}"),
        "error": json.loads(job.error) if job.error else None,
        "error_count": len(json.loads(job.errors or "[]")),
        "pid": job.pid,
        "host": job.host,
    }
    if with_errors:
        data["errors"] = json.loads(job.errors or "[]")
    return data
