'use strict';
// The WebSocket floor: a bare `ws` server on 127.0.0.1 that sends every frame straight back.
// Same `ws` package and options as the IDE server (no deflate, answers 'mcp'), no auth, no JSON.
// A text frame that starts with '#<n>;' is answered with n bytes instead of itself: the floor of
// an exchange with a small request and a large reply (a tool call's shape), still no JSON work.
// A text frame that starts with '@' is answered with the server's process.hrtime.bigint() taken
// as the frame arrives (the clock is CLOCK_MONOTONIC, shared by every process here): the floor
// of a one-way delivery, e.g. of an openDiff request, into another process.
const http = require('http');
const { WebSocketServer } = require('ws');

async function startEchoServer() {
  const server = http.createServer();
  const wss = new WebSocketServer({
    server,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has('mcp') ? 'mcp' : false),
  });
  const replies = new Map();
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data[0] === 0x40 /* @ */) {
        ws.send(String(process.hrtime.bigint()));
        return;
      }
      if (!isBinary && data[0] === 0x23 /* # */) {
        const n = Number.parseInt(data.toString('latin1', 1, 12), 10);
        let reply = replies.get(n);
        if (reply === undefined) replies.set(n, (reply = 'x'.repeat(n)));
        ws.send(reply);
        return;
      }
      ws.send(data, { binary: isBinary });
    });
  });
  wss.on('error', () => {});
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, resolve);
  });
  return {
    url: `ws://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.close(() => resolve());
      server.closeAllConnections?.();
    }),
  };
}

/**
 * The same echo server in a child process: the floor for the plugin's figures, whose server
 * runs in Neovim's Node host, another process than the client (as with the real CLI).
 */
function startEchoServerProcess() {
  const { spawn } = require('child_process');
  const child = spawn(process.execPath, [__filename, '--serve', String(process.pid)], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`echo server process exited (${code})`)));
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /^(ws:\/\/\S+)\n/.exec(buf);
      if (!m) return;
      child.removeAllListeners('exit');
      resolve({
        url: m[1],
        close: () => new Promise((r) => {
          if (child.exitCode !== null) return r();
          child.once('exit', () => r());
          child.kill('SIGTERM');
        }),
      });
    });
  });
}

if (require.main === module && process.argv[2] === '--serve') {
  startEchoServer().then((e) => process.stdout.write(`${e.url}\n`));
  process.on('SIGTERM', () => process.exit(0));
  // Never outlive the bench, however it ends.
  const parent = Number(process.argv[3]);
  setInterval(() => {
    try { process.kill(parent, 0); } catch { process.exit(0); }
  }, 500).unref();
  setInterval(() => {}, 60_000); // keep alive while the server has no client yet
}

module.exports = { startEchoServer, startEchoServerProcess };
