// The lab page (docs/lab.md, "The lab page"): the overview of every rig and subject from /api/lab/overview, and a
// subject's page (#subject/ID) from /api/lab/subjects/ID: its learning curve and its Figure 2 weights, drawn as
// SVG. Everything the server sends is set as text, never as HTML.
"use strict";

const kRefreshMs = 5000;
const kSvg = "http://www.w3.org/2000/svg";
const kColours = { controllable: "#c0304a", distractor: "#6a3fa0", both: "#1f7a4d", none: "#9aa0a6" };
let timer = null;

const $ = (id) => document.getElementById(id);

function fixed(x, digits = 2) { return x === null || x === undefined ? "–" : Number(x).toFixed(digits); }
function estimate(e) { return e ? `${fixed(e.value)} ± ${fixed(e.se)}` : "–"; }
function when(unixUs) {
  if (unixUs === null || unixUs === undefined) return "–";
  const d = new Date(unixUs / 1000);
  return d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}
function ago(seconds) {
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function showError(text) {
  $("error").hidden = !text;
  $("error").textContent = text || "";
  $("updated").textContent = text ? "not updated" : $("updated").textContent;
  $("updated").className = text ? "pill bad" : "pill ok";
}

async function getJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  const body = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
  if (!response.ok) throw new Error(body.error || `${response.status}`);
  return body;
}

function renderOverview(o) {
  $("server").textContent = `lab ${o.lab}`;
  $("index-sessions").textContent = o.index_sessions;
  $("cache").textContent = o.cache.final < o.cache.sessions ? `reading ahead: ${o.cache.final} of ${o.cache.sessions} sessions fitted` : "";
  const rigs = $("rigs").tBodies[0];
  rigs.replaceChildren();
  for (const r of o.rigs) {
    const tr = document.createElement("tr");
    tr.dataset.rig = r.rig;
    cell(tr, r.rig);
    const state = cell(tr, "");
    const pill = document.createElement("span");
    pill.className = `state ${r.state}`;
    pill.textContent = r.state === "offline" ? `offline since ${when(r.offline_since_unix_us)}` : r.state;
    state.appendChild(pill);
    cell(tr, r.subject || "–");
    cell(tr, r.session ? `${r.session.session_id}: ${r.session.trials} trials` : "–");
    cell(tr, ago(r.last_push_s_ago));
    cell(tr, r.backlog_entries > 0 ? `${r.backlog_entries} rows` : "none", r.backlog_entries > 1000 ? "bad" : "");
    cell(tr, r.last_alert ? `${when(r.last_alert.raised_at_unix_us)}: ${r.last_alert.text}` : "–", "wrap");
    rigs.appendChild(tr);
  }
  const subjects = $("subjects").tBodies[0];
  subjects.replaceChildren();
  for (const s of o.subjects) {
    const tr = document.createElement("tr");
    tr.dataset.subject = s.subject;
    const name = cell(tr, "");
    const link = document.createElement("a");
    link.href = `#subject/${encodeURIComponent(s.subject)}`;
    link.textContent = s.subject;
    name.appendChild(link);
    cell(tr, s.stage || "–");
    const last = s.last_session;
    cell(tr, last ? `${last.day} on ${last.rig}${s.running_on ? " (running)" : ""}, ${last.trials} trials` : "–");
    const w = s.welfare;
    cell(tr, w.percent_of_baseline === null ? "not weighed" : `${fixed(w.weight_today_g, 1)} g (${fixed(w.percent_of_baseline, 0)} %)`,
         w.under_threshold ? "bad" : "");
    cell(tr, `${fixed(w.water.total_today_ul / 1000, 2)} mL`);
    cell(tr, w.water.owed_ul > 0 ? `${fixed(w.water.owed_ul / 1000, 2)} mL` : "–", w.water.owed_ul > 0 ? "bad" : "");
    for (const kind of ["controllable", "distractor"]) {
      const td = cell(tr, estimate(s.indices[kind]), s.indices.estimable ? "" : "muted");
      td.dataset.index = kind;
      if (!s.indices.estimable) td.title = s.indices.reason;
    }
    cell(tr, w.flags.join(", ") || "–", "wrap");
    subjects.appendChild(tr);
  }
}

