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
