"""The ``mqtt`` source type against a real Mosquitto broker of the test's own: every reading
whose PUBACK the publisher got is stored exactly once although the broker restarts and the
listener is killed; a new station is in the catalogue within seconds; bad input is recorded
with its reason and acknowledged; a locked store delays, never loses; and the pure mapping of
topics and payloads."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine, select

from catalog.schema import SensorDatastream, SensorObservation, SensorThing
from catalog.sensors.store import SensorStore
from catalog.sensors.times import iso, to_ms
from catalog.store import Store
from harvesters import mqtt_listener
from harvesters.base import SourceConfig
from harvesters.config import load_source
from harvesters.mqtt_listener import BATCH, RECEIVE_MAXIMUM, Listener
from harvesters.mqtt_payload import (
    Mapping,
    MappingError,
    PayloadProblem,
    first_match,
    mappings,
    subscriptions,
)
from harvesters.run import run_source
from harvesters.schedule import run_schedule
from tests.conftest import ROOT
from tests.mosquitto import Mosquitto, available

SOURCE = "luft"
PLUS_ONE = timezone(timedelta(hours=1))
START = datetime(2025, 3, 1, tzinfo=PLUS_ONE)

Row = tuple[str, str, int, float]  # thing key, datastream key, time (ms), value


# --- helpers --------------------------------------------------------------------------------


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto of this test's own on a free port."""
    if not available():
        if os.environ.get("ODAPP_REQUIRE_POSTGRES"):  # CI: every service must be there
            pytest.fail("mosquitto is not installed (scripts/test-services.sh installs it)")
        pytest.skip("mosquitto is not installed")
    running = Mosquitto(tmp_path / "mosquitto").start()
    yield running
    running.stop()


