// The rig's dashboard: loads /api/status, then follows the WebSocket /ws (one JSON event per message: status |
// session | started | trial | link | water | welfare | alert | fault | finished). When events were dropped (a
// slow tab), the trial numbers show a gap and the page reloads the whole state from /api/status.
//
// Test hooks (read by tests/browser/dashboard.test.mjs; plain data-* attributes, no globals): <body data-trials>
// is the trial count the page shows; each plot's element (#indices-plot, #weights-plot, #wheel-plot) carries
// data-points (x values plotted) and data-series (y series with at least one finite value), set by setPlotData;
// the lick raster (#lick-raster) carries data-rows (rows drawn), data-licks (lick ticks drawn) and data-last-trial
// (the newest row's trial), set by drawLickRaster; the sync pill (#sync) carries data-edges and data-state; the
// welfare panel's weight (#welfare-weight) carries data-weight (today's weight in grams, "" when unweighed); the
// alert banner (#alert-banner) carries data-count (alerts shown and not dismissed).
"use strict";

const kOutcomeTypes = ["none", "controllable", "distractor", "both"];
const kTypeColors = { none: "#7d848b", controllable: "#c0304a", distractor: "#6a3fa0", both: "#1f7a4d" };
const kFlavourColors = { cherry: "#c0304a", grape: "#6a3fa0" };

const state = { trialLog: [], indices: [], lastTrial: 0, fit: null, ws: null, lickRows: [], licksEnabled: false };
// The lick raster: its window around the valve opening (as the rig's rows are cut, docs/rigd.md), the rows drawn,
// and the rows kept (as the status keeps, kStatusTrialLimit).
const kLickWindowMs = [-1000, 3000];
const kLickRowsShown = 40;
const kLickRowsKept = 200;
const plots = {};
const $ = (id) => document.getElementById(id);
const fmt = (v, digits = 2) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : (v >= 0 ? "+" : "") + v.toFixed(digits));

function plotWidth(el) { return Math.max(300, el.clientWidth || 400); }

// The index plot's y range covers zero and the index ± SE of the fits that say something (SE at most
// kReadableSe log-odds). The first fits, on a few dozen choices, can have SEs in the thousands; scaled to them
// the rest of the curve would be a flat line. Their bands are clipped at the plot's edge instead.
const kReadableSe = 10;
function indexRange(u, dataMin, dataMax) {
  let lo = 0, hi = 0, readable = false;
  for (const [value, upper, lower] of [[1, 2, 3], [4, 5, 6]]) {
    u.data[value].forEach((v, i) => {
      const up = u.data[upper][i], down = u.data[lower][i];
      if (!Number.isFinite(v) || !Number.isFinite(up) || !Number.isFinite(down) || up - v > kReadableSe) return;
      lo = Math.min(lo, down); hi = Math.max(hi, up); readable = true;
    });
  }
  if (!readable) { lo = Math.min(0, dataMin ?? -1); hi = Math.max(0, dataMax ?? 1); }
  const pad = 0.08 * (hi - lo || 2);
  return [lo - pad, hi + pad];
}

function makeIndicesPlot() {
  const el = $("indices-plot");
  // The ±SE series only carry the bands: class "se" keeps them out of the legend (style.css).
  const band = (color) => ({ stroke: "transparent", fill: color, points: { show: false }, class: "se" });
  return new uPlot({
    width: plotWidth(el), height: 240,
    scales: { x: { time: false }, y: { range: indexRange } },
    axes: [{ label: "trial" }, { label: "index (log-odds)" }],
    series: [
      {},
      { label: "controllable", stroke: kTypeColors.controllable, width: 2 },
      Object.assign({ label: "ctrl +SE" }, band("rgba(192,48,74,0.15)")),
      Object.assign({ label: "ctrl −SE" }, band("rgba(192,48,74,0.15)")),
      { label: "distractor", stroke: kTypeColors.distractor, width: 2 },
      Object.assign({ label: "dist +SE" }, band("rgba(106,63,160,0.15)")),
      Object.assign({ label: "dist −SE" }, band("rgba(106,63,160,0.15)")),
    ],
    bands: [{ series: [2, 3], fill: "rgba(192,48,74,0.15)" }, { series: [5, 6], fill: "rgba(106,63,160,0.15)" }],
  }, [[], [], [], [], [], [], []], el);
}

