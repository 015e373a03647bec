// Shared pieces of the browser tests: the browser, the server's URL, API calls from Node for
// setting up data (a school of our own via the bureau API, so no test depends on the demo's
// text), photo fixtures, and screenshots.
import { chromium } from "playwright-core";
import UPNG from "upng-js";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, "..", "fixtures");
export const BASE = process.env.GRADPHOTO_URL;
const SHOTS = process.env.SCREENSHOTS || join(here, "..", "..", "..", "docs", "screenshots");

if (!BASE) {
  throw new Error("GRADPHOTO_URL is not set: run the tests with tests/browser/run.sh, which starts the server");
}

export const CHROMIUM = "/usr/bin/chromium";

/**
 * Debian's Chromium, headless, with the flags this machine needs (no background network), in
 * Chinese like a teacher's browser (the context's locale does not reach native controls).
 */
export async function launch() {
  try {
    readFileSync(CHROMIUM, { flag: "r" }).length;
  } catch {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (run.sh does it)`);
  }
  // playwright-core gives every launch a fresh, empty profile directory of its own.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--lang=zh-CN", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A page at 1280×800 (or `viewport`), failing the test on any uncaught page error. */
export async function newPage(browser, { viewport = { width: 1280, height: 800 }, context = null } = {}) {
  const ctx = context || (await browser.newContext({ viewport, locale: "zh-CN", timezoneId: "Asia/Shanghai", acceptDownloads: true }));
  const page = await ctx.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e));
  return page;
}

/** Saves docs/screenshots/NAME.png, quantised to 256 colours so the committed files stay small. */
export async function shot(page, name, opts = {}) {
  mkdirSync(SHOTS, { recursive: true });
  const png = UPNG.decode(await page.screenshot(opts));
  const small = UPNG.encode(UPNG.toRGBA8(png), png.width, png.height, 256);
  writeFileSync(join(SHOTS, `${name}.png`), Buffer.from(small));
}

/** Saves docs/screenshots/NAME.png of one element (scrolled into view), quantised like shot(). */
export async function shotOf(locator, name) {
  mkdirSync(SHOTS, { recursive: true });
  const png = UPNG.decode(await locator.screenshot());
  writeFileSync(join(SHOTS, `${name}.png`), Buffer.from(UPNG.encode(UPNG.toRGBA8(png), png.width, png.height, 256)));
}

export const fixture = (name) => join(FIXTURES, name);
export const fixtureBytes = (name) => readFileSync(fixture(name));

/** A short unique token, so ids from several runs against one server never collide. */
export const uniq = () => randomBytes(3).toString("hex").toUpperCase();

// ---------------------------------------------------------------- API from Node
export async function call(path, { method = "GET", token, json, csv } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (csv !== undefined) {
    headers["Content-Type"] = "text/csv; charset=utf-8";
    body = csv;
  }
  const res = await fetch(BASE + path, { method, headers, body });
  const text = await res.text();
  let data = null;
  try {
    data = JSON.parse(text);
  } catch {
    data = text;
  }
  if (!res.ok) {
    const err = new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
    err.status = res.status;
    err.data = data;
    throw err;
  }
  return data;
}

export async function login(username, password) {
  return (await call("/api/sessions", { method: "POST", json: { username, password } })).token;
}

export const bureauToken = () => login("bureau", "bureau123");

/** The demo's always-open campaign (what run.sh's server starts with). */
export function openCampaign(name = "浏览器测试采集活动") {
  const day = (d) => new Date(Date.now() + d * 86400_000).toISOString().slice(0, 10);
  return { name, starts_on: day(-2), ends_on: day(90), daily_open: "00:00", daily_close: "24:00", timezone: "Asia/Shanghai" };
}

/**
 * A fresh school of our own with a roster: returns { school_id, code, students: [{student_id,
 * name, class}] }. `names` may contain anything (the XSS test uses markup).
 */
export async function makeSchool({ bureau, stage = "senior", names, classes = ["高三(1)班", "高三(2)班"], district = "测试区" }) {
  const tag = uniq();
  const schoolName = `浏览器测试中学${tag}`;
  const r = await call("/api/admin/schools", { method: "POST", token: bureau, csv: `district,school,stage\n${district},${schoolName},${stage}\n` });
  const school = r.schools[0];
  const students = names.map((name, i) => ({ student_id: `T${tag}${String(i + 1).padStart(2, "0")}`, name, class: classes[i % classes.length] }));
  const csvField = (v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const csv = "school_id,student_id,name,class\n" + students.map((s) => [school.school_id, s.student_id, s.name, s.class].map(csvField).join(",")).join("\n") + "\n";
  await call("/api/admin/students", { method: "POST", token: bureau, csv });
  return { school_id: school.school_id, name: schoolName, district, code: school.registration_code, students };
}

/** Registers the school's account from Node (for tests that do not walk the registration). */
export async function registerSchool(code) {
  const username = `t_${uniq().toLowerCase()}`;
  const password = "abc123456";
  const r = await call("/api/registration", { method: "POST", json: { code, username, password } });
  return { username, password, token: r.token };
}

/** Uploads a photo for a student as the page would, and waits for the check's verdict. */
export async function uploadFromNode(token, studentId, bytes) {
  const r = await call("/api/uploads", { method: "POST", token, json: { files: [{ student_id: studentId, size: bytes.length }], content_type: "image/jpeg" } });
  if (!r.uploads.length) throw new Error(`upload refused: ${JSON.stringify(r.refused)}`);
  const g = r.uploads[0];
  const put = await fetch(new URL(g.url, BASE), { method: g.method || "PUT", headers: g.headers, body: bytes });
  if (!put.ok) throw new Error(`PUT ${put.status} ${await put.text()}`);
  return waitForCheck(token, studentId);
}

export async function waitForCheck(token, studentId, timeoutMs = 120_000) {
  const start = Date.now();
  for (;;) {
    const s = await call(`/api/students/${studentId}`, { token });
    if (["pending_review", "approved", "rejected"].includes(s.status)) return s;
    if (Date.now() - start > timeoutMs) throw new Error(`check of ${studentId} did not finish: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Stores a session token for `role` the way the pages do, then loads `path`. */
export async function openAs(page, role, token, path) {
  await page.goto(BASE + "/index.html");
  await page.evaluate(([k, v]) => localStorage.setItem(k, v), [`gradphoto.token.${role}`, token]);
  await page.goto(BASE + path);
}

/** Form controls a screen reader could not name (no <label>, aria-label or aria-labelledby). */
export function unlabelledControls(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea, button")]
      .filter((el) => el.type !== "hidden")
      .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby") && !(el.tagName === "BUTTON" && el.textContent.trim()))
      .map((el) => el.outerHTML.slice(0, 120))
  );
}

// ---------------------------------------------------------------- review queues
const CORPUS = join(here, "..", "..", "..", "crates", "core", "tests", "corpus");
/** Photos that pass every automatic check: the browser fixtures and the check's own corpus. */
export const PASSING_PHOTOS = [
  fixture("good.jpg"),
  fixture("good-alt.jpg"),
  ...["astronaut_valid", "hopper_valid", "astronaut_mirrored", "hopper_mirrored", "astronaut_larger_head", "hopper_warm_white", "astronaut_smaller_head", "astronaut_warm_white", "astronaut_white_suit", "astronaut_q95"].map((n) => join(CORPUS, `${n}.jpg`)),
];
/** A photo of the check's corpus (crates/core/tests/corpus), e.g. "astronaut_blue_background". */
export const corpusBytes = (name) => readFileSync(join(CORPUS, `${name}.jpg`));

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order of the results. */
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    })
  );
  return out;
}

