// The teacher's page (学校入口): a small hash router over the seed manual's screens.
//   #login → #terms (使用须知) → #register → #info (学校信息) → #students (学生信息列表)
//   #rules (上传须知), #batch (批量上传), #crop (裁剪助手)
import { api, session, setHooks } from "./api.js";
import { h, replace, initChrome, say, fieldError, statusChip, STATUS_ORDER, STAGE, samplePhoto } from "./ui.js";
import { PHOTO_RULES, PASSWORD_RULE, USERNAME_RULE } from "./text.js";
import { studentsView } from "./students.js";
import { batchView } from "./batch.js";
import { cropView } from "./crop.js";
import { loginForm } from "./login.js";
import { termsView as showTerms } from "./terms.js";

const ROLE = "school";
const main = document.getElementById("main");
const PUBLIC = new Set(["login", "terms", "register"]);
const AGREED = "gradphoto.agreed";

/** Shared state and helpers handed to every view. */
export const ctx = {
  main,
  school: null,
  students: null, // last roster from GET /api/students
  cleanups: [],
  go(view, params = "") {
    const target = "#" + view + (params ? "?" + params : "");
    if (location.hash === target) render();
    else location.hash = target;
  },
  async loadSchool() {
    ctx.school = await api("/api/school", { role: ROLE });
    renderAccount();
    return ctx.school;
  },
  async loadStudents() {
    const res = await api("/api/students", { role: ROLE });
    ctx.students = res.students;
    return ctx.students;
  },
  /** 学籍副号 → record, from the last roster load. */
  rosterMap() {
    return new Map((ctx.students || []).map((s) => [s.student_id, s]));
  },
  onLeave(fn) {
    ctx.cleanups.push(fn);
  },
  limits() {
    // The server's own limits when it tells them (GET /api/school), else PHOTO_RULES.md's.
    const s = ctx.school || {};
    const out = {};
    if (s.max_upload_bytes) out.maxBytes = s.max_upload_bytes;
    if (s.photo_width) out.width = s.photo_width;
    if (s.photo_height) out.height = s.photo_height;
    return out;
  },
};

