// Call list: filters -> /supervisor/api/calls; each row opens the call's page. Agent performance below.
"use strict";

const $ = (id) => document.getElementById(id);
const dash = (value) => (value === null || value === undefined || value === "" ? "-" : String(value));
const seconds = (value) => (value === null || value === undefined ? "-" : `${Math.round(value)} s`);
const when = (epoch) => new Date(epoch * 1000).toISOString().slice(0, 16).replace("T", " ");

function cellRow(values) {
  const row = document.createElement("tr");
  for (const value of values) {
    const cell = document.createElement("td");
    if (value instanceof Node) cell.appendChild(value); else cell.textContent = value;
    row.appendChild(cell);
  }
  return row;
}

function query() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData($("filters"))) if (value) params.set(name, value);
  return params;
}

async function search() {
  const params = query();
  history.replaceState(null, "", `?${params}`);
  const response = await fetch(`/supervisor/api/calls?${params}`);
  if (!response.ok) { $("count").textContent = await response.text(); return; }
  const { calls } = await response.json();
  $("count").textContent = `${calls.length} call${calls.length === 1 ? "" : "s"}`;
  $("call-rows").replaceChildren(...calls.map((call) => {
    const link = document.createElement("a");
    link.href = `/supervisor/calls/${encodeURIComponent(call.id)}`;
    link.textContent = when(call.started_at);
    const row = cellRow([link, dash(call.caller), call.channel, seconds(call.seconds), call.intents.join(", "),
      call.outcome, dash(call.queue), dash(call.agent_id), dash(call.qa_score), call.qa_flags.join(" ")]);
    row.className = "call";
    if (call.qa_flags.length) row.classList.add("flagged");
    return row;
  }));
}

async function agents() {
  const response = await fetch("/supervisor/api/agents");
  if (!response.ok) return;
  const { agents: rows } = await response.json();
  $("agent-rows").replaceChildren(...rows.map((a) => cellRow([a.agent_id, String(a.calls_handled),
    seconds(a.aht_seconds), seconds(a.talk_seconds), seconds(a.wrap_up_seconds), dash(a.qa_score),
    a.qa_by_day.map((d) => `${d.day.slice(5)}: ${d.qa_score}`).join(" | "), String(a.reviews),
    dash(a.review_score)])));
}

helplineSession.load().then((me) => {
  if (!me) return;
  $("sign-out").addEventListener("click", () => helplineSession.signOut());
  const form = $("filters");
  for (const [name, value] of new URLSearchParams(location.search)) {
    const field = form.elements.namedItem(name);
    if (field && field.type === "checkbox") field.checked = value === "1"; else if (field) field.value = value;
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); search(); });
  search();
  agents();
});
