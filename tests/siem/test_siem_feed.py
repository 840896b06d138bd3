"""The service's SIEM feed on a real store: which upserts leave, and that nothing it does can
fail the store's caller."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta

import pytest
from siem.siem_reader import parse_cef, parse_sd

from geniot.core.exceptions import DataError
from geniot.core.settings import Settings
from geniot.data.store import SensorStore
from geniot.service.siem_feed import start_siem_feed

T0 = datetime(2026, 3, 1, 12, 0)


@pytest.fixture()
def receiver():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.5)
    yield rx
    rx.close()


def _received(rx) -> list[tuple[dict, dict]]:
    out = []
    while True:
        try:
            data = rx.recvfrom(65536)[0].decode()
        except TimeoutError:
            return out
        sd_end = data.index("] CEF:")
        sd = parse_sd(data[data.index("[geniot@"): sd_end + 1])["geniot@32473"]
        out.append((sd, parse_cef(data[sd_end + 2:])[1]))


def _event(i: int, *, is_open: bool, minutes: int = 1) -> dict:
    start = T0 + timedelta(hours=i)
    return {"id": f"ev{i}", "asset": "P-1", "start_ts": start, "end_ts": start + timedelta(minutes=minutes),
            "peak_ts": start, "peak_score": 20.0 + minutes, "threshold": 10.0, "top_sensors": "flow_m3h", "is_open": is_open}  # fmt: skip


def test_an_event_leaves_when_it_opens_and_when_it_closes_with_its_final_values(receiver):
    store = SensorStore(":memory:")
    feed = start_siem_feed(Settings(syslog=f"udp://127.0.0.1:{receiver.getsockname()[1]}"), store)
    for minutes in (1, 2, 3):  # live scoring upserts a running event at every flagged step
        store.upsert_event(_event(0, is_open=True, minutes=minutes))
    store.upsert_event(_event(0, is_open=False, minutes=4))
    store.upsert_event(_event(0, is_open=False, minutes=4))  # a rescan stores it again
    store.upsert_event(_event(1, is_open=False))  # a history scan stores it closed
    assert feed.sender.flush(5)
    got = _received(receiver)
    assert [(sd["id"], sd["state"]) for sd, _ in got] == [("ev0", "open"), ("ev0", "closed"), ("ev1", "closed")]
    closed = got[1][1]
    assert int(closed["end"]) - int(closed["start"]) == 4 * 60_000 and float(closed["cfp1"]) == 24.0
    status = feed.status()
    assert (status["events_seen"], status["messages"], status["sent"], status["failed"]) == (6, 3, 3, 0)
    assert feed.problems() == []
    feed.stop()
    store.close()


def test_a_record_that_cannot_be_formatted_is_counted_and_the_store_write_still_succeeds(receiver):
    store = SensorStore(":memory:")
    feed = start_siem_feed(Settings(syslog=f"udp://127.0.0.1:{receiver.getsockname()[1]}"), store)
    bad = _event(2, is_open=False) | {"end_ts": T0}  # ends before it starts
    store.upsert_event(bad)
    assert store.count_events() == 1
    assert feed.status()["format_errors"] == 1 and "is before start_ts" in feed.status()["last_format_error"]
    assert "could not be formatted" in feed.problems()[0]
    feed.stop()
    store.close()


def test_no_target_no_feed_and_a_bad_target_stops_the_start():
    store = SensorStore(":memory:")
    assert start_siem_feed(Settings(), store) is None and store.event_listeners == []
    with pytest.raises(DataError, match="scheme must be tcp:// or udp://"):
        start_siem_feed(Settings(syslog="http://siem:514"), store)
    store.close()
