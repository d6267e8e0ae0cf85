"""Running one source: fetch everything, decide what is new, changed, unchanged or gone, and
write it all in one transaction, or nothing.

1. Fetch: the source type yields records; defaults are applied and each record's content hash
   (record + attached files) is compared with the last run's. Nothing is written yet, so a
   connection drop on page 3 or a half-written file leaves the catalogue exactly as it was.
2. Plan: records sharing a ``dct:identifier`` (or feeding the same catalogue IRI) form one
   dataset; the source with the higher priority, then the newer ``dct:modified``, wins, and
   every origin is recorded as provenance. Records gone at the source are withdrawn only if
   the listing was complete and no record failed.
3. Write: catalogue records, withdrawals, the ledger and the source type's memory in one
   transaction. Attached files are then copied and loaded into the data store; until a load
   has succeeded the record's hash stays "pending", so a run killed in between is repaired by
   the next one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import model
from catalog.data_loading import CatalogueLoader
from catalog.errors import Problem
from catalog.harvest_state import HarvestLedger, RecordState
from catalog.schema import ResourceRow
from catalog.store import SaveResult, Store
from catalog.validation import check_resource
from harvesters.base import Harvested, RecordError, SourceConfig, SourceError, Unchanged
from harvesters.config_schema import SENSOR_TYPES
from harvesters.context import RunContext
from harvesters.defaults import apply_defaults
from harvesters.sensor_sink import link_datasets
from harvesters.sources import fetcher

log = logging.getLogger(__name__)

COUNT_KEYS = ("new", "changed", "unchanged", "withdrawn", "failed")
PENDING = "pending:"
UNNAMED = "urn:odapp:unnamed:"  # a record without IRI until the store names it


@dataclass
class JobResult:
    job_id: int
    source: str
    status: str  # succeeded | partial | failed
    counts: dict[str, int]
    errors: list[dict[str, str]] = field(default_factory=list)
    error: dict[str, str] | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        counts = ", ".join(f"{k} {self.counts.get(k, 0)}" for k in COUNT_KEYS)
        line = f"{self.source}: {self.status} (job {self.job_id}, {self.seconds:.1f} s): {counts}"
        if self.error:
            line += f"\n  {self.error['where']}: {self.error['message_de']}"
            line += f"\n  {' ' * len(self.error['where'])}  {self.error['message_en']}"
        for err in self.errors[:20]:
            line += f"\n  {err['where']}: {err['message_de']} / {err['message_en']}"
        if len(self.errors) > 20:
            line += f"\n  … {len(self.errors) - 20} more"
        return line


@dataclass
class _Fetched:
    changed: dict[str, tuple[Harvested, str]] = field(default_factory=dict)  # id -> (item, hash)
    texts: dict[str, str] = field(default_factory=dict)  # id -> the record's canonical JSON
    incomplete: dict[int, list[Problem]] = field(default_factory=dict)  # id(record) -> rules
    seen: set[str] = field(default_factory=set)


def run_source(
    store: Store,
    config: SourceConfig,
    *,
    files_dir: Path,
    base_url: str | None = None,
    trigger: str = "cli",
    force: bool = False,
) -> JobResult:
    """Run ``config`` now. Raises HarvestBusy if it is already running somewhere."""
    base_url = (base_url or store.base_url).rstrip("/")
    ledger = HarvestLedger(store)
    started = time.monotonic()
    job_id = ledger.start(config.name, trigger)
    counts = dict.fromkeys(COUNT_KEYS, 0)
    errors: list[dict[str, str]] = []
    result = JobResult(job_id, config.name, "failed", counts, errors)
    context: RunContext | None = None
    try:
        previous = ledger.records(config.name)
        memory = {} if force else ledger.memory(config.name)
        context = RunContext(config, base_url, ledger, job_id, previous, memory, store.engine)
        fetched = _fetch(context, previous, counts, errors, force)
        pending = _write(store, ledger, context, fetched, previous, counts, errors)
        _load(store, ledger, config, files_dir, base_url, pending, errors, counts)
        if config.type in SENSOR_TYPES:
            _link_things(store, ledger, config.name)
            counts.update(context.sensor_counts)
        result.status = "partial" if counts["failed"] else "succeeded"
    except SourceError as exc:
        result.error = exc.to_dict()
        # readings stored before the failure stay (nothing is deleted); say how many
        result.counts = (
            dict.fromkeys(COUNT_KEYS, 0)
            | {"failed": counts["failed"]}
            | (context.sensor_counts if context is not None else {})
        )
    except BaseException as exc:  # a bug or an interrupt: record it, never leave "running"
        log.error("harvest %s failed:\n%s", config.name, traceback.format_exc())
        result.error = {
            "where": config.name,
            "message_de": f"Unerwarteter Fehler: {exc!r}",
            "message_en": f"Unexpected error: {exc!r}",
        }
        result.counts = dict.fromkeys(COUNT_KEYS, 0)
        ledger.finish(job_id, "failed", result.counts, errors, result.error)
        if not isinstance(exc, Exception):
            raise
        result.seconds = time.monotonic() - started
        return result
    result.seconds = time.monotonic() - started
    ledger.finish(job_id, result.status, result.counts, errors, result.error)
    return result


# --- 1. fetch -------------------------------------------------------------------------------


def _fetch(
    context: RunContext,
    previous: dict[str, RecordState],
    counts: dict[str, int],
    errors: list[dict[str, str]],
    force: bool,
) -> _Fetched:
    config = context.config
    out = _Fetched()
    fetch = fetcher(config.type)
    for n, item in enumerate(fetch(context)):
        if n % 100 == 0:
            context.heartbeat()
        source_id = item.source_id
        if source_id in out.seen:
            if isinstance(item, Harvested | Unchanged):
                _fail(errors, counts, source_id, source_id, "duplicate")
            continue
        out.seen.add(source_id)
        if isinstance(item, RecordError):
            errors.append(item.to_dict())
            counts["failed"] += 1
        elif isinstance(item, Unchanged):
            prev = previous.get(source_id)
            if prev is None or not prev.active or prev.content_hash.startswith(PENDING):
                _fail(errors, counts, source_id, source_id, "unknown-unchanged")
            else:
                counts["unchanged"] += 1
        else:
            _take(item, previous, out, counts, errors, config, force)
    emptied = not out.seen and any(p.active for p in previous.values())
    if emptied and not config.options.get("allow_empty"):
        raise SourceError(
            config.url or config.folder or config.glob or config.name,
            "Die Quelle liefert keinen einzigen Datensatz mehr; zum Schutz wird nichts "
            "zurückgezogen (options: allow_empty: true erlaubt das).",
            "The source delivers no record at all; to be safe nothing is withdrawn "
            "(options: allow_empty: true allows it).",
        )
    return out


def _take(
    item: Harvested,
    previous: dict[str, RecordState],
    out: _Fetched,
    counts: dict[str, int],
    errors: list[dict[str, str]],
    config: SourceConfig,
    force: bool,
) -> None:
    apply_defaults(item.record, config)
    found = check_resource(item.record, item.origin)
    problems = [p for p in found if not p.rule.startswith("mandatory:")]
    if problems:
        errors.append(
            RecordError(
                item.source_id,
                problems[0].where,
                "; ".join(p.de for p in problems),
                "; ".join(p.en for p in problems),
            ).to_dict()
        )
        counts["failed"] += 1
        return
    record_text = json.dumps(item.record.to_dict(), sort_keys=True, ensure_ascii=False)
    digest = content_hash(item, record_text)
    prev = previous.get(item.source_id)
    if not force and prev is not None and prev.active and prev.content_hash == digest:
        counts["unchanged"] += 1
        return
    out.changed[item.source_id] = (item, digest)
    out.texts[item.source_id] = record_text
    out.incomplete[id(item.record)] = found  # only mandatory ones are left here
    counts["changed" if prev is not None else "new"] += 1


def content_hash(item: Harvested, record_text: str | None = None) -> str:
    """The hash of the mapped record (its canonical JSON) and of every attached file."""
    if record_text is None:
        record_text = json.dumps(item.record.to_dict(), sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(record_text.encode())
    for attachment in item.attachments:
        digest.update(attachment.name.encode())
        with attachment.path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


_MESSAGES = {
    "duplicate": (
        "Die Quelle liefert diesen Datensatz mehrfach; nur der erste wird übernommen.",
        "The source delivers this record more than once; only the first is taken.",
    ),
    "unknown-unchanged": (
        "Als unverändert gemeldet, aber nicht bekannt; bitte mit --force neu ernten.",
        "Reported unchanged but not known; please harvest again with --force.",
    ),
}


def _fail(
    errors: list[dict[str, str]], counts: dict[str, int], source_id: str, where: str, key: str
) -> None:
    de, en = _MESSAGES[key]
    errors.append(RecordError(source_id, where, de, en).to_dict())
    counts["failed"] += 1


# --- 2. plan and 3. write -------------------------------------------------------------------


def _key(state: RecordState) -> str:
    return f"id:{state.identifier}" if state.identifier else f"uri:{state.resource_uri}"


def _write(
    store: Store,
    ledger: HarvestLedger,
    context: RunContext,
    fetched: _Fetched,
    previous: dict[str, RecordState],
    counts: dict[str, int],
    errors: list[dict[str, str]],
) -> dict[str, tuple[Harvested, str]]:
    """Write the run in one transaction; returns the records whose files must be loaded."""
    config = context.config
    now = datetime.now(UTC)
    complete = counts["failed"] == 0
    ours: dict[str, RecordState] = {}  # this source's records whose state changes
    records: dict[str, model.Resource] = {}  # source id -> mapped record (changed ones)
    for sid, (item, digest) in fetched.changed.items():
        record = item.record
        identifier = record.identifier[0] if record.identifier else None
        prev = previous.get(sid)
        uri = record.uri
        if prev is not None and prev.identifier == identifier:
            uri = prev.resource_uri  # keeps its catalogue IRI even if the source's changed
        if uri is None:  # the store names it; the hook below reads the IRI it was given
            uri = f"{UNNAMED}{_uuid_name(config.name, sid)}"
        ours[sid] = RecordState(
            config.name,
            sid,
            uri,
            identifier,
            (PENDING + digest) if item.attachments else digest,
            item.source_modified or record.modified,
            config.priority,
            item.origin,
            _record_json(record, fetched.texts.get(sid)),
            True,
            now,
        )
        records[sid] = record
    if complete:
        for sid, prev in previous.items():
            if prev.active and sid not in fetched.seen:
                ours[sid] = replace(prev, active=False)
                counts["withdrawn"] += 1
    if not ours:
        _commit(store, ledger, context, [], [], {}, counts)
        return {}
    # every dataset touched: ours (old and new keys) plus the other sources feeding it
    keys = {_key(s) for s in ours.values()} | {
        _key(previous[sid]) for sid in ours if sid in previous
    }
    identifiers = [k[3:] for k in keys if k.startswith("id:")]
    uris = {s.resource_uri for s in ours.values()} | {
        previous[sid].resource_uri for sid in ours if sid in previous
    }
    others = {
        (m.source, m.source_id): m
        for m in ledger.members(identifiers, config.name) + ledger.uri_members(uris, config.name)
    }
    mine = {sid: s for sid, s in previous.items() if s.active} | ours
    groups: dict[str, list[RecordState]] = {}
    for state in list(others.values()) + list(mine.values()):
        if _key(state) in keys:
            groups.setdefault(_key(state), []).append(state)
    to_save: list[model.Resource] = []
    withdraw: list[str] = []
    unnamed: dict[int, str] = {}
    for members in groups.values():
        active = [m for m in members if m.active]
        group_uri = _group_uri(members, config.name)
        for sid in [m.source_id for m in members if m.source == config.name]:
            if sid in ours:
                ours[sid] = replace(ours[sid], resource_uri=group_uri)
        if not active:
            withdraw.append(group_uri)
            continue
        winner = max(active, key=lambda m: (m.priority, m.source_modified or "", m.source))
        if winner.source == config.name and winner.source_id in records:
            record = records[winner.source_id]
        else:
            record = _record_from_json(winner.record)
        record.uri = None if group_uri.startswith(UNNAMED) else group_uri
        unnamed[id(record)] = group_uri
        _provenance(record, active)
        if record.uri is None or record.uri not in {r.uri for r in to_save}:
            to_save.append(record)
    withdraw = [u for u in withdraw if u not in {r.uri for r in to_save}]
    placeholders = {unnamed[id(r)]: r for r in to_save if unnamed[id(r)].startswith(UNNAMED)}
    _commit(store, ledger, context, to_save, withdraw, ours, counts, fetched, errors, placeholders)
    return {
        sid: fetched.changed[sid]
        for sid, state in ours.items()
        if state.active and state.content_hash.startswith(PENDING)
    }


def _commit(
    store: Store,
    ledger: HarvestLedger,
    context: RunContext,
    to_save: list[model.Resource],
    withdraw: list[str],
    ours: dict[str, RecordState],
    counts: dict[str, int],
    fetched: _Fetched | None = None,
    errors: list[dict[str, str]] | None = None,
    placeholders: dict[str, model.Resource] | None = None,
) -> None:
    config = context.config
    reports = {}
    if fetched is not None:
        reports = {
            sid: json.dumps(item.report, ensure_ascii=False, default=str)
            for sid, (item, _) in fetched.changed.items()
            if item.report
        }

    def bookkeeping(session: Session, result: SaveResult) -> None:
        refused_uris = {to_save[i].uri for i in result.refused}
        for i, problems in result.refused.items():
            (errors if errors is not None else []).append(
                RecordError(
                    to_save[i].uri or "",
                    problems[0].where,
                    "; ".join(p.de for p in problems),
                    "; ".join(p.en for p in problems),
                ).to_dict()
            )
            counts["failed"] += 1
        for sid, state in list(ours.items()):  # IRIs the store has just given
            record = (placeholders or {}).get(state.resource_uri)
            if record is not None and record.uri:
                ours[sid] = replace(state, resource_uri=record.uri)
        states = [
            s
            for s in ours.values()
            if s.resource_uri not in refused_uris and not s.resource_uri.startswith(UNNAMED)
        ]
        Store.withdraw_in(session, withdraw)
        ledger.write_records_in(session, config.name, states, reports)
        if counts["failed"] == 0:  # memory only from clean runs: the next one re-reads the rest
            ledger.set_memory_in(session, config.name, context.kept)

    # this run's records were checked when fetched (_take); only provenance was added since
    known = fetched.incomplete if fetched is not None else {}
    store.save(to_save, strict=False, skip_invalid=True, known_problems=known, also=bookkeeping)


def _group_uri(members: list[RecordState], source: str) -> str:
    """The catalogue IRI of a dataset fed by several records: the one it already has."""
    established = sorted(
        (m.harvested_at, m.resource_uri) for m in members if m.source != source and m.active
    )
    if established:
        return established[0][1]
    return sorted(members, key=lambda m: m.harvested_at)[0].resource_uri


def _provenance(record: model.Resource, members: list[RecordState]) -> None:
    record.was_derived_from = sorted({m.origin for m in members if _is_iri(m.origin)})
    record.derivations = [
        model.Derivation(entity=m.origin, at_time=m.harvested_at.isoformat(timespec="seconds"))
        for m in sorted(members, key=lambda m: (m.origin, m.source))
        if _is_iri(m.origin)
    ]


def _is_iri(value: str) -> bool:
    return "://" in value and " " not in value


def _record_json(record: model.Resource, text: str | None = None) -> str:
    if text is None:
        text = json.dumps(record.to_dict(), sort_keys=True, ensure_ascii=False)
    return '{"kind": ' + json.dumps(model.kind_of(record)) + ', "record": ' + text + "}"


def _record_from_json(text: str) -> model.Resource:
    data = json.loads(text)
    return model.RESOURCE_CLASSES[data["kind"]].from_dict(data["record"])  # type: ignore[no-any-return]


def _uuid_name(source: str, source_id: str) -> str:
    return hashlib.sha256(f"{source}\n{source_id}".encode()).hexdigest()[:16]


# --- attached files: copy, load into the data store, then confirm the hash -----------------


def _load(
    store: Store,
    ledger: HarvestLedger,
    config: SourceConfig,
    files_dir: Path,
    base_url: str,
    pending: dict[str, tuple[Harvested, str]],
    errors: list[dict[str, str]],
    counts: dict[str, int],
) -> None:
    if not pending:
        return
    target = files_dir / "harvest" / config.name
    target.mkdir(parents=True, exist_ok=True)
    for item, _digest in pending.values():
        for attachment in item.attachments:
            _copy_atomically(attachment.path, target / attachment.name)
    names = _names(store, [item.record.uri for item, _ in pending.values() if item.record.uri])
    loads = [name for name in names.values()]
    loader = CatalogueLoader(store, files_dir, f"{base_url}/ogc")
    outcomes = loader.run(loads) if loads else []
    failed = {o.dataset for o in outcomes if o.problems}
    for sid, (item, digest) in pending.items():
        name = names.get(item.record.uri or "")
        problems = [p for o in outcomes if o.dataset == name for p in o.problems]
        if name in failed:
            errors.append(
                RecordError(
                    sid,
                    problems[0].where,
                    "; ".join(p.de for p in problems),
                    "; ".join(p.en for p in problems),
                ).to_dict()
            )
            counts["failed"] += 1
        else:
            ledger.set_hash(config.name, sid, digest)


def _link_things(store: Store, ledger: HarvestLedger, source: str) -> None:
    records = ledger.records(source)
    uris = {sid: s.resource_uri for sid, s in records.items() if s.active}
    link_datasets(store.engine, source, uris)


def _names(store: Store, uris: list[str]) -> dict[str, str]:
    with store.sessions() as session:
        rows = session.execute(
            select(ResourceRow.uri, ResourceRow.name).where(ResourceRow.uri.in_(uris))
        )
        return {uri: name for uri, name in rows}


def _copy_atomically(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=".incoming-")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, destination)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def describe(result: JobResult) -> dict[str, Any]:
    return {
        "job": result.job_id,
        "source": result.source,
        "status": result.status,
        "counts": result.counts,
        "errors": result.errors,
        "error": result.error,
        "seconds": round(result.seconds, 3),
    }
