"""Polling for the tests that wait on a service, a broker or a thread."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(pred: Callable[[], object], timeout: float = 30.0, step: float = 0.05) -> bool:
    """True as soon as ``pred()`` holds, False if it still does not after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())
