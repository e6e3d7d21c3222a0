// A form generated from a node type's config JSON schema: text fields, selects, checkboxes, lists of
// sub-forms (conditions, routes), key/value rows (tool arguments, what approvers see). Template fields
// offer the variables a step may use (input.*, nodes.<id>.output). No JSON typing needed.
import { el } from "./api.js";
import { label } from "./readable.js";

let counter = 0;
const nextId = () => `sf${++counter}`;

function resolve(schema, root) {
  if (schema && schema.$ref) {
    const name = schema.$ref.split("/").pop();
    return { ...(root.$defs || {})[name], ...schema, $ref: undefined };
  }
  return schema || {};
}

// anyOf [X, null] -> X, optional
function unwrap(schema, root) {
  schema = resolve(schema, root);
  if (Array.isArray(schema.anyOf)) {
    const real = schema.anyOf.filter((s) => s.type !== "null");
    if (real.length === 1) return { ...resolve(real[0], root), title: schema.title, description: schema.description || real[0].description, default: schema.default, nullable: true };
  }
  return schema;
}

const isTemplate = (schema) => /Jinja2|template/i.test(schema.description || "");

// "3" -> 3, "true" -> true, "[1]" -> [1]; anything else stays text
function parseLoose(text) {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  try {
    return JSON.parse(trimmed);
  } catch (err) {
    return text;
  }
}

