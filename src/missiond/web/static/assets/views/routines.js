// Routines: schedule in words, next fire, last result, a badge for external side effects;
// create, edit, activate, pause, resume, run now, delete; each routine's history.
import { del, get, patch, post } from "../lib/api.js";
import { act, badge, clear, emptyState, field, h, json, pre, relTime, timeEl, toast } from "../lib/dom.js";
import { scheduleInWords } from "../lib/schedule.js";
import { EventStream, throttle } from "../lib/sse.js";

const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export function mount(el, { args }) {
  return args[0] ? mountOne(el, args[0]) : mountList(el);
}

async function head() {
  return (await get("/v1/health")).head_seq;
}

function live(onEvents) {
  let stream = null;
  let closed = false;
  head()
    .then((after) => {
      if (!closed) stream = new EventStream("/v1/streams/routines", { after, onEvents, onExpired: head });
    })
    .catch(() => {});
  return () => {
    closed = true;
    stream?.close();
  };
}

export function externalBadge(r) {
  return r.action_class === "external"
    ? h("span", { class: "badge badge-external", title: "This routine acts outside the machine (connector or external command)." }, "⚠ EXTERNAL")
    : null;
}

function lastResult(run) {
  if (!run) return h("span", { class: "meta" }, "never ran");
  const exit = run.detail?.exit_code;
  return h("span", {}, badge(run.status), exit !== undefined && exit !== null ? ` exit ${exit} ` : " ", timeEl(run.finished_at || run.started_at || run.created_at));
}

function lifecycleButtons(r, after) {
  const call = (path, done) => (e) => act(e.target, async () => after(await post(`/v1/routines/${r.id}/${path}`)), done);
  return [
    h("button", { class: "primary", onclick: (e) => act(e.target, async () => { const run = await post(`/v1/routines/${r.id}/run-now`); after(); return run; }, "run queued") }, "Run now"),
    r.status === "draft" ? h("button", { onclick: call("activate", "activated") }, "Activate") : null,
    r.status === "active" ? h("button", { onclick: call("pause", "paused") }, "Pause") : null,
    r.status === "paused" ? h("button", { onclick: call("resume", "resumed") }, "Resume") : null,
  ];
}

function mountList(el) {
  const state = { items: [] };
  window.missiond.view = { name: "routines", state };
  const body = h("tbody");
  const formBox = h("div", {});
  el.append(
    h("div", { class: "view-head" }, h("h1", {}, "Routines"), h("button", { class: "primary", id: "new-routine", onclick: () => clear(formBox, routineForm(null, (r) => { clear(formBox); location.hash = `#/routines/${r.id}`; }, () => clear(formBox))) }, "New routine")),
    formBox,
    h(
      "table",
      { class: "grid routines" },
      h("thead", {}, h("tr", {}, h("th", {}, "Routine"), h("th", {}, "Schedule"), h("th", {}, "Next fire"), h("th", {}, "Last result"), h("th", {}, "Actions"))),
      body,
    ),
  );
  const load = async () => {
    const page = await get("/v1/routines", { limit: 500 });
    state.items = page.items;
    clear(
      body,
      page.items.length
        ? page.items.map((r) =>
            h(
              "tr",
              { dataset: { id: r.id, status: r.status } },
              h("td", {}, h("a", { href: `#/routines/${r.id}` }, r.name), " ", badge(r.status), " ", externalBadge(r), h("div", { class: "id" }, `${r.id} · ${r.action.kind}`)),
              h("td", { class: "schedule" }, scheduleInWords(r.schedule)),
              h("td", {}, r.next_fire_at ? [timeEl(r.next_fire_at), h("div", { class: "meta" }, new Date(r.next_fire_at).toLocaleString())] : h("span", { class: "meta" }, r.status === "paused" ? "paused" : "—")),
              h("td", { class: "last" }, lastResult(r.last_run)),
              h("td", {}, h("div", { class: "actions" }, lifecycleButtons(r, refresh))),
            ),
          )
        : h("tr", {}, h("td", { colspan: 5 }, emptyState("No routines yet."))),
    );
  };
  const refresh = throttle(() => load().catch((error) => clear(body, h("tr", {}, h("td", { colspan: 5, class: "problem" }, error.message)))), 250);
  refresh();
  const stop = live(refresh);
  return () => {
    refresh.cancel();
    stop();
  };
}

