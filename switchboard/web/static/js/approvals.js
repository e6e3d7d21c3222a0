// The approvals inbox: chat tool calls and workflow steps waiting for the signed-in person's decision.
import { api, el, readable, show, when } from "./api.js";

const list = document.getElementById("approval-list");
const empty = document.getElementById("no-approvals");
const notice = document.getElementById("approvals-notice");

// What waits, in the words of its kind: a tool call shows its arguments; a workflow step its snapshot.
function body(approval) {
  if (approval.kind === "tool_call") {
    return [
      el("p", {}, el("strong", { text: approval.agent }), " wants to run ", el("code", { text: approval.tool })),
      approval.summary ? el("p", { className: "muted", text: approval.summary }) : null,
      el("pre", { className: "arguments", text: JSON.stringify(approval.arguments, null, 2) }),
    ];
  }
  const progress = approval.required > 1 ? ` · ${approval.approvals} of ${approval.required} approvals` : "";
  return [
    el("p", {}, el("span", { className: "muted", text: "Workflow step: " }), el("strong", { text: approval.title })),
    Object.keys(approval.context || {}).length
      ? el("pre", { className: "context", text: JSON.stringify(approval.context, null, 2) })
      : null,
    el("p", { className: "muted small", text: `Mode ${approval.mode}${progress}` }),
  ];
}

function card(approval) {
  const error = el("p", { className: "error", role: "alert", hidden: true });
  const isTool = approval.kind === "tool_call";
  const comment = isTool ? null : el("textarea", { rows: 2, maxLength: 2000, "aria-label": "Comment (optional)" });
  const item = el("li", { className: "approval card stack", dataset: { approvalId: approval.id, kind: approval.kind } },
    ...body(approval),
    el("p", { className: "muted small" },
      "Asked ", el("time", { text: when(approval.created_at) }),
      " · expires ", el("time", { text: when(approval.expires_at) }), " · ",
      el("a", { href: approval.link || "/chat", text: isTool ? "open the chat" : "open the run" })),
    comment,
    error);
  const label = isTool ? approval.tool : approval.title;
  const decide = (verb) => async () => {
    for (const b of item.querySelectorAll("button")) b.disabled = true;
    try {
      const text = comment && comment.value.trim();
      await api(`/approvals/${encodeURIComponent(approval.id)}/${verb}`, { method: "POST", json: text ? { comment: text } : {} });
      item.remove();
      empty.hidden = list.children.length > 0;
      show(notice, verb === "approve" ? `Approved ${label}.` : `Rejected ${label}.`);
    } catch (err) {
      show(error, readable(err));
      for (const b of item.querySelectorAll("button")) b.disabled = false;
    }
  };
  item.append(el("div", { className: "row" },
    el("button", { type: "button", onclick: decide("approve"), text: "Approve" }),
    el("button", { type: "button", className: "danger", onclick: decide("reject"), text: "Reject" })));
  return item;
}

async function load() {
  try {
    const pending = await api("/approvals/pending");
    list.replaceChildren(...pending.map(card));
    empty.hidden = pending.length > 0;
  } catch (err) {
    show(notice, "Could not load the approvals: " + readable(err));
  }
}

document.getElementById("refresh-approvals").addEventListener("click", () => {
  show(notice, "");
  load();
});
load();
