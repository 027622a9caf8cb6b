// Editor page: model versions, turns to learn from, one-step training examples, rollback.
// Every caller text is rendered with textContent; writes go through helplineSession.post (CSRF header).
"use strict";

const $ = (id) => document.getElementById(id);
const when = (seconds) => new Date(seconds * 1000).toLocaleString();
let intents = [];
let polling = null;

function cell(row, value, className) {
  const td = document.createElement("td");
  if (value instanceof Node) td.appendChild(value); else td.textContent = value ?? "";
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function button(label, onClick) {
  const b = document.createElement("button");
  b.type = "button"; b.textContent = label; b.addEventListener("click", onClick);
  return b;
}

function describeChange(version) {
  const change = version.results.change;
  if (change && change.kind === "example") return `${change.by} added "${change.text}" to ${change.intent}`;
  return version.source;
}

function describeTests(tests) {
  if (!tests) return "-";
  const failed = tests.failed.map((f) => f.story).join(", ");
  return `${tests.passed}/${tests.total} passed` + (failed ? ` (failed: ${failed})` : "");
}

async function loadVersions() {
  const response = await fetch("/models");
  if (!response.ok) return;
  const listing = await response.json();
  $("versions").replaceChildren(...listing.versions.map((v) => {
    const row = document.createElement("tr");
    row.dataset.version = v.version;
    if (v.active) row.className = "active-version";
    const validation = v.results.validation;
    const training = v.results.training;
    cell(row, v.version);
    cell(row, when(v.trained_at));
    cell(row, describeChange(v));
    cell(row, validation ? `${validation.errors} errors, ${validation.warnings} warnings` : "-");
    cell(row, training ? `${training.seconds} s, ${training.examples} examples, ${training.intents} intents` : "-");
    cell(row, describeTests(v.results.tests), v.results.tests && v.results.tests.failed.length ? "failed" : "");
    cell(row, v.active ? "active" : (v.refused ? `refused: ${v.refused}` : ""), v.refused ? "failed" : "");
    cell(row, v.active ? "" : button(v.refused ? "Activate anyway" : "Activate", () => activate(v.version)));
    return row;
  }));
}

async function loadTurns() {
  const response = await fetch("/editor/api/turns");
  if (!response.ok) return;
  const data = await response.json();
  intents = data.intents;
  $("turns").replaceChildren(...data.turns.map((turn) => {
    const row = document.createElement("tr");
    row.dataset.text = turn.text;
    const select = document.createElement("select");
    const suggested = turn.suggestions.map((s) => s.name).filter((name) => intents.includes(name));
    for (const name of [...suggested, ...intents.filter((n) => !suggested.includes(n))]) {
      const option = document.createElement("option");
      option.value = name; option.textContent = name;
      select.appendChild(option);
    }
    cell(row, turn.text, "text");
    const confidence = turn.confidence === null ? "" : ` (${turn.intent} ${turn.confidence.toFixed(2)})`;
    cell(row, turn.reason + confidence);
    cell(row, String(turn.count));
    cell(row, when(turn.at));
    cell(row, select);
    cell(row, button("Add", () => addExample(turn.text, select.value)));
    return row;
  }));
}

function showJob(job) {
  const problems = (job.result && job.result.errors) || [];
  if (job.state === "live") {
    $("job").textContent = `Live: "${job.change.text}" is an example of ${job.change.intent}; ` +
      `version ${job.result.version || "unchanged"} serves (${describeTests(job.result.tests)}).`;
    $("job").className = "live";
  } else if (job.state === "refused") {
    $("job").textContent = `Not swapped in: "${job.change.text}" as ${job.change.intent}. The example was taken back.`;
    $("job").className = "failed";
  } else {
    const count = job.total > 1 ? ` ${job.done}/${job.total}` : "";
    $("job").textContent = `Adding "${job.change.text}" to ${job.change.intent}: ${job.stage}${count}`;
    $("job").className = "";
  }
  $("job-problems").replaceChildren(...problems.map((text) => {
    const li = document.createElement("li"); li.textContent = text; return li;
  }));
}

async function addExample(text, intent) {
  const response = await helplineSession.post("/editor/api/examples", { text, intent });
  const body = await response.json();
  if (!response.ok) {
    $("job").textContent = body.message; $("job").className = "failed";
    $("job-problems").replaceChildren();
    return;
  }
  clearInterval(polling);
  polling = setInterval(async () => {
    const job = await (await fetch(`/editor/api/jobs/${encodeURIComponent(body.job)}`)).json();
    showJob(job);
    if (job.state === "live" || job.state === "refused") {
      clearInterval(polling);
      await Promise.all([loadVersions(), loadTurns()]);
    }
  }, 1000);
}

async function activate(version) {
  const response = await helplineSession.post(`/models/${encodeURIComponent(version)}/activate`);
  const body = await response.json();
  $("job").textContent = response.ok ? `Version ${body.version} is active.` : body.message;
  $("job").className = response.ok ? "live" : "failed";
  $("job-problems").replaceChildren();
  await loadVersions();
}

async function understand(event) {
  event.preventDefault();
  const text = $("try-text").value.trim();
  if (!text) return;
  const response = await helplineSession.post("/model/parse", { text });
  const result = await response.json();
  if (!response.ok) { $("try-result").textContent = result.message; return; }
  const strong = document.createElement("strong");
  strong.textContent = result.intent.name;
  strong.id = "try-intent";
  const ranking = (result.intent_ranking || []).slice(0, 3)
    .map((r) => `${r.name} ${r.confidence.toFixed(2)}`).join(", ");
  $("try-result").replaceChildren(strong, ` confidence ${result.intent.confidence.toFixed(2)} (${ranking})`);
}

helplineSession.load().then((me) => {
  if (!me) return;
  $("who").textContent = me.name || me.user;
  $("sign-out").addEventListener("click", () => helplineSession.signOut());
  $("try-form").addEventListener("submit", understand);
  loadVersions();
  loadTurns();
});