function mountOne(el, id) {
  const state = { routine: null, runs: [] };
  window.missiond.view = { name: "routine", state };
  const head = h("div", { class: "mission-head" });
  const formBox = h("div", {});
  const runs = h("tbody");
  el.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/routines" }, "Routines"), " / ", id),
    head,
    formBox,
    h(
      "section",
      { class: "panel" },
      h("h2", {}, "History"),
      h("table", { class: "grid history" }, h("thead", {}, h("tr", {}, h("th", {}, "Run"), h("th", {}, "Trigger"), h("th", {}, "Scheduled for"), h("th", {}, "Status"), h("th", {}, "Output"))), runs),
    ),
  );
  const render = () => {
    const r = state.routine;
    clear(
      head,
      h("div", { class: "view-head" }, h("h1", {}, r.name), badge(r.status), externalBadge(r)),
      h("p", {}, h("strong", {}, scheduleInWords(r.schedule)), r.next_fire_at ? [" · next fire ", timeEl(r.next_fire_at), ` (${new Date(r.next_fire_at).toLocaleString()})`] : null),
      h("p", { class: "meta" }, `action ${r.action.kind}: ${actionText(r.action)} · misfire ${r.misfire.policy} · overlap ${r.overlap}${r.requires_approval ? " · needs approval" : ""}${r.external_allowed ? " · external allowed" : ""} · rev ${r.rev}`),
      h(
        "div",
        { class: "actions" },
        lifecycleButtons(r, refresh),
        h("button", { onclick: () => clear(formBox, routineForm(r, () => { clear(formBox); refresh(); }, () => clear(formBox))) }, "Edit"),
        h("button", { class: "danger", onclick: (e) => { if (confirm(`Delete routine “${r.name}”?`)) act(e.target, async () => { await del(`/v1/routines/${r.id}`); location.hash = "#/routines"; }, "deleted"); } }, "Delete"),
      ),
    );
    clear(
      runs,
      state.runs.length
        ? state.runs.map((run) =>
            h(
              "tr",
              { dataset: { id: run.id, status: run.status } },
              h("td", { class: "mono" }, run.id, h("div", { class: "meta" }, run.finished_at ? `finished ${relTime(run.finished_at)}` : run.started_at ? "running" : "")),
              h("td", {}, run.trigger),
              h("td", {}, timeEl(run.scheduled_for)),
              h("td", {}, badge(run.status), run.detail?.exit_code !== undefined ? ` exit ${run.detail.exit_code}` : "", run.detail?.reason && run.status !== "succeeded" ? h("div", { class: "meta" }, run.detail.reason) : null, run.mission_id ? h("div", {}, h("a", { href: `#/missions/${run.mission_id}` }, "mission")) : null),
              h("td", {}, run.detail?.output_tail ? pre(run.detail.output_tail, "test-tail") : h("span", { class: "meta" }, run.detail?.count ? `${run.detail.count} missed` : "—")),
            ),
          )
        : h("tr", {}, h("td", { colspan: 5 }, emptyState("No runs yet."))),
    );
  };
  const load = async () => {
    const [routine, history] = await Promise.all([get(`/v1/routines/${id}`), get(`/v1/routines/${id}/history`, { limit: 100 })]);
    state.routine = routine;
    state.runs = history.items;
    render();
  };
  const refresh = throttle(() => load().catch((error) => clear(head, h("p", { class: "problem" }, error.message))), 250);
  refresh();
  const stop = live(refresh);
  return () => {
    refresh.cancel();
    stop();
  };
}

function actionText(a) {
  if (a.kind === "command") return a.shell || (a.argv || []).join(" ");
  if (a.kind === "connector") return `${a.connector} ${JSON.stringify(a.params || {})}`;
  if (a.kind === "task") return a.task?.title || "";
  if (a.kind === "mission") return a.spec?.title || "mission";
  return JSON.stringify(a);
}

