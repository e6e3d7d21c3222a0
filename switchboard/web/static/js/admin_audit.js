// The org's audit log with filters, paged, and a CSV export of everything the filters match (built in the browser).
import { api, el, readable, show, when } from "./api.js";

const form = document.getElementById("audit-filters");
const rows = document.getElementById("audit-rows");
const notice = document.getElementById("audit-notice");
const count = document.getElementById("audit-count");
const more = document.getElementById("audit-more");
const orgId = encodeURIComponent(document.body.dataset.org);
const PAGE = 50;
const EXPORT_MAX = 5000;
let offset = 0;

function query(limit, from) {
  const params = new URLSearchParams({ limit: String(limit), offset: String(from) });
  if (form.action_name.value.trim()) params.set("action", form.action_name.value.trim());
  if (form.actor_id.value) params.set("actor_id", form.actor_id.value);
  if (form.outcome.value) params.set("outcome", form.outcome.value);
  if (form.since.value) params.set("since", new Date(form.since.value + "T00:00:00").toISOString());
  if (form.until.value) params.set("until", new Date(form.until.value + "T23:59:59").toISOString());
  return params.toString();
}

function entryRow(entry) {
  return el("tr", {},
    el("td", { className: "small", dataset: { label: "When" }, text: when(entry.created_at) }),
    el("td", { className: "text-wrap", dataset: { label: "Who" }, text: entry.actor_email || "the system" }),
    el("td", { dataset: { label: "Action" } }, el("code", { text: entry.action })),
    el("td", { className: "small text-wrap", dataset: { label: "Target" }, text: entry.target_type ? `${entry.target_type} ${entry.target_id || ""}` : "" }),
    el("td", { dataset: { label: "Outcome" } }, el("span", { className: `badge outcome-${entry.outcome}`, text: entry.outcome })));
}

async function load(append = false) {
  if (!append) offset = 0;
  show(notice, "");
  try {
    const page = await api(`/audit/logs?${query(PAGE, offset)}`);
    const built = page.items.map(entryRow);
    if (append) rows.append(...built);
    else rows.replaceChildren(...(built.length ? built : [el("tr", {}, el("td", { colSpan: 5, className: "muted", text: "Nothing matches these filters." }))]));
    offset += page.items.length;
    count.textContent = `${page.total} entries match; showing ${offset}.`;
    more.hidden = offset >= page.total;
  } catch (err) {
    show(notice, "Could not load the audit log: " + readable(err));
  }
}

const CSV_COLUMNS = ["created_at", "actor_email", "actor_id", "action", "target_type", "target_id", "outcome", "ip", "correlation_id", "details"];

function csvCell(value) {
  const text = value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
  // a cell starting like a formula would run in a spreadsheet: quote it as text
  const guarded = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

async function exportCsv(button) {
  button.disabled = true;
  button.textContent = "Exporting…";
  try {
    const lines = [CSV_COLUMNS.join(",")];
    for (let from = 0; from < EXPORT_MAX; from += 200) {
      const page = await api(`/audit/logs?${query(200, from)}`);
      for (const entry of page.items) lines.push(CSV_COLUMNS.map((c) => csvCell(entry[c])).join(","));
      if (from + page.items.length >= page.total || !page.items.length) break;
    }
    const blob = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" });
    const link = el("a", { href: URL.createObjectURL(blob), download: `audit-log-${new Date().toISOString().slice(0, 10)}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  } catch (err) {
    show(notice, "The export failed: " + readable(err));
  } finally {
    button.disabled = false;
    button.textContent = "Export CSV";
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
more.addEventListener("click", () => load(true));
document.getElementById("audit-export").addEventListener("click", (event) => exportCsv(event.target));

async function start() {
  const [members, stats] = await Promise.all([api(`/orgs/${orgId}/members`), api("/audit/stats")]);
  form.actor_id.append(...members.map((m) => el("option", { value: m.user_id, text: m.email })));
  document.getElementById("action-names").replaceChildren(...Object.keys(stats.by_action).sort().map((a) => el("option", { value: a })));
  await load();
}

start().catch((err) => show(notice, "Could not load the audit log: " + readable(err)));
