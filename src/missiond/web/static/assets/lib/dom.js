// Small DOM helpers: an element builder (text is always set as text, never parsed as
// HTML), time formatting, toasts for failed actions.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    // Styles go through the CSSOM: the page's CSP refuses style attributes.
    else if (name === "style") Object.assign(el.style, value);
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "value") el.value = value;
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function badge(text, kind = text) {
  return h("span", { class: `badge badge-${String(kind).replace(/[^a-z_]/gi, "")}` }, text);
}

export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

export function relTime(iso, now = Date.now()) {
  if (!iso) return "—";
  const diff = (new Date(iso).getTime() - now) / 1000;
  const abs = Math.abs(diff);
  const unit =
    abs < 60 ? [Math.round(abs), "s"] : abs < 3600 ? [Math.round(abs / 60), "min"] : abs < 86400 * 2
      ? [Math.round(abs / 3600), "h"] : [Math.round(abs / 86400), "d"];
  const text = `${unit[0]} ${unit[1]}`;
  if (abs < 1) return "now";
  return diff > 0 ? `in ${text}` : `${text} ago`;
}

export function timeEl(iso) {
  return h("time", { datetime: iso || "", title: fmtTime(iso) }, relTime(iso));
}

export function toast(message, kind = "error") {
  const box = document.getElementById("toasts");
  const el = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, message);
  box.append(el);
  setTimeout(() => el.remove(), kind === "error" ? 8000 : 3500);
  return el;
}

// Run an action from a button: disable it meanwhile, show the problem's detail on failure.
export async function act(button, fn, done) {
  if (button) button.disabled = true;
  try {
    const result = await fn();
    if (done) toast(done, "ok");
    return result;
  } catch (error) {
    const detail = error?.problem?.detail || error?.message || "the action failed";
    const code = error?.code && error.code !== "ERROR" ? ` (${error.code})` : "";
    toast(`${detail}${code}`, "error");
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

export function pre(text, cls = "") {
  return h("pre", { class: cls }, text ?? "");
}

export function json(value) {
  return JSON.stringify(value, null, 2);
}

export function field(label, input, hint) {
  return h("label", { class: "field" }, h("span", { class: "field-label" }, label), input, hint ? h("small", {}, hint) : null);
}

export function emptyState(text) {
  return h("p", { class: "empty" }, text);
}
