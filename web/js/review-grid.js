// 审核台的网格视图: a page of up to 48 photos at once. Every photo is approved unless the reviewer
// marks it rejected with a reason; one press of 通过本页其余照片 (Shift+A) sends the whole page as
// one POST /api/reviews and loads the next page. Keyboard first:
//   ←↑→↓ move · 1–9, 0 原因 1–10 · Shift+1–9, Shift+0 原因 11–20 · R 原因列表（输入文字或编号筛选，
//   every reason however many) · U 取消标记 · Space/Enter 放大 · Shift+A 提交本页
// The queue leases the photos it hands out to this reviewer (lease_seconds, 10 minutes): no
// other reviewer's page shows them until they are decided or the lease ends, and the same
// reviewer's still-leased photos come back first — so a refresh (fresh preview URLs) returns
// this page again.
import { api } from "./api.js";
import { h, replace, say, formatTime, STAGE } from "./ui.js";

export const PAGE_SIZE = 48;
// review.html?per_page=N (6–100) for a smaller screen or a slower connection.
const perPage = (filter) => {
  const n = Number(filter.get("per_page"));
  return Number.isInteger(n) && n >= 6 && n <= 100 ? n : PAGE_SIZE;
};

// Short tile badges for findings whose full sentence would not fit a thumbnail; the full message
// is the badge's title and is shown in the enlarged view.
const SHORT = {
  phone_photo: "疑似手机自拍",
  duplicate_photo: "与其他照片相同",
  possibly_stretched: "疑似拉伸",
  possibly_rephotographed: "疑似翻拍",
  background_not_white: "背景非白色",
  head_too_large: "人像过大",
  head_too_small: "人像过小",
  head_cropped: "人像缺损",
  off_centre: "人像未居中",
  no_face: "未检测到人脸",
  multiple_faces: "多于一人",
  blurry: "模糊",
  too_dark: "过暗",
  overexposed: "过亮",
  red_scarf: "红领巾",
  accessories: "有佩饰",
  clothing_like_background: "着装同背景色",
  rephotographed: "翻拍",
  stretched: "拉伸变形",
  not_recent: "非近期照片",
  wrong_person: "与学生不符",
  other: "其他，见备注",
};
const shortReason = (code, reasonByCode) => SHORT[code] || (reasonByCode(code) || { message: code }).message;
// Soft findings → the reason a reviewer would pick for them (suggested first in the list).
const FINDING_TO_REASON = { possibly_stretched: "stretched", possibly_rephotographed: "rephotographed" };
const CONFLICT_TEXT = "已被其他审核员处理或学校已重新上传";
// A preview that fails again this soon after a refresh is unavailable, not expired.
const RETRY_MS = 60_000;
// The page's lease is renewed (by fetching the queue again) this long before it ends, but only
// while the reviewer is at work: an idle page lets its photos go back to the others.
const RENEW_BEFORE_MS = 90_000;
const ACTIVE_MS = 5 * 60_000;

/** Reason i's direct key: 1–9, 0 for the first ten, Shift with the same digits for the next ten. */
export function reasonKey(i) {
  if (i >= 20) return null;
  const digit = String((i % 10) + 1).slice(-1);
  return i < 10 ? { label: digit, title: `按 ${digit}` } : { label: `⇧${digit}`, title: `按 Shift+${digit}` };
}

/** The reason index a key press picks, or -1 (the physical key: Shift+1 is "!" in e.key). */
export function reasonIndexForKey(e) {
  const m = /^(?:Digit|Numpad)([0-9])$/.exec(e.code || "") || (/^[0-9]$/.test(e.key) ? [null, e.key] : null);
  if (!m) return -1;
  const d = Number(m[1]);
  const i = d === 0 ? 9 : d - 1;
  return e.shiftKey ? i + 10 : i;
}

/**
 * Reasons matching what the reviewer typed: a number picks that reason (then those whose number
 * starts with it), text matches the message or the code.
 */
export function filterReasons(reasons, query) {
  const q = query.trim().toLowerCase();
  const all = reasons.map((r, i) => ({ r, i }));
  if (!q) return all;
  if (/^\d+$/.test(q)) {
    const exact = all.filter(({ i }) => String(i + 1) === q);
    return exact.concat(all.filter(({ i }) => String(i + 1) !== q && String(i + 1).startsWith(q)));
  }
  return all.filter(({ r }) => r.message.toLowerCase().includes(q) || r.code.toLowerCase().includes(q));
}

const findingsOf = (it) => it.findings || [...(it.reasons || []), ...(it.flags || [])];

