// DOM helpers and the chrome every page shares (window banner, busy banner, helpdesk line).
// Untrusted strings (names, messages, file names) only ever reach the page as text nodes:
// `h()` turns every string child into a Text node and never touches innerHTML.
import { getWindow, setHooks, HELPDESK, BUSY_MESSAGE } from "./api.js";

/** The seed's sample photo with its caption (the teacher's and the parent's rules). */
export function samplePhoto() {
  return h(
    "figure",
    { class: "sample" },
    h("img", { src: "img/sample.jpg", width: 272, height: 354, alt: "示范照片：白色背景、正面免冠、头部居中的标准证件照" }),
    h("figcaption", {}, "示范照片：272×354 像素，300 DPI，白色背景，JPEG 格式")
  );
}

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k in el && typeof v !== "string") el[k] = v; // booleans and numbers: checked, disabled, value…
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);
/**
 * A file chooser that shows our own Chinese button instead of the browser's native control
 * (whose "Choose File / No file chosen" follows the browser's language, not the page's). The
 * input sits inside its label, visually hidden but still focusable, so the label's
 * `:has(input:focus-visible)` rule shows keyboard focus on the button a sighted user sees.
 * `nameText`: a line beside the button that says which file was chosen (null: none).
 */
export function filePicker({ id, text, extra = null, cls = "button", accept, multiple = false, directory = false, nameText = null }) {
  const input = h("input", { type: "file", id, accept, multiple, webkitdirectory: directory, class: "sr-only" });
  const label = h("label", { class: cls }, text, extra ? h("span", { class: "sr-only" }, extra) : null, input);
  if (nameText === null) return { label, input, name: null, el: label };
  const name = h("span", { class: "file-name hint", id: `${id}-name` }, nameText);
  input.setAttribute("aria-describedby", name.id);
  input.addEventListener("change", () => {
    const f = input.files[0];
    name.textContent = f ? (input.files.length > 1 ? `已选择 ${input.files.length} 个文件` : `已选择：${f.name}`) : nameText;
  });
  return { label, input, name, el: h("span", { class: "file-pick" }, label, name) };
}


export const STATUS = {
  not_uploaded: "未上传",
  uploaded: "已上传",
  pending_review: "待审核",
  approved: "已审核",
  rejected: "未通过审核",
};
export const STATUS_ORDER = Object.keys(STATUS);
export const STAGE = { primary: "小学", junior: "初中", senior: "高中" };

export function statusChip(status) {
  return h("span", { class: `chip chip-${status}`, dataset: { status } }, STATUS[status] || status);
}

export function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

/** A short message in the page's live region (screen readers announce it); fades after a while. */
let sayTimer = null;
export function say(text, kind = "info") {
  const box = document.getElementById("notice");
  if (!box) return;
  clearTimeout(sayTimer);
  replace(box, text ? h("p", { class: `notice notice-${kind}` }, text) : null);
  if (text) sayTimer = setTimeout(() => box.replaceChildren(), kind === "error" ? 10_000 : 4000);
}

/** Fills the banner, busy and helpdesk parts of the page. Call once per page. */
export async function initChrome({ windowed = true } = {}) {
  renderHelpdesk(HELPDESK);
  installBusyBanner();
  try {
    const w = await getWindow();
    renderHelpdesk(w.helpdesk && w.helpdesk.phone ? w.helpdesk : HELPDESK);
    if (windowed) renderWindow(w);
    return w;
  } catch (e) {
    if (windowed) renderWindow(null, e.message);
    return null;
  }
}

function renderHelpdesk(hd) {
  const el = document.getElementById("helpdesk");
  if (!el) return;
  replace(
    el,
    h("span", {}, "如在系统操作过程中遇到问题，请在"),
    h("span", { class: "hd-hours" }, hd.hours || HELPDESK.hours),
    h("span", {}, "拨打客服热线 "),
    h("a", { class: "hd-phone", href: `tel:${String(hd.phone || HELPDESK.phone).split(/[\s/]+/)[0]}` }, hd.phone || HELPDESK.phone),
    h("span", {}, " 进行咨询。")
  );
}

/** The campaign window: open, not started, maintenance until …, ended. */
export function renderWindow(w, errorText) {
  const el = document.getElementById("window-banner");
  if (!el) return;
  if (!w) {
    replace(el, h("p", { class: "banner banner-closed" }, errorText || "暂时无法获取开放时间"));
    return;
  }
  const phaseText = { open: "照片上传开放中", maintenance: "系统维护时间", not_started: "照片上传尚未开始", ended: "照片上传已结束" }[w.phase] || "";
  const c = w.campaign;
  const lines = [h("strong", { class: "phase" }, phaseText ? `${phaseText}：` : ""), h("span", { class: "window-message" }, w.message || "")];
  if (c) {
    lines.push(
      h(
        "span",
        { class: "window-dates" },
        `（${c.name ? c.name + "，" : ""}上传时间 ${c.starts_on} 至 ${c.ends_on}，每天 ${c.daily_open}–${c.daily_close} 开放）`
      )
    );
  }
  el.dataset.phase = w.phase;
  replace(el, h("p", { class: `banner banner-${w.open ? "open" : "closed"}`, dataset: { phase: w.phase } }, lines));
}

/** A 403 window_closed answer: show its message in the banner without another request. */
export function showWindowClosed(message) {
  const el = document.getElementById("window-banner");
  if (!el) return;
  el.dataset.phase = "closed";
  replace(el, h("p", { class: "banner banner-closed", dataset: { phase: "closed" } }, h("span", { class: "window-message" }, message)));
}

let busyTimer = null;
function installBusyBanner() {
  setHooks({
    onBusy(state) {
      const el = document.getElementById("busy-banner");
      if (!el) return;
      clearInterval(busyTimer);
      if (!state) {
        el.hidden = true;
        return;
      }
      const tick = () => {
        const s = Math.max(0, Math.ceil((state.until - Date.now()) / 1000));
        replace(el, h("p", { class: "banner banner-busy" }, h("span", { class: "busy-message" }, BUSY_MESSAGE), h("span", { class: "busy-wait" }, `（${s} 秒后自动重试）`)));
      };
      tick();
      el.hidden = false;
      busyTimer = setInterval(tick, 1000);
    },
    onWindowClosed(err) {
      showWindowClosed(err.message);
    },
  });
}

/** Visible field error tied to its input for assistive technology. */
export function fieldError(input, text) {
  const id = input.id + "-error";
  let el = document.getElementById(id);
  if (!el) {
    el = h("p", { id, class: "field-error", role: "alert" });
    (input.closest(".field") || input.parentElement).append(el);
  }
  el.textContent = text || "";
  if (text) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), id].filter(Boolean).join(" ").split(" ").filter((v, i, a) => a.indexOf(v) === i).join(" "));
}
