"""MQTT topics and payloads to readings: pure functions, no network and no store.

A mapping (``options.mappings`` of an mqtt source) names a topic template such as
``dresden/umwelt/{thing}/{datastream}``; each ``{placeholder}`` (a whole topic level or part of
one) becomes ``+`` in the subscription, ``+`` matches one level without keeping it, and ``#`` at
the end matches the rest. The payload is JSON (``format: json``, the result and time found by a
dotted path such as ``data.pm10``), a SensorThings Observation (``format: sensorthings``) or a
plain number (``format: number``).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

KEY_LIMIT = 200  # characters of a thing or datastream key taken from a topic
FORMATS = ("json", "sensorthings", "number")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_MS_FROM = 100_000_000_000  # a JSON number time at least this large is milliseconds


class PayloadProblem(ValueError):
    """A message that cannot become a reading; ``code`` names the reason for the issue log."""

    def __init__(self, code: str, de: str, en: str, value: Any = "") -> None:
        super().__init__(en)
        self.code, self.de, self.en, self.value = code, de, en, value


class MappingError(ValueError):
    """A mapping in the source file that cannot work (raised when the listener starts)."""

    def __init__(self, where: str, de: str, en: str) -> None:
        super().__init__(f"{where}: {en}")
        self.where, self.de, self.en = where, de, en


@dataclass(frozen=True)
class Parsed:
    """What one message says: its Thing and Datastream keys, time and result."""

    thing: str
    datastream: str
    result: Any
    time: str | int | None = None  # ISO 8601 (instant or interval) or ms; None: receive time
    result_time: str | int | None = None


@dataclass(frozen=True)
class Mapping:
    topic: str
    format: str = "json"
    result: str | None = None
    time: str | None = None
    thing: str | None = None
    datastream: str | None = None

    @property
    def subscription(self) -> str:
        """The MQTT topic filter: every level holding a placeholder becomes ``+``."""
        return "/".join("+" if _PLACEHOLDER.search(level) else level for level in _levels(self))

    @property
    def result_path(self) -> str:
        return self.result or ("result" if self.format == "sensorthings" else "value")

    @property
    def time_path(self) -> str | None:
        return self.time or ("phenomenonTime" if self.format == "sensorthings" else None)

    def match(self, topic: str) -> dict[str, str] | None:
        """The placeholders' values if ``topic`` belongs to this mapping, else None."""
        found = _regex(self.topic).match(topic)
        return found.groupdict() if found else None

    def parse(self, topic: str, payload: bytes) -> Parsed:
        """The reading in ``payload``; raises :class:`PayloadProblem`."""
        values = self.match(topic) or {}
        thing = _key(values.get("thing") or self.thing, "thing", topic)
        datastream = _key(values.get("datastream") or self.datastream, "datastream", topic)
        if self.format == "number":
            return Parsed(thing, datastream, _text(payload).strip())
        doc = _json(payload)
        result = lookup(doc, self.result_path)
        if result is _MISSING:
            raise PayloadProblem(
                "no-result",
                f"Der Messwert fehlt (kein Feld „{self.result_path}“ in der Nachricht).",
                f"The result is missing (no field '{self.result_path}' in the message).",
                _shown(doc),
            )
        time = self._time(doc)
        result_time = None
        if self.format == "sensorthings":
            found = lookup(doc, "resultTime")
            result_time = None if found is _MISSING or found is None else _time_value(found)
        return Parsed(thing, datastream, _clean(result), time, result_time)

    def _time(self, doc: Any) -> str | int | None:
        path = self.time_path
        if path is None:
            return None
        found = lookup(doc, path)
        if found is _MISSING or found is None:
            if self.format == "sensorthings" and self.time is None:
                return None  # STA: a missing phenomenonTime is the time of arrival
            raise PayloadProblem(
                "no-time",
                f"Die Zeitangabe fehlt (kein Feld „{path}“ in der Nachricht).",
                f"The time is missing (no field '{path}' in the message).",
                _shown(doc),
            )
        return _time_value(found)


def mappings(options: dict[str, Any]) -> list[Mapping]:
    """The mappings of an mqtt source's options, checked; raises :class:`MappingError`."""
    raw = options.get("mappings") or []
    if not raw:
        raise MappingError(
            "options.mappings",
            "Es ist keine Zuordnung (options.mappings) angegeben; ohne sie wird nichts abonniert.",
            "No mapping (options.mappings) is given; without one nothing is subscribed.",
        )
    out = []
    for i, item in enumerate(raw):
        mapping = Mapping(
            topic=str(item["topic"]),
            format=str(item.get("format") or "json"),
            result=item.get("result"),
            time=item.get("time"),
            thing=item.get("thing"),
            datastream=item.get("datastream"),
        )
        _check(mapping, f"options.mappings[{i}]")
        out.append(mapping)
    return out


def subscriptions(found: list[Mapping]) -> list[str]:
    """The distinct topic filters to subscribe to, in the order of the mappings."""
    return list(dict.fromkeys(m.subscription for m in found))


def first_match(found: list[Mapping], topic: str) -> Mapping | None:
    return next((m for m in found if m.match(topic) is not None), None)


