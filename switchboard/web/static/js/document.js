// One document: its details, its collection, and its passages page by page.
import { api, bytes, el, readable, show, when } from "./api.js";

const root = document.getElementById("document");
const id = root.dataset.documentId;
const heading = document.getElementById("document-title");
const notice = document.getElementById("document-notice");
const facts = document.getElementById("document-facts");
const list = document.getElementById("passages");
const summary = document.getElementById("passages-summary");
const more = document.getElementById("more-passages");
const pageFilter = document.getElementById("page-filter");
const PAGE = 100;

const state = { passages: [], total: 0 };

function fact(label, value) {
  return [el("dt", { text: label }), el("dd", {}, value)];
}

function renderPassages() {
  const page = pageFilter.value;
  const shown = state.passages.filter((p) => !page || String(p.page) === page);
  list.replaceChildren(...shown.map((p) =>
    el("li", { className: "passage", id: `passage-${p.id}`, tabindex: "-1" },
      el("div", { className: "meta" }, [`Passage ${p.index + 1}`, p.page ? `page ${p.page}` : null, p.heading]
        .filter(Boolean).join(" · ")),
      el("p", { text: p.text }))));
  summary.textContent = state.total
    ? `${state.passages.length} of ${state.total} passage${state.total === 1 ? "" : "s"} shown${page ? `; ${shown.length} on page ${page}` : ""}.`
    : "No passages yet: the document has not been processed.";
  more.hidden = state.passages.length >= state.total;
  const pages = [...new Set(state.passages.map((p) => p.page).filter((p) => p))];
  document.getElementById("page-filter-field").hidden = pages.length < 2;
  if (pageFilter.options.length - 1 !== pages.length) {
    const chosen = pageFilter.value;
    pageFilter.replaceChildren(el("option", { value: "", text: "All pages" }),
      ...pages.map((p) => el("option", { value: String(p), text: `Page ${p}` })));
    pageFilter.value = chosen;
  }
}

async function loadPassages() {
  const page = await api(`/documents/${encodeURIComponent(id)}/chunks?limit=${PAGE}&offset=${state.passages.length}`);
  state.passages.push(...page.items);
  state.total = page.total;
  renderPassages();
}

async function start() {
  let doc;
  let collections = [];
  try {
    [doc, collections] = await Promise.all([
      api(`/documents/${encodeURIComponent(id)}`),
      api("/documents/collections").catch(() => []),
    ]);
  } catch (err) {
    heading.textContent = "Document not found";
    show(notice, err.status === 404 ? "This document does not exist, or is not yours to read." : readable(err));
    return;
  }
  document.title = `${doc.name} · Switchboard`;
  heading.textContent = doc.name;
  const collection = collections.find((c) => c.id === doc.collection_id);
  facts.replaceChildren(
    ...fact("Status", el("span", { className: `badge ${doc.status}`, text: doc.status })),
    ...(doc.error ? fact("Problem", doc.error) : []),
    ...fact("Collection", collection ? `${collection.name}${collection.scope === "org" ? " (organization)" : ""}` : "—"),
    ...fact("Kind", `${doc.kind} (${doc.content_type})`),
    ...fact("Size", bytes(doc.size)),
    ...fact("Pages", doc.page_count ? String(doc.page_count) : "—"),
    ...fact("Passages", String(doc.chunk_count)),
    ...fact("Uploaded", when(doc.created_at)),
    ...fact("File", el("a", { href: `/api/v1/documents/${encodeURIComponent(id)}/download`, text: "Download the original" })),
  );
  try {
    await loadPassages();
    const target = window.location.hash && document.getElementById(window.location.hash.slice(1));
    if (target) target.focus();
  } catch (err) {
    show(notice, "Could not load the passages: " + readable(err));
  }
}

more.addEventListener("click", () => loadPassages().catch((err) => show(notice, readable(err))));
pageFilter.addEventListener("change", renderPassages);

start();
