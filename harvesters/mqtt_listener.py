"""Live subscription of an ``mqtt`` source: readings stored as they arrive, each message
acknowledged only after the transaction that stored it has committed.

- MQTT 5 with a persistent session (clean start off, a week's session expiry) and QoS 1: while
  the listener is down the broker keeps the messages; a message not acknowledged (the listener
  was killed, the store was down) is delivered again and the store's unique key keeps the
  reading once (counted as a duplicate).
- Flow control: the CONNECT packet's Receive Maximum tells the broker how many unacknowledged
  messages the listener takes at most, so the buffer is bounded even when the store is down
  for hours (the broker queues the rest).
- Messages are written in batches (every 0.2 s or 1,000 messages) through a
  :class:`~harvesters.sensor_sink.SensorSink`: one transaction, then every message of the
  batch is acknowledged. Bad input (not a number, invalid JSON, too large, no mapping) is
  recorded as an issue in that same transaction and acknowledged too: retrying cannot fix it.
- Store outage (locked or unreachable database): nothing is acknowledged, the batch is kept
  and written again with growing pauses; the log says so.
- Catalogue: right after a batch that created a Thing or Datastream (a new station appears
  within seconds), otherwise every ``catalogue_interval`` seconds if readings arrived, the
  source is run (:func:`harvesters.run.run_source`), which rewrites the datasets of its
  Things (``dct:modified`` and the time coverage follow the newest reading).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from catalog.harvest_state import HarvestBusy
from catalog.schema import SensorDatastream, SensorThing
from catalog.sensors.store import short
from catalog.store import Store
from harvesters.base import SourceConfig, SourceError
from harvesters.mqtt_payload import (
    Mapping,
    MappingError,
    PayloadProblem,
    first_match,
    mappings,
    subscriptions,
)
from harvesters.sensor_sink import SensorSink

log = logging.getLogger(__name__)

BATCH = 1000  # messages per transaction at most
FLUSH_EVERY = 0.2  # seconds a message waits for its batch at most
RECEIVE_MAXIMUM = 2 * BATCH  # unacknowledged messages the broker may send us
SESSION_EXPIRY = 7 * 24 * 3600  # seconds the broker keeps our session while we are away
DEFAULT_MAX_PAYLOAD = 256 * 1024
DEFAULT_CATALOGUE_INTERVAL = 60.0
STATS_EVERY = 60.0  # seconds between the log lines with counts
BACKOFF_MAX = 30.0


@dataclass
class Incoming:
    """One message as received (the payload is dropped if it is too large)."""

    topic: str
    payload: bytes | None
    size: int
    mid: int
    qos: int
    generation: int  # the connection it came in on: acknowledged only on that one
    received_ms: int


@dataclass
class Counts:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0

    def line(self) -> str:
        return (
            f"received {self.received}, stored {self.stored}, duplicates {self.duplicates}, "
            f"rejected {self.rejected}"
        )


def _raw_outages() -> tuple[type[Exception], ...]:
    """The drivers' own errors: the sensor store's bulk insert uses their cursors directly,
    so these reach us without SQLAlchemy's wrapping."""
    found: list[type[Exception]] = [sqlite3.OperationalError]
    try:
        import psycopg

        found += [psycopg.OperationalError, psycopg.InterfaceError]
    except ImportError:  # PostgreSQL support not installed
        pass
    return tuple(found)


_RAW_OUTAGES = _raw_outages()


