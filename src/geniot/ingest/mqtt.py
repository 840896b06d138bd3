"""MQTT ingest (paho-mqtt): subscribe with QoS 1 on a persistent session and acknowledge each
message only after its readings are stored, so a broker or service restart loses nothing the
broker counted as delivered."""

from __future__ import annotations

import threading
from urllib.parse import urlparse

from geniot.core.extras import require
from geniot.ingest.messages import MAX_PAYLOAD_BYTES, IngestError, parse_mqtt_message
from geniot.ingest.writer import BatchWriter


def parse_url(url: str) -> tuple[str, int]:
    parsed = urlparse(url if "://" in url else f"mqtt://{url}")
    if parsed.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"MQTT URL must look like mqtt://host:port, got {url!r}")
    return parsed.hostname or "127.0.0.1", parsed.port or 1883


def make_client(client_id: str, *, clean: bool):
    mqtt = require("paho.mqtt.client", "mqtt")
    from paho.mqtt.enums import CallbackAPIVersion

    return mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean,
        manual_ack=not clean,
    )


class MQTTIngest:
    """Feeds a :class:`BatchWriter` from a broker. ``topics`` are subscription filters."""

    def __init__(
        self,
        url: str,
        writer: BatchWriter,
        *,
        topics: tuple[str, ...] = ("#",),
        client_id: str = "geniot-ingest",
        ignore_prefix: str = "geniot/",
        max_payload: int = MAX_PAYLOAD_BYTES,
    ) -> None:
        self.host, self.port = parse_url(url)
        self.writer = writer
        self.topics = topics
        self.ignore_prefix = ignore_prefix
        self.max_payload = max_payload
        self.connected = threading.Event()
        self.client = make_client(client_id, clean=False)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=2)
        self.client.max_inflight_messages_set(1000)

    def start(self) -> None:
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            client.subscribe([(t, 1) for t in self.topics])
            self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()

    def _on_message(self, client, userdata, message) -> None:
        topic = message.topic
        ack = self._acker(message)
        if self.ignore_prefix and topic.startswith(self.ignore_prefix):  # our own alerts
            ack()
            return
        try:
            readings = parse_mqtt_message(topic, message.payload, limit=self.max_payload)
        except IngestError as exc:
            self.writer.reject("mqtt", topic, exc.reason, message.payload)
            ack()  # kept in the dead-letter table: redelivery would not make it valid
            return
        self.writer.submit(readings, ack)

    def _acker(self, message):
        mid, qos = message.mid, message.qos

        def ack() -> None:
            if qos > 0:
                self.client.ack(mid, qos)

        return ack
