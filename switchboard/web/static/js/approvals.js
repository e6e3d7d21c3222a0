// The approvals inbox: tool calls waiting for the signed-in person's decision.
import { api, el, readable, show, when } from "./api.js";

const list = document.getElementById("approval-list");
const empty = document.getElementById("no-approvals");
const notice = document.getElementById("approvals-notice");

function card(approval) {
  const error = el("p", { className: "error", role: "alert", hidden: true });
  const item = el("li", { className: "approval card stack", dataset: { approvalId: approval.id } },
    el("p", {}, el("strong", { text: approval.agent }), " wants to run ", el("code", { text: approval.tool })),
    approval.summary ? el("p", { className: "muted", text: approval.summary }) : null,
    el("pre", { className: "arguments", text: JSON.stringify(approval.arguments, null, 2) }),
    el("p", { className: "muted small" },
      "Asked ", el("time", { text: when(approval.created_at) }),
      " · expires ", el("time", { text: when(approval.expires_at) }), " · ",
      el("a", { href: "/chat", text: "open the chat" })),
    error);
  const decide = (verb) => async () => {
    for (const b of item.querySelectorAll("button")) b.disabled = true;
    try {
      await api(`/approvals/${encodeURIComponent(approval.id)}/${verb}`, { method: "POST", json: {} });
      item.remove();
      empty.hidden = list.children.length > 0;
      show(notice, verb === "approve" ? `Approved ${approval.tool}.` : `Rejected ${approval.tool}.`);
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
