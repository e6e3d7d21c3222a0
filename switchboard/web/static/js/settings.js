// The person's own settings. Every section reads and writes through the public API; secrets the server
// shows once (an API key, recovery codes) are shown once here too and never stored by the page.
import { api, el, readable, show, when } from "./api.js";

const notice = document.getElementById("settings-notice");
const alertOf = (form) => form.querySelector("[role=alert]");

// Submits `form` through `action` with its submit button disabled; errors go to the form's alert.
function onSubmit(form, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = form.querySelector("button[type=submit]");
    const alert = alertOf(form) || notice;
    submit.disabled = true;
    show(alert, "");
    try {
      await action();
    } catch (err) {
      show(alert, readable(err));
    } finally {
      submit.disabled = false;
    }
  });
}

// --- profile -------------------------------------------------------------------------------
const profileForm = document.getElementById("profile-form");
let me = null;

onSubmit(profileForm, async () => {
  const saved = await api("/auth/profile", { method: "PUT", json: { name: profileForm.name.value.trim() } });
  profileForm.querySelector(".status").textContent = `Saved: ${saved.name}`;
});

// --- password ------------------------------------------------------------------------------
const passwordForm = document.getElementById("password-form");
onSubmit(passwordForm, async () => {
  const body = { current_password: passwordForm.current_password.value, new_password: passwordForm.new_password.value };
  if (body.new_password.length < 8) throw new Error("The new password needs at least 8 characters.");
  await api("/auth/password", { method: "POST", json: body, redirectOn401: false });
  // every session ended with the change: sign in again with the new password
  window.location.assign("/login?next=/settings");
});

// --- two-factor ----------------------------------------------------------------------------
const twoState = document.getElementById("two-factor-state");
const twoOff = document.getElementById("two-factor-off");
const enableForm = document.getElementById("two-factor-enable");
const disableForm = document.getElementById("two-factor-disable");
const recovery = document.getElementById("recovery");

function showTwoFactor(on) {
  twoState.textContent = on
    ? "On: signing in asks for a code from your authenticator app."
    : "Off: signing in needs only your password.";
  twoOff.hidden = on;
  disableForm.hidden = !on;
}

document.getElementById("two-factor-start").addEventListener("click", async (event) => {
  event.target.disabled = true;
  try {
    const seed = await api("/auth/2fa/setup", { method: "POST" });
    document.getElementById("two-factor-qr").src = seed.qr_data_url;
    document.getElementById("two-factor-secret").value = seed.secret;
    enableForm.hidden = false;
    event.target.hidden = true;
    enableForm.code.focus();
  } catch (err) {
    show(notice, readable(err));
    event.target.disabled = false;
  }
});

onSubmit(enableForm, async () => {
  const answer = await api("/auth/2fa/enable", { method: "POST", json: { code: enableForm.code.value.trim() }, redirectOn401: false });
  document.getElementById("recovery-codes").replaceChildren(...answer.recovery_codes.map((c) => el("li", {}, el("code", { text: c }))));
  recovery.hidden = false;
  enableForm.hidden = true;
  showTwoFactor(true);
});

onSubmit(disableForm, async () => {
  await api("/auth/2fa/disable", {
    method: "POST",
    json: { password: disableForm.password.value, code: disableForm.code.value.trim() },
    redirectOn401: false,
  });
  disableForm.reset();
  recovery.hidden = true;
  document.getElementById("two-factor-start").hidden = false;
  document.getElementById("two-factor-start").disabled = false;
  showTwoFactor(false);
});

// --- API keys ------------------------------------------------------------------------------
const keyForm = document.getElementById("api-key-form");
const keyList = document.getElementById("api-key-list");
const keyError = document.getElementById("api-key-error");

