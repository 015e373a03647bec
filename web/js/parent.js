// 家长入口 (parent.html): a parent, on a phone and often inside a chat app's browser, uploads and
// follows their own child's photo with the 学籍副号 and the personal 上传码 from the school's slip.
//   #terms (使用须知: 我同意 / 我不同意) → #login (学籍副号 + 上传码) → #home (the child, the
//   status in plain Chinese, the photo, the rules and sample, upload or appeal) · #crop (裁剪助手)
// Only plain DOM, fetch and XMLHttpRequest: nothing an in-app browser may lack.
import { api, session, setHooks, ApiError } from "./api.js";
import { h, replace, initChrome, say, statusChip, formatTime, filePicker, STATUS, samplePhoto } from "./ui.js";
import { PHOTO_RULES } from "./text.js";
import { checkPhotoFile, onlyGeometry, PHOTO } from "./filecheck.js";
import { put, UploadError } from "./upload.js";
import { cropView } from "./crop.js";
import { autoCrop, findingsList } from "./autocrop.js";
import { termsView as showTerms } from "./terms.js";
import { appealForm } from "./appeal.js";

const ROLE = "parent";
const AGREED = "gradphoto.parent.agreed";
const main = document.getElementById("main");
const MAY_UPLOAD = new Set(["not_uploaded", "rejected"]);
const FINAL = new Set(["pending_review", "approved", "rejected"]);
export { APPEAL_NOTE_MAX } from "./appeal.js";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let child = null; // GET /api/parent/student
let cleanups = [];
let nameShown = false;
let choice = 0; // the parent's latest chosen file: what is still working for an earlier one is dropped

/** 张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明: enough for a parent to recognise, not a stranger. */
export function maskName(name) {
  const c = [...String(name || "")];
  if (c.length <= 1) return "*";
  if (c.length === 2) return c[0] + "*";
  return c[0] + "*".repeat(c.length - 2) + c[c.length - 1];
}

/** What the parent typed → "ABCDE-23456" as they type (any case, spaces and dashes ignored). */
export function formatCodeInput(v) {
  const c = String(v).toUpperCase().replace(/[^0-9A-Z]/g, "").slice(0, 10);
  return c.length > 5 ? `${c.slice(0, 5)}-${c.slice(5)}` : c;
}

function go(view) {
  if (location.hash === "#" + view) render();
  else location.hash = view;
}

// ---------------------------------------------------------------- router
async function render() {
  for (const fn of cleanups.splice(0)) fn();
  let view = location.hash.replace(/^#/, "").split("?")[0];
  const loggedIn = !!session.get(ROLE);
  if (loggedIn && (view === "" || view === "terms" || view === "login")) view = "home";
  if (!loggedIn && view !== "terms" && view !== "login") view = "login";
  if (!loggedIn && view === "login" && !sessionStorage.getItem(AGREED)) view = "terms";
  renderAccount();
  const views = { terms: termsView, login: loginView, home: homeView, crop: cropHelperView };
  main.replaceChildren(h("p", { class: "loading" }, "正在加载…"));
  try {
    await views[view]();
  } catch (e) {
    if (e.status === 401) return; // the hook moved us to the login
    showRefusal(e);
  }
  const heading = main.querySelector("h1");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
    document.title = heading.textContent + " - 家长入口 - 毕业照片采集";
  }
  window.scrollTo(0, 0);
}

/** A refusal that ends what the parent can do for now, in words they can act on. */
function showRefusal(e) {
  const known = {
    window_closed: ["暂时无法上传", "已上传的照片不受影响，请在开放时间内再登录查看或上传。"],
    parents_disabled: ["家长上传未开放", "本次采集由学校老师统一上传照片，请联系孩子的班主任。"],
  }[e.code];
  if (known) {
    replace(main, h("h1", {}, known[0]), h("p", { class: "error", role: "alert", id: "refusal", dataset: { code: e.code } }, e.message), h("p", {}, known[1]), helpLine());
  } else {
    replace(main, h("h1", {}, "出错了"), h("p", { class: "error", role: "alert", id: "refusal", dataset: { code: e.code || "" } }, e.message || String(e)), h("div", { class: "actions" }, h("button", { type: "button", onclick: render }, "重试")), helpLine());
  }
}

