// 区县 (district) accounts on the bureau page: the bureau creates one for a district it
// imported; the district logs in through the entry page's 区县/市教委入口, sees only its own
// schools with their registration codes, downloads the 催交名单 (chase list), opens a school's
// students, and resets a registered school's account (the old teacher is locked out, the new
// code registers, the photos stay). Campaign settings and imports are not on its page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { BASE, launch, newPage, shot, shotOf, uniq, call, login, bureauToken, makeSchool, registerSchool, uploadFromNode, uniquePhoto, corpusBytes, openAs, unlabelledControls } from "../lib/harness.js";

let browser;
let page; // the district's page
let bureau;
const tag = uniq();
const OWN = `东湖区${tag}`;
const OTHER = `西山区${tag}`;
const account = { username: `qx_${tag.toLowerCase()}`, password: "quxian2026" };
let registered; // OWN: registered, one photo pending, one rejected, one not uploaded
let unregistered; // OWN: not registered
let other; // OTHER
let teacher;
let districtToken;

before(async () => {
  browser = await launch();
  bureau = await bureauToken();
  registered = await makeSchool({ bureau, district: OWN, names: ["陈一鸣", "林晓雨", "周子航"] });
  unregistered = await makeSchool({ bureau, district: OWN, names: ["吴思远", "郑雅文"] });
  other = await makeSchool({ bureau, district: OTHER, names: ["赵别区"] });
  teacher = await registerSchool(registered.code);
  const [pendingOne, rejectedOne] = registered.students;
  assert.equal((await uploadFromNode(teacher.token, pendingOne.student_id, await uniquePhoto(browser, 163))).status, "pending_review");
  assert.equal((await uploadFromNode(teacher.token, rejectedOne.student_id, corpusBytes("astronaut_blue_background"))).status, "rejected");
});

after(async () => {
  await browser?.close();
});

const rowOf = (p, school) => p.locator(`#progress-table tr[data-school-id="${school.school_id}"]`);

test("the bureau creates a district account for a district of its imported schools", async () => {
  const bp = await newPage(browser);
  await bp.goto(`${BASE}/bureau.html`);
  await bp.getByLabel("用户名").fill("bureau");
  await bp.getByLabel("密码").fill("bureau123");
  await bp.getByRole("button", { name: "登录" }).click();
  await rowOf(bp, other).waitFor();
  // The district picker offers the districts the school list has.
  const pick = bp.getByLabel("区县", { exact: true });
  const options = await pick.locator("option").allTextContents();
  assert.ok(options.includes(OWN) && options.includes(OTHER), options.join(","));
  await pick.selectOption(OWN);
  await bp.getByLabel("区县账号用户名").fill(account.username);
  await bp.getByLabel("登录密码").fill(account.password);
  await bp.getByRole("button", { name: "创建区县账号" }).click();
  await bp.locator("#districts-result.ok", { hasText: account.username }).waitFor();
  await shotOf(bp.locator("#districts"), "50-bureau-district-account");

  // The bureau's own chase list, narrowed to one district.
  await bp.getByLabel("区县范围").selectOption(OTHER);
  const [dl] = await Promise.all([bp.waitForEvent("download"), bp.locator("#chase-download").click()]);
  assert.equal(dl.suggestedFilename(), `催交名单-${OTHER}.csv`);
  const text = readFileSync(await dl.path(), "utf8");
  assert.ok(text.includes(other.students[0].student_id));
  assert.ok(!text.includes(OWN), "only the district asked for");
  assert.deepEqual(bp.errors, []);
  await bp.context().close();
});

