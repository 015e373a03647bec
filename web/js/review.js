// 审核员入口. Two views of the same queue: the grid (review-grid.js, the default: a page of 48
// photos decided at once) and this file's one-by-one view (?view=single), kept for appeals and
// flagged photos that deserve a long look: a large preview, the automatic findings, approve /
// reject with reason picks and a note, keyboard shortcuts and a progress count.
//   A 通过 · R 不通过 · 1–9, 0 原因 1–10 · Shift+1–9, Shift+0 原因 11–20 · J 下一张 · K 上一张 · N 备注
// Preview URLs are signed for 30 minutes (Config::preview_ttl) and several reviewers work the
// same oldest-first queue, so the loaded queue is refreshed: when a preview fails to load, when
// it is older than QUEUE_STALE_MS before the next photo is shown, and every QUEUE_REFRESH_MS.
// A refresh keeps the reviewer's place, picks and note.
import { api, session, setHooks } from "./api.js";
import { h, replace, initChrome, say, formatTime, STAGE } from "./ui.js";
import { loginForm } from "./login.js";
import { mountGrid, reasonKey, reasonIndexForKey, autoCropBadge, measurementLine } from "./review-grid.js";

const ROLES = ["reviewer", "bureau"];
const main = document.getElementById("main");

// Used when the server does not list its reasons (GET /api/review/reasons is an extension).
const FALLBACK_REASONS = [
  ["background_not_white", "照片背景应为白色、均匀、无阴影"],
  ["head_too_large", "人像过大（大头照）"],
  ["head_too_small", "人像过小"],
  ["head_cropped", "人像被裁剪缺损"],
  ["off_centre", "人像未居中"],
  ["blurry", "照片模糊"],
  ["phone_photo", "请勿上传手机自行拍摄的照片"],
  ["red_scarf", "应届初三毕业生照片不允许佩戴红领巾"],
  ["wrong_person", "照片与学生信息不符"],
  ["other", "其他原因，见审核备注"],
].map(([code, message]) => ({ code, message }));

// Soft findings of the automatic check → the reason a reviewer would pick for them.
const FINDING_TO_REASON = { possibly_stretched: "stretched", possibly_rephotographed: "rephotographed" };

// Well inside the 30-minute preview signature, so a photo shown from a refreshed queue does not
// expire while the reviewer looks at it.
const QUEUE_STALE_MS = 20 * 60_000;
// Often enough that two reviewers on the same oldest items rarely both open one; one queue
// request a minute per reviewer is nothing for the API.
const QUEUE_REFRESH_MS = 60_000;
// A preview that fails again this soon after a refresh is not expired but unavailable: showing
// a message instead of refreshing again keeps a missing file from looping.
const PREVIEW_RETRY_MS = 60_000;

const state = {
  role: null,
  items: [],
  index: 0,
  reasons: FALLBACK_REASONS,
  picked: new Set(),
  // conflict: decisions refused because another reviewer (or a re-upload) got there first.
  done: { approve: 0, reject: 0, conflict: 0 },
  pendingTotal: null,
  busy: false,
  loadedAt: 0,
  refreshing: null,
  lastPreviewRetry: 0,
  shown: null,
  view: "grid",
  grid: null,
  // The check's limits on the measured geometry (the queue's geometry_limits).
  geometryLimits: null,
};

function currentRole() {
  return ROLES.find((r) => session.get(r)) || null;
}

function renderAccount() {
  const el = document.getElementById("account");
  if (!state.role) return el.replaceChildren();
  replace(
    el,
    h("span", { class: "who" }, state.role === "reviewer" ? "审核员" : "区县/市教委"),
    h(
      "button",
      {
        type: "button",
        class: "link",
        onclick: () => {
          session.clear(state.role);
          state.role = null;
          start();
        },
      },
      "退出"
    )
  );
}

function showLogin() {
  renderAccount();
  replace(
    main,
    h("h1", {}, "审核员登录"),
    loginForm({
      roles: ROLES,
      idPrefix: "review-login",
      onSuccess: () => start(),
    })
  );
  main.querySelector("input").focus();
}

async function start() {
  state.role = currentRole();
  if (!state.role) return showLogin();
  renderAccount();
  replace(main, h("p", { class: "loading" }, "正在加载审核队列…"));
  try {
    const r = await api("/api/review/reasons", { role: state.role });
    if (r && Array.isArray(r.reasons) && r.reasons.length) state.reasons = r.reasons;
  } catch (e) {
    if (e.status === 401) return;
  }
  await mountView();
}

