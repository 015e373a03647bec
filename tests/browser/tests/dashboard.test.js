// 概览 (issue 15): the dashboard at the top of bureau.html, against the real server and a
// history made through the real API in two districts of our own: uploads the check passes and
// rejects (a blue background, too dark), reviewer approvals and a rejection, an appeal a
// reviewer overrules and one upheld. The test reads GET /api/admin/stats itself and checks that
// every chart carries exactly those numbers, twice: in its 查看数据 table and in the ECharts
// instance the SVG was drawn from (and that the SVG is there with a size). Then the
// click-through: a district's bar → its schools (from GET /api/admin/progress, worst first) → a
// school's bar → its students with status and reasons; a 区县 account at 375 px sees its own
// district only; the overview prints (A4, only the overview, charts inside their boxes).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, launch, newPage, shotOf, uniq, call, login, bureauToken, makeSchool, registerSchool, uploadFromNode, uniquePhoto, corpusBytes, openAs, unlabelledControls } from "../lib/harness.js";

const pdfjs = await import("pdfjs-dist/legacy/build/pdf.mjs");

const KEYS = ["approved", "pending_review", "uploaded", "rejected", "not_uploaded"];
const tag = uniq();
const DA = `北湖区${tag}`;
const DB = `南江区${tag}`;
// Markup in a school's name (CSV imports take it): tooltips are HTML in ECharts.
const XSS_SCHOOL = `<img src=x onerror=__xss=1>二中${tag}`;
const account = { username: `qxd_${tag.toLowerCase()}`, password: "quxian2026" };

let browser;
let bureau;
let reviewer;
let a1; // DA, senior: approved, approved after an overruled appeal, rejected (too dark), not uploaded
let a2; // DA, junior, the markup name: rejected by a reviewer (phone_photo), pending, not uploaded
let b1; // DB: rejected after an upheld appeal, approved, not uploaded
let districtToken;
let bureauPage;

/** A school with a name of our own (makeSchool names its schools itself). */
async function namedSchool(name, district, stage, names) {
  const r = await call("/api/admin/schools", { method: "POST", token: bureau, csv: `district,school,stage\n${district},"${name.replace(/"/g, '""')}",${stage}\n` });
  const school = r.schools[0];
  const students = names.map((n, i) => ({ student_id: `D${tag}${stage[0].toUpperCase()}${i + 1}`, name: n, class: "九年级(1)班" }));
  await call("/api/admin/students", { method: "POST", token: bureau, csv: "school_id,student_id,name,class\n" + students.map((s) => `${school.school_id},${s.student_id},${s.name},${s.class}`).join("\n") + "\n" });
  return { school_id: school.school_id, name, district, stage, code: school.registration_code, students };
}

const review = async (rec, decision, reasons = []) => {
  const r = await call(`/api/review/${rec.student_id}`, { method: "POST", token: reviewer, json: { decision, reasons, photo_id: rec.photo_id, note: "" } });
  assert.equal(r.status, decision === "approve" ? "approved" : "rejected", JSON.stringify(r));
  return r;
};
const appeal = async (token, rec) => {
  assert.equal(rec.status, "rejected", JSON.stringify(rec));
  assert.equal(rec.appealable, true, JSON.stringify(rec));
  const r = await call(`/api/students/${rec.student_id}/appeal`, { method: "POST", token, json: { photo_id: rec.photo_id, note: "白色背景布，请人工确认" } });
  assert.equal(r.status, "pending_review");
  return r;
};
const pending = (rec) => {
  assert.equal(rec.status, "pending_review", JSON.stringify(rec));
  return rec;
};