function parseHash() {
  const raw = location.hash.replace(/^#/, "");
  const [view, query = ""] = raw.split("?");
  return { view: view || "", params: new URLSearchParams(query) };
}

async function render() {
  for (const fn of ctx.cleanups.splice(0)) fn();
  let { view, params } = parseHash();
  const loggedIn = !!session.get(ROLE);
  if (!view) view = loggedIn ? "info" : "login";
  if (!PUBLIC.has(view) && !loggedIn) view = "login";
  document.getElementById("side").hidden = !loggedIn || PUBLIC.has(view);
  for (const a of document.querySelectorAll("#side a")) {
    if (a.dataset.view === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const views = { login: loginView, terms: termsView, register: registerView, info: infoView, students: studentsView, rules: rulesView, batch: batchView, crop: cropView };
  const fn = views[view] || loginView;
  main.replaceChildren(h("p", { class: "loading" }, "正在加载…"));
  try {
    if (!PUBLIC.has(view) && !ctx.school) await ctx.loadSchool();
    await fn(ctx, params);
  } catch (e) {
    if (e.status === 401) return; // onUnauthenticated already moved us to the login
    if (e.code === "window_closed") {
      replace(
        main,
        h("h1", {}, "暂时无法操作"),
        h("p", { class: "error", role: "alert", id: "closed-message" }, e.message),
        h("p", {}, "已上传的照片不受影响，请在开放时间内再登录操作。")
      );
    } else {
      replace(main, h("h1", {}, "出错了"), h("p", { class: "error", role: "alert" }, e.message || String(e)));
    }
  }
  const heading = main.querySelector("h1");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
    document.title = heading.textContent + " - 毕业照片采集";
  }
}

function renderAccount() {
  const el = document.getElementById("account");
  if (!ctx.school || !session.get(ROLE)) {
    el.replaceChildren();
    return;
  }
  replace(
    el,
    h("span", { class: "who" }, `${ctx.school.name}（${ctx.school.stage_label || STAGE[ctx.school.stage] || ""}）· ${ctx.school.username}`),
    h("button", { type: "button", class: "link", onclick: logout }, "退出")
  );
}

function logout() {
  session.clear(ROLE);
  ctx.school = null;
  ctx.students = null;
  renderAccount();
  ctx.go("login");
}

// ---------------------------------------------------------------- login
async function loginView() {
  const form = loginForm({
    roles: [ROLE],
    onSuccess() {
      ctx.school = null;
      ctx.go("info");
    },
    extra: h("p", { class: "hint" }, "首次登录，请先 ", h("a", { href: "#terms", id: "to-register" }, "注册"), "（需要区县下发的注册码）。"),
  });
  replace(main, h("h1", {}, "学校登录"), form);
}

// ---------------------------------------------------------------- 使用须知
function termsView() {
  return showTerms({ main, agreedKey: AGREED, onAgree: () => ctx.go("register") });
}

// ---------------------------------------------------------------- 注册
async function registerView() {
  if (!sessionStorage.getItem(AGREED)) {
    ctx.go("terms");
    return;
  }
  const code = h("input", { id: "reg-code", name: "code", autocomplete: "off", required: true, spellcheck: "false" });
  const verifyBtn = h("button", { type: "submit" }, "提交验证");
  const verifyErr = h("p", { class: "form-error", role: "alert" });
  const found = h("div", { id: "reg-school", "aria-live": "polite" });
  const step2 = h("div", { id: "reg-step2", hidden: true });
  let verifiedCode = null;

  const codeForm = h(
    "form",
    { class: "card narrow", novalidate: true },
    h("h2", {}, "第一步：输入注册码"),
    h("div", { class: "field" }, h("label", { for: "reg-code" }, "注册码"), code, h("p", { class: "hint", id: "reg-code-hint" }, "由区县下发。同一学校的不同学段（如九年一贯制学校、完中）各有不同的注册码，需分别注册。")),
    verifyErr,
    h("div", { class: "actions" }, verifyBtn),
    found
  );
  code.setAttribute("aria-describedby", "reg-code-hint");
  codeForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    verifyErr.textContent = "";
    found.replaceChildren();
    step2.hidden = true;
    if (!code.value.trim()) {
      verifyErr.textContent = "请输入注册码";
      return;
    }
    verifyBtn.disabled = true;
    try {
      const r = await api("/api/registration/verify", { method: "POST", body: { code: code.value.trim() } });
      verifiedCode = code.value.trim();
      replace(
        found,
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "区县"),
          h("dd", { id: "reg-district" }, r.district),
          h("dt", {}, "学校"),
          h("dd", { id: "reg-school-name" }, r.school),
          h("dt", {}, "学段"),
          h("dd", {}, r.stage_label || STAGE[r.stage] || r.stage)
        ),
        h("p", { class: "hint" }, "请核对区县和学校名称，无误后设置用户名和密码。")
      );
      step2.hidden = false;
      user.focus();
    } catch (e) {
      verifyErr.textContent = e.message;
    } finally {
      verifyBtn.disabled = false;
    }
  });

  const user = h("input", { id: "reg-user", name: "username", autocomplete: "username", required: true, "aria-describedby": "reg-user-rule" });
  const pass = h("input", { id: "reg-pass", name: "password", type: "password", autocomplete: "new-password", required: true, "aria-describedby": "reg-pass-rule" });
  const pass2 = h("input", { id: "reg-pass2", name: "password2", type: "password", autocomplete: "new-password", required: true });
  const regErr = h("p", { class: "form-error", role: "alert" });
  const regBtn = h("button", { type: "submit", class: "primary" }, "注册");
  const regForm = h(
    "form",
    { class: "card narrow", novalidate: true },
    h("h2", {}, "第二步：设置用户名和密码"),
    h("div", { class: "field" }, h("label", { for: "reg-user" }, "用户名"), user, h("p", { class: "hint", id: "reg-user-rule" }, USERNAME_RULE)),
    h("div", { class: "field" }, h("label", { for: "reg-pass" }, "密码"), pass, h("p", { class: "hint rule", id: "reg-pass-rule" }, PASSWORD_RULE)),
    h("div", { class: "field" }, h("label", { for: "reg-pass2" }, "再次输入密码"), pass2),
    regErr,
    h("div", { class: "actions" }, regBtn)
  );
  step2.append(regForm);
  regForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    regErr.textContent = "";
    fieldError(pass, "");
    fieldError(pass2, "");
    const pw = pass.value;
    if (pw.length < 6 || !/[A-Za-z\p{L}]/u.test(pw) || !/[0-9]/.test(pw)) {
      fieldError(pass, `密码不符合要求：${PASSWORD_RULE}`);
      pass.focus();
      return;
    }
    if (pw !== pass2.value) {
      fieldError(pass2, "两次输入的密码不一致");
      pass2.focus();
      return;
    }
    regBtn.disabled = true;
    try {
      const r = await api("/api/registration", { method: "POST", body: { code: verifiedCode, username: user.value.trim(), password: pw } });
      session.set(ROLE, r.token);
      sessionStorage.removeItem(AGREED);
      ctx.school = null;
      ctx.go("info");
    } catch (e) {
      regErr.textContent = e.message;
    } finally {
      regBtn.disabled = false;
    }
  });

  replace(main, h("h1", {}, "学校注册"), codeForm, step2);
}

