// The reviewer clears a school's queue with the keyboard alone (J/K to move, A approve, 1–9 to
// pick reasons, N for a note, R reject), and the bureau then sees the result and exports it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { BASE, launch, newPage, shot, fixtureBytes, bureauToken, makeSchool, registerSchool, uploadFromNode, call } from "../lib/harness.js";

let browser;
let school;
let teacher;
let page;

before(async () => {
  browser = await launch();
  const bureau = await bureauToken();
  school = await makeSchool({ bureau, names: ["周思远", "吴佳怡", "徐博文"], classes: ["高三(3)班"] });
  teacher = await registerSchool(school.code);
  // Oldest first in the queue: upload one after another.
  const verdicts = [];
  for (const [i, f] of [[0, "good.jpg"], [1, "good-alt.jpg"], [2, "good.jpg"]]) {
    verdicts.push(await uploadFromNode(teacher.token, school.students[i].student_id, fixtureBytes(f)));
  }
  assert.deepEqual(verdicts.map((v) => v.status), ["pending_review", "pending_review", "pending_review"], JSON.stringify(verdicts));
  page = await newPage(browser);
});

after(async () => {
  await browser?.close();
});

const sid = (i) => school.students[i].student_id;
const currentId = () => page.locator("#review-student-id").textContent();

test("reviewer logs in and sees the queue with large previews and progress", async () => {
  await page.goto(`${BASE}/review.html?view=single&school_id=${encodeURIComponent(school.school_id)}`);
  await page.getByLabel("用户名").fill("reviewer1");
  await page.getByLabel("密码").fill("review123");
  await page.getByRole("button", { name: "登录" }).click();
  await page.locator("#review-student-id").waitFor();
  assert.equal(await currentId(), sid(0));
  assert.match(await page.locator("#review-progress").textContent(), /待审核 3 张/);
  const size = await page.locator(".review-preview img").evaluate(async (img) => {
    await img.decode();
    return [img.naturalWidth, img.getBoundingClientRect().width];
  });
  assert.equal(size[0], 272);
  assert.ok(size[1] >= 1.5 * 272, `the preview is enlarged (${size[1]}px wide)`);
  assert.ok((await page.locator(".reasons-pick input[type=checkbox]").count()) >= 9, "reason picks are listed");
  // Under the findings, what the check measured on the head, with the check's limits beside.
  const measure = await page.locator(".findings .measure").textContent();
  assert.match(measure, /^测量：眼睛距顶部 \d+ 像素（≤188） · 头顶 \d+ 像素（约 6–17，允许 3–64） · 下巴 \d+ 像素 · 头部占高 [\d.]+%（45%–82%） · 偏离中心 (左 |右 )?\d+ 像素（≤22） · 倾斜 (左低 |右低 )?[\d.]+° · 两眼间距 \d+ 像素 · 眼距\/鼻高 [\d.]+（0\.95–1\.60）$/, measure);
  assert.equal(await page.locator(".findings .measure .bad").count(), 0, "a passing photo has no number outside its limit");
  await shot(page, "11-review");
});

test("J and K move through the queue", async () => {
  await page.keyboard.press("j");
  assert.equal(await currentId(), sid(1));
  await page.keyboard.press("j");
  assert.equal(await currentId(), sid(2));
  await page.keyboard.press("k");
  await page.keyboard.press("k");
  assert.equal(await currentId(), sid(0));
});

test("A approves; R needs a reason; 1 picks one, N writes a note, R rejects", async () => {
  await page.keyboard.press("a");
  await page.locator("#review-student-id", { hasText: sid(1) }).waitFor();
  // 已审核 is the approved status's label: the session count says 已处理.
  const progress = await page.locator("#review-progress").textContent();
  assert.match(progress, /^本次已处理 1 张（通过 1，不通过 0）/);
  assert.doesNotMatch(progress, /已审核/);

  // Start from a clean slate of picks (the automatic findings may have preselected some).
  for (const box of await page.locator(".reasons-pick input:checked").all()) await box.uncheck();
  await page.locator("body").focus();
  await page.keyboard.press("r");
  await page.locator("#review-error").filter({ hasText: "请至少选择一个不通过原因" }).waitFor();
  assert.equal(await currentId(), sid(1), "nothing was decided without a reason");

  await page.keyboard.press("1");
  const first = page.locator(".reasons-pick input").first();
  assert.ok(await first.isChecked());
  const firstCode = await first.getAttribute("value");
  await page.keyboard.press("n");
  await page.keyboard.type("背景有阴影，请重新拍摄");
  await page.keyboard.press("Escape");
  await shot(page, "12-review-reject");
  await page.keyboard.press("r");
  await page.locator("#review-student-id", { hasText: sid(2) }).waitFor();

  const rejected = await call(`/api/students/${sid(1)}`, { token: teacher.token });
  assert.equal(rejected.status, "rejected");
  assert.deepEqual(rejected.reasons.map((r) => r.code), [firstCode]);
  assert.equal((await call(`/api/students/${sid(0)}`, { token: teacher.token })).status, "approved");
});

test("the last one shows its automatic findings; approving it empties the queue", async () => {
  // good.jpg was uploaded twice: the check flags the second as a duplicate.
  assert.match(await page.locator(".findings").textContent(), /几乎相同|相同|duplicate/);
  await page.keyboard.press("a");
  await page.locator("#queue-empty").waitFor();
  assert.match(await page.locator("#review-progress").textContent(), /本次已处理 3 张（通过 2，不通过 1）/);
  await shot(page, "13-review-empty");
  assert.equal((await call(`/api/students/${sid(2)}`, { token: teacher.token })).status, "approved");
  assert.deepEqual(page.errors, []);
});

test("bureau page: progress per school and the ZIP export of approved photos", async () => {
  const bp = await newPage(browser);
  await bp.goto(`${BASE}/bureau.html`);
  await bp.getByLabel("用户名").fill("bureau");
  await bp.getByLabel("密码").fill("bureau123");
  await bp.getByRole("button", { name: "登录" }).click();
  const row = bp.locator(`#progress-table tr[data-school-id="${school.school_id}"]`);
  await row.waitFor();
  const cells = await row.locator("td.num").allTextContents();
  // 未上传, 已上传, 待审核, 已审核, 未通过审核, 完成率
  assert.deepEqual(cells.slice(0, 5), ["0", "0", "0", "2", "1"]);
  await shot(bp, "14-bureau", { fullPage: true });
  const [download] = await Promise.all([bp.waitForEvent("download"), row.getByRole("button", { name: /导出/ }).click()]);
  assert.match(download.suggestedFilename(), new RegExp(`^approved-${school.school_id}-\\d{8}-\\d{6}-[0-9a-f]{6}\\.zip$`));
  const zipPath = await download.path();
  const listing = execFileSync("python3", ["-c", "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))", zipPath], { encoding: "utf8" });
  const names = listing.trim().split("\n").sort();
  assert.deepEqual(names, [`${school.school_id}/${sid(0)}.jpg`, `${school.school_id}/${sid(2)}.jpg`, "manifest.csv"].sort());
  assert.ok(readFileSync(zipPath).length > 1000);
  await bp.context().close();
});
