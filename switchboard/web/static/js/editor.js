// The workflow editor: the drawing, a form per step generated from its type's schema, add / connect /
// disconnect / delete / rename through the edit operations (If-Match: a 412 says someone else saved
// first, with Reload), validation errors on the step they name, a JSON view, versions with compare
// and restore, schedules, the webhook, runs.
import { api, el, readable, show, when } from "./api.js";
import { drawGraph, TYPE_LABELS } from "./graph.js";
import { configForm, field, showFieldError } from "./schema_form.js";

const root = document.getElementById("editor");
const workflowId = root.dataset.workflowId;
const base = `/workflows/${encodeURIComponent(workflowId)}`;
const graphHolder = document.getElementById("graph");
const inspector = document.getElementById("inspector-body");
const inspectorHeading = document.getElementById("inspector-heading");
const notice = document.getElementById("editor-notice");

let wf = null; // the workflow as last read or saved
let catalog = new Map(); // type -> {config_schema, branches, example, description, category}
let agents = []; // [{name, tools: [{name}]}]
let choices = {}; // approvers: {users: [{value, label}], groups: [...]}
let selected = null;
let errors = {}; // node id -> message
let compare = null; // {marks, extraNodes, extraEdges, markedEdges}

// --- saving ------------------------------------------------------------------------------------------

async function save(operations, { formNode = null, nodeId = null } = {}) {
  show(notice, "");
  try {
    wf = await api(`${base}/operations`, { method: "POST", json: { operations }, headers: { "If-Match": `"${wf.version}"` } });
    errors = {};
    render();
    show(notice, `Saved as version ${wf.version}.`);
    loadVersions();
    return true;
  } catch (err) {
    if (err.status === 412) {
      conflict(err);
    } else if (err.status === 422 && Array.isArray(err.details)) {
      errors = {};
      for (const detail of err.details) {
        const node = detail.node || nodeId;
        if (node) errors[node] = errors[node] || detail.message;
        if (formNode) showFieldError(formNode, detail.field, detail.message);
      }
      render();
      show(notice, readable(err));
    } else {
      show(notice, readable(err));
    }
    return false;
  }
}

function conflict(err) {
  const current = err.details && err.details.current;
  document.getElementById("conflict-text").textContent =
    `Someone else saved this workflow first${current ? ` (it is at version ${current} now)` : ""}. Your change was not saved. Reload to see theirs, then make your change again.`;
  document.getElementById("conflict").hidden = false;
}

document.getElementById("reload-workflow").addEventListener("click", async () => {
  document.getElementById("conflict").hidden = true;
  await load();
});

// --- drawing -----------------------------------------------------------------------------------------

function render() {
  document.getElementById("workflow-name").textContent = wf.name;
  document.title = `${wf.name} · Switchboard`;
  const status = document.getElementById("workflow-status");
  status.textContent = wf.status;
  status.className = `badge status-${wf.status}`;
  document.getElementById("workflow-version").textContent = `version ${wf.version}`;
  const toggle = document.getElementById("toggle-status");
  toggle.textContent = wf.status === "active" ? "Pause" : "Activate";
  document.getElementById("workflow-tz").textContent = wf.settings.timezone;
  drawGraph(graphHolder, wf, {
    errors, selected, onSelect: select,
    marks: compare ? compare.marks : {}, extraNodes: compare ? compare.extraNodes : [], extraEdges: compare ? compare.extraEdges : [],
    markedEdges: compare ? compare.markedEdges : null, label: `Drawing of ${wf.name}`,
  });
  document.getElementById("json-view").value = JSON.stringify(definitionOf(wf), null, 2);
  if (selected && !wf.nodes.some((n) => n.id === selected)) select(null);
}

function definitionOf(w) {
  return { name: w.name, description: w.description, nodes: w.nodes, edges: w.edges, settings: w.settings };
}

const nodeById = (id) => wf.nodes.find((n) => n.id === id);

function upstreamOf(id) {
  const seen = new Set();
  const stack = [id];
  while (stack.length) {
    const current = stack.pop();
    for (const edge of wf.edges) if (edge.to === current && !seen.has(edge.from)) { seen.add(edge.from); stack.push(edge.from); }
  }
  return seen;
}

