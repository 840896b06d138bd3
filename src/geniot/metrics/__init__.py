"""L2: pure metric functions for synthetic sensor windows (fidelity, utility, memorization).

Every function takes real and synthetic windows shaped (n_windows, n_steps, n_channels) that are
**already on the same scale** (use :func:`minmax_scale_pair`, or :func:`evaluate_synthetic`,
which scales for you). Stochastic metrics take ``random_state``; nothing seeds global RNGs.

| metric | direction |
|---|---|
| ``discriminative_score`` | lower is better (0 ideal, 0.5 worst) |
| ``predictive_score`` | lower MAE is better; TSTR/TRTR ratio ~1 ideal |
| ``context_fid`` | lower is better |
| ``correlation_distance``, ``acf_distance``, ``marginal_distance`` | lower is better |
| ``memorization`` | ``dcr_ratio`` higher is safer; ``memorized`` flags copying |
| ``detection_scores`` | F1 higher, FAR/MAR lower (pooled counts, SKAB's definitions) |
"""

from geniot.metrics._common import minmax_scale_pair
from geniot.metrics.detection import average_precision, detection_counts, detection_scores
from geniot.metrics.discriminative import discriminative_score
from geniot.metrics.embedding import context_fid, frechet_distance
from geniot.metrics.memorization import dcr, memorization
from geniot.metrics.predictive import predictive_score
from geniot.metrics.rul import phm08_score
from geniot.metrics.statistics import acf_distance, correlation_distance, marginal_distance
from geniot.metrics.suite import ALL_METRICS, evaluate_synthetic

__all__ = [
    "ALL_METRICS",
    "acf_distance",
    "average_precision",
    "detection_counts",
    "detection_scores",
    "context_fid",
    "correlation_distance",
    "dcr",
    "discriminative_score",
    "evaluate_synthetic",
    "frechet_distance",
    "marginal_distance",
    "memorization",
    "minmax_scale_pair",
    "phm08_score",
    "predictive_score",
]
