// 学生信息列表: the roster with status chips, thumbnails, filters, search, export, a single
// upload per row, and 申请人工复核 (an appeal) on rows the server marks `appealable`: a photo the
// automatic check rejected for something a person can judge goes to a reviewer instead.
import { api, download } from "./api.js";
import { h, replace, say, statusChip, formatTime, filePicker, STATUS, STATUS_ORDER } from "./ui.js";
import { checkPhotoFile } from "./filecheck.js";
import { uploadOne } from "./upload.js";
import { slipsButton } from "./slips.js";
import { appealForm } from "./appeal.js";

const MAY_UPLOAD = new Set(["not_uploaded", "rejected"]);
export { APPEAL_NOTE_MAX } from "./appeal.js";
/** 上传人: who uploaded the current photo (uploaded_by). */
export const UPLOADER = { school: "学校", parent: "家长" };

/** The 说明 cell: why a photo was rejected, the soft findings (flags), and an appeal's state. */
export function explain(s) {
  const list = (items, cls) => (items && items.length ? h("ul", { class: cls }, items.map((r) => h("li", { dataset: { code: r.code } }, r.message))) : null);
  // A server without `flags` lists a pending photo's soft findings in `reasons`.
  if (!Array.isArray(s.flags)) return [list(s.reasons, s.status === "rejected" ? "" : "soft")];
  if (s.appeal && s.status === "pending_review") {
    return [
      h("p", { class: "appeal-state" }, "已申请人工复核", s.appeal.at ? h("span", { class: "when" }, ` ${formatTime(s.appeal.at)}`) : null),
      s.reasons && s.reasons.length ? h("p", { class: "hint" }, "自动检查认为：") : null,
      list(s.reasons, "soft"),
      list(s.flags, "soft"),
    ];
  }
  return [s.status === "rejected" ? list(s.reasons, "") : null, list(s.flags, "soft")];
}

