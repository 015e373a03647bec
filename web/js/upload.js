// One student's upload, the way API.md wants it: presign just before sending (the URL expires),
// PUT exactly the signed headers with the bytes, then poll the record until the check has run.
import { api, apiUrl, noteBusy, waitGate, ApiError } from "./api.js";

export class UploadError extends Error {
  /** `retryable`: a transfer problem worth another try (network, expired URL, busy). */
  constructor(code, message, retryable) {
    super(message);
    this.code = code;
    this.retryable = retryable;
  }
}

// Browsers compute these themselves from the body and refuse to let a script set them; the
// body's length is exactly the size we declared, so the signature still matches.
const FORBIDDEN = new Set(["content-length", "host", "connection"]);

/**
 * POST /api/uploads for one file → the grant, or an UploadError with the refusal.
 * `autoCropped`: the file is an unmodified crop suggestion (自动裁剪); the server notes it.
 */
export async function presign(studentId, size, { autoCropped = false } = {}) {
  let res;
  const file = { student_id: studentId, size };
  // Only ever `true`: an older server that does not know the field sees exactly today's body.
  if (autoCropped) file.auto_cropped = true;
  try {
    res = await api("/api/uploads", {
      method: "POST",
      role: "school",
      body: { files: [file], content_type: "image/jpeg" },
    });
  } catch (e) {
    if (e instanceof ApiError) throw new UploadError(e.code, e.message, e.code === "network" || e.code === "busy" || e.status >= 500);
    throw e;
  }
  const refused = (res.refused || []).find((r) => r.student_id === studentId) || (res.refused || [])[0];
  if (refused) throw new UploadError(refused.code, refused.message, false);
  const grant = (res.uploads || [])[0];
  if (!grant) throw new UploadError("no_grant", "服务器没有返回上传地址，请稍后重试", true);
  return grant;
}

/** PUTs `blob` per `grant`; `onProgress(loaded, total)`. Busy answers wait and retry. */
export async function put(grant, blob, onProgress = () => {}) {
  for (let attempt = 0; ; attempt++) {
    await waitGate();
    const r = await xhrPut(grant, blob, onProgress);
    if (r.status >= 200 && r.status < 300) return;
    if (r.status === 503 && attempt < 4) {
      noteBusy(r.retryAfter, attempt);
      continue;
    }
    if (r.status === 0) throw new UploadError("network", "网络中断，照片未能发送", true);
    let message = `照片发送失败（${r.status}）`;
    let code = "put_failed";
    try {
      const e = JSON.parse(r.body).error;
      if (e) ({ code, message } = e);
    } catch {
      /* S3 answers XML */
    }
    // 403 from a store usually means the signed URL expired: a fresh presign fixes it.
    throw new UploadError(code, message, r.status === 403 || r.status >= 500 || r.status === 408);
  }
}

function xhrPut(grant, blob, onProgress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open(grant.method || "PUT", apiUrl(grant.url));
    for (const [k, v] of Object.entries(grant.headers || {})) {
      if (!FORBIDDEN.has(k.toLowerCase())) xhr.setRequestHeader(k, v);
    }
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : blob.size);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) onProgress(blob.size, blob.size);
      resolve({ status: xhr.status, body: xhr.responseText, retryAfter: xhr.getResponseHeader("Retry-After") });
    };
    xhr.onerror = xhr.onabort = xhr.ontimeout = () => resolve({ status: 0, body: "", retryAfter: null });
    xhr.send(blob);
  });
}

const FINAL = new Set(["pending_review", "approved", "rejected"]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls GET /api/students/{id} until the check has decided (status left `uploaded` and the
 * record is newer than `before`, so an old `rejected` is not mistaken for the new result).
 * Gives up after `timeoutMs` and returns the last record seen.
 */
export async function pollStatus(studentId, before = null, { timeoutMs = 180_000, isCancelled = () => false } = {}) {
  const start = Date.now();
  let delay = 700;
  let last = null;
  while (!isCancelled()) {
    last = await api(`/api/students/${encodeURIComponent(studentId)}`, { role: "school" });
    const fresh = !before || last.uploaded_at !== before.uploaded_at || last.status !== before.status;
    if (FINAL.has(last.status) && fresh) return { record: last, final: true };
    if (Date.now() - start > timeoutMs) break;
    await sleep(delay);
    delay = Math.min(delay * 1.5, 5000);
  }
  return { record: last, final: false };
}

/**
 * Presign, then PUT with progress; an expired or refused signature gets one fresh presign. A
 * dropped connection is not retried here: the caller shows it (and offers "重试失败").
 * `opts.autoCropped` goes with the presign (see presign).
 */
export async function transfer(studentId, blob, onProgress = () => {}, onPhase = () => {}, opts = {}) {
  onPhase("presign");
  let grant = await presign(studentId, blob.size, opts);
  onPhase("put");
  try {
    await put(grant, blob, onProgress);
  } catch (e) {
    if (!(e instanceof UploadError) || !e.retryable || e.code === "network") throw e;
    grant = await presign(studentId, blob.size, opts);
    await put(grant, blob, onProgress);
  }
}

/**
 * The whole thing for one file. `onPhase(phase)` sees "presign" → "put" → "check";
 * returns the final record (or the last one seen when the check is slow).
 */
export async function uploadOne(student, blob, { onProgress, onPhase = () => {}, autoCropped = false } = {}) {
  await transfer(student.student_id, blob, onProgress, onPhase, { autoCropped });
  onPhase("check");
  return pollStatus(student.student_id, student);
}