// review.html?view=single opens the one-by-one view; the grid is the default.
function viewSwitch() {
  const b = (v, text) =>
    h("button", { type: "button", class: "small chip-button", id: `view-${v}`, "aria-pressed": String(state.view === v), onclick: () => state.view !== v && setView(v) }, text);
  return h("div", { class: "view-switch", role: "group", "aria-label": "审核方式" }, b("grid", "网格审核（每页 48 张）"), b("single", "逐张审核（申诉、有疑点的照片）"));
}

function setView(v) {
  state.view = v;
  const u = new URL(location.href);
  if (v === "single") u.searchParams.set("view", "single");
  else u.searchParams.delete("view");
  history.replaceState(null, "", u);
  mountView();
}

function scopeHint(first) {
  const scope = [FILTER.get("district"), FILTER.get("school_id") && ((first && first.school) || FILTER.get("school_id"))].filter(Boolean);
  return scope.length ? h("p", { class: "hint" }, `仅显示：${scope.join(" / ")}（`, h("a", { href: "review.html" }, "显示全部"), "）") : null;
}

async function mountView() {
  if (state.grid) {
    state.grid.unmount();
    state.grid = null;
  }
  els.panel = null;
  if (state.view === "grid") {
    const body = h("div", { id: "grid-body" });
    const hint = h("div", { class: "scope" }, scopeHint(null));
    replace(main, h("div", { class: "review-head" }, h("h1", {}, "照片审核"), viewSwitch(), hint), body);
    // The school's name once the first page shows it (the URL only has its id).
    const onItems = (items) => items.length && replace(hint, scopeHint(items[0]));
    state.grid = mountGrid(body, { role: state.role, reasons: state.reasons, filter: FILTER, onItems });
    return;
  }
  await loadQueue();
  renderConsole();
}

// review.html?school_id=…&district=… narrows the queue (the API's own filters).
const FILTER = new URLSearchParams(location.search);
state.view = FILTER.get("view") === "single" ? "single" : "grid";
// Items fetched are leased to this reviewer (10 minutes): the one-by-one view takes a few at a
// time, so it does not hold photos other reviewers could be deciding.
const SINGLE_LIMIT = 20;

async function fetchQueue() {
  const q = new URLSearchParams({ limit: String(SINGLE_LIMIT) });
  for (const k of ["school_id", "district"]) if (FILTER.get(k)) q.set(k, FILTER.get(k));
  return api(`/api/review/queue?${q}`, { role: state.role });
}

function takeQueue(r) {
  state.items = r.items || [];
  state.pendingTotal = typeof r.pending_total === "number" ? r.pending_total : null;
  state.geometryLimits = r.geometry_limits || null;
  state.loadedAt = Date.now();
}

async function loadQueue() {
  takeQueue(await fetchQueue());
  state.index = 0;
}

const sameItem = (a, b) => !!a && !!b && a.student_id === b.student_id;

/**
 * Reloads the queue (fresh signed preview URLs; items others decided are gone) and keeps the
 * reviewer's place: the photo on screen if it is still pending, otherwise the next one they had
 * not passed yet. Concurrent callers share one request.
 */
function refreshQueue() {
  if (!state.refreshing) {
    state.refreshing = (async () => {
      try {
        const r = await fetchQueue();
        // Read the place after the await: the reviewer may have moved meanwhile.
        const before = current();
        const passed = state.items.slice(0, state.index);
        const ahead = state.items.slice(state.index);
        takeQueue(r);
        let index = -1;
        for (const x of ahead) {
          index = state.items.findIndex((y) => sameItem(x, y));
          if (index >= 0) break;
        }
        // Nothing ahead survived: the first item they have not skipped past (new uploads).
        if (index < 0) index = state.items.findIndex((y) => !passed.some((x) => sameItem(x, y)));
        if (index < 0) index = Math.max(0, state.items.length - 1);
        state.index = index;
        if (before && !sameItem(before, current())) say(`${before.name}：已由其他审核员处理，已跳到下一张`);
      } finally {
        state.refreshing = null;
      }
    })();
  }
  return state.refreshing;
}

