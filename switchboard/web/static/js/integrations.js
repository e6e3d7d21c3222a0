// The connector catalog and the signed-in person's connections: connect with credentials (checked by
// the provider before they are kept) or OAuth, see each connection's status, disconnect.
import { api, el, readable, show, when } from "./api.js";

const notice = document.getElementById("integrations-notice");
const connections = document.getElementById("connection-list");
const none = document.getElementById("no-connections");
const catalog = document.getElementById("connector-list");

// Which settings a form asks for: the connector's required settings (from its schema), then the optional ones.
function settingFields(schema) {
  const props = (schema && schema.properties) || {};
  const required = new Set((schema && schema.required) || []);
  return Object.entries(props)
    .filter(([, p]) => p.type === "string" || p.type === "integer" || p.anyOf === undefined)
    .filter(([, p]) => p.type !== "array")
    .sort(([a], [b]) => Number(required.has(b)) - Number(required.has(a)))
    .map(([name, p]) => ({ name, required: required.has(name), type: p.type, fallback: p.default, help: p.description }));
}

function field(id, label, { type = "text", required = false, value, help } = {}) {
  const input = el("input", { id, name: id, type, required, autocomplete: type === "password" ? "new-password" : "off" });
  if (value !== undefined && value !== null) input.value = String(value);
  return el("div", { className: "field" }, el("label", { for: id, text: label }), input, help ? el("small", { className: "muted", text: help }) : null);
}

function connectForm(connector) {
  const auth = connector.auth.filter((a) => a !== "oauth2")[0];
  const form = el("form", { className: "stack connect-form" });
  const prefix = `c-${connector.type}`;
  if (auth) {
    for (const s of settingFields(connector.settings_schema)) {
      form.append(field(`${prefix}-set-${s.name}`, s.name.replaceAll("_", " "), { required: s.required, value: s.fallback, help: s.help, type: s.type === "integer" ? "number" : "text" }));
    }
    for (const name of connector.credential_fields[auth] || []) {
      form.append(field(`${prefix}-cred-${name}`, name.replaceAll("_", " "), { type: "password", required: true }));
    }
    const status = el("p", { className: "muted", role: "status" });
    form.append(el("button", { type: "submit", text: `Connect ${connector.name}` }), status);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const settings = {};
      const credentials = {};
      for (const s of settingFields(connector.settings_schema)) {
        const value = form.querySelector(`#${prefix}-set-${s.name}`).value;
        if (value !== "") settings[s.name] = s.type === "integer" ? Number(value) : value;
      }
      for (const name of connector.credential_fields[auth] || []) credentials[name] = form.querySelector(`#${prefix}-cred-${name}`).value;
      show(status, "Checking with the provider…");
      try {
        await api("/providers/connect/credentials", { method: "POST", json: { connector: connector.type, auth, credentials, settings } });
        form.reset();
        show(status, "");
        show(notice, `Connected ${connector.name}.`);
        await loadConnections();
      } catch (err) {
        show(status, readable(err));
      }
    });
  }
  if (connector.auth.includes("oauth2") && connector.oauth_configured) {
    const button = el("button", { type: "button", className: "secondary", text: `Sign in with ${connector.name}` });
    button.addEventListener("click", async () => {
      try {
        const started = await api("/providers/connect/oauth/start", { method: "POST", json: { connector: connector.type } });
        window.location.assign(started.authorization_url);
      } catch (err) {
        show(notice, readable(err));
      }
    });
    form.append(button);
  }
  return form;
}

function connectorCard(connector) {
  const tools = connector.tools.map((t) => `${t.name} (${t.kind})`).join(", ");
  const details = el("details", {}, el("summary", { text: `Connect ${connector.name}` }), connectForm(connector));
  return el("li", { className: "card stack connector", dataset: { type: connector.type } },
    el("h3", { text: connector.name }),
    el("p", { text: connector.description }),
    el("p", { className: "muted small", text: `Tools: ${tools}` }),
    details);
}

function connectionCard(connection) {
  const broken = connection.status === "needs_reconnect";
  const button = el("button", { type: "button", className: "secondary", text: "Disconnect" });
  button.addEventListener("click", async () => {
    try {
      await api("/providers/disconnect", { method: "POST", json: { connection_id: connection.id } });
      show(notice, `Disconnected ${connection.connector}.`);
      await loadConnections();
    } catch (err) {
      show(notice, readable(err));
    }
  });
  return el("li", { className: "card stack connection", dataset: { id: connection.id } },
    el("h3", { text: `${connection.connector}${connection.account ? " — " + connection.account : ""}` }),
    el("p", { className: broken ? "status-bad" : "status-ok", text: broken ? `Needs reconnecting: ${connection.status_message}` : "Connected" }),
    el("p", { className: "muted small", text: `${connection.scope === "organization" ? "For the whole organization" : "Yours"} · since ${when(connection.created_at)}` }),
    button);
}

async function loadConnections() {
  const found = await api("/providers/connected");
  connections.replaceChildren(...found.items.map(connectionCard));
  none.hidden = found.items.length > 0;
}

async function load() {
  try {
    const found = await api("/connectors?detail=full");
    catalog.replaceChildren(...found.items.map(connectorCard));
    await loadConnections();
  } catch (err) {
    show(notice, readable(err));
  }
}

load();
