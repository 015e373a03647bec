// The one-by-one reviewer console at volume: preview URLs expire (30 min) and a photo can be
// decided elsewhere while it is on screen (another tab of the same reviewer, the bureau, or
// another reviewer once its 10-minute lease ran out). A broken preview and an old queue fetch
// fresh signed URLs; a photo decided elsewhere is dropped (by the periodic refresh, or by the
// 409 after deciding) with a short notice; reasons past the ninth are reachable from the keyboard.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, fixtureBytes, bureauToken, makeSchool, registerSchool, uploadFromNode, call, login, openAs } from "../lib/harness.js";

let browser;
let bureau;
let reviewer;

before(async () => {
  browser = await launch();
  bureau = await bureauToken();
  reviewer = await login("reviewer1", "review123");
});

after(async () => {
  await browser?.close();
});

/** A school of our own with `n` photos waiting for review, uploaded oldest first. */
async function queueOf(n) {
  const names = ["郑可欣", "冯子涵", "陈雨桐", "褚一鸣", "卫思琪"].slice(0, n);
  const school = await makeSchool({ bureau, names, classes: ["高三(5)班"] });
  const teacher = await registerSchool(school.code);
  for (const [i, s] of school.students.entries()) {
    const v = await uploadFromNode(teacher.token, s.student_id, fixtureBytes(i % 2 ? "good-alt.jpg" : "good.jpg"));
    assert.equal(v.status, "pending_review", JSON.stringify(v));
  }
  return { ...school, teacher, sid: (i) => school.students[i].student_id };
}

/** A reviewer page on the school's queue that counts its GET /api/review/queue requests. */
async function reviewerPage(school, { clock = false } = {}) {
  const page = await newPage(browser);
  if (clock) await page.clock.install();
  page.queueLoads = 0;
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/api/review/queue") page.queueLoads++;
  });
  // Each page logs in on its own, as the same reviewer account. The queue leases the photos it
  // hands out per reviewer (10 minutes), so a different reviewer would not be shown these
  // photos at all (review-grid.test.js checks that); one reviewer in two tabs, or a photo whose
  // lease ran out, is how two people still reach the same photo, and what these tests exercise.
  await openAs(page, "reviewer", await login("reviewer1", "review123"), `/review.html?view=single&school_id=${encodeURIComponent(school.school_id)}`);
  await page.locator("#review-student-id").waitFor();
  return page;
}

const currentId = (page) => page.locator("#review-student-id").textContent();
const previewLoaded = (page) =>
  page.waitForFunction(() => {
    const img = document.querySelector(".review-preview img");
    return !!img && img.complete && img.naturalWidth === 272;
  });

