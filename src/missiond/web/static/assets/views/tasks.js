// Tasks: what is ready, what is in progress (lease holder and expiry), what is blocked (by what).
import { get } from "../lib/api.js";
import { badge, clear, emptyState, h, relTime, timeEl } from "../lib/dom.js";
import { EventStream, throttle } from "../lib/sse.js";

const LIMIT = 100;
const BLOCKER_LOOKUPS = 40;

export function mount(el) {
  const state = { ready: [], working: [], blocked: [], blockers: new Map() };
  window.missiond.view = { name: "tasks", state };
  const cols = {
    ready: h("div", { class: "task-list", dataset: { list: "ready" } }),
    working: h("div", { class: "task-list", dataset: { list: "in_progress" } }),
    blocked: h("div", { class: "task-list", dataset: { list: "blocked" } }),
  };
  const counts = { ready: h("span", { class: "count" }), working: h("span", { class: "count" }), blocked: h("span", { class: "count" }) };
  el.append(
    h("div", { class: "view-head" }, h("h1", {}, "Tasks"), h("span", { class: "sub" }, "the board agents claim from")),
    h(
      "div",
      { class: "columns" },
      h("section", { class: "column" }, h("h3", {}, "Ready", counts.ready), cols.ready),
      h("section", { class: "column" }, h("h3", {}, "In progress", counts.working), cols.working),
      h("section", { class: "column" }, h("h3", {}, "Blocked", counts.blocked), cols.blocked),
    ),
  );

  const title = (id) => state.blockers.get(id)?.title || id;
  const blockerInfo = async (tasks) => {
    const wanted = new Set();
    for (const t of tasks.slice(0, BLOCKER_LOOKUPS)) {
      if (!state.blockers.has(`rel:${t.id}@${t.rev}`)) wanted.add(t);
    }
    await Promise.all(
      [...wanted].map(async (t) => {
        const full = await get(`/v1/tasks/${t.id}`).catch(() => null);
        const ids = full?.relationships?.blocked_by || [];
        state.blockers.set(`rel:${t.id}@${t.rev}`, ids);
        await Promise.all(
          ids.filter((id) => !state.blockers.has(id)).map(async (id) => {
            const b = await get(`/v1/tasks/${id}`).catch(() => null);
            if (b) state.blockers.set(id, { title: b.title, status: b.status });
          }),
        );
      }),
    );
  };

  const card = (t, kind) =>
    h(
      "article",
      { class: "card task", dataset: { id: t.id, status: t.status } },
      h("header", {}, h("strong", {}, t.title), badge(`P${t.priority}`, "kind")),
      h("div", { class: "id" }, `${t.id}${t.role ? ` · role ${t.role}` : ""}${t.labels?.length ? ` · ${t.labels.join(", ")}` : ""}`),
      t.mission_id ? h("div", { class: "meta" }, "mission ", h("a", { href: `#/missions/${t.mission_id}` }, t.mission_id)) : null,
      kind === "working" && t.lease
        ? h(
            "p",
            { class: "lease" },
            "held by ",
            h("strong", { class: "holder" }, t.lease.holder),
            " · lease ends ",
            h("time", { datetime: t.lease.expires_at, class: "expires", title: t.lease.expires_at }, relTime(t.lease.expires_at)),
          )
        : null,
      kind === "blocked"
        ? h(
            "ul",
            { class: "blockers" },
            t.status === "blocked" ? h("li", {}, badge("status blocked", "failed")) : null,
            (state.blockers.get(`rel:${t.id}@${t.rev}`) || []).map((id) =>
              h("li", {}, "blocked by ", h("strong", {}, title(id)), ` (${state.blockers.get(id)?.status || "?"})`),
            ),
            !state.blockers.has(`rel:${t.id}@${t.rev}`) && t.open_blockers ? h("li", {}, `${t.open_blockers} open blocker(s)`) : null,
          )
        : null,
      h("div", { class: "meta" }, "updated ", timeEl(t.updated_at)),
    );

  const load = async () => {
    const [ready, working, blocked] = await Promise.all([
      get("/v1/tasks/ready", { limit: LIMIT }),
      get("/v1/tasks", { status: "in_progress", limit: LIMIT }),
      get("/v1/tasks", { blocked: true, status: ["open", "blocked"], limit: LIMIT }),
    ]);
    state.ready = ready.items || ready;
    state.working = working.items;
    state.blocked = blocked.items;
    await blockerInfo(state.blocked);
    for (const [key, list, kind] of [["ready", state.ready, "ready"], ["working", state.working, "working"], ["blocked", state.blocked, "blocked"]]) {
      counts[key].textContent = list.length >= LIMIT ? `${LIMIT}+` : String(list.length);
      clear(cols[key], list.length ? list.map((t) => card(t, kind)) : emptyState("none"));
    }
  };
  const refresh = throttle(() => load().catch((error) => clear(cols.ready, h("p", { class: "problem" }, error.message))), 400);
  // Lease countdowns tick without asking the server.
  const ticker = setInterval(() => {
    for (const t of el.querySelectorAll("time.expires")) t.textContent = relTime(t.getAttribute("datetime"));
  }, 1000);
  let stream = null;
  let closed = false;
  (async () => {
    const after = (await get("/v1/health").catch(() => ({}))).head_seq ?? null;
    await load().catch((error) => clear(cols.ready, h("p", { class: "problem" }, error.message)));
    if (!closed) stream = new EventStream("/v1/streams/events", { params: { type: "task." }, after, onEvents: refresh, onExpired: async () => (await get("/v1/health")).head_seq });
  })();
  return () => {
    closed = true;
    clearInterval(ticker);
    refresh.cancel();
    stream?.close();
  };
}
