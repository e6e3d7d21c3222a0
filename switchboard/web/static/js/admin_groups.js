// Groups of the active org, each with its members: create, add and remove members, delete.
import { api, el, readable, show } from "./api.js";

const container = document.getElementById("group-list");
const orgId = encodeURIComponent(document.body.dataset.org);
const notice = document.getElementById("groups-notice");
const form = document.getElementById("group-form");
let members = [];

async function groupCard(group) {
  const gid = encodeURIComponent(group.id);
  const inGroup = await api(`/orgs/${orgId}/groups/${gid}/members`);
  const ids = new Set(inGroup.map((m) => m.user_id));
  const items = inGroup.map((m) => {
    const remove = el("button", { type: "button", className: "secondary danger small", text: "Remove", "aria-label": `Remove ${m.email} from ${group.name}` });
    remove.addEventListener("click", async () => {
      try {
        await api(`/orgs/${orgId}/groups/${gid}/members/${encodeURIComponent(m.user_id)}`, { method: "DELETE" });
        await load();
      } catch (err) {
        show(notice, readable(err));
      }
    });
    return el("li", { className: "row wrap item" }, el("span", { className: "grow text-wrap", text: m.name ? `${m.name} (${m.email})` : m.email }), remove);
  });
  const selectId = `add-${group.id}`;
  const others = members.filter((m) => !ids.has(m.user_id));
  const add = el("form", { className: "row wrap" },
    el("div", { className: "field grow" },
      el("label", { for: selectId, text: `Add a member to ${group.name}` }),
      el("select", { id: selectId, name: "user" }, others.map((m) => el("option", { value: m.user_id, text: m.email })))),
    el("button", { type: "submit", className: "secondary", disabled: !others.length }, "Add"));
  add.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`/orgs/${orgId}/groups/${gid}/members/${encodeURIComponent(add.user.value)}`, { method: "PUT", json: { role: "member" } });
      await load();
    } catch (err) {
      show(notice, readable(err));
    }
  });
  const remove = el("button", { type: "button", className: "secondary danger small", text: "Delete group", "aria-label": `Delete the group ${group.name}` });
  remove.addEventListener("click", async () => {
    if (!window.confirm(`Delete the group ${group.name}? Its agent settings go with it.`)) return;
    try {
      await api(`/orgs/${orgId}/groups/${gid}`, { method: "DELETE" });
      await load();
    } catch (err) {
      show(notice, readable(err));
    }
  });
  const headingId = `group-${group.id}`;
  return el("section", { className: "card stack group", dataset: { group: group.id }, "aria-labelledby": headingId },
    el("div", { className: "row wrap" }, el("h2", { id: headingId, className: "grow text-wrap", text: group.name }),
      el("a", { href: `/admin/agents?group=${gid}`, text: "Agent permissions", "aria-label": `Agent permissions of ${group.name}` }), remove),
    group.description ? el("p", { className: "muted", text: group.description }) : null,
    el("ul", { className: "plain list" }, items.length ? items : [el("li", { className: "muted", text: "No members yet." })]),
    add);
}

async function load() {
  try {
    members = await api(`/orgs/${orgId}/members`);
    const groups = await api(`/orgs/${orgId}/groups`);
    const cards = await Promise.all(groups.map(groupCard));
    container.replaceChildren(...(cards.length ? cards : [el("p", { className: "muted", text: "No groups yet." })]));
  } catch (err) {
    show(notice, "Could not load the groups: " + readable(err));
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = form.name.value.trim();
  if (!name) {
    show(notice, "Give the group a name.");
    return;
  }
  try {
    await api(`/orgs/${orgId}/groups`, { method: "POST", json: { name, description: form.description.value.trim() } });
    form.reset();
    show(notice, "");
    await load();
  } catch (err) {
    show(notice, readable(err));
  }
});

load();
