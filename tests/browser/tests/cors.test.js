// The "one setting" deployment: web/ published on its own origin (an S3 website or CloudFront)
// with API_BASE in config.js pointing at the API. Here a small static server on a second
// loopback port plays the website and answers config.js with API_BASE set to run.sh's server,
// which run.sh started with --cors-origin for exactly that origin. The teacher logs in, sees
// the roster, uploads one photo (a cross-origin PUT to the signed URL) and sees its thumbnail.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFile } from "node:fs/promises";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { BASE, launch, newPage, fixture, bureauToken, makeSchool, registerSchool } from "../lib/harness.js";

const WEB = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "web");
// run.sh offers a few free ports, all allowed on the server; the first that still binds here is
// the website's origin. (Picked ports are released before this file runs, so one may have been
// taken meanwhile; three all taken is not a thing that happens.)
const PAGES_PORTS = (process.env.GRADPHOTO_PAGES_PORTS || "").split(",").map(Number).filter(Boolean);
if (PAGES_PORTS.length === 0) {
  throw new Error("GRADPHOTO_PAGES_PORTS is not set: run the tests with tests/browser/run.sh, which picks them and allows their origins on the server");
}
let PAGES;
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".ico": "image/x-icon", ".mjs": "text/javascript; charset=utf-8" };

let pagesServer;
// An API or store request reaching the pages' origin means a call missed API_BASE.
const strayRequests = [];
let browser;
let school;
let teacher;

async function servePages() {
  const server = http.createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, PAGES).pathname);
    if (path === "/config.js") {
      res.writeHead(200, { "Content-Type": TYPES[".js"], "Cache-Control": "no-store" });
      return res.end(`export const API_BASE = ${JSON.stringify(BASE)};\n`);
    }
    if (path.startsWith("/api/") || path.startsWith("/store/")) strayRequests.push(`${req.method} ${path}`);
    const file = normalize(join(WEB, path.endsWith("/") ? path + "index.html" : path));
    try {
      if (!file.startsWith(WEB + sep)) throw new Error("outside web/");
      const body = await readFile(file);
      res.writeHead(200, { "Content-Type": TYPES[extname(file)] || "application/octet-stream" });
      res.end(body);
    } catch {
      // Also the browser's own /favicon.ico, which web/ does not have.
      res.writeHead(404);
      res.end();
    }
  });
  const listen = (port) =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  const refused = [];
  for (const port of PAGES_PORTS) {
    try {
      await listen(port);
      PAGES = `http://127.0.0.1:${port}`;
      return server;
    } catch (e) {
      if (e.code !== "EADDRINUSE") throw e;
      refused.push(port);
    }
  }
  throw new Error(`every port run.sh allowed for the pages is taken: ${refused.join(", ")}`);
}

before(async () => {
  assert.notEqual(new URL(BASE).origin, PAGES, "the pages and the API are on different origins");
  pagesServer = await servePages();
  browser = await launch();
  const bureau = await bureauToken();
  school = await makeSchool({ bureau, names: ["林晓彤", "黄子墨"], classes: ["高三(6)班"] });
  teacher = await registerSchool(school.code);
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (pagesServer ? pagesServer.close(r) : r()));
});

test("pages on another origin: entry → login → roster → upload (cross-origin PUT) → thumbnail", async () => {
  const page = await newPage(browser);
  const puts = [];
  page.on("requestfinished", async (r) => {
    if (r.method() === "PUT") puts.push({ url: r.url(), status: (await r.response())?.status() });
  });
  await page.goto(`${PAGES}/index.html`);
  // The window banner comes from GET {API_BASE}/api/window.
  await page.locator("#window-banner .banner-open").waitFor();
  await page.getByRole("link", { name: /学校入口/ }).click();
  await page.getByRole("heading", { name: "学校登录" }).waitFor();
  assert.equal(new URL(page.url()).origin, PAGES);
  await page.getByLabel("用户名").fill(teacher.username);
  await page.getByLabel("密码").fill(teacher.password);
  await page.getByRole("button", { name: "登录" }).click();
  await page.getByRole("heading", { name: "学校信息" }).waitFor();
  assert.equal(await page.locator("#info-school").textContent(), school.name);
  await page.getByRole("link", { name: "确认无误，进入学生信息列表" }).click();
  await page.getByRole("heading", { name: "学生信息列表" }).waitFor();
  assert.equal(await page.locator("#roster tbody tr").count(), school.students.length);

  const sid = school.students[0].student_id;
  await page.locator(`tr[data-student-id="${sid}"] input[type=file]`).setInputFiles(fixture("good.jpg"));
  await page.locator(`tr[data-student-id="${sid}"][data-status="pending_review"]`).waitFor({ timeout: 60_000 });
  const thumb = page.locator(`tr[data-student-id="${sid}"] img.thumb`);
  await thumb.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await thumb.elementHandle());
  assert.equal(await thumb.evaluate((img) => img.naturalWidth), 272);
  assert.equal(new URL(await thumb.getAttribute("src")).origin, new URL(BASE).origin, "the preview comes from the API's origin");

  assert.equal(puts.length, 1, JSON.stringify(puts));
  assert.equal(new URL(puts[0].url).origin, new URL(BASE).origin);
  assert.match(new URL(puts[0].url).pathname, /^\/store\//);
  assert.equal(puts[0].status, 200);
  assert.deepEqual(strayRequests, []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("only the configured origin gets CORS headers", async () => {
  const ask = (path, origin, init = {}) => fetch(BASE + path, { ...init, headers: { Origin: origin, ...(init.headers || {}) } });
  const ok = await ask("/api/window", PAGES);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("access-control-allow-origin"), PAGES);

  const other = "http://127.0.0.1:9"; // same host, another port: another origin
  const r = await ask("/api/window", other);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("access-control-allow-origin"), null);
  const pre = await ask("/api/sessions", other, { method: "OPTIONS", headers: { "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" } });
  assert.equal(pre.headers.get("access-control-allow-origin"), null);
  const prePut = await ask("/store/uploads/x.jpg", other, { method: "OPTIONS", headers: { "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type" } });
  assert.equal(prePut.headers.get("access-control-allow-origin"), null);
});
