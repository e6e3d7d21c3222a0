// The top bar: sign out, the count of approvals waiting for the signed-in person, and the org's live stream.
import { api, readable } from "./api.js";

const button = document.getElementById("sign-out");
if (button) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api("/auth/logout", { method: "POST", redirectOn401: false });
    } catch (err) {
      // an ended session is signed out already; anything else is worth saying
      if (err.status !== 401) {
        button.disabled = false;
        window.alert("Signing out failed: " + readable(err));
        return;
      }
    }
    window.location.assign("/login");
  });
}

// One connection to the org's live stream serves the page: approval events move the badge, and a page that
// shows live lists names its kinds on <body data-live="document workflow">; each event is handed on as a
// `live:<kind>` DOM event (detail: the event's data, with `update_type`), and `live:open` when it (re)connects. A slow poll stays as the badge's
// fallback for a stream that cannot connect, and the count is read again when the tab comes back or a page
// says it decided something. EventSource reconnects by itself with Last-Event-ID, so nothing is missed.
const BADGE_POLL_MS = 60000;
const badge = document.getElementById("approvals-badge");
const link = document.getElementById("nav-approvals");
const LIVE_TYPES = {
  approval: ["approval_requested", "approval_updated", "approval_decided"],
  document: ["queued", "processing", "extracted", "progress", "retrying", "complete", "error", "deleted", "moved"],
  workflow: [
    "step_started", "step_waiting", "step_completed", "step_skipped", "step_failed", "step_retrying",
    "approval_resolved", "completed", "failed", "cancelled",
  ],
};

export function setApprovalCount(count) {
  if (!badge) return;
  badge.textContent = count > 99 ? "99+" : String(count);
  badge.hidden = count === 0;
  badge.dataset.count = String(count);
  if (link) link.setAttribute("aria-label", count ? `Approvals, ${count} waiting for you` : "Approvals");
}

async function refreshBadge() {
  if (!badge || document.visibilityState === "hidden") return;
  try {
    const counted = await api("/approvals/pending/count", { redirectOn401: false });
    setApprovalCount(counted.total);
  } catch (err) {
    // the badge is a hint; a failed poll leaves the last count and the next one tries again
  }
}

function followOrg(kinds) {
  if (typeof EventSource === "undefined" || !kinds.length) return;
  const source = new EventSource(`/api/v1/events/stream?kinds=${kinds.join(",")}`);
  for (const kind of kinds) {
    for (const type of LIVE_TYPES[kind]) {
      source.addEventListener(type, (event) => {
        let data;
        try {
          data = JSON.parse(event.data);
        } catch (err) {
          return;
        }
        if (data.kind !== kind) return; // the same type name in another kind has its own listener
        if (kind === "approval") refreshBadge();
        document.dispatchEvent(new CustomEvent(`live:${kind}`, { detail: data }));
      });
    }
  }
  // open (the server has subscribed): a page reads again what may have changed before
  source.addEventListener("open", () => document.dispatchEvent(new CustomEvent("live:open")));
  // one refused for good (signed out) stays closed; pages keep their own slow fallbacks
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) document.dispatchEvent(new CustomEvent("live:closed"));
  });
}

const pageKinds = (document.body.dataset.live || "").split(/\s+/).filter((k) => k in LIVE_TYPES);
followOrg([...new Set([...(badge ? ["approval"] : []), ...pageKinds])]);
if (badge) {
  refreshBadge();
  window.setInterval(refreshBadge, BADGE_POLL_MS);
  document.addEventListener("visibilitychange", refreshBadge);
  document.addEventListener("approvals:changed", (event) => {
    if (event.detail && typeof event.detail.count === "number") setApprovalCount(event.detail.count);
    else refreshBadge();
  });
}

// The org switcher: the active org is chosen in the header; every page then shows that org's data.
const orgSwitch = document.getElementById("org-switch");
if (orgSwitch) {
  const active = orgSwitch.value;
  orgSwitch.addEventListener("change", async () => {
    orgSwitch.disabled = true;
    try {
      await api(`/orgs/${encodeURIComponent(orgSwitch.value)}/switch`, { method: "POST" });
      // the page in hand belongs to the old org (an editor, a run): start over at the same section
      const path = window.location.pathname;
      window.location.assign(path.startsWith("/workflows/") ? "/workflows" : path);
    } catch (err) {
      orgSwitch.value = active;
      orgSwitch.disabled = false;
      window.alert("Switching organization failed: " + readable(err));
    }
  });
}

// Admins are told when no model is configured (the chat then answers from the offline responder).
const modelHint = document.getElementById("model-hint");
if (modelHint && !window.location.pathname.startsWith("/settings")) {
  api("/settings/models", { redirectOn401: false })
    .then((found) => { modelHint.hidden = Boolean(found && found.configured); })
    .catch(() => {});
}
