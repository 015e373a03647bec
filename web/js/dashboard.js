// 概览: the dashboard at the top of bureau.html (issue 15), for the bureau (all districts, or
// one picked in 统计范围 or by a click on its bar) and for a 区县 account (its own district; the
// server scopes GET /api/admin/stats to it). What a district officer reads at 8:00 each morning:
// - headline numbers (学生总数, 已通过 n (x%), 待审核, 未通过, 未上传) and the server's projection,
//   "按当前进度，截止时约完成 87%";
// - progress by district (stacked bars by status; a click lists the district's schools), or by
//   school (from GET /api/admin/progress, which the page's progress table already loads; a click
//   opens the school's students in the page's existing 学生名单 section);
// - rejection reasons ranked, uploads/approved/rejected per day, appeals overruled per rule.
// Charts are Apache ECharts (web/vendor/echarts, a plain <script>, the SVG renderer so they
// print crisply). Each chart's numbers are also in a <table> under 查看数据 (screen readers,
// keyboards, tests); a chart is drawn only from the same rows its table shows.
import { api } from "./api.js";
import { h, replace, STAGE } from "./ui.js";

/** Status order along a bar: done first, then waiting, then what needs the school. */
export const DASH_KEYS = ["approved", "pending_review", "uploaded", "rejected", "not_uploaded"];
export const DASH_LABEL = { approved: "已通过", pending_review: "待审核", uploaded: "检查中", rejected: "未通过", not_uploaded: "未上传" };
const COLOUR = { approved: "#2e7d32", pending_review: "#e0a100", uploaded: "#4a86c8", rejected: "#c62828", not_uploaded: "#b8c0c9" };
const SERIES = { uploads: "上传", approved: "通过", rejected: "未通过" };
const SERIES_COLOUR = { uploads: "#0a5bb5", approved: "#2e7d32", rejected: "#c62828" };
const APPEAL_COLOUR = { appealed: "#8a96a3", overruled: "#6a3fb5" };

const num = (n) => Number(n || 0).toLocaleString("zh-CN");
const pct = (part, whole) => (whole ? Math.round((part / whole) * 100) : null);
const pctText = (part, whole) => (whole ? `${pct(part, whole)}%` : "–");
const countsOf = (c) => Object.fromEntries(DASH_KEYS.map((k) => [k, Number((c || {})[k] || 0)]));
const sum = (c) => DASH_KEYS.reduce((n, k) => n + (c[k] || 0), 0);
/** For tooltips, which ECharts puts in as HTML: names come from imported CSV files. */
const esc = (s) => String(s).replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]);
const schoolLabel = (s) => `${s.name}（${STAGE[s.stage] || s.stage}）`;

/** Every date from the first to the last active day (the server lists only active days). */
export function fillDays(perDay) {
  const byDate = new Map(perDay.map((d) => [d.date, d]));
  if (!perDay.length) return [];
  const dates = perDay.map((d) => d.date).sort();
  const out = [];
  const last = Date.parse(`${dates[dates.length - 1]}T00:00:00Z`);
  for (let t = Date.parse(`${dates[0]}T00:00:00Z`); t <= last && out.length < 400; t += 86_400_000) {
    const date = new Date(t).toISOString().slice(0, 10);
    const d = byDate.get(date) || {};
    out.push({ date, uploads: Number(d.uploads || 0), approved: Number(d.approved || 0), rejected: Number(d.rejected || 0), active: byDate.has(date) });
  }
  return out;
}

// ---------------------------------------------------------------- ECharts, kept in one place
const live = new Map(); // holder element → { chart, build, width }
const resizer = typeof ResizeObserver === "function" ? new ResizeObserver((entries) => entries.forEach((e) => redraw(e.target))) : null;
let fontFamily = "sans-serif";

function redraw(holder) {
  const rec = live.get(holder);
  if (!rec) return;
  const width = holder.clientWidth;
  if (!width || Math.abs(width - rec.width) < 2) return;
  rec.width = width;
  draw(holder, rec);
}