function inputNames() {
  const names = new Set();
  const text = JSON.stringify(wf.nodes);
  for (const match of text.matchAll(/input\.([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(match[1]);
  return [...names];
}

function variablesFor(upstream) {
  const vars = inputNames().map((n) => `input.${n}`);
  if (!vars.length) vars.push("input");
  for (const id of upstream) vars.push(`nodes.${id}.output`);
  return vars;
}

function suggestions() {
  const tools = [...new Set(agents.flatMap((a) => (a.tools || []).map((t) => t.name)))];
  return { agent: agents.map((a) => a.name), tool: tools };
}

function branchesOf(node) {
  if (!node) return null;
  if (node.type === "condition") return ["true", "false"];
  if (node.type === "router") return [...(node.config.routes || []).map((r) => r.name), "default"];
  if (node.type === "approval") return ["approved", "rejected", "timeout"];
  return null;
}

function branchField(parentId, idPrefix) {
  const options = branchesOf(nodeById(parentId));
  const id = `${idPrefix}-when`;
  const select = el("select", { id }, (options || []).map((b) => el("option", { value: b, text: b })));
  const wrap = el("div", { className: "field", hidden: !options }, el("label", { for: id, text: "On branch" }), select);
  return {
    node: wrap,
    update(parent) {
      const opts = branchesOf(nodeById(parent));
      select.replaceChildren(...(opts || []).map((b) => el("option", { value: b, text: b })));
      wrap.hidden = !opts;
    },
    read: () => (wrap.hidden ? undefined : select.value),
  };
}

// --- the inspector: one step -------------------------------------------------------------------------

function select(id) {
  selected = id;
  if (!id) {
    inspectorHeading.textContent = "Steps";
    inspector.replaceChildren(el("p", { className: "muted", text: "Select a step in the drawing, or add one." }));
  } else {
    showNode(nodeById(id));
    // one column (phones): the step's form is below the drawing
    if (window.matchMedia("(max-width: 900px)").matches) document.getElementById("inspector").scrollIntoView({ block: "start" });
  }
  drawGraph(graphHolder, wf, {
    errors, selected, onSelect: select, marks: compare ? compare.marks : {},
    extraNodes: compare ? compare.extraNodes : [], extraEdges: compare ? compare.extraEdges : [], markedEdges: compare ? compare.markedEdges : null,
    label: `Drawing of ${wf.name}`,
  });
}

function showNode(node) {
  if (!node) return;
  const type = catalog.get(node.type);
  inspectorHeading.textContent = `${TYPE_LABELS[node.type] || node.type}: ${node.name || node.id}`;
  const error = el("p", { className: "error", role: "alert", hidden: !errors[node.id], text: errors[node.id] || "" });
  const nameField = field("name", { type: "string", title: "Name" }, node.name || "", { root: {} }, true);
  const form = type ? configForm(type.config_schema, node.config, variablesFor(upstreamOf(node.id)), suggestions(), choices) : null;
  const formNode = el("form", { className: "stack node-form", "aria-label": `Settings of ${node.name || node.id}` },
    el("p", { className: "muted small" }, "Id ", el("code", { text: node.id }), type ? ` · ${type.description.replace(/`/g, "")}` : ""),
    nameField.node, form ? form.node : null, error,
    el("div", { className: "row wrap" }, el("button", { type: "submit", text: "Save step" }),
      node.type === "trigger" ? null : el("button", {
        type: "button", className: "danger secondary", text: "Delete step",
        onclick: async () => {
          if (!window.confirm(`Delete the step ${node.name || node.id} and its connections?`)) return;
          if (await save([{ op: "remove_node", node_id: node.id }])) select(null);
        },
      })));
  formNode.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const e of formNode.querySelectorAll(".field-error")) e.hidden = true;
    const operations = [];
    const name = nameField.read() || null;
    if ((name || null) !== (node.name || null) && name) operations.push({ op: "rename", node_id: node.id, name });
    if (form) {
      const patch = mergePatch(node.config, form.read());
      if (patch && Object.keys(patch).length) operations.push({ op: "update_node", node_id: node.id, config: patch });
    }
    if (!operations.length) { show(notice, "Nothing changed."); return; }
    if (await save(operations, { formNode, nodeId: node.id })) showNode(nodeById(node.id));
    else error.textContent = errors[node.id] || "", error.hidden = !errors[node.id];
  });
  inspector.replaceChildren(formNode, connections(node));
}

// RFC 7386: what turns `before` into `after` (null removes a key; arrays and values replace)
function mergePatch(before, after) {
  const patch = {};
  for (const key of Object.keys(before || {})) if (!(key in after)) patch[key] = null;
  for (const [key, value] of Object.entries(after)) {
    const old = (before || {})[key];
    if (value && typeof value === "object" && !Array.isArray(value) && old && typeof old === "object" && !Array.isArray(old)) {
      const sub = mergePatch(old, value);
      if (Object.keys(sub).length) patch[key] = sub;
    } else if (JSON.stringify(old) !== JSON.stringify(value)) {
      patch[key] = value;
    }
  }
  return patch;
}

function connections(node) {
  const outgoing = wf.edges.filter((e) => e.from === node.id);
  const targets = wf.nodes.filter((n) => n.id !== node.id && n.type !== "trigger");
  const toId = `connect-${node.id}`;
  const to = el("select", { id: toId }, targets.map((n) => el("option", { value: n.id, text: n.name || n.id })));
  const when = branchField(node.id, `connect-${node.id}`);
  const error = el("p", { className: "error", role: "alert", hidden: true });
  return el("section", { className: "stack connections", "aria-label": "Connections" },
    el("h3", { text: "Leads to" }),
    outgoing.length ? el("ul", { className: "plain stack" }, outgoing.map((edge) => {
      const target = nodeById(edge.to);
      const text = `${target ? target.name || target.id : edge.to}${edge.when ? ` (when ${edge.when})` : ""}`;
      return el("li", { className: "row wrap" }, el("span", { className: "grow", text }),
        el("button", {
          type: "button", className: "secondary small", text: "Disconnect", "aria-label": `Disconnect from ${text}`,
          onclick: () => save([{ op: "disconnect", from: edge.from, to: edge.to, ...(edge.when ? { when: edge.when } : {}) }], { nodeId: node.id }).then((ok) => ok && showNode(nodeById(node.id))),
        }));
    })) : el("p", { className: "muted small", text: "Nothing yet." }),
    targets.length ? el("div", { className: "row wrap" },
      el("div", { className: "field" }, el("label", { for: toId, text: "Connect to" }), to), when.node,
      el("button", {
        type: "button", className: "secondary", text: "Connect",
        onclick: async () => {
          const ok = await save([{ op: "connect", from: node.id, to: to.value, ...(when.read() ? { when: when.read() } : {}) }], { nodeId: node.id });
          if (ok) showNode(nodeById(node.id)); else show(error, errors[node.id] || notice.textContent);
        },
      })) : null,
    error);
}

// --- adding a step -----------------------------------------------------------------------------------

function newId(type) {
  const taken = new Set(wf.nodes.map((n) => n.id));
  let n = 1;
  while (taken.has(`${type}_${n}`)) n += 1;
  return `${type}_${n}`;
}

function showAdd() {
  selected = null;
  inspectorHeading.textContent = "Add a step";
  const types = [...catalog.values()].filter((t) => t.type !== "trigger");
  const typeSelect = el("select", { id: "add-type" }, types.map((t) => el("option", { value: t.type, text: `${TYPE_LABELS[t.type] || t.type} — ${t.description.replace(/`/g, "")}` })));
  const after = el("select", { id: "add-after" }, wf.nodes.map((n) => el("option", { value: n.id, text: n.name || n.id })));
  const last = wf.nodes[wf.nodes.length - 1];
  after.value = last ? last.id : "";
  const when = branchField(after.value, "add");
  const idInput = el("input", { id: "add-id", pattern: "[a-z][a-z0-9_]{0,39}", required: true });
  const nameInput = el("input", { id: "add-name", maxLength: 200 });
  const holder = el("div", { className: "stack" });
  const error = el("p", { className: "error", role: "alert", hidden: true });
  let form = null;
  const build = () => {
    const type = catalog.get(typeSelect.value);
    idInput.value = newId(type.type);
    const upstream = upstreamOf(after.value);
    upstream.add(after.value);
    form = configForm(type.config_schema, structuredClone(type.example.config || {}), variablesFor(upstream), suggestions(), choices);
    holder.replaceChildren(form.node);
  };
  typeSelect.addEventListener("change", build);
  after.addEventListener("change", () => { when.update(after.value); build(); });
  const formNode = el("form", { className: "stack", "aria-label": "New step" },
    el("div", { className: "field" }, el("label", { for: "add-type", text: "Type" }), typeSelect),
    el("div", { className: "row wrap" },
      el("div", { className: "field" }, el("label", { for: "add-after", text: "After" }), after), when.node),
    el("div", { className: "row wrap" },
      el("div", { className: "field grow" }, el("label", { for: "add-name", text: "Name" }), nameInput),
      el("div", { className: "field" }, el("label", { for: "add-id", text: "Id (used in templates)" }), idInput)),
    holder, error,
    el("div", { className: "row wrap" }, el("button", { type: "submit", text: "Add step" }),
      el("button", { type: "button", className: "secondary", text: "Cancel", onclick: () => select(null) })));
  formNode.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const e of formNode.querySelectorAll(".field-error")) e.hidden = true;
    const node = { id: idInput.value.trim(), type: typeSelect.value, config: form.read() };
    if (nameInput.value.trim()) node.name = nameInput.value.trim();
    const ok = await save([
      { op: "add_node", node },
      { op: "connect", from: after.value, to: node.id, ...(when.read() ? { when: when.read() } : {}) },
    ], { formNode, nodeId: node.id });
    if (ok) select(node.id);
    else show(error, errors[node.id] || notice.textContent);
  });
  build();
  inspector.replaceChildren(formNode);
  typeSelect.focus();
}