def lookup(doc: Any, path: str) -> Any:
    """The value at a dotted path (``data.pm10``, ``values.0``) or ``_MISSING``."""
    current = doc
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif (
            isinstance(current, list)
            and part.lstrip("-").isdigit()
            and -len(current) <= int(part) < len(current)
        ):
            current = current[int(part)]
        else:
            return _MISSING
    return current


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


def _levels(mapping: Mapping) -> list[str]:
    return mapping.topic.split("/")


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def _regex(template: str) -> re.Pattern[str]:
    known = _REGEX_CACHE.get(template)
    if known is not None:
        return known
    parts: list[str] = []
    levels = template.split("/")
    for i, level in enumerate(levels):
        if level == "#" and i == len(levels) - 1:
            parts.append("#")
            break
        if level == "+":
            parts.append("[^/]+")
            continue
        pattern, at = "", 0
        for found in _PLACEHOLDER.finditer(level):
            pattern += re.escape(level[at : found.start()]) + f"(?P<{found.group(1)}>[^/]+)"
            at = found.end()
        parts.append(pattern + re.escape(level[at:]))
    if parts and parts[-1] == "#":
        head = "/".join(parts[:-1])
        text = f"^{head}(?:/.*)?$" if head else "^.*$"
    else:
        text = "^" + "/".join(parts) + "$"
    compiled = re.compile(text, re.DOTALL)
    _REGEX_CACHE[template] = compiled
    return compiled


def _check(mapping: Mapping, where: str) -> None:
    topic = mapping.topic
    levels = topic.split("/")
    names = _PLACEHOLDER.findall(topic)
    problem: tuple[str, str] | None = None
    if not topic:
        problem = ("Das Thema (topic) ist leer.", "The topic is empty.")
    elif mapping.format not in FORMATS:
        problem = (
            f"Unbekanntes Format „{mapping.format}“; möglich: {', '.join(FORMATS)}.",
            f"Unknown format '{mapping.format}'; possible: {', '.join(FORMATS)}.",
        )
    elif "#" in levels[:-1] or any("#" in lv and lv != "#" for lv in levels):
        problem = (
            "„#“ ist nur als letzte Ebene des Themas erlaubt (z. B. dresden/luft/#).",
            "'#' is allowed only as the last level of the topic (e.g. dresden/luft/#).",
        )
    elif any("+" in lv and lv != "+" for lv in levels):
        problem = (
            "„+“ muss eine ganze Ebene sein (z. B. dresden/+/pm10).",
            "'+' must be a whole level (e.g. dresden/+/pm10).",
        )
    elif len(names) != len(set(names)):
        problem = ("Ein Platzhalter kommt doppelt vor.", "A placeholder occurs twice.")
    elif "thing" not in names and not mapping.thing:
        problem = (
            "Die Station fehlt: {thing} im Thema oder „thing: <Schlüssel>“ angeben.",
            "The station is missing: put {thing} in the topic or give 'thing: <key>'.",
        )
    elif "datastream" not in names and not mapping.datastream:
        problem = (
            "Die Zeitreihe fehlt: {datastream} im Thema oder „datastream: <Schlüssel>“ angeben.",
            "The series is missing: put {datastream} in the topic or give 'datastream: <key>'.",
        )
    elif mapping.format == "number" and (mapping.result or mapping.time):
        problem = (
            "Beim Format „number“ ist die Nachricht nur eine Zahl; result und time passen nicht.",
            "With format 'number' the message is just a number; result and time do not apply.",
        )
    if problem is not None:
        raise MappingError(f"{where}.topic", *problem)


def _key(value: str | None, kind: str, topic: str) -> str:
    key = (value or "").strip()
    if not key or len(key) > KEY_LIMIT:
        raise PayloadProblem(
            "bad-key",
            f"Der Schlüssel für {'Station' if kind == 'thing' else 'Zeitreihe'} aus dem Thema "
            f"ist leer oder länger als {KEY_LIMIT} Zeichen.",
            f"The {kind} key from the topic is empty or longer than {KEY_LIMIT} characters.",
            topic,
        )
    return key


def _text(payload: bytes) -> str:
    try:
        return payload.decode("utf-8").replace("\x00", "\ufffd")
    except UnicodeDecodeError:
        raise PayloadProblem(
            "bad-encoding",
            "Die Nachricht ist kein UTF-8-Text.",
            "The message is not UTF-8 text.",
            payload[:200].hex(),
        ) from None


def _json(payload: bytes) -> Any:
    text = _text(payload)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise PayloadProblem(
            "invalid-json",
            f"Die Nachricht ist kein gültiges JSON ({exc}).",
            f"The message is not valid JSON ({exc}).",
            text,
        ) from None


def _time_value(value: Any) -> str | int:
    """ISO text as it is; a JSON number as seconds (or milliseconds, if that large)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PayloadProblem(
            "bad-time",
            f"„{_shown(value)}“ ist keine Zeitangabe.",
            f"'{_shown(value)}' is not a time.",
            _shown(value),
        )
    if isinstance(value, str):
        return value
    if not math.isfinite(value):
        raise PayloadProblem("bad-time", "Ungültige Zeitangabe.", "Invalid time.", str(value))
    return int(value) if abs(value) >= _MS_FROM else int(round(value * 1000))


def _clean(value: Any) -> Any:
    """Text without NUL characters (PostgreSQL refuses them in text columns)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict | list):
        return _shown(value)
    return value


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text[:200].replace("\x00", "\ufffd")