function helpLine() {
  return h("p", { class: "hint" }, "如有疑问，请联系孩子的班主任，或拨打页面下方的客服热线。");
}

function renderAccount() {
  const el = document.getElementById("account");
  if (!session.get(ROLE) || !child) return el.replaceChildren();
  replace(el, h("span", { class: "who" }, `家长 · ${maskName(child.name)}`), h("button", { type: "button", class: "link", id: "logout", onclick: logout }, "退出"));
}

function logout() {
  session.clear(ROLE);
  child = null;
  nameShown = false;
  renderAccount();
  go("login");
}

// ---------------------------------------------------------------- 使用须知
function termsView() {
  return showTerms({
    main,
    agreedKey: AGREED,
    onAgree: () => go("login"),
    ownNotes: [
      "为确保系统的正常运行，每位学生的照片只允许成功上传一次，请家长确保所上传照片的准确、有效。",
      "家长成功上传学生照片后，可登录平台查看成功上传的学生照片，但在审核前无法进行修改和重新上传。",
    ],
  });
}

// ---------------------------------------------------------------- login
async function loginView() {
  const sid = h("input", { id: "p-sid", name: "student_id", autocomplete: "off", autocapitalize: "off", spellcheck: "false", required: true, "aria-describedby": "p-sid-hint" });
  const code = h("input", { id: "p-code", name: "code", autocomplete: "off", autocapitalize: "characters", spellcheck: "false", required: true, maxlength: 11, class: "code-input", placeholder: "XXXXX-XXXXX", "aria-describedby": "p-code-hint" });
  code.addEventListener("input", () => (code.value = formatCodeInput(code.value)));
  const err = h("p", { class: "form-error", role: "alert", id: "p-login-error" });
  const submit = h("button", { type: "submit", class: "primary wide" }, "登录");
  const form = h(
    "form",
    { class: "card narrow", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "p-sid" }, "学籍副号"), sid, h("p", { class: "hint", id: "p-sid-hint" }, "见学校发放的通知条，例如 G20260001。")),
    h("div", { class: "field" }, h("label", { for: "p-code" }, "上传码"), code, h("p", { class: "hint", id: "p-code-hint" }, "10 位字母和数字，不区分大小写，可不输入中间的横线。")),
    err,
    h("div", { class: "actions" }, submit)
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    const id = sid.value.trim();
    const c = code.value.replace(/[^0-9A-Za-z]/g, "");
    if (!id || !c) {
      err.textContent = "请输入学籍副号和上传码";
      return;
    }
    submit.disabled = true;
    submit.textContent = "正在登录…";
    try {
      const res = await api("/api/parent/sessions", { method: "POST", body: { student_id: id, code: c } });
      session.set(ROLE, res.token);
      child = res.student || null;
      nameShown = false;
      go("home");
    } catch (e) {
      err.dataset.code = e.code || "";
      if (e.code === "bad_credentials") err.textContent = `${e.message}。请核对通知条上的学籍副号和上传码；如学校重新发放过上传码，请使用最新的一张。`;
      else if (e.code === "parents_disabled") err.textContent = `${e.message}。照片将由学校老师上传，请联系孩子的班主任。`;
      else err.textContent = e.message;
    } finally {
      submit.disabled = false;
      submit.textContent = "登录";
    }
  });
  replace(
    main,
    h("h1", {}, "家长登录"),
    h("p", {}, "请输入学校发放的通知条上的学籍副号和上传码。"),
    form,
    h("p", { class: "hint" }, "上传码仅用于本学生的照片，请勿转发他人。连续输错多次将暂停登录一段时间。"),
    helpLine()
  );
  sid.focus();
}

// ---------------------------------------------------------------- the child
const EXPLAIN = {
  not_uploaded: "还没有上传照片。请阅读下方的照片要求，选择符合要求的照片上传。",
  uploaded: "照片已收到，正在自动检查，请稍候…",
  pending_review: "照片已通过自动检查，正在等待审核员审核。",
  approved: "照片已审核通过，将用于制作毕业证书，无需其他操作。",
  rejected: "照片未通过审核，原因如下。请按要求重新准备照片后再次上传。",
};

