"""Query options of the SensorThings API 1.1 — ``$filter``, ``$orderby``, ``$select``,
``$expand``, ``$top``, ``$skip``, ``$count``, ``$resultFormat`` — parsed into a small syntax
tree and compiled into SQLAlchemy expressions, so that every filter runs as a WHERE clause in
the database (SQLite and PostgreSQL), never over rows loaded into Python.

Semantics worth knowing (OData 4.0 as the SensorThings API uses it):

- A ``phenomenonTime`` that is an interval compares by its start: an Observation's
  ``phenomenon_start``, a Datastream's first observation. Time ranges on one datastream
  therefore use the (datastream_id, phenomenon_start) index.
- Time literals are ISO 8601 with a zone (``2019-02-01T00:00:00Z``, ``…+01:00``); a ``+``
  that arrived as a space (an unencoded URL) is read as ``+``. A date alone means its
  midnight UTC. Strings in quotes are read as times where compared with a time.
- ``ne`` is null-aware (``IS DISTINCT FROM``): OData wants ``null ne 5`` to be true.
- A path through a collection (``Datastreams/name eq 'x'`` on Things) means "any of them".
- String functions are case-sensitive on both backends; ``div`` is true division, and a
  division by zero gives null.
- An Observation's ``result`` compares as a number with numbers and as its text result
  with strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    Numeric,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

from catalog.sensors.times import LARGEST_INT, TimeError, parse_instant

DEFAULT_TOP = 100
MAX_TOP = 10_000
LARGEST = 2**62  # what both databases take as an integer (a larger $skip overflowed SQLite)
OPTIONS = ("$top", "$skip", "$count", "$filter", "$orderby", "$select", "$expand", "$resultFormat")
NESTED_OPTIONS = ("$top", "$skip", "$count", "$filter", "$orderby", "$select", "$expand")
COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
ARITHMETIC = ("add", "sub", "mul", "div", "mod")
SPATIAL = ("geo.", "st_")


class QueryError(Exception):
    """A query option that cannot be used: which option, where in it (1-based), and why."""

    def __init__(
        self,
        option: str | None,
        position: int | None,
        de: str,
        en: str,
        *,
        context: str = "",
        status: int = 400,
    ) -> None:
        super().__init__(en)
        self.option = option
        self.position = position
        self.de = de
        self.en = en
        self.context = context
        self.status = status

    def to_dict(self) -> dict[str, Any]:
        where_de = where_en = ""
        if self.option:
            inner = f" ({self.context})" if self.context else ""
            where_de = f"{self.option}{inner}"
            where_en = where_de
            if self.position is not None:
                where_de += f", Position {self.position}"
                where_en += f", position {self.position}"
            where_de += ": "
            where_en += ": "
        body: dict[str, Any] = {
            "code": self.status,
            "type": "error",
            "message": where_en + self.en,
            "message_de": where_de + self.de,
            "message_en": where_en + self.en,
        }
        if self.option:
            body["option"] = self.option
            body["position"] = self.position
            if self.context:
                body["context"] = self.context
        return body


# --- syntax tree ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Lit:
    value: Any
    kind: str  # number | string | time | bool | null
    pos: int


@dataclass(frozen=True)
class Path:
    segments: tuple[str, ...]
    pos: int

    def __str__(self) -> str:
        return "/".join(self.segments)


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]
    pos: int


@dataclass(frozen=True)
class Not:
    operand: Any
    pos: int


@dataclass(frozen=True)
class Neg:
    operand: Any
    pos: int


@dataclass(frozen=True)
class Bin:
    op: str
    left: Any
    right: Any
    pos: int


Node = Lit | Path | Call | Not | Neg | Bin


@dataclass(frozen=True)
class Order:
    expr: Node
    descending: bool


@dataclass(frozen=True)
class Selected:
    name: str
    pos: int


@dataclass
class Options:
    """The query options of one request or of one level of ``$expand``.

    ``param`` is the query parameter errors are reported against (``$expand`` for every nested
    option) and ``context`` says where inside it (``Datastreams/Observations``).
    """

    top: int | None = None
    skip: int = 0
    count: bool = False
    filter: Node | None = None
    orderby: list[Order] = field(default_factory=list)
    select: list[Selected] | None = None
    expand: list[Expand] = field(default_factory=list)
    result_format: str | None = None
    raw: dict[str, str] = field(default_factory=dict)  # option texts, for nextLinks
    param: str | None = None
    context: str = ""

    def error(self, option: str, pos: int | None, de: str, en: str) -> QueryError:
        if self.param is None:
            return QueryError(option, None if pos is None else pos + 1, de, en)
        where = f"{self.context}: {option}" if self.context else option
        return QueryError(self.param, None if pos is None else pos + 1, de, en, context=where)

    @property
    def limit(self) -> int:
        return min(DEFAULT_TOP if self.top is None else self.top, MAX_TOP)


@dataclass
class Expand:
    nav: str
    options: Options
    pos: int


# --- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # ident | string | number | time | punct | end
    text: str
    value: Any
    pos: int  # 0-based, in the whole query parameter


_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}|"
    r" \d{2}:\d{2})"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?![\dT:])")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_@$][A-Za-z0-9_.@]*")


def _tokenize(text: str, where: Callable[[int, str, str], QueryError], offset: int) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        pos = offset + i
        if ch in "(),/-":
            tokens.append(Token("punct", ch, ch, pos))
            i += 1
        elif ch == "'":
            i = _string(text, i, tokens, pos, where)
        elif ch.isdigit():
            i = _number_or_time(text, i, tokens, pos, where)
        elif (m := _IDENT.match(text, i)) is not None:
            word = m.group(0)
            if i + len(word) < len(text) and text[i + len(word)] == "'":
                raise where(
                    pos,
                    f"Typisierte Literale wie {word}'…' werden nicht unterstützt.",
                    f"Typed literals such as {word}'…' are not supported.",
                )
            tokens.append(Token("ident", word, word, pos))
            i += len(word)
        else:
            raise where(pos, f"Unerwartetes Zeichen '{ch}'.", f"Unexpected character '{ch}'.")
    tokens.append(Token("end", "", None, offset + len(text)))
    return tokens


def _string(
    text: str, i: int, tokens: list[Token], pos: int, where: Callable[[int, str, str], QueryError]
) -> int:
    j = i + 1
    chars: list[str] = []
    while True:
        if j >= len(text):
            raise where(
                pos, "Die Zeichenkette ist nicht geschlossen (').", "Unterminated string (')."
            )
        if text[j] == "'":
            if j + 1 < len(text) and text[j + 1] == "'":
                chars.append("'")
                j += 2
                continue
            break
        chars.append(text[j])
        j += 1
    tokens.append(Token("string", text[i : j + 1], "".join(chars), pos))
    return j + 1


def _number_or_time(
    text: str, i: int, tokens: list[Token], pos: int, where: Callable[[int, str, str], QueryError]
) -> int:
    m = _TIME.match(text, i)
    if m:
        raw = m.group(0)
        if raw[-6] == " ":  # '+' decoded as a space in an unencoded URL
            raw = raw[:-6] + "+" + raw[-5:]
        try:
            ms, _ = parse_instant(raw)
        except TimeError as exc:
            raise where(pos, exc.de, exc.en) from None
        tokens.append(Token("time", m.group(0), ms, pos))
        return m.end()
    m = _DATE.match(text, i)
    if m:
        try:
            ms, _ = parse_instant(m.group(0) + "T00:00:00Z")
        except TimeError as exc:
            raise where(pos, exc.de, exc.en) from None
        tokens.append(Token("time", m.group(0), ms, pos))
        return m.end()
    m = _NUMBER.match(text, i)
    assert m is not None  # text[i] is a digit
    raw = m.group(0)
    value: int | float = float(raw) if any(c in raw for c in ".eE") else int(raw)
    if isinstance(value, int) and abs(value) > LARGEST_INT:  # compares as a float instead
        value = float(value)
    tokens.append(Token("number", raw, value, pos))
    return m.end()


# --- expression parser ---------------------------------------------------------------------


class _Parser:
    """Recursive descent over OData's precedence: or < and < not < comparison < add/sub <
    mul/div/mod < unary minus < primary."""

    def __init__(self, text: str, option: str, opts: Options, offset: int) -> None:
        self.option = option
        self.opts = opts
        self.text = text
        self.tokens = _tokenize(text, self.error, offset)
        self.i = 0

    def error(self, pos: int, de: str, en: str) -> QueryError:
        return self.opts.error(self.option, pos, de, en)

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def word(self, *words: str) -> str | None:
        token = self.peek()
        if token.kind == "ident" and token.text in words:
            self.i += 1
            return token.text
        return None

    def expect(self, text: str) -> Token:
        token = self.peek()
        if token.kind != "punct" or token.text != text:
            found = token.text if token.kind != "end" else "das Ende"
            found_en = token.text if token.kind != "end" else "the end"
            raise self.error(
                token.pos,
                f"'{text}' erwartet, aber {found} gefunden.",
                f"Expected '{text}' but found {found_en}.",
            )
        return self.take()

    def end(self) -> None:
        token = self.peek()
        if token.kind != "end":
            raise self.error(
                token.pos,
                f"Unerwartetes '{token.text}' — fehlt ein Operator (and, or, eq …)?",
                f"Unexpected '{token.text}' — is an operator (and, or, eq …) missing?",
            )

    def expression(self) -> Node:
        return self.disjunction()

    def disjunction(self) -> Node:
        node = self.conjunction()
        while (token := self.peek()) and self.word("or"):
            node = Bin("or", node, self.conjunction(), token.pos)
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while (token := self.peek()) and self.word("and"):
            node = Bin("and", node, self.negation(), token.pos)
        return node

    def negation(self) -> Node:
        token = self.peek()
        if self.word("not"):
            return Not(self.negation(), token.pos)
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        while (token := self.peek()) and (op := self.word(*COMPARISONS)):
            node = Bin(op, node, self.additive(), token.pos)
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while (token := self.peek()) and (op := self.word("add", "sub")):
            node = Bin(op, node, self.multiplicative(), token.pos)
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while (token := self.peek()) and (op := self.word("mul", "div", "mod")):
            node = Bin(op, node, self.unary(), token.pos)
        return node

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "punct" and token.text == "-":
            self.take()
            operand = self.unary()
            if isinstance(operand, Lit) and operand.kind == "number":
                return Lit(-operand.value, "number", token.pos)
            return Neg(operand, token.pos)
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Lit(token.value, "number", token.pos)
        if token.kind == "string":
            return Lit(token.value, "string", token.pos)
        if token.kind == "time":
            return Lit(token.value, "time", token.pos)
        if token.kind == "punct" and token.text == "(":
            node = self.expression()
            self.expect(")")
            return node
        if token.kind == "ident":
            return self.identifier(token)
        if token.kind == "end":
            raise self.error(
                token.pos, "Der Ausdruck endet zu früh.", "The expression ends too early."
            )
        raise self.error(token.pos, f"Unerwartetes '{token.text}'.", f"Unexpected '{token.text}'.")

    def identifier(self, token: Token) -> Node:
        word = token.text
        if word in ("true", "false"):
            return Lit(word == "true", "bool", token.pos)
        if word == "null":
            return Lit(None, "null", token.pos)
        nxt = self.peek()
        if nxt.kind == "punct" and nxt.text == "(":
            self.take()
            args: list[Node] = []
            if not (self.peek().kind == "punct" and self.peek().text == ")"):
                args.append(self.expression())
                while self.peek().kind == "punct" and self.peek().text == ",":
                    self.take()
                    args.append(self.expression())
            self.expect(")")
            return Call(word.lower(), tuple(args), token.pos)
        segments = [word]
        while self.peek().kind == "punct" and self.peek().text == "/":
            self.take()
            seg = self.take()
            if seg.kind != "ident":
                raise self.error(
                    seg.pos,
                    "Nach '/' wird ein Name erwartet.",
                    "A name is expected after '/'.",
                )
            segments.append(seg.text)
        return Path(tuple(segments), token.pos)


def parse_filter(text: str, opts: Options, offset: int = 0, option: str = "$filter") -> Node:
    if not text.strip():
        raise opts.error(option, offset, "Der Filter ist leer.", "The filter is empty.")
    parser = _Parser(text, option, opts, offset)
    node = parser.expression()
    parser.end()
    return node


def parse_orderby(text: str, opts: Options, offset: int = 0) -> list[Order]:
    parser = _Parser(text, "$orderby", opts, offset)
    orders: list[Order] = []
    while True:
        expr = parser.expression()
        direction = parser.word("asc", "desc")
        orders.append(Order(expr, direction == "desc"))
        token = parser.peek()
        if token.kind == "end":
            return orders
        parser.expect(",")


# --- option lists ---------------------------------------------------------------------------


def _split(text: str, sep: str, offset: int) -> list[tuple[str, int]]:
    """``text`` split at ``sep`` outside parentheses and quotes, with each part's offset."""
    parts: list[tuple[str, int]] = []
    depth = 0
    quoted = False
    start = 0
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append((text[start:i], offset + start))
            start = i + 1
    parts.append((text[start:], offset + start))
    return parts


