// Reports page: asks /supervisor/api/report for the chosen window and draws it with Chart.js.
"use strict";

const $ = (id) => document.getElementById(id);
const charts = {};
const COLORS = { calls: "#8da9c4", handled: "#2e7d32", abandoned: "#c62828", level: "#1f3a5f", asa: "#e08a00",
  aht: "#6a1b9a", offered: "#1f77b4", needed: "#8da9c4", rostered: "#1f3a5f", signed: "#e08a00" };
const PERIOD_AXIS = { hour: "hour starting", day: "day", week: "ISO week" };
const percent = (value) => (value === null ? null : Math.round(value * 1000) / 10);

function axis(title, extra = {}) {
  return { title: { display: true, text: title, font: { weight: "bold" } }, ...extra };
}

function draw(id, type, labels, datasets, scales) {
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart($(id), {
    type, data: { labels, datasets },
    options: { animation: false, responsive: true, maintainAspectRatio: false, interaction: { mode: "index" },
      plugins: { legend: { position: "bottom" } }, scales },
  });
}

function bar(label, data, color, extra = {}) {
  return { type: "bar", label, data, backgroundColor: color, borderColor: color, ...extra };
}

function line(label, data, color, extra = {}) {
  return { type: "line", label, data, borderColor: color, backgroundColor: color, tension: 0.2, spanGaps: true,
    ...extra };
}

function drawAll(report) {
  const by = report.window.by;
  const periods = report.periods.map((row) => row.period);
  const pick = (rows, name) => rows.map((row) => row[name]);
  draw("chart-trend", "bar", periods, [
    bar("All calls", pick(report.periods, "calls"), COLORS.calls),
    bar("Handled by agents", pick(report.periods, "handled"), COLORS.handled),
    bar("Abandoned in queue", pick(report.periods, "abandoned"), COLORS.abandoned),
    line("Service level (%)", report.periods.map((row) => percent(row.service_level)), COLORS.level,
      { yAxisID: "level" }),
  ], { x: axis(PERIOD_AXIS[by]), y: axis("calls", { beginAtZero: true }),
    level: axis("service level (%)", { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } }) });
  draw("chart-times", "line", periods, [
    line("ASA: average wait to answer (s)", pick(report.periods, "asa_seconds"), COLORS.asa),
    line("AHT: talk + wrap-up (s)", pick(report.periods, "aht_seconds"), COLORS.aht),
  ], { x: axis(PERIOD_AXIS[by]), y: axis("seconds", { beginAtZero: true }) });
  const hours = report.hour_of_day.map((row) => `${String(row.hour).padStart(2, "0")}:00`);
  draw("chart-hours", "bar", hours, [
    bar("All calls", pick(report.hour_of_day, "calls_per_day"), COLORS.calls),
    bar("Offered to agents", pick(report.hour_of_day, "offered_per_day"), COLORS.offered),
  ], { x: axis(`hour of day (${report.window.tz})`), y: axis("calls per day", { beginAtZero: true }) });
  draw("chart-days", "bar", report.day_of_week.map((row) => row.day.slice(0, 3)), [
    bar("All calls", pick(report.day_of_week, "calls_per_day"), COLORS.calls),
    bar("Offered to agents", pick(report.day_of_week, "offered_per_day"), COLORS.offered),
  ], { x: axis("day of week"), y: axis("calls per day", { beginAtZero: true }) });
  drawStaff(report, hours);
}

function drawStaff(report, hours) {
  const plan = report.staff_plan;
  const targets = report.window.staff_targets;
  const datasets = [
    bar("Agents needed on the phones", plan.map((row) => row.agents_needed), COLORS.needed),
    line("Agents to roster (with shrinkage)", plan.map((row) => row.agents_rostered), COLORS.rostered,
      { stepped: "middle", tension: 0 }),
  ];
  if (targets.signed_in_known) {
    datasets.push(line("Agents signed in (average)", plan.map((row) => row.signed_in), COLORS.signed,
      { stepped: "middle", tension: 0, borderDash: [6, 4] }));
  }
  draw("chart-staff", "bar", hours, datasets,
    { x: axis(`hour of day (${report.window.tz})`), y: axis("agents", { beginAtZero: true, ticks: { precision: 0 } }) });
  $("staff-note").textContent = `Target ${Math.round(targets.service_level * 100)} % of calls answered within ` +
    `${targets.answer_seconds} s, agents at most ${Math.round(targets.max_occupancy * 100)} % busy, ` +
    `${Math.round(targets.shrinkage * 100)} % shrinkage; calls and handle times are this window's averages.` +
    (targets.signed_in_known ? "" : " No sign-in history in this window: agents signed in are not shown.");
}

function tiles(report) {
  const t = report.totals;
  const seconds = (value) => (value === null ? "-" : `${Math.round(value)} s`);
  const rate = (value) => reportTables.format("rate", value);
  const items = [["Calls", String(t.calls)], ["IVR containment", rate(t.ivr_containment)],
    ["Offered to agents", String(t.offered)], ["Handled", String(t.handled)],
    [`Service level (${report.window.service_level_seconds} s)`, rate(t.service_level)], ["ASA", seconds(t.asa_seconds)],
    ["AHT", seconds(t.aht_seconds)], ["Abandoned", rate(t.abandonment_rate)], ["Callbacks", String(t.callbacks)],
    ["Fallback rate", rate(t.fallback_rate)],
    ["Knowledge answers / misses", `${t.knowledge_answers} / ${t.knowledge_misses}`]];
  $("kpis").replaceChildren(...items.map(([name, value]) => {
    const tile = document.createElement("div"); tile.className = "kpi";
    const strong = document.createElement("strong"); strong.textContent = value;
    tile.append(strong, name); return tile;
  }));
}

function query() {
  const params = { from: $("from").value, to: $("to").value, by: $("by").value };
  if ($("synthetic").checked) params.synthetic = "1";
  return params;
}

async function show(fallBackToDemo) {
  $("status").textContent = "loading...";
  const response = await fetch(`/supervisor/api/report?${new URLSearchParams(query())}`);
  const report = await response.json();
  if (!response.ok) { $("status").textContent = report.error || `error ${response.status}`; return; }
  if (fallBackToDemo && report.totals.calls === 0 && !$("synthetic").checked) {
    $("synthetic").checked = true;  // a new deployment: show the demo data (helpline demo-data) if there is any
    return show(false);
  }
  $("status").textContent = report.window.synthetic ? "Showing synthetic demo calls, not real ones." : "";
  $("status").className = report.window.synthetic ? "banner" : "";
  tiles(report);
  if (window.Chart) drawAll(report);
  else $("status").textContent = "Charts need Chart.js: run scripts/setup.sh (npm ci) on the server.";
  reportTables.render($("tables"), report, query());
  document.body.dataset.ready = `${report.window.from}/${report.window.to}/${report.window.by}`;
}

function isoDay(date) { return date.toISOString().slice(0, 10); }

helplineSession.load().then((me) => {
  if (!me) return;
  $("sign-out").addEventListener("click", () => helplineSession.signOut());
  const tomorrow = new Date(Date.now() + 86400000);
  $("to").value = isoDay(tomorrow);
  $("from").value = isoDay(new Date(tomorrow.getTime() - 28 * 86400000));
  $("window").addEventListener("submit", (event) => { event.preventDefault(); show(false); });
  show(true);
});