before(async () => {
  browser = await launch();
  bureau = await bureauToken();
  reviewer = await login("reviewer1", "review123");
  a1 = await makeSchool({ bureau, district: DA, names: ["冯一帆", "蒋思琪", "沈浩然", "韩雨桐"] });
  a1.stage = "senior";
  a2 = await namedSchool(XSS_SCHOOL, DA, "junior", ["杨子墨", "朱欣怡", "秦嘉树"]);
  b1 = await makeSchool({ bureau, district: DB, names: ["许诺", "何以琛", "吕清扬"] });
  b1.stage = "senior";
  const [ta1, ta2, tb1] = [await registerSchool(a1.code), await registerSchool(a2.code), await registerSchool(b1.code)];
  // Fixed seeds no other test uses: the tests share one server, and a photo equal to another
  // school's is flagged duplicate_photo (review-policy's clean photo, seed 85, must stay clean).
  const [s1, s2, s3, s4] = [204, 51, 153, 102];
  const sid = (school, i) => school.students[i].student_id;

  // DA: 5 uploads; approvals 2 (one overruling the check); rejections 3 (2 by the check, 1 by a reviewer).
  await review(pending(await uploadFromNode(ta1.token, sid(a1, 0), await uniquePhoto(browser, s1))), "approve");
  const blueA = await uploadFromNode(ta1.token, sid(a1, 1), corpusBytes("astronaut_blue_background"));
  assert.deepEqual(blueA.reasons.map((r) => r.code), ["background_not_white"]);
  await review(await appeal(ta1.token, blueA), "approve");
  const dark = await uploadFromNode(ta1.token, sid(a1, 2), corpusBytes("astronaut_too_dark"));
  assert.equal(dark.status, "rejected");
  assert.deepEqual(dark.reasons.map((r) => r.code), ["too_dark"]);
  await review(pending(await uploadFromNode(ta2.token, sid(a2, 0), await uniquePhoto(browser, s2))), "reject", ["phone_photo"]);
  pending(await uploadFromNode(ta2.token, sid(a2, 1), await uniquePhoto(browser, s3)));

  // DB: 2 uploads; the appeal upheld (the reviewer rejects for the same reason): 2 rejections.
  const blueB = await uploadFromNode(tb1.token, sid(b1, 0), corpusBytes("astronaut_blue_background"));
  await review(await appeal(tb1.token, blueB), "reject", ["background_not_white"]);
  await review(pending(await uploadFromNode(tb1.token, sid(b1, 1), await uniquePhoto(browser, s4))), "approve");

  await call("/api/admin/accounts", { method: "POST", token: bureau, json: { role: "district", district: DA, ...account } });
  districtToken = await login(account.username, account.password);
});

after(async () => {
  await browser?.close();
});

// ---------------------------------------------------------------- what the server says
const sumDays = (perDay) => perDay.reduce((t, d) => ({ uploads: t.uploads + d.uploads, approved: t.approved + d.approved, rejected: t.rejected + d.rejected }), { uploads: 0, approved: 0, rejected: 0 });
const reasonsMap = (byReason) => Object.fromEntries(byReason.map((r) => [r.code, r.rejected]));
const counts = (c) => Object.fromEntries(KEYS.map((k) => [k, c[k] || 0]));

test("GET /api/admin/stats tells our two districts' history exactly (the numbers the page must show)", async () => {
  const a = await call(`/api/admin/stats?district=${encodeURIComponent(DA)}`, { token: bureau });
  assert.equal(a.students, 7);
  assert.deepEqual(counts(a.counts), { approved: 2, pending_review: 1, uploaded: 0, rejected: 2, not_uploaded: 2 });
  assert.deepEqual(a.by_district.map((d) => [d.district, d.students, counts(d.counts)]), [[DA, 7, counts(a.counts)]]);
  assert.deepEqual(reasonsMap(a.by_reason), { background_not_white: 1, too_dark: 1, phone_photo: 1 });
  for (const r of a.by_reason) assert.match(r.message, /\p{Script=Han}/u, `a Chinese message for ${r.code}`);
  assert.equal(a.appeals.total, 1);
  assert.equal(a.appeals.overruled, 1);
  assert.deepEqual(a.appeals.by_code.map((c) => [c.code, c.appealed, c.overruled]), [["background_not_white", 1, 1]]);
  assert.deepEqual(sumDays(a.per_day), { uploads: 5, approved: 2, rejected: 3 });

  const b = await call(`/api/admin/stats?district=${encodeURIComponent(DB)}`, { token: bureau });
  assert.equal(b.students, 3);
  assert.deepEqual(counts(b.counts), { approved: 1, pending_review: 0, uploaded: 0, rejected: 1, not_uploaded: 1 });
  assert.deepEqual(reasonsMap(b.by_reason), { background_not_white: 2 }, "the check's rejection and the reviewer's, cumulative");
  assert.deepEqual([b.appeals.total, b.appeals.overruled], [1, 0]);
  assert.deepEqual(b.appeals.by_code.map((c) => [c.code, c.appealed, c.overruled]), [["background_not_white", 1, 0]]);
  assert.deepEqual(sumDays(b.per_day), { uploads: 2, approved: 1, rejected: 2 });

  // The district account gets its own district, whatever it asks; another district is 403.
  const own = await call("/api/admin/stats", { token: districtToken });
  assert.deepEqual(own, a);
  await assert.rejects(call(`/api/admin/stats?district=${encodeURIComponent(DB)}`, { token: districtToken }), (e) => e.status === 403);
});

