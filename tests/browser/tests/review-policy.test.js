// The bureau's 审核策略 and 撤回已通过照片: with 自动通过无疑点照片 and a 0 % sample, a photo that
// passed every rule with no flag is approved by itself; a flagged one still waits for a person.
// The bureau then reopens an approved photo (wrong child found later): the teacher sees it
// 未通过审核 with the reason, and may upload again. The policy is put back to 全部人工审核
// afterwards, so the other tests on this server keep their human review.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, launch, newPage, shotOf, fixtureBytes, uniquePhoto, bureauToken, makeSchool, registerSchool, uploadFromNode, call } from "../lib/harness.js";

let browser;
let bureau;
let page;
let school;
let teacher;

before(async () => {
  browser = await launch();
  bureau = await bureauToken();
  school = await makeSchool({ bureau, names: ["严思齐", "华雨萱", "金子墨"], classes: ["高三(7)班"] });
  teacher = await registerSchool(school.code);
  page = await newPage(browser);
  await page.goto(`${BASE}/bureau.html`);
  await page.getByLabel("用户名").fill("bureau");
  await page.getByLabel("密码").fill("bureau123");
  await page.getByRole("button", { name: "登录" }).click();
  await page.locator("#progress-table").waitFor();
});

after(async () => {
  // Back to the default for every later test on this server, whatever happened above.
  const c = await call("/api/admin/campaign", { token: bureau }).catch(() => null);
  // The whole campaign with the policy reset: the embedded server still requires every v1 field
  // in a PUT (a body of review_policy alone is refused with bad_json, missing field `name`).
  const keep = c ? Object.fromEntries(["name", "starts_on", "ends_on", "daily_open", "daily_close", "timezone"].filter((k) => k in c).map((k) => [k, c[k]])) : null;
  if (c) await call("/api/admin/campaign", { method: "PUT", token: bureau, json: { ...keep, review_policy: { auto_approve: "none", sample_percent: 0 } } }).catch((e) => console.error(`review-policy: could not reset the policy: ${e.message}`));
  await browser?.close();
});

const sid = (i) => school.students[i].student_id;

test("the bureau sets 自动通过无疑点照片 with a 0 % sample; saving PUTs it", async () => {
  const form = page.locator("#review-policy");
  await form.waitFor();
  // The page shows what the server holds (the default).
  await page.waitForFunction(() => document.querySelector("#policy-none").checked || document.querySelector("#policy-clean").checked);
  assert.equal(await page.locator("#policy-none").isChecked(), true);
  assert.equal(await page.locator("#policy-sample").isDisabled(), true, "no sample without automatic approval");
  await page.getByLabel("自动通过无疑点照片").check();
  await page.getByLabel("抽检比例（%）").fill("150");
  const put = page.waitForRequest((r) => r.method() === "PUT" && r.url().endsWith("/api/admin/campaign"), { timeout: 2000 }).catch(() => null);
  await page.locator("#campaign").getByRole("button", { name: "保存设置" }).click();
  await page.locator("#campaign-result", { hasText: "抽检比例应为 0 到 100 之间的整数" }).waitFor();
  assert.equal(await put, null, "an out-of-range sample is not sent");
  await page.getByLabel("抽检比例（%）").fill("0");
  await page.locator("#campaign").getByRole("button", { name: "保存设置" }).click();
  await page.locator("#campaign-result", { hasText: "已保存" }).waitFor();
  assert.match(await page.locator("#campaign-result").textContent(), /自动通过无疑点照片，抽检 0%/);
  const c = await call("/api/admin/campaign", { token: bureau });
  assert.deepEqual(c.review_policy, { auto_approve: "clean", sample_percent: 0 });
  await shotOf(page.locator("#campaign"), "28-review-policy");
  // The form reloaded shows what was saved.
  await page.reload();
  await page.locator("#policy-clean:checked").waitFor();
  assert.equal(await page.locator("#policy-sample").inputValue(), "0");
});