def source_file(folder: Path, broker: Mosquitto, **options: Any) -> Path:
    """An mqtt source file for ``broker`` in ``folder``."""
    data = {
        "name": SOURCE,
        "type": "mqtt",
        "organization": {"name": "Landeshauptstadt Dresden, Umweltamt"},
        "url": broker.url,
        "defaults": {"license": "dl-by-de/2.0"},
        "options": {
            "mappings": [
                {"topic": "dresden/umwelt/{thing}/{datastream}", "time": "time"},
                {"topic": "dresden/sta/{thing}/{datastream}", "format": "sensorthings"},
                {"topic": "dresden/pegel/{thing}", "format": "number", "datastream": "pegel"},
                {"topic": "dresden/zaehler/{thing}/rad-{datastream}", "time": "time"},
            ],
            "things": {"st01": {"name": "Dresden-Nord", "location": [13.7413, 51.065]}},
            "datastreams": {
                "pm10": {
                    "name": "PM10",
                    "observed_property": {"name": "Feinstaub PM10"},
                    "unit": {"name": "Mikrogramm je Kubikmeter", "symbol": "µg/m³"},
                }
            },
            **options,
        },
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{SOURCE}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def reading(i: int, stations: int = 20) -> tuple[str, bytes, Row]:
    """The i-th test reading: topic, payload and what the store must hold for it."""
    station = f"st{i % stations + 1:02d}"
    when = START + timedelta(minutes=i // stations)
    value = round((i * 7919 % 10_000) / 10, 1)
    payload = json.dumps({"time": when.isoformat(), "value": value}).encode()
    return f"dresden/umwelt/{station}/pm10", payload, (station, "pm10", to_ms(when), value)


class Publisher:
    """A paho publisher with QoS 1 and a persistent session of its own; remembers which
    readings the broker acknowledged (PUBACK)."""

    def __init__(self, broker: Mosquitto, client_id: str = "test-publisher") -> None:
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.client.reconnect_delay_set(1, 2)
        self.client.max_inflight_messages_set(100)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect("127.0.0.1", broker.port, clean_start=False, properties=props)
        self.client.on_publish = self._on_publish
        self.acked: set[int] = set()  # message ids the broker acknowledged
        self.client.loop_start()
        self.sent: list[tuple[int, Row | None]] = []  # fewer than 65,535: ids are unique

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            self.acked.add(mid)

    def publish(self, topic: str, payload: bytes, row: Row | None = None) -> None:
        # while the broker is away paho keeps the message and sends it after reconnecting
        self.sent.append((self.client.publish(topic, payload, qos=1).mid, row))

    def all_acknowledged(self) -> bool:
        return all(mid in self.acked for mid, _ in self.sent)

    def wait(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.all_acknowledged():
            time.sleep(0.05)

    def acknowledged(self) -> set[Row]:
        return {row for mid, row in self.sent if row is not None and mid in self.acked}

    def published(self) -> set[Row]:
        return {row for _mid, row in self.sent if row is not None}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def stored_rows(engine: Engine, source: str = SOURCE) -> list[Row]:
    o, d, t = SensorObservation, SensorDatastream, SensorThing
    with engine.connect() as conn:
        return [
            (thing, ds, start, value)
            for thing, ds, start, value in conn.execute(
                select(t.source_key, d.source_key, o.phenomenon_start, o.result)
                .join(d, d.id == o.datastream_id)
                .join(t, t.id == d.thing_id)
                .where(t.source == source)
            )
        ]


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def listening(store: Store, config: SourceConfig, files: Path) -> Iterator[Listener]:
    """A listener in a thread of this process, subscribed when the block starts."""
    listener = Listener(store, config, files_dir=files)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            listener.run()
        except BaseException as exc:  # shown by the test, not lost in the thread
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert listener.subscribed.wait(15), "the listener did not subscribe"
    try:
        yield listener
        assert thread.is_alive(), f"the listener died: {errors}"
    finally:
        listener.stop.set()
        thread.join(30)
    assert not errors, errors


class ListenProcess:
    """``odapp harvest listen luft`` as its own process (as systemd would run it)."""

    def __init__(self, workdir: Path, harvest_dir: Path) -> None:
        self.workdir = workdir
        self.db = workdir / "odapp.sqlite"
        self.env = {
            **os.environ,
            "ODAPP_DATABASE_URL": f"sqlite:///{self.db}",
            "ODAPP_HARVEST_DIR": str(harvest_dir),
            "ODAPP_FILES_DIR": str(workdir / "files"),
            "ODAPP_BASE_URL": "http://odapp.test",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0

    @property
    def log(self) -> Path:
        return self.workdir / f"listen-{self.runs}.log"

    def start(self) -> None:
        self.runs += 1
        out = open(self.log, "wb")  # noqa: SIM115 (closed with the process)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "odapp.cli", "harvest", "listen", SOURCE],
            cwd=self.workdir,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: "subscribed" in self.log.read_text(), 30, "the listener to subscribe")

    def kill(self) -> None:
        assert self.process is not None and self.process.poll() is None, self.log.read_text()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        assert self.process is not None
        self.process.terminate()
        return self.process.wait(30)

    def close(self) -> None:
        """Whatever happened in the test: no listener is left running."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def listen_process(tmp_path: Path) -> Iterator[ListenProcess]:
    process = ListenProcess(tmp_path, tmp_path / "harvest")
    yield process
    process.close()


# --- 1. nothing acknowledged is lost: broker restart and kill -9 ---------------------------


def test_every_acknowledged_reading_is_stored_once_through_restarts_and_kill(
    tmp_path: Path, broker: Mosquitto, listen_process: ListenProcess
) -> None:
    total, per_tick, tick = 10_000, 100, 0.2  # 500 readings a second for 20 s
    listener = listen_process
    source_file(tmp_path / "harvest", broker)
    listener.start()
    publisher = Publisher(broker)
    events: list[str] = []
    started = time.monotonic()
    for i in range(total):
        if i and i % per_tick == 0:
            time.sleep(max(0.0, started + (i // per_tick) * tick - time.monotonic()))
        if i == 3_050:  # mid-burst, the broker restarts with its saved state
            broker.restart()
            events.append("broker restarted")
        if i == 6_550:  # mid-burst, the listener dies and comes back
            listener.kill()
            time.sleep(0.5)
            listener.start()
            events.append("listener killed and started again")
        topic, payload, row = reading(i)
        publisher.publish(topic, payload, row)
    publisher.wait(30)
    acknowledged = publisher.acknowledged()
    assert len(acknowledged) == total, "the broker acknowledged every reading at last"
    store = Store(f"sqlite:///{listener.db}", "http://odapp.test")
    engine = store.engine
    wait_for(lambda: len(stored_rows(engine)) >= len(acknowledged), 40, "all readings stored")
    time.sleep(0.5)  # redeliveries still on their way are duplicates, never new rows
    assert listener.stop() == 0, listener.log.read_text()
    publisher.close()
    rows = stored_rows(engine)
    assert len(rows) == len(set(rows)) == total, "each reading stored exactly once"
    assert set(rows) == acknowledged, "every acknowledged reading stored, nothing else"
    assert set(rows) <= publisher.published()
    assert events == ["broker restarted", "listener killed and started again"]
    assert time.monotonic() - started < 60
    # the listener saw the broker go and come back
    first = (tmp_path / "listen-1.log").read_text()
    assert "disconnected from the broker" in first and first.count("connected (session") >= 2
    assert "session present: True" in listener.log.read_text()
    # every station is a catalogue dataset whose modified time is its newest reading
    with engine.connect() as conn:
        things = conn.execute(
            select(SensorThing.source_key, SensorThing.dataset_uri).where(
                SensorThing.source == SOURCE
            )
        ).all()
    assert len(things) == 20 and all(uri for _key, uri in things)
    newest = max(ms for thing, _ds, ms, _v in rows if thing == "st01")
    record = store.get(dict(things)["st01"]).record
    assert record.modified == iso(newest)
    assert record.title["de"] == "Dresden-Nord: Messwerte"


# --- 2. a new station appears in the catalogue within a minute -----------------------------


def test_a_new_station_is_a_catalogue_dataset_within_seconds(
    store: Store, tmp_path: Path, broker: Mosquitto
) -> None:
    config = load_source(source_file(tmp_path / "harvest", broker, catalogue_interval=1))
    publisher = Publisher(broker)
    sensors = SensorStore(store.engine)
    with listening(store, config, tmp_path / "files") as listener:
        for i in range(40):
            publisher.publish(*reading(i, stations=2))
        publisher.wait()
        wait_for(lambda: len(stored_rows(store.engine)) == 40, 20, "the first readings")
        first = time.monotonic()
        when = [START + timedelta(hours=2, minutes=m) for m in range(3)]
        for m, at in enumerate(when):  # a sensor never configured: key only
            body = {"time": at.isoformat(), "value": 20 + m}
            publisher.publish("dresden/umwelt/neu-42/no2", json.dumps(body).encode())
        publisher.wait()

        def dataset_uri() -> str | None:
            with store.engine.connect() as conn:
                return conn.execute(
                    select(SensorThing.dataset_uri).where(
                        SensorThing.source == SOURCE, SensorThing.source_key == "neu-42"
                    )
                ).scalar_one_or_none()

        wait_for(lambda: dataset_uri() is not None, 60, "the new station's dataset")
        appeared = time.monotonic() - first
        assert listener.catalogue_runs >= 2
    assert appeared < 60
    record = store.get(dataset_uri() or "").record
    assert record.title["de"] == "neu-42: Messwerte"
    assert record.modified == iso(to_ms(when[-1]))
    assert record.temporal[0].start == iso(to_ms(when[0]))
    with store.engine.connect() as conn:
        ds_id, ds_name = conn.execute(
            select(SensorDatastream.id, SensorDatastream.name)
            .join(SensorThing, SensorThing.id == SensorDatastream.thing_id)
            .where(SensorThing.source_key == "neu-42")
        ).one()
    assert ds_name == "no2"
    series = sensors.series(ds_id)
    assert [(r.start, r.value) for r in series] == [
        (to_ms(at), 20 + m) for m, at in enumerate(when)
    ]
    # the configured station keeps its name and place
    with store.engine.connect() as conn:
        name, lon = conn.execute(
            select(SensorThing.name, SensorThing.lon).where(SensorThing.source_key == "st01")
        ).one()
    assert (name, lon) == ("Dresden-Nord", 13.7413)
    # a run of the source outside the listener reads no network and changes nothing
    broker.stop()
    result = run_source(store, config, files_dir=tmp_path / "files")
    assert result.status == "succeeded", result.summary()
    assert result.counts["unchanged"] == 3 and result.counts["new"] == 0
    publisher.close()


# --- 3. bad input: recorded with its reason, acknowledged, the rest stored ------------------


def test_bad_input_is_recorded_and_the_good_readings_around_it_stored(
    store: Store,
    tmp_path: Path,
    broker: Mosquitto,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.INFO, logger="harvesters.mqtt_listener")
    monkeypatch.setattr(mqtt_listener, "STATS_EVERY", 0.5)
    config = load_source(source_file(tmp_path / "harvest", broker))
    publisher = Publisher(broker)
    t = [START + timedelta(minutes=m) for m in range(10)]

    def air(when: datetime | str, value: Any) -> bytes:
        return json.dumps(
            {"time": when if isinstance(when, str) else when.isoformat(), "value": value}
        ).encode()

    pm10 = "dresden/umwelt/st01/pm10"
    big = b'{"time": "2025-03-01T00:00:00+01:00", "value": 1, "pad": "' + b"x" * 10_000_000
    messages = [
        (pm10, air(t[0], 10.0)),  # good
        (pm10, air(t[1], "n/a")),  # not a number
        (pm10, air("2025-03-01T00:02:00", 12.0)),  # no zone: Europe/Berlin
        (pm10, air(t[0], 10.0)),  # the same reading again
        (pm10, air(t[0], 99.0)),  # another value for a time already stored
        (pm10, big + b'"}'),  # 10 MB
        (pm10, b'{"time": "2025-03-01T00:03:00+01:00", "value": '),  # broken JSON
        ("dresden/zaehler/z1/auto", air(t[3], 5)),  # no mapping fits
        (pm10, b'{"time": "2025-03-01T00:04:00+01:00"}'),  # no value
        ("dresden/pegel/elbe", b"1,87"),  # decimal comma, time of receipt
        ("dresden/pegel/elbe", b"abc"),
        ("dresden/zaehler/z1/rad-nord", air(t[4], 17)),
        (
            "dresden/sta/st01/no2",
            json.dumps(
                {
                    "phenomenonTime": "2025-03-01T00:05:00Z",
                    "resultTime": "2025-03-01T00:06:00Z",
                    "result": 5.5,
                }
            ).encode(),
        ),
        (pm10, air(t[9], 20.0)),  # good, the last one
    ]
    with listening(store, config, tmp_path / "files") as listener:
        before = time.time()
        for topic, payload in messages:
            publisher.publish(topic, payload)
        publisher.wait()
        assert publisher.all_acknowledged()
        wait_for(
            lambda: any(ms == to_ms(t[9]) for *_, ms, _v in stored_rows(store.engine)),
            30,
            "the last good reading",
        )
        wait_for(lambda: listener.buffered() == 0, 10, "every message acknowledged")
        counts = listener.counts
        wait_for(  # the line logged every minute (here every half second)
            lambda: "total: received 14, stored 6, duplicates 2, rejected 6)" in caplog.text,
            5,
            "the counts in the log",
        )
    assert counts.received == len(messages)
    rows = stored_rows(store.engine)
    values = {(thing, ds, ms): v for thing, ds, ms, v in rows}
    assert values[("st01", "pm10", to_ms(t[0]))] == 10.0  # the first value stays
    assert values[("st01", "pm10", to_ms(datetime(2025, 3, 1, 0, 2, tzinfo=PLUS_ONE)))] == 12.0
    assert values[("st01", "pm10", to_ms(t[9]))] == 20.0
    assert values[("z1", "nord", to_ms(t[4]))] == 17
    assert values[("st01", "no2", to_ms(datetime(2025, 3, 1, 0, 5, tzinfo=UTC)))] == 5.5
    (pegel,) = [(ms, v) for thing, ds, ms, v in rows if (thing, ds) == ("elbe", "pegel")]
    assert pegel[1] == 1.87 and before * 1000 - 1000 <= pegel[0] <= time.time() * 1000
    assert len(rows) == 6
    issues = SensorStore(store.engine).issues(SOURCE)
    by_code = {i["code"]: i for i in issues}
    assert by_code["non-numeric"]["action"] == "rejected"
    assert by_code["non-numeric"]["value"] in ("n/a", "abc")
    assert {i["value"] for i in issues if i["code"] == "non-numeric"} == {"n/a", "abc"}
    assert by_code["no-zone"]["action"] == "normalised"
    assert "Europe/Berlin" in by_code["no-zone"]["message_en"]
    assert by_code["duplicate"]["action"] == "duplicate" and by_code["duplicate"]["count"] == 1
    assert by_code["conflict"]["value"] == "99.0"
    large = by_code["too-large"]
    assert large["action"] == "rejected" and str(len(big) + 2) in large["message_en"]
    assert large["value"] == f"{len(big) + 2} bytes"
    assert "not valid JSON" in by_code["invalid-json"]["message_en"]
    assert by_code["invalid-json"]["message_de"].startswith("Die Nachricht ist kein gültiges JSON")
    assert by_code["no-mapping"]["where"] == "dresden/zaehler/z1/auto"
    assert "'value'" in by_code["no-result"]["message_en"]
    assert by_code["decimal-comma"]["action"] == "normalised"
    assert by_code["receive-time"]["action"] == "normalised"
    assert all(i["message_de"] and i["message_en"] for i in issues)
    with store.engine.connect() as conn:
        result_time = conn.execute(
            select(SensorObservation.result_time).where(SensorObservation.result == 5.5)
        ).scalar_one()
    assert result_time == to_ms(datetime(2025, 3, 1, 0, 6, tzinfo=UTC))
    assert counts.rejected == 6 and counts.duplicates == 2
    # every message was acknowledged, the rejected ones too: the session holds nothing more
    with listening(store, config, tmp_path / "files") as again:
        time.sleep(1)
        assert again.counts.received == 0
    publisher.close()


# --- 4. store outage: nothing acknowledged before it is stored -----------------------------


def test_a_locked_store_delays_but_loses_nothing(
    sqlite_store: Store, tmp_path: Path, broker: Mosquitto
) -> None:
    config = load_source(source_file(tmp_path / "harvest", broker))
    publisher = Publisher(broker)
    database = str(sqlite_store.engine.url.database)
    with listening(sqlite_store, config, tmp_path / "files") as listener:
        for i in range(200):
            publisher.publish(*reading(i))
        publisher.wait()
        wait_for(lambda: len(stored_rows(sqlite_store.engine)) == 200, 20, "the first batch")
        wait_for(lambda: listener.catalogue_runs == 1, 20, "the new stations catalogued")
        lock = sqlite3.connect(database, timeout=30, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        locked_at = time.monotonic()
        most = 0
        for i in range(200, 4200):  # twice the Receive Maximum while the store is locked
            publisher.publish(*reading(i))
            if i % 100 == 0:
                time.sleep(0.05)
                most = max(most, listener.buffered())
        while time.monotonic() - locked_at < 12:  # longer than SQLite's busy timeout
            most = max(most, listener.buffered())
            time.sleep(0.1)
        assert len(stored_rows(sqlite_store.engine)) == 200, "nothing written while locked"
        lock.execute("COMMIT")
        lock.close()
        publisher.wait(60)
        wait_for(lambda: len(stored_rows(sqlite_store.engine)) == 4200, 60, "the backlog")
        assert listener.outages >= 1
    rows = stored_rows(sqlite_store.engine)
    assert len(rows) == len(set(rows)) == 4200
    assert set(rows) == publisher.acknowledged() == publisher.published()
    # the broker filled the buffer up to the Receive Maximum and kept the rest itself
    assert BATCH < most <= RECEIVE_MAXIMUM
    publisher.close()


# --- odapp harvest schedule starts the listeners -------------------------------------------


def test_the_scheduler_runs_the_listener_of_an_mqtt_source(
    sqlite_store: Store, tmp_path: Path, broker: Mosquitto
) -> None:
    folder = tmp_path / "harvest"
    source_file(folder, broker)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_schedule,
        args=(sqlite_store, folder, tmp_path / "files", "http://odapp.test"),
        kwargs={"stop": stop, "poll": 0.5},
        daemon=True,
    )
    thread.start()
    publisher = Publisher(broker)
    try:
        wait_for(  # the scheduler reads the folder and its listener subscribes
            lambda: "odapp-luft 1 dresden/umwelt/+/+" in broker.log_text(), 20, "subscribed"
        )
        for i in range(30):
            publisher.publish(*reading(i, stations=3))
        publisher.wait()
        wait_for(lambda: len(stored_rows(sqlite_store.engine)) == 30, 20, "readings")
    finally:
        stop.set()
        thread.join(30)
        publisher.close()
    assert not thread.is_alive()


# --- 5. topics and payloads (pure) ---------------------------------------------------------


def test_topic_templates_become_subscriptions_and_give_the_keys() -> None:
    air = Mapping("dresden/umwelt/{thing}/{datastream}")
    assert air.subscription == "dresden/umwelt/+/+"
    assert air.match("dresden/umwelt/dd-nord/pm10") == {"thing": "dd-nord", "datastream": "pm10"}
    assert air.match("dresden/umwelt/dd-nord") is None
    assert air.match("dresden/umwelt/dd-nord/pm10/extra") is None
    part = Mapping("stadt/+/station-{thing}/{datastream}.json")
    assert part.subscription == "stadt/+/+/+"
    assert part.match("stadt/x/station-7/no2.json") == {"thing": "7", "datastream": "no2"}
    assert part.match("stadt/x/haltestelle-7/no2.json") is None
    rest = Mapping("pegel/{thing}/#", datastream="wasserstand")
    assert rest.subscription == "pegel/+/#"
    assert rest.match("pegel/elbe") == {"thing": "elbe"}
    assert rest.match("pegel/elbe/a/b") == {"thing": "elbe"}
    assert Mapping("a.b/{thing}", datastream="x").match("aXb/1") is None  # literal dots
    found = mappings(
        {
            "mappings": [
                {"topic": "a/{thing}/{datastream}"},
                {"topic": "a/{thing}/{datastream}", "format": "number"},
                {"topic": "b/{thing}", "datastream": "t"},
            ]
        }
    )
    assert subscriptions(found) == ["a/+/+", "b/+"]
    assert first_match(found, "a/1/2") is found[0]
    assert first_match(found, "c/1") is None


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ({"topic": "a/{datastream}"}, "station"),
        ({"topic": "a/{thing}"}, "series"),
        ({"topic": "a/#/{thing}/{datastream}"}, "last level"),
        ({"topic": "a/x+/{thing}/{datastream}"}, "whole level"),
        ({"topic": "a/{thing}/{thing}", "datastream": "d"}, "twice"),
        ({"topic": "a/{thing}/{datastream}", "format": "number", "time": "t"}, "do not apply"),
    ],
)
def test_mappings_that_cannot_work_are_refused(mapping: dict[str, Any], words: str) -> None:
    with pytest.raises(MappingError) as caught:
        mappings({"mappings": [mapping]})
    assert words in caught.value.en and caught.value.de


def test_json_paths_formats_and_times() -> None:
    nested = Mapping("s/{thing}/{datastream}", result="data.values.1", time="data.ts")
    body = {"data": {"values": [1, 2.5], "ts": "2025-03-01T10:00:00+01:00"}}
    parsed = nested.parse("s/a/b", json.dumps(body).encode())
    assert (parsed.thing, parsed.datastream, parsed.result) == ("a", "b", 2.5)
    assert parsed.time == "2025-03-01T10:00:00+01:00"
    plain = Mapping("s/{thing}/{datastream}")
    assert plain.parse("s/a/b", b'{"value": "7,5"}').result == "7,5"  # the sink reads it
    assert plain.parse("s/a/b", b'{"value": 3}').time is None  # time of receipt
    seconds = Mapping("s/{thing}/{datastream}", time="t")
    assert seconds.parse("s/a/b", b'{"value": 1, "t": 1740819600}').time == 1740819600000
    assert seconds.parse("s/a/b", b'{"value": 1, "t": 1740819600123}').time == 1740819600123
    sta = Mapping("sta/{thing}/{datastream}", format="sensorthings")
    obs = {
        "phenomenonTime": "2025-03-01T09:00:00Z/2025-03-01T10:00:00Z",
        "resultTime": "2025-03-01T10:00:05Z",
        "result": 41,
    }
    parsed = sta.parse("sta/x/y", json.dumps(obs).encode())
    assert parsed.time == obs["phenomenonTime"] and parsed.result == 41
    assert parsed.result_time == "2025-03-01T10:00:05Z"
    assert sta.parse("sta/x/y", b'{"result": 1}').time is None
    number = Mapping("p/{thing}", format="number", datastream="w")
    parsed = number.parse("p/elbe", b" 1.87\n")
    assert (parsed.thing, parsed.datastream, parsed.result, parsed.time) == (
        "elbe",
        "w",
        "1.87",
        None,
    )
    assert nested.parse("s/a/b", b'{"data": {"values": [{"x": 1}, {"y": 2}], "ts": 0}}').result == (
        '{"y": 2}'
    )
    assert plain.parse("s/a/b", b'{"value": "a\\u0000b"}').result == "a\ufffdb"


@pytest.mark.parametrize(
    ("mapping", "topic", "payload", "code"),
    [
        (Mapping("s/{thing}/{datastream}"), "s/a/b", b"{oops", "invalid-json"),
        (Mapping("s/{thing}/{datastream}"), "s/a/b", b"\xff\xfe", "bad-encoding"),
        (Mapping("s/{thing}/{datastream}"), "s/a/b", b'{"wert": 1}', "no-result"),
        (Mapping("s/{thing}/{datastream}", time="t"), "s/a/b", b'{"value": 1}', "no-time"),
        (
            Mapping("s/{thing}/{datastream}", time="t"),
            "s/a/b",
            b'{"value": 1, "t": []}',
            "bad-time",
        ),
        (Mapping("s/{thing}/{datastream}"), "s/" + "k" * 201 + "/b", b'{"value": 1}', "bad-key"),
        (Mapping("s/{thing}/{datastream}", format="sensorthings"), "s/a/b", b"[]", "no-result"),
    ],
)
def test_payloads_that_give_no_reading(
    mapping: Mapping, topic: str, payload: bytes, code: str
) -> None:
    with pytest.raises(PayloadProblem) as caught:
        mapping.parse(topic, payload)
    assert caught.value.code == code and caught.value.de and caught.value.en


def test_the_example_source_file_is_valid() -> None:
    config = load_source(ROOT / "config" / "harvesters" / "examples" / "mqtt.yaml")
    assert config.type == "mqtt"
    assert subscriptions(mappings(config.options)) == [
        "dresden/umwelt/luft/+/+",
        "dresden/sta/+/+",
        "dresden/pegel/+",
    ]
