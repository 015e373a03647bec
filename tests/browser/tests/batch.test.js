// 批量上传 under the network's control: uploads held in flight to count how many run at once
// and when each presign happens, a tab closed in the middle of a batch, and a busy server
// during a batch. Photos go to the real server, whose check decides the final statuses.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, copyFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BASE, launch, newPage, fixture, bureauToken, makeSchool, registerSchool, openAs, call } from "../lib/harness.js";

const BUSY = "现在登陆和上传人数较多，请稍后再进行登陆操作";
let browser;
let bureau;

before(async () => {
  browser = await launch();
  bureau = await bureauToken();
});

after(async () => {
  await browser?.close();
});

const NAMES = ["苏沐阳", "叶子墨", "潘若溪", "彭嘉懿", "董一诺", "袁梓涵", "蒋语桐", "韩沐宸"];

/** A school of our own, its teacher on the batch screen, and a folder of good photos named by 学籍副号. */
async function setUp(count, initScript = null) {
  const school = await makeSchool({ bureau, names: NAMES.slice(0, count) });
  const teacher = await registerSchool(school.code);
  const dir = mkdtempSync(join(tmpdir(), "gradphoto-batch-"));
  for (const s of school.students) copyFileSync(fixture("good.jpg"), join(dir, `${s.student_id}.jpg`));
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "zh-CN" });
  if (initScript) await context.addInitScript(initScript);
  const page = await newPage(browser, { context });
  await openAs(page, "school", teacher.token, "/school.html#batch");
  await page.getByRole("heading", { name: "批量上传" }).waitFor();
  const files = readdirSync(dir).map((f) => join(dir, f));
  return { school, teacher, dir, files, context, page };
}

/** Waits (polling) until `cond()` holds; fails with `what` and the state `show()` gives. */
async function until(cond, what, show = () => "", timeoutMs = 60_000) {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}: ${show()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const isPresign = (req) => req.method() === "POST" && new URL(req.url()).pathname === "/api/uploads";

/**
 * Runs in the page before its scripts: an ordered log of presigns (fetch POST /api/uploads)
 * and PUTs to the store (XHR), kept by the page itself so that "a PUT finished" is logged
 * before the page can react to it (the listener is added in open(), ahead of the page's onload).
 */
function netLog() {
  const log = (window.__netlog = []);
  const path = (u) => new URL(u, location.href).pathname;
  const fetch0 = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === "string" ? input : input.url;
    if (path(url) === "/api/uploads" && String((init && init.method) || "GET").toUpperCase() === "POST") log.push("presign");
    return fetch0.apply(this, arguments);
  };
  const open0 = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url) {
    if (String(method).toUpperCase() === "PUT" && path(url).startsWith("/store/")) {
      this.__put = true;
      for (const ev of ["load", "error", "abort"]) this.addEventListener(ev, () => log.push(ev === "load" ? "put-done" : "put-failed"));
    }
    return open0.apply(this, arguments);
  };
  const send0 = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function () {
    if (this.__put) log.push("put-start");
    return send0.apply(this, arguments);
  };
}