function draw(holder, rec) {
  const { option, height } = rec.build(rec.width);
  holder.style.height = `${height}px`;
  rec.chart.resize({ width: rec.width, height });
  rec.chart.setOption(option, { notMerge: true });
  // A viewBox lets print CSS scale the drawing to the paper (ECharts' live SVG has none).
  const svg = holder.querySelector("svg");
  if (svg) {
    svg.setAttribute("viewBox", `0 0 ${rec.width} ${height}`);
    svg.setAttribute("role", "presentation");
  }
}

// Printing: every chart drawn again at the width of an A4 page's text (its labels fit that width),
// then back at the screen's; the print CSS scales the SVG to whatever paper it gets.
const PRINT_WIDTH = 680;
window.addEventListener("beforeprint", () => {
  for (const [holder, rec] of live) {
    rec.width = PRINT_WIDTH;
    if (holder.isConnected) draw(holder, rec);
  }
});
window.addEventListener("afterprint", () => {
  for (const [holder, rec] of live) {
    rec.width = 0;
    if (holder.isConnected) redraw(holder);
  }
});

/** Ends the charts inside `root` (about to be replaced) and any no longer on the page. */
function disposeIn(root) {
  for (const [holder, rec] of live) {
    if (root.contains(holder) || !holder.isConnected) {
      rec.chart.dispose();
      resizer?.unobserve(holder);
      live.delete(holder);
    }
  }
}

/**
 * Draws a chart into `holder` (SVG). `build(width)` → {option, height}; `rows` and `onPick(i)`:
 * a click or tap anywhere on a category's row (bar, label or the space beside) picks it.
 * Returns false when ECharts did not load (the page then shows the tables open).
 */
function mountChart(holder, build, { rows = 0, onPick = null } = {}) {
  const echarts = window.echarts;
  if (!echarts) return false;
  const width = holder.clientWidth || holder.parentElement.clientWidth || 320;
  const chart = echarts.init(holder, null, { renderer: "svg", width, height: build(width).height, locale: "ZH" });
  const rec = { chart, build, width };
  live.set(holder, rec);
  draw(holder, rec);
  resizer?.observe(holder);
  if (onPick && rows) {
    const zr = chart.getZr();
    const rowAt = (y) => categoryAt(chart, y, rows);
    zr.on("click", (e) => {
      const i = rowAt(e.offsetY);
      if (i !== null) onPick(i);
    });
    zr.on("mousemove", (e) => zr.setCursorStyle(rowAt(e.offsetY) !== null ? "pointer" : "default"));
  }
  return true;
}

/** The row (category index on the first y axis) a y pixel falls in, or null. */
export function categoryAt(chart, y, n) {
  const ys = [];
  for (let i = 0; i < n; i++) ys.push(chart.convertToPixel({ yAxisIndex: 0 }, i));
  if (!ys.length || ys.some((v) => typeof v !== "number" || Number.isNaN(v))) return null;
  const band = n > 1 ? Math.abs(ys[1] - ys[0]) : 48;
  let best = null;
  let bestD = Infinity;
  ys.forEach((c, i) => {
    const d = Math.abs(c - y);
    if (d < bestD) [best, bestD] = [i, d];
  });
  return bestD <= band / 2 ? best : null;
}

function base(width) {
  const narrow = width < 480;
  return {
    narrow,
    option: {
      animation: false,
      aria: { enabled: false }, // the table under 查看数据 is the accessible form
      textStyle: { fontFamily, fontSize: narrow ? 12 : 13, color: "#1b1f24" },
      // On <body>: a short chart (one or two rows) would cut a tooltip taller than itself off.
      tooltip: { appendToBody: true, confine: true, className: "dash-tip", backgroundColor: "#fff", borderColor: "#8a96a3", textStyle: { color: "#1b1f24", fontFamily, fontSize: 13 } },
    },
  };
}

