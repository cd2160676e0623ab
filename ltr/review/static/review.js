// ltr review page: gallery triage and a scrolling trace view, drawn on <canvas>.
// No library, no network beyond the ltr server on 127.0.0.1 (see ltr/review/server.py).
"use strict";

const S = {
  info: null, rows: [], byId: {}, filter: "all", current: null, mode: "select",
  view: { t0: 0, width: 10 }, trace: null, snippets: {}, drag: null, busy: 0,
};
const COLOR = { twitch: "#1a9850", "look-alike": "#8c6d31", contraction: "#7b3294",
  added: "#2166ac", rejected: "#d7301f", "needle in": "#2166ac", "needle out": "#2166ac" };
const $ = (sel) => document.querySelector(sel);

// -- server -------------------------------------------------------------------------------
async function api(path, body) {
  S.busy++;
  try {
    const opts = body === undefined ? {} : { method: "POST", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json" } };
    const res = await fetch(path, opts);
    const data = await res.json();
    if (!res.ok) throw new Error(data.error || res.statusText);
    return data;
  } catch (err) {
    showError(String(err.message || err));
    throw err;
  } finally {
    S.busy--;
    document.body.dataset.busy = String(S.busy);
  }
}

function showError(text) {
  const e = $("#error");
  e.textContent = text;
  e.style.display = "block";
  clearTimeout(showError.t);
  showError.t = setTimeout(() => { e.style.display = "none"; }, 6000);
}

// -- rows ---------------------------------------------------------------------------------
function fmt(x, d) { return x === null || x === undefined ? "" : Number(x).toFixed(d); }
function clock(t) {
  const m = Math.floor(t / 60), s = t - 60 * m;
  return (m ? m + ":" + (s < 10 ? "0" : "") : "") + s.toFixed(m ? 2 : 3) + (m ? "" : " s");
}
function sortRows() {
  S.rows.sort((a, b) => a.onset - b.onset || (a.candidate < b.candidate ? -1 : 1));
}
function visible(r) {
  const f = S.filter;
  if (f === "all") return true;
  if (f === "pending") return r.review_status === null;
  if (f === "added") return r.detected_as === null;
  return r.detected_as === f;
}
function visibleRows() { return S.rows.filter(visible); }

function callText(r) {
  if (r.detected_as === null) return "added: " + r.trial_type;
  if (r.detected_as === "look-alike") return "ltr: look-alike (" + (r.reason || "?") + ")";
  return "ltr: " + r.detected_as;
}
function verdictText(r) {
  const st = r.review_status;
  if (st === null) return "not reviewed";
  if (st === "confirmed") return r.detected_as === "twitch" ? "✓ twitch" : "✓ not a twitch";
  if (st === "rejected") return "✗ not a twitch";
  if (st === "moved") return "↔ onset moved";
  if (r.detected_as !== null) return "✗ is a twitch";  // a look-alike the reviewer rescued
  return "+ " + r.trial_type;
}
function features(r) {
  const f = [];
  if (r.amplitude_uV !== null) f.push(fmt(r.amplitude_uV, 1) + " µV");
  if (r.amplitude_m_s2 !== null) f.push(fmt(r.amplitude_m_s2, 3) + " m/s²");
  if (r.snr_db !== null) f.push("SNR " + fmt(r.snr_db, 1) + " dB");
  if (r.duration) f.push(Math.round(r.duration * 1000) + " ms");
  if (r.confidence !== null) f.push("conf " + fmt(r.confidence, 2));
  if (r.channels) f.push(r.channels);
  if (r.review_status === "moved") f.push("was " + fmt(r.detector_onset, 3) + " s");
  return f.join(" · ");
}
function category(r) {
  if (r.detected_as === null) return "added";
  return r.detected_as;
}

// -- gallery ------------------------------------------------------------------------------
let observer = null;
function buildGallery() {
  const g = $("#gallery");
  g.textContent = "";
  if (observer) observer.disconnect();
  observer = new IntersectionObserver((entries) => {
    for (const e of entries) if (e.isIntersecting) drawSnippet(e.target.dataset.id);
  }, { root: g, rootMargin: "200px" });
  visibleRows().forEach((r, i) => {
    const c = document.createElement("div");
    c.className = "card " + category(r);
    c.dataset.id = r.candidate;
    c.id = "card-" + r.candidate;
    c.innerHTML = `<div class="head"><span class="call"></span><span class="when"></span></div>
      <canvas width="230" height="84"></canvas><div class="feat"></div>
      <div class="verdict"><span class="status"></span><span>
      <button class="acc" title="ltr is right (a)">a ✓</button>
      <button class="rej" title="ltr is wrong (r)">r ✗</button></span></div>`;
    c.querySelector(".when").textContent = "#" + (i + 1) + " · " + clock(r.onset);
    c.addEventListener("click", (ev) => {
      select(r.candidate);
      if (ev.target.classList.contains("acc")) decide("accept");
      if (ev.target.classList.contains("rej")) decide("reject");
    });
    g.appendChild(c);
    updateCard(r);
    observer.observe(c);
  });
  if (S.current) markCurrent();
}

function updateCard(r) {
  const c = document.getElementById("card-" + r.candidate);
  if (!c) return;
  c.className = "card " + category(r) + (S.current === r.candidate ? " current" : "");
  const call = c.querySelector(".call");
  call.textContent = callText(r);
  call.title = r.reason && S.info.reasons[r.reason] ? S.info.reasons[r.reason] : "";
  c.querySelector(".feat").textContent = features(r);
  const st = c.querySelector(".status");
  st.className = "status " + (r.review_status || "pending");
  st.textContent = verdictText(r);
  c.dataset.status = r.review_status || "pending";
  const acc = c.querySelector(".acc"), rej = c.querySelector(".rej");
  acc.style.display = r.detected_as === null ? "none" : "";
  if (r.detected_as === null) rej.textContent = "r: delete";
  else if (r.detected_as === "twitch") { acc.textContent = "a: twitch"; rej.textContent = "r: not one"; }
  else { acc.textContent = "a: no twitch"; rej.textContent = "r: twitch"; }
}

function snippetWindow(r) {
  const d = Math.max(r.duration || 0, 0.08);
  const pad = Math.max(0.25, Math.min(1.0, d * 0.4));
  return [Math.max(0, r.onset - pad), Math.min(S.info.duration, r.onset + d + pad)];
}

async function drawSnippet(id) {
  const r = S.byId[id];
  const card = document.getElementById("card-" + id);
  if (!r || !card) return;
  const [t0, t1] = snippetWindow(r);
  const key = id + "@" + t0.toFixed(4);
  if (!S.snippets[key]) {
    // the candidate's own channels, with an EMG and an accelerometer beside them when
    // it has none of that kind (a movement look-alike is judged by the EMG it lacks)
    const kind = Object.fromEntries(S.info.channels.map((c) => [c.name, c.kind]));
    let own = String(r.channels || r.channel || "").split(",").filter((c) => c in kind);
    for (const k of ["emg", "acc"]) {
      const first = S.info.channels.find((c) => c.kind === k);
      if (first && !own.some((c) => kind[c] === k)) own.push(first.name);
    }
    own = S.info.channels.map((c) => c.name).filter((c) => own.includes(c)).slice(0, 3);
    const ch = "&ch=" + encodeURIComponent(own.join(","));
    S.snippets[key] = api(`/api/trace?t0=${t0}&t1=${t1}&n=230${ch}`);
  }
  let data;
  try { data = await S.snippets[key]; } catch (e) { delete S.snippets[key]; return; }
  const cv = card.querySelector("canvas");
  cv.dataset.loaded = "1";
  plot(cv, data, [r], { compact: true });
  const ctx = cv.getContext("2d"), label = (t1 - t0).toFixed(2) + " s";
  ctx.font = "10px sans-serif";
  const tw = ctx.measureText(label).width, x = cv.clientWidth - tw - 3;
  ctx.fillStyle = "rgba(255,255,255,0.85)"; ctx.fillRect(x - 2, 0, tw + 5, 12);
  ctx.fillStyle = "#666"; ctx.fillText(label, x, 9);
}

function markCurrent() {
  document.querySelectorAll(".card.current").forEach((c) => c.classList.remove("current"));
  const c = document.getElementById("card-" + S.current);
  if (c) {
    c.classList.add("current");
    c.scrollIntoView({ block: "nearest" });
  }
}

function select(id, center = true) {
  if (!S.byId[id]) return;
  S.current = id;
  markCurrent();
  const r = S.byId[id];
  const end = r.onset + (r.duration || 0);
  if (center || r.onset < S.view.t0 || end > S.view.t0 + S.view.width) {
    setView(r.onset - 0.3 * S.view.width);
  } else {
    drawTrace();
  }
}

function step(dir, pendingOnly = false) {
  const vis = visibleRows();
  if (!vis.length) return;
  let i = vis.findIndex((r) => r.candidate === S.current);
  for (let k = 0; k < vis.length; k++) {
    i = i + dir;
    if (i < 0 || i >= vis.length) return;
    if (!pendingOnly || vis[i].review_status === null) { select(vis[i].candidate); return; }
  }
}

// -- decisions ----------------------------------------------------------------------------
function applyAnswer(ans) {
  if (ans.row) {
    const old = S.byId[ans.row.candidate];
    if (old) Object.assign(old, ans.row); else { S.rows.push(ans.row); }
    S.byId[ans.row.candidate] = old || ans.row;
  }
  sortRows();
  S.info.counts = ans.counts;
  S.info.saved_at = ans.saved_at;
  showProgress();
}

async function decide(action, onset) {
  const r = S.byId[S.current];
  if (!r) return;
  if ((action === "reject" || action === "reset") && r.detected_as === null) {
    return remove(r.candidate);
  }
  if (action === "accept" && r.detected_as === null) return;
  const body = { id: r.candidate, action };
  if (onset !== undefined) body.onset = onset;
  const ans = await api("/api/decide", body);
  applyAnswer(ans);
  updateCard(S.byId[r.candidate]);
  if (action === "accept" || action === "reject") step(+1); else drawTrace();
  drawOverview();
}

async function add(kind, onset) {
  const ans = await api("/api/add", { trial_type: kind, onset });
  applyAnswer(ans);
  buildGallery();
  select(ans.row.candidate, false);
  drawOverview();
}

async function remove(id) {
  const vis = visibleRows();
  const i = vis.findIndex((r) => r.candidate === id);
  const ans = await api("/api/delete", { id });
  S.rows = S.rows.filter((r) => r.candidate !== id);
  delete S.byId[id];
  applyAnswer(ans);
  const next = vis[i + 1] || vis[i - 1];
  S.current = next ? next.candidate : null;
  buildGallery();
  drawTrace();
  drawOverview();
}

function showProgress() {
  const c = S.info.counts;
  $("#progress").textContent = `${c.reviewed} of ${c.total} reviewed · ${c.pending} to go` +
    ` (confirmed ${c.confirmed}, rejected ${c.rejected}, added ${c.added}, moved ${c.moved})`;
  $("#saved").textContent = S.info.saved_at
    ? `saved ${S.info.saved_at.replace("T", " ").replace("Z", " UTC")} → ${S.info.saved_to}`
    : "";
  $("#saved").dataset.savedAt = S.info.saved_at || "";
}

// -- drawing ------------------------------------------------------------------------------
function fit(cv) {
  const dpr = window.devicePixelRatio || 1;
  const w = cv.clientWidth, h = cv.clientHeight;
  if (cv.width !== Math.round(w * dpr) || cv.height !== Math.round(h * dpr)) {
    cv.width = Math.round(w * dpr);
    cv.height = Math.round(h * dpr);
  }
  const ctx = cv.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return [ctx, w, h];
}

function rowColor(r) {
  if (r.detected_as === null) return COLOR.added;
  if (r.review_status === "rejected") return COLOR.rejected;
  if (r.review_status === "added") return COLOR.twitch;  // a look-alike that is a twitch
  return COLOR[r.trial_type] || "#888";
}

// Plot the channels of a /api/trace answer stacked in `cv`, with `rows` shaded.
function plot(cv, data, rows, opt = {}) {
  const [ctx, w, h] = fit(cv);
  ctx.clearRect(0, 0, w, h);
  const left = opt.compact ? 2 : 86, axis = opt.compact ? 0 : 18;
  const pw = w - left - 4, ph = h - axis;
  const t0 = data.t0, t1 = data.t1, span = Math.max(t1 - t0, 1e-9);
  const X = (t) => left + ((t - t0) / span) * pw;
  const chans = data.channels;
  const lane = ph / Math.max(chans.length, 1);
  // events first, under the traces
  for (const r of rows) {
    const a = X(r.onset), b = X(r.onset + (r.duration || 0));
    if (b < left - 2 || a > w) continue;
    const col = rowColor(r);
    const reviewed = r.review_status !== null;
    ctx.globalAlpha = reviewed ? 0.28 : 0.12;
    ctx.fillStyle = col;
    if (b - a >= 1) ctx.fillRect(a, 0, b - a, ph);
    ctx.globalAlpha = reviewed ? 1 : 0.55;
    ctx.strokeStyle = col;
    ctx.lineWidth = r.candidate === S.current && !opt.compact ? 3 : 1.5;
    ctx.setLineDash(r.trial_type.startsWith("needle") ? [5, 3] : []);
    ctx.beginPath(); ctx.moveTo(a, 0); ctx.lineTo(a, ph); ctx.stroke();
    ctx.setLineDash([]);
    if (!opt.compact && r.trial_type.startsWith("needle")) {
      ctx.fillStyle = col; ctx.font = "11px sans-serif";
      ctx.fillText(r.trial_type, a + 3, 11);
    }
    if (!opt.compact && r.candidate === S.current) {
      ctx.globalAlpha = 1; ctx.strokeStyle = "#f4a300"; ctx.lineWidth = 2;
      ctx.strokeRect(a - 2, 1, Math.max(b - a, 0) + 4, ph - 2);
    }
  }
  ctx.globalAlpha = 1;
  if (!opt.compact) {
    for (const an of S.info.annotations) {
      const a = X(an.onset);
      if (a < left || a > w) continue;
      ctx.strokeStyle = "#999"; ctx.setLineDash([2, 3]); ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(a, 0); ctx.lineTo(a, ph); ctx.stroke(); ctx.setLineDash([]);
      ctx.fillStyle = "#555"; ctx.font = "11px sans-serif";
      ctx.fillText(an.label, a + 3, 24);
    }
  }
  chans.forEach((c, k) => {
    const top = k * lane, mid = top + lane / 2;
    let m = 0;
    for (let i = 0; i < c.max.length; i++) {
      if (c.max[i] !== null) m = Math.max(m, Math.abs(c.max[i]), Math.abs(c.min[i]));
    }
    m = m || 1;
    const emg = c.kind === "emg";
    const Y = emg ? (v) => mid - (v / m) * (lane / 2 - 3)
      : (v) => top + lane - 3 - (v / m) * (lane - 6);
    ctx.strokeStyle = emg ? "#1f2d4a" : "#5a3d7a";
    ctx.lineWidth = 1;
    ctx.beginPath();
    const n = c.max.length, dx = pw / Math.max(n, 1);
    for (let i = 0; i < n; i++) {
      if (c.max[i] === null) continue;
      const x = left + (i + 0.5) * dx;
      if (c.min[i] === c.max[i]) {
        if (i === 0 || c.max[i - 1] === null) ctx.moveTo(x, Y(c.max[i]));
        else ctx.lineTo(x, Y(c.max[i]));
      } else {
        ctx.moveTo(x, Y(c.min[i])); ctx.lineTo(x, Y(c.max[i]) - 0.5);
      }
    }
    ctx.stroke();
    if (!opt.compact) {
      ctx.fillStyle = "#333"; ctx.font = "12px sans-serif";
      ctx.fillText(c.name, 4, top + 14);
      ctx.fillStyle = "#777"; ctx.font = "11px sans-serif";
      const unit = emg ? "µV" : "m/s²";
      ctx.fillText((emg ? "±" : "0–") + (m < 1 ? m.toPrecision(2) : m.toFixed(0)) + " " + unit,
        4, top + 28);
      ctx.fillText(emg ? "band-passed" : "|high-passed|", 4, top + 41);
      ctx.strokeStyle = "#eee";
      ctx.beginPath(); ctx.moveTo(left, top + lane); ctx.lineTo(w, top + lane); ctx.stroke();
    }
  });
  if (!opt.compact) {
    ctx.fillStyle = "#444"; ctx.strokeStyle = "#aaa"; ctx.font = "11px sans-serif";
    const raw = span / 8, p = Math.pow(10, Math.floor(Math.log10(raw)));
    const tick = [1, 2, 5, 10].map((x) => x * p).find((x) => x >= raw);
    const dec = Math.max(0, -Math.floor(Math.log10(tick) + 1e-9));
    for (let t = Math.ceil(t0 / tick) * tick; t <= t1 + 1e-9; t += tick) {
      const x = X(t);
      ctx.beginPath(); ctx.moveTo(x, ph); ctx.lineTo(x, ph + 4); ctx.stroke();
      const m = Math.floor(t / 60), sec = t - 60 * m;
      const label = m ? m + ":" + (sec < 10 ? "0" : "") + sec.toFixed(dec) : t.toFixed(dec) + " s";
      if (x < w - 30) ctx.fillText(label, x - 12, h - 3);
    }
  }
}

function setView(t0) {
  const d = S.info.duration;
  S.view.width = Math.min(S.view.width, d);
  S.view.t0 = Math.max(0, Math.min(t0, d - S.view.width));
  loadTrace();
}

let traceSeq = 0;
async function loadTrace() {
  const cv = $("#trace");
  const t0 = S.view.t0, t1 = t0 + S.view.width;
  const seq = ++traceSeq;
  const n = Math.min(4000, Math.max(200, Math.round(cv.clientWidth)));
  const data = await api(`/api/trace?t0=${t0}&t1=${t1}&n=${n}`);
  if (seq !== traceSeq) return;
  S.trace = data;
  drawTrace();
  drawOverview();
}

function drawTrace() {
  if (!S.trace) return;
  const cv = $("#trace");
  const rows = S.rows.filter((r) => r.onset + (r.duration || 0) >= S.trace.t0 &&
    r.onset <= S.trace.t1);
  plot(cv, S.trace, rows);
  cv.dataset.t0 = S.trace.t0;
  cv.dataset.t1 = S.trace.t1;
  cv.dataset.left = 86;
  cv.dataset.right = 4;
}

function drawOverview() {
  const cv = $("#overview");
  const [ctx, w, h] = fit(cv);
  const d = S.info.duration;
  const X = (t) => (t / d) * w;
  ctx.clearRect(0, 0, w, h);
  for (const an of S.info.annotations) {
    if (an.duration > 0) { ctx.fillStyle = "#eef3fa"; ctx.fillRect(X(an.onset), 0, Math.max(1, X(an.duration)), h); }
  }
  for (const r of S.rows) {
    ctx.fillStyle = rowColor(r);
    ctx.globalAlpha = r.review_status === null ? 0.45 : 1;
    ctx.fillRect(X(r.onset), r.trial_type === "twitch" ? 3 : 13, 2, 10);
  }
  ctx.globalAlpha = 1;
  ctx.strokeStyle = "#f4a300"; ctx.lineWidth = 2;
  ctx.strokeRect(X(S.view.t0), 1, Math.max(3, X(S.view.width)), h - 2);
}

// -- trace interaction --------------------------------------------------------------------
function timeAt(ev) {
  const cv = $("#trace"), rect = cv.getBoundingClientRect();
  const left = 86, pw = rect.width - left - 4;
  const t = S.trace.t0 + ((ev.clientX - rect.left - left) / pw) * (S.trace.t1 - S.trace.t0);
  return Math.max(0, Math.min(S.info.duration, t));
}
function onsetNear(ev) {
  const cv = $("#trace"), rect = cv.getBoundingClientRect();
  const pxPerS = (rect.width - 90) / (S.trace.t1 - S.trace.t0);
  const t = timeAt(ev);
  let best = null, bd = 6 / pxPerS;
  for (const r of S.rows) {
    const dd = Math.abs(r.onset - t);
    if (dd < bd && r.trial_type !== "look-alike" && r.trial_type !== "contraction") { best = r; bd = dd; }
  }
  return best;
}
function rowAt(t) {
  let best = null;
  for (const r of S.rows) {
    if (t >= r.onset - 0.02 && t <= r.onset + Math.max(r.duration || 0, 0.02) + 0.02) {
      if (!best || (r.duration || 0) < (best.duration || 0)) best = r;
    }
  }
  return best;
}

function setMode(m) {
  S.mode = m;
  document.querySelectorAll("button.mode").forEach((b) =>
    b.classList.toggle("on", b.dataset.mode === m));
  $("#trace").className = m === "select" ? "select" : "";
  document.body.dataset.mode = m;
}

function installTrace() {
  const cv = $("#trace");
  cv.addEventListener("mousemove", (ev) => {
    if (!S.trace) return;
    const t = timeAt(ev);
    $("#hover").textContent = "cursor " + t.toFixed(3) + " s";
    if (S.drag) { S.drag.t = t; S.drag.moved = true; drawTrace(); drawDragLine(t); return; }
    if (S.mode === "select") cv.style.cursor = onsetNear(ev) ? "ew-resize" : "default";
    else cv.style.cursor = "crosshair";
  });
  cv.addEventListener("mousedown", (ev) => {
    if (!S.trace || S.mode !== "select") return;
    const r = onsetNear(ev);
    if (r) { S.drag = { id: r.candidate, t: r.onset, moved: false }; ev.preventDefault(); }
  });
  window.addEventListener("mouseup", async (ev) => {
    if (!S.drag) return;
    const d = S.drag;
    S.drag = null;
    select(d.id, false);
    if (d.moved) await decide("move", Math.round(timeAt(ev) * S.info.sfreq) / S.info.sfreq);
  });
  cv.addEventListener("click", async (ev) => {
    if (!S.trace) return;
    const t = Math.round(timeAt(ev) * S.info.sfreq) / S.info.sfreq;
    const m = S.mode;
    if (m === "twitch" || m === "needle in" || m === "needle out") {
      setMode("select");
      await add(m, t);
    } else if (m === "move") {
      setMode("select");
      if (S.current) await decide("move", t);
    } else {
      const r = rowAt(t);
      if (r) select(r.candidate, false);
    }
  });
  $("#overview").addEventListener("click", (ev) => {
    const rect = ev.target.getBoundingClientRect();
    const t = ((ev.clientX - rect.left) / rect.width) * S.info.duration;
    setView(t - S.view.width / 2);
  });
  cv.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    setView(S.view.t0 + Math.sign(ev.deltaY || ev.deltaX) * S.view.width * 0.2);
  }, { passive: false });
}

