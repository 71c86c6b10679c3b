// Missions: the list (status counts, progress, paged 50 at a time) and a mission's board
// (items as columns by status, attempts, gate results, feedback, test tails, artifacts).
import { get, post } from "../lib/api.js";
import { act, badge, clear, emptyState, h, pre, relTime, timeEl } from "../lib/dom.js";
import { EventStream, throttle } from "../lib/sse.js";
import { refreshCount } from "./approvals.js";

const PAGE = 50;
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const STATUSES = ["running", "paused", "halted", "draft", "succeeded", "failed", "cancelled"];
export const COLUMNS = [
  ["ready", "Ready", ["ready", "todo", "blocked"]],
  ["in_progress", "In progress", ["in_progress"]],
  ["review", "Review", ["review"]],
  ["test", "Test", ["test"]],
  ["rework", "Rework", ["rework"]],
  ["done", "Done", ["done"]],
  ["failed", "Failed", ["failed", "cancelled"]],
];

export function mount(el, { args, query }) {
  return args[0] ? mountMission(el, args[0]) : mountList(el, query);
}

async function head() {
  const health = await get("/v1/health");
  return health.head_seq;
}

export function progressBar(progress) {
  const total = progress?.total || 0;
  const by = progress?.by_status || {};
  const bar = h("div", { class: "progress", title: Object.entries(by).map(([k, v]) => `${k}: ${v}`).join(", ") });
  for (const [key, , statuses] of COLUMNS) {
    const n = statuses.reduce((sum, s) => sum + (by[s] || 0), 0);
    if (n && total) bar.append(h("span", { class: `seg seg-${key}`, style: { width: `${(100 * n) / total}%` } }));
  }
  return h("div", { class: "progress-wrap" }, bar, h("span", { class: "progress-text" }, `${progress?.done || 0}/${total}`));
}

function mountList(el, query) {
  const status = query.get("status") || "";
  const state = { items: [], counts: {}, cursors: [null], page: 0, next: null, loadedAt: 0 };
  window.missiond.view = { name: "missions", state };
  const chips = h("div", { class: "chips", role: "group", "aria-label": "Filter by status" });
  const table = h("tbody");
  const pager = h("div", { class: "pager" });
  el.append(
    h("div", { class: "view-head" }, h("h1", {}, "Missions"), h("span", { class: "sub", id: "missions-total" })),
    chips,
    h(
      "table",
      { class: "grid missions" },
      h("thead", {}, h("tr", {}, h("th", {}, "Mission"), h("th", {}, "Status"), h("th", {}, "Progress"), h("th", {}, "Updated"))),
      table,
    ),
    pager,
  );

  const load = async () => {
    const started = performance.now();
    const page = await get("/v1/missions", { status, limit: PAGE, after: state.cursors[state.page] });
    state.items = page.items;
    state.counts = page.counts || {};
    state.next = page.next_cursor;
    render();
    state.loadedAt = performance.now() - started;
  };
  const render = () => {
    const total = Object.values(state.counts).reduce((a, b) => a + b, 0);
    document.getElementById("missions-total").textContent = `${total} in all`;
    clear(
      chips,
      h("a", { class: `chip ${status ? "" : "on"}`, href: "#/missions" }, `all ${total}`),
      STATUSES.filter((s) => state.counts[s]).map((s) =>
        h("a", { class: `chip ${status === s ? "on" : ""}`, href: `#/missions?status=${s}` }, `${s} ${state.counts[s]}`),
      ),
    );
    clear(
      table,
      state.items.length
        ? state.items.map((m) =>
            h(
              "tr",
              { dataset: { id: m.id, status: m.status } },
              h("td", {}, h("a", { href: `#/missions/${m.id}` }, m.title), h("div", { class: "id" }, m.id)),
              h("td", {}, badge(m.status)),
              h("td", {}, progressBar(m.progress)),
              h("td", {}, timeEl(m.updated_at)),
            ),
          )
        : h("tr", {}, h("td", { colspan: 4 }, emptyState("No missions yet. Create one with `missiond mission create spec.json --start`."))),
    );
    clear(
      pager,
      h("button", { class: "ghost", disabled: state.page === 0, onclick: () => { state.page -= 1; load(); } }, "← Newer"),
      h("span", {}, `page ${state.page + 1}`),
      h("button", { class: "ghost", disabled: !state.next, onclick: () => { state.cursors[state.page + 1] = state.next; state.page += 1; load(); } }, "Older →"),
    );
  };

  let stream = null;
  let closed = false;
  const refresh = throttle(() => load().catch(() => {}), 400);
  (async () => {
    const after = await head().catch(() => null);
    await load().catch((error) => clear(table, h("tr", {}, h("td", { colspan: 4, class: "problem" }, error.message))));
    if (!closed) stream = new EventStream("/v1/streams/missions", { after, onEvents: refresh, onExpired: async () => { refresh(); return head(); } });
  })();
  return () => {
    closed = true;
    refresh.cancel();
    stream?.close();
  };
}

