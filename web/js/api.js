// The one module that talks to the API (API.md). Every page goes through `api()` so that the
// contract's cross-cutting answers are handled in one place:
//   401            → the stored token is dropped and the page's onUnauthenticated hook runs;
//   503 busy       → every request of this tab waits until Retry-After has passed (one shared
//                    gate, so three parallel uploads do not each hammer the server), then retries
//                    a bounded number of times with a growing pause;
//   403 window_closed and other errors → an ApiError carrying the contract's code and message.
import { API_BASE } from "../config.js";

export const BUSY_MESSAGE = "现在登陆和上传人数较多，请稍后再进行登陆操作";
export const HELPDESK = { phone: "4008205307 / 8008205307", hours: "每周一至周六 8:00-20:00（国定节假日除外）" };

export class ApiError extends Error {
  constructor(status, code, message, body = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** Absolute URL for an API path, or for a URL the API handed out (which may be relative). */
export function apiUrl(u) {
  if (/^https?:\/\//i.test(u)) return u;
  const base = API_BASE.replace(/\/+$/, "");
  return base ? base + (u.startsWith("/") ? u : "/" + u) : new URL(u, location.href).href;
}

// ---- session tokens: one per role, so a reviewer tab and a teacher tab do not collide ----
const tokenKey = (role) => `gradphoto.token.${role}`;
export const session = {
  get(role) {
    return sessionStorage.getItem(tokenKey(role)) || localStorage.getItem(tokenKey(role));
  },
  // localStorage so that closing the tab and coming back during a batch keeps the teacher in.
  set(role, token) {
    localStorage.setItem(tokenKey(role), token);
  },
  clear(role) {
    sessionStorage.removeItem(tokenKey(role));
    localStorage.removeItem(tokenKey(role));
  },
};

// ---- hooks a page installs ----
const hooks = { onUnauthenticated: null, onBusy: null, onWindowClosed: null };
export function setHooks(h) {
  Object.assign(hooks, h);
}

// ---- the busy gate ----
let notBefore = 0; // epoch ms before which no request of this tab is sent
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Seconds from a Retry-After header (delta-seconds or an HTTP date); default when absent. */
export function retryAfterSeconds(value, fallback = 5) {
  if (!value) return fallback;
  const n = Number(value);
  if (Number.isFinite(n)) return Math.min(Math.max(n, 1), 300);
  const t = Date.parse(value);
  return Number.isFinite(t) ? Math.min(Math.max((t - Date.now()) / 1000, 1), 300) : fallback;
}

/** Tells the gate the server asked us to wait; returns the wait in ms. */
export function noteBusy(retryAfter, attempt = 0) {
  // Grow the pause on repeated busy answers, never below what the server asked for.
  const ms = retryAfterSeconds(retryAfter) * 1000 * Math.min(2 ** attempt, 8);
  notBefore = Math.max(notBefore, Date.now() + ms);
  if (hooks.onBusy) hooks.onBusy({ until: notBefore, message: BUSY_MESSAGE });
  return ms;
}

/** Resolves once the busy gate is open. */
export async function waitGate() {
  for (;;) {
    const wait = notBefore - Date.now();
    if (wait <= 0) break;
    await sleep(wait);
  }
  if (hooks.onBusy) hooks.onBusy(null);
}

const MAX_BUSY_RETRIES = 4;

/**
 * Calls the API. `role` picks the token; `body` is sent as JSON unless `text` (CSV) or `bytes`
 * (a Blob, e.g. a photo, sent as `contentType`) is given; `as` is "json" (default), "blob" or
 * "response".
 */
export async function api(path, { method = "GET", role = null, body, text, bytes, contentType, as = "json" } = {}) {
  const headers = {};
  const token = role ? session.get(role) : null;
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (text !== undefined) {
    headers["Content-Type"] = contentType || "text/csv; charset=utf-8";
    payload = text;
  } else if (bytes !== undefined) {
    // A Blob can be sent again as it is, so a busy answer's retry resends the same bytes.
    headers["Content-Type"] = contentType || "application/octet-stream";
    payload = bytes;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json; charset=utf-8";
    payload = JSON.stringify(body);
  }
  for (let attempt = 0; ; attempt++) {
    await waitGate();
    let res;
    try {
      res = await fetch(apiUrl(path), { method, headers, body: payload, cache: "no-store" });
    } catch (e) {
      throw new ApiError(0, "network", "网络连接失败，请检查网络后重试");
    }
    // API Gateway's own throttling answers 429/503 without our envelope: also "busy".
    if ((res.status === 503 || res.status === 429) && attempt < MAX_BUSY_RETRIES) {
      const err = await readError(res);
      if (err.code === "busy") {
        noteBusy(res.headers.get("Retry-After"), attempt);
        continue;
      }
      throw err;
    }
    if (!res.ok) {
      const err = await readError(res);
      if (res.status === 401 && token) {
        session.clear(role);
        if (hooks.onUnauthenticated) hooks.onUnauthenticated(err);
      }
      if (err.code === "window_closed" && hooks.onWindowClosed) hooks.onWindowClosed(err);
      throw err;
    }
    if (as === "response") return res;
    if (as === "blob") return res.blob();
    if (res.status === 204) return null;
    return res.json();
  }
}

async function readError(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON: a proxy's page */
  }
  const e = body && body.error ? body.error : {};
  const overloaded = res.status === 503 || (res.status === 429 && !e.code);
  const fallback = overloaded ? BUSY_MESSAGE : `请求失败（${res.status}），请稍后重试`;
  return new ApiError(res.status, e.code || (overloaded ? "busy" : "http_" + res.status), e.message || fallback, body);
}

/** Downloads an authenticated file (CSV, ZIP): fetch as a blob, then a temporary link. */
export async function download(path, role, filename) {
  const blob = await api(path, { role, as: "blob" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return blob;
}

// ---- window state, fetched once per page load ----
let windowPromise = null;
export function getWindow(fresh = false) {
  if (!windowPromise || fresh) {
    windowPromise = api("/api/window").catch((e) => {
      windowPromise = null;
      throw e;
    });
  }
  return windowPromise;
}
