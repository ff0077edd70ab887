// The public pages. Every value from the API is inserted as text (see dom.js).
import { api, address as enc, query } from "./api.js";
import { h, clear, card, stat, table, errorBox } from "./dom.js";
import { lineChart } from "./chart.js";
import * as fmt from "./format.js";
import { state, explorerLink } from "./state.js";

const ADDRESS_KEY = "athena-pool-address";

function points(series, scale = 1) {
  return (series || []).map((p) => [p[0], p[1] * scale]);
}

function blockStatus(b) {
  if (b.status === "unlocked") return h("span", { class: "badge ok" }, "unlocked");
  if (b.status === "orphaned") return h("span", { class: "badge bad" }, "orphaned");
  return h("span", { class: "badge wait" }, b.confirmations_left > 0 ? `${b.confirmations_left} to go` : "unlocking");
}

function effortCell(effort) {
  if (effort === null || effort === undefined) return "–";
  return h("span", { class: effort <= 1 ? "good" : "poor" }, fmt.percent(effort, 0));
}

function loadMore(container, fetchPage, renderRows, headers, empty) {
  // A table with a "Load more" button following next_cursor.
  const body = h("tbody");
  const wrap = h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))), body));
  const more = h("button", { class: "secondary" }, "Load more");
  const note = h("p", { class: "muted" });
  let cursor = null;
  async function next() {
    more.disabled = true;
    const page = await fetchPage(cursor);
    for (const cells of renderRows(page.items)) body.append(h("tr", {}, cells.map((c) => h("td", {}, c))));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    more.disabled = false;
    note.textContent = body.children.length ? "" : empty;
  }
  more.addEventListener("click", () => next().catch((e) => container.append(errorBox(e.message))));
  container.append(wrap, note, more);
  return next();
}

// ---------------------------------------------------------------- dashboard
export async function dashboard(view) {
  const cfg = state.cfg;
  const stats = h("div");
  const charts = h("div");
  view.append(h("h1", {}, `${cfg.coin} mining pool`), stats, charts);
  async function refresh() {
    const [pool, network, chartData] = await Promise.all([
      api.get("/pool"),
      api.get("/network").catch(() => null),
      api.get("/charts/pool"),
    ]);
    clear(stats).append(
      h(
        "div",
        { class: "grid" },
        card(
          "Network",
          h(
            "div",
            { class: "stats" },
            stat("Height", network ? fmt.integer(network.height) : "–", "network-height"),
            stat("Difficulty", network ? fmt.bigNumber(network.difficulty) : "–", "network-difficulty"),
            stat("Hashrate", network ? fmt.hashrate(network.hashrate) : "–", "network-hashrate"),
            stat("Last block", network ? fmt.ago(network.last_block_time_s * 1000) : "–"),
            stat("Block time", fmt.duration(cfg.block_target_s))
          )
        ),
        card(
          "Pool",
          h(
            "div",
            { class: "stats" },
            stat("Hashrate", fmt.hashrate(pool.hashrate.total), "pool-hashrate"),
            stat("Solo hashrate", fmt.hashrate(pool.hashrate.solo)),
            stat("Miners", fmt.integer(pool.miners.total), "pool-miners"),
            stat("Workers", fmt.integer(pool.workers.prop + pool.workers.solo), "pool-workers"),
            stat("Blocks found", fmt.integer(pool.blocks.found_prop + pool.blocks.found_solo), "pool-blocks"),
            stat("Last block found", fmt.ago(pool.blocks.last_found_ms.prop || pool.blocks.last_found_ms.solo)),
            stat("Current effort", fmt.percent(pool.round.effort, 1), "round-effort"),
            stat("Average effort", fmt.percent(pool.luck.effort, 1)),
            stat("Connections", fmt.integer(pool.connections))
          )
        ),
        card(
          "Payouts",
          h(
            "div",
            { class: "stats" },
            stat("Pool fee", `${cfg.fees.pool_percent} %`),
            stat("Solo fee", `${cfg.fees.solo_percent} %`),
            stat("Scheme", String(cfg.payments.scheme).toUpperCase()),
            stat("Payment interval", fmt.duration(cfg.payments.interval_s)),
            stat("Minimum payout", fmt.coins(cfg.payments.min_threshold, cfg)),
            stat("Default payout", fmt.coins(cfg.payments.default_threshold, cfg)),
            stat("Unlock depth", `${cfg.unlock_depth} blocks`),
            stat("Paid to miners", fmt.coins(pool.payments.paid_total, cfg))
          )
        )
      )
    );
    const s = chartData.series;
    clear(charts).append(
      card("Pool hashrate", lineChart([{ name: "pool", points: points(s.hashrate) }, { name: "solo", points: points(s.hashrate_solo) }], { format: fmt.hashrate })),
      h(
        "div",
        { class: "grid two" },
        card("Miners and workers", lineChart([{ name: "miners", points: points(s.miners) }, { name: "workers", points: points(s.workers) }], { format: (v) => fmt.bigNumber(v) })),
        card("Network difficulty", lineChart([{ name: "difficulty", points: points(s.difficulty) }], { format: fmt.bigNumber }))
      )
    );
  }
  await refresh();
  return refresh;
}

