"""The reliability harness (benchmarks/reliability.py) run small: valid readings mixed with hostile
MQTT messages of many classes, hostile HTTP requests and files, and kill -9 of the service and of
the broker mid-stream. Nothing valid is lost or doubled, nothing hostile is stored, no 5xx, nothing
is written outside the home, and health never says "ok" while the writer is dead."""

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

HARNESS = Path(__file__).resolve().parents[2] / "benchmarks" / "reliability.py"


def _harness():
    spec = importlib.util.spec_from_file_location("geniot_reliability", HARNESS)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_hostile_inputs_and_crashes_lose_nothing_valid():
    if not (shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()):
        pytest.skip("mosquitto is not installed (.ci/run installs the Debian package)")
    harness = _harness()
    out = harness.run(n_valid=1200, n_hostile=480, kills=1, say=print)
    summary = out.table()
    assert out.valid_acked > 0, summary
    assert sum(out.hostile_mqtt.values()) >= 480 and len(out.hostile_mqtt) >= 10, summary
    assert out.kills == ["service", "broker"], summary
    assert out.lost == 0 and out.doubled == 0 and out.wrong_value == 0, summary
    assert out.hostile_stored == 0, summary
    assert out.http_5xx == [], out.http_5xx
    assert out.outside_home == [], out.outside_home
    assert out.health_lies == [], out.health_lies