test("with the policy, a clean photo is approved by itself; a flagged one waits for a person", async () => {
  const clean = await uploadFromNode(teacher.token, sid(0), await uniquePhoto(browser, 0b01010101));
  assert.equal(clean.status, "approved", JSON.stringify(clean));
  assert.equal(clean.decided_by, "auto");
  // The same photo for two students: the second is flagged as a duplicate, so a person decides.
  await uploadFromNode(teacher.token, sid(2), fixtureBytes("good.jpg"));
  const flagged = await uploadFromNode(teacher.token, sid(1), fixtureBytes("good.jpg"));
  assert.equal(flagged.status, "pending_review", JSON.stringify(flagged));
  assert.ok(flagged.flags.length >= 1);
});

test("撤回已通过照片: the bureau reopens an approved photo; the teacher sees 未通过审核 and may upload again", async () => {
  const form = page.locator("#reopen");
  await form.scrollIntoViewIfNeeded();
  // Mistakes first: an unknown student, a photo not approved, no reason.
  await page.getByLabel("学籍副号", { exact: true }).fill("NOSUCH1");
  await page.locator("#reopen-submit").click();
  await page.locator("#reopen-result", { hasText: "请选择撤回原因" }).waitFor();
  const reasons = (await call("/api/review/reasons", { token: bureau })).reasons;
  const wrongPerson = reasons.find((r) => r.code === "wrong_person") || reasons[0];
  await page.getByLabel("原因", { exact: true }).selectOption(wrongPerson.code);
  await page.locator("#reopen-submit").click();
  await page.locator("#reopen-result .error").waitFor();
  assert.match(await page.locator("#reopen-result").textContent(), /未能撤回/);
  await page.getByLabel("学籍副号", { exact: true }).fill(sid(1)); // pending, not approved
  await page.locator("#reopen-submit").click();
  await page.locator("#reopen-result .error[data-code=not_approved]").waitFor();

  await page.getByLabel("学籍副号", { exact: true }).fill(sid(0));
  await page.getByLabel("备注", { exact: true }).fill("学校来电：照片为其他学生");
  const done = page.waitForResponse((r) => r.url().endsWith(`/api/admin/students/${sid(0)}/reopen`));
  await page.locator("#reopen-submit").click();
  assert.equal((await done).status(), 200);
  await page.locator("#reopen-ok", { hasText: "未通过审核" }).waitFor();
  await shotOf(form, "29-bureau-reopen");
  assert.deepEqual(page.errors, []);

  const t = await newPage(browser);
  await t.goto(`${BASE}/index.html`);
  await t.evaluate((tok) => localStorage.setItem("gradphoto.token.school", tok), teacher.token);
  await t.goto(`${BASE}/school.html#students`);
  const row = t.locator(`#roster tr[data-student-id="${sid(0)}"][data-status="rejected"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /未通过审核/);
  assert.match(await row.textContent(), new RegExp(wrongPerson.message.slice(0, 6)));
  assert.equal(await row.locator("button.appeal").count(), 0, "a person's decision is not appealable");
  // The flagged photo waiting for a person shows its soft finding, as pending rows always did.
  await t.locator(`#roster tr[data-student-id="${sid(1)}"][data-status="pending_review"] ul.soft li[data-code="duplicate_photo"]`).waitFor();
  // It may upload again: the row offers 重新上传 and the server presigns an upload.
  await row.getByText("重新上传").waitFor();
  const r = await call("/api/uploads", { method: "POST", token: teacher.token, json: { files: [{ student_id: sid(0), size: 20000 }], content_type: "image/jpeg" } });
  assert.equal(r.uploads.length, 1, JSON.stringify(r.refused));
  const rec = await call(`/api/students/${sid(0)}`, { token: teacher.token });
  assert.equal(rec.decided_by, "reviewer");
  assert.deepEqual(t.errors, []);
  await t.context().close();
});