const legend = (names, narrow) => ({ data: names, top: 0, left: 0, itemWidth: 14, itemHeight: 10, itemGap: narrow ? 10 : 16, textStyle: { fontSize: narrow ? 12 : 13, fontFamily } });
const labelWidth = (width) => Math.max(72, Math.min(220, Math.round(width * (width < 480 ? 0.4 : 0.34))));
const categoryAxis = (data, width, extra = {}) => ({
  type: "category",
  inverse: true,
  data,
  axisTick: { show: false },
  axisLabel: { width: labelWidth(width), overflow: "truncate", ellipsis: "…", color: "#1b1f24", fontFamily, ...extra },
});
const rightAxis = (data, color = "#1b5e20") => ({
  type: "category",
  inverse: true,
  position: "right",
  data,
  axisLine: { show: false },
  axisTick: { show: false },
  axisLabel: { color, fontWeight: 600, fontFamily },
});
const valueAxis = (extra = {}) => ({ type: "value", minInterval: 1, axisLabel: { color: "#4a5563", fontFamily, hideOverlap: true }, splitLine: { lineStyle: { color: "#e3e8ee" } }, ...extra });
const marker = (colour) => `<span style="display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;background:${colour}"></span>`;

/** Stacked horizontal bars by status, one row per item; the right axis says how much is approved. */
function statusBars(rows, label) {
  return (width) => {
    const { narrow, option } = base(width);
    const top = narrow ? 50 : 30;
    return {
      height: top + rows.length * (narrow ? 34 : 30) + 36,
      option: {
        ...option,
        legend: legend(DASH_KEYS.map((k) => DASH_LABEL[k]), narrow),
        grid: { left: 4, right: 8, top, bottom: 4, containLabel: true },
        xAxis: valueAxis(),
        yAxis: [categoryAxis(rows.map(label), width), rightAxis(rows.map((r) => pctText(r.counts.approved, r.students)))],
        tooltip: {
          ...option.tooltip,
          trigger: "axis",
          axisPointer: { type: "shadow" },
          formatter: (ps) => {
            const r = rows[ps[0].dataIndex];
            return [`<strong>${esc(label(r))}</strong>　学生 ${num(r.students)} 名`, ...DASH_KEYS.map((k) => `${marker(COLOUR[k])}${DASH_LABEL[k]} ${num(r.counts[k])}（${pctText(r.counts[k], r.students)}）`)].join("<br>");
          },
        },
        series: DASH_KEYS.map((k) => ({ id: k, name: DASH_LABEL[k], type: "bar", stack: "status", barMaxWidth: 20, itemStyle: { color: COLOUR[k] }, emphasis: { disabled: true }, data: rows.map((r) => r.counts[k]) })),
      },
    };
  };
}

// ---------------------------------------------------------------- the section
/**
 * Mounts 概览 into `sec`. `ctx`: { role, isDistrict, district() (the account's district or null),
 * known() (schools from the last progress load), onKnown(fn), openSchool(school), reloadProgress() }.
 */
