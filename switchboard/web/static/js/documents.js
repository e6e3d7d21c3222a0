// The documents page: collections, several uploads at once (chosen or dropped) each with its own
// progress, the list live-updating while documents are processed, move, delete, and search.
import { ApiError, api, bytes, el, readable, show, toLogin, when } from "./api.js";

const DONE = new Set(["completed", "failed"]);

const uploadForm = document.getElementById("upload-form");
const fileInput = document.getElementById("file");
const uploadList = document.getElementById("upload-list");
const dropZone = document.getElementById("drop-zone");
const uploadCollection = document.getElementById("upload-collection");
const filter = document.getElementById("collection-filter");
const collectionAbout = document.getElementById("collection-about");
const collectionForm = document.getElementById("collection-form");
const pageNotice = document.getElementById("page-notice");
const table = document.getElementById("documents-table");
const tbody = document.getElementById("documents-body");
const empty = document.getElementById("no-documents");
const searchForm = document.getElementById("search-form");
const searchNotice = document.getElementById("search-notice");
const results = document.getElementById("search-results");

const rows = new Map(); // document id -> { row, doc }
let pollTimer = null;
let collections = []; // what the caller can read: their personal collections and the org's
const MAX_UPLOADS = 2; // files sent at the same time; the rest wait their turn

// A notice that says whether it is good news or bad: success is green, a failure red.
function notify(kind, message) {
  pageNotice.className = `notice ${kind === "error" ? "error-notice" : "ok-notice"}`;
  pageNotice.setAttribute("role", kind === "error" ? "alert" : "status");
  show(pageNotice, message);
}

// --- collections -------------------------------------------------------------------------------

function collectionName(id) {
  const found = collections.find((c) => c.id === id);
  if (!found) return "";
  return found.scope === "org" ? `${found.name} (organization)` : found.name;
}

async function loadCollections() {
  try {
    collections = await api("/documents/collections");
  } catch (err) {
    notify("error", "Could not load your collections: " + readable(err));
    return;
  }
  const chosen = filter.value;
  filter.replaceChildren(el("option", { value: "", text: "All collections" }),
    ...collections.map((c) => el("option", { value: c.id, text: collectionName(c.id) })));
  filter.value = collections.some((c) => c.id === chosen) ? chosen : "";
  const into = uploadCollection.value;
  uploadCollection.replaceChildren(...collections.filter((c) => c.scope === "personal")
    .map((c) => el("option", { value: c.id, text: collectionName(c.id) })));
  if (collections.some((c) => c.id === into)) uploadCollection.value = into;
  describeCollection();
}

function describeCollection() {
  const found = collections.find((c) => c.id === filter.value);
  if (!found) {
    const count = collections.length === 1 ? "1 collection" : `${collections.length} collections`;
    collectionAbout.textContent = `${count}: your personal ones and your organization's.`;
    return;
  }
  const who = found.scope === "org" ? "Everyone in your organization can read it." : "Only you can read it.";
  collectionAbout.textContent = [found.description, who].filter(Boolean).join(" ");
  if (found.scope === "personal") uploadCollection.value = found.id;
}

filter.addEventListener("change", () => {
  describeCollection();
  loadDocuments();
});

collectionForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const scope = document.getElementById("collection-scope");
  const org = scope && scope.value === "org";
  const body = {
    name: document.getElementById("collection-name").value.trim(),
    description: document.getElementById("collection-description").value.trim(),
  };
  try {
    const created = await api(org ? "/documents/admin/collections" : "/documents/collections", { method: "POST", json: body });
    collectionForm.reset();
    await loadCollections();
    filter.value = created.id;
    describeCollection();
    await loadDocuments();
    notify("ok", `Created the collection ${created.name}.`);
  } catch (err) {
    notify("error", "Could not create the collection: " + readable(err));
  }
});

// --- the list ------------------------------------------------------------------------------------

function statusCell(doc) {
  const cell = el("td", { className: "doc-status", "data-label": "Status" });
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
      el("a", { href: `/documents/${encodeURIComponent(doc.id)}`, text: doc.name })),
    el("td", { "data-label": "Size", text: bytes(doc.size) }),
    statusCell(doc),
    el("td", { "data-label": "Passages", text: doc.status === "completed" ? String(doc.chunk_count) : "" }),
    el("td", { "data-label": "Collection" }, moveControl(doc)),
    el("td", { "data-label": "Uploaded" }, el("time", { text: when(doc.created_at) })),
    el("td", { className: "actions" }, deleteButton));
  const existing = rows.get(doc.id);
  if (existing) existing.row.replaceWith(row);
  rows.set(doc.id, { row, doc });
  return row;
}

// A document moves between the person's own collections; an admin also moves documents into, out of and
// between the organization's. Anything else just names its collection.
const isAdmin = document.body.dataset.admin === "true";

