// Call audio for the desk and supervisor pages: play the PCM16 frames a WebSocket brings, send the microphone.
// Frames are mono PCM16 little-endian; the microphone goes up at 16 kHz, as the bridge expects.
"use strict";

window.helplineAudio = {
  // A player; `stats` (bytes, frames, level of the last frame, peak) is what the browser tests read.
  player(stats) {
    const state = { context: null, playAt: 0 };
    const player = {
      sampleRate: 8000,
      start() {
        if (!state.context) state.context = new AudioContext();
        return state.context;
      },
      // Plays one frame; returns its level (RMS, 0..1).
      play(buffer) {
        const samples = new Int16Array(buffer);
        const floats = new Float32Array(samples.length);
        let sum = 0, peak = 0;
        for (let i = 0; i < samples.length; i++) {
          const value = samples[i] / 32768;
          floats[i] = value;
          sum += value * value;
          peak = Math.max(peak, Math.abs(value));
        }
        const level = samples.length ? Math.sqrt(sum / samples.length) : 0;
        stats.bytes += buffer.byteLength; stats.frames += 1; stats.level = level; stats.peak = Math.max(stats.peak, peak);
        if (!floats.length) return level;
        const context = player.start();
        const audio = context.createBuffer(1, floats.length, player.sampleRate);
        audio.copyToChannel(floats, 0);
        const source = context.createBufferSource();
        source.buffer = audio;
        source.connect(context.destination);
        state.playAt = Math.max(state.playAt, context.currentTime + 0.05);
        source.start(state.playAt);
        state.playAt += audio.duration;
        return level;
      },
    };
    return player;
  },

  // Starts the microphone (when the browser grants it): `send(arrayBuffer)` gets each PCM16 frame at 16 kHz.
  // Resolves to { stop() }; rejects when there is no microphone.
  async microphone(send) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error("no microphone API");
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const context = new AudioContext({ sampleRate: 16000 });
    const source = context.createMediaStreamSource(stream);
    const processor = context.createScriptProcessor(2048, 1, 1);
    processor.onaudioprocess = (event) => {
      const input = event.inputBuffer.getChannelData(0);
      const pcm = new Int16Array(input.length);
      for (let i = 0; i < input.length; i++) pcm[i] = Math.max(-1, Math.min(1, input[i])) * 32767;
      send(pcm.buffer);
    };
    source.connect(processor);
    processor.connect(context.destination);
    return {
      stop() {
        stream.getTracks().forEach((track) => track.stop());
        context.close();
      },
    };
  },
};
