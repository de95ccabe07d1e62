'use strict';
// The one WebSocket client used for every ws figure (floor and plugin alike), so both sides of a
// ratio pay the same client costs: same `ws` package, same options, text frames, no deflate.
const WebSocket = require('ws');

function connect(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'mcp', { headers, perMessageDeflate: false });
    ws.once('open', () => { ws.off('error', reject); resolve(ws); });
    ws.once('error', reject);
  });
}

/**
 * Strictly sequential request/response on one socket. The receive time is taken inside the
 * 'message' listener, before any promise machinery, for both the floor and the plugin.
 */
class SeqClient {
  constructor(ws) {
    this.ws = ws;
    this.waiter = null;
    ws.on('message', (data) => {
      const t1 = process.hrtime.bigint();
      const w = this.waiter;
      this.waiter = null;
      if (w) w(t1, data);
    });
  }

  /** Send one frame, resolve with { ns, data } when the next frame arrives. */
  roundTrip(frame) {
    return new Promise((resolve) => {
      const t0 = process.hrtime.bigint();
      this.waiter = (t1, data) => resolve({ ns: Number(t1 - t0), data });
      this.ws.send(frame);
    });
  }

  close() {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', resolve);
      this.ws.close();
      setTimeout(() => { this.ws.terminate(); resolve(); }, 500).unref();
    });
  }
}

/**
 * Keep `inflight` requests outstanding until `total` have completed. `makeFrame(id)` builds the
 * request; `idOf(data)` finds the id in a reply (null = FIFO order, as for an echo).
 * Returns { latenciesNs, elapsedNs }.
 */
function inflightRun(ws, { inflight, total, makeFrame, idOf }) {
  return new Promise((resolve) => {
    const started = new Map(); // id -> t0
    const fifo = [];
    const latencies = [];
    let nextId = 1;
    let done = 0;
    const send = () => {
      const id = nextId++;
      const t0 = process.hrtime.bigint();
      if (idOf) started.set(id, t0); else fifo.push(t0);
      ws.send(makeFrame(id));
    };
    const tStart = process.hrtime.bigint();
    const onMessage = (data) => {
      const t1 = process.hrtime.bigint();
      let t0;
      if (idOf) {
        const id = idOf(data);
        t0 = started.get(id);
        started.delete(id);
      } else {
        t0 = fifo.shift();
      }
      if (t0 === undefined) return; // not one of ours
      latencies.push(Number(t1 - t0));
      done++;
      if (done === total) {
        ws.off('message', onMessage);
        resolve({ latenciesNs: latencies, elapsedNs: Number(t1 - tStart) });
        return;
      }
      if (nextId <= total) send();
    };
    ws.on('message', onMessage);
    for (let i = 0; i < Math.min(inflight, total); i++) send();
  });
}

module.exports = { connect, SeqClient, inflightRun };
