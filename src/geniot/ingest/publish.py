"""Publish simulated (or any wide) readings to an MQTT broker, as a plant gateway would."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from geniot.ingest.mqtt_target import MQTTConnectError, MQTTTarget, connect_blocking, make_client


def _iso(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def publish_wide(
    url: str | MQTTTarget,
    frames: dict[str, pd.DataFrame],
    *,
    site: str = "plant",
    area: str = "pumps",
    per_signal: bool = False,
    rate: float | None = None,
    qos: int = 1,
    client_id: str = "geniot-simulator",
    end: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Publish each asset's wide frame (``timestamp`` + one column per signal) row by row.

    Without ``rate``: as fast as the broker takes them, timestamps shifted so that the last row
    is ``end`` (default now: a backlog of history). With ``rate``: that many rows per second per asset, stamped
    with the wall clock at sending (a live feed). ``per_signal`` sends one message per value
    (``<site>/<area>/<asset>/<signal>``) instead of one object per row. Returns messages sent.
    Every QoS 1 message is confirmed by the broker before this returns; one that is not (the
    broker went away, or refused it) raises :class:`MQTTConnectError` with the count.
    """
    target = (url if isinstance(url, MQTTTarget) else MQTTTarget.from_url(url)).without_topic("publish")
    client = make_client(client_id, clean=True)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    connect_blocking(client, target, keepalive=30)  # a refused login or a failed TLS handshake raises, in words
    try:
        n_rows = max(len(f) for f in frames.values())
        total = sum(len(f) for f in frames.values())
        shift = pd.Timedelta(0)
        if rate is None:
            last = max(pd.Timestamp(f["timestamp"].iloc[-1]) for f in frames.values())
            target = end if end is not None else datetime.now(UTC).replace(tzinfo=None)
            shift = pd.Timestamp(target) - last
        pending = []
        sent = done = 0
        start = time.monotonic()
        for i in range(n_rows):
            if rate is not None:
                wait = start + i / rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            for asset, frame in frames.items():
                if i >= len(frame):
                    continue
                row = frame.iloc[i]
                ts = pd.Timestamp(datetime.now(UTC).replace(tzinfo=None)) if rate is not None else pd.Timestamp(row["timestamp"]) + shift
                values = {k: float(v) for k, v in row.items() if k != "timestamp" and isinstance(v, (int, float, np.floating)) and math.isfinite(v)}
                if per_signal:
                    for signal, value in values.items():
                        payload = json.dumps({"ts": _iso(ts), "value": value})
                        pending.append(client.publish(f"{site}/{area}/{asset}/{signal}", payload, qos=qos))
                        sent += 1
                elif values:
                    payload = json.dumps({"ts": _iso(ts), "values": values})
                    pending.append(client.publish(f"{site}/{area}/{asset}", payload, qos=qos))
                    sent += 1
                done += 1
            if len(pending) >= 2000:
                _confirm(pending, target)
                if progress is not None:
                    progress(done, total)
        _confirm(pending, target)
        if progress is not None:
            progress(total, total)
        return sent
    finally:
        client.disconnect()
        client.loop_stop()


def _confirm(pending: list, target: MQTTTarget) -> None:
    """Wait until the broker confirmed every message in ``pending``; say how many it did not."""
    unconfirmed = 0
    for info in pending:
        try:
            info.wait_for_publish(timeout=30)
        except (RuntimeError, ValueError):  # paho: not queued or the connection is gone
            pass
        unconfirmed += not info.is_published()
    pending.clear()
    if unconfirmed:
        raise MQTTConnectError(f"{target.safe_url}: the broker did not confirm {unconfirmed} message(s) within 30 s "
                               "(connection lost, or the user may not publish these topics)")  # fmt: skip


def publish_message_log(
    url: str | MQTTTarget,
    log: pd.DataFrame,
    *,
    speedup: float = 1.0,
    publisher_prefix: str | None = None,
    qos: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Publish a message log (long readings plus ``message, topic, publisher, received_at``) as it
    happened, on a clock that starts now and runs ``speedup`` times faster
    (:func:`geniot.data.sim_attacks.scaled_log`): each message at its arrival on that clock, with
    payload ``{"ts": ..., "values": {...}}`` stamped on that clock too.

    With ``publisher_prefix`` each publisher logs in as itself (user name = publisher, the
    target's password) and sends on ``<prefix>/<publisher>/<topic>``; a publisher the broker will
    not let in is counted in ``refused`` with its messages, not sent. Without it one client sends
    every message on its own topic (``refused``/``errors`` then use the key ""). Returns ``{"sent", "refused": {publisher: messages},
    "errors": {publisher: why}, "log": the log on the live clock, "start", "origin"}``.
    """
    from geniot.data.sim_attacks import scaled_log
    from geniot.ingest.publisher import publisher_topic

    target = (url if isinstance(url, MQTTTarget) else MQTTTarget.from_url(url)).without_topic("publish")
    log = log.sort_values(["received_at", "message"], kind="stable").reset_index(drop=True)
    clients: dict[str, object] = {}
    refused: dict[str, int] = {}
    errors: dict[str, str] = {}
    pending: list = []
    sent = 0
    # the time-independent part of each payload first, so that sending keeps to the schedule
    heads = log.groupby("message", sort=False).head(1)
    bodies = {}
    for m, rows in log.groupby("message", sort=False):
        bodies[m] = json.dumps({str(k): float(v) for k, v in zip(rows["signal"], rows["value"], strict=True) if math.isfinite(v)})

    def connect(publisher: str) -> None:
        key = publisher if publisher_prefix else ""
        if key in clients or key in errors:
            return
        user_target = dataclasses.replace(target, username=publisher) if publisher_prefix else target
        client = make_client(f"geniot-sim-{key or 'all'}-{time.time_ns() % 10**9}", clean=True)
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        try:
            connect_blocking(client, user_target, keepalive=30)
        except MQTTConnectError as exc:
            errors[key] = str(exc)
            client.loop_stop()
            return
        clients[key] = client

    try:
        for publisher in dict.fromkeys(heads["publisher"].astype(str)):
            connect(publisher)
        origin = pd.Timestamp(log["received_at"].min())
        start = pd.Timestamp(datetime.now(UTC).replace(tzinfo=None)) + pd.Timedelta(seconds=0.5)
        log = scaled_log(log, speedup=speedup, start=start, origin=origin)
        heads = log.loc[heads.index]
        at = (pd.to_datetime(heads["received_at"]) - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy()
        stamps = pd.to_datetime(heads["ts"]).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").to_numpy()
        n = len(heads)
        for i, (m, publisher, topic) in enumerate(zip(heads["message"], heads["publisher"].astype(str), heads["topic"].astype(str), strict=True)):
            key = publisher if publisher_prefix else ""
            client = clients.get(key)
            if client is None:  # the broker would not let this publisher in: counted, said by the caller
                refused[key] = refused.get(key, 0) + 1
                continue
            wait = at[i] - time.time()
            if wait > 0:
                time.sleep(wait)
            payload = f'{{"ts": "{stamps[i]}", "values": {bodies[m]}}}'  # as json.dumps writes it
            pending.append(client.publish(publisher_topic(topic, publisher, publisher_prefix), payload, qos=qos))
            sent += 1
            if len(pending) >= 500:
                _confirm(pending, target)
            if progress is not None and i % 200 == 0:
                progress(i, n)
        _confirm(pending, target)
        if progress is not None:
            progress(n, n)
    finally:
        for client in clients.values():
            client.disconnect()
            client.loop_stop()
    return {"sent": sent, "refused": refused, "errors": errors, "log": log, "start": start, "origin": origin}
