// 区县/市教委入口, for two kinds of account:
// - 市教委 (bureau): progress per school with registration codes, 催交名单 (chase list, by
//   district), each school's students, 重置账号 (a lost account: a new single-use code), ZIP
//   export, the campaign's dates and hours and its review policy (审核策略), school import (shows
//   the registration codes to hand out), roster import (per-line errors), reviewer and district
//   accounts, and 撤回已通过照片 (reopen an approved photo found wrong later).
// - 区县 (district): the same progress, codes, chase list, students, reset and export, for its
//   own district's schools only; campaign settings, imports, accounts and reopen are not shown
//   (the server answers 403 to a district there anyway).
// Both start with 概览 (dashboard.js): headline numbers, the projection and charts; its clicks
// reuse this page's school list (known) and its students section (openSchool).
import { api, session, setHooks, getWindow, download } from "./api.js";
import { h, replace, initChrome, renderWindow, say, filePicker, statusChip, formatTime, STATUS, STATUS_ORDER, STAGE } from "./ui.js";
import { loginForm } from "./login.js";
import { explain, UPLOADER } from "./students.js";
import { PASSWORD_RULE, USERNAME_RULE } from "./text.js";
import { dashboardSection } from "./dashboard.js";

const ROLES = ["bureau", "district"];
/** Which of the two roles this tab uses when both have a token (the last one logged in). */
const ACTIVE_KEY = "gradphoto.admin.role";
let ROLE = "bureau";
let DISTRICT = null; // a district account's district
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const main = document.getElementById("main");
const isDistrict = () => ROLE === "district";

function activeRole() {
  const pref = localStorage.getItem(ACTIVE_KEY);
  if (ROLES.includes(pref) && session.get(pref)) return pref;
  return ROLES.find((r) => session.get(r)) || null;
}

/** The district a token is scoped to, read from its claims (shown only; the server checks it). */
function tokenDistrict(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(part.padEnd(Math.ceil(part.length / 4) * 4, "="));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
    return typeof claims.district === "string" && claims.district ? claims.district : null;
  } catch {
    return null;
  }
}

function renderAccount(on) {
  const el = document.getElementById("account");
  if (!on) return el.replaceChildren();
  replace(
    el,
    h("span", { class: "who", id: "account-who" }, isDistrict() ? `${DISTRICT || "区县"} · 区县账号` : "市教委"),
    h(
      "button",
      {
        type: "button",
        class: "link",
        onclick: () => {
          // Both admin roles: 退出 should not leave this tab logged in as the other one.
          for (const r of ROLES) session.clear(r);
          localStorage.removeItem(ACTIVE_KEY);
          start();
        },
      },
      "退出"
    )
  );
}

// Schools as the last progress load saw them (with codes): the district pickers use them.
let known = [];
const knownListeners = new Set();
function setKnown(schools) {
  known = schools;
  for (const f of knownListeners) f(known);
}
const districtsOf = (schools) => [...new Set(schools.map((s) => s.district))].sort((a, b) => a.localeCompare(b, "zh-CN"));
let reloadProgress = () => {};
let openSchool = () => {};
let refreshOpenSchool = () => {};
/** Element.append without the nulls (h() skips them; the DOM would print "null"). */
const append = (el, ...children) => el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));