// ---------------------------------------------------------------- what the page shows
/** The numbers of one chart, as its table and its ECharts instance carry them. */
function readChart(page, id) {
  return page.evaluate((id) => {
    const fig = document.getElementById(id);
    if (!fig) return null;
    const rows = [...fig.querySelectorAll(".chart-data tbody tr")].map((tr) => ({
      ...tr.dataset,
      label: tr.querySelector("th").textContent,
      values: Object.fromEntries([...tr.querySelectorAll("td[data-key]")].map((td) => [td.dataset.key, Number(td.textContent)])),
    }));
    const holder = fig.querySelector(".chart");
    const svg = holder && holder.querySelector("svg");
    const box = svg && svg.getBoundingClientRect();
    const inst = holder && window.echarts && window.echarts.getInstanceByDom(holder);
    const opt = inst && inst.getOption();
    return {
      rows,
      svg: svg ? { width: box.width, height: box.height, text: [...svg.querySelectorAll("text")].map((t) => t.textContent) } : null,
      categories: opt ? [].concat(opt.yAxis)[0].data ?? [].concat(opt.xAxis)[0].data : null,
      xCategories: opt ? [].concat(opt.xAxis)[0].data ?? null : null,
      series: opt ? Object.fromEntries(opt.series.map((s) => [s.id, s.data.map((v) => (typeof v === "object" && v !== null ? v.value : v))])) : null,
    };
  }, id);
}

function assertDrawn(chart, what) {
  assert.ok(chart, `${what}: the figure is on the page`);
  assert.ok(chart.svg, `${what}: an SVG chart was drawn`);
  assert.ok(chart.svg.width > 100 && chart.svg.height > 50, `${what}: the SVG has a size (${chart.svg.width}×${chart.svg.height})`);
}