// ---------------------------------------------------------------- getting started
export async function start(view) {
  const cfg = state.cfg;
  const ports = (await api.get("/ports")).items;
  const login = cfg.login || {};
  view.append(
    h("h1", {}, "Getting started"),
    card(
      "Connect",
      h("p", {}, "Pool host: ", h("code", { "data-field": "pool-host" }, cfg.poolHost), ` · algorithm `, h("code", {}, cfg.algorithm)),
      table(
        ["Port", "Starting difficulty", "Description", "Difficulty", "TLS", "Miners"],
        ports.map((p) => [h("code", {}, String(p.port)), fmt.integer(p.difficulty), p.description || "", p.fixed_difficulty ? "fixed" : "variable", p.tls ? "yes" : "no", fmt.integer(p.connections)]),
        "This pool lists no public port."
      )
    ),
    card(
      "Login",
      h("ul", {},
        h("li", {}, "Username: your wallet address. ",
          login.payment_ids_allowed ? h("span", {}, "An exchange payment id follows a ", h("code", {}, login.payment_id_separator || "."), ": ", h("code", {}, "ADDRESS.PAYMENTID"), ". ") : null),
        h("li", {}, "A fixed difficulty: ", h("code", {}, `ADDRESS${login.fixed_difficulty_separator || "+"}50000`), "."),
        h("li", {}, "Solo mining: ", h("code", {}, `${login.solo_prefix || "solo:"}ADDRESS`), "."),
        h("li", {}, "Password or rig id: your worker's name, shown on your stats page.")
      )
    )
  );

  const addr = h("input", { id: "gen-address", placeholder: "your wallet address", spellcheck: "false", value: localStorage.getItem(ADDRESS_KEY) || "" });
  const worker = h("input", { id: "gen-worker", placeholder: "worker name", value: "rig1", maxlength: 64 });
  const portSel = h("select", { id: "gen-port" }, ports.map((p) => h("option", { value: String(p.port) }, `${p.port} (difficulty ${p.difficulty}${p.tls ? ", TLS" : ""})`)));
  const threads = h("input", { id: "gen-threads", type: "number", min: 0, max: 256, placeholder: "auto" });
  const cmd = h("pre", { id: "gen-cmdline", class: "code" });
  const json = h("pre", { id: "gen-config", class: "code" });
  function update() {
    const a = addr.value.trim() || "YOUR_ADDRESS";
    const port = Number(portSel.value) || (ports[0] && ports[0].port) || 3333;
    const p = ports.find((x) => x.port === port) || {};
    const w = worker.value.trim() || "x";
    const url = `${cfg.poolHost}:${port}`;
    const t = Number(threads.value);
    cmd.textContent = ["xmrig", "-o", url, "-a", cfg.algorithm, "-u", a, "-p", w, p.tls ? "--tls" : null, t > 0 ? `-t ${t}` : null, "-k"].filter(Boolean).join(" ");
    const conf = {
      autosave: true,
      cpu: t > 0 ? { enabled: true, "max-threads-hint": 100, rx: undefined } : { enabled: true },
      pools: [{ algo: cfg.algorithm, coin: null, url, user: a, pass: w, "rig-id": w, keepalive: true, tls: !!p.tls, nicehash: false }],
    };
    json.textContent = JSON.stringify(conf, null, 2);
  }
  [addr, worker, portSel, threads].forEach((el) => el.addEventListener("input", update));
  update();
  const copy = (node) => h("button", { class: "secondary", onclick: () => navigator.clipboard && navigator.clipboard.writeText(node.textContent) }, "Copy");
  view.append(
    card(
      "xmrig configuration",
      h("div", { class: "form" },
        h("label", {}, "Wallet address", addr),
        h("label", {}, "Worker name", worker),
        h("label", {}, "Port", portSel),
        h("label", {}, "CPU threads", threads)),
      h("h3", {}, "Command line"), cmd, copy(cmd),
      h("h3", {}, "config.json"), json, copy(json)
    )
  );
}

