"""`geniot export`: an ONNX anomaly scorer and its metadata, for `geniot-edge`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer

from geniot.cli.progress import console, user_errors
from geniot.core.exceptions import DataError


def export(
    artifact: Path = typer.Argument(..., help="a model folder from `geniot fit` (its calibrated detector), a saved detector (`geniot detect --save-detector`) or a generator artifact with --normal"),
    out: Path = typer.Option(..., "--out", help="folder to write: scorer.onnx + gaps.npz + edge.json"),
    fmt: str = typer.Option("onnx", "--format", help="export format (onnx)"),
    quantize: str | None = typer.Option(None, "--quantize", help="int8: quantized attribution weights (the score stays float32), with the change measured"),
    normal: Path | None = typer.Option(None, "--normal", help="normal data to calibrate on (for a plain generator artifact)"),
    check: Path | None = typer.Option(None, "--check", help="data whose windows measure the int8 change (default: --normal)"),
) -> None:
    """Export the anomaly scorer for edge devices (numpy + onnxruntime, no torch): the detector's own
    score, step (the last step given the rest of its window: `geniot fit`'s) or whole window."""
    from geniot.data.io import read_series
    from geniot.data.windows import make_windows
    from geniot.edge.export import export_detector
    from geniot.workflows.detection import load_detector

    with user_errors():
        if fmt != "onnx":
            raise DataError(f"--format must be onnx, got {fmt!r}")
        calibration = read_series(normal) if normal is not None else None
        detector = load_detector(artifact, normal=calibration)
        windows = None
        source = check or normal
        if quantize and source is not None:
            series = read_series(source)
            windows = make_windows(series, detector.generator_.n_steps_)
            windows = windows[~np.isnan(windows).any(axis=(1, 2))]
        meta = export_detector(detector, out, quantize=quantize, check_windows=windows)
        console.print(f"wrote {out} (scorer.onnx {meta['size_bytes'] / 1024:.0f} kB, window {meta['window']}, {len(meta['channels'])} signals, {meta['score']} scores)")
        if meta.get("quantization"):
            console.print(f"int8: {meta['quantization']}")
        console.print(f"run it with: geniot-edge {out} --input DATA.csv (or < readings.jsonl); geniot-edge {out} --info says what it scores")