/** Every number of `stats` on the page: headline, projection, reasons, days, appeals. */
async function assertStatsShown(page, stats) {
  const kpi = Object.fromEntries(
    await page.locator("#dash-headline li").evaluateAll((lis) => lis.map((li) => [li.dataset.key, { value: Number(li.querySelector(".kpi-value").dataset.value), text: li.textContent }]))
  );
  assert.equal(kpi.students.value, stats.students);
  for (const k of ["approved", "pending_review", "rejected", "not_uploaded"]) assert.equal(kpi[k].value, stats.counts[k] || 0, k);
  assert.match(kpi.students.text, /学生总数/);
  assert.match(kpi.approved.text, new RegExp(`已通过.*（${stats.students ? Math.round((stats.counts.approved / stats.students) * 100) + "%" : "–"}）`));

  const projection = await page.locator("#dash-projection .projection-main").textContent();
  if (stats.projection) assert.equal(projection, `按当前进度，截止时约完成 ${stats.projection.expected_percent}%`);
  else assert.match(projection, /暂时无法估算|还没有导入学生|全部学生的照片都已通过/);

  const reasons = await readChart(page, "chart-reasons");
  assert.deepEqual(
    reasons.rows.map((r) => [r.code, r.label, r.values.rejected]),
    stats.by_reason.map((r) => [r.code, r.message, r.rejected])
  );
  if (stats.by_reason.length) {
    assertDrawn(reasons, "reasons");
    assert.deepEqual(reasons.categories, stats.by_reason.map((r) => r.message));
    assert.deepEqual(reasons.series.rejected, stats.by_reason.map((r) => r.rejected));
  }

  const daily = await readChart(page, "chart-daily");
  const active = Object.fromEntries(stats.per_day.map((d) => [d.date, d]));
  for (const d of stats.per_day) {
    const row = daily.rows.find((r) => r.date === d.date);
    assert.ok(row, `a row for ${d.date}`);
    assert.deepEqual(row.values, { uploads: d.uploads, approved: d.approved, rejected: d.rejected }, d.date);
  }
  for (const r of daily.rows.filter((r) => !active[r.date])) assert.deepEqual(r.values, { uploads: 0, approved: 0, rejected: 0 }, `${r.date} had no activity`);
  if (stats.per_day.length) {
    const dates = stats.per_day.map((d) => d.date).sort();
    assert.equal(daily.rows[0].date, dates[0]);
    assert.equal(daily.rows.at(-1).date, dates.at(-1));
    assertDrawn(daily, "daily");
    assert.deepEqual(daily.xCategories, daily.rows.map((r) => r.date));
    for (const k of ["uploads", "approved", "rejected"]) assert.deepEqual(daily.series[k], daily.rows.map((r) => r.values[k]), k);
  }

  const appeals = await readChart(page, "chart-appeals");
  const total = await page.locator("#dash-appeals-total").evaluate((el) => ({ ...el.dataset, text: el.textContent }));
  assert.deepEqual([Number(total.total), Number(total.overruled)], [stats.appeals.total, stats.appeals.overruled]);
  assert.match(total.text, new RegExp(`共 ${stats.appeals.total.toLocaleString("zh-CN")} 次申诉，改判 ${stats.appeals.overruled.toLocaleString("zh-CN")} 次`));
  assert.deepEqual(
    appeals.rows.map((r) => [r.code, r.values.appealed, r.values.overruled]),
    stats.appeals.by_code.map((c) => [c.code, c.appealed, c.overruled])
  );
  if (stats.appeals.by_code.length) {
    assertDrawn(appeals, "appeals");
    assert.deepEqual(appeals.series.appealed, stats.appeals.by_code.map((c) => c.appealed));
    assert.deepEqual(appeals.series.overruled, stats.appeals.by_code.map((c) => c.overruled));
  }
}

/** The status bars of a chart: table rows and the instance's stacks, in the chart's order. */
function assertStatusBars(chart, expected, what) {
  assertDrawn(chart, what);
  assert.deepEqual(
    chart.rows.map((r) => [r.label, r.values.students, ...KEYS.map((k) => r.values[k])]),
    expected.map((e) => [e.label, e.students, ...KEYS.map((k) => e.counts[k] || 0)]),
    what
  );
  assert.deepEqual(chart.categories, expected.map((e) => e.label), `${what}: bar labels`);
  for (const k of KEYS) assert.deepEqual(chart.series[k], expected.map((e) => e.counts[k] || 0), `${what}: ${k} stack`);
}

/** Waits until the overview has drawn `scope` ("" = everything the account sees); fails on its error line. */
async function ready(page, scope = "") {
  await page.locator(`#overview[data-state="ready"][data-scope="${scope}"], #overview[data-state="error"]`).waitFor();
  if ((await page.locator("#overview").getAttribute("data-state")) === "error") assert.fail(`the overview says: ${await page.locator("#dash-error").textContent()}`);
}
const schoolLabel = (s) => `${s.name}（${{ primary: "小学", junior: "初中", senior: "高中" }[s.stage]}）`;

/** Clicks the middle of a category's bar in a status chart, as a person would. */
async function clickBar(page, figureId, label) {
  const holder = page.locator(`#${figureId} .chart`);
  await holder.scrollIntoViewIfNeeded();
  const at = await holder.evaluate((el, label) => {
    const inst = window.echarts.getInstanceByDom(el);
    const opt = inst.getOption();
    const i = opt.yAxis[0].data.indexOf(label);
    if (i < 0) return null;
    const total = opt.series.reduce((n, s) => n + (s.data[i] || 0), 0);
    return [inst.convertToPixel({ xAxisIndex: 0 }, total / 2), inst.convertToPixel({ yAxisIndex: 0 }, i)];
  }, label);
  assert.ok(at, `${label} has a bar in #${figureId}`);
  const box = await holder.boundingBox();
  await page.mouse.click(box.x + at[0], box.y + at[1]);
  return at;
}

