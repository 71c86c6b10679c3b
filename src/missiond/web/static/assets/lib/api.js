// The one way the page talks to the server: same-origin fetch with the session cookie.
// Mutations carry the CSRF header and an Idempotency-Key; failures become ApiError
// carrying the problem's `detail` (RFC 9457), never a stack trace.

let csrf = { header: "x-missiond-csrf", token: null };
const unauthorizedListeners = new Set();

export function setCsrf(header, token) {
  csrf = { header, token };
}

export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export class ApiError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || `request failed (HTTP ${status})`);
    this.problem = problem;
    this.status = status;
    this.code = problem.code || "ERROR";
  }
}

export function randomKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function urlFor(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(one));
  }
  return url;
}

export async function api(method, path, { body, params, headers } = {}) {
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (method !== "GET") {
    if (csrf.token) sent[csrf.header] = csrf.token;
    sent["Idempotency-Key"] = randomKey();
  }
  let response;
  try {
    response = await fetch(urlFor(path, params), {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError({ code: "UNREACHABLE", detail: "the server cannot be reached" }, 0);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const problem = data && typeof data === "object" ? data : { title: `HTTP ${response.status}` };
    if (response.status === 401) unauthorizedListeners.forEach((listener) => listener(problem));
    throw new ApiError(problem, response.status);
  }
  return data;
}

export const get = (path, params) => api("GET", path, { params });
export const post = (path, body, params) => api("POST", path, { body: body ?? {}, params });
export const patch = (path, body) => api("PATCH", path, { body });
export const del = (path, params) => api("DELETE", path, { params });
