// Polls the REST API and redraws with Plotly.react: no page reloads.
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
let current = null;

// The bearer token (any scope) for a service with closed reads: kept in sessionStorage (this tab
// only, gone when it closes) and sent with every call, polling included.
const TOKEN_KEY = "geniot-token";
const token = () => sessionStorage.getItem(TOKEN_KEY) || "";
const authHeaders = () => (token() ? {Authorization: "Bearer " + token()} : {});

class AuthError extends Error {}

async function api(url, options = {}) {
  const r = await fetch(url, {...options, headers: {...(options.headers || {}), ...authHeaders()}});
  if (r.status === 401 || r.status === 403) {
    let detail = String(r.status);
    try { detail = (await r.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new AuthError(detail);
  }
  return r;
}

async function getJSON(url) {
  const r = await api(url);
  if (!r.ok) throw new Error(url + " " + r.status);
  return r.json();
}

function needToken(message) {
  document.body.dataset.auth = "needed";
  $("auth-needed").textContent = (token() ? "The token was refused (" + message + "). " : "This service needs a token to show its data. ") +
    "Enter a token (scope read or above) in the header; it is kept for this browser tab only.";
}

async function refreshAssets() {
  const assets = await getJSON("/api/assets");
  const sel = $("asset");
  const names = assets.map((a) => a.asset);
  if (names.join() !== Array.from(sel.options).map((o) => o.value).join()) {
    sel.innerHTML = names.map((n) => `<option value="${esc(n)}">${esc(n)}</option>`).join("");
    if (current && names.includes(current)) sel.value = current;
  }
  current = sel.value || names[0] || null;
}

function drawSignals(live) {
  const names = Object.keys(live.signals);
  const traces = [];
  const layout = {margin: {t: 10, l: 60, r: 10, b: 30}, showlegend: false, shapes: [], grid: {rows: Math.max(1, names.length), columns: 1, pattern: "independent"}};
  names.forEach((name, i) => {
    const axis = i === 0 ? "" : String(i + 1);
    traces.push({x: live.timestamps, y: live.signals[name], mode: "lines", name, line: {width: 1, color: "#1f77b4"}, xaxis: "x" + axis, yaxis: "y" + axis});
    const f = live.fills.filter((r) => r.signal === name);
    if (f.length) {
      traces.push({x: f.map((r) => r.ts), y: f.map((r) => r.value), mode: "markers", marker: {color: "#d62728", size: 5}, name: name + " filled",
        error_y: {type: "data", symmetric: false, array: f.map((r) => r.upper - r.value), arrayminus: f.map((r) => r.value - r.lower), color: "#d62728"},
        xaxis: "x" + axis, yaxis: "y" + axis});
    }
    layout["yaxis" + axis] = {title: {text: name, font: {size: 10}}};
    layout["xaxis" + axis] = {showticklabels: i === names.length - 1};
    for (const ev of live.events) {  // process events red, security events purple
      const color = isSecurity(ev) ? "rgba(123,31,162,0.18)" : "rgba(214,39,40,0.15)";
      layout.shapes.push({type: "rect", xref: "x" + axis, yref: "y" + axis + " domain", x0: ev.start_ts, x1: ev.end_ts, y0: 0, y1: 1, fillcolor: color, line: {width: 0}});
    }
  });
  Plotly.react("signals", traces, layout, {displaylogo: false});
}

function drawScore(live) {
  const s = live.scores;
  const traces = [{x: s.timestamps, y: s.score, mode: "lines", line: {color: "#333", width: 1}, name: "score"}];
  if (s.threshold && s.threshold.length) {  // per reading: a regime switch's windows are judged against their own
    traces.push({x: s.timestamps, y: s.threshold, mode: "lines", line: {color: "#d62728", dash: "dash", shape: "hv"}, name: "threshold"});
  } else if (live.threshold != null && s.timestamps.length) {
    traces.push({x: [s.timestamps[0], s.timestamps[s.timestamps.length - 1]], y: [live.threshold, live.threshold], mode: "lines", line: {color: "#d62728", dash: "dash"}, name: "threshold"});
  }
  traces.push({x: s.timestamps.filter((_, i) => s.flag[i]), y: s.score.filter((_, i) => s.flag[i]), mode: "markers", marker: {color: "#d62728", size: 4}, name: "flagged"});
  Plotly.react("score", traces, {margin: {t: 10, l: 60, r: 10, b: 30}, showlegend: false}, {displaylogo: false});
}

// The asset's latest events from /api/events, whatever the plots show (an event before the plotted
// rows is still listed; the red bands mark only the plotted ones).
const EVENTS_LISTED = 50;
function fillEvents(events) {
  $("events").querySelector("tbody").innerHTML = events.map((e) =>
    `<tr><td>${esc(e.start_ts)}</td><td>${esc(e.end_ts)}</td><td>${Number(e.peak_score).toFixed(2)}</td>` +
    `<td>${String(e.top_sensors || "").split(";").filter(Boolean).map((s) => `<span class="sensor">${esc(s)}</span>`).join("")}</td>` +
    `<td>${e.is_open ? "open" : "closed"}</td></tr>`).join("") || "<tr><td colspan=5>no events yet</td></tr>";
  $("events").dataset.count = String(events.length);
}

// Security events (kind integrity or traffic) of every asset, apart from the process events:
// what was found (attack type), on which stream, and why in words.
const isSecurity = (e) => e.kind === "integrity" || e.kind === "traffic";
const SECURITY_LISTED = 50;
function fillSecurity(events, status) {
  $("security-events").querySelector("tbody").innerHTML = events.map((e) =>
    `<tr data-kind="${esc(e.kind)}" data-attack="${esc(e.attack)}"><td>${esc(e.start_ts)}</td><td>${esc(e.end_ts)}</td><td>${esc(e.asset)}</td>` +
    `<td><span class="kind ${esc(e.kind)}">${esc(e.kind)}</span></td><td>${esc(e.attack)}</td><td>${esc(e.top_sensors)}</td>` +
    `<td>${esc(e.source)}</td><td class="reason">${esc(e.reason)}</td></tr>`).join("") ||
    "<tr><td colspan=8>no security events</td></tr>";
  $("security-events").dataset.count = String(events.length);
  let said = "security detection: no detector active (an admin activates one written by geniot security fit: POST /api/security/activate)";
  if (status && status.active) {
    said = `security detection: detector ${status.active} active · ${Number(status.counts.messages || 0).toLocaleString()} messages checked · ` +
      `${status.counts.kept_out || 0} kept out of the process view · ${status.errors} errors` + (status.last_error ? ` (last: ${status.last_error})` : "");
  }
  $("security-state").textContent = said;
  $("stat-security").textContent = status && status.active ? `security: ${events.length ? events.length + " events" : "no events"}` : "security: off";
}

async function refreshJobs() {
  const jobs = await getJSON("/api/jobs");
  $("jobs").querySelector("tbody").innerHTML = jobs.map((j) =>
    `<tr><td>${esc(j.model)}</td><td>${esc(j.asset)}</td><td>${esc(j.generator)}</td><td>${esc(j.status)}</td>` +
    `<td><span class="bar"><span style="width:${Math.round(100 * j.progress)}%"></span></span></td><td>${esc(j.message)}</td></tr>`).join("") ||
    "<tr><td colspan=6>no jobs</td></tr>";
}

function showHealth(h) {
  const status = ["ok", "degraded", "failing"].includes(h.status) ? h.status : "unknown";
  const badge = $("status-badge");
  badge.className = "badge " + status;
  badge.textContent = "status: " + (h.status || "unknown");
  const problems = Array.isArray(h.problems) ? h.problems : [];
  $("problems").innerHTML = problems.map((p) => `<li class="${status}">${esc(p)}</li>`).join("");
}

async function refreshHealth() {
  const h = await getJSON("/api/health");
  showHealth(h);
  if (h.readings === undefined) throw new AuthError("health details need a token");  // closed reads, no token
  $("stat-readings").textContent = `readings: ${Number(h.readings).toLocaleString()}`;
  const ingest = h.ingest || {};
  $("stat-ingest").textContent = `stored ${Number(ingest.stored || 0).toLocaleString()} · rejected ${ingest.rejected ?? "–"}`;
  const mqtt = (h.components && h.components.mqtt) || h.mqtt;
  $("stat-mqtt").textContent = mqtt ? `MQTT ${mqtt.state || (mqtt.connected ? "connected" : "disconnected")}` : "";
  return h;
}

async function tick() {
  try {
    const health = await refreshHealth();
    await refreshAssets();
    if (current) {
      const live = await getJSON(`/api/assets/${encodeURIComponent(current)}/live?last=600`);
      drawSignals(live);
      drawScore(live);
      fillEvents(await getJSON(`/api/events?asset=${encodeURIComponent(current)}&kind=process&limit=${EVENTS_LISTED}`));
    }
    fillSecurity(await getJSON(`/api/events?kind=security&limit=${SECURITY_LISTED}`), (health.components || {}).security);
    await refreshJobs();
    $("stat-updated").textContent = "updated " + new Date().toLocaleTimeString();
    document.body.dataset.auth = token() ? "token" : "open";
    document.body.dataset.ready = "1";
  } catch (err) {
    if (err instanceof AuthError) needToken(err.message);
    $("stat-updated").textContent = "update failed: " + err.message;
  }
}

// Chat: POST /api/ask; the answer's text, the tool that produced it, suggestions and its plot.
async function ask(question) {
  const log = $("chat-log");
  const item = document.createElement("div");
  item.innerHTML = `<div class="q">${esc(question)}</div><div class="a">…</div>`;
  log.prepend(item);
  try {
    const r = await api("/api/ask", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({question})});
    const body = await r.json();
    if (!r.ok) throw new Error(body.detail ? JSON.stringify(body.detail) : r.status);
    item.querySelector(".a").textContent = body.text;
    const meta = body.tool ? `${body.tool} · ${Math.round(body.latency_ms)} ms` : "not answered";
    item.insertAdjacentHTML("beforeend", `<div class="meta">${esc(meta)}</div>`);
    if (body.suggestions.length) {
      const tips = document.createElement("div");
      tips.className = "tips";
      body.suggestions.forEach((s) => { const b = document.createElement("button"); b.type = "button"; b.textContent = s; b.onclick = () => ask(s); tips.append(b); });
      item.append(tips);
    }
    if (body.figure) Plotly.react("chat-plot", body.figure.data, {...body.figure.layout, height: 320, margin: {t: 40, l: 60, r: 10, b: 40}});
    else Plotly.purge("chat-plot");
  } catch (err) {
    item.querySelector(".a").textContent = "failed: " + err.message;
  }
  item.dataset.done = "1";
}

$("chat-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const q = $("chat-question").value.trim();
  if (q) ask(q);
});

