"""Boolean filter expressions for search (what a CKAN ``fq`` becomes).

Fields: the facets of ``catalog.search_index.FACETS`` (exact values), ``name``, ``id`` (the
record's uuid), ``uri``, and the ranges ``metadata_modified``, ``metadata_created`` (timestamps
of the record in this catalogue), ``modified``, ``issued`` (dct dates as given) and
``temporal_start`` / ``temporal_end``. ``*`` as a value matches any value; ``None`` as a range
end means open.
"""

from __future__ import annotations

from dataclasses import dataclass

RANGE_FIELDS = frozenset(
    {
        "metadata_modified",
        "metadata_created",
        "modified",
        "issued",
        "temporal_start",
        "temporal_end",
    }
)


@dataclass(frozen=True)
class Term:
    field: str
    value: str  # "*": the field has any value


@dataclass(frozen=True)
class Range:
    field: str
    low: str | None  # inclusive; None: open
    high: str | None


@dataclass(frozen=True)
class Not:
    expr: Expr


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class MatchAll:
    """``*:*``"""


Expr = Term | Range | Not | And | Or | MatchAll