function makeWeightsPlot() {
  const el = $("weights-plot");
  const series = [{}];
  const bands = [];
  for (const type of kOutcomeTypes) {
    const at = series.length;
    series.push({ label: type, stroke: kTypeColors[type], width: 2, points: { show: true, size: 6 } });
    series.push({ label: type + " +SE", stroke: "transparent", points: { show: false }, class: "se" });
    series.push({ label: type + " −SE", stroke: "transparent", points: { show: false }, class: "se" });
    bands.push({ series: [at + 1, at + 2], fill: kTypeColors[type] + "26" });
  }
  return new uPlot({
    width: plotWidth(el), height: 240,
    scales: { x: { time: false } },
    axes: [{ label: "lag (trials back)" }, { label: "weight (log-odds)" }],
    series, bands,
  }, [[], ...Array(12).fill([])], el);
}

function makeWheelPlot() {
  const el = $("wheel-plot");
  return new uPlot({
    width: plotWidth(el), height: 200,
    scales: { x: { time: false } },
    axes: [{ label: "ms" }, { label: "wheel (ticks)" }],
    series: [{}, { label: "position", stroke: "#2f6fb5", width: 1.5 }],
  }, [[], []], el);
}

// Sets a plot's data and records what it holds in the test hooks (see the top of this file).
function setPlotData(name, data) {
  plots[name].setData(data);
  const el = $(name + "-plot");
  el.dataset.points = data[0].length;
  el.dataset.series = data.slice(1).filter((ys) => ys.some((y) => Number.isFinite(y))).length;
}

function updateIndices() {
  const xs = [], c = [], cu = [], cl = [], d = [], du = [], dl = [];
  for (const p of state.indices) {
    xs.push(p.trial);
    const ci = p.controllable, di = p.distractor;
    c.push(ci ? ci.value : null); cu.push(ci ? ci.value + ci.se : null); cl.push(ci ? ci.value - ci.se : null);
    d.push(di ? di.value : null); du.push(di ? di.value + di.se : null); dl.push(di ? di.value - di.se : null);
  }
  setPlotData("indices", [xs, c, cu, cl, d, du, dl]);
}

function updateFit(fit) {
  state.fit = fit;
  // A fit that cannot be read yet says why instead of showing numbers (its indices are null).
  $("fit-reason").textContent = fit && fit.estimable === false ? "(" + fit.reason + ")" : "";
  $("ctrl-index").textContent = fit ? fmt(fit.controllable_index) : "–";
  $("ctrl-se").textContent = fit && fit.controllable_index_se != null ? fit.controllable_index_se.toFixed(2) : "–";
  $("dist-index").textContent = fit ? fmt(fit.distractor_index) : "–";
  $("dist-se").textContent = fit && fit.distractor_index_se != null ? fit.distractor_index_se.toFixed(2) : "–";
  $("fit-n").textContent = fit ? fit.n_trials : 0;
  if (!fit) {  // no fit yet (a new session): no weights from an earlier one
    setPlotData("weights", [[], ...Array(12).fill([])]);
    return;
  }
  const lags = Array.from({ length: fit.lags }, (_, i) => i + 1);
  const data = [lags];
  for (const type of kOutcomeTypes) {
    const w = fit.weights[type] || [], se = fit.se[type] || [];
    data.push(lags.map((_, i) => w[i] ?? null));
    data.push(lags.map((_, i) => (w[i] != null && se[i] != null ? w[i] + se[i] : null)));
    data.push(lags.map((_, i) => (w[i] != null && se[i] != null ? w[i] - se[i] : null)));
  }
  setPlotData("weights", data);
}

