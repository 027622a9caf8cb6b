// One call: the recording with its transcript following the audio, the bot's decisions, summary, notes, reviews.
"use strict";

const $ = (id) => document.getElementById(id);
const callId = decodeURIComponent(location.pathname.split("/").pop());
const api = `/supervisor/api/calls/${encodeURIComponent(callId)}`;
const clock = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
const LABELS = { greeting: "Greeting given", verified_first: "Identity verified before account data",
  resolved: "Resolved without escalation", silence: "No long silences", talk_over: "No talk-over",
  sentiment: "Caller's mood held or improved" };

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function facts(target, pairs) {
  $(target).replaceChildren(...pairs.flatMap(([name, value]) => [element("dt", name), element("dd", value)]));
}

function decisions(turn) {
  const parts = [];
  if (turn.intent) parts.push(`${turn.intent}${turn.confidence !== null ? ` (${turn.confidence.toFixed(2)})` : ""}`);
  if (turn.actions.length) parts.push(`→ ${turn.actions.join(", ")}`);
  if (turn.article) parts.push(`article ${turn.article}`);
  if (turn.knowledge && !turn.article) parts.push(`knowledge ${turn.knowledge}`);
  if (turn.fallback) parts.push("fallback");
  if (turn.barge_in) parts.push("barge-in");
  if (turn.sensitive) parts.push("sensitive (masked)");
  const slots = Object.entries(turn.slots || {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  if (slots.length) parts.push(`slots ${slots.join(" ")}`);
  return parts.join(" · ");
}

function transcript(call) {
  const player = $("player");
  const rows = call.turns.map((turn) => {
    const row = document.createElement("tr");
    row.className = `line ${turn.speaker}`;
    row.dataset.at = String(turn.at);
    row.append(element("td", clock(turn.at)), element("td", turn.speaker), element("td", turn.text),
      element("td", decisions(turn), "decisions"));
    row.addEventListener("click", () => { player.currentTime = turn.at; player.play(); });
    return row;
  });
  $("lines").replaceChildren(...rows);
  let current = null;
  player.addEventListener("timeupdate", () => {
    const now = player.currentTime;
    let found = null;
    for (const row of rows) if (Number(row.dataset.at) <= now) found = row;
    if (found === current) return;
    if (current) current.classList.remove("current");
    current = found;
    if (current) { current.classList.add("current"); current.scrollIntoView({ block: "nearest" }); }
  });
}

function reviewForm(scorecard, reviews) {
  $("reviews").replaceChildren(...(reviews.length ? reviews : [null]).map((r) => element("li", r
    ? `${new Date(r.at * 1000).toISOString().slice(0, 16).replace("T", " ")} ${r.reviewer}: ${r.score} / 100` +
      `${r.comments ? ` — ${r.comments}` : ""}` : "Not reviewed yet")));
  const box = $("checks");
  box.replaceChildren(element("legend", "Score this call"), ...scorecard.checks.map((check) => {
    const label = element("label", "", "check");
    const input = document.createElement("input");
    input.type = "checkbox"; input.name = check; input.id = `check-${check}`;
    label.append(input, ` ${LABELS[check] || check} (${scorecard.weights[check]})`);
    return label;
  }));
}

async function load() {
  const response = await fetch(api);
  if (!response.ok) { $("title").textContent = "No such call"; return; }
  const { call, audio, reviews, scorecard } = await response.json();
  $("title").textContent = `Call ${call.id}`;
  const started = new Date(call.started_at * 1000).toISOString().slice(0, 19).replace("T", " ");
  facts("facts", [["Started (UTC)", started], ["Caller", call.caller || "-"], ["Channel", call.channel],
    ["Outcome", call.outcome], ["Escalation reason", call.escalation_reason || "-"], ["Queue", call.queue || "-"],
    ["Agent", call.agent_id || "-"],
    ["Wait", call.queued_at && call.answered_at ? `${Math.round(call.answered_at - call.queued_at)} s` : "-"],
    ["Wrap-up", call.wrap_up_seconds !== null ? `${Math.round(call.wrap_up_seconds)} s` : "-"]]);
  if (audio) $("player").src = `${api}/audio`; else { $("player").hidden = true; $("no-audio").hidden = false; }
  transcript(call);
  const summary = call.summary || {};
  facts("summary", Object.entries(summary).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  $("notes").textContent = call.notes || "(none)";
  $("qa").textContent = call.qa_score === null ? "Not scored yet."
    : `Automatic score ${call.qa_score} / 100${call.qa_flags.length ? ` — flags: ${call.qa_flags.join(", ")}` : ""}`;
  reviewForm(scorecard, reviews);
  $("review").onsubmit = async (event) => {
    event.preventDefault();
    const checks = Object.fromEntries(scorecard.checks.map((c) => [c, $(`check-${c}`).checked]));
    const saved = await helplineSession.post(`${api}/reviews`, { checks, comments: $("comments").value });
    $("review-status").textContent = saved.ok ? `Saved: ${(await saved.json()).score} / 100` : "Not saved";
    if (saved.ok) { const again = await (await fetch(api)).json(); reviewForm(scorecard, again.reviews); }
  };
}

helplineSession.load().then((me) => {
  if (!me) return;
  $("sign-out").addEventListener("click", () => helplineSession.signOut());
  load();
});
