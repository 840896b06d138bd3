"""SIEM export: every stored event reaches a real rsyslog, parsed, none lost; and how fast.

A store of N events (a third process, integrity and traffic each; every second one with sensor
names full of characters CEF and syslog must escape) goes to a real rsyslogd (Debian's package,
the same receiver the integration tests use: strict RFC 5424 parser, parsed fields as JSON
lines) over TCP and UDP, as CEF and as ECS. Counted: events formatted per second, messages sent
per second until the last one was written by rsyslog, events lost (stored ids that never
arrived) and repeated. Also the time the SIEM feed adds to one event upsert in the live service.

    .venv/bin/python benchmarks/siem_export.py --events 20000 --out benchmarks/results/siem.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))  # the rsyslog receiver of the integration tests

from siem.rsyslog_receiver import Rsyslog, find_rsyslogd  # noqa: E402
from siem.siem_reader import parse_sd  # noqa: E402

from geniot.core.settings import Settings  # noqa: E402
from geniot.data.store import SensorStore  # noqa: E402
from geniot.service.siem_feed import start_siem_feed  # noqa: E402
from geniot.siem import SyslogSender, SyslogTarget, event_record, event_syslog  # noqa: E402

HOSTILE = 'a|b \\ c=d "q" ]x[ \n line2 Öl'


def make_events(n: int) -> list[dict]:
    t0 = datetime(2026, 3, 1)
    return [
        {"id": f"P-{i % 8}@{i}", "asset": f"P-{i % 8}", "start_ts": t0 + timedelta(minutes=i),
         "end_ts": t0 + timedelta(minutes=i, seconds=30), "peak_ts": t0 + timedelta(minutes=i), "peak_score": 10.0 + i % 30,
         "threshold": 10.0, "top_sensors": f"flow_m3h;{HOSTILE}" if i % 2 else "temp_c", "is_open": False,
         "kind": ("process", "integrity", "traffic")[i % 3], "reason": f"reason {HOSTILE}" if i % 3 else None}
        for i in range(n)
    ]  # fmt: skip


def run_export(rsyslog: Rsyslog, events: list[dict], transport: str, fmt: str) -> dict:
    before = len(rsyslog.records())
    records = [event_record(e) for e in events]
    t0 = time.perf_counter()
    messages = [event_syslog(r, fmt, hostname="bench") for r in records]
    t_format = time.perf_counter() - t0
    port = rsyslog.tcp_port if transport == "tcp" else rsyslog.udp_port
    sender = SyslogSender(SyslogTarget(transport, "127.0.0.1", port), queue_size=len(messages))
    t0 = time.perf_counter()
    for m in messages:
        sender.send(m)
    sender.flush(300)
    received = rsyslog.wait_for(before + len(messages), timeout=120)[before:]
    t_send = time.perf_counter() - t0 - 0.3  # wait_for idles 0.3 s after the last line
    sender.close()
    ids = [parse_sd(r["sd"])["geniot@32473"]["id"] for r in received]
    status = sender.status()
    return {
        "what": f"{fmt} over {transport} to rsyslog", "events": len(events), "received": len(received),
        "lost": len({e["id"] for e in events} - set(ids)), "repeated": len(ids) - len(set(ids)),
        "sender_failed": status["failed"], "format_per_s": round(len(events) / t_format),
        "sent_per_s": round(len(events) / max(t_send, 1e-9)), "mean_bytes": round(sum(map(len, messages)) / len(messages)),
    }  # fmt: skip


def feed_overhead(rsyslog: Rsyslog, events: list[dict]) -> dict:
    """What the SIEM feed adds to one event upsert in the live service: the store calls
    ``on_event`` (check, format, queue) inside ``upsert_event``; sending runs in its own thread."""
    with SensorStore(":memory:") as store:
        feed = start_siem_feed(Settings(syslog=f"tcp://127.0.0.1:{rsyslog.tcp_port}"), store)
        t0 = time.perf_counter()
        for e in events:
            feed.on_event({**e, "is_open": True})
            feed.on_event(e)  # open, then closed: two messages per event
        per_call = (time.perf_counter() - t0) / (2 * len(events))
        feed.stop(60)
        status = feed.status()
    return {"what": "live feed cost per upsert", "events": len(events), "on_event_us": round(per_call * 1e6, 1),
            "messages": status["messages"], "sent": status["sent"], "feed_failed": status["failed"]}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--feed-events", type=int, default=2_000, help="events for the live feed cost")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    exe = find_rsyslogd()
    if exe is None:
        sys.exit("rsyslogd is not installed (apt-get install rsyslog)")
    events = make_events(args.events)
    results = []
    with tempfile.TemporaryDirectory(prefix="geniot-siem-") as tmp:
        rsyslog = Rsyslog(exe, Path(tmp))
        rsyslog.start()
        try:
            for transport, fmt in (("tcp", "cef"), ("udp", "cef"), ("tcp", "ecs")):
                results.append(run_export(rsyslog, events, transport, fmt))
                print(json.dumps(results[-1]), flush=True)
            results.append(feed_overhead(rsyslog, events[: args.feed_events]))
            print(json.dumps(results[-1]), flush=True)
        finally:
            rsyslog.stop()
    if args.out:
        with args.out.open("a") as fh:
            for r in results:
                fh.write(json.dumps({**r, "command": " ".join(sys.argv)}) + "\n")


if __name__ == "__main__":
    main()
