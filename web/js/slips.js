// 家长上传码 slips: the teacher issues one personal code per student (the whole school, the class
// the roster is filtered to, or the ticked students) and prints them, eight slips to an A4 sheet,
// to cut along the dashed lines and hand out in class. A code is shown once: it lives only in
// this page's memory (the print view's DOM) and is gone when the view is closed.
import { api } from "./api.js";
import { h, replace, say } from "./ui.js";
import qrcode from "../vendor/qrcode-generator/qrcode.mjs";

export const SLIPS_PER_SHEET = 8;

/** The parent page's address, as printed on every slip and in its QR code. */
export const parentPageUrl = () => new URL("parent.html", location.href).href;

/** "ABCDE23456" → "ABCDE-23456" (the server's codes are 10 characters). */
export function groupCode(code) {
  const c = String(code || "").replace(/[^0-9A-Za-z]/g, "").toUpperCase();
  return c.length === 10 ? `${c.slice(0, 5)}-${c.slice(5)}` : c;
}

// Short lines from the seed manual (上传注意事项), for the back of a parent's mind at 23:50.
export const SLIP_NOTES = [
  "请避开高峰时段上传；每天开放时间以网页显示为准。",
  "每位学生的照片只能成功上传一次，上传前请仔细核对照片是否符合要求。",
  "上传后可登录查看照片，审核前不能修改；未通过审核的可重新上传。",
];

/** An SVG QR code of `text` (error correction M), `mm` millimetres square with a 4-module quiet zone. */
export function qrSvg(text, mm = 26) {
  const qr = qrcode(0, "M");
  qr.addData(text, "Byte");
  qr.make();
  const n = qr.getModuleCount();
  const q = 4; // quiet zone, in modules
  let d = "";
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + q} ${r + q}h1v1h-1z`;
  }
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${n + 2 * q} ${n + 2 * q}`);
  svg.setAttribute("width", `${mm}mm`);
  svg.setAttribute("height", `${mm}mm`);
  svg.setAttribute("shape-rendering", "crispEdges");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `二维码：${text}`);
  svg.setAttribute("class", "slip-qr");
  const bg = document.createElementNS(NS, "rect");
  bg.setAttribute("width", "100%");
  bg.setAttribute("height", "100%");
  bg.setAttribute("fill", "#fff");
  const path = document.createElementNS(NS, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.append(bg, path);
  return svg;
}

/** One slip. `school`: {name, district, stage_label}. */
export function slip(c, school, url, qr) {
  return h(
    "article",
    { class: "slip", dataset: { studentId: c.student_id } },
    h(
      "div",
      { class: "slip-main" },
      h("p", { class: "slip-title" }, "毕业照片采集 · 家长上传通知"),
      h("p", { class: "slip-school" }, `${school.name || ""}${school.stage_label ? `（${school.stage_label}）` : ""}`),
      h(
        "dl",
        { class: "slip-facts" },
        h("dt", {}, "班级"),
        h("dd", { class: "slip-class" }, c.class),
        h("dt", {}, "姓名"),
        h("dd", { class: "slip-name" }, c.name),
        h("dt", {}, "学籍副号"),
        h("dd", { class: "slip-id" }, c.student_id)
      ),
      h("p", { class: "slip-code-label" }, "上传码（不区分大小写）"),
      h("p", { class: "slip-code" }, groupCode(c.code)),
      h("ol", { class: "slip-notes" }, SLIP_NOTES.map((t) => h("li", {}, t)))
    ),
    h("div", { class: "slip-side" }, qr.cloneNode(true), h("p", { class: "slip-scan" }, "手机扫码进入家长入口"), h("p", { class: "slip-url" }, url))
  );
}

/** The sheets: SLIPS_PER_SHEET slips to an A4 page. */
export function sheets(codes, school, url = parentPageUrl()) {
  const qr = qrSvg(url);
  const out = [];
  for (let i = 0; i < codes.length; i += SLIPS_PER_SHEET) {
    out.push(h("div", { class: "slip-sheet" }, codes.slice(i, i + SLIPS_PER_SHEET).map((c) => slip(c, school, url, qr))));
  }
  return out;
}

let openView = null;

