// Approvals: the pending queue with its context; approve or deny with a reason.
import { get, post } from "../lib/api.js";
import { act, badge, clear, emptyState, h, pre, timeEl } from "../lib/dom.js";
import { EventStream, throttle } from "../lib/sse.js";

async function head() {
  return (await get("/v1/health")).head_seq;
}

// The nav badge: how many approvals wait. It polls (every 5 s, and at once after a decision)
// rather than holding a second stream: a browser allows 6 connections to a host, and each
// open tab should cost one.
export function watchCount(el) {
  const load = throttle(async () => {
    try {
      const { items } = await get("/v1/approvals", { status: "pending", limit: 500 });
      el.textContent = items.length >= 500 ? "500+" : String(items.length);
      el.hidden = items.length === 0;
    } catch {
      /* the page shows the connection state */
    }
  }, 500);
  load();
  setInterval(load, 5000);
  countRefresh = load;
}

let countRefresh = () => {};
export function refreshCount() {
  countRefresh();
}

export function mount(el, { query }) {
  const status = query.get("status") || "pending";
  const state = { items: [], contexts: new Map() };
  window.missiond.view = { name: "approvals", state };
  const list = h("div", { class: "approvals" });
  el.append(
    h(
      "div",
      { class: "view-head" },
      h("h1", {}, "Approvals"),
      h(
        "div",
        { class: "chips" },
        ["pending", "approved", "denied", "expired", "any"].map((s) => h("a", { class: `chip ${s === status ? "on" : ""}`, href: `#/approvals?status=${s}` }, s)),
      ),
    ),
    list,
  );

  const context = async (a) => {
    if (a.kind !== "mission.review" || !a.payload?.mission_id) return null;
    const key = `${a.payload.mission_id}@${a.rev}`;
    if (!state.contexts.has(key)) {
      state.contexts.set(key, get(`/v1/missions/${encodeURIComponent(a.payload.mission_id)}`).catch(() => null));
    }
    const mission = await state.contexts.get(key);
    const item = mission?.items?.find((i) => i.id === a.payload.item_id);
    if (!item) return null;
    const attempt = item.attempts?.find((x) => x.n === a.payload.attempt) || item.attempts?.at(-1);
    return h(
      "div",
      { class: "context" },
      h("p", {}, "Mission ", h("a", { href: `#/missions/${mission.id}` }, mission.title), ` · item ${item.title} (${item.id}) · attempt ${attempt?.n ?? "?"}`),
      attempt?.summary ? h("p", { class: "summary" }, `Executor says: ${attempt.summary}`) : null,
      item.feedback?.length ? h("details", {}, h("summary", {}, `earlier feedback (${item.feedback.length})`), item.feedback.map((f) => pre(f))) : null,
    );
  };

  const card = (a) => {
    const reason = h("textarea", { rows: 2, placeholder: "reason (required to deny)", "aria-label": "reason" });
    const ctx = h("div", {});
    context(a).then((node) => node && ctx.append(node));
    const pending = a.status === "pending";
    return h(
      "article",
      { class: "card approval", dataset: { id: a.id, kind: a.kind, status: a.status } },
      h("header", {}, badge(a.kind, "kind"), h("strong", {}, a.subject), badge(a.status)),
      pre(a.summary, "summary"),
      ctx,
      h(
        "p",
        { class: "meta" },
        `requested by ${a.requester} `,
        timeEl(a.created_at),
        pending && a.expires_at ? [" · expires ", timeEl(a.expires_at)] : null,
        a.decider ? ` · ${a.status} by ${a.decider}` : null,
        a.reason ? ` · “${a.reason}”` : null,
      ),
      pending
        ? h(
            "div",
            { class: "decide" },
            reason,
            h(
              "div",
              { class: "actions" },
              h("button", { class: "primary", onclick: (e) => act(e.target, async () => { await post(`/v1/approvals/${a.id}/approve`, reason.value ? { reason: reason.value } : {}); refresh(); refreshCount(); }, "approved") }, "Approve"),
              h("button", { class: "danger", onclick: (e) => act(e.target, async () => { await post(`/v1/approvals/${a.id}/deny`, { reason: reason.value }); refresh(); refreshCount(); }, "denied") }, "Deny"),
            ),
          )
        : null,
    );
  };

  const load = async () => {
    const { items } = await get("/v1/approvals", { status, limit: 200 });
    state.items = items;
    // Keep what the person is typing: only cards whose record changed are rebuilt.
    const old = new Map([...list.querySelectorAll(".approval")].map((node) => [node.dataset.id, node]));
    const nodes = items.map((a) => {
      const node = old.get(a.id);
      return node && node.dataset.rev === String(a.rev) ? node : withRev(card(a), a.rev);
    });
    clear(list, nodes.length ? nodes : emptyState(status === "pending" ? "Nothing waits for a decision." : "None."));
  };
  const withRev = (node, rev) => {
    node.dataset.rev = String(rev);
    return node;
  };
  const refresh = throttle(() => load().catch((error) => clear(list, h("p", { class: "problem" }, error.message))), 250);
  let stream = null;
  let closed = false;
  (async () => {
    const after = await head().catch(() => null);
    await load().catch((error) => clear(list, h("p", { class: "problem" }, error.message)));
    if (!closed) stream = new EventStream("/v1/streams/events", { params: { type: "approval." }, after, onEvents: () => { refresh(); refreshCount(); }, onExpired: head });
  })();
  return () => {
    closed = true;
    refresh.cancel();
    stream?.close();
  };
}
