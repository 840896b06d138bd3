"""L2: getting readings in — MQTT and HTTP payload parsing, batched writes, dead letters."""

from geniot.ingest.messages import IngestError, Reading, parse_json_batch, parse_mqtt_message

__all__ = ["IngestError", "Reading", "parse_json_batch", "parse_mqtt_message"]
