// Counts of what happened in the org over the last 30 days, from the audit log's statistics.
import { api, el, readable, show } from "./api.js";

const rows = document.getElementById("usage-rows");
const totals = document.getElementById("usage-totals");

function tile(label, value) {
  return el("div", { className: "card tile" }, el("div", { className: "tile-value", text: String(value) }), el("div", { className: "muted small", text: label }));
}

async function load() {
  try {
    const stats = await api("/audit/stats");
    const actions = Object.entries(stats.by_action).map(([action, outcomes]) => {
      const total = Object.values(outcomes).reduce((a, b) => a + b, 0);
      const ok = outcomes.success || 0;
      return { action, ok, failed: total - ok, total };
    }).sort((a, b) => b.total - a.total);
    const sum = (prefix) => actions.filter((a) => a.action.startsWith(prefix)).reduce((n, a) => n + a.total, 0);
    totals.replaceChildren(
      tile(`events in ${stats.days} days`, stats.total),
      tile("sign-ins", sum("user.login")),
      tile("chat and agent events", sum("chat.") + sum("agent")),
      tile("workflow events", sum("workflow")));
    rows.replaceChildren(...(actions.length ? actions.map((a) => el("tr", {},
      el("th", { scope: "row" }, el("code", { text: a.action })),
      el("td", { dataset: { label: "Success" }, text: String(a.ok) }), el("td", { dataset: { label: "Failure or denied" }, text: String(a.failed) }),
      el("td", { dataset: { label: "Total" }, text: String(a.total) })))
      : [el("tr", {}, el("td", { colSpan: 4, className: "muted", text: "Nothing recorded yet." }))]));
  } catch (err) {
    show(document.getElementById("usage-notice"), "Could not load the usage: " + readable(err));
  }
}

load();