/**
 * 自动裁剪: the photo is the server's crop suggestion, unmodified (auto_cropped). A reviewer who
 * knows it was framed by the machine looks at the head's framing with that in mind.
 */
export function autoCropBadge() {
  return h("span", { class: "badge badge-autocrop", title: "照片由系统按建议自动裁剪（上传者未调整取景）", dataset: { autoCropped: "true" } }, "自动裁剪");
}
const suggestedCodes = (it) => new Set(findingsOf(it).map((f) => FINDING_TO_REASON[f.code] || f.code));

/**
 * 测量: what the automatic check measured on the head (the item's `geometry`), one line under its
 * findings, so the reviewer sees why it decided. `limits` is the queue's `geometry_limits` (the
 * check's own rules, in the same units); a number outside them is marked, a missing limit is
 * simply not shown. Nothing when the check measured nothing (no face, several, a wrong size).
 */
export function measurementLine(it, limits) {
  const g = it && it.geometry;
  if (!g) return null;
  const L = limits || {};
  const has = (k) => typeof L[k] === "number";
  const pct = (r) => `${Number((r * 100).toFixed(1))}%`;
  const part = (key, text, limit, outside) => h("span", { class: outside ? "bad" : null, dataset: { measure: key } }, text, limit ? `（${limit}）` : "");
  const side = (v, neg, pos) => (v > 0 ? `${pos} ` : v < 0 ? `${neg} ` : "");
  const parts = [
    part("eye_line", `眼睛距顶部 ${g.eye_line} 像素`, has("eye_line_max") ? `≤${L.eye_line_max}` : "", has("eye_line_max") && g.eye_line > L.eye_line_max),
    // The crown: the band the check's messages quote (约), and the wider one it refuses outside.
    part(
      "crown",
      `头顶 ${g.crown} 像素`,
      [has("crown_min") && has("crown_max") ? `约 ${L.crown_min}–${L.crown_max}` : "", has("crown_reject_below") && has("crown_reject_above") ? `允许 ${L.crown_reject_below}–${L.crown_reject_above}` : ""].filter(Boolean).join("，"),
      has("crown_reject_below") && has("crown_reject_above") && (g.crown < L.crown_reject_below || g.crown > L.crown_reject_above)
    ),
    part("chin", `下巴 ${g.chin} 像素`),
    part(
      "head_ratio",
      `头部占高 ${pct(g.head_ratio)}`,
      has("head_min_ratio") && has("head_max_ratio") ? `${pct(L.head_min_ratio)}–${pct(L.head_max_ratio)}` : "",
      has("head_min_ratio") && has("head_max_ratio") && (g.head_ratio < L.head_min_ratio || g.head_ratio > L.head_max_ratio)
    ),
    part(
      "centre_offset",
      `偏离中心 ${side(g.centre_offset, "左", "右")}${Math.abs(g.centre_offset)} 像素`,
      has("centre_max_offset_px") ? `≤${L.centre_max_offset_px}` : "",
      has("centre_max_offset_px") && Math.abs(g.centre_offset) > L.centre_max_offset_px
    ),
    part("roll", `倾斜 ${side(g.roll, "左低", "右低")}${Math.abs(g.roll).toFixed(1)}°`),
    part("eye_distance", `两眼间距 ${g.eye_distance} 像素`),
    part(
      "width_to_height",
      `眼距/鼻高 ${g.width_to_height.toFixed(2)}`,
      has("stretch_min_ratio") && has("stretch_max_ratio") ? `${L.stretch_min_ratio.toFixed(2)}–${L.stretch_max_ratio.toFixed(2)}` : "",
      has("stretch_min_ratio") && has("stretch_max_ratio") && (g.width_to_height < L.stretch_min_ratio || g.width_to_height > L.stretch_max_ratio)
    ),
  ];
  const line = [];
  parts.forEach((p, i) => line.push(i ? " · " : "", p));
  return h(
    "p",
    { class: "measure", title: "自动检查在照片上测得的头部位置（像素从照片顶部或中心量起；括号内为检查标准）" },
    h("strong", {}, "测量："),
    line
  );
}

/**
 * Mounts the grid into `root`. `ctx`: { role, reasons, filter (URLSearchParams), head (the
 * header element with the view switch) }. Returns { unmount }.
 */