def _int(text: str, option: str, opts: Options, offset: int, *, lowest: int = 0) -> int:
    value = text.strip()
    if not re.fullmatch(r"\d+", value) or not lowest <= int(value) <= LARGEST:
        raise opts.error(
            option,
            offset,
            f"'{value[:40]}' ist keine ganze Zahl von {lowest} bis {LARGEST}.",
            f"'{value[:40]}' is not a whole number from {lowest} to {LARGEST}.",
        )
    return int(value)


def _select(text: str, opts: Options, offset: int) -> list[Selected]:
    names: list[Selected] = []
    for part, pos in _split(text, ",", offset):
        name = part.strip()
        start = pos + len(part) - len(part.lstrip())
        if not re.fullmatch(r"@?[A-Za-z_][A-Za-z0-9_.]*", name):
            raise opts.error(
                "$select",
                start,
                f"'{name[:40]}' ist kein Eigenschaftsname.",
                f"'{name[:40]}' is not a property name.",
            )
        names.append(Selected(name, start))
    return names


def _expand(text: str, opts: Options, offset: int) -> list[Expand]:
    items: list[Expand] = []
    for part, pos in _split(text, ",", offset):
        stripped = part.strip()
        start = pos + len(part) - len(part.lstrip())
        inner_text: str | None = None
        inner_pos = start
        paren = stripped.find("(")
        path_text = stripped if paren < 0 else stripped[:paren]
        if paren >= 0:
            if not stripped.endswith(")"):
                raise opts.error(
                    "$expand",
                    start + len(stripped),
                    "Die Klammer der Optionen ist nicht geschlossen.",
                    "The parenthesis of the options is not closed.",
                )
            inner_text = stripped[paren + 1 : -1]
            inner_pos = start + paren + 1
        segments = path_text.split("/")
        seg_pos = start
        for seg in segments:
            if not re.fullmatch(r"[A-Za-z]+", seg.strip()):
                raise opts.error(
                    "$expand",
                    seg_pos,
                    f"'{seg[:40]}' ist keine Navigationseigenschaft.",
                    f"'{seg[:40]}' is not a navigation property.",
                )
            seg_pos += len(seg) + 1
        items.append(_expand_item(segments, start, inner_text, inner_pos, opts))
    return _merge(items)