$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const value = $("token").value.trim();
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  $("token").value = "";
  tick();
});
$("token-forget").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); tick(); });

// The report is a page of its own: with closed reads it is fetched with the token and shown from memory.
$("report-link").addEventListener("click", async (e) => {
  if (!token()) return;
  e.preventDefault();
  try {
    const r = await api("/report");
    if (!r.ok) throw new Error("/report " + r.status);
    window.open(URL.createObjectURL(new Blob([await r.text()], {type: "text/html"})), "_blank");
  } catch (err) {
    $("report").insertAdjacentText("beforeend", " (" + err.message + ")");
  }
});

// The demo's synthetic day (geniot demo writes it): every real pump's last day in blue, every
// synthetic pump's day in orange, on hours from the start of each day; one signal at a time.
let day = null;
function drawDay() {
  const signal = $("day-signal").value;
  const traces = [];
  for (const [group, color] of [["real", "#1f77b4"], ["synthetic", "#ff7f0e"]]) {
    const g = day[group];
    Object.entries(g.assets).forEach(([asset, signals], i) => {
      const y = signals[signal] || [];
      traces.push({x: y.map((_, k) => k * g.step_s / 3600), y, mode: "lines", name: group + " " + asset, legendgroup: group,
        line: {width: 1, color}, opacity: 0.8});
    });
  }
  Plotly.react("synthetic-day", traces, {margin: {t: 10, l: 60, r: 10, b: 40}, xaxis: {title: {text: "hours from the start of the day"}},
    yaxis: {title: {text: signal}}});
}
async function loadDay() {
  try {
    const r = await api("/api/synthetic-day");
    if (r.status === 404) { $("day-state").textContent = (await r.json()).detail; return; }
    if (!r.ok) throw new Error("/api/synthetic-day " + r.status);
    day = await r.json();
    $("day-signal").innerHTML = day.channels.map((c) => `<option value="${esc(c)}">${esc(c)}</option>`).join("");
    $("day-state").textContent = `real from ${day.real.start}, synthetic (${day.model}) from ${day.synthetic.start}`;
    drawDay();
  } catch (err) {
    if (!(err instanceof AuthError)) $("day-state").textContent = err.message;
  }
}
$("day-signal").addEventListener("change", drawDay);
$("token-form").addEventListener("submit", () => { if (!day) loadDay(); });
loadDay();

$("asset").addEventListener("change", (e) => { current = e.target.value; tick(); });
tick();
setInterval(tick, 2000);
