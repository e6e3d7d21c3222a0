// The one inbox: workflow steps and chat tool calls waiting for the signed-in person's decision,
// and the ones already decided. The org's live stream says when one arrives, gains a decision, is decided,
// expires or is voided, and the page reads the inbox again then; a slow poll covers a stream that dropped.
import { api, el, readable, show, when } from "./api.js";
import { readableValue, timeLeft } from "./readable.js";

const POLL_MS = 30000;
const list = document.getElementById("approval-list");
const empty = document.getElementById("no-approvals");
const notice = document.getElementById("approvals-notice");
const count = document.getElementById("pending-count");
const historyList = document.getElementById("history-list");
const noHistory = document.getElementById("no-history");
const orgId = document.body.dataset.org;
const me = document.body.dataset.user;

let people = new Map(); // user id -> name or email
let groups = new Map(); // group id -> name
const cards = new Map(); // approval id -> its card (kept across polls so a comment being typed survives)
const names = loadNames(); // the cards name people and groups: every read waits for these first

async function loadNames() {
  try {
    const members = await api(`/orgs/${encodeURIComponent(orgId)}/members`);
    people = new Map(members.map((m) => [m.user_id, m.name || m.email]));
  } catch (err) { /* names are a nicety; ids are shown shortened instead */ }
  try {
    const found = await api(`/orgs/${encodeURIComponent(orgId)}/groups`);
    groups = new Map(found.map((g) => [g.id, g.name]));
  } catch (err) { /* only admins may list groups */ }
}

function personName(id) {
  if (id === me) return "you";
  return people.get(id) || `someone (${String(id).slice(0, 8)})`;
}

function whoMayDecide(approval) {
  const parts = [];
  const a = approval.approvers || {};
  for (const id of a.users || []) parts.push(personName(id));
  for (const id of a.groups || []) parts.push(`the group ${groups.get(id) || "(" + String(id).slice(0, 8) + ")"}`);
  for (const role of a.roles || []) parts.push(`every ${role}`);
  return parts.join(", ") || "nobody named";
}

function stillNeeded(approval) {
  const left = Math.max(0, approval.required - approval.approvals);
  const what = approval.mode === "all" ? "everyone named must approve" : approval.mode === "quorum" ? `${approval.required} approvals needed` : "one approval is enough";
  return `${left} more ${left === 1 ? "approval" : "approvals"} needed (${what})`;
}

function kindLabel(approval) {
  return approval.kind === "workflow_step" ? "Workflow step" : "Chat tool call";
}

function linkOf(approval) {
  if (approval.link) return el("a", { href: approval.link, text: approval.kind === "workflow_step" ? "Open the run" : "Open the conversation" });
  return el("a", { href: "/chat", text: "Open the chat" });
}

// What waits, in the words of its kind: a tool call names its agent, tool and arguments; a workflow
// step shows its snapshot. Both as labelled values, not raw JSON.
function contextView(approval) {
  if (approval.kind === "tool_call") {
    return el("div", { className: "context stack" },
      el("p", {}, el("strong", { text: approval.agent }), " wants to run ", el("code", { text: approval.tool })),
      approval.summary ? el("p", { className: "muted", text: approval.summary }) : null,
      el("div", { className: "arguments" }, readableValue(approval.arguments || {})));
  }
  // a workflow step: its description and what its author chose to show; the ids are in the link
  const ctx = approval.context || {};
  const known = new Set(["workflow_id", "run_id", "node_id", "description", "show", "title"]);
  const rest = Object.fromEntries(Object.entries(ctx).filter(([k]) => !known.has(k)));
  const shown = { ...(ctx.show || {}), ...rest };
  return el("div", { className: "context stack" },
    ctx.description ? el("p", { className: "description", text: ctx.description }) : null,
    Object.keys(shown).length ? readableValue(shown) : null);
}

function labelOf(approval) {
  return approval.kind === "tool_call" ? approval.tool : approval.title;
}

function decisionsView(approval) {
  if (!approval.decisions || !approval.decisions.length) return null;
  return el("ul", { className: "decisions small" }, approval.decisions.map((d) =>
    el("li", {}, el("strong", { text: personName(d.user_id) }), ` ${d.verdict === "approve" ? "approved" : "rejected"} `,
      el("time", { text: when(d.created_at) }), d.comment ? el("q", { text: d.comment }) : null)));
}