export function dashboardSection(sec, ctx) {
  fontFamily = getComputedStyle(document.body).fontFamily || fontFamily;
  let scope = ""; // the bureau's 统计范围 ("" = all)
  let stats = null;
  let districts = []; // the bureau's districts, from the last all-district answer and the schools
  let schoolsLoaded = false; // the page's progress load has answered at least once
  const status = h("p", { class: "summary", id: "dash-status", "aria-live": "polite" });
  const body = h("div", { id: "dash-body", class: "dash-body" }, h("p", { class: "loading" }, "正在加载统计…"));
  const refresh = h("button", { type: "button", id: "dash-refresh" }, "刷新统计");
  const printBtn = h("button", { type: "button", id: "dash-print" }, "打印概览");
  let pick = null;
  const toolbar = h("div", { class: "actions dash-toolbar" });
  if (!ctx.isDistrict) {
    pick = h("select", { id: "dash-district" }, h("option", { value: "" }, "全部区县"));
    toolbar.append(h("div", { class: "field inline" }, h("label", { for: "dash-district" }, "统计范围"), pick));
    pick.addEventListener("change", () => setScope(pick.value));
  }
  toolbar.append(refresh, printBtn);
  sec.dataset.state = "loading";
  sec.append(toolbar, status, body);

  const fillPick = () => {
    if (!pick) return;
    const all = [...new Set([...districts, ...ctx.known().map((s) => s.district)])].sort((a, b) => a.localeCompare(b, "zh-CN"));
    replace(pick, h("option", { value: "" }, "全部区县"), all.map((d) => h("option", { value: d }, d)));
    pick.value = all.includes(scope) ? scope : "";
  };

  function setScope(d, { focus = false } = {}) {
    scope = d || "";
    if (pick) pick.value = scope;
    load().then(() => {
      if (focus) sec.querySelector("#chart-schools h3, #chart-districts h3")?.focus({ preventScroll: false });
    });
  }

  let seq = 0;
  async function load() {
    const mine = ++seq;
    sec.dataset.state = "loading";
    status.textContent = "正在加载统计…";
    try {
      const qs = scope ? `?district=${encodeURIComponent(scope)}` : "";
      const r = await api(`/api/admin/stats${qs}`, { role: ctx.role });
      if (mine !== seq) return;
      stats = r;
      if (!scope && !ctx.isDistrict) districts = (r.by_district || []).map((d) => d.district);
      fillPick();
      const t = new Date();
      const p = (n) => String(n).padStart(2, "0");
      status.textContent = `${scope ? `${scope}，` : ""}数据截至 ${p(t.getHours())}:${p(t.getMinutes())}`;
      sec.dataset.scope = scope;
      render();
    } catch (e) {
      if (mine !== seq) return;
      sec.dataset.state = "error";
      status.textContent = "";
      if (e.status !== 401) {
        disposeIn(body);
        replace(body, h("p", { class: "error", id: "dash-error", role: "alert" }, `统计暂时无法加载：${e.message}`));
      }
    }
  }

  /** The district (or null) whose schools the progress chart shows. */
  const schoolScope = () => (ctx.isDistrict ? ctx.district() || (stats && stats.by_district && stats.by_district[0] && stats.by_district[0].district) || null : scope || null);

  function render() {
    disposeIn(body);
    const s = stats;
    const counts = countsOf(s.counts);
    const students = Number(s.students || 0);
    const d = schoolScope();
    const progress = d !== null ? schoolsFigure(d) : districtsFigure(s.by_district || []);
    replace(
      body,
      headline(students, counts),
      projectionLine(s.projection, students, counts),
      h("div", { class: "dash-grid" }, progress.el, reasonsFigure(s.by_reason || []).el, dailyFigure(s.per_day || []).el, appealsFigure(s.appeals || {}, s.by_reason || []).el)
    );
    // Charts are drawn once their holders are laid out (their width decides the labels).
    for (const fig of body.querySelectorAll("figure.dash-chart")) if (fig._draw) fig._draw();
    // "ready" once everything is drawn: a school chart waits for the page's progress load.
    sec.dataset.state = d !== null && !schoolsLoaded ? "loading" : "ready";
  }

  // ---- headline
  function headline(students, c) {
    const item = (key, label, value, sub) =>
      h("li", { class: `kpi kpi-${key}`, dataset: { key } }, h("span", { class: "kpi-label" }, label), h("strong", { class: "kpi-value", dataset: { value: String(value) } }, num(value)), sub ? h("span", { class: "kpi-sub" }, sub) : null);
    return h(
      "ul",
      { class: "kpis", id: "dash-headline", "aria-label": "总体数字" },
      item("students", "学生总数", students, null),
      item("approved", "已通过", c.approved, students ? `（${pctText(c.approved, students)}）` : null),
      item("pending_review", "待审核", c.pending_review, c.uploaded ? `另有 ${num(c.uploaded)} 张检查中` : null),
      item("rejected", "未通过", c.rejected, c.rejected ? "可重新上传" : null),
      item("not_uploaded", "未上传", c.not_uploaded, null)
    );
  }

  function projectionLine(p, students, c) {
    if (p && typeof p.expected_percent === "number") {
      return h(
        "div",
        { class: "projection", id: "dash-projection", dataset: { percent: String(p.expected_percent) } },
        h("p", { class: `projection-main ${p.expected_percent >= 100 ? "ok" : p.expected_percent < 80 ? "warn" : ""}` }, `按当前进度，截止时约完成 ${p.expected_percent}%`),
        h(
          "p",
          { class: "hint" },
          [
            typeof p.per_day === "number" ? `近期平均每天通过 ${p.per_day.toLocaleString("zh-CN", { maximumFractionDigits: 1 })} 名` : null,
            p.ends_on ? `距截止（${p.ends_on}）还有 ${num(p.days_left)} 天` : null,
            typeof p.expected_approved === "number" ? `预计截止时共通过 ${num(p.expected_approved)} 名` : null,
          ]
            .filter(Boolean)
            .join("，") + "。"
        )
      );
    }
    const why = !students ? "还没有导入学生，暂无进度预测。" : c.approved >= students ? "全部学生的照片都已通过审核。" : "暂时无法估算截止时的完成比例（采集活动还没有开始或还没有设置）。";
    return h("div", { class: "projection", id: "dash-projection", dataset: { percent: "" } }, h("p", { class: "projection-main muted" }, why));
  }

  // ---- a figure: title, chart holder, 查看数据
  function figure(id, title, hint, table, { empty = null } = {}) {
    const holder = h("div", { class: "chart", "aria-hidden": "true" });
    const details = h("details", { class: "chart-data" }, h("summary", {}, "查看数据"), h("div", { class: "table-wrap" }, table));
    const fig = h(
      "figure",
      { class: "dash-chart", id, dataset: { chart: id.replace(/^chart-/, "") } },
      h("figcaption", {}, h("h3", { tabindex: "-1" }, title), hint ? h("p", { class: "hint" }, hint) : null),
      empty ? h("p", { class: "empty dash-empty" }, empty) : holder,
      empty ? null : details
    );
    return { el: fig, holder, details };
  }

  function withChart(f, build, opts) {
    f.el._draw = () => {
      if (!mountChart(f.holder, build, opts)) {
        f.holder.hidden = true;
        f.details.open = true;
      }
    };
    return f;
  }

  function districtsFigure(rows) {
    rows = rows.map((r) => ({ district: r.district, students: Number(r.students || 0), counts: countsOf(r.counts) }));
    const table = h(
      "table",
      { class: "plain dash-table", id: "dash-districts-table" },
      h("caption", { class: "sr-only" }, "各区县进度"),
      h("thead", {}, h("tr", {}, ["区县", "学生", ...DASH_KEYS.map((k) => DASH_LABEL[k]), "完成率", ""].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        rows.map((r) =>
          h(
            "tr",
            { dataset: { district: r.district } },
            h("th", { scope: "row" }, r.district),
            h("td", { class: "num", dataset: { key: "students" } }, String(r.students)),
            DASH_KEYS.map((k) => h("td", { class: "num", dataset: { key: k } }, String(r.counts[k]))),
            h("td", { class: "num" }, pctText(r.counts.approved, r.students)),
            h("td", {}, h("button", { type: "button", class: "small link", onclick: () => setScope(r.district, { focus: true }) }, `查看${r.district}的学校`))
          )
        )
      )
    );
    const f = figure("chart-districts", "各区县进度", "按上传状态分段，右侧为已通过比例。点击区县查看其学校。", table, { empty: rows.length ? null : "还没有导入学校。" });
    return rows.length ? withChart(f, statusBars(rows, (r) => r.district), { rows: rows.length, onPick: (i) => setScope(rows[i].district, { focus: true }) }) : f;
  }

  function schoolsFigure(district) {
    const schools = ctx
      .known()
      .filter((s) => s.district === district)
      .map((s) => {
        const counts = countsOf(s.counts);
        return { ...s, counts, students: sum(counts) };
      })
      // 最需要催交的学校在上：完成率从低到高，再按名称。
      .sort((a, b) => (a.students ? a.counts.approved / a.students : 1) - (b.students ? b.counts.approved / b.students : 1) || a.name.localeCompare(b.name, "zh-CN") || a.school_id.localeCompare(b.school_id));
    const back = ctx.isDistrict ? null : h("button", { type: "button", class: "small", id: "dash-back", onclick: () => setScope("", { focus: true }) }, "返回全部区县");
    const table = h(
      "table",
      { class: "plain dash-table", id: "dash-schools-table" },
      h("caption", { class: "sr-only" }, `${district}各校进度`),
      h("thead", {}, h("tr", {}, ["学校", "学生", ...DASH_KEYS.map((k) => DASH_LABEL[k]), "完成率", ""].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        schools.map((s) =>
          h(
            "tr",
            { dataset: { schoolId: s.school_id } },
            h("th", { scope: "row" }, schoolLabel(s)),
            h("td", { class: "num", dataset: { key: "students" } }, String(s.students)),
            DASH_KEYS.map((k) => h("td", { class: "num", dataset: { key: k } }, String(s.counts[k]))),
            h("td", { class: "num" }, pctText(s.counts.approved, s.students)),
            h("td", {}, h("button", { type: "button", class: "small link", onclick: () => ctx.openSchool(s) }, `查看${s.name}的学生`))
          )
        )
      )
    );
    const loading = !schoolsLoaded;
    const f = figure("chart-schools", `${district}各校进度`, "按已通过比例从低到高排列，最需要催交的学校在最上面。点击学校查看其学生。", table, {
      empty: schools.length ? null : loading ? "正在加载学校…" : "这个区县还没有导入学校。",
    });
    f.el.dataset.district = district;
    if (back) f.el.querySelector("figcaption").append(back);
    return schools.length ? withChart(f, statusBars(schools, schoolLabel), { rows: schools.length, onPick: (i) => ctx.openSchool(schools[i]) }) : f;
  }

  function reasonsFigure(rows) {
    rows = rows.map((r) => ({ code: r.code, message: r.message || r.code, rejected: Number(r.rejected || 0) }));
    const table = h(
      "table",
      { class: "plain dash-table", id: "dash-reasons-table" },
      h("caption", { class: "sr-only" }, "未通过原因排行"),
      h("thead", {}, h("tr", {}, ["原因", "次数"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.map((r) => h("tr", { dataset: { code: r.code } }, h("th", { scope: "row" }, r.message), h("td", { class: "num", dataset: { key: "rejected" } }, String(r.rejected)))))
    );
    const f = figure("chart-reasons", "未通过原因排行", "自动检查和人工审核退回照片时给出的原因，按次数从多到少（一张照片可有多个原因）。", table, { empty: rows.length ? null : "还没有未通过的照片。" });
    if (!rows.length) return f;
    return withChart(f, (width) => {
      const { narrow, option } = base(width);
      return {
        height: rows.length * (narrow ? 32 : 28) + 40,
        option: {
          ...option,
          grid: { left: 4, right: 40, top: 8, bottom: 4, containLabel: true },
          xAxis: valueAxis(),
          yAxis: categoryAxis(
            rows.map((r) => r.message),
            width
          ),
          tooltip: { ...option.tooltip, trigger: "axis", axisPointer: { type: "shadow" }, formatter: (ps) => `${esc(rows[ps[0].dataIndex].message)}：${num(rows[ps[0].dataIndex].rejected)} 次` },
          series: [{ id: "rejected", name: "次数", type: "bar", barMaxWidth: 18, itemStyle: { color: "#c62828" }, emphasis: { disabled: true }, label: { show: true, position: "right", color: "#1b1f24", fontFamily }, data: rows.map((r) => r.rejected) }],
        },
      };
    });
  }

  function dailyFigure(perDay) {
    const days = fillDays(perDay);
    const keys = Object.keys(SERIES);
    const table = h(
      "table",
      { class: "plain dash-table", id: "dash-daily-table" },
      h("caption", { class: "sr-only" }, "每日上传与审核"),
      h("thead", {}, h("tr", {}, ["日期", ...keys.map((k) => SERIES[k])].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, days.map((d) => h("tr", { dataset: { date: d.date } }, h("th", { scope: "row" }, d.date), keys.map((k) => h("td", { class: "num", dataset: { key: k } }, String(d[k]))))))
    );
    const f = figure("chart-daily", "每日上传与审核", "每天上传的照片数，以及通过和未通过（含自动检查）的次数，按北京时间。", table, { empty: days.length ? null : "还没有上传记录。" });
    if (!days.length) return f;
    return withChart(f, (width) => {
      const { narrow, option } = base(width);
      return {
        height: narrow ? 250 : 270,
        option: {
          ...option,
          legend: legend(
            keys.map((k) => SERIES[k]),
            narrow
          ),
          grid: { left: 4, right: 24, top: 36, bottom: 4, containLabel: true },
          xAxis: { type: "category", data: days.map((d) => d.date), boundaryGap: days.length < 3, axisLabel: { formatter: (v) => v.slice(5), color: "#4a5563", fontFamily, hideOverlap: true } },
          yAxis: valueAxis(),
          tooltip: { ...option.tooltip, trigger: "axis" },
          series: keys.map((k) => ({ id: k, name: SERIES[k], type: "line", symbol: "circle", symbolSize: 7, showSymbol: true, lineStyle: { width: 2, color: SERIES_COLOUR[k] }, itemStyle: { color: SERIES_COLOUR[k] }, data: days.map((d) => d[k]) })),
        },
      };
    });
  }

  function appealsFigure(a, reasons) {
    const messages = new Map(reasons.map((r) => [r.code, r.message]));
    const rows = (a.by_code || []).map((r) => ({ code: r.code, message: r.message || messages.get(r.code) || r.code, appealed: Number(r.appealed || 0), overruled: Number(r.overruled || 0) }));
    const total = Number(a.total || 0);
    const overruled = Number(a.overruled || 0);
    const table = h(
      "table",
      { class: "plain dash-table", id: "dash-appeals-table" },
      h("caption", { class: "sr-only" }, "申诉改判率（按检查项）"),
      h("thead", {}, h("tr", {}, ["检查项", "申诉", "改判", "改判率"].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        rows.map((r) =>
          h(
            "tr",
            { dataset: { code: r.code } },
            h("th", { scope: "row" }, r.message),
            h("td", { class: "num", dataset: { key: "appealed" } }, String(r.appealed)),
            h("td", { class: "num", dataset: { key: "overruled" } }, String(r.overruled)),
            h("td", { class: "num" }, pctText(r.overruled, r.appealed))
          )
        )
      )
    );
    const f = figure("chart-appeals", "申诉改判率（按检查项）", "学校对自动检查结果申请人工复核后，审核员改判为通过的比例；改判率高说明该项自动检查可能过严。", table, { empty: rows.length ? null : "还没有申诉。" });
    f.el.querySelector("figcaption").append(
      h("p", { class: "appeals-total", id: "dash-appeals-total", dataset: { total: String(total), overruled: String(overruled) } }, `共 ${num(total)} 次申诉，改判 ${num(overruled)} 次（${pctText(overruled, total)}）`)
    );
    if (!rows.length) return f;
    return withChart(f, (width) => {
      const { narrow, option } = base(width);
      const top = 30;
      return {
        height: top + rows.length * (narrow ? 44 : 40) + 36,
        option: {
          ...option,
          legend: legend(["申诉", "改判"], narrow),
          grid: { left: 4, right: 8, top, bottom: 4, containLabel: true },
          xAxis: valueAxis(),
          yAxis: [
            categoryAxis(
              rows.map((r) => r.message),
              width
            ),
            rightAxis(
              rows.map((r) => pctText(r.overruled, r.appealed)),
              "#4b2a85"
            ),
          ],
          tooltip: {
            ...option.tooltip,
            trigger: "axis",
            axisPointer: { type: "shadow" },
            formatter: (ps) => {
              const r = rows[ps[0].dataIndex];
              return `<strong>${esc(r.message)}</strong><br>${marker(APPEAL_COLOUR.appealed)}申诉 ${num(r.appealed)}<br>${marker(APPEAL_COLOUR.overruled)}改判 ${num(r.overruled)}（${pctText(r.overruled, r.appealed)}）`;
            },
          },
          series: [
            { id: "appealed", name: "申诉", type: "bar", barMaxWidth: 14, barGap: "20%", itemStyle: { color: APPEAL_COLOUR.appealed }, emphasis: { disabled: true }, data: rows.map((r) => r.appealed) },
            { id: "overruled", name: "改判", type: "bar", barMaxWidth: 14, itemStyle: { color: APPEAL_COLOUR.overruled }, emphasis: { disabled: true }, data: rows.map((r) => r.overruled) },
          ],
        },
      };
    });
  }

  // The schools chart follows the progress table's loads (codes, resets, new imports).
  ctx.onKnown(() => {
    schoolsLoaded = true;
    fillPick();
    if (stats && schoolScope() !== null) render();
  });
  refresh.addEventListener("click", () => {
    load();
    ctx.reloadProgress();
  });
  printBtn.addEventListener("click", () => {
    document.body.classList.add("print-overview");
    const done = () => document.body.classList.remove("print-overview");
    window.addEventListener("afterprint", done, { once: true });
    try {
      window.print();
    } finally {
      setTimeout(done, 0);
    }
  });
  load();
}
