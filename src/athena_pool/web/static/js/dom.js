// DOM helpers. Text is always inserted as text nodes: nothing from the API ever goes through innerHTML.

const SVG_NS = "http://www.w3.org/2000/svg";

export function safeUrl(url) {
  // Only http(s) URLs and in-page hash links become hrefs.
  if (typeof url !== "string") return null;
  if (url.startsWith("#")) return url;
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch (e) {
    return null;
  }
}

function append(node, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    child.forEach((c) => append(node, c));
  } else if (child instanceof Node) {
    node.appendChild(child);
  } else {
    node.appendChild(document.createTextNode(String(child)));
  }
}

// h("a", {href: "#/x", class: "y", onclick: fn}, "text", otherNode, [more])
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "href" || key === "src") {
      const url = safeUrl(value);
      if (url) node.setAttribute(key, url);
    } else if (key === "class") {
      node.className = value;
    } else if (key === "value") {
      node.value = value;
    } else if (value === true) {
      node.setAttribute(key, "");
    } else {
      node.setAttribute(key, String(value));
    }
  }
  append(node, children);
  return node;
}

export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined) node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function table(headers, rows, empty = "Nothing yet.") {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c)))))
    )
  );
}

export function stat(label, value, id) {
  return h("div", { class: "stat", "data-stat": id || null }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value" }, value));
}

export function card(title, ...content) {
  return h("section", { class: "card" }, title ? h("h2", {}, title) : null, content);
}

export function errorBox(message) {
  return h("div", { class: "error", role: "alert" }, message);
}
