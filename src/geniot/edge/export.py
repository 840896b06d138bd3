"""Export a calibrated anomaly detector as an ONNX scorer plus ``edge.json``.

The graph takes raw windows (N, window, channels) in the data's units and returns the anomaly
score the detector calibrated (``score="window"``: minus the log-density of the whole window;
``score="step"``: of its last step given the steps before it) and each sensor's surprise given
the others (what attribution ranks). Supported: detectors over the Gaussian baseline, whose
exact scorer is a handful of matrix products (whitening matrices from the covariance and from
each sensor's precision block); ``edge.json`` says which score the graph computes.
``quantize="int8"`` stores the attribution weights as int8 (onnxruntime dynamic quantization)
and keeps the score's own MatMul float32; the score change and the detection change on held-out
data are measured and written into ``edge.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from geniot.core.events import rank_sensors
from geniot.core.exceptions import CapabilityError, DataError
from geniot.core.extras import require
from geniot.core.record import channel_names
from geniot.tasks import AnomalyDetector

SCORER = "scorer.onnx"
META = "edge.json"
GAPS = "gaps.npz"  # what the runtime needs to score a window with dropped readings exactly
SCORE_MATMUL = "score_whiten"  # the score's quadratic form: kept float32 under int8 (see export_detector)
FORMAT = 2  # 2: edge.json says which score ("window" or "step"); 1 (no "score") was whole windows
FORMAT_STUCK = 3  # 3: and the stuck-sensor rule ("stuck"), which a runtime that reads 2 would not run
FORMAT_MOVING = 4  # 4: and the regime-switch windows' own threshold ("moving"), which a runtime that reads 3 would not apply


def _gaussian_graph(det: AnomalyDetector):
    onnx = require("onnx", "edge")
    from onnx import TensorProto, helper, numpy_helper

    gen = det.generator_
    t, c = gen.n_steps_, gen.n_channels_
    d = t * c
    f = gen._factors()
    precision = f["precision"]
    # Whitened forms keep float32 accurate: maha = |diff W|^2 with W = L^-T (L the Cholesky
    # factor of the covariance), and each sensor's conditional term |diff M_j|^2 with
    # M_j = P[:, B_j] C_j^-T (C_j the Cholesky factor of its precision block P_BB).
    chol = f["chol"]
    white = np.linalg.inv(chol).T
    log_std = float(np.sum(np.log(gen.channel_std_)))
    if det.score == "step":
        # -log p(last step | the steps before) = NLL(window) - NLL(first t-1 steps). L being lower
        # triangular, the first (t-1)*c whitened coordinates are those of the first t-1 steps'
        # marginal (its Cholesky factor is L's leading block), so the difference is the last c
        # whitened coordinates: no float32 cancellation between two large NLLs.
        white = white[:, d - c :]
        logdet_step = 2.0 * float(np.sum(np.log(np.diag(chol)[d - c :])))
        const = 0.5 * (logdet_step + c * np.log(2 * np.pi)) + log_std
    else:
        const = 0.5 * (f["logdet"] + d * np.log(2 * np.pi)) + t * log_std
    inits = {
        "ch_mean": gen.channel_mean_.astype(np.float64).reshape(1, 1, c),
        "ch_std": gen.channel_std_.astype(np.float64).reshape(1, 1, c),
        "mean": gen.mean_[:d].astype(np.float32).reshape(1, d),
        "W": white.astype(np.float32),
        "shape_nd": np.array([-1, d], dtype=np.int64),
        "const": np.array([const], dtype=np.float32),
        "half": np.array([0.5], dtype=np.float32),
        "axes1": np.array([1], dtype=np.int64),
    }
    nodes = [
        helper.make_node("Sub", ["x", "ch_mean"], ["xc"]),
        helper.make_node("Div", ["xc", "ch_std"], ["z64"]),
        helper.make_node("Cast", ["z64"], ["z3"], to=TensorProto.FLOAT),  # raw units stay float64 until standardised
        helper.make_node("Reshape", ["z3", "shape_nd"], ["z"]),
        helper.make_node("Sub", ["z", "mean"], ["diff"]),
        helper.make_node("MatMul", ["diff", "W"], ["rw"], name=SCORE_MATMUL),
        helper.make_node("Mul", ["rw", "rw"], ["rw2"]),
        helper.make_node("ReduceSum", ["rw2", "axes1"], ["maha"], keepdims=0),
        helper.make_node("Mul", ["maha", "half"], ["half_maha"]),
        helper.make_node("Add", ["half_maha", "const"], ["score"]),
    ]
    surprises = []
    for j in range(c):
        idx = np.arange(j, d, c)
        block = precision[np.ix_(idx, idx)]
        chol_block = np.linalg.cholesky(block)
        mix = precision[:, idx] @ np.linalg.inv(chol_block).T
        logdet_block = 2.0 * float(np.sum(np.log(np.diag(chol_block))))
        inits[f"M{j}"] = mix.astype(np.float32)
        inits[f"k{j}"] = np.array([0.5 * (-logdet_block + t * np.log(2 * np.pi)) + t * np.log(gen.channel_std_[j])], dtype=np.float32)
        nodes += [
            helper.make_node("MatMul", ["diff", f"M{j}"], [f"e{j}"]),
            helper.make_node("Mul", [f"e{j}", f"e{j}"], [f"q{j}"]),
            helper.make_node("ReduceSum", [f"q{j}", "axes1"], [f"s{j}"], keepdims=1),
            helper.make_node("Mul", [f"s{j}", "half"], [f"hs{j}"]),
            helper.make_node("Add", [f"hs{j}", f"k{j}"], [f"surprise{j}"]),
        ]
        surprises.append(f"surprise{j}")
    nodes.append(helper.make_node("Concat", surprises, ["channel_surprise"], axis=1))
    graph = helper.make_graph(
        nodes,
        "geniot_gaussian_scorer",
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["N", t, c])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"]),
         helper.make_tensor_value_info("channel_surprise", TensorProto.FLOAT, ["N", c])],  # fmt: skip
        [numpy_helper.from_array(v, name=k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="geniot")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def export_detector(det: AnomalyDetector, out, *, quantize: str | None = None, check_windows: np.ndarray | None = None) -> dict:
    """Write ``scorer.onnx`` and ``edge.json`` to ``out``; returns the metadata written."""
    onnx = require("onnx", "edge")
    ort = require("onnxruntime", "edge")
    gen = getattr(det, "generator_", None)
    if gen is None:
        raise DataError("the detector is not fitted")
    if gen.registry_name != "gaussian":
        raise CapabilityError(
            f"ONNX export supports detectors over the Gaussian baseline for now, not {gen.registry_name!r}; "
            "train the edge model with --model gaussian"
        )
    if getattr(det, "given", None):
        raise CapabilityError(
            f"this detector scores given operating conditions ({', '.join(det.given)}); the edge scorer "
            "computes the joint score only, so it would flag differently: export a detector without given="
        )
    score = getattr(det, "score", "window")
    if score not in ("window", "step"):
        raise CapabilityError(f"the edge scorer computes score='window' or score='step', not {score!r}")
    if score == "step" and gen.n_steps_ < 2:
        raise CapabilityError("a step score needs a window of at least 2 steps (the last one judged by the ones before)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = _gaussian_graph(det)
    fp32 = out / "scorer.fp32.onnx"
    onnx.save(model, fp32)
    meta = {
        "format": FORMAT,
        "generator": gen.registry_name,
        "score": score,  # what scorer.onnx and gaps.npz compute: "window" or "step" (last step given the rest)
        "channels": channel_names(gen),
        "units": dict(gen.training_.units),
        "window": int(gen.n_steps_),
        "threshold": float(det.threshold_.value),
        "threshold_rule": det.threshold_.rule,
        "smoothing": int(det.smoothing),
        "channel_center": det.channel_center_.tolist(),
        "channel_scale": det.channel_scale_.tolist(),
        "top_k": int(det.top_k),
        "merge_gap": int(det.merge_gap),
        "min_event_steps": int(det.min_event_steps),
        "attribute": det.attribute,
        "gaps": GAPS,
        "quantization": None,
    }
    rule = getattr(det, "stuck_rule_", None)
    if rule is not None:  # the stuck-sensor rule: tolerance and limit per channel (0: not judged)
        meta["format"] = FORMAT_STUCK
        meta["stuck"] = {"tol": rule.tol_.tolist(), "limit": rule.limit_.tolist()}
    moving = getattr(det, "moving_threshold_", None)
    if moving is not None:  # windows where several sensors move together: their own threshold
        meta["format"] = FORMAT_MOVING
        meta["moving"] = {"change_scale": det.change_scale_.tolist(), "threshold": float(moving.value), "rule": moving.rule}
    _write_gap_scorer(det, out / GAPS)
    final = out / SCORER
    if quantize == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # Per-column scales: the whitening matrices' columns differ in size by orders of magnitude.
        # The score's own MatMul stays float32: 8-bit activations and weights moved the step score
        # by a median 36% (its innovation is a small difference of large terms) and the window
        # score by 11% (BENCHMARKS section 7); only the attribution matrices are int8.
        quantize_dynamic(str(fp32), str(final), weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=[SCORE_MATMUL])
        if check_windows is not None:
            meta["quantization"] = _measure(ort, fp32, final, check_windows, meta)
        else:
            meta["quantization"] = {"type": "int8", "float32": [SCORE_MATMUL]}
        fp32.unlink()
    elif quantize is None:
        fp32.rename(final)
    else:
        raise DataError(f"quantize must be None or 'int8', got {quantize!r}")
    meta["size_bytes"] = final.stat().st_size
    (out / META).write_text(json.dumps(meta, indent=2))
    return meta


def _write_gap_scorer(det: AnomalyDetector, path: Path) -> None:
    """The standardised window mean and precision (with its log-determinant): a window with gaps
    is scored by its observed values' marginal, as the server's Gaussian does (the ONNX graph
    takes whole windows only); ``score`` says whether the runtime takes the whole window's or
    the last step's (the same marginal minus that of the steps before it)."""
    gen = det.generator_
    f = gen._factors()
    d = gen.n_steps_ * gen.n_channels_
    np.savez(path, channel_mean=gen.channel_mean_.astype(np.float64), channel_std=gen.channel_std_.astype(np.float64),
             mean=gen.mean_[:d].astype(np.float64), precision=f["precision"].astype(np.float64),
             logdet=np.array(f["logdet"], dtype=np.float64), score=np.array(det.score))  # fmt: skip


