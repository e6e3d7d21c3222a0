// A workflow drawn as SVG: a layered layout (dagre, vendored), nodes by type with an icon and a
// name, edges with their `when` labels. The same drawing serves the editor (selection, errors,
// version differences) and a run (each node's state).
import dagre from "/assets/vendor/dagre/dagre-3.1.3.esm.js";

const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 200;
const NODE_H = 60;

// 16x16 stroke icons, one per node type
const ICONS = {
  trigger: "M5 3 L13 8 L5 13 Z",
  agent: "M8 2.5a2.75 2.75 0 1 1 0 5.5a2.75 2.75 0 1 1 0-5.5 M3 14c0-3 2.2-4.8 5-4.8s5 1.8 5 4.8",
  tool: "M10.5 2.5a3 3 0 0 0-3 4l-5 5 2 2 5-5a3 3 0 0 0 4-3l-2 1-1.5-1.5 1-2z",
  condition: "M8 1.5 L14.5 8 L8 14.5 L1.5 8 Z",
  router: "M1.5 8h5 M6.5 8l6-5 M6.5 8l6 5 M6.5 8h7",
  merge: "M2 3l5 5-5 5 M7 8h7",
  loop: "M13 8a5 5 0 1 1-1.5-3.6 M11.5 1.5v3h3",
  approval: "M2.5 8.5l3.5 3.5 7.5-8",
  delay: "M8 1.5a6.5 6.5 0 1 0 .01 0 M8 4.5v3.7l2.6 1.6",
  transform: "M5.5 2.5c-2 0-2 1.5-2 3s-.7 2.5-2 2.5c1.3 0 2 1 2 2.5s0 3 2 3 M10.5 2.5c2 0 2 1.5 2 3s.7 2.5 2 2.5c-1.3 0-2 1-2 2.5s0 3-2 3",
  delivery: "M1.5 7.5l13-5.5-4.5 12.5-2.3-5z M7.7 9.5l6.8-7.5",
  subworkflow: "M1.5 2.5h8v6h-8z M6.5 7.5h8v6h-8z",
};

export const TYPE_LABELS = {
  trigger: "Trigger", agent: "Agent", tool: "Tool", condition: "Condition", router: "Router", merge: "Merge",
  loop: "Loop", approval: "Approval", delay: "Delay", transform: "Transform", delivery: "Delivery", subworkflow: "Sub-workflow",
};

