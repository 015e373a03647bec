// 家长上传码 slips, end to end: the teacher issues codes for one class from the roster (with the
// warning that old slips stop working), the print view is printed to PDF by Chromium, the PDF's
// text is read back (pdfjs-dist) for every name, 学籍副号 and code of that class and nothing of
// the other class, each page is rendered to pixels and every QR code decoded (jsQR) to the parent
// page's address; then a parent logs in with a code read from the PDF, uploads, and the teacher
// sees 上传人 家长.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import jsQR from "jsqr";
import { BASE, launch, newPage, shot, shotOf, bureauToken, makeSchool, registerSchool, openAs, call, uniquePhoto } from "../lib/harness.js";

const pdfjs = await import("pdfjs-dist/legacy/build/pdf.mjs");

// The sheet's geometry (web/css/slips.css): A4, 8 mm margins, 2 columns × 4 rows of slips.
const SHEET = { w: 210, h: 297, margin: 8, cols: 2, rows: 4, cellW: 97, cellH: 70 };
const CODE_RE = /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{5}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{5}$/;

let browser;
let school;
let teacher;
let page;
let pdfPages; // [{ text, items: [str] }]
let issued; // the API's codes, as the page got them

// Eleven students in 高三(1)班 (two sheets: 8 + 3), five in 高三(2)班.
const NAMES = ["王子涵", "李浩然", "张欣怡", "刘宇轩", "陈梓萱", "杨俊杰", "欧阳小明", "赵雨桐", "孙一凡", "周子墨", "吴思远", "郑可欣", "冯天佑", "何雨萌", "高嘉怡", "林书豪"];
const CLASS_OF = (i) => (i < 11 ? "高三(1)班" : "高三(2)班");

before(async () => {
  browser = await launch();
  const bureau = await bureauToken();
  // makeSchool gives student i the class classes[i % classes.length].
  school = await makeSchool({ bureau, names: NAMES, classes: NAMES.map((_, i) => CLASS_OF(i)) });
  teacher = await registerSchool(school.code);
  page = await newPage(browser);
});

after(async () => {
  await browser?.close();
});

test("the roster's 家长上传码 issues codes for the filtered class and opens the print view", async () => {
  await openAs(page, "school", teacher.token, "/school.html#students");
  await page.locator("#roster tbody tr").nth(15).waitFor();
  await page.getByLabel("班级").selectOption("高三(1)班");
  page.on("response", async (r) => {
    if (r.url().endsWith("/api/school/parent-codes") && r.status() === 201) issued = (await r.json()).codes;
  });
  await page.getByRole("button", { name: "家长上传码" }).click();
  const dialog = page.locator("#slips-dialog");
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /之前打印发放的上传码随即失效/);
  assert.equal(await page.locator("#slips-scope-selected").isDisabled(), true, "nothing ticked");
  await page.locator("#slips-scope-class").check();
  assert.match(await page.locator('label[for="slips-scope-class"]').textContent(), /高三\(1\)班（11 人）/);
  await shot(page, "45-slips-dialog");
  await page.getByRole("button", { name: "生成并打印" }).click();
  await page.locator("#slips-view .slip").nth(10).waitFor();
  assert.equal(await page.locator("#slips-view .slip").count(), 11);
  assert.equal(await page.locator("#slips-view .slip-sheet").count(), 2);
  assert.equal(issued.length, 11);
  for (const c of issued) assert.equal(c.class, "高三(1)班");
  assert.match(await page.locator("#slips-view").textContent(), /只显示这一次/);
  // A whole A4 sheet (1123 px high) inside the fixed print view needs a viewport that tall.
  await page.setViewportSize({ width: 1280, height: 1400 });
  await shotOf(page.locator(".slip-sheet").first(), "46-slips-sheet");
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.deepEqual(page.errors, []);
});

test("printed to PDF: A4 pages with every name, 学籍副号 and code of the class, nothing of the other", async () => {
  const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
  const doc = await pdfjs.getDocument({ data: new Uint8Array(pdf), verbosity: 0 }).promise;
  assert.equal(doc.numPages, 2, "11 slips at 8 a sheet");
  pdfPages = [];
  for (let p = 1; p <= doc.numPages; p++) {
    const pg = await doc.getPage(p);
    const [, , w, h] = pg.view; // points
    assert.ok(Math.abs(w - 595.3) < 2 && Math.abs(h - 841.9) < 2, `page ${p} is A4: ${w}×${h}`);
    const items = (await pg.getTextContent()).items.map((i) => i.str).filter((s) => s.trim());
    pdfPages.push({ text: items.join(""), items, pg, doc });
  }
  const all = pdfPages.map((p) => p.text).join("");
  for (const c of issued) {
    assert.ok(all.includes(c.name), `name ${c.name} is printed`);
    assert.ok(all.includes(c.student_id), `学籍副号 ${c.student_id} is printed`);
    const raw = c.code.replace(/-/g, "");
    assert.ok(all.includes(`${raw.slice(0, 5)}-${raw.slice(5)}`), `code of ${c.student_id} is printed, grouped`);
  }
  assert.ok(all.includes(school.name), "the school is printed");
  for (const s of school.students.slice(11)) {
    assert.ok(!all.includes(s.student_id), `${s.student_id} of 高三(2)班 is not printed`);
  }
  assert.ok(all.includes("避开高峰") && all.includes("只能成功上传一次"), "the seed's instructions are printed");
  // Eight slips on the first sheet, three on the second.
  const count = (p) => pdfPages[p].items.filter((s) => CODE_RE.test(s.trim())).length;
  assert.deepEqual([count(0), count(1)], [8, 3]);
});

