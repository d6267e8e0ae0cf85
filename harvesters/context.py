"""The context a source type runs in: HTTP with the source's timeout and credentials, what the
last runs stored, and a memory that survives only complete runs."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import requests
from sqlalchemy import Engine

from catalog.harvest_state import HarvestLedger, RecordState
from harvesters.base import Previous, SourceConfig, SourceError
from harvesters.sensor_sink import SensorSink

USER_AGENT = "ODApp-Harvester/0.1 (+https://github.com/odapp)"
MAX_RESPONSE_BYTES = 512 * 1024 * 1024
HEARTBEAT_EVERY = 5.0  # seconds


class RunContext:
    def __init__(
        self,
        config: SourceConfig,
        base_url: str,
        ledger: HarvestLedger | None = None,
        job_id: int = 0,
        previous: dict[str, RecordState] | None = None,
        memory: dict[str, Any] | None = None,
        engine: Engine | None = None,
    ) -> None:
        self.config = config
        self.base_url = base_url.rstrip("/")
        self._ledger = ledger
        self._job_id = job_id
        self._previous = previous or {}
        self._memory = memory or {}
        self.kept: dict[str, Any] = {}  # recalled or remembered: what the next run gets
        self._beat = 0.0
        self._engine = engine
        self._sensors: SensorSink | None = None
        self._session = requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT
        user, password = config.secret("username"), config.secret("password")
        if user and password:
            self._session.auth = (user, password)
        token = config.secret("token")
        if token and config.type != "ckan":  # ckanapi sends its own header
            self._session.headers["Authorization"] = f"Bearer {token}"

    @property
    def session(self) -> requests.Session:
        return self._session

    @property
    def sensors(self) -> SensorSink:
        """Where sensor source types write stations, series and readings."""
        if self._sensors is None:
            if self._engine is None:
                raise RuntimeError("no store given to this run")
            self._sensors = SensorSink(self._engine, self.config)
        return self._sensors

    @property
    def sensor_counts(self) -> dict[str, int]:
        return self._sensors.counts() if self._sensors is not None else {}

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        """GET ``url`` completely within the timeout (a trickling answer counts as slow too)."""
        timeout = self.config.timeout
        started = time.monotonic()
        try:
            response = self._session.get(url, timeout=timeout, stream=True, **kwargs)
            chunks, size = [], 0
            for chunk in response.iter_content(1 << 16):
                chunks.append(chunk)
                size += len(chunk)
                if time.monotonic() - started > timeout:
                    raise requests.Timeout(f"no complete answer within {timeout:g} s")
                if size > MAX_RESPONSE_BYTES:
                    raise SourceError(
                        url,
                        f"Die Antwort ist größer als {MAX_RESPONSE_BYTES >> 20} MB.",
                        f"The answer is larger than {MAX_RESPONSE_BYTES >> 20} MB.",
                    )
            response._content = b"".join(chunks)  # what .content/.text read afterwards
        except requests.Timeout as exc:
            raise SourceError(
                url,
                f"Die Quelle hat nicht innerhalb von {timeout:g} s geantwortet ({exc}).",
                f"The source did not answer within {timeout:g} s ({exc}).",
            ) from None
        except requests.RequestException as exc:
            raise SourceError(
                url,
                f"Verbindung zur Quelle fehlgeschlagen oder abgebrochen: {exc}",
                f"Connection to the source failed or was cut off: {exc}",
            ) from None
        if response.status_code >= 400:
            raise SourceError(
                url,
                f"Die Quelle antwortet mit HTTP {response.status_code} {response.reason}.",
                f"The source answered HTTP {response.status_code} {response.reason}.",
                status=response.status_code,
            )
        return response

    def previous(self, source_id: str) -> Previous | None:
        state = self._previous.get(source_id)
        if state is None:
            return None
        return Previous(state.content_hash, state.source_modified, state.resource_uri, state.active)

    def previous_ids(self) -> set[str]:
        return {sid for sid, state in self._previous.items() if state.active}

    def recall(self, key: str) -> Any:
        value = self._memory.get(key)
        if value is not None:
            self.kept.setdefault(key, value)
        return value

    def remember(self, key: str, value: Any) -> None:
        self.kept[key] = value

    def file_url(self, name: str) -> str:
        return f"{self.base_url}/files/harvest/{quote(self.config.name)}/{quote(name)}"

    def heartbeat(self) -> None:
        now = time.monotonic()
        if self._ledger is not None and now - self._beat >= HEARTBEAT_EVERY:
            self._beat = now
            self._ledger.heartbeat(self.config.name, self._job_id)
