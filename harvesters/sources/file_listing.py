"""The files of a folder or glob source (types files and timeseries-files): the filters
include/exclude/recursive, and hidden, temporary and Office lock files left out."""

from __future__ import annotations

import fnmatch
import glob as globlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from harvesters.base import SourceConfig, SourceError

FILTER_KEYS = ("include", "exclude", "recursive")
TEMPORARY = ("~", ".tmp", ".part", ".crdownload")


def local_paths(
    config: SourceConfig, suffixes: tuple[str, ...], skip: Callable[[str], bool]
) -> list[tuple[Path, str]]:
    """(path, path relative to the folder or the glob's fixed part) of every file to read,
    sorted; ``suffixes`` are read when no include pattern is given, ``skip`` leaves out
    files by name (sidecars)."""
    include, exclude, recursive = filters(config)
    if config.folder:
        base = config.resolve(config.folder)
        if not base.is_dir():
            raise SourceError(
                str(base),
                f"Ordner {base} nicht gefunden (ist das Netzlaufwerk verbunden?)",
                f"folder {base} not found (is the network drive connected?)",
            )
        found = base.rglob("*") if recursive else base.iterdir()
    else:
        assert config.glob is not None
        pattern = config.resolve(config.glob)
        base = fixed_prefix(pattern)
        found = (Path(p) for p in globlib.glob(str(pattern), recursive=True))
    out = []
    for path in found:
        if not path.is_file():
            continue
        rel = path.relative_to(base).as_posix()
        if ignored(rel, skip) or not selected(rel, include, exclude, suffixes):
            continue
        out.append((path, rel))
    return sorted(out, key=lambda item: item[1])


def filters(config: SourceConfig) -> tuple[list[str], list[str], bool]:
    """include and exclude patterns and whether to descend into sub-folders."""
    given = config.filters or {}
    where = f"{config.path or config.name}: filters"
    for key in given:
        if key not in FILTER_KEYS:
            raise SourceError(
                f"{where}.{key}",
                f"unbekannter Filter '{key}' (erlaubt: {', '.join(FILTER_KEYS)})",
                f"unknown filter '{key}' (allowed: {', '.join(FILTER_KEYS)})",
            )
    patterns: dict[str, list[str]] = {}
    for key in ("include", "exclude"):
        value = given.get(key) or []
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SourceError(
                f"{where}.{key}",
                f"'{key}' muss ein Muster oder eine Liste von Mustern sein (z. B. '*.csv')",
                f"'{key}' must be a pattern or a list of patterns (e.g. '*.csv')",
            )
        patterns[key] = value
    recursive = given.get("recursive", False)
    if not isinstance(recursive, bool):
        raise SourceError(
            f"{where}.recursive",
            "'recursive' muss true oder false sein",
            "'recursive' must be true or false",
        )
    return patterns["include"], patterns["exclude"], recursive


def fixed_prefix(pattern: Path) -> Path:
    """The folder part of a glob before its first wildcard."""
    parts: list[str] = []
    for part in pattern.parts:
        if any(c in part for c in "*?["):
            break
        parts.append(part)
    prefix = Path(*parts) if parts else Path(".")
    return prefix if prefix != pattern else prefix.parent


def ignored(rel: str, skip: Callable[[str], bool]) -> bool:
    parts = PurePosixPath(rel).parts
    name = parts[-1]
    return (
        any(p.startswith(".") for p in parts)
        or name.startswith("~$")  # an Office lock file
        or name.endswith(TEMPORARY)
        or skip(name)
    )


def selected(rel: str, include: list[str], exclude: list[str], suffixes: tuple[str, ...]) -> bool:
    if include:
        if not any(matches(rel, p) for p in include):
            return False
    elif not rel.lower().endswith(suffixes):
        return False
    return not any(matches(rel, p) for p in exclude)


def matches(rel: str, pattern: str) -> bool:
    """A pattern with a / matches the relative path, one without it the file name."""
    target = rel if "/" in pattern else PurePosixPath(rel).name
    return fnmatch.fnmatchcase(target.lower(), pattern.lower())