function drawRaster() {
  const canvas = $("raster");
  const width = canvas.clientWidth || 800;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = width * dpr; canvas.height = 150 * dpr;
  const g = canvas.getContext("2d");
  g.scale(dpr, dpr);
  g.clearRect(0, 0, width, 150);
  const trials = state.trialLog.slice(-300);
  if (!trials.length) return;
  const first = trials[0].trial_number, span = Math.max(50, trials[trials.length - 1].trial_number - first + 1);
  const x = (n) => 30 + ((n - first + 0.5) / span) * (width - 40);
  const rowY = { L: 40, R: 110 };  // sides as the record spells them (host/model/trial.def)
  g.fillStyle = "#333"; g.font = "11px system-ui";
  g.fillText("L", 8, rowY.L + 4); g.fillText("R", 8, rowY.R + 4);
  const step = (width - 40) / span;
  for (const t of trials) {
    g.fillStyle = "rgba(47,111,181,0.10)";
    g.fillRect(x(t.trial_number) - step / 2, rowY[t.high_side] - 18, step, 36);
  }
  for (const t of trials) {
    if (t.reversed_after) {
      g.strokeStyle = "#555"; g.setLineDash([4, 3]);
      g.beginPath(); g.moveTo(x(t.trial_number) + step / 2, 10); g.lineTo(x(t.trial_number) + step / 2, 140); g.stroke();
      g.setLineDash([]);
    }
    const r = Math.max(2, Math.min(5, step / 2.5));
    if (!t.choice) {
      g.strokeStyle = "#333"; g.beginPath(); g.arc(x(t.trial_number), 75, r, 0, 2 * Math.PI); g.stroke();
      continue;
    }
    const y = rowY[t.choice];
    const flavours = rewardedFlavours(t);
    if (!flavours.length) {
      g.fillStyle = "#9aa0a6"; g.beginPath(); g.arc(x(t.trial_number), y, r, 0, 2 * Math.PI); g.fill();
    }
    flavours.forEach((f, i) => {
      g.fillStyle = kFlavourColors[f];
      g.beginPath(); g.arc(x(t.trial_number), y + (i ? 9 : -1) * (flavours.length > 1 ? 1 : 0), r, 0, 2 * Math.PI); g.fill();
    });
  }
}

// Each row: the trial's lick onsets (cherry in the row's upper half, grape in its lower half) in ms from the valve
// opening, the row shaded by the flavours delivered; a row aligned to the choice (nothing delivered) has a grey
// mark at zero.
function drawLickRaster() {
  const canvas = $("lick-raster");
  const width = canvas.clientWidth || 440, height = 220;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = width * dpr; canvas.height = height * dpr;
  const g = canvas.getContext("2d");
  g.scale(dpr, dpr);
  g.clearRect(0, 0, width, height);
  const [from, to] = kLickWindowMs;
  const left = 40, right = 10, top = 6, bottom = 20;
  const x = (ms) => left + ((ms - from) / (to - from)) * (width - left - right);
  const rowH = (height - top - bottom) / kLickRowsShown;
  g.font = "11px system-ui"; g.fillStyle = "#333"; g.textAlign = "center";
  for (let ms = from; ms <= to; ms += 1000) {
    g.strokeStyle = ms === 0 ? "#333" : "#e3e6ea";
    g.beginPath(); g.moveTo(x(ms), top); g.lineTo(x(ms), height - bottom); g.stroke();
    g.fillText(ms === 0 ? "valve" : (ms / 1000) + " s", x(ms), height - 6);
  }
  const rows = state.lickRows.slice(-kLickRowsShown);
  let licks = 0;
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    r.delivered.forEach((f, k) => {
      g.fillStyle = kFlavourColors[f] + "22";
      g.fillRect(left, y + (k * rowH) / r.delivered.length, width - left - right, rowH / r.delivered.length);
    });
    if (r.aligned_to === "choice") { g.fillStyle = "#9aa0a6"; g.fillRect(x(0) - 2, y, 4, rowH); }
    ["cherry", "grape"].forEach((f, half) => {
      g.strokeStyle = kFlavourColors[f]; g.lineWidth = 1.5;
      for (const ms of (r.licks_ms && r.licks_ms[f]) || []) {
        if (ms < from || ms > to) continue;
        g.beginPath(); g.moveTo(x(ms), y + half * rowH / 2); g.lineTo(x(ms), y + (half + 1) * rowH / 2); g.stroke();
        ++licks;
      }
    });
  });
  g.lineWidth = 1; g.textAlign = "right"; g.fillStyle = "#333";
  if (rows.length) {
    g.fillText(rows[0].trial, left - 4, top + 9);
    g.fillText(rows[rows.length - 1].trial, left - 4, top + rows.length * rowH);
  }
  canvas.dataset.rows = rows.length;
  canvas.dataset.licks = licks;
  canvas.dataset.lastTrial = rows.length ? rows[rows.length - 1].trial : 0;
  const last = rows[rows.length - 1];
  $("lick-detail").textContent = !state.licksEnabled ? "Lick sensors off in the rig config (its licks section)."
    : !last ? "No row yet: the first appears 3 s after the first choice."
    : `trial ${last.trial}: ${last.licks_ms.cherry.length} cherry and ${last.licks_ms.grape.length} grape licks from 1 s before to 3 s after the ` +
      (last.aligned_to === "valve" ? `valve opening (${last.delivered.join(" + ")})` : "choice (nothing delivered)");
}

