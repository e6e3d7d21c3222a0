// One run: each node's state moving live over the run's event stream (resumed after a reload from
// the last event seen), the Gantt timeline, every step's input, output, error and attempts; cancel;
// run again with the same input. Each event makes the page read the run again, so what it shows is
// always the journal's truth, never a guess from events alone.
import { api, el, readable, show, when } from "./api.js";
import { drawGraph, STATE_LABELS } from "./graph.js";
import { duration, readableValue } from "./readable.js";

const root = document.getElementById("run");
const workflowId = root.dataset.workflowId;
const runId = root.dataset.runId;
const base = `/workflows/${encodeURIComponent(workflowId)}`;
const runBase = `${base}/executions/${encodeURIComponent(runId)}`;
const notice = document.getElementById("run-notice");
const streamState = document.getElementById("stream-state");
const ENDED = new Set(["completed", "failed", "cancelled"]);
const LAST_ID_KEY = `run-last-event:${runId}`;

let definition = null;
let run = null;
let source = null;
let refreshTimer = null;

function stateOf(step) {
  if (!step) return "pending";
  if (step.status === "waiting") return step.waiting_for === "approval" || step.waiting_for === "confirmation" ? "waiting_approval" : "waiting";
  return step.status;
}

function latestSteps() {
  // one entry per node: its newest iteration
  const byNode = {};
  for (const step of run.steps) {
    const seen = byNode[step.node_id];
    if (!seen || step.iteration >= seen.iteration) byNode[step.node_id] = step;
  }
  return byNode;
}

function render() {
  const status = document.getElementById("run-status");
  status.textContent = run.status.replace("_", " ");
  status.className = `badge ${run.status}`;
  document.getElementById("run-title").textContent = `Run of ${definition.name}`;
  document.title = `Run of ${definition.name} · Switchboard`;
  document.getElementById("run-summary").textContent =
    `Started ${when(run.created_at)} (${run.trigger}) · version ${run.version}${run.finished_at ? ` · ended ${when(run.finished_at)}` : ""}`;
  document.getElementById("cancel-run").hidden = ENDED.has(run.status);
  if (run.status === "failed" && run.error) show(notice, `The run failed${run.error.node_id ? ` at ${run.error.node_id}` : ""}: ${run.error.message || run.error.code}`);
  else if (run.status === "cancelled") show(notice, "The run was cancelled.");
  else show(notice, "");
  const steps = latestSteps();
  const states = {};
  for (const node of definition.nodes) states[node.id] = stateOf(steps[node.id]);
  drawGraph(document.getElementById("run-graph"), definition, { states, label: `Drawing of the run: ${Object.entries(states).map(([id, s]) => `${id} ${STATE_LABELS[s] || s}`).join(", ")}` });
  renderDetails();
  const io = document.getElementById("run-io");
  io.replaceChildren(
    el("h3", { text: "Input" }), readableValue(run.input),
    el("h3", { text: "Output" }), ENDED.has(run.status) ? readableValue(run.output) : el("p", { className: "muted", text: "Not finished yet." }));
}

const openDetails = new Set();

function renderDetails() {
  const holder = document.getElementById("step-details");
  const items = run.steps.filter((s) => s.status !== "pending").map((step) => {
    const key = `${step.node_id}:${step.iteration}`;
    const node = definition.nodes.find((n) => n.id === step.node_id);
    const name = node && node.name ? node.name : step.node_id;
    const details = el("details", { className: `step-detail state-${stateOf(step)}`, dataset: { nodeId: step.node_id }, open: openDetails.has(key) },
      el("summary", {}, el("strong", { text: name }), step.iteration ? ` #${step.iteration + 1}` : "", " ",
        el("span", { className: `badge ${step.status}`, text: STATE_LABELS[stateOf(step)] || step.status }),
        step.branch ? el("span", { className: "muted small", text: ` → ${step.branch}` }) : null,
        step.attempt > 1 ? el("span", { className: "muted small", text: ` · ${step.attempt} attempts` }) : null),
      el("div", { className: "stack" },
        step.error ? el("div", { className: "error" }, el("strong", { text: "Error: " }), `${step.error.message || ""} (${step.error.code || "error"})`) : null,
        step.waiting_for === "approval" && step.approval_id ? el("p", {}, "Waiting for a decision in ", el("a", { href: "/approvals", text: "Approvals" }), ".") : null,
        el("h4", { text: "Input" }), readableValue(step.input),
        el("h4", { text: "Output" }), readableValue(step.output),
        step.attempts.length > 1 ? el("div", {}, el("h4", { text: "Attempts" }), el("ol", {}, step.attempts.map((a) =>
          el("li", {}, `${a.status}${a.error ? `: ${a.error.message || a.error.code}` : ""}${a.started_at ? ` · ${when(a.started_at)}` : ""}`)))) : null));
    details.addEventListener("toggle", () => { if (details.open) openDetails.add(key); else openDetails.delete(key); });
    return details;
  });
  holder.replaceChildren(...(items.length ? items : [el("p", { className: "muted", text: "No step has started yet." })]));
}

// widths through the CSSOM: the page's policy refuses inline style attributes
function sized(className, width) {
  const bar = el("span", { className });
  bar.style.width = width;
  return bar;
}

