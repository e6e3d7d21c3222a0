// The documents page: upload with progress, the list live-updating while documents are processed,
// delete, and search.
import { ApiError, api, bytes, el, readable, show, toLogin, when } from "./api.js";

const DONE = new Set(["completed", "failed"]);
const DOCUMENT_EVENTS = ["queued", "processing", "extracted", "progress", "retrying", "complete", "error"];
// browsers keep about six connections per server over HTTP/1.1: follow a few streams, poll the rest
const MAX_STREAMS = 3;

const uploadForm = document.getElementById("upload-form");
const fileInput = document.getElementById("file");
const uploadButton = document.getElementById("upload-button");
const uploadBox = document.getElementById("upload-progress");
const uploadBar = document.getElementById("upload-bar");
const uploadLabel = document.getElementById("upload-label");
const uploadNotice = document.getElementById("upload-notice");
const table = document.getElementById("documents-table");
const tbody = document.getElementById("documents-body");
const empty = document.getElementById("no-documents");
const searchForm = document.getElementById("search-form");
const searchNotice = document.getElementById("search-notice");
const results = document.getElementById("search-results");

const rows = new Map(); // document id -> { row, doc }
const streams = new Map(); // document id -> EventSource
let pollTimer = null;

// --- the list ------------------------------------------------------------------------------------

function statusCell(doc) {
  const cell = el("td", { className: "doc-status" });
  const label = el("span", { className: `badge ${doc.status}`, text: doc.status });
  cell.append(label);
  if (!DONE.has(doc.status)) {
    const pct = Math.round((doc.progress || 0) * 100);
    cell.append(" ", el("progress", { max: 100, value: pct, "aria-label": `${doc.name} processed` }), ` ${pct}%`);
  }
  if (doc.status === "failed" && doc.error) cell.append(el("div", { className: "error reason", text: doc.error }));
  if (doc.message && !DONE.has(doc.status)) cell.append(el("div", { className: "muted small", text: doc.message }));
  return cell;
}

function renderRow(doc) {
  const deleteButton = el("button", { type: "button", className: "secondary danger small", text: "Delete",
    "aria-label": `Delete ${doc.name}`, onclick: () => remove(doc.id) });
  const row = el("tr", { dataset: { documentId: doc.id, status: doc.status } },
    el("th", { scope: "row", className: "doc-name" },
      el("a", { href: `/api/v1/documents/${encodeURIComponent(doc.id)}/download`, text: doc.name })),
    el("td", { text: bytes(doc.size) }),
    statusCell(doc),
    el("td", { text: doc.status === "completed" ? String(doc.chunk_count) : "" }),
    el("td", {}, el("time", { text: when(doc.created_at) })),
    el("td", {}, deleteButton));
  const existing = rows.get(doc.id);
  if (existing) existing.row.replaceWith(row);
  rows.set(doc.id, { row, doc });
  return row;
}

function refreshEmpty() {
  empty.hidden = rows.size > 0;
  table.hidden = rows.size === 0;
}

async function loadDocuments() {
  try {
    const page = await api("/documents?limit=200");
    tbody.replaceChildren(...page.items.map(renderRow));
    refreshEmpty();
    for (const doc of page.items) if (!DONE.has(doc.status)) watch(doc.id);
  } catch (err) {
    show(uploadNotice, "Could not load your documents: " + readable(err));
  }
}

function update(id, changes) {
  const entry = rows.get(id);
  if (!entry) return;
  renderRow({ ...entry.doc, ...changes });
}

async function refreshOne(id) {
  try {
    const doc = await api(`/documents/${encodeURIComponent(id)}`);
    renderRow(doc);
    return doc;
  } catch (err) {
    if (err.status === 404) forget(id);
    return null;
  }
}

function forget(id) {
  const entry = rows.get(id);
  if (entry) entry.row.remove();
  rows.delete(id);
  const source = streams.get(id);
  if (source) source.close();
  streams.delete(id);
  refreshEmpty();
}

// --- following processing -----------------------------------------------------------------------

