"""Faster receiving for a paho client that is sent many small messages (the ingest).

paho 2.x reads one packet per ``select()`` and each packet with three or four ``recv()`` calls
(one byte for the type, one per length byte, then the body). Under a stream of 8-reading messages
that is most of the network thread's time. Here the socket is read 64 kB at a time into a buffer
and ``loop_read`` takes up to ``per_call`` packets before paho's loop writes (acknowledgements)
again. ``pending()`` reports buffered bytes, so paho's loop does not wait in ``select()`` while a
packet sits in the buffer (paho does the same for TLS sockets).

Uses paho's private ``_packet_read``/``_loop_rc_handle`` (paho-mqtt 2.x, pinned in
constraints.txt); with another paho the client keeps paho's own reading.
"""

from __future__ import annotations


class BufferedSocket:
    """A socket (plain or TLS) whose reads come from a 64 kB buffer."""

    def __init__(self, sock) -> None:
        self._inner = sock
        self._buf = b""
        self._pos = 0

    def recv(self, n: int) -> bytes:
        if self._pos >= len(self._buf):
            data = self._inner.recv(65536)  # BlockingIOError / SSLWantReadError go to paho as before
            if not data:
                return data
            self._buf, self._pos = data, 0
        chunk = self._buf[self._pos : self._pos + n]
        self._pos += len(chunk)
        return chunk

    def pending(self) -> int:
        inner = self._inner.pending() if hasattr(self._inner, "pending") else 0
        return len(self._buf) - self._pos + inner

    def fileno(self) -> int:
        return self._inner.fileno()

    def __getattr__(self, name):
        return getattr(self._inner, name)


def install_fast_reads(client, per_call: int = 500) -> bool:
    """Give ``client`` buffered reads; False (and paho's own reading) if this paho lacks the hooks."""
    if not (hasattr(client, "_packet_read") and hasattr(client, "_loop_rc_handle") and hasattr(client, "_sock")):
        return False
    from paho.mqtt.enums import MQTTErrorCode

    def loop_read(max_packets: int = 1) -> MQTTErrorCode:
        sock = client._sock
        if sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        if not isinstance(sock, BufferedSocket):  # a new connection: wrap its socket
            client._sock = BufferedSocket(sock)
        for _ in range(per_call):
            if client._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = client._packet_read()
            if rc > 0:
                return client._loop_rc_handle(rc)
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                break
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    client.loop_read = loop_read
    return True