/**
 * A school of our own with `n` photos waiting for review (the passing photos in turn, so the
 * grid shows several faces). Returns the school with its teacher and the checked records.
 */
export async function seedPending(n, { bureau, concurrency = 4, district = "测试区" } = {}) {
  bureau = bureau || (await bureauToken());
  const names = Array.from({ length: n }, (_, i) => `学生${String(i + 1).padStart(3, "0")}`);
  const school = await makeSchool({ bureau, names, classes: ["高三(1)班", "高三(2)班", "高三(3)班"], district });
  const teacher = await registerSchool(school.code);
  const photos = PASSING_PHOTOS.map((p) => readFileSync(p));
  const records = await pool(school.students, concurrency, (s, i) => uploadFromNode(teacher.token, s.student_id, photos[i % photos.length]));
  const notPending = records.filter((r) => r.status !== "pending_review");
  if (notPending.length) throw new Error(`seedPending: ${notPending.length} photos are not pending: ${JSON.stringify(notPending.slice(0, 2))}`);
  return { ...school, teacher, records };
}

/**
 * A photo no other upload of this server resembles (so the check flags no duplicate): good.jpg
 * with the clothing below the chin repainted by the bits of `seed` (0–255), drawn in
 * Chromium's canvas and marked 300 dpi in its JFIF header like a studio photo.
 */
export async function uniquePhoto(browser, seed = Math.floor(Math.random() * 256)) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const src = "data:image/jpeg;base64," + fixtureBytes("good.jpg").toString("base64");
  const b64 = await page.evaluate(
    async ([src, seed]) => {
      const img = new Image();
      img.src = src;
      await img.decode();
      const c = document.createElement("canvas");
      c.width = 272;
      c.height = 354;
      const g = c.getContext("2d");
      g.drawImage(img, 0, 0);
      // Eight blocks over the suit (rows 280–354), each dark or mid-grey by one bit of the seed:
      // a coarse pattern, so photos of two seeds differ where a perceptual hash looks.
      for (let k = 0; k < 8; k++) {
        const on = (seed >>> k) & 1;
        g.fillStyle = on ? "rgb(150,140,130)" : "rgb(25,30,60)";
        g.fillRect((k % 4) * 68, 280 + Math.floor(k / 4) * 37, 68, 37);
      }
      const blob = await new Promise((r) => c.toBlob(r, "image/jpeg", 0.92));
      const buf = new Uint8Array(await blob.arrayBuffer());
      let s = "";
      for (const b of buf) s += String.fromCharCode(b);
      return btoa(s);
    },
    [src, seed]
  );
  await ctx.close();
  const bytes = Buffer.from(b64, "base64");
  if (bytes.toString("latin1", 6, 11) !== "JFIF\0") throw new Error("uniquePhoto: no JFIF header");
  bytes[13] = 1; // dots per inch
  bytes.writeUInt16BE(300, 14);
  bytes.writeUInt16BE(300, 16);
  return bytes;
}