// ---------------------------------------------------------------- blocks
export async function blocks(view) {
  const cfg = state.cfg;
  const [pool, chartData] = await Promise.all([api.get("/pool"), api.get("/charts/pool")]);
  const s = chartData.series;
  const per = fmt.duration(chartData.step_s);
  view.append(
    h("h1", {}, "Blocks found"),
    card(
      null,
      h("div", { class: "stats" },
        stat("Blocks found", fmt.integer(pool.blocks.found_prop + pool.blocks.found_solo)),
        stat("Waiting to unlock", fmt.integer(pool.blocks.candidates)),
        stat("Matured", fmt.integer(pool.blocks.matured)),
        stat("Average effort", fmt.percent(pool.luck.effort, 1)),
        stat("Current effort", fmt.percent(pool.round.effort, 1)),
        stat("Unlock depth", `${cfg.unlock_depth} blocks`))
    ),
    card(`Blocks found per ${per}`, h("div", { id: "blocks-chart" },
      lineChart([{ name: "pool", points: points(s.blocks) }, { name: "solo", points: points(s.blocks_solo) }], { format: (v) => (v >= 10 ? String(Math.round(v)) : Number(v).toFixed(1)) })))
  );
  const list = card("Blocks");
  view.append(list);
  await loadMore(
    list,
    (cursor) => api.get(`/blocks${query({ limit: 25, cursor })}`),
    (items) =>
      items.map((b) => [
        fmt.dateTime(b.time_ms),
        h("a", { href: `#/block/${b.height}/${b.hash}` }, fmt.integer(b.height)),
        explorerLink("block", b.hash),
        b.reward_type === "solo" ? "solo" : String(b.scheme || "pool").toUpperCase(),
        fmt.bigNumber(b.network_difficulty),
        effortCell(b.effort),
        b.reward === null ? "–" : fmt.coins(b.reward, cfg),
        h("span", { title: b.finder }, fmt.shortAddress(b.finder)),
        blockStatus(b),
      ]),
    ["Found", "Height", "Hash", "Type", "Difficulty", "Effort", "Reward", "Finder", "Status"],
    "No block found yet."
  );
}