function addLickRows(rows) {
  if (!rows) return;
  state.lickRows.push(...rows);
  if (state.lickRows.length > kLickRowsKept) state.lickRows.splice(0, state.lickRows.length - kLickRowsKept);
}

const kSyncStates = { ok: ["sync ok", "ok"], silent: ["sync silent", "bad"], waiting: ["sync waiting", "warn"], off: ["sync off", ""] };

function updateSync(sync) {
  if (!sync) return;
  const el = $("sync");
  const [text, look] = kSyncStates[sync.state] || ["sync " + sync.state, "warn"];
  el.textContent = text;
  el.className = "pill " + look;
  el.dataset.edges = sync.edges;
  el.dataset.state = sync.state;
  const seconds = (ms) => (ms / 1000).toFixed(2) + " s";
  $("sync-detail").textContent = sync.state === "off" ? "Sync: off in the rig config (nothing to align an ephys recording to)."
    : `Sync: ${sync.edges} pulses received, ${sync.lost} lost; ` +
      (sync.since_last_edge_ms == null ? "no edge yet." : `last edge ${seconds(sync.since_last_edge_ms)} before the newest device event.`) +
      (sync.state === "silent" ? ` Silent for more than ${seconds(sync.silent_after_ms)}: check the sync output and its cable.` : "");
}

// The push to the lab database (rigd with a `lab:` section): hidden without one. The pill carries data-state and
// data-backlog (outbox entries waiting).
function updateLab(lab) {
  const el = $("lab");
  if (!lab) { el.hidden = true; return; }
  el.hidden = false;
  const waiting = lab.backlog_entries === 0 ? "up to date"
    : `${lab.backlog_entries} waiting` + (lab.oldest_waiting_s == null ? "" : `, oldest ${Math.round(lab.oldest_waiting_s)} s`);
  const look = { ok: "ok", starting: "", unreachable: "bad", failing: "bad" }[lab.state] ?? "warn";
  el.textContent = lab.state === "ok" ? `lab ${waiting}` : `lab ${lab.state} (${waiting})`;
  el.className = "pill " + look;
  el.title = (lab.server || "") + (lab.last_error ? "\n" + lab.last_error : "");
  el.dataset.state = lab.state;
  el.dataset.backlog = lab.backlog_entries;
}

function updateTotals(totals, water) {
  if (totals) {
    $("trials").textContent = totals.trials;
    $("high-fraction").textContent = totals.choices ? Math.round(100 * totals.high_side_fraction) + "%" : "–";
    $("block").textContent = totals.block;
    $("high-side").textContent = totals.high_side;
    $("rew-cherry").textContent = totals.rewards.cherry;
    $("rew-grape").textContent = totals.rewards.grape;
    $("misses").textContent = totals.misses;
    $("reversals").textContent = totals.reversals;
    $("vol-cherry").textContent = totals.volume_ul.cherry.toFixed(1);
    $("vol-grape").textContent = totals.volume_ul.grape.toFixed(1);
  }
  if (water) {
    $("water-today").textContent = water.today_ul.toFixed(0);
    $("water-target").textContent = water.daily_target_ul.toFixed(0);
    $("water-session").textContent = water.session_ul.toFixed(1);
    const fraction = water.daily_target_ul > 0 ? water.today_ul / water.daily_target_ul : 0;
    const bar = $("water-bar");
    bar.style.width = Math.min(100, 100 * fraction).toFixed(1) + "%";
    bar.classList.toggle("over", fraction > 1);
    $("water-minimum").textContent = water.daily_minimum_ul != null ? water.daily_minimum_ul.toFixed(0) : "–";
    $("water-owed").textContent = water.owed_ul != null ? Math.ceil(water.owed_ul) : "–";
    state.water = water.owed_ul != null ? water : null;
    renderWelfareWater();
  }
}

