// The chat page: conversations, messages, and a task's progress followed live over SSE.
import { api, el, readable, show, when } from "./api.js";
import { duration, renderMarkdown } from "./markdown.js";

const EVENT_TYPES = [
  "queued", "task_started", "mode_selected", "plan_created", "replan_triggered", "agent_started", "agent_completed",
  "tool_started", "tool_completed", "retrieval", "text_delta", "citation", "approval_required",
  "approval_resolved", "hypotheses_updated", "complete", "error", "cancelled",
];
const TERMINAL_EVENTS = new Set(["complete", "error", "cancelled"]);
const STEP_EVENTS = new Set([
  "mode_selected", "plan_created", "replan_triggered", "agent_started", "agent_completed",
  "tool_started", "tool_completed", "retrieval", "approval_resolved", "hypotheses_updated",
]);

const list = document.getElementById("conversation-list");
const noConversations = document.getElementById("no-conversations");
const title = document.getElementById("conversation-title");
const messages = document.getElementById("messages");
const notice = document.getElementById("chat-notice");
const form = document.getElementById("ask-form");
const question = document.getElementById("question");
const mode = document.getElementById("mode");
const send = document.getElementById("send");
const cancelButton = document.getElementById("cancel-task");

const state = { conversationId: null, conversations: [], live: null };

// --- rendering -------------------------------------------------------------------------------

const MODE_DESCRIPTIONS = {
  auto: "Auto picks a mode from the question: Ask for a direct question, Research for several parts, Investigate for a why.",
  ask: "Ask: one search-and-answer pass; a weak answer turns into research.",
  research: "Research: splits the question into steps, searches each, then writes one answer.",
  investigate: "Investigate: tests a few explanations against your documents, then writes what holds up.",
};

const elsewhere = document.getElementById("elsewhere");

function citePrefix(taskId) {
  return `cite-${taskId || "x"}`;
}

function citationList(citations, taskId) {
  const items = citations.map((c) =>
    el("li", { className: "citation", id: `${citePrefix(taskId)}-${c.number}`, tabindex: "-1" },
      el("span", { className: "cite-number", text: `[${c.number}]` }), " ",
      c.document_id
        ? el("a", { className: "cite-source", href: `/documents/${encodeURIComponent(c.document_id)}`, text: c.document_name || "document" })
        : el("span", { className: "cite-source", text: c.document_name || "document" }),
      c.page ? el("span", { className: "cite-page", text: `, page ${c.page}` }) : null,
      c.text ? el("blockquote", { text: c.text }) : null));
  return el("ol", { className: "plain citations", "aria-label": "Sources" }, items);
}

function renderAnswer(target, text, citations, taskId) {
  const numbers = new Set(citations.map((c) => c.number));
  renderMarkdown(target, text, citePrefix(taskId), (n) => numbers.has(n));
}

// The kept steps of an answer, with how long each took, in words.
function timelineOf(steps) {
  if (!steps || !steps.length) return null;
  const total = steps[steps.length - 1].at - steps[0].at;
  const list = el("ol", { className: "steps" }, steps.map((step, i) => {
    const next = steps[i + 1];
    const took = next ? duration(next.at - step.at) : "";
    const who = [step.agent, step.tool].filter(Boolean).join(" › ");
    return el("li", { className: `step ${step.type}` },
      el("span", { className: "step-kind", text: step.type.replace(/_/g, " ") }), " ",
      who ? el("span", { className: "step-who", text: who + ": " }) : null,
      el("span", { text: step.message || "" }),
      took ? el("span", { className: "step-took muted", text: ` (${took})` }) : null);
  }));
  return el("details", { className: "timeline" },
    el("summary", { text: `Steps: ${steps.length}, ${duration(total)} in all` }), list);
}

function answerActions(getText, taskId) {
  const copied = el("span", { className: "muted small copied", role: "status" });
  const copy = el("button", {
    type: "button", className: "secondary small", text: "Copy",
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(getText());
        copied.textContent = "Copied";
      } catch (err) {
        copied.textContent = "Could not copy: select the text instead";
      }
    },
  });
  const again = el("button", {
    type: "button", className: "secondary small regenerate", text: "Regenerate",
    onclick: () => regenerate(taskId),
  });
  return el("div", { className: "answer-actions row" }, copy, again, copied);
}

