// The crop helper: a larger portrait becomes a 272×354 JPEG at 300 dpi by cropping and uniform
// scaling, and goes up as that student's photo, passing the server's own check.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import UPNG from "upng-js";
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

/**
 * A 900×700 PNG, white, with a black disc of radius 150 at (450, 350): a landscape source, so
 * the crop frame's aspect differs a lot from the picture's, and anything but a uniform scale
 * would turn the disc into an ellipse.
 */
function discPng() {
  const W = 900;
  const H = 700;
  const rgba = new Uint8Array(W * H * 4).fill(255);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if ((x - 450) ** 2 + (y - 350) ** 2 <= 150 ** 2) {
        const i = (y * W + x) * 4;
        rgba[i] = rgba[i + 1] = rgba[i + 2] = 0;
      }
    }
  }
  return Buffer.from(UPNG.encode([rgba.buffer], W, H, 0));
}

const frameOf = (p) =>
  p.locator("#crop-stage").evaluate((c) => {
    const d = c.dataset;
    return { x: +d.frameX, y: +d.frameY, w: +d.frameW, h: +d.frameH, outW: +d.outW, outH: +d.outH };
  });

test("the crop frame keeps 272:354 through drags and zooms; a disc stays round; the guides toggle", async () => {
  await openAs(page, "school", teacher.token, "/school.html#crop");
  await page.getByRole("heading", { name: "裁剪助手" }).waitFor();
  await page.getByLabel("原始照片").setInputFiles({ name: "disc.png", mimeType: "image/png", buffer: discPng() });
  const stage = page.locator("#crop-stage");
  await stage.waitFor();
  assert.equal(await page.locator("#crop-file-name").textContent(), "已选择：disc.png");
  const aspect = 272 / 354;
  const checkAspect = (f, when) => assert.ok(Math.abs(f.w / f.h - aspect) < 1e-6, `${when}: frame ${f.w}×${f.h} keeps 272:354`);
  const f0 = await frameOf(page);
  checkAspect(f0, "initial");

  // Zoom in with the slider, then drag the frame with the mouse.
  await page.getByLabel("取景大小").fill("80");
  const f1 = await frameOf(page);
  checkAspect(f1, "after zoom");
  assert.ok(f1.w < f0.w - 1, `the zoom made the frame smaller (${f0.w} → ${f1.w})`);
  const box = await stage.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 15, box.y + box.height / 2 + 10, { steps: 5 });
  await page.mouse.up();
  const f2 = await frameOf(page);
  checkAspect(f2, "after drag");
  assert.ok(f2.x > f1.x + 1 && f2.y > f1.y + 1, `the drag moved the frame (${JSON.stringify([f1, f2])})`);
  // The output's scale factors in x and y are the same: it is a crop plus a uniform scale.
  assert.ok(Math.abs(f2.outW / f2.w - f2.outH / f2.h) < 1e-9, "equal x and y scale");

  // Guides on and off change what the stage shows, and back on shows it as before.
  const pixels = () => stage.evaluate((c) => c.toDataURL("image/png"));
  const withGuides = await pixels();
  await page.getByLabel("显示头部位置参考线").uncheck();
  const without = await pixels();
  assert.notEqual(without, withGuides, "unchecking the guides changes the canvas");
  await page.getByLabel("显示头部位置参考线").check();
  assert.equal(await pixels(), withGuides, "checking them again draws the same guides");

  await page.getByRole("button", { name: "生成 272×354 照片" }).click();
  await page.locator("#crop-info").waitFor();
  const disc = await page.locator("img.crop-output").evaluate(async (img) => {
    const bmp = await createImageBitmap(await (await fetch(img.src)).blob());
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    const g = c.getContext("2d");
    g.drawImage(bmp, 0, 0);
    const { data, width, height } = g.getImageData(0, 0, bmp.width, bmp.height);
    let [x0, y0, x1, y1] = [width, height, -1, -1];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (data[(y * width + x) * 4] < 128) {
          x0 = Math.min(x0, x);
          x1 = Math.max(x1, x);
          y0 = Math.min(y0, y);
          y1 = Math.max(y1, y);
        }
      }
    }
    return { w: x1 - x0 + 1, h: y1 - y0 + 1, width, height };
  });
  assert.deepEqual([disc.width, disc.height], [272, 354]);
  const expected = (300 * 272) / f2.w; // the disc's diameter after the uniform scale
  assert.ok(Math.abs(disc.w - expected) <= 3 && Math.abs(disc.h - expected) <= 3, `the disc is ${disc.w}×${disc.h}, expected ${expected.toFixed(1)} both ways`);
  assert.ok(Math.abs(disc.w - disc.h) <= 2, `the disc stays round: ${disc.w}×${disc.h}`);
  assert.deepEqual(page.errors, []);
});

test("a failure while generating the photo is shown in Chinese, not swallowed", async () => {
  // A browser that cannot export JPEG from a canvas (toBlob hands back null).
  await page.evaluate(() => {
    HTMLCanvasElement.prototype.toBlob = function (cb) {
      setTimeout(() => cb(null), 0);
    };
  });
  await page.getByRole("button", { name: "生成 272×354 照片" }).click();
  const err = page.locator("#crop-error");
  await err.waitFor();
  assert.match(await err.textContent(), /^生成照片失败：.*[\u4e00-\u9fff]/);
  assert.equal(await page.locator("img.crop-output").count(), 0, "no stale photo is offered");
  assert.ok(await page.getByRole("button", { name: "生成 272×354 照片" }).isEnabled(), "the teacher can try again");
  assert.deepEqual(page.errors, []);
});
