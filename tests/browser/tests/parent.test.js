// 家长入口 on the real server, at a phone's 375×740 and a desktop's 1280×800: the whole journey
// from the entry page (使用须知 → 我同意 → 学籍副号 + 上传码 → the child, masked → the rules and
// the sample → the pre-flight check → upload → 待审核 → the photo, and no re-upload before
// review); a photo the check rejects, with its reason, then a new upload; an appeal; a wrong
// code; the bureau's 允许家长上传 switch; and the teacher's 上传人 column and filter.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, launch, newPage, shot, shotOf, fixture, fixtureBytes, corpusBytes, bureauToken, makeSchool, registerSchool, call, openAs, openCampaign, uniquePhoto, unlabelledControls } from "../lib/harness.js";

const PHONE = { width: 375, height: 740 };
const DESKTOP = { width: 1280, height: 800 };

let browser;
let bureau;
let school;
let teacher;
let codes; // 学籍副号 → code, as the school issued them

before(async () => {
  browser = await launch();
  bureau = await bureauToken();
  school = await makeSchool({ bureau, names: ["欧阳小明", "李浩然", "张欣怡", "刘宇轩", "陈梓萱", "杨俊杰"], classes: ["高三(1)班", "高三(2)班"] });
  teacher = await registerSchool(school.code);
  const res = await call("/api/school/parent-codes", { method: "POST", token: teacher.token, json: {} });
  assert.equal(res.codes.length, school.students.length);
  // The server may hand the code out grouped (XXXXX-XXXXX) or not: 10 characters of the alphabet either way.
  for (const c of res.codes) assert.match(c.code.replace(/-/g, ""), /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}$/, `a code of the contract's alphabet: ${c.code}`);
  codes = Object.fromEntries(res.codes.map((c) => [c.student_id, c.code.replace(/-/g, "")]));
});

after(async () => {
  await browser?.close();
});

const sid = (i) => school.students[i].student_id;
const grouped = (c) => `${c.slice(0, 5)}-${c.slice(5)}`;