function showLoose(value) {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function hint(schema, id) {
  const text = schema.description && !isTemplate(schema) ? schema.description : isTemplate(schema) ? "A template: write text and insert variables such as {{ input.name }}." : "";
  return text ? el("p", { className: "hint muted small", id, text }) : null;
}

function variablePicker(target, variables) {
  if (!variables.length) return null;
  const select = el("select", { className: "insert-variable small", "aria-label": "Insert a variable" },
    el("option", { value: "", text: "Insert a variable…" }), variables.map((v) => el("option", { value: v, text: v })));
  select.addEventListener("change", () => {
    if (!select.value) return;
    const text = `{{ ${select.value} }}`;
    const at = target.selectionStart ?? target.value.length;
    target.value = target.value.slice(0, at) + text + target.value.slice(target.selectionEnd ?? at);
    target.dispatchEvent(new Event("input", { bubbles: true }));
    select.value = "";
    target.focus();
  });
  return select;
}

/**
 * Build a field for `schema` holding `value`. Returns {node, read}: read() gives the value (undefined: leave out).
 * ctx: {root, variables, suggestions: {path: [values]}, path}
 */
export function field(key, schema, value, ctx, required = false) {
  schema = unwrap(schema, ctx.root);
  const path = ctx.path ? `${ctx.path}.${key}` : key;
  const id = nextId();
  const title = schema.title || label(key);
  const text = `${title}${required ? "" : " (optional)"}`;
  const hintId = `${id}-hint`;
  const hintNode = hint(schema, hintId);
  const wrap = (control, extra = null) => el("div", { className: "field", dataset: { path } },
    el("label", { for: id, text }), control, extra, hintNode, el("p", { className: "field-error error small", role: "alert", hidden: true }));

  if (Array.isArray(schema.enum)) {
    const select = el("select", { id, "aria-describedby": hintNode ? hintId : null },
      required ? null : el("option", { value: "", text: "—" }),
      schema.enum.map((v) => el("option", { value: v, text: String(v).replace(/_/g, " ") })));
    select.value = value ?? schema.default ?? (required ? schema.enum[0] : "");
    return { node: wrap(select), read: () => (select.value === "" ? undefined : select.value) };
  }
  if (schema.type === "boolean") {
    const box = el("input", { id, type: "checkbox" });
    box.checked = Boolean(value ?? schema.default);
    return {
      node: el("div", { className: "field inline", dataset: { path } }, box, el("label", { for: id, text: title }), hintNode),
      read: () => box.checked,
    };
  }
  if (schema.type === "integer" || schema.type === "number") {
    const input = el("input", { id, type: "number", step: schema.type === "integer" ? 1 : "any", min: schema.minimum ?? schema.exclusiveMinimum, max: schema.maximum, "aria-describedby": hintNode ? hintId : null });
    input.value = value ?? (required ? schema.default ?? "" : "");
    if (input.value === "" && schema.default !== undefined && schema.default !== null) input.placeholder = `${schema.default} if empty`;
    return { node: wrap(input), read: () => (input.value === "" ? undefined : Number(input.value)) };
  }
  if (schema.type === "string") {
    const long = isTemplate(schema) && !/title|subject|left|name/i.test(key);
    const input = long
      ? el("textarea", { id, rows: 3, "aria-describedby": hintNode ? hintId : null })
      : el("input", { id, type: "text", "aria-describedby": hintNode ? hintId : null, list: ctx.suggestions && ctx.suggestions[key] ? `${id}-list` : null });
    input.value = value ?? "";
    const list = ctx.suggestions && ctx.suggestions[key]
      ? el("datalist", { id: `${id}-list` }, ctx.suggestions[key].map((v) => el("option", { value: v }))) : null;
    const picker = isTemplate(schema) ? variablePicker(input, ctx.variables || []) : null;
    return { node: wrap(input, el("div", {}, list, picker)), read: () => (input.value === "" ? undefined : input.value) };
  }
  if (schema.type === "array") {
    const items = unwrap(schema.items || {}, ctx.root);
    if (Array.isArray(items.enum)) {
      // a set of choices: checkboxes
      const chosen = new Set(value || []);
      const boxes = items.enum.map((v) => {
        const boxId = nextId();
        const box = el("input", { id: boxId, type: "checkbox", value: v });
        box.checked = chosen.has(v);
        return { box, node: el("span", { className: "field inline" }, box, el("label", { for: boxId, text: String(v) })) };
      });
      return {
        node: el("fieldset", { className: "field", dataset: { path } }, el("legend", { text }), el("div", { className: "row wrap" }, boxes.map((b) => b.node)), hintNode,
          el("p", { className: "field-error error small", role: "alert", hidden: true })),
        read: () => boxes.filter((b) => b.box.checked).map((b) => b.box.value),
      };
    }
    const choices = ctx.choices && ctx.choices[key];
    if (items.type === "string" && choices && choices.length) {
      // people or groups of the org by name, not by id
      const chosen = new Set(value || []);
      const known = new Set(choices.map((c) => c.value));
      const kept = [...chosen].filter((v) => !known.has(v)); // ids this page cannot name stay as they are
      const boxes = choices.map((c) => {
        const boxId = nextId();
        const box = el("input", { id: boxId, type: "checkbox", value: c.value });
        box.checked = chosen.has(c.value);
        return { box, node: el("span", { className: "field inline" }, box, el("label", { for: boxId, text: c.label })) };
      });
      return {
        node: el("fieldset", { className: "field", dataset: { path } }, el("legend", { text }), el("div", { className: "row wrap" }, boxes.map((b) => b.node)),
          kept.length ? el("p", { className: "hint muted small", text: `Also ${kept.length} not listed here.` }) : null,
          el("p", { className: "field-error error small", role: "alert", hidden: true })),
        read: () => [...boxes.filter((b) => b.box.checked).map((b) => b.box.value), ...kept],
      };
    }
    if (items.type === "string") {
      const input = el("input", { id, type: "text", "aria-describedby": hintId });
      input.value = (value || []).join(", ");
      const described = el("p", { className: "hint muted small", id: hintId, text: (schema.description ? schema.description + " " : "") + "Separate several with commas." });
      return {
        node: el("div", { className: "field", dataset: { path } }, el("label", { for: id, text }), input, described, el("p", { className: "field-error error small", role: "alert", hidden: true })),
        read: () => input.value.split(",").map((s) => s.trim()).filter(Boolean),
      };
    }
    if (items.type === "object" && items.properties && !items.properties.type) {
      return repeated(key, schema, items, value, ctx, text, path);
    }
  }
  if (schema.type === "object" && schema.properties) {
    return group(key, schema, value, { ...ctx, path }, text);
  }
  if (schema.type === "object" && schema.additionalProperties) {
    return keyValues(key, schema, value, ctx, text, path);
  }
  // anything else (free JSON such as a transform's value or a webhook body): text, or JSON when it parses
  const area = el("textarea", { id, rows: 3, "aria-describedby": hintId });
  area.value = value === undefined || value === null ? "" : typeof value === "string" ? value : JSON.stringify(value, null, 2);
  const described = el("p", { className: "hint muted small", id: hintId, text: (schema.description ? schema.description + " " : "") + "Text, a number, or JSON." });
  return {
    node: el("div", { className: "field", dataset: { path } }, el("label", { for: id, text }), area, el("div", {}, variablePicker(area, ctx.variables || [])), described,
      el("p", { className: "field-error error small", role: "alert", hidden: true })),
    read: () => parseLoose(area.value),
  };
}

// an object's properties, each its own field
export function group(key, schema, value, ctx, legend) {
  const root = ctx.root;
  const required = new Set(schema.required || []);
  // what must be filled first, then the rest, yes/no switches last (the schema's keys come sorted)
  const rank = ([name, sub]) => (required.has(name) ? 0 : unwrap(sub, root).type === "boolean" ? 2 : 1);
  const ordered = Object.entries(schema.properties || {}).sort((a, b) => rank(a) - rank(b));
  const fields = ordered.map(([name, sub]) => [name, field(name, sub, (value || {})[name], ctx, required.has(name))]);
  const body = fields.map(([, f]) => f.node);
  const node = legend ? el("fieldset", { className: "group stack", dataset: { path: ctx.path || "" } }, el("legend", { text: legend }), body) : el("div", { className: "group stack" }, body);
  return {
    node,
    read: () => {
      const out = {};
      for (const [name, f] of fields) {
        const v = f.read();
        if (v !== undefined) out[name] = v;
      }
      return out;
    },
    root,
  };
}

function repeated(key, schema, items, value, ctx, legend, path) {
  const rows = [];
  const holder = el("div", { className: "stack" });
  const singular = (items.title || label(key)).replace(/s$/, "");
  const add = (v) => {
    const index = rows.length;
    const sub = group(key, items, v, { ...ctx, path: `${path}.${index}` }, `${singular} ${index + 1}`);
    const row = { sub, node: sub.node };
    row.node.append(el("button", {
      type: "button", className: "secondary small danger", text: `Remove ${singular.toLowerCase()} ${index + 1}`,
      onclick: () => { rows.splice(rows.indexOf(row), 1); row.node.remove(); },
    }));
    rows.push(row);
    holder.append(row.node);
  };
  for (const v of value || []) add(v);
  if (!rows.length) add({});
  return {
    node: el("fieldset", { className: "field repeated stack", dataset: { path } }, el("legend", { text: legend }), holder,
      el("button", { type: "button", className: "secondary small", text: `Add a ${singular.toLowerCase()}`, onclick: () => add({}) }),
      el("p", { className: "field-error error small", role: "alert", hidden: true })),
    read: () => rows.map((r) => r.sub.read()),
  };
}

function keyValues(key, schema, value, ctx, legend, path) {
  const rows = [];
  const holder = el("div", { className: "stack" });
  const add = (k = "", v = "") => {
    const keyId = nextId();
    const valueId = nextId();
    const keyInput = el("input", { id: keyId, type: "text" });
    const valueInput = el("input", { id: valueId, type: "text" });
    keyInput.value = k;
    valueInput.value = showLoose(v);
    const row = { keyInput, valueInput };
    row.node = el("div", { className: "row wrap kv" },
      el("div", { className: "field" }, el("label", { for: keyId, text: "Entry name" }), keyInput),
      el("div", { className: "field grow" }, el("label", { for: valueId, text: "Entry value" }), valueInput, variablePicker(valueInput, ctx.variables || [])),
      el("button", { type: "button", className: "secondary small danger", text: "Remove", "aria-label": `Remove ${k || "this entry"}`, onclick: () => { rows.splice(rows.indexOf(row), 1); row.node.remove(); } }));
    rows.push(row);
    holder.append(row.node);
  };
  for (const [k, v] of Object.entries(value || {})) add(k, v);
  return {
    node: el("fieldset", { className: "field stack", dataset: { path } }, el("legend", { text: legend }),
      schema.description ? el("p", { className: "hint muted small", text: schema.description }) : null, holder,
      el("button", { type: "button", className: "secondary small", text: "Add an entry", onclick: () => add() }),
      el("p", { className: "field-error error small", role: "alert", hidden: true })),
    read: () => {
      const out = {};
      for (const r of rows) {
        if (!r.keyInput.value.trim()) continue;
        const text = r.valueInput.value;
        // what approvers see are templates (text); tool arguments may be numbers or JSON too
        out[r.keyInput.value.trim()] = schema.additionalProperties === true ? parseLoose(text) ?? "" : text;
      }
      return out;
    },
  };
}

/** The whole config form of a node type. */
export function configForm(schema, value, variables, suggestions, choices = {}) {
  return group("config", schema, value, { root: schema, variables, suggestions, choices, path: "" }, null);
}

/** Show a server's field error in the form: `config.conditions.0.left` finds the field of path `conditions.0.left`. */
export function showFieldError(formNode, fieldPath, message) {
  let path = String(fieldPath || "").replace(/^nodes\.\d+\./, "").replace(/^node\./, "").replace(/^config\.?/, "");
  while (path) {
    const target = formNode.querySelector(`[data-path="${CSS.escape(path)}"] .field-error`);
    if (target) {
      target.textContent = message;
      target.hidden = false;
      return true;
    }
    path = path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "";
  }
  return false;
}
