"""A FastAPI app served by a real uvicorn on a loopback port, in a thread, for tests that need
real sockets (a browser, raw HTTP); stopped when the block ends."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app, port: int | None = None) -> Iterator[int]:
    """Serve ``app`` on 127.0.0.1 (a free port unless given); yields the port once it listens."""
    import uvicorn

    port = port or free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 30
        while not srv.started and time.time() < deadline:
            time.sleep(0.05)
        assert srv.started, f"uvicorn did not start on port {port} within 30 s"
        yield port
    finally:
        srv.should_exit = True
        thread.join(timeout=15)