// ---------------------------------------------------------------- 学校信息
async function infoView() {
  const s = await ctx.loadSchool();
  const counts = s.counts || {};
  const total = STATUS_ORDER.reduce((n, k) => n + (counts[k] || 0), 0);
  replace(
    main,
    h("h1", {}, "学校信息"),
    h(
      "section",
      { class: "card" },
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "区县"),
        h("dd", { id: "info-district" }, s.district),
        h("dt", {}, "学校名称"),
        h("dd", { id: "info-school" }, s.name),
        h("dt", {}, "学段"),
        h("dd", {}, s.stage_label || STAGE[s.stage] || s.stage),
        h("dt", {}, "用户名"),
        h("dd", {}, s.username),
        h("dt", {}, "毕业生人数"),
        h("dd", {}, String(total))
      ),
      h("ul", { class: "counts", "aria-label": "上传状态统计" }, STATUS_ORDER.map((k) => h("li", {}, statusChip(k), h("span", { class: "count" }, String(counts[k] || 0))))),
      h("p", {}, "请核对以上学校信息。如确认无误，请进入“学生信息列表”上传照片；如有错误请联系区县。"),
      h("div", { class: "actions" }, h("a", { class: "button primary", href: "#students" }, "确认无误，进入学生信息列表"))
    )
  );
}

// ---------------------------------------------------------------- 上传须知
async function rulesView() {
  replace(
    main,
    h("h1", {}, "上传须知"),
    h(
      "section",
      { class: "card rules" },
      samplePhoto(),
      h(
        "div",
        {},
        h("h2", {}, "上传的照片要求"),
        h("ul", {}, PHOTO_RULES.map((r) => h("li", {}, r))),
        h("h2", {}, "文件命名与上传"),
        h(
          "ul",
          {},
          h("li", {}, "批量上传前，必须将学生照片文件名改为对应学生的学籍副号，例如 G310101.jpg。"),
          h("li", {}, "文件大小不超过 1 MB；每位学生的照片只能成功上传一次，审核未通过的可重新上传。"),
          h("li", {}, "照片尺寸不对时，请使用", h("a", { href: "#crop" }, "裁剪助手"), "按比例裁剪到 272×354，切勿拉伸。")
        ),
        h("div", { class: "actions" }, h("a", { class: "button primary", href: "#batch" }, "去批量上传"), h("a", { class: "button", href: "#students" }, "返回学生信息列表"))
      )
    )
  );
}

// ---------------------------------------------------------------- boot
setHooks({
  onUnauthenticated() {
    ctx.school = null;
    renderAccount();
    say("登录已失效，请重新登录", "error");
    ctx.go("login");
  },
});
window.addEventListener("hashchange", render);
initChrome();
render();
