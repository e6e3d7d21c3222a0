// Org admins: allow, deny or inherit each agent and each of its tools for the active org.
import { api, el, readable, show } from "./api.js";

const container = document.getElementById("agent-list");
const notice = document.getElementById("agents-notice");
const base = `/admin/agents/orgs/${encodeURIComponent(container.dataset.orgId)}/agents`;
const CHOICES = ["inherit", "allow", "deny"];

function accessSelect(id, label, value, quiet = false) {
  return el("div", { className: "field inline" },
    el("label", { for: id, className: quiet ? "visually-hidden" : null, text: label }),
    el("select", { id }, CHOICES.map((c) => el("option", { value: c, selected: c === value, text: c }))));
}

function effective(decision) {
  return el("span", { className: `effective ${decision.allowed ? "allowed" : "denied"}`, title: decision.reason },
    decision.allowed ? "allowed" : "denied", el("span", { className: "muted", text: ` (from ${decision.source})` }));
}

function agentCard(agent) {
  const key = agent.name.replace(/[^a-zA-Z0-9_-]/g, "_");
  const status = el("p", { className: "muted small", role: "status" });
  const rows = agent.tools.map((tool) => {
    const id = `tool-${key}-${tool.name.replace(/[^a-zA-Z0-9_-]/g, "_")}`;
    return el("tr", { dataset: { tool: tool.name } },
      el("th", { scope: "row" }, el("code", { text: tool.name }), " ", el("span", { className: `badge ${tool.kind}`, text: tool.kind })),
      el("td", {}, accessSelect(id, `Access to ${tool.name}`, tool.access, true)),
      el("td", {}, effective(tool.effective)),
      el("td", { className: "muted small", text: tool.confirmation.required ? "asks first" : "runs directly" }));
  });
  const card = el("section", { className: "card stack agent", dataset: { agent: agent.name }, "aria-labelledby": `agent-${key}` },
    el("div", { className: "row wrap" },
      el("h2", { id: `agent-${key}`, text: agent.name }),
      accessSelect(`agent-access-${key}`, `Access to the ${agent.name} agent`, agent.access),
      effective(agent.effective)),
    el("p", { className: "muted", text: agent.description }),
    agent.tools.length
      ? el("div", { className: "table-wrap" }, el("table", {},
        el("thead", {}, el("tr", {}, ["Tool", "This org", "Effective", "Confirmation"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, rows)))
      : null,
    status);
  // keep each tool's confirmation setting as it was: this page only edits access
  const confirm = Object.fromEntries(agent.tools.filter((t) => t.confirm !== null).map((t) => [t.name, t.confirm]));
  card.addEventListener("change", async (event) => {
    if (event.target.tagName !== "SELECT") return;
    const selects = card.querySelectorAll("select");
    for (const s of selects) s.disabled = true;
    status.textContent = "Saving…";
    const tools = {};
    for (const row of card.querySelectorAll("tr[data-tool]")) tools[row.dataset.tool] = row.querySelector("select").value;
    const body = { access: card.querySelector(`#agent-access-${key}`).value, tools, confirm };
    try {
      const saved = await api(`${base}/${encodeURIComponent(agent.name)}`, { method: "PUT", json: body });
      const fresh = agentCard(saved);
      card.replaceWith(fresh);
      fresh.querySelector("[role=status]").textContent = "Saved.";
      const again = fresh.querySelector(`#${event.target.id}`);
      if (again) again.focus();
    } catch (err) {
      status.textContent = "";
      show(notice, `Could not save ${agent.name}: ` + readable(err));
      for (const s of selects) s.disabled = false;
    }
  });
  return card;
}

async function load() {
  try {
    const found = await api(base);
    container.replaceChildren(...found.items.map(agentCard));
    if (!found.items.length) show(notice, "No agents are installed.");
  } catch (err) {
    show(notice, "Could not load the agents: " + readable(err));
  }
}

load();
