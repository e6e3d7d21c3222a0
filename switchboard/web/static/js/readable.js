// Showing JSON to people: labelled values instead of braces, and durations in words.
import { el } from "./api.js";

export function label(key) {
  const text = String(key).replace(/[_.]+/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// Any JSON value as nested description lists / lists / text.
export function readableValue(value, depth = 0) {
  if (value === null || value === undefined || value === "") return el("span", { className: "muted", text: "—" });
  if (Array.isArray(value)) {
    if (!value.length) return el("span", { className: "muted", text: "none" });
    if (depth > 3) return el("code", { text: JSON.stringify(value) });
    return el("ul", { className: "values" }, value.map((v) => el("li", {}, readableValue(v, depth + 1))));
  }
  if (typeof value === "object") {
    const keys = Object.keys(value);
    if (!keys.length) return el("span", { className: "muted", text: "nothing" });
    if (depth > 3) return el("code", { text: JSON.stringify(value) });
    return el("dl", { className: "values" }, keys.flatMap((k) => [el("dt", { text: label(k) }), el("dd", {}, readableValue(value[k], depth + 1))]));
  }
  if (typeof value === "boolean") return el("span", { text: value ? "yes" : "no" });
  return el("span", { className: "value-text", text: String(value) });
}

export function duration(ms) {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} days ${h % 24} h`;
}

export function timeLeft(iso) {
  const ms = new Date(iso).getTime() - Date.now();
  if (Number.isNaN(ms)) return "";
  if (ms <= 0) return "timing out now";
  return duration(ms);
}
