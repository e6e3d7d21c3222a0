// Answers as Markdown: rendered by markdown-it (raw HTML off), sanitised by DOMPurify, `[n]` markers
// turned into links to their source cards. Both libraries are vendored (see /assets/vendor/).
const md = window.markdownit({ html: false, linkify: true, breaks: false });
const MARKER = /\[(\d{1,3})\]/g;

// The Markdown `text` as sanitised nodes inside `target`; `[n]` becomes a link to `#${prefix}-n`
// when `known(n)` says such a card exists (else it stays plain text).
export function renderMarkdown(target, text, prefix, known = () => true) {
  const html = window.DOMPurify.sanitize(md.render(text || ""), { USE_PROFILES: { html: true }, FORBID_ATTR: ["style"] });
  const holder = document.createElement("div");
  holder.innerHTML = html;
  for (const link of holder.querySelectorAll("a[href]")) {
    link.setAttribute("rel", "noopener noreferrer");
    link.setAttribute("target", "_blank");
  }
  linkMarkers(holder, prefix, known);
  for (const table of holder.querySelectorAll("table")) {
    const wrap = document.createElement("div");
    wrap.className = "table-wrap";
    table.replaceWith(wrap);
    wrap.append(table);
  }
  target.replaceChildren(...holder.childNodes);
}

function linkMarkers(root, prefix, known) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => (node.parentElement.closest("code, pre, a") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  const texts = [];
  while (walker.nextNode()) texts.push(walker.currentNode);
  for (const node of texts) {
    const value = node.nodeValue;
    if (!MARKER.test(value)) continue;
    MARKER.lastIndex = 0;
    const parts = [];
    let last = 0;
    for (const match of value.matchAll(MARKER)) {
      const number = Number(match[1]);
      if (!known(number)) continue;
      parts.push(document.createTextNode(value.slice(last, match.index)));
      const link = document.createElement("a");
      link.href = `#${prefix}-${number}`;
      link.className = "cite-link";
      link.textContent = `[${number}]`;
      link.setAttribute("aria-label", `source ${number}`);
      parts.push(link);
      last = match.index + match[0].length;
    }
    if (!parts.length) continue;
    parts.push(document.createTextNode(value.slice(last)));
    node.replaceWith(...parts);
  }
}

// Seconds as a person says them: "under a second", "4 seconds", "2 minutes 5 seconds".
export function duration(seconds) {
  if (!(seconds >= 0)) return "";
  if (seconds < 1) return "under a second";
  if (seconds < 60) {
    const whole = Math.round(seconds);
    return `${whole} second${whole === 1 ? "" : "s"}`;
  }
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  const m = `${minutes} minute${minutes === 1 ? "" : "s"}`;
  return rest ? `${m} ${rest} second${rest === 1 ? "" : "s"}` : m;
}
