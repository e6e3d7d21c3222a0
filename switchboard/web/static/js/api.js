// Calls to the public API with the session cookie, and small DOM helpers.
// Data from the server goes into the page as text only (textContent), never as markup.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `The server answered ${status}`);
    this.status = status;
    this.code = (body && body.error) || "error";
    this.details = body ? body.details : null;
  }
}

export function toLogin() {
  const next = window.location.pathname + window.location.search;
  window.location.assign("/login?next=" + encodeURIComponent(next));
}

// fetch() sends the Origin header on writes, which the server checks for cookie sign-ins.
export async function api(path, { method = "GET", json, body, headers = {}, redirectOn401 = true } = {}) {
  // the API's answers say `Cache-Control: no-store` themselves, so every call asks the server
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let response;
  try {
    response = await fetch("/api/v1" + path, init);
  } catch (err) {
    throw new ApiError(0, { error: "network", message: "The server cannot be reached. Check your connection." });
  }
  if (response.status === 204) return null;
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (err) {
      data = { error: "bad_response", message: `Unexpected answer from the server (${response.status})` };
    }
  }
  if (response.status === 401 && redirectOn401) {
    toLogin();
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// el("li", {className: "x", dataset: {id: 1}}, "text", child) — strings become text nodes.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "className") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function show(node, message) {
  node.textContent = message;
  node.hidden = !message;
}

export function when(value) {
  if (!value) return "";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function bytes(size) {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / (1024 * 1024)).toFixed(1)} MB`;
}

// What a person reads when something goes wrong: the server's message, plus field details of a 422.
export function readable(err) {
  if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
  let text = err.message;
  if (Array.isArray(err.details) && err.details.length) {
    text += ": " + err.details.map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)).join("; ");
  }
  if (err.status === 429 && err.details && err.details.retry_after_ms) {
    text += ` (try again in ${Math.ceil(err.details.retry_after_ms / 1000)} s)`;
  }
  return text;
}

// Forms are sent by the page's script, never by the browser itself (that would put their fields, a
// password too, in a URL): their submit buttons come disabled and are enabled once every module of the
// page has run and attached its handlers (a task after this module's evaluation).
window.setTimeout(() => {
  for (const button of document.querySelectorAll("[data-needs-js]")) {
    button.disabled = false;
    button.removeAttribute("data-needs-js");
  }
}, 0);
