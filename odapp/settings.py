"""Settings: defaults, then the YAML file in ODAPP_CONFIG, then ODAPP_* environment variables."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass
class Settings:
    database_url: str = "sqlite:///var/odapp.sqlite"
    base_url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: int = 8080
    threads: int = 8
    files_dir: str = "var/files"
    harvest_dir: str = "config/harvesters"  # one YAML file per harvest source
    page_size: int = 100
    max_import_bytes: int = 100 * 1024 * 1024
    sensor_retention_days: int = 730  # raw sensor readings; 0 keeps them for ever
    catalog: dict[str, Any] = field(default_factory=dict)  # overrides of the catalogue record

    @property
    def files_path(self) -> Path:
        return Path(self.files_dir).resolve()

    @property
    def harvest_path(self) -> Path:
        return Path(self.harvest_dir).resolve()


class SettingsError(ValueError):
    pass


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    config = env.get("ODAPP_CONFIG")
    if config:
        path = Path(config)
        if not path.is_file():
            raise SettingsError(f"ODAPP_CONFIG={config}: Datei nicht gefunden / file not found")
        loaded = yaml.safe_load(path.read_text("utf-8")) or {}
        if not isinstance(loaded, dict):
            raise SettingsError(f"{config}: erwartet eine Zuordnung / expected a mapping")
        values.update(loaded)
    known = {f.name: f for f in dataclasses.fields(Settings)}
    unknown = set(values) - set(known)
    if unknown:
        raise SettingsError(
            f"{config}: unbekannte Einstellung(en) / unknown setting(s): "
            + ", ".join(sorted(unknown))
        )
    for name, f in known.items():
        raw = env.get(f"ODAPP_{name.upper()}")
        if raw is None or name == "catalog":
            continue
        values[name] = int(raw) if f.type in ("int", int) else raw
    settings = Settings(**values)
    settings.base_url = settings.base_url.rstrip("/")
    return settings