// ---------------------------------------------------------------- one block: the payout proof
export async function block(view, height, hash) {
  const cfg = state.cfg;
  const b = await api.get(`/blocks/${encodeURIComponent(height)}/${encodeURIComponent(hash)}`);
  view.append(
    h("h1", {}, `Block ${fmt.integer(b.height)}`),
    card(
      null,
      h("div", { class: "stats" },
        stat("Status", blockStatus(b)),
        stat("Found", fmt.dateTime(b.time_ms)),
        stat("Reward", b.reward === null ? "–" : fmt.coins(b.reward, cfg)),
        stat("Pool fee", b.pool_fee === null ? "–" : fmt.coins(b.pool_fee, cfg)),
        stat("Credited", fmt.coins(b.credits_total, cfg)),
        stat("Accounts credited", fmt.integer(b.credited_accounts)),
        stat("Effort", effortCell(b.effort)),
        stat("Worker", b.finder_worker || "–")),
      h("p", {}, "Hash: ", explorerLink("block", b.hash))
    )
  );
  const proof = card("Payout proof: who was credited, and which payments paid it");
  view.append(proof);
  await loadMore(
    proof,
    (cursor) => api.get(`/blocks/${encodeURIComponent(height)}/${encodeURIComponent(hash)}/credits${query({ cursor })}`),
    (items) =>
      items.map((c) => [
        h("a", { href: `#/miner/${encodeURIComponent(c.address)}` }, fmt.shortAddress(c.address)),
        fmt.coins(c.amount, cfg),
        fmt.coins(c.unpaid, cfg),
        c.paid.length ? h("div", {}, c.paid.map((p) => h("div", {}, explorerLink("tx", p.tx_hash), ` ${fmt.coins(p.amount, cfg)}`))) : "–",
        c.unknown ? fmt.coins(c.unknown, cfg) : "–",
      ]),
    ["Address", "Credited", "Not paid yet", "Paid by", "Older than history"],
    "Nothing credited yet: the block has not unlocked."
  );
}

// ---------------------------------------------------------------- payments
export async function payments(view) {
  const cfg = state.cfg;
  const pool = await api.get("/pool");
  view.append(
    h("h1", {}, "Payments"),
    card(
      null,
      h("div", { class: "stats" },
        stat("Payments sent", fmt.integer(pool.payments.total)),
        stat("Miners paid", fmt.integer(pool.payments.accounts_paid)),
        stat("Total paid", fmt.coins(pool.payments.paid_total, cfg)),
        stat("Minimum payout", fmt.coins(cfg.payments.min_threshold, cfg)),
        stat("Interval", fmt.duration(cfg.payments.interval_s)),
        stat("Denomination", fmt.coins(cfg.payments.denomination, cfg)))
    )
  );
  const list = card("Pool payments");
  view.append(list);
  await loadMore(
    list,
    (cursor) => api.get(`/payments${query({ limit: 25, cursor })}`),
    (items) => items.map((p) => [fmt.dateTime(p.time_ms), explorerLink("tx", p.tx_hash), fmt.coins(p.amount, cfg), fmt.coins(p.fee, cfg), fmt.integer(p.payees)]),
    ["Sent", "Transaction", "Amount", "Fee", "Payees"],
    "No payment sent yet."
  );
}

