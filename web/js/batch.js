// 批量上传: choose many files (or a folder, or drop them), see which match the roster and which
// do not and why, confirm, then upload with bounded concurrency, presigning each file just
// before it goes; per-file and overall progress; final statuses from the check; retry failed.
// The batch's bookkeeping lives in localStorage so that a closed tab comes back to it; the roster
// (GET /api/students) stays the truth about what actually landed.
import { api } from "./api.js";
import { h, replace, say, statusChip, formatBytes, filePicker } from "./ui.js";
import { analyse } from "./filecheck.js";
import { transfer, UploadError } from "./upload.js";

const CONCURRENCY = 3;
const FINAL = new Set(["pending_review", "approved", "rejected"]);
const CHECK_TIMEOUT_MS = 180_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const STATE_TEXT = {
  waiting: "等待上传",
  presign: "正在申请上传",
  put: "正在发送",
  check: "已发送，正在自动检查",
  done: "完成",
  failed: "上传失败",
  interrupted: "未完成（页面曾关闭），请重新选择此文件",
};

/** One batch per school, kept across views and page loads. */
class Batch {
  constructor(schoolId) {
    this.key = `gradphoto.batch.${schoolId}`;
    this.items = [];
    this.listeners = new Set();
    this.running = false;
    this.polling = false;
  }

  // ---- persistence ----
  save() {
    const slim = this.items.map(({ file, loaded, ...rest }) => rest);
    localStorage.setItem(this.key, JSON.stringify({ saved_at: new Date().toISOString(), items: slim }));
  }
  restore() {
    try {
      const raw = JSON.parse(localStorage.getItem(this.key) || "null");
      this.items = raw && Array.isArray(raw.items) ? raw.items.map((it) => ({ ...it, file: null, loaded: 0 })) : [];
    } catch {
      this.items = [];
    }
  }
  clear() {
    this.items = [];
    localStorage.removeItem(this.key);
    this.emit(null);
  }

  // ---- events ----
  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  emit(item) {
    for (const fn of this.listeners) fn(item);
  }
  update(item, patch) {
    Object.assign(item, patch);
    if (!("loaded" in patch) || Object.keys(patch).length > 1) this.save();
    this.emit(item);
  }

  /** What the roster says now overrides what we remembered (a closed tab, another device). */
  reconcile(roster) {
    for (const it of this.items) {
      const r = roster.get(it.student_id);
      if (!r) continue;
      const fresh = r.status !== it.before_status || r.uploaded_at !== it.before_uploaded_at;
      if (FINAL.has(r.status) && (fresh || it.state === "check" || it.state === "done")) {
        Object.assign(it, { state: "done", status: r.status, reasons: r.reasons || [], flags: r.flags || [], message: "" });
      } else if (r.status === "uploaded") {
        Object.assign(it, { state: "check" });
      } else if (["waiting", "presign", "put"].includes(it.state) && !it.file) {
        Object.assign(it, { state: "interrupted", retryable: false });
      }
    }
    this.save();
    if (this.items.some((it) => it.state === "check")) this.pollLoop();
  }

  start(matches) {
    this.items = matches.map(({ file, student }) => ({
      student_id: student.student_id,
      name: student.name,
      class: student.class,
      file_name: file.webkitRelativePath || file.name,
      size: file.size,
      before_status: student.status,
      before_uploaded_at: student.uploaded_at || null,
      state: "waiting",
      status: null,
      reasons: [],
      message: "",
      code: null,
      retryable: false,
      file,
      loaded: 0,
    }));
    this.save();
    this.emit(null);
    return this.run();
  }

  failed() {
    return this.items.filter((it) => it.state === "failed" && it.retryable && it.file);
  }

  retryFailed() {
    for (const it of this.failed()) this.update(it, { state: "waiting", message: "", code: null, loaded: 0 });
    return this.run();
  }

  async run() {
    if (this.running) return;
    this.running = true;
    this.emit(null);
    const worker = async () => {
      for (;;) {
        const it = this.items.find((x) => x.state === "waiting" && x.file);
        if (!it) return;
        await this.send(it);
      }
    };
    try {
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    } finally {
      this.running = false;
      this.emit(null);
    }
  }