export const STATE_LABELS = {
  pending: "pending", running: "running", waiting: "waiting", waiting_approval: "waiting for approval",
  completed: "completed", failed: "failed", skipped: "skipped", retrying: "retrying",
};

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(key, String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function clip(text, max) {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

let drawings = 0;

/**
 * Draw `definition` ({nodes, edges}) into `container`.
 * options: states {node_id: state}, marks {node_id: "added"|"removed"|"changed"}, errors {node_id: message},
 * selected (node id), onSelect(node_id), extraNodes (drawn too, e.g. removed ones), extraEdges, markedEdges.
 */
export function drawGraph(container, definition, options = {}) {
  const { states = {}, marks = {}, errors = {}, selected = null, onSelect = null } = options;
  const nodes = [...definition.nodes, ...(options.extraNodes || [])];
  const edges = [...definition.edges, ...(options.extraEdges || [])];
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "TB", nodesep: 36, ranksep: 56, edgesep: 16, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) g.setNode(node.id, { width: NODE_W, height: NODE_H });
  edges.forEach((edge, index) => {
    if (!g.hasNode(edge.from) || !g.hasNode(edge.to)) return;
    const label = edge.when ? { width: edge.when.length * 7.5 + 12, height: 18, labelpos: "c" } : {};
    g.setEdge(edge.from, edge.to, label, `e${index}`);
  });
  dagre.layout(g);
  const size = g.graph();
  const width = Math.max(size.width || 0, NODE_W + 24);
  const height = Math.max(size.height || 0, NODE_H + 24);
  const id = `graph${++drawings}`;

  const root = svg("svg", {
    class: "workflow-graph", viewBox: `0 0 ${width} ${height}`, role: "group",
    "aria-label": options.label || `Workflow drawing, ${nodes.length} steps`,
  });
  root.style.maxWidth = `${width}px`;
  root.append(svg("defs", {},
    svg("marker", { id: `${id}-arrow`, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
      svg("path", { d: "M0 0 L10 5 L0 10 z", class: "arrow" }))));

  const edgeLayer = svg("g", { class: "edges" });
  edges.forEach((edge, index) => {
    const laid = g.edge({ v: edge.from, w: edge.to, name: `e${index}` });
    if (!laid) return;
    const points = laid.points;
    const d = points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(" ");
    const mark = options.markedEdges ? options.markedEdges(edge) : null;
    const group = svg("g", { class: `edge${mark ? " mark-" + mark : ""}`, "data-from": edge.from, "data-to": edge.to, "data-when": edge.when || "" });
    group.append(svg("path", { d, "marker-end": `url(#${id}-arrow)` }));
    if (edge.when) {
      const w = edge.when.length * 7.5 + 12;
      const label = svg("g", { class: "edge-label", transform: `translate(${laid.x - w / 2} ${laid.y - 9})` },
        svg("rect", { width: w, height: 18, rx: 9 }));
      const text = svg("text", { x: w / 2, y: 13, "text-anchor": "middle" });
      text.textContent = edge.when;
      label.append(text);
      group.append(label);
    }
    edgeLayer.append(group);
  });
  root.append(edgeLayer);

  const nodeLayer = svg("g", { class: "nodes" });
  for (const node of nodes) {
    const laid = g.node(node.id);
    const state = states[node.id];
    const mark = marks[node.id];
    const error = errors[node.id];
    const name = node.name || node.id;
    const classes = ["node", `type-${node.type}`];
    if (state) classes.push(`state-${state}`);
    if (mark) classes.push(`mark-${mark}`);
    if (error) classes.push("has-error");
    if (selected === node.id) classes.push("selected");
    const parts = [TYPE_LABELS[node.type] || node.type];
    if (state) parts.push(STATE_LABELS[state] || state);
    if (mark) parts.push(mark);
    if (error) parts.push("error: " + error);
    const group = svg("g", {
      class: classes.join(" "), "data-node-id": node.id, "data-state": state || "", "data-mark": mark || "",
      transform: `translate(${laid.x - NODE_W / 2} ${laid.y - NODE_H / 2})`,
      role: onSelect ? "button" : "img", tabindex: onSelect ? 0 : null,
      "aria-pressed": onSelect ? String(selected === node.id) : null,
    });
    const title = svg("title");
    // the <title> is the step's accessible name and its tooltip: the full name, type, state, mark and error
    title.textContent = `${name}: ${parts.join(", ")}`;
    group.append(title, svg("rect", { class: "box", width: NODE_W, height: NODE_H, rx: 10 }),
      svg("rect", { class: "stripe", width: 6, height: NODE_H, rx: 3 }),
      svg("circle", { class: "icon-bg", cx: 28, cy: NODE_H / 2, r: 15 }),
      svg("path", { class: "icon", d: ICONS[node.type] || ICONS.tool, transform: `translate(20 ${NODE_H / 2 - 8})` }));
    const nameText = svg("text", { class: "name", x: 52, y: 26 });
    nameText.textContent = clip(name, 20);
    const sub = svg("text", { class: "sub", x: 52, y: 45 });
    // the icon says the type; the line under the name says what matters most now
    sub.textContent = clip(error ? "⚠ " + error : state ? STATE_LABELS[state] || state : mark ? `${TYPE_LABELS[node.type]} · ${mark}` : `${TYPE_LABELS[node.type] || node.type} · ${node.id}`, 24);
    group.append(nameText, sub);
    if (state === "running" || state === "waiting_approval" || state === "waiting") {
      group.append(svg("circle", { class: "pulse", cx: NODE_W - 14, cy: 14, r: 5 }));
    }
    if (onSelect) {
      group.addEventListener("click", () => onSelect(node.id));
      group.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); onSelect(node.id); }
      });
    }
    nodeLayer.append(group);
  }
  root.append(nodeLayer);
  container.replaceChildren(root);
  return root;
}