function start() {
  const role = activeRole();
  knownListeners.clear();
  if (!role) {
    renderAccount(false);
    replace(
      main,
      h("h1", {}, "区县/市教委登录"),
      h("p", { class: "hint" }, "区县教育局和市教委的账号都在这里登录；区县账号只能看到本区学校。"),
      loginForm({
        roles: ROLES,
        idPrefix: "bureau-login",
        onSuccess: (res) => {
          localStorage.setItem(ACTIVE_KEY, res.role);
          start();
        },
      })
    );
    main.querySelector("input").focus();
    return;
  }
  ROLE = role;
  DISTRICT = isDistrict() ? tokenDistrict(session.get(ROLE)) : null;
  renderAccount(true);
  const overview = (sec) =>
    dashboardSection(sec, {
      role: ROLE,
      isDistrict: isDistrict(),
      district: () => DISTRICT,
      known: () => known,
      onKnown: (f) => knownListeners.add(f),
      openSchool: (s) => openSchool(s),
      reloadProgress: () => reloadProgress(),
    });
  const sections = isDistrict()
    ? [
        ["overview", "概览", overview],
        ["progress", "本区学校进度与注册码", progressSection],
        ["chase", "催交名单", chaseSection],
        ["school-students", "学生名单", studentsSection],
      ]
    : [
        ["overview", "概览", overview],
        ["progress", "采集进度", progressSection],
        ["chase", "催交名单", chaseSection],
        ["school-students", "学生名单", studentsSection],
        ["campaign", "活动设置", campaignSection],
        ["schools", "导入学校", schoolsSection],
        ["roster", "导入学生名单", rosterSection],
        ["reviewers", "审核员账号", reviewersSection],
        ["districts", "区县账号", districtAccountsSection],
        ["reopen", "撤回已通过照片", reopenSection],
      ];
  replace(
    main,
    h("h1", { id: "admin-title" }, isDistrict() ? `${DISTRICT || "区县"}管理` : "区县/市教委管理"),
    h("nav", { class: "tabs", "aria-label": "管理功能" }, h("ul", {}, sections.map(([id, title]) => h("li", {}, h("a", { href: `#${id}` }, title))))),
    sections.map(([id, title, fn]) => {
      const sec = h("section", { id, class: "card", "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, title));
      fn(sec);
      return sec;
    })
  );
}

// ---------------------------------------------------------------- progress
async function progressSection(sec) {
  const body = h("div", { class: "table-wrap" });
  const refresh = h("button", { type: "button", id: "progress-refresh" }, "刷新");
  const actions = h("div", { class: "actions" }, refresh);
  if (isDistrict()) {
    const all = h("button", { type: "button", id: "export-all" }, "导出本区全部已审核照片");
    all.addEventListener("click", () => exportPhotos(all, null, `${DISTRICT || "本区"}全部学校`));
    actions.append(all);
    sec.append(h("p", { class: "hint" }, "未注册学校的注册码请下发给学校老师；学校老师忘记账号或密码时，可“重置账号”生成新的注册码。"));
  }
  const summary = h("p", { class: "summary", id: "progress-summary", "aria-live": "polite" });
  sec.append(actions, summary, body);
  async function load() {
    replace(body, h("p", { class: "loading" }, "正在加载…"));
    try {
      const [{ schools }, listed] = await Promise.all([api("/api/admin/progress", { role: ROLE }), api("/api/admin/schools", { role: ROLE })]);
      const byId = new Map((listed.schools || []).map((s) => [s.school_id, s]));
      const merged = schools.map((s) => ({ ...s, ...(byId.get(s.school_id) || {}), counts: s.counts, registered: s.registered }));
      if (isDistrict() && !DISTRICT && merged[0]) {
        DISTRICT = merged[0].district;
        renderAccount(true);
      }
      setKnown(merged);
      const totals = Object.fromEntries(STATUS_ORDER.map((k) => [k, 0]));
      const rows = merged.map((s) => {
        const c = s.counts || {};
        for (const k of STATUS_ORDER) totals[k] += c[k] || 0;
        const sum = STATUS_ORDER.reduce((n, k) => n + (c[k] || 0), 0);
        const btn = h("button", { type: "button", class: "small", disabled: !c.approved }, "导出照片");
        btn.setAttribute("aria-label", `导出 ${s.name} 已审核的照片（ZIP）`);
        btn.addEventListener("click", () => exportPhotos(btn, s.school_id, s.name));
        const look = h("button", { type: "button", class: "small view-students", "aria-label": `查看 ${s.name} 的学生` }, "学生");
        look.addEventListener("click", () => openSchool(s));
        const reset = s.registered ? h("button", { type: "button", class: "small reset", "aria-haspopup": "dialog", "aria-label": `重置 ${s.name} 的学校账号` }, "重置账号") : null;
        if (reset) reset.addEventListener("click", () => confirmReset(s));
        return h(
          "tr",
          { dataset: { schoolId: s.school_id, registered: String(!!s.registered) } },
          isDistrict() ? null : h("td", { "data-label": "区县" }, s.district),
          h(
            "td",
            { class: "school-cell", "data-label": "学校" },
            h("button", { type: "button", class: "link school-link", onclick: () => openSchool(s) }, s.name),
            h("div", { class: "hint" }, s.school_id)
          ),
          h("td", { "data-label": "学段" }, STAGE[s.stage] || s.stage),
          h(
            "td",
            { class: "reg", "data-label": "注册" },
            s.registered ? h("span", { class: "ok" }, "已注册") : h("span", { class: "bad" }, "未注册"),
            s.registered && s.username ? h("div", { class: "hint" }, `老师：${s.username}`) : null
          ),
          s.registered
            ? h("td", { class: "code-used", "data-label": "注册码" }, h("span", { class: "hint" }, "已使用"))
            : h("td", { class: "code", "data-label": "注册码" }, s.registration_code || ""),
          STATUS_ORDER.map((k) => h("td", { class: "num", "data-label": STATUS[k] }, String(c[k] || 0))),
          h("td", { class: "num", "data-label": "完成率" }, sum ? `${Math.round(((c.approved || 0) / sum) * 100)}%` : "–"),
          h("td", { class: "row-actions", "data-label": "操作" }, look, reset, btn)
        );
      });
      const registered = merged.filter((s) => s.registered).length;
      summary.textContent = `共 ${merged.length} 所学校学段，已注册 ${registered} 所，未注册 ${merged.length - registered} 所。`;
      const lead = isDistrict() ? 3 : 4;
      replace(
        body,
        merged.length
          ? h(
              "table",
              { class: "plain progress", id: "progress-table" },
              h(
                "thead",
                {},
                h("tr", {}, [...(isDistrict() ? [] : ["区县"]), "学校", "学段", "注册", "注册码", ...STATUS_ORDER.map((k) => STATUS[k]), "完成率", "操作"].map((t) => h("th", { scope: "col" }, t)))
              ),
              h("tbody", {}, rows),
              h(
                "tfoot",
                {},
                h(
                  "tr",
                  {},
                  h("th", { scope: "row", colspan: lead + 1 }, `合计 ${merged.length} 所学校`),
                  STATUS_ORDER.map((k) => h("td", { class: "num", "data-label": STATUS[k] }, String(totals[k]))),
                  h("td"),
                  h("td")
                )
              )
            )
          : h("p", { class: "empty", id: "progress-table" }, isDistrict() ? "本区还没有导入学校，请联系市教委。" : "还没有导入学校。")
      );
    } catch (e) {
      if (e.status !== 401) replace(body, h("p", { class: "error" }, e.message));
    }
  }
  refresh.addEventListener("click", load);
  reloadProgress = load;
  load();
}

/** The ZIP is stored beside the photos and downloaded straight from there (API Gateway cannot carry a school's photos in one response). */
async function exportPhotos(btn, schoolId, what) {
  btn.disabled = true;
  try {
    say(`正在打包 ${what} 的照片，请稍候…`);
    const ex = await api("/api/admin/exports", { method: "POST", role: ROLE, body: schoolId ? { school_id: schoolId } : {} });
    const a = h("a", { href: ex.download_url, download: ex.file });
    document.body.append(a);
    a.click();
    a.remove();
    say(`已导出 ${what} 的 ${ex.photos} 张照片（${(ex.bytes / 1048576).toFixed(1)} MB），下载链接 1 小时内有效`);
  } catch (e) {
    say(`导出失败：${e.message}`, "error");
  } finally {
    btn.disabled = false;
  }
}

// ---------------------------------------------------------------- 催交名单
const CHASE_COLUMNS = "区县、学校、学段、学校注册、老师用户名、学籍副号、姓名、班级、上传状态、原因";

/** Downloads a chase list and says how many students it lists. */
async function downloadChase(query, filename, out) {
  const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v)).toString();
  try {
    const blob = await download(`/api/admin/chase.csv${qs ? "?" + qs : ""}`, ROLE, filename);
    const lines = (await blob.text()).split(/\r?\n/).filter((l) => l.trim()).length - 1;
    const text = lines > 0 ? `已下载 ${filename}：${lines} 名学生未上传或未通过审核。` : `已下载 ${filename}：没有需要催交的学生。`;
    if (out) replace(out, h("p", { class: "ok" }, text));
    say(text);
  } catch (e) {
    if (out && e.status !== 401) replace(out, h("p", { class: "error", role: "alert" }, `下载失败：${e.message}`));
  }
}