function keyItem(key) {
  const revoke = el("button", { type: "button", className: "secondary danger small", text: "Revoke", "aria-label": `Revoke ${key.name}` });
  revoke.addEventListener("click", async () => {
    if (!window.confirm(`Revoke the key "${key.name}"? Whatever uses it stops working.`)) return;
    revoke.disabled = true;
    try {
      await api(`/auth/api-keys/${encodeURIComponent(key.id)}`, { method: "DELETE" });
      await loadKeys();
    } catch (err) {
      show(keyError, readable(err));
      revoke.disabled = false;
    }
  });
  const used = key.last_used_at ? `last used ${when(key.last_used_at)}` : "never used";
  return el("li", { className: "row wrap item", dataset: { key: key.id } },
    el("span", { className: "grow" }, el("strong", { text: key.name }), " ", el("code", { text: `${key.prefix}…` }),
      el("span", { className: "muted small", text: ` created ${when(key.created_at)}, ${used}` })),
    key.revoked_at ? el("span", { className: "badge", text: "revoked" }) : revoke);
}

async function loadKeys() {
  const keys = await api("/auth/api-keys");
  const live = keys.filter((k) => !k.revoked_at);
  keyList.replaceChildren(...(live.length ? live.map(keyItem) : [el("li", { className: "muted", text: "No API keys yet." })]));
}

onSubmit(keyForm, async () => {
  show(keyError, "");
  const name = keyForm.name.value.trim();
  if (!name) throw new Error("Give the key a name.");
  const created = await api("/auth/api-keys", { method: "POST", json: { name } });
  document.getElementById("new-key-value").value = created.key;
  document.getElementById("new-key").hidden = false;
  keyForm.reset();
  await loadKeys();
});
keyForm.addEventListener("submit", () => show(keyError, ""));

document.getElementById("copy-key").addEventListener("click", async (event) => {
  const field = document.getElementById("new-key-value");
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    event.target.textContent = "Copied";
  } catch (err) {
    event.target.textContent = "Select and copy";
  }
});

// --- model ---------------------------------------------------------------------------------
const modelForm = document.getElementById("model-form");
const modelState = document.getElementById("model-state");
const modelResult = document.getElementById("model-result");
const scopeSelect = document.getElementById("model-scope");
let providers = [];

const scope = () => (scopeSelect ? scopeSelect.value : "user");

function describe(found) {
  if (!found.configured) {
    return scope() === "organization"
      ? "The organization has no model of its own."
      : "No model of your own: the organization's or the platform's is used (without one, the offline responder answers).";
  }
  const tested = found.validated_at ? `tested ${when(found.validated_at)}` : "not tested yet";
  const key = found.has_api_key ? `key …${found.api_key_hint || ""}` : "no key";
  return `${found.chat_model} at ${found.base_url} (${key}, ${tested})` + (found.api_key_problem ? ` — ${found.api_key_problem}` : "");
}

function fillProvider(id) {
  const chosen = providers.find((p) => p.id === id) || providers[0];
  if (!chosen) return;
  modelForm.base_url.placeholder = chosen.default_base_url || "https://…/v1";
  modelForm.chat_model.placeholder = chosen.example_chat_model || "";
}

async function loadModel() {
  const found = await api(`/settings/models?scope=${scope()}`);
  modelState.textContent = describe(found);
  modelForm.provider.value = found.provider || modelForm.provider.value || "openai_compatible";
  modelForm.base_url.value = found.base_url || "";
  modelForm.chat_model.value = found.chat_model || "";
  modelForm.api_key.value = "";
  fillProvider(modelForm.provider.value);
}

function modelBody() {
  const body = { provider: modelForm.provider.value, chat_model: modelForm.chat_model.value.trim() };
  if (modelForm.base_url.value.trim()) body.base_url = modelForm.base_url.value.trim();
  if (modelForm.api_key.value) body.api_key = modelForm.api_key.value;
  return body;
}

onSubmit(modelForm, async () => {
  show(modelResult, "");
  const body = modelBody();
  if (!body.chat_model) throw new Error("Name the chat model (for example gpt-4o-mini).");
  await api(`/settings/models?scope=${scope()}`, { method: "PUT", json: body });
  await loadModel();
  show(modelResult, "Saved. Test the connection to be sure it answers.");
});