function messageItem(message) {
  const who = message.role === "user" ? "You" : "Switchboard";
  const item = el("li", { className: `message ${message.role}`, dataset: { taskId: message.task_id || "" } },
    el("div", { className: "meta" }, el("strong", { text: who }), " ", el("time", { text: when(message.created_at) })));
  if (message.role === "user") {
    item.append(el("div", { className: "text plain-text", text: message.content }));
    return item;
  }
  const timeline = timelineOf(message.steps);
  if (timeline) item.append(timeline);
  const text = el("div", { className: "text answer markdown" });
  renderAnswer(text, message.content, message.citations || [], message.task_id);
  item.append(text);
  if (message.citations && message.citations.length) item.append(citationList(message.citations, message.task_id));
  if (message.status === "cancelled") item.append(el("p", { className: "status muted", text: "Stopped: the answer ends here." }));
  item.append(answerActions(() => message.content, message.task_id));
  return item;
}

function stepLine(payload) {
  const who = [payload.agent, payload.tool].filter(Boolean).join(" › ");
  const line = el("li", { className: `step ${payload.update_type}` },
    el("span", { className: "step-kind", text: payload.update_type.replace(/_/g, " ") }), " ",
    who ? el("span", { className: "step-who", text: who + ": " }) : null,
    el("span", { text: payload.message || "" }));
  const steps = payload.update_type === "plan_created" && payload.data && payload.data.steps;
  if (Array.isArray(steps)) {
    line.append(el("ol", { className: "plan" }, steps.map((s) => el("li", { text: typeof s === "string" ? s : JSON.stringify(s) }))));
  }
  return line;
}

// One answer being written: its step timeline, growing text, approvals, sources and outcome.
class LiveAnswer {
  constructor(taskId) {
    this.taskId = taskId;
    this.text = "";
    this.citations = [];
    this.steps = el("ol", { className: "steps" });
    this.timeline = el("details", { className: "timeline", open: true },
      el("summary", { text: "Steps" }), this.steps);
    this.approvals = el("div", { className: "approvals" });
    this.answer = el("div", { className: "text answer markdown" });
    this.rendering = false;
    this.status = el("p", { className: "status", role: "status", text: "Waiting for a worker…" });
    this.sources = el("div", { className: "sources" });
    this.item = el("li", { className: "message assistant live", dataset: { taskId } },
      el("div", { className: "meta" }, el("strong", { text: "Switchboard" })),
      this.timeline, this.approvals, this.answer, this.sources, this.status);
    this.source = null;
    this.finished = false;
  }

  follow() {
    this.source = new EventSource(`/api/v1/chat/${encodeURIComponent(this.taskId)}/progress`);
    for (const type of EVENT_TYPES) {
      this.source.addEventListener(type, (event) => this.handle(type, event));
    }
    this.source.onerror = (event) => {
      // a task's own "error" event has data and is handled above; this is about the connection
      if (this.finished || event.data !== undefined) return;
      // EventSource reconnects by itself, sending Last-Event-ID; a refused stream (readyState CLOSED) does not
      if (this.source.readyState === EventSource.CLOSED) {
        this.status.textContent = "Lost the connection to the progress stream; reload the page to try again.";
        this.status.className = "status error";
        taskEnded(this);
      } else {
        this.status.textContent = "Reconnecting…";
      }
    };
  }