  async send(it) {
    try {
      await transfer(it.student_id, it.file, (loaded) => this.update(it, { loaded }), (phase) => this.update(it, { state: phase, message: "" }));
      this.update(it, { state: "check", loaded: it.file.size, checking_since: Date.now() });
      this.pollLoop();
    } catch (e) {
      this.update(it, {
        state: "failed",
        code: e.code || "error",
        message: e.message || String(e),
        retryable: e instanceof UploadError ? e.retryable : true,
      });
    }
  }

  /**
   * One loop polls every file whose check is pending: a few by GET /api/students/{id}, many by
   * one GET /api/students, so a 300-file batch does not turn into 300 pollers.
   */
  async pollLoop() {
    if (this.polling) return;
    this.polling = true;
    let delay = 800;
    try {
      for (;;) {
        const checking = this.items.filter((it) => it.state === "check");
        if (!checking.length) return;
        await sleep(delay);
        delay = Math.min(delay * 1.4, 5000);
        let records;
        try {
          if (checking.length <= 5) {
            records = await Promise.all(checking.map((it) => api(`/api/students/${encodeURIComponent(it.student_id)}`, { role: "school" })));
          } else {
            records = (await api("/api/students", { role: "school" })).students;
          }
        } catch (e) {
          if (e.status === 401) return;
          continue; // busy or a blip: the gate already made us wait
        }
        const byId = new Map(records.map((r) => [r.student_id, r]));
        for (const it of checking) {
          const r = byId.get(it.student_id);
          if (!r) continue;
          const fresh = r.status !== it.before_status || r.uploaded_at !== it.before_uploaded_at;
          if (FINAL.has(r.status) && fresh) {
            this.update(it, { state: "done", status: r.status, reasons: r.reasons || [], flags: r.flags || [], photo_url: r.photo_url });
          } else if (it.checking_since && Date.now() - it.checking_since > CHECK_TIMEOUT_MS) {
            this.update(it, { state: "done", status: r.status, reasons: [], message: "自动检查尚未完成，请稍后在学生信息列表查看" });
          }
        }
      }
    } finally {
      this.polling = false;
    }
  }

  summary() {
    const s = { total: this.items.length, done: 0, ok: 0, rejected: 0, failed: 0, interrupted: 0, active: 0, bytes: 0, loaded: 0 };
    for (const it of this.items) {
      s.bytes += it.size || 0;
      s.loaded += it.state === "done" || it.state === "check" ? it.size || 0 : it.loaded || 0;
      if (it.state === "done") {
        s.done++;
        if (it.status === "rejected") s.rejected++;
        else s.ok++;
      } else if (it.state === "failed") s.failed++;
      else if (it.state === "interrupted") s.interrupted++;
      else s.active++;
    }
    return s;
  }
}

let batch = null;
function batchFor(schoolId) {
  if (!batch || batch.schoolId !== schoolId) {
    batch = new Batch(schoolId);
    batch.schoolId = schoolId;
    batch.restore();
  }
  return batch;
}

