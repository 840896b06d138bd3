"""The edge scores as the server does, for step-score detectors (``geniot fit``'s default) and
whole-window ones: the ONNX graph on whole windows, the float64 gap scorer on windows with
dropped readings, and a whole stream through ``EdgeScorer`` against ``StreamingScorer``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geniot.data.series import SensorSeries
from geniot.data.windows import make_windows
from geniot.models import GaussianBaseline
from geniot.tasks import AnomalyDetector
from geniot.tasks.events import flag_scores

ort = pytest.importorskip("onnxruntime")
from geniot.edge.export import GAPS, META, SCORER, export_detector  # noqa: E402
from geniot.edge.runtime import EdgeScorer, main  # noqa: E402

RNG = np.random.default_rng(7)
T = np.arange(900)
# Two operating regimes (the step score's reason to exist) and a coupled third signal.
LEVEL = np.where((T // 150) % 2 == 0, 1.0, 1.6)
VALUES = np.column_stack([LEVEL * np.sin(T / 11), np.cos(T / 5), 2 * LEVEL * np.sin(T / 11)]) + 0.05 * RNG.normal(size=(900, 3))
TRAIN, LIVE = VALUES[:600], VALUES[600:].copy()
LIVE[120:135, 2] += 0.8  # a sensor leaves its coupling
LIVE[200:204, 0] *= 1.5
KINDS = ("step", "window")
RTOL = ATOL = 1e-4  # float32 graph against the server's float64


@pytest.fixture(scope="module", params=[(k, a) for k in KINDS for a in ("flagged", "all")], ids=lambda p: "-".join(p))
def exported(request, tmp_path_factory):
    score, attribute = request.param  # "flagged": the gap scorer works out sensors' surprise only when flagged
    det = AnomalyDetector(generator=GaussianBaseline(), window=8, score=score, smoothing=3, attribute=attribute).fit(TRAIN)
    out = tmp_path_factory.mktemp(f"edge_{score}_{attribute}")
    meta = export_detector(det, out)
    return det, out, meta


def test_the_onnx_graph_computes_the_score_the_detector_calibrated(exported):
    det, out, meta = exported
    assert meta["score"] == det.score and meta["threshold"] == pytest.approx(det.threshold_.value)
    session = ort.InferenceSession(str(out / SCORER), providers=["CPUExecutionProvider"])
    windows = make_windows(LIVE, 8)
    got = session.run(["score"], {"x": windows})[0].astype(np.float64)
    want = det.window_scores(windows)
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
    threshold = det.threshold_.value
    assert flag_scores(want, threshold).any()  # the comparison includes flagged windows
    np.testing.assert_array_equal(flag_scores(got, threshold), flag_scores(want, threshold))


def test_the_gap_scorer_computes_the_detectors_score_with_dropped_readings(exported):
    det, out, _ = exported
    gaps = EdgeScorer(out).gaps
    windows = make_windows(LIVE, 8)[::5].copy()
    windows[RNG.random(windows.shape) < 0.15] = np.nan
    windows[1, -1, :] = np.nan  # the judged step unread: no step score
    windows[2, :-1, :] = np.nan  # only the last step read: no past to judge it by
    windows[3] = np.nan  # nothing read
    windows[4, :, 1] = np.nan  # one sensor dropped for the whole window
    want, want_z = det.window_scores(windows), det.channel_z(windows)
    got = np.array([gaps.score(w)[0] for w in windows])
    z = np.array([(gaps.score(w)[1] - det.channel_center_) / det.channel_scale_ for w in windows])
    assert np.isnan(want[3]) and (np.isnan(want[1]) and np.isnan(want[2])) == (det.score == "step")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(z, want_z, rtol=1e-7, atol=1e-7)


def test_a_stream_with_gaps_scores_and_flags_as_on_the_server(exported):
    det, out, _ = exported
    live = LIVE.copy()
    live[RNG.random(live.shape) < 0.03] = np.nan
    live[60] = np.nan  # a whole reading dropped: under the step score, a judged step with nothing read
    live[300:303, 1] = np.nan
    server, edge = det.stream(asset="P-1"), EdgeScorer(out, asset="P-1")
    rows = []
    for i, row in enumerate(live):
        a, b = server.update(row, timestamp=i), edge.update(dict(zip(edge.channels, row, strict=True)), ts=i)
        assert (a is None) == (b is None)
        if a is not None:
            rows.append((a.score, b["score"], a.flag, b["flag"], a.top_sensors, tuple(b["top_sensors"])))
    want = np.array([r[0] for r in rows])
    got = np.array([np.nan if r[1] is None else r[1] for r in rows])
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
    flags = np.array([r[2] for r in rows])
    assert 0 < flags.sum() < len(flags) / 2
    np.testing.assert_array_equal([r[3] for r in rows], flags)
    assert [r[5] for r in rows] == [r[4] for r in rows]


def test_an_outage_goes_into_the_window_as_gaps_as_on_the_server(exported):
    """Minutes stamped on the clock, then forty with no readings: edge and server put the
    readings missed into the window as gaps, and the return is scored as `detect` scores it."""
    det, out, _ = exported
    stamps = np.datetime64("2026-01-01T00:00") + np.arange(len(LIVE)) * np.timedelta64(60, "s")
    keep = np.r_[0:90, 130 : len(LIVE)]
    server, edge = det.stream(asset="P-1"), EdgeScorer(out, asset="P-1")
    got, want = [], []
    for i in keep:
        a = server.update(LIVE[i], timestamp=stamps[i])
        b = edge.update(dict(zip(edge.channels, LIVE[i], strict=True)), ts=str(stamps[i]))
        assert (a is None) == (b is None)
        if a is not None:
            want.append(a.score)
            got.append(np.nan if b["score"] is None else b["score"])
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
    series = SensorSeries(stamps[keep], LIVE[keep], tuple(edge.channels))
    batch = det.detect(series).scores[7:]
    np.testing.assert_allclose(want, batch, rtol=1e-9, atol=1e-9)  # the server's stream is `detect` on the clock
    back = int(np.flatnonzero(keep == 130)[0]) - 7
    assert np.isfinite(want[back + 1])


def test_int8_exports_a_step_score_and_measures_what_it_moves(tmp_path):
    det = AnomalyDetector(generator=GaussianBaseline(), window=8, score="step").fit(TRAIN)
    meta = export_detector(det, tmp_path / "int8", quantize="int8", check_windows=make_windows(LIVE, 8))
    assert meta["score"] == "step" and meta["quantization"]["windows_checked"] == len(LIVE) - 7
    # the score's MatMul stays float32 (8-bit moved step scores by a third): int8 flags as fp32 does
    quant = meta["quantization"]
    assert quant["flags_changed"] == 0 and quant["max_abs_score_change"] < 1e-4
    assert 0 <= quant["top_sensors_changed"] <= quant["flagged_windows"] > 0  # what int8 can still move: attribution
    scorer = EdgeScorer(tmp_path / "int8")
    assert scorer.score_kind == "step"
    scores = [scorer.update(row) for row in LIVE]
    assert all(np.isfinite(s["score"]) for s in scores[7:])


def test_the_runtime_reports_which_score_it_computes(exported, capsys):
    det, out, _ = exported
    assert main([str(out), "--info"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["score"] == det.score and info["window"] == 8 and info["channels"] == EdgeScorer(out).channels


def test_a_first_format_export_is_read_as_whole_window_scores(tmp_path):
    det = AnomalyDetector(generator=GaussianBaseline(), window=8, score="window").fit(TRAIN)
    export_detector(det, tmp_path / "old")
    meta = json.loads((tmp_path / "old" / META).read_text())
    meta.pop("score")
    meta["format"] = 1
    (tmp_path / "old" / META).write_text(json.dumps(meta))
    with np.load(tmp_path / "old" / GAPS) as f:
        arrays = {k: f[k] for k in f.files if k != "score"}
    np.savez(tmp_path / "old" / GAPS, **arrays)
    scorer = EdgeScorer(tmp_path / "old")
    assert scorer.score_kind == "window" and not scorer.gaps.step


def test_a_model_whose_files_disagree_on_the_score_is_refused(tmp_path):
    det = AnomalyDetector(generator=GaussianBaseline(), window=8, score="step").fit(TRAIN)
    export_detector(det, tmp_path / "m")
    meta = json.loads((tmp_path / "m" / META).read_text())
    (tmp_path / "m" / META).write_text(json.dumps(meta | {"score": "window"}))
    with pytest.raises(SystemExit, match="score='step'"):
        EdgeScorer(tmp_path / "m")
    (tmp_path / "m" / META).write_text(json.dumps(meta | {"format": 99}))
    with pytest.raises(SystemExit, match="newer than this runtime"):
        EdgeScorer(tmp_path / "m")
