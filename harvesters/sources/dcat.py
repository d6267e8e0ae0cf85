"""Harvesting a DCAT-AP / DCAT-AP.de catalogue: RDF in any syntax, hydra-paged.

The start address (``url``, further ones in ``urls``) is an http(s) URL, a ``file://`` URL or a
local path (relative to the YAML file). Each page is read, parsed safely
(:mod:`catalog.rdf_io`), lifted from DCAT-AP.de 2.0 to 3.0 (:mod:`catalog.dcatde_upgrade`) and
read into model records (:func:`catalog.rdf_mapping.read_graph`); every dcat:Dataset,
dcat:DatasetSeries and dcat:DataService becomes one :class:`Harvested`. The next page is found
by ``hydra:next`` (Hydra today, ``hydra:PartialCollectionView``) or ``hydra:nextPage`` (the old
``hydra:PagedCollection`` that ckanext-dcat still writes, often as a literal).

Re-runs are cheap: for every page the run remembers the SHA-256 of its bytes, its ETag and
Last-Modified, its next link and the source ids on it. A page answered with 304 Not Modified, or
whose bytes hash as before, is not parsed: its ids are reported as :class:`Unchanged` and the
remembered next link is followed.

Options (``options`` of the source file): ``format`` (turtle, xml, json-ld, nt: force the syntax),
``max_pages`` (int, default 10000), ``max_bytes`` (int, bytes per page, default 100 MiB).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF

from catalog import model
from catalog.dcatde_upgrade import upgrade_graph
from catalog.errors import InputError
from catalog.rdf_io import DEFAULT_MAX_BYTES, FORMATS, MEDIA_TYPES, Document, format_for, parse
from catalog.rdf_mapping import read_graph
from catalog.workers import pool, worker_count
from harvesters.base import Context, Harvested, Item, SourceError, Unchanged

# Bump when the mapping from RDF to records changes: remembered pages are then parsed again.
MAPPING_VERSION = 1
HYDRA = "http://www.w3.org/ns/hydra/core#"
NEXT_PREDICATES = (URIRef(HYDRA + "next"), URIRef(HYDRA + "nextPage"))
VIEW_TYPES = (
    URIRef(HYDRA + "PartialCollectionView"),
    URIRef(HYDRA + "PagedCollection"),
)
ACCEPT = (
    "text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8, "
    "application/n-triples;q=0.7, */*;q=0.1"
)
# media types that say nothing about the RDF syntax: decide by extension or content instead
_GENERIC_MEDIA = {"text/plain", "application/octet-stream", "binary/octet-stream", ""}
DEFAULT_MAX_PAGES = 10_000
# pages read and parsed ahead of the one being handed out (one per worker)
READ_AHEAD = max(1, worker_count())


@dataclass
class Page:
    """One page as read: its bytes (None after 304 Not Modified) and the response headers."""

    url: str  # as requested (the key of what is remembered)
    data: bytes | None
    media_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    base: str = ""  # where the bytes came from after redirects: relative IRIs resolve here

    def __post_init__(self) -> None:
        self.base = self.base or self.url


def fetch(context: Context) -> Iterator[Item]:
    config = context.config
    starts = [u for u in [config.url, *config.urls] if u]
    if not starts:
        raise SourceError(
            config.name,
            "Keine Adresse (url) für die DCAT-Quelle angegeben",
            "no address (url) given for the DCAT source",
        )
    fingerprint = _fingerprint(context)
    trust_memory = context.recall("dcat:mapping") == fingerprint
    seen_ids: set[str] = set()
    for start in starts:
        yield from _harvest(context, _start_url(context, start), trust_memory, seen_ids)
    context.remember("dcat:mapping", fingerprint)


@dataclass
class _Step:
    """One page on its way: read (or its reading error), and its parse running or done."""

    url: str
    memory: dict[str, Any] | None = None
    page: Page | None = None
    digest: str | None = None
    error: SourceError | None = None
    fmt: str = ""
    future: Future[_Parsed] | None = None

    @property
    def unchanged(self) -> bool:
        return (
            self.memory is not None
            and self.page is not None
            and (self.page.data is None or self.digest == self.memory["sha256"])
        )

    def next_guess(self) -> str | None:
        """The next page as far as it can be known before parsing."""
        if self.unchanged:
            return self.memory.get("next") if self.memory else None
        if self.page is None or self.page.data is None:
            return None
        return _guess_next(self.page.data, self.page.base)


@dataclass
class _Parsed:
    """What a worker sends back for a page (errors as data: they are raised in order)."""

    resources: list[model.Resource]
    upgraded: dict[str, int]
    next_url: str | None
    error: tuple[str, str, str] | None = None


def _harvest(
    context: Context, start: str, trust_memory: bool, seen_ids: set[str]
) -> Iterator[Item]:
    """Follow the pages from ``start``. With worker processes, the pages after the current one
    are read and parsed ahead, guessing their addresses from the raw text; a guess is used only
    if the parsed page names the same next page, so the result is what reading one page after
    the other gives."""
    max_pages = int_option(context, "max_pages", DEFAULT_MAX_PAGES)
    local_start = start.startswith("file:")
    executor = pool()
    visited: set[str] = set()
    hashes: dict[str, str] = {}
    ahead: deque[_Step] = deque()
    url: str | None = start
    while url:
        if url in visited:
            raise SourceError(
                url,
                f"Endlosschleife beim Blättern: {url} wurde schon gelesen (hydra:next zeigt "
                "auf eine frühere Seite)",
                f"paging loop: {url} was read before (hydra:next points back to an earlier page)",
            )
        if len(visited) >= max_pages:
            raise SourceError(
                url,
                f"Mehr als {max_pages} Seiten; Abbruch (Option max_pages)",
                f"more than {max_pages} pages; stopped (option max_pages)",
            )
        visited.add(url)
        context.heartbeat()
        if ahead and ahead[0].url == url:
            step = ahead.popleft()
        else:  # no guess, or a wrong one: what was read ahead is dropped
            ahead.clear()
            step = _begin(context, url, trust_memory, executor)
        if executor is not None:
            _read_ahead(context, step, ahead, visited, trust_memory, executor)
        if step.error is not None:
            raise step.error
        assert step.page is not None
        key = f"dcat:page:{url}"
        if step.unchanged:
            memory = step.memory
            assert memory is not None
            for source_id in memory["ids"]:
                if source_id not in seen_ids:
                    seen_ids.add(source_id)
                    yield Unchanged(source_id)
            context.remember(
                key,
                memory
                | {
                    "etag": step.page.etag or memory.get("etag"),
                    "last_modified": step.page.last_modified or memory.get("last_modified"),
                },
            )
            url = _checked_next(memory.get("next"), url, local_start)
            continue
        if step.page.data is None:  # 304 without anything remembered
            raise SourceError(
                url,
                "Der Server antwortete 304 (nicht geändert), ohne dass eine frühere Fassung "
                "bekannt ist",
                "the server answered 304 Not Modified although no earlier copy is known",
            )
        assert step.digest is not None
        if step.digest in hashes:
            raise SourceError(
                url,
                f"Endlosschleife beim Blättern: {url} hat denselben Inhalt wie "
                f"{hashes[step.digest]}",
                f"paging loop: {url} has the same content as {hashes[step.digest]}",
            )
        hashes[step.digest] = url
        parsed = step.future.result() if step.future is not None else _parse_step(step)
        if parsed.error is not None:
            raise SourceError(*parsed.error)
        ids: list[str] = []
        for resource in parsed.resources:
            source_id = source_id_of(resource)
            ids.append(source_id)
            if source_id in seen_ids:
                continue  # listed on an earlier page as well: the first one counts
            seen_ids.add(source_id)
            report: dict[str, Any] = {"format": step.fmt}
            if parsed.upgraded:
                report["dcatde_upgrade"] = dict(parsed.upgraded)
            yield Harvested(
                source_id=source_id,
                record=resource,
                origin=url,
                source_modified=resource.modified,
                report=report,
            )
        context.remember(
            key,
            {
                "sha256": step.digest,
                "next": parsed.next_url,
                "ids": ids,
                "etag": step.page.etag,
                "last_modified": step.page.last_modified,
            },
        )
        url = _checked_next(parsed.next_url, url, local_start)


def _begin(
    context: Context, url: str, trust_memory: bool, executor: ProcessPoolExecutor | None
) -> _Step:
    """Read ``url`` and, where a worker is free, start parsing it."""
    step = _Step(url)
    memory = context.recall(f"dcat:page:{url}") if trust_memory else None
    step.memory = memory if _usable(context, memory) else None
    try:
        step.page = _read(context, url, step.memory)
        if step.page.data is not None:
            step.digest = hashlib.sha256(step.page.data).hexdigest()
            if not step.unchanged:
                step.fmt = _format(context, step.page)
                if executor is not None:
                    step.future = executor.submit(_parse_page, *_parse_args(step))
    except SourceError as exc:
        step.error = exc
    return step


def _read_ahead(
    context: Context,
    step: _Step,
    ahead: deque[_Step],
    visited: set[str],
    trust_memory: bool,
    executor: ProcessPoolExecutor,
) -> None:
    """Keep as many pages in flight as there are workers."""
    last = ahead[-1] if ahead else step
    while len(ahead) < READ_AHEAD and last.error is None:
        guess = last.next_guess()
        if not guess or guess in visited or guess == step.url or any(a.url == guess for a in ahead):
            return
        if urlsplit(guess).scheme.lower() not in ("http", "https"):
            return
        last = _begin(context, guess, trust_memory, executor)
        ahead.append(last)


def _parse_args(step: _Step) -> tuple[bytes, str, str, str, str]:
    assert step.page is not None and step.page.data is not None
    page = step.page
    source = unquote(urlsplit(page.base).path) if page.base.startswith("file:") else page.base
    return page.data, source, step.fmt, step.url, page.base


def _parse_step(step: _Step) -> _Parsed:
    return _parse_page(*_parse_args(step))


def _parse_page(data: bytes, source: str, fmt: str, url: str, base: str) -> _Parsed:
    """Parse, lift 2.0 to 3.0, read the records and the next link: the CPU-bound part of a
    page, run in a worker process where there is one."""
    try:
        try:
            graph = parse(Document(data, source, fmt))
        except InputError as exc:
            first = exc.problems[0]
            match = re.search(r", line (\d+)$", first.where)
            line_de = f", Zeile {match.group(1)}" if match else ""
            line_en = f", line {match.group(1)}" if match else ""
            return _Parsed(
                [],
                {},
                None,
                (
                    first.where,
                    f"RDF-Seite {url} nicht lesbar{line_de}: {first.de}",
                    f"cannot read RDF page {url}{line_en}: {first.en}",
                ),
            )
        upgraded = dict(upgrade_graph(graph))
        resources = read_graph(graph).resources
        return _Parsed(resources, upgraded, _next_link(graph, url, base))
    except SourceError as exc:
        return _Parsed([], {}, None, (exc.where, exc.message_de, exc.message_en))


_NEXT_PATTERNS = [
    re.compile(p)
    for p in (
        r"(?:hydra:next|hydra:nextPage|<http://www\.w3\.org/ns/hydra/core#next(?:Page)?>)"
        r"\s+[<\"]([^>\"\s]+)[>\"]",  # Turtle, N-Triples
        r"<hydra:next(?:Page)?\s+rdf:resource=\"([^\"]+)\"",  # RDF/XML
        r"<hydra:nextPage>([^<\s]+)</hydra:nextPage>",
        r"\"(?:hydra:next(?:Page)?|http://www\.w3\.org/ns/hydra/core#next(?:Page)?)\"\s*:"
        r"\s*(?:\[\s*)?(?:\{\s*\"@id\"\s*:\s*)?\"([^\"]+)\"",  # JSON-LD
    )
]


def _guess_next(data: bytes, base: str) -> str | None:
    """The next page's address read from the raw text, if it names exactly one; only a guess
    (checked against the parsed page before it is used)."""
    text = data[-65536:].decode("utf-8", "replace") + data[:65536].decode("utf-8", "replace")
    found = {urljoin(base, m.group(1)) for p in _NEXT_PATTERNS for m in p.finditer(text)}
    return found.pop() if len(found) == 1 else None


def int_option(context: Context, key: str, default: int) -> int:
    """A positive whole number from the source file's ``options``."""
    value = context.config.options.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SourceError(
            f"options.{key}",
            f"Die Einstellung {key} muss eine ganze Zahl größer 0 sein, nicht {value!r}",
            f"option {key} must be a whole number above 0, not {value!r}",
        )
    return value


