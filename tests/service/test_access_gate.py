"""The token is checked before the body is read: a real uvicorn server on 127.0.0.1, spoken to
through a raw socket that sends the headers and holds the body back."""

from __future__ import annotations

import json
import select
import socket

import pytest
from live_server import serving

from geniot.core.settings import Settings
from geniot.service.app import create_app

TOKENS = "reader:read:r3ad-secret,feeder:ingest:f33d-secret"
LIMIT = 100_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("gate") / "home"
    app = create_app(Settings(home=home, tokens=TOKENS, max_body_bytes=LIMIT))
    with serving(app) as port:
        yield port, app


def _headers(path: str, token: str | None, extra: str) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{auth}{extra}\r\n".encode()


def _read_response(sock: socket.socket, timeout: float = 10.0) -> tuple[int, dict]:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(rest) < length:
        rest += sock.recv(65536)
    return status, json.loads(rest[:length])


@pytest.mark.parametrize("path", ["/api/ingest", "/api/models/train", "/api/models/m1/detect"])
@pytest.mark.parametrize(("token", "status"), [(None, 401), ("wrong", 401), ("r3ad-secret", 403)])
def test_a_refused_token_is_answered_before_any_body_byte_is_sent(server, path, token, status):
    port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        # declares 90 kB (under the size limit) and sends none of it
        sock.sendall(_headers(path, token, f"Content-Length: {LIMIT - 10_000}\r\n"))
        got, body = _read_response(sock)
        assert got == status and "token" in body["detail"]
        assert sock.recv(1) == b""  # and the connection is closed: the body is never read


def test_a_good_token_waits_for_the_body(server):
    port, app = server
    record = json.dumps([{"asset": "P-1", "signal": "a", "ts": "2026-12-01T00:00:00", "value": 1.5}]).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_headers("/api/ingest", "f33d-secret", f"Content-Length: {len(record)}\r\n"))
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(1)  # nothing to answer yet: the handler is reading the body
        sock.sendall(record)
        status, body = _read_response(sock)
    assert status == 200 and body["accepted"] == 1


def test_a_declared_body_over_the_limit_is_refused_before_it_is_sent(server):
    port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_headers("/api/ingest", "f33d-secret", f"Content-Length: {50 * LIMIT}\r\n"))
        status, body = _read_response(sock)
    assert status == 413 and str(LIMIT) in body["detail"]


def test_a_chunked_body_is_cut_at_the_limit(server):
    port, app = server
    before = app.state.service.store.count()
    chunk = b"[" + b'{"asset": "P-2", "signal": "a", "ts": "2026-12-01T00:00:00", "value": 1.0},' * 200
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_headers("/api/ingest", "f33d-secret", "Transfer-Encoding: chunked\r\n"))
        while sent < 20 * LIMIT:  # bounded: the server must answer long before this
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += len(chunk)
            chunk = chunk[1:] if chunk.startswith(b"[") else chunk
            if select.select([sock], [], [], 0.05)[0]:
                break  # the server has answered: stop sending
        status, body = _read_response(sock)
    assert status == 413 and LIMIT <= sent < 20 * LIMIT
    assert app.state.service.store.count() == before
