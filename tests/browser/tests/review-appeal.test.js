// 申请人工复核: a photo the automatic check rejected for a judgement (a blue background) is not a
// dead end. The teacher sees the button only on that row, appeals with a note; the row becomes
// 待审核 / 已申请人工复核; the reviewer's grid marks it 申诉 with the note, the one-by-one view
// shows the note too, and the reviewer approves it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, shot, fixtureBytes, corpusBytes, bureauToken, makeSchool, registerSchool, uploadFromNode, call, login, openAs } from "../lib/harness.js";

let browser;
let school;
let teacher;
let reviewer;
const NOTE = "照相馆白色背景布，灯光偏蓝，请人工确认";

before(async () => {
  browser = await launch();
  const bureau = await bureauToken();
  school = await makeSchool({ bureau, names: ["孔令辉", "邓雅文", "常一凡"], classes: ["高三(6)班"] });
  teacher = await registerSchool(school.code);
  reviewer = await login("reviewer1", "review123");
  const blue = await uploadFromNode(teacher.token, sid(0), corpusBytes("astronaut_blue_background"));
  assert.equal(blue.status, "rejected", JSON.stringify(blue));
  assert.deepEqual(blue.reasons.map((r) => r.code), ["background_not_white"]);
  assert.equal(blue.decided_by, "check");
  assert.equal(blue.appealable, true);
  // A file rule (the size) is not a judgement: no appeal.
  const wrong = await uploadFromNode(teacher.token, sid(1), fixtureBytes("wrong-size.jpg"));
  assert.equal(wrong.status, "rejected");
  assert.equal(wrong.appealable, false);
});

after(async () => {
  await browser?.close();
});

function sid(i) {
  return school.students[i].student_id;
}

test("the teacher appeals a judgement with a note; the row becomes 待审核 · 已申请人工复核", async () => {
  const page = await newPage(browser);
  await openAs(page, "school", teacher.token, "/school.html#students");
  const row = page.locator(`#roster tr[data-student-id="${sid(0)}"]`);
  await row.waitFor();
  assert.equal(await page.locator(`#roster tr[data-student-id="${sid(1)}"] button.appeal`).count(), 0, "no appeal on a file rule");
  await row.getByRole("button", { name: /申请人工复核/ }).click();
  const dialog = page.locator("#appeal-dialog");
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /照片将转人工复核，复核期间不能重新上传/);
  await page.getByLabel(/说明（可选/).fill(NOTE);
  assert.equal(await page.locator("#appeal-count").textContent(), `${[...NOTE].length}/200`);
  await shot(page, "26-appeal-dialog");
  // 取消 leaves everything as it was.
  await page.locator("#appeal-cancel").click();
  await dialog.waitFor({ state: "hidden" });
  assert.equal(await row.getAttribute("data-status"), "rejected");

  await row.getByRole("button", { name: /申请人工复核/ }).click();
  await page.getByLabel(/说明（可选/).fill(NOTE);
  const sent = page.waitForRequest((r) => r.url().endsWith(`/api/students/${sid(0)}/appeal`));
  await page.locator("#appeal-ok").click();
  const body = JSON.parse((await sent).postData());
  assert.equal(body.note, NOTE);
  assert.ok(body.photo_id, "the appeal names the photo the teacher saw");
  await page.locator(`#roster tr[data-student-id="${sid(0)}"][data-status="pending_review"]`).waitFor();
  const text = await row.textContent();
  assert.match(text, /待审核/);
  assert.match(text, /已申请人工复核/);
  assert.equal(await row.locator("input[type=file]").count(), 0, "no upload while under review");
  assert.equal(await row.locator("button.appeal").count(), 0, "one appeal per photo");
  await shot(page, "27-appeal-pending");
  const rec = await call(`/api/students/${sid(0)}`, { token: teacher.token });
  assert.equal(rec.status, "pending_review");
  assert.equal(rec.appeal.note, NOTE);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the reviewer sees it marked 申诉 with the note (grid and one-by-one) and approves it", async () => {
  const page = await newPage(browser);
  await openAs(page, "reviewer", reviewer, `/review.html?school_id=${encodeURIComponent(school.school_id)}`);
  const tile = page.locator(`.tile[data-student-id="${sid(0)}"]`);
  await tile.waitFor();
  assert.equal(await page.locator(".tile").count(), 1);
  assert.equal(await tile.locator(".badge-appeal").textContent(), "申诉");
  assert.match(await tile.locator(".tile-appeal-note").textContent(), new RegExp(NOTE));
  assert.match(await tile.locator(".tile-badges").textContent(), /背景非白色/);
  await shot(page, "30-review-grid-appeal");
  // Enlarged: the note and the automatic reason in full.
  await page.keyboard.press("Enter");
  await page.locator("#tile-zoom[open] .appeal-box", { hasText: NOTE }).waitFor();
  await page.waitForFunction(() => document.querySelector("#tile-zoom img")?.complete);
  await shot(page, "31-review-zoom-appeal");
  await page.keyboard.press("Escape");

  // The one-by-one view shows it too.
  await page.locator("#view-single").click();
  await page.locator("#review-appeal", { hasText: NOTE }).waitFor();
  assert.equal(await page.locator("#review-student-id").textContent(), sid(0));
  await page.locator("#view-grid").click();
  await tile.waitFor();
  await page.keyboard.press("Shift+A");
  await page.locator("#grid-result", { hasText: "通过 1 张，不通过 0 张" }).waitFor();
  const rec = await call(`/api/students/${sid(0)}`, { token: teacher.token });
  assert.equal(rec.status, "approved");
  assert.equal(rec.decided_by, "reviewer");
  if (rec.appeal && rec.appeal.overruled) assert.deepEqual(rec.appeal.overruled, ["background_not_white"]);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("an appeal of a photo the school has replaced meanwhile says so and shows the row as it is now", async () => {
  const first = await uploadFromNode(teacher.token, sid(2), corpusBytes("astronaut_grey_background"));
  assert.equal(first.appealable, true, JSON.stringify(first));
  const page = await newPage(browser);
  await openAs(page, "school", teacher.token, "/school.html#students");
  const row = page.locator(`#roster tr[data-student-id="${sid(2)}"]`);
  await row.locator("button.appeal").waitFor();
  // Another teacher of the school uploads a new photo for the student (the check rejects it too).
  const second = await uploadFromNode(teacher.token, sid(2), corpusBytes("astronaut_too_dark"));
  assert.equal(second.status, "rejected");
  assert.notEqual(second.photo_id, first.photo_id);
  await row.locator("button.appeal").click();
  const answer = page.waitForResponse((r) => r.url().endsWith(`/api/students/${sid(2)}/appeal`));
  await page.locator("#appeal-ok").click();
  assert.equal((await answer).status(), 409);
  await page.locator("#appeal-error").filter({ hasText: /\S/ }).waitFor();
  // The row behind the dialog now shows the new photo's reason.
  await page.locator(`#roster tr[data-student-id="${sid(2)}"] li[data-code="too_dark"]`).waitFor();
  await page.locator("#appeal-cancel").click();
  assert.equal((await call(`/api/students/${sid(2)}`, { token: teacher.token })).status, "rejected");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
