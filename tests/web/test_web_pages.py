"""Every page of the web front-end in headless Chromium, against the real pool mining on the devnet.

Each test opens a page, waits for it to show live data, checks what a miner or an operator relies on,
asserts that no script ran from the worker named `<img src=x onerror=alert(1)>`, and saves a screenshot
under artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from browser_support import (
    admin_api,
    api_get,
    assert_no_script_ran,
    assert_only_the_pool_was_asked,
    open_page,
    shot,
    text_of,
    wait_until,
)
from selenium.webdriver.support.select import Select
from web_support import ADMIN_SECRET, BLOCK_EXPLORER, XSS_WORKER, PoolThread

from athena_pool.rpc.jsonrpc import JsonRpcClient


def daemon_height(pool: PoolThread) -> int:
    async def ask() -> int:
        async with JsonRpcClient(pool.live.daemon_url) as rpc:
            reply = await rpc.call("getblockcount", {})
            return int(reply["count"])

    return asyncio.run(ask())


LINES_SCRIPT = """
return [...document.querySelectorAll(arguments[0] + ' svg.line-chart path.series')]
  .filter(p => (p.getAttribute('d') || '').includes('L')).map(p => p.dataset.series);
"""


def assert_chart(browser: Any, minimum: int = 1, within: str = "") -> list[str]:
    """At least `minimum` lines (series of two points or more) drawn `within` a selector; their names."""
    names: list[str] = wait_until(
        "a chart with a line",
        lambda: (lambda found: found if len(found) >= minimum else None)(
            browser.execute_script(LINES_SCRIPT, within)
        ),
    )
    return names


@pytest.fixture
def pool(web_pool: PoolThread, browser: Any) -> PoolThread:
    browser.get_log("browser")  # start each test with an empty console
    browser.get_log("performance")  # and an empty network log
    return web_pool


def test_dashboard_shows_the_live_network_and_pool(pool: PoolThread, browser: Any, screenshots: Path) -> None:
    open_page(browser, pool, "/", "dashboard")
    height = daemon_height(pool)

    def shown_height() -> int:
        return int(text_of(browser, "[data-stat='network-height'] .stat-value").replace(",", "") or 0)

    # The devnet keeps finding blocks: the page shows the daemon's height (or one the page refreshes to).
    wait_until("the network height", lambda: shown_height() >= height - 1)
    assert shown_height() <= daemon_height(pool) + 1
    assert "H/s" in text_of(browser, "[data-stat='pool-hashrate']")
    assert int(text_of(browser, "[data-stat='pool-miners'] .stat-value")) >= 1
    assert int(text_of(browser, "[data-stat='pool-blocks'] .stat-value")) >= 1
    assert_chart(browser, 2)
    assert "ATHX" in text_of(browser, "#brand-coin")
    # Footer links: the operator's http(s) links only; a javascript: URL never becomes a link.
    hrefs = browser.execute_script(
        "return [...document.querySelectorAll('#links a')].map(a => a.getAttribute('href'));"
    )
    assert hrefs == ["https://t.me/athena_pool_test"]
    assert_no_script_ran(browser)
    assert_only_the_pool_was_asked(browser, pool)
    shot(browser, screenshots, "dashboard")


def test_getting_started_lists_ports_and_generates_an_xmrig_config(
    pool: PoolThread, browser: Any, screenshots: Path
) -> None:
    open_page(browser, pool, "/start", "start")
    page = text_of(browser, ".page")
    assert str(pool.live.stratum_port) in page
    assert "CPU <b>miners</b>" in page  # a description with markup shows as text
    field = browser.find_element("id", "gen-address")
    field.clear()
    field.send_keys(pool.live.miner_address)
    cmd = text_of(browser, "#gen-cmdline")
    assert f"-o 127.0.0.1:{pool.live.stratum_port}" in cmd
    assert f"-u {pool.live.miner_address}" in cmd
    assert "-a cn-lite/1" in cmd
    conf = json.loads(text_of(browser, "#gen-config"))
    assert conf["pools"][0]["user"] == pool.live.miner_address
    assert conf["pools"][0]["url"] == f"127.0.0.1:{pool.live.stratum_port}"
    assert_no_script_ran(browser)
    assert_only_the_pool_was_asked(browser, pool)
    shot(browser, screenshots, "getting-started")


def test_blocks_page_lists_the_pools_blocks_with_explorer_links(
    pool: PoolThread, browser: Any, screenshots: Path
) -> None:
    blocks = api_get(pool, "/blocks?limit=5")["items"]
    assert blocks
    open_page(browser, pool, "/blocks", "blocks")
    newest = blocks[-1]
    expected = BLOCK_EXPLORER.replace("{id}", newest["hash"])
    wait_until(
        "the block's explorer link",
        lambda: browser.execute_script(
            "return [...document.querySelectorAll('a')].some(a => a.href === arguments[0]);", expected
        ),
    )
    page = text_of(browser, ".page")
    assert f"{newest['height']:,}" in page
    assert "to go" in page or "unlock" in page  # maturity status
    assert "%" in page  # effort
    # The blocks chart: blocks found per step, collected on the interval; the pool's blocks are counted.
    wait_until("the blocks chart counting the pool's blocks", lambda: blocks_charted(pool) >= 1)
    assert assert_chart(browser, 2, "#blocks-chart") == ["pool", "solo"]
    assert_no_script_ran(browser)
    assert_only_the_pool_was_asked(browser, pool)
    shot(browser, screenshots, "blocks")

    # One block: its payout proof page.
    open_page(browser, pool, f"/block/{newest['height']}/{newest['hash']}", "blocks")
    assert f"Block {newest['height']:,}" in text_of(browser, "h1")
    assert "payout proof" in text_of(browser, ".page").lower()
    assert_no_script_ran(browser)
    assert_only_the_pool_was_asked(browser, pool)
    shot(browser, screenshots, "block-proof")


def test_payments_page(pool: PoolThread, browser: Any, screenshots: Path) -> None:
    open_page(browser, pool, "/payments", "payments")
    page = text_of(browser, ".page")
    assert "pool payments" in page.lower()
    assert "Minimum payout" in page
    payments = api_get(pool, "/payments")["items"]
    if payments:
        assert payments[0]["tx_hash"][:10] in page
    else:
        assert "No payment sent yet." in page
    assert_no_script_ran(browser)
    assert_only_the_pool_was_asked(browser, pool)
    shot(browser, screenshots, "payments")


def test_worker_stats_show_the_miners_worker_as_text(
    pool: PoolThread, browser: Any, screenshots: Path
) -> None:
    address = pool.live.miner_address
    open_page(browser, pool, f"/miner/{quote(address)}", "miner")
    names = wait_until(
        "the worker table",
        lambda: browser.execute_script(
            "return [...document.querySelectorAll('.worker-name')].map(n => n.textContent);"
        ),
    )
    assert names == [XSS_WORKER]  # exactly the characters the miner chose, as text
    assert "H/s" in text_of(browser, "[data-stat='miner-hashrate']")
    assert "ATHX" in text_of(browser, "[data-stat='miner-balance']")
    assert address in text_of(browser, "[data-field='address']")
    assert_chart(browser)
    assert_no_script_ran(browser)
    assert_only_the_pool_was_asked(browser, pool)
    shot(browser, screenshots, "worker-stats")

    # The address is remembered: the bare route goes back to it.
    open_page(browser, pool, "/top", "top")
    browser.get(f"{pool.live.url}/#/miner")
    wait_until("the remembered address", lambda: address in text_of(browser, "[data-field='address']"))


def test_an_unknown_address_gets_a_clear_message(pool: PoolThread, browser: Any) -> None:
    open_page(browser, pool, f"/miner/{quote('<script>alert(2)</script>')}", "miner")
    wait_until("an error message", lambda: text_of(browser, ".error"))
    assert_no_script_ran(browser)
    assert_only_the_pool_was_asked(browser, pool)


def test_top_miners(pool: PoolThread, browser: Any, screenshots: Path) -> None:
    open_page(browser, pool, "/top", "top")
    address = pool.live.miner_address
    page = text_of(browser, ".page")
    assert f"{address[:7]}...{address[-7:]}" in page
    assert "H/s" in page
    assert_no_script_ran(browser)
    assert_only_the_pool_was_asked(browser, pool)
    shot(browser, screenshots, "top-miners")


def test_settings_asks_for_a_signed_message(pool: PoolThread, browser: Any, screenshots: Path) -> None:
    address = pool.live.miner_address
    open_page(browser, pool, f"/settings/{quote(address)}", "settings")
    wait_until(
        "the current threshold", lambda: "Current payout threshold" in text_of(browser, "#settings-current")
    )
    level = browser.find_element("id", "settings-threshold")
    level.clear()
    level.send_keys("5")
    browser.find_element("css selector", ".page form button[type=submit]").click()
    message = wait_until(
        "the message to sign", lambda: browser.find_element("id", "settings-message").get_attribute("value")
    )
    assert address in message
    assert "payout threshold 500 atomic units" in message
    browser.find_element("id", "settings-signature").send_keys("SigV2" + "A" * 40)
    browser.find_element("css selector", "#settings-step2 button[type=submit]").click()
    error = wait_until("the refusal", lambda: text_of(browser, "#settings-result .error"))
    assert "signature" in error.lower()
    assert api_get(pool, f"/miners/{address}/settings")["payout_threshold_own"] is None  # nothing changed
    assert_no_script_ran(browser)
    assert_only_the_pool_was_asked(browser, pool)
    shot(browser, screenshots, "settings")


def log_in(browser: Any) -> None:
    secret = browser.find_element("id", "admin-secret")
    secret.clear()
    secret.send_keys(ADMIN_SECRET)
    browser.find_element("css selector", "#admin-login button").click()
    wait_until("the admin statistics", lambda: text_of(browser, "#admin-stats"))


def test_admin_login_and_pages(pool: PoolThread, browser: Any, screenshots: Path) -> None:
    open_page(browser, pool, "/admin", "admin")
    secret = browser.find_element("id", "admin-secret")
    secret.send_keys("not-the-secret-0123456789")
    browser.find_element("css selector", "#admin-login button").click()
    assert "wrong admin secret" in wait_until("the refusal", lambda: text_of(browser, ".error"))
    shot(browser, screenshots, "admin-login")

    log_in(browser)
    page = text_of(browser, ".page")
    for section in ("Monitoring", "Ports", "Miners", "Bans", "manual review", "Recent log lines"):
        assert section.lower() in page.lower()
    assert str(pool.live.stratum_port) in page
    address = pool.live.miner_address
    assert browser.execute_script(
        "return [...document.querySelectorAll('a')].some(a => a.title === arguments[0]);", address
    )
    # The session is an HttpOnly cookie: page scripts cannot read it; the secret is stored nowhere.
    assert "athena_admin" not in browser.execute_script("return document.cookie;")
    stored = browser.execute_script(
        "return JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage});"
    )
    assert ADMIN_SECRET not in stored
    assert_no_script_ran(browser)
    assert_only_the_pool_was_asked(browser, pool)
    shot(browser, screenshots, "admin")

    browser.find_element("id", "admin-logout").click()
    wait_until("the login form again", lambda: browser.find_elements("id", "admin-secret"))


BAN_ROWS = """
return [...document.querySelectorAll('#bans-list tbody tr')].map((tr) => ({
  id: tr.querySelector('[data-ban-id]').dataset.banId,
  worker: tr.querySelector('.ban-worker').textContent,
  reason: tr.querySelector('.ban-reason').textContent,
}));
"""


def test_admin_lifts_and_adds_bans(pool: PoolThread, browser: Any, screenshots: Path) -> None:
    """A ban the stratum side could have made is lifted from the page; one added by hand from the page
    (a worker named like an XSS payload) shows as text and is lifted in turn. Checked against the API."""

    def api_ban_ids() -> set[str]:
        return {b["id"] for b in admin_api(pool, ADMIN_SECRET, "/admin/bans?limit=100")["items"]}

    seeded = admin_api(
        pool,
        ADMIN_SECRET,
        "/admin/bans",
        {"scope": "ip", "ip": "203.0.113.77", "reason": "<b>socket flood</b>", "duration_s": 600},
    )["ban"]
    open_page(browser, pool, "/admin", "admin")
    if browser.find_elements("id", "admin-secret"):
        log_in(browser)
    rows = wait_until("the ban in the list", lambda: browser.execute_script(BAN_ROWS))
    assert {"id": seeded["id"], "worker": "", "reason": "<b>socket flood</b>"} in rows
    browser.find_element("css selector", f"#bans-list [data-ban-id='{seeded['id']}']").click()
    wait_until("the ban lifted", lambda: "Ban lifted." in text_of(browser, "#ban-result"))
    assert seeded["id"] not in {row["id"] for row in browser.execute_script(BAN_ROWS)}
    assert seeded["id"] not in api_ban_ids()

    Select(browser.find_element("id", "ban-scope")).select_by_value("worker")
    browser.find_element("id", "ban-ip").send_keys("203.0.113.78")
    browser.find_element("id", "ban-address").send_keys(pool.live.miner_address)
    browser.find_element("id", "ban-worker").send_keys(XSS_WORKER)
    minutes = browser.find_element("id", "ban-minutes")
    minutes.clear()
    minutes.send_keys("5")
    browser.find_element("id", "ban-reason").send_keys("too many invalid shares")
    browser.find_element("css selector", "#ban-form button[type=submit]").click()
    wait_until("the ban added", lambda: "Banned." in text_of(browser, "#ban-result"))
    added = [
        b
        for b in admin_api(pool, ADMIN_SECRET, "/admin/bans?limit=100")["items"]
        if b["ip"] == "203.0.113.78"
    ]
    assert [(b["scope"], b["address"], b["worker"], b["source"]) for b in added] == [
        ("worker", pool.live.miner_address, XSS_WORKER, "api")
    ]
    assert 299_000 <= added[0]["until_ms"] - added[0]["created_ms"] <= 300_000
    rows = browser.execute_script(BAN_ROWS)
    assert {"id": added[0]["id"], "worker": XSS_WORKER, "reason": "too many invalid shares"} in rows
    assert_no_script_ran(browser)
    assert_only_the_pool_was_asked(browser, pool)
    shot(browser, screenshots, "admin-bans")

    browser.find_element("css selector", f"#bans-list [data-ban-id='{added[0]['id']}']").click()
    wait_until("the second ban lifted", lambda: added[0]["id"] not in api_ban_ids())


def blocks_charted(pool: PoolThread) -> float:
    series = api_get(pool, "/charts/pool")["series"]
    return float(sum(point[1] for point in series["blocks"] + series["blocks_solo"]))