def _expand_item(
    segments: list[str], start: int, inner: str | None, inner_pos: int, opts: Options
) -> Expand:
    """``A/B/C(opts)`` as ``A($expand=B($expand=C(opts)))``."""
    positions = []
    pos = start
    for seg in segments:
        positions.append(pos)
        pos += len(seg) + 1
    context = "/".join(s.strip() for s in segments)
    leaf = Options(param=opts.param or "$expand", context=_join(opts.context, context))
    if inner is not None:
        parse_nested(inner, leaf, inner_pos)
    item = Expand(segments[-1].strip(), leaf, positions[-1])
    for i in range(len(segments) - 2, -1, -1):
        prefix = "/".join(s.strip() for s in segments[: i + 1])
        holder = Options(param=opts.param or "$expand", context=_join(opts.context, prefix))
        holder.expand = [item]
        holder.raw["$expand"] = _unparse(item)
        item = Expand(segments[i].strip(), holder, positions[i])
    return item


def _join(a: str, b: str) -> str:
    return f"{a}/{b}" if a else b


def _unparse(item: Expand) -> str:
    inner = ";".join(f"{k}={v}" for k, v in item.options.raw.items())
    return f"{item.nav}({inner})" if inner else item.nav


def _merge(items: list[Expand]) -> list[Expand]:
    """``Datastreams/Sensor,Datastreams/Thing`` expand Datastreams once with both."""
    merged: dict[str, Expand] = {}
    for item in items:
        known = merged.get(item.nav)
        if known is None:
            merged[item.nav] = item
            continue
        known.options.expand = _merge([*known.options.expand, *item.options.expand])
        if known.options.expand:
            known.options.raw["$expand"] = ",".join(_unparse(e) for e in known.options.expand)
    return list(merged.values())