test("the district logs in through 区县/市教委入口 and sees only its own schools, with their codes", async () => {
  page = await newPage(browser);
  await page.goto(`${BASE}/index.html`);
  await page.getByRole("link", { name: /区县\/市教委入口/ }).click();
  await page.getByLabel("用户名").fill(account.username);
  await page.getByLabel("密码").fill(account.password);
  await page.getByRole("button", { name: "登录" }).click();
  await rowOf(page, registered).waitFor();
  assert.match(await page.locator("#account").textContent(), new RegExp(`${OWN} · 区县账号`));
  assert.match(await page.locator("h1").textContent(), new RegExp(OWN));
  const body = await page.locator("main").textContent();
  assert.ok(body.includes(registered.name) && body.includes(unregistered.name));
  assert.ok(!body.includes(other.name), "another district's school is not on the page");
  assert.ok(!body.includes(OTHER));
  assert.equal(await page.locator("#progress-table tbody tr").count(), 2);
  // The unregistered school's code, to hand out; the registered one says it is used.
  assert.equal(await rowOf(page, unregistered).locator("td.code").textContent(), unregistered.code);
  assert.match(await rowOf(page, unregistered).textContent(), /未注册/);
  assert.match(await rowOf(page, registered).textContent(), new RegExp(`已注册.*${teacher.username}`));
  assert.equal(await rowOf(page, unregistered).getByRole("button", { name: /重置/ }).count(), 0, "nothing to reset before registration");
  // Counts of its own schools: 1 pending, 1 rejected, 1 + 2 not uploaded.
  const cells = await rowOf(page, registered).locator("td.num").allTextContents();
  assert.deepEqual(cells.slice(0, 5), ["1", "0", "1", "0", "1"]);
  // No campaign settings, imports, accounts or reopen.
  for (const id of ["campaign", "schools", "roster", "reviewers", "districts", "reopen"]) {
    assert.equal(await page.locator(`#${id}`).count(), 0, `#${id} is not rendered for a district`);
  }
  for (const text of ["活动设置", "导入学校", "导入学生名单", "审核员账号", "撤回已通过照片"]) assert.ok(!body.includes(text), text);
  assert.deepEqual(await unlabelledControls(page), []);
});

test("the district downloads its chase list: UTF-8 BOM, the students not uploaded or rejected", async () => {
  const [dl] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "下载催交名单（CSV）" }).click()]);
  assert.equal(dl.suggestedFilename(), "催交名单.csv");
  const bytes = readFileSync(await dl.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], "UTF-8 BOM for Excel");
  const lines = bytes.toString("utf8").slice(1).trim().split(/\r?\n/);
  assert.equal(lines[0], "区县,学校,学段,学校注册,老师用户名,学籍副号,姓名,班级,上传状态,原因");
  const [pendingOne, rejectedOne, notUploaded] = registered.students;
  const line = (id) => lines.find((l) => l.includes(id));
  assert.match(line(notUploaded.student_id), new RegExp(`^${OWN},${registered.name},高中,已注册,${teacher.username},${notUploaded.student_id},${notUploaded.name},.*,未上传,`));
  assert.match(line(rejectedOne.student_id), /未通过审核/);
  assert.match(line(unregistered.students[0].student_id), /,未注册,,/);
  assert.equal(line(pendingOne.student_id), undefined, "a pending photo needs no chasing");
  assert.ok(!lines.some((l) => l.includes(other.students[0].student_id) || l.includes(OTHER)));
  assert.equal(lines.length, 1 + 4);
  await page.locator("#chase-result", { hasText: "4 名学生" }).waitFor();
  // The API refuses another district's list and students to this account.
  const token = await page.evaluate(() => localStorage.getItem("gradphoto.token.district"));
  districtToken = token;
  await assert.rejects(call(`/api/admin/chase.csv?district=${encodeURIComponent(OTHER)}`, { token }), (e) => e.status === 403);
  await assert.rejects(call(`/api/admin/students?school_id=${other.school_id}`, { token }), (e) => e.status === 403);
  for (const [path, opts] of [
    ["/api/admin/campaign", {}],
    ["/api/admin/schools", { method: "POST", csv: `district,school,stage\n${OWN},不该导入${tag},senior\n` }],
    ["/api/admin/accounts", { method: "POST", json: { role: "district", district: OWN, username: `qx2_${tag.toLowerCase()}`, password: "quxian2026" } }],
  ]) {
    await assert.rejects(call(path, { token, ...opts }), (e) => e.status === 403, path);
  }
  // And the bureau cannot make an account for a district without schools.
  await assert.rejects(
    call("/api/admin/accounts", { method: "POST", token: bureau, json: { role: "district", district: `无此区${tag}`, username: `qx3_${tag.toLowerCase()}`, password: "quxian2026" } }),
    (e) => e.status === 400 && e.data.error.code === "unknown_district"
  );
});

test("a click on a school lists its students with status, reasons and 上传人; the status filter narrows", async () => {
  await rowOf(page, registered).getByRole("button", { name: registered.name, exact: true }).click();
  const rows = page.locator("#drill-table tbody tr");
  await rows.nth(2).waitFor();
  assert.equal(await rows.count(), 3);
  const [pendingOne, rejectedOne] = registered.students;
  const rej = page.locator(`#drill-table tr[data-student-id="${rejectedOne.student_id}"]`);
  assert.match(await rej.textContent(), /未通过审核/);
  assert.ok((await rej.locator("td.reasons li").count()) >= 1, "the check's reason is listed");
  assert.equal(await rej.locator("td.uploader").textContent(), "学校");
  assert.match(await page.locator(`#drill-table tr[data-student-id="${pendingOne.student_id}"]`).textContent(), /待审核/);
  await page.evaluate(() => document.getElementById("notice").replaceChildren()); // the download's toast
  await shot(page, "47-district", { fullPage: true });

  await page.getByLabel("上传状态").selectOption("rejected");
  await page.locator("#drill-summary", { hasText: "未通过审核：1 名学生" }).waitFor();
  assert.equal(await rows.count(), 1);
  assert.equal(await rows.first().getAttribute("data-student-id"), rejectedOne.student_id);
  await page.getByLabel("上传状态").selectOption("");
  await page.locator("#drill-summary", { hasText: "共 3 名学生" }).waitFor();
});