def _measure(ort, fp32: Path, int8: Path, windows: np.ndarray, meta: dict) -> dict:
    """How much int8 moves the scores, the flags and the sensors named for flagged windows."""
    def run(path: Path) -> tuple[np.ndarray, np.ndarray]:
        # One window per call, as the edge runtime scores: dynamic int8 quantises activations
        # with each call's own range, so a big batch would overstate the error.
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        outs = [session.run(["score", "channel_surprise"], {"x": w[None].astype(np.float64)}) for w in windows]
        return np.array([o[0][0] for o in outs]), np.array([o[1][0] for o in outs])

    (a, sa), (b, sb) = run(fp32), run(int8)
    threshold = meta["threshold"]
    fa, fb = a > threshold, b > threshold
    center, scale = np.asarray(meta["channel_center"]), np.asarray(meta["channel_scale"])

    def top(surprise: np.ndarray) -> tuple[str, ...]:
        return rank_sensors((surprise - center) / scale, meta["channels"], meta["top_k"])

    named = [top(x) != top(y) for x, y, flag in zip(sa, sb, fa, strict=True) if flag]
    return {
        "type": "int8",
        "float32": [SCORE_MATMUL],  # the score's quadratic form is not quantized
        "windows_checked": int(len(windows)),
        "max_abs_score_change": float(np.max(np.abs(a - b))),
        "median_relative_score_change": float(np.median(np.abs(a - b) / np.maximum(np.abs(a), 1e-9))),
        "flags_changed": int(np.sum(fa != fb)),
        "flag_rate_fp32": float(fa.mean()),
        "flag_rate_int8": float(fb.mean()),
        "top_sensors_changed": int(sum(named)),  # of the windows fp32 flags
        "flagged_windows": len(named),
    }