function drawDragLine(t) {
  const cv = $("#trace");
  const ctx = cv.getContext("2d");
  const w = cv.clientWidth, x = 86 + ((t - S.trace.t0) / (S.trace.t1 - S.trace.t0)) * (w - 90);
  ctx.strokeStyle = "#f4a300"; ctx.lineWidth = 2;
  ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, cv.clientHeight - 18); ctx.stroke();
}

// -- keyboard and start -------------------------------------------------------------------
function installKeys() {
  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.target.tagName === "SELECT") return;
    const k = ev.key;
    const acts = {
      j: () => step(+1), ArrowDown: () => step(+1), k: () => step(-1), ArrowUp: () => step(-1),
      n: () => step(+1, true), a: () => decide("accept"), r: () => decide("reject"),
      u: () => decide("reset"), t: () => setMode("twitch"), i: () => setMode("needle in"),
      o: () => setMode("needle out"), m: () => setMode("move"), Escape: () => setMode("select"),
      "[": () => setView(S.view.t0 - S.view.width / 2),
      "]": () => setView(S.view.t0 + S.view.width / 2),
    };
    if (acts[k]) { ev.preventDefault(); acts[k](); }
  });
  document.querySelectorAll("button.mode").forEach((b) =>
    b.addEventListener("click", () => setMode(b.dataset.mode)));
  document.querySelectorAll("button.filter").forEach((b) => b.addEventListener("click", () => {
    document.querySelectorAll("button.filter").forEach((x) => x.classList.remove("on"));
    b.classList.add("on");
    S.filter = b.dataset.filter;
    buildGallery();
  }));
  $("#prev-win").addEventListener("click", () => setView(S.view.t0 - S.view.width / 2));
  $("#next-win").addEventListener("click", () => setView(S.view.t0 + S.view.width / 2));
  $("#width").addEventListener("change", (ev) => {
    const c = S.view.t0 + S.view.width / 2;
    S.view.width = Number(ev.target.value);
    setView(c - S.view.width / 2);
  });
  window.addEventListener("resize", () => { drawTrace(); drawOverview(); });
}

async function start() {
  installKeys();
  installTrace();
  setMode("select");
  S.info = await api("/api/session");
  S.rows = S.info.rows;
  S.byId = Object.fromEntries(S.rows.map((r) => [r.candidate, r]));
  sortRows();
  $("#file").textContent = S.info.name + " · " + clock(S.info.duration) + " · " +
    S.info.sfreq + " Hz · reviewer " + S.info.reviewer;
  document.title = "ltr review · " + S.info.name;
  showProgress();
  $("#trace").style.height = Math.min(560, Math.max(240, 150 * S.info.channels.length)) + "px";
  buildGallery();
  const first = S.rows.find((r) => r.review_status === null) || S.rows[0];
  if (first) select(first.candidate); else setView(0);
  setInterval(() => { fetch("/api/ping").catch(() => {}); }, 20000);
  document.body.dataset.ready = "1";
}
window.ltrReview = S;
start();