const queueIsStale = () => Date.now() - state.loadedAt > QUEUE_STALE_MS;

// Idle refresh: skipped while a decision is being sent or the tab is hidden (a hidden tab's
// queue is refreshed by the staleness check when the reviewer moves on).
setInterval(async () => {
  if (!state.role || state.view !== "single" || !els.panel || state.busy || document.hidden) return;
  try {
    await refreshQueue();
    draw();
  } catch {
    /* the next tick tries again; a 401 already sent the reviewer to the login form */
  }
}, QUEUE_REFRESH_MS);

// ---------------------------------------------------------------- console
const els = {};

function renderConsole() {
  els.progress = h("p", { id: "review-progress", class: "progress-line", "aria-live": "polite" });
  els.preview = h("figure", { class: "review-preview" });
  els.info = h("div", { class: "review-info" });
  els.findings = h("div", { class: "findings" });
  els.reasonBox = h("fieldset", { class: "reasons-pick" });
  els.note = h("textarea", { id: "review-note", rows: 1, maxlength: 500, placeholder: "可选，补充说明（按 N 输入，Esc 返回）" });
  els.error = h("p", { class: "form-error", role: "alert", id: "review-error" });
  els.approve = h("button", { type: "button", class: "approve", id: "approve", onclick: () => decide("approve") }, "通过（A）");
  els.reject = h("button", { type: "button", class: "reject", id: "reject", onclick: () => decide("reject") }, "不通过（R）");
  els.prev = h("button", { type: "button", id: "prev", onclick: () => move(-1) }, "上一张（K）");
  els.next = h("button", { type: "button", id: "next", onclick: () => move(1) }, "下一张（J）");
  els.strip = h("ol", { class: "queue-strip", "aria-label": "待审核队列" });
  state.shown = null;
  els.panel = h(
    "div",
    { class: "review-grid" },
    els.preview,
    h(
      "div",
      { class: "review-side" },
      els.info,
      els.findings,
      els.reasonBox,
      h("div", { class: "field" }, h("label", { for: "review-note" }, "审核备注"), els.note),
      els.error,
      h("div", { class: "actions" }, els.approve, els.reject, h("span", { class: "spacer" }), els.prev, els.next),
      h(
        "details",
        { class: "shortcuts" },
        h("summary", {}, "键盘快捷键"),
        h("ul", {}, h("li", {}, "A：通过"), h("li", {}, "R：不通过（需先选原因）"), h("li", {}, "1–9、0：选择/取消第 1–10 个原因"), h("li", {}, "Shift+1–9、Shift+0：选择/取消第 11–20 个原因"), h("li", {}, "J / K：下一张 / 上一张"), h("li", {}, "N：填写备注，Esc 结束"))
      )
    )
  );
  replace(
    main,
    h("div", { class: "review-head" }, h("h1", {}, "照片审核"), viewSwitch(), els.progress, scopeHint(state.items[0])),
    h("div", { id: "review-body" }),
    els.strip
  );
  draw();
}

function current() {
  return state.items[state.index] || null;
}

function drawProgress() {
  // pending_total counts every school; with a filter the loaded items are this view's queue.
  const filtered = FILTER.has("school_id") || FILTER.has("district");
  const all = state.pendingTotal !== null ? Math.max(state.pendingTotal, state.items.length) : state.items.length;
  const remaining = filtered ? state.items.length : all;
  const { approve, reject, conflict } = state.done;
  // "已审核" is the approved status's label elsewhere, so the count of decisions says 已处理.
  els.progress.textContent =
    `本次已处理 ${approve + reject} 张（通过 ${approve}，不通过 ${reject}）` +
    (conflict ? `，另有 ${conflict} 张已由其他审核员处理` : "") +
    ` · 待审核 ${remaining} 张` +
    (filtered && state.pendingTotal !== null ? `（全部学校共 ${all} 张）` : "");
}

/**
 * Shows the current item. When it is the photo already on screen (after a refresh), only the
 * preview URL, the position and the strip change: the reviewer's picks and note stay.
 */
