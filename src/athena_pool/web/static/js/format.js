// Number, amount, hashrate and time formatting.

export function hashrate(value) {
  const units = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s", "EH/s"];
  let v = Number(value) || 0;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${v.toFixed(i === 0 && v < 100 ? 1 : 2)} ${units[i]}`;
}

export function bigNumber(value) {
  const v = Number(value) || 0;
  const units = ["", "k", "M", "G", "T", "P", "E"];
  let i = 0;
  let x = v;
  while (Math.abs(x) >= 1000 && i < units.length - 1) {
    x /= 1000;
    i += 1;
  }
  if (i === 0) return Number.isInteger(x) || Math.abs(x) >= 100 ? String(Math.round(x)) : x.toFixed(Math.abs(x) < 10 ? 2 : 1);
  return `${x.toFixed(2)} ${units[i]}`;
}

export function integer(value) {
  return (Number(value) || 0).toLocaleString("en-US");
}

export function coins(atomic, cfg) {
  if (atomic === null || atomic === undefined) return "–";
  const units = cfg.atomic_units_per_coin || 1;
  const places = cfg.decimal_places || 0;
  return `${(Number(atomic) / units).toFixed(places)} ${cfg.symbol || ""}`.trim();
}

export function percent(ratio, digits = 1) {
  if (ratio === null || ratio === undefined || !isFinite(ratio)) return "–";
  return `${(ratio * 100).toFixed(digits)} %`;
}

export function dateTime(ms) {
  if (!ms) return "–";
  const d = new Date(Number(ms));
  return d.toISOString().replace("T", " ").slice(0, 19);
}

export function ago(ms) {
  if (!ms) return "never";
  const s = Math.max(0, Math.round((Date.now() - Number(ms)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function duration(seconds) {
  const s = Number(seconds) || 0;
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

export function shortHash(text, keep = 8) {
  const t = String(text || "");
  return t.length <= keep * 2 + 1 ? t : `${t.slice(0, keep)}…${t.slice(-keep)}`;
}

export function shortAddress(text) {
  return shortHash(text, 7);
}
