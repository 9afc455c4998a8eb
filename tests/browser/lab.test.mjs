// The lab page in a real browser (CTest `browser.lab`, labels `browser` and `lab`).
//
// Starts a private PostgreSQL server (initdb + pg_ctl in a temporary directory, on a Unix socket; as the
// `postgres` user when run as root), creates the lab (`rig lab init`) and a reader role (`rig lab add-reader`),
// makes two rigs' databases with `rig simulate` (rig-1: M001, 4 sessions; rig-2: M002, 3 sessions; fixed seeds) and
// pushes them with `rig sync`, then serves the page with `rig lab serve` as the reader and opens it in Debian's
// headless Chromium (playwright-core). Checks: the overview lists both rigs (idle) and both subjects with the
// indices the API gives, as the page rounds them; a subject's page draws a point per session and index on the
// learning curve and the weights by lag of the pooled fit; changing the pooled sessions asks the API again. Any
// page error, console error or failed request fails the test. A screenshot of each view goes to --out.
//
//   node lab.test.mjs --rig PATH --source DIR --out DIR
//
// Environment: RIG_CHROMIUM=PATH (default /usr/bin/chromium), RIG_BROWSER_KEEP=1 keeps the temporary directory.
import { spawn, execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const kRigs = [{ id: "rig-1", subject: "M001", sessions: 4, seed: 3 }, { id: "rig-2", subject: "M002", sessions: 3, seed: 4 }];
const kTrials = 300;
const kViewport = { width: 1400, height: 1000 };
const t0 = Date.now();
const pageProblems = [];
let dir = null, server = null, serve = null, browser = null, pgBin = null, asUser = [];

const { values: args } = parseArgs({ options: { rig: { type: "string" }, source: { type: "string" }, out: { type: "string" } } });
for (const name of ["rig", "source", "out"]) {
  if (!args[name]) fail(`--${name} is required (usage: node lab.test.mjs --rig PATH --source DIR --out DIR)`);
}

function log(message) { console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${message}`); }

function cleanUp() {
  if (serve && serve.exitCode === null) serve.kill("SIGKILL");
  if (server) {
    try { execFileSync(asUser[0] || `${pgBin}/pg_ctl`, [...asUser.slice(1), ...(asUser.length ? [`${pgBin}/pg_ctl`] : []), "stop", "-D", `${dir}/data`, "-m", "immediate", "-w"], { stdio: "ignore" }); } catch { /* already stopped */ }
  }
  if (dir && !process.env.RIG_BROWSER_KEEP) rmSync(dir, { recursive: true, force: true });
}

function fail(message) {
  console.error(`browser.lab FAILED: ${message}`);
  for (const p of pageProblems) console.error(`  page: ${p}`);
  if (dir && existsSync(join(dir, "serve.log"))) console.error(`--- rig lab serve's log ---\n${readFileSync(join(dir, "serve.log"), "utf8")}`);
  cleanUp();
  process.exit(1);
}

function expect(condition, message) { if (!condition) fail(message); }

const watchdog = setTimeout(() => fail("timed out after 100 s"), 100000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, probe, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) fail(`waited ${timeoutMs} ms for ${what}`);
    await sleep(50);
  }
}