function mountMission(el, id) {
  const state = { mission: null, log: [] };
  window.missiond.view = { name: "mission", state };
  const header = h("div", { class: "mission-head" });
  const board = h("div", { class: "board" });
  const log = h("ol", { class: "log", reversed: true });
  el.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/missions" }, "Missions"), " / ", id),
    header,
    board,
    h("section", { class: "panel" }, h("h2", {}, "Activity"), log),
  );

  const load = async () => {
    state.mission = await get(`/v1/missions/${encodeURIComponent(id)}`);
    renderHead();
    renderBoard();
  };
  const steer = (action, button, body) =>
    act(button, async () => {
      state.mission = await post(`/v1/missions/${encodeURIComponent(id)}/${action}`, body);
      renderHead();
      renderBoard();
    }, `mission ${action}d`.replace("cancel", "cancelle"));

  const renderHead = () => {
    const m = state.mission;
    const cancelReason = h("input", { type: "text", placeholder: "reason (optional)", "aria-label": "cancel reason" });
    const actions = h("div", { class: "actions" });
    if (m.status === "running") actions.append(h("button", { onclick: (e) => steer("pause", e.target) }, "Pause"));
    if (m.status === "paused" || m.status === "halted") actions.append(h("button", { onclick: (e) => steer("resume", e.target) }, "Resume"));
    if (m.status === "draft") actions.append(h("button", { onclick: (e) => steer("start", e.target) }, "Start"));
    if (!TERMINAL.has(m.status)) {
      actions.append(cancelReason, h("button", { class: "danger", onclick: (e) => steer("cancel", e.target, cancelReason.value ? { reason: cancelReason.value } : {}) }, "Cancel"));
    }
    clear(
      header,
      h("div", { class: "view-head" }, h("h1", {}, m.title), badge(m.status), progressBar(m.progress)),
      h("p", { class: "goal" }, m.spec?.goal || ""),
      m.reason ? h("p", { class: "reason" }, m.reason) : null,
      h(
        "p",
        { class: "meta" },
        `created ${relTime(m.created_at)} by ${m.created_by} · updated `,
        timeEl(m.updated_at),
        m.spec?.gates?.test ? ` · test gate: ${m.spec.gates.test.command}` : "",
        m.spec?.gates?.review?.required ? ` · review by ${m.spec.gates.review.by}` : "",
      ),
      actions,
    );
  };

  const renderBoard = () => {
    const items = state.mission.items || [];
    clear(
      board,
      COLUMNS.map(([key, title, statuses]) => {
        const inCol = items.filter((i) => statuses.includes(i.status));
        return h(
          "section",
          { class: `column col-${key}`, dataset: { column: key } },
          h("h3", {}, title, h("span", { class: "count" }, String(inCol.length))),
          inCol.map(itemCard),
        );
      }),
    );
  };

  const itemCard = (item) => {
    const attempts = item.attempts || [];
    const last = attempts[attempts.length - 1];
    return h(
      "article",
      { class: "card", dataset: { item: item.id, status: item.status } },
      h("header", {}, h("strong", {}, item.title), badge(item.status)),
      h("div", { class: "id" }, `${item.id} · attempt ${attempts.length || 0}${item.reworks ? ` · ${item.reworks} rework${item.reworks > 1 ? "s" : ""}` : ""}`),
      item.depends_on?.length ? h("div", { class: "deps" }, `after ${item.depends_on.join(", ")}`) : null,
      item.reason ? h("p", { class: "reason" }, item.reason) : null,
      last ? attemptView(last, true) : null,
      attempts.length > 1
        ? h("details", { class: "attempts" }, h("summary", {}, `earlier attempts (${attempts.length - 1})`), attempts.slice(0, -1).reverse().map((a) => attemptView(a, false)))
        : null,
      item.feedback?.length
        ? h("details", { class: "feedback" }, h("summary", {}, `feedback (${item.feedback.length})`), h("ol", {}, item.feedback.map((f) => h("li", {}, pre(f)))))
        : null,
      item.status === "review" && last?.approval_id ? reviewBox(last.approval_id) : null,
    );
  };

  const attemptView = (a, open) =>
    h(
      "div",
      { class: "attempt", dataset: { attempt: a.n } },
      h(
        "div",
        { class: "gates" },
        h("span", { class: "attempt-n" }, `#${a.n}`),
        a.run_ok === false ? badge("run failed", "failed") : a.summary ? badge("submitted", "submitted") : badge("working", "in_progress"),
        a.review ? badge(`review ${a.review.replace("_", " ")}`, a.review === "approved" ? "passed" : "failed") : null,
        a.test ? badge(`test ${a.test}${a.exit_code !== null && a.exit_code !== undefined ? ` (exit ${a.exit_code})` : ""}`, a.test) : null,
      ),
      a.summary ? h("p", { class: "summary" }, a.summary) : null,
      a.reviewer ? h("p", { class: "reviewer" }, `reviewer: ${a.reviewer}`) : null,
      a.review_feedback ? h("blockquote", { class: "review-feedback" }, a.review_feedback) : null,
      a.test_tail ? h("details", { class: "tail", open: open && a.test === "failed" }, h("summary", {}, "test output (tail)"), pre(tailLines(a.test_tail, 40), "test-tail")) : null,
      a.artifacts?.length ? h("ul", { class: "artifacts" }, a.artifacts.map((p) => h("li", {}, h("code", {}, p)))) : null,
    );

  const reviewBox = (approvalId) => {
    const reason = h("input", { type: "text", placeholder: "feedback (needed to request changes)", "aria-label": "review feedback" });
    return h(
      "div",
      { class: "review-box" },
      h("div", { class: "review-title" }, "Waiting for your review"),
      reason,
      h(
        "div",
        { class: "actions" },
        h("button", { class: "primary", onclick: (e) => act(e.target, () => post(`/v1/approvals/${approvalId}/approve`, reason.value ? { reason: reason.value } : {}).then(refreshCount), "approved") }, "Approve"),
        h("button", { class: "danger", onclick: (e) => act(e.target, () => post(`/v1/approvals/${approvalId}/deny`, { reason: reason.value }).then(refreshCount), "changes requested") }, "Request changes"),
      ),
    );
  };

  const addLog = (events) => {
    for (const e of events) state.log.push(e);
    if (state.log.length > 300) state.log.splice(0, state.log.length - 300);
    clear(
      log,
      state.log.slice(-60).reverse().map((e) =>
        h("li", { dataset: { seq: e.seq, type: e.type } }, h("code", {}, `#${e.seq}`), " ", h("span", { class: "etype" }, e.type), " ", describe(e), " ", h("time", { title: e.ts }, relTime(e.ts))),
      ),
    );
  };

  let stream = null;
  let closed = false;
  const refresh = throttle(() => load().catch(() => {}), 250);
  (async () => {
    try {
      await load();
    } catch (error) {
      clear(header, h("h1", {}, "Mission"), h("p", { class: "problem" }, error.message));
      return;
    }
    if (closed) return;
    stream = new EventStream("/v1/streams/missions", {
      params: { mission_id: id },
      after: 0,
      onEvents: (events) => {
        addLog(events);
        refresh();
        if (events.some((e) => e.type.startsWith("review."))) refreshCount();
      },
      onExpired: async (problem) => problem.floor ?? head(),
    });
  })();
  return () => {
    closed = true;
    refresh.cancel();
    stream?.close();
  };
}

function tailLines(text, n) {
  const lines = String(text).split("\n");
  return lines.length > n ? `… ${lines.length - n} earlier lines\n${lines.slice(-n).join("\n")}` : text;
}

function describe(e) {
  const d = e.data || {};
  const bits = [];
  if (d.item_id) bits.push(d.item_id);
  if (d.attempt) bits.push(`attempt ${d.attempt}`);
  if (d.reviewer) bits.push(`by ${d.reviewer}`);
  if (d.exit_code !== undefined) bits.push(`exit ${d.exit_code}`);
  if (d.reason) bits.push(d.reason);
  if (d.feedback) bits.push(`“${String(d.feedback).slice(0, 80)}”`);
  if (d.message) bits.push(d.message);
  return bits.join(" · ");
}