// ---------------------------------------------------------------- worker stats
export async function miner(view, given) {
  const cfg = state.cfg;
  const input = h("input", { id: "miner-address", placeholder: "your wallet address", spellcheck: "false", value: given || localStorage.getItem(ADDRESS_KEY) || "" });
  const form = h(
    "form",
    { class: "inline-form", onsubmit: (e) => { e.preventDefault(); const a = input.value.trim(); if (a) window.location.hash = `#/miner/${encodeURIComponent(a)}`; } },
    input,
    h("button", { type: "submit" }, "Look up")
  );
  view.append(h("h1", {}, "Your stats"), form);
  if (!given) {
    if (input.value) window.location.hash = `#/miner/${encodeURIComponent(input.value)}`;
    return null;
  }
  const account = given.trim();
  const body = h("div");
  view.append(body);
  async function refresh() {
    let m;
    try {
      m = await api.get(`/miners/${enc(account)}`);
    } catch (e) {
      clear(body).append(errorBox(e.status === 404 ? "This address has not mined on this pool yet." : e.message));
      return;
    }
    localStorage.setItem(ADDRESS_KEY, account);
    const [workers, chart, pays, credits] = await Promise.all([
      api.get(`/miners/${enc(account)}/workers?limit=100`),
      api.get(`/miners/${enc(account)}/chart`),
      api.get(`/miners/${enc(account)}/payments?limit=25`),
      api.get(`/miners/${enc(account)}/credits?limit=25`),
    ]);
    clear(body).append(
      h("p", { class: "address" }, h("code", { "data-field": "address" }, account)),
      h(
        "div",
        { class: "grid" },
        card("Hashrate", h("div", { class: "stats" },
          stat("Current", fmt.hashrate(m.hashrate.current), "miner-hashrate"),
          stat("1 hour", fmt.hashrate(m.hashrate["1h"])),
          stat("6 hours", fmt.hashrate(m.hashrate["6h"])),
          stat("24 hours", fmt.hashrate(m.hashrate["24h"])),
          stat("Last share", fmt.ago(m.activity.last_share_ms)),
          stat("Total hashes", fmt.bigNumber(m.activity.hashes)),
          stat("Workers online", `${m.workers.online} / ${m.workers.total}`),
          stat("Round shares", fmt.bigNumber(m.round.prop + m.round.solo)))),
        card("Balance", h("div", { class: "stats" },
          stat("Pending balance", fmt.coins(m.money.balance, cfg), "miner-balance"),
          stat("In a payment being sent", fmt.coins(m.money.pending, cfg)),
          stat("Total paid", fmt.coins(m.money.paid, cfg), "miner-paid"),
          stat("Fees paid", fmt.coins(m.money.fees_charged, cfg)),
          stat("Payout threshold", fmt.coins(m.money.payout_threshold, cfg))),
          h("p", {}, h("a", { href: `#/settings/${encodeURIComponent(account)}` }, "Change the payout threshold")))
      ),
      card("Hashrate history", lineChart([{ name: "hashrate", points: points(chart.hashrate) }], { format: fmt.hashrate })),
      card(
        "Workers",
        table(
          ["Worker", "Status", "Hashrate", "1 h", "6 h", "24 h", "Last share", "Hashes", "Valid / invalid shares"],
          workers.items.map((w) => [
            h("span", { class: "worker-name" }, w.name),
            w.hashrate > 0 ? h("span", { class: "badge ok" }, "online") : h("span", { class: "badge bad" }, "offline"),
            fmt.hashrate(w.hashrate),
            fmt.hashrate(w.hashrate_1h),
            w.hashrate_6h === null ? "–" : fmt.hashrate(w.hashrate_6h),
            w.hashrate_24h === null ? "–" : fmt.hashrate(w.hashrate_24h),
            fmt.ago(w.last_share_ms),
            fmt.bigNumber(w.hashes),
            `${fmt.integer(w.shares.valid || 0)} / ${fmt.integer((w.shares.invalid || 0) + (w.shares.low_diff || 0))}`,
          ]),
          "No worker yet."
        )
      ),
      card("Payments", chart.payments.length ? lineChart([{ name: "paid", points: chart.payments.map((p) => [p[0] / 1000, p[1] / (cfg.atomic_units_per_coin || 1)]) }], { format: (v) => `${v.toFixed(cfg.decimal_places)}` }) : null,
        table(["Sent", "Transaction", "Amount", "Fee"], pays.items.map((p) => [fmt.dateTime(p.time_ms), explorerLink("tx", p.tx_hash), fmt.coins(p.amount, cfg), fmt.coins(p.fee, cfg)]), "No payment yet.")),
      card("Credits by block (payout proof)",
        table(["Block", "Scheme", "Credited", "When", "Proof"], credits.items.map((c) => [
          explorerLink("block", c.hash), String(c.scheme).toUpperCase(), fmt.coins(c.amount, cfg), fmt.dateTime(c.time_ms),
          h("a", { href: `#/block/${c.height}/${c.hash}` }, `block ${c.height}`),
        ]), "No block has credited this address yet."))
    );
  }
  await refresh();
  return refresh;
}

