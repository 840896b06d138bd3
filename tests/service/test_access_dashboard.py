"""The dashboard with closed reads, in a real headless browser (Debian chromium through
Playwright): it asks for a token, then shows the plant's data and the service's health."""

from __future__ import annotations

import os

import pytest
from live_server import free_port, serving

from geniot.core.settings import Settings
from geniot.service.app import create_app

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture()
def closed_server(tmp_path):
    settings = Settings(home=tmp_path / "home", tokens="viewer:read:look-only", open_reads=False)
    app = create_app(settings, simulate=True, sim_assets=1, auto_train=False)
    with serving(app) as port:
        yield f"http://127.0.0.1:{port}"


def test_dashboard_asks_for_a_token_then_shows_data_and_health(closed_server):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            errors, calls = [], []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", lambda req: calls.append((req.url, req.headers.get("authorization"))))
            page.goto(closed_server + "/")
            page.wait_for_selector("body[data-auth='needed']", timeout=30_000)
            assert page.locator("#auth-needed").is_visible() and page.locator("#token").is_visible()
            # the status is public; the details, the assets and the data are not
            page.wait_for_function("document.querySelector('#status-badge').textContent.startsWith('status: ')")
            assert page.locator("#asset option").count() == 0
            assert page.get_attribute("body", "data-ready") is None

            page.fill("#token", "look-only")
            page.click("#token-form button[type=submit]")
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            assert page.locator("#auth-needed").is_hidden()
            page.wait_for_function("document.querySelectorAll('#signals .scatterlayer .trace').length >= 1", timeout=30_000)
            assert page.locator("#asset option").count() == 1
            badge = page.locator("#status-badge")
            assert badge.inner_text().split(": ")[1] in ("ok", "degraded", "failing")
            assert badge.get_attribute("class").split()[-1] == badge.inner_text().split(": ")[1]
            assert page.locator("#stat-readings").inner_text() != "readings: –"
            # polling keeps sending the token: later calls carry it too
            seen = len(calls)
            page.wait_for_function(f"document.querySelector('#stat-updated').textContent !== {page.locator('#stat-updated').inner_text()!r}",
                                   timeout=15_000)  # fmt: skip
            later = [auth for url, auth in calls[seen:] if "/api/" in url]
            assert later and all(auth == "Bearer look-only" for auth in later)
            # the token stays in this tab's sessionStorage, not in localStorage
            assert page.evaluate("sessionStorage.getItem('geniot-token')") == "look-only"
            assert page.evaluate("localStorage.length") == 0
            # a wrong token is refused and said so
            page.click("#token-forget")
            page.fill("#token", "not-it")
            page.click("#token-form button[type=submit]")
            page.wait_for_function("document.querySelector('#auth-needed').textContent.includes('refused')", timeout=15_000)
            assert not errors, errors
        finally:
            browser.close()


def test_dashboard_shows_a_degraded_status_with_its_problems(tmp_path):
    """A broker that is not there: the service says "degraded" and why, and the page shows both."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    settings = Settings(home=tmp_path / "home", mqtt_url=f"mqtt://127.0.0.1:{free_port()}")  # nothing listens there
    with serving(create_app(settings)) as port, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#status-badge.degraded", timeout=30_000)
            assert page.locator("#status-badge").inner_text() == "status: degraded"
            problems = page.locator("#problems li")
            assert problems.count() >= 1 and "MQTT" in problems.first.inner_text()
            assert page.locator("#problems").is_visible()
        finally:
            browser.close()
