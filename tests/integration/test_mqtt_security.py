"""MQTT security against a real Mosquitto run with deploy/mosquitto's config: TLS with a test CA
made here, users from a mosquitto_passwd file, the documented ACL; errors said in words; the
ingest over mqtts end to end; kill -9 of the broker mid-stream; a stock broker's limits."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner
from waiting import wait_until

from geniot.cli.main import app as cli
from geniot.core.settings import Settings
from geniot.data.io import series_from_frame
from geniot.data.store import SensorStore
from geniot.ingest.mqtt import MQTTIngest
from geniot.ingest.mqtt_target import (
    MQTTConfigError,
    MQTTConnectError,
    MQTTTarget,
    connect_blocking,
    make_client,
)
from geniot.ingest.writer import BatchWriter
from geniot.service.state import PlantService

pytestmark = pytest.mark.integration


def _target(broker, user: str | None, password: str | None = None, **kw) -> MQTTTarget:
    return MQTTTarget.from_url(broker.tls_url(user, password), ca_file=broker.ca_file, env={}, **kw)


def _client(broker, user: str | None, password: str | None = None, **kw):
    c = make_client(f"{user or 'anon'}-{time.time_ns()}", clean=True)
    connect_blocking(c, _target(broker, user, password, **kw), timeout=10)
    return c


def _ingest(store, target, client_id="geniot-secure"):
    writer = BatchWriter(store, max_delay_s=0.02)
    ingest = MQTTIngest(target, writer, client_id=client_id, topics=("plant/#",))
    ingest.start()
    return writer, ingest


def _reading(ts_s: float, value: float) -> str:
    return json.dumps({"ts": datetime.fromtimestamp(ts_s, UTC).isoformat(), "values": {"flow": value, "temp": -value}})


# ------------------------------------------------------------------ URLs and files (no broker)
def test_urls_credentials_and_files_are_checked_with_clear_errors(tmp_path):
    t = MQTTTarget.from_url("mqtts://geniot:s%40cret@broker.plant:8884", env={})
    assert (t.host, t.port, t.tls, t.username, t.password) == ("broker.plant", 8884, True, "geniot", "s@cret")
    assert "s@cret" not in repr(t) and "s%40cret" not in t.safe_url and t.safe_url == "mqtts://geniot@broker.plant:8884"
    assert MQTTTarget.from_url("mqtts://h", env={}).port == 8883 and MQTTTarget.from_url("h:1884", env={}).port == 1884
    assert MQTTTarget.from_url("tcp://h", env={}).port == 1883
    from_env = MQTTTarget.from_url("mqtt://sensor@h", env={"GENIOT_MQTT_PASSWORD": "pw"})
    assert from_env.password == "pw" and "pw" not in repr(from_env)
    with pytest.raises(MQTTConfigError, match="scheme 'http'"):
        MQTTTarget.from_url("http://h:1883")
    with pytest.raises(MQTTConfigError, match=r"\*\*\*") as err:
        MQTTTarget.from_url("mqtt://u:topsecret@h:70000")
    assert "topsecret" not in str(err.value)
    with pytest.raises(MQTTConfigError, match="does not exist"):
        MQTTTarget.from_url("mqtts://h", ca_file=tmp_path / "missing-ca.crt")
    with pytest.raises(MQTTConfigError, match="needs TLS"):
        (tmp_path / "ca.crt").write_text("x")
        MQTTTarget.from_url("mqtt://h", ca_file=tmp_path / "ca.crt")
    with pytest.raises(MQTTConfigError, match="not a PEM"):
        MQTTTarget.from_url("mqtts://h", ca_file=tmp_path / "ca.crt").ssl_context()
    with pytest.raises(MQTTConfigError, match="needs a user name"):
        MQTTTarget.from_url("mqtt://:pw@h")


# ------------------------------------------------------------------ TLS, passwords, ACL
def test_wrong_password_no_password_and_untrusted_broker_are_refused_in_words(secure_broker, tmp_path):
    with pytest.raises(MQTTConnectError, match="refused"):
        _client(secure_broker, "sensor", "wrong-password")
    with pytest.raises(MQTTConnectError, match="refused"):
        _client(secure_broker, None)  # no user: anonymous clients are not allowed
    plain = make_client("anon-plain", clean=True)
    with pytest.raises(MQTTConnectError, match="refused"):
        connect_blocking(plain, MQTTTarget.from_url(secure_broker.url, env={}))  # the loopback listener needs a user too
    untrusted = MQTTTarget.from_url(secure_broker.tls_url("sensor"), env={})  # the system's CAs do not know the test CA
    with pytest.raises(MQTTConnectError, match="not trusted"):
        connect_blocking(make_client("untrusted", clean=True), untrusted)
    with pytest.raises(MQTTConnectError, match="TLS handshake"):  # mqtts:// against the plain listener
        connect_blocking(make_client("tls-on-plain", clean=True),
                         MQTTTarget.from_url(f"mqtts://localhost:{secure_broker.port}", ca_file=secure_broker.ca_file, env={}))  # fmt: skip

    # The service's ingest with a wrong password: reported in its status, never the password.
    with SensorStore(tmp_path / "s.duckdb") as store:
        writer, ingest = _ingest(store, _target(secure_broker, "geniot", "not-the-secret"))
        assert wait_until(lambda: ingest.status()["connect_failures"] > 0, 20)
        status = ingest.status()
        assert status["state"] == "disconnected" and "refused" in status["last_error"], status
        assert "not-the-secret" not in json.dumps(status) and status["problems"]
        ingest.stop()
        writer.close()
        writer, ingest = _ingest(store, MQTTTarget.from_url(secure_broker.tls_url("geniot"), env={}))  # untrusted CA
        assert wait_until(lambda: (ingest.status()["last_error"] or "").startswith("TLS handshake"), 20), ingest.status()
        ingest.stop()
        writer.close()


def test_acl_only_the_service_publishes_alerts_and_only_sensors_publish_readings(secure_broker, tmp_path):
    got: list[tuple[str, bytes]] = []
    reader = make_client("alerts-reader", clean=True)
    reader.on_message = lambda c, u, m: got.append((m.topic, m.payload))
    reader.on_connect = lambda c, u, f, rc, p: c.subscribe("geniot/alerts/#", qos=1)
    connect_blocking(reader, _target(secure_broker, "alerts-reader"))
    with SensorStore(tmp_path / "s.duckdb") as store:
        writer, ingest = _ingest(store, _target(secure_broker, "geniot"))
        assert ingest.connected.wait(10), ingest.status()
        time.sleep(0.3)
        sensor = _client(secure_broker, "sensor")
        reader_pub = _client(secure_broker, "alerts-reader")
        service = _client(secure_broker, "geniot")
        sensor.publish("geniot/alerts/P-1", json.dumps({"kind": "opened", "forged": True}), qos=1).wait_for_publish(5)
        reader_pub.publish("plant/pumps/P-9", _reading(1_780_000_000, 9.0), qos=1).wait_for_publish(5)  # not a sensor
        sensor.publish("plant/pumps/P-1", _reading(1_780_000_001, 1.0), qos=1).wait_for_publish(5)
        service.publish("geniot/alerts/P-1", json.dumps({"kind": "opened"}), qos=1).wait_for_publish(5)
        assert wait_until(lambda: len(got) >= 1 and store.count() >= 2, 20), (got, store.count())
        time.sleep(0.5)  # anything forged would have arrived by now (in order, before the real alert)
        assert [json.loads(p) for _, p in got] == [{"kind": "opened"}]
        assert store.assets() == ["P-1"] and store.count() == 2
        for c in (sensor, reader_pub, service, reader):
            c.disconnect()
            c.loop_stop()
        ingest.stop()
        writer.close()


def test_client_certificate_required_by_the_broker(cert_broker, test_pki):
    with pytest.raises(MQTTConnectError, match="TLS handshake|lost|refused|did not answer"):
        _client(cert_broker, "sensor")
    c = _client(cert_broker, "sensor", cert_file=test_pki["client"], key_file=test_pki["client_key"])
    assert c.is_connected()
    c.disconnect()
    c.loop_stop()


# ------------------------------------------------------------------ end to end over mqtts
def test_service_ingests_over_mqtts_what_simulate_publishes_over_mqtts(secure_broker, tmp_path, monkeypatch):
    monkeypatch.setenv("GENIOT_MQTT_PASSWORD", "service-secret")
    settings = Settings(home=tmp_path / "home", mqtt_url=f"mqtts://geniot@localhost:{secure_broker.tls_port}",
                        mqtt_ca_file=secure_broker.ca_file, mqtt_topics="plant/#")  # fmt: skip
    service = PlantService(settings)
    service.start()
    try:
        assert service.mqtt.connected.wait(10), service.mqtt.status()
        env = {"GENIOT_MQTT_PASSWORD": "sensor-secret"}
        url = f"mqtts://localhost:{secure_broker.tls_port}"
        args = ["simulate", "--assets", "2", "--days", "0.2", "--seed", "5", "--mqtt", url, "--mqtt-ca", str(secure_broker.ca_file),
                "--mqtt-user", "sensor"]  # fmt: skip
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 0, result.output
        assert "sensor-secret" not in result.output and "mqtts://sensor@localhost" in result.output
        expected = int(result.output.split("(")[1].split()[0])  # "published N messages (M readings, ..."
        assert wait_until(lambda: service.store.count() == expected, 60), (service.store.count(), expected)
        health = service.health()
        assert health["mqtt"]["state"] == "connected" and "service-secret" not in json.dumps(health, default=str)
        assert wait_until(lambda: service.mqtt.status()["broker_dropped"] is not None, 15)  # $SYS is readable by the service user
        assert service.mqtt.status()["broker_dropped"] == 0

        bad = CliRunner().invoke(cli, [*args[:-1], "alerts-reader"], env={"GENIOT_MQTT_PASSWORD": "wrong"})
        assert bad.exit_code == 2 and "refused" in bad.output and "wrong" not in bad.output.replace("wrong-", "")
    finally:
        service.stop()


def test_edge_runtime_reads_and_publishes_over_mqtts(secure_broker, tmp_path):
    from geniot.data.simulate import PlantConfig, simulate_plant
    from geniot.edge.export import export_detector
    from geniot.models.gaussian import GaussianBaseline
    from geniot.tasks import AnomalyDetector

    clean = simulate_plant(PlantConfig(n_assets=1, days=1, seed=2, fault_rate=0, drop_rate=0, outage_rate=0, degrading_fraction=0))
    asset = clean.assets()[0]
    wide = clean.wide(asset)
    export_detector(AnomalyDetector(generator=GaussianBaseline(), window=8).fit(series_from_frame(wide.iloc[:1200])), tmp_path / "edge")
    alerts: list = []
    reader = make_client("edge-alerts-reader", clean=True)
    reader.on_message = lambda c, u, m: alerts.append(json.loads(m.payload))
    reader.on_connect = lambda c, u, f, rc, p: c.subscribe("geniot/alerts/#", qos=1)
    connect_blocking(reader, _target(secure_broker, "alerts-reader"))
    tls = f"mqtts://geniot@localhost:{secure_broker.tls_port}"  # the service user may read readings and publish alerts
    env = {"GENIOT_MQTT_PASSWORD": "service-secret", "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "geniot.edge.runtime", str(tmp_path / "edge"), "--input", f"{tls}/plant/pumps/{asset}",
         "--publish", tls, "--mqtt-ca", str(secure_broker.ca_file), "--events-only"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    err_lines: list[str] = []
    threading.Thread(target=lambda: err_lines.extend(iter(proc.stderr.readline, "")), daemon=True).start()
    try:
        sensor = _client(secure_broker, "sensor")
        assert wait_until(lambda: any('"subscribed"' in line for line in err_lines), 60), (proc.poll(), err_lines)
        names = [c for c in wide.columns if c != "timestamp"]
        for i, row in enumerate(wide.iloc[1200:1240].itertuples(index=False)):
            values = {n: float(getattr(row, n)) for n in names}
            if i >= 30:
                values["flow_m3h"] *= 5
            sensor.publish(f"plant/pumps/{asset}", json.dumps({"ts": str(row.timestamp), "values": values}), qos=1).wait_for_publish(5)
        assert wait_until(lambda: alerts, 20), proc.poll()
        assert alerts[0]["kind"] == "opened" and alerts[0]["asset"] == asset
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
        sensor.disconnect()
        reader.loop_stop()
    assert "service-secret" not in out + "".join(err_lines)

    wrong = subprocess.run([sys.executable, "-m", "geniot.edge.runtime", str(tmp_path / "edge"), "--input", f"{tls}/plant/#",
                            "--mqtt-ca", str(secure_broker.ca_file)], capture_output=True, text=True, timeout=60,
                           env={**env, "GENIOT_MQTT_PASSWORD": "nope"})  # fmt: skip
    assert wrong.returncode != 0 and "refused" in wrong.stderr, wrong.stderr[-500:]


# ------------------------------------------------------------------ kill -9 of the broker
def test_broker_kill9_mid_stream_loses_only_what_it_had_not_saved_and_doubles_nothing(secure_broker, tmp_path):
    """Mosquitto acknowledges a publish before it is on disk: after kill -9 only what its last
    autosave (every second in deploy/mosquitto.conf) wrote survives. Everything it accepted more
    than two seconds before the kill must be stored, each reading once."""
    n_messages, base = 6000, 1_780_000_000
    accepted: dict[int, float] = {}
    mids: dict[int, int] = {}
    pub = make_client(f"kill9-pub-{time.time_ns()}", clean=True)
    acked_mids: dict[int, float] = {}  # by mid: the PUBACK may come before publish() has returned it
    first_ack: list[float] = []  # set once by the network thread; read by the test thread

    def on_publish(c, u, mid, rc, p):
        now = acked_mids.setdefault(mid, time.monotonic())
        if not first_ack:
            first_ack.append(now)

    pub.on_publish = on_publish
    connect_blocking(pub, _target(secure_broker, "sensor"))
    stop = threading.Event()

    def stream():
        for i in range(n_messages):
            if stop.is_set() or not pub.is_connected():
                return
            info = pub.publish(f"plant/pumps/P-{i % 4}", _reading(base + i, float(i)), qos=1)
            mids[info.mid] = i
            time.sleep(0.001)  # about 800 messages/s: a stream, not a burst

    path = tmp_path / "s.duckdb"
    store = SensorStore(path)
    writer, ingest = _ingest(store, _target(secure_broker, "geniot"), client_id="geniot-kill9")
    assert ingest.connected.wait(10), ingest.status()
    thread = threading.Thread(target=stream, daemon=True)
    thread.start()
    # Kill mid-stream, but only once some publishes were acknowledged more than 3 s ago (on a
    # fast machine 2,000 readings arrive within a second, and the check below would be empty).
    assert wait_until(lambda: store.count() > 2000 and bool(first_ack) and time.monotonic() - first_ack[0] > 3.0, 60)
    assert thread.is_alive(), "the stream ended before the kill: publish more messages"
    secure_broker.kill()
    killed_at = time.monotonic()
    stop.set()
    thread.join(10)
    pub.loop_stop()
    time.sleep(0.5)
    secure_broker.start()  # restarts from its persistence file
    assert wait_until(lambda: ingest.connected.is_set(), 30), ingest.status()
    last = [-1, time.time()]

    def settled():
        n = store.count()
        if n != last[0]:
            last[:] = [n, time.time()]
        return time.time() - last[1] > 3.0

    assert wait_until(settled, 60, step=0.2)
    ingest.stop()
    writer.close()
    store.close()
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT epoch(ts)::BIGINT, asset, signal, value FROM readings").fetchall()
    per_message: dict[int, int] = {}
    for ts, asset, signal, value in rows:
        i = ts - base
        assert asset == f"P-{i % 4}" and value == (float(i) if signal == "flow" else -float(i)), (ts, asset, signal, value)
        per_message[i] = per_message.get(i, 0) + 1
    assert set(per_message.values()) == {2}  # both readings of a stored message, each once
    stored = set(per_message)
    assert stored <= set(mids.values())  # nothing that was not published
    accepted.update({mids[mid]: t for mid, t in acked_mids.items() if mid in mids})  # fewer than 65,536 messages: mids are unique
    early = {i for i, t in accepted.items() if t < killed_at - 2.0}
    lost = set(accepted) - stored
    assert early and not early - stored, f"{len(early - stored)} readings accepted >2 s before kill -9 are missing; {len(lost)} lost in all"


# ------------------------------------------------------------------ a stock broker
def test_stock_broker_limits_lose_nothing_and_drops_elsewhere_are_reported(stock_broker, tmp_path):
    broker = stock_broker
    with SensorStore(tmp_path / "s.duckdb") as store:
        writer, ingest = _ingest(store, MQTTTarget.from_url(broker.url, env={}), client_id="geniot-stock")
        assert ingest.connected.wait(10)
        assert any("defaults" in w for w in ingest.status()["warnings"])  # said at start, with the settings needed
        pub = make_client("stock-pub", clean=True)
        pub.max_inflight_messages_set(1000)
        pub.max_queued_messages_set(0)
        connect_blocking(pub, MQTTTarget.from_url(broker.url, env={}))
        infos = [pub.publish(f"plant/pumps/P-{i % 4}", _reading(1_780_000_000 + i, float(i)), qos=1) for i in range(20_000)]
        for info in infos:
            info.wait_for_publish(60)
        assert wait_until(lambda: store.count() == 40_000, 120), (store.count(), broker.log.read_text()[-500:])
        assert "dropped for client geniot-stock" not in broker.log.read_text()
        assert wait_until(lambda: ingest.status()["broker_dropped"] is not None, 15)
        assert ingest.status()["broker_dropped"] == 0 and not ingest.status()["problems"]

        # Another QoS 1 subscriber that never acknowledges: the broker drops its messages
        # beyond 20 + 1,000 (its defaults) and geniot says so.
        slow = make_client("slow-sub", clean=False, manual_ack=True)
        slow.on_connect = lambda c, u, f, rc, p: c.subscribe("plant/#", qos=1)
        connect_blocking(slow, MQTTTarget.from_url(broker.url, env={}))
        time.sleep(0.3)
        for i in range(1500):
            pub.publish(f"plant/pumps/P-{i % 4}", _reading(1_780_100_000 + i, float(i)), qos=1)
        assert wait_until(lambda: (ingest.status()["broker_dropped"] or 0) > 0, 20), ingest.status()
        status = ingest.status()
        assert status["broker_dropped_since_start"] > 0 and "dropped" in " ".join(status["problems"])
        assert wait_until(lambda: store.count() == 43_000, 60)  # geniot itself still lost nothing
        for c in (pub, slow):
            c.disconnect()
            c.loop_stop()
        ingest.stop()
        writer.close()
