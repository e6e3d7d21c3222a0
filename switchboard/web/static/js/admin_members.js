// Members and their roles, and invitations (the link shown once after inviting).
import { api, el, readable, show, when } from "./api.js";

const orgId = encodeURIComponent(document.body.dataset.org);
const rows = document.getElementById("member-rows");
const notice = document.getElementById("members-notice");
const ROLES = ["owner", "admin", "member"];
const me = document.body.dataset.user;

function memberRow(member) {
  const roleId = `role-${member.user_id}`;
  const role = el("select", { id: roleId }, ROLES.map((r) => el("option", { value: r, selected: r === member.role, text: r })));
  role.addEventListener("change", async () => {
    role.disabled = true;
    try {
      await api(`/orgs/${orgId}/members/${encodeURIComponent(member.user_id)}`, { method: "PATCH", json: { role: role.value } });
      show(notice, "");
    } catch (err) {
      role.value = member.role;
      show(notice, `Could not change the role of ${member.email}: ` + readable(err));
    } finally {
      role.disabled = false;
    }
  });
  const remove = el("button", { type: "button", className: "secondary danger small", text: "Remove", "aria-label": `Remove ${member.email}` });
  remove.addEventListener("click", async () => {
    if (!window.confirm(`Remove ${member.email} from this organization?`)) return;
    try {
      await api(`/orgs/${orgId}/members/${encodeURIComponent(member.user_id)}`, { method: "DELETE" });
      await loadMembers();
    } catch (err) {
      show(notice, readable(err));
    }
  });
  return el("tr", { dataset: { user: member.user_id } },
    el("td", {}, el("div", { className: "text-wrap" }, el("strong", { text: member.name || member.email })),
      el("div", { className: "muted small text-wrap", text: member.email })),
    el("td", { dataset: { label: "Role" } }, el("label", { for: roleId, className: "visually-hidden", text: `Role of ${member.email}` }), role),
    el("td", { className: "small", dataset: { label: "Joined" }, text: when(member.joined_at) }),
    el("td", {}, el("div", { className: "row wrap" },
      el("a", { href: `/admin/agents?user=${encodeURIComponent(member.user_id)}`, text: "Permissions", "aria-label": `Permissions of ${member.email}` }),
      member.user_id === me ? null : remove)));
}

async function loadMembers() {
  const members = await api(`/orgs/${orgId}/members`);
  rows.replaceChildren(...members.map(memberRow));
}

// --- invitations ---------------------------------------------------------------------------
const form = document.getElementById("invite-form");
const error = document.getElementById("invite-error");
const list = document.getElementById("invitation-list");

function invitationItem(invitation) {
  const revoke = el("button", { type: "button", className: "secondary danger small", text: "Revoke", "aria-label": `Revoke the invitation of ${invitation.email}` });
  revoke.addEventListener("click", async () => {
    try {
      await api(`/orgs/${orgId}/invitations/${encodeURIComponent(invitation.id)}`, { method: "DELETE" });
      await loadInvitations();
    } catch (err) {
      show(error, readable(err));
    }
  });
  return el("li", { className: "row wrap item" },
    el("span", { className: "grow text-wrap" }, el("strong", { text: invitation.email }), " as ", invitation.role,
      el("span", { className: "muted small", text: ` · until ${when(invitation.expires_at)}` })), revoke);
}

async function loadInvitations() {
  const open = await api(`/orgs/${orgId}/invitations`);
  list.replaceChildren(...(open.length ? open.map(invitationItem) : [el("li", { className: "muted", text: "No open invitations." })]));
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  show(error, "");
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  try {
    const created = await api(`/orgs/${orgId}/invitations`, { method: "POST", json: { email: form.email.value.trim(), role: form.role.value } });
    document.getElementById("invite-link-value").value = `${window.location.origin}/invitations/${created.token}`;
    document.getElementById("invite-link").hidden = false;
    form.reset();
    await loadInvitations();
  } catch (err) {
    show(error, readable(err));
  } finally {
    submit.disabled = false;
  }
});

Promise.all([loadMembers(), loadInvitations()]).catch((err) => show(notice, "Could not load the members: " + readable(err)));
