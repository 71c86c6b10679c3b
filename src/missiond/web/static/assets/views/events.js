// Events: the spine, live, filtered by type and subject prefixes. The feed resumes after a
// dropped connection (or a restarted server) from the last seq it holds: no gap, no
// duplicate. Newest first; windowed so 10,000+ events stay responsive.
import { get } from "../lib/api.js";
import { clear, h, json, pre, relTime } from "../lib/dom.js";
import { EventStream } from "../lib/sse.js";
import { VirtualList } from "../lib/vlist.js";

const BACKLOG = 10_000;
const KEEP = 50_000;

export function mount(el, { query }) {
  const types = query.get("type") || "";
  const subjects = query.get("subject") || "";
  const items = [];
  const state = { items, types, subjects, floorNotice: null, selected: null, receivedAfterOpen: 0 };
  const stats = h("span", { class: "feed-stats", id: "feed-stats" });
  const typeIn = h("input", { type: "text", value: types, placeholder: "type prefix, e.g. mission. task.", "aria-label": "type filter", size: 28 });
  const subjectIn = h("input", { type: "text", value: subjects, placeholder: "subject prefix, e.g. mission/msn_", "aria-label": "subject filter", size: 28 });
  const apply = (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (typeIn.value.trim()) q.set("type", typeIn.value.trim());
    if (subjectIn.value.trim()) q.set("subject", subjectIn.value.trim());
    location.hash = `#/events${q.toString() ? `?${q}` : ""}`;
  };
  const detail = h("section", { class: "panel detail" }, h("p", { class: "empty" }, "Select an event to see its envelope."));
  const list = new VirtualList({
    renderRow: (index) => {
      const e = items[items.length - 1 - index];
      return h(
        "div",
        { class: `vrow ${state.selected === e.seq ? "selected" : ""}`, dataset: { seq: e.seq }, onclick: () => select(e) },
        h("span", { class: "seq" }, `#${e.seq}`),
        h("span", { class: "ts", title: e.ts }, new Date(e.ts).toLocaleTimeString()),
        h("span", { class: "type" }, e.type),
        h("span", { class: "subject", title: e.subject }, e.subject),
        h("span", { class: "data" }, JSON.stringify(e.data)),
      );
    },
  });
  el.append(
    h("div", { class: "view-head" }, h("h1", {}, "Events"), stats),
    h(
      "form",
      { class: "feed-bar", onsubmit: apply },
      typeIn,
      subjectIn,
      h("button", { type: "submit" }, "Filter"),
      types || subjects ? h("a", { class: "chip", href: "#/events" }, "clear filters") : null,
    ),
    h("div", { class: "split" }, list.el, detail),
  );
  const select = (e) => {
    state.selected = e.seq;
    list.invalidate();
    clear(detail, h("h2", {}, `#${e.seq} ${e.type}`), h("p", { class: "meta" }, `${e.subject} · ${e.actor} · ${relTime(e.ts)}`), pre(json(e)));
  };
  const renderStats = () => {
    const first = items[0]?.seq;
    const last = items.at(-1)?.seq;
    stats.textContent = items.length
      ? `${items.length.toLocaleString()} event${items.length === 1 ? "" : "s"} · seq ${first}–${last}${types || subjects ? " (filtered)" : ""}${state.floorNotice ? ` · ${state.floorNotice}` : ""}`
      : "no events yet";
    el.dataset.count = String(items.length);
    el.dataset.last = String(last ?? 0);
  };

  const onEvents = (batch) => {
    for (const e of batch) items.push(e);
    let dropped = 0;
    if (items.length > KEEP) {
      dropped = items.length - KEEP;
      items.splice(0, dropped);
    }
    list.setCount(items.length, { keepOffset: batch.length });
    renderStats();
  };
  window.missiond.view = {
    name: "events",
    state,
    seqs: () => items.map((e) => e.seq),
    stream: () => stream && { lastSeq: stream.lastSeq, received: stream.received, duplicates: stream.duplicates },
  };

  // The backlog comes in pages of 1,000 (one JSON document each: far cheaper than 10,000
  // SSE frames); the stream then continues from the last seq the pages held.
  const backlog = async (params) => {
    const health = await get("/v1/health");
    let after = Math.max(health.floor ?? 0, health.head_seq - BACKLOG);
    while (!closed && after < health.head_seq) {
      let page;
      try {
        page = await get("/v1/events", { ...params, after, limit: 1000 });
      } catch (error) {
        if (error.status !== 410 || error.problem.floor === undefined) throw error;
        state.floorNotice = `events up to #${error.problem.floor} were compacted`;
        after = error.problem.floor;
        continue;
      }
      const batch = page.events.filter((e) => e.seq <= health.head_seq);
      if (batch.length) onEvents(batch);
      if (page.events.length < 1000 || batch.length < page.events.length) break;
      after = batch.at(-1).seq;
    }
    return health.head_seq;
  };

  let stream = null;
  let closed = false;
  (async () => {
    const params = { type: types ? types.split(/[\s,]+/) : undefined, subject: subjects ? subjects.split(/[\s,]+/) : undefined };
    let after = null;
    try {
      after = await backlog(params);
    } catch {
      after = null;
    }
    if (closed) return;
    renderStats();
    stream = new EventStream("/v1/streams/events", {
      params,
      after,
      onEvents,
      onExpired: async (problem) => {
        state.floorNotice = `events up to #${problem.floor} were compacted`;
        renderStats();
        return problem.floor ?? 0;
      },
    });
  })();
  return () => {
    closed = true;
    stream?.close();
  };
}
