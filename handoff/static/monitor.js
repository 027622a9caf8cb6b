// The supervisor's live line (/supervisor/ws): listen to an agent's call, whisper to the agent, or barge in.
// The call's audio (caller and agent mixed) is played and measured in window.supervisorAudio; the
// microphone goes up while whispering or barged in (the server ignores it while listening).
"use strict";

window.supervisorAudio = { bytes: 0, frames: 0, level: 0, peak: 0 };

const supervisorMonitor = (() => {
  const get = (id) => document.getElementById(id);
  const DOING = { listen: "Listening to", whisper: "Whispering to the agent on", barge: "On the call" };
  const line = { socket: null, call: null, agent: null, mode: null, live: false, microphone: null };
  const player = helplineAudio.player(window.supervisorAudio);

  function open() {
    if (line.socket && line.socket.readyState <= WebSocket.OPEN) return line.socket;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/supervisor/ws`);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (message) => {
      if (message.data instanceof ArrayBuffer) {
        get("monitor-level").value = Math.min(1, player.play(message.data) * 4);
        return;
      }
      handle(JSON.parse(message.data));
    };
    socket.onclose = () => { line.socket = null; ended("The monitoring line closed."); };
    line.socket = socket;
    return socket;
  }

  function send(command) {
    const socket = open();
    const go = () => socket.send(JSON.stringify(command));
    if (socket.readyState === WebSocket.OPEN) go(); else socket.addEventListener("open", go, { once: true });
  }

  function handle(event) {
    switch (event.type) {
      case "monitoring":
        line.live = true; line.mode = event.mode;
        show(`${DOING[event.mode]} ${event.call_id} (${line.agent})`);
        break;
      case "monitor_ended": ended(`Monitoring ended: ${event.reason}.`); break;
      case "audio_format": player.sampleRate = event.sample_rate; break;
      case "error": show(event.error); break;
    }
  }

  function show(text) {
    get("monitor-panel").hidden = false;
    get("monitor-status").textContent = text;
    document.body.dataset.monitor = line.live ? line.mode : "";
    document.querySelectorAll("button[data-mode]").forEach((button) => button.classList.toggle("active",
      line.live && button.dataset.call === line.call && button.dataset.mode === line.mode));
  }

  function ended(text) {
    line.live = false; line.mode = null; line.call = null;
    stopMicrophone();
    show(text);
  }

  async function monitor(agent, mode) {
    player.start();  // a click: the browser lets the page play audio from here on
    line.call = agent.current_call; line.agent = agent.name;
    send({ type: "monitor", call_id: agent.current_call, mode });
    if (mode === "listen") stopMicrophone(); else await startMicrophone();
  }

  async function startMicrophone() {
    if (line.microphone) return;
    try {
      line.microphone = await helplineAudio.microphone((pcm) => {
        if (line.live && line.mode !== "listen" && line.socket && line.socket.readyState === WebSocket.OPEN) {
          line.socket.send(pcm);
        }
      });
    } catch (error) {
      show(`Microphone unavailable: ${error.message}`);
    }
  }

  function stopMicrophone() {
    if (!line.microphone) return;
    line.microphone.stop();
    line.microphone = null;
  }

  // The Monitor cell of an agent's row: buttons while the agent is on a call.
  function controls(agent) {
    const cell = document.createElement("td");
    if (agent.state !== "on-call" || !agent.current_call) return cell;
    for (const [mode, label] of [["listen", "Listen"], ["whisper", "Whisper"], ["barge", "Barge in"]]) {
      const button = document.createElement("button");
      button.type = "button"; button.textContent = label;
      button.dataset.mode = mode; button.dataset.agent = agent.id; button.dataset.call = agent.current_call;
      button.classList.toggle("active", line.live && line.call === agent.current_call && line.mode === mode);
      button.addEventListener("click", () => monitor(agent, mode));
      cell.appendChild(button);
    }
    return cell;
  }

  get("monitor-stop").addEventListener("click", () => {
    if (line.socket && line.socket.readyState === WebSocket.OPEN) line.socket.send(JSON.stringify({ type: "stop" }));
    ended("Stopped monitoring.");
  });

  return { controls };
})();