/** Shows the print view over the page (and only it when printing). `res`: the API's 201 body. */
export function showSlips(res, fallbackSchool = {}) {
  closeSlips();
  const school = { ...fallbackSchool, ...(res.school || {}) };
  const codes = [...res.codes].sort((a, b) => a.class.localeCompare(b.class, "zh-CN", { numeric: true }) || a.student_id.localeCompare(b.student_id));
  const printBtn = h("button", { type: "button", class: "primary", id: "slips-print", onclick: () => window.print() }, "打印");
  const closeBtn = h("button", { type: "button", id: "slips-close" }, "关闭");
  const view = h(
    "section",
    { id: "slips-view", class: "slips-view", role: "dialog", "aria-modal": "true", "aria-labelledby": "slips-title" },
    h(
      "div",
      { class: "slips-bar no-print" },
      h("h2", { id: "slips-title", tabindex: -1 }, `家长上传码：${codes.length} 名学生`),
      h("p", { class: "em" }, "上传码只显示这一次，关闭后无法再次查看。请现在打印（或“打印”→“另存为 PDF”），沿虚线裁开后发给家长。"),
      h("p", { class: "hint" }, `A4 纸，每页 ${SLIPS_PER_SHEET} 张，共 ${Math.ceil(codes.length / SLIPS_PER_SHEET)} 页。如有遗失，可为该生重新生成（旧码随即失效）。`),
      h("div", { class: "actions" }, printBtn, closeBtn)
    ),
    h("div", { class: "slips-sheets", id: "slips-sheets" }, sheets(codes, school))
  );
  const onKey = (e) => e.key === "Escape" && closeBtn.click();
  const onUnload = (e) => {
    e.preventDefault();
    e.returnValue = "";
  };
  closeBtn.addEventListener("click", () => {
    if (!confirm("关闭后将无法再次查看这些上传码。确定已打印并关闭吗？")) return;
    closeSlips();
  });
  document.addEventListener("keydown", onKey);
  window.addEventListener("beforeunload", onUnload);
  document.body.append(view);
  document.body.classList.add("has-slips");
  openView = {
    view,
    cleanup() {
      document.removeEventListener("keydown", onKey);
      window.removeEventListener("beforeunload", onUnload);
    },
  };
  view.querySelector("#slips-title").focus();
  return view;
}

export function closeSlips() {
  if (!openView) return;
  openView.cleanup();
  openView.view.remove();
  document.body.classList.remove("has-slips");
  openView = null;
}

/**
 * The roster's 家长上传码 button and its dialog. `getScope()` → { selected: [ids], class: str,
 * total: n, classCount: n } from the roster's current state.
 */
export function slipsButton(ctx, getScope) {
  const dialog = h("dialog", { id: "slips-dialog", class: "slips-dialog", "aria-labelledby": "slips-dialog-title" });
  const button = h("button", { type: "button", id: "parent-codes", "aria-haspopup": "dialog" }, "家长上传码");
  dialog.addEventListener("close", () => dialog.replaceChildren()); // nothing of a closed dialog lingers in the page
  button.addEventListener("click", () => {
    const s = getScope();
    const choice = (value, text, n, disabled) =>
      h(
        "div",
        { class: "policy-choice" },
        h("input", { type: "radio", name: "slips-scope", id: `slips-scope-${value}`, value, disabled: disabled || n === 0 }),
        h("label", { for: `slips-scope-${value}` }, `${text}（${n} 人）`)
      );
    const err = h("p", { class: "form-error", role: "alert", id: "slips-error" });
    const ok = h("button", { type: "submit", class: "primary", id: "slips-ok" }, "生成并打印");
    const form = h(
      "form",
      { method: "dialog", novalidate: true },
      h("h2", { id: "slips-dialog-title" }, "生成家长上传码"),
      h("p", {}, "每位学生一个上传码，家长凭学籍副号和上传码在手机上为孩子上传照片、查看审核结果。"),
      h(
        "fieldset",
        { class: "policy" },
        h("legend", {}, "为哪些学生生成"),
        choice("selected", "勾选的学生", s.selected.length),
        choice("class", s.class ? `当前班级 ${s.class}` : "当前班级（请先在“班级”中选择）", s.class ? s.classCount : 0, !s.class),
        choice("school", "全校学生", s.total)
      ),
      h("p", { class: "em warn-text", id: "slips-warning" }, "注意：已生成过上传码的学生将得到新的上传码，之前打印发放的上传码随即失效，家长需使用新的上传码登录。"),
      err,
      h("div", { class: "actions" }, ok, h("button", { type: "button", id: "slips-cancel", onclick: () => dialog.close() }, "取消"))
    );
    const first = form.querySelector("input[name=slips-scope]:not(:disabled)");
    if (first) first.checked = true;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      err.textContent = "";
      const scope = (form.querySelector("input[name=slips-scope]:checked") || {}).value;
      const body = scope === "selected" ? { student_ids: s.selected } : scope === "class" ? { class: s.class } : scope === "school" ? {} : null;
      if (!body) {
        err.textContent = "请选择为哪些学生生成";
        return;
      }
      ok.disabled = true;
      ok.textContent = "正在生成…";
      try {
        const res = await api("/api/school/parent-codes", { method: "POST", role: "school", body });
        dialog.close();
        showSlips(res, ctx.school ? { name: ctx.school.name, district: ctx.school.district, stage_label: ctx.school.stage_label } : {});
        say(`已为 ${res.codes.length} 名学生生成家长上传码`);
      } catch (e) {
        if (e.status === 401) return dialog.close();
        err.textContent = e.message;
      } finally {
        ok.disabled = false;
        ok.textContent = "生成并打印";
      }
    });
    replace(dialog, form);
    if (!dialog.isConnected) ctx.main.append(dialog);
    dialog.showModal();
  });
  return { button, dialog };
}
