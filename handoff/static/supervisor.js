// Supervisor page: polls /supervisor/api/stats every two seconds and redraws the tables.
"use strict";

const $ = (id) => document.getElementById(id);
const seconds = (value) => (value === null || value === undefined ? "-" : `${Math.round(value)} s`);
const percent = (value) => (value === null || value === undefined ? "-" : `${Math.round(value * 100)} %`);

function rows(target, items, cells) {
  $(target).replaceChildren(...items.map((item) => {
    const row = document.createElement("tr");
    for (const value of cells(item)) {
      const cell = document.createElement("td"); cell.textContent = value; row.appendChild(cell);
    }
    return row;
  }));
}

async function refresh() {
  const response = await fetch("/supervisor/api/stats");
  if (!response.ok) return;
  const stats = await response.json();
  const k = stats.kpis;
  $("kpi-title").textContent = `Live KPIs (calls started in the last ${Math.round((k.window_end - k.window_start) / 3600)} h)`;
  const tiles = [["Service level", percent(k.service_level)], ["ASA", seconds(k.asa_seconds)],
    ["AHT", seconds(k.aht_seconds)], ["Abandoned", percent(k.abandonment_rate)],
    ["IVR containment", percent(k.ivr_containment)], ["Calls offered", String(k.calls_offered)],
    ["Callbacks pending", String(k.callbacks_pending)]];
  $("kpis").replaceChildren(...tiles.map(([name, value]) => {
    const tile = document.createElement("div"); tile.className = "kpi";
    const strong = document.createElement("strong"); strong.textContent = value;
    tile.append(strong, name); return tile;
  }));
  rows("reasons", Object.entries(k.escalations_by_reason), ([reason, count]) => [reason, String(count)]);
  rows("queues", stats.queues, (q) => [q.name, q.strategy, String(q.waiting), seconds(q.longest_wait),
    seconds(q.estimated_wait), String(q.connected)]);
  rows("agents", stats.agents, (a) => [a.name, a.state, seconds(a.since), String(a.calls_taken), a.current_call || ""]);
  $("by-state").textContent = Object.entries(stats.agents_by_state).map(([s, n]) => `${s}: ${n}`).join(" | ");
  $("alerts").replaceChildren(...(stats.alerts.length ? stats.alerts : ["No alerts"]).map((text) => {
    const li = document.createElement("li"); li.textContent = text;
    if (stats.alerts.length) li.className = "alert";
    return li;
  }));
  $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

helplineSession.load().then((me) => {
  if (!me) return;
  $("sign-out").addEventListener("click", () => helplineSession.signOut());
  refresh();
  setInterval(refresh, 2000);
});