def _outage(exc: BaseException) -> bool:
    """A store that is locked, gone or restarting (worth waiting for), not a bad statement."""
    if isinstance(exc, (OperationalError, InterfaceError, *_RAW_OUTAGES)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


class Listener:
    """One mqtt source, subscribed until :attr:`stop` is set (or ``seconds`` have passed)."""

    def __init__(
        self,
        store: Store,
        config: SourceConfig,
        *,
        files_dir: Path,
        base_url: str | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        if config.type != "mqtt":
            raise SourceError(
                config.name,
                f"Die Quelle {config.name} hat den Typ {config.type}, nicht mqtt.",
                f"The source {config.name} has type {config.type}, not mqtt.",
            )
        options = config.options
        try:
            self.mappings: list[Mapping] = mappings(options)
        except MappingError as exc:
            raise SourceError(exc.where, exc.de, exc.en) from None
        self.store = store
        self.config = config
        self.address = self._address()  # a wrong url fails now, not in the loop
        self.files_dir = files_dir
        self.base_url = base_url
        self.stop = stop or threading.Event()
        self.sink = SensorSink(store.engine, config)
        self.sink.batch_size = 1 << 30  # we flush; the sink must not flush on its own
        self.max_payload = int(options.get("max_payload_bytes") or DEFAULT_MAX_PAYLOAD)
        self.catalogue_every = float(
            options.get("catalogue_interval") or DEFAULT_CATALOGUE_INTERVAL
        )
        self.qos = min(int(options.get("qos", 1)), 1)
        if int(options.get("qos", 1)) == 2:
            log.warning(
                "%s: QoS 2 wird als QoS 1 abonniert (paho bestätigt QoS 2 vor dem Speichern) / "
                "subscribing with QoS 1 instead of 2 (paho acknowledges QoS 2 before storing)",
                config.name,
            )
        self.things_config: dict[str, Any] = options.get("things") or {}
        self.streams_config: dict[str, Any] = options.get("datastreams") or {}
        self.counts = Counts()
        self.outages = 0  # store outages met (for tests and the log)
        self.catalogue_runs = 0
        self.subscribed = threading.Event()
        self._inbox: queue.Queue[Incoming] = queue.Queue()
        self._raw: deque[Incoming] = deque()  # taken from the inbox, not yet in the sink
        self._handled: list[Incoming] = []  # in the sink, waiting for the flush
        self._oldest = 0.0  # monotonic time of the oldest handled message
        self._generation = 0
        self._connected = False
        self._lock = threading.Lock()
        self._things: dict[str, int] = {}  # key -> id, made sure of in this process
        self._streams: dict[tuple[str, str], tuple[int, bool]] = {}  # -> (id, numeric)
        self._known_things: set[str] = set()  # in the store when we started
        self._known_streams: set[tuple[str, str]] = set()
        self._receive_noted: set[int] = set()
        self._new_definitions = False
        self._new_readings = False
        self._last_catalogue = time.monotonic()
        self._last_stats = time.monotonic()
        self._stats_mark = Counts()
        self._backoff = 0.0
        self._retry_at = 0.0
        self.client = self._client()

    # --- MQTT ---------------------------------------------------------------------------

    def _client(self) -> mqtt.Client:
        config = self.config
        client_id = str(config.options.get("client_id") or f"odapp-{config.name}")
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        user, password = config.secret("username"), config.secret("password")
        if user:
            client.username_pw_set(user, password)
        if urlparse(config.url or "").scheme == "mqtts":
            client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_connect_fail = self._on_connect_fail
        return client

    def _address(self) -> tuple[str, int]:
        parsed = urlparse(self.config.url or "")
        if parsed.scheme not in ("mqtt", "mqtts") or not parsed.hostname:
            raise SourceError(
                "url",
                "Die Adresse muss mit mqtt:// oder mqtts:// beginnen, z. B. mqtt://broker:1883.",
                "The address must start with mqtt:// or mqtts://, e.g. mqtt://broker:1883.",
            )
        return parsed.hostname, parsed.port or (8883 if parsed.scheme == "mqtts" else 1883)

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error(
                "%s: Broker lehnt die Verbindung ab / broker refuses the connection: %s",
                self.config.name,
                reason,
            )
            return
        with self._lock:
            self._generation += 1
            self._connected = True
        log.info(
            "%s: verbunden / connected (session present: %s)",
            self.config.name,
            getattr(flags, "session_present", "?"),
        )
        options = SubscribeOptions(
            qos=self.qos, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB
        )
        client.subscribe([(topic, options) for topic in subscriptions(self.mappings)])

    def _on_connect_fail(self, _c: mqtt.Client, _u: Any) -> None:
        log.warning(
            "%s: Broker nicht erreichbar, neuer Versuch / broker not reachable, retrying: %s",
            self.config.name,
            self.config.url,
        )

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        with self._lock:
            self._generation += 1  # acks of earlier messages must not reach a new connection
            self._connected = False
        if not self.stop.is_set():
            log.warning(
                "%s: Verbindung zum Broker getrennt, neuer Versuch / disconnected from the "
                "broker, reconnecting: %s",
                self.config.name,
                reason,
            )

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _m: int, codes: list, _p: Any) -> None:
        refused = [str(c) for c in codes if c.is_failure]
        if refused:
            log.error(
                "%s: Abonnement abgelehnt / subscription refused: %s", self.config.name, refused
            )
            return
        log.info(
            "%s: abonniert / subscribed: %s",
            self.config.name,
            ", ".join(subscriptions(self.mappings)),
        )
        self.subscribed.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        payload: bytes | None = message.payload
        size = len(payload or b"")
        if size > self.max_payload:
            payload = None  # never parsed, not kept
        self._inbox.put(
            Incoming(
                message.topic,
                payload,
                size,
                message.mid,
                message.qos,
                self._generation,
                int(time.time() * 1000),
            )
        )

    def buffered(self) -> int:
        """Messages received and not yet acknowledged (bounded by the Receive Maximum)."""
        return self._inbox.qsize() + len(self._raw) + len(self._handled)

    # --- the loop -----------------------------------------------------------------------

    def run(self, seconds: float | None = None) -> Counts:
        """Listen until :attr:`stop` is set or ``seconds`` have passed; returns the counts."""
        host, port = self.address
        keepalive = int(self.config.options.get("keepalive") or 60)
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        self._load_known()
        self.client.connect_async(host, port, keepalive, clean_start=False, properties=properties)
        self.client.loop_start()  # connects, reconnects and resubscribes in its own thread
        log.info("%s: lausche auf / listening to %s", self.config.name, self.config.url)
        ends = time.monotonic() + seconds if seconds is not None else None
        try:
            while not self.stop.is_set():
                if ends is not None and time.monotonic() >= ends:
                    break
                self._step()
            self._finish()
        finally:
            self.client.disconnect()
            self.client.loop_stop()
        log.info("%s: beendet / stopped: %s", self.config.name, self.counts.line())
        return self.counts

    def _step(self) -> None:
        now = time.monotonic()
        if now < self._retry_at:  # the store was down: wait, the broker holds the rest
            self.stop.wait(min(self._retry_at - now, 0.5))
            return
        self._take(FLUSH_EVERY / 2 if not self._handled else 0.01)
        try:
            self._handle_raw()
            full = len(self._handled) >= BATCH
            if self._handled and (full or time.monotonic() - self._oldest >= FLUSH_EVERY):
                self._flush()
        except Exception as exc:
            if not _outage(exc):
                raise
            self._wait_for_store(exc)
            return
        self._catalogue()
        self._stats()

    def _take(self, timeout: float) -> None:
        if len(self._raw) >= BATCH:
            return
        try:
            self._raw.append(self._inbox.get(timeout=timeout))
        except queue.Empty:
            return
        while len(self._raw) < BATCH:
            try:
                self._raw.append(self._inbox.get_nowait())
            except queue.Empty:
                break

    def _handle_raw(self) -> None:
        """Into the sink, message by message; a store outage leaves the rest in ``_raw``."""
        while self._raw and len(self._handled) < BATCH:
            message = self._raw[0]
            self._handle(message)  # may raise on a store outage: the message stays
            self._raw.popleft()
            if not self._handled:
                self._oldest = time.monotonic()
            self._handled.append(message)
            self.counts.received += 1

    def _flush(self) -> None:
        """One transaction for the batch, then every message of it is acknowledged."""
        self.sink.flush()
        self._backoff = 0.0
        with self._lock:
            generation, connected = self._generation, self._connected
            for message in self._handled:
                # a message from an earlier connection is delivered again by the broker
                if connected and message.generation == generation and message.qos:
                    self.client.ack(message.mid, message.qos)
        counts = self.sink.counts()
        self.counts.stored = counts["observations"]
        self.counts.duplicates = counts["duplicates"] + counts["conflicts"]
        self.counts.rejected = counts["rejected"]
        self._new_readings = self._new_readings or bool(self._handled)
        self._handled = []

    def _wait_for_store(self, exc: BaseException) -> None:
        self.outages += 1
        self._backoff = min(BACKOFF_MAX, max(0.5, self._backoff * 2))
        self._retry_at = time.monotonic() + self._backoff
        log.warning(
            "%s: Datenbank nicht erreichbar, %d Nachricht(en) warten unbestätigt, neuer Versuch "
            "in %.1f s / store unavailable, %d message(s) wait unacknowledged, retry in %.1f s: "
            "%s",
            self.config.name,
            self.buffered(),
            self._backoff,
            self.buffered(),
            self._backoff,
            str(exc.__cause__ or exc).splitlines()[0][:200],
        )

    def _finish(self) -> None:
        """On stop: drain what has arrived, store it once more, refresh the catalogue."""
        try:
            for _ in range(RECEIVE_MAXIMUM // BATCH + 1):  # what had arrived, not more
                self._take(0)
                self._handle_raw()
                if self._handled:
                    self._flush()
        except Exception as exc:
            if not _outage(exc):
                raise
            log.warning(
                "%s: beim Beenden nicht gespeichert, der Broker liefert erneut / not stored "
                "on stop, the broker delivers again: %s",
                self.config.name,
                str(exc).splitlines()[0][:200],
            )
            return
        if self._new_definitions or self._new_readings:
            self._last_catalogue = 0.0
            self._catalogue()

    # --- one message --------------------------------------------------------------------

    def _handle(self, message: Incoming) -> None:
        topic = message.topic
        if message.payload is None:
            self.sink.reject(
                topic,
                "too-large",
                f"Die Nachricht ist {message.size} Bytes groß, erlaubt sind "
                f"{self.max_payload} (options.max_payload_bytes); sie wurde nicht gelesen.",
                f"The message is {message.size} bytes, {self.max_payload} are allowed "
                "(options.max_payload_bytes); it was not read.",
                f"{message.size} bytes",
            )
            return
        mapping = first_match(self.mappings, topic)
        if mapping is None:
            self.sink.reject(
                topic,
                "no-mapping",
                "Zu diesem Thema passt keine Zuordnung (options.mappings).",
                "No mapping (options.mappings) fits this topic.",
                short(message.payload.decode("utf-8", "replace")),
            )
            return
        try:
            parsed = mapping.parse(topic, message.payload)
        except PayloadProblem as exc:
            self.sink.reject(topic, exc.code, exc.de, exc.en, exc.value)
            return
        ds_id, numeric = self._datastream(parsed.thing, parsed.datastream)
        when: str | int | None = parsed.time
        if when is None:
            when = message.received_ms
            if ds_id not in self._receive_noted:
                self._receive_noted.add(ds_id)
                self.sink.note(
                    topic,
                    "receive-time",
                    "Die Nachricht hat keine Zeitangabe; die Empfangszeit wurde verwendet.",
                    "The message has no time; the time of receipt was used.",
                    short(message.payload.decode("utf-8", "replace")),
                    ds_id,
                )
        self.sink.reading(
            ds_id,
            topic,
            when,
            parsed.result,
            numeric=numeric,
            result_time=parsed.result_time,  # type: ignore[arg-type]
        )

    def _datastream(self, thing_key: str, key: str) -> tuple[int, bool]:
        """The id of a Datastream, creating it and its Thing on first sight."""
        known = self._streams.get((thing_key, key))
        if known is not None:
            return known
        thing_id = self._things.get(thing_key)
        if thing_id is None:
            spec = self.things_config.get(thing_key) or {}
            thing_id = self.sink.thing(
                thing_key,
                spec.get("name") or thing_key,
                description=spec.get("description", ""),
                properties=spec.get("properties"),
                location=spec.get("location"),
            )
            self._things[thing_key] = thing_id
            if thing_key not in self._known_things:
                self._new_definitions = True
                log.info("%s: neue Station / new thing: %s", self.config.name, thing_key)
        spec = self.streams_config.get(key) or {}
        numeric = spec.get("numeric", True) is not False
        ds_id = self.sink.datastream(
            thing_id,
            key,
            spec.get("name") or key,
            observed_property=spec.get("observed_property") or {"name": spec.get("name") or key},
            unit=spec.get("unit"),
            sensor=spec.get("sensor"),
            numeric=numeric,
            description=spec.get("description", ""),
        )
        self._streams[(thing_key, key)] = (ds_id, numeric)
        if (thing_key, key) not in self._known_streams:
            self._new_definitions = True
        return ds_id, numeric

    def _load_known(self) -> None:
        """The Things and Datastreams already stored: only others count as new."""
        while not self.stop.is_set():
            try:
                with self.store.engine.connect() as conn:
                    rows = conn.execute(
                        select(SensorThing.source_key, SensorDatastream.source_key)
                        .join(
                            SensorDatastream,
                            SensorDatastream.thing_id == SensorThing.id,
                            isouter=True,
                        )
                        .where(SensorThing.source == self.config.name)
                    ).all()
                break
            except Exception as exc:
                if not _outage(exc):
                    raise
                self._wait_for_store(exc)
                self.stop.wait(self._backoff)
        else:
            return
        self._known_things = {thing for thing, _ in rows}
        self._known_streams = {(thing, ds) for thing, ds in rows if ds is not None}

    # --- catalogue and log --------------------------------------------------------------

    def _catalogue(self) -> None:
        """Rewrite the source's datasets: now after a new station, else now and then."""
        if self._handled:
            return  # only right after a batch, so that the new readings count
        due = self._new_definitions or (
            self._new_readings and time.monotonic() - self._last_catalogue >= self.catalogue_every
        )
        if not due:
            return
        from harvesters.run import run_source  # the runner imports every source type's module

        self._last_catalogue = time.monotonic()
        try:
            result = run_source(
                self.store,
                self.config,
                files_dir=self.files_dir,
                base_url=self.base_url,
                trigger="mqtt",
            )
        except HarvestBusy:
            log.info("%s: Katalog wird gerade geschrieben / catalogue busy", self.config.name)
            return
        self.catalogue_runs += 1
        if result.status == "failed":
            log.warning("%s: Katalog / catalogue: %s", self.config.name, result.summary())
            return
        log.info("%s: Katalog / catalogue: %s", self.config.name, result.summary())
        self._new_definitions = self._new_readings = False

    def _stats(self) -> None:
        now = time.monotonic()
        if now - self._last_stats < STATS_EVERY:
            return
        minutes = (now - self._last_stats) / 60
        mark, c = self._stats_mark, self.counts
        log.info(
            "%s: in %.0f min %d empfangen / received, %d gespeichert / stored, %d doppelt / "
            "duplicates, %d abgelehnt / rejected (insgesamt / total: %s)",
            self.config.name,
            minutes,
            c.received - mark.received,
            c.stored - mark.stored,
            c.duplicates - mark.duplicates,
            c.rejected - mark.rejected,
            c.line(),
        )
        self._last_stats = now
        self._stats_mark = Counts(c.received, c.stored, c.duplicates, c.rejected)


class Listeners:
    """The listeners of the enabled mqtt sources, each in its own thread
    (``odapp harvest schedule`` keeps them in step with the source folder)."""

    def __init__(self, store: Store, files_dir: Path, base_url: str) -> None:
        self.store, self.files_dir, self.base_url = store, files_dir, base_url
        self._running: dict[str, tuple[SourceConfig, Listener, threading.Thread]] = {}

    def sync(self, configs: list[SourceConfig]) -> None:
        wanted = {c.name: c for c in configs if c.type == "mqtt" and c.enabled}
        for name, (config, _listener, thread) in list(self._running.items()):
            if wanted.get(name) != config or not thread.is_alive():
                self._stop(name)
        for name, config in wanted.items():
            if name not in self._running:
                self._start(config)

    def _start(self, config: SourceConfig) -> None:
        try:
            listener = Listener(
                self.store, config, files_dir=self.files_dir, base_url=self.base_url
            )
        except SourceError as exc:
            log.error("%s: %s: %s / %s", config.name, exc.where, exc.message_de, exc.message_en)
            return
        thread = threading.Thread(target=listener.run, name=f"mqtt-{config.name}", daemon=True)
        thread.start()
        self._running[config.name] = (config, listener, thread)

    def _stop(self, name: str) -> None:
        _config, listener, thread = self._running.pop(name)
        listener.stop.set()
        thread.join(timeout=30)

    def stop_all(self) -> None:
        for name in list(self._running):
            self._stop(name)
