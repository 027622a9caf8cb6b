// Agent desk: log in, keep one WebSocket to the ACD, show offers with the bot's summary, bridge audio.
// Caller audio arrives as binary PCM16 frames; it is played through Web Audio and measured
// (window.deskAudio holds bytes and level, which the browser test reads). A supervisor on the call
// (listening, whispering or barged in) is shown above the call.
"use strict";

const $ = (id) => document.getElementById(id);
const desk = { socket: null, offer: null, call: null, microphone: null };
window.deskAudio = { bytes: 0, frames: 0, level: 0, peak: 0 };
const player = helplineAudio.player(window.deskAudio);
const SUPERVISOR_DOING = { listen: "is listening", whisper: "is whispering to you", barge: "is on the call" };

async function start() {
  const me = await helplineSession.load();
  if (!me) return;
  $("who").textContent = me.name;
  $("sign-out").addEventListener("click", () => helplineSession.signOut());
  connect();
  refreshQueue();
  setInterval(refreshQueue, 2000);
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/desk/ws`);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (message) => {
    if (message.data instanceof ArrayBuffer) { callerAudio(message.data); return; }
    handle(JSON.parse(message.data));
  };
  socket.onclose = () => { $("status-line").textContent = "Disconnected from the desk server."; };
  desk.socket = socket;
  setInterval(() => send({ type: "ping" }), 5000);
}

function send(command) {
  if (desk.socket && desk.socket.readyState === WebSocket.OPEN) desk.socket.send(JSON.stringify(command));
}

function handle(event) {
  switch (event.type) {
    case "hello":
      $("transfer-queue").replaceChildren(...event.queues.map((q) => new Option(q, q)));
      showState(event.agent.state);
      break;
    case "ack": showState(event.agent.state); break;
    case "state": showState(event.state); break;
    case "offer": showOffer(event.call); break;
    case "offer_withdrawn":
      if (desk.offer && desk.offer.id === event.call_id) { desk.offer = null; $("offer-panel").hidden = true; }
      break;
    case "call": startCall(event.call); break;
    case "connected": break;
    case "call_ended": endCall("The caller hung up."); break;
    case "audio_format": player.sampleRate = event.sample_rate; break;
    case "supervisor": showSupervisor(event); break;
    case "error": $("status-line").textContent = event.error; break;
  }
}

function showState(state) {
  $("state-label").textContent = state;
  document.body.dataset.state = state;
}

function showSupervisor(event) {
  const line = $("supervisor-line");
  const onThisCall = event.mode && desk.call && desk.call.id === event.call_id;
  line.hidden = !onThisCall;
  line.textContent = onThisCall ? `Supervisor ${event.name} ${SUPERVISOR_DOING[event.mode] || ""}` : "";
  line.dataset.mode = onThisCall ? event.mode : "";
}

function showOffer(call) {
  desk.offer = call;
  const summary = call.summary || {};
  $("offer-queue").textContent = `(${call.queue})`;
  $("summary-reason").textContent = call.reason;
  $("summary-intents").textContent = (summary.intents || []).join(", ");
  $("summary-text").textContent = summary.text || "";
  $("summary-slots").replaceChildren(...Object.entries(summary.slots || {}).flatMap(([name, value]) => {
    const dt = document.createElement("dt"); dt.textContent = name;
    const dd = document.createElement("dd"); dd.textContent = String(value); dd.dataset.slot = name;
    return [dt, dd];
  }));
  $("summary-transcript").replaceChildren(...(summary.transcript || []).map((line) => {
    const li = document.createElement("li"); li.textContent = `${line.speaker}: ${line.text}`; return li;
  }));
  $("offer-panel").hidden = false;
}

$("accept").addEventListener("click", () => {
  if (!desk.offer) return;
  player.start();
  send({ type: "accept", call_id: desk.offer.id });
});
$("decline").addEventListener("click", () => {
  if (desk.offer) send({ type: "decline", call_id: desk.offer.id });
  $("offer-panel").hidden = true;
});
document.querySelectorAll("button[data-state]").forEach((button) =>
  button.addEventListener("click", () => send({ type: "state", state: button.dataset.state })));
$("save-note").addEventListener("click", () => {
  send({ type: "note", text: $("note").value });
  $("note").value = "";
});
$("transfer").addEventListener("click", () => {
  send({ type: "transfer", queue: $("transfer-queue").value, note: $("note").value });
  endCall("Transferred.");
});
$("hangup").addEventListener("click", () => { send({ type: "hangup" }); endCall("Call ended."); });

function startCall(call) {
  desk.call = call;
  desk.offer = null;
  $("offer-panel").hidden = true;
  $("call-id").textContent = call.id;
  $("call-panel").hidden = false;
  startMicrophone();
}

function endCall(text) {
  desk.call = null;
  $("call-panel").hidden = true;
  showSupervisor({ mode: null });
  $("status-line").textContent = text;
  stopMicrophone();
}

// --- audio -------------------------------------------------------------------------
function callerAudio(buffer) {
  const level = player.play(buffer);
  $("level").value = Math.min(1, level * 4);
  $("audio-bytes").textContent = String(window.deskAudio.bytes);
}

// The agent's microphone goes to the caller (when the browser grants it).
async function startMicrophone() {
  try {
    desk.microphone = await helplineAudio.microphone((pcm) => {
      if (desk.call && desk.socket.readyState === WebSocket.OPEN) desk.socket.send(pcm);
    });
  } catch (error) {
    $("status-line").textContent = `Microphone unavailable: ${error.message}`;
  }
}

function stopMicrophone() {
  if (!desk.microphone) return;
  desk.microphone.stop();
  desk.microphone = null;
}

async function refreshQueue() {
  const response = await fetch("/desk/api/queues");
  if (!response.ok) return;
  const calls = await response.json();
  $("queue-body").replaceChildren(...calls.map((call) => {
    const row = document.createElement("tr");
    for (const value of [call.id, call.queue, call.reason, `${Math.round(call.waited)} s`]) {
      const cell = document.createElement("td"); cell.textContent = value; row.appendChild(cell);
    }
    return row;
  }));
}

start();
