"""The ``files`` source type: a Datenkontaktperson's department files.

The source YAML names exactly one of

* ``folder``: a folder (relative to the YAML file's folder); ``filters.include`` and
  ``filters.exclude`` are glob patterns (a pattern without ``/`` is matched against the file name,
  one with ``/`` against the path below the folder; case does not matter), ``filters.recursive:
  true`` also reads the sub-folders. Without ``include`` every supported file is taken:
  ``*.csv *.tsv *.xlsx *.geojson *.zip *.gpkg *.kml``.
* ``glob``: one glob pattern (``**`` for any depth), relative to the YAML file's folder; the
  source id of a file is its path below the pattern's fixed leading folders.
* ``urls``: http(s) addresses, downloaded with ``context.get`` (conditional requests with the
  ETag / Last-Modified of the last run) into a temporary folder that lives as long as the
  yielded attachments do.

Never taken: sidecar files (``.yaml``/``.yml``), hidden files and folders (``.name``), Office
lock files (``~$name.xlsx``) and files ending in ``~``, ``.tmp``, ``.part``.

Every data file becomes one dcat:Dataset with one distribution (the file itself, attached with
``load=True`` so that the runner copies it to ``files/harvest/<source>/<name>`` and loads it into
the data store). Metadata comes from the sidecar YAML next to the file (:mod:`.sidecar`:
``<file>.yaml`` preferred, ``<stem>.yaml`` accepted; for ``urls`` next to the source YAML file);
what neither sidecar nor file says is left to the source's ``defaults``, applied by the runner.

Every file is read with :func:`catalog.readers.read_source` during the fetch: tables are
validated with frictionless, geodata read through GDAL. The validation report goes into
:attr:`Harvested.report`. A file that cannot be read at all (cut off while being written, mixed
encodings, a broken zip), or that changes while it is read, raises :class:`SourceError`: the run
fails and nothing is written. A broken sidecar is a :class:`RecordError` for that file only.

Unchanged re-runs read nothing: the file's size and mtime, the sidecar's hash and a fingerprint
of the source configuration are remembered per file (``context.remember``); when they are the
same and the record is still active, the file yields :class:`Unchanged` without being opened.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import email.utils
import hashlib
import json
import re
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urlparse

import shapely
from slugify import slugify

from catalog import model
from catalog.errors import CatalogError
from catalog.readers import SourceData, detect_format, read_source
from harvesters.base import (
    Attachment,
    Context,
    Harvested,
    Item,
    RecordError,
    SourceConfig,
    SourceError,
    Unchanged,
)
from harvesters.sources.file_listing import local_paths
from harvesters.sources.sidecar import (
    Sidecar,
    SidecarError,
    find_sidecar,
    is_sidecar_name,
    read_sidecar,
)

EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
IANA = "https://www.iana.org/assignments/media-types/"
SHA256 = "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"
# Bump when the mapping from file to record changes: every file is then harvested again.
MAPPING_VERSION = 1
DEFAULT_SUFFIXES = (".csv", ".tsv", ".xlsx", ".geojson", ".zip", ".gpkg", ".kml")
_DATA_SUFFIXES = {*DEFAULT_SUFFIXES, ".json", ".kmz", ".shp", ".txt", ".xls"}
_YEAR_COLUMNS = {"jahr", "year", "berichtsjahr"}
# reader format -> (EU file type code, IANA media type)
FILE_TYPES = {
    "csv": ("CSV", "text/csv"),
    "xlsx": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "geojson": ("GEOJSON", "application/geo+json"),
    "shapefile": ("SHP", "application/zip"),
    "geopackage": ("GPKG", "application/geopackage+sqlite3"),
    "kml": ("KML", "application/vnd.google-earth.kml+xml"),
}
SUFFIX_OF = {
    "csv": ".csv",
    "xlsx": ".xlsx",
    "geojson": ".geojson",
    "shapefile": ".zip",
    "geopackage": ".gpkg",
    "kml": ".kml",
}
FORMAT_LABELS = {
    "csv": "CSV",
    "xlsx": "Excel (XLSX)",
    "geojson": "GeoJSON",
    "shapefile": "Shapefile (ZIP)",
    "geopackage": "GeoPackage",
    "kml": "KML",
}


@dataclass
class _DataFile:
    path: Path
    source_id: str  # path below the folder (POSIX), or the URL
    name: str  # attachment name: below the source's files folder
    origin: str
    sidecar_folder: Path | None = None  # None: next to the file


def fetch(context: Context) -> Iterator[Item]:
    config = context.config
    given = [key for key in ("folder", "glob", "urls") if getattr(config, key)]
    if len(given) != 1:
        where = str(config.path or config.name)
        raise SourceError(
            where,
            "Die Quelle muss genau eines von 'folder', 'glob' oder 'urls' angeben"
            + (f" (angegeben: {', '.join(given)})" if given else ""),
            "The source must give exactly one of 'folder', 'glob' or 'urls'"
            + (f" (given: {', '.join(given)})" if given else ""),
        )
    fingerprint = _fingerprint(config, context.base_url)
    if config.urls:
        yield from _fetch_urls(context, fingerprint)
        return
    try:
        files = _list_files(config)
    except OSError as exc:
        raise _os_error(str(config.resolve(config.folder or config.glob or ".")), exc) from None
    uris = _dataset_uris(context, [f.source_id for f in files])
    for data_file in files:
        context.heartbeat()
        try:
            yield from _fetch_file(context, data_file, uris[data_file.source_id], fingerprint)
        except OSError as exc:  # gone or locked between listing and reading
            raise _os_error(data_file.source_id, exc) from None


def _os_error(where: str, exc: OSError) -> SourceError:
    reason = exc.strerror or type(exc).__name__
    return SourceError(
        where,
        f"{where}: nicht lesbar ({reason}); fehlen Leserechte, oder wurde die Datei gerade "
        "verschoben?",
        f"{where}: cannot be read ({reason}); missing read permission, or was the file just moved?",
    )


# --- listing --------------------------------------------------------------------------------------


def _list_files(config: SourceConfig) -> list[_DataFile]:
    files = [
        _DataFile(path, rel, rel, path.resolve().as_uri())
        for path, rel in local_paths(config, DEFAULT_SUFFIXES, is_sidecar_name)
    ]
    _flatten_names(files)
    return files


def _flatten_names(files: list[_DataFile]) -> None:
    """Attachment names without folders (``2024/wahl.csv`` -> ``2024_wahl.csv``), so that
    every file lands directly in the source's files folder; a short hash of the path keeps
    names apart that would otherwise meet."""
    flat = [f.source_id.replace("/", "_") for f in files]
    for data_file, name in zip(files, flat, strict=True):
        if "/" in data_file.source_id and flat.count(name) > 1:
            digest = hashlib.sha1(data_file.source_id.encode()).hexdigest()[:8]
            name = f"{digest}-{name}"
        data_file.name = name


def _dataset_uris(context: Context, source_ids: list[str]) -> dict[str, str]:
    """``<base>/dataset/<source name>-<path without suffix>``; with the suffix where two files
    differ only in it."""
    prefix = slugify(context.config.name)
    stems = [str(PurePosixPath(s).with_suffix("")) for s in source_ids]
    out: dict[str, str] = {}
    for source_id, stem in zip(source_ids, stems, strict=True):
        key = source_id if stems.count(stem) > 1 else stem
        slug = slugify(f"{prefix}-{key}", max_length=90, word_boundary=False) or prefix
        out[source_id] = f"{context.base_url.rstrip('/')}/dataset/{slug}"
    return out


# --- one file -----------------------------------------------------------------------------------


def _fetch_file(
    context: Context, data_file: _DataFile, uri: str, fingerprint: str
) -> Iterator[Item]:
    path, source_id = data_file.path, data_file.source_id
    sidecar_path = find_sidecar(path, data_file.sidecar_folder)
    if _is_config(sidecar_path, context.config):
        sidecar_path = None  # the source YAML itself is never a sidecar
    sidecar_bytes = sidecar_path.read_bytes() if sidecar_path else None
    sidecar_hash = hashlib.sha256(sidecar_bytes).hexdigest() if sidecar_bytes is not None else None
    before = path.stat()
    key = f"file:{source_id}"
    old, comparable = _remembered(context, key, source_id, sidecar_hash, fingerprint)
    if comparable and (old.get("size"), old.get("mtime_ns")) == (
        before.st_size,
        before.st_mtime_ns,
    ):
        context.remember(key, old)
        yield Unchanged(source_id)  # not opened at all
        return
    sidecar_label = _sidecar_label(data_file, sidecar_path)
    digest, lines = _digest(path)
    state = {
        "size": before.st_size,
        "mtime_ns": before.st_mtime_ns,
        "sha256": digest,
        "sidecar": sidecar_label,
        "sidecar_sha256": sidecar_hash,
        "config": fingerprint,
    }
    if comparable and old.get("sha256") == digest:  # saved again with the same bytes
        context.remember(key, state)
        yield Unchanged(source_id)
        return
    try:
        sidecar = read_sidecar(sidecar_path, sidecar_label) if sidecar_path else Sidecar()
    except SidecarError as exc:
        yield _record_error(source_id, exc)
        return
    layers, fmt = _read(path, source_id, lines)
    after = path.stat()
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise SourceError(
            source_id,
            f"{source_id}: die Datei wurde während des Lesens verändert (wird sie gerade "
            "geschrieben?); bitte den Lauf wiederholen, wenn sie fertig ist",
            f"{source_id}: the file changed while it was read (is it being written?); run "
            "again when it is complete",
        )
    modified = dt.datetime.fromtimestamp(before.st_mtime, dt.UTC).replace(microsecond=0)
    record = _record(
        context, data_file, uri, sidecar, layers, fmt, before.st_size, digest, modified
    )
    report = _report(data_file, fmt, before.st_size, digest, layers, sidecar_label)
    context.remember(key, state)
    yield Harvested(
        source_id=source_id,
        record=record,
        origin=data_file.origin,
        source_modified=modified.isoformat(),
        attachments=[_attachment(data_file)],
        report=report,
    )


def _is_config(path: Path | None, config: SourceConfig) -> bool:
    return path is not None and config.path is not None and path.resolve() == config.path.resolve()


def _remembered(
    context: Context, key: str, source_id: str, sidecar_hash: str | None, fingerprint: str
) -> tuple[Any, bool]:
    """What the last complete run remembered under ``key``, and whether it still applies
    (same sidecar, same configuration, record still active)."""
    old = context.recall(key)
    comparable = (
        isinstance(old, dict)
        and old.get("sidecar_sha256") == sidecar_hash
        and old.get("config") == fingerprint
        and _active(context, source_id)
    )
    return old, comparable


def _active(context: Context, source_id: str) -> bool:
    """Whether the record is stored and complete: only then may the file be reported
    unchanged (the runner marks a record whose files are not yet loaded "pending:")."""
    previous = context.previous(source_id)
    return (
        previous is not None
        and previous.active
        and not previous.content_hash.startswith("pending:")
    )


def _sidecar_label(data_file: _DataFile, sidecar: Path | None) -> str | None:
    if sidecar is None:
        return None
    if data_file.sidecar_folder is not None:
        return sidecar.name
    parent = PurePosixPath(data_file.source_id).parent
    return (parent / sidecar.name).as_posix() if str(parent) != "." else sidecar.name


def _record_error(source_id: str, exc: SidecarError) -> RecordError:
    first = exc.problems[0]
    return RecordError(
        source_id=source_id,
        where=first.where,
        message_de="; ".join(p.de for p in exc.problems),
        message_en="; ".join(p.en for p in exc.problems),
    )


def _digest(path: Path) -> tuple[str, int]:
    """sha256 and the number of lines (for messages about the last line)."""
    digest = hashlib.sha256()
    lines = 1
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            lines += chunk.count(b"\n")
    return digest.hexdigest(), lines


def _read(path: Path, where: str, lines: int) -> tuple[list[SourceData], str]:
    try:
        fmt = detect_format(path)
        layers = read_source(path, fmt=fmt, where=where)
    except CatalogError as exc:
        raise _source_error(where, exc) from None
    if fmt == "csv":
        cut = _cut_off_line(path, layers[0], lines)
        if cut is not None:
            raise SourceError(
                f"{where}, line {cut}",
                f"{where}: Zeile {cut}: die Datei endet mitten in einer Zeile (wird sie gerade "
                "geschrieben oder wurde sie abgeschnitten?)",
                f"{where}: line {cut}: the file ends in the middle of a row (is it being "
                "written, or was it cut off?)",
            )
    return layers, fmt


def _source_error(where: str, exc: CatalogError) -> SourceError:
    problems = exc.problems
    if not problems:
        return SourceError(where, f"{where}: Datei nicht lesbar", f"{where}: file not readable")
    first = problems[0]
    more_de = f" (und {len(problems) - 1} weitere Probleme)" if len(problems) > 1 else ""
    more_en = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    de = first.de if first.de.startswith(where) else f"{where}: {first.de}"
    en = first.en if first.en.startswith(where) else f"{where}: {first.en}"
    return SourceError(first.where or where, de + more_de, en + more_en)


def _cut_off_line(path: Path, layer: SourceData, lines: int) -> int | None:
    """The last line, when the file ends inside a row: no line break at the end, the last row
    has empty trailing cells and its line has fewer cells than the table has columns."""
    encoding = str(layer.report.get("encoding") or "utf-8")
    if not layer.rows or encoding.lower().startswith("utf-16"):
        return None
    last_row = layer.rows[-1]
    if last_row and last_row[-1] is not None:
        return None
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - (1 << 16)))
        tail = fh.read()
    if tail.endswith((b"\n", b"\r")):
        return None
    last = re.split(rb"\r\n|\n|\r", tail)[-1].decode(encoding, errors="replace")
    delimiter = str(layer.report.get("delimiter") or ",")
    cells = next(csv.reader([last], delimiter=delimiter), [])
    return lines if len(cells) < len(layer.columns) else None


def _attachment(data_file: _DataFile) -> Attachment:
    if isinstance(data_file, _Download):
        return _DownloadedAttachment(data_file.path, data_file.name, True, data_file.folder)
    return Attachment(data_file.path, data_file.name, load=True)


# --- the record ---------------------------------------------------------------------------------


def _record(
    context: Context,
    data_file: _DataFile,
    uri: str,
    sidecar: Sidecar,
    layers: list[SourceData],
    fmt: str,
    size: int,
    digest: str,
    modified: dt.datetime | None,
) -> model.Dataset:
    file_name = PurePosixPath(data_file.name).name
    url = context.file_url(data_file.name)
    code, media = FILE_TYPES[fmt]
    zipped = fmt == "shapefile" and data_file.path.suffix.lower() == ".zip"
    distribution = model.Distribution(
        uri=f"{uri}#{quote(file_name, safe='')}",
        access_urls=[url],
        download_urls=[url],
        title={"de": file_name},
        format=f"{EU_FILE_TYPE}{code}",
        media_type=f"{IANA}{media}" if zipped or fmt != "shapefile" else None,
        package_format=f"{IANA}application/zip" if zipped else None,
        byte_size=size,
        modified=modified.isoformat() if modified else None,
        checksum=model.Checksum(algorithm=SHA256, value=digest),
        license=sidecar.license,
        license_attribution=sidecar.attribution,
        languages=list(sidecar.languages),
    )
    spatial = list(sidecar.spatial)
    if not any(loc.geometry or loc.bbox for loc in spatial):
        box = _bbox(layers)
        if box is not None:
            spatial.append(box)
    temporal = [sidecar.temporal] if sidecar.temporal else _temporal(layers)
    return model.Dataset(
        uri=uri,
        title=sidecar.title or {"de": title_from_file_name(file_name)},
        description=sidecar.description or _description(file_name, fmt, layers),
        keywords=[model.LangStr(k, "de") for k in sidecar.keywords],
        themes=list(sidecar.themes),
        identifier=[sidecar.identifier] if sidecar.identifier else [],
        issued=sidecar.issued,
        modified=sidecar.modified or (modified.date().isoformat() if modified else None),
        accrual_periodicity=sidecar.accrual_periodicity,
        contact_points=[sidecar.contact_point] if sidecar.contact_point else [],
        publisher=sidecar.publisher,
        temporal=temporal,
        spatial=spatial,
        landing_pages=[sidecar.landing_page] if sidecar.landing_page else [],
        languages=list(sidecar.languages),
        distributions=[distribution],
    )


def title_from_file_name(name: str) -> str:
    """``wahlbezirke_europawahl2024.geojson`` -> ``Wahlbezirke Europawahl 2024``: underscores
    become spaces, a year-like number is set apart from the word before it, and lower-case
    words get a capital."""
    stem = name
    while PurePosixPath(stem).suffix.lower() in _DATA_SUFFIXES:
        stem = PurePosixPath(stem).stem
    words = re.sub(r"[_\s]+", " ", stem).strip().split(" ")
    out: list[str] = []
    for word in words:
        word = re.sub(r"(?<=[^\W\d_])(?=\d{2,})", " ", word)
        out.extend(w[:1].upper() + w[1:] if w.islower() else w for w in word.split(" "))
    return " ".join(w for w in out if w) or name


def _description(file_name: str, fmt: str, layers: list[SourceData]) -> dict[str, str]:
    parts_de, parts_en = [], []
    for layer in layers:
        n = len(layer.rows)
        columns = [c.name for c in layer.columns]
        shown = ", ".join(columns[:12]) + (" …" if len(columns) > 12 else "")
        count_de = f"{n:,}".replace(",", ".")
        if layer.geometries is not None:
            kind = layer.geometry_type
            kind = f" ({kind})" if kind and kind != "Geometry" else ""
            part_de, part_en = f"{count_de} Objekte{kind}", f"{n:,} features{kind}"
        else:
            part_de, part_en = f"{count_de} Zeilen", f"{n:,} rows"
        if columns:
            part_de += f" mit den Spalten {shown}"
            part_en += f" with the columns {shown}"
        if len(layers) > 1:
            part_de, part_en = f"Ebene {layer.name}: {part_de}", f"layer {layer.name}: {part_en}"
        parts_de.append(part_de)
        parts_en.append(part_en)
    label = FORMAT_LABELS[fmt]
    return {
        "de": f"Daten aus der Datei {file_name} ({label}): {'; '.join(parts_de)}",
        "en": f"Data from the file {file_name} ({label}): {'; '.join(parts_en)}",
    }


def _bbox(layers: list[SourceData]) -> model.Location | None:
    geometries = [
        g for layer in layers for g in (layer.geometries or []) if g is not None and not g.is_empty
    ]
    if not geometries:
        return None
    west, south, east, north = (float(v) for v in shapely.total_bounds(geometries))
    if west == east or south == north:
        point = shapely.Point((west + east) / 2, (south + north) / 2)
        return model.Location(centroid=shapely.to_wkt(point, rounding_precision=6))
    box = shapely.box(west, south, east, north)
    return model.Location(bbox=shapely.to_wkt(box, rounding_precision=6))


def _temporal(layers: list[SourceData]) -> list[model.PeriodOfTime]:
    """From the first date or datetime column of each layer; else from a year column
    (``Jahr``, ``year``) of whole numbers."""
    dates: list[dt.date] = []
    years: list[int] = []
    for layer in layers:
        for i, column in enumerate(layer.columns):
            if column.type in ("date", "datetime"):
                for row in layer.rows:
                    value = row[i]
                    if isinstance(value, dt.datetime):
                        dates.append(value.date())
                    elif isinstance(value, dt.date):
                        dates.append(value)
                break
        else:
            for i, column in enumerate(layer.columns):
                if column.type == "integer" and column.name.strip().lower() in _YEAR_COLUMNS:
                    years += [v for row in layer.rows if isinstance(v := row[i], int)]
                    break
    if dates:
        return [model.PeriodOfTime(start=min(dates).isoformat(), end=max(dates).isoformat())]
    years = [y for y in years if 1800 <= y <= 2200]
    if years:
        return [model.PeriodOfTime(start=f"{min(years)}-01-01", end=f"{max(years)}-12-31")]
    return []


def _report(
    data_file: _DataFile,
    fmt: str,
    size: int,
    digest: str,
    layers: list[SourceData],
    sidecar: str | None,
) -> dict[str, Any]:
    """What the department sees: rows per layer, validation errors and warnings."""
    errors: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    details: list[dict[str, Any]] = []
    error_count = 0
    for layer in layers:
        report = _jsonable(layer.report)
        validation = report.get("validation") or {}
        error_count += int(validation.get("error_count") or 0)
        for error in validation.get("errors", []):
            line = error.get("line") or error.get("rowNumber")
            where = f"{data_file.source_id}, line {line}" if line else data_file.source_id
            errors.append({"layer": layer.name, "where": where, **error})
        warnings.extend(report.get("warnings", []))
        details.append(
            {
                "name": layer.name,
                "rows": len(layer.rows),
                "columns": [{"name": c.name, "type": c.type} for c in layer.columns],
                "geometry_type": layer.geometry_type,
                "source_crs": layer.source_crs,
                **{k: v for k, v in report.items() if k != "warnings"},
            }
        )
    return {
        "file": data_file.source_id,
        "format": fmt,
        "byte_size": size,
        "sha256": digest,
        "sidecar": sidecar,
        "valid": error_count == 0,
        "error_count": error_count,
        "warning_count": len(warnings),
        "rows": {layer.name: len(layer.rows) for layer in layers},
        "errors": errors,
        "warnings": warnings,
        "layers": details,
    }


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _fingerprint(config: SourceConfig, base_url: str) -> str:
    """What the records depend on besides the files: when it changes, every file is harvested
    again (the runner applies the defaults to harvested records only)."""
    data = {
        "version": MAPPING_VERSION,
        "name": config.name,
        "base_url": base_url,
        "organization": config.organization,
        "defaults": dataclasses.asdict(config.defaults),
    }
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


# --- urls -----------------------------------------------------------------------------------------


class _Folder:
    """A temporary folder removed when the last object holding it is gone."""

    def __init__(self, prefix: str) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        weakref.finalize(self, shutil.rmtree, str(self.path), True)


@dataclass
class _DownloadedAttachment(Attachment):
    """An attachment in a temporary folder; holding it keeps the folder."""

    folder: _Folder | None = field(default=None, repr=False, compare=False)


@dataclass
class _Download(_DataFile):
    folder: _Folder | None = None


def _fetch_urls(context: Context, fingerprint: str) -> Iterator[Item]:
    config = context.config
    sidecar_folder = config.path.parent if config.path is not None else Path.cwd()
    names = _url_names(config.urls, str(config.path or config.name))
    uris = _dataset_uris(context, [names[u] for u in config.urls])
    folder = _Folder(f"odapp-harvest-{slugify(config.name)}-")
    for url in config.urls:
        context.heartbeat()
        name = names[url]
        target = folder.path / name
        data_file = _Download(target, url, name, url, sidecar_folder, folder)
        sidecar_path = find_sidecar(Path(name), sidecar_folder)
        if _is_config(sidecar_path, config):
            sidecar_path = None
        sidecar_hash = (
            hashlib.sha256(sidecar_path.read_bytes()).hexdigest() if sidecar_path else None
        )
        key = f"url:{url}"
        old, comparable = _remembered(context, key, url, sidecar_hash, fingerprint)
        headers: dict[str, str] = {}
        if comparable:
            assert isinstance(old, dict)
            if old.get("etag"):
                headers["If-None-Match"] = old["etag"]
            if old.get("last_modified"):
                headers["If-Modified-Since"] = old["last_modified"]
        response = context.get(url, headers=headers)
        if response.status_code == 304 and comparable:
            context.remember(key, old)
            yield Unchanged(url)
            continue
        if "html" in response.headers.get("Content-Type", "").lower():
            raise SourceError(
                url,
                "Die Adresse liefert eine Webseite statt einer Datendatei (Anmeldeseite? "
                "Link auf die Übersichtsseite statt auf die Datei?)",
                "The address returns a web page instead of a data file (a login page? a link "
                "to the overview page instead of the file?)",
            )
        size, digest, lines = _download(response, target)
        etag = response.headers.get("ETag")
        last_modified = response.headers.get("Last-Modified")
        state = {
            "etag": etag,
            "last_modified": last_modified,
            "size": size,
            "sha256": digest,
            "sidecar_sha256": sidecar_hash,
            "config": fingerprint,
        }
        if comparable and isinstance(old, dict) and old.get("sha256") == digest:
            target.unlink()
            context.remember(key, state)
            yield Unchanged(url)
            continue
        sidecar_label = sidecar_path.name if sidecar_path else None
        try:
            sidecar = read_sidecar(sidecar_path, sidecar_label) if sidecar_path else Sidecar()
        except SidecarError as exc:
            yield _record_error(url, exc)
            continue
        layers, fmt = _read(target, url, lines)
        if Path(name).suffix.lower() != SUFFIX_OF[fmt] and not (
            fmt == "csv" and Path(name).suffix.lower() == ".tsv"
        ):
            data_file.name = f"{name}{SUFFIX_OF[fmt]}"  # the download URL shows the format
        modified = _http_date(last_modified)
        record = _record(
            context, data_file, uris[name], sidecar, layers, fmt, size, digest, modified
        )
        context.remember(key, state)
        yield Harvested(
            source_id=url,
            record=record,
            origin=url,
            source_modified=modified.isoformat() if modified else None,
            attachments=[_attachment(data_file)],
            report=_report(data_file, fmt, size, digest, layers, sidecar_label),
        )


def _url_names(urls: list[str], where: str) -> dict[str, str]:
    """The attachment name of every URL: its last path segment; where two URLs end alike,
    prefixed with a short hash of the URL."""
    names: dict[str, str] = {}
    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SourceError(
                f"{where}: urls",
                f"'{url}' ist keine http(s)-Adresse",
                f"'{url}' is not an http(s) URL",
            )
        segment = unquote(parsed.path.rstrip("/").rsplit("/", 1)[-1]) or "download"
        names[url] = re.sub(r"[\\/:*?\"<>|\x00-\x1f]", "_", segment)
    taken = list(names.values())
    return {
        url: f"{hashlib.sha1(url.encode()).hexdigest()[:8]}-{name}"
        if taken.count(name) > 1
        else name
        for url, name in names.items()
    }


def _download(response: Any, target: Path) -> tuple[int, str, int]:
    """Write the answer (read completely by ``context.get``) to ``target``; size, sha256 and
    the number of lines."""
    content: bytes = response.content
    target.write_bytes(content)
    return len(content), hashlib.sha256(content).hexdigest(), content.count(b"\n") + 1


def _http_date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
