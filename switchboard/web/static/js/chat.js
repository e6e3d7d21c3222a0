// The chat page: conversations, messages, and a task's progress followed live over SSE.
import { api, el, readable, show, when } from "./api.js";

const EVENT_TYPES = [
  "queued", "task_started", "mode_selected", "plan_created", "replan_triggered", "agent_started", "agent_completed",
  "tool_started", "tool_completed", "retrieval", "text_delta", "citation", "approval_required",
  "approval_resolved", "complete", "error", "cancelled",
];
const TERMINAL_EVENTS = new Set(["complete", "error", "cancelled"]);
const STEP_EVENTS = new Set([
  "mode_selected", "plan_created", "replan_triggered", "agent_started", "agent_completed",
  "tool_started", "tool_completed", "retrieval", "approval_resolved",
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

function citationList(citations) {
  const items = citations.map((c) =>
    el("li", { className: "citation" },
      el("span", { className: "cite-number", text: `[${c.number}]` }), " ",
      el("span", { className: "cite-source", text: c.document_name || "document" }),
      c.page ? el("span", { className: "cite-page", text: `, page ${c.page}` }) : null,
      c.text ? el("blockquote", { text: c.text }) : null));
  return el("ol", { className: "plain citations", "aria-label": "Sources" }, items);
}

function messageItem(message) {
  const who = message.role === "user" ? "You" : "Switchboard";
  const item = el("li", { className: `message ${message.role}`, dataset: { taskId: message.task_id || "" } },
    el("div", { className: "meta" }, el("strong", { text: who }), " ", el("time", { text: when(message.created_at) })),
    el("div", { className: "text", text: message.content }));
  if (message.citations && message.citations.length) item.append(citationList(message.citations));
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
    this.answer = el("div", { className: "text answer", "aria-live": "polite" });
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
      this.answer.textContent = this.text;
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

  addCitation(citation) {
    if (this.citations.some((c) => c.number === citation.number)) return;
    this.citations.push(citation);
    this.sources.replaceChildren(citationList(this.citations));
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
      if (typeof payload.response === "string") {
        this.text = payload.response;
        this.answer.textContent = this.text;
      }
      for (const c of payload.citations || []) this.addCitation(c);
      this.status.textContent = "";
      this.status.hidden = true;
    } else if (type === "error") {
      this.status.textContent = "Something went wrong: " + (payload.message || "the task failed");
      this.status.className = "status error";
    } else {
      this.status.textContent = "Stopped: " + (payload.message || "the task was cancelled");
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

function renderConversations() {
  list.replaceChildren(...state.conversations.map((c) => {
    const link = el("a", { href: `/chat?c=${encodeURIComponent(c.id)}`, text: c.title || "Untitled",
      onclick: (event) => { event.preventDefault(); openConversation(c.id, true); } });
    if (c.id === state.conversationId) link.setAttribute("aria-current", "true");
    return el("li", {}, link);
  }));
  noConversations.hidden = state.conversations.length > 0;
}

async function loadConversations() {
  try {
    const page = await api("/conversations?limit=100");
    state.conversations = page.items;
    renderConversations();
  } catch (err) {
    show(notice, "Could not load your conversations: " + readable(err));
  }
}

function setTitle() {
  const found = state.conversations.find((c) => c.id === state.conversationId);
  title.textContent = state.conversationId ? (found ? found.title : "Conversation") : "New conversation";
}

async function openConversation(id, push) {
  if (state.live && !state.live.finished && state.live.conversationId !== id) {
    state.live.stop();
    state.live = null;
    setBusy(false);
  }
  state.conversationId = id;
  if (push) window.history.pushState({}, "", id ? `/chat?c=${encodeURIComponent(id)}` : "/chat");
  renderConversations();
  setTitle();
  show(notice, "");
  messages.replaceChildren();
  if (!id) return [];
  try {
    const page = await api(`/conversations/${encodeURIComponent(id)}/messages?limit=200`);
    if (state.conversationId !== id) return [];
    messages.replaceChildren(...page.items.map(messageItem));
    return page.items;
  } catch (err) {
    show(notice, err.status === 404 ? "That conversation no longer exists." : "Could not load the messages: " + readable(err));
    return [];
  }
}

// --- asking ------------------------------------------------------------------------------------

function setBusy(busy) {
  send.disabled = busy;
  cancelButton.hidden = !busy;
  cancelButton.disabled = false;
}

function taskEnded(live) {
  if (state.live === live) setBusy(false);
  loadConversations();
}

function followTask(taskId, conversationId) {
  const live = new LiveAnswer(taskId);
  live.conversationId = conversationId;
  state.live = live;
  messages.append(live.item);
  setBusy(true);
  live.follow();
  live.item.scrollIntoView({ block: "nearest" });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = question.value.trim();
  if (!text) {
    show(notice, "Type a question first.");
    question.focus();
    return;
  }
  show(notice, "");
  send.disabled = true;
  const body = { message: text, mode: mode.value };
  if (state.conversationId) body.conversation_id = state.conversationId;
  let started;
  try {
    started = await api("/chat/stream", { method: "POST", json: body });
  } catch (err) {
    send.disabled = false;
    if (err.code === "task_active") {
      show(notice, "Another of your questions is still being answered. Wait for it to finish, or stop it, before asking the next one.");
    } else {
      show(notice, "Could not send your question: " + readable(err));
    }
    return;
  }
  question.value = "";
  if (state.conversationId !== started.conversation_id) {
    state.conversationId = started.conversation_id;
    window.history.pushState({}, "", `/chat?c=${encodeURIComponent(started.conversation_id)}`);
  }
  messages.append(messageItem({ role: "user", content: text, created_at: new Date().toISOString(), citations: [] }));
  followTask(started.task_id, started.conversation_id);
  await loadConversations();
  setTitle();
});

question.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
});

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
  if (!task || task.conversation_id !== state.conversationId) return;
  // a finished task with a stored answer is in the messages already; otherwise follow the stream,
  // which replays from its start, so the timeline and the text are whole again
  const answered = shown.some((m) => m.role === "assistant" && m.task_id === task.task_id);
  if (!answered) followTask(task.task_id, task.conversation_id);
}

start();