def parse_nested(text: str, opts: Options, offset: int) -> None:
    """The options inside ``Nav(…)``: ``$filter=…;$top=2;$expand=…``."""
    for part, pos in _split(text, ";", offset):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in NESTED_OPTIONS:
            raise opts.error(
                name or "$expand",
                pos,
                f"'{name[:40]}' ist hier keine erlaubte Abfrageoption "
                f"({', '.join(NESTED_OPTIONS)}).",
                f"'{name[:40]}' is not a query option allowed here ({', '.join(NESTED_OPTIONS)}).",
            )
        _apply(opts, name, value, pos + len(part.split("=", 1)[0]) + 1)


def _apply(opts: Options, name: str, value: str, offset: int) -> None:
    opts.raw[name] = value
    if name == "$top":
        opts.top = _int(value, name, opts, offset)
    elif name == "$skip":
        opts.skip = _int(value, name, opts, offset)
    elif name == "$count":
        if value.strip() not in ("true", "false"):
            raise opts.error(
                name, offset, "$count ist true oder false.", "$count is true or false."
            )
        opts.count = value.strip() == "true"
    elif name == "$filter":
        opts.filter = parse_filter(value, opts, offset)
    elif name == "$orderby":
        opts.orderby = parse_orderby(value, opts, offset)
    elif name == "$select":
        opts.select = _select(value, opts, offset)
    elif name == "$expand":
        opts.expand = _expand(value, opts, offset)
    elif name == "$resultFormat":
        if value != "dataArray":
            raise opts.error(
                name,
                offset,
                f"Unbekanntes Ergebnisformat '{value[:40]}' (unterstützt: dataArray).",
                f"Unknown result format '{value[:40]}' (supported: dataArray).",
            )
        opts.result_format = value


def parse_options(args: Mapping[str, str]) -> Options:
    """The options of a request's query string (parameters without ``$`` are ignored)."""
    opts = Options()
    for name, value in args.items():
        if not name.startswith("$"):
            continue
        if name not in OPTIONS:
            raise QueryError(
                name,
                None,
                f"Unbekannte Abfrageoption {name} (bekannt: {', '.join(OPTIONS)}).",
                f"Unknown query option {name} (known: {', '.join(OPTIONS)}).",
            )
        _apply(opts, name, value, 0)
    return opts