test("重置账号: the dialog says what happens; the old teacher is locked out, the new code registers, the photos stay", async () => {
  await rowOf(page, registered).getByRole("button", { name: `重置 ${registered.name} 的学校账号` }).click();
  const dialog = page.locator("#reset-dialog[open]");
  await dialog.waitFor();
  const what = await dialog.locator("#reset-what").textContent();
  assert.match(what, new RegExp(`${teacher.username}.*无法登录`));
  assert.match(what, /新的注册码/);
  assert.match(what, /照片.*保留/);
  // 取消 changes nothing.
  await dialog.getByRole("button", { name: "取消" }).click();
  await page.locator("#reset-dialog[open]").waitFor({ state: "detached" });
  assert.ok(await login(teacher.username, teacher.password));

  await rowOf(page, registered).getByRole("button", { name: `重置 ${registered.name} 的学校账号` }).click();
  await page.locator("#reset-dialog[open]").getByRole("button", { name: "确认重置" }).click();
  const codeEl = page.locator("#reset-dialog #reset-code");
  await codeEl.waitFor();
  const code = (await codeEl.textContent()).trim();
  assert.match(code, /^[A-Z0-9-]{6,}$/);
  assert.notEqual(code, registered.code);
  await page.evaluate(() => document.getElementById("notice").replaceChildren());
  await shot(page, "49-district-reset");

  // The old account: no login, and its session has ended.
  await assert.rejects(login(teacher.username, teacher.password), (e) => e.status === 401);
  await assert.rejects(call("/api/school", { token: teacher.token }), (e) => e.status === 401);
  // The table now shows the school unregistered with the new code.
  await page.locator(`#progress-table tr[data-school-id="${registered.school_id}"][data-registered="false"]`).waitFor();
  assert.equal(await rowOf(page, registered).locator("td.code").textContent(), code);
  await page.locator("#school-students", { hasText: "未注册" }).waitFor(); // the open school's students follow
  await page.getByRole("button", { name: "我已记下，关闭" }).click();
  await page.locator("#reset-dialog[open]").waitFor({ state: "detached" });

  // The new code registers a new teacher, who finds the roster and the photos as they were.
  const v = await call("/api/registration/verify", { method: "POST", json: { code } });
  assert.equal(v.school, registered.name);
  const again = await registerSchool(code);
  const { students } = await call("/api/students", { token: again.token });
  const byId = Object.fromEntries(students.map((s) => [s.student_id, s.status]));
  assert.deepEqual(byId, { [registered.students[0].student_id]: "pending_review", [registered.students[1].student_id]: "rejected", [registered.students[2].student_id]: "not_uploaded" });
  await assert.rejects(registerSchool(code), (e) => e.status === 409, "the new code is single-use");
  await page.locator("#progress-refresh").click();
  await page.locator(`#progress-table tr[data-school-id="${registered.school_id}"][data-registered="true"]`).waitFor();
  assert.deepEqual(page.errors, []);
});

test("the district's page at 375×740: schools as cards, no sideways scrolling", async () => {
  const ctx = await browser.newContext({ viewport: { width: 375, height: 740 }, locale: "zh-CN", timezoneId: "Asia/Shanghai", isMobile: true, hasTouch: true });
  const phone = await newPage(browser, { context: ctx });
  await openAs(phone, "district", districtToken, "/bureau.html");
  await rowOf(phone, unregistered).waitFor();
  await phone.locator("#helpdesk a.hd-phone").waitFor();
  assert.match(await phone.locator("#account").textContent(), new RegExp(OWN));
  const { vw, sw } = await phone.evaluate(() => ({ vw: window.innerWidth, sw: document.scrollingElement.scrollWidth }));
  assert.ok(sw <= vw + 1, `page ${sw}px wide in ${vw}px`);
  await shot(phone, "48-district-phone", { fullPage: true });
  assert.deepEqual(phone.errors, []);
  await ctx.close();
});
