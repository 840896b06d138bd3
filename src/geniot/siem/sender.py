"""A syslog sender with its own thread, a bounded queue and counters for what it could not send.

``send`` never blocks and never raises: a message goes into the queue, or is counted as failed
with its reason (queue full, too large, sender closed). The thread sends the oldest message
first. Over TCP a message leaves the queue only once the socket took all its bytes; on any
error the connection is dropped and opened again (waiting 0.05 s, doubling up to
``retry_max_s``) and the same message is sent again, so nothing is lost while the receiver is
away, only queued. Before each message the sender looks whether the receiver closed the
connection (a restarted rsyslog), so that it does not write into a dead socket.

What TCP cannot tell: bytes the kernel accepted are lost if the receiver dies before reading
them (syslog over TCP has no acknowledgement; RELP would). Over UDP, ``sent`` counts datagrams
handed to the kernel; a datagram lost on the way is invisible to any sender.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections import Counter, deque

from geniot.siem.syslog5424 import octet_frame
from geniot.siem.target import SyslogTarget

MAX_MESSAGE_BYTES = 65_000  # below the largest UDP datagram (65,507 bytes of payload)
RECENT_FAILURE_S = 300.0  # a failure keeps the sender's problems listed this long


class SyslogSender:
    def __init__(
        self,
        target: SyslogTarget,
        *,
        queue_size: int = 10_000,
        connect_timeout_s: float = 5.0,
        send_timeout_s: float = 10.0,
        retry_max_s: float = 5.0,
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        self.target = target
        self.queue_size = queue_size
        self.connect_timeout_s = connect_timeout_s
        self.send_timeout_s = send_timeout_s
        self.retry_max_s = retry_max_s
        self._queue: deque[bytes] = deque()
        self._cond = threading.Condition()
        self._sock: socket.socket | None = None
        self._address = None  # UDP: the resolved receiver
        self._closing = False
        self._deadline = 0.0
        self.sent = 0
        self.failed: Counter[str] = Counter()
        self.connects = 0
        self.state = "idle" if target.transport == "tcp" else "ready"
        self.last_error: str | None = None
        self.last_failure: float | None = None
        self._thread = threading.Thread(target=self._run, name="geniot-syslog", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ producer side
    def send(self, message: bytes, *, wait: float = 0.0) -> bool:
        """Queue one unframed message, waiting up to ``wait`` seconds for room (a live producer
        never waits; an export does); False (and counted) when it cannot be queued."""
        deadline = time.monotonic() + wait
        with self._cond:
            if len(message) > MAX_MESSAGE_BYTES:
                return self._fail(f"too large (over {MAX_MESSAGE_BYTES} bytes)")
            while len(self._queue) >= self.queue_size and not self._closing and time.monotonic() < deadline:
                self._cond.wait(min(0.1, max(deadline - time.monotonic(), 0.0)))
            if self._closing:
                return self._fail("sender closed")
            if len(self._queue) >= self.queue_size:
                return self._fail("queue full")
            self._queue.append(message)
            self._cond.notify_all()
            return True

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued message was sent (or given up); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue and time.monotonic() < deadline:
                self._cond.wait(min(0.1, max(deadline - time.monotonic(), 0.0)))
            return not self._queue

    def close(self, timeout: float = 5.0) -> None:
        """Try to send what is queued for up to ``timeout`` seconds, then stop; what is left is
        counted as failed ("unsent at close")."""
        with self._cond:
            if not self._closing:
                self._closing = True
                self._deadline = time.monotonic() + timeout
            self._cond.notify_all()
        self._thread.join(timeout + self.send_timeout_s + 1.0)
        with self._cond:
            if self._queue:
                self.failed["unsent at close"] += len(self._queue)
                self.last_failure = time.time()
                self._queue.clear()
            self._drop_socket()
            self.state = "closed"

    def status(self) -> dict:
        with self._cond:
            return {
                "target": self.target.url,
                "transport": self.target.transport,
                "state": self.state,
                "connected": self.state == "connected",
                "sent": self.sent,
                "failed": sum(self.failed.values()),
                "failed_reasons": dict(self.failed),
                "queued": len(self._queue),
                "queue_size": self.queue_size,
                "reconnects": max(self.connects - 1, 0),
                "last_error": self.last_error,
                "last_failure_s_ago": None if self.last_failure is None else round(time.time() - self.last_failure, 1),
            }

    def problems(self) -> list[str]:
        """What an operator must know now, in words (for health)."""
        s = self.status()
        out = []
        if self.target.transport == "tcp" and s["state"] == "disconnected" and s["queued"]:  # idle: nothing at risk
            out.append(f"syslog target {s['target']} is not connected ({s['last_error']}); {s['queued']} message(s) queued")
        if s["failed"] and self.last_failure is not None and time.time() - self.last_failure < RECENT_FAILURE_S:
            reasons = ", ".join(f"{k}: {v}" for k, v in s["failed_reasons"].items())
            out.append(f"{s['failed']} syslog message(s) to {s['target']} could not be sent ({reasons})")
        return out

    # ------------------------------------------------------------ the sending thread
    def _run(self) -> None:
        delay = 0.0
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue or (self._closing and time.monotonic() >= self._deadline):
                    return
                message = self._queue[0]
            outcome = self._deliver_udp(message) if self.target.transport == "udp" else self._deliver_tcp(message)
            with self._cond:
                if outcome != "retry":
                    self._queue.popleft()
                    self.sent += outcome == "sent"
                    self._cond.notify_all()
                    delay = 0.0
                    continue
                delay = min(max(delay * 2, 0.05), self.retry_max_s)
                wait = delay if not self._closing else min(delay, max(self._deadline - time.monotonic(), 0.0))
                self._cond.wait(wait)

    def _deliver_tcp(self, message: bytes) -> str:
        if self._sock is None and not self._connect():
            return "retry"
        if self._peer_closed():
            self._drop(f"{self.target.url} closed the connection")
            if not self._connect():
                return "retry"
        try:
            self._sock.sendall(octet_frame(message))
        except OSError as exc:
            self._drop(f"send to {self.target.url} failed: {type(exc).__name__}: {exc}")
            return "retry"
        return "sent"

    def _deliver_udp(self, message: bytes) -> str:
        try:
            if self._sock is None:
                family, kind, proto, _, address = socket.getaddrinfo(self.target.host, self.target.port, type=socket.SOCK_DGRAM)[0]
                self._sock, self._address = socket.socket(family, kind, proto), address
            self._sock.sendto(message, self._address)
        except OSError as exc:
            with self._cond:
                self.last_error = f"send to {self.target.url} failed: {type(exc).__name__}: {exc}"
                self._fail(f"udp: {type(exc).__name__}")
            self._drop_socket()
            return "failed"
        return "sent"

    def _connect(self) -> bool:
        try:
            sock = socket.create_connection((self.target.host, self.target.port), timeout=self.connect_timeout_s)
        except OSError as exc:
            with self._cond:
                self.state = "disconnected"
                self.last_error = f"connect to {self.target.url} failed: {type(exc).__name__}: {exc}"
            return False
        sock.settimeout(self.send_timeout_s)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        with self._cond:
            self._sock = sock
            self.connects += 1
            self.state = "connected"
        return True

    def _peer_closed(self) -> bool:
        """True when the receiver closed or reset the connection (it never sends us anything)."""
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
            if not readable:
                return False
            return self._sock.recv(4096) == b""  # data from a receiver is read and ignored
        except OSError:
            return True

    def _drop(self, error: str) -> None:
        with self._cond:
            self.last_error = error
            self.state = "disconnected"
            self._drop_socket()

    def _drop_socket(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None

    def _fail(self, reason: str) -> bool:
        self.failed[reason] += 1
        self.last_failure = time.time()
        return False
