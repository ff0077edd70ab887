"""Browser tests of the web front-end: the real pool on the devnet, the API serving the page, headless
Chromium driven by selenium. Skipped, with the reason, when chromium, chromedriver or selenium is missing."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import CHROMEDRIVER, CHROMIUM, PoolThread, browser_missing

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"

# Counts every alert/confirm/prompt, and every <img> added to the document, before any page script runs.
WATCH_SCRIPT = """
window.__alerts = [];
window.alert = (m) => { window.__alerts.push(String(m)); };
window.confirm = (m) => { window.__alerts.push(String(m)); return false; };
window.prompt = (m) => { window.__alerts.push(String(m)); return null; };
window.__injected = [];
new MutationObserver((records) => {
  for (const r of records) for (const n of r.addedNodes) {
    if (n.nodeType === 1 && (n.tagName === 'IMG' || (n.querySelector && n.querySelector('img')))) {
      window.__injected.push(n.outerHTML.slice(0, 200));
    }
  }
}).observe(document, {childList: true, subtree: true});
"""


@pytest.fixture(scope="session")
def web_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PoolThread]:
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    with PoolThread(tmp_path_factory.mktemp("web-pool") / "data") as pool:
        yield pool


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.TemporaryDirectory(prefix="web-test-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1360,1000",
        f"--user-data-dir={profile.name}",
    ):
        options.add_argument(flag)
    # "performance": DevTools' network events, to prove every request goes to the pool's own host.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_SCRIPT})
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