test("批量上传 runs a bounded number at once, presigns each file just before its PUT, sends nothing before confirming", async () => {
  const { school, files, context, page } = await setUp(7, netLog);
  const presignBodies = [];
  const uploadish = [];
  page.on("request", (req) => {
    const path = new URL(req.url()).pathname;
    if (path === "/api/uploads" || path.startsWith("/store/")) uploadish.push(`${req.method()} ${path}`);
    if (isPresign(req)) presignBodies.push(JSON.parse(req.postData()));
  });
  const held = [];
  await page.route("**/store/**", (route) => {
    if (route.request().method() !== "PUT") return route.continue();
    held.push(route); // released one at a time below
  });
  const pageLog = () => page.evaluate(() => window.__netlog.slice());
  const inFlight = (log) => log.filter((k) => k === "put-start").length - log.filter((k) => k === "put-done" || k === "put-failed").length;

  await page.locator("#batch-files").setInputFiles(files);
  await page.locator("#match-count", { hasText: `可以上传 ${files.length} 张` }).waitFor();
  assert.deepEqual(uploadish, [], "nothing is presigned or sent while the teacher reviews the match");
  assert.deepEqual(await pageLog(), []);
  const limit = Number(await page.locator("#progress").getAttribute("data-concurrency"));
  assert.ok(limit >= 2 && limit < files.length, `the page's limit (${limit}) is below the batch size`);

  await page.getByRole("button", { name: `确定上传 ${files.length} 张` }).click();
  // Release PUTs one by one, each time after the page has filled every free slot again.
  let maxInFlight = 0;
  for (let released = 0; released < files.length; released++) {
    const want = Math.min(limit, files.length - released);
    let log = [];
    await until(
      async () => held.length === want && inFlight((log = await pageLog())) === want,
      `${want} PUTs held`,
      () => `held ${held.length}, page log ${log.join(",")}`
    );
    maxInFlight = Math.max(maxInFlight, inFlight(log));
    await held.shift().continue();
  }
  await page.locator('#overall-text[data-done="true"]').waitFor({ timeout: 120_000 });
  const log = await pageLog();

  assert.ok(!log.includes("put-failed"), log.join(","));
  // The most PUTs the page ever had open at once, from its own log.
  let open = 0;
  for (const k of log) {
    open += k === "put-start" ? 1 : k === "put-done" ? -1 : 0;
    maxInFlight = Math.max(maxInFlight, open);
  }
  assert.ok(maxInFlight <= limit, `at most ${limit} PUTs at once (saw ${maxInFlight}): ${log.join(",")}`);
  assert.ok(maxInFlight > 1, `uploads run in parallel (saw ${maxInFlight})`);
  // Each presign asks for exactly one file, and every file is asked for once.
  assert.equal(presignBodies.length, files.length);
  for (const b of presignBodies) assert.equal(b.files.length, 1, JSON.stringify(b));
  assert.deepEqual(presignBodies.map((b) => b.files[0].student_id).sort(), school.students.map((s) => s.student_id).sort());
  // Presigning happens just before sending: the (limit+1)-th waits for a PUT to finish, and
  // at no point are more files presigned than have finished plus the limit.
  const nth = (kind, n) => log.reduce((acc, k, i) => (acc.count < n && k === kind ? { count: acc.count + 1, at: i } : acc), { count: 0, at: -1 }).at;
  assert.ok(nth("presign", limit + 1) > nth("put-done", 1), `presign #${limit + 1} comes after the first finished PUT: ${log.join(",")}`);
  let presigned = 0;
  let done = 0;
  for (const k of log) {
    if (k === "presign") presigned++;
    if (k === "put-done") done++;
    assert.ok(presigned - done <= limit, `never more than ${limit} presigned ahead: ${log.join(",")}`);
  }
  for (const s of school.students) {
    assert.equal(await page.locator(`#batch-table tr[data-student-id="${s.student_id}"]`).getAttribute("data-result-status"), "pending_review", s.student_id);
  }
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("closing the tab mid-batch: finished files show their results, the cut-off one says so, the server agrees", async () => {
  const { school, teacher, files, context, page } = await setUp(4);
  const stuck = school.students[2].student_id;
  let stuckSeen = false;
  await page.route("**/store/**", (route) => {
    // This file's PUT never gets an answer: the tab is closed while it is on its way.
    if (route.request().method() === "PUT" && route.request().url().includes(`/${stuck}/`)) {
      stuckSeen = true;
      return;
    }
    return route.continue();
  });
  await page.locator("#batch-files").setInputFiles(files);
  await page.locator("#match-count", { hasText: "可以上传 4 张" }).waitFor();
  await page.getByRole("button", { name: "确定上传 4 张" }).click();
  const others = school.students.filter((s) => s.student_id !== stuck);
  for (const s of others) {
    await page.locator(`#batch-table tr[data-student-id="${s.student_id}"][data-state="done"]`).waitFor({ timeout: 120_000 });
  }
  assert.ok(stuckSeen, "the held file was being sent");
  assert.equal(await page.locator(`#batch-table tr[data-student-id="${stuck}"]`).getAttribute("data-state"), "put");
  await page.close();

  const again = await newPage(browser, { context });
  await again.goto(BASE + "/school.html#batch");
  const row = (id) => again.locator(`#batch-table tr[data-student-id="${id}"]`);
  await row(stuck).waitFor();
  for (const s of others) assert.equal(await row(s.student_id).getAttribute("data-result-status"), "pending_review", s.student_id);
  assert.equal(await row(stuck).getAttribute("data-state"), "interrupted");
  assert.equal((await row(stuck).locator(".result").textContent()).trim(), "未完成（页面曾关闭），请重新选择此文件");
  assert.match(await again.locator("#overall-text").textContent(), /未完成 1 张/);
  const record = await call(`/api/students/${stuck}`, { token: teacher.token });
  assert.equal(record.status, "not_uploaded", "the server never got the cut-off photo");
  assert.deepEqual(again.errors, []);
  await context.close();
});

test("busy during a batch: the banner shows, nothing leaves the page for Retry-After, every file still finishes", async () => {
  const { school, files, context, page } = await setUp(4);
  const sent = []; // { t, what } for every request the page makes to the server
  page.on("request", (req) => {
    if (req.url().startsWith(BASE)) sent.push({ t: Date.now(), what: `${req.method()} ${new URL(req.url()).pathname}` });
  });
  const busy = (route) =>
    route.fulfill({
      status: 503,
      headers: { "Retry-After": "2", "Content-Type": "application/json; charset=utf-8" },
      body: JSON.stringify({ error: { code: "busy", message: BUSY } }),
    });
  // Presigns and PUTs are held until the test says, so that when a 503 is answered nothing
  // else is on its way back to the page (which could legitimately start a request).
  const presigns = [];
  const puts = [];
  let holdPresigns = true;
  let holdPuts = true;
  await page.route("**/api/uploads", (route) => (holdPresigns ? presigns.push(route) : route.continue()));
  await page.route("**/store/**", (route) => (route.request().method() === "PUT" && holdPuts ? puts.push(route) : route.continue()));
  const banner = page.locator("#busy-banner");

  await page.locator("#batch-files").setInputFiles(files);
  await page.locator("#match-count", { hasText: "可以上传 4 张" }).waitFor();
  const limit = Number(await page.locator("#progress").getAttribute("data-concurrency"));
  await page.getByRole("button", { name: "确定上传 4 张" }).click();

  // 1. The first presign is answered busy.
  await until(() => presigns.length === limit, `${limit} presigns`, () => sent.map((x) => x.what).join(","));
  const t1 = Date.now();
  await busy(presigns.shift());
  await banner.locator(".busy-message", { hasText: BUSY }).waitFor();
  holdPresigns = false;
  for (const r of presigns.splice(0)) await r.continue();

  // 2. Once every worker is sending, one PUT is answered busy.
  await until(() => puts.length === limit, `${limit} PUTs held`, () => sent.map((x) => x.what).join(","));
  const t2 = Date.now();
  await busy(puts.shift());
  await banner.locator(".busy-message", { hasText: BUSY }).waitFor();
  holdPuts = false;
  for (const r of puts.splice(0)) await r.continue();

  await page.locator('#overall-text[data-done="true"]').waitFor({ timeout: 120_000 });
  // No request started between a 503 and the end of its Retry-After (2 s after it was answered).
  for (const t of [t1, t2]) {
    const early = sent.filter((x) => x.t > t && x.t < t + 2000);
    assert.deepEqual(early, [], `nothing sent within Retry-After of the 503 at ${t}`);
  }
  // ...and the page did try again afterwards (the busy answers did not end the batch).
  assert.ok(sent.filter((x) => x.what === "POST /api/uploads").length >= files.length + 1, "the busy presign was retried");
  assert.ok(sent.filter((x) => x.what.startsWith("PUT /store/")).length >= files.length + 1, "the busy PUT was retried");
  for (const s of school.students) {
    const row = page.locator(`#batch-table tr[data-student-id="${s.student_id}"]`);
    assert.equal(await row.getAttribute("data-state"), "done", s.student_id);
    assert.equal(await row.getAttribute("data-result-status"), "pending_review", s.student_id);
  }
  assert.ok(await banner.isHidden(), "the busy banner goes away once through");
  assert.deepEqual(page.errors, []);
  await context.close();
});
