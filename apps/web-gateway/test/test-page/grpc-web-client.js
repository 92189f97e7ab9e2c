// A minimal gRPC-web (binary) client for the gateway's browser tests: fetch with the 5-byte frames,
// response frames read as they arrive. Bytes cross to the test as base64.
(function () {
  'use strict';
  const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const toBase64 = (bytes) => {
    let out = '';
    for (let i = 0; i < bytes.length; i += 0x8000) out += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(out);
  };
  const frame = (message) => {
    const out = new Uint8Array(5 + message.length);
    new DataView(out.buffer).setUint32(1, message.length);
    out.set(message, 5);
    return out;
  };
  const headersOf = (token) => ({
    'content-type': 'application/grpc-web+proto',
    'x-grpc-web': '1',
    ...(token ? { authorization: 'Bearer ' + token } : {}),
  });
  function parseFrames(state, chunk) {
    const joined = new Uint8Array(state.pending.length + chunk.length);
    joined.set(state.pending);
    joined.set(chunk, state.pending.length);
    let offset = 0;
    while (joined.length - offset >= 5) {
      const length = new DataView(joined.buffer, joined.byteOffset + offset + 1, 4).getUint32(0);
      if (joined.length - offset < 5 + length) break;
      state.frames.push({ flag: joined[offset], payload: toBase64(joined.subarray(offset + 5, offset + 5 + length)) });
      offset += 5 + length;
    }
    state.pending = joined.subarray(offset);
  }
  const streams = [];
  window.grpcWeb = {
    /** Opens a call; returns its index. Frames are collected in the background until the response ends. */
    open(path, messageBase64, token) {
      const controller = new AbortController();
      const state = {
        status: 0,
        headers: {},
        frames: [],
        pending: new Uint8Array(0),
        done: false,
        error: null,
        controller,
        paused: false,
      };
      streams.push(state);
      (async () => {
        try {
          const response = await fetch(path, {
            method: 'POST',
            headers: headersOf(token),
            body: frame(fromBase64(messageBase64)),
            signal: controller.signal,
          });
          state.status = response.status;
          response.headers.forEach((value, name) => (state.headers[name] = value));
          const reader = response.body.getReader();
          for (;;) {
            while (state.paused) await new Promise((resolve) => setTimeout(resolve, 20));
            const { value, done } = await reader.read();
            if (done) break;
            parseFrames(state, value);
          }
        } catch (error) {
          state.error = String(error && error.name);
        } finally {
          state.done = true;
        }
      })();
      return streams.length - 1;
    },
    /** What a call received so far. */
    read(index) {
      const { status, headers, frames, done, error } = streams[index];
      return { status, headers, frames, done, error };
    },
    /** Stops reading (the response stays open; the connection's buffers fill). */
    pause(index) {
      streams[index].paused = true;
    },
    resume(index) {
      streams[index].paused = false;
    },
    /** Aborts the fetch, as a closed tab or a desktop's reconnect does. */
    abort(index) {
      streams[index].controller.abort();
    },
    /** A unary call, answered whole. */
    async unary(path, messageBase64, token) {
      const index = window.grpcWeb.open(path, messageBase64, token);
      while (!streams[index].done) await new Promise((resolve) => setTimeout(resolve, 10));
      return window.grpcWeb.read(index);
    },
    /** An upload through the gateway's upload endpoint. */
    async upload(url, bodyBase64, token, contentType) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': contentType, ...(token ? { authorization: 'Bearer ' + token } : {}) },
        body: fromBase64(bodyBase64),
      });
      return { status: response.status, body: await response.text() };
    },
  };
  document.addEventListener('DOMContentLoaded', () => {
    document.getElementById('status').textContent = 'ready';
  });
})();