function chaseSection(sec) {
  const out = h("div", { id: "chase-result", "aria-live": "polite" });
  const btn = h("button", { type: "button", class: "primary", id: "chase-download" }, "下载催交名单（CSV）");
  let pick = null;
  if (!isDistrict()) {
    pick = h("select", { id: "chase-district" }, h("option", { value: "" }, "全部区县"));
    const fill = (schools) => {
      const was = pick.value;
      replace(pick, h("option", { value: "" }, "全部区县"), districtsOf(schools).map((d) => h("option", { value: d }, d)));
      pick.value = districtsOf(schools).includes(was) ? was : "";
    };
    knownListeners.add(fill);
    fill(known);
  }
  append(
    sec,
    h("p", { class: "hint" }, `未上传和未通过审核的学生，一行一名，含学校是否注册和老师用户名，可用 Excel 打开，便于电话催交。列：${CHASE_COLUMNS}。`),
    pick ? h("div", { class: "field inline" }, h("label", { for: "chase-district" }, "区县范围"), pick) : null,
    h("div", { class: "actions" }, btn),
    out
  );
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    const d = pick && pick.value;
    await downloadChase({ district: d }, d ? `催交名单-${d}.csv` : "催交名单.csv", out);
    btn.disabled = false;
  });
}

// ---------------------------------------------------------------- one school's students
function studentsSection(sec) {
  const body = h("div", { id: "students-body" }, h("p", { class: "hint", id: "students-hint" }, "在上方进度表中点击学校名称或“学生”，查看该校每名学生的上传状态、原因和上传人。"));
  sec.append(body);
  let current = null;
  refreshOpenSchool = (schoolId, patch) => {
    if (current && current.school_id === schoolId) openSchool({ ...current, ...patch }, body.querySelector("#drill-status")?.value || "", { quiet: true });
  };
  openSchool = async (school, status = "", { quiet = false } = {}) => {
    current = school;
    const statusSel = h("select", { id: "drill-status" }, h("option", { value: "" }, "全部状态"), STATUS_ORDER.map((k) => h("option", { value: k }, STATUS[k])));
    statusSel.value = status;
    const chase = h("button", { type: "button", id: "drill-chase" }, "下载本校催交名单");
    const close = h("button", { type: "button", id: "drill-close" }, "收起");
    const summary = h("p", { class: "summary", id: "drill-summary", "aria-live": "polite" });
    const list = h("div", { class: "table-wrap" }, h("p", { class: "loading" }, "正在加载…"));
    const title = h("h3", { id: "drill-title", tabindex: "-1" }, `${school.name}（${STAGE[school.stage] || school.stage}）`);
    const out = h("div", { "aria-live": "polite" });
    replace(
      body,
      title,
      h("p", { class: "hint" }, `${school.district} · ${school.registered ? `已注册，老师用户名 ${school.username || ""}` : "未注册"}`),
      h("div", { class: "toolbar" }, h("div", { class: "field inline" }, h("label", { for: "drill-status" }, "上传状态"), statusSel), h("div", { class: "toolbar-actions" }, chase, close)),
      out,
      summary,
      list
    );
    statusSel.addEventListener("change", () => openSchool(school, statusSel.value, { quiet: true }));
    chase.addEventListener("click", () => downloadChase({ school_id: school.school_id }, `催交名单-${school.name}.csv`, out));
    close.addEventListener("click", () => {
      current = null;
      replace(body, h("p", { class: "hint", id: "students-hint" }, "在上方进度表中点击学校名称或“学生”，查看该校每名学生的上传状态、原因和上传人。"));
    });
    if (!quiet) {
      sec.scrollIntoView({ block: "start" });
      title.focus({ preventScroll: true });
    }
    try {
      const qs = new URLSearchParams({ school_id: school.school_id, ...(status ? { status } : {}) });
      const r = await api(`/api/admin/students?${qs}`, { role: ROLE });
      if (current !== school) return;
      const students = r.students || [];
      summary.textContent = status ? `${STATUS[status]}：${students.length} 名学生` : `共 ${students.length} 名学生`;
      replace(
        list,
        h(
          "table",
          { class: "plain drill", id: "drill-table" },
          h("caption", { class: "sr-only" }, `${school.name}的学生`),
          h("thead", {}, h("tr", {}, ["学籍副号", "姓名", "班级", "上传状态", "上传人", "原因/说明"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            students.length
              ? students.map((s) =>
                  h(
                    "tr",
                    { dataset: { studentId: s.student_id, status: s.status } },
                    h("td", { "data-label": "学籍副号" }, s.student_id),
                    h("td", { class: "name", "data-label": "姓名" }, s.name),
                    h("td", { "data-label": "班级" }, s.class),
                    h("td", { "data-label": "上传状态" }, statusChip(s.status), s.uploaded_at ? h("div", { class: "when" }, formatTime(s.uploaded_at)) : null),
                    h("td", { class: "uploader", "data-label": "上传人" }, UPLOADER[s.uploaded_by] || ""),
                    h("td", { class: "reasons", "data-label": "原因/说明" }, explain(s))
                  )
                )
              : h("tr", {}, h("td", { colspan: 6, class: "empty" }, "没有符合条件的学生"))
          )
        )
      );
    } catch (e) {
      if (e.status !== 401) replace(list, h("p", { class: "error" }, e.message));
    }
  };
}

// ---------------------------------------------------------------- 重置账号
const resetDialog = h("dialog", { id: "reset-dialog", class: "reset-dialog", "aria-labelledby": "reset-title", "aria-describedby": "reset-what" });
resetDialog.addEventListener("close", () => resetDialog.replaceChildren()); // a shown code does not linger in the page

function confirmReset(s) {
  const ok = h("button", { type: "submit", class: "reject", id: "reset-confirm" }, "确认重置");
  const cancel = h("button", { type: "button", id: "reset-cancel", onclick: () => resetDialog.close() }, "取消");
  const err = h("p", { class: "form-error", role: "alert", id: "reset-error" });
  const form = h(
    "form",
    { method: "dialog", novalidate: true },
    h("h2", { id: "reset-title" }, `重置学校账号：${s.name}`),
    h(
      "ul",
      { id: "reset-what" },
      h("li", {}, `原账号（用户名 ${s.username || "—"}）将立即无法登录，正在登录的老师也会退出。`),
      h("li", {}, "系统生成一个新的注册码，在此显示，请交给学校老师重新注册账号；注册前也可在进度表中查看，注册后即失效。"),
      h("li", {}, "本校学生名单、已上传的照片和审核结果都会保留。")
    ),
    h("p", { class: "hint" }, "仅在学校老师遗失账号或密码、或需要换人负责时使用。"),
    err,
    h("div", { class: "actions" }, ok, cancel)
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    ok.disabled = true;
    err.textContent = "";
    try {
      const r = await api(`/api/admin/schools/${encodeURIComponent(s.school_id)}/reset`, { method: "POST", role: ROLE });
      const copy = h("button", { type: "button", id: "reset-copy" }, "复制注册码");
      copy.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(r.registration_code);
          copy.textContent = "已复制";
        } catch {
          say("无法自动复制，请手工抄录注册码", "error");
        }
      });
      const done = h("button", { type: "button", class: "primary", id: "reset-done", onclick: () => resetDialog.close() }, "我已记下，关闭");
      replace(
        resetDialog,
        h("h2", { id: "reset-title" }, `已重置：${r.name || s.name}`),
        h("p", { id: "reset-what" }, "原账号已停用。请把下面的新注册码交给学校老师，在“学校入口 → 注册”重新注册："),
        h("p", { class: "new-code", id: "reset-code", "aria-label": `新注册码 ${r.registration_code}` }, r.registration_code),
        h("p", { class: "hint" }, `${r.district || s.district} · ${r.name || s.name} · ${r.stage_label || STAGE[r.stage] || ""}。注册码只能注册一个账号；照片和审核结果已保留。`),
        h("div", { class: "actions" }, done, copy)
      );
      done.focus();
      reloadProgress();
      refreshOpenSchool(s.school_id, { registered: false, username: null, registration_code: r.registration_code });
    } catch (e) {
      ok.disabled = false;
      if (e.status === 401) return resetDialog.close();
      err.textContent = `未能重置：${e.message}`;
    }
  });
  replace(resetDialog, form);
  if (!resetDialog.isConnected) document.body.append(resetDialog);
  resetDialog.showModal();
  cancel.focus();
}

