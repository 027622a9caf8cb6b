// Helpline softphone: microphone -> 16 kHz PCM16 frames over /voice/ws, bot audio played as it arrives.
"use strict";
const RATE = 16000;
const FRAME = 320; // 20 ms at 16 kHz
let socket = null, context = null, source = null, processor = null, stream = null;
let playAt = 0, playing = [], pending = new Float32Array(0), partialLine = null;

const $ = (id) => document.getElementById(id);
function status(text) { $("status").textContent = text; document.body.dataset.status = text; }

function line(speaker, text, partial) {
  if (partialLine && (speaker !== "caller" || !partial)) { partialLine.remove(); partialLine = null; }
  const p = document.createElement("p");
  p.className = speaker + (partial ? " partial" : "");
  p.textContent = (speaker === "bot" ? "Bot: " : "You: ") + text;
  $("log").appendChild(p);
  if (partial) partialLine = p;
}

function downsample(input, fromRate) {
  // Average over each output sample's span of input samples (a simple anti-aliasing low-pass).
  const ratio = fromRate / RATE, out = new Float32Array(Math.floor(input.length / ratio));
  for (let i = 0; i < out.length; i++) {
    const start = Math.floor(i * ratio), end = Math.max(start + 1, Math.floor((i + 1) * ratio));
    let sum = 0;
    for (let j = start; j < end; j++) sum += input[j];
    out[i] = sum / (end - start);
  }
  return out;
}

function sendAudio(samples) {
  const joined = new Float32Array(pending.length + samples.length);
  joined.set(pending); joined.set(samples, pending.length);
  let offset = 0;
  while (joined.length - offset >= FRAME) {
    const pcm = new Int16Array(FRAME);
    for (let i = 0; i < FRAME; i++) pcm[i] = Math.max(-1, Math.min(1, joined[offset + i])) * 32767;
    socket.send(pcm.buffer);
    offset += FRAME;
  }
  pending = joined.slice(offset);
}

function playBotAudio(buffer) {
  const pcm = new Int16Array(buffer), audio = context.createBuffer(1, pcm.length, RATE);
  const channel = audio.getChannelData(0);
  for (let i = 0; i < pcm.length; i++) channel[i] = pcm[i] / 32768;
  const node = context.createBufferSource();
  node.buffer = audio; node.connect(context.destination);
  playAt = Math.max(playAt, context.currentTime);
  node.start(playAt); playAt += audio.duration;
  playing.push(node); node.onended = () => { playing = playing.filter((n) => n !== node); };
  document.body.dataset.botAudio = String(Number(document.body.dataset.botAudio || 0) + pcm.length);
}

function clearPlayback() {  // barge-in: the gateway asks us to drop what is queued
  playing.forEach((node) => node.stop()); playing = []; playAt = 0;
}

async function call() {
  stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
  context = new AudioContext();
  // A short-lived voice token says who calls (admins and editors may test as a caller number).
  if (!helplineSession.me) await helplineSession.load();
  const caller = new URLSearchParams(location.search).get("caller");
  const grant = await (await helplineSession.post("/voice/token", caller ? { caller_number: caller } : {})).json();
  socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/voice/ws?token=" + encodeURIComponent(grant.token));
  socket.binaryType = "arraybuffer";
  socket.onopen = () => {
    socket.send(JSON.stringify({ event: "start", sample_rate: RATE }));
    source = context.createMediaStreamSource(stream);
    processor = context.createScriptProcessor(2048, 1, 1);
    processor.onaudioprocess = (e) => { if (socket.readyState === 1) sendAudio(downsample(e.inputBuffer.getChannelData(0), context.sampleRate)); };
    source.connect(processor); processor.connect(context.destination);
    status("in call"); $("call").textContent = "Hang up";
  };
  socket.onmessage = (e) => {
    if (typeof e.data !== "string") return playBotAudio(e.data);
    const data = JSON.parse(e.data);
    if (data.event === "clear") clearPlayback();
    else if (data.event === "transcript") line(data.speaker, data.text, !data.final);
    else if (data.event === "hangup") status("call ended: " + data.reason);
  };
  socket.onclose = (e) => { hangUp(); if (!document.body.dataset.status.startsWith("call ended")) status("call ended: " + (e.reason || "closed")); };
}

function hangUp() {
  if (socket && socket.readyState === 1) { socket.send(JSON.stringify({ event: "stop" })); socket.close(); }
  if (processor) processor.disconnect();
  if (source) source.disconnect();
  if (stream) stream.getTracks().forEach((t) => t.stop());
  socket = processor = source = stream = null;
  $("call").textContent = "Call";
}

$("call").onclick = () => (socket ? hangUp() : call().catch((err) => status("error: " + err.message)));
for (const key of "123456789*0#") {
  const button = document.createElement("button");
  button.textContent = key;
  button.onclick = () => socket && socket.send(JSON.stringify({ event: "dtmf", digit: key }));
  $("keypad").appendChild(button);
}
status("idle");