document.getElementById("model-test").addEventListener("click", async (event) => {
  const alert = alertOf(modelForm);
  show(alert, "");
  show(modelResult, "");
  event.target.disabled = true;
  event.target.textContent = "Testing…";
  try {
    const body = { ...modelBody(), scope: scope() };
    if (!body.chat_model) delete body.chat_model;
    const answer = await api("/settings/models/validate", { method: "POST", json: body });
    await loadModel();
    show(modelResult, `Connected: ${answer.chat_model} answered in ${answer.latency_ms} ms ("${answer.reply}").`);
  } catch (err) {
    show(alert, "The test failed: " + readable(err));
  } finally {
    event.target.disabled = false;
    event.target.textContent = "Test connection";
  }
});

document.getElementById("model-remove").addEventListener("click", async () => {
  if (!window.confirm("Remove these model settings?")) return;
  try {
    await api(`/settings/models?scope=${scope()}`, { method: "DELETE" });
    await loadModel();
    show(modelResult, "Removed.");
  } catch (err) {
    show(alertOf(modelForm), readable(err));
  }
});
modelForm.provider.addEventListener("change", () => fillProvider(modelForm.provider.value));
if (scopeSelect) scopeSelect.addEventListener("change", () => loadModel().catch((err) => show(notice, readable(err))));

// --- memories ------------------------------------------------------------------------------
const memoryForm = document.getElementById("memory-form");
const memoryList = document.getElementById("memory-list");
const memoryError = document.getElementById("memory-error");

function memoryItem(memory) {
  const forget = el("button", { type: "button", className: "secondary danger small", text: "Delete", "aria-label": `Delete the memory: ${memory.content.slice(0, 60)}` });
  forget.addEventListener("click", async () => {
    forget.disabled = true;
    try {
      await api(`/memories/${encodeURIComponent(memory.id)}`, { method: "DELETE" });
      await loadMemories();
    } catch (err) {
      show(memoryError, readable(err));
      forget.disabled = false;
    }
  });
  return el("li", { className: "row wrap item" },
    el("span", { className: "grow text-wrap", text: memory.content }),
    el("span", { className: "badge", text: memory.category }), forget);
}

async function loadMemories() {
  const page = await api("/memories?limit=100");
  memoryList.replaceChildren(...(page.items.length ? page.items.map(memoryItem) : [el("li", { className: "muted", text: "Nothing remembered yet." })]));
}

onSubmit(memoryForm, async () => {
  show(memoryError, "");
  const content = memoryForm.content.value.trim();
  if (!content) throw new Error("Write what should be remembered.");
  await api("/memories", { method: "POST", json: { content } });
  memoryForm.reset();
  await loadMemories();
});

// --- account deletion ----------------------------------------------------------------------
const deleteForm = document.getElementById("delete-form");
onSubmit(deleteForm, async () => {
  if (!window.confirm("Delete your account? You are signed out everywhere.")) return;
  await api("/auth/account/delete", { method: "POST", json: { password: deleteForm.password.value }, redirectOn401: false });
  window.location.assign("/login");
});

// --- start ---------------------------------------------------------------------------------
async function start() {
  me = await api("/auth/me");
  profileForm.name.value = me.name || "";
  showTwoFactor(Boolean(me.two_factor));
  const listed = await api("/settings/models/providers");
  providers = listed.items;
  modelForm.provider.replaceChildren(...providers.map((p) => el("option", { value: p.id, text: p.label })));
  await Promise.all([loadKeys(), loadModel(), loadMemories()]);
  if (window.location.hash) {
    const target = document.querySelector(window.location.hash);
    if (target) target.scrollIntoView();
  }
}

start().catch((err) => show(notice, "Could not load your settings: " + readable(err)));
