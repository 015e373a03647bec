// The upload window and overload, as a teacher sees them: a campaign that has ended, the daily
// maintenance hours, and a 503 busy answer with Retry-After that the page waits out instead of
// hammering the server.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, launch, newPage, shot, bureauToken, makeSchool, registerSchool, call, openCampaign } from "../lib/harness.js";

const BUSY = "现在登陆和上传人数较多，请稍后再进行登陆操作";
let browser;
let bureau;
let teacher;

before(async () => {
  browser = await launch();
  bureau = await bureauToken();
  const school = await makeSchool({ bureau, names: ["孙天佑", "黄诗琪"] });
  teacher = await registerSchool(school.code);
});

after(async () => {
  // Whatever happened, leave the server's campaign open for the other test files.
  if (bureau) await call("/api/admin/campaign", { method: "PUT", token: bureau, json: openCampaign() });
  await browser?.close();
});

const day = (d) => new Date(Date.now() + d * 86400_000).toISOString().slice(0, 10);

async function teacherLogin(page) {
  await page.getByLabel("用户名").fill(teacher.username);
  await page.getByLabel("密码").fill(teacher.password);
  await page.getByRole("button", { name: "登录" }).click();
}

test("the bureau ends the campaign from its page; the teacher sees 已结束 and cannot log in", async () => {
  const bp = await newPage(browser);
  await bp.goto(`${BASE}/bureau.html`);
  await bp.getByLabel("用户名").fill("bureau");
  await bp.getByLabel("密码").fill("bureau123");
  await bp.getByRole("button", { name: "登录" }).click();
  await bp.locator("#campaign").waitFor();
  await bp.getByLabel("活动名称").fill("已结束的采集活动");
  await bp.getByLabel("开始日期").fill(day(-30));
  await bp.getByLabel("结束日期").fill(day(-2));
  await bp.getByLabel("每天开放时间").fill("06:00");
  await bp.getByLabel("每天关闭时间").fill("24:00");
  await bp.getByRole("button", { name: "保存设置" }).click();
  await bp.locator("#campaign-result", { hasText: "已保存" }).waitFor();
  await bp.locator('#window-banner[data-phase="ended"]').waitFor();
  await bp.context().close();

  const w = await call("/api/window");
  assert.equal(w.phase, "ended");
  const page = await newPage(browser);
  await page.goto(`${BASE}/school.html`);
  const banner = page.locator('#window-banner[data-phase="ended"]');
  await banner.waitFor();
  assert.equal(await banner.locator(".window-message").textContent(), w.message);
  assert.match(w.message, /结束/);
  await teacherLogin(page);
  // The 403 window_closed answer's message is what the teacher reads.
  await page.locator(".form-error", { hasText: /结束/ }).waitFor();
  await shot(page, "15-window-ended");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("maintenance hours: the page says when it opens again", async () => {
  // A two-hour daily window that does not contain the present hour in Shanghai.
  const hour = Number(new Intl.DateTimeFormat("en-GB", { hour: "2-digit", hourCycle: "h23", timeZone: "Asia/Shanghai" }).format(new Date()));
  const [open, close] = hour < 12 ? ["20:00", "22:00"] : ["02:00", "04:00"];
  await call("/api/admin/campaign", { method: "PUT", token: bureau, json: { ...openCampaign("维护时间测试"), daily_open: open, daily_close: close } });
  const w = await call("/api/window");
  assert.equal(w.phase, "maintenance");
  const page = await newPage(browser);
  await page.goto(`${BASE}/`);
  const banner = page.locator('#window-banner[data-phase="maintenance"]');
  await banner.waitFor();
  const text = await banner.textContent();
  assert.ok(text.includes(w.message), text);
  assert.match(text, /系统维护/);
  assert.ok(text.includes(`${open}–${close}`), `the daily hours are shown: ${text}`);
  await shot(page, "16-window-maintenance");
  // A teacher already logged in is told the same by the 403 window_closed answer.
  await page.evaluate((t) => localStorage.setItem("gradphoto.token.school", t), teacher.token);
  await page.goto(`${BASE}/school.html#students`);
  await page.getByRole("heading", { name: "暂时无法操作" }).waitFor();
  assert.match(await page.locator("#closed-message").textContent(), /维护/);
  await page.context().close();
});

test("busy: the page shows the seed's message and waits Retry-After before trying again", async () => {
  await call("/api/admin/campaign", { method: "PUT", token: bureau, json: openCampaign() });
  const page = await newPage(browser);
  const hits = [];
  await page.route("**/api/sessions", async (route) => {
    hits.push(Date.now());
    if (hits.length === 1) {
      return route.fulfill({
        status: 503,
        headers: { "Retry-After": "3", "Content-Type": "application/json; charset=utf-8" },
        body: JSON.stringify({ error: { code: "busy", message: BUSY } }),
      });
    }
    return route.continue();
  });
  await page.goto(`${BASE}/school.html#login`);
  await teacherLogin(page);
  const banner = page.locator("#busy-banner");
  await banner.locator(".busy-message", { hasText: BUSY }).waitFor();
  await shot(page, "19-busy");
  await page.getByRole("heading", { name: "学校信息" }).waitFor({ timeout: 30_000 });
  assert.equal(hits.length, 2, "one retry, not a stream of them");
  assert.ok(hits[1] - hits[0] >= 2900, `the retry waited for Retry-After: ${hits[1] - hits[0]} ms`);
  assert.ok(await banner.isHidden(), "the busy message goes away once through");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a token the server no longer accepts sends the teacher back to the login; the notice leaves the banner readable", async () => {
  for (const viewport of [{ width: 1280, height: 800 }, { width: 375, height: 740 }]) {
    const page = await newPage(browser, { viewport });
    await page.goto(`${BASE}/index.html`);
    await page.evaluate(() => localStorage.setItem("gradphoto.token.school", "not-a-valid-token"));
    await page.goto(`${BASE}/school.html#students`);
    await page.getByRole("heading", { name: "学校登录" }).waitFor();
    const notice = page.locator("#notice .notice", { hasText: "登录已失效" });
    await notice.waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem("gradphoto.token.school")), null);
    // The toast must not sit on the window banner (which says when uploads are open).
    await page.locator("#window-banner .banner").waitFor();
    const a = await notice.boundingBox();
    const b = await page.locator("#window-banner").boundingBox();
    const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    assert.ok(!overlap, `at ${viewport.width}px the notice ${JSON.stringify(a)} does not cover the banner ${JSON.stringify(b)}`);
    assert.ok(a.x >= 0 && a.x + a.width <= viewport.width + 1 && a.y + a.height <= viewport.height + 1, `the notice is inside the viewport: ${JSON.stringify(a)}`);
    await page.context().close();
  }
});
