// The signed-in person's effective access to every agent and tool, each with the reason and the tier it comes from.
import { api, el, readable, show } from "./api.js";
import { decisionText, tierLabel } from "./tiers.js";

const list = document.getElementById("permission-list");
const notice = document.getElementById("permissions-notice");

function verdict(allowed) {
  return el("span", { className: `effective ${allowed ? "allowed" : "denied"}`, text: allowed ? "allowed" : "denied" });
}

function agentCard(agent) {
  const tools = agent.tools.map((tool) => el("tr", {},
    el("th", { scope: "row" }, el("code", { text: tool.name })),
    el("td", { dataset: { label: "Result" } }, verdict(tool.allowed)),
    el("td", { className: "small", dataset: { label: "Why" }, text: decisionText(tool.decision) + (tool.allowed && tool.confirmation_required ? " Asks you before each call." : "") })));
  return el("section", { className: "card stack permission", dataset: { agent: agent.name }, "aria-label": `The ${agent.name} agent` },
    el("div", { className: "row wrap" }, el("h2", { text: agent.name }), verdict(agent.allowed),
      el("span", { className: "muted small", text: `decided by ${tierLabel(agent.decision.source)}` })),
    el("p", { className: "why", text: decisionText(agent.decision) }),
    tools.length ? el("div", { className: "table-wrap", tabindex: "0", role: "region", "aria-label": `Tools of ${agent.name}` }, el("table", { className: "stacked" },
      el("thead", {}, el("tr", {}, ["Tool", "Result", "Why"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, tools))) : null);
}

async function load() {
  try {
    const found = await api("/me/permissions");
    list.replaceChildren(...found.agents.map(agentCard));
    if (!found.agents.length) show(notice, "No agents are installed.");
  } catch (err) {
    show(notice, "Could not load your permissions: " + readable(err));
  }
}

load();