async function loadChild() {
  child = await api("/api/parent/student", { role: ROLE });
  renderAccount();
  return child;
}

async function homeView() {
  const s = await loadChild();
  const nameEl = h("span", { id: "child-name", class: "child-name" }, nameShown ? s.name : maskName(s.name));
  const toggle = h("button", { type: "button", class: "link small", id: "show-name", "aria-pressed": String(nameShown), "aria-controls": "child-name" }, nameShown ? "隐藏" : "显示");
  toggle.addEventListener("click", () => {
    nameShown = !nameShown;
    nameEl.textContent = nameShown ? s.name : maskName(s.name);
    toggle.textContent = nameShown ? "隐藏" : "显示";
    toggle.setAttribute("aria-pressed", String(nameShown));
  });
  const childCard = h(
    "section",
    { class: "card", "aria-labelledby": "child-title" },
    h("h2", { id: "child-title" }, "学生信息"),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "学校"),
      h("dd", { id: "child-school" }, `${s.school || ""}${s.stage_label ? `（${s.stage_label}）` : ""}`),
      h("dt", {}, "班级"),
      h("dd", { id: "child-class" }, s.class),
      h("dt", {}, "姓名"),
      h("dd", {}, nameEl, " ", toggle),
      h("dt", {}, "学籍副号"),
      h("dd", { id: "child-id" }, s.student_id)
    ),
    h("p", { class: "hint" }, "请核对是否为您的孩子；如信息有误，请联系班主任。")
  );
  replace(main, h("h1", {}, "孩子的毕业照片"), childCard, statusCard(s), MAY_UPLOAD.has(s.status) ? uploadCard(s) : rulesCard(s, false), helpLine());
  if (s.status === "uploaded") waitForCheck(s);
}

function statusCard(s) {
  const by = s.uploaded_by === "school" ? "照片由学校老师上传。" : s.uploaded_by === "parent" ? "照片由家长上传。" : "";
  const reasons = s.reasons && s.reasons.length ? h("ul", { class: s.status === "rejected" ? "reasons" : "reasons soft", id: "child-reasons" }, s.reasons.map((r) => h("li", { dataset: { code: r.code } }, r.message))) : null;
  const flags = Array.isArray(s.flags) && s.flags.length && s.status !== "rejected" ? h("ul", { class: "reasons soft" }, s.flags.map((r) => h("li", { dataset: { code: r.code } }, r.message))) : null;
  let why = null;
  if (s.status === "pending_review" || s.status === "uploaded") {
    why = h(
      "p",
      { class: "why", id: "why-no-change" },
      "审核前不能修改或重新上传：为确保系统正常运行、防止重复上传，每位学生的照片只允许成功上传一次。审核结果出来后请再登录查看；如未通过，届时可以重新上传。"
    );
  }
  const photo = s.photo_url
    ? h("figure", { class: "child-photo" }, h("img", { id: "child-photo", src: s.photo_url, width: PHOTO.width, height: PHOTO.height, alt: "已上传的照片" }), h("figcaption", {}, s.uploaded_at ? `上传时间：${formatTime(s.uploaded_at)}` : "已上传的照片"))
    : null;
  const appealState = s.appeal && s.status === "pending_review" ? h("p", { class: "appeal-state", id: "appeal-state" }, "已申请人工复核", s.appeal.at ? ` ${formatTime(s.appeal.at)}` : "", "，请等待审核员确认。") : null;
  const card = h(
    "section",
    { class: "card status-card", id: "status-card", dataset: { status: s.status }, "aria-labelledby": "status-title", "aria-live": "polite" },
    h("h2", { id: "status-title" }, "照片状态：", statusChip(s.status)),
    h("p", { id: "status-text" }, EXPLAIN[s.status] || s.status_label || STATUS[s.status] || s.status),
    appealState,
    reasons,
    flags,
    by ? h("p", { class: "hint", id: "uploaded-by" }, by) : null,
    why,
    photo,
    s.appealable ? appealBox(s) : null
  );
  return card;
}