function draw() {
  const body = document.getElementById("review-body");
  const it = current();
  drawProgress();
  if (!it) {
    state.shown = null;
    replace(body, h("section", { class: "card empty-queue", id: "queue-empty" }, h("h2", {}, "待审核队列已清空"), h("p", {}, "暂时没有待审核的照片。"), h("button", { type: "button", onclick: () => reload() }, "刷新队列")));
    els.strip.replaceChildren();
    return;
  }
  if (!body.contains(els.panel)) replace(body, els.panel);
  const key = `${it.student_id}\n${it.photo_id || it.uploaded_at || ""}`;
  const same = state.shown === key;
  state.shown = key;
  drawPreview(it);
  if (!same) {
    replace(
      els.info,
      h("h2", {}, h("span", { id: "review-name" }, it.name), " ", h("span", { id: "review-student-id", class: "sid" }, it.student_id), it.auto_cropped ? [" ", autoCropBadge()] : null),
      h(
        "p",
        { class: "meta" },
        [`${it.district || ""} ${it.school || ""}`, `${STAGE[it.stage] || it.stage || ""} ${it.class || ""}`, `上传于 ${formatTime(it.uploaded_at)}`].join(" · ")
      ),
      it.appeal
        ? h("div", { class: "appeal-box", id: "review-appeal" }, h("strong", {}, "申诉：学校申请人工复核"), h("p", {}, it.appeal.note ? `说明：${it.appeal.note}` : "（未填写说明）"))
        : null
    );
    const findings = it.findings || [];
    replace(
      els.findings,
      h("h3", {}, "自动检查发现"),
      findings.length ? h("ul", { class: "flags" }, findings.map((f) => h("li", { dataset: { code: f.code } }, f.message))) : h("p", { class: "ok" }, "未发现问题"),
      measurementLine(it, state.geometryLimits)
    );
    // Start each photo with the reasons its findings suggest, so R alone rejects for them.
    state.picked = new Set(findings.map((f) => FINDING_TO_REASON[f.code] || f.code).filter((c) => state.reasons.some((r) => r.code === c)));
    drawReasons();
    els.note.value = "";
    els.error.textContent = "";
  }
  els.prev.disabled = state.index === 0;
  els.next.disabled = state.index >= state.items.length - 1;
  replace(
    els.strip,
    state.items.slice(Math.max(0, state.index - 2), state.index + 12).map((x) =>
      h(
        "li",
        { class: x === it ? "current" : "", "aria-current": x === it ? "true" : null },
        x.photo_url ? h("img", { src: x.photo_url, width: 45, height: 59, alt: x.name, loading: "lazy" }) : h("span", {}, x.name)
      )
    )
  );
}

function drawPreview(it) {
  const caption = h("figcaption", {}, `第 ${state.index + 1} / ${state.items.length} 张`);
  const shown = els.preview.querySelector("img");
  // Same URL and not broken: keep the element, so a refresh does not flash the photo.
  if (shown && it.photo_url && shown.getAttribute("src") === it.photo_url && !shown.dataset.failed) {
    replace(els.preview, shown, caption);
    return;
  }
  if (!it.photo_url) {
    replace(els.preview, h("div", { class: "no-photo" }, "照片暂不可用"), caption);
    return;
  }
  const img = h("img", { src: it.photo_url, width: 272 * 2, height: 354 * 2, alt: `${it.name}的照片（放大显示）` });
  img.addEventListener("error", () => previewFailed(it, img));
  replace(els.preview, img, caption);
}

/** A preview that does not load has most likely outlived its signature: fetch fresh URLs. */
async function previewFailed(it, img) {
  img.dataset.failed = "1";
  if (!img.isConnected || !sameItem(current(), it)) return;
  if (Date.now() - state.lastPreviewRetry < PREVIEW_RETRY_MS) {
    replace(
      els.preview,
      h("div", { class: "no-photo", id: "preview-failed" }, "照片暂时无法显示。", h("button", { type: "button", onclick: () => reload() }, "重新加载")),
      h("figcaption", {}, `第 ${state.index + 1} / ${state.items.length} 张`)
    );
    return;
  }
  state.lastPreviewRetry = Date.now();
  try {
    await refreshQueue();
  } catch (e) {
    els.error.textContent = e.message;
    return;
  }
  draw();
}