function svgElement(parent, name, attributes, text) {
  const element = document.createElementNS(kSvg, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (text !== undefined) element.textContent = text;
  parent.appendChild(element);
  return element;
}

// A frame for `svg`: x from 0..xCount-1, y over [yMin, yMax]; returns the scales.
function frame(svg, xCount, yMin, yMax, yLabel) {
  svg.replaceChildren();
  const width = svg.clientWidth || 600, height = svg.clientHeight || 260;
  const left = 48, right = 28, top = 10, bottom = 28;
  const x = (i) => left + (xCount <= 1 ? (width - left - right) / 2 : (i * (width - left - right)) / (xCount - 1));
  const y = (v) => top + ((yMax - v) * (height - top - bottom)) / (yMax - yMin);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svgElement(svg, "line", { x1: left, x2: width - right, y1: y(0), y2: y(0), stroke: "#333", "stroke-width": 1 });
  for (const v of [yMin, (yMin + yMax) / 2, yMax]) {
    svgElement(svg, "text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, fixed(v, 1));
  }
  svgElement(svg, "text", { x: 12, y: top + 10, transform: `rotate(-90 12 ${top + 10})`, "text-anchor": "end" }, yLabel);
  return { x, y, width, height, bottom };
}

function range(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  let lo = Math.min(0, ...finite), hi = Math.max(0, ...finite);
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const pad = (hi - lo) * 0.08;
  return [lo - pad, hi + pad];
}

function drawCurve(sessions) {
  const svg = $("curve-plot");
  const values = [];
  for (const s of sessions) {
    for (const kind of ["controllable", "distractor"]) {
      const e = s[kind];
      if (e) values.push(e.value - e.se, e.value + e.se);
    }
  }
  const [lo, hi] = range(values);
  const f = frame(svg, sessions.length, lo, hi, "index (log-odds)");
  let lastDay = null;
  sessions.forEach((s, i) => {
    if (s.day !== lastDay) {
      if (lastDay !== null) svgElement(svg, "line", { x1: f.x(i - 0.5), x2: f.x(i - 0.5), y1: 10, y2: f.height - f.bottom, stroke: "#ccc", "stroke-dasharray": "3 3" });
      svgElement(svg, "text", { x: f.x(i), y: f.height - 8, "text-anchor": "middle" }, s.day.slice(5));
      lastDay = s.day;
    }
    if (!s.estimable) {
      const mark = svgElement(svg, "text", { x: f.x(i), y: 22, "text-anchor": "middle", class: "gap", fill: "#8a939c" }, "·");
      svgElement(mark, "title", {}, `${s.rig}/${s.session_id}: ${s.reason}`);
    }
  });
  for (const kind of ["controllable", "distractor"]) {
    let path = "", gap = true;
    sessions.forEach((s, i) => {
      const e = s[kind];
      // A session whose fit cannot be read is a gap in the line (its reason is on the x label's hover).
      if (!e) { gap = true; return; }
      path += `${gap ? "M" : "L"}${f.x(i)},${f.y(e.value)}`;
      gap = false;
      svgElement(svg, "line", { x1: f.x(i), x2: f.x(i), y1: f.y(e.value - e.se), y2: f.y(e.value + e.se), stroke: kColours[kind], "stroke-opacity": 0.5 });
      svgElement(svg, "circle", { cx: f.x(i), cy: f.y(e.value), r: 3, fill: kColours[kind], class: `point ${kind}` });
    });
    if (path) svgElement(svg, "path", { d: path, fill: "none", stroke: kColours[kind], "stroke-width": 1.5 });
  }
}

function drawWeights(fit) {
  const svg = $("weights-plot");
  if (!fit) { svg.replaceChildren(); return; }
  const kinds = ["controllable", "distractor", "both", "none"];
  const values = [];
  for (const kind of kinds) {
    fit.weights[kind].forEach((w, k) => { if (w !== null) values.push(w - fit.se[kind][k], w + fit.se[kind][k]); });
  }
  const [lo, hi] = range(values);
  const f = frame(svg, fit.lags, lo, hi, "weight (log-odds)");
  for (let k = 0; k < fit.lags; ++k) svgElement(svg, "text", { x: f.x(k), y: f.height - 8, "text-anchor": "middle" }, `lag ${k + 1}`);
  for (const kind of kinds) {
    let path = "";
    fit.weights[kind].forEach((w, k) => {
      if (w === null) return;
      const se = fit.se[kind][k] || 0;
      path += `${path ? "L" : "M"}${f.x(k)},${f.y(w)}`;
      svgElement(svg, "line", { x1: f.x(k), x2: f.x(k), y1: f.y(w - se), y2: f.y(w + se), stroke: kColours[kind], "stroke-opacity": 0.5 });
      svgElement(svg, "circle", { cx: f.x(k), cy: f.y(w), r: 3, fill: kColours[kind], class: `point ${kind}` });
    });
    if (path) svgElement(svg, "path", { d: path, fill: "none", stroke: kColours[kind], "stroke-width": 1.5 });
  }
}

function renderSubject(p) {
  $("server").textContent = `lab ${p.lab}`;
  $("title-subject").textContent = `· ${p.subject}`;
  const last = p.last_session;
  $("subject-summary").textContent =
    `${p.subject}: stage ${p.stage || "–"}, ${p.sessions.length} sessions` +
    (last ? `, the last ${last.day} on ${last.rig}` : "") + (p.running_on ? ` (running on ${p.running_on})` : "");
  drawCurve(p.sessions);
  const fit = p.pooled.fit;
  $("pooled-trials").textContent = fit ? fit.n_trials : 0;
  $("pooled-ctrl").textContent = fit ? estimate(fit.controllable_index === null ? null : { value: fit.controllable_index, se: fit.controllable_index_se }) : "–";
  $("pooled-dist").textContent = fit ? estimate(fit.distractor_index === null ? null : { value: fit.distractor_index, se: fit.distractor_index_se }) : "–";
  $("pooled-reason").textContent = fit && !fit.estimable ? `(${fit.reason})` : "";
  drawWeights(fit);
  const w = p.welfare;
  $("welfare-summary").textContent =
    (w.baseline ? `baseline ${fixed(w.baseline.weight_g, 1)} g (${w.baseline.source}); ` : "no baseline yet; ") +
    (w.weighed_today ? `today ${fixed(w.weight_today_g, 1)} g, ${fixed(w.percent_of_baseline, 0)} % (minimum ${w.min_weight_percent} %)` : "not weighed today") +
    `; water today ${fixed(w.water.total_today_ul / 1000, 2)} of ${fixed(w.water.minimum_ul / 1000, 2)} mL` +
    (w.water.owed_ul > 0 ? `, ${fixed(w.water.owed_ul / 1000, 2)} mL owed` : "") + ` (rules: ${p.welfare_rules})`;
  const days = $("welfare-days").tBodies[0];
  days.replaceChildren();
  for (const d of [...w.days].reverse()) {
    const tr = document.createElement("tr");
    cell(tr, d.day);
    cell(tr, fixed(d.weight_g, 1));
    cell(tr, fixed(d.session_ul, 0));
    cell(tr, fixed(d.by_hand_ul, 0));
    days.appendChild(tr);
  }
}

function route() {
  const match = location.hash.match(/^#subject\/(.+)$/);
  return match ? decodeURIComponent(match[1]) : null;
}

async function refresh() {
  clearTimeout(timer);
  const subject = route();
  $("overview").hidden = subject !== null;
  $("subject-page").hidden = subject === null;
  if (subject === null) $("title-subject").textContent = "";
  try {
    if (subject === null) {
      renderOverview(await getJson("/api/lab/overview"));
    } else {
      const n = $("pooled-sessions").value;
      renderSubject(await getJson(`/api/lab/subjects/${encodeURIComponent(subject)}?sessions=${n}`));
    }
    showError(null);
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.loaded = subject === null ? "overview" : `subject:${subject}`;
  } catch (e) {
    showError(`Cannot read the lab: ${e.message}`);
  }
  timer = setTimeout(refresh, kRefreshMs);
}

window.addEventListener("hashchange", refresh);
$("pooled-sessions").addEventListener("change", refresh);
refresh();