function watch(id) {
  if (streams.has(id)) return;
  if (streams.size >= MAX_STREAMS) {
    schedulePoll();
    return;
  }
  const source = new EventSource(`/api/v1/documents/${encodeURIComponent(id)}/progress`);
  streams.set(id, source);
  const onEvent = (type) => (event) => {
    let payload = {};
    try {
      payload = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    if (type === "complete" || type === "error") {
      source.close();
      streams.delete(id);
      refreshOne(id).then(startWaiting);
      return;
    }
    const changes = { message: payload.message, status: type === "queued" ? "pending" : "processing" };
    if (typeof payload.progress === "number") changes.progress = payload.progress;
    update(id, changes);
  };
  for (const type of DOCUMENT_EVENTS) source.addEventListener(type, onEvent(type));
  source.onerror = (event) => {
    if (event.data !== undefined) return; // the document's own "error" event, handled above
    if (source.readyState === EventSource.CLOSED) {
      streams.delete(id);
      schedulePoll();
    }
  };
}

// documents no stream follows: look at their status now and then
function schedulePoll() {
  if (pollTimer) return;
  pollTimer = window.setTimeout(async () => {
    pollTimer = null;
    const waiting = [...rows.values()].map((e) => e.doc).filter((d) => !DONE.has(d.status) && !streams.has(d.id));
    for (const doc of waiting) {
      try {
        const status = await api(`/documents/${encodeURIComponent(doc.id)}/status`);
        if (DONE.has(status.status)) await refreshOne(doc.id);
        else update(doc.id, { status: status.status, progress: status.progress });
      } catch (err) {
        if (err.status === 404) forget(doc.id);
      }
    }
    startWaiting();
  }, 1500);
}

function startWaiting() {
  for (const { doc } of rows.values()) {
    if (!DONE.has(doc.status) && !streams.has(doc.id)) watch(doc.id);
  }
}

async function remove(id) {
  const entry = rows.get(id);
  const name = entry ? entry.doc.name : "this document";
  if (!window.confirm(`Delete ${name}? Its passages leave the search index too.`)) return;
  try {
    await api(`/documents/${encodeURIComponent(id)}`, { method: "DELETE" });
    forget(id);
    show(uploadNotice, `Deleted ${name}.`);
  } catch (err) {
    show(uploadNotice, `Could not delete ${name}: ` + readable(err));
  }
}

// --- upload: XMLHttpRequest, because fetch() cannot report upload progress ---------------------

function send(file) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const body = new FormData();
    body.append("file", file, file.name);
    xhr.open("POST", "/api/v1/documents/upload");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      const pct = Math.round((event.loaded / event.total) * 100);
      uploadBar.value = pct;
      uploadLabel.textContent = `Uploading ${file.name}… ${pct}%`;
    });
    xhr.addEventListener("load", () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch (err) {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, { message: "The upload did not reach the server." })));
    xhr.send(body);
  });
}

uploadForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = fileInput.files && fileInput.files[0];
  if (!file) {
    show(uploadNotice, "Choose a file first.");
    fileInput.focus();
    return;
  }
  show(uploadNotice, "");
  uploadButton.disabled = true;
  uploadBox.hidden = false;
  uploadBar.value = 0;
  uploadLabel.textContent = `Uploading ${file.name}…`;
  try {
    const accepted = await send(file);
    uploadForm.reset();
    const doc = await refreshOne(accepted.id);
    if (doc) {
      tbody.prepend(rows.get(doc.id).row);
      refreshEmpty();
      if (!DONE.has(doc.status)) watch(doc.id);
    }
    show(uploadNotice, `Uploaded ${accepted.name}; it is being processed.`);
  } catch (err) {
    if (err.status === 401) toLogin();
    else if (err.code === "duplicate_document" || err.status === 409) show(uploadNotice, readable(err));
    else if (err.status === 413) show(uploadNotice, "That file is too large: the limit is 50 MB.");
    else show(uploadNotice, "The upload failed: " + readable(err));
  } finally {
    uploadButton.disabled = false;
    uploadBox.hidden = true;
  }
});

// --- search --------------------------------------------------------------------------------------

searchForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const query = searchForm.query.value.trim();
  if (!query) return;
  show(searchNotice, "Searching…");
  results.replaceChildren();
  try {
    const found = await api("/documents/query", { method: "POST", json: { query, top_k: 10 } });
    show(searchNotice, found.results.length ? `${found.results.length} passages found.` : "Nothing matched.");
    results.replaceChildren(...found.results.map((r) =>
      el("li", { className: "result card" },
        el("div", { className: "row meta" },
          el("strong", { text: r.document_name }),
          r.page ? el("span", { text: `page ${r.page}` }) : null,
          r.heading ? el("span", { className: "muted", text: r.heading }) : null,
          el("span", { className: "score", text: `score ${r.score.toFixed(3)}` })),
        el("blockquote", { text: r.text }))));
  } catch (err) {
    show(searchNotice, "The search failed: " + readable(err));
  }
});

loadDocuments();
