// The crop helper: a larger portrait becomes a 272×354 JPEG at 300 dpi by cropping and uniform
// scaling, and goes up as that student's photo, passing the server's own check. A chosen photo
// opens with the frame the server suggests (自动裁剪); offline or refused, with the default frame.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import UPNG from "upng-js";
import { BASE, launch, newPage, shot, fixture, fixtureBytes, bureauToken, makeSchool, registerSchool, openAs, call } from "../lib/harness.js";

let browser;
let school;
let teacher;
let page;

before(async () => {
  browser = await launch();
  school = await makeSchool({ bureau: await bureauToken(), names: ["郑一鸣", "冯晓雨", "韩雪松"] });
  teacher = await registerSchool(school.code);
  page = await newPage(browser);
});

after(async () => {
  await browser?.close();
});

/** The crop frame in the original's pixels, as the stage states it. */
const frameOf = (p) =>
  p.locator("#crop-stage").evaluate((c) => {
    const d = c.dataset;
    return { x: +d.frameX, y: +d.frameY, w: +d.frameW, h: +d.frameH, outW: +d.outW, outH: +d.outH };
  });

const SUGGEST = "**/api/photo/crop-suggestion";
const presignBody = (p) => p.waitForRequest((r) => new URL(r.url()).pathname === "/api/uploads" && r.method() === "POST").then((r) => JSON.parse(r.postData()));

test("offline, a 600×780 portrait opens with the default frame, is framed by hand, cropped to 272×354 at 300 dpi and uploaded", async () => {
  const sid = school.students[1].student_id;
  await openAs(page, "school", teacher.token, `/school.html#crop?student=${sid}`);
  await page.getByRole("heading", { name: "裁剪助手" }).waitFor();
  assert.equal(await page.getByLabel("学生").inputValue(), sid, "the row's student is preselected");
  // The suggestion cannot be had (the connection drops): the helper works as it always did.
  await page.route(SUGGEST, (route) => route.abort("internetdisconnected"));
  await page.getByLabel("原始照片").setInputFiles(fixture("portrait.jpg"));
  const stage = page.locator("#crop-stage");
  await stage.waitFor();
  await page.unroute(SUGGEST);
  const note = page.locator("#crop-suggest-note");
  assert.equal(await note.getAttribute("data-state"), "unavailable");
  assert.match(await note.textContent(), /网络连接失败.*已按默认位置放置取景框/);
  assert.equal(await stage.getAttribute("data-suggested"), "false");
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

  const sent = presignBody(page);
  await page.getByRole("button", { name: "上传为该学生照片" }).click();
  assert.equal((await sent).files[0].auto_cropped, undefined, "a frame placed by hand is not an auto crop");
  await page.locator("#crop-result .chip").waitFor({ timeout: 60_000 });
  const record = await call(`/api/students/${sid}`, { token: teacher.token });
  assert.equal(record.status, "pending_review", `the server's check accepts the crop: ${JSON.stringify(record.reasons)}`);
  assert.equal(record.auto_cropped, false);
  assert.equal(await page.locator("#crop-result .chip").textContent(), "待审核");
  await shot(page, "21-crop-uploaded", { fullPage: true });
  assert.deepEqual(page.errors, []);
});

