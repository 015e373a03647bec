// The teacher's whole journey on the real server: entry → 使用须知 → 我同意 → registration with
// the code (区县 and 学校 shown) → 学校信息 → 学生信息列表 (filters, search, export, an XSS name
// rendered as text, a single upload) → 上传须知 → 批量上传 of mixed good and bad files (match
// count, confirm, progress, final statuses, retry failed) → closing the tab and coming back.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtempSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BASE, launch, newPage, shot, fixture, bureauToken, makeSchool, unlabelledControls } from "../lib/harness.js";

// Markup in a name (the server caps names at 50 characters): an <img onerror> is what would run
// if a page ever put a name through innerHTML.
const XSS_NAME = `<img src=x onerror=__xss=1>李"小'明<script>`;

let browser;
let school;
let page;
let context;
const username = `teacher_${Date.now().toString(36)}`;
const password = "photo2026";

before(async () => {
  browser = await launch();
  const bureau = await bureauToken();
  school = await makeSchool({
    bureau,
    names: ["王子涵", "李浩然", "张欣怡", "刘宇轩", "陈梓萱", "杨俊杰", XSS_NAME, "赵雨桐"],
    classes: ["高三(1)班", "高三(2)班"],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "zh-CN", acceptDownloads: true });
  page = await newPage(browser, { context });
});

after(async () => {
  await browser?.close();
});

const sid = (i) => school.students[i].student_id;

test("entry page offers the three entries and the helpdesk line", async () => {
  await page.goto(BASE + "/");
  await page.getByRole("heading", { name: "毕业照片采集" }).waitFor();
  for (const name of ["学校入口", "审核员入口", "区县/市教委入口"]) {
    assert.equal(await page.getByRole("link", { name: new RegExp(name) }).count(), 1, name);
  }
  const helpdesk = page.locator("#helpdesk");
  await helpdesk.getByText("4008205307 / 8008205307").waitFor();
  assert.match(await helpdesk.textContent(), /每周一至周六 8:00-20:00（国定节假日除外）/);
  await page.locator("#window-banner .banner-open").waitFor();
  await shot(page, "01-entry");
  await page.getByRole("link", { name: /学校入口/ }).click();
  await page.getByRole("heading", { name: "学校登录" }).waitFor();
  await shot(page, "02-login");
});

test("使用须知: 我不同意 leaves, 我同意 goes on to registration", async () => {
  await page.getByRole("link", { name: "注册" }).click();
  await page.getByRole("heading", { name: "网站使用须知" }).waitFor();
  assert.match(await page.locator("main").textContent(), /照片尺寸为 272×354 像素，分辨率为 300DPI 以上/);
  await shot(page, "03-terms", { fullPage: true });
  await page.getByRole("button", { name: "我不同意" }).click();
  await page.getByRole("heading", { name: "毕业照片采集" }).waitFor();
  // Registration is not reachable without agreeing.
  await page.goto(BASE + "/school.html#register");
  await page.getByRole("heading", { name: "网站使用须知" }).waitFor();
  await page.getByRole("button", { name: "我同意" }).click();
  await page.getByRole("heading", { name: "学校注册" }).waitFor();
});

test("registration: the code shows 区县 and 学校, the password rule is shown and enforced", async () => {
  await page.getByLabel("注册码").fill("NOSUCHCODE1");
  await page.getByRole("button", { name: "提交验证" }).click();
  await page.locator(".form-error").filter({ hasText: /注册码/ }).waitFor();
  await page.getByLabel("注册码").fill(school.code);
  await page.getByRole("button", { name: "提交验证" }).click();
  await page.locator("#reg-district").getByText(school.district).waitFor();
  assert.equal(await page.locator("#reg-school-name").textContent(), school.name);
  assert.match(await page.locator("#reg-pass-rule").textContent(), /至少 6 位，须同时包含字母和数字/);
  await page.getByLabel("用户名").fill(username);
  await page.getByLabel("密码", { exact: true }).fill("123456");
  await page.getByLabel("再次输入密码").fill("123456");
  await page.getByRole("button", { name: "注册" }).click();
  await page.locator("#reg-pass-error").filter({ hasText: /密码不符合要求/ }).waitFor();
  await shot(page, "04-register", { fullPage: true });
  await page.getByLabel("密码", { exact: true }).fill(password);
  await page.getByLabel("再次输入密码").fill(password);
  await page.getByRole("button", { name: "注册" }).click();
  await page.getByRole("heading", { name: "学校信息" }).waitFor();
});