  handle(type, event) {
    let payload;
    try {
      payload = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    payload.update_type = payload.update_type || type;
    if (type === "text_delta") {
      this.text += payload.message || "";
      this.scheduleRender();
      this.status.textContent = "Writing…";
    } else if (type === "citation") {
      this.addCitation(payload.data || {});
    } else if (type === "approval_required") {
      this.steps.append(stepLine(payload));
      this.askApproval(payload);
      this.status.textContent = "Waiting for your approval…";
    } else if (type === "approval_resolved") {
      this.steps.append(stepLine(payload));
      const id = payload.approval_id || (payload.data && payload.data.approval_id);
      for (const box of this.approvals.querySelectorAll(".approval")) {
        if (!id || box.dataset.approvalId === id) box.remove();
      }
    } else if (TERMINAL_EVENTS.has(type)) {
      this.end(type, payload);
    } else {
      if (STEP_EVENTS.has(type)) this.steps.append(stepLine(payload));
      if (type === "queued") this.status.textContent = "Waiting for a worker…";
      if (type === "task_started") this.status.textContent = "Working…";
    }
  }

  // Markdown is rendered at most once a frame while the text streams in.
  scheduleRender() {
    if (this.rendering) return;
    this.rendering = true;
    requestAnimationFrame(() => {
      this.rendering = false;
      renderAnswer(this.answer, this.text, this.citations, this.taskId);
    });
  }

  addCitation(citation) {
    if (this.citations.some((c) => c.number === citation.number)) return;
    this.citations.push(citation);
    this.citations.sort((a, b) => a.number - b.number);
    this.sources.replaceChildren(citationList(this.citations, this.taskId));
    this.scheduleRender();
  }

  askApproval(payload) {
    const id = payload.approval_id;
    const args = (payload.data && payload.data.arguments) || {};
    const box = el("section", { className: "approval card", dataset: { approvalId: id || "" }, "aria-label": "Approval needed" },
      el("p", {}, el("strong", { text: "Approval needed: " }),
        el("span", { text: `${payload.agent || "an agent"} wants to run ` }), el("code", { text: payload.tool || "a tool" })),
      el("pre", { className: "arguments", text: JSON.stringify(args, null, 2) }));
    const error = el("p", { className: "error", role: "alert", hidden: true });
    const decide = (verb) => async () => {
      for (const b of box.querySelectorAll("button")) b.disabled = true;
      try {
        await api(`/approvals/${encodeURIComponent(id)}/${verb}`, { method: "POST", json: {} });
        box.replaceChildren(el("p", { className: "muted", text: verb === "approve" ? "Approved; continuing…" : "Rejected; continuing without it…" }));
      } catch (err) {
        show(error, readable(err));
        for (const b of box.querySelectorAll("button")) b.disabled = false;
      }
    };
    box.append(el("div", { className: "row" },
      el("button", { type: "button", onclick: decide("approve"), text: "Approve" }),
      el("button", { type: "button", className: "danger", onclick: decide("reject"), text: "Reject" })), error);
    this.approvals.append(box);
  }

  end(type, payload) {
    this.finished = true;
    this.source.close();
    this.timeline.open = false;
    this.approvals.replaceChildren();
    if (type === "complete") {
      if (typeof payload.response === "string") this.text = payload.response;
      const final = payload.citations || [];
      if (final.length || this.citations.length) {
        this.citations = [];
        for (const c of final) this.addCitation(c);
        if (!final.length) this.sources.replaceChildren();
      }
      renderAnswer(this.answer, this.text, this.citations, this.taskId);
      this.status.textContent = "";
      this.status.hidden = true;
      this.item.append(answerActions(() => this.text, this.taskId));
    } else if (type === "error") {
      this.status.textContent = "Something went wrong: " + (payload.message || "the task failed");
      this.status.className = "status error";
    } else {
      renderAnswer(this.answer, this.text, this.citations, this.taskId);
      this.status.textContent = this.text ? "Stopped: the answer ends here." : "Stopped before any answer was written.";
      this.status.className = "status muted";
    }
    taskEnded(this);
  }

  stop() {
    this.finished = true;
    if (this.source) this.source.close();
  }
}

// --- conversations -----------------------------------------------------------------------------

const searchBox = document.getElementById("conversation-q");
const threadActions = document.getElementById("thread-actions");
const renameForm = document.getElementById("rename-form");
const renameTitle = document.getElementById("rename-title");
const modeDescription = document.getElementById("mode-description");

function renderConversations() {
  list.replaceChildren(...state.conversations.map((c) => {
    const link = el("a", { href: `/chat?c=${encodeURIComponent(c.id)}`, text: c.title || "Untitled",
      onclick: (event) => { event.preventDefault(); openConversation(c.id, true); } });
    if (c.id === state.conversationId) link.setAttribute("aria-current", "true");
    return el("li", {}, link);
  }));
  noConversations.textContent = searchBox.value.trim() ? "No conversation matches." : "No conversations yet.";
  noConversations.hidden = state.conversations.length > 0;
}

async function loadConversations() {
  const q = searchBox.value.trim();
  try {
    const page = await api("/conversations?limit=100" + (q ? `&q=${encodeURIComponent(q)}` : ""));
    if (q !== searchBox.value.trim()) return;
    state.conversations = page.items;
    if (!q) state.allConversations = page.items;
    renderConversations();
    setTitle();
  } catch (err) {
    show(notice, "Could not load your conversations: " + readable(err));
  }
}

let searchTimer = null;
searchBox.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(loadConversations, 250);
});
document.getElementById("conversation-search").addEventListener("submit", (event) => {
  event.preventDefault();
  loadConversations();
});