// ---------------------------------------------------------------- view
export async function batchView(ctx) {
  const main = ctx.main;
  const b = batchFor(ctx.school.school_id);
  await ctx.loadStudents();
  if (!b.running) b.reconcile(ctx.rosterMap());

  const filesPick = filePicker({ id: "batch-files", text: "浏览…选择多个照片", cls: "button primary", multiple: true, accept: ".jpg,.jpeg,image/jpeg" });
  const dirPick = filePicker({ id: "batch-folder", text: "选择整个文件夹", multiple: true, directory: true });
  const fileInput = filesPick.input;
  const dirInput = dirPick.input;
  const drop = h(
    "div",
    { class: "dropzone", id: "dropzone" },
    h("p", {}, "把照片文件或整个文件夹拖到这里，或者："),
    h(
      "div",
      { class: "actions" },
      filesPick.el,
      dirPick.el
    ),
    h("p", { class: "hint" }, "文件名必须是学生的学籍副号，如 G310101.jpg；照片须为 272×354 像素、300 DPI 的 JPEG，不超过 1 MB。")
  );
  const analysisBox = h("section", { id: "analysis", "aria-live": "polite" });
  // The limit is on the page so that a test can hold uploads and count how many run at once.
  const progressBox = h("section", { id: "progress", dataset: { concurrency: CONCURRENCY } });

  async function choose(files) {
    files = files.filter((f) => !/^\./.test(f.name) && !/(^|\/)\.|thumbs\.db$/i.test(f.webkitRelativePath || f.name));
    if (!files.length) return;
    if (b.running) {
      say("上一批照片仍在上传，请等待完成后再选择", "error");
      return;
    }
    replace(analysisBox, h("p", { class: "loading" }, `正在检查 ${files.length} 个文件…`));
    await ctx.loadStudents();
    const { ok, bad } = await analyse(files, ctx.rosterMap(), ctx.limits());
    showAnalysis(files.length, ok, bad);
  }

  function showAnalysis(total, ok, bad) {
    const confirm = h("button", { type: "button", class: "primary", id: "batch-confirm", disabled: ok.length === 0 }, `确定上传 ${ok.length} 张`);
    const cancel = h("button", { type: "button", id: "batch-cancel" }, "取消");
    confirm.addEventListener("click", () => {
      analysisBox.replaceChildren();
      b.start(ok);
      setTimeout(() => progressBox.querySelector("h2")?.focus(), 60);
    });
    cancel.addEventListener("click", () => analysisBox.replaceChildren());
    const reasonsByCode = {};
    for (const x of bad) (reasonsByCode[x.code] ||= []).push(x);
    replace(
      analysisBox,
      h("h2", { tabindex: -1 }, "检查结果"),
      h(
        "p",
        { class: "match-summary", id: "match-summary" },
        `共选择 ${total} 个文件：`,
        h("strong", { class: "ok", id: "match-count" }, `可以上传 ${ok.length} 张`),
        "，",
        h("strong", { class: bad.length ? "bad" : "", id: "mismatch-count" }, `不能上传 ${bad.length} 张`),
        "。"
      ),
      bad.length
        ? h(
            "table",
            { class: "plain", id: "mismatch-table" },
            h("caption", {}, "以下文件不能上传"),
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "文件名"), h("th", { scope: "col" }, "学籍副号"), h("th", { scope: "col" }, "原因"))),
            h(
              "tbody",
              {},
              bad.map((x) => h("tr", { dataset: { code: x.code } }, h("td", {}, x.file.name), h("td", {}, x.id), h("td", {}, x.message)))
            )
          )
        : null,
      ok.length
        ? h(
            "details",
            {},
            h("summary", {}, `查看可以上传的 ${ok.length} 张`),
            h("ul", { class: "matched" }, ok.map(({ file, student }) => h("li", {}, `${file.name} → ${student.name}（${student.class}）`)))
          )
        : null,
      h("div", { class: "actions" }, confirm, cancel)
    );
    analysisBox.querySelector("h2").focus();
  }

  fileInput.addEventListener("change", () => choose([...fileInput.files]).finally(() => (fileInput.value = "")));
  dirInput.addEventListener("change", () => choose([...dirInput.files]).finally(() => (dirInput.value = "")));
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    choose(await droppedFiles(e.dataTransfer));
  });

  // ---- progress ----
  const rows = new Map();
  const overall = h("progress", { id: "overall", max: 1, value: 0, "aria-label": "总进度" });
  const overallText = h("p", { id: "overall-text", "aria-live": "polite" });
  const retryBtn = h("button", { type: "button", id: "retry-failed" }, "重试失败");
  const clearBtn = h("button", { type: "button", id: "clear-batch" }, "清除本批记录");
  retryBtn.addEventListener("click", () => b.retryFailed());
  clearBtn.addEventListener("click", () => b.clear());
  const tbody = h("tbody");

  function drawProgress() {
    if (!b.items.length) {
      progressBox.replaceChildren();
      rows.clear();
      return;
    }
    if (!progressBox.firstChild) {
      replace(
        progressBox,
        h("h2", { tabindex: -1 }, "上传进度"),
        overall,
        overallText,
        h("div", { class: "actions" }, retryBtn, clearBtn),
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "plain batch", id: "batch-table" },
            h("thead", {}, h("tr", {}, ["文件", "学生", "进度", "结果"].map((t) => h("th", { scope: "col" }, t)))),
            tbody
          )
        )
      );
    }
    if (tbody.children.length !== b.items.length) {
      rows.clear();
      replace(tbody, b.items.map((it) => rowFor(it)));
    }
    for (const it of b.items) drawRow(it);
    drawOverall();
  }

  function rowFor(it) {
    const bar = h("progress", { max: it.size || 1, value: 0, "aria-label": `${it.file_name} 上传进度` });
    const result = h("td", { class: "result" });
    const tr = h("tr", { dataset: { studentId: it.student_id } }, h("td", {}, it.file_name), h("td", {}, `${it.name}（${it.student_id}）`), h("td", {}, bar), result);
    rows.set(it, { tr, bar, result });
    return tr;
  }

  function drawRow(it) {
    const r = rows.get(it);
    if (!r) return;
    r.tr.dataset.state = it.state;
    r.tr.dataset.resultStatus = it.status || "";
    r.bar.value = it.state === "done" || it.state === "check" ? r.bar.max : it.loaded || 0;
    const parts = [];
    if (it.state === "done" && it.status) parts.push(statusChip(it.status));
    else parts.push(h("span", { class: `state state-${it.state}` }, STATE_TEXT[it.state] || it.state));
    if (it.message) parts.push(h("div", { class: it.state === "failed" ? "error" : "hint" }, it.message));
    if (it.reasons && it.reasons.length) parts.push(h("ul", { class: it.status === "rejected" ? "reasons" : "reasons soft" }, it.reasons.map((x) => h("li", { dataset: { code: x.code } }, x.message))));
    // Soft findings (flags) come apart from the reasons; shown as the reasons of a pending photo were.
    if (it.flags && it.flags.length) parts.push(h("ul", { class: "reasons soft" }, it.flags.map((x) => h("li", { dataset: { code: x.code } }, x.message))));
    replace(r.result, parts);
  }

  function drawOverall() {
    const s = b.summary();
    overall.max = s.bytes || 1;
    overall.value = s.loaded;
    const pct = s.bytes ? Math.round((s.loaded / s.bytes) * 100) : 0;
    overallText.textContent =
      `共 ${s.total} 张，已完成 ${s.done} 张（通过自动检查 ${s.ok}，未通过 ${s.rejected}），` +
      `失败 ${s.failed} 张${s.interrupted ? `，未完成 ${s.interrupted} 张` : ""}；已发送 ${formatBytes(s.loaded)} / ${formatBytes(s.bytes)}（${pct}%）` +
      (b.running ? "，正在上传…" : s.active ? "，正在检查…" : "。");
    overallText.dataset.done = String(!b.running && s.active === 0);
    const n = b.failed().length;
    retryBtn.textContent = `重试失败（${n}）`;
    retryBtn.disabled = b.running || n === 0;
    clearBtn.disabled = b.running || s.active > 0;
  }

  let pending = false;
  const off = b.on((item) => {
    if (item && rows.has(item)) {
      drawRow(item);
      drawOverall();
      return;
    }
    // A new or cleared batch rebuilds the table; coalesce bursts of such events.
    if (pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      drawProgress();
    }, 30);
  });
  ctx.onLeave(off);

  replace(
    main,
    h("h1", {}, "批量上传"),
    h(
      "ol",
      { class: "steps" },
      h("li", {}, "把照片文件名改为对应学生的学籍副号；"),
      h("li", {}, "点击“浏览”全选需上传的照片（或选择文件夹、拖入照片）；"),
      h("li", {}, "平台显示可以匹配的照片数，核对后点击“确定”；"),
      h("li", {}, "照片逐一上传并显示进度，自动检查后显示结果。")
    ),
    drop,
    analysisBox,
    progressBox
  );
  drawProgress();
}

/** Files from a drop, walking into dropped folders. */
async function droppedFiles(dt) {
  const entries = [...(dt.items || [])].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  if (!entries.length) return [...(dt.files || [])];
  const out = [];
  async function walk(entry) {
    if (entry.isFile) out.push(await new Promise((res, rej) => entry.file(res, rej)));
    else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const e of batch) await walk(e);
      }
    }
  }
  for (const e of entries) await walk(e);
  return out;
}

