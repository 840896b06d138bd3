"""The privacy audit as one self-contained HTML page."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

from geniot.report import write_figure_report
from geniot.report.privacy_plots import distance_figure, privacy_utility_figure

_EXPLAIN = (
    "<p>Members are real windows the generator was trained on, non-members real windows it never "
    "saw. The attacker holds the synthetic windows and calls a real window a member the closer it "
    "lies to its nearest synthetic window. If the synthetic data reveal nothing about individual "
    "training windows, both histograms coincide and the AUC is 0.5.</p>"
)


def _numbers_table(result: Mapping) -> str:
    rows = []
    for key, value in result.items():
        if key in ("distances", "verdict_text"):
            continue
        text = f"{value:.4f}" if isinstance(value, float) else str(value)
        rows.append(f"<tr><th>{html.escape(key)}</th><td>{html.escape(text)}</td></tr>")
    return "<table><tbody>" + "".join(rows) + "</tbody></table>"


def write_audit_report(
    path,
    result: Mapping,
    *,
    info: Mapping | None = None,
    utility_rows: Sequence[Mapping] | None = None,
) -> Path:
    """Write the audit (``audit_privacy(..., keep_distances=True)``) and, given several DP runs
    (rows with ``epsilon``, ``discriminative_score``, ``mia_auc``), the privacy-utility plot."""
    color = {"pass": "#2ca02c", "warn": "#e6a700", "fail": "#d62728"}.get(str(result.get("verdict")), "#222")
    sections: list[tuple[str, object]] = [
        ("Verdict", f'<p style="color:{color};font-weight:600">{html.escape(str(result["verdict_text"]))}</p>'),
        ("Numbers", _numbers_table(result)),
    ]
    d = result.get("distances")
    if d is not None:
        sections.append(("Membership inference", _EXPLAIN))
        sections.append(("Distances to the nearest synthetic window", distance_figure(
            d["members"], d["non_members"], names=("members (training windows)", "non-members (holdout)"),
            title=f"membership-inference AUC {result['mia_auc']:.3f}", xaxis="distance to nearest synthetic window")))
        sections.append(("Distance to closest training record (DCR)", distance_figure(
            d["dcr_synth"], d["dcr_holdout"], names=("synthetic", "holdout (real, unseen)"),
            title=f"DCR ratio {result['dcr_ratio']:.2f} (1 = as far as unseen real data, 0 = copies)",
            xaxis="distance to nearest training window")))
        sections.append(("Nearest-neighbour distance ratio (NNDR)", distance_figure(
            d["nndr_synth"], d["nndr_holdout"], names=("synthetic", "holdout (real, unseen)"),
            title="nearest / second-nearest training distance (near 0 = sits on one training window)",
            xaxis="NNDR")))
    if utility_rows:
        sections.append(("Privacy-utility trade-off", privacy_utility_figure(utility_rows)))
    return write_figure_report(Path(path), title="geniot privacy audit", info=info, sections=sections)
