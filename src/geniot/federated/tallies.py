"""Pooling what sites send back: summed detection counts and the most common model state."""

from __future__ import annotations

from collections import Counter

from geniot.metrics import detection_scores


def summed_counts(records: list) -> dict:
    """Pooled TP/FP/FN/TN over sites and the F1, FAR, MAR they give (empty without labels)."""
    counts = {k: int(sum(float(r[k]) for r in records)) for k in ("tp", "fp", "fn", "tn")}
    if sum(counts.values()) == 0:
        return {}
    return {**counts, **detection_scores(counts)}


def most_common(values: list[str]) -> str:
    """The value most sites sent (the model state JSON every site should agree on)."""
    return Counter(values).most_common(1)[0][0] if values else "{}"