/** POST /api/photo/crop-suggestion from Node, as the teacher. */
async function suggestion(bytes) {
  const res = await fetch(BASE + "/api/photo/crop-suggestion", { method: "POST", headers: { Authorization: `Bearer ${teacher.token}`, "Content-Type": "image/jpeg" }, body: bytes });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

test("choosing an original opens with the frame the server suggests; unchanged, it goes up as 自动裁剪", async () => {
  const sid = school.students[0].student_id;
  const api = await suggestion(fixtureBytes("portrait.jpg"));
  assert.deepEqual([api.width, api.height], [600, 780]);
  await openAs(page, "school", teacher.token, `/school.html#crop?student=${sid}`);
  await page.getByRole("heading", { name: "裁剪助手" }).waitFor();
  await page.getByLabel("原始照片").setInputFiles(fixture("portrait.jpg"));
  const stage = page.locator("#crop-stage");
  await stage.waitFor();
  const note = page.locator("#crop-suggest-note");
  assert.equal(await note.getAttribute("data-state"), "suggested");
  assert.match(await note.textContent(), /已按建议放置取景框，可拖动调整/);
  // The frame is the server's rectangle (sent as it is, so no mapping): x, y, w to the pixel,
  // h within the pixel the contract allows for 272:354.
  const f = await frameOf(page);
  assert.ok(Math.abs(f.x - api.crop.x) < 0.5 && Math.abs(f.y - api.crop.y) <= 1 && Math.abs(f.w - api.crop.w) < 0.5, `frame ${JSON.stringify(f)} is the suggestion ${JSON.stringify(api.crop)}`);
  assert.ok(Math.abs(f.h - api.crop.h) <= 1, `height ${f.h} vs ${api.crop.h}`);
  assert.ok(Math.abs(f.w / f.h - 272 / 354) < 1e-6, "still exactly 272:354");
  assert.equal(await stage.getAttribute("data-suggested"), "true");
  await shot(page, "56-crop-suggested", { fullPage: true });

  // Moving the frame makes it the teacher's own; moving it back (or 恢复建议取景) makes it the suggestion again.
  await stage.focus();
  await page.keyboard.press("ArrowLeft");
  assert.equal(await note.getAttribute("data-state"), "moved");
  assert.equal(await stage.getAttribute("data-suggested"), "false");
  await page.getByRole("button", { name: "恢复建议取景" }).click();
  assert.equal(await note.getAttribute("data-state"), "suggested");
  assert.deepEqual(await frameOf(page), f);

  await page.getByRole("button", { name: "生成 272×354 照片" }).click();
  await page.locator("#crop-info").waitFor();
  assert.equal(await page.locator("#crop-info").getAttribute("data-auto-cropped"), "true");
  const sent = presignBody(page);
  await page.getByRole("button", { name: "上传为该学生照片" }).click();
  assert.equal((await sent).files[0].auto_cropped, true);
  await page.locator("#crop-result .chip").waitFor({ timeout: 60_000 });
  const record = await call(`/api/students/${sid}`, { token: teacher.token });
  assert.equal(record.status, "pending_review", `the suggested crop passes the check: ${JSON.stringify(record.reasons)}`);
  assert.equal(record.auto_cropped, true);
  assert.equal(await page.locator("#crop-result .tag-autocrop").textContent(), "已自动裁剪");
  assert.deepEqual(page.errors, []);
});

/** Pixel size of a JPEG's bytes, from its SOF segment. */
function jpegSize(b) {
  for (let i = 2; i + 9 < b.length && b[i] === 0xff; i += 2 + b.readUInt16BE(i + 2)) {
    const m = b[i + 1];
    if (m >= 0xc0 && m <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(m)) return { width: b.readUInt16BE(i + 7), height: b.readUInt16BE(i + 5) };
  }
  return null;
}

test("an original over 4000 px is downsized before asking, and the frame is mapped back onto its own pixels", async () => {
  const small = await suggestion(fixtureBytes("portrait.jpg")); // 600×780
  await openAs(page, "school", teacher.token, "/school.html#crop");
  await page.getByRole("heading", { name: "裁剪助手" }).waitFor();
  // The same portrait at 4620×6006 (7.7×), drawn in the page as a studio's scan would come.
  const K = 7.7;
  const big = await page.evaluate(async ([src, k]) => {
    const img = new Image();
    img.src = src;
    await img.decode();
    const c = document.createElement("canvas");
    c.width = Math.round(img.naturalWidth * k);
    c.height = Math.round(img.naturalHeight * k);
    const g = c.getContext("2d");
    g.imageSmoothingQuality = "high";
    g.drawImage(img, 0, 0, c.width, c.height);
    const bytes = new Uint8Array(await (await new Promise((r) => c.toBlob(r, "image/jpeg", 0.95))).arrayBuffer());
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  }, ["data:image/jpeg;base64," + fixtureBytes("portrait.jpg").toString("base64"), K]);
  const original = Buffer.from(big, "base64");
  const W = jpegSize(original).width;
  assert.ok(Math.max(W, jpegSize(original).height) > 4000, "the original is over the route's 4000 px");
  // What the page sends, seen from inside it (the DevTools protocol does not carry Blob bodies).
  await page.evaluate(() => {
    const fetch0 = window.fetch;
    window.__sent = [];
    window.fetch = async function (input, init) {
      if (String(input).endsWith("/api/photo/crop-suggestion") && init && init.body instanceof Blob) {
        const bmp = await createImageBitmap(init.body);
        window.__sent.push({ bytes: init.body.size, width: bmp.width, height: bmp.height, type: init.headers["Content-Type"] });
        bmp.close();
      }
      return fetch0.apply(this, arguments);
    };
  });
  await page.getByLabel("原始照片").setInputFiles({ name: "scan.jpg", mimeType: "image/jpeg", buffer: original });
  await page.locator("#crop-stage").waitFor();
  const [sent] = await page.evaluate(() => window.__sent);
  assert.equal(sent.type, "image/jpeg");
  assert.ok(sent.bytes <= 3 * 1024 * 1024, `sent ${sent.bytes} bytes, within the route's limit with room`);
  assert.ok(Math.max(sent.width, sent.height) <= 4000, `sent ${sent.width}×${sent.height}`);
  assert.ok(Math.abs(sent.width / sent.height - W / jpegSize(original).height) < 0.005, "downsized without changing its proportions");
  assert.equal(await page.locator("#crop-suggest-note").getAttribute("data-state"), "suggested");
  // On the original's pixels: the small portrait's suggestion, scaled by how much larger it is
  // (within 2 % of the frame: the server measured a resampled copy, not the same pixels).
  const f = await frameOf(page);
  const k = W / 600;
  for (const key of ["x", "y", "w"]) {
    assert.ok(Math.abs(f[key] - small.crop[key] * k) <= 0.02 * f.w, `${key}: ${f[key].toFixed(1)} on the original vs ${(small.crop[key] * k).toFixed(1)} expected`);
  }
  assert.ok(Math.abs(f.w / f.h - 272 / 354) < 1e-6);
  assert.deepEqual(page.errors, []);
});

/** `jpeg` with an EXIF APP1 saying orientation `o` inserted after its JFIF APP0 (big-endian TIFF, one IFD0 entry). */
function withExifOrientation(jpeg, o) {
  const tiff = Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, o, 0, 0, 0, 0, 0, 0]);
  const payload = Buffer.concat([Buffer.from("Exif\0\0", "latin1"), tiff]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]), payload]);
  const afterApp0 = jpeg[3] === 0xe0 ? 4 + jpeg.readUInt16BE(4) : 2;
  return Buffer.concat([jpeg.subarray(0, afterApp0), app1, jpeg.subarray(afterApp0)]);
}

