"""RDF/XML and JSON-LD fragments of one record, written at save time like the Turtle fragment,
so that a whole-catalogue export joins fragments instead of re-parsing and re-serialising
every record with rdflib (which ran at about 300 records/s)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node as Term

from catalog.namespaces import PREFIXES

Triple = tuple[Term, Term, Term]
_NAMESPACES = sorted(((str(ns), p) for p, ns in PREFIXES.items()), key=lambda x: -len(x[0]))
_NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
# characters XML 1.0 cannot carry at all
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _split(predicate: str) -> tuple[str, str]:
    """(namespace, local name) with a local name that is a valid XML name."""
    for i in range(len(predicate) - 1, -1, -1):
        if predicate[i] in "#/:" and _NCNAME.match(predicate[i + 1 :]):
            return predicate[: i + 1], predicate[i + 1 :]
    raise ValueError(f"{predicate} cannot be written as an RDF/XML element")


def _qname(predicate: str) -> tuple[str, str | None]:
    """A prefixed element name, and the namespace to declare when it has no fixed prefix."""
    namespace, local = _split(predicate)
    for ns, prefix in _NAMESPACES:
        if ns == namespace:
            return f"{prefix}:{local}", None
    return f"ns0:{local}", namespace


def _node_attr(term: Term, name: str) -> str:
    if isinstance(term, BNode):
        return f"rdf:nodeID={quoteattr(str(term))}"
    return f"rdf:{name}={quoteattr(str(term))}"


def xml_fragment(triples: Iterable[Triple]) -> str:
    """``rdf:Description`` elements for the triples (to go inside an ``rdf:RDF`` root that
    declares ODApp's fixed prefixes)."""
    by_subject: dict[Term, list[tuple[Term, Term]]] = defaultdict(list)
    for s, p, o in triples:
        by_subject[s].append((p, o))
    out: list[str] = []
    for subject in sorted(by_subject, key=lambda t: (isinstance(t, BNode), str(t))):
        out.append(f"  <rdf:Description {_node_attr(subject, 'about')}>\n")
        for p, o in sorted(by_subject[subject], key=lambda po: (str(po[0]), str(po[1]))):
            name, declare = _qname(str(p))
            attrs = f' xmlns:ns0="{escape(declare)}"' if declare else ""
            if isinstance(o, Literal):
                if o.language:
                    attrs += f" xml:lang={quoteattr(o.language)}"
                elif o.datatype is not None:
                    attrs += f" rdf:datatype={quoteattr(str(o.datatype))}"
                text = escape(
                    _XML_INVALID.sub("\ufffd", str(o)), {"\r": "&#13;"}
                )  # kept by parsers
                out.append(f"    <{name}{attrs}>{text}</{name}>\n")
            else:
                out.append(f"    <{name}{attrs} {_node_attr(o, 'resource')}/>\n")
        out.append("  </rdf:Description>\n")
    return "".join(out)


def _jsonld_value(term: Term) -> dict[str, Any]:
    if isinstance(term, BNode):
        return {"@id": f"_:{term}"}
    if isinstance(term, URIRef):
        return {"@id": str(term)}
    assert isinstance(term, Literal)
    value: dict[str, Any] = {"@value": str(term)}
    if term.language:
        value["@language"] = term.language
    elif term.datatype is not None:
        value["@type"] = str(term.datatype)
    return value


def jsonld_nodes(triples: Iterable[Triple]) -> list[dict[str, Any]]:
    """The triples as expanded, flattened JSON-LD node objects (no context needed)."""
    nodes: dict[Term, dict[str, Any]] = {}
    for s, p, o in sorted(triples, key=lambda t: (str(t[0]), str(t[1]), str(t[2]))):
        node = nodes.setdefault(s, {"@id": f"_:{s}" if isinstance(s, BNode) else str(s)})
        if p == RDF.type and isinstance(o, URIRef):
            node.setdefault("@type", []).append(str(o))
        else:
            node.setdefault(str(p), []).append(_jsonld_value(o))
    return list(nodes.values())


def jsonld_fragment(triples: Iterable[Triple]) -> str:
    """Node objects joined by commas, to go inside a top-level ``@graph`` array."""
    return ",\n".join(json.dumps(n, ensure_ascii=False) for n in jsonld_nodes(triples))