// ---------------------------------------------------------------- 区县账号
function districtAccountsSection(sec) {
  const pick = h("select", { id: "da-district", required: true, "aria-describedby": "da-district-hint" });
  const user = h("input", { id: "da-user", autocomplete: "off", "aria-describedby": "da-user-hint" });
  const pass = h("input", { id: "da-pass", type: "password", autocomplete: "new-password", "aria-describedby": "da-pass-hint" });
  const msg = h("p", { role: "status", id: "districts-result" });
  const fill = (schools) => {
    const was = pick.value;
    const ds = districtsOf(schools);
    replace(pick, ds.length ? h("option", { value: "" }, "请选择区县") : h("option", { value: "" }, "请先导入学校"), ds.map((d) => h("option", { value: d }, d)));
    pick.value = ds.includes(was) ? was : "";
  };
  knownListeners.add(fill);
  fill(known);
  const form = h(
    "form",
    { class: "grid-form", novalidate: true, id: "district-form" },
    h("div", { class: "field" }, h("label", { for: "da-district" }, "区县"), pick, h("p", { class: "hint", id: "da-district-hint" }, "可选已导入学校所在的区县")),
    h("div", { class: "field" }, h("label", { for: "da-user" }, "区县账号用户名"), user, h("p", { class: "hint", id: "da-user-hint" }, USERNAME_RULE)),
    h("div", { class: "field" }, h("label", { for: "da-pass" }, "登录密码"), pass, h("p", { class: "hint", id: "da-pass-hint" }, PASSWORD_RULE)),
    h("div", { class: "actions" }, h("button", { type: "submit", id: "district-create" }, "创建区县账号")),
    msg
  );
  sec.append(h("p", { class: "hint" }, "区县账号只能查看本区学校的进度、注册码、催交名单和学生，导出本区照片、重置学校账号；不能修改活动设置或导入名单。"), form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    msg.className = "";
    if (!pick.value) {
      msg.textContent = "请选择区县";
      msg.className = "error";
      pick.focus();
      return;
    }
    try {
      const r = await api("/api/admin/accounts", { method: "POST", role: ROLE, body: { role: "district", district: pick.value, username: user.value.trim(), password: pass.value } });
      msg.textContent = `已创建区县账号 ${r.username}（${r.district}），请把用户名和密码交给区县，在“区县/市教委入口”登录。`;
      msg.className = "ok";
      pass.value = "";
    } catch (e) {
      msg.textContent = e.message;
      msg.className = "error";
    }
  });
}