document.getElementById("add-step").addEventListener("click", showAdd);

document.getElementById("toggle-status").addEventListener("click", async () => {
  try {
    wf = await api(`${base}/${wf.status === "active" ? "pause" : "activate"}`, { method: "POST" });
    render();
    show(notice, `The workflow is ${wf.status} now.`);
  } catch (err) {
    show(notice, readable(err));
  }
});

// --- JSON view ---------------------------------------------------------------------------------------

document.getElementById("json-save").addEventListener("click", async () => {
  const error = document.getElementById("json-error");
  show(error, "");
  let definition;
  try {
    definition = JSON.parse(document.getElementById("json-view").value);
  } catch (err) {
    show(error, "That is not valid JSON: " + err.message);
    return;
  }
  try {
    wf = await api(base, { method: "PUT", json: definition, headers: { "If-Match": `"${wf.version}"` } });
    errors = {};
    render();
    show(notice, `Saved as version ${wf.version}.`);
    loadVersions();
  } catch (err) {
    if (err.status === 412) conflict(err);
    else {
      if (err.status === 422 && Array.isArray(err.details)) {
        errors = {};
        for (const d of err.details) if (d.node) errors[d.node] = errors[d.node] || d.message;
        render();
      }
      show(error, readable(err));
    }
  }
});

