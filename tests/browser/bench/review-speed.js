// Review speed in headless Chromium: the grid console against the one-by-one view, on the same
// queue. Not part of the test command. Run it against a server started the way
// tests/browser/run.sh starts one (debug build, demo data, a fresh data folder):
//
//   cargo build -p gradphoto-local --bin gradphoto
//   (cd tests/browser && npm ci)
//   data=$(mktemp -d) && target/debug/gradphoto serve --demo --data "$data" --addr 127.0.0.1:8099 --web web &
//   GRADPHOTO_URL=http://127.0.0.1:8099 node tests/browser/bench/review-speed.js [--n 96] [--runs 3]
//
// Each run seeds, per mode, a school of N pending photos uploaded in the same order from the
// same photos, with the same students to reject (every 16th, from the 5th: 6 of 96, 6.25 %),
// then a scripted reviewer clears that school's queue (review.html?school_id=…):
//   grid, mouse     — per reject: the tile's 不通过… menu, then a reason (2 clicks); per page:
//                     通过本页其余照片 (1 click)
//   grid, keyboard  — arrows to each reject, a reason key; per page: Shift+A
//   one by one      — A per approve; a reason key and R per reject
// Before acting on a page (grid) or a photo (one by one) the script waits until its previews
// have loaded, as a person would. Actions are clicks and key presses; photos decided per minute
// are N over the time from the first page shown to the queue empty. The three modes run one
// after another in each run, in a rotating order; the report gives the median of the runs.
// The scripted reviewer knows which students to reject, so this measures the console, not a
// person's judgement: the per-photo time a person needs to look comes on top in both views.
import { launch, newPage, bureauToken, makeSchool, registerSchool, uploadFromNode, call, login, openAs, PASSING_PHOTOS } from "../lib/harness.js";
import { readFileSync } from "node:fs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg("n", 96);
const RUNS = arg("runs", 3);
const REJECT = (i) => i % 16 === 4; // positions 5, 21, 37, … (1-based)

const photos = PASSING_PHOTOS.map((p) => readFileSync(p));

async function seed(bureau) {
  const names = Array.from({ length: N }, (_, i) => `测速${String(i + 1).padStart(3, "0")}`);
  const school = await makeSchool({ bureau, names, classes: ["高三(1)班"], district: "测速区" });
  const teacher = await registerSchool(school.code);
  // One after another: the queue is oldest first, so tile i is student i.
  for (const [i, s] of school.students.entries()) {
    const r = await uploadFromNode(teacher.token, s.student_id, photos[i % photos.length]);
    if (r.status !== "pending_review") throw new Error(`seed: ${s.student_id} is ${r.status}`);
  }
  const reject = new Set(school.students.filter((_, i) => REJECT(i)).map((s) => s.student_id));
  return { ...school, teacher, reject };
}