// ---------------------------------------------------------------- campaign
async function campaignSection(sec) {
  const f = {
    name: h("input", { id: "c-name", required: true }),
    // Text in the API's own YYYY-MM-DD, not type=date: a date input shows the browser's
    // language (11/23/2026 in an English browser), and the banner shows dates this way too.
    starts_on: h("input", { id: "c-starts", pattern: DATE_RE.source, placeholder: "2026-06-01", required: true, "aria-describedby": "c-date-hint" }),
    ends_on: h("input", { id: "c-ends", pattern: DATE_RE.source, placeholder: "2026-06-30", required: true, "aria-describedby": "c-date-hint" }),
    // Text, not type=time: the seed's day ends at "24:00", which a time input cannot hold.
    daily_open: h("input", { id: "c-open", pattern: "^([01]\\d|2[0-4]):[0-5]\\d$", placeholder: "06:00", required: true }),
    daily_close: h("input", { id: "c-close", pattern: "^([01]\\d|2[0-4]):[0-5]\\d$", placeholder: "24:00", required: true }),
    timezone: h("input", { id: "c-tz", value: "Asia/Shanghai", required: true }),
  };
  const labels = { name: "活动名称", starts_on: "开始日期", ends_on: "结束日期", daily_open: "每天开放时间", daily_close: "每天关闭时间", timezone: "时区" };
  const msg = h("p", { role: "status", id: "campaign-result" });
  // 审核策略: who decides a photo that passed every automatic check.
  const radio = (value, text, hint) =>
    h(
      "div",
      { class: "policy-choice" },
      h("input", { type: "radio", name: "auto_approve", id: `policy-${value}`, value, "aria-describedby": `policy-${value}-hint` }),
      h("label", { for: `policy-${value}` }, text),
      h("p", { class: "hint", id: `policy-${value}-hint` }, hint)
    );
  const sample = h("input", { id: "policy-sample", type: "number", min: 0, max: 100, step: 1, value: "0", inputmode: "numeric", "aria-describedby": "policy-sample-hint" });
  const policy = h(
    "fieldset",
    { class: "policy", id: "review-policy" },
    h("legend", {}, "审核策略"),
    radio("none", "全部人工审核", "通过自动检查的照片都由审核员逐一审核（默认）。"),
    radio("clean", "自动通过无疑点照片", "通过全部自动检查且没有任何疑点的照片直接通过；有疑点的、学校申诉的、以及人工退回后重新上传的照片始终由审核员审核。"),
    h(
      "div",
      { class: "field inline" },
      h("label", { for: "policy-sample" }, "抽检比例（%）"),
      sample,
      h("p", { class: "hint", id: "policy-sample-hint" }, "自动通过时，按此比例固定抽取照片仍交审核员审核（0–100）。")
    )
  );
  // 允许家长上传: the parents' path (家长入口) on or off for the whole campaign.
  const parents = h("input", { type: "checkbox", id: "c-parents", role: "switch", checked: true, "aria-describedby": "c-parents-hint" });
  const parentsBox = h(
    "fieldset",
    { class: "policy", id: "parents-setting" },
    h("legend", {}, "家长上传"),
    h("div", { class: "policy-choice" }, parents, h("label", { for: "c-parents" }, "允许家长上传"), h("p", { class: "hint", id: "c-parents-hint" }, "开启后，家长可凭学校打印发放的上传码在“家长入口”为孩子上传照片、查看审核结果；关闭后家长无法登录，照片只能由学校上传。"))
  );
  const policyValue = () => (policy.querySelector("input[name=auto_approve]:checked") || {}).value || "none";
  const syncPolicy = () => (sample.disabled = policyValue() !== "clean");
  policy.addEventListener("change", syncPolicy);
  const form = h(
    "form",
    { class: "grid-form", novalidate: true },
    Object.entries(f).map(([k, input]) => h("div", { class: "field" }, h("label", { for: input.id }, labels[k]), input)),
    policy,
    parentsBox,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "保存设置")),
    msg
  );
  sec.append(h("p", { class: "hint" }, "开放时间之外为系统维护时间，学校无法登录和上传。"), h("p", { class: "hint", id: "c-date-hint" }, "日期格式：年-月-日，如 2026-06-01；时间格式：时:分，如 06:00。"), form);
  let current = null;
  try {
    current = await api("/api/admin/campaign", { role: ROLE });
  } catch {
    /* below: the window's copy */
  }
  if (!current) current = await getWindow().then((w) => w.campaign, () => null); // else the banner shows why
  if (current) for (const k of Object.keys(f)) if (current[k]) f[k].value = current[k];
  const rp = (current && current.review_policy) || { auto_approve: "none", sample_percent: 0 };
  (policy.querySelector(`#policy-${rp.auto_approve}`) || policy.querySelector("#policy-none")).checked = true;
  sample.value = String(rp.sample_percent ?? 0);
  parents.checked = !current || current.parents_enabled !== false;
  syncPolicy();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    msg.textContent = "";
    msg.className = "";
    const body = Object.fromEntries(Object.entries(f).map(([k, el]) => [k, el.value.trim()]));
    const pct = sample.value.trim() === "" ? NaN : Number(sample.value);
    if (!Number.isInteger(pct) || pct < 0 || pct > 100) {
      msg.textContent = "抽检比例应为 0 到 100 之间的整数";
      msg.className = "error";
      sample.focus();
      return;
    }
    if (Object.values(body).some((v) => !v)) {
      msg.textContent = "请填写全部项目";
      msg.className = "error";
      return;
    }
    const badDate = ["starts_on", "ends_on"].find((k) => !DATE_RE.test(body[k]) || Number.isNaN(Date.parse(body[k])));
    if (badDate) {
      msg.textContent = `${labels[badDate]}格式不对，请按 年-月-日 填写，如 2026-06-01`;
      msg.className = "error";
      f[badDate].focus();
      return;
    }
    try {
      const saved = await api("/api/admin/campaign", { method: "PUT", role: ROLE, body: { ...body, review_policy: { auto_approve: policyValue(), sample_percent: pct }, parents_enabled: parents.checked } });
      const sp = saved && saved.review_policy;
      msg.textContent = sp
        ? `已保存。审核策略：${sp.auto_approve === "clean" ? `自动通过无疑点照片，抽检 ${sp.sample_percent}%` : "全部人工审核"}`
        : "已保存";
      if (saved && typeof saved.parents_enabled === "boolean") msg.textContent += `；家长上传：${saved.parents_enabled ? "允许" : "不允许"}`;
      renderWindow(await getWindow(true));
    } catch (e) {
      msg.textContent = e.message;
      msg.className = "error";
    }
  });
}