// The welfare panel: the subject chosen in its list (the session's subject by default), its weight against its
// baseline and threshold, its water against its minimum; the form records a weighing or water with the token.
function updateWelfare(w) {
  if (!w) return;
  state.welfare = w;
  const select = $("welfare-subject");
  if (![...select.options].some((o) => o.value === w.subject)) select.add(new Option(w.subject, w.subject));
  select.value = w.subject;
  const g = (v) => (v == null ? "–" : v.toFixed(1) + " g");
  const weight = $("welfare-weight");
  weight.textContent = w.weight_today_g == null ? "not weighed today" :
    `${g(w.weight_today_g)} today` + (w.baseline ? `, ${Math.round(w.percent_of_baseline)}% of baseline ${g(w.baseline.weight_g)}` : "") +
    ` (threshold ${w.min_weight_percent}%)` + (w.under_threshold ? ": UNDER THRESHOLD, must not train" : "");
  weight.classList.toggle("bad", !!w.under_threshold);
  weight.dataset.weight = w.weight_today_g ?? "";
  renderWelfareWater();
}

// The panel's water line. For the session's subject the session's live water (trial events) is newer than the
// panel's last read of the record.
function renderWelfareWater() {
  const w = state.welfare;
  if (!w) return;
  const live = state.water && w.subject === $("subject").textContent ? state.water : null;
  const water = w.water;
  const today = live ? live.today_ul : water.total_today_ul;
  const owed = live ? live.owed_ul : water.owed_ul;
  $("welfare-water").textContent = `water today ${today.toFixed(0)} µL` +
    (live ? ` (this session ${live.session_ul.toFixed(0)})` : ` (sessions ${water.session_today_ul.toFixed(0)}, by hand ${water.by_hand_today_ul.toFixed(0)})`) +
    ` of a minimum of ${water.minimum_ul.toFixed(0)} µL; top-up owed ${Math.ceil(owed)} µL`;
}

async function loadWelfare(subject) {
  try {
    const res = await fetch("api/subjects/" + encodeURIComponent(subject), { cache: "no-store" });
    if (res.ok) updateWelfare(await res.json());
  } catch (e) { /* the server is away */ }
}

async function loadSubjects() {
  try {
    const res = await fetch("api/subjects", { cache: "no-store" });
    if (!res.ok) return;
    const list = (await res.json()).subjects || [];
    const select = $("welfare-subject");
    for (const w of list) if (![...select.options].some((o) => o.value === w.subject)) select.add(new Option(w.subject, w.subject));
    if (!state.welfare && list.length) updateWelfare(list[0]);
  } catch (e) { /* the server is away */ }
}

async function recordWelfare(record) {
  const result = $("welfare-result");
  const say = (text, bad) => { result.textContent = text; result.classList.toggle("bad", bad); };
  const subject = $("welfare-subject").value;
  const token = $("token").value.trim();
  if (!subject) return say("no subject chosen", true);
  if (!token) return say("enter the rig's control token to record", true);
  const body = record === "weighings" ? { weight_g: Number($("weight-g").value) }
    : { volume_ul: Number($("water-ul").value), kind: $("water-kind").value };
  try {
    const res = await fetch(`api/subjects/${encodeURIComponent(subject)}/${record}`, {
      method: "POST", cache: "no-store",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify(body),
    });
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) return say(`not recorded: ${answer.error || "HTTP " + res.status}`, true);
    updateWelfare(answer.welfare);
    say(record === "weighings" ? `recorded ${body.weight_g} g for ${subject}` : `recorded ${body.volume_ul} µL (${body.kind}) for ${subject}`, false);
  } catch (e) {
    say("not recorded: the rig did not answer", true);
  }
}