# --- compilation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Typed:
    """A compiled value: its SQL expression and its kind (number, string, time, bool, null,
    json, result, geometry). ``result`` and ``json`` carry a text and a number variant."""

    expr: Any
    kind: str
    text: Any = None
    number: Any = None
    nullable: bool = True


class Navigation(Protocol):
    name: str
    many: bool
    fk: str | None  # a to-one navigation's key column on the source (Nav/id is that column)

    @property
    def target(self) -> Entity: ...

    def related(self, source: Any, condition: Callable[[Any], Any]) -> Any: ...

    def scalar(self, source: Any, value: Callable[[Any], Any]) -> Any: ...


class Entity(Protocol):
    name: str
    navs: dict[str, Navigation]

    def prop(self, alias: Any, segments: tuple[str, ...], dialect: str) -> Typed | None: ...


def json_value(column: Any, keys: tuple[str, ...], dialect: str) -> Typed:
    """A value inside a JSON text column, as text and as number (null where not a number)."""
    if dialect == "postgresql":
        doc = cast(column, JSONB)
        text = func.jsonb_extract_path_text(doc, *keys)
        is_number = func.jsonb_typeof(func.jsonb_extract_path(doc, *keys)) == "number"
        number = case((is_number, cast(text, Float)), else_=null())
    else:
        path = "$" + "".join('."' + k.replace('"', "") + '"' for k in keys)
        text = func.json_extract(column, path)
        is_number = func.json_type(column, path).in_(("integer", "real"))
        number = case((is_number, func.json_extract(column, path)), else_=null())
    return Typed(text, "json", text=text, number=number)


def _bind(value: Any, kind: str) -> Any:
    if kind == "time":
        return literal(value, BigInteger)
    if kind == "number":
        return literal(value, BigInteger if isinstance(value, int) else Float)
    if kind == "string":
        return literal(value, String)
    if kind == "bool":
        return true() if value else false()
    return null()


_STRING_FUNCTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "substringof": (("string", "string"), "bool"),
    "contains": (("string", "string"), "bool"),
    "startswith": (("string", "string"), "bool"),
    "endswith": (("string", "string"), "bool"),
    "length": (("string",), "number"),
    "tolower": (("string",), "string"),
    "toupper": (("string",), "string"),
    "trim": (("string",), "string"),
    "concat": (("string", "string"), "string"),
    "indexof": (("string", "string"), "number"),
    "substring": (("string", "number", "number"), "string"),
}
_TIME_PARTS = {
    "year": ("%Y", "year"),
    "month": ("%m", "month"),
    "day": ("%d", "day"),
    "hour": ("%H", "hour"),
    "minute": ("%M", "minute"),
    "second": ("%S", "second"),
}
_MATH = ("round", "floor", "ceiling")


