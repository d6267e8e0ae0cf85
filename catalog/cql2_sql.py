"""CQL2 (as parsed by pygeofilter) translated to SQLAlchemy expressions over a data-store table.

Every value becomes a bound parameter, never SQL text, so a filter cannot inject SQL. A node we
cannot translate exactly is refused with :class:`FilterError` (HTTP 400); nothing is ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import shapely
from pygeofilter import ast, values
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    Table,
    and_,
    bindparam,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

from catalog.data_tables import StoredColumn, rtree_name
from catalog.errors import CatalogError
from catalog.sqlite_spatial import PREDICATES


class FilterError(CatalogError):
    """A filter (CQL2, bbox, datetime, property) that cannot be applied; nothing was run."""

    status = 400


def refuse(what: str, de: str, en: str) -> FilterError:
    return FilterError.one(f"filter: {what}", "filter", de, en)


_SPATIAL = {
    ast.GeometryIntersects: "intersects",
    ast.GeometryDisjoint: "disjoint",
    ast.GeometryContains: "contains",
    ast.GeometryWithin: "within",
    ast.GeometryTouches: "touches",
    ast.GeometryCrosses: "crosses",
    ast.GeometryOverlaps: "overlaps",
    ast.GeometryEquals: "equals",
}
_POSTGIS = {op: f"ST_{op.capitalize()}" for op in PREDICATES}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Equal: lambda a, b: a == b,
    ast.NotEqual: lambda a, b: a != b,
    ast.LessThan: lambda a, b: a < b,
    ast.LessEqual: lambda a, b: a <= b,
    ast.GreaterThan: lambda a, b: a > b,
    ast.GreaterEqual: lambda a, b: a >= b,
}
_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mul: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}
GEOMETRY_NAMES = ("geometry", "geom", "the_geom")


def iso_utc(value: dt.datetime) -> str:
    """A datetime as fixed-width UTC text: on SQLite, text order is then time order."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FilterTranslator:
    """Builds WHERE clauses for one table; ``columns`` maps source names to stored columns."""

    def __init__(
        self, table: Table, columns: list[StoredColumn], dialect: str, *, geometry: bool
    ) -> None:
        self.table = table
        self.columns = {c.name: c for c in columns}
        self.dialect = dialect
        self.geometry = geometry

    # --- entry points -------------------------------------------------------------------

    def translate(self, node: Any) -> ColumnElement[bool]:
        expr = self._node(node)
        if not isinstance(expr, ColumnElement):
            raise refuse(repr(node), "Ausdruck ist keine Bedingung.", "not a condition")
        return expr

    def bbox(self, minx: float, miny: float, maxx: float, maxy: float) -> ColumnElement[bool]:
        """Features whose geometry intersects the box (CRS84)."""
        return self._spatial("intersects", shapely.box(minx, miny, maxx, maxy))

    def intersects(self, shape: Any) -> ColumnElement[bool]:
        """Features whose geometry intersects ``shape`` (a shapely geometry in CRS84)."""
        return self._spatial("intersects", shape)

    def column(self, name: str) -> tuple[ColumnElement[Any], StoredColumn]:
        col = self.columns.get(name)
        if col is None:
            known = ", ".join(sorted(self.columns)) or "-"
            raise FilterError.one(
                f"filter: {name}",
                "unknown-property",
                f"Unbekannte Eigenschaft '{name}'. Abfragbar sind: {known}",
                f"Unknown property '{name}'. Queryables: {known}",
            )
        return self.table.c[col.sql], col

    def literal_for(self, col: StoredColumn, value: Any, where: str) -> Any:
        """``value`` converted to the column's type (a wrong type is refused, not compared)."""
        try:
            return self._coerce(col.type, value)
        except (ValueError, TypeError):
            raise FilterError.one(
                f"filter: {where}",
                "type",
                f"'{value}' passt nicht zum Typ {col.type} der Eigenschaft '{col.name}'.",
                f"'{value}' does not match the type {col.type} of property '{col.name}'.",
            ) from None

    # --- nodes --------------------------------------------------------------------------

    def _node(self, node: Any) -> Any:  # noqa: C901 - one dispatch over the CQL2 node kinds
        if isinstance(node, ast.And):
            return and_(self.translate(node.lhs), self.translate(node.rhs))
        if isinstance(node, ast.Or):
            return or_(self.translate(node.lhs), self.translate(node.rhs))
        if isinstance(node, ast.Not):
            return not_(self.translate(node.sub_node))
        if isinstance(node, ast.Include):
            return false() if node.not_ else true()
        if type(node) in _COMPARE:
            lhs, rhs = self._pair(node.lhs, node.rhs)
            return _COMPARE[type(node)](lhs, rhs)
        if isinstance(node, ast.Between):
            lhs, low = self._pair(node.lhs, node.low)
            _, high = self._pair(node.lhs, node.high)
            expr = lhs.between(low, high)
            return not_(expr) if node.not_ else expr
        if isinstance(node, ast.Like):
            return self._like(node)
        if isinstance(node, ast.In):
            col, stored = self._attribute(node.lhs)
            items = [self.literal_for(stored, v, stored.name) for v in node.sub_nodes]
            expr = col.in_(items)
            return not_(expr) if node.not_ else expr
        if isinstance(node, ast.IsNull):
            if isinstance(node.lhs, ast.Attribute) and self._is_geometry(node.lhs.name):
                col = self.table.c.geom
            else:
                col, _ = self._attribute(node.lhs)
            return col.is_not(None) if node.not_ else col.is_(None)
        if type(node) in _SPATIAL:
            return self._spatial_node(_SPATIAL[type(node)], node.lhs, node.rhs)
        if isinstance(node, ast.BBox):
            self._geometry_attribute(node.lhs)
            return self.bbox(node.minx, node.miny, node.maxx, node.maxy)
        if isinstance(node, ast.TemporalPredicate):
            return self._temporal(node)
        if isinstance(node, ast.Attribute):
            col, stored = self._attribute(node)
            if stored.type != "boolean":
                raise refuse(node.name, "Eigenschaft ist kein Wahrheitswert.", "not a boolean")
            return col.is_(True)
        if isinstance(node, bool):
            return true() if node else false()
        name = type(node).__name__
        raise FilterError.one(
            f"filter: {name}",
            "unsupported",
            f"Dieser Filterausdruck wird nicht unterstützt: {name}",
            f"This filter expression is not supported: {name}",
        )

    def _is_geometry(self, name: str) -> bool:
        return self.geometry and name.lower() in GEOMETRY_NAMES and name not in self.columns

    def _attribute(self, node: Any) -> tuple[ColumnElement[Any], StoredColumn]:
        if isinstance(node, ast.Function) and node.name == "lower" and len(node.arguments) == 1:
            col, stored = self._attribute(node.arguments[0])
            return func.lower(col), stored
        if not isinstance(node, ast.Attribute):
            raise refuse(repr(node), "Links muss eine Eigenschaft stehen.", "expected a property")
        return self.column(node.name)

    def _value(self, node: Any, stored: StoredColumn | None) -> Any:
        """A literal, arithmetic or a property as an SQL expression."""
        if isinstance(node, ast.Attribute):
            return self.column(node.name)[0]
        if type(node) in _ARITHMETIC:
            return _ARITHMETIC[type(node)](
                self._value(node.lhs, stored), self._value(node.rhs, stored)
            )
        if isinstance(node, ast.Function) and node.name == "lower" and len(node.arguments) == 1:
            inner = node.arguments[0]
            if isinstance(inner, str):
                return literal(inner.lower())
            return func.lower(self._value(inner, stored))
        if isinstance(node, ast.Node):
            raise refuse(repr(node), "Nicht unterstützter Ausdruck.", "unsupported expression")
        if stored is not None:
            return literal(self.literal_for(stored, node, stored.name))
        if isinstance(node, str | int | float | bool):
            return literal(node)
        raise refuse(repr(node), "Nicht unterstützter Wert.", "unsupported value")

    def _pair(self, lhs: Any, rhs: Any) -> tuple[Any, Any]:
        stored = self._stored_of(lhs) or self._stored_of(rhs)
        return self._value(lhs, stored), self._value(rhs, stored)

    def _stored_of(self, node: Any) -> StoredColumn | None:
        if isinstance(node, ast.Attribute):
            return self.column(node.name)[1]
        if isinstance(node, ast.Function) and node.arguments:
            return self._stored_of(node.arguments[0])
        if isinstance(node, ast.Arithmetic):
            return self._stored_of(node.lhs) or self._stored_of(node.rhs)
        return None

    def _coerce(self, kind: str, value: Any) -> Any:
        if isinstance(value, ast.Node):
            raise TypeError(value)
        if kind == "integer":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise TypeError(value)
            return int(value)
        if kind == "number":
            if isinstance(value, bool):
                raise TypeError(value)
            return float(value)
        if kind == "boolean":
            if isinstance(value, str):
                if value.lower() not in ("true", "false"):
                    raise ValueError(value)
                return value.lower() == "true"
            if not isinstance(value, bool):
                raise TypeError(value)
            return value
        if kind == "date":
            if isinstance(value, dt.datetime):
                value = value.date()
            elif isinstance(value, str):
                value = dt.date.fromisoformat(value)
            if not isinstance(value, dt.date):
                raise TypeError(value)
            return value.isoformat() if self.dialect == "sqlite" else value
        if kind == "datetime":
            if isinstance(value, str):
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                value = dt.datetime.combine(value, dt.time(), dt.UTC)
            if not isinstance(value, dt.datetime):
                raise TypeError(value)
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            return iso_utc(value) if self.dialect == "sqlite" else value
        if not isinstance(value, str):
            if isinstance(value, bool | int | float):
                return str(value)
            raise TypeError(value)
        return value

    def _like(self, node: ast.Like) -> ColumnElement[bool]:
        col, stored = self._attribute(node.lhs)
        pattern = node.pattern
        lowered = isinstance(pattern, ast.Function) and pattern.name == "lower"
        if lowered:
            pattern = pattern.arguments[0]
        if not isinstance(pattern, str):
            raise refuse("LIKE", "Muster muss eine Zeichenkette sein.", "pattern must be a string")
        if lowered or node.nocase:
            pattern = pattern.lower()
            col = func.lower(col) if not lowered and node.nocase else col
        if self.dialect == "sqlite":
            # SQLite's LIKE ignores case; CQL2's does not, so GLOB does the matching
            expr = col.op("GLOB")(literal(_like_to_glob(pattern)))
        else:
            expr = col.like(literal(pattern), escape="\\")
        return not_(expr) if node.not_ else expr

    # --- geometry -----------------------------------------------------------------------

    def _geometry_attribute(self, node: Any) -> None:
        if not (isinstance(node, ast.Attribute) and self._is_geometry(node.name)):
            raise refuse(
                repr(node),
                "Räumliche Filter brauchen die Geometrie (geometry) als Operanden.",
                "Spatial filters need the geometry (geometry) as an operand.",
            )

    def _spatial_node(self, op: str, lhs: Any, rhs: Any) -> ColumnElement[bool]:
        if isinstance(rhs, ast.Attribute) and not isinstance(lhs, ast.Attribute):
            lhs, rhs = rhs, lhs
            op = {"within": "contains", "contains": "within"}.get(op, op)
        self._geometry_attribute(lhs)
        if isinstance(rhs, ast.Function) and rhs.name == "bbox" and len(rhs.arguments) == 4:
            shape = shapely.box(*[float(a) for a in rhs.arguments])
        elif isinstance(rhs, values.Geometry | values.Envelope):
            try:
                shape = shapely.geometry.shape(rhs.geometry)
            except (ValueError, TypeError, shapely.errors.ShapelyError) as exc:
                raise refuse(
                    "geometry", f"Ungültige Geometrie: {exc}", f"invalid geometry: {exc}"
                ) from None
        else:
            raise refuse(repr(rhs), "Rechts muss eine Geometrie stehen.", "expected a geometry")
        return self._spatial(op, shape)

    def _spatial(self, op: str, shape: Any) -> ColumnElement[bool]:
        if not self.geometry:
            raise refuse(
                "geometry",
                "Diese Sammlung hat keine Geometrie.",
                "This collection has no geometry.",
            )
        wkb = shapely.to_wkb(shape)
        geom = self.table.c.geom
        if self.dialect == "postgresql":
            query = func.ST_GeomFromWKB(bindparam(None, wkb), 4326)
            return getattr(func, _POSTGIS[op])(geom, query)
        exact = func.odapp_spatial(op, geom, bindparam(None, wkb)) == 1
        if op == "disjoint":
            return exact
        minx, miny, maxx, maxy = shape.bounds
        rtree = _rtree(self.table)
        candidates = select(rtree.c.id).where(
            rtree.c.maxx >= minx, rtree.c.minx <= maxx, rtree.c.maxy >= miny, rtree.c.miny <= maxy
        )
        return and_(self.table.c.fid.in_(candidates), exact)

    # --- time ---------------------------------------------------------------------------

    def _temporal(self, node: ast.TemporalPredicate) -> ColumnElement[bool]:
        col, stored = self._attribute(node.lhs)
        if stored.type not in ("date", "datetime"):
            raise refuse(
                stored.name, "Eigenschaft ist keine Zeitangabe.", "property is not temporal"
            )
        start, end = _bounds(node.rhs)
        lo = self.literal_for(stored, start, stored.name) if start is not None else None
        hi = self.literal_for(stored, end, stored.name) if end is not None else None
        name = type(node).__name__
        if name == "TimeAfter":
            return col > (hi if hi is not None else lo)
        if name == "TimeBefore":
            return col < (lo if lo is not None else hi)
        if name == "TimeEquals":
            return col == lo if lo == hi else false()
        if name in ("TimeDuring",):
            return and_(col > lo, col < hi) if lo is not None and hi is not None else false()
        if name in ("TimeIntersects", "AnyInteracts", "TimeOverlaps"):
            parts = [col >= lo] if lo is not None else []
            parts += [col <= hi] if hi is not None else []
            return and_(*parts) if parts else true()
        if name == "TimeDisjoint":
            parts = [col < lo] if lo is not None else []
            parts += [col > hi] if hi is not None else []
            return or_(*parts) if parts else false()
        raise refuse(
            name, f"Zeitvergleich {name} wird nicht unterstützt.", f"{name} is not supported"
        )


def _bounds(value: Any) -> tuple[Any, Any]:
    if isinstance(value, values.Interval):
        return value.start, value.end
    if isinstance(value, dt.date | str):
        return value, value
    raise refuse(repr(value), "Rechts muss ein Zeitpunkt oder Intervall stehen.", "expected a time")


def _rtree(table: Table) -> Table:
    return Table(
        rtree_name(table.name),
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("minx", Float),
        Column("maxx", Float),
        Column("miny", Float),
        Column("maxy", Float),
    )


def _like_to_glob(pattern: str) -> str:
    out = []
    escaped = False
    for ch in pattern:
        if escaped:
            out.append(f"[{ch}]" if ch in "*?[]" else ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)