test("the bureau at 1280 px: headline, projection and every chart carry the numbers GET /api/admin/stats returns", async () => {
  bureauPage = await newPage(browser);
  const page = bureauPage;
  await openAs(page, "bureau", bureau, "/bureau.html");
  await ready(page);
  const stats = await call("/api/admin/stats", { token: bureau });
  assert.equal(await page.locator("main section").first().getAttribute("id"), "overview", "the dashboard comes first");
  assert.equal(await page.locator("#overview-title").textContent(), "概览");
  await assertStatsShown(page, stats);
  const districts = await readChart(page, "chart-districts");
  assertStatusBars(districts, stats.by_district.map((d) => ({ label: d.district, students: d.students, counts: d.counts })), "districts");
  assert.ok(districts.rows.some((r) => r.district === DA) && districts.rows.some((r) => r.district === DB));
  assert.ok(districts.svg.text.includes(DA), "the district's name is text in the SVG");
  assert.equal(await page.locator("#chart-schools").count(), 0, "no school chart before a district is picked");
  // Two charts side by side at 1280 px.
  const tops = await page.locator("#overview figure.dash-chart").evaluateAll((fs) => fs.map((f) => Math.round(f.getBoundingClientRect().top)));
  assert.equal(tops[0], tops[1], "two charts per row on a desktop");
  assert.deepEqual(await unlabelledControls(page), []);
  await page.evaluate(() => document.getElementById("notice").replaceChildren());
  await shotOf(page.locator("#overview"), "51-dashboard");
  assert.deepEqual(page.errors, []);
});

test("a click on a district's bar lists its schools (worst first); a click on a school's bar lists its students with status and reasons", async () => {
  const page = bureauPage;
  await clickBar(page, "chart-districts", DA);
  await ready(page, DA);
  assert.equal(await page.locator("#dash-district").inputValue(), DA, "统计范围 follows the click");
  const stats = await call(`/api/admin/stats?district=${encodeURIComponent(DA)}`, { token: bureau });
  assert.equal(stats.students, 7);
  await assertStatsShown(page, stats);
  assert.equal(await page.locator("#chart-districts").count(), 0);
  // The schools' numbers are the progress route's.
  const { schools } = await call("/api/admin/progress", { token: bureau });
  const mine = [a2, a1].map((s) => {
    const p = schools.find((x) => x.school_id === s.school_id);
    return { label: schoolLabel(s), students: KEYS.reduce((n, k) => n + (p.counts[k] || 0), 0), counts: p.counts };
  });
  assert.deepEqual(mine.map((m) => counts(m.counts)), [
    { approved: 0, pending_review: 1, uploaded: 0, rejected: 1, not_uploaded: 1 },
    { approved: 2, pending_review: 0, uploaded: 0, rejected: 1, not_uploaded: 1 },
  ]);
  const chart = await readChart(page, "chart-schools");
  assertStatusBars(chart, mine, "schools (0% before 50%)");
  assert.deepEqual(chart.rows.map((r) => r.schoolId), [a2.school_id, a1.school_id]);
  assert.ok(!(await page.locator("#overview .dash-grid").textContent()).includes(DB), "the charts show DA only (统计范围 still offers every district)");

  // The tooltip over the school with markup in its name shows the markup as text.
  const at = await page.locator("#chart-schools .chart").evaluate((el) => {
    const inst = window.echarts.getInstanceByDom(el);
    return [inst.convertToPixel({ xAxisIndex: 0 }, 1), inst.convertToPixel({ yAxisIndex: 0 }, 0)];
  });
  const box = await page.locator("#chart-schools .chart").boundingBox();
  await page.mouse.move(box.x + at[0], box.y + at[1]);
  const tip = page.locator(".dash-tip", { hasText: "学生 3 名" });
  await tip.waitFor();
  assert.match(await tip.textContent(), /<img src=x onerror=__xss=1>二中/);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await page.mouse.move(0, 0);
  await tip.waitFor({ state: "hidden" });
  await page.evaluate(() => document.getElementById("notice").replaceChildren());
  await shotOf(page.locator("#overview"), "52-dashboard-district-schools");

  await clickBar(page, "chart-schools", schoolLabel(a1));
  await page.locator("#drill-title", { hasText: a1.name }).waitFor();
  const rows = page.locator("#drill-table tbody tr");
  await rows.nth(3).waitFor();
  const byId = Object.fromEntries(await rows.evaluateAll((trs) => trs.map((tr) => [tr.dataset.studentId, tr.dataset.status])));
  assert.deepEqual(byId, { [a1.students[0].student_id]: "approved", [a1.students[1].student_id]: "approved", [a1.students[2].student_id]: "rejected", [a1.students[3].student_id]: "not_uploaded" });
  await page.locator(`#drill-table tr[data-student-id="${a1.students[2].student_id}"] li[data-code="too_dark"]`).waitFor();

  // The table's button does the same for a keyboard; 返回全部区县 goes back.
  await page.locator("#chart-schools details summary").click();
  await page.getByRole("button", { name: `查看${XSS_SCHOOL}的学生` }).click();
  await page.locator("#drill-title", { hasText: XSS_SCHOOL }).waitFor();
  await page.locator("#dash-back").click();
  await ready(page, "");
  await page.locator("#chart-districts").waitFor();
  assert.deepEqual(page.errors, []);
});