function moveControl(doc) {
  const here = collections.find((c) => c.id === doc.collection_id);
  const targets = collections.filter((c) => c.scope === "personal" || isAdmin);
  const mayMove = here && (here.scope === "personal" || isAdmin) && DONE.has(doc.status); // indexed: it may move
  if (!mayMove || targets.length < 2) return el("span", { text: collectionName(doc.collection_id) });
  const select = el("select", { "aria-label": `Collection of ${doc.name}` },
    targets.map((c) => el("option", { value: c.id, text: collectionName(c.id), selected: c.id === doc.collection_id })));
  select.addEventListener("change", async () => {
    try {
      const moved = await api(`/documents/${encodeURIComponent(doc.id)}/move`, { method: "PUT", json: { collection_id: select.value } });
      notify("ok", `Moved ${doc.name} to ${collectionName(moved.collection_id)}.`);
      if (filter.value && filter.value !== moved.collection_id) forget(doc.id);
      else renderRow(moved);
    } catch (err) {
      select.value = doc.collection_id;
      notify("error", `Could not move ${doc.name}: ` + readable(err));
    }
  });
  return select;
}

function refreshEmpty() {
  empty.hidden = rows.size > 0;
  table.hidden = rows.size === 0;
}

async function loadDocuments() {
  try {
    const only = filter.value ? `&collection_id=${encodeURIComponent(filter.value)}` : "";
    const page = await api(`/documents?limit=200${only}`);
    rows.clear();
    tbody.replaceChildren(...page.items.map(renderRow));
    refreshEmpty();
    schedulePoll();
  } catch (err) {
    notify("error", "Could not load your documents: " + readable(err));
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
    if (gone.has(doc.id)) return null;
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
  refreshEmpty();
}

// --- following processing -----------------------------------------------------------------------
// The org's live stream (opened by the navigation, `live:document`) brings every document event the
// person may see: their own uploads, and anyone's in the org's collections, from this page or not. A
// document the list does not show yet appears when its first event comes; progress moves as it is
// indexed; a deleted one leaves. A slow poll of unfinished documents covers a stream that is down.

const LIVE_POLL_MS = 10000;
const QUICK_POLL_MS = 1500;
let liveDown = false;
const gone = new Set(); // deleted while shown: a read still on its way must not bring the row back

function shown(doc) {
  return !filter.value || filter.value === doc.collection_id;
}

async function arrived(id) {
  const doc = await refreshOne(id); // null for a document deleted meanwhile
  if (doc && shown(doc)) {
    if (!tbody.contains(rows.get(doc.id).row)) tbody.prepend(rows.get(doc.id).row);
    refreshEmpty();
  } else if (doc) {
    forget(doc.id);
  }
}

document.addEventListener("live:document", (event) => {
  const data = event.detail;
  const id = data.document_id;
  if (!id) return;
  const type = data.update_type;
  if (type === "deleted") {
    gone.add(id);
    forget(id);
    return;
  }
  if (type === "moved") {
    arrived(id); // shown here now, or no longer: read again, and keep it or let it go
    return;
  }
  if (!rows.has(id)) {
    if (type === "queued") arrived(id);
    return;
  }
  if (type === "complete" || type === "error") {
    refreshOne(id);
    return;
  }
  const changes = { message: data.message, status: type === "queued" ? "pending" : "processing" };
  if (typeof data.progress === "number") changes.progress = data.progress;
  update(id, changes);
});
document.addEventListener("live:closed", () => {
  liveDown = true;
  schedulePoll();
});

// unfinished documents: look at their status now and then (often when the live stream is down)
function schedulePoll() {
  if (pollTimer) return;
  const waiting = () => [...rows.values()].map((e) => e.doc).filter((d) => !DONE.has(d.status));
  if (!waiting().length) return;
  pollTimer = window.setTimeout(async () => {
    pollTimer = null;
    for (const doc of waiting()) {
      try {
        const status = await api(`/documents/${encodeURIComponent(doc.id)}/status`);
        if (DONE.has(status.status)) await refreshOne(doc.id);
        else update(doc.id, { status: status.status, progress: status.progress });
      } catch (err) {
        if (err.status === 404) forget(doc.id);
      }
    }
    schedulePoll();
  }, liveDown ? QUICK_POLL_MS : LIVE_POLL_MS);
}

async function remove(id) {
  const entry = rows.get(id);
  const name = entry ? entry.doc.name : "this document";
  if (!window.confirm(`Delete ${name}? Its passages leave the search index too.`)) return;
  try {
    await api(`/documents/${encodeURIComponent(id)}`, { method: "DELETE" });
    forget(id);
    notify("ok", `Deleted ${name}.`);
  } catch (err) {
    notify("error", `Could not delete ${name}: ` + readable(err));
  }
}

// --- upload: XMLHttpRequest, because fetch() cannot report upload progress ---------------------

function send(file, collectionId, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const body = new FormData();
    if (collectionId) body.append("collection_id", collectionId);
    body.append("file", file, file.name);
    xhr.open("POST", "/api/v1/documents/upload");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(Math.round((event.loaded / event.total) * 100));
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

// One file's line in the upload list: its own bar while it is sent, then what became of it.
function uploadLine(file) {
  const bar = el("progress", { max: 100, value: 0, "aria-label": `Uploading ${file.name}` });
  const said = el("span", { className: "upload-state", text: "waiting" });
  const line = el("li", { className: "upload-item", dataset: { name: file.name } },
    el("span", { className: "upload-name", text: file.name }), bar, said);
  uploadList.prepend(line);
  return {
    progress(pct) { bar.value = pct; said.textContent = `${pct}%`; },
    done(message) { bar.value = 100; bar.remove(); said.textContent = message; line.classList.add("ok"); },
    failed(message) { bar.remove(); said.textContent = message; line.classList.add("failed"); said.setAttribute("role", "alert"); },
  };
}

function uploadProblem(err) {
  if (err.status === 401) toLogin();
  if (err.code === "duplicate_document" || err.status === 409) return readable(err);
  if (err.status === 413) return "too large: the limit is 50 MB";
  return "failed: " + readable(err);
}

async function uploadOne(file, collectionId) {
  const line = uploadLine(file);
  try {
    const accepted = await send(file, collectionId, (pct) => line.progress(pct));
    line.done("uploaded; being processed below");
    await arrived(accepted.id);
    schedulePoll();
    return true;
  } catch (err) {
    line.failed(uploadProblem(err));
    return false;
  }
}

async function uploadAll(files) {
  if (!files.length) {
    notify("error", "Choose or drop at least one file first.");
    fileInput.focus();
    return;
  }
  show(pageNotice, "");
  const queue = [...files];
  const collectionId = uploadCollection.value;
  let ok = 0;
  const lane = async () => {
    while (queue.length) if (await uploadOne(queue.shift(), collectionId)) ok += 1;
  };
  await Promise.all(Array.from({ length: Math.min(MAX_UPLOADS, files.length) }, lane));
  uploadForm.reset();
  uploadCollection.value = collectionId;
  const failed = files.length - ok;
  if (failed) notify("error", `${ok} of ${files.length} files uploaded; ${failed} failed (see the list).`);
  else notify("ok", files.length === 1 ? `Uploaded ${files[0].name}; it is being processed.` : `Uploaded ${files.length} files; they are being processed.`);
}

uploadForm.addEventListener("submit", (event) => {
  event.preventDefault();
  uploadAll([...(fileInput.files || [])]);
});

for (const type of ["dragenter", "dragover"]) {
  dropZone.addEventListener(type, (event) => {
    event.preventDefault();
    dropZone.classList.add("dragging");
  });
}
for (const type of ["dragleave", "drop"]) {
  dropZone.addEventListener(type, () => dropZone.classList.remove("dragging"));
}
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  uploadAll([...(event.dataTransfer ? event.dataTransfer.files : [])]);
});

