"""Looking at the pages: the API's answers, waiting for a page to show its data, reading its text, checking
that no script ran from what the pool shows, and screenshots."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from web_support import PoolThread

WAIT_S = 20


def api_get(pool: PoolThread, path: str) -> Any:
    with urllib.request.urlopen(f"{pool.live.url}/api/v1{path}", timeout=10) as response:
        return json.loads(response.read())


def admin_api(pool: PoolThread, secret: str, path: str, body: Any = None) -> Any:
    """An admin call with the bearer secret: GET, or POST with a JSON `body`."""
    request = urllib.request.Request(
        f"{pool.live.url}/api/v1{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_until(what: str, condition: Callable[[], Any], timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = condition()
        except Exception as exc:  # the page is still loading
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def open_page(browser: Any, pool: PoolThread, route: str, page: str) -> None:
    browser.get(f"{pool.live.url}/#{route}")
    wait_until(
        f"page {page} loaded",
        lambda: browser.execute_script(
            "const p = document.querySelector('.page[data-page]');"
            "return p && p.dataset.page === arguments[0] && p.dataset.loaded === 'true';",
            page,
        ),
    )


def text_of(browser: Any, selector: str) -> str:
    return str(
        browser.execute_script(
            "const n = document.querySelector(arguments[0]); return n ? n.innerText : '';", selector
        )
    )


def assert_no_script_ran(browser: Any) -> None:
    alerts = browser.execute_script("return window.__alerts || [];")
    injected = browser.execute_script("return window.__injected || [];")
    images = browser.execute_script("return document.querySelectorAll('img').length;")
    assert alerts == [], f"a dialog was opened: {alerts}"
    assert injected == [], f"an <img> element was injected: {injected}"
    assert images == 0
    errors = [
        entry
        for entry in browser.get_log("browser")
        if entry.get("level") == "SEVERE"
        and "favicon" not in entry.get("message", "")
        and "/api/v1/" not in entry.get("message", "")  # expected 4xx answers (admin 401, unknown miner)
    ]
    assert errors == [], f"console errors: {errors}"


def requested_urls(browser: Any) -> list[str]:
    """Every URL the browser asked for since the last call: DevTools' Network.requestWillBeSent events
    (the performance log, which this call empties), and the page's own resource timing entries."""
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"]).get("message", {})
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(str(message["params"]["request"]["url"]))
    urls += browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href]);"
    )
    return urls


def assert_only_the_pool_was_asked(browser: Any, pool: PoolThread) -> None:
    """Works offline: no script, style, font, image or API call comes from any host but the pool's own."""
    own = urlsplit(pool.live.url).netloc
    urls = requested_urls(browser)
    assert any(urlsplit(url).path.startswith("/api/v1/") for url in urls), urls  # the log works
    foreign = [
        url for url in urls if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != own
    ]
    assert foreign == [], f"requests to other hosts: {foreign}"


def shot(browser: Any, directory: Path, name: str) -> None:
    height = browser.execute_script("return Math.min(document.body.scrollHeight + 40, 4000);")
    browser.set_window_size(1360, max(1000, int(height)))
    assert browser.save_screenshot(str(directory / f"{name}.png"))
    browser.set_window_size(1360, 1000)