test("a 区县 account at 375 px: its own district only, charts one under another, no sideways scrolling, a tap opens a school", async () => {
  const ctx = await browser.newContext({ viewport: { width: 375, height: 740 }, locale: "zh-CN", timezoneId: "Asia/Shanghai", isMobile: true, hasTouch: true });
  const page = await newPage(browser, { context: ctx });
  await openAs(page, "district", districtToken, "/bureau.html");
  await ready(page);
  const stats = await call("/api/admin/stats", { token: districtToken });
  assert.deepEqual(stats.by_district.map((d) => d.district), [DA]);
  await assertStatsShown(page, stats);
  assert.equal(await page.locator("#dash-district").count(), 0, "no 统计范围 for a district");
  assert.equal(await page.locator("#chart-districts").count(), 0);
  const chart = await readChart(page, "chart-schools");
  assert.equal(chart.rows.length, 2);
  assert.deepEqual(chart.rows.map((r) => r.schoolId), [a2.school_id, a1.school_id]);
  assertDrawn(chart, "schools");
  assert.equal(await page.locator("#chart-schools h3").textContent(), `${DA}各校进度`);
  const text = await page.locator("main").textContent();
  assert.ok(!text.includes(DB) && !text.includes(b1.name), "nothing of another district");

  // Phone layout: the page does not scroll sideways, the charts stack, SVG text ≥ 12 px.
  const layout = await page.evaluate(() => ({
    vw: window.innerWidth,
    sw: document.scrollingElement.scrollWidth,
    figs: [...document.querySelectorAll("#overview figure.dash-chart")].map((f) => {
      const r = f.getBoundingClientRect();
      return { left: Math.round(r.left), right: Math.round(r.right), top: Math.round(r.top), bottom: Math.round(r.bottom) };
    }),
    svgs: [...document.querySelectorAll("#overview .chart svg")].map((s) => Math.round(s.getBoundingClientRect().right)),
    fonts: [...document.querySelectorAll("#overview .chart svg text")].map((t) => parseFloat(getComputedStyle(t).fontSize)),
  }));
  assert.ok(layout.sw <= layout.vw + 1, `page ${layout.sw}px wide in ${layout.vw}px`);
  assert.equal(layout.figs.length, 4);
  for (const [i, f] of layout.figs.entries()) {
    assert.ok(f.right <= layout.vw, `figure ${i} inside the screen`);
    if (i) assert.ok(f.top >= layout.figs[i - 1].bottom, `figure ${i} under the one before`);
  }
  for (const r of layout.svgs) assert.ok(r <= layout.vw, `an SVG ends at ${r}px`);
  assert.ok(layout.fonts.length > 10 && Math.min(...layout.fonts) >= 12, `SVG text sizes ${[...new Set(layout.fonts)]}`);
  assert.deepEqual(await unlabelledControls(page), []);
  await shotOf(page.locator("#overview"), "53-dashboard-district-phone");

  await clickBar(page, "chart-schools", schoolLabel(a1));
  await page.locator("#drill-title", { hasText: a1.name }).waitFor();
  await page.locator("#drill-table tbody tr").nth(3).waitFor();
  assert.deepEqual(page.errors, []);
  await ctx.close();
});