class Compiler:
    """Compiles filter and orderby trees for one entity type over one table alias."""

    def __init__(
        self, entity: Entity, alias: Any, dialect: str, opts: Options, option: str
    ) -> None:
        self.entity = entity
        self.alias = alias
        self.dialect = dialect
        self.opts = opts
        self.option = option

    def error(self, pos: int, de: str, en: str) -> QueryError:
        return self.opts.error(self.option, pos, de, en)

    def _inside(self, nav: Navigation, alias: Any) -> Compiler:
        return Compiler(nav.target, alias, self.dialect, self.opts, self.option)

    # conditions

    def condition(self, node: Node) -> Any:
        if isinstance(node, Bin) and node.op in ("and", "or"):
            left, right = self.condition(node.left), self.condition(node.right)
            return and_(left, right) if node.op == "and" else or_(left, right)
        if isinstance(node, Not):
            return not_(self.condition(node.operand))
        if isinstance(node, Lit) and node.kind == "bool":
            return true() if node.value else false()
        if isinstance(node, Bin) and node.op in COMPARISONS or isinstance(node, Call):
            nav = self._common_navigation(node)
            if nav is not None:
                inner = _strip(node)
                return nav.related(self.alias, lambda t: self._inside(nav, t).condition(inner))
            if isinstance(node, Bin):
                return self._compare(node)
            typed = self.value(node)
            if typed.kind != "bool":
                raise self.error(
                    node.pos,
                    f"{node.name}() ergibt keine Bedingung.",
                    f"{node.name}() does not give a condition.",
                )
            return typed.expr
        raise self.error(
            _pos(node),
            "Hier wird eine Bedingung erwartet (z. B. name eq 'x').",
            "A condition is expected here (e.g. name eq 'x').",
        )

    def _head(self, path: Path) -> str | None:
        """The navigation a path leads through first, unless it is just a key (Nav/id)."""
        nav = self.entity.navs.get(path.segments[0])
        if nav is None or len(path.segments) < 2:
            return None
        if nav.fk is not None and path.segments[1:] == ("id",):
            return None
        return nav.name

    def _common_navigation(self, node: Node) -> Navigation | None:
        """The navigation every path of ``node`` goes through, if there is one: the whole
        comparison is then evaluated over the related entities (EXISTS / IN)."""
        paths = list(_paths(node))
        if not paths:
            return None
        heads = {self._head(p) for p in paths}
        if len(heads) != 1 or None in heads:
            return None
        return self.entity.navs[paths[0].segments[0]]

    def _compare(self, node: Bin) -> Any:
        for this, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(this, Lit) and this.kind == "bool" and node.op in ("eq", "ne"):
                cond = self.condition(other)  # contains(…) eq true: the condition itself
                return cond if this.value == (node.op == "eq") else not_(cond)
        a, b = self.value(node.left), self.value(node.right)
        if a.kind == "null" or b.kind == "null":
            return self._null_compare(node, a, b)
        left, right = self._unify(node, a, b)
        op = node.op
        if op == "eq":
            return left == right
        if op == "ne":
            return left.is_distinct_from(right)
        if a.kind == "bool" or b.kind == "bool":
            raise self.error(
                node.pos,
                "Wahrheitswerte lassen sich nur mit eq/ne vergleichen.",
                "Booleans can only be compared with eq/ne.",
            )
        return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[
            op
        ]

    def _null_compare(self, node: Bin, a: Typed, b: Typed) -> Any:
        other = b if a.kind == "null" else a
        if node.op not in ("eq", "ne"):
            raise self.error(
                node.pos,
                "Mit null lässt sich nur eq/ne vergleichen.",
                "null can only be compared with eq/ne.",
            )
        if other.kind == "null":
            return true() if node.op == "eq" else false()
        columns = [other.expr] + ([other.text] if other.kind == "result" else [])
        if node.op == "eq":
            return and_(*(c.is_(None) for c in columns))
        return or_(*(c.is_not(None) for c in columns))

    def _unify(self, node: Bin, a: Typed, b: Typed) -> tuple[Any, Any]:
        left, right = self._as(a, b, node), self._as(b, a, node)
        return left, right

    def _as(self, typed: Typed, other: Typed, node: Bin) -> Any:
        """``typed`` as an expression comparable with ``other``."""
        want = other.kind
        if typed.kind == want and want not in ("result", "json"):
            if want == "bool":
                return case((typed.expr, 1), else_=0)
            return typed.expr
        if typed.kind == "json" and want in ("string", "json"):
            return typed.text  # two JSON members compare as text
        if typed.kind in ("result", "json"):
            if want == "string":
                return typed.text
            if want in ("number", "result", "json"):
                return typed.number if typed.kind == "json" else typed.expr
        if typed.kind == "time" and want == "string":
            return typed.expr  # the string side is read as a time
        if typed.kind == "string" and want == "time":
            return self._time_from_string(typed, node)
        if typed.kind == "number" and want in ("result", "json"):
            return typed.expr
        if typed.kind == "string" and want in ("result", "json"):
            return typed.expr
        raise self.error(
            node.pos,
            f"{_kind_de(typed.kind)} und {_kind_de(want)} lassen sich nicht vergleichen.",
            f"Cannot compare {_kind_en(typed.kind)} with {_kind_en(want)}.",
        )

    def _time_from_string(self, typed: Typed, node: Bin) -> Any:
        literal_node = node.right if isinstance(node.right, Lit) else node.left
        if not isinstance(literal_node, Lit) or literal_node.kind != "string":
            raise self.error(
                node.pos,
                "Eine Zeit lässt sich nur mit einer Zeitangabe vergleichen.",
                "A time can only be compared with a time.",
            )
        try:
            ms, _ = parse_instant(literal_node.value)
        except TimeError as exc:
            raise self.error(literal_node.pos, exc.de, exc.en) from None
        return _bind(ms, "time")

    # values

    def value(self, node: Node) -> Typed:
        if isinstance(node, Lit):
            return Typed(_bind(node.value, node.kind), node.kind, nullable=node.kind == "null")
        if isinstance(node, Path):
            return self._path(node)
        if isinstance(node, Neg):
            inner = self._number(self.value(node.operand), node.operand)
            return Typed(-inner, "number")
        if isinstance(node, Bin) and node.op in ARITHMETIC:
            return self._arithmetic(node)
        if isinstance(node, Call):
            return self._call(node)
        return Typed(self.condition(node), "bool")

    def _path(self, path: Path) -> Typed:
        head = path.segments[0]
        nav = self.entity.navs.get(head)
        if nav is not None:
            if len(path.segments) == 1:
                raise self.error(
                    path.pos,
                    f"'{head}' ist eine Navigationseigenschaft; gemeint ist wohl {head}/….",
                    f"'{head}' is a navigation property; did you mean {head}/…?",
                )
            if nav.fk is not None and path.segments[1:] == ("id",):
                return Typed(self.alias.c[nav.fk], "number")
            if nav.many:
                raise self.error(
                    path.pos,
                    f"'{path}' führt über eine Sammlung und geht nur in einem einfachen "
                    "Vergleich (z. B. Datastreams/name eq 'x').",
                    f"'{path}' goes through a collection and works only in a plain "
                    "comparison (e.g. Datastreams/name eq 'x').",
                )
            rest = Path(path.segments[1:], path.pos)
            kinds: list[Typed] = []

            def inner(t: Any) -> Any:
                typed = self._inside(nav, t)._path(rest)
                kinds.append(typed)
                return typed.expr

            expr = nav.scalar(self.alias, inner)
            typed = kinds[0]
            if typed.kind in ("result", "json"):
                raise self.error(
                    path.pos,
                    f"'{path}' lässt sich hier nicht verwenden.",
                    f"'{path}' cannot be used here.",
                )
            return Typed(expr, typed.kind)
        typed = self.entity.prop(self.alias, path.segments, self.dialect)
        if typed is None:
            raise self.error(
                path.pos,
                f"{self.entity.name} hat keine Eigenschaft '{path}'.",
                f"{self.entity.name} has no property '{path}'.",
            )
        if typed.kind == "object":
            raise self.error(
                path.pos,
                f"'{path}' ist ein Objekt; vergleichen lässt sich nur ein Teil davon "
                f"(z. B. {path}/name).",
                f"'{path}' is an object; compare one of its members (e.g. {path}/name).",
            )
        if typed.kind == "geometry":
            raise self.error(
                path.pos,
                f"'{path}' ist eine Geometrie; räumliche Filter werden nicht unterstützt.",
                f"'{path}' is a geometry; spatial filters are not supported.",
            )
        return typed

    def _number(self, typed: Typed, node: Node) -> Any:
        if typed.kind == "number":
            return typed.expr
        if typed.kind in ("result", "json"):
            return typed.number if typed.kind == "json" else typed.expr
        raise self.error(
            _pos(node),
            f"Hier wird eine Zahl erwartet, nicht {_kind_de(typed.kind)}.",
            f"A number is expected here, not {_kind_en(typed.kind)}.",
        )

    def _string(self, typed: Typed, node: Node) -> Any:
        if typed.kind == "string":
            return typed.expr
        if typed.kind in ("result", "json"):
            return typed.text
        raise self.error(
            _pos(node),
            f"Hier wird eine Zeichenkette erwartet, nicht {_kind_de(typed.kind)}.",
            f"A string is expected here, not {_kind_en(typed.kind)}.",
        )

    def _time(self, typed: Typed, node: Node) -> Any:
        if typed.kind == "time":
            return typed.expr
        raise self.error(
            _pos(node),
            f"Hier wird eine Zeit erwartet, nicht {_kind_de(typed.kind)}.",
            f"A time is expected here, not {_kind_en(typed.kind)}.",
        )

    def _arithmetic(self, node: Bin) -> Typed:
        a = self._number(self.value(node.left), node.left)
        b = self._number(self.value(node.right), node.right)
        if node.op == "add":
            return Typed(a + b, "number")
        if node.op == "sub":
            return Typed(a - b, "number")
        if node.op == "mul":
            return Typed(a * b, "number")
        if node.op == "div":
            return Typed(cast(a, Float) / func.nullif(cast(b, Float), 0), "number")
        if self.dialect == "postgresql":  # PostgreSQL has no modulo of floats
            return Typed(func.mod(cast(a, Numeric), func.nullif(cast(b, Numeric), 0)), "number")
        # SQLite's % works on integers only: a - b * trunc(a / b), the sign of the dividend
        quotient = cast(cast(a, Float) / func.nullif(cast(b, Float), 0), Integer)
        return Typed(a - b * quotient, "number")

    def _call(self, node: Call) -> Typed:
        name = node.name
        if name in _STRING_FUNCTIONS:
            return self._string_call(node)
        if name in _TIME_PARTS:
            self._arity(node, 1)
            ms = self._time(self.value(node.args[0]), node)
            return Typed(self._time_part(name, ms), "number")
        if name in _MATH:
            self._arity(node, 1)
            x = self._number(self.value(node.args[0]), node.args[0])
            fn = {"round": func.round, "floor": func.floor, "ceiling": func.ceil}[name]
            return Typed(fn(x), "number")
        if name == "now":
            self._arity(node, 0)
            now = datetime.now(UTC)
            return Typed(_bind(int(now.timestamp() * 1000), "time"), "time")
        if name.startswith(SPATIAL):
            raise self.error(
                node.pos,
                f"Räumliche Funktionen wie {name}() werden nicht unterstützt.",
                f"Spatial functions such as {name}() are not supported.",
            )
        raise self.error(node.pos, f"Unbekannte Funktion {name}().", f"Unknown function {name}().")

    def _arity(self, node: Call, *counts: int) -> None:
        if len(node.args) not in counts:
            want = " oder ".join(str(c) for c in counts)
            want_en = " or ".join(str(c) for c in counts)
            raise self.error(
                node.pos,
                f"{node.name}() erwartet {want} Argument(e), nicht {len(node.args)}.",
                f"{node.name}() takes {want_en} argument(s), not {len(node.args)}.",
            )

    def _string_call(self, node: Call) -> Typed:
        kinds, result = _STRING_FUNCTIONS[node.name]
        self._arity(node, *((2, 3) if node.name == "substring" else (len(kinds),)))
        args = []
        for kind, arg in zip(kinds, node.args, strict=False):
            typed = self.value(arg)
            args.append(self._string(typed, arg) if kind == "string" else self._number(typed, arg))
        pg = self.dialect == "postgresql"
        find = func.strpos if pg else func.instr
        name = node.name
        if name == "substringof":
            return Typed(find(args[1], args[0]) > 0, "bool")
        if name == "contains":
            return Typed(find(args[0], args[1]) > 0, "bool")
        if name == "startswith":
            return Typed(func.substr(args[0], 1, func.length(args[1])) == args[1], "bool")
        if name == "endswith":
            start = func.length(args[0]) - func.length(args[1]) + 1
            return Typed(func.substr(args[0], start) == args[1], "bool")
        if name == "indexof":
            return Typed(find(args[0], args[1]) - 1, "number")
        if name == "substring":
            start = cast(args[1], Integer) + 1
            if len(args) == 3:
                return Typed(func.substr(args[0], start, cast(args[2], Integer)), "string")
            return Typed(func.substr(args[0], start), "string")
        if name == "concat":
            return Typed(args[0].concat(args[1]), "string")
        simple = {"length": func.length, "tolower": func.lower, "toupper": func.upper}
        fn = simple.get(name, func.trim)
        return Typed(fn(args[0]), result)

    def _time_part(self, name: str, ms: Any) -> Any:
        pattern, field_name = _TIME_PARTS[name]
        if self.dialect == "postgresql":
            stamp = func.timezone("UTC", func.to_timestamp(cast(ms, Float) / 1000.0))
            return cast(func.floor(func.extract(field_name, stamp)), Integer)
        seconds = cast(ms / 1000, Integer)
        return cast(func.strftime(pattern, seconds, "unixepoch"), Integer)

    # ordering

    def order(self, order: Order) -> list[Any]:
        typed = self.value(order.expr)
        if typed.kind == "bool":
            raise self.error(
                _pos(order.expr),
                "Nach einer Bedingung lässt sich nicht sortieren.",
                "Cannot order by a condition.",
            )
        exprs = [typed.expr] if typed.kind != "json" else [typed.number, typed.text]
        if typed.kind == "result":
            exprs = [typed.expr, typed.text]
        out = []
        for expr in exprs:
            ordered = expr.desc() if order.descending else expr.asc()
            if self.dialect == "postgresql" and typed.nullable:
                # SQLite's order of nulls (first ascending, last descending) on both backends
                ordered = ordered.nulls_last() if order.descending else ordered.nulls_first()
            out.append(ordered)
        return out


