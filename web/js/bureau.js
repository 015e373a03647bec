// 区县/市教委入口: progress per school with a ZIP export each, the campaign's dates and hours
// and its review policy (审核策略), school import (shows the registration codes to hand out),
// roster import (shows per-line errors), reviewer accounts, and 撤回已通过照片 (reopen an
// approved photo found wrong later, so the school uploads again).
import { api, session, setHooks, getWindow } from "./api.js";
import { h, replace, initChrome, renderWindow, say, filePicker, STATUS, STATUS_ORDER, STAGE } from "./ui.js";
import { loginForm } from "./login.js";

const ROLE = "bureau";
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const main = document.getElementById("main");

function renderAccount(on) {
  const el = document.getElementById("account");
  if (!on) return el.replaceChildren();
  replace(
    el,
    h("span", { class: "who" }, "区县/市教委"),
    h(
      "button",
      {
        type: "button",
        class: "link",
        onclick: () => {
          session.clear(ROLE);
          start();
        },
      },
      "退出"
    )
  );
}

function start() {
  if (!session.get(ROLE)) {
    renderAccount(false);
    replace(main, h("h1", {}, "区县/市教委登录"), loginForm({ roles: [ROLE], idPrefix: "bureau-login", onSuccess: () => start() }));
    main.querySelector("input").focus();
    return;
  }
  renderAccount(true);
  const sections = [
    ["progress", "采集进度", progressSection],
    ["campaign", "活动设置", campaignSection],
    ["schools", "导入学校", schoolsSection],
    ["roster", "导入学生名单", rosterSection],
    ["reviewers", "审核员账号", reviewersSection],
    ["reopen", "撤回已通过照片", reopenSection],
  ];
  replace(
    main,
    h("h1", {}, "区县/市教委管理"),
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
  sec.append(h("div", { class: "actions" }, refresh), body);
  async function load() {
    replace(body, h("p", { class: "loading" }, "正在加载…"));
    try {
      const { schools } = await api("/api/admin/progress", { role: ROLE });
      const totals = Object.fromEntries(STATUS_ORDER.map((k) => [k, 0]));
      const rows = schools.map((s) => {
        const c = s.counts || {};
        for (const k of STATUS_ORDER) totals[k] += c[k] || 0;
        const sum = STATUS_ORDER.reduce((n, k) => n + (c[k] || 0), 0);
        const btn = h("button", { type: "button", class: "small", disabled: !c.approved }, "导出照片");
        btn.setAttribute("aria-label", `导出 ${s.name} 已审核的照片（ZIP）`);
        btn.addEventListener("click", async () => {
          btn.disabled = true;
          try {
            // The ZIP is stored beside the photos and downloaded straight from there (API
            // Gateway cannot carry a school's photos in one response).
            say(`正在打包 ${s.name} 的照片，请稍候…`);
            const ex = await api("/api/admin/exports", { method: "POST", role: ROLE, body: { school_id: s.school_id } });
            const a = h("a", { href: ex.download_url, download: ex.file });
            document.body.append(a);
            a.click();
            a.remove();
            say(`已导出 ${s.name} 的 ${ex.photos} 张照片（${(ex.bytes / 1048576).toFixed(1)} MB），下载链接 1 小时内有效`);
          } catch (e) {
            say(`导出失败：${e.message}`, "error");
          } finally {
            btn.disabled = false;
          }
        });
        return h(
          "tr",
          { dataset: { schoolId: s.school_id } },
          h("td", {}, s.district),
          h("td", {}, s.name, h("div", { class: "hint" }, s.school_id)),
          h("td", {}, STAGE[s.stage] || s.stage),
          h("td", {}, s.registered ? "已注册" : "未注册"),
          STATUS_ORDER.map((k) => h("td", { class: "num" }, String(c[k] || 0))),
          h("td", { class: "num" }, sum ? `${Math.round(((c.approved || 0) / sum) * 100)}%` : "–"),
          h("td", {}, btn)
        );
      });
      replace(
        body,
        h(
          "table",
          { class: "plain", id: "progress-table" },
          h(
            "thead",
            {},
            h("tr", {}, ["区县", "学校", "学段", "注册", ...STATUS_ORDER.map((k) => STATUS[k]), "完成率", "导出"].map((t) => h("th", { scope: "col" }, t)))
          ),
          h("tbody", {}, rows),
          h("tfoot", {}, h("tr", {}, h("th", { scope: "row", colspan: 4 }, `合计 ${schools.length} 所学校`), STATUS_ORDER.map((k) => h("td", { class: "num" }, String(totals[k]))), h("td"), h("td")))
        )
      );
    } catch (e) {
      replace(body, h("p", { class: "error" }, e.message));
    }
  }
  refresh.addEventListener("click", load);
  load();
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