export function mountGrid(root, ctx) {
  const st = {
    items: [],
    marks: new Map(), // student_id → [reason code]
    notes: new Map(), // student_id → note
    gone: new Set(), // decided elsewhere (found on a refresh)
    focus: 0,
    pendingTotal: null,
    leaseSeconds: null,
    leaseUntil: 0,
    done: { approve: 0, reject: 0, conflict: 0 },
    busy: false,
    lastActive: Date.now(),
    lastRetry: 0,
    loadedAt: 0,
    zoomIndex: -1,
    palette: null, // { index, list, highlight }
    refreshing: null,
  };
  const reasons = () => ctx.reasons;
  const reasonByCode = (c) => reasons().find((r) => r.code === c);

  // ---- skeleton
  const status = h("p", { id: "grid-status", class: "progress-line", "aria-live": "polite" });
  const lease = h("p", { id: "lease-line", class: "hint" });
  const approveRest = h("button", { type: "button", class: "approve", id: "approve-rest", onclick: () => submitPage() }, "通过本页其余照片（⇧A）");
  const reload = h("button", { type: "button", id: "grid-reload", onclick: () => refresh({ keep: true }) }, "刷新");
  const result = h("div", { id: "grid-result", "aria-live": "polite" });
  const tiles = h("ol", { id: "review-tiles", class: "tile-grid", "aria-label": "本页待审核照片" });
  const empty = h("section", { class: "card empty-queue", id: "queue-empty", hidden: true }, h("h2", {}, "待审核队列已清空"), h("p", {}, "暂时没有待审核的照片。"), h("button", { type: "button", onclick: () => loadPage() }, "刷新队列"));
  const help = h(
    "details",
    { class: "shortcuts" },
    h("summary", {}, "键盘快捷键"),
    h(
      "ul",
      {},
      h("li", {}, "方向键：在照片之间移动"),
      h("li", {}, "1–9、0：将当前照片标记为不通过（第 1–10 个原因）；Shift+1–9、Shift+0：第 11–20 个原因"),
      h("li", {}, "R：打开全部原因列表，输入文字或编号筛选，回车选择"),
      h("li", {}, "U：取消当前照片的标记"),
      h("li", {}, "空格 / 回车：放大查看（放大时 ← → 换张，N 填写备注，Esc 关闭）"),
      h("li", {}, "Shift+A：通过本页其余照片，不通过已标记的照片，然后进入下一页")
    )
  );
  const markedCount = h("span", { id: "marked-count", class: "hint" });
  const toolbar = h("div", { class: "grid-toolbar" }, approveRest, reload, markedCount, help);

  // Enlarged view and reason list: modal dialogs, so focus and Esc behave as expected.
  const zoom = h("dialog", { id: "tile-zoom", class: "zoom", "aria-labelledby": "zoom-title" });
  const palette = h("dialog", { id: "reason-palette", class: "palette", "aria-labelledby": "palette-title" });
  // The close event comes a task later, after the browser has put focus back on the tile that
  // opened the view; closing through closeZoom moves it to the tile shown, at once.
  function closeZoom() {
    const i = st.zoomIndex;
    st.zoomIndex = -1;
    if (zoom.open) zoom.close();
    if (i >= 0) focusTile(i);
  }
  zoom.addEventListener("cancel", (e) => {
    e.preventDefault();
    closeZoom();
  });
  zoom.addEventListener("close", () => {
    if (st.zoomIndex >= 0) closeZoom();
  });
  palette.addEventListener("close", () => {
    const p = st.palette;
    st.palette = null;
    if (!p) return;
    if (zoom.open) drawZoom();
    else focusTile(p.index);
  });

  replace(root, h("div", { class: "review-subhead" }, status, lease), toolbar, result, tiles, empty, zoom, palette);

  // ---- data
  async function fetchQueue() {
    const q = new URLSearchParams({ limit: String(perPage(ctx.filter)) });
    for (const k of ["school_id", "district"]) if (ctx.filter.get(k)) q.set(k, ctx.filter.get(k));
    const asked = Date.now();
    const r = await api(`/api/review/queue?${q}`, { role: ctx.role });
    return { ...r, asked };
  }

  /**
   * Every answer leases (again) all the photos it returns for lease_seconds from when the server
   * got the request, so the page's lease ends lease_seconds after the request left: counted on
   * this computer's clock, not from the server's lease_until (the two clocks may differ).
   */
  function takeLease(r) {
    st.pendingTotal = typeof r.pending_total === "number" ? r.pending_total : null;
    st.leaseSeconds = typeof r.lease_seconds === "number" ? r.lease_seconds : null;
    st.geometryLimits = r.geometry_limits || null;
    st.leaseUntil = st.leaseSeconds ? r.asked + st.leaseSeconds * 1000 : 0;
    st.loadedAt = Date.now();
  }

  async function loadPage() {
    replace(status, "正在加载…");
    let r;
    try {
      r = await fetchQueue();
    } catch (e) {
      if (e.status !== 401) replace(status, h("span", { class: "error" }, e.message));
      return;
    }
    st.items = r.items || [];
    st.marks.clear();
    st.notes.clear();
    st.gone.clear();
    st.focus = 0;
    takeLease(r);
    drawAll();
    if (ctx.onItems) ctx.onItems(st.items);
    if (st.items.length) focusTile(0);
  }

  /**
   * Fetches the queue again (fresh preview URLs, a renewed lease) and keeps this page: its own
   * leased photos come back first. Photos of this page the answer no longer holds were decided
   * elsewhere; they are greyed out and left out of the submission.
   */
  function refresh({ keep = true } = {}) {
    if (!keep || !st.items.length) return loadPage();
    // Callers at once (the lease timer, a failed preview, 刷新) share one request.
    if (!st.refreshing) st.refreshing = refreshNow().finally(() => (st.refreshing = null));
    return st.refreshing;
  }

  async function refreshNow() {
    let r;
    try {
      r = await fetchQueue();
    } catch (e) {
      if (e.status !== 401) say(e.message, "error");
      return;
    }
    const fresh = new Map((r.items || []).map((x) => [x.student_id, x]));
    st.items = st.items.map((x) => {
      const y = fresh.get(x.student_id);
      if (y && (y.photo_id || "") === (x.photo_id || "")) return y;
      if (!st.gone.has(x.student_id)) st.gone.add(x.student_id);
      return x;
    });
    takeLease(r);
    const hadFocus = tiles.contains(document.activeElement);
    drawAll();
    if (hadFocus) focusTile(st.focus);
  }

  // ---- drawing
  function liveItems() {
    return st.items.filter((x) => !st.gone.has(x.student_id));
  }

  function drawStatus() {
    const { approve, reject, conflict } = st.done;
    const marked = liveItems().filter((x) => st.marks.has(x.student_id)).length;
    const filtered = ctx.filter.has("school_id") || ctx.filter.has("district");
    const total = st.pendingTotal !== null ? st.pendingTotal : st.items.length;
    status.textContent =
      `${filtered ? "全部学校共待审核" : "待审核"} ${total} 张 · 本页 ${liveItems().length} 张 · ` +
      `本次已处理 ${approve + reject} 张（通过 ${approve}，不通过 ${reject}）` +
      (conflict ? `，另有 ${conflict} 张已由其他审核员处理` : "");
    markedCount.textContent = st.items.length ? `已标记不通过 ${marked} 张，其余 ${liveItems().length - marked} 张将通过` : "";
    approveRest.disabled = st.busy || !liveItems().length;
    drawLease();
  }

  function drawLease() {
    if (!st.items.length || !st.leaseSeconds) {
      lease.textContent = "";
      return;
    }
    const left = st.leaseUntil - Date.now();
    const minutes = Math.max(1, Math.round(st.leaseSeconds / 60));
    if (left <= 0) {
      lease.className = "hint lease-over";
      lease.textContent = "本页照片的保留时间已过，其他审核员现在也可能领取；请尽快提交，已被处理的照片提交后会单独列出";
      return;
    }
    const s = Math.ceil(left / 1000);
    lease.className = "hint";
    lease.textContent = `本页照片为您保留 ${minutes} 分钟，其他审核员看不到（还剩 ${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}）`;
  }

  function drawAll() {
    empty.hidden = !!st.items.length;
    tiles.hidden = !st.items.length;
    toolbar.hidden = !st.items.length;
    replace(tiles, st.items.map((it, i) => tile(it, i)));
    drawStatus();
  }

  function badges(it) {
    const out = [];
    if (it.appeal) out.push(h("span", { class: "badge badge-appeal", title: "学校申请人工复核" }, "申诉"));
    if (it.auto_cropped) out.push(autoCropBadge());
    for (const f of findingsOf(it)) out.push(h("span", { class: "badge badge-finding", title: f.message, dataset: { code: f.code } }, SHORT[f.code] || f.message));
    return out;
  }

  function tile(it, i) {
    const sid = it.student_id;
    const marks = st.marks.get(sid) || [];
    const gone = st.gone.has(sid);
    const img = it.photo_url
      ? h("img", { src: it.photo_url, width: 272, height: 354, alt: "", loading: i < 16 ? "eager" : "lazy", decoding: "async" })
      : h("span", { class: "no-photo-small" }, "照片暂不可用");
    if (it.photo_url) img.addEventListener("error", () => previewFailed(img));
    const label = `第 ${i + 1} 张：${it.name}（${sid}）` + (it.appeal ? "，学校申诉" : "") + (marks.length ? `，已标记不通过：${marks.map((c) => (reasonByCode(c) || { message: c }).message).join("、")}` : gone ? "，已由其他审核员处理" : "，将通过");
    const photo = h("button", { type: "button", class: "tile-photo", tabindex: i === st.focus ? "0" : "-1", "aria-label": label, title: "放大查看（空格）" }, img, h("span", { class: "tile-no" }, String(i + 1)));
    photo.addEventListener("click", () => {
      st.focus = i;
      openZoom(i);
    });
    photo.addEventListener("focus", () => {
      if (st.focus !== i) setFocus(i, false);
    });
    const menu = h(
      "button",
      { type: "button", class: "tile-menu small" + (marks.length ? " marked" : ""), disabled: gone, "aria-label": `${it.name}：选择不通过原因`, "aria-haspopup": "dialog" },
      marks.length ? "已标记 ▾" : "不通过…"
    );
    menu.addEventListener("click", () => {
      setFocus(i, false);
      openPalette(i);
    });
    const note = it.appeal && it.appeal.note ? h("p", { class: "tile-appeal-note", title: it.appeal.note }, `申诉说明：${it.appeal.note}`) : null;
    return h(
      "li",
      { class: "tile" + (marks.length ? " is-marked" : "") + (gone ? " is-gone" : "") + (it.appeal ? " is-appeal" : "") + (i === st.focus ? " is-focus" : ""), dataset: { studentId: sid, index: String(i), marked: marks.length ? "1" : "" } },
      photo,
      h("div", { class: "tile-badges" }, badges(it)),
      note,
      marks.length ? h("p", { class: "tile-mark", title: marks.map((c) => (reasonByCode(c) || { message: c }).message).join("；") }, "不通过：", marks.map((c) => shortReason(c, reasonByCode)).join("、")) : null,
      gone ? h("p", { class: "tile-gone" }, CONFLICT_TEXT) : null,
      h("div", { class: "tile-foot" }, h("span", { class: "tile-name" }, it.name, " ", h("span", { class: "sid" }, sid)), menu)
    );
  }

  function redrawTile(i) {
    const old = tiles.children[i];
    if (!old) return;
    const had = old.contains(document.activeElement);
    const fresh = tile(st.items[i], i);
    old.replaceWith(fresh);
    if (had) fresh.querySelector(".tile-photo").focus({ preventScroll: true });
    drawStatus();
  }

  function setFocus(i, move = true) {
    if (!st.items.length) return;
    i = Math.max(0, Math.min(st.items.length - 1, i));
    const prev = tiles.children[st.focus];
    if (prev) {
      prev.classList.remove("is-focus");
      prev.querySelector(".tile-photo").tabIndex = -1;
    }
    st.focus = i;
    const li = tiles.children[i];
    if (!li) return;
    li.classList.add("is-focus");
    const b = li.querySelector(".tile-photo");
    b.tabIndex = 0;
    if (move) {
      b.focus({ preventScroll: true });
      li.scrollIntoView({ block: "nearest" });
    }
  }
  const focusTile = (i) => setFocus(i, true);

  /** Tiles per row, read from the layout (the grid's columns follow the window's width). */
  function columns() {
    const kids = [...tiles.children];
    if (!kids.length) return 1;
    const top = kids[0].offsetTop;
    const n = kids.findIndex((k) => k.offsetTop !== top);
    return n < 0 ? kids.length : n;
  }

  async function previewFailed(img) {
    img.dataset.failed = "1";
    if (Date.now() - st.lastRetry < RETRY_MS) {
      img.replaceWith(h("span", { class: "no-photo-small" }, "照片暂时无法显示"));
      return;
    }
    st.lastRetry = Date.now();
    await refresh({ keep: true });
  }

  // ---- marking
  function toggleReason(i, code) {
    const it = st.items[i];
    if (!it || st.gone.has(it.student_id)) return;
    const marks = st.marks.get(it.student_id) || [];
    const next = marks.includes(code) ? marks.filter((c) => c !== code) : [...marks, code];
    if (next.length) st.marks.set(it.student_id, next);
    else st.marks.delete(it.student_id);
    redrawTile(i);
    if (zoom.open) drawZoom();
    const r = reasonByCode(code);
    say(next.includes(code) ? `第 ${i + 1} 张 ${it.name}：标记不通过（${r ? r.message : code}）` : `第 ${i + 1} 张 ${it.name}：已取消原因`);
  }

  function unmark(i) {
    const it = st.items[i];
    if (!it || !st.marks.has(it.student_id)) return;
    st.marks.delete(it.student_id);
    redrawTile(i);
    if (zoom.open) drawZoom();
    say(`第 ${i + 1} 张 ${it.name}：已取消标记，将通过`);
  }

  // ---- the reason list (every reason, filtered by typing)
  function openPalette(i) {
    const it = st.items[i];
    if (!it || st.gone.has(it.student_id)) return;
    const suggested = suggestedCodes(it);
    const filter = h("input", { id: "palette-filter", type: "search", autocomplete: "off", placeholder: "输入文字或编号，如 背景、12", "aria-controls": "palette-list" });
    const list = h("ul", { id: "palette-list", class: "palette-list", role: "listbox", "aria-label": "不通过原因" });
    const marks = st.marks.get(it.student_id) || [];
    st.palette = { index: i, list: [], highlight: 0 };
    function draw() {
      const found = filterReasons(reasons(), filter.value);
      // With nothing typed, the reasons the check suggests come first.
      const ordered = filter.value.trim() ? found : [...found.filter(({ r }) => suggested.has(r.code)), ...found.filter(({ r }) => !suggested.has(r.code))];
      st.palette.list = ordered;
      st.palette.highlight = Math.min(st.palette.highlight, Math.max(0, ordered.length - 1));
      replace(
        list,
        ordered.length
          ? ordered.map(({ r, i: ri }, k) => {
              const key = reasonKey(ri);
              const opt = h(
                "li",
                { role: "option", id: `palette-opt-${r.code}`, class: "palette-opt" + (k === st.palette.highlight ? " is-hl" : ""), "aria-selected": k === st.palette.highlight ? "true" : "false", dataset: { code: r.code } },
                h("span", { class: "palette-no" }, String(ri + 1)),
                key ? h("kbd", { title: key.title }, key.label) : null,
                h("span", { class: "palette-msg" }, r.message),
                suggested.has(r.code) ? h("span", { class: "tag" }, "自动发现") : null,
                marks.includes(r.code) ? h("span", { class: "tag tag-on" }, "已选") : null
              );
              opt.addEventListener("click", () => pick(r.code));
              return opt;
            })
          : h("li", { class: "hint" }, "没有符合的原因")
      );
      const hl = ordered[st.palette.highlight];
      if (hl) {
        filter.setAttribute("aria-activedescendant", `palette-opt-${hl.r.code}`);
        const el = document.getElementById(`palette-opt-${hl.r.code}`);
        if (el) el.scrollIntoView({ block: "nearest" });
      } else filter.removeAttribute("aria-activedescendant");
    }
    function pick(code) {
      palette.close();
      toggleReason(i, code);
    }
    filter.addEventListener("input", () => {
      st.palette.highlight = 0;
      draw();
    });
    filter.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const n = st.palette.list.length;
        if (n) st.palette.highlight = (st.palette.highlight + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
        draw();
      } else if (e.key === "Enter") {
        e.preventDefault();
        const hl = st.palette.list[st.palette.highlight];
        if (hl) pick(hl.r.code);
      }
    });
    replace(
      palette,
      h("h2", { id: "palette-title" }, `第 ${i + 1} 张 ${it.name}：不通过原因`),
      h("div", { class: "field" }, h("label", { for: "palette-filter" }, "查找原因（输入文字或编号，↑↓ 选择，回车确定）"), filter),
      list,
      h(
        "div",
        { class: "actions" },
        marks.length
          ? h("button", { type: "button", id: "palette-unmark", onclick: () => (palette.close(), unmark(i)) }, "取消标记（U）")
          : null,
        h("button", { type: "button", id: "palette-cancel", onclick: () => palette.close() }, "取消（Esc）")
      )
    );
    draw();
    palette.showModal();
    filter.focus();
  }

  // ---- the enlarged view
  function openZoom(i) {
    st.zoomIndex = i;
    drawZoom();
    if (!zoom.open) zoom.showModal();
    zoom.querySelector("#zoom-close").focus();
  }

  function drawZoom() {
    const i = st.zoomIndex;
    const it = st.items[i];
    if (!it) return;
    const marks = st.marks.get(it.student_id) || [];
    const findings = findingsOf(it);
    const note = h("textarea", { id: "zoom-note", rows: 2, maxlength: 500, placeholder: "可选，随不通过原因告知学校" });
    note.value = st.notes.get(it.student_id) || "";
    note.addEventListener("input", () => st.notes.set(it.student_id, note.value));
    note.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        zoom.querySelector("#zoom-close").focus();
      }
    });
    const had = document.activeElement && zoom.contains(document.activeElement) ? document.activeElement.id : "zoom-close";
    replace(
      zoom,
      h(
        "div",
        { class: "zoom-body" },
        it.photo_url ? h("img", { src: it.photo_url, width: 544, height: 708, alt: `${it.name}的照片（放大显示）` }) : h("div", { class: "no-photo" }, "照片暂不可用"),
        h(
          "div",
          { class: "zoom-side" },
          h("h2", { id: "zoom-title" }, `第 ${i + 1} / ${st.items.length} 张 `, h("span", { id: "zoom-name" }, it.name), " ", h("span", { class: "sid" }, it.student_id)),
          h("p", { class: "meta" }, [`${it.district || ""} ${it.school || ""}`, `${STAGE[it.stage] || it.stage || ""} ${it.class || ""}`, `上传于 ${formatTime(it.uploaded_at)}`].join(" · "), it.auto_cropped ? [" ", autoCropBadge()] : null),
          it.appeal
            ? h("div", { class: "appeal-box" }, h("strong", {}, "学校申请人工复核"), it.appeal.at ? `（${formatTime(it.appeal.at)}）` : "", h("p", {}, it.appeal.note ? `说明：${it.appeal.note}` : "（未填写说明）"), h("p", { class: "hint" }, "下方为自动检查不通过的原因；确认照片合格即可通过。"))
            : null,
          h("h3", {}, "自动检查发现"),
          findings.length ? h("ul", { class: "flags" }, findings.map((f) => h("li", { dataset: { code: f.code } }, f.message))) : h("p", { class: "ok" }, "未发现问题"),
          measurementLine(it, st.geometryLimits),
          h("h3", {}, "本张的决定"),
          marks.length ? h("p", { class: "bad", id: "zoom-mark" }, "不通过：", marks.map((c) => (reasonByCode(c) || { message: c }).message).join("；")) : h("p", { class: "ok", id: "zoom-mark" }, "未标记：提交本页时通过"),
          h("div", { class: "field" }, h("label", { for: "zoom-note" }, "审核备注（N）"), note),
          h(
            "div",
            { class: "actions" },
            h("button", { type: "button", class: "reject", onclick: () => openPalette(i) }, "不通过原因（R）"),
            marks.length ? h("button", { type: "button", onclick: () => unmark(i) }, "取消标记（U）") : null,
            h("span", { class: "spacer" }),
            h("button", { type: "button", disabled: i === 0, onclick: () => zoomMove(-1) }, "上一张（←）"),
            h("button", { type: "button", disabled: i >= st.items.length - 1, onclick: () => zoomMove(1) }, "下一张（→）"),
            h("button", { type: "button", id: "zoom-close", onclick: () => closeZoom() }, "关闭（Esc）")
          )
        )
      )
    );
    const back = document.getElementById(had);
    if (back && zoom.contains(back)) back.focus({ preventScroll: true });
  }

  function zoomMove(d) {
    const n = st.zoomIndex + d;
    if (n < 0 || n >= st.items.length) return;
    st.zoomIndex = n;
    setFocus(n, false);
    drawZoom();
  }

  // ---- submitting the page
  async function submitPage() {
    if (st.busy) return;
    const live = liveItems();
    if (!live.length) return;
    const decisions = live.map((it) => {
      const marks = st.marks.get(it.student_id) || [];
      const note = (st.notes.get(it.student_id) || "").trim();
      return { student_id: it.student_id, photo_id: it.photo_id, decision: marks.length ? "reject" : "approve", reasons: marks, note };
    });
    st.busy = true;
    approveRest.disabled = true;
    approveRest.textContent = "正在提交…";
    replace(result);
    try {
      const r = await api("/api/reviews", { method: "POST", role: ctx.role, body: { decisions } });
      report(decisions, r.results || []);
      await loadPage();
    } catch (e) {
      if (e.status !== 401) replace(result, h("p", { class: "error", role: "alert" }, `提交失败，本页未处理：${e.message}`));
    } finally {
      st.busy = false;
      approveRest.textContent = "通过本页其余照片（⇧A）";
      drawStatus();
    }
  }

  function report(decisions, results) {
    const byId = new Map(st.items.map((x) => [x.student_id, x]));
    let approved = 0;
    let rejected = 0;
    const failed = [];
    results.forEach((res, k) => {
      const d = decisions[k];
      if (res.error) failed.push({ it: byId.get(res.student_id) || { name: res.student_id, student_id: res.student_id }, err: res.error });
      else if ((res.status || (d && d.decision === "reject" ? "rejected" : "approved")) === "rejected") rejected++;
      else approved++;
    });
    st.done.approve += approved;
    st.done.reject += rejected;
    const conflicts = failed.filter((f) => f.err.code === "not_pending" || f.err.code === "photo_changed");
    st.done.conflict += conflicts.length + st.gone.size;
    if (st.pendingTotal !== null) st.pendingTotal = Math.max(0, st.pendingTotal - approved - rejected);
    replace(
      result,
      h(
        "div",
        { class: "card batch-result" + (failed.length ? " has-failures" : "") },
        h("p", { class: "ok" }, `上一页已提交：通过 ${approved} 张，不通过 ${rejected} 张。`),
        failed.length
          ? [
              h("p", { class: "error" }, `以下 ${failed.length} 张未能处理：`),
              h(
                "ul",
                { id: "grid-failures" },
                failed.map(({ it, err }) =>
                  h("li", { dataset: { studentId: it.student_id, code: err.code } }, `${it.name}（${it.student_id}）：`, err.code === "not_pending" || err.code === "photo_changed" ? CONFLICT_TEXT : err.message)
                )
              ),
            ]
          : null
      )
    );
    say(`已提交本页：通过 ${approved} 张，不通过 ${rejected} 张${failed.length ? `，${failed.length} 张未能处理` : ""}`);
  }

  // ---- keyboard
  function onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    st.lastActive = Date.now();
    if (palette.open) return; // the list's own input handles its keys; Esc closes the dialog
    const t = e.target;
    if (t && (t.tagName === "TEXTAREA" || t.tagName === "SELECT" || (t.tagName === "INPUT" && t.type !== "checkbox"))) return;
    if (!st.items.length) return;
    const k = e.key;
    const i = zoom.open ? st.zoomIndex : st.focus;
    if (zoom.open) {
      if (k === "ArrowLeft" || k === "ArrowUp") zoomMove(-1);
      else if (k === "ArrowRight" || k === "ArrowDown") zoomMove(1);
      else if (k.toLowerCase() === "n") zoom.querySelector("#zoom-note").focus();
      else if (k === " " || (k === "Enter" && !(t && t.tagName === "BUTTON"))) closeZoom();
      else if (!common(e, i)) return;
      e.preventDefault();
      return;
    }
    if (k === "ArrowLeft") focusTile(st.focus - 1);
    else if (k === "ArrowRight") focusTile(st.focus + 1);
    else if (k === "ArrowUp") focusTile(st.focus - columns());
    else if (k === "ArrowDown") focusTile(st.focus + columns());
    else if (k === "Home") focusTile(0);
    else if (k === "End") focusTile(st.items.length - 1);
    else if (k === " " || (k === "Enter" && (!t || !t.closest || !t.closest("button:not(.tile-photo), a")))) openZoom(st.focus);
    else if (!common(e, i)) return;
    e.preventDefault();
  }

  /** Keys that work both on the grid and in the enlarged view. */
  function common(e, i) {
    const k = e.key;
    if (k === "A" && e.shiftKey) {
      if (zoom.open) closeZoom();
      submitPage();
    } else if (k.toLowerCase() === "r" && !e.shiftKey) openPalette(i);
    else if (k.toLowerCase() === "u") unmark(i);
    else if (reasonIndexForKey(e) >= 0) {
      const r = reasons()[reasonIndexForKey(e)];
      if (!r) return false;
      toggleReason(i, r.code);
    } else return false;
    return true;
  }

  const onActivity = () => (st.lastActive = Date.now());
  document.addEventListener("keydown", onKey);
  document.addEventListener("pointerdown", onActivity);
  const ticker = setInterval(() => {
    drawLease();
    // Renew the lease shortly before it ends while the reviewer works on the page.
    if (!st.busy && st.items.length && st.leaseUntil && st.leaseUntil - Date.now() < RENEW_BEFORE_MS && Date.now() - st.lastActive < ACTIVE_MS && Date.now() - st.loadedAt > 30_000 && !document.hidden) {
      refresh({ keep: true });
    }
  }, 1000);

  loadPage();

  return {
    unmount() {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onActivity);
      clearInterval(ticker);
      st.zoomIndex = -1;
      if (zoom.open) zoom.close();
      if (palette.open) palette.close();
    },
  };
}
