"""Reading and checking harvest source files: one YAML file per source.

Every mistake is reported with file, line, field and a German and English hint, so that a
Datenkontaktperson can fix it without reading code: unknown keys with the nearest valid one, a
bad cron expression, a missing or unknown licence, a folder or URL that cannot be reached, a
secret written into the file instead of an environment variable's name.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import jsonschema
import requests
import yaml
from croniter import croniter

from catalog.vocabularies import LICENCES, THEMES, by_code, concepts
from harvesters.base import Defaults, SourceConfig
from harvesters.config_schema import FILTERS, OPTIONS, SCHEMA, TYPES
from harvesters.defaults import GEOCODING_LEVEL

# the licence and geodata questions matter most where the source itself has no metadata
NEEDS_LICENCE = {
    "files",
    "ogcapi-features",
    "wfs",
    "sensorthings",
    "mqtt",
    "sensor-community",
    "opensensemap",
    "timeseries-files",
}
GEOCODING_LEVELS = ["federal", "state", "administrativeDistrict", "municipality"]
LANGUAGE = "http://publications.europa.eu/resource/authority/language/"


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int | None
    field: str
    de: str
    en: str
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        label = "Fehler/error" if self.severity == "error" else "Warnung/warning"
        field = f" [{self.field}]" if self.field else ""
        return f"{where}: {label}{field}: {self.de}\n    {self.en}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "severity": self.severity,
            "de": self.de,
            "en": self.en,
        }


class ConfigError(Exception):
    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def source_files(folder: Path) -> list[Path]:
    """The source files of a folder (examples and hidden files are not sources)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def load_sources(folder: Path, *, online: bool = False) -> tuple[list[SourceConfig], list]:
    """Every valid source of ``folder`` and the problems of all files (names unique)."""
    configs: list[SourceConfig] = []
    problems: list[ConfigProblem] = []
    names: dict[str, Path] = {}
    for path in source_files(folder):
        config, found = check_file(path, online=online)
        problems += found
        if config is None:
            continue
        if config.name in names:
            problems.append(
                ConfigProblem(
                    str(path),
                    None,
                    "name",
                    f"Der Name „{config.name}“ wird schon von {names[config.name].name} "
                    "verwendet; jede Quelle braucht einen eigenen Namen.",
                    f"The name '{config.name}' is already used by {names[config.name].name}; "
                    "every source needs its own name.",
                )
            )
            continue
        names[config.name] = path
        configs.append(config)
    return configs, problems


def load_source(path: Path) -> SourceConfig:
    """One source file; raises ConfigError listing every error in it."""
    config, problems = check_file(path)
    errors = [p for p in problems if p.severity == "error"]
    if config is None or errors:
        raise ConfigError(errors or problems)
    return config