test("打印概览 prints the overview alone on A4; the charts stay inside their boxes and their text is text", async () => {
  const page = bureauPage;
  await page.evaluate(() => {
    window.print = () => {
      window.__printedOverview = document.body.classList.contains("print-overview");
    };
  });
  await page.locator("#dash-print").click();
  assert.equal(await page.evaluate(() => window.__printedOverview), true, "window.print() ran with only the overview marked for print");
  await page.waitForFunction(() => !document.body.classList.contains("print-overview")); // and the page is back to normal

  await page.evaluate(() => document.body.classList.add("print-overview"));
  await page.emulateMedia({ media: "print" });
  await page.setViewportSize({ width: 703, height: 1000 }); // A4's text width at 12 mm margins
  await page.evaluate(() => window.dispatchEvent(new Event("beforeprint")));
  const boxes = await page.evaluate(() =>
    [...document.querySelectorAll("#overview figure.dash-chart")].map((f) => {
      const fr = f.getBoundingClientRect();
      const svg = f.querySelector("svg");
      const sr = svg ? svg.getBoundingClientRect() : null;
      return { id: f.id, fig: [fr.left, fr.right, fr.top, fr.bottom], svg: sr && [sr.left, sr.right, sr.top, sr.bottom, sr.height] };
    })
  );
  for (const b of boxes.filter((b) => b.svg)) {
    assert.ok(b.svg[4] > 50, `${b.id}: the chart has a height in print`);
    assert.ok(b.svg[0] >= b.fig[0] - 1 && b.svg[1] <= b.fig[1] + 1 && b.svg[2] >= b.fig[2] - 1 && b.svg[3] <= b.fig[3] + 1, `${b.id}: chart inside its figure ${JSON.stringify(b)}`);
    assert.ok(b.fig[1] <= 703, `${b.id} fits the page width`);
  }
  assert.equal(await page.locator("#progress").isVisible(), false, "the other sections are not printed");
  const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
  const doc = await pdfjs.getDocument({ data: new Uint8Array(pdf), verbosity: 0 }).promise;
  let all = "";
  for (let i = 1; i <= doc.numPages; i++) all += (await (await doc.getPage(i)).getTextContent()).items.map((x) => x.str).join("");
  const [w, hgt] = (await doc.getPage(1)).view.slice(2);
  assert.ok(Math.abs(w - 595) < 2 && Math.abs(hgt - 842) < 2, `A4 portrait (${w}×${hgt} pt)`);
  for (const s of ["概览", "各区县进度", "未通过原因排行", "每日上传与审核", "申诉改判率", DA]) assert.ok(all.replace(/\s/g, "").includes(s), `the PDF has "${s}" as text`);
  for (const s of ["催交名单", "导入学校", "活动设置"]) assert.ok(!all.includes(s), `"${s}" is not printed`);
  await page.evaluate(() => {
    document.body.classList.remove("print-overview");
    window.dispatchEvent(new Event("afterprint"));
  });
  await page.emulateMedia({ media: "screen" });
  assert.deepEqual(page.errors, []);
});

test("without a projection the page says why instead of a percentage (the real answer, its projection taken out)", async () => {
  const page = await newPage(browser);
  let real = null;
  await page.route("**/api/admin/stats*", async (route) => {
    const res = await route.fetch();
    real = await res.json();
    // Whatever the server projected, the other case: null when it had one, one when it had none.
    const other = real.projection ? null : { ends_on: "2099-01-01", days_left: 10, per_day: 2.5, expected_approved: 5, expected_percent: 42 };
    await route.fulfill({ response: res, json: { ...real, projection: other } });
  });
  await openAs(page, "bureau", bureau, "/bureau.html");
  await ready(page);
  const line = await page.locator("#dash-projection .projection-main").textContent();
  if (real.projection) assert.equal(line, "暂时无法估算截止时的完成比例（采集活动还没有开始或还没有设置）。");
  else assert.equal(line, "按当前进度，截止时约完成 42%");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
