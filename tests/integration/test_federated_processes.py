"""A real federation on loopback: `geniot fl serve` (a SuperLink) and two `geniot fl join`
(SuperNodes, each reading only its own site's file), started and stopped by PID."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from geniot.data.io import read_series
from geniot.federated.deployment import free_port, wait_for_port
from geniot.federated.sim_sites import write_simulated_sites
from geniot.models import GaussianBaseline
from geniot.tasks import AnomalyDetector

pytestmark = pytest.mark.integration
pytest.importorskip("flwr")

GENIOT = [sys.executable, "-m", "geniot.cli.main"]


def _start(args, log: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(GENIOT + args, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


def _processes_naming(paths) -> list[str]:
    """Command lines of running processes that name any of ``paths`` (a site's SuperNode does)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "supernode" in cmdline and any(str(Path(p).resolve()) in cmdline for p in paths):
            found.append(cmdline)
    return found


def test_a_killed_join_leaves_no_supernode_behind(tmp_path):
    sites = write_simulated_sites(tmp_path / "sites", 1, days=1, seed=2)
    join = _start(["fl", "join", "--site", str(sites[0]), "--superlink", f"127.0.0.1:{free_port()}"], tmp_path / "join.log")
    try:
        deadline = time.monotonic() + 60
        while not _processes_naming(sites) and time.monotonic() < deadline and join.poll() is None:
            time.sleep(0.3)
        assert _processes_naming(sites), (tmp_path / "join.log").read_text()[-2000:]
        join.send_signal(signal.SIGTERM)  # only the join process, as a user's `kill PID` would
        join.wait(timeout=30)
        deadline = time.monotonic() + 20
        while _processes_naming(sites) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert _processes_naming(sites) == []
    finally:
        _stop(join)


def test_two_supernodes_on_loopback_reach_the_centralized_detector(tmp_path):
    sites = write_simulated_sites(tmp_path / "sites", 2, days=1, seed=1)
    out, port = tmp_path / "model", free_port()
    serve = _start(
        ["fl", "serve", "--sites", "2", "--port", str(port), "--out", str(out), "--window", "8",
         "--wait", "120", "--work", str(tmp_path / "work")],
        tmp_path / "serve.log",
    )  # fmt: skip
    joins = []
    try:
        wait_for_port("127.0.0.1", port, 60, serve)
        joins = [
            _start(["fl", "join", "--site", str(s), "--superlink", f"127.0.0.1:{port}"], tmp_path / f"join{k}.log")
            for k, s in enumerate(sites)
        ]
        try:
            serve.wait(timeout=240)
        except subprocess.TimeoutExpired:
            pytest.fail("the federation did not finish:\n" + (tmp_path / "serve.log").read_text()[-3000:])
        # Each site leaves by itself once the coordinator says the run is over, and leaves no
        # SuperNode or ClientApp process behind.
        for k, proc in enumerate(joins):
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail(f"fl join {k} did not exit after the run:\n" + (tmp_path / f"join{k}.log").read_text()[-3000:])
            join_log = (tmp_path / f"join{k}.log").read_text()
            assert proc.returncode == 0, join_log[-3000:]
            assert "the run is over" in join_log
        assert _processes_naming(sites) == []
    finally:
        for proc in [serve, *joins]:
            _stop(proc)
    log = (tmp_path / "serve.log").read_text()
    assert serve.returncode == 0, log[-3000:]
    assert "round 1/1" in log and "saved the global model" in log

    # Converged to the optimum: the federated detector is the one fitted on both files pooled.
    fed = json.loads((out / "federation.json").read_text())
    assert {s["site"] for s in fed["sites"]} == {p.name for p in sites}
    detector = AnomalyDetector.load(out)
    normal = [read_series(p).values for p in sites]
    central = AnomalyDetector(generator=GaussianBaseline(), window=8, attribute="none").fit(normal)
    np.testing.assert_allclose(detector.generator_.covariance_, central.generator_.covariance_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(detector.generator_.mean_, central.generator_.mean_, rtol=1e-7, atol=1e-9)
    assert detector.threshold_.value == pytest.approx(central.threshold_.value, rel=1e-6)
    assert fed["final"]["threshold_rule"] == central.threshold_.rule