async function renderTimeline() {
  let timeline;
  try {
    timeline = await api(`${runBase}/timeline`);
  } catch (err) {
    return;
  }
  const list = document.getElementById("timeline");
  const start = new Date(timeline.created_at).getTime();
  const times = timeline.steps.flatMap((s) => [s.queued_at, s.started_at, s.finished_at]).filter(Boolean).map((t) => new Date(t).getTime());
  const end = Math.max(timeline.finished_at ? new Date(timeline.finished_at).getTime() : Date.now(), ...times, start + 1);
  const span = end - start;
  const pct = (ms) => `${Math.max(0, Math.min(100, (ms / span) * 100)).toFixed(2)}%`;
  const rows = timeline.steps.filter((s) => s.status !== "skipped").map((s) => {
    const queued = new Date(s.queued_at || s.started_at || timeline.created_at).getTime();
    const queueMs = s.queue_wait_ms || 0;
    const peopleMs = s.waiting_for_people_ms || 0;
    const runMs = s.run_ms || (s.started_at && !s.finished_at ? Date.now() - new Date(s.started_at).getTime() - peopleMs : 0);
    const text = `${s.node_id}: queue ${duration(queueMs)}, running ${duration(runMs)}${peopleMs ? `, waiting for people ${duration(peopleMs)}` : ""}`;
    return el("li", { className: "gantt-row", dataset: { nodeId: s.node_id } },
      el("span", { className: "gantt-label", text: s.node_id }),
      el("span", { className: "gantt-track", role: "img", "aria-label": text, title: text },
        sized("gantt-offset", pct(queued - start)), sized("bar bar-queue", pct(queueMs)),
        sized("bar bar-run", pct(runMs)), sized("bar bar-people", pct(peopleMs))),
      el("span", { className: "gantt-total muted small", text: duration(queueMs + runMs + peopleMs) }));
  });
  list.replaceChildren(...(rows.length ? rows : [el("li", { className: "muted", text: "Nothing has run yet." })]));
}

async function refresh() {
  try {
    run = await api(runBase);
  } catch (err) {
    show(notice, readable(err));
    return;
  }
  render();
  await renderTimeline();
  if (ENDED.has(run.status)) stop();
}

function soon() {
  if (refreshTimer) return;
  refreshTimer = window.setTimeout(() => { refreshTimer = null; refresh(); }, 120);
}

const EVENTS = ["step_started", "step_completed", "step_failed", "step_skipped", "step_waiting", "step_retrying",
  "approval_required", "approval_resolved", "completed", "failed", "cancelled"];

function follow() {
  const last = window.sessionStorage.getItem(LAST_ID_KEY);
  // a reload resumes after the last event this tab saw; the run's detail read above holds what came before
  source = new EventSource(`/api/v1${runBase}/events${last ? `?last_id=${encodeURIComponent(last)}` : ""}`);
  streamState.textContent = "Live";
  for (const type of EVENTS) {
    source.addEventListener(type, (event) => {
      if (event.lastEventId) window.sessionStorage.setItem(LAST_ID_KEY, event.lastEventId);
      let payload = {};
      try { payload = JSON.parse(event.data); } catch (err) { /* the refresh reads the truth anyway */ }
      if (payload.node_id && run) {
        // show the change at once; the refresh right after confirms it from the journal
        const group = document.querySelector(`#run-graph [data-node-id="${CSS.escape(payload.node_id)}"]`);
        if (group && type === "step_started") group.dataset.state = "running";
      }
      if (ENDED.has(type)) { stop(); refresh(); } else soon();
    });
  }
  source.onerror = () => {
    if (!source) return;
    if (source.readyState === EventSource.CLOSED) {
      streamState.textContent = "Not live: reload to follow the run.";
      source = null;
    } else {
      streamState.textContent = "Reconnecting…";
      soon();
    }
  };
  source.onopen = () => { streamState.textContent = "Live"; soon(); };
}

function stop() {
  if (source) { source.close(); source = null; }
  streamState.textContent = "";
}

document.getElementById("cancel-run").addEventListener("click", async (event) => {
  event.target.disabled = true;
  try {
    run = await api(`${runBase}/cancel`, { method: "POST" });
    render();
  } catch (err) {
    show(notice, readable(err));
  }
  event.target.disabled = false;
  refresh();
});

document.getElementById("run-again").addEventListener("click", async (event) => {
  event.target.disabled = true;
  try {
    const started = await api(`${base}/run`, { method: "POST", json: { input: run.input } });
    window.location.assign(`/workflows/${workflowId}/runs/${started.run_id}`);
  } catch (err) {
    show(notice, readable(err));
    event.target.disabled = false;
  }
});

async function main() {
  try {
    run = await api(runBase);
    definition = await api(`${base}/versions/${run.version}`);
  } catch (err) {
    root.replaceChildren(el("h1", { text: "Run not found" }), el("p", { text: readable(err) }), el("a", { href: "/workflows", text: "All workflows" }));
    return;
  }
  render();
  await renderTimeline();
  if (!ENDED.has(run.status)) follow();
  // while people are awaited the timeline's bars grow without events
  window.setInterval(() => { if (run && !ENDED.has(run.status)) renderTimeline(); }, 3000);
}

main();
