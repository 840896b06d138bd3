"""MQTT ingest (paho-mqtt): subscribe with QoS 1 on a persistent session and acknowledge each
message only after its readings are stored, so a broker or service restart loses nothing the
broker counted as delivered.

The ingest speaks MQTT 5 and announces a receive maximum of 65,535 unacknowledged messages: with
MQTT 3.1.1 a stock Mosquitto sends only ``max_inflight_messages`` (20) before waiting for
acknowledgements, which come after a batch is stored, so its per-client queue (1,000) overflowed
and it dropped messages. What the broker still drops is read from its ``$SYS`` counters and
shown in :meth:`MQTTIngest.status` (and so in the service's health).
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime

from geniot.ingest.messages import MAX_PAYLOAD_BYTES, IngestError, parse_mqtt_message
from geniot.ingest.mqtt_reads import install_fast_reads
from geniot.ingest.mqtt_target import (
    MQTTConfigError,
    MQTTConnectError,
    MQTTTarget,
    apply_target,
    connect_blocking,
    diagnose,
    make_client,
    refusal_words,
)
from geniot.ingest.publisher import split_publisher

__all__ = [
    "MQTTConfigError",
    "MQTTConnectError",
    "MQTTIngest",
    "MQTTTarget",
    "alert_client",
    "apply_target",
    "connect_blocking",
    "make_client",
    "parse_url",
    "target_from_settings",
]

SYS_DROPPED = "$SYS/broker/publish/messages/dropped"  # Mosquitto: messages dropped for any client
RECEIVE_MAXIMUM = 65535
SESSION_NEVER_EXPIRES = 0xFFFFFFFF
MOSQUITTO_DEFAULT_INFLIGHT = 20
BROKER_ADVICE = (
    "geniot needs from its broker: persistence true with autosave_interval 10 (or less); "
    "max_queued_messages 1000000 (or 0) and max_queued_bytes 0 so that QoS 1 messages queued while geniot is away "
    "or busy are kept; max_inflight_messages 1000; sys_interval 10 so that geniot can see dropped messages "
    "(see deploy/mosquitto/mosquitto.conf)"
)


def parse_url(url: str) -> tuple[str, int]:
    """Host and port of a broker URL (kept for callers that only need those)."""
    target = MQTTTarget.from_url(url)
    return target.host, target.port


def target_from_settings(settings) -> MQTTTarget:
    """The broker of ``geniot serve`` (``GENIOT_MQTT_URL`` and the ``GENIOT_MQTT_*`` TLS settings)."""
    password = settings.mqtt_password.get_secret_value() if getattr(settings, "mqtt_password", None) else None
    return MQTTTarget.from_url(
        settings.mqtt_url,
        ca_file=getattr(settings, "mqtt_ca_file", None),
        cert_file=getattr(settings, "mqtt_cert_file", None),
        key_file=getattr(settings, "mqtt_key_file", None),
        username=getattr(settings, "mqtt_username", None),
        password=password,
    ).without_topic("GENIOT_MQTT_URL")


def _warn(text: str) -> None:
    print(f"geniot mqtt: {text}", file=sys.stderr, flush=True)


class _ConnectionReport:
    """State, last error and connection counts of one paho client, in words (shared by the ingest
    and the alert publisher)."""

    def __init__(self, client, target: MQTTTarget, *, what: str) -> None:
        self.client = client
        self.target = target
        self.what = what
        self.state = "connecting"
        self.last_error: str | None = None
        self.connected_since: float | None = None
        self.connects = 0
        self.failures = 0
        self._last_diagnosis = 0.0
        client.on_connect_fail = self._on_connect_fail

    def connected(self) -> None:
        self.state = "connected"
        self.connects += 1
        self.connected_since = time.time()

    def refused(self, reason_code) -> None:
        self.state = "disconnected"
        self.failures += 1
        self.error(refusal_words(reason_code))

    def lost(self, reason_code) -> None:
        if self.state == "connected":
            self.state = "connecting"
            self.connected_since = None
            if reason_code is not None and getattr(reason_code, "is_failure", False):
                self.error(f"connection to the broker lost ({reason_code}); reconnecting")

    def _on_connect_fail(self, client, userdata) -> None:
        self.state = "disconnected"
        self.failures += 1
        now = time.monotonic()
        if now - self._last_diagnosis > 5.0:  # paho retries every few seconds; look again at most every 5 s
            self._last_diagnosis = now
            self.error(diagnose(self.target))

    def error(self, text: str) -> None:
        if text != self.last_error:
            _warn(f"{self.what} {self.target.safe_url}: {text}")
        self.last_error = text


class MQTTIngest:
    """Feeds a :class:`BatchWriter` from a broker. ``topics`` are subscription filters; ``url`` is a
    URL or an :class:`MQTTTarget` (credentials, TLS)."""

    def __init__(
        self,
        url: str | MQTTTarget,
        writer,
        *,
        topics: tuple[str, ...] = ("#",),
        client_id: str = "geniot-ingest",
        ignore_prefix: str = "geniot/",
        max_payload: int = MAX_PAYLOAD_BYTES,
        watch_broker: bool = True,
        checks=None,
        publisher_prefix: str | None = None,
        on_traffic=None,
    ) -> None:
        self.target = (url if isinstance(url, MQTTTarget) else MQTTTarget.from_url(url)).without_topic("MQTT ingest")
        self.host, self.port = self.target.host, self.target.port
        self.writer = writer
        self.topics = topics
        self.ignore_prefix = ignore_prefix
        self.max_payload = max_payload
        self.watch_broker = watch_broker
        self.checks = checks  # geniot.ingest.checks.ReadingChecks (ranges from the settings); None = the defaults
        self.publisher_prefix = publisher_prefix  # topics <prefix>/<user>/...: the broker's ACL vouches for the user
        # on_traffic(topic, publisher, received_at, payload_bytes, readings): each message's traffic
        # side (security detection); its failures are counted here and never reach paho's thread
        self.on_traffic = on_traffic
        self.traffic_errors = 0
        self.last_traffic_error: str | None = None
        self.connected = threading.Event()
        self.messages = 0
        self.broker_dropped: int | None = None  # the broker's own counter (all clients, since it started)
        self._dropped_new = 0
        self.broker_receive_maximum: int | None = None
        self.warnings: list[str] = []
        self.client = make_client(client_id, manual_ack=True, v5=True)
        self.report = _ConnectionReport(self.client, self.target, what="MQTT ingest")
        apply_target(self.client, self.target)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self._subscribe_mid: int | None = None
        self.refused_topics: list[str] = []
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=2)
        self.fast_reads = install_fast_reads(self.client)

    def start(self) -> None:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        props = Properties(PacketTypes.CONNECT)
        props.ReceiveMaximum = RECEIVE_MAXIMUM  # the broker may send this many before our acknowledgements
        props.SessionExpiryInterval = SESSION_NEVER_EXPIRES  # a persistent session: the broker queues while we are away
        self.client.connect_async(self.host, self.port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.connected.clear()
        self.report.state = "disconnected"

    def status(self) -> dict:
        """What the service's health shows for MQTT (never the password)."""
        since = self.report.connected_since
        problems = []
        if self.report.state != "connected":
            problems.append(f"MQTT ingest is {self.report.state}" + (f": {self.report.last_error}" if self.report.last_error else ""))
        if self.refused_topics:
            problems.append(f"the broker refused the subscription to {', '.join(self.refused_topics)}")
        new_drops = self.broker_dropped_since_start
        if self.broker_dropped:  # a drop while geniot was away counts too: its session's queue may have overflowed
            problems.append(f"the broker reports {self.broker_dropped} dropped message(s) since it started ({new_drops} since geniot "
                            "connected; all clients): raise its max_queued_messages (deploy/mosquitto/mosquitto.conf)")  # fmt: skip
        return {
            "state": self.report.state,
            "url": self.target.safe_url,
            "topics": list(self.topics),
            "last_error": self.report.last_error,
            "connected_since": None if since is None else datetime.fromtimestamp(since, UTC).isoformat(),
            "connects": self.report.connects,
            "connect_failures": self.report.failures,
            "messages": self.messages,
            "broker_dropped": self.broker_dropped,
            "broker_dropped_since_start": new_drops,
            "warnings": list(self.warnings),
            "publisher_prefix": self.publisher_prefix,
            "traffic_errors": self.traffic_errors,
            "last_traffic_error": self.last_traffic_error,
            "problems": problems,
        }

    @property
    def broker_dropped_since_start(self) -> int | None:
        return None if self.broker_dropped is None else self._dropped_new

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.report.refused(reason_code)
            return
        self.report.connected()
        if self.watch_broker:
            client.subscribe(SYS_DROPPED, qos=0)
        _, self._subscribe_mid = client.subscribe([(t, 1) for t in self.topics])
        self.broker_receive_maximum = getattr(properties, "ReceiveMaximum", None) if properties is not None else None
        if self.broker_receive_maximum == MOSQUITTO_DEFAULT_INFLIGHT and not self.warnings:
            text = f"the broker's limits look like Mosquitto's defaults (max_inflight_messages {MOSQUITTO_DEFAULT_INFLIGHT}); {BROKER_ADVICE}"
            self.warnings.append(text)
            _warn(text)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if mid != self._subscribe_mid:
            return
        refused = [f"{t!r} ({rc})" for t, rc in zip(self.topics, reason_codes, strict=False) if rc.is_failure]
        self.refused_topics = refused
        if refused:  # e.g. the ACL does not let this user read these topics
            self.report.error(f"broker refused the subscription to {', '.join(refused)}: check the acl_file")
        self.connected.set()  # subscribed: from now on nothing published on these topics passes us by

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        self.report.lost(reason_code)

    def _on_sys(self, topic: str, payload: bytes) -> None:
        if topic == SYS_DROPPED:
            try:
                value = int(payload.decode().strip())
            except (UnicodeDecodeError, ValueError):
                return
            if self.broker_dropped is not None:  # the first value is the baseline: drops before we came
                more = value - self.broker_dropped if value >= self.broker_dropped else value  # lower: the broker restarted
                if more > 0:
                    self._dropped_new += more
                    _warn(f"the broker dropped {more} more message(s) (its counter: {value}); {BROKER_ADVICE}")
            self.broker_dropped = value

    def _on_message(self, client, userdata, message) -> None:
        received_at = time.time()  # the traffic side's clock: when geniot got it
        topic = message.topic
        if topic.startswith("$SYS/"):
            self._on_sys(topic, message.payload)
            return
        self.messages += 1
        ack = self._acker(message)
        if self.ignore_prefix and topic.startswith(self.ignore_prefix):  # our own alerts
            ack()
            return
        publisher, readings_topic = split_publisher(topic, self.publisher_prefix)
        try:
            readings = parse_mqtt_message(readings_topic, message.payload, limit=self.max_payload, checks=self.checks)
        except IngestError as exc:
            self.writer.reject("mqtt", topic, exc.reason, message.payload)
            self._traffic(readings_topic, publisher, received_at, message.payload, [])  # a bad message is traffic too
            ack()  # kept in the dead-letter table: redelivery would not make it valid
            return
        except Exception as exc:  # noqa: BLE001 - containment: no message may kill paho's network thread
            self.writer.reject("mqtt", topic, f"the message could not be parsed ({type(exc).__name__}: {exc})"[:500], message.payload)
            self._traffic(readings_topic, publisher, received_at, message.payload, [])
            ack()
            return
        self._traffic(readings_topic, publisher, received_at, message.payload, readings)
        self.writer.submit(readings, ack)

    def _traffic(self, topic: str, publisher: str, received_at: float, payload: bytes, readings: list) -> None:
        if self.on_traffic is None:
            return
        try:
            self.on_traffic(topic, publisher, received_at, len(payload), readings)
        except Exception as exc:  # noqa: BLE001 - security detection must never stop ingest
            self.traffic_errors += 1
            self.last_traffic_error = f"{type(exc).__name__}: {exc}"[:500]

    def _acker(self, message):
        mid, qos = message.mid, message.qos

        def ack() -> None:
            if qos > 0:
                self.client.ack(mid, qos)

        return ack


def alert_client(target: MQTTTarget, client_id: str):
    """A started paho client for publishing alerts (QoS 1, reconnecting); its connection state and
    errors are on ``client.geniot_report`` and said on stderr."""
    client = make_client(client_id, clean=True)
    report = _ConnectionReport(client, target, what="MQTT alert publisher")
    apply_target(client, target)

    def on_connect(c, userdata, flags, reason_code, properties):
        report.refused(reason_code) if reason_code.is_failure else report.connected()

    client.on_connect = on_connect
    client.on_disconnect = lambda c, u, f, rc, p: report.lost(rc)
    client.geniot_report = report
    client.reconnect_delay_set(min_delay=0.2, max_delay=5)
    client.connect_async(target.host, target.port)
    client.loop_start()
    return client
