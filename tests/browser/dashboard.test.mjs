// The dashboard in a real browser (CTest `browser.dashboard`, label `browser`).
//
// Starts rigd on a free port with a simulated rig, opens the dashboard in Debian's headless Chromium (driven by
// playwright-core; no browser is downloaded) while rigd is idle, starts a session with the `rig start` thin
// client, waits for live trials over the WebSocket, checks the page against /api/status (subject, index values
// as the page rounds them, the index and weights-by-lag plots, the lick raster, the sync line's health, the link
// health, a weight recorded through the welfare panel before the session), saves a screenshot, stops the session with `rig stop`, checks the page's final state against the idle
// status, and shuts rigd down with SIGTERM. Any page error or console error fails the test. Every wait has a
// deadline; a watchdog kills everything after RIG_BROWSER_TIMEOUT_S seconds (default 100).
//
//   node dashboard.test.mjs --rigd PATH --rig PATH --source DIR --out DIR
//
// Environment:
//   RIG_SCREENSHOT_OUT=FILE   also save the screenshot there (a relative FILE is relative to the source tree),
//                             after RIG_BROWSER_TRIALS trials (default 200); this is how docs/img/dashboard.png
//                             is made (docs/operator-guide.md)
//   RIG_BROWSER_TRIALS=N      trials to wait for before checking (default 60, or 200 with RIG_SCREENSHOT_OUT), and
//                             until the fit gives both indices
//   RIG_CHROMIUM=PATH         the browser (default /usr/bin/chromium)
//   RIG_BROWSER_KEEP=1        keep the temporary directory (database, rigd's log)
import { spawn, execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const kSubject = "SIM002";  // config/subjects.yaml: a structure-savvy simulated mouse
// About 4 trials a second: live updates for the whole test. Not faster: at 30x a loaded 2-core machine (the
// sanitizer build, a second test, a busy core) starved the host past the device's watchdog (2 s of device time,
// 67 ms of wall time there) and most trials aborted before the fit had its choices.
const kSpeed = "10";
const kMaxTrials = 600;     // more than the test waits for; the session is stopped with `rig stop`
// The session's seed (its trial draws and the simulated mouse): a fixed one, so that the fit the page shows is
// the same on every run (a random seed once gave a mouse that chose one side 98 % of the time and a fit with
// no standard errors).
const kSeed = 7;
const kWeightG = 24.6;  // recorded through the welfare panel before the session
const kViewport = { width: 1400, height: 1000 };
const kPlots = ["indices-plot", "weights-plot", "lick-raster"];  // each coloured once the session has data
const kLickRowsShown = 40;  // app.js's kLickRowsShown
const kMinColouredPixels = 500;  // the series and bands of a plot with data cover thousands
const kChoicesForAReadableFit = 10 * (1 + 4 * 5);  // analysis::kMinChoicesPerParameter x the parameters at 5 lags

let dir = null;          // the temporary directory: database, token, URL file, rigd's log
let rigdLog = null;
let rigd = null;         // the rigd child process
let rigdExit = null;     // its exit once it has ended: { code, signal }
let shuttingDown = false;
let browser = null;
const pageProblems = [];  // page errors and console errors, reported and failed on
const t0 = Date.now();

const { values: args } = parseArgs({
  options: { rigd: { type: "string" }, rig: { type: "string" }, source: { type: "string" }, out: { type: "string" } },
});
for (const name of ["rigd", "rig", "source", "out"]) {
  if (!args[name]) fail(`--${name} is required (usage: node dashboard.test.mjs --rigd PATH --rig PATH --source DIR --out DIR)`);
}
const screenshotOut = process.env.RIG_SCREENSHOT_OUT ? resolve(args.source, process.env.RIG_SCREENSHOT_OUT) : null;
const wantTrials = Number(process.env.RIG_BROWSER_TRIALS || (screenshotOut ? 200 : 60));
const chromiumPath = process.env.RIG_CHROMIUM || "/usr/bin/chromium";
// A guard against a hang, not a measure of speed: the test waits for the session's progress (about 250 trials at
// 10x, 80-90 s on an idle CI machine), so the guard leaves room for a loaded one.
const timeoutS = Number(process.env.RIG_BROWSER_TIMEOUT_S || 300);

dir = mkdtempSync(join(tmpdir(), "rig-browser-"));
rigdLog = join(dir, "rigd.log");
const tokenFile = join(dir, "token");
const urlFile = join(dir, "url");
writeFileSync(tokenFile, "browser-test-token\n", { mode: 0o600 });

function log(message) { console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${message}`); }

// Ends the test: kills what is still running, prints rigd's log, exits 1. Never returns.
function fail(message) {
  console.error(`browser.dashboard FAILED: ${message}`);
  for (const p of pageProblems) console.error(`  page: ${p}`);
  if (rigd && rigdExit === null) rigd.kill("SIGKILL");
  if (rigdLog && existsSync(rigdLog)) {
    const lines = readFileSync(rigdLog, "utf8").trimEnd().split("\n");
    console.error(`--- rigd log (last ${Math.min(40, lines.length)} lines) ---\n${lines.slice(-40).join("\n")}`);
  }
  cleanUp();
  // The browser is killed with this process (playwright's exit handler) when closing it did not finish.
  process.exit(1);
}

function cleanUp() {
  if (!dir) return;
  if (process.env.RIG_BROWSER_KEEP) console.error(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

const watchdog = setTimeout(() => fail(`timed out after ${timeoutS} s`), timeoutS * 1000);
process.on("unhandledRejection", (e) => fail(e && e.stack ? e.stack : String(e)));
process.on("uncaughtException", (e) => fail(e && e.stack ? e.stack : String(e)));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `probe` (async, returns a truthy value when done) every `everyMs` until `timeoutMs`; fails with `what`.
async function waitFor(what, probe, timeoutMs = 30000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) fail(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

// Runs `rig ARGS --url URL` with a deadline; fails unless it exits 0. Returns its stdout.
function rigClient(url, ...rigArgs) {
  return new Promise((done) => {
    execFile(args.rig, [...rigArgs, "--url", url], { timeout: 20000 }, (error, stdout, stderr) => {
      if (error) fail(`rig ${rigArgs.join(" ")} failed (${error.code ?? error.signal}): ${stderr || stdout}`);
      done(stdout);
    });
  });
}

async function getStatus(url) {
  const res = await fetch(url + "/api/status", { signal: AbortSignal.timeout(5000) });
  if (!res.ok) fail(`GET /api/status answered ${res.status}`);
  return res.json();
}

// What the page shows for an index value: app.js's fmt() (sign, two decimals; "–" when missing).
function shown(v) {
  return v === null || v === undefined || !Number.isFinite(v) ? "–" : (v >= 0 ? "+" : "") + v.toFixed(2);
}

// The page's numbers and plot hooks, read in one go.
function readPage(page) {
  return page.evaluate(() => {
    const text = (id) => document.getElementById(id).textContent.trim();
    const plot = (id) => {
      const el = document.getElementById(id);
      const canvas = el.querySelector("canvas");
      return {
        points: Number(el.dataset.points ?? -1),
        series: Number(el.dataset.series ?? -1),
        canvas: canvas ? { width: canvas.width, height: canvas.height, shownWidth: canvas.clientWidth } : null,
      };
    };
    return {
      trials: Number(document.body.dataset.trials ?? 0),
      trialsText: text("trials"),
      subject: text("subject"),
      state: text("state"),
      feed: text("feed"),
      ctrl: text("ctrl-index"), ctrlSe: text("ctrl-se"),
      dist: text("dist-index"), distSe: text("dist-se"),
      fitN: Number(text("fit-n")),
      link: text("link"), linkDetail: text("link-detail"), linkCounters: text("link-counters"),
      indicesPlot: plot("indices-plot"),
      weightsPlot: plot("weights-plot"),
      lickRaster: (({ rows, licks, lastTrial }) => ({ rows: Number(rows ?? -1), licks: Number(licks ?? -1), lastTrial: Number(lastTrial ?? -1) }))(
        document.getElementById("lick-raster").dataset),
      lickDetail: text("lick-detail"),
      sync: text("sync"), syncEdges: Number(document.getElementById("sync").dataset.edges ?? -1), syncDetail: text("sync-detail"),
    };
  });
}

// How many pixels of a plot's canvas carry colour (saturated, not the black and grey of axes, grid and text):
// the series lines and their ± SE bands (red, purple, green; translucent bands count too). Which line or band is
// on top, and whether early fits are clipped, depends on the data: counting all coloured ink does not.
function colouredPixels(page, plotId) {
  return page.evaluate((id) => {
    const el = document.getElementById(id);
    const canvas = el.tagName === "CANVAS" ? el : el.querySelector("canvas");
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 20 && Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]) > 40) ++n;
    }
    return n;
  }, plotId);
}

function expect(condition, message) { if (!condition) fail(message); }

async function main() {
  // rigd, idle, on a free port; it serves the dashboard from the source tree.
  rigd = spawn(args.rigd, [
    "--config", join(args.source, "config/rig.sim.yaml"), "--subjects", join(args.source, "config/subjects.yaml"),
    "--listen", "127.0.0.1:0", "--url-file", urlFile, "--token-file", tokenFile, "--db", join(dir, "rig.sqlite"),
    "--device", "sim", "--speed", kSpeed, "--crt", "0",
  ], {
    stdio: ["ignore", "ignore", openSync(rigdLog, "w")],
    env: { ...process.env, RIG_MONITOR_WEB_DIR: join(args.source, "host/monitor/web") },
  });
  rigd.on("exit", (code, signal) => {
    rigdExit = { code, signal };
    if (!shuttingDown) fail(`rigd exited unexpectedly (code ${code}, signal ${signal})`);
  });
  const url = (await waitFor("rigd to write its URL", () => existsSync(urlFile) && readFileSync(urlFile, "utf8").trim(), 20000, 20))
    .replace(/\/+$/, "");
  log(`rigd at ${url}`);

  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    timeout: 30000,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: kViewport });
  page.setDefaultTimeout(15000);
  page.on("pageerror", (e) => pageProblems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") pageProblems.push(`console.error: ${m.text()} (${m.location().url || "no url"})`); });
  page.on("response", (r) => { if (r.status() >= 400) pageProblems.push(`HTTP ${r.status()} for ${r.url()}`); });
  page.on("requestfailed", (r) => pageProblems.push(`request failed: ${r.url()} (${r.failure() && r.failure().errorText})`));
  const checkPage = (when) => expect(pageProblems.length === 0, `the page reported errors ${when}`);

  // The page first, while rigd is idle: the session then arrives over the live feed.
  const response = await page.goto(url + "/", { waitUntil: "load" });
  expect(response && response.ok(), `GET / answered ${response && response.status()}`);
  await waitFor("the live feed to be on", async () => (await readPage(page)).feed === "live feed on", 10000);
  log("page loaded, live feed on");
  for (const id of kPlots) {  // the pixel check below must not pass on empty plots
    const n = await colouredPixels(page, id);
    expect(n < kMinColouredPixels, `#${id} has ${n} coloured pixels before any data`);
  }

  // The welfare panel while rigd is idle: record today's weight through the dashboard (the session then starts
  // with it). Without the token nothing is sent; with it the weighing is stored and the panel shows it.
  await waitFor("the welfare panel to list the subjects", () =>
    page.evaluate((id) => [...document.getElementById("welfare-subject").options].some((o) => o.value === id), kSubject), 10000);
  await page.selectOption("#welfare-subject", kSubject);
  await waitFor(`the welfare panel to show ${kSubject}`, () =>
    page.evaluate(() => document.getElementById("welfare-weight").textContent.trim() === "not weighed today"), 10000);
  await page.fill("#weight-g", String(kWeightG));
  await page.click("#record-weight");
  const refusedText = await page.textContent("#welfare-result");
  expect(refusedText.includes("control token"), `recording without a token shows "${refusedText}"`);
  await page.fill("#token", "browser-test-token");
  await page.click("#record-weight");
  await waitFor("the weighing on the welfare panel", () =>
    page.evaluate((g) => document.getElementById("welfare-weight").dataset.weight === String(g), kWeightG), 10000);
  const recorded = await (await fetch(url + "/api/subjects/" + kSubject, { signal: AbortSignal.timeout(5000) })).json();
  expect(recorded.weight_today_g === kWeightG, `GET /api/subjects/${kSubject} has weight_today_g ${recorded.weight_today_g}, recorded ${kWeightG}`);
  log(`weight ${kWeightG} g recorded through the dashboard: ${await page.textContent("#welfare-weight")}`);

  const started = await rigClient(url, "start", "--subject", kSubject, "--protocol", join(args.source, "protocols/distractor.yaml"),
    "--max-trials", String(kMaxTrials), "--seed", String(kSeed), "--token-file", tokenFile);
  log(`rig start: ${started.trim().split("\n")[0]}`);

  // Live trials: the counter goes up while the page stays loaded (nothing reloads the page).
  const first = await waitFor("the first trials on the page", async () => {
    const p = await readPage(page);
    return p.trials >= 3 && p;
  }, 30000);
  // The page shows indices only once the fit can be read (docs/analysis.md, "Readable fits": 10 choices per
  // parameter, 210 at the default 5 lags); 20 choices more give the index plot 20 points to draw. The wait ends
  // on the session's progress, whatever the machine's speed.
  const choicesWanted = kChoicesForAReadableFit + 20;
  const live = await waitFor(`${wantTrials} trials and both indices on the page, fitted on ${choicesWanted} choices`, async () => {
    const p = await readPage(page);
    return p.trials >= wantTrials && p.fitN >= choicesWanted && p.ctrl !== "–" && p.dist !== "–" && p;
  }, 30000 + Math.max(wantTrials, 2 * choicesWanted) * 1500);  // a guard against a stalled session, not a measure of speed
  expect(live.trials > first.trials, `the trial counter did not increase (${first.trials} -> ${live.trials})`);
  expect(live.trialsText === String(live.trials), `the header shows ${live.trialsText} trials, the page's state ${live.trials}`);
  expect(live.subject === kSubject, `the header shows subject "${live.subject}", expected ${kSubject}`);
  expect(live.state === "running", `the state pill shows "${live.state}", expected running`);
  log(`live: ${first.trials} -> ${live.trials} trials`);
  checkPage("during the session");

  // The screenshot, during the session (before the checks, so that a failure has a picture too).
  const png = join(args.out, "dashboard.png");
  await page.screenshot({ path: png, fullPage: true, timeout: 15000 });
  log(`screenshot ${png} (${Math.round(statSync(png).size / 1024)} kB)`);

  // The indices against /api/status. The session is live, so compare when both come from a fit on the same
  // number of choices (a fit is a function of its choices: same n, same values).
  let compared = null;
  await waitFor("the page and /api/status to show a fit on the same choices", async () => {
    const before = await readPage(page);
    const status = await getStatus(url);
    if (!status.fit || status.fit.n_trials !== before.fitN) return false;
    compared = { page: before, status };
    return true;
  }, 20000, 20);
  const { page: p, status: s } = compared;
  const checks = [
    ["controllable index", p.ctrl, shown(s.fit.controllable_index)],
    ["distractor index", p.dist, shown(s.fit.distractor_index)],
    ["controllable SE", p.ctrlSe, s.fit.controllable_index_se == null ? "–" : s.fit.controllable_index_se.toFixed(2)],
    ["distractor SE", p.distSe, s.fit.distractor_index_se == null ? "–" : s.fit.distractor_index_se.toFixed(2)],
  ];
  for (const [what, onPage, inStatus] of checks) {
    expect(onPage === inStatus, `${what}: the page shows "${onPage}", /api/status has ${inStatus} (fit on ${p.fitN} choices)`);
  }
  expect(p.ctrl !== "–" && p.dist !== "–", `no index values shown (controllable "${p.ctrl}", distractor "${p.dist}")`);
  log(`indices match /api/status at ${p.fitN} choices: controllable ${p.ctrl} ± ${p.ctrlSe}, distractor ${p.dist} ± ${p.distSe}`);

  // The plots: drawn at a real size, holding the data the status implies, with the series actually painted.
  for (const [name, plot] of [["index plot", p.indicesPlot], ["weights-by-lag plot", p.weightsPlot]]) {
    expect(plot.canvas && plot.canvas.width > 100 && plot.canvas.height > 100 && plot.canvas.shownWidth > 100,
      `the ${name} has no canvas of a real size (${JSON.stringify(plot.canvas)})`);
  }
  expect(p.weightsPlot.points === s.fit.lags, `the weights-by-lag plot has ${p.weightsPlot.points} lags, the fit ${s.fit.lags}`);
  expect(p.weightsPlot.series === 12, `the weights-by-lag plot has ${p.weightsPlot.series} of 12 series (4 outcome types, ± SE) with data`);
  // The page was read before the status: it must plot exactly the status's index points up to its own trial.
  const indexPoints = s.indices.filter((point) => point.trial <= p.trials).length;
  expect(indexPoints > 0 && p.indicesPlot.points === indexPoints,
    `the index plot has ${p.indicesPlot.points} points at trial ${p.trials}, /api/status ${indexPoints} up to that trial`);
  expect(p.indicesPlot.series === 6, `the index plot has ${p.indicesPlot.series} of 6 series with data`);
  const ink = {};
  for (const id of ["indices-plot", "weights-plot"]) {
    ink[id] = await colouredPixels(page, id);
    expect(ink[id] >= kMinColouredPixels, `no series drawn in #${id}: ${ink[id]} coloured pixels`);
  }
  log(`plots: ${p.indicesPlot.points} index points, ${p.weightsPlot.points} lags x ${p.weightsPlot.series} series; ` +
      `coloured pixels ${Object.entries(ink).map(([id, n]) => `${id} ${n}`).join(", ")}`);

  // The lick raster and the sync line's health (config/rig.sim.yaml turns both on) against /api/status, read
  // when both show the same trial (the trial event carries the rows completed by then and the sync health).
  let recSeen = null;
  await waitFor("the page and /api/status to show the same trial with lick rows", async () => {
    const q = await readPage(page);
    const st = await getStatus(url);
    if (q.trials !== st.trials || !(st.lick_rows || []).length) return false;
    recSeen = { page: q, status: st };
    return true;
  }, 20000, 20);
  {
    const { page: q, status: st } = recSeen;
    const rows = st.lick_rows.slice(-kLickRowsShown);
    const inWindow = (ms) => ms >= -1000 && ms <= 3000;
    const licks = rows.reduce((n, r) => n + r.licks_ms.cherry.filter(inWindow).length + r.licks_ms.grape.filter(inWindow).length, 0);
    expect(st.welfare && st.welfare.weight_today_g === kWeightG,
      `/api/status's welfare shows ${st.welfare && st.welfare.weight_today_g} g, recorded ${kWeightG} g through the dashboard`);
    expect(st.licks_enabled === true, `/api/status says licks_enabled ${st.licks_enabled} with config/rig.sim.yaml`);
    expect(q.lickRaster.rows === rows.length && q.lickRaster.lastTrial === rows[rows.length - 1].trial,
      `the lick raster draws ${q.lickRaster.rows} rows up to trial ${q.lickRaster.lastTrial}; /api/status has ${rows.length} up to trial ${rows[rows.length - 1].trial}`);
    expect(q.lickRaster.licks === licks && licks > 0, `the lick raster draws ${q.lickRaster.licks} licks, /api/status's rows hold ${licks}`);
    expect(st.lick_rows.some((r) => r.aligned_to === "valve" && r.delivered.length > 0), "no lick row is aligned to a valve opening");
    expect(/^trial \d+: \d+ cherry and \d+ grape licks/.test(q.lickDetail), `the lick detail shows "${q.lickDetail}"`);
    expect(st.sync && st.sync.state === "ok" && st.sync.edges > 0, `/api/status's sync: ${JSON.stringify(st.sync)}`);
    expect(q.sync === "sync ok" && q.syncEdges === st.sync.edges,
      `the sync pill shows "${q.sync}" with ${q.syncEdges} edges; /api/status ${st.sync.state} with ${st.sync.edges}`);
    expect(q.syncDetail.startsWith(`Sync: ${st.sync.edges} pulses received, ${st.sync.lost} lost; last edge`),
      `the sync detail shows "${q.syncDetail}"`);
    const lickInk = await colouredPixels(page, "lick-raster");
    expect(lickInk >= kMinColouredPixels, `no licks drawn in #lick-raster: ${lickInk} coloured pixels`);
    log(`lick raster: ${q.lickRaster.rows} rows, ${q.lickRaster.licks} licks (${lickInk} coloured pixels); sync: ${st.sync.edges} edges, ${st.sync.lost} lost`);
  }

  // Link health. A loaded machine can starve the rig long enough for the link to reconnect (at 10x, 60 ms of
  // wall time is the device's silence limit); the page must then show it, and show "ok" again once it is back.
  let linkSeen = null;
  await waitFor("the page and /api/status to show the link connected", async () => {
    const page_now = await readPage(page);
    const status_now = await getStatus(url);
    linkSeen = { page: page_now, status: status_now };
    return status_now.link && status_now.link.state === "connected" && page_now.link === "link ok";
  }, 20000, 50);
  const lp = linkSeen.page;
  expect(lp.linkDetail.startsWith("Link: connected"), `the link detail shows "${lp.linkDetail}"`);
  expect(/frames sent \d+, received \d+/.test(lp.linkCounters), `the link counters show "${lp.linkCounters}"`);
  checkPage("while checking");

  // The running protocol, read-only: the page shows what /api/status holds, the hash of the protocol file as
  // the session row records it and the effective settings, behind a <details> the user opens.
  {
    const st = await getStatus(url);
    const pd = st.protocol_detail;
    expect(pd && /^[0-9a-f]{64}$/.test(pd.sha256) && pd.effective_yaml.includes("schedule:"),
      `/api/status's protocol_detail: ${JSON.stringify(pd)}`);
    const shown = await page.evaluate(() => {
      document.getElementById("protocol-details").open = true;
      const pre = document.getElementById("protocol-effective");
      return { summary: document.getElementById("protocol-summary").textContent, effective: pre.textContent,
               visible: pre.getBoundingClientRect().height > 0 };
    });
    expect(shown.summary.includes(pd.name) && shown.summary.includes(pd.sha256),
      `the protocol card shows "${shown.summary}", /api/status has ${pd.name} ${pd.sha256}`);
    expect(shown.effective === pd.effective_yaml && shown.visible,
      `the effective settings shown (${shown.visible ? "visible" : "hidden"}) differ from /api/status's`);
  }

  // Stop; the page follows to the idle state and then agrees with the final status exactly.
  await rigClient(url, "stop", "--token-file", tokenFile);
  const idle = await waitFor("rigd to be idle after `rig stop`", async () => {
    const st = await getStatus(url);
    return st.state === "idle" && st.last_report && st;
  }, 20000);
  const end = await waitFor("the page to show the idle state", async () => {
    const q = await readPage(page);
    return q.state === "idle" && q.trials === idle.trials && q;
  }, 10000);
  expect(end.ctrl === shown(idle.fit && idle.fit.controllable_index) && end.dist === shown(idle.fit && idle.fit.distractor_index),
    `after the session the page shows controllable ${end.ctrl}, distractor ${end.dist}; the status ${JSON.stringify(idle.fit && [idle.fit.controllable_index, idle.fit.distractor_index])}`);
  const lastRow = (idle.lick_rows || []).at(-1);
  expect(lastRow && end.lickRaster.lastTrial === lastRow.trial,
    `after the session the lick raster ends at trial ${end.lickRaster.lastTrial}, the status's rows at ${lastRow && lastRow.trial}`);
  log(`stopped after ${idle.trials} trials; page and status agree`);
  checkPage("after the session");

  await browser.close();
  browser = null;

  shuttingDown = true;
  rigd.kill("SIGTERM");
  const exit = await waitFor("rigd to exit after SIGTERM", async () => rigdExit, 15000, 50);
  expect(exit.code === 0, `rigd exited with code ${exit.code}, signal ${exit.signal} after SIGTERM`);
  clearTimeout(watchdog);
  cleanUp();
  if (screenshotOut) {
    mkdirSync(dirname(screenshotOut), { recursive: true });
    copyFileSync(png, screenshotOut);
    log(`screenshot copied to ${screenshotOut}`);
  }
  log("passed");
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
