// A small SVG line chart (no library): lineChart([{name, points: [[t_s, value], ...]}], {format}).
import { h, svg } from "./dom.js";

const WIDTH = 720;
const HEIGHT = 220;
const PAD = { left: 64, right: 12, top: 12, bottom: 28 };
const COLOURS = ["#4f8cff", "#f5a623", "#3ecf8e", "#e5484d"];

function timeLabel(t, span) {
  const d = new Date(t * 1000);
  const hm = d.toISOString().slice(11, 16);
  return span > 2 * 86400 ? `${d.toISOString().slice(5, 10)} ${hm}` : hm;
}

export function lineChart(series, options = {}) {
  const format = options.format || ((v) => String(v));
  const all = series.flatMap((s) => s.points);
  const box = h("figure", { class: "chart" });
  if (options.title) box.appendChild(h("figcaption", {}, options.title));
  if (!all.length) {
    box.appendChild(h("p", { class: "muted chart-empty" }, "No chart data yet: points are collected every few minutes."));
    return box;
  }
  let tMin = Math.min(...all.map((p) => p[0]));
  let tMax = Math.max(...all.map((p) => p[0]));
  if (tMax === tMin) {
    tMin -= 60;
    tMax += 60;
  }
  let vMax = Math.max(...all.map((p) => Number(p[1]) || 0));
  if (vMax <= 0) vMax = 1;
  vMax *= 1.1;
  const iw = WIDTH - PAD.left - PAD.right;
  const ih = HEIGHT - PAD.top - PAD.bottom;
  const x = (t) => PAD.left + ((t - tMin) / (tMax - tMin)) * iw;
  const y = (v) => PAD.top + ih - ((Number(v) || 0) / vMax) * ih;

  const root = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: "line-chart",
    role: "img",
    "aria-label": options.title || "chart",
  });
  for (let i = 0; i <= 4; i += 1) {
    const v = (vMax * i) / 4;
    root.appendChild(svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(v), y2: y(v), class: "grid" }));
    root.appendChild(svg("text", { x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" }, format(v)));
  }
  for (let i = 0; i <= 4; i += 1) {
    const t = tMin + ((tMax - tMin) * i) / 4;
    root.appendChild(
      svg("text", { x: x(t), y: HEIGHT - 8, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle", class: "axis" }, timeLabel(t, tMax - tMin))
    );
  }
  series.forEach((s, index) => {
    const colour = s.colour || COLOURS[index % COLOURS.length];
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    if (!pts.length) return;
    const d = pts.map((p, i) => `${i ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
    const line = svg("path", { d, fill: "none", stroke: colour, "stroke-width": 2, class: "series", "data-series": s.name });
    root.appendChild(line);
    if (pts.length === 1) {
      root.appendChild(svg("circle", { cx: x(pts[0][0]), cy: y(pts[0][1]), r: 3, fill: colour }));
    }
    const last = pts[pts.length - 1];
    const dot = svg("circle", { cx: x(last[0]), cy: y(last[1]), r: 3, fill: colour });
    dot.appendChild(svg("title", {}, `${s.name}: ${format(last[1])} at ${timeLabel(last[0], 0)}`));
    root.appendChild(dot);
  });
  box.appendChild(root);
  if (series.length > 1) {
    box.appendChild(
      h(
        "div",
        { class: "legend" },
        series.map((s, i) => h("span", {}, h("i", { style: `background:${s.colour || COLOURS[i % COLOURS.length]}` }), s.name))
      )
    );
  }
  return box;
}

// A bar chart of counts per day: [[label, count], ...]
export function barChart(bars, options = {}) {
  const box = h("figure", { class: "chart" });
  if (options.title) box.appendChild(h("figcaption", {}, options.title));
  if (!bars.length) {
    box.appendChild(h("p", { class: "muted" }, "No data yet."));
    return box;
  }
  const max = Math.max(1, ...bars.map((b) => b[1]));
  const iw = WIDTH - PAD.left - PAD.right;
  const ih = HEIGHT - PAD.top - PAD.bottom;
  const bw = iw / bars.length;
  const root = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "bar-chart", role: "img", "aria-label": options.title || "chart" });
  bars.forEach(([label, count], i) => {
    const bh = (count / max) * ih;
    const rect = svg("rect", { x: PAD.left + i * bw + 2, y: PAD.top + ih - bh, width: Math.max(1, bw - 4), height: bh, class: "bar" });
    rect.appendChild(svg("title", {}, `${label}: ${count}`));
    root.appendChild(rect);
    root.appendChild(svg("text", { x: PAD.left + i * bw + bw / 2, y: HEIGHT - 8, "text-anchor": "middle", class: "axis" }, label));
  });
  root.appendChild(svg("text", { x: PAD.left - 6, y: PAD.top + 8, "text-anchor": "end", class: "axis" }, String(max)));
  box.appendChild(root);
  return box;
}
