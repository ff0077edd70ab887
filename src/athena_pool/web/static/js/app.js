// athena-pool front-end: hash routes, shared state (the pool's config), the header's live figures.
import { api } from "./api.js";
import { h, clear, errorBox, safeUrl } from "./dom.js";
import * as fmt from "./format.js";
import { pages } from "./pages.js";
import { adminPage } from "./admin.js";
import { state } from "./state.js";

const LOCAL = window.ATHENA_POOL_CONFIG || {};

async function loadConfig() {
  const c = await api.get("/config");
  state.cfg = {
    ...c,
    coin: LOCAL.coinName || c.coin,
    symbol: LOCAL.symbol || c.symbol,
    poolHost: LOCAL.poolHost || c.pool_host || window.location.hostname,
    blockExplorer: LOCAL.blockExplorer || (c.explorers && c.explorers.block) || "",
    transactionExplorer: LOCAL.transactionExplorer || (c.explorers && c.explorers.transaction) || "",
    links: [...(c.links || []), ...(LOCAL.links || [])],
  };
}

const ROUTES = [
  { re: /^\/?$/, page: pages.dashboard, nav: "dashboard" },
  { re: /^\/start$/, page: pages.start, nav: "start" },
  { re: /^\/blocks$/, page: pages.blocks, nav: "blocks" },
  { re: /^\/block\/(\d+)\/([0-9a-fA-F]{64})$/, page: pages.block, nav: "blocks" },
  { re: /^\/payments$/, page: pages.payments, nav: "payments" },
  { re: /^\/miner(?:\/(.*))?$/, page: pages.miner, nav: "miner" },
  { re: /^\/top$/, page: pages.top, nav: "top" },
  { re: /^\/settings(?:\/(.*))?$/, page: pages.settings, nav: "settings" },
  { re: /^\/admin$/, page: adminPage, nav: "admin" },
];

let timer = null;
let generation = 0;

// A page's `refresh` (if any) is called every refreshSeconds while it is shown.
async function route() {
  const path = decodeURIComponent(window.location.hash.replace(/^#/, "")) || "/";
  const match = ROUTES.map((r) => [r, path.match(r.re)]).find(([, m]) => m);
  const main = clear(document.getElementById("app"));
  if (timer) clearInterval(timer);
  timer = null;
  const mine = ++generation;
  document.querySelectorAll("nav a[data-nav]").forEach((a) => a.classList.toggle("active", !!match && a.dataset.nav === match[0].nav));
  if (!match) {
    main.appendChild(errorBox("No such page."));
    return;
  }
  const [r, m] = match;
  const view = h("div", { class: "page", "data-page": r.nav });
  main.appendChild(view);
  try {
    const refresh = await r.page(view, ...m.slice(1).map((x) => x || ""));
    if (typeof refresh === "function" && mine === generation) {
      timer = setInterval(() => {
        if (mine === generation) refresh().catch(() => {});
      }, Math.max(2, Number(LOCAL.refreshSeconds) || 10) * 1000);
    }
  } catch (e) {
    view.appendChild(errorBox(`Could not load this page: ${e.message}`));
  }
  view.setAttribute("data-loaded", "true");
}

async function header() {
  const box = document.getElementById("live");
  try {
    const [pool, network] = await Promise.all([api.get("/pool"), api.get("/network").catch(() => null)]);
    clear(box).append(
      h("span", {}, "Pool ", h("b", { "data-live": "pool-hashrate" }, fmt.hashrate(pool.hashrate.total))),
      h("span", {}, "Miners ", h("b", {}, fmt.integer(pool.miners.total))),
      network ? h("span", {}, "Network ", h("b", {}, fmt.hashrate(network.hashrate))) : null,
      network ? h("span", {}, "Height ", h("b", { "data-live": "height" }, fmt.integer(network.height))) : null
    );
  } catch (e) {
    clear(box).append(h("span", { class: "error-inline" }, "API offline"));
  }
}

function footer() {
  const box = clear(document.getElementById("links"));
  for (const link of state.cfg.links) {
    if (safeUrl(link.url)) box.append(h("a", { href: link.url, target: "_blank", rel: "noopener noreferrer" }, link.name));
  }
  box.append(h("span", { class: "muted" }, `athena-pool ${state.cfg.version || ""}`));
}

async function start() {
  try {
    await loadConfig();
  } catch (e) {
    clear(document.getElementById("app")).append(errorBox(`The pool's API cannot be reached: ${e.message}`));
    return;
  }
  document.title = `${state.cfg.coin} mining pool`;
  document.getElementById("brand-coin").textContent = `${state.cfg.coin} (${state.cfg.symbol})`;
  footer();
  header();
  setInterval(header, Math.max(2, Number(LOCAL.refreshSeconds) || 10) * 1000);
  window.addEventListener("hashchange", route);
  route();
}

start();
