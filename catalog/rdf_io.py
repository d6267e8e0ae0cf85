"""Reading RDF documents safely (size limits, no XML entities from outside, no remote JSON-LD
contexts) and writing graphs in every supported syntax."""

from __future__ import annotations

import json
import re
import urllib.request
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from rdflib import Graph

from catalog.errors import InputError, InputTooLarge, problem
from catalog.namespaces import bind_prefixes

DEFAULT_MAX_BYTES = 100 * 1024 * 1024

# format name -> (rdflib parser/serializer, media type, file extension)
FORMATS: dict[str, tuple[str, str, str]] = {
    "turtle": ("turtle", "text/turtle", "ttl"),
    "xml": ("xml", "application/rdf+xml", "rdf"),
    "json-ld": ("json-ld", "application/ld+json", "jsonld"),
    "nt": ("nt", "application/n-triples", "nt"),
}
EXTENSIONS = {
    "ttl": "turtle",
    "turtle": "turtle",
    "rdf": "xml",
    "xml": "xml",
    "owl": "xml",
    "jsonld": "json-ld",
    "json": "json-ld",
    "nt": "nt",
}
MEDIA_TYPES = {media: name for name, (_, media, _) in FORMATS.items()} | {
    "application/xml": "xml",
    "text/xml": "xml",
    "application/json": "json-ld",
    "text/n3": "turtle",
    "application/x-turtle": "turtle",
}

# Remote JSON-LD contexts we ship a copy of; any other remote context is refused.
_KNOWN_CONTEXTS = {
    "https://semiceu.github.io/DCAT-AP/releases/3.0.1/context/dcat-ap.jsonld": (
        "dcat-ap-3.0.1.jsonld"
    ),
}


@dataclass
class Document:
    data: bytes
    source: str
    format: str

    @property
    def base(self) -> str:
        """Relative IRIs resolve against the document's own address."""
        if self.source.startswith(("http://", "https://")):
            return self.source
        return Path(self.source).resolve().as_uri()


def format_for(name: str | None = None, media_type: str | None = None, data: bytes = b"") -> str:
    """Guess the syntax from a file name, then a media type, then the first bytes."""
    if name:
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if ext in EXTENSIONS:
            return EXTENSIONS[ext]
    if media_type:
        base = media_type.split(";", 1)[0].strip().lower()
        if base in MEDIA_TYPES:
            return MEDIA_TYPES[base]
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") and not head.startswith(b"<http"):
        return "xml"
    if head[:1] in (b"{", b"["):
        return "json-ld"
    return "turtle"


def read_path(
    path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, fmt: str | None = None
) -> Document:
    p = Path(path)
    if not p.is_file():
        raise InputError([problem(str(p), "file", "Datei nicht gefunden", "file not found")])
    size = p.stat().st_size
    if size > max_bytes:
        raise _too_large(str(p), size, max_bytes)
    data = p.read_bytes()
    return Document(data, str(p), fmt or format_for(p.name, data=data))


def read_url(
    url: str, *, max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = 30, fmt: str | None = None
) -> Document:
    if not url.startswith(("http://", "https://")):
        raise InputError(
            [problem(url, "url", "Nur http- und https-Adressen", "only http and https URLs")]
        )
    accept = "text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8, */*;q=0.1"
    request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": "ODApp"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
            length = int(response.headers.get("Content-Length") or 0)
            if length > max_bytes:
                raise _too_large(url, length, max_bytes)
            data = response.read(max_bytes + 1)
            media = response.headers.get("Content-Type")
    except InputError:
        raise
    except Exception as exc:  # network errors of every kind end up here
        raise InputError(
            [problem(url, "url", f"Abruf fehlgeschlagen: {exc}", f"fetch failed: {exc}")]
        ) from exc
    if len(data) > max_bytes:
        raise _too_large(url, len(data), max_bytes)
    return Document(data, url, fmt or format_for(url.split("?", 1)[0], media, data))


def _too_large(where: str, size: int, limit: int) -> InputTooLarge:
    return InputTooLarge(
        [
            problem(
                where,
                "size",
                f"Dokument zu groß ({size:,} Bytes, höchstens {limit:,} erlaubt)",
                f"document too large ({size:,} bytes, at most {limit:,} allowed)",
            )
        ]
    )


def parse(doc: Document) -> Graph:
    """Parse a document into a new graph.

    Syntax errors name the source and, where known, the line.
    """
    if doc.format not in FORMATS:
        raise InputError(
            [
                problem(
                    doc.source,
                    "format",
                    f"Unbekanntes Format {doc.format}",
                    f"unknown format {doc.format}",
                )
            ]
        )
    graph = Graph()
    data: Any = doc.data
    if doc.format == "xml":
        check_xml(doc.data, doc.source)
    if doc.format == "json-ld":
        data = _local_contexts(doc.data, doc.source)
    try:
        graph.parse(data=data, format=FORMATS[doc.format][0], publicID=doc.base)
    except Exception as exc:  # rdflib raises many types; all mean "cannot read this"
        raise InputError([_syntax_problem(doc, exc)]) from exc
    return graph


