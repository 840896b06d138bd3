"""Edge export: size, peak memory, per-reading latency and parity of the exported scorer.

One detector (Gaussian baseline, window 16, 8 pump signals) is fitted on a simulated normal
day and exported as ONNX fp32 and int8. The same faulty day (3 simulated days, faults injected)
is then scored one reading at a time by geniot's own ``StreamingScorer`` (numpy/scipy) and by
``geniot-edge``'s ``EdgeScorer`` on fp32 and int8 (onnxruntime, one thread). Peak memory is the
maximum RSS of a fresh process that loads the scorer and scores the whole stream. F1 is against
the simulator's anomaly labels.

    .venv/bin/python benchmarks/edge.py --window 16
"""

from __future__ import annotations

import argparse
import json
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
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    kw = dict(n_assets=1, days=4, seed=1, drop_rate=0.002, outage_rate=0, degrading_fraction=0,
              faults=("cavitation", "spikes", "stuck_sensor", "sensor_drift"))  # fmt: skip
    clean = simulate_plant(PlantConfig(fault_rate=0, **kw))
    faulty = simulate_plant(PlantConfig(fault_rate=10, **kw))
    asset = clean.assets()[0]
    det = AnomalyDetector(generator=GaussianBaseline(), window=args.window).fit(series_from_frame(clean.wide(asset).iloc[:2880]))
    live = faulty.wide(asset).iloc[2880:]
    values = live.drop(columns="timestamp").to_numpy()
    names = list(live.columns[1:])
    labels = faulty.labels.iloc[2880:]["anomaly"].to_numpy().astype(bool)
    tmp = Path(tempfile.mkdtemp(prefix="geniot-edge-bench-"))
    det.save(tmp / "geniot")
    windows = np.lib.stride_tricks.sliding_window_view(values, args.window, axis=0).transpose(0, 2, 1)
    windows = windows[~np.isnan(windows).any(axis=(1, 2))]
    export_detector(det, tmp / "fp32")
    meta8 = export_detector(det, tmp / "int8", quantize="int8", check_windows=windows)
    stream = tmp / "live.jsonl"
    stream.write_text("\n".join(json.dumps({"values": {n: (None if v != v else float(v)) for n, v in zip(names, row, strict=True)}}) for row in values))
    rows = []
    for kind, path in (("geniot (numpy)", tmp / "geniot"), ("onnx fp32", tmp / "fp32"), ("onnx int8", tmp / "int8")):
        if kind.startswith("geniot"):
            scorer = det.stream()
            update = scorer.update
        else:
            scorer = EdgeScorer(path)
            update = lambda row, s=scorer: s.update(dict(zip(names, row, strict=True)))  # noqa: E731
        times, flags, scores = [], [], []
        for row in values:
            t0 = time.perf_counter()
            out = update(row)
            dt = time.perf_counter() - t0
            if out is None:
                flags.append(False)
                scores.append(np.nan)
                continue
            times.append(dt)
            flag = out.flag if hasattr(out, "flag") else out["flag"]
            flags.append(bool(flag))
            scores.append(out.score if hasattr(out, "score") else out["score"])
        f1 = detection_scores(detection_counts([(labels, np.array(flags))]))
        size = sum(p.stat().st_size for p in path.iterdir() if p.suffix in (".onnx", ".npz", ".pt", ".json"))
        peak = subprocess.run([sys.executable, "-c", PEAK, str(ROOT / "src"), "geniot" if kind.startswith("geniot") else "edge", str(path), str(stream)],
                              capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
        ms = np.array(times) * 1000
        rows.append({"scorer": kind, "size_kb": size / 1024, "peak_mb": float(peak), "p50_ms": float(np.percentile(ms, 50)),
                     "p99_ms": float(np.percentile(ms, 99)), "f1": f1["f1"], "far": f1["far"], "scores": scores})  # fmt: skip
    ref = np.array(rows[0]["scores"])
    print("| scorer | files kB | peak RSS MB | p50 ms | p99 ms | F1 | FAR % | max abs score diff vs geniot (no-gap windows, below threshold) |")
    print("|---|---|---|---|---|---|---|---|")
    gapless = ~np.isnan(np.lib.stride_tricks.sliding_window_view(values, args.window, axis=0)).any(axis=(1, 2))
    mask = np.r_[np.zeros(args.window - 1, bool), gapless] & np.isfinite(ref) & (ref < det.threshold_.value)
    for r in rows:
        diff = np.nanmax(np.abs(np.array(r["scores"])[mask] - ref[mask]))
        r["max_abs_diff_normal"] = float(diff)
        print(f"| {r['scorer']} | {r['size_kb']:.0f} | {r['peak_mb']:.0f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | {r['f1']:.3f} | {r['far']:.2f} | {diff:.2e} |")
    print(f"int8 check on {meta8['quantization']['windows_checked']} windows: {meta8['quantization']}")
    if args.out:
        with args.out.open("a") as fh:
            for r in rows:
                fh.write(json.dumps({k: v for k, v in r.items() if k != "scores"} | {"window": args.window, "command": " ".join(sys.argv)}) + "\n")


if __name__ == "__main__":
    main()