def check_file(path: Path, *, online: bool = False) -> tuple[SourceConfig | None, list]:
    """Check one file; returns the config (None if it has errors) and all problems."""
    file = str(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [
            ConfigProblem(
                file, None, "", f"Datei nicht lesbar: {exc}", f"File cannot be read: {exc}"
            )
        ]
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        return None, [
            ConfigProblem(
                file,
                line,
                "",
                f"Kein gültiges YAML ({exc.problem}); oft fehlt ein Leerzeichen nach dem "
                "Doppelpunkt oder die Einrückung stimmt nicht.",
                f"Not valid YAML ({exc.problem}); often a space after the colon is missing or "
                "the indentation is off.",
            )
        ]
    if not isinstance(data, dict):
        return None, [
            ConfigProblem(
                file,
                1,
                "",
                "Die Datei muss Schlüssel wie name:, type: und organization: enthalten.",
                "The file must hold keys such as name:, type: and organization:.",
            )
        ]
    if "type" not in data and "name" not in data and {"title", "license"} & set(data):
        return None, [
            ConfigProblem(
                file,
                1,
                "",
                "Das ist eine Begleitdatei (Beschreibung einer Datendatei), keine Quelldatei; "
                "sie gehört neben die Datendatei, nicht nach config/harvesters/.",
                "This is a sidecar (metadata of one data file), not a source file; it belongs "
                "next to its data file, not in config/harvesters/.",
            )
        ]
    lines = _Lines(node)
    problems = lines.duplicates(file)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        problems += _explain(file, lines, error, data)
    schema_ok = not problems
    problems += _semantic(file, lines, data, path, online)
    problems = sorted(_unique(problems), key=lambda p: (p.line or 0, p.field))
    if not schema_ok or any(p.severity == "error" for p in problems):
        return None, problems
    return _build(data, path), problems


def _unique(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    seen: set[tuple] = set()
    out = []
    for p in problems:
        key = (p.line, p.field, p.en)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


class _Lines:
    """Line numbers of the YAML nodes by path (keys and values)."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root

    def _find(self, path: list[Any]) -> tuple[yaml.Node | None, yaml.Node | None]:
        node, key_node = self.root, None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                match = [(k, v) for k, v in node.value if k.value == part]
                if not match:
                    return node, key_node
                key_node, node = match[-1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    return node, key_node
                key_node, node = None, node.value[part]
            else:
                return node, key_node
        return node, key_node

    def line(self, path: list[Any]) -> int | None:
        node, key_node = self._find(path)
        target = key_node or node
        return target.start_mark.line + 1 if target is not None else None

    def duplicates(self, file: str) -> list[ConfigProblem]:
        found: list[ConfigProblem] = []

        def walk(node: yaml.Node | None, trail: str) -> None:
            if isinstance(node, yaml.MappingNode):
                seen: set[str] = set()
                for key, value in node.value:
                    name = f"{trail}.{key.value}" if trail else str(key.value)
                    if key.value in seen:
                        found.append(
                            ConfigProblem(
                                file,
                                key.start_mark.line + 1,
                                name,
                                f"„{key.value}“ steht doppelt; nur der letzte Wert würde gelten.",
                                f"'{key.value}' appears twice; only the last value would count.",
                            )
                        )
                    seen.add(key.value)
                    walk(value, name)
            elif isinstance(node, yaml.SequenceNode):
                for i, item in enumerate(node.value):
                    walk(item, f"{trail}[{i}]")

        walk(self.root, "")
        return found


def _dotted(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _subschema(path: list[Any], data: dict[str, Any]) -> dict[str, Any]:
    """The properties allowed at ``path`` (for the nearest-key hint)."""
    if not path:
        return SCHEMA["properties"]
    kind = str(data.get("type"))
    node: dict[str, Any] = SCHEMA
    rest = path
    if path[0] in ("filters", "options"):
        per_type = (FILTERS if path[0] == "filters" else OPTIONS).get(kind, {})
        node, rest = {"properties": per_type}, path[1:]
    for part in rest:
        if isinstance(part, int):
            node = node.get("items", {})
        elif part in node.get("properties", {}):
            node = node["properties"][part]
        else:  # a free key (a station's name): its value's schema
            extra = node.get("additionalProperties")
            node = extra if isinstance(extra, dict) else {}
    return node.get("properties", {})


def _explain(
    file: str, lines: _Lines, error: jsonschema.ValidationError, data: dict[str, Any]
) -> list[ConfigProblem]:
    path = list(error.absolute_path)
    field = _dotted(path)
    line = lines.line(path)
    kind = error.validator
    if kind == "additionalProperties":
        allowed = sorted(_subschema(path, data))
        out = []
        for key in sorted(set(error.instance) - set(allowed)):
            near = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
            hint_de = f" Meinten Sie „{near[0]}“?" if near else ""
            hint_en = f" Did you mean '{near[0]}'?" if near else ""
            choices = ", ".join(allowed) or "—"
            out.append(
                ConfigProblem(
                    file,
                    lines.line([*path, key]),
                    _dotted([*path, key]),
                    f"Unbekannter Schlüssel „{key}“.{hint_de} Erlaubt sind: {choices}.",
                    f"Unknown key '{key}'.{hint_en} Allowed: {choices}.",
                )
            )
        return out
    if kind == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        hints = {
            "name": ("einen kurzen Namen, z. B. name: umweltamt-dateien", "a short name"),
            "type": (
                f"den Quelltyp, z. B. type: files (erlaubt: {', '.join(TYPES)})",
                "the source type, e.g. type: files",
            ),
            "organization": (
                "die verantwortliche Organisation mit organization: name: …",
                "the owning organisation with organization: name: …",
            ),
            "url": ("die Adresse der Quelle (url: https://…)", "the source's address (url:)"),
        }
        de, en = hints.get(missing, (f"„{missing}“", f"'{missing}'"))
        return [
            ConfigProblem(
                file, line, _dotted([*path, missing]), f"Es fehlt {de}.", f"Missing: {en}."
            )
        ]
    if kind == "oneOf" and path == []:
        return [
            ConfigProblem(
                file,
                1,
                "folder/glob/urls",
                "Eine Dateiquelle braucht genau eines von folder:, glob: oder urls:.",
                "A files source needs exactly one of folder:, glob: or urls:.",
            )
        ]
    if kind == "enum":
        options = ", ".join(str(v) for v in error.validator_value)
        near = difflib.get_close_matches(
            str(error.instance), [str(v) for v in error.validator_value], 1
        )
        hint = f" Meinten Sie „{near[0]}“?" if near else ""
        hint_en = f" Did you mean '{near[0]}'?" if near else ""
        return [
            ConfigProblem(
                file,
                line,
                field,
                f"„{error.instance}“ ist nicht erlaubt.{hint} Möglich: {options}.",
                f"'{error.instance}' is not allowed.{hint_en} Possible: {options}.",
            )
        ]
    if kind == "pattern" and path and path[0] == "credentials":
        return [
            ConfigProblem(
                file,
                line,
                field,
                "Hier gehört der Name einer Umgebungsvariablen hin (z. B. CKAN_TOKEN), nie das "
                "Passwort oder der Schlüssel selbst.",
                "Put the name of an environment variable here (e.g. CKAN_TOKEN), never the "
                "password or key itself.",
            )
        ]
    if kind == "pattern" and field == "name":
        return [
            ConfigProblem(
                file,
                line,
                field,
                "Der Name darf nur Kleinbuchstaben, Ziffern, - und _ enthalten (z. B. "
                "umweltamt-dateien).",
                "The name may hold only lower-case letters, digits, - and _.",
            )
        ]
    if kind == "pattern":
        return [
            ConfigProblem(
                file,
                line,
                field,
                f"„{error.instance}“ ist keine Adresse der Form https://… .",
                f"'{error.instance}' is not an address of the form https://… .",
            )
        ]
    if kind in ("type", "oneOf"):
        expected = error.validator_value if kind == "type" else "Text oder Liste / text or list"
        german = {
            "string": "Text",
            "integer": "ganze Zahl",
            "number": "Zahl",
            "boolean": "true oder false",
            "object": "Abschnitt mit Schlüsseln",
            "array": "Liste",
        }
        return [
            ConfigProblem(
                file,
                line,
                field,
                f"Falscher Wert: erwartet {german.get(str(expected), expected)}.",
                f"Wrong value: expected {expected}.",
            )
        ]
    return [ConfigProblem(file, line, field, error.message, error.message)]


def _semantic(
    file: str, lines: _Lines, data: dict[str, Any], path: Path, online: bool
) -> list[ConfigProblem]:
    out: list[ConfigProblem] = []
    kind = data.get("type")
    schedule = data.get("schedule")
    if isinstance(schedule, str) and not croniter.is_valid(schedule):
        out.append(
            ConfigProblem(
                file,
                lines.line(["schedule"]),
                "schedule",
                f"„{schedule}“ ist kein gültiger Cron-Ausdruck. Fünf Felder: Minute Stunde Tag "
                "Monat Wochentag, z. B. „0 3 * * *“ = täglich um 3 Uhr.",
                f"'{schedule}' is not a valid cron expression. Five fields: minute hour day "
                "month weekday, e.g. '0 3 * * *' = daily at 3 am.",
            )
        )
    defaults = data.get("defaults")
    defaults = defaults if isinstance(defaults, dict) else {}
    licence = defaults.get("license")
    if licence is None:
        severe = kind in NEEDS_LICENCE
        out.append(
            ConfigProblem(
                file,
                lines.line(["defaults"]) or 1,
                "defaults.license",
                "Es fehlt eine Lizenz (defaults: license: …, z. B. dl-by-de/2.0)"
                + (
                    "; ohne sie sind die Daten nicht offen nutzbar."
                    if severe
                    else "; sie gilt für Datensätze der Quelle ohne eigene Lizenz."
                ),
                "A licence is missing (defaults: license: …, e.g. dl-by-de/2.0)"
                + (
                    "; without it the data cannot be used openly."
                    if severe
                    else "; it applies to the source's datasets that have none."
                ),
                "error" if severe else "warning",
            )
        )
    elif isinstance(licence, str) and _licence(licence) is None:
        codes = sorted(c.code for c in by_code(LICENCES).values())
        near = difflib.get_close_matches(licence, codes, n=1, cutoff=0.4)
        out.append(
            ConfigProblem(
                file,
                lines.line(["defaults", "license"]),
                "defaults.license",
                f"Unbekannte Lizenz „{licence}“."
                + (f" Meinten Sie „{near[0]}“?" if near else "")
                + " Erlaubt sind die Kürzel der DCAT-AP.de-Lizenzliste, z. B. dl-by-de/2.0, "
                "cc-by/4.0, dl-zero-de/2.0.",
                f"Unknown licence '{licence}'."
                + (f" Did you mean '{near[0]}'?" if near else "")
                + " Use a code of the DCAT-AP.de licence list, e.g. dl-by-de/2.0.",
            )
        )
    for i, theme in enumerate(_as_list(defaults.get("themes"))):
        if isinstance(theme, str) and _theme(theme) is None:
            codes = sorted(c.code for c in by_code(THEMES).values())
            near = difflib.get_close_matches(theme.upper(), codes, n=1, cutoff=0.4)
            out.append(
                ConfigProblem(
                    file,
                    lines.line(["defaults", "themes", i]) or lines.line(["defaults", "themes"]),
                    "defaults.themes",
                    f"Unbekanntes Thema „{theme}“."
                    + (f" Meinten Sie „{near[0]}“?" if near else "")
                    + f" Möglich: {', '.join(codes)}.",
                    f"Unknown theme '{theme}'."
                    + (f" Did you mean '{near[0]}'?" if near else "")
                    + f" Possible: {', '.join(codes)}.",
                )
            )
    level = defaults.get("political_geocoding_level")
    if isinstance(level, str) and _level(level) is None:
        out.append(
            ConfigProblem(
                file,
                lines.line(["defaults", "political_geocoding_level"]),
                "defaults.political_geocoding_level",
                f"Unbekannte Ebene „{level}“; möglich: {', '.join(GEOCODING_LEVELS)}.",
                f"Unknown level '{level}'; possible: {', '.join(GEOCODING_LEVELS)}.",
            )
        )
    out += _reachable(file, lines, data, path, online)
    credentials = data.get("credentials")
    for key, variable in (credentials if isinstance(credentials, dict) else {}).items():
        if isinstance(variable, str) and variable.isidentifier() and variable not in os.environ:
            out.append(
                ConfigProblem(
                    file,
                    lines.line(["credentials", key]),
                    f"credentials.{key}",
                    f"Die Umgebungsvariable {variable} ist hier nicht gesetzt.",
                    f"The environment variable {variable} is not set here.",
                    "warning",
                )
            )
    return out


def _reachable(
    file: str, lines: _Lines, data: dict[str, Any], path: Path, online: bool
) -> list[ConfigProblem]:
    out: list[ConfigProblem] = []
    base = path.parent
    for key in ("folder", "glob"):
        value = data.get(key)
        if not isinstance(value, str):
            continue
        target = Path(value).expanduser()
        target = target if target.is_absolute() else base / target
        if key == "folder" and not target.is_dir():
            out.append(_unreachable(file, lines, key, str(target)))
        if key == "glob":
            root = Path(*[p for p in target.parts if not any(c in p for c in "*?[")])
            if not root.is_dir():
                out.append(_unreachable(file, lines, key, str(root)))
            elif not any(root.glob(str(target.relative_to(root)))):
                out.append(
                    ConfigProblem(
                        file,
                        lines.line([key]),
                        key,
                        f"Das Muster {value} passt derzeit auf keine Datei.",
                        f"The pattern {value} matches no file at the moment.",
                        "warning",
                    )
                )
    urls = [("url", data["url"])] if isinstance(data.get("url"), str) else []
    listed = data.get("urls") if isinstance(data.get("urls"), list) else []
    urls += [(f"urls[{i}]", u) for i, u in enumerate(listed) if isinstance(u, str)]
    for field, url in urls:
        parsed = urlparse(url)
        if parsed.scheme == "file":
            if not Path(unquote(parsed.path)).exists():
                out.append(_unreachable(file, lines, field, unquote(parsed.path)))
        elif online and parsed.scheme in ("http", "https"):
            try:
                response = requests.get(url, timeout=10, stream=True)
                response.close()
                bad = response.status_code >= 400
                reason = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                bad, reason = True, str(exc)
            if bad:
                out.append(_unreachable(file, lines, field, f"{url} ({reason})"))
    return out


def _unreachable(file: str, lines: _Lines, field: str, target: str) -> ConfigProblem:
    path = [field] if "[" not in field else ["urls", int(field[5:-1])]
    return ConfigProblem(
        file,
        lines.line(path),
        field,
        f"Nicht erreichbar: {target}. Stimmt der Pfad bzw. die Adresse?",
        f"Cannot be reached: {target}. Is the path or address right?",
    )


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value) if isinstance(value, list) else []


def _licence(value: str) -> str | None:
    if value in concepts(LICENCES):
        return value
    concept = by_code(LICENCES).get(value.lower().removeprefix("http://dcat-ap.de/def/licenses/"))
    return concept.iri if concept else None


def _theme(value: str) -> str | None:
    if value in concepts(THEMES):
        return value
    concept = by_code(THEMES).get(value.lower())
    return concept.iri if concept else None


def _level(value: str) -> str | None:
    if (
        value.startswith(GEOCODING_LEVEL)
        and value.removeprefix(GEOCODING_LEVEL) in GEOCODING_LEVELS
    ):
        return value
    return GEOCODING_LEVEL + value if value in GEOCODING_LEVELS else None


# ISO 639-1 codes people write, as the EU language authority's three-letter codes
_LANGUAGE_CODES = {
    "de": "DEU",
    "en": "ENG",
    "fr": "FRA",
    "pl": "POL",
    "cs": "CES",
    "es": "SPA",
    "it": "ITA",
    "nl": "NLD",
    "da": "DAN",
    "sorbisch": "WEN",
    "hsb": "HSB",
}


def _language(value: str) -> str:
    if "://" in value:
        return value
    return LANGUAGE + _LANGUAGE_CODES.get(value.lower(), value.upper())


def _build(data: dict[str, Any], path: Path) -> SourceConfig:
    d = data.get("defaults") or {}
    defaults = Defaults(
        license=_licence(d["license"]) if d.get("license") else None,
        contact_point=dict(d.get("contact_point") or {}),
        themes=[t for t in (_theme(x) for x in _as_list(d.get("themes"))) if t],
        contributor_id=d.get("contributor_id"),
        political_geocoding_level=_level(d["political_geocoding_level"])
        if d.get("political_geocoding_level")
        else None,
        political_geocoding=_as_list(d.get("political_geocoding")),
        publisher=dict(d.get("publisher") or {}),
        languages=[_language(x) for x in _as_list(d.get("languages"))],
        access_rights=d.get("access_rights"),
        keywords=_as_list(d.get("keywords")),
    )
    return SourceConfig(
        name=data["name"],
        type=data["type"],
        organization=dict(data["organization"]),
        path=path.resolve(),
        title=data.get("title", ""),
        schedule=data.get("schedule"),
        priority=int(data.get("priority", 0)),
        url=data.get("url"),
        urls=list(data.get("urls") or []),
        folder=data.get("folder"),
        glob=data.get("glob"),
        credentials=dict(data.get("credentials") or {}),
        filters=dict(data.get("filters") or {}),
        defaults=defaults,
        load=bool(data.get("load", False)),
        timeout=float(data.get("timeout", 30)),
        enabled=bool(data.get("enabled", True)),
        options=dict(data.get("options") or {}),
    )