// Runs a program to its end; fails the test with its output when it fails.
function run(program, programArgs, what) {
  try {
    return execFileSync(program, programArgs, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    fail(`${what} failed: ${program} ${programArgs.join(" ")}\n${e.stdout || ""}${e.stderr || ""}`);
  }
}

function asServer(program, programArgs, what) {
  return asUser.length ? run(asUser[0], [...asUser.slice(1), program, ...programArgs], what) : run(program, programArgs, what);
}

async function main() {
  dir = mkdtempSync(join(tmpdir(), "rig-browser-lab-"));
  chmodSync(dir, 0o755);
  pgBin = run("pg_config", ["--bindir"], "pg_config").trim();
  if (process.getuid() === 0) {
    asUser = ["runuser", "-u", "postgres", "--"];
    const uid = Number(run("id", ["-u", "postgres"], "id").trim()), gid = Number(run("id", ["-g", "postgres"], "id").trim());
    chownSync(dir, uid, gid);
  }
  asServer(`${pgBin}/initdb`, ["-D", `${dir}/data`, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"], "initdb");
  asServer(`${pgBin}/pg_ctl`, ["start", "-w", "-t", "60", "-D", `${dir}/data`, "-l", `${dir}/server.log`, "-o",
                               `-k ${dir} -p 5432 -c listen_addresses= -c fsync=off`], "pg_ctl start");
  server = true;
  const url = (db, user) => `postgresql:///${db}?host=${dir}&port=5432&user=${user}`;
  run("psql", ["-X", "-q", "-d", url("postgres", "postgres"), "-c", "CREATE DATABASE lab"], "createdb");
  run(args.rig, ["lab", "init", "--url", url("lab", "postgres")], "rig lab init");
  run(args.rig, ["lab", "add-reader", "page", "--url", url("lab", "postgres")], "rig lab add-reader");
  log("lab created");

  for (const r of kRigs) {
    const config = join(dir, `${r.id}.yaml`);
    writeFileSync(config, readFileSync(join(args.source, "config", "rig.sim.yaml"), "utf8").replace("id: sim-1", `id: ${r.id}`));
    const db = join(dir, `${r.id}.sqlite`);
    run(args.rig, ["simulate", "--protocol", join(args.source, "protocols", "distractor.yaml"), "--config", config, "--subject", r.subject,
                   "--agent", "savvy", "--sessions", String(r.sessions), "--trials", String(kTrials), "--seed", String(r.seed), "--db", db],
        "rig simulate");
    run(args.rig, ["sync", "--db", db, "--lab", url("lab", "postgres"), "--config", config, "--quiet"], "rig sync");
  }
  log("two rigs pushed");

  const urlFile = join(dir, "url");
  const logFd = join(dir, "serve.log");
  serve = spawn(args.rig, ["lab", "serve", "--url", url("lab", "page"), "--port", "0", "--url-file", urlFile], { stdio: ["ignore", "pipe", "pipe"] });
  let serveLog = "";
  serve.stdout.on("data", (d) => { serveLog += d; writeFileSync(logFd, serveLog); });
  serve.stderr.on("data", (d) => { serveLog += d; writeFileSync(logFd, serveLog); });
  const pageUrl = (await waitFor("rig lab serve's URL", () => existsSync(urlFile) && readFileSync(urlFile, "utf8").trim(), 20000)).replace(/\/+$/, "");
  log(`lab page at ${pageUrl}`);
  expect(!serveLog.includes("may write the lab"), "rig lab serve warned about a reader role");

  const api = async (path) => (await fetch(pageUrl + path, { signal: AbortSignal.timeout(10000) })).json();
  const overview = await api("/api/lab/overview");
  expect(overview.rigs.length === 2 && overview.subjects.length === 2, `the overview lists ${overview.rigs.length} rigs and ${overview.subjects.length} subjects`);

  browser = await chromium.launch({
    executablePath: process.env.RIG_CHROMIUM || "/usr/bin/chromium", headless: true, timeout: 30000,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: kViewport });
  page.setDefaultTimeout(15000);
  page.on("pageerror", (e) => pageProblems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") pageProblems.push(`console.error: ${m.text()}`); });
  page.on("response", (r) => { if (r.status() >= 400) pageProblems.push(`HTTP ${r.status()} for ${r.url()}`); });
  page.on("requestfailed", (r) => pageProblems.push(`request failed: ${r.url()}`));

  const response = await page.goto(pageUrl + "/", { waitUntil: "load" });
  expect(response && response.ok(), `GET / answered ${response && response.status()}`);
  await waitFor("the overview", () => page.evaluate(() => document.body.dataset.loaded === "overview"), 15000);
  const shown = await page.evaluate(() => ({
    rigs: [...document.querySelectorAll("#rigs tbody tr")].map((tr) => [tr.dataset.rig, tr.cells[1].textContent]),
    subjects: [...document.querySelectorAll("#subjects tbody tr")].map((tr) => [tr.dataset.subject,
      tr.querySelector('[data-index="controllable"]').textContent, tr.querySelector('[data-index="distractor"]').textContent]),
  }));
  expect(JSON.stringify(shown.rigs) === JSON.stringify([["rig-1", "idle"], ["rig-2", "idle"]]), `rigs shown: ${JSON.stringify(shown.rigs)}`);
  const fmt = (e) => (e ? `${e.value.toFixed(2)} ± ${e.se.toFixed(2)}` : "–");
  const latest = await api("/api/lab/overview");
  for (const [i, s] of latest.subjects.entries()) {
    expect(s.indices.controllable !== null && s.indices.distractor !== null, `${s.subject} has no indices: ${JSON.stringify(s.indices)}`);
    const row = shown.subjects[i];
    expect(row[0] === s.subject && row[1] === fmt(s.indices.controllable) && row[2] === fmt(s.indices.distractor),
           `subject row ${JSON.stringify(row)} against the API's ${JSON.stringify(s.indices)}`);
  }
  await page.screenshot({ path: join(args.out, "lab-overview.png"), fullPage: true });
  log("overview checked");

  await page.click('#subjects a[href="#subject/M001"]');
  await waitFor("M001's page", () => page.evaluate(() => document.body.dataset.loaded === "subject:M001"), 15000);
  const subject = await api("/api/lab/subjects/M001?sessions=5");
  expect(subject.sessions.length === 4, `M001 has ${subject.sessions.length} sessions on its page's API`);
  const expectedPoints = subject.sessions.reduce((n, s) => n + (s.controllable ? 1 : 0) + (s.distractor ? 1 : 0), 0);
  const drawn = await page.evaluate(() => ({
    curve: document.querySelectorAll("#curve-plot circle.point").length,
    weights: document.querySelectorAll("#weights-plot circle.point").length,
    trials: document.getElementById("pooled-trials").textContent,
  }));
  expect(expectedPoints > 0 && drawn.curve === expectedPoints, `the learning curve has ${drawn.curve} points; the API gives ${expectedPoints}`);
  const fit = subject.pooled.fit;
  const expectedWeights = Object.values(fit.weights).reduce((n, lags) => n + lags.filter((w) => w !== null).length, 0);
  expect(drawn.weights === expectedWeights, `the weights plot has ${drawn.weights} points; the fit has ${expectedWeights}`);
  expect(drawn.trials === String(fit.n_trials), `pooled choices shown ${drawn.trials}, fitted ${fit.n_trials}`);
  await page.screenshot({ path: join(args.out, "lab-subject.png"), fullPage: true });

  await page.selectOption("#pooled-sessions", "1");
  const one = await api("/api/lab/subjects/M001?sessions=1");
  await waitFor("the pooled fit of one session", () =>
    page.evaluate((n) => document.getElementById("pooled-trials").textContent === String(n), one.pooled.fit.n_trials), 15000);
  log("subject page checked");

  const missing = await fetch(pageUrl + "/api/lab/subjects/nobody");
  expect(missing.status === 404, `an unknown subject answered ${missing.status}`);
  pageProblems.length === 0 || fail("the page reported errors");

  await browser.close();
  serve.kill("SIGTERM");
  const code = await waitFor("rig lab serve to exit", () => serve.exitCode !== null || serve.signalCode !== null ? { code: serve.exitCode } : null, 10000);
  expect(code.code === 0, `rig lab serve exited ${code.code} after SIGTERM`);
  clearTimeout(watchdog);
  cleanUp();
  log("browser.lab passed");
}

main().catch((e) => fail(e.stack || String(e)));