test("every QR code on the rendered pages decodes to the parent page's address", async () => {
  const want = new URL("parent.html", BASE + "/school.html").href;
  let decoded = 0;
  for (const [p, { pg, doc }] of pdfPages.entries()) {
    const scale = 4; // ≈ 290 dpi: about 8 pixels a module
    const vp = pg.getViewport({ scale });
    const { canvas, context } = doc.canvasFactory.create(Math.ceil(vp.width), Math.ceil(vp.height));
    await pg.render({ canvasContext: context, viewport: vp }).promise;
    const mm = canvas.width / SHEET.w;
    const onPage = p === 0 ? 8 : 3;
    for (let k = 0; k < onPage; k++) {
      const c = k % SHEET.cols;
      const r = Math.floor(k / SHEET.cols);
      const x = Math.round((SHEET.margin + c * SHEET.cellW) * mm);
      const y = Math.round((SHEET.margin + r * SHEET.cellH) * mm);
      const w = Math.round(SHEET.cellW * mm);
      const hh = Math.round(SHEET.cellH * mm);
      const img = context.getImageData(x, y, w, hh);
      const qr = jsQR(img.data, w, hh);
      assert.ok(qr, `a QR code in slip ${k + 1} of page ${p + 1}`);
      assert.equal(qr.data, want);
      decoded++;
    }
  }
  assert.equal(decoded, 11);
});

test("a parent logs in with a code read from the PDF and uploads; the teacher sees 上传人 家长", async () => {
  // The code printed after the 学籍副号 of the first slip.
  const items = pdfPages.flatMap((p) => p.items).map((s) => s.trim());
  const at = items.indexOf(issued[0].student_id);
  assert.ok(at >= 0);
  const code = items.slice(at).find((s) => CODE_RE.test(s));
  const student = issued[0];
  const phone = await newPage(browser, { context: await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, locale: "zh-CN" }) });
  await phone.goto(BASE + "/index.html");
  await phone.getByRole("link", { name: /家长入口/ }).click();
  await phone.getByRole("button", { name: "我同意" }).click();
  await phone.getByLabel("学籍副号").fill(student.student_id);
  await phone.getByLabel("上传码").fill(code);
  await phone.getByRole("button", { name: "登录" }).click();
  await phone.getByRole("heading", { name: "孩子的毕业照片" }).waitFor();
  assert.equal(await phone.locator("#child-id").textContent(), student.student_id);
  await phone.locator("#parent-file").setInputFiles({ name: "p.jpg", mimeType: "image/jpeg", buffer: await uniquePhoto(browser, 200) });
  await phone.getByRole("button", { name: "确认无误，上传" }).click();
  await phone.locator('#status-card[data-status="pending_review"]').waitFor({ timeout: 60_000 });
  await phone.context().close();

  // Back on the teacher's page (the print view closed: its codes are gone from the page).
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "关闭" }).click();
  await page.locator("#slips-view").waitFor({ state: "detached" });
  assert.equal(await page.evaluate((c) => document.body.textContent.includes(c), code), false);
  await page.getByRole("button", { name: "刷新" }).click();
  await page.locator(`tr[data-student-id="${student.student_id}"][data-status="pending_review"] td.uploader`, { hasText: "家长" }).waitFor();
  const record = await call(`/api/students/${student.student_id}`, { token: teacher.token });
  assert.equal(record.uploaded_by, "parent");
  assert.deepEqual(page.errors, []);
});

test("ticked students get slips of their own; the other codes stay valid", async () => {
  await page.getByLabel("班级").selectOption("");
  const pick = [school.students[12], school.students[14]];
  for (const s of pick) await page.locator(`tr[data-student-id="${s.student_id}"] input.tick`).check();
  await page.getByRole("button", { name: "家长上传码" }).click();
  await page.locator("#slips-scope-selected").check();
  assert.match(await page.locator('label[for="slips-scope-selected"]').textContent(), /（2 人）/);
  await page.getByRole("button", { name: "生成并打印" }).click();
  await page.locator("#slips-view .slip").nth(1).waitFor();
  const ids = await page.locator("#slips-view .slip").evaluateAll((els) => els.map((e) => e.dataset.studentId));
  assert.deepEqual(ids.sort(), pick.map((s) => s.student_id).sort());
  // A code of the first issue, for a student not ticked, still logs in.
  const other = issued[1];
  const r = await call("/api/parent/sessions", { method: "POST", json: { student_id: other.student_id, code: other.code } });
  assert.equal(r.role, "parent");
  assert.deepEqual(page.errors, []);
});