// ---------------------------------------------------------------- top miners
export async function top(view) {
  const list = await api.get("/miners?limit=10");
  view.append(
    h("h1", {}, "Top miners"),
    card(null, table(["#", "Miner", "Hashrate", "Workers"], list.items.map((m) => [String(m.rank), h("code", {}, m.miner), fmt.hashrate(m.hashrate), fmt.integer(m.workers)]), "No miner is active."))
  );
}

// ---------------------------------------------------------------- settings (payout threshold, with a proof of ownership)
export async function settings(view, given) {
  const cfg = state.cfg;
  const addr = h("input", { id: "settings-address", placeholder: "your wallet address", spellcheck: "false", value: given || localStorage.getItem(ADDRESS_KEY) || "" });
  const level = h("input", { id: "settings-threshold", type: "number", step: "any", min: 0 });
  const current = h("div", { id: "settings-current" });
  const step2 = h("div", { id: "settings-step2" });
  const result = h("div", { id: "settings-result" });
  async function showCurrent() {
    const a = addr.value.trim();
    if (!a) return;
    try {
      const s = await api.get(`/miners/${enc(a)}/settings`);
      clear(current).append(
        h("p", {}, "Current payout threshold: ", h("b", {}, fmt.coins(s.payout_threshold, cfg)),
          s.payout_threshold_own === null ? " (the pool's default)" : " (your own)",
          `. Allowed: at least ${fmt.coins(s.payout_threshold_min, cfg)}`,
          s.payout_threshold_max === null ? "." : `, at most ${fmt.coins(s.payout_threshold_max, cfg)}.`)
      );
      if (!level.value) level.value = String(s.payout_threshold / cfg.atomic_units_per_coin);
    } catch (e) {
      clear(current).append(errorBox(e.message));
    }
  }
  async function ask(e) {
    e.preventDefault();
    clear(step2);
    clear(result);
    const a = addr.value.trim();
    const atomic = Math.round(Number(level.value) * cfg.atomic_units_per_coin);
    try {
      const ch = await api.post(`/miners/${enc(a)}/settings/challenge`, { payout_threshold: atomic });
      const sig = h("input", { id: "settings-signature", placeholder: "signature (SigV1… / SigV2…)", spellcheck: "false" });
      step2.append(
        h("h3", {}, "2. Sign this message with your wallet"),
        h("textarea", { id: "settings-message", readonly: true, rows: 3 }, ch.message),
        h("p", { class: "muted" }, cfg.ownership_proof || ""),
        h("p", { class: "muted" }, `The message is valid until ${fmt.dateTime(ch.expires_at * 1000)} UTC.`),
        h("form", { class: "inline-form", onsubmit: async (ev) => {
          ev.preventDefault();
          clear(result);
          try {
            await api.post(`/miners/${enc(a)}/settings`, { challenge: ch.challenge, signature: sig.value.trim() });
            result.append(h("div", { class: "success" }, "Saved: your payout threshold is changed."));
            showCurrent();
          } catch (err) {
            result.append(errorBox(err.message));
          }
        } }, sig, h("button", { type: "submit" }, "Apply"))
      );
    } catch (err) {
      step2.append(errorBox(err.message));
    }
  }
  addr.addEventListener("change", showCurrent);
  view.append(
    h("h1", {}, "Settings"),
    card(
      "Payout threshold",
      h("p", {}, "Only the owner of an address can change its settings: the pool asks you to sign a message with the address's keys. Knowing or mining to an address is not enough."),
      h("form", { class: "form", onsubmit: ask },
        h("label", {}, "Wallet address", addr),
        h("label", {}, `Payout threshold (${cfg.symbol})`, level),
        h("button", { type: "submit" }, "1. Get the message to sign")),
      current, step2, result
    )
  );
  await showCurrent();
}

export const pages = { dashboard, start, blocks, block, payments, miner, top, settings };