const imagesLoaded = (page, sel) =>
  page.waitForFunction((sel) => {
    const imgs = [...document.querySelectorAll(sel)];
    return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, sel, { timeout: 60_000 });

async function gridMouse(page, school, count) {
  for (;;) {
    await page.locator(".tile, #queue-empty:not([hidden])").first().waitFor();
    if (await page.locator("#queue-empty:not([hidden])").count()) return;
    await imagesLoaded(page, ".tile img");
    const ids = await page.locator(".tile").evaluateAll((xs) => xs.map((x) => x.dataset.studentId));
    for (const [i, id] of ids.entries()) {
      if (!school.reject.has(id)) continue;
      await count(() => page.locator(".tile").nth(i).locator(".tile-menu").click());
      await count(() => page.locator("#reason-palette .palette-opt").first().click());
      await page.locator(`.tile[data-index="${i}"][data-marked="1"]`).waitFor();
    }
    await count(() => page.locator("#approve-rest").click());
    await nextPage(page, ids);
  }
}

async function gridKeyboard(page, school, count) {
  for (;;) {
    await page.locator(".tile, #queue-empty:not([hidden])").first().waitFor();
    if (await page.locator("#queue-empty:not([hidden])").count()) return;
    await imagesLoaded(page, ".tile img");
    const ids = await page.locator(".tile").evaluateAll((xs) => xs.map((x) => x.dataset.studentId));
    const cols = await page.evaluate(() => {
      const k = [...document.querySelectorAll(".tile")];
      const n = k.findIndex((x) => x.offsetTop !== k[0].offsetTop);
      return n < 0 ? k.length : n;
    });
    let at = 0;
    for (const [i, id] of ids.entries()) {
      if (!school.reject.has(id)) continue;
      const dr = Math.floor(i / cols) - Math.floor(at / cols);
      const dc = (i % cols) - (at % cols);
      for (let k = 0; k < Math.abs(dr); k++) await count(() => page.keyboard.press(dr > 0 ? "ArrowDown" : "ArrowUp"));
      for (let k = 0; k < Math.abs(dc); k++) await count(() => page.keyboard.press(dc > 0 ? "ArrowRight" : "ArrowLeft"));
      at = i;
      await count(() => page.keyboard.press("1"));
      await page.locator(`.tile[data-index="${i}"][data-marked="1"]`).waitFor();
    }
    await count(() => page.keyboard.press("Shift+A"));
    await nextPage(page, ids);
  }
}

async function nextPage(page, old) {
  await page.waitForFunction(
    (old) => {
      const empty = document.querySelector("#queue-empty");
      if (empty && !empty.hidden) return true;
      const ids = [...document.querySelectorAll(".tile")].map((x) => x.dataset.studentId);
      return ids.length > 0 && !ids.some((x) => old.includes(x));
    },
    old,
    { timeout: 60_000 }
  );
}

async function single(page, school, count) {
  for (;;) {
    await page.locator("#review-student-id, #queue-empty").first().waitFor();
    if (await page.locator("#queue-empty").count()) return;
    await imagesLoaded(page, ".review-preview img");
    const id = await page.locator("#review-student-id").textContent();
    if (school.reject.has(id)) {
      // The first reason, picked unless the check's findings picked it already.
      const picked = await page.locator(".reasons-pick input").first().isChecked();
      if (!picked) await count(() => page.keyboard.press("1"));
      await count(() => page.keyboard.press("r"));
    } else {
      await count(() => page.keyboard.press("a"));
    }
    await page.waitForFunction((id) => {
      const el = document.querySelector("#review-student-id");
      return !el || el.textContent !== id || document.querySelector("#queue-empty");
    }, id, { timeout: 60_000 });
  }
}

const MODES = {
  "grid, mouse": { query: "", run: gridMouse },
  "grid, keyboard": { query: "", run: gridKeyboard },
  "one by one": { query: "&view=single", run: single },
};

async function measure(browser, reviewer, school, mode) {
  const page = await newPage(browser);
  let actions = 0;
  const count = async (fn) => {
    actions++;
    await fn();
  };
  await openAs(page, "reviewer", reviewer, `/review.html?school_id=${encodeURIComponent(school.school_id)}${MODES[mode].query}`);
  await page.locator(mode === "one by one" ? "#review-student-id" : ".tile").first().waitFor();
  const t0 = performance.now();
  await MODES[mode].run(page, school, count);
  const seconds = (performance.now() - t0) / 1000;
  if (page.errors.length) throw new Error(`${mode}: page errors ${page.errors.join("; ")}`);
  await page.context().close();
  // Check what the script decided landed as meant.
  const recs = (await call("/api/students", { token: school.teacher.token })).students;
  const wrong = recs.filter((s) => s.status !== (school.reject.has(s.student_id) ? "rejected" : "approved"));
  if (wrong.length) throw new Error(`${mode}: ${wrong.length} photos not decided as meant, e.g. ${JSON.stringify(wrong[0])}`);
  return { actions, seconds, perMinute: (N / seconds) * 60 };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const browser = await launch();
  const bureau = await bureauToken();
  const reviewer = await login("reviewer1", "review123");
  const names = Object.keys(MODES);
  const results = Object.fromEntries(names.map((m) => [m, []]));
  for (let run = 0; run < RUNS; run++) {
    const order = names.map((_, k) => names[(k + run) % names.length]);
    for (const mode of order) {
      const school = await seed(bureau);
      const r = await measure(browser, reviewer, school, mode);
      results[mode].push(r);
      console.error(`run ${run + 1} ${mode}: ${r.actions} actions, ${r.seconds.toFixed(1)} s, ${r.perMinute.toFixed(0)} photos/min`);
    }
  }
  await browser.close();
  const rejects = Array.from({ length: N }, (_, i) => i).filter(REJECT).length;
  console.log(`N = ${N} pending photos, ${rejects} to reject (${((rejects / N) * 100).toFixed(2)} %), ${RUNS} runs, median of the runs\n`);
  console.log("| view | actions | actions per photo | seconds | photos decided per minute | runs (photos/min) |");
  console.log("|---|---|---|---|---|---|");
  for (const m of names) {
    const rs = results[m];
    const a = median(rs.map((r) => r.actions));
    console.log(`| ${m} | ${a} | ${(a / N).toFixed(2)} | ${median(rs.map((r) => r.seconds)).toFixed(1)} | **${median(rs.map((r) => r.perMinute)).toFixed(0)}** | ${rs.map((r) => r.perMinute.toFixed(0)).join(", ")} |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
