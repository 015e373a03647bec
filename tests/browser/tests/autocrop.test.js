// 自动裁剪 in 批量上传: studio originals (crates/core/tests/studio) named by 学籍副号 fail the
// pre-flight only on their size; the server suggests each crop, the page shows the original and
// the 272×354 result, 全部自动裁剪 adds the ticked ones to the batch, and they go up marked
// auto_cropped beside a photo that was right already. A file the teacher unticks stays behind; a
// picture without a face is refused in Chinese with a pointer to 裁剪助手; the reviewer sees the
// 自动裁剪 badge. Everything runs against the real server and its real suggestion.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BASE, launch, newPage, shot, bureauToken, makeSchool, registerSchool, openAs, call, login, corpusBytes } from "../lib/harness.js";

const STUDIO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "crates", "core", "tests", "studio");
const studioPath = (n) => join(STUDIO, `browser_${n}.jpg`);
const SUGGEST = "/api/photo/crop-suggestion";

let browser;
let bureau;
let studio;

before(async () => {
  const missing = [1, 2, 3].map(studioPath).filter((p) => !existsSync(p));
  if (missing.length) throw new Error(`the studio originals are missing: ${missing.join(", ")}`);
  studio = [1, 2, 3].map((n) => readFileSync(studioPath(n)));
  browser = await launch();
  bureau = await bureauToken();
});

after(async () => {
  await browser?.close();
});

/** Pixel size (from the SOF segment) and JFIF density of a JPEG's bytes. */
function jpegInfo(b) {
  const info = { width: null, height: null, dpi: null };
  if (b.toString("latin1", 6, 11) === "JFIF\0" && b[13] === 1) info.dpi = [b.readUInt16BE(14), b.readUInt16BE(16)];
  for (let i = 2; i + 9 < b.length && b[i] === 0xff; ) {
    const marker = b[i + 1];
    const len = b.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      info.height = b.readUInt16BE(i + 5);
      info.width = b.readUInt16BE(i + 7);
      break;
    }
    i += 2 + len;
  }
  return info;
}

/** A school of our own, its teacher on 批量上传, and a log of what the page sends. */
async function setUp(names) {
  const school = await makeSchool({ bureau, names, classes: ["高三(5)班"] });
  const teacher = await registerSchool(school.code);
  const page = await newPage(browser);
  const net = { presigns: [], puts: 0, suggestions: 0, inFlight: 0, maxInFlight: 0 };
  page.on("request", (req) => {
    const path = new URL(req.url()).pathname;
    if (path === "/api/uploads" && req.method() === "POST") net.presigns.push(JSON.parse(req.postData()));
    if (path.startsWith("/store/") && req.method() === "PUT") net.puts++;
    if (path === SUGGEST) {
      net.suggestions++;
      net.maxInFlight = Math.max(net.maxInFlight, ++net.inFlight);
    }
  });
  const settled = (req) => new URL(req.url()).pathname === SUGGEST && net.inFlight--;
  page.on("requestfinished", settled);
  page.on("requestfailed", settled);
  await openAs(page, "school", teacher.token, "/school.html#batch");
  await page.getByRole("heading", { name: "批量上传" }).waitFor();
  return { school, teacher, page, net };
}

const file = (name, buffer) => ({ name, mimeType: "image/jpeg", buffer });
const cropRow = (page, id) => page.locator(`#autocrop-table tr[data-student-id="${id}"]`);

/** Waits for every suggestion; ticks the rows that start unticked (findings), after checking they say why. */
async function analysed(page, ids) {
  await page.locator('#autocrop-progress[data-done="true"]').waitFor({ timeout: 180_000 });
  for (const id of ids) {
    const row = cropRow(page, id);
    assert.equal(await row.getAttribute("data-state"), "ready", `${id}: ${await page.locator("#analysis").textContent()}`);
    assert.match(await row.locator(".autocrop-note").textContent(), /可自动裁剪/);
    const tick = row.locator("input.autocrop-tick");
    if (!(await tick.isChecked())) {
      assert.ok((await row.locator(".autocrop-note li").count()) > 0, `${id} starts unticked only because of findings`);
      await tick.check();
    }
  }
}

