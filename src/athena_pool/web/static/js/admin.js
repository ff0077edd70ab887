// The operator's pages, behind POST /api/v1/admin/login (a session cookie, HttpOnly; the CSRF token is kept
// in sessionStorage for the requests that change something). The secret itself is never stored.
import { api, query } from "./api.js";
import { h, clear, card, stat, table, errorBox } from "./dom.js";
import * as fmt from "./format.js";
import { state, explorerLink } from "./state.js";

const CSRF_KEY = "athena-pool-admin-csrf";
const A = { admin: true };

function csrf() {
  return sessionStorage.getItem(CSRF_KEY);
}

function loginForm(view, message) {
  const secret = h("input", { id: "admin-secret", type: "password", autocomplete: "current-password", placeholder: "admin secret" });
  const out = h("div");
  if (message) out.append(errorBox(message));
  view.append(
    h("h1", {}, "Pool administration"),
    card(
      "Log in",
      h("form", { id: "admin-login", class: "inline-form", onsubmit: async (e) => {
        e.preventDefault();
        clear(out);
        try {
          const r = await api.post("/admin/login", { secret: secret.value }, A);
          sessionStorage.setItem(CSRF_KEY, r.csrf_token);
          secret.value = "";
          window.dispatchEvent(new HashChangeEvent("hashchange"));
        } catch (err) {
          out.append(errorBox(err.message));
        }
      } }, secret, h("button", { type: "submit" }, "Log in")),
      out
    )
  );
}

function serviceRow(name, s) {
  const ok = s && s.ok;
  return [name, h("span", { class: `badge ${ok ? "ok" : "bad"}` }, ok ? "ok" : "down"), s && s.checked_ms ? fmt.ago(s.checked_ms) : "–", s && (s.error || s.detail) ? String(s.error || s.detail) : ""];
}

export async function adminPage(view) {
  let stats;
  try {
    stats = await api.get("/admin/stats", A);
  } catch (e) {
    if (e.status === 401) return loginForm(view, null);
    if (e.status === 503 || e.status === 429) return loginForm(view, e.message);
    throw e;
  }
  const cfg = state.cfg;
  const [health, ports, miners, bans, review, logs] = await Promise.all([
    api.get("/admin/health", A),
    api.get("/admin/ports", A),
    api.get("/admin/miners?limit=50", A),
    api.get("/admin/bans", A),
    api.get("/admin/payments/review", A),
    api.get("/admin/logs?limit=50&level=INFO", A),
  ]);
  const logout = h("button", { class: "secondary", id: "admin-logout", onclick: async () => {
    try { await api.post("/admin/logout", {}, { ...A, csrf: csrf() }); } catch (e) { /* the session may be gone already */ }
    sessionStorage.removeItem(CSRF_KEY);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } }, "Log out");

  view.append(
    h("div", { class: "title-row" }, h("h1", {}, "Pool administration"), logout),
    card("Statistics", h("div", { class: "stats", id: "admin-stats" },
      stat("Owed to miners", fmt.coins(stats.owed, cfg)),
      stat("Reserved in batches", fmt.coins(stats.reserved_in_batches, cfg)),
      stat("Paid", fmt.coins(stats.payouts.paid, cfg)),
      stat("Network fees", fmt.coins(stats.payouts.network_fees, cfg)),
      stat("Rewards", fmt.coins(stats.ledger.rewards_total, cfg)),
      stat("Pool fees", fmt.coins(stats.ledger.fees_total, cfg)),
      stat("Blocks unlocked", fmt.integer(stats.ledger.blocks_unlocked)),
      stat("Blocks orphaned", fmt.integer(stats.ledger.blocks_orphaned)),
      stat("Candidates", fmt.integer(stats.blocks.candidates)),
      stat("Miners active / known", `${fmt.integer(stats.miners.active)} / ${fmt.integer(stats.miners.known)}`),
      stat("Hashrate", fmt.hashrate(stats.hashrate)),
      stat("Connections", fmt.integer(stats.connections)),
      stat("Stratum instances", fmt.integer(stats.stratum_instances)))),
    card("Monitoring",
      table(["Service", "State", "Checked", "Detail"], [
        ["redis", h("span", { class: `badge ${health.redis.ok ? "ok" : "bad"}` }, health.redis.ok ? "ok" : "down"), `${health.redis.latency_ms} ms`, ""],
        ...Object.entries(health.services || {}).map(([n, s]) => serviceRow(n, s)),
      ]),
      h("p", { class: "muted" }, `Statistics are ${health.stats_age_s === null ? "not built yet" : `${Number(health.stats_age_s).toFixed(1)} s old`}; stratum instances: ${Object.keys(health.stratum || {}).length}.`)),
    card("Ports", table(["Port", "Difficulty", "Description", "Hidden", "Fixed", "TLS", "Connections"],
      ports.items.map((p) => [String(p.port), fmt.integer(p.difficulty), p.description || "", p.hidden ? "yes" : "", p.fixed_difficulty ? "yes" : "", p.tls ? "yes" : "", fmt.integer(p.connections)]))),
    card("Payments waiting for a decision (manual review)", reviewList(review.items, cfg)),
    card("Miners", table(["Address", "Last seen", "Hashrate", "Workers", "Balance", "Pending", "Paid", "Threshold"],
      miners.items.map((m) => [
        h("a", { href: `#/miner/${encodeURIComponent(m.address)}`, title: m.address }, fmt.shortAddress(m.address)),
        fmt.ago(m.last_seen_ms), fmt.hashrate(m.hashrate), fmt.integer(m.workers), fmt.coins(m.balance, cfg), fmt.coins(m.pending, cfg), fmt.coins(m.paid, cfg),
        m.payout_threshold_own === null ? "default" : fmt.coins(m.payout_threshold_own, cfg),
      ]), "No miner yet.")),
    bansCard(bans),
    card("Recent log lines", table(["Time", "Level", "Instance", "Logger", "Message"],
      logs.items.map((l) => [fmt.dateTime(l.t), String(l.level || ""), String(l.instance || ""), String(l.logger || ""), h("span", { class: "log" }, String(l.message || ""))]), "No log line."))
  );
}

