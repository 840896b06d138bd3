"""Edge export: size, peak memory, per-reading latency and parity of the exported scorer.

For each score (``step``: the last step given the rest of the window, what ``geniot fit``
calibrates; ``window``: the whole window) one detector (Gaussian baseline, window 16, 8 pump
signals) is fitted on simulated normal days and exported as ONNX fp32 and int8. The same faulty
day (faults injected, a few dropped readings) is then scored one reading at a time by geniot's
own ``StreamingScorer`` (numpy/scipy) and by ``geniot-edge``'s ``EdgeScorer`` on fp32 and int8
(onnxruntime, one thread). Peak memory is the maximum RSS of a fresh process that loads the
scorer and scores the whole stream. F1 is against the simulator's anomaly labels. Parity: the
largest relative score difference against geniot's on readings whose window is whole (the ONNX
graph) and on those with a dropped reading (the float64 gap scorer), and the flags that differ.

    .venv/bin/python benchmarks/edge.py --window 16 --scores step window
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from geniot.data.io import series_from_frame
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.edge.export import export_detector
from geniot.edge.runtime import EdgeScorer
from geniot.metrics import detection_counts, detection_scores
from geniot.models.gaussian import GaussianBaseline
from geniot.tasks import AnomalyDetector

PEAK = """
import json, sys
sys.path.insert(0, sys.argv[1])
kind, model, data = sys.argv[2], sys.argv[3], sys.argv[4]
rows = [json.loads(l) for l in open(data)]
if kind == "geniot":
    from geniot.tasks import AnomalyDetector
    scorer = AnomalyDetector.load(model).stream()
    names = scorer.channels
    for r in rows: scorer.update([r["values"][n] if r["values"][n] is not None else float("nan") for n in names])
else:
    from geniot.edge.runtime import EdgeScorer
    scorer = EdgeScorer(model)
    for r in rows: scorer.update(r["values"])
# VmHWM: this process's own peak RSS (ru_maxrss would include the parent's pages at fork)
print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--scores", nargs="+", choices=("step", "window"), default=["step", "window"],
                    help="detector scores to export and compare (default: both)")  # fmt: skip
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--no-stuck", action="store_true", help="detectors without the stuck-sensor rule (the likelihood score alone)")
    args = ap.parse_args()
    kw = dict(n_assets=1, days=4, seed=1, drop_rate=0.002, outage_rate=0, degrading_fraction=0,
              faults=("cavitation", "spikes", "stuck_sensor", "sensor_drift"))  # fmt: skip
    clean = simulate_plant(PlantConfig(fault_rate=0, **kw))
    faulty = simulate_plant(PlantConfig(fault_rate=10, **kw))
    asset = clean.assets()[0]
    train = series_from_frame(clean.wide(asset).iloc[:2880])
    live = faulty.wide(asset).iloc[2880:]
    values = live.drop(columns="timestamp").to_numpy()
    names = list(live.columns[1:])
    labels = faulty.labels.iloc[2880:]["anomaly"].to_numpy().astype(bool)
    faults = faulty.labels.iloc[2880:]["fault"].to_numpy()
    windows = np.lib.stride_tricks.sliding_window_view(values, args.window, axis=0).transpose(0, 2, 1)
    gapless = ~np.isnan(windows).any(axis=(1, 2))
    whole = np.r_[np.zeros(args.window - 1, bool), gapless]  # readings whose window has no dropped value
    gappy = np.r_[np.zeros(args.window - 1, bool), ~gapless]
    print(f"{len(values)} readings, {int(gappy.sum())} scored with a dropped reading in their window")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| score | scorer | model / all files kB | peak RSS MB | p50 / p99 ms whole windows | p50 / p99 ms windows with gaps | "
          "F1 | FAR % | fault episodes flagged | max rel. diff whole windows | max rel. diff windows with gaps | flags differing | top sensors differing |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for score in args.scores:
        tmp = Path(tempfile.mkdtemp(prefix=f"geniot-edge-bench-{score}-"))
        det = AnomalyDetector(generator=GaussianBaseline(), window=args.window, score=score, stuck=not args.no_stuck).fit(train)
        det.save(tmp / "geniot")
        export_detector(det, tmp / "fp32")
        meta8 = export_detector(det, tmp / "int8", quantize="int8", check_windows=windows[gapless])
        stream = tmp / "live.jsonl"
        stream.write_text("\n".join(json.dumps({"values": {n: (None if v != v else float(v)) for n, v in zip(names, row, strict=True)}}) for row in values))
        rows = []
        for kind, path in (("geniot (numpy)", tmp / "geniot"), ("onnx fp32", tmp / "fp32"), ("onnx int8", tmp / "int8")):
            rows.append(_run(kind, path, det, values, names, labels, stream, gappy))
        ref, ref_flags = np.array(rows[0]["scores"], dtype=float), np.array(rows[0]["flags"])
        for r in rows:
            got = np.array(r["scores"], dtype=float)
            rel = np.abs(got - ref) / np.maximum(np.abs(ref), 1.0)  # relative; absolute below |score| 1
            finite = np.isfinite(ref) & np.isfinite(got)
            r["max_rel_diff_whole"] = float(np.max(rel[whole & finite]))
            r["max_rel_diff_gaps"] = float(np.max(rel[gappy & finite])) if (gappy & finite).any() else float("nan")
            r["nan_mismatch"] = int(np.sum(np.isnan(got) != np.isnan(ref)))
            r["flags_differing"] = int(np.sum(np.array(r["flags"]) != ref_flags))
            r["top_sensors_differing"] = sum(a != b for a, b in zip(r["tops"], rows[0]["tops"], strict=True))
            nan_note = f" (+{r['nan_mismatch']} NaN)" if r["nan_mismatch"] else ""
            print(f"| {score} | {r['scorer']} | {r['model_kb']:.0f} / {r['size_kb']:.0f} | {r['peak_mb']:.0f} | "
                  f"{r['p50_ms']:.3f} / {r['p99_ms']:.3f} | {r['p50_ms_gaps']:.3f} / {r['p99_ms_gaps']:.3f} | "
                  f"{r['f1']:.3f} | {r['far']:.2f} | {r['episodes']} | {r['max_rel_diff_whole']:.1e} | {r['max_rel_diff_gaps']:.1e} | "
                  f"{r['flags_differing']}{nan_note} | {r['top_sensors_differing']} |")  # fmt: skip
        flags = np.array(rows[0]["flags"])
        by_fault = {f: f"{int(flags[faults == f].sum())}/{int((faults == f).sum())}" for f in sorted(set(faults) - {"", "none"})}
        print(f"{score}: fault rows flagged by geniot (numpy): {by_fault}")
        for r in rows:
            r["rows_flagged_by_fault"] = by_fault
            r["stuck_rule"] = not args.no_stuck
        print(f"{score}: threshold {det.threshold_.value:.4g}; int8 check on {meta8['quantization']['windows_checked']} windows: {meta8['quantization']}")
        if args.out:
            with args.out.open("a") as fh:
                for r in rows:
                    fh.write(json.dumps({k: v for k, v in r.items() if k not in ("scores", "flags", "tops")}
                                        | {"score": score, "window": args.window, "command": " ".join(sys.argv)}) + "\n")  # fmt: skip


