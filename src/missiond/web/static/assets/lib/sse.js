// Server-Sent Events over fetch (EventSource cannot be told where to resume after a
// reload or a 410). Each frame's `id` is the spine seq: the stream remembers the last
// one, resumes with Last-Event-ID after any drop (a restarted server included), and
// drops anything at or below it, so a view sees every event once, in order.
import { onUnauthorized, urlFor } from "./api.js";

const streams = new Set();
const stateListeners = new Set();
let signedOut = false;

onUnauthorized(() => {
  signedOut = true;
  publish();
});

export function onConnectionState(listener) {
  stateListeners.add(listener);
  listener(connectionState());
  return () => stateListeners.delete(listener);
}

export function connectionState() {
  if (signedOut) return { state: "offline", label: "signed out" };
  const all = [...streams];
  // Between views (and while a view loads its first page) no stream is open yet.
  if (all.length === 0) return { state: "connecting", label: "connecting…" };
  if (all.some((s) => s.state === "reconnecting")) {
    const retry = Math.max(...all.map((s) => s.retryAt || 0)) - Date.now();
    return { state: "reconnecting", label: `reconnecting${retry > 900 ? ` in ${Math.ceil(retry / 1000)} s` : "…"}` };
  }
  if (all.some((s) => s.state === "connecting")) return { state: "connecting", label: "connecting…" };
  const seq = Math.max(0, ...all.map((s) => s.lastSeq ?? 0));
  return { state: "live", label: seq ? `live · seq ${seq}` : "live" };
}

function publish() {
  const current = connectionState();
  stateListeners.forEach((listener) => listener(current));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const WATCHDOG_MS = 45_000; // the server pings every 15 s; silence this long means a dead link

export class EventStream {
  /**
   * @param {string} path  e.g. "/v1/streams/events"
   * @param {object} options  params (filters), after (seq to start after; null = from now),
   *   onEvents(list) for each batch, onExpired(problem) -> new `after` when the cursor is gone
   */
  constructor(path, { params = {}, after = null, onEvents, onExpired, onOpen } = {}) {
    this.path = path;
    this.params = params;
    this.lastSeq = after;
    this.onEvents = onEvents || (() => {});
    this.onExpired = onExpired;
    this.onOpen = onOpen || (() => {});
    this.state = "connecting";
    this.closed = false;
    this.retryAt = 0;
    this.received = 0;
    this.duplicates = 0;
    this.pending = [];
    this.flushTimer = null;
    streams.add(this);
    publish();
    this._run();
  }

  close() {
    this.closed = true;
    this.abort?.abort();
    streams.delete(this);
    publish();
  }

  _set(state) {
    if (this.state !== state) {
      this.state = state;
      publish();
    }
  }

  async _run() {
    let failures = 0;
    while (!this.closed) {
      const ok = await this._connect();
      if (this.closed) return;
      failures = ok ? 0 : failures + 1;
      const delay = Math.min(250 * 2 ** failures, 5000) + Math.random() * 250;
      this.retryAt = Date.now() + delay;
      this._set("reconnecting");
      await sleep(delay);
    }
  }

  async _connect() {
    this.abort = new AbortController();
    const headers = { Accept: "text/event-stream" };
    const params = { ...this.params };
    if (this.lastSeq !== null && this.lastSeq !== undefined) headers["Last-Event-ID"] = String(this.lastSeq);
    let response;
    try {
      response = await fetch(urlFor(this.path, params), {
        headers,
        signal: this.abort.signal,
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch {
      return false;
    }
    if (response.status === 410 && this.onExpired) {
      const problem = await response.json().catch(() => ({}));
      this.lastSeq = await this.onExpired(problem);
      return true;
    }
    if (response.status === 401) {
      signedOut = true;
      publish();
      this.close();
      return false;
    }
    if (!response.ok || !response.body) return false;
    signedOut = false;
    this._set("live");
    this.onOpen();
    let opened = true;
    try {
      await this._read(response.body);
    } catch {
      opened = false;
    }
    return opened;
  }

  // A backlog arrives as thousands of small reads: hand them to the view in one batch per
  // ~30 ms, so a view renders once for 10,000 events rather than 10,000 times.
  _deliver(batch) {
    this.pending.push(...batch);
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      const events = this.pending;
      this.pending = [];
      if (!this.closed && events.length) {
        this.onEvents(events);
        publish();
      }
    }, 30);
  }

  async _read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let watchdog = setTimeout(() => this.abort.abort(), WATCHDOG_MS);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.closed) return;
        clearTimeout(watchdog);
        watchdog = setTimeout(() => this.abort.abort(), WATCHDOG_MS);
        buffer += value.replace(/\r\n?/g, "\n");
        const frames = buffer.split("\n\n");
        buffer = frames.pop();
        const batch = [];
        for (const raw of frames) {
          const frame = parseFrame(raw);
          if (!frame) continue;
          if (frame.event === "error") throw new Error(frame.data); // slow consumer: resume
          const seq = Number.parseInt(frame.id, 10);
          if (!Number.isFinite(seq) || frame.data === undefined) continue;
          if (this.lastSeq !== null && this.lastSeq !== undefined && seq <= this.lastSeq) {
            this.duplicates += 1;
            continue;
          }
          this.lastSeq = seq;
          this.received += 1;
          try {
            batch.push(JSON.parse(frame.data));
          } catch {
            /* a frame that is not JSON is not an event */
          }
        }
        if (batch.length) this._deliver(batch);
      }
    } finally {
      clearTimeout(watchdog);
    }
  }
}

function parseFrame(raw) {
  const frame = {};
  for (const line of raw.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
    else if (field === "id" || field === "event") frame[field] = value;
  }
  return Object.keys(frame).length ? frame : null;
}

// Refresh a view at most every `ms`, trailing: a burst of 500 events costs one fetch.
export function throttle(fn, ms = 300) {
  let timer = null;
  let again = false;
  let running = false;
  const fire = async () => {
    timer = null;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await fn();
    } finally {
      running = false;
      if (again) {
        again = false;
        schedule();
      }
    }
  };
  const schedule = () => {
    if (!timer) timer = setTimeout(fire, ms);
  };
  schedule.cancel = () => clearTimeout(timer);
  return schedule;
}
