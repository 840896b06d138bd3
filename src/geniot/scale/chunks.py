"""Cut a long history into chunks that can be scored apart and give the serial result.

A step's anomaly score needs the rows of the window it takes (the window ending at the step, or
centred on it) and, with smoothing, the ``smoothing - 1`` windows before that one. A chunk that
owns output steps ``[out_start, out_end)`` therefore reads rows ``[in_start, in_end)``: its own
rows plus that context on both sides, clipped to the series (where the serial scorer clips too).
"""

from __future__ import annotations

from dataclasses import dataclass

from geniot.core.exceptions import DataError


@dataclass(frozen=True)
class Chunk:
    in_start: int
    in_end: int
    out_start: int
    out_end: int


def context_steps(window: int, smoothing: int, align: str) -> tuple[int, int]:
    """Rows a step's score needs before and after it: ``(before, after)``."""
    offset = window - 1 if align == "end" else window // 2
    return offset + smoothing - 1, window - 1 - offset


def plan_chunks(n_steps: int, chunk_steps: int, *, window: int, smoothing: int = 1, align: str = "end") -> list[Chunk]:
    """Chunks of about ``chunk_steps`` output steps covering ``n_steps``; every chunk reads at
    least one whole window, and extra context before a chunk never changes its scores."""
    if chunk_steps < 1:
        raise DataError(f"chunk_steps must be at least 1, got {chunk_steps}")
    if n_steps < window:
        raise DataError(f"the series has {n_steps} steps, fewer than the model's window of {window}")
    before, after = context_steps(window, smoothing, align)
    chunks = []
    for start in range(0, n_steps, chunk_steps):
        end = min(n_steps, start + chunk_steps)
        in_end = min(n_steps, end + after)
        in_start = max(0, min(start - before, in_end - window))
        in_end = max(in_end, min(n_steps, in_start + window))  # a series shorter than 2 windows
        chunks.append(Chunk(in_start, in_end, start, end))
    return chunks