// ---------------------------------------------------------------- CSV imports
function csvInput(id, header, example, what) {
  const area = h("textarea", { id, rows: 6, spellcheck: "false", placeholder: `${header}\n${example}` });
  const pick = filePicker({ id: `${id}-file`, text: "或选择 CSV 文件…", extra: `（${what}）`, accept: ".csv,text/csv", nameText: "未选择文件" });
  pick.input.addEventListener("change", async () => {
    if (pick.input.files[0]) area.value = await readCsvFile(pick.input.files[0]);
  });
  return { area, file: pick.el };
}

/** Excel saves Chinese CSV as GBK; try UTF-8 first and fall back when it does not decode. */
async function readCsvFile(f) {
  const buf = await f.arrayBuffer();
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(buf).replace(/^\uFEFF/, "");
  } catch {
    return new TextDecoder("gbk").decode(buf);
  }
}

function schoolsSection(sec) {
  const { area, file } = csvInput("schools-csv", "district,school,stage", "浦东新区,上海市某某中学,junior", "学校名单");
  const out = h("div", { id: "schools-result", "aria-live": "polite" });
  const btn = h("button", { type: "button", class: "primary", id: "schools-import" }, "导入学校并生成注册码");
  sec.append(
    h("p", { class: "hint" }, "CSV 表头为 district,school,stage；学段填 primary/junior/senior 或 小学/初中/高中。每个学校学段生成一个注册码，请下发给学校。"),
    h("div", { class: "field" }, h("label", { for: "schools-csv" }, "学校 CSV"), area),
    h("div", { class: "field" }, file),
    h("div", { class: "actions" }, btn),
    out
  );
  btn.addEventListener("click", async () => {
    try {
      const r = await api("/api/admin/schools", { method: "POST", role: ROLE, text: area.value });
      reloadProgress(); // the new schools and their codes in the progress table, their districts in the pickers
      replace(
        out,
        h("p", {}, `已导入 ${r.schools.length} 个学校学段，注册码如下：`),
        h(
          "table",
          { class: "plain", id: "codes-table" },
          h("thead", {}, h("tr", {}, ["学校编号", "区县", "学校", "学段", "注册码"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            r.schools.map((s) => h("tr", {}, h("td", {}, s.school_id), h("td", {}, s.district), h("td", {}, s.name), h("td", {}, STAGE[s.stage] || s.stage), h("td", { class: "code" }, s.registration_code)))
          )
        )
      );
    } catch (e) {
      showLineErrors(out, e);
    }
  });
}

function rosterSection(sec) {
  const { area, file } = csvInput("roster-csv", "school_id,student_id,name,class", "S0001,G310101,张三,九年级1班", "学生名单");
  const out = h("div", { id: "roster-result", "aria-live": "polite" });
  const btn = h("button", { type: "button", class: "primary", id: "roster-import" }, "导入学生名单");
  sec.append(
    h("p", { class: "hint" }, "CSV 表头为 school_id,student_id,name,class。任何一行有错误时整份名单都不会导入，请按提示修改后重新导入。"),
    h("div", { class: "field" }, h("label", { for: "roster-csv" }, "学生名单 CSV"), area),
    h("div", { class: "field" }, file),
    h("div", { class: "actions" }, btn),
    out
  );
  btn.addEventListener("click", async () => {
    try {
      const r = await api("/api/admin/students", { method: "POST", role: ROLE, text: area.value });
      replace(out, h("p", { class: "ok" }, `导入完成：新增 ${r.imported} 名，更新 ${r.updated} 名。`));
      reloadProgress();
    } catch (e) {
      showLineErrors(out, e);
    }
  });
}

function showLineErrors(out, e) {
  const lines = (e.body && e.body.lines) || [];
  replace(
    out,
    h("p", { class: "error", role: "alert" }, e.message),
    lines.length
      ? h(
          "table",
          { class: "plain", id: "line-errors" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "行号"), h("th", { scope: "col" }, "问题"))),
          h("tbody", {}, lines.map((l) => h("tr", { dataset: { code: l.code } }, h("td", { class: "num" }, String(l.line)), h("td", {}, l.message))))
        )
      : null
  );
}