test("学校信息 shows the school to confirm", async () => {
  assert.equal(await page.locator("#info-school").textContent(), school.name);
  assert.equal(await page.locator("#info-district").textContent(), school.district);
  await shot(page, "05-school-info");
  await page.getByRole("link", { name: "确认无误，进入学生信息列表" }).click();
  await page.getByRole("heading", { name: "学生信息列表" }).waitFor();
});

test("学生信息列表: statuses, class filter, search, XSS-safe names, export", async () => {
  const rows = page.locator("#roster tbody tr");
  assert.equal(await rows.count(), school.students.length);
  assert.equal(await page.locator("#roster tbody .chip-not_uploaded").count(), school.students.length);
  // A name full of markup is shown as text and runs nothing.
  const xssRow = page.locator(`tr[data-student-id="${sid(6)}"] td.name`);
  assert.equal(await xssRow.textContent(), XSS_NAME);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await page.locator("#roster img[src='x']").count(), 0);
  // Class filter.
  await page.getByLabel("班级").selectOption("高三(2)班");
  assert.equal(await rows.count(), school.students.filter((s) => s.class === "高三(2)班").length);
  await page.getByLabel("班级").selectOption("");
  // Search by name and by 学籍副号.
  await page.getByLabel("查找").fill("张欣怡");
  assert.equal(await rows.count(), 1);
  await page.getByLabel("查找").fill(sid(1));
  assert.equal(await rows.count(), 1);
  await page.getByLabel("查找").fill("");
  // Export: the CSV comes down with the token, as a file.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "导出学生信息" }).click()]);
  const csv = readFileSync(await download.path(), "utf8");
  assert.ok(csv.startsWith("\uFEFF"), "CSV starts with a BOM for Excel");
  assert.match(csv, /学籍副号,姓名,班级,上传状态/);
  assert.ok(csv.includes(sid(0)) && csv.includes("未上传"));
});

test("single upload from a row ends in 待审核 with a thumbnail", async () => {
  const row = page.locator(`tr[data-student-id="${sid(4)}"]`);
  await row.locator("input[type=file]").setInputFiles(fixture("good.jpg"));
  await page.locator(`tr[data-student-id="${sid(4)}"][data-status="pending_review"]`).waitFor({ timeout: 60_000 });
  await page.locator(`tr[data-student-id="${sid(4)}"] img.thumb`).waitFor();
  const loaded = await page.locator(`tr[data-student-id="${sid(4)}"] img.thumb`).evaluate((img) => img.complete && img.naturalWidth);
  assert.equal(loaded, 272);
  // The status filter finds it.
  await page.getByLabel("上传状态", { exact: true }).selectOption("pending_review");
  assert.equal(await page.locator("#roster tbody tr").count(), 1);
  await page.getByLabel("上传状态", { exact: true }).selectOption("");
  await shot(page, "06-students");
  assert.deepEqual(await unlabelledControls(page), [], "every control on the roster has a label");
});

test("上传须知 shows the sample photo (272×354) and the rules", async () => {
  await page.getByRole("link", { name: "上传须知" }).click();
  await page.getByRole("heading", { name: "上传须知" }).waitFor();
  const img = page.locator("figure.sample img");
  await img.waitFor();
  const size = await img.evaluate(async (el) => {
    await el.decode();
    return [el.naturalWidth, el.naturalHeight];
  });
  assert.deepEqual(size, [272, 354]);
  assert.match(await page.locator("main").textContent(), /学籍副号/);
  await shot(page, "07-rules");
});

