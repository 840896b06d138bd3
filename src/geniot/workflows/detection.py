"""Score a data file for anomalies with a saved generator (shared by CLI and service)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from geniot.core.exceptions import ArtifactError
from geniot.data.io import read_series, read_table, write_frame
from geniot.data.series import SensorSeries
from geniot.models.loading import load_generator
from geniot.tasks import AnomalyDetector, Detection
from geniot.tasks.detector import DETECTOR_FILE
from geniot.workflows.errors import (
    AssetChoiceError,
    NoCalibrationError,
    NormalDataError,
    TrainingRowsWarning,
)
from geniot.workflows.gap_filling import in_model_order


def calibration_detector(
    *, threshold: str | float = "pot", risk: float = 1e-3, smoothing: int = 1, align: str = "end", score: str | None = None
) -> AnomalyDetector:
    """The unfitted detector that calibrates a saved generator on normal data: ``score`` "step"
    (the last step given the rest of its window, what `geniot fit` calibrates) or "window" (the
    whole window's score); None: step with align="end", window with align="center"."""
    score = score or ("step" if align == "end" else "window")
    return AnomalyDetector(threshold=threshold, risk=risk, smoothing=smoothing, align=align, score=score)


def load_detector(
    artifact: Path,
    *,
    normal: SensorSeries | None,
    detector: AnomalyDetector | None = None,
) -> AnomalyDetector:
    """A detector from an artifact folder: calibrated on ``normal`` when given (with the
    parameters of the unfitted ``detector``, default :func:`calibration_detector`), else the
    calibration saved with the artifact (``detector.json``)."""
    artifact = Path(artifact)
    if not artifact.is_dir():
        raise ArtifactError(f"no model at {artifact} (train one with `geniot fit DATA --out {artifact}`)")
    if not (artifact / "spec.json").is_file() and not (artifact / DETECTOR_FILE).is_file():
        raise ArtifactError(f"{artifact} is not a geniot model folder (no spec.json or {DETECTOR_FILE})")
    if normal is None:
        if not (artifact / DETECTOR_FILE).is_file():
            raise NoCalibrationError(
                f"{artifact} holds a generator but no calibrated detector, and no normal data was named to calibrate on"
            )
        return AnomalyDetector.load(artifact)
    generator = load_generator(artifact)
    template = calibration_detector() if detector is None else detector
    fitted = template.clone().set_params(generator=generator, prefit=True, window=generator.n_steps_)
    return fitted.fit(in_model_order(normal, generator))


def normal_rows(series: SensorSeries, train_rows: int) -> SensorSeries:
    if train_rows < 1 or train_rows > series.n_steps:
        raise NormalDataError(
            f"the normal rows must be between 1 and the series length ({series.n_steps}), got {train_rows}",
            file=series.source,
        )
    return series.head(train_rows)


def detect_file(
    artifact: Path,
    data: Path,
    *,
    train_rows: int | None = None,
    normal: Path | None = None,
    asset: str | None = None,
    detector: AnomalyDetector | None = None,
) -> tuple[AnomalyDetector, dict[str, tuple[SensorSeries, Detection]]]:
    """Calibrate (first ``train_rows`` rows, or the ``normal`` file, with the parameters of the
    unfitted ``detector``) and score every asset."""
    if train_rows is not None and normal is not None:
        raise NormalDataError("normal data was named twice (the first rows and a file of normal data)")
    table = read_table(data, asset=asset)
    if train_rows is not None and len(table) != 1:
        raise AssetChoiceError(f"calibrating on the first rows needs one asset; the file has {sorted(table)}", file=str(data))
    calibration = None
    if train_rows is not None:
        calibration = normal_rows(next(iter(table.values())), int(train_rows))
    elif normal is not None:
        calibration = read_series(normal, asset=asset)
    detector = load_detector(artifact, normal=calibration, detector=detector)
    record = detector.generator_.training_  # what the model was trained on, as recorded
    if train_rows is not None and record.train_rows is not None and record.source == str(data):
        warnings.warn(
            f"calibrating on rows the model was trained on (the first {record.train_rows} rows of {data}): "
            "the threshold will be low and flag more",
            TrainingRowsWarning,
            stacklevel=2,
        )
    results = {}
    for name, series in table.items():
        series = in_model_order(series, detector.generator_)
        results[name] = (series, detector.detect(series))
    return detector, results


def scores_frame(results: dict[str, tuple[SensorSeries, Detection]]) -> pd.DataFrame:
    """One row per input row: [asset,] timestamp, score, flag, top_sensors, reason (why a stuck
    sensor flagged the row; empty otherwise)."""
    frames = []
    for name, (series, detection) in results.items():
        frame = detection.to_frame()
        if "timestamp" not in frame:
            frame.insert(0, "row", range(1, series.n_steps + 1))
        if len(results) > 1:
            frame.insert(0, "asset", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def write_scores(results, out: Path) -> Path:
    """Write the scores in the layout of the file the (first) series was read from: its
    separator, decimal mark, time column name, format and zone."""
    out = Path(out)
    series = next(iter(results.values()))[0] if results else None
    write_frame(scores_frame(results), out, layout=getattr(series, "layout", None))
    return out
