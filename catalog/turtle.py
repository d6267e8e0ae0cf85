"""A streaming-friendly Turtle writer for one record's triples.

rdflib's Turtle serialiser slows down worse than linearly with graph size, so the catalogue keeps
one Turtle fragment per record (no @prefix lines, globally unique blank node labels) and a
catalogue document is the fixed prefix header followed by the fragments.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node as Term

from catalog.namespaces import PREFIXES

_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_BY_LENGTH = sorted(((str(ns), p) for p, ns in PREFIXES.items()), key=lambda x: -len(x[0]))


@lru_cache(maxsize=100_000)  # properties and vocabulary IRIs repeat in every record
def iri(term: URIRef) -> str:
    text = str(term)
    for ns, prefix in _BY_LENGTH:
        if text.startswith(ns):
            local = text[len(ns) :]
            if _LOCAL.match(local):
                return f"{prefix}:{local}"
            break
    return term.n3()


def _literal(term: Literal) -> str:
    if term.datatype is not None and not term.language:
        lexical = Literal(str(term)).n3()  # quoting and escaping of the lexical form
        return f"{lexical}^^{iri(term.datatype)}"
    return term.n3()


def fragment(graph: Graph | Iterable[tuple[Term, Term, Term]]) -> str:
    """Turtle statements for every triple of ``graph``; single-use blank nodes are nested."""
    by_subject: dict[Term, list[tuple[Term, Term]]] = defaultdict(list)
    for s, p, o in graph:
        by_subject[s].append((p, o))
    uses = Counter(o for _, _, o in graph if isinstance(o, BNode))
    emitted: set[Term] = set()
    out: list[str] = []

    def term(o: Term, indent: str, visiting: set[Term]) -> str:
        if isinstance(o, BNode) and uses[o] == 1 and o not in emitted and o not in visiting:
            if o not in by_subject:
                emitted.add(o)
                return "[]"
            emitted.add(o)
            inner = indent + "    "
            return "[\n" + inner + body(o, inner, visiting | {o}) + "\n" + indent + "]"
        if isinstance(o, URIRef):
            return iri(o)
        if isinstance(o, Literal):
            return _literal(o)
        return f"_:{o}"

    def body(s: Term, indent: str, visiting: set[Term]) -> str:
        grouped: dict[Term, list[Term]] = defaultdict(list)
        for p, o in by_subject[s]:
            grouped[p].append(o)
        parts = []
        for p in sorted(grouped, key=lambda x: (x != RDF.type, str(x))):
            name = "a" if p == RDF.type else iri(p)
            objects = sorted(grouped[p], key=lambda x: (type(x).__name__, str(x)))
            parts.append(name + " " + ", ".join(term(o, indent, visiting) for o in objects))
        return (" ;\n" + indent).join(parts)

    roots = [s for s in by_subject if not (isinstance(s, BNode) and uses[s] == 1)]
    for s in sorted(roots, key=lambda x: (isinstance(x, BNode), str(x))):
        emitted.add(s)
        subject = iri(s) if isinstance(s, URIRef) else f"_:{s}"
        out.append(subject + " " + body(s, "    ", {s}) + " .\n")
    for s in by_subject:  # blank nodes only reachable through a cycle
        if s not in emitted:
            emitted.add(s)
            out.append(f"_:{s} " + body(s, "    ", {s}) + " .\n")
    return "\n".join(out)