test("批量上传: match count and reasons, confirm, progress, final statuses, retry failed", async () => {
  await page.getByRole("link", { name: "批量上传" }).first().click();
  await page.getByRole("heading", { name: "批量上传" }).waitFor();
  // The second good file's first PUT is cut off, to exercise "重试失败".
  let cut = 0;
  await page.route("**/store/**", async (route) => {
    if (route.request().method() === "PUT" && route.request().url().includes(`/${sid(1)}/`) && cut === 0) {
      cut++;
      return route.abort("connectionreset");
    }
    return route.continue();
  });
  const file = (name, path) => ({ name, mimeType: "image/jpeg", buffer: readFileSync(fixture(path)) });
  await page.locator("#batch-files").setInputFiles([
    file(`${sid(0)}.jpg`, "good.jpg"),
    file(`${sid(1)}.jpg`, "good-alt.jpg"),
    file(`${sid(2)}.jpg`, "no-face.jpg"),
    file(`${sid(3)}.jpg`, "wrong-size.jpg"),
    file(`${sid(5)}.jpg`, "png-as-jpg.jpg"),
    file(`${sid(4)}.jpg`, "good.jpg"), // already uploaded above
    file("Z9999999.jpg", "good.jpg"), // not in the roster
  ]);
  await page.locator("#match-summary").waitFor();
  assert.equal(await page.locator("#match-count").textContent(), "可以上传 3 张");
  assert.equal(await page.locator("#mismatch-count").textContent(), "不能上传 3 张");
  const codes = await page.locator("#mismatch-table tbody tr").evaluateAll((trs) => trs.map((tr) => tr.dataset.code).sort());
  assert.deepEqual(codes, ["already_uploaded", "not_jpeg", "unknown_student"]);
  // The 300×400 photo fails only on its size: the server suggests its crop (autocrop.test.js
  // follows that through); here the teacher leaves it out of this batch.
  await page.locator('#autocrop-progress[data-done="true"]').waitFor({ timeout: 60_000 });
  const crop = page.locator(`#autocrop-table tr[data-student-id="${sid(3)}"]`);
  assert.equal(await crop.getAttribute("data-state"), "ready");
  assert.match(await crop.textContent(), /原图 300×400 → 272×354/);
  assert.match(await page.locator("#autocrop-unapplied").textContent(), /1 张可自动裁剪/);
  // The previous single upload's notice fades after a few seconds; a full-page shot would put it over the thumbnails.
  await page.locator("#notice .notice").waitFor({ state: "detached", timeout: 10_000 });
  await shot(page, "08-batch-check", { fullPage: true });

  await page.getByRole("button", { name: "确定上传 3 张" }).click();
  await page.locator("#batch-table tbody tr").nth(2).waitFor();
  await page.locator('#overall-text[data-done="true"]').waitFor({ timeout: 90_000 });
  const state = (i) => page.locator(`#batch-table tr[data-student-id="${sid(i)}"]`);
  assert.equal(await state(0).getAttribute("data-result-status"), "pending_review");
  assert.equal(await state(1).getAttribute("data-state"), "failed");
  assert.equal(await state(2).getAttribute("data-result-status"), "rejected");
  assert.ok((await state(2).locator(".reasons li").count()) >= 1, "the check's reasons are listed");
  assert.match(await page.locator("#retry-failed").textContent(), /重试失败（1）/);
  await shot(page, "09-batch-failed", { fullPage: true });

  await page.getByRole("button", { name: /重试失败/ }).click();
  await page.locator(`#batch-table tr[data-student-id="${sid(1)}"][data-result-status="pending_review"]`).waitFor({ timeout: 60_000 });
  await page.locator('#overall-text[data-done="true"]').waitFor();
  assert.equal(cut, 1);
  assert.ok(await page.locator("#retry-failed").isDisabled());
  await shot(page, "10-batch-done", { fullPage: true });
  await page.unroute("**/store/**");
});

