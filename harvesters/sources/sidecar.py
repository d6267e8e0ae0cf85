"""Sidecar YAML files: the metadata a Datenkontaktperson writes next to a data file.

``wahlbezirke.geojson`` is described by ``wahlbezirke.geojson.yaml`` (the file name plus
``.yaml``; preferred, because it is unambiguous) or by ``wahlbezirke.yaml`` (the name without its
extension); ``.yml`` works as well. Every key is optional; what is missing comes from the
source's ``defaults``. An unknown key, a value of the wrong type or a value that is not in its
vocabulary (licence, theme, frequency, language) is a :class:`SidecarError` that names the
sidecar file, the line and the key in German and English, and suggests the nearest valid key or
code. The example ``config/harvesters/examples/files-sidecar.yaml`` explains every key.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
import yaml
from rdflib import URIRef

from catalog import model
from catalog.spatial import GeometryError, parse_geometry
from catalog.vocabularies import LICENCES, THEMES, by_code, concepts

EU = "http://publications.europa.eu/resource/authority/"
FREQUENCIES = f"{EU}frequency"
LANGUAGE = f"{EU}language/"
SIDECAR_SUFFIXES = (".yaml", ".yml")

# --- what a sidecar may say -------------------------------------------------------------------

# key -> (kind, German name, English name); each kind has its converter in _CONVERTERS.
KEYS: dict[str, tuple[str, str, str]] = {
    "title": ("text", "Titel", "title"),
    "description": ("text", "Beschreibung", "description"),
    "keywords": ("strings", "Schlagwörter", "keywords"),
    "license": ("license", "Lizenz", "licence"),
    "attribution": ("string", "Namensnennung", "attribution"),
    "themes": ("themes", "Themen", "themes"),
    "issued": ("date", "Veröffentlichungsdatum", "issue date"),
    "modified": ("date", "Änderungsdatum", "modification date"),
    "accrual_periodicity": ("frequency", "Aktualisierungsintervall", "update frequency"),
    "contact_point": ("contact", "Ansprechpartner", "contact point"),
    "publisher": ("agent", "Herausgeber", "publisher"),
    "temporal": ("period", "Zeitraum", "temporal coverage"),
    "identifier": ("identifier", "Kennung", "identifier"),
    "landing_page": ("url", "Webseite", "landing page"),
    "spatial": ("spatial", "Raumbezug", "spatial coverage"),
    "language": ("languages", "Sprache", "language"),
}
CONTACT_KEYS = ("name", "email", "url", "telephone")
AGENT_KEYS = ("name", "uri", "email", "homepage")
PERIOD_KEYS = ("start", "end")
TEXT_LANGUAGES = ("de", "en")

# Keys people write by habit (German, CKAN, British spelling): suggested, never accepted silently.
ALIASES = {
    "titel": "title",
    "name": "title",
    "beschreibung": "description",
    "notes": "description",
    "schlagworte": "keywords",
    "schlagwörter": "keywords",
    "stichworte": "keywords",
    "tags": "keywords",
    "lizenz": "license",
    "licence": "license",
    "license_id": "license",
    "namensnennung": "attribution",
    "quellenvermerk": "attribution",
    "license_attribution": "attribution",
    "licenseattributionbytext": "attribution",
    "themen": "themes",
    "theme": "themes",
    "kategorien": "themes",
    "groups": "themes",
    "veröffentlicht": "issued",
    "geändert": "modified",
    "aktualisiert": "modified",
    "aktualisierung": "accrual_periodicity",
    "periodizität": "accrual_periodicity",
    "frequency": "accrual_periodicity",
    "update_frequency": "accrual_periodicity",
    "kontakt": "contact_point",
    "ansprechpartner": "contact_point",
    "contact": "contact_point",
    "maintainer": "contact_point",
    "herausgeber": "publisher",
    "author": "publisher",
    "zeitraum": "temporal",
    "kennung": "identifier",
    "id": "identifier",
    "webseite": "landing_page",
    "url": "landing_page",
    "homepage": "landing_page",
    "raumbezug": "spatial",
    "gebiet": "spatial",
    "bbox": "spatial",
    "sprache": "language",
    "languages": "language",
}

_LANGUAGE_CODES = {  # ISO 639-1 and names -> EU language authority code
    "de": "DEU",
    "deutsch": "DEU",
    "german": "DEU",
    "en": "ENG",
    "englisch": "ENG",
    "english": "ENG",
    "fr": "FRA",
    "französisch": "FRA",
    "french": "FRA",
    "pl": "POL",
    "polnisch": "POL",
    "polish": "POL",
    "cs": "CES",
    "tschechisch": "CES",
    "czech": "CES",
    "hsb": "HSB",
    "obersorbisch": "HSB",
    "dsb": "DSB",
    "niedersorbisch": "DSB",
}
_LICENCE_ALIASES = {  # common spellings (GovData, SPDX) -> code of the dcat-ap.de list
    "dl-de/by-2-0": "dl-by-de/2.0",
    "dl-de-by-2.0": "dl-by-de/2.0",
    "dl-by-de-2.0": "dl-by-de/2.0",
    "dl-de/zero-2-0": "dl-zero-de/2.0",
    "dl-de-zero-2.0": "dl-zero-de/2.0",
    "dl-de/by-1-0": "dl-by-de/1.0",
    "cc-by-4.0": "cc-by/4.0",
    "cc by 4.0": "cc-by/4.0",
    "cc-by-sa-4.0": "cc-by-sa/4.0",
    "cc0": "cc-zero",
    "cc0-1.0": "cc-zero",
    "odbl-1.0": "odbl",
}
_FREQUENCY_ALIASES = {
    "yearly": "ANNUAL",
    "annually": "ANNUAL",
    "jaehrlich": "ANNUAL",
    "monatlich": "MONTHLY",
    "monthly": "MONTHLY",
    "irregular": "IRREG",
    "continuous": "CONT",
    "realtime": "CONT",
    "echtzeit": "CONT",
}
_HTTP = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
_EMAIL = re.compile(r"^[^\s@<>\"]+@[^\s@<>\"]+\.[^\s@<>\"]+$")
_ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass
class Sidecar:
    """What one sidecar says, converted to model values (IRIs, ISO dates, language maps)."""

    path: Path | None = None
    title: dict[str, str] = field(default_factory=dict)
    description: dict[str, str] = field(default_factory=dict)
    keywords: list[str] = field(default_factory=list)
    license: str | None = None
    attribution: str | None = None
    themes: list[str] = field(default_factory=list)
    issued: str | None = None
    modified: str | None = None
    accrual_periodicity: str | None = None
    contact_point: model.ContactPoint | None = None
    publisher: model.Agent | None = None
    temporal: model.PeriodOfTime | None = None
    identifier: str | None = None
    landing_page: str | None = None
    spatial: list[model.Location] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SidecarProblem:
    where: str  # "<sidecar>, line 4, key 'titel'"
    de: str
    en: str


class SidecarError(Exception):
    """The sidecar cannot be used; ``problems`` name file, line and key in German and English."""

    def __init__(self, problems: list[SidecarProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.where}: {p.en}" for p in problems))


def find_sidecar(data_file: Path, folder: Path | None = None) -> Path | None:
    """``<name>.yaml`` (preferred) or ``<stem>.yaml`` (also ``.yml``) in ``folder`` (default:
    the data file's own folder)."""
    folder = folder if folder is not None else data_file.parent
    names = [data_file.name + s for s in SIDECAR_SUFFIXES]
    if data_file.suffix:
        names += [data_file.stem + s for s in SIDECAR_SUFFIXES]
    for name in names:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def is_sidecar_name(name: str) -> bool:
    return name.lower().endswith(SIDECAR_SUFFIXES)


# --- reading ------------------------------------------------------------------------------------


class _Reader:
    """Walks the YAML node tree, so that every problem can name its line."""

    def __init__(self, label: str, loader: yaml.SafeLoader) -> None:
        self.label = label
        self.loader = loader
        self.problems: list[SidecarProblem] = []

    def where(self, node: yaml.Node, key: str | None) -> str:
        line = node.start_mark.line + 1
        return f"{self.label}, line {line}" + (f", key '{key}'" if key else "")

    def fail(self, node: yaml.Node, key: str | None, de: str, en: str) -> None:
        line = node.start_mark.line + 1
        self.problems.append(
            SidecarProblem(
                self.where(node, key),
                f"{self.label}, Zeile {line}: {de}",
                f"{self.label}, line {line}: {en}",
            )
        )

    def value(self, node: yaml.Node) -> Any:
        return self.loader.construct_object(node, deep=True)

    def mapping(
        self, node: yaml.Node, allowed: tuple[str, ...] | dict[str, Any], path: str
    ) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """(key, key node, value node) of a mapping; unknown and doubled keys are problems."""
        if not isinstance(node, yaml.MappingNode):
            self.wrong_type(
                node, path, self.value(node), "eine Zuordnung (Schlüssel: Wert)", "a mapping"
            )
            return []
        out: list[tuple[str, yaml.Node, yaml.Node]] = []
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(self.value(key_node))
            full = f"{path}.{key}" if path else key
            if key not in allowed:
                self.unknown_key(key_node, key, full, list(allowed), path)
                continue
            if key in seen:
                self.fail(
                    key_node,
                    full,
                    f"Schlüssel '{full}' steht zweimal in der Datei",
                    f"key '{full}' appears twice",
                )
                continue
            seen.add(key)
            out.append((key, key_node, value_node))
        return out

    def unknown_key(
        self, node: yaml.Node, key: str, full: str, allowed: list[str], path: str
    ) -> None:
        guess = ALIASES.get(key.lower()) if not path else None
        if guess is None:
            close = difflib.get_close_matches(key.lower(), allowed, n=1, cutoff=0.5)
            guess = close[0] if close else None
        where_de = f" unter '{path}'" if path else ""
        where_en = f" in '{path}'" if path else ""
        hint_de = f"; meinten Sie '{guess}'?" if guess else ""
        hint_en = f"; did you mean '{guess}'?" if guess else ""
        self.fail(
            node,
            full,
            f"unbekannter Schlüssel '{key}'{where_de}{hint_de} (erlaubt: {', '.join(allowed)})",
            f"unknown key '{key}'{where_en}{hint_en} (allowed: {', '.join(allowed)})",
        )

    def wrong_type(self, node: yaml.Node, key: str, value: Any, want_de: str, want_en: str) -> None:
        got_de, got_en = _type_name(value)
        self.fail(
            node,
            key,
            f"'{key}' muss {want_de} sein, gefunden: {got_de} ({_short(value)})",
            f"'{key}' must be {want_en}, found: {got_en} ({_short(value)})",
        )


def _type_name(value: Any) -> tuple[str, str]:
    if isinstance(value, bool):
        return "Wahrheitswert", "boolean"
    if isinstance(value, int | float):
        return "Zahl", "number"
    if isinstance(value, str):
        return "Text", "text"
    if isinstance(value, dt.date):
        return "Datum", "date"
    if isinstance(value, list):
        return "Liste", "list"
    if isinstance(value, dict):
        return "Zuordnung", "mapping"
    return type(value).__name__, type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_sidecar(path: Path, label: str | None = None) -> Sidecar:
    """Read and check one sidecar; raises SidecarError naming ``label`` (default: file name)."""
    label = label or path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SidecarError(
            [
                SidecarProblem(
                    label,
                    f"{label}: Datei ist nicht in UTF-8 gespeichert (Byte {exc.start})",
                    f"{label}: file is not saved as UTF-8 (byte {exc.start})",
                )
            ]
        ) from None
    return parse_sidecar(text, label, path)


def parse_sidecar(text: str, label: str, path: Path | None = None) -> Sidecar:
    """Check the YAML ``text`` of a sidecar called ``label`` (in messages) and convert it."""
    loader = yaml.SafeLoader(text)
    try:
        return _parse(loader, label, path)
    except yaml.MarkedYAMLError as exc:  # syntax, or a tag the safe loader refuses
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        reason = " ".join(str(exc.problem or exc).split())
        raise SidecarError(
            [
                SidecarProblem(
                    f"{label}, line {line}",
                    f"{label}, Zeile {line}: kein gültiges YAML ({reason}); oft fehlt ein "
                    "Leerzeichen nach dem Doppelpunkt oder die Einrückung stimmt nicht",
                    f"{label}, line {line}: not valid YAML ({reason})",
                )
            ]
        ) from None
    finally:
        loader.dispose()


def _parse(loader: yaml.SafeLoader, label: str, path: Path | None) -> Sidecar:
    root = loader.get_single_node()
    sidecar = Sidecar(path=path)
    if root is None:  # empty file or comments only: nothing to say
        return sidecar
    if not isinstance(root, yaml.MappingNode):
        line = root.start_mark.line + 1
        raise SidecarError(
            [
                SidecarProblem(
                    f"{label}, line {line}",
                    f"{label}, Zeile {line}: die Datei muss aus Zeilen 'schlüssel: wert' "
                    "bestehen (z. B. 'title: Wahlbezirke')",
                    f"{label}, line {line}: the file must consist of 'key: value' lines "
                    "(e.g. 'title: Wahlbezirke')",
                )
            ]
        )
    reader = _Reader(label, loader)
    for key, _key_node, value_node in reader.mapping(root, KEYS, ""):
        value = reader.value(value_node)
        if value is None or value == "" or value == []:
            continue  # left empty: the source's default applies
        converted = _CONVERTERS[KEYS[key][0]](reader, key, value_node, value)
        if converted is not None:
            setattr(sidecar, "languages" if key == "language" else key, converted)
    if reader.problems:
        raise SidecarError(reader.problems)
    return sidecar


# --- value conversion -----------------------------------------------------------------------------

Converter = Callable[[_Reader, str, yaml.Node, Any], Any]


def _text(reader: _Reader, key: str, node: yaml.Node, value: Any) -> dict[str, str] | None:
    if isinstance(value, str):
        return {"de": value.strip()}
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for lang, _key_node, sub_node in reader.mapping(node, TEXT_LANGUAGES, key):
            sub = reader.value(sub_node)
            if sub is None:
                continue
            if not isinstance(sub, str):
                reader.wrong_type(sub_node, f"{key}.{lang}", sub, "ein Text", "a text")
                continue
            out[lang] = sub.strip()
        return out
    reader.wrong_type(
        node,
        key,
        value,
        "ein Text oder eine Zuordnung mit de/en",
        "a text or a mapping with de/en",
    )
    return None


def _string(reader: _Reader, key: str, node: yaml.Node, value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip()
    reader.wrong_type(node, key, value, "ein Text", "a text")
    return None


def _identifier(reader: _Reader, key: str, node: yaml.Node, value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # "identifier: 4711" is meant as text
    return _string(reader, key, node, value)


def _strings(reader: _Reader, key: str, node: yaml.Node, value: Any) -> list[str] | None:
    """A list of texts, or one text (a one-element list); numbers in the list are text."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            reader.wrong_type(node, key, value, "eine Liste von Texten", "a list of texts")
            return None
        text = str(item).strip()
        if text and text not in out:
            out.append(text)
    return out


def _url(reader: _Reader, key: str, node: yaml.Node, value: Any) -> str | None:
    if not isinstance(value, str):
        reader.wrong_type(node, key, value, "eine Web-Adresse (https://…)", "a web address")
        return None
    value = value.strip()
    if not _HTTP.match(value):
        reader.fail(
            node,
            key,
            f"'{key}' muss eine vollständige Web-Adresse sein (beginnt mit https://), "
            f"gefunden: {value!r}",
            f"'{key}' must be a full web address (starting with https://), found: {value!r}",
        )
        return None
    return value


def _iri(reader: _Reader, key: str, node: yaml.Node, value: Any) -> str | None:
    if isinstance(value, str) and _IRI.match(value.strip()):
        return value.strip()
    if not isinstance(value, str):
        reader.wrong_type(node, key, value, "eine IRI (https://…)", "an IRI (https://…)")
    else:
        reader.fail(
            node,
            key,
            f"'{key}' muss eine vollständige Adresse (IRI, z. B. https://…) sein, "
            f"gefunden: {value!r}",
            f"'{key}' must be a full IRI (e.g. https://…), found: {value!r}",
        )
    return None


def _email(reader: _Reader, key: str, node: yaml.Node, value: Any) -> str | None:
    if not isinstance(value, str):
        reader.wrong_type(node, key, value, "eine E-Mail-Adresse", "an e-mail address")
        return None
    address = value.strip().removeprefix("mailto:")
    if not _EMAIL.match(address):
        reader.fail(
            node,
            key,
            f"'{key}' ist keine gültige E-Mail-Adresse: {value!r}",
            f"'{key}' is not a valid e-mail address: {value!r}",
        )
        return None
    return f"mailto:{address}"


def _telephone(reader: _Reader, key: str, node: yaml.Node, value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        reader.wrong_type(node, key, value, "eine Telefonnummer", "a telephone number")
        return None
    number = value.strip().removeprefix("tel:")
    digits = re.sub(r"[\s()/.-]", "", number)
    if not re.fullmatch(r"\+?\d{3,20}", digits):
        reader.fail(
            node,
            key,
            f"'{key}' ist keine Telefonnummer: {value!r} (z. B. +49 351 4880)",
            f"'{key}' is not a telephone number: {value!r} (e.g. +49 351 4880)",
        )
        return None
    return f"tel:{digits}"


def _date(reader: _Reader, key: str, node: yaml.Node, value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
        return str(value)  # a year
    if isinstance(value, str):
        text = value.strip()
        if _ISO_DATE.match(text):
            return text
        try:
            return dt.datetime.fromisoformat(text).isoformat()
        except ValueError:
            pass
        german = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
        if german:
            day, month, year = (int(g) for g in german.groups())
            try:
                return dt.date(year, month, day).isoformat()
            except ValueError:
                pass
    reader.fail(
        node,
        key,
        f"'{key}' muss ein Datum sein (z. B. 2024-10-15 oder 15.10.2024), gefunden: {value!r}",
        f"'{key}' must be a date (e.g. 2024-10-15), found: {value!r}",
    )
    return None


def _vocabulary(
    reader: _Reader,
    key: str,
    node: yaml.Node,
    value: Any,
    table: dict[str, str],
    name: tuple[str, str],
    codes: dict[str, str],
    list_all: bool = False,
) -> str | None:
    """``value`` looked up (case-insensitively) in ``table`` (codes, labels, aliases -> IRI);
    an IRI of the table's values passes. ``codes`` maps IRIs to the code a message suggests."""
    if not isinstance(value, str):
        reader.wrong_type(node, key, value, "ein Text", "a text")
        return None
    text = value.strip()
    if text in table.values():
        return text
    found = table.get(text.lower())
    if found:
        return found
    close = difflib.get_close_matches(text.lower(), list(table), n=1, cutoff=0.6)
    guess = codes.get(table[close[0]]) if close else None
    hint_de = f"; meinten Sie '{guess}'?" if guess else ""
    hint_en = f"; did you mean '{guess}'?" if guess else ""
    if list_all:
        hint_de += f" (erlaubt: {', '.join(sorted(set(codes.values())))})"
        hint_en += f" (allowed: {', '.join(sorted(set(codes.values())))})"
    reader.fail(
        node,
        key,
        f"'{key}': {text!r} ist keine bekannte {name[0]}{hint_de}",
        f"'{key}': {text!r} is not a known {name[1]}{hint_en}",
    )
    return None


def _table(scheme: str, aliases: dict[str, str]) -> dict[str, str]:
    """Codes, labels and aliases (lower-case) -> IRI of the concept."""
    out: dict[str, str] = {}
    for concept in concepts(URIRef(scheme)).values():
        out[concept.code.lower()] = concept.iri
        for label in concept.labels.values():
            out.setdefault(label.strip().lower(), concept.iri)
    codes = by_code(URIRef(scheme))
    for alias, code in aliases.items():
        concept = codes.get(code.lower())
        if concept is not None:
            out[alias] = concept.iri
    return out


def _codes(scheme: str) -> dict[str, str]:
    return {c.iri: c.code for c in concepts(URIRef(scheme)).values()}


def _license(reader: _Reader, key: str, node: yaml.Node, value: Any) -> str | None:
    if isinstance(value, str) and _HTTP.match(value.strip()):
        return value.strip()  # any licence IRI; the dcat-ap.de list is preferred
    return _vocabulary(
        reader,
        key,
        node,
        value,
        _table(str(LICENCES), _LICENCE_ALIASES),
        ("Lizenz (Liste: https://www.dcat-ap.de/def/licenses/)", "licence"),
        _codes(str(LICENCES)),
    )


def _themes(reader: _Reader, key: str, node: yaml.Node, value: Any) -> list[str] | None:
    items = _strings(reader, key, node, value)
    if items is None:
        return None
    table, codes = _table(str(THEMES), {}), _codes(str(THEMES))
    found = [
        _vocabulary(reader, key, node, item, table, ("Themen-Kennung", "theme"), codes, True)
        for item in items
    ]
    return [iri for iri in found if iri]


def _frequency(reader: _Reader, key: str, node: yaml.Node, value: Any) -> str | None:
    table = _table(FREQUENCIES, _FREQUENCY_ALIASES)
    return _vocabulary(
        reader, key, node, value, table, ("Häufigkeit", "frequency"), _codes(FREQUENCIES)
    )


def _languages(reader: _Reader, key: str, node: yaml.Node, value: Any) -> list[str] | None:
    items = _strings(reader, key, node, value)
    if items is None:
        return None
    out: list[str] = []
    for item in items:
        if item.startswith(LANGUAGE):
            out.append(item)
            continue
        code = _LANGUAGE_CODES.get(item.lower()) or (item.upper() if len(item) == 3 else None)
        if code is None or not code.isalpha():
            reader.fail(
                node,
                key,
                f"'{key}': {item!r} ist keine Sprache (z. B. de, en, DEU)",
                f"'{key}': {item!r} is not a language (e.g. de, en, DEU)",
            )
            continue
        out.append(f"{LANGUAGE}{code}")
    return out


def _contact(reader: _Reader, key: str, node: yaml.Node, value: Any) -> model.ContactPoint | None:
    parts = _sub_values(
        reader,
        key,
        node,
        CONTACT_KEYS,
        {"name": _string, "email": _email, "url": _url, "telephone": _telephone},
    )
    if parts is None:
        return None
    return model.ContactPoint(
        fn={"de": parts["name"]} if parts.get("name") else {},
        email=parts.get("email"),
        url=parts.get("url"),
        telephone=parts.get("telephone"),
    )


def _agent(reader: _Reader, key: str, node: yaml.Node, value: Any) -> model.Agent | None:
    parts = _sub_values(
        reader,
        key,
        node,
        AGENT_KEYS,
        {"name": _string, "uri": _iri, "email": _email, "homepage": _url},
    )
    if parts is None:
        return None
    return model.Agent(
        uri=parts.get("uri"),
        name={"de": parts["name"]} if parts.get("name") else {},
        email=parts.get("email"),
        homepage=parts.get("homepage"),
    )


def _period(reader: _Reader, key: str, node: yaml.Node, value: Any) -> model.PeriodOfTime | None:
    parts = _sub_values(reader, key, node, PERIOD_KEYS, {"start": _date, "end": _date})
    if parts is None:
        return None
    start, end = parts.get("start"), parts.get("end")
    if start and end and end < start:
        reader.fail(
            node,
            key,
            f"'{key}': das Ende ({end}) liegt vor dem Anfang ({start})",
            f"'{key}': the end ({end}) is before the start ({start})",
        )
        return None
    return model.PeriodOfTime(start=start, end=end) if (start or end) else None


def _sub_values(
    reader: _Reader,
    key: str,
    node: yaml.Node,
    allowed: tuple[str, ...],
    converters: dict[str, Converter],
) -> dict[str, Any] | None:
    if not isinstance(node, yaml.MappingNode):
        reader.wrong_type(
            node,
            key,
            reader.value(node),
            f"eine Zuordnung mit {', '.join(allowed)}",
            f"a mapping with {', '.join(allowed)}",
        )
        return None
    before = len(reader.problems)
    out: dict[str, Any] = {}
    for sub, _key_node, sub_node in reader.mapping(node, allowed, key):
        value = reader.value(sub_node)
        if value is None or value == "":
            continue
        converted = converters[sub](reader, f"{key}.{sub}", sub_node, value)
        if converted is not None:
            out[sub] = converted
    return out if len(reader.problems) == before else None


def _spatial(reader: _Reader, key: str, node: yaml.Node, value: Any) -> list[model.Location] | None:
    """An IRI (e.g. a regional key), a WKT/GeoJSON geometry in lon/lat, a bounding box
    [west, south, east, north], or a list of these."""
    if isinstance(value, list) and len(value) == 4 and all(_is_number(v) for v in value):
        west, south, east, north = (float(v) for v in value)
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            reader.fail(
                node,
                key,
                f"'{key}': Begrenzungsrahmen [West, Süd, Ost, Nord] in Grad erwartet, "
                f"gefunden: {value!r}",
                f"'{key}': bounding box [west, south, east, north] in degrees expected, "
                f"found: {value!r}",
            )
            return None
        wkt = shapely.to_wkt(shapely.box(west, south, east, north), rounding_precision=6)
        return [model.Location(bbox=wkt)]
    items = value if isinstance(value, list) else [value]
    out: list[model.Location] = []
    for item in items:
        if not isinstance(item, str):
            reader.wrong_type(
                node,
                key,
                value,
                "eine Adresse (IRI), eine WKT-Geometrie oder [West, Süd, Ost, Nord]",
                "an IRI, a WKT geometry or [west, south, east, north]",
            )
            return None
        text = item.strip()
        if _HTTP.match(text):
            out.append(model.Location(uri=text))
            continue
        try:
            parse_geometry(text)
        except GeometryError as exc:
            reader.fail(
                node,
                key,
                f"'{key}': Geometrie nicht lesbar ({exc})",
                f"'{key}': geometry cannot be read ({exc})",
            )
            return None
        out.append(model.Location(geometry=text))
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_CONVERTERS: dict[str, Converter] = {
    "text": _text,
    "string": _string,
    "identifier": _identifier,
    "strings": _strings,
    "url": _url,
    "date": _date,
    "license": _license,
    "themes": _themes,
    "frequency": _frequency,
    "languages": _languages,
    "contact": _contact,
    "agent": _agent,
    "period": _period,
    "spatial": _spatial,
}