/** 申请人工复核, inline (no modal: in-app browsers differ in how they show dialogs). */
function appealBox(s) {
  const box = h("div", { class: "appeal-box", id: "appeal-box" });
  const open = h("button", { type: "button", class: "appeal", id: "appeal-open", "aria-expanded": "false", "aria-controls": "appeal-form" }, "申请人工复核");
  const { form, note } = appealForm({
    attrs: { id: "appeal-form", hidden: true },
    intro: h("p", { class: "em" }, "如果您认为照片符合要求、是自动检查判断有误，可以申请由审核员人工复核。每张照片只能申请一次，复核期间不能重新上传。"),
    placeholder: "可选，例如：照片是照相馆拍摄的白色背景",
    okText: "提交复核申请",
    onCancel: () => ((form.hidden = true), open.setAttribute("aria-expanded", "false")),
    send: (text) => api("/api/parent/appeal", { method: "POST", role: ROLE, body: { photo_id: s.photo_id, note: text } }),
    onDone() {
      say("已申请人工复核");
      render();
    },
    onStale: () => setTimeout(render, 2500),
  });
  open.addEventListener("click", () => {
    form.hidden = false;
    open.setAttribute("aria-expanded", "true");
    note.focus();
  });
  box.append(h("p", {}, "觉得自动检查判断有误？"), open, form);
  return box;
}

function rulesBlock() {
  return h(
    "div",
    { class: "rules parent-rules" },
    samplePhoto(),
    h(
      "div",
      {},
      h("h3", {}, "照片要求"),
      h("ul", { class: "checklist", id: "photo-checklist" }, CHECKLIST.map((r) => h("li", {}, r))),
      h("details", { id: "rules-full" }, h("summary", {}, "查看完整的上传照片要求"), h("ul", { id: "photo-rules" }, PHOTO_RULES.map((r) => h("li", {}, r))))
    )
  );
}

// The rules a parent checks a photo against, short enough for a phone screen (the full text is one tap away).
const CHECKLIST = [
  "孩子本人近期的正面免冠证件照，建议到照相馆拍摄；",
  "白色背景，着装颜色不与背景相近，无佩饰（初三毕业生不戴红领巾）；",
  "272×354 像素，300 DPI 以上，JPEG 格式，不超过 1 MB；",
  "尺寸不对请按比例裁剪，切勿拉伸变形。",
];

/** When no upload is possible: the rules stay a tap away. */
function rulesCard() {
  return h("section", { class: "card" }, h("details", { id: "rules-details" }, h("summary", {}, "照片要求和示范照片"), rulesBlock()));
}

function uploadCard(s) {
  const pick = filePicker({ id: "parent-file", text: s.status === "rejected" ? "重新选择照片…" : "选择照片…", cls: "button primary", accept: ".jpg,.jpeg,image/jpeg", nameText: "尚未选择照片" });
  const result = h("div", { id: "upload-result", "aria-live": "polite" });
  pick.input.addEventListener("change", () => pick.input.files[0] && chosen(s, pick.input.files[0], result, pick.input));
  return h(
    "section",
    { class: "card", id: "upload-card", "aria-labelledby": "upload-title" },
    h("h2", { id: "upload-title" }, s.status === "rejected" ? "重新上传照片" : "上传照片"),
    rulesBlock(),
    h(
      "ul",
      { class: "upload-notes" },
      h("li", {}, "每位学生的照片只能成功上传一次，上传前请仔细核对照片。"),
      h("li", {}, "请尽量避开晚间等高峰时段上传。"),
      h("li", {}, "照片尺寸不对时，可用", h("a", { href: "#crop", id: "to-crop" }, "裁剪助手"), "按比例裁剪为 272×354，不会拉伸变形。")
    ),
    h("div", { class: "actions" }, pick.el),
    result
  );
}

