"""The dashboard in a real headless browser (Debian chromium through Playwright): live data
from the in-process simulator appear and update without a page reload."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from live_server import serving

from geniot.core.settings import Settings
from geniot.service.app import create_app

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture()
def server(tmp_path, unused_port):
    app = create_app(Settings(home=tmp_path / "home", token="x"), simulate=True, sim_assets=2)
    with serving(app, unused_port) as port:
        yield f"http://127.0.0.1:{port}"


@contextmanager
def dashboard(server):
    """The dashboard loaded in headless chromium: (page, page errors); the browser closes after."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server + "/")
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        try:
            yield page, errors
        finally:
            browser.close()


def test_dashboard_shows_live_data(server):
    with dashboard(server) as (page, errors):
        page.wait_for_function("document.querySelectorAll('#signals .scatterlayer .trace').length >= 8", timeout=30_000)
        assert page.locator("#asset option").count() == 2
        first = page.locator("#stat-readings").inner_text()
        # live: the simulator adds readings every second and the page redraws by itself
        page.wait_for_function(f"document.querySelector('#stat-readings').textContent !== {first!r}", timeout=15_000)
        # the auto-trained detectors show up as jobs, then scores are drawn
        page.wait_for_function("document.querySelector('#jobs tbody').textContent.includes('done')", timeout=60_000)
        page.wait_for_function("document.querySelectorAll('#score .scatterlayer .trace').length >= 1", timeout=30_000)
        assert not errors, errors


def test_dashboard_chat_answers_a_question(server):
    with dashboard(server) as (page, errors):
        # the auto-trained detectors scan the stored day of history: events to ask about
        page.wait_for_function("document.querySelector('#jobs tbody').textContent.split('done').length > 2", timeout=90_000)
        page.fill("#chat-question", "which assets had anomalies yesterday?")
        page.click("#chat-form button")
        page.wait_for_selector("#chat-log div[data-done='1']", timeout=60_000)
        answer = page.locator("#chat-log .a").first.inner_text()
        assert "list_anomalies" in page.locator("#chat-log .meta").first.inner_text()
        assert "yesterday" in answer and ("had anomalies" in answer or "No anomalies" in answer), answer
        # the same answer as the API gives (the page shows what the tool computed)
        import json
        import urllib.request

        req = urllib.request.Request(server + "/api/ask", data=json.dumps({"question": "which assets had anomalies yesterday?"}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")  # fmt: skip
        api = json.loads(urllib.request.urlopen(req, timeout=60).read())
        assert api["text"] == answer
        # out of scope: refused with suggestions, shown as buttons
        page.fill("#chat-question", "tell me a joke")
        page.click("#chat-form button")
        page.wait_for_function("document.querySelectorAll('#chat-log div[data-done=\\'1\\']').length >= 2", timeout=30_000)
        assert page.locator("#chat-log .tips button").count() >= 2
        assert not errors, errors


def test_dashboard_shows_security_events_apart_with_their_reasons(tmp_path, unused_port):
    """Security events stored as detection stores them appear in their own table with kind,
    attack type, source and reason (escaped), and not among the process events."""
    import time

    from geniot.security import SecurityEvent
    from geniot.service.security import store_record

    app = create_app(Settings(home=tmp_path / "home", token="x"), simulate=True, sim_assets=2, auto_train=False)
    with serving(app, unused_port) as port:
        store = app.state.service.store
        now = time.time()
        forged = SecurityEvent("P-1", now - 600, now - 300, "integrity", "fdi",
                               "pressure_bar is physically inconsistent with the other sensors <b>under</b> the generative model",
                               now - 500, signal="pressure_bar")  # fmt: skip
        flood = SecurityEvent("P-2", now - 200, now - 100, "traffic", "flood", "40 messages within 600 s on 'plant/pumps/P-2' (normal at most 19)",
                              now - 190, source="plant/pumps/P-2|gw-P-2")  # fmt: skip
        for ev in (forged, flood):
            store.upsert_event(store_record(ev))
        with dashboard(f"http://127.0.0.1:{port}") as (page, errors):
            page.wait_for_function("document.querySelector('#security-events').dataset.count === '2'", timeout=30_000)
            rows = page.locator("#security-events tbody tr")
            text = rows.all_inner_texts()
            fdi = next(t for t in text if "fdi" in t)
            assert "integrity" in fdi and "P-1" in fdi and "pressure_bar" in fdi
            assert "inconsistent with the other sensors <b>under</b> the generative model" in fdi  # shown as text, not markup
            flood_row = next(t for t in text if "flood" in t)
            assert "traffic" in flood_row and "plant/pumps/P-2|gw-P-2" in flood_row and "normal at most 19" in flood_row
            assert page.locator("#security-events tbody tr[data-kind='traffic'][data-attack='flood']").count() == 1
            assert "no security events" not in page.locator("#security-events").inner_text()
            # the process table of the selected asset does not list them
            page.wait_for_function("document.querySelector('#events').dataset.count !== undefined", timeout=10_000)
            assert "inconsistent" not in page.locator("#events").inner_text() and "flood" not in page.locator("#events").inner_text()
            assert "security: off" in page.locator("#stat-security").inner_text()  # no detector active: said
            assert "no detector active" in page.locator("#security-state").inner_text()
            assert not errors, errors


def test_dashboard_draws_the_demos_synthetic_day(tmp_path, unused_port):
    """The synthetic day `geniot demo` writes is drawn beside the real one, one signal at a time."""
    import json

    from geniot.workflows.demo import DAY_FILE

    home = tmp_path / "home"
    home.mkdir()
    group = lambda start, assets, base: {"start": start, "step_s": 300.0, "assets": {  # noqa: E731
        a: {"flow_m3h": [base + i + k for k in range(288)], "speed_rpm": [1000 + k for k in range(288)]} for i, a in enumerate(assets)}}
    payload = {"channels": ["flow_m3h", "speed_rpm"], "model": "gaussian",
               "real": group("2026-01-01 00:00:00", ["P-1", "P-2"], 50.0),
               "synthetic": group("2026-01-02 00:00:00", ["S-1", "S-2"], 60.0)}  # fmt: skip
    (home / DAY_FILE).write_text(json.dumps(payload), encoding="utf-8")
    app = create_app(Settings(home=home, token="x"), simulate=True, sim_assets=1, auto_train=False)
    with serving(app, unused_port) as port, dashboard(f"http://127.0.0.1:{port}") as (page, errors):
        page.wait_for_function("document.querySelectorAll('#synthetic-day .scatterlayer .trace').length === 4", timeout=30_000)
        assert page.locator("#day-signal option").all_inner_texts() == ["flow_m3h", "speed_rpm"]
        assert "synthetic (gaussian) from 2026-01-02" in page.locator("#day-state").inner_text()
        page.select_option("#day-signal", "speed_rpm")
        page.wait_for_function("document.querySelector('#synthetic-day .ytitle').textContent === 'speed_rpm'", timeout=10_000)
        assert not errors, errors
