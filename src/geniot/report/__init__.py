"""L2: HTML reports and plotly figures of synthetic-data quality.

The report takes an already computed metrics dict (e.g. from ``geniot.metrics``) plus the real
and synthetic windows; it computes no metric itself.
"""

from geniot.report.html import write_figure_report, write_report
from geniot.report.plots import (
    marginals_figure,
    metrics_table,
    pca_figure,
    traces_figure,
    training_curve_figure,
    tsne_figure,
)
from geniot.report.task_plots import detection_figure, imputation_figure
from geniot.report.twin_plots import forecast_figure, plan_figure, whatif_figure

__all__ = [
    "forecast_figure",
    "plan_figure",
    "whatif_figure",
    "detection_figure",
    "imputation_figure",
    "write_figure_report",
    "marginals_figure",
    "metrics_table",
    "pca_figure",
    "traces_figure",
    "training_curve_figure",
    "tsne_figure",
    "write_report",
]
