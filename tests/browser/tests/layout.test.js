// Every page and screen, at phone width (375×740) and at 1280×800: every form control has a
// name a screen reader can read, nothing sticks out sideways (tables scroll inside their own
// .table-wrap, which is allowed), and no file or date input shows the browser's own control,
// whose text follows the browser's language instead of the page's Chinese.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, launch, newPage, fixture, fixtureBytes, corpusBytes, bureauToken, makeSchool, registerSchool, uploadFromNode, login, call, unlabelledControls } from "../lib/harness.js";

let browser;
let school;
let teacher;
let tokens;

before(async () => {
  browser = await launch();
  const bureau = await bureauToken();
  school = await makeSchool({ bureau, names: ["宋知远", "唐可欣", "许书豪"] });
  teacher = await registerSchool(school.code);
  // One photo waiting for review, so that the reviewer's screen shows a real decision, and the
  // roster shows a thumbnail and a status line.
  await uploadFromNode(teacher.token, school.students[0].student_id, fixtureBytes("good.jpg"));
  // And one the check rejects for a judgement (a blue background): its row offers an appeal.
  await uploadFromNode(teacher.token, school.students[1].student_id, corpusBytes("astronaut_blue_background"));
  // A district account for the school's district (区县: the same page, its own schools only).
  const district = { username: `qx_${school.school_id.toLowerCase()}`, password: "quxian2026" };
  await call("/api/admin/accounts", { method: "POST", token: bureau, json: { role: "district", district: school.district, ...district } });
  tokens = { school: teacher.token, reviewer: await login("reviewer1", "review123"), bureau, district: await login(district.username, district.password) };
});

after(async () => {
  await browser?.close();
});

/**
 * [name, path, role to log in as (or null), what shows the screen is drawn, extra set-up]
 */
const SCREENS = [
  ["entry", "/index.html", null, "h1"],
  ["school login", "/school.html#login", null, "#login-user"],
  ["school terms", "/school.html#terms", null, "#agree"],
  ["registration", "/school.html#register", null, "#reg-code", async (p) => p.evaluate(() => sessionStorage.setItem("gradphoto.agreed", "1"))],
  ["school info", "/school.html#info", "school", "#info-school"],
  ["roster", "/school.html#students", "school", "#roster tbody tr"],
  ["roster appeal dialog", "/school.html#students", "school", "#roster button.appeal", null, async (p) => {
    await p.locator("#roster button.appeal").first().click();
    await p.locator("#appeal-dialog[open]").waitFor();
  }],
  ["upload rules", "/school.html#rules", "school", "figure.sample img"],
  ["batch", "/school.html#batch", "school", "#dropzone"],
  ["crop", "/school.html#crop", "school", "#crop-file"],
  ["crop with a photo", "/school.html#crop", "school", "#crop-file", null, async (p) => {
    await p.locator("#crop-file").setInputFiles(fixture("portrait.jpg"));
    await p.locator("#crop-preview").waitFor();
  }],
  ["review login", "/review.html", null, "#login-user, input[autocomplete=username]"],
  ["review grid", () => `/review.html?school_id=${encodeURIComponent(school.school_id)}`, "reviewer", ".tile"],
  ["review grid enlarged", () => `/review.html?school_id=${encodeURIComponent(school.school_id)}`, "reviewer", ".tile", null, async (p) => {
    await p.locator(".tile-photo").first().click();
    await p.locator("#tile-zoom[open]").waitFor();
  }],
  ["review grid reasons", () => `/review.html?school_id=${encodeURIComponent(school.school_id)}`, "reviewer", ".tile", null, async (p) => {
    await p.locator(".tile-menu").first().click();
    await p.locator("#reason-palette[open]").waitFor();
  }],
  ["review one by one", () => `/review.html?view=single&school_id=${encodeURIComponent(school.school_id)}`, "reviewer", "#review-student-id"],
  ["bureau login", "/bureau.html", null, "input[autocomplete=username]"],
  ["bureau", "/bureau.html", "bureau", "#progress-table"],
  ["district", "/bureau.html", "district", "#progress-table"],
  ["district: a school's students", "/bureau.html", "district", "#progress-table", null, async (p) => {
    await p.locator(`#progress-table tr[data-school-id="${school.school_id}"] .school-link`).click();
    await p.locator("#drill-table tbody tr").first().waitFor();
  }],
  ["district: reset dialog", "/bureau.html", "district", "#progress-table", null, async (p) => {
    await p.locator(`#progress-table tr[data-school-id="${school.school_id}"] button.reset`).click();
    await p.locator("#reset-dialog[open]").waitFor();
  }],
];