async function chosen(s, file, result, input) {
  const mine = ++choice;
  replace(result, h("p", { class: "hint" }, "正在检查照片…"));
  const problem = await checkPhotoFile(file);
  const croppable = problem ? await onlyGeometry(file, problem) : false;
  if (mine !== choice) return;
  if (problem) {
    const fixable = croppable || problem.code === "low_dpi";
    // A larger original (the studio's file): the server proposes the crop right here.
    const offer = croppable ? h("div", { class: "card autocrop-offer", id: "parent-autocrop", "aria-live": "polite" }, h("p", { class: "loading" }, "正在自动裁剪这张照片…")) : null;
    replace(
      result,
      h("p", { class: "error", role: "alert", id: "precheck-error", dataset: { code: problem.code } }, problem.message),
      offer,
      fixable ? h("p", {}, h("a", { class: "button", href: "#crop" }, "用裁剪助手调整")) : h("p", { class: "hint" }, "照片没有上传，请换一张符合要求的照片。")
    );
    input.value = "";
    if (offer) offerAutoCrop(s, file, { box: offer, result, input, mine });
    return;
  }
  const url = URL.createObjectURL(file);
  cleanups.push(() => URL.revokeObjectURL(url));
  confirmStep(s, file, { result, input, url, autoCropped: false });
}

/** 自动裁剪 for the parent: before and after, what a crop cannot fix, and one button to use it. */
async function offerAutoCrop(s, file, { box, result, input, mine }) {
  let r;
  try {
    r = await autoCrop(file, { role: ROLE });
  } catch (e) {
    if (mine !== choice) return;
    replace(box, h("p", { class: e.refused ? "error" : "hint", id: "autocrop-error", dataset: { code: e.code || "" } }, `无法自动裁剪：${e.message}`), h("p", { class: "hint" }, "可以用裁剪助手手动调整，或换一张照片。"));
    return;
  }
  if (mine !== choice) return;
  const before = URL.createObjectURL(r.thumb);
  const after = URL.createObjectURL(r.blob);
  cleanups.push(() => (URL.revokeObjectURL(before), URL.revokeObjectURL(after)));
  const use = h("button", { type: "button", class: "primary wide", id: "use-autocrop" }, "使用裁剪后的照片");
  use.addEventListener("click", () => confirmStep(s, r.blob, { result, input, url: after, autoCropped: true }));
  const fig = (src, id, caption) => h("figure", {}, h("img", { src, id, alt: caption }), h("figcaption", {}, caption));
  replace(
    box,
    h("h3", {}, "可自动裁剪"),
    h("p", {}, `系统已按照片要求把这张 ${r.width}×${r.height} 的照片裁剪为 272×354（只按比例裁剪和缩放，不会拉伸变形）。请核对裁剪后的照片：`),
    h("div", { class: "before-after" }, fig(before, "autocrop-before", "原图（框内为保留部分）"), fig(after, "autocrop-after", "裁剪后 272×354")),
    r.findings.length ? [h("p", { class: "em" }, "自动检查还发现以下问题，裁剪无法解决，建议换一张照片："), findingsList(r.findings, { id: "autocrop-findings" })] : null,
    h("div", { class: "actions" }, use)
  );
}

/** The photo about to go, one more look, and the upload. `autoCropped`: an unmodified suggestion. */
function confirmStep(s, file, { result, input, url, autoCropped }) {
  const confirmBtn = h("button", { type: "button", class: "primary wide", id: "parent-upload" }, "确认无误，上传");
  const cancel = h("button", { type: "button", id: "parent-cancel" }, "换一张");
  cancel.addEventListener("click", () => {
    input.value = "";
    result.replaceChildren();
    input.dispatchEvent(new Event("change"));
  });
  replace(
    result,
    h("figure", { class: "child-photo" }, h("img", { src: url, width: PHOTO.width, height: PHOTO.height, alt: "将要上传的照片", id: "upload-preview" }), h("figcaption", {}, autoCropped ? "将要上传的照片（已自动裁剪）" : "将要上传的照片")),
    h("p", { class: "em" }, "请再核对一次：是孩子本人近期的正面免冠证件照、白色背景、无佩饰。上传成功后，审核前不能修改。"),
    h("div", { class: "actions" }, confirmBtn, cancel)
  );
  confirmBtn.addEventListener("click", async () => {
    confirmBtn.disabled = true;
    cancel.disabled = true;
    const bar = h("progress", { max: file.size, value: 0, "aria-label": "上传进度" });
    const text = h("span", { id: "upload-phase" }, "正在申请上传…");
    replace(result, bar, " ", text);
    try {
      const { final } = await parentUploadOne(s, file, {
        autoCropped,
        onProgress: (l) => (bar.value = l),
        onPhase: (p) => (text.textContent = { presign: "正在申请上传…", put: "正在发送照片…", check: "已发送，正在自动检查…" }[p]),
      });
      say(final ? "照片已上传" : "照片已发送，自动检查尚未完成");
      render();
    } catch (e) {
      if (e.status === 401) return;
      replace(result, h("p", { class: "error", role: "alert", id: "upload-error", dataset: { code: e.code || "" } }, `上传失败：${e.message}`));
      input.value = "";
      if (e.code === "already_uploaded") setTimeout(render, 2500);
    }
  });
}