function pendingCard(approval) {
  const error = el("p", { className: "error", role: "alert", hidden: true });
  const commentId = `comment-${approval.id}`;
  const left = el("span", { className: "time-left", text: timeLeft(approval.expires_at) });
  const headingId = `approval-title-${approval.id}`;
  const item = el("li", { className: "approval card stack", dataset: { approvalId: approval.id }, "aria-labelledby": headingId },
    el("p", { className: "muted small" }, el("span", { className: "badge", text: kindLabel(approval) }), " · asked ", el("time", { text: when(approval.created_at) })),
    el("h3", { id: headingId, text: approval.title }),
    contextView(approval),
    el("p", { className: "small" }, el("strong", { text: "Who may decide: " }), whoMayDecide(approval)),
    el("p", { className: "small needed", text: stillNeeded(approval) }),
    el("p", { className: "small" }, el("strong", { text: "Time left: " }), left),
    el("div", { className: "decided-so-far" }, decisionsView(approval)),
    el("div", { className: "field" }, el("label", { for: commentId, text: "Comment (optional)" }),
      el("textarea", { id: commentId, rows: 2, maxLength: 2000 })),
    error);
  const decide = (verb) => async () => {
    const buttons = item.querySelectorAll("button");
    for (const b of buttons) b.disabled = true;
    show(error, "");
    try {
      const comment = item.querySelector("textarea").value.trim();
      await api(`/approvals/${encodeURIComponent(approval.id)}/${verb}`, { method: "POST", json: comment ? { comment } : {} });
      show(notice, `${verb === "approve" ? "Approved" : "Rejected"} ${labelOf(approval)}.`);
      await refresh();
    } catch (err) {
      show(error, readable(err));
      for (const b of buttons) b.disabled = false;
      if (err.status === 409 || err.status === 404) await refresh();
    }
  };
  item.append(el("div", { className: "row wrap" },
    el("button", { type: "button", onclick: decide("approve"), text: "Approve", "aria-describedby": headingId }),
    el("button", { type: "button", className: "danger", onclick: decide("reject"), text: "Reject", "aria-describedby": headingId }),
    linkOf(approval)));
  item.timeLeft = left;
  item.expiresAt = approval.expires_at;
  return item;
}

function historyItem(approval) {
  const verdict = { approved: "Approved", rejected: "Rejected", expired: "Expired" }[approval.status] || approval.status;
  return el("li", { className: "card stack decided", dataset: { approvalId: approval.id } },
    el("p", { className: "row wrap small" }, el("span", { className: `badge ${approval.status}`, text: verdict }),
      el("span", { className: "muted", text: kindLabel(approval) }), el("time", { className: "muted", text: when(approval.decided_at) })),
    el("p", {}, el("strong", { text: approval.title })),
    decisionsView(approval),
    el("p", { className: "small" }, linkOf(approval)));
}

let reading = null; // the read in flight
let again = false; // something changed while it was in flight: read once more after it

// Reads come one at a time; any number of changes during a read cost one more read, not one each.
function refresh() {
  if (reading) {
    again = true;
    return reading;
  }
  reading = (async () => {
    try {
      do {
        again = false;
        await readInbox();
      } while (again);
    } finally {
      reading = null;
    }
  })();
  return reading;
}

async function readInbox() {
  await names;
  let pending;
  try {
    pending = await api("/approvals/pending");
  } catch (err) {
    show(notice, "Could not load the approvals: " + readable(err));
    return;
  }
  const seen = new Set();
  const ordered = [];
  for (const approval of pending) {
    seen.add(approval.id);
    let item = cards.get(approval.id);
    if (!item) {
      item = pendingCard(approval);
      cards.set(approval.id, item);
    } else {
      // someone else decided: one fewer needed, and their decision is listed
      item.querySelector(".needed").textContent = stillNeeded(approval);
      const decisions = decisionsView(approval);
      item.querySelector(".decided-so-far").replaceChildren(...(decisions ? [decisions] : []));
    }
    ordered.push(item);
  }
  for (const [id, item] of cards) {
    if (!seen.has(id)) { item.remove(); cards.delete(id); }
  }
  // only move what changed, so focus and a half-typed comment stay where they are
  ordered.forEach((item, index) => { if (list.children[index] !== item) list.insertBefore(item, list.children[index] || null); });
  empty.hidden = pending.length > 0;
  count.textContent = pending.length ? `(${pending.length})` : "";
  document.dispatchEvent(new CustomEvent("approvals:changed", { detail: { count: pending.length } }));
  try {
    const decided = await api("/approvals/history?limit=20");
    historyList.replaceChildren(...decided.items.map(historyItem));
    noHistory.hidden = decided.items.length > 0;
  } catch (err) { /* the pending list matters most; history comes back on the next round */ }
}

function tick() {
  for (const item of cards.values()) item.timeLeft.textContent = timeLeft(item.expiresAt);
}

// the navigation's live stream says when an approval of this person's changes; when it (re)connects, what
// changed before it did is read again
document.addEventListener("live:approval", () => refresh());
document.addEventListener("live:open", () => refresh());
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refresh(); });
await refresh();
window.setInterval(() => { if (document.visibilityState !== "hidden") refresh(); }, POLL_MS);
window.setInterval(tick, 1000);