/** Horizontal overflow of the page itself, and elements poking out outside scroll containers. */
const overflow = (p) =>
  p.evaluate(() => {
    const vw = window.innerWidth;
    const scrollWidth = document.scrollingElement.scrollWidth;
    const scrolls = (el) => {
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        const o = getComputedStyle(a).overflowX;
        if (o === "auto" || o === "scroll" || o === "hidden" || o === "clip") return true;
      }
      return false;
    };
    const sticking = [...document.querySelectorAll("body *")]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 1 && r.right > vw + 1 && getComputedStyle(el).visibility !== "hidden" && !scrolls(el);
      })
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${el.className} right=${Math.round(el.getBoundingClientRect().right)}`)
      .slice(0, 5);
    return { vw, scrollWidth, sticking };
  });

/** File and date inputs that show the browser's native (browser-language) control. */
const nativeControls = (p) =>
  p.evaluate(() =>
    [...document.querySelectorAll("input[type=file], input[type=date], input[type=datetime-local], input[type=month]")]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return el.type !== "file" || r.width > 2 || r.height > 2 || !(el.labels && el.labels.length);
      })
      .map((el) => el.outerHTML.slice(0, 100))
  );

for (const viewport of [
  { width: 375, height: 740 },
  { width: 1280, height: 800 },
]) {
  test(`every screen at ${viewport.width}×${viewport.height}: labelled controls, no sideways scrolling, no native file/date controls`, async () => {
    const context = await browser.newContext({ viewport, locale: "zh-CN", timezoneId: "Asia/Shanghai", isMobile: viewport.width < 600, hasTouch: viewport.width < 600 });
    const page = await newPage(browser, { context });
    const problems = [];
    for (const [name, path, role, ready, beforeLoad, afterLoad] of SCREENS) {
      await page.goto(BASE + "/index.html");
      await page.evaluate((t) => {
        localStorage.clear();
        sessionStorage.clear();
        for (const [role, token] of Object.entries(t)) localStorage.setItem(`gradphoto.token.${role}`, token);
      }, role ? { [role]: tokens[role] } : {});
      if (beforeLoad) await beforeLoad(page);
      await page.goto(BASE + (typeof path === "function" ? path() : path));
      await page.locator(ready).first().waitFor({ state: "attached" });
      if (afterLoad) await afterLoad(page);
      // Let late parts (the window banner, the helpdesk line) arrive before measuring.
      await page.locator("#helpdesk a.hd-phone").waitFor();
      const unlabelled = await unlabelledControls(page);
      if (unlabelled.length) problems.push(`${name}: unlabelled ${unlabelled.join(" | ")}`);
      const o = await overflow(page);
      if (o.scrollWidth > o.vw + 1 || o.sticking.length) problems.push(`${name}: page ${o.scrollWidth}px wide in ${o.vw}px; sticking out: ${o.sticking.join(", ")}`);
      const native = await nativeControls(page);
      if (native.length) problems.push(`${name}: native controls ${native.join(" | ")}`);
    }
    assert.deepEqual(problems, []);
    assert.deepEqual(page.errors, []);
    await context.close();
  });
}
