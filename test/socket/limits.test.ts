import * as fs from 'fs';
import * as path from 'path';
import { IdeServer } from '../../src/ide/server';
import { FakeEditor } from '../helpers/fakeEditor';
import { Fixture, waitFor } from './wsClient';

let fx: Fixture;
beforeEach(() => { fx = new Fixture(); });
afterEach(async () => { await fx.cleanup(); });

describe('keepalive', () => {
  test('a client that does not answer pings is closed with 1001; a normal one stays', async () => {
    const { server } = await fx.server({ keepaliveMs: 100 });
    const closed: Array<{ id: number }> = [];
    server.on('client-closed', (i) => closed.push(i));
    const normal = await fx.client(server.port, server.authToken).open();
    let normalPings = 0;
    normal.ws.on('ping', () => { normalPings++; });
    await normal.handshake(2);
    // The silent client never answers a ping and sends nothing after opening.
    const silent = fx.client(server.port, server.authToken, { autoPong: false });
    let silentPings = 0;
    silent.ws.on('ping', () => { silentPings++; });
    await silent.open();

    const code = await silent.closed(5000);
    expect(code).toBe(1001);
    expect(silentPings).toBeGreaterThanOrEqual(1);
    await waitFor(() => closed.length === 1, 3000, 'client-closed');
    expect(server.clientInfos.map((c) => c.pid)).toEqual([2]);

    // The normal client keeps answering across several more intervals.
    const before = normalPings;
    await waitFor(() => normalPings >= before + 4, 5000, 'more pings');
    expect(normal.closeCode).toBeNull();
    expect((await normal.request('ping')).result).toEqual({});
  });

  test('a client that sends messages but no pongs is kept alive by its traffic', async () => {
    const { server } = await fx.server({ keepaliveMs: 100 });
    const c = await fx.client(server.port, server.authToken, { autoPong: false }).open();
    let pings = 0;
    c.ws.on('ping', () => {
      pings++;
      c.send('ping'); // traffic instead of a pong
    });
    await waitFor(() => pings >= 4, 5000, 'pings');
    expect(c.closeCode).toBeNull();
  });
});

describe('maxPayload', () => {
  test('an oversized frame closes that client with 1009; the server keeps serving others', async () => {
    const { server } = await fx.server({ maxPayload: 1024 });
    const big = await fx.client(server.port, server.authToken).open();
    const other = await fx.client(server.port, server.authToken).open();
    // Just under the limit is fine.
    const ok = JSON.stringify({ jsonrpc: '2.0', id: 'ok', method: 'ping', params: { pad: '' } });
    big.sendRaw(ok.replace('"pad":""', `"pad":"${'x'.repeat(1024 - ok.length)}"`));
    expect((await big.reply('ok')).result).toEqual({});
    big.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(2048) } }));
    expect(await big.closed()).toBe(1009);
    expect(big.messages.find((m) => m.id === 1)).toBeUndefined();
    expect((await other.request('ping')).result).toEqual({});
    const late = await fx.client(server.port, server.authToken).open();
    expect((await late.request('ping')).result).toEqual({});
  });
});

describe('portRange', () => {
  test('two servers on the same 1-port range: the second fails clearly and leaves nothing behind', async () => {
    const A = await fx.server();
    const lockDir = path.join(fx.tmpDir(), 'ide');
    const p = A.server.port;
    await expect(IdeServer.start({
      workspaceFolder: A.root, ideName: 'Neovim', editor: new FakeEditor(), lockDir, portRange: [p, p],
    })).rejects.toThrow(new RegExp(`no free port in ${p}-${p}.*EADDRINUSE`));
    expect(fs.existsSync(lockDir) ? fs.readdirSync(lockDir) : []).toEqual([]);
    // A is untouched.
    const c = await fx.client(p, A.server.authToken).open();
    expect((await c.request('ping')).result).toEqual({});
    expect(fs.existsSync(A.server.lockPath)).toBe(true);
  });

  test('a 2-port range whose first port is taken binds the second', async () => {
    let bound: IdeServer | null = null;
    let taken = 0;
    for (let attempt = 0; attempt < 10 && !bound; attempt++) {
      const A = await fx.server();
      taken = A.server.port;
      if (taken >= 65535) continue;
      try {
        const B = await fx.server({ portRange: [taken, taken + 1] });
        bound = B.server;
      } catch (err) {
        // taken+1 happened to be in use by something else: try another pair.
        expect(String(err)).toMatch(/no free port/);
      }
    }
    expect(bound).not.toBeNull();
    expect(bound!.port).toBe(taken + 1);
    expect(path.basename(bound!.lockPath)).toBe(`${taken + 1}.lock`);
    const c = await fx.client(bound!.port, bound!.authToken).open();
    expect((await c.request('ping')).result).toEqual({});
  });

  test('a free first port in the range is used', async () => {
    const A = await fx.server();
    const p = A.server.port;
    await A.server.stop();
    const B = await fx.server({ portRange: [p, p + 5] });
    expect(B.server.port).toBe(p);
  });
});