function drawReasons() {
  const findings = new Set(((current() || {}).findings || []).map((f) => FINDING_TO_REASON[f.code] || f.code));
  replace(
    els.reasonBox,
    h("legend", {}, "不通过原因（按键见各原因前的标记）"),
    state.reasons.map((r, i) => {
      const id = `reason-${r.code}`;
      const box = h("input", { type: "checkbox", id, value: r.code, checked: state.picked.has(r.code) });
      box.addEventListener("change", () => {
        if (box.checked) state.picked.add(r.code);
        else state.picked.delete(r.code);
        els.error.textContent = "";
      });
      const key = reasonKey(i);
      return h(
        "div",
        { class: "reason" + (findings.has(r.code) ? " suggested" : "") },
        box,
        h("label", { for: id }, key ? h("kbd", { title: key.title }, key.label) : null, " ", r.message, findings.has(r.code) ? h("span", { class: "tag" }, "自动发现") : null)
      );
    })
  );
}

function toggleReason(i) {
  const r = state.reasons[i];
  if (!r) return;
  if (state.picked.has(r.code)) state.picked.delete(r.code);
  else state.picked.add(r.code);
  const box = document.getElementById(`reason-${r.code}`);
  if (box) box.checked = state.picked.has(r.code);
  els.error.textContent = "";
}

async function move(delta) {
  const n = state.index + delta;
  if (n < 0 || n >= state.items.length) return;
  state.index = n;
  // An old queue's next preview may be past its signature: refresh before showing it.
  if (queueIsStale()) await refreshQueue().catch(() => {});
  draw();
}

async function reload() {
  await loadQueue();
  draw();
}

async function decide(decision) {
  const it = current();
  if (!it || state.busy) return;
  const reasons = [...state.picked];
  if (decision === "reject" && !reasons.length) {
    els.error.textContent = "请至少选择一个不通过原因（按原因前标记的键选择）";
    return;
  }
  state.busy = true;
  els.approve.disabled = els.reject.disabled = true;
  try {
    await api(`/api/review/${encodeURIComponent(it.student_id)}`, {
      method: "POST",
      role: state.role,
      // photo_id: the decision is for this photo only, not for one the school uploads after it.
      body: { decision, reasons: decision === "reject" ? reasons : [], note: els.note.value.trim(), photo_id: it.photo_id },
    });
    state.done[decision]++;
    say(`${it.name}：${decision === "approve" ? "已通过" : "未通过"}`);
    await advance(it);
  } catch (e) {
    if (e.code === "not_pending" || e.code === "photo_changed") {
      // Another reviewer decided it first, or the school replaced the photo (the new one comes
      // back through the queue): nothing to redo here, so say so briefly and move on.
      state.done.conflict++;
      say(e.code === "not_pending" ? `${it.name}：已由其他审核员处理，已跳到下一张` : `${it.name}：学校已重新上传照片，新照片稍后重新进入队列；已跳到下一张`);
      await advance(it);
    } else {
      els.error.textContent = e.message;
    }
  } finally {
    state.busy = false;
    els.approve.disabled = els.reject.disabled = false;
  }
}

async function advance(it) {
  // By id, not identity: a refresh may have replaced the item objects meanwhile.
  const at = state.items.findIndex((x) => sameItem(x, it));
  if (at >= 0) {
    state.items.splice(at, 1);
    if (at < state.index) state.index--;
  }
  if (state.pendingTotal !== null) state.pendingTotal = Math.max(0, state.pendingTotal - 1);
  if (state.index >= state.items.length) state.index = Math.max(0, state.items.length - 1);
  if (!state.items.length) await loadQueue();
  else if (queueIsStale()) await refreshQueue();
  draw();
}

document.addEventListener("keydown", (e) => {
  if (!state.role || state.view !== "single" || !els.panel || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t === els.note) {
    if (e.key === "Escape") els.note.blur();
    return;
  }
  if (t && (t.tagName === "INPUT" && t.type !== "checkbox") ) return;
  if (t && (t.tagName === "TEXTAREA" || t.tagName === "SELECT")) return;
  if (!current()) return;
  const k = e.key.toLowerCase();
  if (k === "a") decide("approve");
  else if (k === "r") decide("reject");
  else if (k === "j") move(1);
  else if (k === "k") move(-1);
  else if (k === "n") {
    e.preventDefault();
    els.note.focus();
    return;
  } else if (reasonIndexForKey(e) >= 0) toggleReason(reasonIndexForKey(e));
  else return;
  e.preventDefault();
});

setHooks({
  onUnauthenticated() {
    state.role = null;
    say("登录已失效，请重新登录", "error");
    showLogin();
  },
});
initChrome({ windowed: false });
start();