// --- versions: compare and restore -------------------------------------------------------------------

async function loadVersions() {
  const target = document.getElementById("versions-list");
  try {
    const page = await api(`${base}/versions?limit=50`);
    target.replaceChildren(...page.items.map((v) => el("li", { className: "row wrap version", dataset: { version: v.version } },
      el("span", { className: "grow" }, el("strong", { text: `Version ${v.version}` }), " ", el("span", { className: "muted small", text: `${when(v.created_at)} · ${v.change_summary}` })),
      v.version === wf.version ? el("span", { className: "badge", text: "current" }) : [
        el("button", { type: "button", className: "secondary small", text: "Compare", "aria-label": `Compare version ${v.version} with the current one`, onclick: () => startCompare(v.version) }),
        el("button", { type: "button", className: "secondary small", text: "Restore", "aria-label": `Restore version ${v.version}`, onclick: () => restore(v.version) }),
      ])));
  } catch (err) {
    target.replaceChildren(el("li", { className: "error", text: readable(err) }));
  }
}

async function startCompare(version) {
  try {
    const diff = await api(`${base}/versions/compare?a=${version}&b=${wf.version}`);
    const old = await api(`${base}/versions/${version}`);
    const marks = {};
    for (const id of diff.nodes.added) marks[id] = "added";
    for (const change of diff.nodes.changed) marks[change.id] = "changed";
    for (const id of diff.nodes.removed) marks[id] = "removed";
    const removedNodes = old.nodes.filter((n) => diff.nodes.removed.includes(n.id));
    const key = (e) => `${e.from}>${e.to}>${e.when || ""}`;
    const added = new Set(diff.edges.added.map(key));
    const removed = new Set(diff.edges.removed.map(key));
    compare = {
      marks, extraNodes: removedNodes, extraEdges: diff.edges.removed,
      markedEdges: (e) => (added.has(key(e)) ? "added" : removed.has(key(e)) ? "removed" : null),
    };
    document.getElementById("compare-legend").hidden = false;
    const changed = diff.nodes.changed.map((c) => `${c.id} (${c.fields.join(", ")})`);
    show(notice, `Version ${version} → ${wf.version}: ${diff.nodes.added.length} added, ${diff.nodes.removed.length} removed, ${diff.nodes.changed.length} changed${changed.length ? ": " + changed.join("; ") : ""}.`);
    render();
    graphHolder.scrollIntoView({ block: "nearest" });
  } catch (err) {
    show(notice, readable(err));
  }
}