// ---------------------------------------------------------------- upload (parent routes)
/** `autoCropped`: the photo is an unmodified crop suggestion (sent only when true, as upload.js does). */
async function presign(size, { autoCropped = false } = {}) {
  const body = { size, content_type: "image/jpeg" };
  if (autoCropped) body.auto_cropped = true;
  try {
    const res = await api("/api/parent/uploads", { method: "POST", role: ROLE, body });
    if (!res || !res.upload) throw new UploadError("no_grant", "服务器没有返回上传地址，请稍后重试", true);
    return res.upload;
  } catch (e) {
    if (e instanceof ApiError) {
      const err = new UploadError(e.code, e.message, e.code === "network" || e.code === "busy" || e.status >= 500);
      err.status = e.status;
      throw err;
    }
    throw e;
  }
}

/** Polls GET /api/parent/student until the check has decided a photo newer than `before`'s. */
async function pollChild(before, { timeoutMs = 180_000, isCancelled = () => false } = {}) {
  const start = Date.now();
  let delay = 700;
  let last = null;
  while (!isCancelled()) {
    last = await api("/api/parent/student", { role: ROLE });
    const fresh = !before || last.photo_id !== before.photo_id || last.uploaded_at !== before.uploaded_at || last.status !== before.status;
    if (FINAL.has(last.status) && fresh) return { record: last, final: true };
    if (Date.now() - start > timeoutMs) break;
    await sleep(delay);
    delay = Math.min(delay * 1.5, 5000);
  }
  return { record: last, final: false };
}

/** Presign → PUT (one fresh presign if the URL was refused) → wait for the check. Same shape as upload.js's uploadOne. */
export async function parentUploadOne(student, blob, { onProgress = () => {}, onPhase = () => {}, autoCropped = false } = {}) {
  onPhase("presign");
  let grant = await presign(blob.size, { autoCropped });
  onPhase("put");
  try {
    await put(grant, blob, onProgress);
  } catch (e) {
    if (!(e instanceof UploadError) || !e.retryable || e.code === "network") throw e;
    grant = await presign(blob.size, { autoCropped });
    await put(grant, blob, onProgress);
  }
  onPhase("check");
  return pollChild(student);
}

/** A photo still in `uploaded` when the page opens: refresh once the check has run. */
function waitForCheck(s) {
  let cancelled = false;
  cleanups.push(() => (cancelled = true));
  pollChild(s, { timeoutMs: 120_000, isCancelled: () => cancelled })
    .then(({ final }) => !cancelled && final && render())
    .catch(() => {});
}

// ---------------------------------------------------------------- 裁剪助手
async function cropHelperView() {
  const s = child || (await loadChild());
  const box = h("div", { class: "parent-crop" });
  replace(main, h("p", {}, h("a", { href: "#home", id: "back-home" }, "‹ 返回")), box);
  const masked = { ...s, name: maskName(s.name) };
  const cctx = {
    main: box,
    role: ROLE, // the crop suggestion is asked for with the parent's token
    students: [masked],
    async loadStudents() {
      return cctx.students;
    },
    limits: () => ({}),
    async uploadOne(student, blob, opts) {
      const r = await parentUploadOne(student, blob, opts);
      if (r.record) child = r.record.name ? r.record : child;
      return r;
    },
  };
  await cropView(cctx, new URLSearchParams({ student: s.student_id }));
}

// ---------------------------------------------------------------- boot
setHooks({
  onUnauthenticated() {
    child = null;
    renderAccount();
    say("登录已失效（如学校重新发放了上传码，请使用新的上传码），请重新登录", "error");
    go("login");
  },
});
window.addEventListener("hashchange", render);
initChrome();
render();
