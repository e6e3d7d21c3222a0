// The agent permission matrix at every tier (platform for superadmins, org, each group, each person), with
// confirmation settings; for one person, each agent's and tool's effective result and the tier it comes from.
import { api, el, readable, show } from "./api.js";
import { decisionText } from "./tiers.js";

const container = document.getElementById("agent-list");
const notice = document.getElementById("agents-notice");
const picker = document.getElementById("tier");
const help = document.getElementById("tier-help");
const orgId = encodeURIComponent(document.body.dataset.org);
const CHOICES = ["inherit", "allow", "deny"];
const CONFIRM = [["", "inherit"], ["true", "asks first"], ["false", "runs directly"]];

function tierBase(value) {
  const [kind, id] = value.split(":");
  if (kind === "platform") return "/admin/agents/platform/agents";
  if (kind === "group") return `/admin/agents/orgs/${orgId}/groups/${encodeURIComponent(id)}/agents`;
  if (kind === "user") return `/admin/agents/users/${encodeURIComponent(id)}/agents`;
  return `/admin/agents/orgs/${orgId}/agents`;
}

function describeTier(value) {
  const kind = value.split(":")[0];
  const label = picker.selectedOptions[0] ? picker.selectedOptions[0].textContent : "";
  if (kind === "platform") return "Every organization on this platform starts from these.";
  if (kind === "group") return `For the members of ${label.replace(/^Group: /, "")}; a person's own setting still wins.`;
  if (kind === "user") return `For ${label.replace(/^Person: /, "")} alone. "Effective" is what this person ends up with, and the tier it comes from.`;
  return "For everyone in this organization, unless a group or a person's own setting says otherwise.";
}

function selectField(id, label, options, value) {
  return el("div", { className: "field inline" },
    el("label", { for: id, className: "visually-hidden", text: label }),
    el("select", { id }, options.map(([v, text]) => el("option", { value: v, selected: v === value, text }))));
}

function effective(decision) {
  return el("span", { className: `effective ${decision.allowed ? "allowed" : "denied"}`, title: decision.reason },
    decision.allowed ? "allowed" : "denied",
    el("span", { className: "muted small", text: ` (from ${decision.source})` }));
}

const safe = (name) => name.replace(/[^a-zA-Z0-9_-]/g, "_");

function agentCard(agent, base) {
  const key = safe(agent.name);
  const status = el("p", { className: "muted small", role: "status" });
  const accessOptions = CHOICES.map((c) => [c, c]);
  const rows = agent.tools.map((tool) => {
    const id = `tool-${key}-${safe(tool.name)}`;
    const confirmValue = tool.confirm === null || tool.confirm === undefined ? "" : String(tool.confirm);
    return el("tr", { dataset: { tool: tool.name } },
      el("th", { scope: "row" }, el("code", { text: tool.name }), " ", el("span", { className: `badge ${tool.kind}`, text: tool.kind })),
      el("td", { dataset: { label: "Access" } }, selectField(id, `Access to ${tool.name}`, accessOptions, tool.access)),
      el("td", { dataset: { label: "Confirmation" } }, selectField(`${id}-confirm`, `Confirmation of ${tool.name}`, CONFIRM, confirmValue),
        el("div", { className: "muted small", text: `now: ${tool.confirmation.required ? "asks first" : "runs directly"}` })),
      el("td", { dataset: { label: "Effective" } }, effective(tool.effective)));
  });
  const card = el("section", { className: "card stack agent", dataset: { agent: agent.name }, "aria-labelledby": `agent-${key}` },
    el("div", { className: "row wrap" },
      el("h2", { id: `agent-${key}`, text: agent.name }),
      el("div", { className: "field inline" },
        el("label", { for: `agent-access-${key}`, text: `Access to the ${agent.name} agent` }),
        el("select", { id: `agent-access-${key}` }, CHOICES.map((c) => el("option", { value: c, selected: c === agent.access, text: c })))),
      effective(agent.effective)),
    el("p", { className: "muted", text: agent.description }),
    el("p", { className: "why small", text: decisionText(agent.effective) }),
    agent.tools.length
      ? el("div", { className: "table-wrap", tabindex: "0", role: "region", "aria-label": `Tools of ${agent.name}` }, el("table", { className: "stacked" },
        el("thead", {}, el("tr", {}, ["Tool", "Access", "Confirmation", "Effective"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, rows)))
      : null,
    status);
  card.addEventListener("change", async (event) => {
    if (event.target.tagName !== "SELECT") return;
    const selects = card.querySelectorAll("select");
    for (const s of selects) s.disabled = true;
    status.textContent = "Saving…";
    const tools = {};
    const confirm = {};
    for (const row of card.querySelectorAll("tr[data-tool]")) {
      const [access, confirmation] = row.querySelectorAll("select");
      tools[row.dataset.tool] = access.value;
      if (confirmation.value) confirm[row.dataset.tool] = confirmation.value === "true";
    }
    const body = { access: card.querySelector(`#agent-access-${key}`).value, tools, confirm };
    try {
      const saved = await api(`${base}/${encodeURIComponent(agent.name)}`, { method: "PUT", json: body });
      const fresh = agentCard(saved, base);
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

async function loadTier() {
  const value = picker.value;
  help.textContent = describeTier(value);
  const base = tierBase(value);
  show(notice, "");
  try {
    const found = await api(base);
    container.replaceChildren(...found.items.map((agent) => agentCard(agent, base)));
    if (!found.items.length) show(notice, "No agents are installed.");
  } catch (err) {
    container.replaceChildren();
    show(notice, "Could not load the agents: " + readable(err));
  }
}

async function start() {
  const [groups, members] = await Promise.all([api(`/orgs/${orgId}/groups`), api(`/orgs/${orgId}/members`)]);
  const options = [];
  if (picker.dataset.superadmin === "true") options.push(el("option", { value: "platform", text: "The platform (every organization)" }));
  options.push(el("option", { value: "org", text: "This organization" }));
  if (groups.length) options.push(el("optgroup", { label: "Groups" }, groups.map((g) => el("option", { value: `group:${g.id}`, text: `Group: ${g.name}` }))));
  options.push(el("optgroup", { label: "People" }, members.map((m) => el("option", { value: `user:${m.user_id}`, text: `Person: ${m.email}` }))));
  picker.replaceChildren(...options);
  const asked = new URLSearchParams(window.location.search);
  const wanted = asked.get("group") ? `group:${asked.get("group")}` : asked.get("user") ? `user:${asked.get("user")}` : "org";
  picker.value = wanted;
  if (!picker.value) picker.value = "org";
  await loadTier();
}

picker.addEventListener("change", () => {
  const [kind, id] = picker.value.split(":");
  const query = kind === "group" || kind === "user" ? `?${kind}=${encodeURIComponent(id)}` : kind === "platform" ? "?platform=1" : "";
  window.history.replaceState(null, "", `/admin/agents${query}`);
  loadTier();
});

start().catch((err) => show(notice, "Could not load the tiers: " + readable(err)));