def _paths(node: Any) -> list[Path]:
    if isinstance(node, Path):
        return [node]
    if isinstance(node, Bin):
        return _paths(node.left) + _paths(node.right)
    if isinstance(node, Not | Neg):
        return _paths(node.operand)
    if isinstance(node, Call):
        return [p for arg in node.args for p in _paths(arg)]
    return []


def _strip(node: Any) -> Any:
    """``node`` with the first segment of every path removed (it is evaluated inside it)."""
    if isinstance(node, Path):
        return replace(node, segments=node.segments[1:])
    if isinstance(node, Bin):
        return replace(node, left=_strip(node.left), right=_strip(node.right))
    if isinstance(node, Not | Neg):
        return replace(node, operand=_strip(node.operand))
    if isinstance(node, Call):
        return replace(node, args=tuple(_strip(a) for a in node.args))
    return node


def _pos(node: Any) -> int:
    return int(getattr(node, "pos", 0))


_KINDS_DE = {
    "number": "eine Zahl",
    "string": "eine Zeichenkette",
    "time": "eine Zeit",
    "bool": "ein Wahrheitswert",
    "null": "null",
    "json": "ein JSON-Wert",
    "result": "ein Ergebnis",
    "geometry": "eine Geometrie",
}
_KINDS_EN = {
    "number": "a number",
    "string": "a string",
    "time": "a time",
    "bool": "a boolean",
    "null": "null",
    "json": "a JSON value",
    "result": "a result",
    "geometry": "a geometry",
}


def _kind_de(kind: str) -> str:
    return _KINDS_DE.get(kind, kind)


def _kind_en(kind: str) -> str:
    return _KINDS_EN.get(kind, kind)
