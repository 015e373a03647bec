// The bureau page's imports: schools (showing the registration codes to hand out), a roster
// with mistakes (per-line errors, nothing written), then a good roster; and a reviewer account.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, launch, newPage, shot, uniq, call, login } from "../lib/harness.js";

let browser;
let page;
const tag = uniq();

before(async () => {
  browser = await launch();
  page = await newPage(browser);
  await page.goto(`${BASE}/bureau.html`);
  await page.getByLabel("用户名").fill("bureau");
  await page.getByLabel("密码").fill("bureau123");
  await page.getByRole("button", { name: "登录" }).click();
  await page.locator("#progress-table").waitFor();
});

after(async () => {
  await browser?.close();
});

let schools = [];

test("school CSV import shows a registration code per school stage", async () => {
  await page.getByLabel("学校 CSV").fill(`district,school,stage\n长宁区,导入测试小学${tag},primary\n长宁区,导入测试中学${tag},junior\n`);
  await page.getByRole("button", { name: "导入学校并生成注册码" }).click();
  const rows = page.locator("#codes-table tbody tr");
  await rows.nth(1).waitFor();
  schools = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  assert.equal(schools.length, 2);
  for (const [, district, name, , code] of schools) {
    const v = await call("/api/registration/verify", { method: "POST", json: { code } });
    assert.equal(v.district, district);
    assert.equal(v.school, name);
  }
  await page.locator("#schools").scrollIntoViewIfNeeded();
  await shot(page, "22-bureau-codes");
});

test("a roster with mistakes shows each bad line and imports nothing; a good one imports", async () => {
  const [schoolId] = schools[0];
  const bad = `school_id,student_id,name,class\n${schoolId},P${tag}01,钱多多,五(1)班\n${schoolId},P ${tag}02,孙小小,五(1)班\nno-such-school,P${tag}03,李大大,五(2)班\n`;
  await page.getByLabel("学生名单 CSV").fill(bad);
  await page.getByRole("button", { name: "导入学生名单" }).click();
  const errs = page.locator("#line-errors tbody tr");
  await errs.first().waitFor();
  const lines = await errs.evaluateAll((trs) => trs.map((tr) => Number(tr.cells[0].textContent)));
  assert.deepEqual(lines, [3, 4]);
  await page.locator("#roster").scrollIntoViewIfNeeded();
  await shot(page, "23-bureau-roster-errors");

  const good = `school_id,student_id,name,class\n${schoolId},P${tag}01,钱多多,五(1)班\n${schoolId},P${tag}02,孙小小,五(1)班\n`;
  await page.getByLabel("学生名单 CSV").fill(good);
  await page.getByRole("button", { name: "导入学生名单" }).click();
  await page.locator("#roster-result", { hasText: "导入完成：新增 2 名" }).waitFor();
});

test("the bureau adds a reviewer who can then log in", async () => {
  const username = `rv_${tag.toLowerCase()}`;
  await page.getByLabel("审核员用户名").fill(username);
  await page.getByLabel("初始密码").fill("check2026");
  await page.getByRole("button", { name: "添加审核员" }).click();
  await page.locator("#reviewers", { hasText: `已添加审核员 ${username}` }).waitFor();
  assert.ok(await login(username, "check2026"));
  assert.deepEqual(page.errors, []);
});