def _run(kind, path, det, values, names, labels, stream, gappy) -> dict:
    """Score the stream one reading at a time with one scorer: latency, F1, size and peak memory."""
    if kind.startswith("geniot"):
        scorer = det.stream()
        update = scorer.update
    else:
        scorer = EdgeScorer(path)
        update = lambda row, s=scorer: s.update(dict(zip(names, row, strict=True)))  # noqa: E731
    times, flags, scores, tops = [], [], [], []
    for i, row in enumerate(values):
        t0 = time.perf_counter()
        out = update(row)
        dt = time.perf_counter() - t0
        if out is None:
            flags.append(False)
            scores.append(np.nan)
            tops.append(())
            continue
        times.append((dt, gappy[i]))
        flags.append(bool(out.flag if hasattr(out, "flag") else out["flag"]))
        value = out.score if hasattr(out, "score") else out["score"]
        scores.append(np.nan if value is None else value)
        tops.append(tuple(out.top_sensors if hasattr(out, "top_sensors") else out["top_sensors"]))
    f1 = detection_scores(detection_counts([(labels, np.array(flags))]))
    edges = np.diff(np.r_[0, labels.astype(int), 0])
    episodes = list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))
    found = sum(bool(np.any(np.array(flags)[a:b])) for a, b in episodes)
    size = sum(p.stat().st_size for p in path.iterdir() if p.suffix in (".onnx", ".npz", ".pt", ".json"))
    model = sum(p.stat().st_size for p in path.iterdir() if p.suffix in (".onnx", ".pt") or p.name == "arrays.npz")
    peak = subprocess.run([sys.executable, "-c", PEAK, str(ROOT / "src"), "geniot" if kind.startswith("geniot") else "edge", str(path), str(stream)],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    ms = np.array([t for t, _ in times]) * 1000
    gaps = np.array([g for _, g in times], dtype=bool)
    return {"scorer": kind, "size_kb": size / 1024, "model_kb": model / 1024, "peak_mb": float(peak),
            "p50_ms": float(np.percentile(ms[~gaps], 50)), "p99_ms": float(np.percentile(ms[~gaps], 99)),
            "p50_ms_gaps": float(np.percentile(ms[gaps], 50)), "p99_ms_gaps": float(np.percentile(ms[gaps], 99)),
            "f1": f1["f1"], "far": f1["far"], "episodes": f"{found}/{len(episodes)}", "scores": scores, "flags": flags, "tops": tops}  # fmt: skip


if __name__ == "__main__":
    main()