document.getElementById("compare-end").addEventListener("click", () => {
  compare = null;
  document.getElementById("compare-legend").hidden = true;
  render();
});

async function restore(version) {
  try {
    wf = await api(`${base}/versions/${version}/restore`, { method: "POST", headers: { "If-Match": `"${wf.version}"` } });
    compare = null;
    document.getElementById("compare-legend").hidden = true;
    errors = {};
    render();
    show(notice, `Restored version ${version} as version ${wf.version}.`);
    loadVersions();
  } catch (err) {
    if (err.status === 412) conflict(err); else show(notice, readable(err));
  }
}

// --- schedules and webhook ---------------------------------------------------------------------------

function inZone(iso, zone) {
  try {
    return new Date(iso).toLocaleString(undefined, { timeZone: zone, dateStyle: "medium", timeStyle: "short" });
  } catch (err) {
    return when(iso);
  }
}

async function loadSchedules() {
  const target = document.getElementById("schedule-list");
  try {
    const page = await api(`${base}/schedules`);
    target.replaceChildren(...page.items.map((s) => el("li", { className: "card stack schedule" },
      el("p", { className: "row wrap" }, el("code", { className: "grow", text: s.cron }), el("span", { className: "muted small", text: s.timezone }),
        s.paused ? el("span", { className: "badge", text: "paused" }) : null,
        el("button", { type: "button", className: "secondary small danger", text: "Delete", "aria-label": `Delete the schedule ${s.cron}`, onclick: async () => {
          try { await api(`${base}/schedules/${s.id}`, { method: "DELETE" }); loadSchedules(); } catch (err) { show(document.getElementById("schedule-error"), readable(err)); }
        } })),
      el("p", { className: "small muted", text: "Next runs:" }),
      el("ol", { className: "small fire-times" }, (s.next_fire_times || []).slice(0, 5).map((t) => el("li", {}, el("time", { datetime: t, text: inZone(t, s.timezone) })))))));
    if (!page.items.length) target.replaceChildren(el("li", { className: "muted small", text: "No schedules." }));
  } catch (err) {
    target.replaceChildren(el("li", { className: "error", text: readable(err) }));
  }
}

document.getElementById("schedule-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("schedule-error");
  show(error, "");
  try {
    await api(`${base}/schedules`, { method: "POST", json: { cron: document.getElementById("cron").value.trim() } });
    document.getElementById("cron").value = "";
    loadSchedules();
  } catch (err) {
    show(error, readable(err));
  }
});

async function loadWebhook() {
  const target = document.getElementById("webhook-body");
  const trigger = wf.nodes.find((n) => n.type === "trigger");
  if (!trigger || trigger.config.kind !== "webhook") {
    target.replaceChildren(el("p", { className: "muted small", text: "This workflow starts by hand or on a schedule. Set its trigger's kind to webhook to get a URL." }));
    return;
  }
  try {
    const hook = await api(`${base}/webhook`);
    const secretOut = el("div", { className: "stack" });
    target.replaceChildren(
      el("div", { className: "field" }, el("label", { for: "hook-url", text: "Webhook URL" }), el("input", { id: "hook-url", readOnly: true, value: hook.url })),
      el("p", { className: "small muted", text: hook.has_secret ? "A signing secret exists; it was shown once when it was made. Make a new one to see it again (the old one keeps working for a while)." : "No signing secret yet." }),
      el("button", { type: "button", className: "secondary", text: hook.has_secret ? "Make a new signing secret" : "Make a signing secret", onclick: async () => {
        try {
          const made = await api(`${base}/webhook/secret`, { method: "POST" });
          secretOut.replaceChildren(
            el("p", { className: "notice", role: "status", text: "Copy the secret now: it is shown only this once." }),
            el("div", { className: "field" }, el("label", { for: "hook-secret", text: "Signing secret" }), el("input", { id: "hook-secret", readOnly: true, value: made.secret })),
            el("div", { className: "field" }, el("label", { for: "hook-curl", text: "A signed test call" }), el("textarea", { id: "hook-curl", readOnly: true, rows: 4, value: made.curl })));
        } catch (err) {
          secretOut.replaceChildren(el("p", { className: "error", role: "alert", text: readable(err) }));
        }
      } }),
      secretOut,
      el("div", { className: "field" }, el("label", { for: "hook-curl-plain", text: "curl line" }), el("textarea", { id: "hook-curl-plain", readOnly: true, rows: 3, value: hook.curl })));
  } catch (err) {
    target.replaceChildren(el("p", { className: "error", text: readable(err) }));
  }
}