function setTitle() {
  const known = [...state.conversations, ...(state.allConversations || [])];
  const found = known.find((c) => c.id === state.conversationId);
  if (!state.conversationId) title.textContent = "New conversation";
  else if (found) title.textContent = found.title || "Untitled";
  threadActions.hidden = !state.conversationId;
}

// While an answer is being written in another conversation, Stop stays here and says where.
function showElsewhere() {
  const live = state.live;
  const away = live && !live.finished && live.conversationId !== state.conversationId;
  elsewhere.replaceChildren();
  elsewhere.hidden = !away;
  send.disabled = Boolean(live && !live.finished && !away);
  if (away) {
    elsewhere.append("An answer is still being written in another conversation. ",
      el("a", { href: `/chat?c=${encodeURIComponent(live.conversationId)}`, text: "Go to it",
        onclick: (event) => { event.preventDefault(); openConversation(live.conversationId, true); } }),
      " or press Stop to end it.");
  }
}

async function openConversation(id, push) {
  state.conversationId = id;
  if (push) window.history.pushState({}, "", id ? `/chat?c=${encodeURIComponent(id)}` : "/chat");
  renderConversations();
  setTitle();
  show(notice, "");
  renameForm.hidden = true;
  messages.replaceChildren();
  showElsewhere();
  if (!id) return [];
  try {
    const page = await api(`/conversations/${encodeURIComponent(id)}/messages?limit=200`);
    if (state.conversationId !== id) return [];
    const live = state.live;
    const shown = page.items.filter((m) => !(live && !live.finished && m.task_id === live.taskId && m.role === "assistant"));
    messages.replaceChildren(...shown.map(messageItem));
    if (live && !live.finished && live.conversationId === id) messages.append(live.item);
    return page.items;
  } catch (err) {
    show(notice, err.status === 404 ? "That conversation no longer exists." : "Could not load the messages: " + readable(err));
    return [];
  }
}

document.getElementById("rename-conversation").addEventListener("click", () => {
  renameTitle.value = title.textContent;
  renameForm.hidden = false;
  renameTitle.focus();
});
document.getElementById("rename-cancel").addEventListener("click", () => { renameForm.hidden = true; });
renameForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = state.conversationId;
  try {
    const renamed = await api(`/conversations/${encodeURIComponent(id)}`, { method: "PATCH", json: { title: renameTitle.value } });
    title.textContent = renamed.title;
    renameForm.hidden = true;
    await loadConversations();
  } catch (err) {
    show(notice, "Could not rename the conversation: " + readable(err));
  }
});
document.getElementById("delete-conversation").addEventListener("click", async () => {
  const id = state.conversationId;
  if (!id || !window.confirm(`Delete “${title.textContent}” and its messages?`)) return;
  try {
    await api(`/conversations/${encodeURIComponent(id)}`, { method: "DELETE" });
    await openConversation(null, true);
    await loadConversations();
  } catch (err) {
    show(notice, "Could not delete the conversation: " + readable(err));
  }
});

// --- asking ------------------------------------------------------------------------------------