test("three studio originals are cropped as suggested and go up with a photo that was right already", async () => {
  const { school, teacher, page, net } = await setUp(["魏子轩", "程雨桐", "沈嘉禾", "陆思远"]);
  const ids = school.students.map((s) => s.student_id);
  await page.locator("#batch-files").setInputFiles([file(`${ids[0]}.jpg`, studio[0]), file(`${ids[1]}.jpg`, studio[1]), file(`${ids[2]}.jpg`, studio[2]), file(`${ids[3]}.jpg`, corpusBytes("astronaut_valid"))]);
  await page.locator("#match-count", { hasText: "可以上传 1 张" }).waitFor();
  await analysed(page, ids.slice(0, 3));
  assert.equal(await page.locator("#autocrop-count").textContent(), "可自动裁剪 3 张");
  assert.equal(await page.locator("#autocrop-table tbody tr").count(), 3);
  assert.equal(await page.locator(`#autocrop-table tr[data-student-id="${ids[3]}"]`).count(), 0, "the right-sized photo is not offered a crop");
  assert.equal(net.suggestions, 3, "one suggestion per original");
  const limit = Number(await page.locator("#autocrop").getAttribute("data-concurrency"));
  assert.ok(net.maxInFlight <= limit, `at most ${limit} suggestions at once (saw ${net.maxInFlight})`);
  assert.deepEqual([net.presigns.length, net.puts], [0, 0], "nothing is uploaded before the teacher confirms");

  // Before and after: the original with the frame on it, and the 272×354 result.
  for (const id of ids.slice(0, 3)) {
    const row = cropRow(page, id);
    const [before, after] = await Promise.all(
      [".ba-before", ".ba-after"].map((sel) => row.locator(sel).evaluate(async (img) => (await img.decode(), [img.naturalWidth, img.naturalHeight])))
    );
    assert.deepEqual(after, [272, 354], `${id}: the result is 272×354`);
    assert.ok(before[0] > 0 && before[1] > 0, `${id}: the original is shown`);
    assert.match(await row.textContent(), /原图 \d+×\d+ → 272×354/);
  }
  await shot(page, "54-batch-autocrop", { fullPage: true });

  await page.getByRole("button", { name: "全部自动裁剪（3 张）" }).click();
  await page.locator("#match-count", { hasText: "可以上传 4 张" }).waitFor();
  for (const id of ids.slice(0, 3)) assert.equal(await cropRow(page, id).getAttribute("data-state"), "applied");
  assert.deepEqual([net.presigns.length, net.puts], [0, 0], "applying the crops sends nothing either");
  await page.getByRole("button", { name: "确定上传 4 张" }).click();
  await page.locator('#overall-text[data-done="true"]').waitFor({ timeout: 180_000 });

  const row = (id) => page.locator(`#batch-table tr[data-student-id="${id}"]`);
  for (const id of ids) assert.equal(await row(id).getAttribute("data-result-status"), "pending_review", `${id}: ${await row(id).textContent()}`);
  for (const id of ids.slice(0, 3)) assert.equal(await row(id).locator(".tag-autocrop").textContent(), "已自动裁剪");
  assert.equal(await row(ids[3]).locator(".tag-autocrop").count(), 0);
  // The presign says which files are crops as suggested; the photo that was right says nothing.
  assert.equal(net.presigns.length, 4);
  const flag = Object.fromEntries(net.presigns.map((b) => [b.files[0].student_id, b.files[0].auto_cropped]));
  assert.deepEqual(flag, { [ids[0]]: true, [ids[1]]: true, [ids[2]]: true, [ids[3]]: undefined });
  await shot(page, "55-batch-autocrop-done", { fullPage: true });

  // What landed: 272×354 at 300 dpi, and the record says which were cropped automatically.
  for (const [i, id] of ids.entries()) {
    const record = await call(`/api/students/${id}`, { token: teacher.token });
    assert.equal(record.status, "pending_review", JSON.stringify(record));
    assert.equal(record.auto_cropped, i < 3, `${id}: auto_cropped`);
    const bytes = Buffer.from(await (await fetch(new URL(record.photo_url, BASE))).arrayBuffer());
    const info = jpegInfo(bytes);
    assert.deepEqual([info.width, info.height], [272, 354], `${id}: the uploaded photo is 272×354`);
    if (i < 3) {
      assert.deepEqual(info.dpi, [300, 300], `${id}: JFIF says 300 dpi`);
      assert.ok(bytes.length <= 1024 * 1024, `${id}: under the size limit`);
    }
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();

  // The reviewer sees which photos the machine framed: the grid's tiles and the one-by-one view.
  const reviewer = await login("reviewer1", "review123");
  const rp = await newPage(browser);
  await openAs(rp, "reviewer", reviewer, `/review.html?school_id=${encodeURIComponent(school.school_id)}`);
  await rp.locator(".tile").nth(3).waitFor();
  for (const [i, id] of ids.entries()) {
    const badge = rp.locator(`.tile[data-student-id="${id}"] .badge-autocrop`);
    if (i < 3) assert.equal(await badge.textContent(), "自动裁剪", id);
    else assert.equal(await badge.count(), 0, `${id} was not cropped automatically`);
  }
  await rp.goto(`${BASE}/review.html?view=single&school_id=${encodeURIComponent(school.school_id)}`);
  const shown = rp.locator("#review-student-id");
  await shown.waitFor();
  for (let k = 0; k < ids.length; k++) {
    const id = (await shown.textContent()).trim();
    assert.equal(await rp.locator(".review-info .badge-autocrop").count(), id === ids[3] ? 0 : 1, `one-by-one view of ${id}`);
    if (k < ids.length - 1) {
      await rp.keyboard.press("j");
      await rp.waitForFunction((prev) => document.getElementById("review-student-id")?.textContent.trim() !== prev, id);
    }
  }
  assert.deepEqual(rp.errors, []);
  await rp.context().close();
});

test("an original the teacher unticks stays behind: only the ticked crops go up", async () => {
  const { school, teacher, page, net } = await setUp(["傅星河", "蔡安然", "江南溪"]);
  const ids = school.students.map((s) => s.student_id);
  await page.locator("#batch-files").setInputFiles(ids.map((id, i) => file(`${id}.jpg`, studio[i])));
  await analysed(page, ids);
  await cropRow(page, ids[1]).locator("input.autocrop-tick").uncheck();
  await page.getByRole("button", { name: "全部自动裁剪（2 张）" }).click();
  assert.equal(await cropRow(page, ids[1]).getAttribute("data-state"), "skipped");
  assert.match(await cropRow(page, ids[1]).textContent(), /未勾选，不上传/);
  await page.getByRole("button", { name: "确定上传 2 张" }).click();
  await page.locator('#overall-text[data-done="true"]').waitFor({ timeout: 180_000 });
  assert.deepEqual(await page.locator("#batch-table tbody tr").evaluateAll((trs) => trs.map((tr) => tr.dataset.studentId).sort()), [ids[0], ids[2]].sort());
  assert.deepEqual(net.presigns.map((b) => b.files[0].student_id).sort(), [ids[0], ids[2]].sort());
  const left = await call(`/api/students/${ids[1]}`, { token: teacher.token });
  assert.equal(left.status, "not_uploaded", "the unticked original was never sent");
  for (const id of [ids[0], ids[2]]) assert.equal((await call(`/api/students/${id}`, { token: teacher.token })).auto_cropped, true);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** An 800×600 landscape (sky, hills, a sun, a tree) drawn in the page: a JPEG with no face in it. */
async function scenery(page) {
  const b64 = await page.evaluate(async () => {
    const c = document.createElement("canvas");
    c.width = 800;
    c.height = 600;
    const g = c.getContext("2d");
    const sky = g.createLinearGradient(0, 0, 0, 380);
    sky.addColorStop(0, "#3a7bd5");
    sky.addColorStop(1, "#bfe3ff");
    g.fillStyle = sky;
    g.fillRect(0, 0, 800, 600);
    g.fillStyle = "#ffd54f";
    g.beginPath();
    g.arc(640, 110, 55, 0, Math.PI * 2);
    g.fill();
    g.fillStyle = "#4c8c3a";
    g.beginPath();
    g.moveTo(0, 420);
    g.quadraticCurveTo(220, 300, 460, 410);
    g.quadraticCurveTo(640, 340, 800, 400);
    g.lineTo(800, 600);
    g.lineTo(0, 600);
    g.fill();
    g.fillStyle = "#6d4c41";
    g.fillRect(180, 330, 22, 110);
    g.fillStyle = "#2e7d32";
    g.beginPath();
    g.arc(191, 310, 60, 0, Math.PI * 2);
    g.fill();
    const blob = await new Promise((r) => c.toBlob(r, "image/jpeg", 0.9));
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = "";
    for (const x of bytes) s += String.fromCharCode(x);
    return btoa(s);
  });
  return Buffer.from(b64, "base64");
}

test("a picture without a face is refused in Chinese, stays a failure and points to 裁剪助手", async () => {
  const { school, page, net } = await setUp(["顾晨曦"]);
  const id = school.students[0].student_id;
  await page.locator("#batch-files").setInputFiles([file(`${id}.jpg`, await scenery(page))]);
  await page.locator('#autocrop-progress[data-done="true"]').waitFor({ timeout: 120_000 });
  const row = page.locator(`#mismatch-table tr[data-code="no_face"]`);
  await row.waitFor();
  assert.match(await row.locator(".autocrop-refused").textContent(), /^无法自动裁剪：.*[\u4e00-\u9fff]/);
  assert.match(await row.textContent(), /当前为 800×600/, "the size problem is still said");
  const link = row.getByRole("link", { name: "用裁剪助手手动裁剪" });
  assert.equal(await link.getAttribute("href"), `#crop?student=${id}`);
  assert.equal(await page.locator("#autocrop-table tbody tr").count(), 0, "nothing is offered as a crop");
  assert.equal(await page.locator("#mismatch-count").textContent(), "不能上传 1 张");
  assert.ok(await page.getByRole("button", { name: "确定上传 0 张" }).isDisabled());
  assert.ok(await page.locator("#autocrop-apply").isDisabled());
  assert.equal(net.presigns.length, 0);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
