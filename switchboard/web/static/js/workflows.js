// The workflows list: status, trigger, last run and its result; create blank, from a template or
// from a sentence; activate, pause, archive.
import { api, el, readable, show, when } from "./api.js";

const list = document.getElementById("workflow-list");
const empty = document.getElementById("no-workflows");
const notice = document.getElementById("workflows-notice");
const filter = document.getElementById("status-filter");
const createError = document.getElementById("create-error");

const STATUS_ACTIONS = {
  draft: ["activate", "archive"],
  active: ["pause", "archive"],
  paused: ["activate", "archive"],
  error: ["activate", "pause", "archive"],
  archived: ["activate"],
};
const ACTION_LABELS = { activate: "Activate", pause: "Pause", archive: "Archive" };
const TRIGGER_LABELS = { manual: "By hand", schedule: "On a schedule", webhook: "By webhook" };

function lastRunView(run, workflowId) {
  if (run === undefined) return el("span", { className: "muted", text: "…" });
  if (!run) return el("span", { className: "muted", text: "Never run" });
  return el("span", {},
    el("a", { href: `/workflows/${workflowId}/runs/${run.id}`, "aria-label": `Last run: ${run.status.replace("_", " ")}, ${when(run.created_at)}` },
      el("span", { className: `badge ${run.status}`, text: run.status.replace("_", " ") })),
    " ", el("time", { className: "muted small", text: when(run.created_at) }));
}

const lastRuns = new Map(); // workflow id -> its row's last-run cell

function row(workflow) {
  const lastRun = el("span", { className: "last-run" }, lastRunView(undefined));
  lastRuns.set(workflow.id, lastRun);
  const actions = el("div", { className: "row wrap actions" });
  for (const action of STATUS_ACTIONS[workflow.status] || []) {
    actions.append(el("button", {
      type: "button", className: "secondary small", text: ACTION_LABELS[action],
      "aria-label": `${ACTION_LABELS[action]} ${workflow.name}`,
      onclick: async (event) => {
        event.target.disabled = true;
        try {
          await api(`/workflows/${workflow.id}/${action}`, { method: "POST" });
          show(notice, `${workflow.name}: ${action === "activate" ? "activated" : action === "pause" ? "paused" : "archived"}.`);
          await load();
        } catch (err) {
          show(notice, readable(err));
          event.target.disabled = false;
        }
      },
    }));
  }
  const item = el("li", { className: "workflow-row", dataset: { workflowId: workflow.id } },
    el("div", { className: "workflow-main" },
      el("a", { className: "workflow-name", href: `/workflows/${workflow.id}`, text: workflow.name }),
      el("span", { className: `badge status-${workflow.status}`, text: workflow.status }),
      el("span", { className: "muted small", text: TRIGGER_LABELS[workflow.trigger_kind] || workflow.trigger_kind }),
      el("span", { className: "muted small", text: `version ${workflow.version}` })),
    el("div", { className: "workflow-meta small" }, el("span", { className: "muted", text: "Last run: " }), lastRun),
    actions);
  showLastRun(workflow.id); // the list has no last run; each row asks for its newest one
  return item;
}

async function load() {
  const status = filter.value ? `&status=${encodeURIComponent(filter.value)}` : "";
  try {
    const page = await api(`/workflows?limit=100${status}`);
    lastRuns.clear();
    list.replaceChildren(...page.items.map(row));
    empty.hidden = page.items.length > 0;
  } catch (err) {
    show(notice, "Could not load the workflows: " + readable(err));
  }
}

async function loadTemplates() {
  const target = document.getElementById("template-list");
  try {
    const found = await api("/workflows/templates");
    target.replaceChildren(...found.items.map((t) => el("li", { className: "template card" },
      el("p", {}, el("strong", { text: t.title })),
      el("p", { className: "muted small", text: t.description }),
      el("button", {
        type: "button", className: "secondary small", text: "Use this template", "aria-label": `Use this template: ${t.title}`,
        onclick: async (event) => {
          event.target.disabled = true;
          try {
            const created = await api(`/workflows/templates/${encodeURIComponent(t.name)}/use`, { method: "POST", json: {} });
            window.location.assign(`/workflows/${created.id}`);
          } catch (err) {
            show(createError, readable(err));
            event.target.disabled = false;
          }
        },
      }))));
  } catch (err) {
    target.replaceChildren(el("li", { className: "muted", text: "Templates are not available: " + readable(err) }));
  }
}

document.getElementById("create-blank").addEventListener("submit", async (event) => {
  event.preventDefault();
  show(createError, "");
  const name = document.getElementById("new-name").value.trim();
  try {
    const created = await api("/workflows", {
      method: "POST",
      json: { name, nodes: [{ id: "start", type: "trigger", name: "Start", config: { kind: "manual" } }], edges: [] },
    });
    window.location.assign(`/workflows/${created.id}`);
  } catch (err) {
    show(createError, readable(err));
  }
});

document.getElementById("create-generated").addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = document.getElementById("generate-status");
  const error = document.getElementById("generate-error");
  const button = event.target.querySelector("button");
  show(error, "");
  button.disabled = true;
  status.textContent = "Writing the workflow…";
  try {
    const created = await api("/workflows/generate", { method: "POST", json: { description: document.getElementById("describe").value.trim() } });
    window.location.assign(`/workflows/${created.id}`);
  } catch (err) {
    // 503 model_required says in words that no model is configured and where to set one
    show(error, readable(err));
    status.textContent = "";
    button.disabled = false;
  }
});

function showLastRun(workflowId) {
  const cell = lastRuns.get(workflowId);
  if (!cell) return;
  const asked = String(Number(cell.dataset.asked || 0) + 1);
  cell.dataset.asked = asked; // an answer to an older read never overwrites a newer one
  api(`/workflows/${workflowId}/executions?limit=1`)
    .then((page) => {
      if (cell.dataset.asked === asked) cell.replaceChildren(lastRunView(page.items[0] || null, workflowId));
    })
    .catch(() => {
      if (cell.dataset.asked === asked) cell.replaceChildren(el("span", { className: "muted", text: "unknown" }));
    });
}

// Runs start, wait and end live (the navigation's org stream, `live:workflow`, whose events name their
// workflow): a row reads its newest run again once for a burst of its workflow's events.
const LIVE_QUIET_MS = 500;
const liveTimers = new Map(); // workflow id -> a pending re-read

document.addEventListener("live:workflow", (event) => {
  const workflowId = event.detail && event.detail.workflow_id;
  if (!workflowId || !lastRuns.has(workflowId) || liveTimers.has(workflowId)) return;
  liveTimers.set(workflowId, window.setTimeout(() => {
    liveTimers.delete(workflowId);
    showLastRun(workflowId);
  }, LIVE_QUIET_MS));
});

filter.addEventListener("change", load);
load();
loadTemplates();
