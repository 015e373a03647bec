// 批量上传: choose many files (or a folder, or drop them), see which match the roster and which
// do not and why, confirm, then upload with bounded concurrency, presigning each file just
// before it goes; per-file and overall progress; final statuses from the check; retry failed.
// The batch's bookkeeping lives in localStorage so that a closed tab comes back to it; the roster
// (GET /api/students) stays the truth about what actually landed.
// Studio originals that fail only on their size (自动裁剪): the server suggests each crop, the page
// shows the original and the 272×354 result side by side, and 全部自动裁剪 adds the ticked ones to
// the batch; nothing is sent before the teacher confirms.
import { api } from "./api.js";
import { h, replace, say, statusChip, formatBytes, filePicker } from "./ui.js";
import { analyse, mapLimit } from "./filecheck.js";
import { transfer, UploadError } from "./upload.js";
import { autoCrop, findingsList } from "./autocrop.js";

const CONCURRENCY = 3;
// Suggestions at once: each decodes a full-size original and makes the server find a face, so a
// 300-photo evening neither floods the server nor holds many decoded originals in memory.
const SUGGEST_CONCURRENCY = 2;
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

  /** `matches`: [{file, student, file_name?, auto_cropped?}] — a crop carries its original's name. */
  start(matches) {
    this.items = matches.map(({ file, student, file_name, auto_cropped }) => ({
      student_id: student.student_id,
      name: student.name,
      class: student.class,
      file_name: file_name || file.webkitRelativePath || file.name,
      auto_cropped: !!auto_cropped,
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
      await transfer(it.student_id, it.file, (loaded) => this.update(it, { loaded }), (phase) => this.update(it, { state: phase, message: "" }), { autoCropped: it.auto_cropped });
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
    h("p", { class: "hint" }, "文件名必须是学生的学籍副号，如 G310101.jpg；照片须为 272×354 像素、300 DPI 的 JPEG，不超过 1 MB。尺寸不符的照相馆原图可以自动裁剪。")
  );
  const analysisBox = h("section", { id: "analysis", "aria-live": "polite" });
  // The limit is on the page so that a test can hold uploads and count how many run at once.
  const progressBox = h("section", { id: "progress", dataset: { concurrency: CONCURRENCY } });

  let proposal = null; // the crops being suggested for the files on screen (see cropProposal)
  const dropProposal = () => {
    if (proposal) proposal.stop();
    proposal = null;
  };
  ctx.onLeave(dropProposal);

  async function choose(files) {
    files = files.filter((f) => !/^\./.test(f.name) && !/(^|\/)\.|thumbs\.db$/i.test(f.webkitRelativePath || f.name));
    if (!files.length) return;
    if (b.running) {
      say("上一批照片仍在上传，请等待完成后再选择", "error");
      return;
    }
    dropProposal();
    replace(analysisBox, h("p", { class: "loading" }, `正在检查 ${files.length} 个文件…`));
    await ctx.loadStudents();
    const { ok, bad } = await analyse(files, ctx.rosterMap(), ctx.limits());
    showAnalysis(files.length, ok, bad);
  }

  function showAnalysis(total, ok, bad) {
    const failures = bad.filter((x) => !x.fixable);
    const crops = cropProposal(bad.filter((x) => x.fixable), () => refresh());
    proposal = crops;
    const summary = h("p", { class: "match-summary", id: "match-summary" });
    const failBox = h("div", { id: "mismatch-box" });
    const confirm = h("button", { type: "button", class: "primary", id: "batch-confirm" });
    const cancel = h("button", { type: "button", id: "batch-cancel" }, "取消");
    const unapplied = h("p", { class: "hint", id: "autocrop-unapplied" });
    const close = () => {
      dropProposal();
      analysisBox.replaceChildren();
    };
    confirm.addEventListener("click", () => {
      const matches = [...ok, ...crops.matches()];
      close();
      b.start(matches);
      setTimeout(() => progressBox.querySelector("h2")?.focus(), 60);
    });
    cancel.addEventListener("click", close);

    function refresh() {
      const c = crops.counts();
      const going = ok.length + c.applied;
      replace(
        summary,
        `共选择 ${total} 个文件：`,
        h("strong", { class: "ok", id: "match-count" }, `可以上传 ${going} 张`),
        c.applied ? `（其中自动裁剪 ${c.applied} 张）` : null,
        c.ready && !crops.applied ? ["，", h("strong", { class: "ok", id: "autocrop-count" }, `可自动裁剪 ${c.ready} 张`)] : null,
        "，",
        h("strong", { class: failures.length + c.refused ? "bad" : "", id: "mismatch-count" }, `不能上传 ${failures.length + c.refused} 张`),
        "。"
      );
      replace(failBox, failureTable([...failures, ...crops.refusals()]));
      confirm.textContent = `确定上传 ${going} 张`;
      confirm.disabled = going === 0;
      unapplied.textContent = c.ready && !crops.applied ? `另有 ${c.ready} 张可自动裁剪的照片：点击“全部自动裁剪”后才会随本批上传。` : "";
    }

    replace(
      analysisBox,
      h("h2", { tabindex: -1 }, "检查结果"),
      summary,
      crops.section,
      failBox,
      ok.length
        ? h(
            "details",
            {},
            h("summary", {}, `查看可以直接上传的 ${ok.length} 张`),
            h("ul", { class: "matched" }, ok.map(({ file, student }) => h("li", {}, `${file.name} → ${student.name}（${student.class}）`)))
          )
        : null,
      h("div", { class: "actions" }, confirm, cancel),
      unapplied
    );
    refresh();
    analysisBox.querySelector("h2").focus();
    crops.run();
  }

  /** 不能上传: each file with why, and for a refused crop a way on (裁剪助手 for that student). */
  function failureTable(rows) {
    if (!rows.length) return null;
    return h(
      "table",
      { class: "plain", id: "mismatch-table" },
      h("caption", {}, "以下文件不能上传"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "文件名"), h("th", { scope: "col" }, "学籍副号"), h("th", { scope: "col" }, "原因"))),
      h(
        "tbody",
        {},
        rows.map((x) =>
          h(
            "tr",
            { dataset: { code: x.code } },
            h("td", {}, x.file.name),
            h("td", {}, x.id),
            h(
              "td",
              {},
              x.message,
              x.cropMessage ? h("div", { class: "error autocrop-refused" }, `无法自动裁剪：${x.cropMessage}`) : null,
              x.cropMessage ? h("a", { class: "small", href: `#crop?student=${encodeURIComponent(x.id)}` }, "用裁剪助手手动裁剪") : null
            )
          )
        )
      )
    );
  }

  /**
   * The originals that fail only on their size: a suggestion for each (SUGGEST_CONCURRENCY at a
   * time, with progress), rows with the original and the 272×354 result, a tick per file (off
   * when the check found something a crop cannot fix) and 全部自动裁剪. `onChange` redraws the
   * counts around it. → { section, run, stop, counts, matches, refusals, applied }
   */
  function cropProposal(fixable, onChange) {
    const items = fixable.map((x) => ({ ...x, state: "waiting", result: null, error: null, urls: [] }));
    const p = { applied: false, stopped: false, section: null };
    if (!items.length) return Object.assign(p, { run() {}, stop() {}, counts: () => ({ ready: 0, applied: 0, refused: 0 }), matches: () => [], refusals: () => [] });
    const progress = h("p", { id: "autocrop-progress", class: "progress-line", "aria-live": "polite", dataset: { done: "false" } });
    const apply = h("button", { type: "button", class: "primary", id: "autocrop-apply", disabled: true }, "全部自动裁剪");
    let done = 0;

    const ready = () => items.filter((it) => it.state === "ready");
    const ticked = () => ready().filter((it) => it.tick.checked);
    p.counts = () => ({ ready: ready().length, applied: p.applied ? ticked().length : 0, refused: items.filter((it) => it.state === "refused").length });
    p.refusals = () =>
      items.filter((it) => it.state === "refused").map((it) => ({ file: it.file, id: it.id, code: it.error.code || "autocrop_failed", message: it.message, cropMessage: it.error.message }));
    p.matches = () =>
      p.applied
        ? ticked().map((it) => ({
            file: new File([it.result.blob], `${it.student.student_id}.jpg`, { type: "image/jpeg" }),
            student: it.student,
            file_name: it.file.webkitRelativePath || it.file.name,
            auto_cropped: true,
          }))
        : [];
    p.stop = () => {
      p.stopped = true;
      for (const it of items) for (const u of it.urls.splice(0)) URL.revokeObjectURL(u);
    };

    function drawControls() {
      const n = ticked().length;
      const working = done < items.length;
      progress.textContent = working
        ? `正在分析 ${done}/${items.length}…`
        : `分析完成：可自动裁剪 ${ready().length} 张${p.counts().refused ? `，无法自动裁剪 ${p.counts().refused} 张（见下方“不能上传”）` : ""}。`;
      progress.dataset.done = String(!working);
      apply.textContent = p.applied ? `已自动裁剪 ${n} 张` : `全部自动裁剪（${n} 张）`;
      apply.disabled = working || p.applied || n === 0;
    }

    function rowFor(it) {
      it.tick = h("input", { type: "checkbox", class: "autocrop-tick", disabled: true, "aria-label": `自动裁剪 ${it.file.name}（${it.student.name}）` });
      it.tick.addEventListener("change", () => {
        drawRow(it);
        drawControls();
        onChange();
      });
      it.before = h("td", { class: "ba-cell" });
      it.after = h("td", { class: "ba-cell" });
      it.sizeLine = h("div", { class: "hint" });
      it.note = h("td", { class: "autocrop-note" });
      it.tr = h(
        "tr",
        { dataset: { studentId: it.student.student_id, state: it.state } },
        h("td", { class: "tick-cell" }, it.tick),
        h("td", { class: "who" }, h("div", { class: "file" }, it.file.webkitRelativePath || it.file.name), h("div", {}, `${it.student.name}（${it.student.class}）`), it.sizeLine),
        it.before,
        it.after,
        it.note
      );
      drawRow(it);
      return it.tr;
    }

    function drawRow(it) {
      it.tr.dataset.state = it.state === "ready" && p.applied ? (it.tick.checked ? "applied" : "skipped") : it.state;
      if (it.state !== "ready") {
        replace(it.note, h("span", { class: "state" }, it.state === "working" ? "正在分析…" : "等待分析"));
        return;
      }
      const label = p.applied ? (it.tick.checked ? "已自动裁剪" : "未勾选，不上传") : "可自动裁剪";
      replace(
        it.note,
        h("strong", { class: `autocrop-label${it.tick.checked ? " ok" : ""}` }, label),
        it.result.findings.length
          ? [h("p", { class: "hint" }, "裁剪不能解决以下问题（已取消勾选，确认无误可勾选）："), findingsList(it.result.findings)]
          : h("p", { class: "hint" }, "按比例裁剪缩放为 272×354、300 DPI，未拉伸。")
      );
    }

    function showResult(it, r) {
      const before = URL.createObjectURL(r.thumb);
      const after = URL.createObjectURL(r.blob);
      it.urls.push(before, after);
      replace(it.before, h("img", { class: "ba-before", src: before, alt: `${it.file.name} 原图（框内为保留部分）` }));
      replace(it.after, h("img", { class: "ba-after", src: after, width: 91, height: 118, alt: `${it.student.name} 裁剪后的照片` }));
      it.sizeLine.textContent = `原图 ${r.width}×${r.height} → 272×354`;
      it.tick.disabled = false;
      // Something a crop cannot fix (background, blur…): the teacher decides, so it starts unticked.
      it.tick.checked = r.findings.length === 0;
    }

    async function suggest(it) {
      if (p.stopped) return;
      it.state = "working";
      drawRow(it);
      try {
        const r = await autoCrop(it.file, { role: "school", limits: ctx.limits() });
        if (p.stopped) return;
        it.result = r;
        it.state = "ready";
        showResult(it, r);
      } catch (e) {
        if (p.stopped) return;
        it.error = e;
        it.state = "refused";
        it.tr.remove(); // it is listed with the other files that cannot go
      }
      done++;
      drawRow(it);
      drawControls();
      onChange();
    }

    apply.addEventListener("click", () => {
      p.applied = true;
      for (const it of ready()) drawRow(it);
      drawControls();
      onChange(); // the summary (a live region) now counts them among the files that go
    });

    p.run = () => mapLimit(items, SUGGEST_CONCURRENCY, suggest);
    p.section = h(
      "section",
      { class: "autocrop", id: "autocrop", "aria-labelledby": "autocrop-title", dataset: { concurrency: SUGGEST_CONCURRENCY } },
      h("h3", { id: "autocrop-title" }, `尺寸不符、可自动裁剪的照片（${items.length} 张）`),
      h(
        "p",
        { class: "hint" },
        "这些照片不是 272×354 像素（多为照相馆的原图）。系统按照片要求给出取景：只按比例裁剪和缩放，不会拉伸变形。请核对“裁剪后”的照片，不需要的取消勾选，再点击“全部自动裁剪”。"
      ),
      progress,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "plain autocrop-table", id: "autocrop-table" },
          h("thead", {}, h("tr", {}, ["选择", "文件 / 学生", "原图", "裁剪后", "说明"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, items.map(rowFor))
        )
      ),
      h("div", { class: "actions" }, apply)
    );
    drawControls();
    return p;
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
    if (it.auto_cropped) parts.push(" ", h("span", { class: "tag tag-autocrop" }, "已自动裁剪"));
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

