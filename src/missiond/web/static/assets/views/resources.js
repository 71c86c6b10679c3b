// Resources: browse the blackboard by prefix; values and revisions update live (list, then
// watch from the list's revision: exactly the later changes, none twice).
import { get } from "../lib/api.js";
import { clear, emptyState, h, json, pre, timeEl } from "../lib/dom.js";
import { EventStream } from "../lib/sse.js";

const ROOTS = ["project/", "team/", "mission/", "run/"];
const PAGE = 500;

export function mount(el, { query }) {
  const prefix = query.get("prefix") || "project/";
  const state = { prefix, records: new Map(), revision: 0, selected: null, more: null };
  window.missiond.view = { name: "resources", state };
  const input = h("input", { type: "text", value: prefix, "aria-label": "key prefix", size: 40 });
  const form = h(
    "form",
    { class: "feed-bar", onsubmit: (e) => { e.preventDefault(); location.hash = `#/resources?prefix=${encodeURIComponent(input.value)}`; } },
    ROOTS.map((root) => h("a", { class: `chip ${prefix === root ? "on" : ""}`, href: `#/resources?prefix=${root}` }, root)),
    input,
    h("button", { type: "submit" }, "Browse"),
  );
  const crumbs = h("p", { class: "crumbs" });
  const folders = h("div", { class: "folders" });
  const body = h("tbody");
  const stats = h("span", { class: "feed-stats" });
  const detail = h("section", { class: "panel detail" }, h("p", { class: "empty" }, "Select a key to see its value."));
  el.append(
    h("div", { class: "view-head" }, h("h1", {}, "Resources"), stats),
    form,
    crumbs,
    folders,
    h(
      "div",
      { class: "split" },
      h("table", { class: "grid resources" }, h("thead", {}, h("tr", {}, h("th", {}, "Key"), h("th", {}, "Value"), h("th", {}, "Rev"), h("th", {}, "Updated"))), body),
      detail,
    ),
  );

  const parts = prefix.split("/").filter(Boolean);
  clear(crumbs, parts.map((p, i) => [i ? " / " : "", h("a", { href: `#/resources?prefix=${encodeURIComponent(`${parts.slice(0, i + 1).join("/")}/`)}` }, p)]));

  const render = (flashKey) => {
    const keys = [...state.records.keys()].sort();
    const subfolders = new Set();
    for (const key of keys) {
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf("/");
      if (slash > 0) subfolders.add(rest.slice(0, slash + 1));
    }
    clear(folders, [...subfolders].sort().map((f) => h("a", { class: "chip", href: `#/resources?prefix=${encodeURIComponent(prefix + f)}` }, `${f}`)));
    stats.textContent = `${keys.length} keys · revision ${state.revision}`;
    clear(
      body,
      keys.length
        ? keys.map((key) => {
            const r = state.records.get(key);
            return h(
              "tr",
              { class: key === flashKey ? "flash" : "", dataset: { key }, onclick: () => select(key) },
              h("td", {}, h("code", {}, key)),
              h("td", {}, h("div", { class: "value" }, JSON.stringify(r.value))),
              h("td", { class: "mono", title: `created at rev ${r.create_rev}, version ${r.version}` }, String(r.mod_rev)),
              h("td", {}, timeEl(r.updated_at), h("div", { class: "meta" }, r.updated_by)),
            );
          })
        : h("tr", {}, h("td", { colspan: 4 }, emptyState(`Nothing under ${prefix}`))),
    );
    if (state.selected) select(state.selected);
  };
  const select = (key) => {
    state.selected = key;
    const r = state.records.get(key);
    clear(
      detail,
      h("h2", {}, key),
      r
        ? [h("p", { class: "meta" }, `mod_rev ${r.mod_rev} · version ${r.version} · created at rev ${r.create_rev} · by ${r.updated_by}${r.expires_at ? ` · expires ${r.expires_at}` : ""}`), pre(json(r.value))]
        : h("p", { class: "problem" }, "deleted"),
    );
  };

  const apply = (events) => {
    let last = null;
    for (const e of events) {
      const d = e.data || {};
      if (!d.key) continue;
      if (e.type === "resource.updated") {
        state.records.set(d.key, { key: d.key, value: d.value, create_rev: d.create_rev, mod_rev: d.rev, version: d.version, updated_by: d.updated_by, updated_at: e.ts, expires_at: d.expires_at });
      } else {
        state.records.delete(d.key);
      }
      state.revision = Math.max(state.revision, d.rev || e.seq);
      last = d.key;
    }
    render(last);
  };

  let stream = null;
  let closed = false;
  const load = async () => {
    state.records.clear();
    let after = null;
    let revision = 0;
    do {
      const page = await get("/v1/resources", { prefix, limit: PAGE, after_key: after });
      for (const r of page.items) state.records.set(r.key, r);
      revision = revision || page.revision;
      after = page.next_after_key;
    } while (after && state.records.size < 5000);
    state.revision = revision;
    render();
    return revision;
  };
  (async () => {
    let revision;
    try {
      revision = await load();
    } catch (error) {
      clear(body, h("tr", {}, h("td", { colspan: 4, class: "problem" }, error.message)));
      return;
    }
    if (closed) return;
    stream = new EventStream("/v1/streams/resources", { params: { prefix }, after: revision, onEvents: apply, onExpired: () => load() });
  })();
  return () => {
    closed = true;
    stream?.close();
  };
}
