// Keyboard use of the teacher's page: the upload controls are file inputs hidden inside label
// buttons, so what a sighted keyboard user sees focused must be the button; and Tab walks the
// page's controls in reading order.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, bureauToken, makeSchool, registerSchool, openAs } from "../lib/harness.js";

let browser;
let school;
let teacher;
let page;

before(async () => {
  browser = await launch();
  school = await makeSchool({ bureau: await bureauToken(), names: ["钟明轩", "邱思远"] });
  teacher = await registerSchool(school.code);
  page = await newPage(browser);
});

after(async () => {
  await browser?.close();
});

/** A readable name for the focused element, stable across runs. */
const focused = (p) =>
  p.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return "body";
    if (el.id) return "#" + el.id;
    return `${el.tagName.toLowerCase()}:${(el.getAttribute("aria-label") || el.textContent).trim().replace(/\s+/g, " ").slice(0, 24)}`;
  });

/** The outline (or box-shadow) the label around a hidden file input shows right now. */
const ring = (p, inputSelector) =>
  p.locator(inputSelector).evaluate((input) => {
    const label = input.labels[0]; // wrapping or pointing with for=: whichever the page uses
    const cs = getComputedStyle(label);
    const r = label.getBoundingClientRect();
    return { focused: document.activeElement === input, outline: cs.outlineStyle, outlineWidth: parseFloat(cs.outlineWidth), shadow: cs.boxShadow, visible: r.width > 10 && r.height > 10 };
  });

const shows = (r) => (r.outline !== "none" && r.outlineWidth > 0) || r.shadow !== "none";

/** Presses Tab until `selector` has focus (at most `max` times); returns the names seen. */
async function tabTo(p, selector, max = 60) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    await p.keyboard.press("Tab");
    seen.push(await focused(p));
    if (await p.locator(selector).evaluate((el) => el === document.activeElement)) return seen;
  }
  throw new Error(`Tab never reached ${selector}; focus went: ${seen.join(" → ")}`);
}

test("批量上传: Tab onto the hidden file inputs shows the focus ring on their buttons", async () => {
  await openAs(page, "school", teacher.token, "/school.html#batch");
  await page.getByRole("heading", { name: "批量上传" }).waitFor();
  const before = await ring(page, "#batch-files");
  assert.equal(before.focused, false);
  assert.ok(!shows(before), `no ring before focus: ${JSON.stringify(before)}`);

  // The view focuses its heading; the next Tab is the first control of the screen.
  await tabTo(page, "#batch-files", 3);
  const files = await ring(page, "#batch-files");
  assert.ok(files.visible, "the label button is what is on screen");
  assert.ok(shows(files), `浏览…选择多个照片 shows focus: ${JSON.stringify(files)}`);

  await page.keyboard.press("Tab");
  const folder = await ring(page, "#batch-folder");
  assert.equal(folder.focused, true, "Tab goes on to 选择整个文件夹");
  assert.ok(shows(folder), `选择整个文件夹 shows focus: ${JSON.stringify(folder)}`);
  assert.ok(!shows(await ring(page, "#batch-files")), "the ring moved off the first button");
});

test("学生信息列表: each row's 浏览… shows focus; Tab order follows the page from the skip link", async () => {
  await page.goto(page.url().replace(/#.*$/, "#students"));
  await page.locator("#roster tbody tr").nth(1).waitFor();
  const sid0 = school.students[0].student_id;
  const sid1 = school.students[1].student_id;

  await page.locator("a.skip").focus();
  const walk = ["a.skip", ...(await tabTo(page, `#file-${sid1}`))];
  const expected = [
    "a.skip",
    "a:学生毕业照片采集系统",
    "button:退出",
    "a:学校信息",
    "a:学生信息列表",
    "a:上传须知",
    "a:批量上传",
    "a:裁剪助手",
    "#filter-class",
    "#filter-status",
    "#filter-search",
    "#refresh",
    "#export-csv",
    `#file-${sid0}`,
    `#file-${sid1}`,
  ];
  // Every landmark of the walk is reached, in this order (other stops in between are fine).
  const positions = expected.map((name) => walk.indexOf(name));
  assert.ok(!positions.includes(-1), `all reached: ${expected.filter((_, i) => positions[i] < 0).join(", ")} missing from ${walk.join(" → ")}`);
  assert.deepEqual([...positions].sort((a, b) => a - b), positions, `in order: ${walk.join(" → ")}`);

  // Every stop is something the teacher can see: visible itself, or a file input whose label is.
  await page.locator("a.skip").focus();
  for (let i = 0; i < walk.length - 1; i++) {
    await page.keyboard.press("Tab");
    const where = await page.evaluate(() => {
      const el = document.activeElement;
      const box = (el.type === "file" ? el.labels[0] || el : el).getBoundingClientRect();
      return { name: el.id || el.textContent.trim().slice(0, 20), w: box.width, h: box.height };
    });
    assert.ok(where.w > 4 && where.h > 4, `focus stop ${i + 1} (${where.name}) is visible: ${JSON.stringify(where)}`);
  }

  const r = await ring(page, `#file-${sid1}`);
  assert.equal(r.focused, true);
  assert.ok(shows(r), `the row's 浏览… shows focus: ${JSON.stringify(r)}`);
});

test("裁剪助手: the 选择原始照片 button shows focus and is in Chinese", async () => {
  await page.goto(page.url().replace(/#.*$/, "#crop"));
  await page.getByRole("heading", { name: "裁剪助手" }).waitFor();
  await tabTo(page, "#crop-file", 4);
  const r = await ring(page, "#crop-file");
  assert.ok(r.visible && shows(r), `选择原始照片 shows focus: ${JSON.stringify(r)}`);
  assert.equal(await page.locator("#crop-file-name").textContent(), "尚未选择照片");
  assert.deepEqual(page.errors, []);
});
