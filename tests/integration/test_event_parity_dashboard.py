"""The dashboard's Events panel in a real headless browser (Debian chromium through Playwright)
lists the asset's events from /api/events, also those before the plotted rows."""

from __future__ import annotations

import json
import os
import urllib.request

import numpy as np
import pytest
from live_server import serving

from geniot.core.settings import Settings
from geniot.data.io import series_from_frame
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.data.store import SensorStore
from geniot.models.gaussian import GaussianBaseline
from geniot.service.app import create_app
from geniot.tasks import AnomalyDetector
from geniot.workflows.history import store_events

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"
ASSET = "P-1"


def _get(url: str):
    return json.loads(urllib.request.urlopen(url, timeout=30).read())


def test_events_panel_lists_events_outside_the_plotted_rows(tmp_path, unused_port):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    sim = simulate_plant(PlantConfig(n_assets=1, days=1.5, seed=5, fault_rate=0, drop_rate=0, outage_rate=0, degrading_fraction=0))
    wide = sim.wide(ASSET)
    train, rest = wide.iloc[:1440], wide.iloc[1440:].reset_index(drop=True).copy()
    rest.loc[50:79, "motor_temp_c"] += 8 * train["motor_temp_c"].std()  # long before the last 600 rows
    detector = AnomalyDetector(generator=GaussianBaseline(), window=8, merge_gap=3, min_event_steps=2)
    detector.fit(series_from_frame(train, asset=ASSET))
    settings = Settings(home=tmp_path / "home", token="x")
    settings.home.mkdir(parents=True)
    store = SensorStore(settings.store_path)
    series = series_from_frame(rest, asset=ASSET)
    store.append(series)
    assert store_events(store, ASSET, series, detector) >= 1
    store.close()
    with serving(create_app(settings), unused_port) as port:
        base = f"http://127.0.0.1:{port}"
        events = _get(f"{base}/api/events?asset={ASSET}")
        assert events and _get(f"{base}/api/assets/{ASSET}/live?last=600")["events"] == []  # none among the plotted rows
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page()
                errors = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.goto(base + "/")
                page.wait_for_selector("body[data-ready='1']", timeout=30_000)
                page.wait_for_function("Number(document.querySelector('#events').dataset.count || 0) > 0", timeout=30_000)
                text = page.locator("#events tbody").inner_text()
                assert "no events yet" not in text
                assert all(e["start_ts"] in text for e in events), (text, events)
                assert page.locator("#events tbody tr").count() == len(events)
                assert not errors, errors
            finally:
                browser.close()
    assert np.isfinite([e["peak_score"] for e in events]).all()