export async function studentsView(ctx, params) {
  const main = ctx.main;
  const students = await ctx.loadStudents();
  const classes = [...new Set(students.map((s) => s.class))].sort((a, b) => a.localeCompare(b, "zh-CN", { numeric: true }));

  const classSel = h("select", { id: "filter-class" }, h("option", { value: "" }, "全部班级"), classes.map((c) => h("option", { value: c }, c)));
  const statusSel = h("select", { id: "filter-status" }, h("option", { value: "" }, "全部状态"), STATUS_ORDER.map((k) => h("option", { value: k }, STATUS[k])));
  const uploaderSel = h("select", { id: "filter-uploader" }, h("option", { value: "" }, "全部"), Object.entries(UPLOADER).map(([k, t]) => h("option", { value: k }, t)));
  if (params.get("uploaded_by")) uploaderSel.value = params.get("uploaded_by");
  const ticked = new Set(); // 学籍副号 of the ticked rows (for 家长上传码)
  const search = h("input", { id: "filter-search", type: "search", placeholder: "姓名或学籍副号", autocomplete: "off" });
  if (params.get("status")) statusSel.value = params.get("status");
  if (params.get("class")) classSel.value = params.get("class");
  const exportBtn = h("button", { type: "button", id: "export-csv" }, "导出学生信息");
  const refreshBtn = h("button", { type: "button", id: "refresh" }, "刷新");
  const summary = h("p", { id: "list-summary", class: "summary", "aria-live": "polite" });
  const counts = h("ul", { class: "counts", "aria-label": "上传状态统计" });
  const tbody = h("tbody");
  const table = h(
    "table",
    { class: "roster", id: "roster" },
    h("caption", { class: "sr-only" }, "学生信息列表"),
    h(
      "thead",
      {},
      h("tr", {}, ["照片", "姓名", "学籍副号", "班级", "上传状态", "上传人", "说明", "操作"].map((t) => h("th", { scope: "col" }, t)))
    ),
    tbody
  );

  function filtered() {
    const q = search.value.trim().toLowerCase();
    return ctx.students.filter(
      (s) =>
        (!classSel.value || s.class === classSel.value) &&
        (!statusSel.value || s.status === statusSel.value) &&
        (!uploaderSel.value || s.uploaded_by === uploaderSel.value) &&
        (!q || s.name.toLowerCase().includes(q) || s.student_id.toLowerCase().includes(q))
    );
  }

  function draw() {
    const list = filtered();
    replace(tbody, list.length ? list.map(row) : h("tr", {}, h("td", { colspan: 8, class: "empty" }, "没有符合条件的学生")));
    summary.textContent = `显示 ${list.length} 名，共 ${ctx.students.length} 名学生`;
    const c = Object.fromEntries(STATUS_ORDER.map((k) => [k, 0]));
    for (const s of ctx.students) c[s.status] = (c[s.status] || 0) + 1;
    replace(
      counts,
      STATUS_ORDER.map((k) =>
        h(
          "li",
          {},
          h(
            "button",
            { type: "button", class: "chip-button", "aria-pressed": String(statusSel.value === k), onclick: () => ((statusSel.value = statusSel.value === k ? "" : k), draw()) },
            statusChip(k),
            h("span", { class: "count" }, String(c[k]))
          )
        )
      )
    );
  }

  function row(s) {
    const tr = h("tr", { dataset: { studentId: s.student_id, status: s.status } });
    fillRow(tr, s);
    return tr;
  }

  function fillRow(tr, s) {
    tr.dataset.status = s.status;
    const photo = s.photo_url
      ? h("img", { class: "thumb", src: s.photo_url, width: 68, height: 88, loading: "lazy", alt: `${s.name}的照片` })
      : h("span", { class: "thumb thumb-empty", "aria-label": "无照片" });
    const actions = h("td", { class: "actions-cell", "data-label": "操作" });
    if (MAY_UPLOAD.has(s.status)) {
      const pick = filePicker({ id: `file-${s.student_id}`, text: s.status === "rejected" ? "重新上传" : "浏览…", extra: `（${s.name}）`, cls: "button small", accept: ".jpg,.jpeg,image/jpeg" });
      const input = pick.input;
      input.addEventListener("change", () => input.files[0] && single(tr, s, input.files[0]));
      actions.append(
        pick.el,
        h("a", { class: "small", href: `#crop?student=${encodeURIComponent(s.student_id)}` }, "裁剪助手")
      );
    }
    if (s.appealable) {
      actions.append(
        h("button", { type: "button", class: "small appeal", "aria-haspopup": "dialog", "aria-label": `为${s.name}申请人工复核`, onclick: () => appeal(tr, s) }, "申请人工复核")
      );
    }
    replace(
      tr,
      h("td", { class: "photo-cell", "data-label": "照片" }, photo),
      h(
        "td",
        { class: "name", "data-label": "姓名" },
        h("label", { class: "pick" }, h("input", { type: "checkbox", class: "tick", "aria-label": `选择${s.name}`, checked: ticked.has(s.student_id), onchange: (e) => (e.target.checked ? ticked.add(s.student_id) : ticked.delete(s.student_id)) })),
        s.name
      ),
      h("td", { "data-label": "学籍副号" }, s.student_id),
      h("td", { "data-label": "班级" }, s.class),
      h(
        "td",
        { "data-label": "上传状态" },
        statusChip(s.status),
        s.auto_cropped ? [" ", h("span", { class: "badge badge-autocrop", title: "照片由系统按建议自动裁剪" }, "自动裁剪")] : null,
        s.uploaded_at ? h("div", { class: "when" }, formatTime(s.uploaded_at)) : null
      ),
      h("td", { class: `uploader${s.uploaded_by ? " uploader-" + s.uploaded_by : ""}`, "data-label": "上传人", dataset: { uploadedBy: s.uploaded_by || "" } }, UPLOADER[s.uploaded_by] || ""),
      h("td", { class: "reasons", "data-label": "说明" }, explain(s), h("div", { class: "row-progress", "aria-live": "polite" })),
      actions
    );
  }

  function putRecord(tr, record) {
    const i = ctx.students.findIndex((x) => x.student_id === record.student_id);
    if (i >= 0) ctx.students[i] = record;
    fillRow(tr, record);
    draw();
  }

  // ---- 申请人工复核: one dialog for the view, filled for the row it was opened from
  const dialog = h("dialog", { id: "appeal-dialog", class: "appeal-dialog", "aria-labelledby": "appeal-title", "aria-describedby": "appeal-what" });
  function appeal(tr, s) {
    const { form, note } = appealForm({
      attrs: { method: "dialog" },
      intro: [
        h("h2", { id: "appeal-title" }, `申请人工复核：${s.name}（${s.student_id}）`),
        h("p", { id: "appeal-what", class: "em" }, "照片将转人工复核，复核期间不能重新上传。"),
        h("p", { class: "hint" }, "只有自动检查的判断可以申请复核；每张照片只能申请一次，审核员确认合格后即通过。"),
        s.reasons && s.reasons.length ? [h("p", {}, "自动检查认为："), h("ul", { class: "reasons" }, s.reasons.map((r) => h("li", { dataset: { code: r.code } }, r.message)))] : null,
      ],
      placeholder: "可选，例如：背景为照相馆白色背景布，请人工确认",
      okText: "确定",
      cancelId: "appeal-cancel",
      onCancel: () => dialog.close(),
      send: (text) => api(`/api/students/${encodeURIComponent(s.student_id)}/appeal`, { method: "POST", role: "school", body: { photo_id: s.photo_id, note: text } }),
      onDone(record) {
        dialog.close();
        putRecord(tr, record);
        say(`${s.name}：已申请人工复核`);
      },
      onUnauthenticated: () => dialog.close(),
      // The photo changed or is no longer appealable: show the row as it is now.
      async onStale() {
        try {
          putRecord(tr, await api(`/api/students/${encodeURIComponent(s.student_id)}`, { role: "school" }));
        } catch {
          /* the message above says enough */
        }
      },
    });
    replace(dialog, form);
    if (!dialog.isConnected) main.append(dialog);
    dialog.showModal();
    note.focus();
  }

  async function single(tr, s, file) {
    const note = tr.querySelector(".row-progress");
    const problem = await checkPhotoFile(file, ctx.limits());
    if (problem) {
      replace(note, h("p", { class: "error", role: "alert" }, problem.message));
      return;
    }
    const input = tr.querySelector("input[type=file]");
    input.disabled = true;
    const bar = h("progress", { max: file.size, value: 0, "aria-label": `${s.name}的上传进度` });
    const text = h("span", {}, "正在申请上传…");
    replace(note, bar, text);
    try {
      const { record, final } = await uploadOne(s, file, {
        onProgress: (loaded) => (bar.value = loaded),
        onPhase: (p) => (text.textContent = { presign: "正在申请上传…", put: "正在发送照片…", check: "已发送，正在自动检查…" }[p]),
      });
      const i = ctx.students.findIndex((x) => x.student_id === s.student_id);
      if (record && i >= 0) ctx.students[i] = record;
      fillRow(tr, record || s);
      if (!final) replace(tr.querySelector(".row-progress"), h("p", {}, "照片已发送，自动检查尚未完成，请稍后刷新查看。"));
      say(`${s.name}：${record ? STATUS[record.status] : "已发送"}`);
      draw();
    } catch (e) {
      replace(note, h("p", { class: "error", role: "alert" }, `上传失败：${e.message}`));
      input.disabled = false;
      input.value = "";
    }
  }

  for (const el of [classSel, statusSel, uploaderSel]) el.addEventListener("change", draw);
  search.addEventListener("input", draw);
  refreshBtn.addEventListener("click", async () => {
    await ctx.loadStudents();
    draw();
  });
  exportBtn.addEventListener("click", async () => {
    exportBtn.disabled = true;
    try {
      const q = classSel.value ? `?class=${encodeURIComponent(classSel.value)}` : "";
      await download(`/api/students.csv${q}`, "school", `学生信息-${ctx.school.name}${classSel.value ? "-" + classSel.value : ""}.csv`);
      say("已导出学生信息");
    } catch (e) {
      say(`导出失败：${e.message}`, "error");
    } finally {
      exportBtn.disabled = false;
    }
  });

  // 家长上传码: the ticked students (still in the roster), the class filtered to, or everyone.
  const slips = slipsButton(ctx, () => ({
    selected: ctx.students.filter((s) => ticked.has(s.student_id)).map((s) => s.student_id),
    class: classSel.value,
    classCount: ctx.students.filter((s) => s.class === classSel.value).length,
    total: ctx.students.length,
  }));

  replace(
    main,
    h("h1", {}, "学生信息列表"),
    h(
      "div",
      { class: "toolbar", role: "search" },
      h("div", { class: "field inline" }, h("label", { for: "filter-class" }, "班级"), classSel),
      h("div", { class: "field inline" }, h("label", { for: "filter-status" }, "上传状态"), statusSel),
      h("div", { class: "field inline" }, h("label", { for: "filter-uploader" }, "上传人"), uploaderSel),
      h("div", { class: "field inline grow" }, h("label", { for: "filter-search" }, "查找"), search),
      h("div", { class: "toolbar-actions" }, refreshBtn, exportBtn, slips.button, h("a", { class: "button primary", href: "#batch" }, "批量上传"))
    ),
    counts,
    summary,
    h("div", { class: "table-wrap" }, table),
    dialog
  );
  draw();
}
