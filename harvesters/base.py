"""What every source type shares: the configuration it is given, what it yields, and its errors.

A source type is a module with one function ``fetch(context) -> Iterator[Item]``. It reads the
source and yields, for every record there, a :class:`Harvested` (mapped to DCAT-AP.de), an
:class:`Unchanged` (it knows without mapping that nothing changed, e.g. a page whose bytes are
the same as in the last complete run) or a :class:`RecordError` (this one record could not be
read; the others go on). Anything that makes the listing incomplete (a connection drop, an HTTP
error, unparsable RDF, a timeout, a half-written file) raises :class:`SourceError`: the run then
fails and nothing is written. Source types never write to the store; the runner
(:mod:`harvesters.run`) decides what changed, what is withdrawn, and writes it all in one
transaction.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import requests

from catalog import model


@dataclass
class Defaults:
    """Metadata a source applies to its records where they have none."""

    license: str | None = None
    contact_point: dict[str, str] = field(default_factory=dict)  # name, email, url, telephone
    themes: list[str] = field(default_factory=list)  # EU data-theme IRIs
    contributor_id: str | None = None
    political_geocoding_level: str | None = None
    political_geocoding: list[str] = field(default_factory=list)
    publisher: dict[str, str] = field(default_factory=dict)  # name, uri, email, homepage
    languages: list[str] = field(default_factory=list)
    access_rights: str | None = None
    keywords: list[str] = field(default_factory=list)


@dataclass
class SourceConfig:
    """One YAML file of ``config/harvesters/`` after validation (see harvesters.config)."""

    name: str
    type: str
    organization: dict[str, str]  # name (required), uri, email, homepage
    path: Path | None = None  # the YAML file
    title: str = ""
    schedule: str | None = None  # cron expression
    priority: int = 0
    url: str | None = None
    urls: list[str] = field(default_factory=list)
    folder: str | None = None  # files: a folder (relative to the YAML file's folder)
    glob: str | None = None  # files: a glob pattern (relative to the YAML file's folder)
    credentials: dict[str, str] = field(default_factory=dict)  # key -> environment variable
    filters: dict[str, Any] = field(default_factory=dict)  # type-specific
    defaults: Defaults = field(default_factory=Defaults)
    load: bool = False  # ogcapi-features/wfs: load the features into the data store
    timeout: float = 30.0  # seconds per request
    enabled: bool = True
    options: dict[str, Any] = field(default_factory=dict)  # further type-specific keys

    def secret(self, key: str) -> str | None:
        """The credential ``key`` (username, password, token, api_key) from its environment
        variable; the YAML holds only the variable's name."""
        variable = self.credentials.get(key)
        return os.environ.get(variable) if variable else None

    def resolve(self, location: str) -> Path:
        """A path written in the YAML file, relative to that file's folder."""
        path = Path(location).expanduser()
        if not path.is_absolute() and self.path is not None:
            path = self.path.parent / path
        return path


@dataclass
class Attachment:
    """A file that goes with a record: copied to ``files/harvest/<source>/<name>`` and, where
    ``load`` is true, loaded into the data store (served by OGC API and previews)."""

    path: Path
    name: str  # file name below the source's folder; the record's download URL points there
    load: bool = True


@dataclass
class Harvested:
    """One record read from the source and mapped to DCAT-AP.de."""

    source_id: str  # the record's key at the source (CKAN id, dataset IRI, file name, ...)
    record: model.Resource
    origin: str  # where it was read: the record's URL at the source or the file path
    source_modified: str | None = None  # the source's own change time, if it has one
    attachments: list[Attachment] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)  # e.g. the frictionless report


@dataclass
class Unchanged:
    """The source type knows this record is as in the last complete run (same bytes)."""

    source_id: str


@dataclass
class RecordError:
    """One record could not be read or mapped; the run goes on without it."""

    source_id: str
    where: str  # URL, file and line, or field
    message_de: str
    message_en: str

    def to_dict(self) -> dict[str, str]:
        return {
            "source_id": self.source_id,
            "where": self.where,
            "message_de": self.message_de,
            "message_en": self.message_en,
        }


Item = Harvested | Unchanged | RecordError


class SourceError(Exception):
    """The source could not be read completely: the run fails and nothing is written."""

    def __init__(
        self, where: str, message_de: str, message_en: str, status: int | None = None
    ) -> None:
        super().__init__(f"{where}: {message_en}")
        self.where = where
        self.message_de = message_de
        self.message_en = message_en
        self.status = status  # the HTTP status, where the source answered with an error

    def to_dict(self) -> dict[str, str]:
        return {"where": self.where, "message_de": self.message_de, "message_en": self.message_en}


@dataclass
class Previous:
    """What the last runs stored about one record of this source."""

    content_hash: str
    source_modified: str | None
    resource_uri: str
    active: bool


class Context(Protocol):
    """What the runner gives a source type (implemented in harvesters.run)."""

    config: SourceConfig
    base_url: str  # this ODApp's public base URL

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        """GET with the source's timeout and credentials; any transport error, timeout or
        HTTP status >= 400 raises SourceError naming the URL."""
        ...

    @property
    def session(self) -> requests.Session:
        """The HTTP session (timeout not applied: pass ``timeout=config.timeout``)."""
        ...

    def previous(self, source_id: str) -> Previous | None:
        """The record as stored after the last runs, or None if it is new."""
        ...

    def previous_ids(self) -> set[str]:
        """Every source id that is active after the last runs."""
        ...

    def recall(self, key: str) -> Any:
        """A value remembered by the last complete run (e.g. a page's hash and its ids)."""
        ...

    def remember(self, key: str, value: Any) -> None:
        """Keep a JSON value for the next run; stored only if this run completes."""
        ...

    def file_url(self, name: str) -> str:
        """The public download URL of an attachment called ``name``."""
        ...

    def heartbeat(self) -> None:
        """Tell other processes this run is alive (call now and then in long loops)."""
        ...

    @property
    def sensors(self) -> Any:
        """Sensor source types: the :class:`harvesters.sensor_sink.SensorSink` of this run."""
        ...


class SourceType(Protocol):
    def __call__(self, context: Context) -> Iterator[Item]: ...