async function phonePage(viewport) {
  const mobile = viewport.width < 700;
  const ctx = await browser.newContext({ viewport, isMobile: mobile, hasTouch: mobile, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
  return newPage(browser, { context: ctx });
}

/** Nothing wider than the viewport (no sideways scrolling on a phone). */
const overflow = (page) => page.evaluate(() => Math.max(...[...document.querySelectorAll("body *")].map((e) => e.getBoundingClientRect().right)) - window.innerWidth);

/** Entry page → 家长入口 → 使用须知 → 我同意 → login with `code` as typed. */
async function enterAndLogin(page, studentId, typed, shown = null) {
  await page.goto(BASE + "/");
  await page.getByRole("link", { name: /家长入口/ }).click();
  await page.getByRole("heading", { name: "网站使用须知" }).waitFor();
  assert.match(await page.locator("main").textContent(), /在审核前无法进行修改和重新上传/);
  await page.getByRole("button", { name: "我同意" }).click();
  await page.getByRole("heading", { name: "家长登录" }).waitFor();
  await page.getByLabel("学籍副号").fill(studentId);
  await page.getByLabel("上传码").fill(typed);
  if (shown) assert.equal(await page.getByLabel("上传码").inputValue(), shown, "the code is shown as printed on the slip");
  await page.getByRole("button", { name: "登录" }).click();
}

/** Parent session and upload from Node (for setting up states the page then shows). */
async function parentUploadFromNode(studentId, bytes) {
  const { token } = await call("/api/parent/sessions", { method: "POST", json: { student_id: studentId, code: codes[studentId] } });
  const { upload } = await call("/api/parent/uploads", { method: "POST", token, json: { size: bytes.length, content_type: "image/jpeg" } });
  const put = await fetch(new URL(upload.url, BASE), { method: upload.method || "PUT", headers: upload.headers, body: bytes });
  assert.ok(put.ok, `PUT ${put.status}`);
  for (let i = 0; i < 400; i++) {
    const s = await call("/api/parent/student", { token });
    if (["pending_review", "approved", "rejected"].includes(s.status)) return { token, record: s };
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error("the check did not finish");
}

for (const [label, viewport, i, shotName] of [
  ["375×740", PHONE, 0, "40-parent-phone"],
  ["1280×800", DESKTOP, 1, "41-parent-desktop"],
]) {
  test(`a parent's whole journey at ${label}: 家长入口 → terms → login → rules → upload → 待审核 → photo shown`, async () => {
    const page = await phonePage(viewport);
    const s = school.students[i];
    // Typed as a parent might: lower case, no dash (the page formats it as XXXXX-XXXXX).
    await enterAndLogin(page, s.student_id, codes[s.student_id].toLowerCase(), grouped(codes[s.student_id]));
    await page.getByRole("heading", { name: "孩子的毕业照片" }).waitFor();

    // The child: school, class, 学籍副号; the name masked until tapped.
    assert.match(await page.locator("#child-school").textContent(), new RegExp(school.name));
    assert.equal(await page.locator("#child-class").textContent(), s.class);
    assert.equal(await page.locator("#child-id").textContent(), s.student_id);
    const masked = i === 0 ? "欧**明" : "李*然";
    assert.equal(await page.locator("#child-name").textContent(), masked);
    assert.ok(!(await page.locator("main").textContent()).includes(s.name), "the full name is not on the page before it is asked for");
    assert.match(await page.locator("#account").textContent(), new RegExp(masked.replace(/\*/g, "\\*")));
    await page.getByRole("button", { name: "显示" }).click();
    assert.equal(await page.locator("#child-name").textContent(), s.name);
    assert.equal(await page.locator("#status-card").getAttribute("data-status"), "not_uploaded");

    // The rules and the sample photo.
    const sample = page.locator(".sample img");
    assert.deepEqual(await sample.evaluate(async (el) => (await el.decode(), [el.naturalWidth, el.naturalHeight])), [272, 354]);
    assert.match(await page.locator("#photo-checklist").textContent(), /272×354 像素，300 DPI/);
    assert.match(await page.locator("#upload-card").textContent(), /只能成功上传一次/);

    // The pre-flight check refuses a wrong size without sending anything, and points to the crop helper.
    let presigns = 0;
    page.on("request", (r) => r.url().includes("/api/parent/uploads") && presigns++);
    await page.locator("#parent-file").setInputFiles(fixture("wrong-size.jpg"));
    await page.locator('#precheck-error[data-code="wrong_size"]').waitFor();
    assert.match(await page.locator("#precheck-error").textContent(), /272×354/);
    assert.equal(await page.getByRole("link", { name: "用裁剪助手调整" }).count(), 1);
    // ...and, the photo being only too large a picture, offers the server's crop of it at once.
    await page.locator("#use-autocrop").waitFor({ timeout: 60_000 });
    assert.match(await page.locator("#parent-autocrop").textContent(), /可自动裁剪.*300×400/);
    assert.deepEqual(await page.locator("#autocrop-after").evaluate(async (el) => (await el.decode(), [el.naturalWidth, el.naturalHeight])), [272, 354]);
    await page.locator("#autocrop-before").evaluate((el) => el.decode());
    if (i === 0) await shotOf(page.locator("#upload-result"), "57-parent-autocrop-phone");
    assert.equal(presigns, 0);

    // A good photo: preview, confirm, upload, 待审核, the photo shown, and no way to change it.
    await page.locator("#parent-file").setInputFiles({ name: "photo.jpg", mimeType: "image/jpeg", buffer: await uniquePhoto(browser, 40 + i) });
    await page.locator("#upload-preview").waitFor();
    if (i === 0) await shot(page, "42-parent-confirm-phone", { fullPage: true });
    await page.getByRole("button", { name: "确认无误，上传" }).click();
    await page.locator('#status-card[data-status="pending_review"]').waitFor({ timeout: 60_000 });
    assert.equal(presigns, 1);
    assert.equal(await page.locator("#status-card .chip").textContent(), "待审核");
    const img = page.locator("#child-photo");
    assert.equal(await img.evaluate(async (el) => (await el.decode(), el.naturalWidth)), 272);
    assert.match(await page.locator("#why-no-change").textContent(), /审核前不能修改或重新上传/);
    assert.equal(await page.locator("#parent-file").count(), 0, "no file chooser before review");
    assert.match(await page.locator("#uploaded-by").textContent(), /家长/);
    await page.locator("#helpdesk .hd-phone").waitFor();
    assert.ok((await overflow(page)) <= 1, "nothing wider than the screen");
    assert.deepEqual(await unlabelledControls(page), []);
    await page.getByRole("button", { name: "隐藏" }).click();
    assert.equal(await page.locator("#child-name").textContent(), masked);
    await shot(page, shotName, { fullPage: true });

    // The server agrees, and coming back later shows the same.
    const record = await call(`/api/students/${s.student_id}`, { token: teacher.token });
    assert.equal(record.status, "pending_review");
    assert.equal(record.uploaded_by, "parent");
    await page.reload();
    await page.locator('#status-card[data-status="pending_review"]').waitFor();
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test("a photo the check rejects shows its reason in plain Chinese; the parent uploads a new one", async () => {
  const page = await phonePage(PHONE);
  const s = school.students[2];
  await enterAndLogin(page, s.student_id, grouped(codes[s.student_id]));
  await page.getByRole("heading", { name: "孩子的毕业照片" }).waitFor();
  await page.locator("#parent-file").setInputFiles(fixture("no-face.jpg"));
  await page.getByRole("button", { name: "确认无误，上传" }).click();
  await page.locator('#status-card[data-status="rejected"]').waitFor({ timeout: 60_000 });
  assert.equal(await page.locator("#status-card .chip").textContent(), "未通过审核");
  const reasons = await page.locator("#child-reasons li").allTextContents();
  assert.ok(reasons.length >= 1 && reasons.every((r) => /[\u4e00-\u9fff]/.test(r)), `reasons in Chinese: ${reasons}`);
  assert.match(await page.locator("#status-text").textContent(), /再次上传/);
  await page.getByRole("heading", { name: "重新上传照片" }).waitFor();
  await shot(page, "43-parent-rejected-phone", { fullPage: true });

  await page.locator("#parent-file").setInputFiles({ name: "new.jpg", mimeType: "image/jpeg", buffer: await uniquePhoto(browser, 77) });
  await page.getByRole("button", { name: "确认无误，上传" }).click();
  await page.locator('#status-card[data-status="pending_review"]').waitFor({ timeout: 60_000 });
  assert.equal(await page.locator("#child-reasons").count(), 0, "the old reasons are gone");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("an appealable rejection offers 申请人工复核, which sends the photo to a reviewer", async () => {
  const s = school.students[3];
  const { record } = await parentUploadFromNode(s.student_id, corpusBytes("astronaut_blue_background"));
  assert.equal(record.status, "rejected");
  assert.equal(record.appealable, true, JSON.stringify(record));
  const page = await phonePage(PHONE);
  await enterAndLogin(page, s.student_id, codes[s.student_id]);
  await page.locator('#status-card[data-status="rejected"]').waitFor();
  await page.getByRole("button", { name: "申请人工复核" }).click();
  await page.getByLabel(/说明/).fill("照相馆拍摄的白色背景，请人工确认");
  await page.getByRole("button", { name: "提交复核申请" }).click();
  await page.locator('#status-card[data-status="pending_review"]').waitFor();
  await page.locator("#appeal-state").waitFor();
  assert.equal(await page.locator("#appeal-open").count(), 0);
  const after = await call(`/api/students/${s.student_id}`, { token: teacher.token });
  assert.equal(after.status, "pending_review");
  assert.ok(after.appeal, "the appeal is recorded");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a wrong code says so and logs no one in; a code issued again replaces the old one", async () => {
  const page = await phonePage(PHONE);
  const s = school.students[4];
  const wrong = codes[s.student_id].startsWith("A") ? "BBBBBBBBBB" : "AAAAAAAAAA";
  await enterAndLogin(page, s.student_id, wrong);
  await page.locator('#p-login-error[data-code="bad_credentials"]').waitFor();
  assert.match(await page.locator("#p-login-error").textContent(), /上传码/);
  assert.equal(await page.evaluate(() => localStorage.getItem("gradphoto.token.parent")), null);
  await page.getByRole("heading", { name: "家长登录" }).waitFor();

  // An unknown 学籍副号 answers the same (ids cannot be probed).
  await page.getByLabel("学籍副号").fill("NOSUCH0001");
  await page.getByLabel("上传码").fill(codes[s.student_id]);
  await page.getByRole("button", { name: "登录" }).click();
  await page.locator('#p-login-error[data-code="bad_credentials"]').waitFor();

  // The right code logs in; the teacher issues a new one; the old session and code end.
  await page.getByLabel("学籍副号").fill(s.student_id);
  await page.getByRole("button", { name: "登录" }).click();
  await page.getByRole("heading", { name: "孩子的毕业照片" }).waitFor();
  const fresh = await call("/api/school/parent-codes", { method: "POST", token: teacher.token, json: { student_ids: [s.student_id] } });
  assert.equal(fresh.codes.length, 1);
  assert.notEqual(fresh.codes[0].code.replace(/-/g, ""), codes[s.student_id]);
  await page.reload();
  await page.getByRole("heading", { name: "家长登录" }).waitFor();
  await page.getByLabel("学籍副号").fill(s.student_id);
  await page.getByLabel("上传码").fill(codes[s.student_id]);
  await page.getByRole("button", { name: "登录" }).click();
  await page.locator('#p-login-error[data-code="bad_credentials"]').waitFor();
  codes[s.student_id] = fresh.codes[0].code.replace(/-/g, "");
  await page.getByLabel("上传码").fill(codes[s.student_id]);
  await page.getByRole("button", { name: "登录" }).click();
  await page.getByRole("heading", { name: "孩子的毕业照片" }).waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("too many wrong codes for one 学籍副号 pause the login, and the page says for how long", async () => {
  // An id no school has: the limit counts typed ids alike, and no real parent is locked out.
  const page = await phonePage(PHONE);
  await enterAndLogin(page, `LOCK${Date.now().toString(36).toUpperCase()}`, "AAAAA-AAAAA");
  await page.locator('#p-login-error[data-code="bad_credentials"]').waitFor();
  let code = "bad_credentials";
  for (let i = 0; i < 8 && code === "bad_credentials"; i++) {
    await page.evaluate(() => document.getElementById("p-login-error").removeAttribute("data-code"));
    await page.getByRole("button", { name: "登录" }).click();
    await page.locator("#p-login-error[data-code]").waitFor();
    code = await page.locator("#p-login-error").getAttribute("data-code");
  }
  assert.equal(code, "too_many_attempts");
  assert.match(await page.locator("#p-login-error").textContent(), /分钟/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("outside the upload window a logged-in parent reads why, not an error", async () => {
  const s = school.students[4];
  const { token } = await call("/api/parent/sessions", { method: "POST", json: { student_id: s.student_id, code: codes[s.student_id] } });
  const day = (d) => new Date(Date.now() + d * 86400_000).toISOString().slice(0, 10);
  const page = await phonePage(PHONE);
  try {
    await call("/api/admin/campaign", { method: "PUT", token: bureau, json: { ...openCampaign("已结束的采集活动"), starts_on: day(-30), ends_on: day(-2) } });
    await openAs(page, "parent", token, "/parent.html#home");
    await page.locator('#refusal[data-code="window_closed"]').waitFor();
    await page.getByRole("heading", { name: "暂时无法上传" }).waitFor();
    assert.match(await page.locator("main").textContent(), /已上传的照片不受影响/);
  } finally {
    await call("/api/admin/campaign", { method: "PUT", token: bureau, json: openCampaign() });
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the bureau's 允许家长上传 switch closes the parents' path with a clear message, and opens it again", async () => {
  const desk = await newPage(browser);
  await openAs(desk, "bureau", bureau, "/bureau.html#campaign");
  const sw = desk.getByLabel("允许家长上传");
  await sw.waitFor();
  const before = await call("/api/admin/campaign", { token: bureau });
  assert.equal(await sw.isChecked(), before.parents_enabled !== false);
  try {
    await sw.uncheck();
    await desk.getByRole("button", { name: "保存设置" }).click();
    await desk.locator("#campaign-result", { hasText: "已保存" }).waitFor();
    const saved = await call("/api/admin/campaign", { token: bureau });
    assert.equal(saved.parents_enabled, false);
    assert.equal(saved.name, before.name, "the other settings are kept");
    assert.deepEqual(saved.review_policy, before.review_policy);

    const page = await phonePage(PHONE);
    const s = school.students[5];
    await enterAndLogin(page, s.student_id, codes[s.student_id]);
    await page.locator('#p-login-error[data-code="parents_disabled"]').waitFor();
    assert.match(await page.locator("#p-login-error").textContent(), /学校老师/);
    await page.context().close();
  } finally {
    const keep = Object.fromEntries(["name", "starts_on", "ends_on", "daily_open", "daily_close", "timezone", "review_policy"].filter((k) => k in before).map((k) => [k, before[k]]));
    await call("/api/admin/campaign", { method: "PUT", token: bureau, json: { ...keep, parents_enabled: true } });
  }
  await desk.reload();
  await desk.getByLabel("允许家长上传").waitFor();
  assert.equal(await desk.getByLabel("允许家长上传").isChecked(), true);
  assert.deepEqual(desk.errors, []);
  await desk.context().close();
});

test("the crop helper turns a larger portrait into the 272×354 photo and uploads it as the parent's", async () => {
  const page = await phonePage(PHONE);
  const s = school.students[4];
  await enterAndLogin(page, s.student_id, codes[s.student_id]);
  await page.getByRole("heading", { name: "孩子的毕业照片" }).waitFor();
  await page.locator("#to-crop").click();
  await page.getByRole("heading", { name: "裁剪助手" }).waitFor();
  assert.equal(await page.getByLabel("学生").inputValue(), s.student_id, "the child is preselected");
  assert.ok(!(await page.getByLabel("学生").textContent()).includes(s.name), "the name stays masked");
  await page.getByLabel("原始照片").setInputFiles(fixture("portrait.jpg"));
  const stage = page.locator("#crop-stage");
  await stage.waitFor();
  // The suggestion, asked for with the parent's token, places the frame; nothing to adjust.
  assert.equal(await page.locator("#crop-suggest-note").getAttribute("data-state"), "suggested");
  await page.getByRole("button", { name: "生成 272×354 照片" }).click();
  await page.locator("#crop-info").waitFor();
  await page.getByRole("button", { name: "上传为该学生照片" }).click();
  await page.locator("#crop-result .chip").waitFor({ timeout: 60_000 });
  assert.equal(await page.locator("#crop-result .chip").textContent(), "待审核");
  assert.ok((await overflow(page)) <= 1, "the crop helper fits the phone");
  await page.locator("#back-home").click();
  await page.locator('#status-card[data-status="pending_review"]').waitFor();
  const record = await call(`/api/students/${s.student_id}`, { token: teacher.token });
  assert.equal(record.uploaded_by, "parent");
  assert.equal(record.auto_cropped, true, "the parent's upload of an unchanged suggestion says so");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the teacher sees 上传人 家长 / 学校 in the roster and filters by it", async () => {
  // One photo from the school too, so both values show.
  const bytes = fixtureBytes("good-alt.jpg");
  const g = await call("/api/uploads", { method: "POST", token: teacher.token, json: { files: [{ student_id: sid(5), size: bytes.length }], content_type: "image/jpeg" } });
  const up = g.uploads[0];
  assert.ok((await fetch(new URL(up.url, BASE), { method: up.method || "PUT", headers: up.headers, body: bytes })).ok);
  const page = await newPage(browser);
  await openAs(page, "school", teacher.token, "/school.html#students");
  await page.locator(`tr[data-student-id="${sid(0)}"]`).waitFor();
  const cell = (i) => page.locator(`tr[data-student-id="${sid(i)}"] td.uploader`);
  assert.equal(await cell(0).textContent(), "家长");
  assert.equal(await cell(1).textContent(), "家长");
  await page.locator(`tr[data-student-id="${sid(5)}"] td.uploader`, { hasText: "学校" }).waitFor({ timeout: 30_000 }).catch(async () => {
    await page.getByRole("button", { name: "刷新" }).click();
    await page.locator(`tr[data-student-id="${sid(5)}"] td.uploader`, { hasText: "学校" }).waitFor();
  });
  await page.getByLabel("上传人").selectOption("parent");
  const rows = await page.locator("#roster tbody tr").evaluateAll((trs) => trs.map((tr) => tr.dataset.studentId));
  assert.deepEqual(rows.sort(), [sid(0), sid(1), sid(2), sid(3), sid(4)].sort());
  await shot(page, "44-roster-uploader");
  await page.getByLabel("上传人").selectOption("school");
  assert.deepEqual(await page.locator("#roster tbody tr").evaluateAll((trs) => trs.map((tr) => tr.dataset.studentId)), [sid(5)]);
  // The CSV says it too.
  const csv = await (await fetch(BASE + "/api/students.csv", { headers: { Authorization: `Bearer ${teacher.token}` } })).text();
  assert.match(csv.split("\n")[0], /上传人/);
  assert.ok(csv.split("\n").some((l) => l.includes(sid(0)) && l.includes("家长")));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
