"""The evaluation set's format and how a tool call is judged against it (used by the tests and
by benchmarks/ask.py)."""

from __future__ import annotations

import json
from pathlib import Path

# The slots each intent uses; a call is correct when its intent and these slots match.
INTENT_SLOTS: dict[str, tuple[str, ...]] = {
    "anomalies": ("assets", "range"),
    "stats": ("assets", "signal", "statistic", "range"),
    "summary": ("assets", "signal", "range"),
    "impute": ("assets", "signal", "range"),
    "forecast": ("assets", "signal", "horizon_minutes"),
    "whatif": ("assets", "change"),
    "rul": ("assets",),
    "synthesize": ("assets", "count"),
    "overview": ("assets",),
    "out_of_scope": (),
}

# The seeded plant the questions are about (benchmarks/ask_eval/SCHEMA.md).
EVAL_PLANT = {"n_assets": 4, "days": 7.0, "seed": 0, "start": "2026-01-05T00:00:00"}


def load_questions(path: str | Path) -> list[dict]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}, line {n}: not JSON ({exc.msg})") from None
    return rows


def _same(expected, got) -> bool:
    if isinstance(expected, dict) and isinstance(got, dict):
        return expected.keys() == got.keys() and all(_same(v, got[k]) for k, v in expected.items())
    if isinstance(expected, float | int) and isinstance(got, float | int) and not isinstance(expected, bool):
        return abs(float(expected) - float(got)) < 1e-9
    if isinstance(expected, list) and isinstance(got, list):
        return len(expected) == len(got) and all(_same(a, b) for a, b in zip(expected, got, strict=True))
    return expected == got


def slot_errors(expected: dict, intent: str, slots: dict) -> list[str]:
    """Names of the intent's slots that differ, with both values."""
    errors = []
    for key in INTENT_SLOTS.get(intent, ()):
        want, got = expected.get("slots", {}).get(key), slots.get(key)
        if not _same(want, got):
            errors.append(f"{key}: expected {want!r}, got {got!r}")
    return errors