function updateLink(link) {
  if (!link) return;
  const el = $("link");
  el.textContent = "link " + (link.state === "connected" ? "ok" : link.state);
  el.className = "pill " + (link.state === "connected" ? "ok" : link.state === "stopped" ? "" : "warn");
  $("link-detail").textContent = "Link: " + link.state + (link.reason && link.reason !== link.state ? " — " + link.reason : "");
  const c = link.counters;
  $("link-counters").textContent = c ? `frames sent ${c.frames_sent}, received ${c.frames_received}, dropped ${c.dropped}, ` +
    `resent ${c.retransmitted}, reconnects ${c.reconnects}, device restarts ${c.device_resets}, failed commands ${c.commands_failed}` : "";
}

// The alert banner: the newest alert not yet dismissed (alerts: newest last), with how many more there are.
// Dismissing hides the alerts up to the newest one shown; a later alert shows the banner again.
function showAlerts(alerts) {
  state.alerts = alerts;
  const fresh = alerts.filter((a) => a.raised_at_unix_us > (state.alertsSeenUs || 0));
  const banner = $("alert-banner");
  banner.dataset.count = fresh.length;
  banner.hidden = fresh.length === 0;
  if (!fresh.length) return;
  const newest = fresh[fresh.length - 1];
  const when = new Date(newest.raised_at_unix_us / 1000).toLocaleTimeString();
  $("alert-text").textContent = `${when} ${newest.subject ? newest.subject + ": " : ""}${newest.text}`;
  $("alert-more").textContent = fresh.length > 1 ? `(+${fresh.length - 1} earlier)` : "";
}

function addFault(fault) {
  const list = $("faults");
  if (list.querySelector(".muted")) list.innerHTML = "";
  const li = document.createElement("li");
  li.className = "fault";
  li.textContent = `after trial ${fault.trial}: ${fault.text}`;
  list.prepend(li);
}

function updateWheel(wheel) {
  if (!wheel || !wheel.t_ms) return;
  $("wheel-trial").textContent = wheel.trial ?? "–";
  setPlotData("wheel", [wheel.t_ms, wheel.position_ticks]);
}

function updateState(name, end) {
  const el = $("state");
  el.textContent = name;
  el.className = "pill " + (name === "running" ? "ok" : name === "finished" ? "" : "warn");
  if (end) $("end-reason").textContent = "Session ended: " + end.reason + (end.error ? " (error)" : "");
}

function applyStatus(s) {
  $("subject").textContent = s.subject || "–";
  $("session-id").textContent = s.session_id ?? "–";
  updateState(s.state, s.end);
  state.trialLog = s.trial_log || [];
  state.indices = s.indices || [];
  state.lastTrial = state.trialLog.length ? state.trialLog[state.trialLog.length - 1].trial_number : 0;
  updateTotals(s.totals, s.water);
  updateLink(s.link);
  $("faults").innerHTML = '<li class="muted">no faults</li>';
  for (const f of s.faults || []) addFault(f);
  updateFit(s.fit);
  updateIndices();
  updateWheel(s.wheel);
  updateWelfare(s.welfare);
  showAlerts(s.alerts || []);
  state.lickRows = (s.lick_rows || []).slice(-kLickRowsKept);
  state.licksEnabled = !!s.licks_enabled;
  updateSync(s.sync);
  updateLab(s.lab);
  updateProtocol(s.protocol_detail);
  drawLickRaster();
  if (s.last_trial && s.last_trial.trial_number) $("last-outcome").textContent = describeTrial(s.last_trial);
  drawRaster();
  document.body.dataset.trials = s.trials;
}

// The running protocol, read-only: its name, file and the SHA-256 its session row records, and its effective
// settings as `rig check --effective` prints them.
function updateProtocol(p) {
  if (!p) {
    $("protocol-summary").textContent = "–";
    $("protocol-effective").textContent = "";
    return;
  }
  $("protocol-summary").textContent = `${p.name} (${p.path}), SHA-256 ${p.sha256}`;
  $("protocol-effective").textContent = p.effective_yaml;
}