test("drag-and-drop and a whole folder are sorted the same way (nothing is sent before confirming)", async () => {
  // Two files dropped: one not in the roster, one whose student already has a photo.
  const dt = await page.evaluateHandle(
    ([a, b]) => {
      const t = new DataTransfer();
      t.items.add(new File([new Uint8Array([0xff, 0xd8, 0xff, 0xe0])], a, { type: "image/jpeg" }));
      t.items.add(new File([new Uint8Array([0xff, 0xd8, 0xff, 0xe0])], b, { type: "image/jpeg" }));
      return t;
    },
    ["NOTINROSTER1.jpg", `${sid(0)}.jpg`]
  );
  await page.locator("#dropzone").dispatchEvent("drop", { dataTransfer: dt });
  await page.locator("#match-count", { hasText: "可以上传 0 张" }).waitFor();
  assert.equal(await page.locator("#mismatch-count").textContent(), "不能上传 2 张");
  await page.getByRole("button", { name: "取消" }).click();

  // A folder (webkitdirectory): the one student left without a photo matches.
  const dir = mkdtempSync(join(tmpdir(), "gradphoto-folder-"));
  copyFileSync(fixture("good.jpg"), join(dir, `${sid(7)}.jpg`));
  copyFileSync(fixture("good.jpg"), join(dir, `${sid(0)}.jpg`));
  await page.locator("#batch-folder").setInputFiles(dir);
  await page.locator("#match-count", { hasText: "可以上传 1 张" }).waitFor();
  assert.equal(await page.locator("#mismatch-count").textContent(), "不能上传 1 张");
  await page.getByRole("button", { name: "取消" }).click();
  assert.deepEqual(await unlabelledControls(page), [], "every control on the batch page has a label");
});

test("closing the tab and coming back shows what was done", async () => {
  await page.close();
  page = await newPage(browser, { context });
  await page.goto(BASE + "/school.html#batch");
  await page.locator("#batch-table tbody tr").nth(2).waitFor();
  assert.equal(await page.locator(`#batch-table tr[data-student-id="${sid(0)}"]`).getAttribute("data-result-status"), "pending_review");
  assert.equal(await page.locator(`#batch-table tr[data-student-id="${sid(1)}"]`).getAttribute("data-result-status"), "pending_review");
  assert.equal(await page.locator(`#batch-table tr[data-student-id="${sid(2)}"]`).getAttribute("data-result-status"), "rejected");
  // The roster agrees.
  await page.getByRole("link", { name: "学生信息列表" }).click();
  await page.locator(`tr[data-student-id="${sid(0)}"][data-status="pending_review"]`).waitFor();
  await page.locator(`tr[data-student-id="${sid(2)}"][data-status="rejected"]`).waitFor();
  assert.deepEqual(page.errors, []);
});

test("phone width: the roster and the entry page fit 375px", async () => {
  const phone = await newPage(browser, { context: await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, locale: "zh-CN" }) });
  const token = await page.evaluate(() => localStorage.getItem("gradphoto.token.school"));
  await phone.goto(BASE + "/index.html");
  await shot(phone, "17-entry-phone", { fullPage: true });
  await phone.evaluate((t) => localStorage.setItem("gradphoto.token.school", t), token);
  await phone.goto(BASE + "/school.html#students");
  await phone.locator("#roster tbody tr").first().waitFor();
  // Nothing sticks out to the right (which would mean sideways scrolling on a phone).
  const overflow = await phone.evaluate(() => Math.max(...[...document.querySelectorAll("body *")].map((e) => e.getBoundingClientRect().right)) - window.innerWidth);
  assert.ok(overflow <= 1, `nothing wider than 375px (overflow ${overflow}px)`);
  await shot(phone, "18-students-phone");
  await phone.context().close();
});
