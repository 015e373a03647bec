// The crop helper: a larger portrait becomes a 272×354 JPEG at 300 dpi by cropping and uniform
// scaling, and goes up as that student's photo, passing the server's own check.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, launch, newPage, shot, fixture, bureauToken, makeSchool, registerSchool, openAs, call } from "../lib/harness.js";

let browser;
let school;
let teacher;
let page;

before(async () => {
  browser = await launch();
  school = await makeSchool({ bureau: await bureauToken(), names: ["郑一鸣", "冯晓雨"] });
  teacher = await registerSchool(school.code);
  page = await newPage(browser);
});

after(async () => {
  await browser?.close();
});

test("a 600×780 portrait is cropped to 272×354 at 300 dpi and uploaded for the chosen student", async () => {
  const sid = school.students[1].student_id;
  await openAs(page, "school", teacher.token, `/school.html#crop?student=${sid}`);
  await page.getByRole("heading", { name: "裁剪助手" }).waitFor();
  assert.equal(await page.getByLabel("学生").inputValue(), sid, "the row's student is preselected");
  await page.getByLabel("原始照片").setInputFiles(fixture("portrait.jpg"));
  const stage = page.locator("#crop-stage");
  await stage.waitFor();
  // Frame the head between the 头顶 and 下巴 guides with the keyboard, as a teacher would:
  // the default frame leaves the head at ~44 % of the height (the server says head_too_small),
  // seven presses of "+" tighten the frame (about its centre) from 90 % to 76 % of the picture.
  await stage.focus();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowUp");
  for (let i = 0; i < 7; i++) await page.keyboard.press("+");
  assert.equal(await page.getByLabel("取景大小").inputValue(), "76");
  await shot(page, "20-crop");
  await page.getByRole("button", { name: "生成 272×354 照片" }).click();
  await page.locator("#crop-info").waitFor();
  const out = await page.locator("img.crop-output").evaluate(async (img) => {
    const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    const bmp = await createImageBitmap(new Blob([bytes]));
    return {
      soi: [bytes[0], bytes[1], bytes[2]],
      app0: String.fromCharCode(...bytes.slice(6, 11)),
      unit: bytes[13],
      xdpi: (bytes[14] << 8) | bytes[15],
      ydpi: (bytes[16] << 8) | bytes[17],
      w: bmp.width,
      h: bmp.height,
      size: bytes.length,
    };
  });
  assert.deepEqual(out.soi, [0xff, 0xd8, 0xff]);
  assert.equal(out.app0, "JFIF\0");
  assert.deepEqual([out.unit, out.xdpi, out.ydpi], [1, 300, 300], "JFIF density says 300 dots per inch");
  assert.deepEqual([out.w, out.h], [272, 354]);
  assert.ok(out.size > 5 * 1024 && out.size < 1024 * 1024, `size within limits: ${out.size}`);

  await page.getByRole("button", { name: "上传为该学生照片" }).click();
  await page.locator("#crop-result .chip").waitFor({ timeout: 60_000 });
  const record = await call(`/api/students/${sid}`, { token: teacher.token });
  assert.equal(record.status, "pending_review", `the server's check accepts the crop: ${JSON.stringify(record.reasons)}`);
  assert.equal(await page.locator("#crop-result .chip").textContent(), "待审核");
  await shot(page, "21-crop-uploaded", { fullPage: true });
  assert.deepEqual(page.errors, []);
});
