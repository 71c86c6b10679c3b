// The dashboard shell: signs the page in through its cookie, routes by hash, shows the
// live-connection state on every page, and mounts one view at a time.
import { get, onUnauthorized, post, setCsrf } from "./lib/api.js";
import { clear, h, toast } from "./lib/dom.js";
import { onConnectionState } from "./lib/sse.js";
import * as approvals from "./views/approvals.js";
import * as events from "./views/events.js";
import * as missions from "./views/missions.js";
import * as resources from "./views/resources.js";
import * as routines from "./views/routines.js";
import * as tasks from "./views/tasks.js";

const VIEWS = { missions, approvals, routines, tasks, resources, events };
const main = document.getElementById("view");
let unmount = null;
let session = null;

// A read-only handle for tests and curious people: the current view's state.
window.missiond = { view: null, session: null };

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "") || "missions";
  const [path, query = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { name: parts[0] || "missions", args: parts.slice(1), query: new URLSearchParams(query) };
}

function route() {
  if (!session) return;
  const { name, args, query } = parseHash();
  const view = VIEWS[name] || missions;
  if (unmount) unmount();
  unmount = null;
  window.missiond.view = null;
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.dataset.view === name);
  }
  clear(main);
  for (const done of document.querySelectorAll(".toast-ok")) done.remove();
  document.title = `missiond · ${name}`;
  unmount = view.mount(main, { args, query, session });
}

function showSignIn(reason) {
  session = null;
  if (unmount) unmount();
  unmount = null;
  document.getElementById("logout").hidden = true;
  document.getElementById("who").textContent = "";
  clear(
    main,
    h(
      "section",
      { class: "signin" },
      h("h1", {}, "Sign in to missiond"),
      h("p", {}, reason || "This browser has no dashboard session."),
      h("p", {}, "In a terminal, in your project, run:"),
      h("pre", {}, "missiond ui"),
      h("p", {}, "and open the one-time link it prints (it works once, within two minutes)."),
    ),
  );
}

async function start() {
  onConnectionState(({ state, label }) => {
    const live = document.getElementById("live");
    live.dataset.state = state;
    live.querySelector(".label").textContent = label;
  });
  onUnauthorized((problem) => {
    if (session) showSignIn(problem.detail);
  });
  try {
    session = await get("/v1/ui/session");
  } catch (error) {
    showSignIn(error.status === 401 ? undefined : error.message);
    return;
  }
  setCsrf(session.csrf_header, session.csrf_token);
  window.missiond.session = { subject: session.subject, expires_at: session.expires_at };
  document.getElementById("who").textContent = session.subject;
  const logout = document.getElementById("logout");
  logout.hidden = false;
  logout.addEventListener("click", async () => {
    try {
      await post("/v1/ui/logout");
    } catch (error) {
      toast(error.message);
    }
    showSignIn("You signed out.");
  });
  approvals.watchCount(document.getElementById("approvals-count"));
  window.addEventListener("hashchange", route);
  route();
}

start();