test("a phone photo stored sideways (EXIF orientation 6) is framed as the browser shows it, upright", async () => {
  const upright = await suggestion(fixtureBytes("portrait.jpg"));
  await openAs(page, "school", teacher.token, "/school.html#crop");
  await page.getByRole("heading", { name: "裁剪助手" }).waitFor();
  // The portrait's pixels stored turned a quarter anticlockwise, as a phone held upright saves them.
  const b64 = await page.evaluate(async (src) => {
    const img = new Image();
    img.src = src;
    await img.decode();
    const c = document.createElement("canvas");
    c.width = img.naturalHeight;
    c.height = img.naturalWidth;
    const g = c.getContext("2d");
    g.translate(0, img.naturalWidth);
    g.rotate(-Math.PI / 2);
    g.drawImage(img, 0, 0);
    const bytes = new Uint8Array(await (await new Promise((r) => c.toBlob(r, "image/jpeg", 0.95))).arrayBuffer());
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  }, "data:image/jpeg;base64," + fixtureBytes("portrait.jpg").toString("base64"));
  const sideways = withExifOrientation(Buffer.from(b64, "base64"), 6);
  assert.deepEqual(jpegSize(sideways), { width: 780, height: 600 }, "stored sideways");
  await page.getByLabel("原始照片").setInputFiles({ name: "phone.jpg", mimeType: "image/jpeg", buffer: sideways });
  await page.locator("#crop-stage").waitFor();
  assert.equal(await page.locator("#crop-suggest-note").getAttribute("data-state"), "suggested", await page.locator("#crop-suggest-note").textContent());
  const f = await frameOf(page);
  for (const key of ["x", "y", "w"]) assert.ok(Math.abs(f[key] - upright.crop[key]) <= 3, `${key}: ${f[key]} vs the upright photo's ${upright.crop[key]}`);
  assert.deepEqual(page.errors, []);
});

test("a frame moved away from the suggestion uploads without auto_cropped", async () => {
  const sid = school.students[2].student_id;
  await openAs(page, "school", teacher.token, `/school.html#crop?student=${sid}`);
  await page.getByRole("heading", { name: "裁剪助手" }).waitFor();
  await page.getByLabel("原始照片").setInputFiles(fixture("portrait.jpg"));
  const stage = page.locator("#crop-stage");
  await stage.waitFor();
  await stage.focus();
  await page.keyboard.press("ArrowDown");
  assert.equal(await page.locator("#crop-suggest-note").getAttribute("data-state"), "moved");
  assert.match(await page.locator("#crop-suggest-note").textContent(), /已手动调整取景框/);
  await page.getByRole("button", { name: "生成 272×354 照片" }).click();
  await page.locator("#crop-info").waitFor();
  assert.equal(await page.locator("#crop-info").getAttribute("data-auto-cropped"), "false");
  const sent = presignBody(page);
  await page.getByRole("button", { name: "上传为该学生照片" }).click();
  assert.equal((await sent).files[0].auto_cropped, undefined);
  await page.locator("#crop-result .chip").waitFor({ timeout: 60_000 });
  assert.equal((await call(`/api/students/${sid}`, { token: teacher.token })).auto_cropped, false);
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

test("the crop frame keeps 272:354 through drags and zooms; a disc stays round; the guides toggle", async () => {
  await openAs(page, "school", teacher.token, "/school.html#crop");
  await page.getByRole("heading", { name: "裁剪助手" }).waitFor();
  await page.getByLabel("原始照片").setInputFiles({ name: "disc.png", mimeType: "image/png", buffer: discPng() });
  const stage = page.locator("#crop-stage");
  await stage.waitFor();
  assert.equal(await page.locator("#crop-file-name").textContent(), "已选择：disc.png");
  // A disc has no face: the server refuses to suggest, in Chinese, and the default frame is placed.
  const note = page.locator("#crop-suggest-note");
  assert.equal(await note.getAttribute("data-state"), "refused");
  assert.equal(await note.getAttribute("data-code"), "no_face");
  assert.match(await note.textContent(), /[\u4e00-\u9fff].*已按默认位置放置取景框，请拖动调整/);
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
