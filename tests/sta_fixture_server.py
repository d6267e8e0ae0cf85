"""A small SensorThings API 1.1 server for tests: Things with Locations, Datastreams,
ObservedProperties, Sensors and Observations from Python data, served over real HTTP from a
thread.

It honours what a harvester sends: ``$top`` (capped at ``max_top``), ``$skip`` with
``@iot.nextLink``, ``$orderby=phenomenonTime asc|desc``, ``$filter`` (comparisons joined by
``and``; times are really compared, so incremental harvests are tested for real), ``$expand``
(``Locations``, ``Datastreams($expand=ObservedProperty,Sensor)``, ``ObservedProperty``,
``Sensor``) and ``$resultFormat=dataArray``. Every request is logged with its decoded
parameters; ``fail`` makes chosen requests answer HTTP 500.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from catalog.sensors.times import TimeError, parse_time

MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
CATEGORY = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CategoryObservation"
PREFIX = "/sta/v1.1"
_COMPARISON = re.compile(r"^\s*(\w+)\s+(eq|ne|gt|ge|lt|le)\s+(.+?)\s*$")
_ENTITY = re.compile(r"^/(\w+)\(([^)]*)\)(?:/(\w+))?$")


@dataclass
class Request:
    path: str  # below the service root, e.g. /Datastreams(11)/Observations
    params: dict[str, str]
    status: int = 200


@dataclass
class StaFixture:
    """The server's data: ``things`` as STA JSON without navigation links (each with
    ``Locations`` and ``Datastreams``, each Datastream with ``ObservedProperty`` and
    ``Sensor``), and ``observations`` by Datastream id."""

    things: list[dict[str, Any]] = field(default_factory=list)
    observations: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)
    max_top: int = 100  # the server's page size limit
    expand_top: int | None = None  # page expanded Datastreams (Datastreams@iot.nextLink)
    data_array: bool = True  # False: $resultFormat=dataArray answers HTTP 400
    fail: Callable[[Request], bool] | None = None  # True: answer HTTP 500
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self.url = ""

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> StaFixture:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}{PREFIX}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> StaFixture:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- data -----------------------------------------------------------------------------

    def add(self, datastream: Any, *observations: dict[str, Any]) -> None:
        """Append Observations (phenomenonTime, result, optional resultTime/@iot.id)."""
        with self._lock:
            rows = self.observations.setdefault(datastream, [])
            for obs in observations:
                rows.append({"@iot.id": obs.get("@iot.id", _next_id(self.observations))} | obs)

    def logged(self, fragment: str) -> list[Request]:
        return [r for r in self.requests if fragment in r.path]

    # --- answers --------------------------------------------------------------------------

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        if path == "/Things":
            return 200, self._page(path, params, self._things(params), self._expand_thing)
        match = _ENTITY.match(path)
        if not match:
            return 404, _error("no such path")
        kind, raw_id, nav = match.groups()
        ident = _parse_id(raw_id)
        if kind == "Datastreams" and nav == "Observations":
            if ident not in self._streams():
                return 404, _error("no such Datastream")
            return self._observations(path, params, ident)
        if kind == "Datastreams" and nav is None:
            stream = self._streams().get(ident)
            if stream is None:
                return 404, _error("no such Datastream")
            return 200, self._expand_stream(stream, _expand_names(params.get("$expand", "")))
        if kind == "Things" and nav == "Datastreams":
            things = [t for t in self.things if t["@iot.id"] == ident]
            if not things:
                return 404, _error("no such Thing")
            names = _expand_names(params.get("$expand", ""))
            rows = [self._expand_stream(d, names) for d in things[0].get("Datastreams", [])]
            return 200, self._page(path, params, rows, None)
        return 404, _error("not served here")

    def _things(self, params: dict[str, str]) -> list[dict[str, Any]]:
        condition = _parse_filter(params.get("$filter", ""))
        return [t for t in self.things if condition(t)]

    def _expand_thing(self, thing: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        names = _expand_names(params.get("$expand", ""))
        out = {k: v for k, v in thing.items() if k not in ("Locations", "Datastreams")}
        out["@iot.selfLink"] = f"{self.url}/Things({_literal(thing['@iot.id'])})"
        if "Locations" in names:
            out["Locations"] = thing.get("Locations", [])
        if "Datastreams" in names:
            streams = [self._expand_stream(d, names["Datastreams"]) for d in thing["Datastreams"]]
            if self.expand_top is not None and len(streams) > self.expand_top:
                rest = f"{self.url}/Things({_literal(thing['@iot.id'])})/Datastreams"
                inner = ",".join(names["Datastreams"])
                out["Datastreams@iot.nextLink"] = (
                    f"{rest}?$expand={inner}&$top={self.expand_top}&$skip={self.expand_top}"
                )
                streams = streams[: self.expand_top]
            out["Datastreams"] = streams
        return out

    def _expand_stream(self, stream: dict[str, Any], names: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in stream.items() if k not in ("ObservedProperty", "Sensor")}
        out["@iot.selfLink"] = f"{self.url}/Datastreams({_literal(stream['@iot.id'])})"
        for name in ("ObservedProperty", "Sensor"):
            if name in names:
                out[name] = stream[name]
        return out

    def _streams(self) -> dict[Any, dict[str, Any]]:
        return {d["@iot.id"]: d for t in self.things for d in t.get("Datastreams", [])}

    def _observations(self, path: str, params: dict[str, str], ident: Any) -> tuple[int, Any]:
        data_array = params.get("$resultFormat") == "dataArray"
        if data_array and not self.data_array:
            return 400, _error("$resultFormat=dataArray is not supported")
        condition = _parse_filter(params.get("$filter", ""))
        with self._lock:
            rows = [dict(o) for o in self.observations.get(ident, []) if condition(o)]
        order = params.get("$orderby", "")
        if order.startswith("phenomenonTime"):
            rows.sort(key=lambda o: _sort_key(o["phenomenonTime"]), reverse=order.endswith("desc"))
        for row in rows:
            row["@iot.selfLink"] = f"{self.url}/Observations({row['@iot.id']})"
        page = self._page(path, params, rows, None)
        if not data_array:
            return 200, page
        components = ["id", "phenomenonTime", "result", "resultTime"]
        page["value"] = [
            {
                "Datastream@iot.navigationLink": f"{self.url}/Datastreams({_literal(ident)})",
                "components": components,
                "dataArray@iot.count": len(page["value"]),
                "dataArray": [
                    [
                        row["@iot.id"],
                        row["phenomenonTime"],
                        row.get("result"),
                        row.get("resultTime"),
                    ]
                    for row in page["value"]
                ],
            }
        ]
        return 200, page

    def _page(
        self,
        path: str,
        params: dict[str, str],
        rows: list[dict[str, Any]],
        expand: Callable[[dict[str, Any], dict[str, str]], dict[str, Any]] | None,
    ) -> dict[str, Any]:
        top = min(int(params.get("$top", self.max_top)), self.max_top)
        skip = int(params.get("$skip", 0))
        chosen = rows[skip : skip + top]
        value = [expand(r, params) if expand else r for r in chosen]
        page: dict[str, Any] = {"value": value}
        if skip + top < len(rows):
            following = params | {"$top": str(top), "$skip": str(skip + top)}
            query = "&".join(f"{k}={quote(v, safe='$(),:=')}" for k, v in following.items())
            page["@iot.nextLink"] = f"{self.url}{path}?{query}"
        return page


def _handler(fixture: StaFixture) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            parts = urlsplit(self.path)
            path = parts.path.removeprefix(PREFIX)
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            request = Request(path, params)
            with fixture._lock:
                fixture.requests.append(request)
            if fixture.fail is not None and fixture.fail(request):
                status, body = 500, _error("injected failure")
            else:
                try:
                    status, body = fixture.answer(path, params)
                except (ValueError, KeyError) as exc:
                    status, body = 400, _error(f"bad request: {exc}")
            request.status = status
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


# --- $filter and $expand --------------------------------------------------------------------


def _parse_filter(text: str) -> Callable[[dict[str, Any]], bool]:
    """``a op b and c op d``: comparisons of a property with a string, number or time."""
    if not text.strip():
        return lambda _row: True
    clauses = []
    for part in re.split(r"\s+and\s+", text.strip()):
        match = _COMPARISON.match(part)
        if not match:
            raise ValueError(f"cannot read $filter clause {part!r}")
        clauses.append(match.groups())

    def test(row: dict[str, Any]) -> bool:
        return all(_compare(row.get(prop), op, raw) for prop, op, raw in clauses)

    return test


def _compare(value: Any, op: str, raw: str) -> bool:
    if raw.startswith("'") and raw.endswith("'"):
        left: Any = value
        right: Any = raw[1:-1].replace("''", "'")
    elif re.match(r"^\d{4}-\d\d-\d\d", raw):
        if not isinstance(value, str):
            return False
        left, right = _start(value), _start(raw)
        if right is None:
            raise ValueError(f"not a time: {raw}")
    else:
        left, right = value, float(raw)
    if left is None:
        return False
    return {
        "eq": left == right,
        "ne": left != right,
        "gt": left > right,
        "ge": left >= right,
        "lt": left < right,
        "le": left <= right,
    }[op]


def _start(text: str) -> int | None:
    """The start of an instant or interval, in ms (times without zone read as UTC); None for
    what is no time (such rows match no time condition and sort last)."""
    try:
        return parse_time(text, assume=UTC)[0]
    except TimeError:
        return None


def _sort_key(text: str) -> tuple[bool, int]:
    start = _start(text)
    return start is None, start or 0


def _expand_names(text: str) -> dict[str, Any]:
    """``Locations,Datastreams($expand=ObservedProperty,Sensor)`` ->
    {"Locations": {}, "Datastreams": {"ObservedProperty": {}, "Sensor": {}}}."""
    out: dict[str, Any] = {}
    depth, start = 0, 0
    items = []
    for i, char in enumerate(text + ","):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
    for item in filter(None, items):
        name, _, inner = item.partition("(")
        inner = inner.rstrip(")")
        nested = inner.split("$expand=", 1)[1] if "$expand=" in inner else ""
        out[name.strip()] = _expand_names(nested.split(";", 1)[0])
    return out


# --- helpers --------------------------------------------------------------------------------


def _next_id(observations: dict[Any, list[dict[str, Any]]]) -> int:
    ids = [o["@iot.id"] for rows in observations.values() for o in rows]
    return max((i for i in ids if isinstance(i, int)), default=0) + 1


def _parse_id(raw: str) -> Any:
    raw = raw.strip()
    if raw.startswith("'") and raw.endswith("'"):
        return raw[1:-1].replace("''", "'")
    return int(raw)


def _literal(value: Any) -> str:
    return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"


def _error(message: str) -> dict[str, Any]:
    return {"code": 400, "type": "error", "message": message}