def _syntax_problem(doc: Document, exc: Exception) -> Any:
    text = " ".join(str(exc).split())[:400]
    line = getattr(exc, "lines", None) or getattr(exc, "getLineNumber", lambda: None)()
    if line is None:
        match = re.search(r"line (\d+)", text)
        line = int(match.group(1)) if match else None
    where = f"{doc.source}, line {line}" if line else doc.source
    return problem(
        where,
        f"syntax:{doc.format}",
        f"Syntaxfehler ({doc.format}): {text}",
        f"syntax error ({doc.format}): {text}",
    )


_DOCTYPE = re.compile(rb"<!DOCTYPE\s[^\[>]*(\[(?P<subset>.*?)\])?\s*>", re.S)
_ENTITY = re.compile(rb"<!ENTITY\s+(?P<pe>%\s+)?(?P<name>[^\s]+)\s+(?P<rest>.*?)>", re.S)
_MAX_EXPANSION = 1_000_000


def check_xml(data: bytes, source: str) -> None:
    """Refuse external entities, parameter entities and entity expansion bombs before parsing.

    Internal entities that only abbreviate namespaces (as OWL files use them) are allowed.
    """
    head = data[:65536]
    if b"<!DOCTYPE" not in head and b"<!ENTITY" not in data[:1_000_000]:
        return
    match = _DOCTYPE.search(data[:1_000_000])
    subset = match.group("subset") or b"" if match else b""
    if match and b"SYSTEM" in data[match.start() : match.start() + 200].split(b"[", 1)[0]:
        raise _xml_refused(source, "external DTD", "externe DTD")
    expansion = 0
    for entity in _ENTITY.finditer(subset or data[:1_000_000]):
        name, rest = entity.group("name").decode(errors="replace"), entity.group("rest")
        if entity.group("pe"):
            raise _xml_refused(source, f"parameter entity '{name}'", f"Parameter-Entity '{name}'")
        if rest.lstrip().startswith((b"SYSTEM", b"PUBLIC")):
            raise _xml_refused(source, f"external entity '{name}'", f"externe Entity '{name}'")
        if b"&" in rest or b"%" in rest:
            raise _xml_refused(
                source,
                f"nested entity '{name}' (expansion bomb)",
                f"verschachtelte Entity '{name}' (Expansionsbombe)",
            )
        uses = data.count(b"&" + entity.group("name") + b";")
        expansion += uses * len(rest)
        if expansion > _MAX_EXPANSION:
            raise _xml_refused(source, "entity expansion too large", "Entity-Expansion zu groß")


def _xml_refused(source: str, what_en: str, what_de: str) -> InputError:
    return InputError(
        [
            problem(
                source,
                "xml-entities",
                f"RDF/XML abgelehnt: {what_de} wird aus Sicherheitsgründen nicht aufgelöst",
                f"RDF/XML refused: {what_en} is never resolved, for security",
            )
        ]
    )


def _local_contexts(data: bytes, source: str) -> str:
    """Replace remote @context references by shipped copies; refuse unknown remote contexts."""
    try:
        doc = json.loads(data)
    except ValueError as exc:
        where = f"{source}, line {getattr(exc, 'lineno', '?')}"
        raise InputError(
            [problem(where, "syntax:json-ld", f"Ungültiges JSON: {exc}", f"invalid JSON: {exc}")]
        ) from exc

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                out[key] = _context(value, source) if key == "@context" else fix(value)
            return out
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    return json.dumps(fix(doc))


def _context(value: Any, source: str) -> Any:
    if isinstance(value, list):
        return [_context(v, source) for v in value]
    if isinstance(value, str):
        if value in _KNOWN_CONTEXTS:
            return shipped_context(_KNOWN_CONTEXTS[value])["@context"]
        raise InputError(
            [
                problem(
                    source,
                    "json-ld-context",
                    f"Entfernter JSON-LD-Kontext {value} wird nicht geladen; "
                    "bitte den Kontext einbetten",
                    f"remote JSON-LD context {value} is not fetched; embed the context instead",
                )
            ]
        )
    return value


@cache
def shipped_context(name: str) -> dict[str, Any]:
    text = resources.files("catalog").joinpath("resources", "jsonld", name).read_text("utf-8")
    return json.loads(text)


# --- writing --------------------------------------------------------------------------------


def serialize(graph: Graph, fmt: str) -> str:
    """Serialise a (small) graph; big catalogue exports go through catalog.export instead."""
    bind_prefixes(graph)
    if fmt == "json-ld":
        return graph.serialize(format="json-ld", context=jsonld_context(), auto_compact=True)
    return graph.serialize(format=FORMATS[fmt][0])


@cache
def jsonld_context() -> dict[str, str]:
    from catalog.namespaces import PREFIXES

    return {prefix: str(ns) for prefix, ns in PREFIXES.items()}