// --- runs --------------------------------------------------------------------------------------------

const runPanel = document.getElementById("run-panel");
let runFields = [];

document.getElementById("run-open").addEventListener("click", () => {
  const holder = document.getElementById("run-fields");
  runFields = inputNames().map((name) => {
    const id = `run-input-${name}`;
    const input = el("input", { id, type: "text" });
    holder.append();
    return { name, input, node: el("div", { className: "field" }, el("label", { for: id, text: `input.${name}` }), input) };
  });
  holder.replaceChildren(...runFields.map((f) => f.node));
  if (!runFields.length) holder.replaceChildren(el("p", { className: "muted small", text: "The steps use no input." }));
  runPanel.hidden = false;
  (runFields[0] ? runFields[0].input : document.querySelector("#run-form button")).focus();
});
document.getElementById("run-cancel").addEventListener("click", () => { runPanel.hidden = true; });

function loose(text) {
  try { return JSON.parse(text); } catch (err) { return text; }
}

document.getElementById("run-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("run-error");
  show(error, "");
  let input = {};
  for (const f of runFields) if (f.input.value !== "") input[f.name] = loose(f.input.value);
  const raw = document.getElementById("run-json").value.trim();
  if (raw) {
    try { input = { ...input, ...JSON.parse(raw) }; } catch (err) { show(error, "The JSON input is not valid JSON."); return; }
  }
  try {
    const started = await api(`${base}/run`, { method: "POST", json: { input } });
    window.location.assign(`/workflows/${workflowId}/runs/${started.run_id}`);
  } catch (err) {
    show(error, readable(err));
  }
});

async function loadRuns() {
  const filterSelect = document.getElementById("runs-filter");
  const target = document.getElementById("runs-list");
  if (!filterSelect || !target) return; // the workflow could not be shown
  const status = filterSelect.value;
  try {
    const page = await api(`${base}/executions?limit=20${status ? `&status=${status}` : ""}`);
    target.replaceChildren(...page.items.map((r) => el("li", { className: "row wrap" },
      el("a", { href: `/workflows/${workflowId}/runs/${r.id}`, text: `Run of ${when(r.created_at)}` }),
      el("span", { className: `badge ${r.status}`, text: r.status.replace("_", " ") }),
      el("span", { className: "muted small", text: `${r.trigger} · version ${r.version}` }))));
    if (!page.items.length) target.replaceChildren(el("li", { className: "muted small", text: "No runs." }));
  } catch (err) {
    target.replaceChildren(el("li", { className: "error", text: readable(err) }));
  }
}
document.getElementById("runs-filter").addEventListener("change", loadRuns);
// runs of this workflow start, wait and end live (the navigation's org stream): the list is read again
// once for each burst of this workflow's events (an event that does not say its workflow counts too)
let runsTimer = null;
document.addEventListener("live:workflow", (event) => {
  const about = event.detail && event.detail.workflow_id;
  if (about && about !== workflowId) return;
  if (!runsTimer) runsTimer = window.setTimeout(() => { runsTimer = null; loadRuns(); }, 500);
});

// --- start -------------------------------------------------------------------------------------------

async function load() {
  try {
    wf = await api(base);
  } catch (err) {
    root.replaceChildren(el("h1", { text: "Workflow not found" }), el("p", { text: readable(err) }), el("a", { href: "/workflows", text: "All workflows" }));
    return;
  }
  errors = {};
  compare = null;
  render();
  if (selected) select(selected);
  loadVersions();
  loadSchedules();
  loadWebhook();
  loadRuns();
}

const [types, agentList] = await Promise.all([
  api("/workflows/node-types").catch(() => ({ items: [] })),
  api("/agents").catch(() => ({ items: [] })),
]);
catalog = new Map(types.items.map((t) => [t.type, t]));
const orgId = document.body.dataset.org;
const [members, groups] = await Promise.all([
  api(`/orgs/${encodeURIComponent(orgId)}/members`).catch(() => []),
  api(`/orgs/${encodeURIComponent(orgId)}/groups`).catch(() => []), // admins only; others type no groups
]);
choices = {
  users: members.map((m) => ({ value: m.user_id, label: m.name ? `${m.name} (${m.email})` : m.email })),
  groups: groups.map((g) => ({ value: g.id, label: g.name })),
};
agents = agentList.items || [];
await load();