// The create/edit form. Editing sends only what changed, guarded by the routine's rev.
function routineForm(r, onSaved, onCancel) {
  const s = r?.schedule || { cron: "0 9 * * 1-5", timezone: ZONE };
  const a = r?.action || { kind: "command", shell: "" };
  const name = h("input", { name: "name", required: true, value: r?.name || "", placeholder: "nightly audit" });
  const kind = h("select", { name: "schedule-kind" }, h("option", { value: "cron", selected: s.cron !== undefined }, "cron"), h("option", { value: "interval", selected: s.interval_s !== undefined }, "interval"));
  const cron = h("input", { name: "cron", value: s.cron || "0 9 * * 1-5", placeholder: "0 2 * * *" });
  const tz = h("input", { name: "timezone", value: s.timezone || ZONE, placeholder: "Europe/Berlin" });
  const interval = h("input", { name: "interval_s", type: "number", min: 1, step: "any", value: s.interval_s ?? 3600 });
  const words = h("small", { class: "words" });
  const actionKind = h("select", { name: "action-kind" }, ["command", "task", "connector", "mission"].map((k) => h("option", { value: k, selected: a.kind === k }, k)));
  const actionText = h("textarea", { name: "action", rows: 3 });
  const external = h("input", { type: "checkbox", name: "external", checked: Boolean(a.external) });
  const approval = h("input", { type: "checkbox", name: "requires_approval", checked: Boolean(r?.requires_approval) });
  const allowed = h("input", { type: "checkbox", name: "external_allowed", checked: Boolean(r?.external_allowed) });
  const misfire = h("select", { name: "misfire" }, ["run_once", "skip", "catch_up"].map((p) => h("option", { value: p, selected: (r?.misfire?.policy || "run_once") === p }, p)));
  const overlap = h("select", { name: "overlap" }, ["skip", "queue_one", "allow"].map((p) => h("option", { value: p, selected: (r?.overlap || "skip") === p }, p)));
  const hint = h("small", {});
  const placeholders = {
    command: ["a shell command, e.g. pip-audit", (x) => x.shell ?? (x.argv || []).join(" ")],
    task: ["the task's title", (x) => x.task?.title || ""],
    connector: ['{"connector": "http.post", "params": {"url": "https://..."}}', (x) => json({ connector: x.connector, params: x.params })],
    mission: ["a mission spec (JSON); see specs/ORCHESTRATOR.md", (x) => json(x.spec || {})],
  };
  const syncAction = (fromRecord) => {
    const [ph, text] = placeholders[actionKind.value];
    actionText.placeholder = ph;
    if (fromRecord && a.kind === actionKind.value) actionText.value = text(a);
    else if (!fromRecord) actionText.value = "";
    external.parentElement && (external.parentElement.hidden = actionKind.value !== "command");
  };
  const syncSchedule = () => {
    const isCron = kind.value === "cron";
    cron.parentElement.hidden = !isCron;
    tz.parentElement.hidden = !isCron;
    interval.parentElement.hidden = isCron;
    words.textContent = scheduleInWords(isCron ? { cron: cron.value, timezone: tz.value } : { interval_s: interval.value });
  };
  const action = () => {
    const text = actionText.value.trim();
    switch (actionKind.value) {
      case "command":
        return { kind: "command", shell: text, external: external.checked };
      case "task":
        return { kind: "task", task: { title: text } };
      case "connector": {
        const parsed = parseJson(text, "the connector");
        return { kind: "connector", connector: parsed.connector, params: parsed.params || {} };
      }
      default:
        return { kind: "mission", spec: parseJson(text, "the mission spec"), start: true };
    }
  };
  const form = h(
    "form",
    {
      class: "panel routine-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const button = form.querySelector("button[type=submit]");
        let body;
        try {
          body = {
            name: name.value.trim(),
            schedule: kind.value === "cron" ? { cron: cron.value.trim(), timezone: tz.value.trim() || "UTC" } : { interval_s: Number(interval.value) },
            action: action(),
            misfire: { policy: misfire.value },
            overlap: overlap.value,
            requires_approval: approval.checked,
            external_allowed: allowed.checked,
          };
        } catch (error) {
          toast(error.message);
          return;
        }
        const saved = await act(button, () => (r ? patch(`/v1/routines/${r.id}`, { ...body, expected_rev: r.rev }) : post("/v1/routines", body)), r ? "routine saved" : "routine created");
        if (saved) onSaved(saved);
      },
    },
    h("h2", {}, r ? `Edit ${r.name}` : "New routine"),
    h(
      "div",
      { class: "form" },
      field("Name", name),
      field("Schedule", kind),
      field("Cron (5 fields)", cron, "minute hour day-of-month month day-of-week"),
      field("Time zone", tz),
      field("Every (seconds)", interval),
      h("div", { class: "field" }, h("span", { class: "field-label" }, "In words"), words),
      field("Action", actionKind),
      h("div", { class: "field wide" }, h("span", { class: "field-label" }, "What it does"), actionText, hint),
      h("label", { class: "field check" }, external, "the command acts outside this machine (external)"),
      field("Misfire policy", misfire),
      field("Overlap", overlap),
      h("label", { class: "field check" }, approval, "each run waits for an approval"),
      h("label", { class: "field check" }, allowed, "allow external side effects"),
    ),
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit" }, r ? "Save" : "Create"), h("button", { type: "button", onclick: onCancel }, "Cancel")),
  );
  kind.addEventListener("change", syncSchedule);
  for (const input of [cron, tz, interval]) input.addEventListener("input", syncSchedule);
  actionKind.addEventListener("change", () => syncAction(false));
  syncSchedule();
  syncAction(true);
  setTimeout(() => name.focus(), 0);
  return form;
}

function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
}