// The flavours a trial delivered (the record's delivered_<flavour>_open_us).
function rewardedFlavours(t) {
  return ["cherry", "grape"].filter((f) => t["delivered_" + f + "_open_us"] > 0);
}

function describeTrial(t) {
  const got = rewardedFlavours(t);
  return t.outcome + (t.choice ? ", " + (got.length ? got.join(" + ") : "no reward") : "");
}

async function reload() {
  try {
    const res = await fetch("api/status", { cache: "no-store" });
    if (res.ok) applyStatus(await res.json());
  } catch (e) { /* the server is away; the WebSocket reconnects */ }
}

function onEvent(e) {
  switch (e.type) {
    case "status": applyStatus(e); break;
    case "session": reload(); break;  // a new session is connecting: its fresh status replaces the last one's
    case "started":
      // A new session (rigd runs one after another): show its subject now and replace the previous session's
      // log, plots and totals with the new session's state.
      updateState("running");
      $("subject").textContent = e.subject || "–";
      $("session-id").textContent = e.session_id ?? "–";
      reload();
      break;
    case "trial": {
      // Not the next trial (events dropped, a duplicate of one already in a reloaded snapshot, or a new session):
      // the snapshot from /api/status is the truth. Also with no trial yet, so that a snapshot that raced with
      // the first events cannot leave a gap.
      if (e.trial.trial_number !== state.lastTrial + 1) { reload(); return; }
      state.lastTrial = e.trial.trial_number;
      state.trialLog.push(e.trial);
      if (state.trialLog.length > 200) state.trialLog.shift();  // as the status keeps (kStatusTrialLimit)
      if (e.index_point) state.indices.push(e.index_point);
      updateTotals(e.totals, e.water);
      updateLink(e.link);
      if (e.fit) updateFit(e.fit);
      updateIndices();
      updateWheel(e.wheel);
      updateSync(e.sync);
      addLickRows(e.lick_rows);
      drawLickRaster();
      $("last-outcome").textContent = describeTrial(e.trial);
      drawRaster();
      document.body.dataset.trials = e.totals.trials;
      break;
    }
    case "link": updateLink(e.link); break;
    case "lab": updateLab(e.lab); break;
    case "water": updateTotals(null, e.water); break;
    case "alert": showAlerts([...(state.alerts || []), e.alert].slice(-20)); break;
    case "welfare": if (e.welfare && e.welfare.subject === $("welfare-subject").value) updateWelfare(e.welfare); break;
    case "fault": addFault(e.fault); break;
    case "finished":
      updateState("finished", e.end); updateTotals(e.totals, e.water); updateSync(e.sync);
      if (state.welfare) loadWelfare(state.welfare.subject);
      addLickRows(e.lick_rows); drawLickRaster();
      break;
  }
}

function connect() {
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  const ws = new WebSocket(url);
  state.ws = ws;
  const feed = $("feed");
  ws.onopen = () => { feed.textContent = "live feed on"; feed.className = "pill ok"; };
  ws.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch (err) { console.error(err); } };
  ws.onclose = () => {
    feed.textContent = "live feed off (retrying)"; feed.className = "pill warn";
    setTimeout(connect, 2000);
  };
}

window.addEventListener("load", () => {
  plots.indices = makeIndicesPlot();
  plots.weights = makeWeightsPlot();
  plots.wheel = makeWheelPlot();
  window.addEventListener("resize", () => {
    for (const [id, p] of [["indices-plot", plots.indices], ["weights-plot", plots.weights], ["wheel-plot", plots.wheel]]) {
      p.setSize({ width: plotWidth($(id)), height: p.height });
    }
    drawRaster();
    drawLickRaster();
  });
  $("welfare-subject").addEventListener("change", (e) => loadWelfare(e.target.value));
  $("alert-dismiss").addEventListener("click", () => {
    const alerts = state.alerts || [];
    state.alertsSeenUs = alerts.length ? alerts[alerts.length - 1].raised_at_unix_us : 0;
    showAlerts(alerts);
  });
  $("record-weight").addEventListener("click", () => recordWelfare("weighings"));
  $("record-water").addEventListener("click", () => recordWelfare("water"));
  reload().then(loadSubjects).then(connect);
});
