// The top bar: sign out, and the count of approvals waiting for the signed-in person.
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

// The badge follows the org's live stream (approval events only): a request addressed to this person or
// decided changes the count at once. A slow poll stays as the fallback for a stream that cannot connect,
// and the count is read again when the tab comes back or a page says it decided something.
const BADGE_POLL_MS = 60000;
const badge = document.getElementById("approvals-badge");
const link = document.getElementById("nav-approvals");

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

function followApprovals() {
  if (typeof EventSource === "undefined") return;
  const source = new EventSource("/api/v1/events/stream?kinds=approval");
  for (const type of ["approval_requested", "approval_decided"]) {
    source.addEventListener(type, (event) => {
      refreshBadge();
      // pages showing approvals (the inbox) reread their list
      document.dispatchEvent(new CustomEvent("live:approval", { detail: JSON.parse(event.data) }));
    });
  }
  // EventSource reconnects by itself with Last-Event-ID; one refused for good (signed out) stays closed
}

if (badge) {
  refreshBadge();
  followApprovals();
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