test("a preview that fails to load (expired signature) refetches the queue and then shows", async () => {
  const school = await queueOf(2);
  const page = await newPage(browser);
  page.queueLoads = 0;
  let refused = 0;
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/api/review/queue") page.queueLoads++;
  });
  // Every photo URL from the first queue answers as an expired signature would.
  await page.route("**/store/**", (route) => {
    if (page.queueLoads < 2) {
      refused++;
      return route.fulfill({ status: 403, contentType: "application/json", body: JSON.stringify({ error: { code: "url_expired", message: "图片链接已过期，请刷新页面" } }) });
    }
    return route.continue();
  });
  await openAs(page, "reviewer", reviewer, `/review.html?view=single&school_id=${encodeURIComponent(school.school_id)}`);
  await page.locator("#review-student-id").waitFor();
  await previewLoaded(page);
  assert.ok(refused >= 1, "the first preview request was refused");
  assert.ok(page.queueLoads >= 2, `the queue was fetched again (${page.queueLoads} loads)`);
  assert.equal(await currentId(page), school.sid(0), "the reviewer stays on the same photo");
  assert.equal(await page.locator("#preview-failed").count(), 0);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("moving on from a queue older than 20 minutes refetches it first and keeps the place", async () => {
  const school = await queueOf(4);
  const page = await reviewerPage(school, { clock: true });
  await page.keyboard.press("j");
  assert.equal(await currentId(page), school.sid(1));
  assert.equal(page.queueLoads, 1);
  // Meanwhile another reviewer approves the first photo, and 21 minutes pass (the clock jumps
  // without running timers, so the minute-by-minute refresh does not get there first).
  const first = await call(`/api/students/${school.sid(0)}`, { token: school.teacher.token });
  await call(`/api/review/${school.sid(0)}`, { method: "POST", token: reviewer, json: { decision: "approve", photo_id: first.photo_id } });
  await page.clock.setSystemTime(Date.now() + 21 * 60_000);
  await page.keyboard.press("j");
  // Old queue [0,1,2,3] at 2 → new queue [1,2,3]: still photo 2 (not index 2, not the start).
  await page.locator("#review-student-id", { hasText: school.sid(2) }).waitFor();
  assert.equal(page.queueLoads, 2);
  assert.match(await page.locator(".review-preview figcaption").textContent(), /第 2 \/ 3 张/);
  await previewLoaded(page);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the idle refresh drops a photo another reviewer decided, with a notice", async () => {
  const school = await queueOf(3);
  const page = await reviewerPage(school, { clock: true });
  assert.equal(await currentId(page), school.sid(0));
  const first = await call(`/api/students/${school.sid(0)}`, { token: school.teacher.token });
  await call(`/api/review/${school.sid(0)}`, { method: "POST", token: reviewer, json: { decision: "approve", photo_id: first.photo_id } });
  await page.clock.runFor(61_000);
  await page.locator("#review-student-id", { hasText: school.sid(1) }).waitFor();
  await page.locator("#notice", { hasText: "已由其他审核员处理" }).waitFor();
  assert.ok(page.queueLoads >= 2);
  assert.match(await page.locator("#review-progress").textContent(), /待审核 2 张/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("two tabs decide the same photo: the second gets a notice and the next photo", async () => {
  const school = await queueOf(3);
  const a = await reviewerPage(school);
  const b = await reviewerPage(school);
  assert.equal(await currentId(a), school.sid(0));
  assert.equal(await currentId(b), school.sid(0));

  await a.keyboard.press("a");
  await a.locator("#review-student-id", { hasText: school.sid(1) }).waitFor();
  await b.keyboard.press("a");
  await b.locator("#notice", { hasText: `${school.students[0].name}：已由其他审核员处理，已跳到下一张` }).waitFor();
  await b.locator("#review-student-id", { hasText: school.sid(1) }).waitFor();
  assert.match(await b.locator("#review-progress").textContent(), /本次已处理 0 张（通过 0，不通过 0），另有 1 张已由其他审核员处理/);
  assert.equal((await call(`/api/students/${school.sid(0)}`, { token: school.teacher.token })).status, "approved");

  // And the console still works: B rejects the next one, then A's approve of it is refused.
  for (const box of await b.locator(".reasons-pick input:checked").all()) await box.uncheck();
  await b.locator("body").focus();
  await b.keyboard.press("1");
  await b.keyboard.press("r");
  await b.locator("#review-student-id", { hasText: school.sid(2) }).waitFor();
  assert.match(await b.locator("#review-progress").textContent(), /本次已处理 1 张（通过 0，不通过 1）/);
  await a.keyboard.press("a");
  await a.locator("#review-student-id", { hasText: school.sid(2) }).waitFor();
  assert.equal((await call(`/api/students/${school.sid(1)}`, { token: school.teacher.token })).status, "rejected");
  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
  await a.context().close();
  await b.context().close();
});

test("0 and Shift+digits pick reasons past the ninth; each reason shows its key", async () => {
  const school = await queueOf(1);
  const page = await reviewerPage(school);
  const boxes = page.locator(".reasons-pick input[type=checkbox]");
  assert.ok((await boxes.count()) >= 20, "the server lists at least 20 reasons");
  const keys = await page.locator(".reasons-pick .reason").evaluateAll((rows) => rows.map((r) => (r.querySelector("kbd") || {}).textContent || ""));
  assert.deepEqual(keys.slice(0, 20), ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "⇧1", "⇧2", "⇧3", "⇧4", "⇧5", "⇧6", "⇧7", "⇧8", "⇧9", "⇧0"]);
  const help = await page.locator("details.shortcuts").textContent();
  assert.match(help, /Shift\+1–9、Shift\+0：选择\/取消第 11–20 个原因/);
  assert.match(help, /1–9、0：选择\/取消第 1–10 个原因/);

  for (const box of await page.locator(".reasons-pick input:checked").all()) await box.uncheck();
  await page.locator("body").focus();
  await page.keyboard.press("0");
  await page.keyboard.press("Shift+Digit1");
  await page.keyboard.press("Shift+Digit0");
  await page.keyboard.press("Shift+Digit2");
  await page.keyboard.press("Shift+Digit2"); // toggles back off
  const picked = await page.locator(".reasons-pick input:checked").evaluateAll((xs) => xs.map((x) => x.value));
  const expected = await Promise.all([9, 10, 19].map((i) => boxes.nth(i).getAttribute("value")));
  assert.deepEqual(picked, expected);
  await page.keyboard.press("r");
  await page.locator("#queue-empty").waitFor();
  const rec = await call(`/api/students/${school.sid(0)}`, { token: school.teacher.token });
  assert.equal(rec.status, "rejected");
  assert.deepEqual(rec.reasons.map((r) => r.code).sort(), [...expected].sort());
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