function reviewList(batches, cfg) {
  if (!batches.length) return h("p", { class: "muted", id: "review-empty" }, "No payment batch waits for a decision.");
  return h("div", {}, batches.map((b) => {
    const out = h("div");
    const tx = h("input", { placeholder: "transaction hash (if the wallet sent it)", spellcheck: "false" });
    const fee = h("input", { type: "number", min: 0, placeholder: "real fee, atomic units", value: b.fee === null ? "" : String(b.fee) });
    const reason = h("input", { placeholder: "reason", value: "" });
    async function resolve(body) {
      clear(out);
      try {
        await api.post(`/admin/payments/review/${encodeURIComponent(b.batch_id)}/resolve`, body, { ...A, csrf: csrf() });
        out.append(h("div", { class: "success" }, "Resolved."));
      } catch (e) {
        out.append(errorBox(e.status === 403 ? `${e.message} (log out and in again)` : e.message));
      }
    }
    return h("div", { class: "batch" },
      h("h3", {}, `Batch ${b.batch_id}`),
      h("p", {}, `Created ${fmt.dateTime(b.created_ms)}, attempt ${b.attempt}, total ${fmt.coins(b.total_gross, cfg)} to ${b.items.length} addresses. Reason: `, String(b.reason || "–")),
      b.tx_hash ? h("p", {}, "Transaction: ", explorerLink("tx", b.tx_hash)) : null,
      table(["Address", "Gross", "Fee charged", "Net"], b.items.map((i) => [h("span", { title: i.address }, fmt.shortAddress(i.address)), fmt.coins(i.gross, cfg), fmt.coins(i.charge, cfg), fmt.coins(i.net, cfg)])),
      h("p", { class: "muted" }, "Check the wallet first. If it sent the transaction, record it as paid; if it never left, give the amounts back to the balances."),
      h("div", { class: "inline-form" }, tx, fee, h("button", { onclick: () => resolve({ action: "paid", tx_hash: tx.value.trim(), fee: Number(fee.value) || 0 }) }, "Record as paid")),
      h("div", { class: "inline-form" }, reason, h("button", { class: "danger", onclick: () => resolve({ action: "not_sent", reason: reason.value.trim() || undefined }) }, "Not sent: return to balances")),
      out);
  }));
}

// Bans: the list with a "Lift" button per ban, and a form to ban by hand (POST /admin/bans). Every value is
// text (dom.js); after a change the list is read again from the API.
function bansCard(first) {
  const list = h("div", { id: "bans-list" });
  const out = h("div", { id: "ban-result" });
  async function change(path, body, done) {
    clear(out);
    try {
      await api.post(path, body, { ...A, csrf: csrf() });
      // The list first, then the message: once it says done, the list shows the change.
      const bans = await api.get("/admin/bans", A).catch(() => null);
      if (bans) show(bans);
      out.append(h("div", { class: "success" }, done));
    } catch (e) {
      out.append(errorBox(e.status === 403 ? `${e.message} (log out and in again)` : e.message));
    }
  }
  function show(bans) {
    clear(list).append(table(["Scope", "IP", "Address", "Worker", "Reason", "Until", "Source", ""],
      (bans.items || []).map((b) => [
        String(b.scope), String(b.ip || ""),
        b.address ? h("span", { title: b.address }, fmt.shortAddress(b.address)) : "–",
        h("span", { class: "ban-worker" }, String(b.worker || "")),
        h("span", { class: "ban-reason" }, String(b.reason || "")),
        b.until_ms ? fmt.dateTime(b.until_ms) : "–", String(b.source || ""),
        h("button", { class: "secondary", "data-ban-id": b.id, onclick: () => change(`/admin/bans/${encodeURIComponent(b.id)}/lift`, {}, "Ban lifted.") }, "Lift"),
      ]), "Nobody is banned."));
  }
  const scope = h("select", { id: "ban-scope" }, ["ip", "wallet", "worker"].map((x) => h("option", { value: x }, x)));
  const ip = h("input", { id: "ban-ip", placeholder: "IP address", spellcheck: "false" });
  const addr = h("input", { id: "ban-address", placeholder: "wallet address (wallet, worker)", spellcheck: "false" });
  const worker = h("input", { id: "ban-worker", placeholder: "worker name (worker)", maxlength: 64 });
  const minutes = h("input", { id: "ban-minutes", type: "number", min: 1, value: "60" });
  const reason = h("input", { id: "ban-reason", placeholder: "reason", maxlength: 200 });
  function ban(e) {
    e.preventDefault();
    const body = { scope: scope.value, ip: ip.value.trim(), duration_s: Math.round(Number(minutes.value) * 60) };
    if (scope.value !== "ip") body.address = addr.value.trim();
    if (scope.value === "worker") body.worker = worker.value;
    if (reason.value.trim()) body.reason = reason.value.trim();
    change("/admin/bans", body, "Banned.");
  }
  show(first);
  return card("Bans", list,
    h("h3", {}, "Ban by hand"),
    h("form", { id: "ban-form", class: "form", onsubmit: ban },
      h("label", {}, "Scope", scope), h("label", {}, "IP", ip), h("label", {}, "Wallet address", addr),
      h("label", {}, "Worker", worker), h("label", {}, "Minutes", minutes), h("label", {}, "Reason", reason),
      h("button", { type: "submit" }, "Ban")),
    out);
}
