"""The syslog sender against real loopback sockets: framing, order, reconnects, the bounded
queue and what it counts when it cannot send."""

from __future__ import annotations

import socket
import threading
import time

from siem.siem_reader import read_frames
from waiting import wait_until

from geniot.siem import SyslogSender, SyslogTarget
from geniot.siem.sender import MAX_MESSAGE_BYTES


class TcpReceiver:
    """A listening socket that keeps every byte of every connection it accepts."""

    def __init__(self, port: int = 0) -> None:
        self.server = socket.create_server(("127.0.0.1", port))
        self.port = self.server.getsockname()[1]
        self.connections: list[bytearray] = []
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            buf = bytearray()
            self.connections.append(buf)
            self._conns.append(conn)
            threading.Thread(target=self._read, args=(conn, buf), daemon=True).start()

    @staticmethod
    def _read(conn: socket.socket, buf: bytearray) -> None:
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf.extend(data)

    def frames(self) -> list[bytes]:
        return [f for buf in self.connections for f in read_frames(bytes(buf))]

    def drop_connections(self) -> None:
        for conn in self._conns:  # shutdown first: a close while a reader thread waits in recv may send no FIN
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        self.drop_connections()
        self.server.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tcp_messages_arrive_octet_counted_in_order():
    rx = TcpReceiver()
    sender = SyslogSender(SyslogTarget("tcp", "127.0.0.1", rx.port))
    messages = [f"<133>1 - - geniot - m{i} - msg {i} Öl".encode() for i in range(200)]
    assert all(sender.send(m) for m in messages)
    assert sender.flush(10)
    assert wait_until(lambda: len(rx.frames()) == 200, 10)
    assert rx.frames() == messages
    sender.close()
    status = sender.status()
    assert (status["sent"], status["failed"], status["queued"], status["state"]) == (200, 0, 0, "closed")
    rx.close()


def test_a_receiver_that_closes_the_connection_is_reconnected_without_loss():
    rx = TcpReceiver()
    sender = SyslogSender(SyslogTarget("tcp", "127.0.0.1", rx.port))
    for i in range(10):
        sender.send(b"first %d" % i)
    assert wait_until(lambda: len(rx.frames()) == 10, 10)
    rx.drop_connections()  # as a restarted receiver does
    time.sleep(0.2)
    for i in range(10):
        sender.send(b"second %d" % i)
    assert sender.flush(10)
    assert wait_until(lambda: len(rx.frames()) == 20, 10)
    assert [f for f in rx.frames() if f.startswith(b"second")] == [b"second %d" % i for i in range(10)]
    assert sender.status()["reconnects"] == 1 and len(rx.connections) == 2
    sender.close()
    rx.close()


def test_messages_wait_in_the_queue_while_the_receiver_is_away():
    port = _closed_port()
    sender = SyslogSender(SyslogTarget("tcp", "127.0.0.1", port), retry_max_s=0.2)
    for i in range(5):
        sender.send(b"queued %d" % i)
    assert wait_until(lambda: sender.status()["state"] == "disconnected", 10)
    status = sender.status()
    assert status["queued"] == 5 and status["sent"] == 0 and "Connection refused" in status["last_error"]
    assert "is not connected" in sender.problems()[0]
    rx = TcpReceiver(port)  # the receiver comes (back) on the same port
    assert sender.flush(10)
    assert wait_until(lambda: len(rx.frames()) == 5, 10)
    assert rx.frames() == [b"queued %d" % i for i in range(5)] and sender.status()["state"] == "connected"
    sender.close()
    rx.close()


def test_a_full_queue_and_a_close_with_messages_left_are_counted_never_silent():
    sender = SyslogSender(SyslogTarget("tcp", "127.0.0.1", _closed_port()), queue_size=3, retry_max_s=0.1)
    results = [sender.send(b"m%d" % i) for i in range(5)]
    assert results == [True, True, True, False, False]
    assert sender.send(b"x" * (MAX_MESSAGE_BYTES + 1)) is False
    sender.close(timeout=0.3)
    status = sender.status()
    assert status["failed"] == 6 and status["sent"] == 0
    assert status["failed_reasons"] == {"queue full": 2, f"too large (over {MAX_MESSAGE_BYTES} bytes)": 1, "unsent at close": 3}
    assert sender.send(b"late") is False and sender.status()["failed_reasons"]["sender closed"] == 1
    assert any("could not be sent" in p for p in sender.problems())


def test_udp_sends_one_datagram_per_message():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(5)
    sender = SyslogSender(SyslogTarget("udp", "127.0.0.1", rx.getsockname()[1]))
    messages = [b"<133>1 - - geniot - m - datagram %d" % i for i in range(50)]
    for m in messages:
        sender.send(m)
    assert sender.flush(5)
    got = [rx.recvfrom(65536)[0] for _ in messages]
    assert got == messages  # no framing, no merging on loopback
    sender.close()
    assert sender.status()["sent"] == 50
    rx.close()