function reviewersSection(sec) {
  const user = h("input", { id: "rv-user", autocomplete: "off" });
  const pass = h("input", { id: "rv-pass", type: "password", autocomplete: "new-password" });
  const msg = h("p", { role: "status" });
  const form = h(
    "form",
    { class: "grid-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "rv-user" }, "审核员用户名"), user),
    h("div", { class: "field" }, h("label", { for: "rv-pass" }, "初始密码"), pass, h("p", { class: "hint" }, "至少 6 位，须同时包含字母和数字")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "添加审核员")),
    msg
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("/api/admin/reviewers", { method: "POST", role: ROLE, body: { username: user.value.trim(), password: pass.value } });
      msg.textContent = `已添加审核员 ${user.value.trim()}`;
      msg.className = "ok";
      pass.value = "";
    } catch (e) {
      msg.textContent = e.message;
      msg.className = "error";
    }
  });
  sec.append(form);
}

// ---------------------------------------------------------------- 撤回已通过照片
async function reopenSection(sec) {
  const sid = h("input", { id: "reopen-sid", autocomplete: "off", spellcheck: "false", maxlength: 32, "aria-describedby": "reopen-hint" });
  const reason = h("select", { id: "reopen-reason" }, h("option", { value: "" }, "请选择原因"));
  const note = h("textarea", { id: "reopen-note", rows: 2, maxlength: 500, placeholder: "可选，例如：照片为其他学生（学校来电确认）" });
  const btn = h("button", { type: "submit", class: "reject", id: "reopen-submit" }, "撤回并退回学校");
  const out = h("div", { id: "reopen-result", role: "status" });
  const form = h(
    "form",
    { class: "grid-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "reopen-sid" }, "学籍副号"), sid),
    h("div", { class: "field" }, h("label", { for: "reopen-reason" }, "原因"), reason),
    h("div", { class: "field" }, h("label", { for: "reopen-note" }, "备注"), note),
    h("div", { class: "actions" }, btn),
    out
  );
  sec.append(
    h("p", { class: "hint", id: "reopen-hint" }, "已审核通过的照片事后发现有误（如传错学生、制证发现问题）时使用：照片改为“未通过审核”，学校可以重新上传，导出时不再包含这张照片。"),
    form
  );
  try {
    const r = await api("/api/review/reasons", { role: ROLE });
    for (const x of r.reasons || []) reason.append(h("option", { value: x.code }, x.message));
  } catch (e) {
    if (e.status !== 401) replace(out, h("p", { class: "error" }, `无法加载原因列表：${e.message}`));
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const id = sid.value.trim();
    if (!/^[A-Za-z0-9]{1,32}$/.test(id)) {
      replace(out, h("p", { class: "error", role: "alert" }, "请输入正确的学籍副号（1–32 位字母或数字）"));
      sid.focus();
      return;
    }
    if (!reason.value) {
      replace(out, h("p", { class: "error", role: "alert" }, "请选择撤回原因"));
      reason.focus();
      return;
    }
    btn.disabled = true;
    try {
      const rec = await api(`/api/admin/students/${encodeURIComponent(id)}/reopen`, { method: "POST", role: ROLE, body: { reasons: [reason.value], note: note.value.trim() } });
      replace(
        out,
        h("p", { class: "ok", id: "reopen-ok" }, `已撤回：${rec.name || id}（${id}）现为“${STATUS[rec.status] || rec.status}”，学校可以重新上传。`)
      );
      sid.value = "";
      note.value = "";
    } catch (e) {
      if (e.status !== 401) replace(out, h("p", { class: "error", role: "alert", dataset: { code: e.code } }, `未能撤回：${e.message}`));
    } finally {
      btn.disabled = false;
    }
  });
}

setHooks({
  onUnauthenticated() {
    say("登录已失效，请重新登录", "error");
    start();
  },
});
initChrome();
start();