// Stop shows while an answer is being written, wherever it is; Send waits only in that answer's
// conversation (elsewhere the server says plainly that another answer is still running).
function setBusy(busy) {
  send.disabled = busy && Boolean(state.live) && state.live.conversationId === state.conversationId;
  cancelButton.hidden = !busy;
  cancelButton.disabled = false;
}

function taskEnded(live) {
  if (state.live === live) setBusy(false);
  showElsewhere();
  loadConversations();
}

function followTask(taskId, conversationId) {
  const live = new LiveAnswer(taskId);
  live.conversationId = conversationId;
  state.live = live;
  setBusy(true);
  live.follow();
  if (conversationId === state.conversationId) {
    messages.append(live.item);
    live.item.scrollIntoView({ block: "nearest" });
  }
  showElsewhere();
}

async function ask(text, chosenMode) {
  show(notice, "");
  send.disabled = true;
  const body = { message: text, mode: chosenMode };
  if (state.conversationId) body.conversation_id = state.conversationId;
  let started;
  try {
    started = await api("/chat/stream", { method: "POST", json: body });
  } catch (err) {
    send.disabled = Boolean(state.live && !state.live.finished);
    if (err.code === "task_active") {
      show(notice, "Another of your questions is still being answered. Wait for it to finish, or press Stop, before asking the next one.");
    } else {
      show(notice, "Could not send your question: " + readable(err));
    }
    return false;
  }
  if (state.conversationId !== started.conversation_id) {
    state.conversationId = started.conversation_id;
    window.history.pushState({}, "", `/chat?c=${encodeURIComponent(started.conversation_id)}`);
  }
  messages.append(messageItem({ role: "user", content: text, created_at: new Date().toISOString(), citations: [] }));
  followTask(started.task_id, started.conversation_id);
  await loadConversations();
  return true;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = question.value.trim();
  if (!text) {
    show(notice, "Type a question first.");
    question.focus();
    return;
  }
  if (await ask(text, mode.value)) question.value = "";
});

// Ask the question of an answer again (the answer stays; a new one follows it).
async function regenerate(taskId) {
  if (!taskId) return;
  try {
    const task = await api(`/chat/${encodeURIComponent(taskId)}`);
    await ask(task.question, task.mode);
  } catch (err) {
    show(notice, "Could not ask again: " + readable(err));
  }
}

question.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    if (!send.disabled) form.requestSubmit();
  }
});

function describeMode() {
  modeDescription.textContent = MODE_DESCRIPTIONS[mode.value] || "";
}
mode.addEventListener("change", describeMode);
describeMode();

cancelButton.addEventListener("click", async () => {
  if (!state.live) return;
  cancelButton.disabled = true;
  try {
    await api(`/chat/${encodeURIComponent(state.live.taskId)}/cancel`, { method: "POST" });
  } catch (err) {
    show(notice, "Could not stop the task: " + readable(err));
    cancelButton.disabled = false;
  }
});

document.getElementById("new-conversation").addEventListener("click", () => {
  openConversation(null, true);
  question.focus();
});

window.addEventListener("popstate", () => {
  openConversation(new URLSearchParams(window.location.search).get("c"), false);
});

// --- start: pick up a task that is still running (or just finished) after a reload -------------

async function start() {
  const wanted = new URLSearchParams(window.location.search).get("c");
  const [, active] = await Promise.all([
    loadConversations(),
    api("/chat/active").catch(() => ({ task: null })),
  ]);
  const task = active && active.task;
  const id = wanted || (task ? task.conversation_id : null);
  if (!wanted && id) window.history.replaceState({}, "", `/chat?c=${encodeURIComponent(id)}`);
  const shown = await openConversation(id, false);
  if (!task) return;
  if (task.conversation_id !== state.conversationId) {
    // still being answered in another conversation: follow it there, with Stop here
    if (["queued", "processing", "awaiting_approval"].includes(task.status)) followTask(task.task_id, task.conversation_id);
    return;
  }
  // a finished task with a stored answer is in the messages already; otherwise follow the stream,
  // which replays from its start, so the timeline and the text are whole again
  const answered = shown.some((m) => m.role === "assistant" && m.task_id === task.task_id);
  if (!answered) followTask(task.task_id, task.conversation_id);
}

start();
