"""The money pages with real money in them, in headless Chromium: a pool on the devnet that mined, credited
and paid its miner (`money_support`), then stopped mining so nothing moves.

- the payments page lists the pool's payments exactly as the API does;
- the miner's page shows its balance, its payments and its credits, and a credit's payout proof tells who
  was credited how much by that block and which transactions paid it;
- the admin page lists the batches held for manual review, refuses a transaction the wallet never sent,
  and resolves one batch as paid (with the wallet's real transaction) and the other as never sent.

Every figure on a page is compared with the API's answer; screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from browser_support import (
    api_get,
    assert_no_script_ran,
    assert_only_the_pool_was_asked,
    open_page,
    shot,
    text_of,
    wait_until,
)
from money_support import (
    HELD_SENT,
    HELD_UNSENT,
    SENT_REASON,
    UNSENT_REASON,
    Books,
    payment_store,
    prepare_books,
)
from web_support import ADMIN_SECRET, BLOCK_EXPLORER, TX_EXPLORER, PoolThread, browser_missing

from athena_pool.storage.payment_store import BatchState
from athena_pool.supervisor import RunningPool

# A table's rows as the reader sees them: each cell's text, and the titles and links inside it.
ROWS_SCRIPT = """
const card = [...document.querySelectorAll('section.card')]
  .find((c) => c.querySelector('h2') && c.querySelector('h2').textContent === arguments[0]);
if (!card) return null;
return [...card.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => ({
  text: td.innerText.trim(),
  titles: [...td.querySelectorAll('[title]')].map((n) => n.getAttribute('title')),
  links: [...td.querySelectorAll('a')].map((a) => a.getAttribute('href')),
})));
"""
NONE = "\u2013"  # what the page shows for no value (an en dash)
STAT_SCRIPT = """
const s = [...document.querySelectorAll('.stat')]
  .find((n) => n.querySelector('.stat-label').textContent === arguments[0]);