// --- search --------------------------------------------------------------------------------------

// The text with the query's words marked (built as text nodes: nothing of the passage is parsed as HTML).
function highlighted(text, query) {
  const words = [...new Set(query.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) || [])];
  if (!words.length) return [text];
  const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = new RegExp(`(${escaped.join("|")})`, "giu");
  return text.split(pattern).map((part, i) => (i % 2 ? el("mark", { text: part }) : part));
}

const FOUND_BY = {
  "semantic,text": "found by meaning and words",
  semantic: "found by meaning",
  text: "found by words",
};

function relevance(r) {
  const how = FOUND_BY[[...(r.found_by || [])].sort().join(",")] || "";
  if (typeof r.similarity === "number") {
    const pct = Math.round(r.similarity * 100);
    const strength = r.similarity >= 0.6 ? "strong" : r.similarity >= 0.45 ? "good" : "weak";
    return `${strength} match, ${pct}% similar` + (how ? ` · ${how}` : "");
  }
  return how || `score ${r.score.toFixed(3)}`;
}

searchForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const query = searchForm.query.value.trim();
  if (!query) return;
  show(searchNotice, "Searching…");
  results.replaceChildren();
  const body = { query, top_k: 10 };
  if (filter.value) body.collection_ids = [filter.value];
  try {
    const found = await api("/documents/query", { method: "POST", json: body });
    show(searchNotice, found.results.length
      ? `${found.results.length} passage${found.results.length === 1 ? "" : "s"} found.`
      : "Nothing in your documents matches this closely enough.");
    results.replaceChildren(...found.results.map((r) =>
      el("li", { className: "result card" },
        el("div", { className: "row meta" },
          el("a", { href: `/documents/${encodeURIComponent(r.document_id)}#passage-${r.chunk_id}`, text: r.document_name }),
          r.page ? el("span", { text: `page ${r.page}` }) : null,
          r.heading ? el("span", { className: "muted", text: r.heading }) : null,
          el("span", { className: "score", text: relevance(r) })),
        el("blockquote", {}, highlighted(r.text, query)))));
  } catch (err) {
    show(searchNotice, "The search failed: " + readable(err));
  }
});

loadCollections().then(loadDocuments);