def source_id_of(resource: model.Resource) -> str:
    """The record's IRI; for a blank node its dct:identifier, else a hash of its content."""
    if resource.uri:
        return resource.uri
    if resource.identifier:
        return resource.identifier[0]
    content = json.dumps(resource.to_dict(), sort_keys=True, ensure_ascii=False)
    return "urn:sha256:" + hashlib.sha256(content.encode()).hexdigest()


def _fingerprint(context: Context) -> str:
    """What the remembered pages depend on besides their bytes."""
    config = context.config
    data = {
        "version": MAPPING_VERSION,
        "format": config.options.get("format"),
        "organization": config.organization,
        "defaults": repr(config.defaults),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _usable(context: Context, memory: Any) -> bool:
    """A remembered page is trusted only if every record on it is stored and active."""
    if not isinstance(memory, dict) or not isinstance(memory.get("ids"), list):
        return False
    if not isinstance(memory.get("sha256"), str):
        return False
    for source_id in memory["ids"]:
        previous = context.previous(source_id)
        if previous is None or not previous.active:
            return False
    return True


# --- reading pages -----------------------------------------------------------------------


def _start_url(context: Context, location: str) -> str:
    if location.startswith(("http://", "https://", "file:")):
        return location
    path = context.config.resolve(location)
    return path.resolve().as_uri()


def _read(context: Context, url: str, memory: dict[str, Any] | None) -> Page:
    limit = int_option(context, "max_bytes", DEFAULT_MAX_BYTES)
    if url.startswith("file:"):
        return _read_file(url, limit)
    headers = {"Accept": ACCEPT}
    if memory is not None:
        if memory.get("etag"):
            headers["If-None-Match"] = memory["etag"]
        if memory.get("last_modified"):
            headers["If-Modified-Since"] = memory["last_modified"]
    response = context.get(url, headers=headers)
    if response.status_code == 304:
        return Page(url, None)
    if response.status_code != 200:
        raise SourceError(
            url,
            f"Unerwartete Antwort HTTP {response.status_code} beim Abruf von {url}",
            f"unexpected response HTTP {response.status_code} fetching {url}",
        )
    data = response.content
    expected = response.headers.get("Content-Length")
    encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
    if expected and expected.isdigit() and not encoded and int(expected) != len(data):
        raise SourceError(
            url,
            f"Verbindung abgebrochen: von {url} kamen {len(data)} statt {expected} Bytes",
            f"connection dropped: {url} sent {len(data)} of {expected} bytes",
        )
    if len(data) > limit:
        raise _too_large(url, len(data), limit)
    media = (response.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    if media in ("text/html", "application/xhtml+xml"):
        raise SourceError(
            url,
            f"{url} lieferte eine HTML-Seite statt RDF (falsche Adresse oder Anmeldeseite?)",
            f"{url} returned an HTML page instead of RDF (wrong address or a login page?)",
        )
    return Page(
        url,
        data,
        media,
        response.headers.get("ETag"),
        response.headers.get("Last-Modified"),
        response.url or url,
    )


def _read_file(url: str, limit: int) -> Page:
    path = Path(unquote(urlsplit(url).path))
    try:
        size = path.stat().st_size
        if size > limit:
            raise _too_large(url, size, limit)
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(
            str(path),
            f"Datei {path} kann nicht gelesen werden: {exc.strerror or exc}",
            f"cannot read file {path}: {exc.strerror or exc}",
        ) from exc
    return Page(url, data)


def _too_large(url: str, size: int, limit: int) -> SourceError:
    return SourceError(
        url,
        f"Seite {url} ist zu groß ({size:,} Bytes, höchstens {limit:,}; Option max_bytes)",
        f"page {url} is too large ({size:,} bytes, at most {limit:,}; option max_bytes)",
    )


def _format(context: Context, page: Page) -> str:
    forced = context.config.options.get("format")
    if forced:
        if forced not in FORMATS:
            raise SourceError(
                context.config.name,
                f"Unbekanntes RDF-Format {forced!r}; möglich: {', '.join(FORMATS)}",
                f"unknown RDF format {forced!r}; use one of {', '.join(FORMATS)}",
            )
        return str(forced)
    if page.media_type not in _GENERIC_MEDIA and page.media_type in MEDIA_TYPES:
        return MEDIA_TYPES[page.media_type]
    name = urlsplit(page.base).path.rsplit("/", 1)[-1]
    return format_for(name, data=page.data or b"")


# --- paging ------------------------------------------------------------------------------


def _next_link(graph: Graph, url: str, base: str) -> str | None:
    """The page after ``url`` (read from ``base``): hydra:next or hydra:nextPage, an IRI or
    (as ckanext-dcat writes it) a literal."""
    found: dict[str, str] = {}  # subject -> next
    for predicate in NEXT_PREDICATES:
        for subject, value in graph.subject_objects(predicate):
            if isinstance(value, URIRef | Literal) and str(value).strip():
                found.setdefault(str(subject), urljoin(base, str(value).strip()))
    if not found:
        return None
    for own in (url, base):
        if own in found:
            return found[own]
    views = {str(s) for t in VIEW_TYPES for s in graph.subjects(RDF.type, t)}
    candidates = {v for s, v in found.items() if s in views} or set(found.values())
    if len(candidates) > 1:
        raise SourceError(
            url,
            f"Mehrdeutiges Blättern: die Seite nennt mehrere nächste Seiten ({sorted(candidates)})",
            f"ambiguous paging: the page names several next pages ({sorted(candidates)})",
        )
    return candidates.pop()


def _checked_next(next_url: str | None, url: str, local_start: bool) -> str | None:
    if not next_url:
        return None
    scheme = urlsplit(next_url).scheme.lower()
    if scheme in ("http", "https") or (scheme == "file" and local_start):
        return next_url
    raise SourceError(
        url,
        f"Die nächste Seite {next_url} hat eine nicht erlaubte Adresse (nur http, https; "
        "file nur bei lokalen Startdateien)",
        f"the next page {next_url} has an address that is not allowed (http or https only; "
        "file only when the start is a local file)",
    )