return s ? s.querySelector('.stat-value').innerText : null;
"""


@pytest.fixture(scope="module")
def money(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PoolThread, Books]]:
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    with PoolThread(tmp_path_factory.mktemp("paying-pool") / "data", paying=True) as pool:
        url = pool.live.url

        async def prepare(running: RunningPool) -> Books:
            return await prepare_books(running, url)

        yield pool, pool.call(prepare, timeout=240)


@pytest.fixture
def paid(money: tuple[PoolThread, Books], browser: Any) -> tuple[PoolThread, Books]:
    browser.get_log("browser")  # start each test with an empty console
    browser.get_log("performance")  # and an empty network log
    return money


def coins(atomic: int, config: dict[str, Any]) -> str:
    """As the page writes an amount (format.js `coins`), exactly: decimal arithmetic, no float."""
    places = int(config["decimal_places"])
    return f"{Decimal(atomic).scaleb(-places):.{places}f} {config['symbol']}"


def when(ms: int) -> str:
    """As the page writes a time (format.js `dateTime`, UTC)."""
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def rows(browser: Any, card_title: str) -> list[list[dict[str, Any]]]:
    found: list[list[dict[str, Any]]] = wait_until(
        f"the rows of {card_title!r}", lambda: browser.execute_script(ROWS_SCRIPT, card_title)
    )
    return found


def stat(browser: Any, label: str) -> str:
    return str(browser.execute_script(STAT_SCRIPT, label))


def tx_link(tx_hash: str) -> str:
    return TX_EXPLORER.replace("{id}", tx_hash)


def test_the_payments_page_lists_the_pools_payments(
    paid: tuple[PoolThread, Books], browser: Any, screenshots: Path
) -> None:
    pool, _ = paid
    config = api_get(pool, "/config")
    payments = api_get(pool, "/payments?limit=25")["items"]
    summary = api_get(pool, "/pool")["payments"]
    assert payments and summary["total"] >= len(payments) and summary["accounts_paid"] == 1
    open_page(browser, pool, "/payments", "payments")
    shown = rows(browser, "Pool payments")
    expected = [
        [
            when(p["time_ms"]),
            p["tx_hash"][:10],
            coins(p["amount"], config),
            coins(p["fee"], config),
            f"{p['payees']:,}",
        ]
        for p in payments
    ]
    assert [[cell["text"][:10] if i == 1 else cell["text"] for i, cell in enumerate(r)] for r in shown] == (
        expected
    )
    assert [r[1]["titles"] for r in shown] == [[p["tx_hash"]] for p in payments]
    assert [r[1]["links"] for r in shown] == [[tx_link(p["tx_hash"])] for p in payments]
    assert all(p["payees"] == 1 and p["amount"] > 0 for p in payments)  # the demo miner, every time
    assert stat(browser, "Payments sent") == f"{summary['total']:,}"
    assert stat(browser, "Miners paid") == "1"
    assert stat(browser, "Total paid") == coins(summary["paid_total"], config)
    assert_no_script_ran(browser)
    assert_only_the_pool_was_asked(browser, pool)
    shot(browser, screenshots, "payments-paid")


def test_a_miners_page_shows_its_payments_and_the_payout_proof(
    paid: tuple[PoolThread, Books], browser: Any, screenshots: Path
) -> None:
    pool, books = paid
    config = api_get(pool, "/config")
    address = quote(books.miner)
    miner = api_get(pool, f"/miners/{address}")
    payments = api_get(pool, f"/miners/{address}/payments?limit=25")["items"]
    credits = api_get(pool, f"/miners/{address}/credits?limit=25")["items"]
    assert payments and credits
    assert miner["money"]["pending"] == HELD_SENT + HELD_UNSENT  # held for the operator
    open_page(browser, pool, f"/miner/{address}", "miner")
    wait_until("the balance", lambda: stat(browser, "Pending balance") != "None")
    assert stat(browser, "Pending balance") == coins(miner["money"]["balance"], config)
    assert stat(browser, "In a payment being sent") == coins(miner["money"]["pending"], config)
    assert stat(browser, "Total paid") == coins(miner["money"]["paid"], config)
    assert miner["money"]["paid"] == sum(p["amount"] for p in payments)  # every payment is listed

    shown = rows(browser, "Payments")
    assert [[r[0]["text"], r[2]["text"], r[3]["text"]] for r in shown] == [
        [when(p["time_ms"]), coins(p["amount"], config), coins(p["fee"], config)] for p in payments
    ]
    assert [r[1]["titles"] for r in shown] == [[p["tx_hash"]] for p in payments]

    shown = rows(browser, "Credits by block (payout proof)")
    assert [[r[1]["text"], r[2]["text"], r[3]["text"], r[4]["text"]] for r in shown] == [
        [c["scheme"].upper(), coins(c["amount"], config), when(c["time_ms"]), f"block {c['height']}"]
        for c in credits
    ]
    assert [r[0]["titles"] for r in shown] == [[c["hash"]] for c in credits]
    assert [r[4]["links"] for r in shown] == [[f"#/block/{c['height']}/{c['hash']}"] for c in credits]
    assert_no_script_ran(browser)
    assert_only_the_pool_was_asked(browser, pool)
    shot(browser, screenshots, "worker-payments")

    # The oldest credit is paid (payments pay the oldest credits first): follow its proof link.
    oldest = credits[-1]
    proof = api_get(pool, f"/blocks/{oldest['height']}/{oldest['hash']}/credits")["items"]
    mine = next(item for item in proof if item["address"] == books.miner)
    assert (
        mine["paid"]
        and sum(p["amount"] for p in mine["paid"]) + mine["unpaid"] + mine["unknown"] == (mine["amount"])
    )
    assert {p["tx_hash"] for p in mine["paid"]} <= {p["tx_hash"] for p in payments}
    browser.execute_script(
        "[...document.querySelectorAll('a')].find((a) => a.getAttribute('href') === arguments[0]).click();",
        f"#/block/{oldest['height']}/{oldest['hash']}",
    )
    wait_until("the block's page", lambda: f"Block {oldest['height']:,}" in text_of(browser, "h1"))
    shown = rows(browser, "Payout proof: who was credited, and which payments paid it")
    assert len(shown) == len(proof)
    for row, item in zip(shown, proof, strict=True):
        address_cell, credited, unpaid, paid_by, older = row
        assert address_cell["links"] == [f"#/miner/{quote(item['address'], safe='')}"]
        assert credited["text"] == coins(item["amount"], config)
        assert unpaid["text"] == coins(item["unpaid"], config)
        assert paid_by["titles"] == [p["tx_hash"] for p in item["paid"]]
        assert paid_by["links"] == [tx_link(p["tx_hash"]) for p in item["paid"]]
        for p in item["paid"]:
            assert coins(p["amount"], config) in paid_by["text"]
        assert older["text"] == (coins(item["unknown"], config) if item["unknown"] else NONE)
    assert f"Block {oldest['height']:,}" in text_of(browser, "h1")
    assert BLOCK_EXPLORER.replace("{id}", oldest["hash"]) in browser.execute_script(
        "return [...document.querySelectorAll('a')].map((a) => a.href);"
    )
    assert_no_script_ran(browser)
    assert_only_the_pool_was_asked(browser, pool)
    shot(browser, screenshots, "payout-proof")


def test_the_admin_resolves_held_batches_on_the_page(
    paid: tuple[PoolThread, Books], browser: Any, screenshots: Path
) -> None:
    pool, books = paid
    config = api_get(pool, "/config")
    open_page(browser, pool, "/admin", "admin")
    browser.find_element("id", "admin-secret").send_keys(ADMIN_SECRET)
    browser.find_element("css selector", "#admin-login button").click()
    wait_until("the held batches", lambda: len(browser.find_elements("css selector", ".batch")) == 2)
    sent, unsent = batch_box(browser, books.sent_batch), batch_box(browser, books.unsent_batch)
    assert SENT_REASON in sent.text and coins(HELD_SENT, config) in sent.text
    assert UNSENT_REASON in unsent.text and coins(HELD_UNSENT, config) in unsent.text
    shot(browser, screenshots, "admin-review")

    # A transaction the wallet does not know is refused; the one it sent settles the batch.
    tx_field = sent.find_element("css selector", "input[placeholder^='transaction hash']")
    tx_field.send_keys("00" * 32)
    button(sent, "Record as paid").click()
    refusal = wait_until("the refusal", lambda: sent.find_element("css selector", ".error").text)
    assert "no outgoing transfer" in refusal
    tx_field.clear()
    tx_field.send_keys(books.sent_tx)
    button(sent, "Record as paid").click()
    wait_until("the first decision", lambda: sent.find_elements("css selector", ".success"))
    button(unsent, "Not sent: return to balances").click()
    wait_until("the second decision", lambda: unsent.find_elements("css selector", ".success"))
    assert_no_script_ran(browser)
    assert_only_the_pool_was_asked(browser, pool)
    shot(browser, screenshots, "admin-review-resolved")

    async def states(running: RunningPool) -> dict[str, Any]:
        store = payment_store(running)
        return {b: await store.get_batch(b) for b in (books.sent_batch, books.unsent_batch)}

    batches = pool.call(states)
    sent_record, unsent_record = batches[books.sent_batch], batches[books.unsent_batch]
    assert sent_record.state is BatchState.FINALIZED and sent_record.tx_hash == books.sent_tx
    assert sent_record.found_by == "operator"
    assert unsent_record.state is BatchState.RELEASED
    listed = {
        p["tx_hash"]: p for p in api_get(pool, f"/miners/{quote(books.miner)}/payments?limit=100")["items"]
    }
    assert listed[books.sent_tx]["amount"] == HELD_SENT
    # The page, opened again, has nothing left to decide.
    open_page(browser, pool, "/top", "top")
    open_page(browser, pool, "/admin", "admin")
    wait_until("the empty review list", lambda: browser.find_elements("id", "review-empty"))


def batch_box(browser: Any, batch_id: str) -> Any:
    return wait_until(
        f"batch {batch_id}",
        lambda: browser.execute_script(
            "return [...document.querySelectorAll('.batch')]"
            ".find((b) => b.querySelector('h3').textContent === 'Batch ' + arguments[0]);",
            batch_id,
        ),
    )


def button(box: Any, label: str) -> Any:
    return box.find_element("xpath", f".//button[text()='{label}']")
