// Shared state: the pool's configuration (API /config merged with config.js), explorer links.
import { h, safeUrl } from "./dom.js";
import * as fmt from "./format.js";

export const state = { cfg: null };

export function explorerLink(kind, id) {
  const template = kind === "block" ? state.cfg.blockExplorer : state.cfg.transactionExplorer;
  const label = fmt.shortHash(id, 10);
  if (!id) return "–";
  if (!template) return h("code", { title: id }, label);
  const url = template.replaceAll("{symbol}", encodeURIComponent(state.cfg.symbol.toLowerCase())).replaceAll("{id}", encodeURIComponent(id));
  if (!safeUrl(url)) return h("code", { title: id }, label);
  return h("a", { href: url, target: "_blank", rel: "noopener noreferrer", title: id }, h("code", {}, label));
}

