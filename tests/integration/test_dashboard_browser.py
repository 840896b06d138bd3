"""The dashboard in a real headless browser (Debian chromium through Playwright): live data
from the in-process simulator appear and update without a page reload."""

from __future__ import annotations

import os
import threading
import time

import pytest

from geniot.core.settings import Settings
from geniot.service.app import create_app

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture()
def server(tmp_path, unused_port):
    import uvicorn

    port = unused_port
    app = create_app(Settings(home=tmp_path / "home", token="x"), simulate=True, sim_assets=2)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=15)


def test_dashboard_shows_live_data(server):
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
        page.wait_for_function("document.querySelectorAll('#signals .scatterlayer .trace').length >= 8", timeout=30_000)
        assert page.locator("#asset option").count() == 2
        first = page.locator("#stat-readings").inner_text()
        # live: the simulator adds readings every second and the page redraws by itself
        page.wait_for_function(f"document.querySelector('#stat-readings').textContent !== {first!r}", timeout=15_000)
        # the auto-trained detectors show up as jobs, then scores are drawn
        page.wait_for_function("document.querySelector('#jobs tbody').textContent.includes('done')", timeout=60_000)
        page.wait_for_function("document.querySelectorAll('#score .scatterlayer .trace').length >= 1", timeout=30_000)
        assert not errors, errors
        browser.close()
